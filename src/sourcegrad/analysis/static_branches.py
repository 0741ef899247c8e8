"""Branches decided by the arguments' structure: `if "scale" in params:` on a dict whose keys
the call fixes keeps only the branch that runs.

Derivatives are specialized on the abstract values of the arguments, and a dict's keys are part
of that (and so of the cache key), so the test has one answer for every call this derivative
serves. Dropping the other branch matters beyond tidiness: a parameter filled from a default on
one path and from the dict on the other would otherwise be active, and its adjoint computed for
nothing (`layer(x, **params)` with `power=1` left out would take `log` of negative numbers).
Requires: the canonical form. Returns the tree itself when no test can be decided, else a copy.
"""

from __future__ import annotations

import copy

import gast

from ..gastutil import loaded_names
from .abstract import Env
from .calls import CallClassifier
from .shapes import ShapeFacts


def prune_static_branches(tree: gast.FunctionDef, params: Env,
                          calls: CallClassifier) -> gast.FunctionDef:
    if not any(_membership(stmt) for stmt in gast.walk(tree)):
        return tree
    tree = copy.deepcopy(tree)
    facts = ShapeFacts(tree, params, calls)
    decided: set[str] = set()
    tree.body = _prune(tree.body, facts, decided)
    still_read = loaded_names(tree)
    tree.body = _drop_tests(tree.body, decided - still_read)
    return tree


def _membership(stmt: gast.AST) -> tuple[str, object, bool, str] | None:
    """`t = "key" in d` (or `not in`) as (t, "key", negated, d)."""
    if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)):
        return None
    test = stmt.value
    if not (isinstance(test, gast.Compare) and len(test.ops) == 1
            and isinstance(test.ops[0], (gast.In, gast.NotIn))
            and isinstance(test.left, gast.Constant)
            and isinstance(test.comparators[0], gast.Name)):
        return None
    return (stmt.targets[0].id, test.left.value, isinstance(test.ops[0], gast.NotIn),
            test.comparators[0].id)


def _prune(stmts: list[gast.stmt], facts: ShapeFacts, decided: set[str]) -> list[gast.stmt]:
    out: list[gast.stmt] = []
    for stmt in stmts:
        answer = _answer(out[-1] if out else None, stmt, facts)
        if answer is not None:
            decided.add(stmt.test.id)
            out += _prune(stmt.body if answer else stmt.orelse, facts, decided)
            continue
        for field in ("body", "orelse"):
            if getattr(stmt, field, None):
                setattr(stmt, field, _prune(getattr(stmt, field), facts, decided))
        out.append(stmt)
    return out


def _answer(previous: gast.stmt | None, stmt: gast.stmt, facts: ShapeFacts) -> bool | None:
    """The test's value when `stmt` is `if t:` right after `t = "key" in d` and the keys of
    `d` are known there; None otherwise."""
    if not isinstance(stmt, gast.If) or not isinstance(stmt.test, gast.Name):
        return None
    membership = _membership(previous) if previous is not None else None
    if membership is None or membership[0] != stmt.test.id:
        return None
    _, key, negated, mapping = membership
    held = facts.env_at(stmt).get(mapping)
    if held is None or not held.is_dict or held.items is None:
        return None
    return (key in dict(held.items)) != negated


def _drop_tests(stmts: list[gast.stmt], unread: set[str]) -> list[gast.stmt]:
    """The `t = "key" in d` assignments whose branches were decided and that nothing reads."""
    out = []
    for stmt in stmts:
        membership = _membership(stmt)
        if membership is not None and membership[0] in unread:
            continue
        for field in ("body", "orelse"):
            if getattr(stmt, field, None):
                setattr(stmt, field, _drop_tests(getattr(stmt, field), unread))
        out.append(stmt)
    return out
