"""Settle the re-bindings `y = x` that follow an in-place change of `x`, once the argument
types are known.

normalize/augassign.py lowers `x += d` to `x = x + d` and, for every name `y` that surely
shares x's object, adds `y = x` (marked `alias_rebind`): NumPy writes into an array, so `y`
sees the change. A number is never changed in place: `x += 1` rebinds `x` alone. Which of the
two happens depends on what `y` held, which only the arguments tell. Deciding it here, before
activity, shapes and the differentiator see the tree, keeps every later pass looking at the
same program (a statement dropped by the differentiator alone left the analyses looking at a
binding that no longer ran, and lost or invented adjoints).

Requires: the canonical form; shape facts of the arguments.
Guarantees: no `alias_rebind` statement remains whose value is known to be a number; one that
may be a 0-d array (NumPy changes those in place too, but its results are NumPy scalars that
it does not) is refused; one whose type is unknown becomes a branch on the run-time type:
`y_shares = shares_changes(y)` / `if y_shares: y = x`.
"""

from __future__ import annotations

import gast

from ..errors import UnsupportedSyntaxError
from ..gastutil import assign, copy_replacing, load, statement_lists
from ..names import Namer
from .abstract import UNKNOWN, Abstract
from .shapes import ShapeFacts


def settle_alias_rebinds(tree: gast.FunctionDef, facts: ShapeFacts,
                         namer: Namer) -> gast.FunctionDef:
    """A copy of `tree` with each re-binding kept, dropped, or decided at run time; `tree`
    itself when it has none."""
    replaced: dict[int, list[gast.stmt]] = {}
    for block in statement_lists(tree):
        for stmt in block:
            if not getattr(stmt, "alias_rebind", False):
                continue
            alias = stmt.targets[0].id
            held = facts.env_at(stmt).get(alias, UNKNOWN)
            if _number(held):
                replaced[id(stmt)] = []
            elif held.shape == () and held.array0:
                raise UnsupportedSyntaxError(
                    f"{alias} holds a 0-d array that is changed in place through "
                    f"{stmt.value.id}", getattr(stmt, "origin", None),
                    why="NumPy changes a 0-d array in place (so every name sharing it sees "
                        "the change) but returns NumPy scalars from arithmetic on it; "
                        "sourcegrad follows numbers as values.",
                    hint=f"Pass a float (float(x)) instead of a 0-d array, or bind {alias} to "
                         "a copy (.copy()) where it is made.")
            elif held.shape is None and held.items is None and held.cls is None:
                replaced[id(stmt)] = _decided_at_run_time(stmt, alias, namer)
    return copy_replacing(tree, replaced) if replaced else tree


def _number(held: Abstract) -> bool:
    return held.shape == () and not held.array0 and held.items is None and held.cls is None


def _decided_at_run_time(stmt: gast.Assign, alias: str, namer: Namer) -> list[gast.stmt]:
    test = namer.fresh(f"{alias}_shares")
    check = gast.Call(func=load("shares_changes"), args=[load(alias)], keywords=[])
    rebind = assign(alias, load(stmt.value.id), stmt)
    return [assign(test, check, stmt), gast.If(test=load(test), body=[rebind], orelse=[])]
