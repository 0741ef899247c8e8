"""`map(f, xs)` becomes the list comprehension `[f(x) for x in xs]`.

Requires: a parsed function whose inline lambda arguments are bound to names (closures.py).
Guarantees: no call of the builtin `map` remains. The comprehension calls `f` as the user's
code would, so a nested function, a lambda or a function of the user's mapped over a list is
differentiated like any other call of it (and a nested one is lifted like any other).
Example: `sum(map(g, xs, ys))` becomes `sum([g(x, y) for x, y in zip(xs, ys)])`.
"""

from __future__ import annotations

import builtins

import gast

from ..errors import UnsupportedSyntaxError
from ..gastutil import load, store, with_origin
from ..names import Namer
from ..parse import Namespace


class _MapsAsComprehensions(gast.NodeTransformer):
    def __init__(self, namer: Namer):
        self.namer = namer

    def visit_Assign(self, node: gast.Assign) -> gast.Assign:
        value = node.value
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Name) and \
                value.func.id == "map":
            raise UnsupportedSyntaxError(
                "a map object stored in a variable is not supported (it can be read only once)",
                getattr(node, "origin", None),
                hint="Make it a list, list(map(f, xs)), or hand map(...) straight to sum, "
                     "list or np.stack.")
        self.generic_visit(node)
        return node

    def visit_Call(self, node: gast.Call) -> gast.expr:
        self.generic_visit(node)
        if not (isinstance(node.func, gast.Name) and node.func.id == "map"
                and len(node.args) >= 2 and not node.keywords
                and not any(isinstance(a, gast.Starred) for a in node.args)):
            return node
        function, *iterables = node.args
        names = [self.namer.fresh("item") for _ in iterables]
        if len(iterables) == 1:
            target, source = store(names[0]), iterables[0]
        else:
            target = gast.Tuple(elts=[store(n) for n in names], ctx=gast.Store())
            source = gast.Call(func=load("zip"), args=iterables, keywords=[])
        element = gast.Call(func=function, args=[load(n) for n in names], keywords=[])
        comprehension = gast.ListComp(elt=element, generators=[
            gast.comprehension(target=target, iter=source, ifs=[], is_async=0)])
        return with_origin(comprehension, node)


def lower_map_calls(tree: gast.FunctionDef, namer: Namer, namespace: Namespace,
                    local_names: set[str]) -> None:
    """Rewrite `map(...)` calls in place, when `map` is the builtin (not a name of the user's)."""
    if "map" in local_names or namespace.lookup("map") is not builtins.map:
        return
    tree.body = [_MapsAsComprehensions(namer).visit(stmt) for stmt in tree.body]
