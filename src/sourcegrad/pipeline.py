"""The passes, in order. Reading this file is reading the architecture.

canonicalize: source -> parse -> lift closures -> check syntax -> index loops over arrays
              they write -> objects built inside (constructors.py) -> lower augmented
              assignment (marking in-place updates of shared arrays) -> rename clashing
              locals -> ANF (comprehensions, zip/enumerate/dict loops, conditional
              expressions) -> index loops -> fold jumps into one exit -> keep branch tests
              apart    (normalize/)
differentiate: rewrites decided by the arguments (static branches, re-bindings after
              in-place changes, dead bindings, methods that set attributes) -> activity,
              definedness and shape facts (from the call's argument shapes) -> adjoint
              generation, walking backwards (reverse/control.py; assignments in
              statements.py, writes in stores.py, appends in appends.py, calls of function
              values in value_calls.py, refusals of changes it cannot follow in
              unfollowed.py; helpers specialized by specialize.py) -> save planning
              (saving.py) -> primal and adjoint sweeps
              (assemble.py)
The module builder (module.py) wraps the sweeps into functions, forwards adjoint copies
(optimize.py) and emits them (emit.py). `options.BuildOptions` switches specialization,
optimization and checked mode, for sourcegrad.verify.
"""

from __future__ import annotations

import builtins
import copy
import inspect
from dataclasses import dataclass
from typing import Any

import gast

from . import runtime
from .analysis.abstract import UNKNOWN, Abstract, Env
from .analysis.activity import Activity, analyze_activity
from .analysis.alias_rebinds import settle_alias_rebinds
from .analysis.calls import CallClassifier
from .analysis.definedness import Definedness
from .analysis.method_changes import follow_method_changes
from .analysis.shapes import ShapeFacts
from .analysis.static_branches import prune_static_branches
from .errors import NoRuleError, UnsupportedSyntaxError
from .gastutil import (
    assign,
    assigned_names,
    const,
    copy_of,
    load,
    loaded_names,
    parameter_names,
    statement_lists,
    target_names,
)
from .names import Namer, names_in
from .normalize.anf import to_anf
from .normalize.augassign import lower_augassign
from .normalize.branch_tests import keep_branch_tests
from .normalize.closures import LiftedFunction, lift_closures
from .normalize.constructors import build_objects
from .normalize.jumps import lower_jumps
from .normalize.loops import index_loops, index_loops_that_write_their_array
from .normalize.mutations import CallEffects
from .normalize.rename import rename_locals
from .normalize.syntax_check import check_syntax
from .optimize import drop_dead_aliases, drop_repeated_copies, self_copy
from .options import DEFAULT, BuildOptions
from .parse import ParsedFunction, parse_function
from .reverse.assemble import Assembler
from .reverse.context import BindGlobal, BindValue, CalleeRequest, Context
from .reverse.control import Differentiator
from .reverse.nodes import AdjointState, Node, Step
from .reverse.saving import SavePlan, plan_saves
from .reverse.value_calls import is_value_call
from .rules.templates import rule_global_names
from .runtime import __all__ as RUNTIME_NAMES

# Runtime helpers that normalization writes into the user's code.
NORMALIZED_CODE_CALLS = ("dict_key", "check_keywords", "check_unshared", "with_attribute",
                         "with_defaults", "shares_changes", "new_object")
# Names the emitted code uses for itself: never handed out as temporaries.
RESERVED = {"np", "math", "reversed", "range", "len", "slice", *RUNTIME_NAMES}


@dataclass
class Canonical:
    """A user function after normalization: the tree the differentiator reads."""

    parsed: ParsedFunction
    tree: gast.FunctionDef
    namer: Namer
    params: list[str]
    local_names: set[str]
    calls: CallClassifier
    fn: Any  # the function itself (a user function or a lifted nested one)

    @property
    def output(self) -> gast.expr:
        return self.tree.body[-1].value

    def param_names(self, names: tuple[str, ...] | list[str]) -> list[str]:
        """The tree's names for the function's parameters (renamed if they clashed)."""
        original = list(inspect.signature(self.fn, follow_wrapped=False).parameters)
        return [self.params[original.index(name)] for name in names]


def canonicalize(fn: Any) -> Canonical:
    parsed = fn.fresh_parsed() if isinstance(fn, LiftedFunction) else parse_function(fn)
    parsed = lift_closures(parsed, Namer(names_in(parsed.tree)))
    for helper in NORMALIZED_CODE_CALLS:
        if helper not in parsed.namespace.globals:
            parsed.namespace.closure.setdefault(helper, getattr(runtime, helper))
    tree = check_syntax(parsed.tree)
    reserved = RESERVED | rule_global_names()
    names = Namer(names_in(tree) | reserved | set(dir(builtins)))
    tree = index_loops_that_write_their_array(tree, names)
    tree = build_objects(tree, parsed.namespace, set(parameter_names(tree.args))
                         | assigned_names(tree.body), names)
    effects = CallEffects(parsed.namespace, set(parameter_names(tree.args)) | assigned_names(
        tree.body), names)
    tree = lower_augassign(tree, effects)
    namer = Namer(names_in(tree) | reserved | set(dir(builtins)))
    tree = rename_locals(tree, reserved, namer)
    params = parameter_names(tree.args)
    local_names = set(params) | assigned_names(tree.body)
    calls = CallClassifier(parsed.namespace, local_names)
    tree = to_anf(tree, namer, local_names, calls)
    tree = index_loops(tree, namer)
    tree = lower_jumps(tree, namer)
    tree = keep_branch_tests(tree, namer)
    local_names = set(params) | assigned_names(tree.body)
    calls = CallClassifier(parsed.namespace, local_names)
    return Canonical(parsed, tree, namer, params, local_names, calls, fn)


@dataclass
class Sweeps:
    """What differentiating one function yields: its two sweeps and what they need."""

    primal: list[gast.stmt]
    adjoint: list[gast.stmt]
    output: gast.expr
    seed: str
    final: AdjointState
    plan: SavePlan
    namer: Namer
    activity: Activity
    nodes: list[Node]
    local_names: set[str]


def _index_safe(tree: gast.FunctionDef, shapes: ShapeFacts) -> set[str]:
    """Names that hold loop counters, integers or boolean masks: they index without repeats."""
    names = set()
    for node in gast.walk(tree):
        if isinstance(node, gast.For):
            names.update(target_names(node.target))
        elif isinstance(node, gast.Assign) and isinstance(node.value, gast.Compare):
            names.update(target_names(node.targets[0]))
    for env in shapes.before.values():
        names.update(name for name, value in env.items()
                     if value.integer and value.shape == ())
    return names


def differentiate(canonical: Canonical, active_params: set[str], params: Env,
                  request_callee: CalleeRequest, bind_value: BindValue,
                  bind_global: BindGlobal, options: BuildOptions = DEFAULT) -> Sweeps:
    """Reverse mode for one function with respect to `active_params`."""
    namer = copy.deepcopy(canonical.namer)
    functions = {name: value.function for name, value in params.items() if value.function}
    calls = canonical.calls.with_functions(functions)  # `rhs(y)` where rhs is f: call f
    tree = prune_static_branches(canonical.tree, params, calls)
    facts = _FactsOf(params, calls)  # one analysis per tree the rewrites below leave
    tree = settle_alias_rebinds(tree, facts(tree), namer)
    tree = drop_dead_aliases(tree)
    tree = follow_method_changes(tree, lambda: facts(tree), calls, namer, bind_global)
    body, ret = tree.body[:-1], tree.body[-1]
    output = ret.value
    outputs = {output.id} if isinstance(output, gast.Name) else set()
    activity = analyze_activity(tree, active_params, calls, outputs)
    shapes = facts(tree)
    _refuse_aliased_inplace(tree, shapes)
    _refuse_slice_bounds_with_gradient(tree, activity, calls)
    written = _written_arrays(tree, canonical)
    ctx = Context(namer, activity, calls, Definedness(tree), shapes,
                  set(canonical.local_names),
                  _index_safe(tree, shapes), request_callee, bind_value, bind_global,
                  written=written, containers=_containers(tree, shapes),
                  maybe_containers=_maybe_containers(tree, shapes, calls))
    seed = namer.adjoint(output.id) if outputs else namer.fresh("dout")
    state = AdjointState(init={o for o in outputs if activity.is_active(o)}, owned=set())
    nodes = Differentiator(ctx).block(body, state)
    unbound = sorted(ctx.bind_none_first)
    plan = plan_saves(nodes, set(canonical.params) | set(unbound), namer)
    assembler = Assembler(plan, options.checked)
    prelude = [assign(name, const(None), tree) for name in unbound]
    rebound = _rebound_first(tree)
    prelude += [_copy_on_entry(name, tree) for name in canonical.params
                if name in written and name not in rebound]
    primal = prelude + assembler.primal(nodes)
    if options.optimize:
        primal = drop_repeated_copies(primal)
    return Sweeps(primal, assembler.adjoint(nodes), output, seed,
                  state, plan, namer, activity, nodes, ctx.local_names)


class _FactsOf:
    """Shape facts of a tree, made when first asked for and kept while the tree is the same."""

    def __init__(self, params: Env, calls: CallClassifier):
        self.params, self.calls = params, calls
        self._tree: gast.FunctionDef | None = None
        self._facts: ShapeFacts | None = None

    def __call__(self, tree: gast.FunctionDef) -> ShapeFacts:
        if tree is not self._tree:
            self._tree, self._facts = tree, ShapeFacts(tree, self.params, self.calls)
        return self._facts


def _refuse_slice_bounds_with_gradient(tree: gast.FunctionDef, activity: Activity,
                                       calls: CallClassifier) -> None:
    """`slice(0, x, 5j)` (what `np.r_[0:x:5j]` or `np.mgrid[0:x:5j]` index with, made a call by
    normalize/anf.py) has no gradient as an index; made into values by np.r_ or np.mgrid, its
    bounds would need one. Refused where the bounds carry a gradient the result needs."""
    for node in gast.walk(tree):
        if isinstance(node, gast.Assign) and isinstance(node.value, gast.Call) and \
                calls.resolve(node.value.func) is builtins.slice and \
                set(target_names(node.targets[0])) & activity.useful and \
                loaded_names(node.value) & activity.varied:
            raise NoRuleError(
                "a slice whose bounds carry a gradient (np.r_[0:x:5j], np.mgrid[0:x:5j]) has "
                "no rule", getattr(node, "origin", None),
                hint="Make the values with np.linspace (np.linspace(0, x, 5)), np.arange or "
                     "np.meshgrid, which have rules.")


def _refuse_aliased_inplace(tree: gast.FunctionDef, shapes: ShapeFacts) -> None:
    """An array (or object) changed in place while another name may share it: the names that
    surely share it were followed (normalize/augassign.py); the others (some paths only,
    `reshape`, fancy indexing, held by a list) are refused, and so is any sharing of a value
    whose type is not known (a list shared by two names)."""
    for node in gast.walk(tree):
        if not isinstance(node, (gast.Assign, gast.Expr)) or not (
                hasattr(node, "inplace_aliases") or hasattr(node, "held_by")
                or hasattr(node, "holds") or _sets_attribute(node)):
            continue
        target = node.targets[0] if isinstance(node, gast.Assign) else node.value.func.value
        env = shapes.env_at(node)
        changed = target.value.id if isinstance(target, gast.Subscript) else target.id
        held = env.get(changed, UNKNOWN)
        if _sets_attribute(node) and held.cls is None:
            raise UnsupportedSyntaxError(
                f"setting an attribute of {changed}, which is not known to be an object of a "
                "class of yours", node.origin,
                hint="sourcegrad follows attributes of objects passed in as arguments (a "
                     "dataclass, a plain class instance); keep other values in variables.")
        if isinstance(target, gast.Name) and held.shape == ():
            continue  # a number: `x += 1` rebinds x, exactly as written
        aliases = list(getattr(node, "inplace_aliases", []))
        aliases += [c for c in getattr(node, "held_by", []) if not _is_array(
            env.get(c, UNKNOWN))]  # held by a list, dict or object (an array takes a copy)
        if not _is_array(held):
            aliases += getattr(node, "holds", [])  # `xs[k] += v`: what xs holds changes
        aliases = sorted({a for a in aliases if env.get(a, UNKNOWN).shape != ()})  # not numbers
        followed = set(getattr(node, "followed_aliases", []))
        if not _is_array(held):  # a slice of a list is a copy: following it as a view is wrong
            followed = set() if getattr(node, "followed_views", None) else followed
        if _is_array(held) or held.cls is not None or held.items is not None or held.is_dict:
            aliases = [a for a in aliases if a not in followed]
        if aliases:
            raise UnsupportedSyntaxError(
                f"{changed} is changed in place while {', '.join(aliases)} may share it",
                node.origin,
                why="NumPy writes into the array (Python into the object), so every name "
                    "sharing it sees the change. sourcegrad follows names that share it on "
                    "every path (y = x, v = x[1:], v = x.T), not names that share it on some "
                    "paths or iterations only, reshapes, or arrays held by a list or dict.",
                hint=f"Where {aliases[0]} is bound, add .copy() if it should keep values of its "
                     "own, or bind it the same way on every path.")


def _sets_attribute(node: gast.Assign | gast.Expr) -> bool:
    """`obj = with_attribute(obj, "h", v)`: how `obj.h = v` is normalized."""
    value = node.value
    return isinstance(value, gast.Call) and getattr(value.func, "id", None) == "with_attribute"


def _is_array(value: Abstract) -> bool:
    """An array whose shape is known: `x += d` surely updates it in place."""
    return value.shape is not None and value.shape != () and value.items is None and \
        value.cls is None


def _containers(tree: gast.FunctionDef, shapes: ShapeFacts) -> set[str]:
    """Variables that may hold a list, tuple or dict at some point."""
    names = {name for env in shapes.before.values() for name, value in env.items()
             if value.items is not None}
    for node in gast.walk(tree):
        if isinstance(node, gast.Assign) and isinstance(node.value, (gast.List, gast.Tuple,
                                                                     gast.Dict)):
            names.update(target_names(node.targets[0]))
    return names


def _maybe_containers(tree: gast.FunctionDef, shapes: ShapeFacts, calls) -> set[str]:
    """Variables bound to what a helper (or a function held in a variable) returns when that
    may be a list, tuple or dict."""
    names = set()
    for node in gast.walk(tree):
        if (isinstance(node, gast.Assign) and isinstance(node.value, gast.Call)
                and (calls.classify(node.value).kind == "user"
                     or is_value_call(node.value, calls.local_names))  # `f(x)`, f a variable
                and shapes.value(node.value, shapes.env_at(node)).shape is None):
            names.update(target_names(node.targets[0]))
    return names


def _written_arrays(tree: gast.FunctionDef, canonical: Canonical) -> set[str]:
    """Arrays the function writes into; writing into a global or captured array is refused.
    A write right after `x = x.copy()` (how a change that others see is made) writes into
    an array nothing else holds yet: it does not count."""
    written = set()
    fresh = {id(block[i]) for block in statement_lists(tree) for i in range(1, len(block))
             if isinstance(block[i], gast.Assign) and isinstance(block[i].targets[0],
                                                                 gast.Subscript)
             and self_copy(block[i - 1]) == block[i].targets[0].value.id}
    for node in gast.walk(tree):
        if isinstance(node, gast.Assign) and isinstance(node.targets[0], gast.Subscript):
            name = node.targets[0].value.id
            if id(node) in fresh and name in canonical.local_names:
                continue
            if name not in canonical.local_names:
                raise UnsupportedSyntaxError(
                    f"{canonical.parsed.name} writes into {name}, which is not one of its "
                    "variables", node.origin,
                    hint=f"Work on a copy: {name}_copy = {name}.copy(), or pass {name} in.")
            written.add(name)
        elif isinstance(node, gast.Expr) and isinstance(node.value, gast.Call) and isinstance(
                node.value.func, gast.Attribute) and node.value.func.attr == "append" and \
                isinstance(node.value.func.value, gast.Name):
            written.add(node.value.func.value.id)  # appending changes the caller's list too
    return written


def _rebound_first(tree: gast.FunctionDef) -> set[str]:
    """Names bound anew by a top-level statement before anything could write into them:
    such a parameter's argument is never written into."""
    rebound: set[str] = set()
    for stmt in tree.body:
        if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)):
            break
        if stmt.targets[0].id not in loaded_names(stmt.value):
            rebound.add(stmt.targets[0].id)
    return rebound


def _copy_on_entry(name: str, tree: gast.FunctionDef) -> gast.stmt:
    """The derivative writes into its own copy of an argument, never the caller's array."""
    return assign(name, copy_of(load(name)), tree)


def top_level_prev_names(nodes: list[Node], plan: SavePlan) -> set[str]:
    """Saved-value variables bound on every path (saves of top-level statements)."""
    return {save.prev for node in nodes if isinstance(node, Step)
            for save in plan.saves.get(id(node), []) if save.prev}
