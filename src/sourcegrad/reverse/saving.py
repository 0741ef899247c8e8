"""To-be-recorded analysis: which overwritten values the adjoint needs, and how to keep them.

The adjoint sweep walks the primal backwards and restores each variable it still needs to the
value it had at that point. A value is saved only when a statement overwrites a variable whose
old value the adjoint reads at or before that statement (program order). Outside loops the old
value is kept in a variable (`h_prev = h`); inside loops it goes on a stack (`h_saved`), one stack
per variable, popped in reverse. A variable first bound inside a loop body (a loop-local) is
pushed once at the end of each iteration and popped at the start of each reversed iteration.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import gast

from ..errors import UnsupportedSyntaxError
from ..gastutil import loaded_names
from ..names import Namer
from .nodes import Branch, Loop, Node, Step, all_reads, assigned, reads_test, replays


@dataclass
class Save:
    """How the value of `var` before a statement is kept: in `prev` (a variable) or on `stack`;
    `restore`: the adjoint puts it back into `var` after the statement's adjoint block."""

    var: str
    prev: str | None
    stack: str | None
    restore: bool


@dataclass
class SavePlan:
    saves: dict[int, list[Save]] = field(default_factory=dict)        # id(Step) -> saves
    loop_locals: dict[int, list[str]] = field(default_factory=dict)   # id(Loop) -> names
    arm_locals: dict[tuple[int, str], list[str]] = field(default_factory=dict)  # branch arm
    branch_tests: set[int] = field(default_factory=set)   # id(Branch) whose test A reads
    recompute: dict[int, list[Step]] = field(default_factory=dict)  # id(Loop) -> cheap steps
    target_saves: dict[int, Save] = field(default_factory=dict)       # id(Loop) -> its target
    stacks: dict[str, str] = field(default_factory=dict)              # var -> stack name

    def stack_of(self, var: str, namer: Namer) -> str:
        if var not in self.stacks:
            self.stacks[var] = namer.fresh(f"{var}_saved")
        return self.stacks[var]


@dataclass
class _LoopScope:
    """Planning inside one loop body: what was bound before the loop, and the loop-locals
    found so far, each with the innermost branch arms that bind it (None: the body itself).
    A loop-local bound in several arms (`break` or `continue` lowered copies the statements
    after it into each arm) is pushed at the end of each of them."""

    sure_before: set[str]
    locals: dict[str, set[tuple[int, str] | None]] = field(default_factory=dict)
    bound_around: set[str] = field(default_factory=set)  # bound in the bodies of the loops
    # around this one and in its own: a loop nested in it recomputes from none of them


class SavePlanner:
    def __init__(self, namer: Namer, restored: set[str]):
        self.namer = namer
        self.restored = restored
        self.plan = SavePlan()

    def block(self, nodes: list[Node], needed: set[str], sure: set[str], maybe: set[str],
              loop: _LoopScope | None, arm: tuple[int, str] | None = None
              ) -> tuple[set[str], set[str], set[str]]:
        """Walk `nodes` in program order; `needed`: what the adjoint reads at earlier points."""
        for node in nodes:
            if isinstance(node, Step):
                self._step(node, needed, sure, maybe, loop, arm)
                reads = node.reads_before | node.reads_after | set(node.prev_names)
                needed = needed | reads
                sure, maybe = sure | set(node.targets), maybe | set(node.targets)
            elif isinstance(node, Branch):
                n1, s1, m1 = self.block(node.body, needed | node.body_init_reads, set(sure),
                                        set(maybe), loop, (id(node), "body"))
                n2, s2, m2 = self.block(node.orelse, needed | node.orelse_init_reads, set(sure),
                                        set(maybe), loop, (id(node), "orelse"))
                needed, sure, maybe = n1 | n2, s1 & s2, m1 | m2
                if loop is not None:
                    _lift_bound_on_both_arms(loop, node, s1 & s2, arm)
                if reads_test(node, self.restored):
                    self.plan.branch_tests.add(id(node))
                    needed = needed | {node.stmt.test.id}
            elif not replays(node, self.restored):  # no adjoint, nothing to restore
                sure, maybe = sure | _surely_bound_by(node), maybe | assigned([node])
            else:
                self._loop(node, needed, sure, maybe, loop, arm)
                # what the reversed loop reads at its exit: not the values it restores itself
                read_at_exit = {v for v in all_reads(node.body, self.restored)
                                if self._reads_unrestored([node], v)}
                needed = needed | read_at_exit | node.header_reads | _recompute_reads(
                    node, self.plan)
                needed |= node.pre_init_reads | node.end_init_reads
                maybe = maybe | assigned([node])
        return needed, sure, maybe

    def _step(self, node: Step, needed, sure, maybe, loop: _LoopScope | None, arm) -> None:
        if node.writes and node.writes in needed and node.undo is not None:
            self.plan.saves.setdefault(id(node), []).append(Save(node.writes, None, None, True))
        elif node.writes and node.writes in needed:
            # the adjoint reads the array earlier: keep the part this write overwrites
            var = node.writes
            stack = self.plan.stack_of(var, self.namer) if loop is not None else None
            prev = None if stack else self.namer.fresh(f"{var}_part_prev")
            self.plan.saves.setdefault(id(node), []).append(Save(var, prev, stack, True))
        for var in node.targets:
            uses_prev = var in node.prev_names
            if not (uses_prev or var in needed):
                continue
            if var in sure:
                self._save(node, var, restore=var in needed, loop=loop)
            elif loop is not None and var not in loop.sure_before:
                loop.locals.setdefault(var, set()).add(arm)
                if uses_prev:
                    self._save(node, var, restore=var in needed, loop=loop)
            elif var in maybe:
                raise UnsupportedSyntaxError(
                    f"{var} is bound on only some paths and then reassigned, and the derivative "
                    "needs its earlier value", node.origin,
                    hint=f"Give {var} a value before the branch or loop that binds it.")

    def _save(self, node: Step, var: str, restore: bool, loop: _LoopScope | None) -> None:
        prev = node.prev_names.get(var)
        if loop is None:
            save = Save(var, prev or self.namer.fresh(f"{var}_prev"), None, restore)
        else:
            save = Save(var, prev, self.plan.stack_of(var, self.namer), restore)
        self.plan.saves.setdefault(id(node), []).append(save)

    def _loop(self, node: Loop, needed, sure, maybe, outer: _LoopScope | None,
              arm: tuple[int, str] | None = None) -> None:
        body_reads = all_reads(node.body, self.restored) | node.end_init_reads
        bound = assigned([node])
        for var in sorted(bound):
            if var not in needed or var in sure and var not in _header_bound(node):
                continue
            if var in sure:
                stack = self.plan.stack_of(var, self.namer) if outer else None
                prev = None if outer else self.namer.fresh(f"{var}_prev")
                self.plan.target_saves[id(node)] = Save(var, prev, stack, True)
            elif outer is not None and var not in outer.sure_before:
                outer.locals.setdefault(var, set()).add(arm)  # bound where the loop runs
        around = outer.bound_around if outer is not None else set()
        scope = _LoopScope(set(sure), bound_around=around | assigned(node.body))
        inner_sure = sure | _header_bound(node)
        _, sure_end, _ = self.block(node.body, needed | body_reads, set(inner_sure),
                                    maybe | bound, scope)
        at_end = []
        for var, arms in sorted(scope.locals.items(), key=lambda item: item[0]):
            if not self._reads_unrestored(node.body, var):
                continue
            if var in sure_end or None in arms:
                at_end.append(var)
            for arm in sorted(arms - {None}):
                self.plan.stack_of(var, self.namer)
                self.plan.arm_locals.setdefault(arm, []).append(var)
        recomputed = _recomputable(node, at_end, around)
        self.plan.recompute[id(node)] = recomputed
        done = {name for step in recomputed for name in step.targets}
        self.plan.loop_locals[id(node)] = [v for v in at_end if v not in done]
        for var in self.plan.loop_locals[id(node)]:
            self.plan.stack_of(var, self.namer)


    def _reads_unrestored(self, nodes: list[Node], var: str) -> bool:
        """Whether the adjoint of `nodes` reads `var` outside the inner loops that restore it
        themselves (because it is one of their loop-locals)."""
        for node in nodes:
            if isinstance(node, Step):
                if var in node.reads_before | node.reads_after | set(node.prev_names):
                    return True
            elif isinstance(node, Branch):
                if id(node) in self.plan.branch_tests and var == node.stmt.test.id:
                    return True
                if var in node.body_init_reads | node.orelse_init_reads:
                    return True
                for arm in ("body", "orelse"):
                    restored_inside = self.plan.arm_locals.get((id(node), arm), [])
                    if var not in restored_inside and self._reads_unrestored(
                            getattr(node, arm), var):
                        return True
            elif replays(node, self.restored):
                if var in node.header_reads | node.pre_init_reads | node.end_init_reads:
                    return True
                restored_inside = set(self.plan.loop_locals.get(id(node), []))
                restored_inside |= {name for step in self.plan.recompute.get(id(node), [])
                                    for name in step.targets}
                if var not in restored_inside and var not in _header_bound(node) and \
                        self._reads_unrestored(node.body, var):
                    return True
        return False


_CHEAP = (gast.Subscript, gast.Attribute, gast.BinOp, gast.UnaryOp, gast.Name, gast.Constant)


def _recomputable(node: Loop, loop_locals: list[str], bound_around: set[str]) -> list[Step]:
    """Loop-locals the reversed iteration can recompute instead of popping: bound once, at the
    top of the body, by a cheap operation (`x[i]`, `w * x_i`) whose operands the rest of the
    body leaves alone, so at the end of the iteration they still hold what they held then.
    Not from a name an enclosing loop's body binds (`M = M + M`, then `m = M[1, 1]` in the
    inner loop): when the inner loop is reversed, it holds the last outer iteration's value."""
    body = node.body
    available = _header_bound(node)
    popped = set(loop_locals)
    chosen: list[Step] = []
    for index, step in enumerate(body):
        if not isinstance(step, Step) or len(step.targets) != 1:
            continue
        var = step.targets[0]
        value = getattr(step.primal, "value", None)
        if var not in popped or not isinstance(value, _CHEAP):
            continue
        if sum(var in assigned([other]) for other in body) != 1:
            continue
        later = assigned(body[index + 1:])
        operands = loaded_names(value)
        bound_in_body = assigned(body)
        if operands & later or operands & (bound_around - assigned([node])) or not all(
                o not in bound_in_body or o in available for o in operands):
            continue
        chosen.append(step)
        available.add(var)
    return chosen


def _lift_bound_on_both_arms(loop: _LoopScope, node: Branch, both: set[str],
                             arm: tuple[int, str] | None) -> None:
    """A loop-local bound on both arms of `node` (`tmp = 1.0 if pen else 0.05`) is bound
    whenever the enclosing arm runs: it is pushed at the end of that arm (and popped at the
    start of its reversed copy), not in the arm that bound it first, so that statements after
    the branch find it restored."""
    arms = {(id(node), "body"), (id(node), "orelse")}
    for var, bound_in in loop.locals.items():
        if bound_in & arms and var in both:
            loop.locals[var] = bound_in - arms | {arm}


def _recompute_reads(node: Loop, plan: SavePlan) -> set[str]:
    """What the reversed loop reads to recompute its cheap loop-locals (`a_plus_a = a + a`),
    its own and those of the loops nested in it: names from outside the body, which a
    statement after the loop must not leave changed."""
    inner = assigned(node.body) | _header_bound(node)
    return {name for loop in _loops_in([node]) for step in plan.recompute.get(id(loop), [])
            for name in loaded_names(step.primal.value) if name not in inner}


def _loops_in(nodes: list[Node]) -> list[Loop]:
    """The loops among `nodes` and nested in them, in branches or loops."""
    loops: list[Loop] = []
    for node in nodes:
        if isinstance(node, Branch):
            loops += _loops_in(node.body) + _loops_in(node.orelse)
        elif isinstance(node, Loop):
            loops += [node] + _loops_in(node.body)
    return loops


def _cheap_operands(nodes: list[Node], in_loop: bool = False) -> set[str]:
    """Operands of every statement a reversed loop might recompute (see `_recomputable`)."""
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, Step) and in_loop and isinstance(
                getattr(node.primal, "value", None), _CHEAP):
            names |= loaded_names(node.primal.value)
        elif isinstance(node, Branch):
            names |= _cheap_operands(node.body, in_loop) | _cheap_operands(node.orelse, in_loop)
        elif isinstance(node, Loop):
            names |= _cheap_operands(node.body, True)
    return names


def _surely_bound_by(node: Loop) -> set[str]:
    """What a loop binds whether or not its body runs: its iteration counter."""
    return {node.trips} if node.trips else set()


def _header_bound(node: Loop) -> set[str]:
    """What the loop header binds: its target (for) and its iteration counter."""
    names = {node.trips} if node.trips else set()
    if isinstance(node.stmt, gast.For):
        names.add(node.stmt.target.id)
    return names


def plan_saves(nodes: list[Node], params: set[str], namer: Namer) -> SavePlan:
    restored = all_reads(nodes, restored=set()) | _cheap_operands(nodes)
    restored = all_reads(nodes, restored) | _cheap_operands(nodes)
    planner = SavePlanner(namer, restored)
    planner.block(nodes, set(), set(params), set(params), None)
    return planner.plan
