"""Activity analysis: which variables need an adjoint.

A variable is *varied* when it depends differentiably on an active input, *useful* when the
output depends on it, and *active* when both. Only active variables get adjoint code. The
analysis is flow-insensitive (one fact per name), which is conservative and cheap.
Requires: the canonical form (ANF, jumps). Example: in `n = len(x); y = x * n`, `n` is not
varied (len has no gradient), so `y`'s adjoint contributes only to `x`.
"""

from __future__ import annotations

from dataclasses import dataclass

import gast

from ..gastutil import loaded_names, target_names
from .calls import CONSTANT_ATTRIBUTES, CallClassifier


def is_append(stmt: gast.stmt, local_names: set[str]) -> bool:
    """`xs.append(v)` on a list the function holds."""
    value = getattr(stmt, "value", None)
    return (isinstance(stmt, gast.Expr) and isinstance(value, gast.Call)
            and isinstance(value.func, gast.Attribute) and value.func.attr == "append"
            and isinstance(value.func.value, gast.Name) and value.func.value.id in local_names
            and len(value.args) == 1 and not value.keywords)


@dataclass(frozen=True)
class Activity:
    varied: frozenset[str]
    useful: frozenset[str]

    def is_active(self, name: str) -> bool:
        return name in self.varied and name in self.useful


def _statements(stmts: list[gast.stmt]):
    for stmt in stmts:
        yield stmt
        for field in ("body", "orelse"):
            yield from _statements(getattr(stmt, field, []) or [])


def _differentiable_operands(value: gast.expr, calls: CallClassifier) -> set[str]:
    """Names whose variation can change `value` differentiably."""
    if isinstance(value, gast.Name):
        return {value.id}
    if isinstance(value, (gast.Constant, gast.Compare)):
        return set()
    if isinstance(value, gast.UnaryOp):
        return set() if isinstance(value.op, gast.Not) else loaded_names(value)
    if isinstance(value, gast.BinOp):
        if isinstance(value.op, (gast.FloorDiv, gast.BitAnd, gast.BitOr,
                                 gast.BitXor, gast.LShift, gast.RShift)):
            return set()
        return loaded_names(value)
    if isinstance(value, gast.BoolOp):
        return set()
    if isinstance(value, gast.Attribute):
        return set() if value.attr in CONSTANT_ATTRIBUTES else loaded_names(value.value)
    if isinstance(value, gast.Subscript):
        return loaded_names(value.value)
    if isinstance(value, gast.Call):
        if calls.classify(value).kind == "zero":
            return set()
        names = set()
        for arg in list(value.args) + [kw.value for kw in value.keywords]:
            names |= loaded_names(arg)
        return names | loaded_names(value.func)  # `obj.method(x)`, `make(w)(x)`
    return loaded_names(value)


def analyze_activity(tree: gast.FunctionDef, active_params: set[str],
                     calls: CallClassifier, output: set[str]) -> Activity:
    """Varied names by forward propagation, useful names by backward, to a fixed point."""
    edges: list[tuple[list[str], set[str]]] = []
    for stmt in _statements(tree.body):
        if is_append(stmt, calls.local_names):  # `xs.append(v)`: xs holds v now
            xs = stmt.value.func.value.id
            edges.append(([xs], loaded_names(stmt.value.args[0]) | {xs}))
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            operands = _differentiable_operands(stmt.value, calls)
            if isinstance(target, gast.Subscript):  # `y[i] = v`: y keeps its other values
                edges.append(([target.value.id], operands | {target.value.id}))
                continue
            targets = [n for t in stmt.targets for n in target_names(t)]
            edges.append((targets, operands))
    varied = set(active_params)
    useful = set(output)
    changed = True
    while changed:
        changed = False
        for targets, operands in edges:
            if operands & varied and not set(targets) <= varied:
                varied.update(targets)
                changed = True
            if set(targets) & useful and not operands <= useful:
                useful |= operands
                changed = True
    return Activity(frozenset(varied), frozenset(useful))
