"""The adjoint of a write into part of an array: `y[index] = v`.

After the write, `y[index]` holds `v` and the rest of `y` is unchanged, so the adjoint hands
`dy[index]` to `v` (summed back to `v`'s shape where `v` was broadcast) and then zeroes
`dy[index]`: the overwritten values no longer reach the output. When the adjoint reads `y` at an
earlier point, the save planner keeps the overwritten part (`save_value`) and puts it back.
"""

from __future__ import annotations

import gast

from ..analysis.abstract import UNKNOWN, known, specializable
from ..gastutil import assign, clone, const, copy_of, load, loaded_names
from .accumulate import _is_basic_index, _is_whole, accumulate
from .context import Context
from .nodes import AdjointState, Step
from .specialize import Specializer


def _part(name: str, index: gast.expr) -> gast.Subscript:
    return gast.Subscript(value=load(name), slice=clone(index), ctx=gast.Load())


def store_step(ctx: Context, stmt: gast.Assign, state: AdjointState) -> Step:
    target, value = stmt.targets[0], stmt.value
    array, index = target.value.id, target.slice
    env = ctx.shapes.env_at(stmt)
    specializer = Specializer(specializable(env))
    part_shape = ctx.shapes.value(_part(array, index), env).shape
    container = env.get(array, UNKNOWN)
    code: list[gast.stmt] = []
    if ctx.is_active(array) and array in state.init:
        dy = ctx.namer.adjoint(array)
        if env.get(array) is not None and env[array].shape == () and _is_whole(index):
            return _whole_write(ctx, stmt, state, array, value)
        flows = isinstance(value, gast.Name) and ctx.is_active(value.id) and not \
            container.integer  # an integer array truncates: nothing flows back
        item = container.items is not None or container.is_dict  # of a list or dict
        if flows and item:
            part = _part(dy, index)  # the item's adjoint, whole: shared, not copied
        elif flows:
            part = _flowing_part(ctx, specializer, dy, index, value, part_shape,
                                 container.shape is None)
        later = []
        if flows and value.id == array:  # `y[::-1] = y`: zero the part first, then add it
            held = ctx.namer.fresh(f"{dy}_written")
            code.append(assign(held, part))
            later = [(value.id, load(held))]
        elif flows:
            accumulate(ctx, state, value.id, part, code, shares_nothing=not item)
        if array not in state.owned:
            code.append(assign(dy, copy_of(load(dy))))
            state.copied.add(array)
            state.owned.add(array)
        written = gast.Subscript(value=load(dy), slice=clone(index), ctx=gast.Store())
        # an item (of a list: maybe an array, a list, an object) is zeroed as what it is
        maybe_item = item or container.shape is None
        zero = gast.Call(func=load("zero_adjoint"), args=[_part(dy, index)], keywords=[]) \
            if maybe_item and part_shape != () else const(0.0)
        code.append(assign(written, zero))
        for var, held in later:
            accumulate(ctx, state, var, held, code)
    reads = set().union(*(loaded_names(s) for s in code)) & ctx.local_names if code else set()
    save = _part(array, index) if part_shape == () else _owned(
        _part(array, index), container.shape is None)
    # putting back what the write overwrote (saving.py) reads the index again: `M[mask]`
    index_reads = loaded_names(index) & ctx.local_names - {array}
    return Step(stmt, code, [], reads - {array}, index_reads, {}, getattr(stmt, "origin", None),
                writes=array, save_value=save)


def _whole_write(ctx: Context, stmt: gast.Assign, state: AdjointState, array: str,
                 value: gast.expr) -> Step:
    """`y[()] = v` into a 0-d array replaces all of it: `dv` takes `dy`, and `dy` is zero."""
    dy = ctx.namer.adjoint(array)
    code: list[gast.stmt] = []
    if isinstance(value, gast.Name) and ctx.is_active(value.id):
        accumulate(ctx, state, value.id, load(dy), code)
    code.append(assign(dy, const(0.0)))
    state.owned.add(array)
    return Step(stmt, code, [], set(), set(), {}, getattr(stmt, "origin", None), writes=array,
                save_value=_part(array, stmt.targets[0].slice))


def _flowing_part(ctx: Context, specializer: Specializer, dy: str, index: gast.expr,
                  value: gast.Name, part_shape, maybe_list: bool) -> gast.expr:
    """What of `dy` flows into the written value: an owned copy shaped like the value. Into a
    container that may be a list, the item may be a number, which has no `.copy()`: the
    runtime `owned_part` copies only arrays."""
    part = _part(dy, index)
    value_shape = specializer.shapes.get(value.id)
    if known(part_shape) and part_shape == value_shape:
        return part if part_shape == () else copy_of(part)
    if part_shape is not None and value_shape is not None:
        specializer.shapes["_written_part"] = part_shape
        summed = specializer.visit(gast.Call(func=load("unbroadcast"), args=[
            load("_written_part"), load(value.id)], keywords=[]))
        # the part is zeroed next: what flows on must own its buffer. A sum makes a new
        # array; the part itself or unbroadcast (which may return its argument) do not
        summed_anew = isinstance(summed, gast.Call) and isinstance(summed.func, gast.Attribute) \
            and summed.func.attr == "sum"
        return _Replace("_written_part", part if summed_anew else copy_of(part)).visit(summed)
    if _is_basic_index(index, ctx):
        return gast.Call(func=load("unbroadcast"), args=[_owned(part, maybe_list),
                                                         load(value.id)], keywords=[])
    return gast.Call(func=load("written_part"), args=[load(dy), clone(index), load(value.id)],
                     keywords=[])


def _owned(part: gast.expr, maybe_list: bool) -> gast.expr:
    """A copy of `part` the derivative owns: `part.copy()` of an array; of an item of what
    may be a list (a number, maybe), the runtime `owned_part`, which copies only arrays."""
    return gast.Call(func=load("owned_part"), args=[part], keywords=[]) if maybe_list \
        else copy_of(part)


class _Replace(gast.NodeTransformer):
    def __init__(self, name: str, node: gast.expr):
        self.name, self.node = name, node

    def visit_Name(self, node: gast.Name) -> gast.expr:
        return clone(self.node) if node.id == self.name else node


__all__ = ["store_step"]
