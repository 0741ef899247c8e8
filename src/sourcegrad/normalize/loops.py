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
