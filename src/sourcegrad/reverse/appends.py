"""The adjoint of `xs.append(v)` on a list the function builds.

The adjoint of a list is a list with one adjoint per item, so the reversed append takes the
last one off: `dv = dxs.pop()`. When the adjoint reads the list at an earlier point, the list
itself is put back as it was by `xs.pop()`: nothing needs saving.
"""

from __future__ import annotations

import gast

from ..gastutil import assign, load, loaded_names
from .accumulate import accumulate
from .context import Context
from .nodes import AdjointState, Step


def _method(obj: str, name: str, *args: gast.expr) -> gast.Call:
    return gast.Call(func=gast.Attribute(value=load(obj), attr=name, ctx=gast.Load()),
                     args=list(args), keywords=[])


def append_step(ctx: Context, stmt: gast.Expr, state: AdjointState) -> Step:
    items = stmt.value.func.value.id
    item = stmt.value.args[0]
    code: list[gast.stmt] = []
    if ctx.is_active(items) and items in state.init:
        ditems = ctx.namer.adjoint(items)
        if items not in state.owned:
            code.append(assign(ditems, gast.Call(func=load("owned_copy"), args=[load(ditems)],
                                                 keywords=[])))
            state.owned.add(items)
            state.copied.add(items)
        last = _method(ditems, "pop")
        if isinstance(item, gast.Name) and ctx.is_active(item.id):
            if item.id in state.init:
                accumulate(ctx, state, item.id, last, code, shares_nothing=True)
            else:
                code.append(assign(ctx.namer.adjoint(item.id), last))
                state.init.add(item.id)
                state.owned.discard(item.id)
        else:
            code.append(gast.Expr(value=last))  # keep the adjoint list aligned with the list
    reads = set().union(*(loaded_names(s) for s in code)) & ctx.local_names if code else set()
    undo = gast.Expr(value=_method(items, "pop"))
    return Step(stmt, code, [], reads - {items}, set(), {}, getattr(stmt, "origin", None),
                writes=items, undo=undo)
