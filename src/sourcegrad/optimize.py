"""Forward copies of adjoints, so the derivative reads as a person would write it; drop a copy
of an array that was copied the statement before.

Rules hand adjoints along unchanged where the math is the identity (`d[x] += d[z]` for `z = x + y`),
which leaves copies such as `dtotal = dloss` followed by uses of `dtotal`. This pass replaces
later uses of such a copy by the original while neither is reassigned, and deletes the copy when
nothing reads it any more. It only touches adjoint names, never the user's variables.
Example: `dtotal = dloss; dx = dtotal * y` becomes `dx = dloss * y`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import gast

from .gastutil import copy_replacing, statement_lists

_BLOCKS = (gast.If, gast.For, gast.While)


def _load_counts(node: gast.AST) -> Counter:
    """How often each name is read in `node`: kept up to date as loads are substituted, so
    whether a copy is still read costs no walk of the whole function per copy."""
    return Counter(n.id for n in gast.walk(node)
                   if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load))


def _stores(node: gast.AST, names: set[str]) -> bool:
    return any(isinstance(n, gast.Name) and n.id in names and isinstance(n.ctx, gast.Store)
               for n in gast.walk(node))


class _Substitute(gast.NodeTransformer):
    def __init__(self, old: str, new: str, loads: Counter):
        self.old, self.new, self.loads = old, new, loads

    def visit_Name(self, node: gast.Name) -> gast.Name:
        if node.id == self.old and isinstance(node.ctx, gast.Load):
            node.id = self.new
            self.loads[self.old] -= 1
            self.loads[self.new] += 1
        return node


def _rewrite_after(stmts: list[gast.stmt], start: int, old: str, new: str,
                   loads: Counter) -> bool:
    """Replace loads of `old` by `new` in stmts[start:] until either name is rebound. True when
    `old` itself is rebound first: then the copy's value is never read again."""
    substitute = _Substitute(old, new, loads)
    for stmt in stmts[start:]:
        if isinstance(stmt, _BLOCKS):
            if _stores(stmt, {old, new}):
                return False
            substitute.visit(stmt)
            continue
        mutated = _mutated_root(stmt)
        if mutated is not None:
            if mutated in (old, new):
                return False  # writes into the shared buffer: the names are no longer equal
            substitute.visit(stmt)
            continue
        if isinstance(stmt, gast.Assign):
            substitute.visit(stmt.value)
            if _stores(stmt, {old}):
                return True
            if _stores(stmt, {new}):
                return False
        else:
            substitute.visit(stmt)
    return False


def _mutated_root(stmt: gast.stmt) -> str | None:
    """The name whose buffer `dx += g`, `dx[i] += g` or `np.add.at(dx, ...)` writes into."""
    if isinstance(stmt, gast.AugAssign):
        target = stmt.target
    elif isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call) and stmt.value.args:
        target = stmt.value.args[0]
    else:
        return None
    while isinstance(target, gast.Subscript):
        target = target.value
    return target.id if isinstance(target, gast.Name) else ""


def _copy_of(stmt: gast.stmt, is_adjoint: Callable[[str], bool]) -> tuple[str, str] | None:
    if (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Name)
            and is_adjoint(stmt.targets[0].id) and stmt.targets[0].id != stmt.value.id):
        return stmt.targets[0].id, stmt.value.id
    return None


def _propagate(stmts: list[gast.stmt], loads: Counter,
               is_adjoint: Callable[[str], bool]) -> list[gast.stmt]:
    for stmt in stmts:
        for field in ("body", "orelse"):
            inner = getattr(stmt, field, None)
            if isinstance(stmt, _BLOCKS) and inner:
                setattr(stmt, field, _propagate(inner, loads, is_adjoint))
    kept = []
    for index, stmt in enumerate(stmts):
        copy = _copy_of(stmt, is_adjoint)
        if copy is None:
            kept.append(stmt)
            continue
        old, new = copy
        overwritten = _rewrite_after(stmts, index + 1, old, new, loads)
        if not overwritten and loads[old] > 0:
            kept.append(stmt)
        else:
            loads[new] -= 1  # the copy `old = new` is dropped, and its read of new
    return kept


def propagate_copies(function: gast.FunctionDef,
                     is_adjoint: Callable[[str], bool]) -> gast.FunctionDef:
    function.body = _without_empty_blocks(_propagate(function.body, _load_counts(function),
                                                     is_adjoint))
    return function


def _is_empty(stmts: list[gast.stmt]) -> bool:
    """Only comments (and `pass`): what is left of an adjoint arm whose copies were dropped."""
    return all(isinstance(s, gast.Pass) or isinstance(s, gast.Expr) and isinstance(
        s.value, gast.Constant) and isinstance(s.value.value, str) for s in stmts)


def _without_empty_blocks(stmts: list[gast.stmt]) -> list[gast.stmt]:
    """Drop the `if` arms and adjoint loops that dropping copies emptied (a block of
    comments alone would not even parse). Their tests and iterations are names and ranges,
    with nothing to run for their own sake."""
    kept: list[gast.stmt] = []
    for stmt in stmts:
        if isinstance(stmt, _BLOCKS) and not (stmt.body and all(  # not the user's `pass`
                isinstance(s, gast.Pass) for s in stmt.body)):
            stmt.body = _without_empty_blocks(stmt.body)
            stmt.orelse = _without_empty_blocks(stmt.orelse)
            if _is_empty(stmt.orelse):
                stmt.orelse = []
            if isinstance(stmt, gast.If) and _is_empty(stmt.body) and stmt.orelse:
                stmt.test = gast.UnaryOp(op=gast.Not(), operand=stmt.test)
                stmt.body, stmt.orelse = stmt.orelse, []
            if _is_empty(stmt.body) and not isinstance(stmt, gast.While):
                continue
        kept.append(stmt)
    return kept


def self_copy(stmt: gast.stmt) -> str | None:
    """`x` for `x = x.copy()`."""
    if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
        call = stmt.value
        if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and \
                call.func.attr == "copy" and not call.args and isinstance(
                    call.func.value, gast.Name) and call.func.value.id == stmt.targets[0].id:
            return stmt.targets[0].id
    return None


def drop_repeated_copies(stmts: list[gast.stmt]) -> list[gast.stmt]:
    """`x = x.copy(); x = x.copy()` (the argument copied on entry, then by the user's own
    `x = x.copy()`): the second copy owns nothing the first did not."""
    kept: list[gast.stmt] = []
    for stmt in stmts:
        for field in ("body", "orelse"):
            inner = getattr(stmt, field, None)
            if isinstance(stmt, _BLOCKS) and inner:
                setattr(stmt, field, drop_repeated_copies(inner))
        name = self_copy(stmt)
        if name is not None and kept and self_copy(kept[-1]) == name:
            continue
        kept.append(stmt)
    return kept


def _mentions(node: gast.AST, name: str) -> bool:
    return any(isinstance(n, gast.Name) and n.id == name for n in gast.walk(node))


def _dead_alias(stmts: list[gast.stmt], index: int) -> bool:
    """`t = v` at `index` is overwritten by a later `t = ...` of the same list before anything
    mentions `t`."""
    stmt = stmts[index]
    if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Name)):
        return False
    name = stmt.targets[0].id
    for later in stmts[index + 1:]:
        if not _mentions(later, name):
            continue
        return (isinstance(later, gast.Assign) and len(later.targets) == 1
                and isinstance(later.targets[0], gast.Name) and later.targets[0].id == name
                and not _mentions(later.value, name))
    return False


def drop_dead_aliases(tree: gast.FunctionDef) -> gast.FunctionDef:
    """A copy of `tree` without the bindings `t = v` nothing reads (`y = x` followed again
    after `x` changed, `p_argument = p` of a function that changes `p`), or `tree` itself
    when there are none. Their adjoint would add a zero. Runs after the re-bindings that
    follow a change were settled (analysis/alias_rebinds.py): those left all run."""
    dead = {id(block[i]): [] for block in statement_lists(tree) for i in range(len(block))
            if _dead_alias(block, i)}
    return copy_replacing(tree, dead) if dead else tree
