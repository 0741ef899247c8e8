"""Every emitted path of a derivative, run and compared: for tests, the fuzzer and the curious.

`grad` runs one path: the derivative specialized on the arguments' shapes, optimized, compiled
from its printed source. Others exist and must give the same numbers: the generic derivative
(shapes unknown, the runtime helpers kept), the unoptimized one, the checked one (whose adjoint
sweep asserts it reads what the primal had, `runtime/checked.py`), and `.source` executed on
its own. A path that refuses the function (a `SourcegradError`) is reported as refused; a path
that answers must agree with the others.

    >>> results = gradients_by_path(f, (x,), {}, wrt=0)
    >>> results["generic"].gradient
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .api import Derivative, Wrt
from .errors import InternalError, SourcegradError
from .module import EmittedModule
from .options import BuildOptions
from .runtime.checked import CheckedModeError

PATHS: dict[str, BuildOptions] = {
    "specialized": BuildOptions(),
    "generic": BuildOptions(specialize=False),
    "unoptimized": BuildOptions(optimize=False),
    "checked": BuildOptions(checked=True),
    "generic checked": BuildOptions(specialize=False, checked=True),
}
# Two builds besides the default that still reach every switch: what the test suite runs
FAST_PATHS: dict[str, BuildOptions] = {
    "specialized": BuildOptions(),
    "generic checked": BuildOptions(specialize=False, checked=True),
    "unoptimized checked": BuildOptions(optimize=False, checked=True),
}


@dataclass
class PathResult:
    """What one path gave: the value and gradient, or the refusal it raised."""

    value: Any = None
    gradient: Any = None
    refused: SourcegradError | None = None


class PathMismatch(AssertionError):
    """Two emitted paths of one derivative gave different numbers."""


def gradients_by_path(fn: Callable, args: tuple, kwargs: dict | None = None,
                      wrt: Wrt = 0, paths: dict[str, BuildOptions] | None = None
                      ) -> dict[str, PathResult]:
    """Value and gradient of `fn` at the arguments along every path, each on fresh copies of
    the arguments; "source" runs the specialized module's printed source, compiled alone.
    A `CheckedModeError` (a breach found by checked mode) and an `InternalError` propagate:
    they are sourcegrad's bugs, never refusals."""
    kwargs = kwargs or {}
    results = {name: _run(Derivative(fn, wrt, True, options), args, kwargs)
               for name, options in (paths or PATHS).items()}
    results["source"] = _run(_FromSource(fn, wrt), args, kwargs)
    return results


def check_paths(fn: Callable, args: tuple, kwargs: dict | None = None, wrt: Wrt = 0,
                rtol: float = 1e-9, atol: float = 1e-12,
                paths: dict[str, BuildOptions] | None = None) -> dict[str, PathResult]:
    """`gradients_by_path`, raising `PathMismatch` when two paths that answered disagree."""
    results = gradients_by_path(fn, args, kwargs, wrt, paths)
    answered = {n: r for n, r in results.items() if r.refused is None}
    if "specialized" in answered:
        reference = answered["specialized"]
        for name, result in answered.items():
            for what in ("value", "gradient"):
                if not _close(getattr(result, what), getattr(reference, what), rtol, atol):
                    raise PathMismatch(
                        f"the {name} derivative of {fn.__qualname__} gives the {what} "
                        f"{getattr(result, what)!r}, the specialized one "
                        f"{getattr(reference, what)!r}")
    return results


def _run(derivative: Derivative, args: tuple, kwargs: dict) -> PathResult:
    try:
        value, gradient = derivative(*copy.deepcopy(args), **copy.deepcopy(kwargs))
    except (CheckedModeError, InternalError):
        raise
    except SourcegradError as error:
        return PathResult(refused=error)
    return PathResult(value, gradient)


class _FromSource(Derivative):
    """The specialized derivative, its printed source compiled again in a namespace holding
    only the user's names it refers to: what a user pasting `.source` next to their code runs."""

    def __init__(self, fn: Callable, wrt: Wrt):
        super().__init__(fn, wrt, True)

    def _module(self, args: tuple) -> EmittedModule:
        built = super()._module(args)
        defined = _defined_names(built.source)
        namespace = {k: v for k, v in built.namespace.items()
                     if k not in defined and k != "__builtins__"}
        exec(compile(built.source, f"<sourcegrad source of {self.__name__}>", "exec"),
             namespace)
        return EmittedModule(built.source, namespace, built.entry, built.dependencies)


def _defined_names(source: str) -> set[str]:
    """Names the module's own statements bind: its functions and imports."""
    names = set()
    for stmt in ast.parse(source).body:
        if isinstance(stmt, ast.FunctionDef):
            names.add(stmt.name)
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in stmt.names)
    return names


def _close(a: Any, b: Any, rtol: float, atol: float) -> bool:
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(
            _close(x, y, rtol, atol) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(
            _close(a[k], b[k], rtol, atol) for k in a)
    if hasattr(a, "__dict__") and not isinstance(a, np.ndarray):
        return type(a) is type(b) and _close(vars(a), vars(b), rtol, atol)
    try:
        return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)) and \
            np.shape(a) == np.shape(b)
    except TypeError:
        return a == b
