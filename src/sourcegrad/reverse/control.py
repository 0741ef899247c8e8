"""The differentiator proper: walks a canonical function body backwards, one visit per kind.

Straight-line statements go to `statements.py`. Here: `if` (record nothing, the condition is a
named boolean the adjoint reads again), `for` over a range (the adjoint runs the same range
reversed), `while` and loops with `break` (count the iterations), and the bookkeeping that keeps
adjoints defined on every path: zero adjoints only where two paths disagree or where a loop
accumulates across iterations.
"""

from __future__ import annotations

import gast

from ..analysis.abstract import specializable
from ..analysis.activity import is_append
from ..analysis.definedness import upward_exposed
from ..errors import UnsupportedSyntaxError
from ..gastutil import assign, copy_of, load, loaded_names
from .accumulate import zeros_like
from .appends import append_step
from .context import Context
from .nodes import AdjointState, Branch, Loop, Node, Step
from .specialize import specialize
from .statements import assignment_step, passive_step
from .stores import store_step
from .unfollowed import UnfollowedChanges
from .value_calls import is_value_call, run_value_call

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


class Differentiator(UnfollowedChanges):
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
        if is_value_call(stmt.value, self.ctx.local_names):  # `f(buf)`, f a variable
            return passive_step(run_value_call(stmt))
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
