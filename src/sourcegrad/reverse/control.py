"""The differentiator proper: walks a canonical function body backwards, one visit per kind.

Straight-line statements go to `statements.py`. Here: `if` (record nothing, the condition is a
named boolean the adjoint reads again), `for` over a range (the adjoint runs the same range
reversed), `while` and loops with `break` (count the iterations), and the bookkeeping that keeps
adjoints defined on every path: zero adjoints only where two paths disagree or where a loop
accumulates across iterations.
"""

from __future__ import annotations

import inspect
from typing import Any

import gast
import numpy as np

from ..analysis.abstract import specializable
from ..analysis.activity import is_append
from ..analysis.definedness import upward_exposed
from ..analysis.method_changes import method_change
from ..errors import UnsupportedSyntaxError
from ..gastutil import assign, copy_of, load, loaded_names
from ..normalize.mutations import call_effects
from ..parse import is_user_class
from .accumulate import zeros_like
from .appends import append_step
from .context import Context
from .nodes import AdjointState, Branch, Loop, Node, Step
from .specialize import specialize
from .statements import assignment_step, passive_step
from .stores import store_step

_MAX_OWNERSHIP_PASSES = 3


def _touched(stmts: list[gast.stmt], ctx: Context) -> set[str]:
    """Active names a block mentions: the adjoints its reverse may read or write."""
    names = set()
    for stmt in stmts:
        for node in gast.walk(stmt):
            if isinstance(node, gast.Name) and ctx.is_active(node.id):
                names.add(node.id)
    return names


def _copied(name: str, container: bool) -> gast.Call:
    if container:  # a list, tuple or dict of adjoints
        return gast.Call(func=load("owned_copy"), args=[load(name)], keywords=[])
    return copy_of(load(name))


def _contains_break(stmts: list[gast.stmt]) -> bool:
    for stmt in stmts:
        if isinstance(stmt, gast.Break):
            return True
        if isinstance(stmt, gast.If) and (_contains_break(stmt.body)
                                          or _contains_break(stmt.orelse)):
            return True
    return False


# the methods of what arrives of a class sourcegrad does not know (an array, a number, a
# container, a random generator): what they change is followed elsewhere (normalize/sharing.py's
# CHANGING_METHODS) or carries no gradient. Any other method may be a user method changing its
# object.
_LIBRARY_METHODS = frozenset(name for kind in (
    np.ndarray, np.generic, list, tuple, dict, set, float, int, complex, str,
    np.random.Generator, np.random.RandomState) for name in dir(kind))


def _bound_arguments(fn: Any, call: gast.Call) -> dict[str, gast.expr]:
    """The expression `call` passes for each parameter of `fn` (none when it passes `*args`,
    `**kwargs` or arguments that do not bind: Python's own error comes first)."""
    if any(isinstance(a, gast.Starred) for a in call.args) or any(
            k.arg is None for k in call.keywords):
        return {}
    try:
        return dict(inspect.signature(fn, follow_wrapped=False).bind_partial(
            *call.args, **{k.arg: k.value for k in call.keywords}).arguments)
    except (TypeError, ValueError):
        return {}


class Differentiator:
    """Explicit visitor: a statement kind with no `visit_X` is an error, never skipped."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def block(self, stmts: list[gast.stmt], state: AdjointState) -> list[Node]:
        nodes: list[Node] = []
        for stmt in reversed(stmts):
            visitor = getattr(self, "visit_" + type(stmt).__name__, None)
            if visitor is None:
                raise UnsupportedSyntaxError(
                    f"{type(stmt).__name__} statements are not supported",
                    getattr(stmt, "origin", None))
            node = visitor(stmt, state)
            if node is not None:
                nodes.append(node)
        nodes.reverse()
        return nodes

    def visit_Assign(self, stmt: gast.Assign, state: AdjointState) -> Step | None:
        if isinstance(stmt.targets[0], gast.Subscript):
            return store_step(self.ctx, stmt, state)
        if isinstance(stmt.value, gast.Call):
            self._refuse_unfollowed_method(stmt, stmt.value, "")
            self._refuse_writes_into_a_methods_result(stmt, stmt.value)
        self._refuse_methods_changing_in_callees(stmt, stmt.value)
        return assignment_step(self.ctx, stmt, state)

    def visit_Expr(self, stmt: gast.Expr, state: AdjointState) -> Step | None:
        call = stmt.value
        if isinstance(call, gast.Call) and getattr(call.func, "id", None) == "check_unshared":
            held = self.ctx.shapes.value(call.args[0], self.ctx.shapes.env_at(stmt))
            if held.items is None and held.cls is None and held.shape is not None:
                return None  # an array (or number): its parts are its own, nothing to check
        if is_append(stmt, self.ctx.local_names):
            return append_step(self.ctx, stmt, state)
        self._refuse_hidden_updates(stmt)
        return passive_step(stmt)

    def _refuse_hidden_updates(self, stmt: gast.Expr) -> None:
        """A call whose result is dropped may change its arguments in place (`x.sort()`,
        `np.copyto(y, x)`, `out=`): on values with a gradient that would go unseen."""
        call = stmt.value
        if not isinstance(call, gast.Call) or getattr(call.func, "id", None) in (
                "print", "check_keywords", "check_unshared"):
            return
        self._refuse_unfollowed_method(stmt, call, " (its result is dropped)")
        self._refuse_methods_changing_in_callees(stmt, call)
        if not loaded_names(call) & self.ctx.activity.varied:
            return
        raise UnsupportedSyntaxError(
            "a call whose result is not used, on values that carry a gradient",
            getattr(stmt, "origin", None),
            why="If it changes them in place (x.sort(), x.fill(0), np.copyto, out=...), "
                "the derivative could not see it.",
            hint="Use the returned value instead: y = np.sort(x).")

    def _refuse_unfollowed_method(self, stmt: gast.stmt, call: gast.Call, dropped: str) -> None:
        """`obj.step(...)` of a user class whose method changes its object, left as written
        because analysis/method_changes.py could not follow it. Active or not, an adjoint may
        read the object's arrays it changes."""
        func = call.func
        if not (isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name)):
            return
        owner = self.ctx.shapes.value(func.value, self.ctx.shapes.env_at(stmt)).cls
        change = method_change(owner, func.attr, call) if owner is not None else None
        if change is None:
            return
        obj, method = func.value.id, func.attr
        why = "It writes into its object's arrays (self.v[i] = ..., self.v += ...)." \
            if change == "written" else \
            "Its arguments are not plain names, or other names hold the object."
        raise UnsupportedSyntaxError(
            f"{obj}.{method}(...) is called for what it changes{dropped}: sourcegrad cannot "
            "follow this method's changes to its object", getattr(stmt, "origin", None),
            why=why,
            hint=f"Write it as a function called by name, {method}({obj}, ...), which may "
                 "change its argument in place"
                 + (", or set attributes (self.v = ...) instead of writing into them."
                    if change == "written" else
                    f"; or pass it plain variables (v = ...; {obj}.{method}(v))."))

    def _refuse_writes_into_a_methods_result(self, stmt: gast.Assign, call: gast.Call) -> None:
        """`u = cell.forward(z)` where forward returns `self.w` (a part of its object) or one
        of its arguments, and `u` is written into later: in Python the write changes that
        array too. Normalization follows this for functions called by name (it knows what
        they return); a method's class is known only here, too late to follow it."""
        target = stmt.targets[0]
        if not (isinstance(target, gast.Name) and target.id in self.ctx.written) or \
                self.ctx.calls.classify(call).kind == "user":
            return
        fn, passed, _ = self._callee_and_arguments(call, self.ctx.shapes.env_at(stmt))
        if fn is None:
            return
        effects = call_effects(fn)
        shared = sorted(param for param in effects.returned | effects.held  # not `traj =
                        if isinstance(passed.get(param), gast.Name)  # sim.step(traj, t)`
                        and passed[param].id != target.id)
        if not shared:
            return
        held = passed[shared[0]].id
        raise UnsupportedSyntaxError(
            f"{target.id} is written into, and {call.func.value.id}.{call.func.attr}(...) may "
            f"return {held}'s array (or a part of it): the write would change {held} too, "
            "which sourcegrad does not follow for a method's result",
            getattr(stmt, "origin", None),
            hint=f"Write into a copy: {target.id} = {call.func.value.id}.{call.func.attr}"
                 "(...).copy().")

    def _refuse_methods_changing_in_callees(self, stmt: gast.stmt, value: gast.expr) -> None:
        """`r = helper(cell, x)` where helper (or a function it calls) calls `cell.nudge(v)`,
        a method that changes its object: only a call made in the function differentiated is
        followed (analysis/method_changes.py), the callee's change would be lost to this
        caller. A method of an object whose class is unknown here may change it too."""
        for call in gast.walk(value):
            if isinstance(call, gast.Call):
                self._refuse_methods_changing_in_callee(stmt, call)

    def _refuse_methods_changing_in_callee(self, stmt: gast.stmt, call: gast.Call) -> None:
        env = self.ctx.shapes.env_at(stmt)
        fn, passed, handed_back = self._callee_and_arguments(call, env)
        if fn is None:
            return
        effects = call_effects(fn)
        for param, method in sorted(effects.methods):
            argument = passed.get(param)
            if argument is None or param in handed_back:
                continue
            owner = self.ctx.shapes.value(argument, env).cls
            if owner is not None:  # a library's object (a random generator): its own
                change = method_change(owner, method, call) if is_user_class(owner) else None
            else:
                change = None if method in _LIBRARY_METHODS else "unknown"
            if change is None:
                continue
            name = fn.__qualname__.split("[")[0].rpartition(".")[2]  # as the user wrote it
            raise UnsupportedSyntaxError(
                f"{name} calls {param}.{method}(...), which "
                + ("changes that object" if change != "unknown" else
                   "may change that object (its class is not known here)")
                + f": sourcegrad cannot follow a change made inside {name} back to this call",
                getattr(stmt, "origin", None),
                why="Only methods called in the function differentiated itself are followed; "
                    "this function would go on reading the object as it was.",
                hint=f"Call {param}.{method}(...) here, before or after calling {name}, or "
                     f"let {name} return the new values and set them here.")

    def _callee_and_arguments(self, call: gast.Call, env) -> tuple[Any, dict[str, gast.expr],
                                                                    set[str]]:
        """The user function `call` runs, the expression passed for each of its parameters,
        and the parameters whose changes come back to this call: what a variant returns
        (mutations.py), a method's object (followed, or refused by the check above)."""
        kind = self.ctx.calls.classify(call)
        if kind.kind == "user":
            fn = kind.target
            return fn, _bound_arguments(fn, call), set(getattr(fn, "changes", ()))
        func = call.func
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name):
            owner = self.ctx.shapes.value(func.value, env).cls
            method = getattr(owner, func.attr, None) if owner is not None and is_user_class(
                owner) else None
            if inspect.isfunction(method):  # `cell.step(other)`: self is cell
                receiver = next(iter(inspect.signature(method).parameters), None)
                as_function = gast.Call(func=func, args=[func.value, *call.args],
                                        keywords=call.keywords)
                return method, _bound_arguments(method, as_function), {receiver}
        return None, {}, set()

    def visit_Return(self, stmt: gast.stmt, state: AdjointState) -> Step:
        return passive_step(stmt)

    visit_Break = visit_Assert = visit_Pass = visit_Return

    # -- if ------------------------------------------------------------------------------------
    def visit_If(self, stmt: gast.If, state: AdjointState) -> Branch:
        body_state, else_state = state.copy(), state.copy()
        body = self.block(stmt.body, body_state)
        orelse = self.block(stmt.orelse, else_state)
        before = self.ctx.definedness.maybe[id(stmt)]
        keep = (body_state.init | else_state.init) & before
        env = self.ctx.shapes.env_at(stmt)
        body_inits = self._zero(keep - body_state.init, stmt, env)
        else_inits = self._zero(keep - else_state.init, stmt, env)
        state.init = keep
        state.copied |= body_state.copied | else_state.copied
        state.owned = ((body_state.owned | keep - body_state.init)
                       & (else_state.owned | keep - else_state.init) & keep)
        return Branch(stmt, body, orelse, body_inits, else_inits,
                      set(sorted(keep - body_state.init)), set(sorted(keep - else_state.init)),
                      getattr(stmt, "origin", None))

    def _zero(self, names: set[str], origin_of: gast.AST, env) -> list[gast.stmt]:
        """Zero adjoints for `names`, shaped by the shape facts where they are known."""
        shapes = specializable(env)
        zeros = [assign(self.ctx.namer.adjoint(n), specialize(zeros_like(n), shapes), origin_of)
                 for n in sorted(names)]
        unbound = names - self.ctx.definedness.sure[id(origin_of)]
        self.ctx.bind_none_first |= {n for n in unbound if n in loaded_names(gast.Module(
            body=zeros, type_ignores=[]))}
        return zeros

    # -- loops ----------------------------------------------------------------------------------
    def visit_For(self, stmt: gast.For, state: AdjointState) -> Loop:
        trips = self._counter() if _contains_break(stmt.body) else None
        header_reads = loaded_names(stmt.iter) & self.ctx.local_names
        return self._loop(stmt, state, trips, header_reads | ({trips} if trips else set()))

    def visit_While(self, stmt: gast.While, state: AdjointState) -> Loop:
        trips = self._counter()
        loop = self._loop(stmt, state, trips, {trips})
        loop.counter = "_" if self.ctx.namer.is_free("_") else self.ctx.namer.fresh("iteration")
        return loop

    def _counter(self) -> str:
        """A new iteration counter: a primal variable the adjoint reads."""
        name = self.ctx.namer.fresh("iterations")
        self.ctx.local_names.add(name)
        return name

    def _loop(self, stmt, state: AdjointState, trips: str | None, header_reads: set[str]) -> Loop:
        before = self.ctx.definedness.maybe[id(stmt)]
        # adjoints that live across iterations: of values flowing into the body from the
        # previous iteration or from before the loop, and of values used after the loop
        carried = _touched(stmt.body, self.ctx) & (upward_exposed(stmt.body) | state.init)
        pre_init_names = carried - state.init
        exit_env = self.ctx.shapes.exit.get(id(stmt), {})
        pre_inits = self._zero(pre_init_names, stmt, exit_env)
        state.init |= carried
        state.owned |= pre_init_names
        entry = state.copy()
        owned_start = set(entry.owned)
        snapshot = self.ctx.namer.snapshot()
        for attempt in range(_MAX_OWNERSHIP_PASSES):
            if attempt:  # names of a body built before and dropped; the last one keeps its own
                self.ctx.namer.restore(snapshot)
            body_state = AdjointState(set(entry.init), set(owned_start))
            body = self.block(stmt.body, body_state)
            end_names = carried - body_state.init
            end_owned = body_state.owned | end_names
            copy_once = body_state.copied & carried & entry.init & end_owned - owned_start
            if copy_once:
                # written into in place on every iteration and still owned at its end: copy
                # once, before the loop
                pre_inits += [assign(self.ctx.namer.adjoint(n), _copied(
                    self.ctx.namer.adjoint(n), n in self.ctx.containers), stmt)
                    for n in sorted(copy_once)]
                owned_start |= copy_once
            elif owned_start <= end_owned:
                break
            else:
                owned_start &= end_owned
        end_inits = self._zero(end_names, stmt, exit_env)
        state.init = entry.init & (body_state.init | end_names) & before
        state.owned = owned_start & end_owned & state.init
        return Loop(stmt, body, trips, pre_inits, end_inits, header_reads,
                    set(pre_init_names), set(end_names), getattr(stmt, "origin", None))
