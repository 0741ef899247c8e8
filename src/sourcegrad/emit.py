"""Print the emitted module as formatted Python, with comments, and compile it so that
tracebacks and debuggers show its lines.

Comments are statements `Expr(Constant(Comment(...)))` in the tree, which the printer (astor's
SourceGenerator, subclassed only for this) writes as `# ...` lines.
"""

from __future__ import annotations

import ast
import itertools
import linecache
from typing import Any

import astor
import gast
from astor.source_repr import split_lines

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


def to_source(tree: gast.AST) -> str:
    """gast -> ast -> formatted source text."""
    node = gast.gast_to_ast(tree)
    ast.fix_missing_locations(node)
    return astor.to_source(node, source_generator_class=_Printer, pretty_source=_wrapped)


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
