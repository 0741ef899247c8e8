"""Derivative rules as templates: Python functions whose body is the adjoint.

A rule reads like the math. `d[x]` stands for the adjoint of whatever the call passed as `x`;
the first parameter is the call's result:

    @adjoint(np.tanh)
    def tanh(y, x):
        d[x] += d[y] * (1.0 - y * y)

The differentiator never runs a rule: it parses it once, substitutes the real expressions for
the parameters and inlines the body into the emitted code. A rule body holds only contributions
`d[p] += expr` and local assignments `name = expr` used by them.

A rule handles the options its body reads. Any other parameter given a value that is not its
default is refused when the call is bound (`np.reshape with order='A' has no rule yet`), unless
the rule declares it with `@accepts`: harmless to the gradient whatever its value (`copy=ANY`),
or handled for the listed literal values only (`order=("C", "F")`, `dtype=FLOAT_DTYPES`):

    @adjoint(np.reshape)
    @accepts(order=("C", "F"), shape=ANY, copy=ANY)
    def reshape(y, a, shape=None, order="C", copy=None):
        d[a] += np.reshape(d[y], np.shape(a), order=order)
"""

from __future__ import annotations

import ast
import copy
import inspect
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gast
import numpy as np

from ..errors import TemplateError


class _AdjointPlaceholder:
    """`d` in rule bodies: only read as source, never executed."""

    def __getitem__(self, item):
        raise TemplateError("d[...] only has meaning inside a derivative rule's source")


d = _AdjointPlaceholder()


# -- options a rule declares: harmless whatever their value, or handled for some values ----------

class OptionValues:
    """The values of one option a rule handles: literals (`order=("C", "F")`), or any (`ANY`)."""

    def __init__(self, *values: Any, description: str = ""):
        self.values = values
        self.description = description or " or ".join(repr(v) for v in values)

    def matches(self, node: gast.expr) -> bool:
        """Whether the call's argument is one of the values (a literal: known when binding)."""
        known, value = literal_value(node)
        return known and any(type(value) is type(v) and value == v for v in self.values)


class _AnyValue(OptionValues):
    def matches(self, node: gast.expr) -> bool:
        return True


class _FloatDtypes(OptionValues):
    """`dtype=` naming a real floating type: the result is computed at another precision, its
    gradient is the same. Integer, boolean and complex dtypes change it: they are refused."""

    def matches(self, node: gast.expr) -> bool:
        known, value = literal_value(node)
        if known:  # None, or a string NumPy reads as a float dtype ('float32', 'f8')
            return value is None or isinstance(value, str) and _is_float_string(value)
        name = node.id if isinstance(node, gast.Name) else getattr(node, "attr", None)
        return name == "float" or _is_float_type_name(name)  # `float`, `np.float32`


def _is_float_string(text: str) -> bool:
    try:
        return np.dtype(text).kind == "f"
    except (TypeError, ValueError):
        return False


def _is_float_type_name(name: str | None) -> bool:
    """`float64`, `float32`, `double`, ...: the name of one of NumPy's floating types (not a
    one-letter code, which a variable of the user's may be called)."""
    kind = getattr(np, name, None) if name else None
    return isinstance(kind, type) and issubclass(kind, np.floating)


ANY = _AnyValue(description="any value")
FLOAT_DTYPES = _FloatDtypes(description="None or a real floating type (float, np.float32, ...)")


def accepts(**options: OptionValues | tuple) -> Callable[[Callable], Callable]:
    """Declare, on a rule's template, options its body handles only for some values (a tuple of
    literals or `FLOAT_DTYPES`) or that cannot change the gradient (`ANY`: memory layout,
    casting checks, a shape the body reads back from the operand; not `copy=False`, whose result
    may share the input). Put it under `@adjoint`; every other parameter the body does not read
    is refused unless left at its default."""
    specs = {name: spec if isinstance(spec, OptionValues) else OptionValues(*spec)
             for name, spec in options.items()}

    def declare(template: Callable) -> Callable:
        template.__sourcegrad_accepts__ = specs
        return template
    return declare


@dataclass
class Rule:
    """A parsed derivative rule: which parameters it differentiates and the template body."""

    name: str
    result: str
    params: list[str]
    defaults: dict[str, gast.expr]
    vararg: str | None
    body: list[gast.stmt]
    differentiable: frozenset[str]
    defined_at: str
    locals: frozenset[str] = field(default_factory=frozenset)
    kwonly: frozenset[str] = field(default_factory=frozenset)
    globals: dict[str, Any] = field(default_factory=dict)   # what free names refer to
    builtin: bool = True  # one of sourcegrad's own rules (a user's rule gets shape checks)
    accepts: dict[str, OptionValues] = field(default_factory=dict)  # declared with @accepts

    @property
    def read(self) -> frozenset[str]:
        """Parameters the body reads (an operand `d[x]` accumulates into counts as read)."""
        return frozenset(names_of(self.body)) & frozenset([*self.params, self.vararg])

    @property
    def free_names(self) -> set[str]:
        """Names the template uses that are not its parameters or locals: the emitted module
        must provide them (np, a runtime helper, or a name from the user's rule module)."""
        bound = {self.result, *self.params, *self.locals, "d"}
        if self.vararg:
            bound.add(self.vararg)
        return {n.id for s in self.body for n in gast.walk(s)
                if isinstance(n, gast.Name) and n.id not in bound}


ADJOINTS: dict[Any, Rule] = {}
METHOD_ADJOINTS: dict[str, Rule] = {}
ZERO_GRADIENT: set[Any] = set()
_version = [0]


def registry_version() -> int:
    """Bumped whenever a rule is registered, so cached derivatives can tell they are stale."""
    return _version[0]


def registry_changed() -> None:
    """What counts as a rule or as the user's code changed: cached derivatives are stale."""
    _version[0] += 1


def _parse_rule(fn: Callable) -> Rule:
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        raise TemplateError(f"cannot read the source of the rule {fn.__name__}: define derivative "
                            "rules in a file (or a notebook cell), not at an interactive "
                            "prompt") from None
    tree = gast.parse(source).body[0]
    args = tree.args
    names = [a.id for a in args.posonlyargs + args.args]
    if not names:
        raise TemplateError(f"rule {fn.__name__} needs the result as its first parameter")
    result, *params = names
    params += [a.id for a in args.kwonlyargs]
    positional_defaults = dict(zip([a.id for a in args.args][::-1], args.defaults[::-1],
                                   strict=False))
    kw_defaults = {a.id: v for a, v in zip(args.kwonlyargs, args.kw_defaults, strict=True)
                   if v is not None}
    defaults = {**positional_defaults, **kw_defaults}
    vararg = args.vararg.id if args.vararg else None
    differentiable, local_names = set(), set()
    for stmt in tree.body:
        if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Constant):
            continue
        if isinstance(stmt, gast.AugAssign) and _is_adjoint_ref(stmt.target):
            differentiable.add(_adjoint_param(stmt.target))
        elif isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
            local_names.add(stmt.targets[0].id)
        else:
            raise TemplateError(
                f"rule {fn.__name__} ({inspect.getsourcefile(fn)}): each statement must be "
                "`d[param] += expr`, `d[param][index] += expr` or `name = expr`")
    body = [s for s in tree.body
            if not (isinstance(s, gast.Expr) and isinstance(s.value, gast.Constant))]
    unknown = differentiable - set(params) - ({vararg} if vararg else set())
    if unknown:
        raise TemplateError(f"rule {fn.__name__} writes d[...] of unknown names {sorted(unknown)}")
    declared = getattr(fn, "__sourcegrad_accepts__", {})
    if set(declared) - set(params) - {vararg}:
        raise TemplateError(f"rule {fn.__name__} declares @accepts for "
                            f"{sorted(set(declared) - set(params) - {vararg})}, which are not "
                            "its parameters")
    return Rule(fn.__name__, result, params, defaults, vararg, body, frozenset(differentiable),
                f"{inspect.getsourcefile(fn)}:{fn.__code__.co_firstlineno}",
                frozenset(local_names), frozenset(a.id for a in args.kwonlyargs),
                fn.__globals__, _is_builtin_rule(fn), dict(declared))


def _is_builtin_rule(fn: Callable) -> bool:
    package = Path(__file__).resolve().parent.parent
    try:
        return Path(inspect.getsourcefile(fn)).resolve().is_relative_to(package)
    except (TypeError, OSError):
        return False


def _is_adjoint_ref(node: gast.expr) -> bool:
    """`d[x]` or `d[x][index]`."""
    if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Subscript):
        node = node.value
    return (isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name)
            and node.value.id == "d" and isinstance(node.slice, gast.Name))


def _adjoint_param(node: gast.Subscript) -> str:
    if isinstance(node.value, gast.Subscript):
        node = node.value
    return node.slice.id


def adjoint(*functions: Any) -> Callable[[Callable], Callable]:
    """Register the decorated template as the reverse-mode rule of each of `functions`.

    The template's first parameter is the call's result, the others mirror the function's own
    parameters (names and defaults as in its documentation, so keyword calls bind). The body
    accumulates into `d[param]`. A registered rule takes precedence over transforming source.
    """
    def register(template: Callable) -> Callable:
        rule = _parse_rule(template)
        for fn in functions:
            ADJOINTS[fn] = rule
            ZERO_GRADIENT.discard(fn)
        _version[0] += 1
        return template
    return register


def adjoint_method(*method_names: str) -> Callable[[Callable], Callable]:
    """Register a rule for an ndarray method or attribute (`x.sum(...)`, `x.T`); the receiver
    binds to the first parameter after the result."""
    def register(template: Callable) -> Callable:
        rule = _parse_rule(template)
        for name in method_names:
            METHOD_ADJOINTS[name] = rule
        _version[0] += 1
        return template
    return register


def nondifferentiable(*functions: Any) -> None:
    """Mark functions whose results carry no gradient (integer, boolean, piecewise constant)."""
    for fn in functions:
        ZERO_GRADIENT.add(fn)
        ADJOINTS.pop(fn, None)
    _version[0] += 1


def remove_rule(fn: Any) -> None:
    """Forget the rule registered for `fn` (say, in a notebook); derivatives using it go stale."""
    ADJOINTS.pop(fn, None)
    _version[0] += 1


_free_names_cache: dict[int, frozenset[str]] = {}


def rule_global_names() -> frozenset[str]:
    """Every global name some rule's template uses (np, special, runtime helpers, ...): the
    user's local variables must not shadow them in the emitted code."""
    version = registry_version()
    if version not in _free_names_cache:
        rules = {id(r): r for r in [*ADJOINTS.values(), *METHOD_ADJOINTS.values()]}.values()
        _free_names_cache.clear()
        _free_names_cache[version] = frozenset().union(*(r.free_names for r in rules))
    return _free_names_cache[version]


def is_zero_gradient(fn: Any) -> bool:
    try:
        return fn in ZERO_GRADIENT
    except TypeError:
        return False


def rule_for(fn: Any) -> Rule | None:
    try:
        return ADJOINTS.get(fn)
    except TypeError:
        return None


def names_of(stmts: Iterable[gast.AST]) -> set[str]:
    return {n.id for s in stmts for n in gast.walk(s) if isinstance(n, gast.Name)}


# -- filling a template at a call site ------------------------------------------------------

@dataclass
class Contribution:
    """`d[target] += value` (or `d[target][index] += value`) after substitution."""

    param: str
    target: gast.expr
    value: gast.expr
    index: gast.expr | None = None


@dataclass
class Local:
    """A rule-local assignment `name = value` after substitution."""

    name: str
    value: gast.expr


def bind(rule: Rule, args: list[gast.expr], keywords: dict[str, gast.expr],
         what: str) -> dict[str, gast.expr]:
    """Map the rule's parameters to the call's argument expressions, filling defaults; refuse
    an option the rule does not handle (`TemplateError`, a NoRuleError at the user's line)."""
    bound: dict[str, gast.expr] = {}
    positional = [p for p in rule.params if p not in rule.kwonly]
    extra = list(args[len(positional):])
    for param, arg in zip(positional, args, strict=False):
        bound[param] = arg
    if extra:
        if rule.vararg is None:
            raise TemplateError(f"{what} was called with {len(args)} positional arguments; "
                                f"its rule {rule.name} ({rule.defined_at}) takes "
                                f"{len(positional)}")
        bound[rule.vararg] = gast.Tuple(elts=extra, ctx=gast.Load())
    for key, value in keywords.items():
        if key not in rule.params:
            raise TemplateError(f"{what} with {key}={source_of(value)} has no rule yet: its "
                                f"rule {rule.name} ({rule.defined_at}) has no parameter {key}")
        bound[key] = value
    check_options(rule, bound, what)
    if rule.vararg is not None and rule.vararg not in bound:
        bound[rule.vararg] = gast.Tuple(elts=[], ctx=gast.Load())
    for param in rule.params:
        if param not in bound:
            if param not in rule.defaults:
                raise TemplateError(f"{what}: no value for parameter {param} of rule "
                                    f"{rule.name} ({rule.defined_at})")
            bound[param] = rule.defaults[param]
    return bound


def check_options(rule: Rule, given: dict[str, gast.expr], what: str) -> None:
    """Refuse an argument the rule would silently ignore: a parameter its body does not read,
    given a value other than its default, unless declared harmless; or a declared option given
    a value the rule does not handle. A rule with no contribution (no gradient) takes any."""
    if not rule.differentiable:
        return
    for param, value in given.items():
        spec = rule.accepts.get(param)
        if spec is not None and not spec.matches(value):
            literal = " written in the call" if not literal_value(value)[0] else ""
            raise TemplateError(f"{what} with {param}={source_of(value)} has no rule yet: its "
                                f"rule {rule.name} ({rule.defined_at}) handles {param}="
                                f"{spec.description}{literal}")
        if spec is None and param not in rule.read and not _is_default(rule, param, value):
            default = rule.defaults.get(param)
            handled = (f"handles only the default {param}={source_of(default)}"
                       if default is not None else f"does not read {param}")
            raise TemplateError(f"{what} with {param}={source_of(value)} has no rule yet: its "
                                f"rule {rule.name} ({rule.defined_at}) {handled}")


def _is_default(rule: Rule, param: str, value: gast.expr) -> bool:
    """`value` is the literal the template's signature has as `param`'s default."""
    if param not in rule.defaults:
        return False
    known, given = literal_value(value)
    _, default = literal_value(rule.defaults[param])
    return known and type(given) is type(default) and given == default


def literal_value(node: gast.expr | None) -> tuple[bool, Any]:
    """(True, value) for a literal (`'F'`, `-1`, `(0, 1)`, `None`), else (False, None)."""
    if isinstance(node, gast.Constant):
        return True, node.value
    if (isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd))
            and isinstance(node.operand, gast.Constant)
            and type(node.operand.value) in (int, float)):
        value = node.operand.value
        return True, -value if isinstance(node.op, gast.USub) else value
    if isinstance(node, (gast.Tuple, gast.List)):
        items = [literal_value(elt) for elt in node.elts]
        return all(k for k, _ in items), tuple(v for _, v in items)
    return False, None


def source_of(node: gast.expr | None) -> str:
    """How the user wrote an argument, for messages."""
    if node is None:
        return "None"
    return ast.unparse(gast.gast_to_ast(node))


class _Substitute(gast.NodeTransformer):
    def __init__(self, mapping: dict[str, gast.expr], result_adjoint: gast.expr, rule: Rule):
        self.mapping, self.result_adjoint, self.rule = mapping, result_adjoint, rule

    def visit_Subscript(self, node: gast.Subscript) -> gast.expr:
        if _is_adjoint_ref(node) and not isinstance(node.value, gast.Subscript):  # `d[y]`
            if _adjoint_param(node) != self.rule.result:
                raise TemplateError(f"rule {self.rule.name} reads d[{_adjoint_param(node)}]: "
                                    "rules may only read the adjoint of the result")
            return _copy(self.result_adjoint)
        return self.generic_visit(node)

    def visit_Name(self, node: gast.Name) -> gast.expr:
        if node.id in self.mapping:
            return _copy(self.mapping[node.id])
        return node


def _copy(node: gast.expr) -> gast.expr:
    return copy.deepcopy(node)


def fill(rule: Rule, bound: dict[str, gast.expr], result: gast.expr, result_adjoint: gast.expr,
         fresh: Callable[[str], str]) -> list[Contribution | Local]:
    """The rule's body with every placeholder replaced, constants folded, in order."""
    mapping: dict[str, gast.expr] = dict(bound)
    mapping[rule.result] = result
    for name in sorted(rule.locals):
        mapping[name] = gast.Name(id=fresh(name), ctx=gast.Load(), annotation=None,
                                  type_comment=None)
    subst = _Substitute(mapping, result_adjoint, rule)
    items: list[Contribution | Local] = []
    for stmt in rule.body:
        value = simplify(subst.visit(_copy(stmt.value)))
        if isinstance(stmt, gast.AugAssign):
            target = stmt.target
            index = None
            if isinstance(target.value, gast.Subscript):
                index = simplify(subst.visit(_copy(target.slice)))
            param = _adjoint_param(target)
            items.append(Contribution(param, bound[param], value, index))
        else:
            items.append(Local(mapping[stmt.targets[0].id].id, value))
    return items


# -- constant folding, so `x ** (2 - 1)` reads `x` -------------------------------------------

_FOLD = {gast.Add: lambda a, b: a + b, gast.Sub: lambda a, b: a - b,
         gast.Mult: lambda a, b: a * b, gast.Div: lambda a, b: a / b}


def _number(node: gast.expr) -> float | None:
    if isinstance(node, gast.Constant) and type(node.value) in (int, float):
        return node.value
    return None


def _defaults_of(func: gast.expr) -> dict[str, Any]:
    """The defaults of a runtime helper (`unbroadcast`) or a NumPy function (`np.reshape`)
    called in a template, so an argument repeating one can be dropped."""
    from .. import runtime
    if isinstance(func, gast.Name) and func.id in runtime.__all__:
        fn = getattr(runtime, func.id)
    elif (isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name)
          and func.value.id == "np"):
        fn = getattr(np, func.attr, None)
    else:
        return {}
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # ufuncs and other compiled functions
        return {}
    return {p.name: p.default for p in parameters if p.default is not p.empty}


class _Simplify(gast.NodeTransformer):
    def visit_IfExp(self, node: gast.IfExp) -> gast.expr:
        """`a if None is None else b` (a default filled in) is `a`."""
        self.generic_visit(node)
        test = _constant_truth(node.test)
        if test is None:
            return node
        return node.body if test else node.orelse

    def visit_Call(self, node: gast.Call) -> gast.expr:
        """Drop keyword arguments of runtime helpers and NumPy functions that repeat the
        function's default (`np.reshape(g, shape, order='C')` reads `np.reshape(g, shape)`)."""
        self.generic_visit(node)
        defaults = _defaults_of(node.func)
        node.keywords = [kw for kw in node.keywords if not (
            isinstance(kw.value, gast.Constant) and kw.arg in defaults
            and type(defaults[kw.arg]) is type(kw.value.value)
            and defaults[kw.arg] == kw.value.value)]
        return node

    def visit_BinOp(self, node: gast.BinOp) -> gast.expr:
        self.generic_visit(node)
        left, right = _number(node.left), _number(node.right)
        fold = _FOLD.get(type(node.op))
        if fold and left is not None and right is not None and not (
                isinstance(node.op, gast.Div) and right == 0):
            return gast.Constant(value=fold(left, right), kind=None)
        if isinstance(node.op, gast.Pow) and right == 1:
            return node.left
        if isinstance(node.op, (gast.Mult, gast.Div)) and right == 1:
            return node.left
        if isinstance(node.op, gast.Mult) and left == 1:
            return node.right
        return node


def _constant_truth(test: gast.expr) -> bool | None:
    """The truth of a test made of constants (`False`, `None is None`), else None."""
    if isinstance(test, gast.Constant):
        return bool(test.value)
    if (isinstance(test, gast.Compare) and len(test.ops) == 1
            and isinstance(test.left, gast.Constant)
            and isinstance(test.comparators[0], gast.Constant)
            and isinstance(test.ops[0], (gast.Is, gast.IsNot))):
        same = test.left.value is test.comparators[0].value
        return same if isinstance(test.ops[0], gast.Is) else not same
    return None


def simplify(node: gast.expr) -> gast.expr:
    return _Simplify().visit(node)
