"""Print the emitted module as formatted Python, with comments, and compile it so that
tracebacks and debuggers show its lines.

Comments are statements `Expr(Constant(Comment(...)))` in the tree, which the printer (astor's
SourceGenerator, subclassed only for this) writes as `# ...` lines.
"""

from __future__ import annotations

import ast
import itertools
import linecache
import math
from typing import Any

import astor
import gast
from astor.source_repr import split_lines

from .errors import InternalError

MAX_LINE = 99

_counter = itertools.count(1)


class Comment(str):
    """The text of a comment line; `blank_before` puts an empty line above it."""

    blank_before: bool = False


def comment(text: str, blank_before: bool = False) -> gast.stmt:
    marker = Comment(text)
    marker.blank_before = blank_before
    return gast.Expr(value=gast.Constant(value=marker, kind=None))


class _Printer(astor.code_gen.SourceGenerator):
    def visit_Expr(self, node: ast.Expr) -> None:
        value = node.value
        if isinstance(value, ast.Constant) and isinstance(value.value, Comment):
            if value.value.blank_before:
                self.result.append("\n")
            self.statement(node)
            self.write("# " + str(value.value))
            return
        super().visit_Expr(node)


class _SignedConstants(ast.NodeTransformer):
    """A negative number folded into one constant prints as `-0.77`, which binds looser than
    `**` (`-0.77 ** 2` is -(0.77 ** 2)): it becomes a unary minus, which the printer puts in
    parentheses where precedence needs them."""

    def visit_Constant(self, node: ast.Constant) -> ast.expr:
        value = node.value
        if type(value) in (int, float) and (value < 0 or math.copysign(1.0, value) < 0):
            return ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=-value))
        if type(value) is complex and value.real == 0 and math.copysign(1.0, value.imag) < 0:
            return ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=-value))
        return node


class _Folded(ast.NodeTransformer):
    """One spelling per number, to compare a tree with its printed source: `-c` is the
    constant -c, `(1e1000-1e1000)` is nan, `(1.0+2.0j)` is 1+2j; comments are dropped."""

    def visit_Expr(self, node: ast.Expr) -> ast.stmt | None:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, Comment):
            return None
        return self.generic_visit(node)

    def generic_visit(self, node: ast.AST) -> ast.AST:
        if hasattr(node, "ctx"):  # `y[0] = v` may hold `y` as a Store: printed the same
            node.ctx = ast.Load()
        return super().generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.expr:
        node = self.generic_visit(node)
        if isinstance(node.op, ast.USub) and _is_number(node.operand):
            return ast.Constant(value=-node.operand.value)
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        node = self.generic_visit(node)
        if not (_is_number(node.left) and _is_number(node.right)
                and isinstance(node.op, (ast.Add, ast.Sub))):
            return node
        left, right = node.left.value, node.right.value
        if type(right) is complex or type(left) is float and math.isinf(left):
            return ast.Constant(value=left + right if isinstance(node.op, ast.Add)
                                else left - right)
        return node


def _is_number(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float, complex)


def to_source(tree: gast.AST) -> str:
    """gast -> ast -> formatted source text, proven to parse back to the same tree."""
    node = _SignedConstants().visit(gast.gast_to_ast(tree))
    ast.fix_missing_locations(node)
    source = astor.to_source(node, source_generator_class=_Printer, pretty_source=_wrapped)
    _check_round_trip(node, source)
    return source


def _check_round_trip(node: ast.AST, source: str) -> None:
    """The printed source must mean what the tree means: a printer that drops parentheses
    changes the value, silently. Raise at once instead."""
    printed = ast.dump(_Folded().visit(ast.parse(source)))
    expected = _Folded().visit(node)  # a tree of its own, made for printing
    if isinstance(expected, ast.expr):  # an expression printed on its own
        expected = ast.Module(body=[ast.Expr(value=expected)], type_ignores=[])
    elif isinstance(expected, ast.stmt):
        expected = ast.Module(body=[expected], type_ignores=[])
    if ast.dump(expected) != printed:
        raise InternalError(f"the emitted source does not parse back to the tree it was "
                            f"printed from (a printing bug):\n{source}")


def _wrapped(source: str) -> str:
    """Long lines broken where astor can, at the project's width (100), not PEP 8's 79."""
    return "".join(split_lines(source, maxline=MAX_LINE))


def compile_module(source: str, label: str, namespace: dict[str, Any]) -> dict[str, Any]:
    """Execute `source` as a module under a filename registered in linecache, so a traceback
    through the derivative shows its lines and pdb can step through it."""
    filename = f"<sourcegrad {label} #{next(_counter)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile(source, filename, "exec")
    exec(code, namespace)
    return namespace


def docstring(text: str) -> gast.stmt:
    return gast.Expr(value=gast.Constant(value=text, kind=None))
