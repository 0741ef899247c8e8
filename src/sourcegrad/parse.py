"""Parse a Python function into a gast tree and resolve the names it uses.

Guarantees: the returned `FunctionDef` has no decorators; every node that has a position carries
`node.origin`, an `Origin` with the absolute file, line and column in the user's file. The
`Namespace` tells later passes what a global or closure name refers to (a NumPy function, a user
function, a constant), without the passes importing anything themselves.
"""

from __future__ import annotations

import builtins
import functools
import inspect
import os
import sys
import sysconfig
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gast

from .errors import Origin, SourceUnavailableError

_MISSING = object()
_PACKAGE_DIRS = tuple(str(Path(sysconfig.get_paths()[key]).resolve()) + os.sep
                      for key in ("purelib", "platlib"))  # site-packages
_LIBRARY_DIRS = tuple(str(Path(sysconfig.get_paths()[key]).resolve()) + os.sep
                      for key in ("stdlib", "platstdlib")) + _PACKAGE_DIRS


def is_library_function(fn: Any) -> bool:
    """A function of Python's standard library or of an installed package (not the user's
    project): its source is not the user's to differentiate, it needs a rule."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return False
    return str(Path(code.co_filename).resolve()).startswith(_LIBRARY_DIRS)


@functools.lru_cache(maxsize=1024)
def is_package_class(cls: type) -> bool:
    """A class of an installed package, or one deriving from such a class (a scipy.sparse
    matrix, a torch module): its instances are that package's objects, whose operations are its
    own, not data of the user's in attributes. The standard library's plain objects
    (`types.SimpleNamespace`) are not package classes."""
    for klass in cls.__mro__:
        module = sys.modules.get(klass.__module__)
        file = getattr(module, "__file__", None)
        if file and str(Path(file).resolve()).startswith(_PACKAGE_DIRS):
            return True
    return False


def is_user_class(cls: Any) -> bool:
    """A class the user wrote (its module is a file outside the standard library and the
    installed packages): its methods have source sourcegrad reads."""
    if not inspect.isclass(cls):
        return False
    file = getattr(sys.modules.get(cls.__module__), "__file__", None)
    return bool(file) and not str(Path(file).resolve()).startswith(_LIBRARY_DIRS)


@dataclass
class Namespace:
    """The names a function can see besides its locals: closure cells, globals, builtins."""

    globals: dict[str, Any]
    closure: dict[str, Any] = field(default_factory=dict)

    def lookup(self, name: str) -> Any:
        """The object `name` refers to, or `_MISSING` when it names nothing."""
        if name in self.closure:
            return self.closure[name]
        if name in self.globals:
            return self.globals[name]
        return getattr(builtins, name, _MISSING)

    def resolve(self, node: gast.expr, local_names: set[str]) -> Any:
        """The object a `Name` or `a.b.c` chain refers to, or `_MISSING` (locals, unknowns)."""
        if isinstance(node, gast.Name):
            return _MISSING if node.id in local_names else self.lookup(node.id)
        if isinstance(node, gast.Attribute):
            owner = self.resolve(node.value, local_names)
            if owner is _MISSING or not inspect.ismodule(owner):
                return _MISSING
            return getattr(owner, node.attr, _MISSING)
        return _MISSING


def is_missing(obj: Any) -> bool:
    return obj is _MISSING


@dataclass
class ParsedFunction:
    """A user function as sourcegrad sees it: its tree, where it lives, what it can see."""

    fn: Any
    tree: gast.FunctionDef
    filename: str
    namespace: Namespace

    @property
    def name(self) -> str:
        return self.tree.name

    @property
    def origin(self) -> Origin:
        return self.tree.origin


def code_name(fn: Any) -> str:
    """The qualified name of the code `fn` runs: a decorator's wrapper is `deco.<locals>.wrapper`
    even when `functools.wraps` gave it the name of the function it wraps."""
    code = fn.__code__
    if hasattr(code, "co_qualname"):  # Python 3.11+
        return code.co_qualname
    return code.co_name if hasattr(fn, "__wrapped__") else fn.__qualname__


def _source_of(fn: Any) -> tuple[str, int, str]:
    """(source lines, first line number, filename), or a clear error saying why not.

    The source is that of `fn.__code__`, the code a call of `fn` runs: `inspect.getsource(fn)`
    follows `__wrapped__` and would give, for a function a decorator wrapped with
    `functools.wraps`, the source of the function inside instead of the wrapper's."""
    what = getattr(fn, "__qualname__", repr(fn))
    if not inspect.isfunction(fn):
        raise SourceUnavailableError(
            f"cannot differentiate {what}: it is not a Python function with source code "
            f"(it is {type(fn).__name__}). sourcegrad transforms the source of functions "
            "written in Python; for compiled code, register a derivative rule with "
            "@sourcegrad.adjoint."
        )
    try:
        lines, first = inspect.getsourcelines(fn.__code__)
        filename = inspect.getsourcefile(fn.__code__) or fn.__code__.co_filename
    except (OSError, TypeError) as exc:
        raise SourceUnavailableError(
            f"cannot read the source of {what} (defined in {fn.__code__.co_filename}): {exc}.\n"
            "sourcegrad transforms source code, so the function must live in a file: "
            "define it in a .py module (or a notebook cell), not in an interactive prompt "
            "or through exec/eval."
        ) from None
    return "".join(lines), first, filename


def _attach_origins(tree: gast.AST, first_line: int, indent: int, filename: str, func: str):
    for node in gast.walk(tree):
        if getattr(node, "lineno", None) is None:
            continue
        node.lineno += first_line - 1
        if getattr(node, "end_lineno", None) is not None:
            node.end_lineno += first_line - 1
        node.col_offset += indent
        end_col = getattr(node, "end_col_offset", None)
        if end_col is not None and node.end_lineno == node.lineno:
            end_col += indent
        else:
            end_col = None
        node.origin = Origin(filename, node.lineno, node.col_offset, end_col, func)


def parse_function(fn: Any) -> ParsedFunction:
    """Read `fn`'s source and return its tree with origins, plus its namespace."""
    source, first_line, filename = _source_of(fn)
    dedented = textwrap.dedent(source)
    indent = len(source.splitlines()[0]) - len(dedented.splitlines()[0])
    module = gast.parse(dedented)
    tree = module.body[0]
    if isinstance(tree, gast.Assign) and isinstance(tree.value, gast.Lambda):
        raise SourceUnavailableError(
            f"cannot differentiate the lambda {fn.__qualname__} defined at {filename}:"
            f"{first_line}: write it as a def function."
        )
    if not isinstance(tree, (gast.FunctionDef, gast.AsyncFunctionDef)):
        raise SourceUnavailableError(
            f"the source of {fn.__qualname__} at {filename}:{first_line} is not a def "
            "statement (a lambda?): write the function with def."
        )
    tree.decorator_list = []
    _attach_origins(tree, first_line, indent, filename, code_name(fn))
    closure = {}
    if fn.__closure__:
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__, strict=True):
            try:
                closure[name] = cell.cell_contents
            except ValueError:
                continue
    return ParsedFunction(fn, tree, filename, Namespace(fn.__globals__, closure))
