"""Fold return, break and continue into structured control flow with one exit.

Requires: ANF (returns return atoms), loops.
Guarantees: the function ends with its only `return`; no `continue` remains; a `break` is only
ever the last statement of a branch or of a loop body, and the statements it skips live in the
other branch. The differentiator can then read off which statements ran from the branches alone.
Example: `if x > 0: return x` / `y = 2 * x` / `return y` becomes
`if x_gt_0: result = x` / `else: y = 2 * x; result = y` / `return result`.
"""

from __future__ import annotations

import gast

from ..gastutil import assign, clone, const, load, with_origin
from ..names import Namer

_JUMPS = (gast.Return, gast.Break, gast.Continue)


def _exits(stmts: list[gast.stmt]) -> bool:
    """Whether some path through `stmts` leaves by a jump (after absorption: at the ends)."""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, _JUMPS):
        return True
    return isinstance(last, gast.If) and (_exits(last.body) or _exits(last.orelse))


def _terminates(stmts: list[gast.stmt]) -> bool:
    """Whether every path through `stmts` leaves by a jump."""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, _JUMPS):
        return True
    return isinstance(last, gast.If) and _terminates(last.body) and _terminates(last.orelse)


def _append_rest(stmts: list[gast.stmt], rest: list[gast.stmt]) -> list[gast.stmt]:
    """Put `rest` at the end of every path through `stmts` that does not jump away."""
    if not stmts:
        return [clone(s) for s in rest]
    last = stmts[-1]
    if isinstance(last, _JUMPS):
        return stmts
    if isinstance(last, gast.If) and _exits([last]):
        last.body = _append_rest(last.body, rest)
        last.orelse = _append_rest(last.orelse, rest)
        return stmts
    return stmts + [clone(s) for s in rest]


def _absorb(stmts: list[gast.stmt]) -> list[gast.stmt]:
    """Move the statements after a jumping branch into the branches that fall through."""
    out: list[gast.stmt] = []
    for k, stmt in enumerate(stmts):
        if isinstance(stmt, _JUMPS):
            out.append(stmt)
            return out  # what follows a jump never runs
        if isinstance(stmt, (gast.For, gast.While)):
            stmt.body = _strip_continue(_absorb(stmt.body))
        if isinstance(stmt, gast.If):
            stmt.body, stmt.orelse = _absorb(stmt.body), _absorb(stmt.orelse)
            if _exits([stmt]):
                rest = _absorb(stmts[k + 1:])
                stmt.body = _append_rest(stmt.body, rest)
                stmt.orelse = _append_rest(stmt.orelse, rest)
                out.append(stmt)
                return out
        out.append(stmt)
    return out


def _strip_continue(stmts: list[gast.stmt]) -> list[gast.stmt]:
    """A `continue` at the end of a path through a loop body does nothing: drop it."""
    if not stmts:
        return stmts
    last = stmts[-1]
    if isinstance(last, gast.Continue):
        return stmts[:-1]
    if isinstance(last, gast.If):
        last.body, last.orelse = _strip_continue(last.body), _strip_continue(last.orelse)
    return stmts


class _LoopReturns(gast.NodeTransformer):
    """`return v` inside a loop becomes `result = v; returned = True; break`."""

    def __init__(self, result: str, flag: str):
        self.result, self.flag = result, flag
        self.used = False
        self.depth = 0

    def _loop(self, node):
        self.depth += 1
        node.body = self._body(node.body)
        self.depth -= 1
        return node

    visit_For = visit_While = _loop

    def _body(self, stmts: list[gast.stmt]) -> list[gast.stmt]:
        out = []
        for stmt in stmts:
            had_return = isinstance(stmt, (gast.For, gast.While)) and any(
                isinstance(n, gast.Return) for n in gast.walk(stmt))
            stmt = self.visit(stmt)
            out.extend(stmt if isinstance(stmt, list) else [stmt])
            if had_return:
                check = gast.If(test=load(self.flag), body=[gast.Return(value=load(self.result))],
                                orelse=[])
                out.append(self.visit(with_origin(check, stmt)))
        return out

    def visit_If(self, node: gast.If) -> gast.If:
        node.body, node.orelse = self._body(node.body), self._body(node.orelse)
        return node

    def visit_Return(self, node: gast.Return):
        if self.depth == 0:
            return node
        self.used = True
        return [assign(self.result, node.value, node),
                assign(self.flag, const(True), node),
                with_origin(gast.Break(), node)]


def _single_exit(body: list[gast.stmt], result: str) -> list[gast.stmt]:
    """Every `return v` becomes `result = v`, with one `return result` at the end."""
    returns = [n for s in body for n in gast.walk(s) if isinstance(n, gast.Return)]
    if len(returns) == 1 and body and body[-1] is returns[0]:
        return body
    if not _terminates(body):
        body = _append_rest(body, [gast.Return(value=const(None))])
    body = _returns_to_assign(body, result)
    body.append(with_origin(gast.Return(value=load(result)), returns[0] if returns else None))
    return body


def _returns_to_assign(stmts: list[gast.stmt], result: str) -> list[gast.stmt]:
    out = []
    for stmt in stmts:
        if isinstance(stmt, gast.Return):
            if isinstance(stmt.value, gast.Name) and stmt.value.id == result:
                continue  # `return result` after a loop that set it: nothing to do
            stmt = assign(result, stmt.value, stmt)
        elif isinstance(stmt, gast.If):
            stmt.body = _returns_to_assign(stmt.body, result)
            stmt.orelse = _returns_to_assign(stmt.orelse, result)
        out.append(stmt)
    return out


class _FillEmptyBodies(gast.NodeTransformer):
    """An if whose body lost its last statement (a `continue`) keeps a `pass`."""

    def visit_If(self, node: gast.If) -> gast.If:
        self.generic_visit(node)
        if not node.body:
            node.body = [with_origin(gast.Pass(), node)]
        return node


def lower_jumps(tree: gast.FunctionDef, namer: Namer) -> gast.FunctionDef:
    result, flag = namer.fresh("result"), namer.fresh("returned")
    loop_returns = _LoopReturns(result, flag)
    body = loop_returns._body(tree.body)
    if loop_returns.used:
        body.insert(0, assign(flag, const(False), tree))
    tree.body = _single_exit(_absorb(body), result)
    return _FillEmptyBodies().visit(tree)
