"""Lift nested functions and lambdas out of the function being differentiated.

Requires: a parsed function. Guarantees: no nested `def` and no `name = lambda ...` remains.
Each becomes a `LiftedFunction` of its own whose parameters are its own followed by the outer
variables it reads (captured at call time, as Python's closures do); every call `g(a)` becomes
`f_g(a, w)`, which the namespace resolves to the lifted function, so the differentiator treats
it as any other function of the user's: it gets its own forward and backward functions.
Example: `def g(y): return w * y` / `z = g(x)` becomes `z = f_g(x, w)`.
Passing `g` to a function of the user's, `h(g, y)`, calls a copy of `h` with `g` fixed:
`h_with_f_g(y, w)`, in which `g`'s former parameter is called as `f_g(..., w)`. An inline
lambda argument, `h(lambda t: t * w, y)`, is first bound to a name.
"""

from __future__ import annotations

import ast
import copy
import inspect
from dataclasses import dataclass, field
from typing import Any

import gast

from ..emit import to_source
from ..errors import Origin, UnsupportedSyntaxError
from ..gastutil import assign, assigned_names, load, loaded_names
from ..names import Namer, names_in
from ..parse import Namespace, ParsedFunction, is_library_function, parse_function
from .maps import lower_map_calls


@dataclass(eq=False)
class LiftedFunction:
    """A nested def or lambda as a function of its own (callable, so primal code can call it)."""

    parsed: ParsedFunction
    __qualname__: str
    captured: list[str] = field(default_factory=list)  # parameters a copy gets values through
    source: Any = None  # the module-level function this is a copy of (redefining it: rebuild)
    changes: tuple[str, ...] = ()  # returns `(result, *these parameters)` (mutations.py)
    returns_value: bool = True  # with `changes`: False when it returns just the parameters
    _compiled: Any = field(default=None, repr=False)

    @property
    def __name__(self) -> str:
        return self.parsed.tree.name

    @property
    def __signature__(self) -> inspect.Signature:
        args = self.parsed.tree.args
        kind = inspect.Parameter
        first_default = len(args.args) - len(args.defaults)
        params = [kind(a.id, kind.POSITIONAL_OR_KEYWORD,
                       default=self._default(args.defaults[i - first_default])
                       if i >= first_default else kind.empty) for i, a in enumerate(args.args)]
        params += [kind(a.id, kind.KEYWORD_ONLY,
                        default=kind.empty if d is None else self._default(d))
                   for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)]
        return inspect.Signature(params)

    def _default(self, node: gast.expr) -> Any:
        """A default's value: a constant, or an expression (`-0.3`, `np.pi`) evaluated where
        the function was defined. (An error here would make inspect fall back to
        `__call__`'s `(*args, **kwargs)` silently.)"""
        if isinstance(node, gast.Constant):
            return node.value
        namespace = {**self.parsed.namespace.globals, **self.parsed.namespace.closure}
        expression = ast.fix_missing_locations(ast.Expression(body=gast.gast_to_ast(node)))
        return eval(compile(expression, self.parsed.filename, "eval"), namespace)

    def fresh_parsed(self) -> ParsedFunction:
        """Its parsed form with a tree of its own: normalizing changes the tree in place."""
        parsed = self.parsed
        return ParsedFunction(parsed.fn, copy.deepcopy(parsed.tree), parsed.filename,
                              parsed.namespace)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._compiled is None:
            namespace = dict(self.parsed.namespace.globals)
            namespace.update(self.parsed.namespace.closure)
            module = gast.Module(body=[self.parsed.tree], type_ignores=[])
            exec(compile(to_source(module), self.parsed.filename, "exec"), namespace)
            self._compiled = namespace[self.parsed.tree.name]
        if self.changes:  # a variant run as written (an inactive call) changes copies: the
            # caller binds what it returns, and its own arrays and saved values stay as they were
            bound = self.__signature__.bind(*args, **kwargs)
            for name in self.changes:
                if name in bound.arguments:
                    bound.arguments[name] = copy.deepcopy(bound.arguments[name])
            args, kwargs = bound.args, bound.kwargs
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
    """`g(a)` becomes `f_g(a, w)`; `h(g, y)` becomes `h_g(y, w)`, a copy of the user's function
    `h` in which `g` is fixed (see `_specialize`); any other use of `g` is refused."""

    def __init__(self, name: str, lifted: str, captured: list[str], origin: Origin | None,
                 outer: ParsedFunction, namer: Namer, chain: dict | None = None):
        self.name, self.lifted, self.captured, self.origin = name, lifted, captured, origin
        self.outer, self.namer = outer, namer
        self.chain = chain or {}  # copies being made: (callee, parameter) -> (name, extras)
        self.specialized: dict[str, LiftedFunction] = {}
        self._made: dict[tuple[Any, int], str] = {}

    def visit_Call(self, node: gast.Call) -> gast.Call:
        if isinstance(node.func, gast.Name) and node.func.id == self.name:
            node.func = load(self.lifted)
            node.args = list(node.args) + [load(c) for c in self.captured]
        elif any(self._is_it(a) for a in node.args + [k.value for k in node.keywords]):
            self._pass_along(node)
        node.args = [self.visit(a) for a in node.args]
        node.keywords = [self.visit(k) for k in node.keywords]
        if not (isinstance(node.func, gast.Name) and node.func.id == self.lifted):
            node.func = self.visit(node.func)
        return node

    def _is_it(self, node: gast.expr) -> bool:
        return isinstance(node, gast.Name) and node.id == self.name

    def _pass_along(self, node: gast.Call) -> None:
        """`h(g, y)` or `h(y, rhs=g)` with `h` a function of the user's: call a copy of `h`
        with `g` fixed, handing it what `g` reads by keyword: `h_with_g(y, rhs_captured=w)`."""
        callee = self.outer.namespace.resolve(node.func, set())
        if not (inspect.isfunction(callee) and not is_library_function(callee)
                or isinstance(callee, LiftedFunction)):  # a copy with another function fixed
            return  # left for visit_Name to refuse
        key = (callee, self._parameter(node, callee))
        if key not in self.chain and key not in self._made:  # one copy per callee and
            specialized, further = _specialize(  # parameter; recursion calls the copy itself
                callee, key[1], self.lifted, len(self.captured), self.namer, self.origin,
                self.chain)
            self.specialized.update({specialized.__name__: specialized, **further})
            self._made[key] = specialized.__name__, specialized.captured
        name, extra = self.chain.get(key) or self._made[key]
        node.func = load(name)
        node.args = [a for a in node.args if not self._is_it(a)]
        node.keywords = [k for k in node.keywords if not self._is_it(k.value)] + [
            gast.keyword(arg=e, value=load(c)) for e, c in zip(extra, self.captured, strict=True)]

    def _parameter(self, node: gast.Call, callee: Any) -> str:
        """The parameter of `callee` that receives the nested function in this call."""
        for keyword in node.keywords:
            if self._is_it(keyword.value):
                return keyword.arg
        position = next(i for i, a in enumerate(node.args) if self._is_it(a))
        positional = [p for p in inspect.signature(callee, follow_wrapped=False).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        if position >= len(positional):
            raise UnsupportedSyntaxError(
                f"passing a nested function to {callee.__name__} through its *args is not "
                "supported", getattr(node, "origin", self.origin),
                hint="Pass it to a named parameter.")
        return positional[position].name

    def visit_Name(self, node: gast.Name) -> gast.Name:
        if node.id == self.name:
            raise UnsupportedSyntaxError(
                f"the nested function {self.name} is used as a value, not called",
                getattr(node, "origin", self.origin),
                hint="A nested function or lambda can be called, or passed straight to a "
                     "function of yours as a positional argument; store it nowhere else.")
        return node


def _specialize(callee: Any, param: str, lifted: str, captured: int, namer: Namer,
                origin: Origin | None, chain: dict,
                ) -> tuple[LiftedFunction, dict[str, LiftedFunction]]:
    """A copy of `callee` whose parameter `param`, a function it calls, is fixed to the lifted
    nested function; the nested function's captured values become extra keyword-only
    parameters. Also returns the copies it needs in turn, when `callee` passes it on."""
    parsed = callee.fresh_parsed() if isinstance(callee, LiftedFunction) else parse_function(
        callee)
    args = parsed.tree.args
    defaults = list(args.defaults) + [d for d in args.kw_defaults if d is not None]
    if args.vararg or args.kwarg or args.posonlyargs or any(
            not isinstance(d, gast.Constant) for d in defaults):
        raise UnsupportedSyntaxError(
            f"passing a nested function to {callee.__name__} is not supported: it takes "
            "*args, **kwargs, positional-only parameters or computed defaults", origin,
            hint="Give it plain parameters (constant defaults are fine), or define the "
                 "nested function at module level.")
    namer.reserve(names_in(parsed.tree))  # the copy's new names must not clash with its own
    extra = [namer.fresh(f"{param}_captured") for _ in range(captured)]
    name = namer.fresh(f"{callee.__name__}_with_{lifted}")
    chain = {**chain, (callee, param): (name, extra)}
    rewrite = _RewriteCalls(param, lifted, extra, origin, parsed, namer, chain)
    parsed.tree.body = [rewrite.visit(s) for s in parsed.tree.body]
    first_default = len(args.args) - len(args.defaults)
    positional = [(a, args.defaults[i - first_default] if i >= first_default else None)
                  for i, a in enumerate(args.args) if a.id != param]
    keyword_only = [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
                    if a.id != param]
    keyword_only += [(gast.Name(id=e, ctx=gast.Param(), annotation=None, type_comment=None),
                      None) for e in extra]
    parsed.tree.args = gast.arguments(
        args=[a for a, _ in positional], posonlyargs=[], vararg=None,
        kwonlyargs=[a for a, _ in keyword_only], kw_defaults=[d for _, d in keyword_only],
        kwarg=None, defaults=[d for _, d in positional if d is not None])
    parsed.tree.name = name
    copy = LiftedFunction(parsed, f"{callee.__qualname__}[{lifted}]", captured=extra,
                          source=callee)
    return copy, rewrite.specialized


def _blocks(tree: gast.FunctionDef):
    """The statement lists of the function itself (its body and its compound statements'
    bodies), not those of functions nested in it."""
    for holder in list(gast.walk(tree)):
        if holder is not tree and isinstance(holder, gast.FunctionDef):
            continue
        for field_name in ("body", "orelse"):
            block = getattr(holder, field_name, None)
            if isinstance(block, list):
                yield block


def _name_lambda_arguments(tree: gast.FunctionDef, namer: Namer) -> None:
    """`h(lambda y: y * w, x)` becomes `h_arg = lambda y: y * w` / `h(h_arg, x)`, so the lambda
    is lifted like any named one. Defining a lambda has no effect and it reads the outer
    variables only when called, so binding it just before its statement changes nothing."""
    for block in _blocks(tree):
        for stmt in list(block):
            calls = [n for n in _walk_outside_functions(stmt) if isinstance(n, gast.Call)]
            for call in calls:
                callee = call.func.attr if isinstance(call.func, gast.Attribute) \
                    else getattr(call.func, "id", "call")
                holders = [(call.args, i, f"{callee}_arg") for i in range(len(call.args))]
                holders += [(kw, "value", kw.arg) for kw in call.keywords if kw.arg]
                for holder, slot, label in holders:
                    arg = holder[slot] if isinstance(holder, list) else getattr(holder, slot)
                    if isinstance(arg, gast.Lambda):
                        name = namer.fresh(label)
                        origin_of = arg if getattr(arg, "origin", None) else stmt
                        block.insert(block.index(stmt), assign(name, arg, origin_of))
                        if isinstance(holder, list):
                            holder[slot] = load(name)
                        else:
                            setattr(holder, slot, load(name))


def _walk_outside_functions(node: gast.AST):
    """The nodes of `node`, not entering nested functions or lambdas."""
    yield node
    for child in gast.iter_child_nodes(node):
        if not isinstance(child, (gast.FunctionDef, gast.Lambda)):
            yield from _walk_outside_functions(child)


def lift_closures(parsed: ParsedFunction, namer: Namer) -> ParsedFunction:
    """Lift every nested function of `parsed`; returns it with an extended namespace."""
    tree = parsed.tree
    _name_lambda_arguments(tree, namer)
    outer = {a.id for a in tree.args.args + tree.args.kwonlyargs} | assigned_names(tree.body)
    lower_map_calls(tree, namer, parsed.namespace, outer)
    lifted: dict[str, LiftedFunction] = {}
    seen: set[str] = set()
    for block in _blocks(tree):
        for inner in [s for s in block if _nested(s)]:
            name, definition = _nested(inner)
            if name in seen:
                raise UnsupportedSyntaxError(
                    f"the nested function {name} is defined more than once",
                    getattr(inner, "origin", None),
                    hint="Give each nested function or lambda a name of its own.")
            seen.add(name)
            block.remove(inner)
            sees_lifted = ParsedFunction(parsed.fn, tree, parsed.filename, Namespace(
                parsed.namespace.globals, {**parsed.namespace.closure, **lifted}))
            lifted.update(_lift(sees_lifted, name, definition, outer, namer))  # `h(f, g, y)`
    if not lifted:
        return parsed
    for function in lifted.values():  # nested functions may call each other; a specialized
        own = function.parsed.namespace  # copy of a function keeps its own module's globals
        function.parsed.namespace = Namespace(own.globals, {**own.closure, **lifted})
    namespace = Namespace(parsed.namespace.globals, {**parsed.namespace.closure, **lifted})
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
    rewrite = _RewriteCalls(name, lifted_name, captured, getattr(definition, "origin", None),
                            parsed, namer)
    rewrite.visit(parsed.tree)
    definition.body = [rewrite.visit(s) for s in definition.body]  # recursion
    function = LiftedFunction(
        ParsedFunction(parsed.fn, definition, parsed.filename, parsed.namespace),
        f"{parsed.tree.name}.{name}")
    return {lifted_name: function, **rewrite.specialized}
