"""Shrink a failing program to a few lines that fail the same way (delta debugging on the AST).

Works on any module of the fuzzer's form (f, fuzz_args, WRT), generated or written by hand.
Edits are tried biggest first: delete chunks of statements (halves, quarters, ... single
ones), replace an `if`/`for`/`while` by its body, replace an expression by one of its operands,
and drop parameters of f that nothing reads any more. An edit is kept when the program still
gets the same outcome class (and, for errors, the same kind of error) from `run.check`, which
re-runs the probe: a reduced program is as valid a test as the original.
"""

from __future__ import annotations

import ast
import time
from collections.abc import Callable
from pathlib import Path

from .run import BREACH, CRASH, REFUSED, Outcome, check

PROTECTED = {"f", "fuzz_args", "WRT"}


def same_failure(outcome: Outcome, target: Outcome) -> bool:
    """The reduced program must fail the same way: same class; same error kind for errors."""
    if outcome.cls != target.cls:
        return False
    return target.cls not in (REFUSED, CRASH, BREACH) or outcome.kind == target.kind


def reduce(source: str, target: Outcome, workdir: Path, budget: float = 120.0,
           fast: bool = True, log: Callable[[str], None] | None = None) -> tuple[str, Outcome]:
    """The smallest program found within `budget` seconds that fails like `target`, and its
    outcome (the original when nothing smaller fails the same way)."""
    deadline = time.monotonic() + budget
    current, outcome = source, target
    normalized = ast.unparse(ast.parse(source))
    result = check(normalized, workdir, fast)
    if same_failure(result, target):
        current, outcome = normalized, result
    progress = True
    while progress and time.monotonic() < deadline:
        progress, index = False, 0
        while time.monotonic() < deadline:
            candidate = edited(current, index)
            if candidate is None:
                break
            if candidate and _size(candidate) < _size(current):
                result = check(candidate, workdir, fast)
                if same_failure(result, target):
                    current, outcome, progress = candidate, result, True
                    if log:
                        log(f"  reduced to {_size(current)} nodes")
                    continue  # the next edit now has this index
            index += 1
    return current, outcome


def _size(source: str) -> int:
    return sum(1 for _ in ast.walk(ast.parse(source)))


def edited(source: str, index: int) -> str | None:
    """The program with its `index`-th edit applied ("" when that edit does not apply), or
    None past the last edit. Edits are numbered on a fresh parse, biggest first."""
    tree = ast.parse(source)
    edits = _edits(tree)
    if index >= len(edits):
        return None
    if not edits[index]():
        return ""
    return ast.unparse(ast.fix_missing_locations(tree))


def _edits(tree: ast.Module) -> list[Callable[[], bool]]:
    """Closures that each apply one edit to `tree` (and say whether it applied)."""
    edits = []
    for owner, name in _statement_lists(tree):
        edits += _deletions(owner, name)
    for owner, name in _statement_lists(tree):
        for index, stmt in enumerate(getattr(owner, name)):
            edits += _unwrappings(owner, name, index, stmt)
    edits += _expression_edits(tree)
    edits += _parameter_removals(tree)
    edits += _wrt_removals(tree)
    edits += _default_removals(tree)
    return edits


def _statement_lists(tree: ast.Module) -> list[tuple[ast.AST, str]]:
    """(node, field) of every statement list, outermost first; the module's own list only
    for the definitions that are not f, fuzz_args or WRT."""
    lists = [(tree, "body")]
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "fuzz_args":
            continue
        for name in ("body", "orelse"):
            if node is not tree and isinstance(getattr(node, name, None), list) and \
                    getattr(node, name) and isinstance(getattr(node, name)[0], ast.stmt):
                lists.append((node, name))
    return [(o, n) for o, n in lists if not _inside_fuzz_args(tree, o)]


def _inside_fuzz_args(tree: ast.Module, node: ast.AST) -> bool:
    for top in tree.body:
        if isinstance(top, ast.FunctionDef) and top.name == "fuzz_args":
            return any(n is node for n in ast.walk(top))
    return False


def _protected(stmt: ast.stmt) -> bool:
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return True
    if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
        return stmt.name in PROTECTED
    return isinstance(stmt, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id in PROTECTED for t in stmt.targets)


def _deletions(owner: ast.AST, name: str) -> list[Callable[[], bool]]:
    """Delete chunks of a statement list: halves, then quarters, ..., then single ones."""
    n = len(getattr(owner, name))
    edits, size = [], max(n // 2, 1)
    while True:
        for start in range(0, n, size):
            end = min(start + size, n)
            edits.append(lambda s=start, e=end: _delete(owner, name, s, e))
        if size == 1:
            return edits
        size //= 2


def _delete(owner: ast.AST, name: str, start: int, end: int) -> bool:
    body = getattr(owner, name)
    kept = [s for i, s in enumerate(body) if not (start <= i < end) or _protected(s)]
    if len(kept) == len(body):
        return False
    if not kept and owner is not None and name == "body":
        kept = [ast.Pass()]
    setattr(owner, name, kept)
    return True


def _unwrappings(owner, name: str, index: int, stmt: ast.stmt) -> list[Callable[[], bool]]:
    """An `if` replaced by one arm, a loop by its body (a `for i in range(...)` by `i = 0` and
    its body)."""
    def splice(parts: list[ast.stmt]) -> bool:
        body = getattr(owner, name)
        setattr(owner, name, body[:index] + (parts or [ast.Pass()]) + body[index + 1:])
        return True

    if isinstance(stmt, ast.If):
        return [lambda: splice(stmt.body), lambda: splice(stmt.orelse)]
    if isinstance(stmt, ast.While):
        return [lambda: splice(stmt.body)]
    if isinstance(stmt, ast.For) and isinstance(stmt.target, ast.Name):
        first = ast.Assign(targets=[stmt.target], value=ast.Constant(0), lineno=0)
        return [lambda: splice([first] + stmt.body)]
    return []


def _expression_edits(tree: ast.Module) -> list[Callable[[], bool]]:
    """Replace an expression by one of its operands (`np.tanh(x)` by `x`, `a + b` by `a`, a
    conditional expression by an arm), outermost first."""
    edits = []
    for parent in ast.walk(tree):
        if _inside_fuzz_args(tree, parent) or _is_wrt(parent):
            continue
        for field, value in ast.iter_fields(parent):
            children = value if isinstance(value, list) else [value]
            for index, child in enumerate(children):
                if not isinstance(child, ast.expr):
                    continue
                in_list = isinstance(value, list)
                for part in _operands(child):
                    edits.append(lambda p=parent, f=field, i=index, r=part, lst=in_list:
                                 _replace(p, f, i, r, lst))
    return edits


def _is_wrt(node: ast.AST) -> bool:
    return isinstance(node, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == "WRT" for t in node.targets)


def _operands(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.IfExp):
        return [node.body, node.orelse]
    if isinstance(node, ast.BoolOp):
        return list(node.values)
    if isinstance(node, ast.Call):
        return [a for a in node.args if not isinstance(a, ast.Starred)]
    if isinstance(node, ast.Attribute) and node.attr in ("T", "real"):
        return [node.value]
    return []


def _replace(parent: ast.AST, field: str, index: int, part: ast.expr, in_list: bool) -> bool:
    if in_list:
        getattr(parent, field)[index] = part
    else:
        setattr(parent, field, part)
    return True


def _parameter_removals(tree: ast.Module) -> list[Callable[[], bool]]:
    """Drop a parameter of f that f no longer reads and that is not differentiated, with its
    argument in fuzz_args (and WRT's indices past it shifted)."""
    f = _top(tree, "f")
    if f is None:
        return []
    used = {n.id for n in ast.walk(f) if isinstance(n, ast.Name)}
    params = [a.arg for a in f.args.args]
    return [lambda p=p: _drop_parameter(tree, p) for p in params if p not in used]


def _top(tree: ast.Module, name: str):
    return next((s for s in tree.body if isinstance(s, ast.FunctionDef) and s.name == name),
                None)


def _drop_parameter(tree: ast.Module, name: str) -> bool:
    f, make = _top(tree, "f"), _top(tree, "fuzz_args")
    wrt = next(s for s in tree.body if _is_wrt(s))
    params = [a.arg for a in f.args.args]
    position = params.index(name)
    items = wrt.value.elts if isinstance(wrt.value, ast.Tuple) else [wrt.value]
    if any(i.value in (name, position) for i in items if isinstance(i, ast.Constant)):
        return False
    positional, keywords = make.body[-1].value.elts
    n_defaults = len(f.args.defaults)
    if position < len(positional.elts):
        del positional.elts[position]
    else:
        keys = [k.value for k in keywords.keys]
        if name in keys:
            at = keys.index(name)
            del keywords.keys[at], keywords.values[at]
    if position >= len(params) - n_defaults:
        del f.args.defaults[position - (len(params) - n_defaults)]
    del f.args.args[position]
    for item in items:
        if isinstance(item, ast.Constant) and isinstance(item.value, int) and \
                item.value > position:
            item.value -= 1
    return True


def _wrt_removals(tree: ast.Module) -> list[Callable[[], bool]]:
    """Differentiate with respect to fewer parameters (one of a tuple `WRT` dropped)."""
    wrt = next((s for s in tree.body if _is_wrt(s)), None)
    if wrt is None or not isinstance(wrt.value, ast.Tuple) or len(wrt.value.elts) < 2:
        return []

    def drop(i: int) -> bool:
        del wrt.value.elts[i]
        return True

    return [lambda i=i: drop(i) for i in range(len(wrt.value.elts))]


def _default_removals(tree: ast.Module) -> list[Callable[[], bool]]:
    """Drop a parameter with a default that a helper never reads (a call still passing it
    fails in plain Python, and the edit is rejected)."""
    edits = []
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef) or fn.name in PROTECTED:
            continue
        used = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)}
        args = fn.args
        first_default = len(args.args) - len(args.defaults)
        for i, a in enumerate(args.args):
            if i >= first_default and a.arg not in used:
                edits.append(lambda a=args, i=i, d=first_default: _drop_default(a, i, d))
        for i, a in enumerate(args.kwonlyargs):
            if a.arg not in used:
                edits.append(lambda a=args, i=i: _drop_kwonly(a, i))
    return edits


def _drop_default(args: ast.arguments, index: int, first_default: int) -> bool:
    del args.args[index], args.defaults[index - first_default]
    return True


def _drop_kwonly(args: ast.arguments, index: int) -> bool:
    del args.kwonlyargs[index], args.kw_defaults[index]
    return True
