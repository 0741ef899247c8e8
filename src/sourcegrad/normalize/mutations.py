"""What a call of a user function does to its arguments: which it changes in place, which it
may return. NumPy programs write into arrays they are handed (`fill(out, ...)`, a `step(state)`
that updates `state[...]`), and the caller sees the change; the derivative must too.

`call_effects(fn)` finds, by walking `fn` with the alias tracking of augassign.py, the
parameters whose argument `fn` changes (`buf[i] = v`, `buf += d`, a call that changes it in
turn) and the ones it may return. A caller then calls a *variant* of `fn` that also returns
the changed arguments, and binds them again: `fill(buf, x)` becomes
`fill_result, buf_changed = fill_changing_buf(buf, x)` / `buf = buf_changed`, an in-place change
of `buf` like `buf += d`, with every name sharing `buf` followed or refused as there.
"""

from __future__ import annotations

import copy
import inspect
import weakref
from dataclasses import dataclass
from typing import Any

import gast

from ..errors import SourcegradError, UnsupportedSyntaxError, UserCodeError
from ..gastutil import assign, assigned_names, load, parameter_names, target_names
from ..names import Namer, names_in
from ..parse import Namespace, ParsedFunction, is_library_function, parse_function
from .augassign import LowerAugAssign
from .closures import LiftedFunction, lift_closures
from .loops import index_loops_that_write_their_array
from .syntax_check import check_syntax


@dataclass(frozen=True)
class Effects:
    changed: frozenset[str] = frozenset()  # parameters whose argument it changes in place
    rebound: frozenset[str] = frozenset()  # ... whose attributes it only sets (`p.h = v`)
    by_method: frozenset[str] = frozenset()  # ... by a method (`xs.append(v)`): refused
    returned: frozenset[str] = frozenset()  # parameters whose argument it may return (a part)
    returned_whole: frozenset[str] = frozenset()  # ... whose argument itself it may return
    always_returned: frozenset[str] = frozenset()  # ... that it returns, as is, on every path
    held: frozenset[str] = frozenset()  # ... whose argument what it returns may hold: an item,
    # an attribute (`return {"w": w}`, an object `__init__` set up)
    # (parameter, method name): methods it calls, itself or through its callees, on objects
    # its arguments hold (`cell.nudge(v)`); what they change is known only with the class
    methods: frozenset[tuple[str, str]] = frozenset()
    unreadable: SourcegradError | None = None  # why its source could not be walked: unknown


_EFFECTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # function -> Effects
_IN_PROGRESS: set[int] = set()
_VARIANTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # function -> {params: copy}


def call_effects(fn: Any) -> Effects:
    """The effects of calling the user function `fn` on its arguments (memoized; a
    function that calls itself is walked until its effects stop growing)."""
    key = fn
    if id(key) in _IN_PROGRESS:
        return _EFFECTS.get(key, Effects())
    _IN_PROGRESS.add(id(key))
    try:
        for _ in range(4):
            found = _walk(fn)
            if found == _EFFECTS.get(key):
                break
            _EFFECTS[key] = found
    finally:
        _IN_PROGRESS.discard(id(key))
    return _EFFECTS[key]


def _parsed(fn: Any) -> ParsedFunction:
    return fn.parsed if isinstance(fn, LiftedFunction) else parse_function(fn)


def _walk(fn: Any) -> Effects:
    """The effects of `fn`, from its source; unknown (`unreadable`) when sourcegrad cannot
    read it: `CallEffects.of` then refuses a call that hands it anything it might change."""
    try:
        parsed = _parsed(fn)
        parsed = ParsedFunction(parsed.fn, copy.deepcopy(parsed.tree), parsed.filename,
                                parsed.namespace)
        parsed = lift_closures(parsed, Namer(names_in(parsed.tree)))  # nested ones are calls
        names = Namer(names_in(parsed.tree))
        tree = index_loops_that_write_their_array(check_syntax(parsed.tree), names)
        packed = {a.id for a in (tree.args.vararg, tree.args.kwarg) if a is not None}
        params = [p for p in parameter_names(tree.args) if p not in packed]  # fresh per call
        local_names = set(params) | assigned_names(tree.body)
        effects = CallEffects(parsed.namespace, local_names, names, only_analyze=True)
        walker = LowerAugAssign(tree, params, effects)
        walker.visit(tree)
    except SourcegradError as error:
        return Effects(unreadable=error)
    changed = frozenset(walker.changed_params)
    return Effects(changed, frozenset(walker.rebound_params) - changed,
                   frozenset(walker.changed_by_method), frozenset(walker.returned_params),
                   frozenset(walker.returned_whole), frozenset(walker.always_returned or ()),
                   frozenset(walker.returned_within), frozenset(walker.methods_called))


class CallEffects:
    """For the function being normalized: the effects of the calls it makes, and the variants
    of callees that return what they change."""

    def __init__(self, namespace: Namespace, local_names: set[str], namer: Namer,
                 only_analyze: bool = False):
        self.namespace, self.local_names, self.namer = namespace, local_names, namer
        self.only_analyze = only_analyze  # note what changes, rewrite nothing
        self._variants: dict[tuple[Any, tuple[str, ...]], str] = {}

    def of(self, fn: Any, call: gast.Call) -> Effects:
        """What `call` of `fn` does to its arguments. When `fn` could not be read, nothing is
        known: a call handing it a local name (maybe an array it writes into) is refused, since
        assuming no change would leave the derivative reading the changed array."""
        effects = call_effects(fn)
        if effects.unreadable is None:
            return effects
        handed = [a for a in [*call.args, *(k.value for k in call.keywords)]
                  if any(isinstance(n, gast.Name) and n.id in self.local_names
                         for n in gast.walk(a))]
        if handed:
            raise unreadable_callee_error(fn, call, effects.unreadable)
        return effects

    def callee(self, call: gast.Call) -> Any:
        """The user function `call` calls, or None."""
        target = self.namespace.resolve(call.func, self.local_names)
        if isinstance(target, LiftedFunction) or (
                inspect.isfunction(target) and not is_library_function(target)
                and target.__module__.partition(".")[0] != "sourcegrad"):  # its runtime
            return target
        return None

    def arguments(self, call: gast.Call, fn: Any, params: frozenset[str]) -> dict[str, gast.expr]:
        """The expression passed for each of `params` in `call` (those left to their default
        are not there)."""
        if params and (any(isinstance(a, gast.Starred) for a in call.args)
                       or any(k.arg is None for k in call.keywords)):
            raise UnsupportedSyntaxError(
                f"{fn.__name__} changes its argument {sorted(params)[0]} in place, and this call "
                "passes arguments with * or **", getattr(call, "origin", None),
                hint="Pass the arguments it changes by name or position.")
        try:
            bound = inspect.signature(fn, follow_wrapped=False).bind_partial(
                *call.args, **{k.arg: k.value for k in call.keywords})
        except TypeError:
            return {}  # the call fails as Python's would
        return {p: bound.arguments[p] for p in sorted(params) if p in bound.arguments}

    def variant(self, fn: Any, params: tuple[str, ...]) -> tuple[str, bool]:
        """The name of a copy of `fn` that returns `(result, *params)`, the arguments' arrays
        as `fn` left them (only `params` when `fn` returns nothing), and whether it returns a
        result."""
        key = (fn, params)
        if key not in self._variants:
            variant = variant_of(fn, params)
            name = self.namer.fresh(variant.__name__)
            self.namespace.closure[name] = variant
            self._variants[key] = name, variant.returns_value
        return self._variants[key]


def unreadable_callee_error(fn: Any, call: gast.Call, error: SourcegradError) -> SourcegradError:
    """The error that kept sourcegrad from reading `fn`, at its place in `fn`, saying why it
    matters for this call (even one that carries no gradient) and where the call is."""
    why = f"sourcegrad reads {fn.__name__} to know whether this call changes its arguments " \
        "in place (which the derivative must see, even where no gradient flows)."
    if isinstance(error, UserCodeError):
        raised = type(error)(error.what, error.origin, why, error.hint)
    else:
        raised = UnsupportedSyntaxError(f"sourcegrad cannot read {fn.__name__}: {error}", None,
                                        why)
    origin = getattr(call, "origin", None)
    if origin is not None:
        raised.args = (f"{raised.args[0]}\n  called from:\n{origin.render()}",)
    return raised


def variant_of(fn: Any, params: tuple[str, ...]) -> LiftedFunction:
    """The copy of `fn` that also returns the arguments `params` as it left them; one object
    per function and parameters, so its derivative is made once."""
    variants = _VARIANTS.setdefault(fn, {})
    if params not in variants:
        owner = fn.__qualname__.split(".")[-2] + "_" if "." in fn.__qualname__ else ""
        variants[params] = _returning_arguments(
            fn, params, f"{owner}{fn.__name__.strip('_')}_changing_{'_'.join(params)}")
    return variants[params]


def _returning_arguments(fn: Any, params: tuple[str, ...], name: str) -> LiftedFunction:
    """`fn` whose every `return r` returns `(r, p, ...)` as well: the arrays of the arguments
    as `fn` left them (just `p`, or the tuple of them, when `fn` returns nothing). Where `fn`
    binds `p` anew, `p_argument = p` first keeps the argument's array under a name of its own
    (augassign.py follows every in-place change of `p` to it)."""
    parsed = _parsed(fn)
    tree = copy.deepcopy(parsed.tree)
    names = Namer(names_in(tree))
    rebound = _rebound(tree)
    kept = [names.fresh(f"{p}_argument") if p in rebound else p for p in params]
    returns_value = any(isinstance(node, gast.Return) and node.value is not None and not (
        isinstance(node.value, gast.Constant) and node.value.value is None)
        for stmt in tree.body for node in _walk_own(stmt))
    rewrite = _ReturnArguments(kept, returns_value)
    tree.body = [rewrite.visit(stmt) for stmt in tree.body]
    origin = tree.body[0] if tree.body else tree
    tree.body = [assign(k, load(p), origin) for p, k in zip(params, kept, strict=True)
                 if k != p] + tree.body
    if not isinstance(tree.body[-1], gast.Return):
        end = gast.Return(value=None)
        end.origin = getattr(tree.body[-1], "origin", None)
        tree.body.append(rewrite.visit(end))
    tree.name = name
    return LiftedFunction(ParsedFunction(parsed.fn, tree, parsed.filename, parsed.namespace),
                          f"{fn.__qualname__}[changing {', '.join(params)}]", source=fn,
                          changes=params, returns_value=returns_value)


def _rebound(tree: gast.FunctionDef) -> set[str]:
    """Names the function binds anew (`p = ...`, `p += ...`), not counting nested functions."""
    names: set[str] = set()
    for stmt in tree.body:
        for node in _walk_own(stmt):
            if isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name):
                names.add(node.target.id)
            elif isinstance(node, (gast.Assign, gast.For)):
                targets = node.targets if isinstance(node, gast.Assign) else [node.target]
                names.update(n for t in targets for n in target_names(t))
    return names


def _walk_own(node: gast.AST):
    """The nodes of `node`, not entering nested functions or lambdas."""
    yield node
    for child in gast.iter_child_nodes(node):
        if not isinstance(child, (gast.FunctionDef, gast.Lambda)):
            yield from _walk_own(child)


class _ReturnArguments(gast.NodeTransformer):
    """Every `return r` of the function itself (not of functions nested in it)."""

    def __init__(self, kept: list[str], returns_value: bool):
        self.kept, self.returns_value = kept, returns_value

    def visit_Return(self, node: gast.Return) -> gast.Return:
        value = node.value if node.value is not None else gast.Constant(value=None, kind=None)
        parts = [value] if self.returns_value else []
        parts += [load(k) for k in self.kept]
        result = gast.Return(value=parts[0] if len(parts) == 1 else gast.Tuple(
            elts=parts, ctx=gast.Load()))
        result.origin = getattr(node, "origin", None)
        return result

    def visit_FunctionDef(self, node: gast.FunctionDef) -> gast.FunctionDef:
        return node
