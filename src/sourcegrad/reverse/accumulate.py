"""Adding a contribution to an adjoint: the first assigns, later ones add.

An adjoint that owns its buffer (a fresh result of arithmetic, or zeros made here) is updated in
place with `+=`; one that may share its buffer with another adjoint is rebound with `dx = dx + g`,
so no adjoint is ever corrupted through an alias. Indexed contributions (`dx[i] += g`) first make
sure the buffer is owned.
"""

from __future__ import annotations

import gast

from ..gastutil import assign, copy_of, load, store
from .context import Context
from .nodes import AdjointState

_FRESH = (gast.BinOp, gast.UnaryOp)


def zeros_like(var: str) -> gast.Call:
    return gast.Call(func=load("zeros_like"), args=[load(var)], keywords=[])


def _is_fresh(value: gast.expr) -> bool:
    """A new buffer nobody else holds: arithmetic, or an explicit copy."""
    return isinstance(value, _FRESH) or (
        isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute)
        and value.func.attr == "copy")


def _alias_candidates(value: gast.expr, ctx: Context) -> set[str]:
    """Adjoint names whose buffers `value` might return unchanged (it is not fresh)."""
    if _is_fresh(value):
        return set()
    return {n.id for n in gast.walk(value) if isinstance(n, gast.Name)
            and ctx.namer.is_adjoint(n.id)}


def accumulate(ctx: Context, state: AdjointState, var: str, value: gast.expr,
               code: list[gast.stmt], shares_nothing: bool = False) -> None:
    """`d[var] += value`, written as readable NumPy. `shares_nothing`: the value is a
    fresh copy or a number (one element read from an adjoint), sharing no buffer."""
    if not ctx.is_active(var):
        return
    dvar = ctx.namer.adjoint(var)
    if var not in state.init and isinstance(value, gast.Name) and value.id == dvar:
        state.init.add(var)  # `x = x + c`: the adjoint passes through unchanged
        return
    if var not in state.init:
        code.append(assign(store(dvar), value))
        state.init.add(var)
        if _is_fresh(value) or shares_nothing:
            state.owned.add(var)
        else:
            state.owned.discard(var)
            _disown(ctx, state, value)
    elif ctx.adds_item_by_item(var):  # lists, tuples, dicts add item by item
        call = gast.Call(func=load("add_tree"), args=[load(dvar), value], keywords=[])
        code.append(assign(store(dvar), call))
        state.owned.add(var)
    elif var in state.owned:
        code.append(gast.AugAssign(target=store(dvar), op=gast.Add(), value=value))
        if not shares_nothing:
            _disown(ctx, state, value)
    else:
        code.append(assign(store(dvar), gast.BinOp(left=load(dvar), op=gast.Add(), right=value)))
        state.owned.add(var)


def _disown(ctx: Context, state: AdjointState, value: gast.expr) -> None:
    for name in _alias_candidates(value, ctx):
        var = ctx.namer.var_of_adjoint(name)
        if var is not None:
            state.owned.discard(var)


def accumulate_at(ctx: Context, state: AdjointState, var: str, index: gast.expr,
                  value: gast.expr, code: list[gast.stmt], specializer) -> None:
    """`d[var][index] += value`: zeros first if needed; repeated indices go through add.at."""
    if not ctx.is_active(var):
        return
    if specializer.shapes.get(var) == () and _is_whole(index):
        accumulate(ctx, state, var, value, code)  # `a[()]` of a 0-d array is all of it
        return
    dvar = ctx.namer.adjoint(var)
    if var not in state.init:
        code.append(assign(store(dvar), specializer.visit(zeros_like(var))))
    elif var not in state.owned:
        code.append(assign(store(dvar), copy_of(load(dvar))))
        state.copied.add(var)
    state.init.add(var)
    state.owned.add(var)
    if var in ctx.containers or var in ctx.maybe_containers and _is_basic_index(index, ctx):
        # a list's `+=` would concatenate: add item by item (what may be a list, indexed
        # with a list or an array, is an array: `add_to_item` below adds repeats up)
        part = gast.Subscript(value=load(dvar), slice=index, ctx=gast.Load())
        summed = gast.Call(func=load("add_tree"), args=[part, value], keywords=[])
        target = gast.Subscript(value=load(dvar), slice=index, ctx=gast.Store())
        code.append(assign(target, summed))
    elif specializer.shapes.get(var) is None:
        # an array or a container whose kind is not known here: decided when it runs
        call = gast.Call(func=load("add_to_item"), args=[load(dvar), _slices_as_calls(index),
                                                        value], keywords=[])
        code.append(gast.Expr(value=call))
    elif _is_basic_index(index, ctx):
        target = gast.Subscript(value=load(dvar), slice=index, ctx=gast.Store())
        code.append(gast.AugAssign(target=target, op=gast.Add(), value=value))
    else:
        add_at = gast.Attribute(value=gast.Attribute(value=load("np"), attr="add",
                                                     ctx=gast.Load()), attr="at", ctx=gast.Load())
        code.append(gast.Expr(value=gast.Call(func=add_at, args=[load(dvar), _slices_as_calls(
            index), value], keywords=[])))


def _is_whole(index: gast.expr) -> bool:
    if isinstance(index, gast.Tuple):
        return not index.elts
    return isinstance(index, gast.Constant) and index.value is Ellipsis


def _is_basic_index(index: gast.expr, ctx: Context) -> bool:
    """Indices that cannot repeat an element: ints, slices, None, ..., masks, loop counters."""
    if isinstance(index, gast.Tuple):
        return all(_is_basic_index(elt, ctx) for elt in index.elts)
    if isinstance(index, gast.Slice):
        return True
    if isinstance(index, gast.Constant):  # a dict key is a constant too
        return index.value is None or index.value is Ellipsis or isinstance(index.value,
                                                                          (int, str))
    if isinstance(index, gast.Name):
        return index.id in ctx.index_safe
    if isinstance(index, gast.Attribute):
        return ctx.calls.resolve(index) is None  # np.newaxis
    if isinstance(index, gast.BinOp):
        return _is_basic_index(index.left, ctx) and _is_basic_index(index.right, ctx)
    if isinstance(index, gast.UnaryOp):
        return _is_basic_index(index.operand, ctx)
    return False


def _slices_as_calls(index: gast.expr) -> gast.expr:
    """`a:b` is only valid inside brackets; as a call argument it must read `slice(a, b)`."""
    if isinstance(index, gast.Slice):
        parts = [p if p is not None else gast.Constant(value=None, kind=None)
                 for p in (index.lower, index.upper, index.step)]
        return gast.Call(func=load("slice"), args=parts, keywords=[])
    if isinstance(index, gast.Tuple):
        return gast.Tuple(elts=[_slices_as_calls(e) for e in index.elts], ctx=gast.Load())
    return index
