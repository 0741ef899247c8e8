"""The differentiator's annotated tree: each primal statement paired with its adjoint block.

The adjoint generator (statements.py, control.py) builds it walking the canonical function in
reverse; the save planner (saving.py) reads it in program order to decide what to save; the
assembler (assemble.py) turns it into the primal sweep and the adjoint sweep.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import gast

from ..errors import Origin


@dataclass
class AdjointState:
    """While the adjoint is generated backwards: which adjoints hold a value (`init`), and which
    of those own their buffer, so that an in-place `+=` cannot corrupt another adjoint."""

    init: set[str] = field(default_factory=set)
    owned: set[str] = field(default_factory=set)
    copied: set[str] = field(default_factory=set)  # had to copy before writing in place

    def copy(self) -> AdjointState:
        return AdjointState(set(self.init), set(self.owned), set(self.copied))


@dataclass
class Step:
    """One primal assignment or expression statement and its adjoint block."""

    primal: gast.stmt
    adjoint: list[gast.stmt]
    targets: list[str]
    reads_before: set[str]
    reads_after: set[str]
    prev_names: dict[str, str]
    origin: Origin | None
    writes: str | None = None           # `y[index] = v` writes into y (binds nothing)
    save_value: gast.expr | None = None  # what of y that write overwrites: `y[index].copy()`
    undo: gast.stmt | None = None        # or how to take the change back: `xs.pop()`


@dataclass
class Branch:
    """An if statement: `test` names the recorded condition; inits are zero adjoints added at
    the end of a branch's adjoint so both branches leave the same adjoints defined."""

    stmt: gast.If
    body: list[Node]
    orelse: list[Node]
    body_inits: list[gast.stmt]
    orelse_inits: list[gast.stmt]
    body_init_reads: set[str]
    orelse_init_reads: set[str]
    origin: Origin | None


@dataclass
class Loop:
    """A for or while loop. `trips` names the iteration counter when one is needed (while, or a
    for with break); `pre_inits` run before the reversed loop, `end_inits` end each reversed
    iteration; `header_reads` are what the reversed loop header reads."""

    stmt: gast.For | gast.While
    body: list[Node]
    trips: str | None
    pre_inits: list[gast.stmt]
    end_inits: list[gast.stmt]
    header_reads: set[str]
    pre_init_reads: set[str]
    end_init_reads: set[str]
    origin: Origin | None
    counter: str = "_"  # the reversed while loop's variable


Node = Step | Branch | Loop


def has_adjoint(nodes: list[Node]) -> bool:
    """Whether the adjoint of `nodes` does anything (before saving and restoring)."""
    for node in nodes:
        if isinstance(node, Step) and node.adjoint:
            return True
        if isinstance(node, Branch) and (node.body_inits or node.orelse_inits or has_adjoint(
                node.body) or has_adjoint(node.orelse)):
            return True
        if isinstance(node, Loop) and (node.pre_inits or node.end_inits or has_adjoint(
                node.body)):
            return True
    return False


def reads_test(node: Branch, restored: set[str]) -> bool:
    """Whether the reversed branch must evaluate its condition: it has adjoint code, or it
    binds a variable that the adjoint may have to restore."""
    arms = node.body + node.orelse
    return has_adjoint(arms) or bool(assigned(arms) & restored)


def all_reads(nodes: list[Node], restored: set[str] | None = None) -> set[str]:
    """Every primal name the adjoint of `nodes` reads, anywhere inside. `restored`: names the
    adjoint may restore (default: assume all)."""
    reads: set[str] = set()
    for node in nodes:
        if isinstance(node, Step):
            reads |= node.reads_before | node.reads_after | set(node.prev_names.values())
        elif isinstance(node, Branch):
            if restored is None or reads_test(node, restored):
                reads.add(node.stmt.test.id)
            reads |= node.body_init_reads | node.orelse_init_reads
            reads |= all_reads(node.body, restored) | all_reads(node.orelse, restored)
        elif restored is None or replays(node, restored):  # else it is never replayed
            reads |= node.header_reads | node.pre_init_reads | node.end_init_reads
            reads |= all_reads(node.body, restored)
    return reads


def replays(node: Loop, restored: set[str]) -> bool:
    """Whether the adjoint sweep runs the loop again: it has adjoint code, or it binds a
    variable that the adjoint may have to restore (as `reads_test` for branches)."""
    return has_adjoint([node]) or bool(assigned([node]) & restored)


def assigned(nodes: list[Node]) -> set[str]:
    """Every name the primal of `nodes` binds or writes into."""
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, Step):
            names.update(node.targets)
            if node.writes:
                names.add(node.writes)
        elif isinstance(node, Branch):
            names |= assigned(node.body) | assigned(node.orelse)
        else:
            names |= assigned(node.body)
            if node.trips:
                names.add(node.trips)
            if isinstance(node.stmt, gast.For):
                names.add(node.stmt.target.id)
    return names
