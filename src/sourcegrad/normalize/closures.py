"""Lift nested functions and lambdas out of the function being differentiated.

Requires: a parsed function. Guarantees: no nested `def` and no `name = lambda ...` remains.
Each becomes a `LiftedFunction` of its own whose parameters are its own followed by the outer
variables it reads (captured at call time, as Python's closures do); every call `g(a)` becomes
`f_g(a, w)`, which the namespace resolves to the lifted function, so the differentiator treats
it as any other function of the user's: it gets its own forward and backward functions.
Example: `def g(y): return w * y` / `z = g(x)` becomes `z = f_g(x, w)`.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

import gast

from ..emit import to_source
from ..errors import Origin, UnsupportedSyntaxError
from ..gastutil import assigned_names, load, loaded_names
from ..names import Namer
from ..parse import Namespace, ParsedFunction


@dataclass(eq=False)
class LiftedFunction:
    """A nested def or lambda as a function of its own (callable, so primal code can call it)."""

    parsed: ParsedFunction
    __qualname__: str
    _compiled: Any = field(default=None, repr=False)

    @property
    def __name__(self) -> str:
        return self.parsed.tree.name

    @property
    def __signature__(self) -> inspect.Signature:
        args = self.parsed.tree.args
        defaults = [d.value for d in args.defaults]
        names = [a.id for a in args.args]
        first_default = len(names) - len(defaults)
        return inspect.Signature([
            inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                              default=defaults[i - first_default] if i >= first_default
                              else inspect.Parameter.empty)
            for i, n in enumerate(names)])

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._compiled is None:
            namespace = dict(self.parsed.namespace.globals)
            namespace.update(self.parsed.namespace.closure)
            module = gast.Module(body=[self.parsed.tree], type_ignores=[])
            exec(compile(to_source(module), self.parsed.filename, "exec"), namespace)
            self._compiled = namespace[self.parsed.tree.name]
        return self._compiled(*args, **kwargs)


def _nested(stmt: gast.stmt) -> tuple[str, gast.FunctionDef] | None:
    """(name, definition) for `def g(...)` or `g = lambda ...: ...`."""
    if isinstance(stmt, gast.FunctionDef):
        return stmt.name, stmt
    if (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Lambda)):
        lam = stmt.value
        body = [gast.Return(value=lam.body)]
        for node in body:
            node.origin = stmt.origin
        definition = gast.FunctionDef(name=stmt.targets[0].id, args=lam.args, body=body,
                                      decorator_list=[], returns=None, type_comment=None,
                                      type_params=[])
        definition.origin = stmt.origin
        return stmt.targets[0].id, definition
    return None


class _RewriteCalls(gast.NodeTransformer):
    """`g(a)` becomes `f_g(a, w)`; any other use of `g` is refused."""

    def __init__(self, name: str, lifted: str, captured: list[str], origin: Origin | None):
        self.name, self.lifted, self.captured, self.origin = name, lifted, captured, origin

    def visit_Call(self, node: gast.Call) -> gast.Call:
        if isinstance(node.func, gast.Name) and node.func.id == self.name:
            node.func = load(self.lifted)
            node.args = list(node.args) + [load(c) for c in self.captured]
        node.args = [self.visit(a) for a in node.args]
        node.keywords = [self.visit(k) for k in node.keywords]
        if not (isinstance(node.func, gast.Name) and node.func.id == self.lifted):
            node.func = self.visit(node.func)
        return node

    def visit_Name(self, node: gast.Name) -> gast.Name:
        if node.id == self.name:
            raise UnsupportedSyntaxError(
                f"the nested function {self.name} is used as a value, not called",
                getattr(node, "origin", self.origin),
                hint="Passing nested functions or lambdas to other functions is not supported "
                     "yet: call them where they are defined, or define them at module level.")
        return node


def lift_closures(parsed: ParsedFunction, namer: Namer) -> ParsedFunction:
    """Lift every nested function of `parsed`; returns it with an extended namespace."""
    tree = parsed.tree
    outer = {a.id for a in tree.args.args + tree.args.kwonlyargs} | assigned_names(tree.body)
    lifted: dict[str, LiftedFunction] = {}
    seen: set[str] = set()
    for stmt in list(gast.walk(tree)):
        for field_name in ("body", "orelse"):
            block = getattr(stmt, field_name, None)
            if not isinstance(block, list) or stmt is not tree and isinstance(
                    stmt, gast.FunctionDef):
                continue
            for inner in [s for s in block if _nested(s)]:
                name, definition = _nested(inner)
                if name in seen:
                    raise UnsupportedSyntaxError(
                        f"the nested function {name} is defined more than once",
                        getattr(inner, "origin", None),
                        hint="Give each nested function or lambda a name of its own.")
                seen.add(name)
                block.remove(inner)
                lifted.update(_lift(parsed, name, definition, outer, namer))
    if not lifted:
        return parsed
    namespace = Namespace(parsed.namespace.globals, {**parsed.namespace.closure, **lifted})
    for function in lifted.values():  # nested functions may call each other
        function.parsed.namespace = namespace
    return ParsedFunction(parsed.fn, tree, parsed.filename, namespace)


def _lift(parsed: ParsedFunction, name: str, definition: gast.FunctionDef, outer: set[str],
          namer: Namer) -> dict[str, LiftedFunction]:
    for node in gast.walk(definition):
        if node is not definition and isinstance(node, (gast.FunctionDef, gast.Lambda)):
            raise UnsupportedSyntaxError("functions nested two levels deep are not supported",
                                         getattr(node, "origin", None),
                                         hint="Define the inner function at module level.")
    args = definition.args
    if args.vararg or args.kwarg or args.kwonlyargs or any(
            not isinstance(d, gast.Constant) for d in args.defaults):
        raise UnsupportedSyntaxError(
            f"the nested function {name} takes *args, **kwargs, keyword-only or computed "
            "defaults, which are not supported yet", getattr(definition, "origin", None),
            hint="Give it plain parameters (constant defaults are fine).")
    own = {a.id for a in args.args}
    captured = sorted((loaded_names(definition) - own - assigned_names(definition.body)) & outer)
    lifted_name = namer.fresh(f"{parsed.tree.name}_{name}")
    captured_args = [gast.Name(id=c, ctx=gast.Param(), annotation=None, type_comment=None)
                     for c in captured]
    if args.defaults and captured:
        raise UnsupportedSyntaxError(
            f"the nested function {name} has defaults and reads outer variables; not supported "
            "yet", getattr(definition, "origin", None), hint="Drop the defaults.")
    definition.args = gast.arguments(args=list(args.args) + captured_args, posonlyargs=[],
                                     vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
                                     defaults=list(args.defaults))
    definition.name = lifted_name
    rewrite = _RewriteCalls(name, lifted_name, captured, getattr(definition, "origin", None))
    rewrite.visit(parsed.tree)
    definition.body = [rewrite.visit(s) for s in definition.body]  # recursion
    function = LiftedFunction(
        ParsedFunction(parsed.fn, definition, parsed.filename, parsed.namespace),
        f"{parsed.tree.name}.{name}")
    return {lifted_name: function}
