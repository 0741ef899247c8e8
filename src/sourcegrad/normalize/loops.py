"""Turn `for x in xs` into a loop over indices, so the adjoint can revisit each element.

Requires: ANF (the iterable is a name or a `range(...)` call).
Guarantees: every for loop iterates over `range(...)`; its target is a name the body does not
rebind (a body that rebinds it gets a fresh counter).
Example: `for row in W: body` becomes `for row_index in range(len(W)): row = W[row_index]; body`.
"""

from __future__ import annotations

import gast

from ..gastutil import assign, assigned_names, load, store, with_origin
from ..names import Namer
from .sharing import view_source


class IndexLoops(gast.NodeTransformer):
    def __init__(self, namer: Namer):
        self.namer = namer

    def visit_For(self, node: gast.For) -> gast.For:
        self.generic_visit(node)
        iterable = node.iter
        if isinstance(iterable, gast.Call) and getattr(iterable.func, "id", None) == "range":
            if isinstance(node.target, gast.Name) and node.target.id in assigned_names(node.body):
                # the body rebinds the counter: iterate over a fresh one the body leaves alone
                counter = self.namer.fresh(node.target.id + "_count")
                node.body = [assign(node.target, load(counter), node)] + node.body
                node.target = with_origin(store(counter), node)
            return node
        stem = node.target.id if isinstance(node.target, gast.Name) else "item"
        index = self.namer.fresh(f"{stem}_index")
        element = gast.Subscript(value=iterable, slice=load(index), ctx=gast.Load())
        length = gast.Call(func=load("len"), args=[iterable], keywords=[])
        node.iter = with_origin(gast.Call(func=load("range"), args=[length], keywords=[]), node)
        read = assign(node.target, element, node)
        read.loop_item = True  # reads the next item: a key when the iterable is a dict
        node.body = [read] + node.body
        node.target = with_origin(store(index), node)
        return node


def index_loops(tree: gast.FunctionDef, namer: Namer) -> gast.FunctionDef:
    return IndexLoops(namer).visit(tree)


class _IndexLoopsThatWriteTheirArray(gast.NodeTransformer):
    """See `index_loops_that_write_their_array`."""

    def __init__(self, namer: Namer):
        self.namer = namer

    def visit_For(self, node: gast.For) -> gast.For | list[gast.stmt]:
        self.generic_visit(node)
        if not (isinstance(node.iter, gast.Name) and _writes_into(node.body, node.iter.id)):
            return node
        array = node.iter.id
        iterated = self.namer.fresh(f"{array}_iterated")
        index = self.namer.fresh(f"{getattr(node.target, 'id', 'item')}_index")
        read = assign(node.target, gast.Subscript(value=load(iterated), slice=load(index),
                                                  ctx=gast.Load()), node)
        read.loop_item = True  # a dict's next key
        length = gast.Call(func=load("len"), args=[load(iterated)], keywords=[])
        node.iter = with_origin(gast.Call(func=load("range"), args=[length], keywords=[]), node)
        node.target = with_origin(store(index), node)
        node.body = [read, *node.body]
        return [assign(store(iterated), load(array), node), node]


def _writes_into(body: list[gast.stmt], name: str) -> bool:
    """Whether `body` writes into `name[...]` (not counting nested functions)."""
    pending = list(body)
    while pending:
        node = pending.pop()
        if isinstance(node, (gast.FunctionDef, gast.Lambda)):
            continue
        targets = node.targets if isinstance(node, gast.Assign) else [node.target] \
            if isinstance(node, gast.AugAssign) else []
        if any(isinstance(t, gast.Subscript) and view_source(t) == name for t in targets):
            return True
        pending.extend(gast.iter_child_nodes(node))
    return False


def index_loops_that_write_their_array(tree: gast.FunctionDef,
                                       namer: Namer) -> gast.FunctionDef:
    """`for e in a: a[k] += e`: Python's loop reads each item of `a` when it gets to it, so
    it sees the writes. Before the in-place changes are lowered (normalize/augassign.py),
    such a loop becomes `a_iterated = a; for e_index in range(len(a_iterated)): e =
    a_iterated[e_index]`: a write into `a` is followed to `a_iterated`, which surely shares
    its array, so each item is read as it is then; a name bound anew (`a = a * 2`) is not,
    as Python's loop goes on over the array it started with. Only writes into items: a list
    that grows (`a.append`, `a += [v]`) or a helper handed `a` stay refused there."""
    return _IndexLoopsThatWriteTheirArray(namer).visit(tree)
