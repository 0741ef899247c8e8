"""Which variables may be bound before each statement: a forward pass over the canonical tree.

The differentiator asks it two things: whether a reassigned variable had an old value worth
saving, and whether an adjoint is worth keeping after a branch (a variable first bound inside a
branch has no adjoint before it).
"""

from __future__ import annotations

import gast

from ..gastutil import loaded_names, parameter_names, target_names


class Definedness:
    """`maybe[id(stmt)]`: names possibly bound before `stmt`; `sure[id(stmt)]`: surely bound."""

    def __init__(self, tree: gast.FunctionDef):
        self.maybe: dict[int, frozenset[str]] = {}
        self.sure: dict[int, frozenset[str]] = {}
        params = set(parameter_names(tree.args))
        self._block(tree.body, set(params), set(params))

    def _block(self, stmts, maybe: set[str], sure: set[str]) -> tuple[set[str], set[str]]:
        for stmt in stmts:
            self.maybe[id(stmt)] = frozenset(maybe)
            self.sure[id(stmt)] = frozenset(sure)
            if isinstance(stmt, gast.Assign):
                names = {n for t in stmt.targets for n in target_names(t)}
                maybe, sure = maybe | names, sure | names
            elif isinstance(stmt, gast.If):
                m1, s1 = self._block(stmt.body, set(maybe), set(sure))
                m2, s2 = self._block(stmt.orelse, set(maybe), set(sure))
                maybe, sure = m1 | m2, s1 & s2
            elif isinstance(stmt, (gast.For, gast.While)):
                bound = set(target_names(stmt.target)) if isinstance(stmt, gast.For) else set()
                loop_maybe = maybe | bound
                # twice: the second pass sees what the first iteration bound
                m1, _ = self._block(stmt.body, set(loop_maybe), sure | bound)
                m2, _ = self._block(stmt.body, loop_maybe | m1, sure | bound)
                maybe = maybe | m2
        return maybe, sure


def upward_exposed(stmts: list[gast.stmt], bound: set[str] | None = None) -> set[str]:
    """Names a block may read before it binds them: the values that flow into it."""
    bound = set() if bound is None else set(bound)
    exposed: set[str] = set()
    for stmt in stmts:
        if isinstance(stmt, gast.If):
            exposed |= (loaded_names(stmt.test) - bound) | upward_exposed(stmt.body, bound)
            exposed |= upward_exposed(stmt.orelse, bound)
            bound |= _surely_bound(stmt.body) & _surely_bound(stmt.orelse)
        elif isinstance(stmt, (gast.For, gast.While)):
            header = stmt.iter if isinstance(stmt, gast.For) else stmt.test
            inner = bound | (set(target_names(stmt.target)) if isinstance(stmt, gast.For)
                             else set())
            exposed |= (loaded_names(header) - bound) | upward_exposed(stmt.body, inner)
        else:
            exposed |= loaded_names(stmt) - bound
            if isinstance(stmt, gast.Assign):
                bound |= set(target_names(stmt.targets[0]))
    return exposed


def _surely_bound(stmts: list[gast.stmt]) -> set[str]:
    names: set[str] = set()
    for stmt in stmts:
        if isinstance(stmt, gast.Assign):
            names |= set(target_names(stmt.targets[0]))
        elif isinstance(stmt, gast.If):
            names |= _surely_bound(stmt.body) & _surely_bound(stmt.orelse)
    return names
