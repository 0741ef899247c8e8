"""Parse a Python function into a gast tree and resolve the names it uses.

Guarantees: the returned `FunctionDef` has no decorators; every node that has a position carries
`node.origin`, an `Origin` with the absolute file, line and column in the user's file. The
`Namespace` tells later passes what a global or closure name refers to (a NumPy function, a user
function, a constant), without the passes importing anything themselves.
"""

from __future__ import annotations

import builtins
import copy
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


_USER_PACKAGES: set[str] = set()  # installed packages the user said are theirs


def transform_package(name: str) -> None:
    """Take the installed package `name` (and its subpackages) for the user's own code:
    sourcegrad transforms the source of its functions and methods, as for files of the
    user's project, instead of asking for rules. For a package installed without `-e`,
    which would otherwise count as a library."""
    if not isinstance(name, str) or not all(part.isidentifier() for part in name.split(".")):
        raise TypeError(f"transform_package takes a package name such as 'mymodels', not "
                        f"{name!r}")
    from .rules.templates import registry_changed  # noqa: PLC0415 - rules import late

    _USER_PACKAGES.add(name)
    is_package_class.cache_clear()
    registry_changed()  # derivatives made before took its functions for a library's


def _is_users_package(module: str | None) -> bool:
    return bool(module) and any(module == p or module.startswith(p + ".")
                                for p in _USER_PACKAGES)


def is_library_function(fn: Any) -> bool:
    """A function of Python's standard library or of an installed package (not the user's
    project, nor a package the user declared theirs with `transform_package`): its source is
    not the user's to differentiate, it needs a rule."""
    code = getattr(fn, "__code__", None)
    if code is None or _is_users_package(getattr(fn, "__module__", None)):
        return False
    return str(Path(code.co_filename).resolve()).startswith(_LIBRARY_DIRS)


@functools.lru_cache(maxsize=1024)
def is_package_class(cls: type) -> bool:
    """A class of an installed package, or one deriving from such a class (a scipy.sparse
    matrix, a torch module): its instances are that package's objects, whose operations are its
    own, not data of the user's in attributes. The standard library's plain objects
    (`types.SimpleNamespace`) are not package classes."""
    for klass in cls.__mro__:
        if _is_users_package(klass.__module__):
            continue
        module = sys.modules.get(klass.__module__)
        file = getattr(module, "__file__", None)
        if file and str(Path(file).resolve()).startswith(_PACKAGE_DIRS):
            return True
    return False


def is_user_class(cls: Any) -> bool:
    """A class the user wrote (its module is a file outside the standard library and the
    installed packages): its methods have source sourcegrad reads."""
    if not inspect.isclass(cls) or cls.__module__.partition(".")[0] == "sourcegrad":
        return False  # sourcegrad's own (a derivative), wherever it is installed
    if _is_users_package(cls.__module__):
        return True
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
    if inspect.isfunction(fn) and fn.__code__.co_name == "<lambda>":
        what = f"the lambda of line {fn.__code__.co_firstlineno}"
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
        raise _no_source_error(what, fn.__code__.co_filename, exc) from None
    return "".join(lines), first, filename


def _no_source_error(what: str, filename: str, exc: Exception) -> SourceUnavailableError:
    """Why the source of `what` cannot be read, and what works instead."""
    if filename.startswith("<") and filename.endswith(">"):
        return SourceUnavailableError(
            f"Python kept no source for {what}: it was compiled from a string named "
            f"{filename} (exec or eval of a string, `python -c`, or a prompt before Python "
            "3.13), and sourcegrad transforms source code.\n"
            "Define it in a .py file, a notebook cell or the Python 3.13+ prompt (which keep "
            "their source); for code you compile yourself, register its source first: "
            "linecache.cache[name] = (len(src), None, src.splitlines(True), name), then "
            "exec(compile(src, name, 'exec')).")
    return SourceUnavailableError(
        f"cannot read the source of {what} from {filename}: {exc}.\n"
        "sourcegrad transforms source code: the file the function was loaded from must still "
        "be there (a .pyc alone is not enough).")


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
    if inspect.isfunction(fn) and fn.__code__.co_name == "<lambda>":
        tree, filename = _lambda_tree(fn)
    else:
        tree, filename = _def_tree(fn)
    closure = {}
    if fn.__closure__:
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__, strict=True):
            try:
                closure[name] = cell.cell_contents
            except ValueError:
                continue
    return ParsedFunction(fn, tree, filename, Namespace(fn.__globals__, closure))


def _def_tree(fn: Any) -> tuple[gast.FunctionDef, str]:
    source, first_line, filename = _source_of(fn)
    dedented = textwrap.dedent(source)
    indent = len(source.splitlines()[0]) - len(dedented.splitlines()[0])
    module = gast.parse(dedented)
    tree = module.body[0]
    if not isinstance(tree, (gast.FunctionDef, gast.AsyncFunctionDef)):
        raise SourceUnavailableError(
            f"the source of {fn.__qualname__} at {filename}:{first_line} is not a def "
            "statement: sourcegrad cannot tell which function it is.")
    tree.decorator_list = []
    _attach_origins(tree, first_line, indent, filename, code_name(fn))
    return tree, filename


def _lambda_tree(fn: Any) -> tuple[gast.FunctionDef, str]:
    """A lambda as the `def` it stands for, `def f(x): return body`, named after what the
    user bound it to (`f = lambda x: ...`, `{"f": lambda x: ...}`, `key=lambda ...`).

    Python keeps only a lambda's first line. The lambda is found in its file, parsed whole,
    among the lambdas starting on that line: the one whose body spans the positions of the
    code's instructions, with the code's parameters (several on one line are told apart)."""
    code = fn.__code__
    filename = code.co_filename
    _source_of(fn)  # the clear error when Python keeps no source for it
    module = _parsed_file(filename, fn.__globals__)
    spots = [(line, col) for line, _, col, end in code.co_positions()
             if line is not None and col is not None and (col, end) != (0, 0)]
    params = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount
                              + bool(code.co_flags & inspect.CO_VARARGS)
                              + bool(code.co_flags & inspect.CO_VARKEYWORDS)]
    found = [(node, owner) for node, owner in _lambdas(module)
             if node.lineno == code.co_firstlineno and _within(node.body, spots)
             and tuple(a.id for a in _lambda_params(node.args)) == params]
    if not found:
        raise SourceUnavailableError(
            f"cannot find the lambda {fn.__qualname__} in {filename} at line "
            f"{code.co_firstlineno} (was the file changed since it was imported?): "
            "write the function with def.")
    node, owner = min(found, key=lambda pair: _span(pair[0].body))
    name = _lambda_name(node, owner)
    body = gast.Return(value=node.body)
    gast.copy_location(body, node.body)
    tree = gast.FunctionDef(name=name, args=node.args, body=[body], decorator_list=[],
                            returns=None, type_comment=None, type_params=[])
    gast.copy_location(tree, node)
    _attach_origins(tree, 1, 0, filename, code_name(fn).replace("<lambda>", name))
    return tree, filename


@functools.lru_cache(maxsize=64)
def _parsed_text(text: str) -> gast.Module:
    return gast.parse(text)


def _parsed_file(filename: str, module_globals: dict) -> gast.Module:
    """The whole file (or notebook cell) `filename`, parsed: a fresh copy each time, its
    nodes the caller's to change."""
    import linecache  # noqa: PLC0415 - only lambdas need it

    text = "".join(linecache.getlines(filename, module_globals))
    try:
        return copy.deepcopy(_parsed_text(text))
    except SyntaxError as exc:
        raise SourceUnavailableError(
            f"cannot parse {filename} to find a lambda in it: {exc}") from None


def _lambdas(tree: gast.AST, owner: gast.AST | None = None):
    """Each lambda in `tree` with the node that holds it."""
    for child in gast.iter_child_nodes(tree):
        if isinstance(child, gast.Lambda):
            yield child, tree
        yield from _lambdas(child, tree)


def _lambda_params(args: gast.arguments) -> list[gast.Name]:
    names = [*args.posonlyargs, *args.args]
    if args.vararg is not None:
        names.append(args.vararg)
    names += args.kwonlyargs
    if args.kwarg is not None:
        names.append(args.kwarg)
    return names


def _span(node: gast.AST) -> tuple[int, int, int, int]:
    return node.lineno, node.col_offset, node.end_lineno, node.end_col_offset


def _within(node: gast.AST, spots: list[tuple[int, int]]) -> bool:
    """Every instruction position `spots` lies inside `node`'s text."""
    line, col, end_line, end_col = _span(node)
    return all((line, col) <= spot < (end_line, end_col) for spot in spots)


def _lambda_name(node: gast.Lambda, owner: gast.AST) -> str:
    """What the user calls the lambda: the name it is bound to, the key or keyword it is
    given under; else `lambda_<line>`."""
    if isinstance(owner, (gast.Assign, gast.AnnAssign)):
        targets = owner.targets if isinstance(owner, gast.Assign) else [owner.target]
        if len(targets) == 1 and isinstance(targets[0], gast.Name):
            return targets[0].id
    if isinstance(owner, gast.keyword) and owner.arg is not None:
        return owner.arg
    if isinstance(owner, gast.Dict):
        for key, value in zip(owner.keys, owner.values, strict=True):
            if value is node and isinstance(key, gast.Constant) and isinstance(
                    key.value, str) and key.value.isidentifier():
                return key.value
    return f"lambda_{node.lineno}"
