"""What a callable handed to `grad` runs: the Python function whose source sourcegrad reads,
and the arguments bound to it before the call.

Users hand `grad` more than functions: a bound method (`model.loss`), an object of theirs
called as a function (`layer`, through its `__call__`), a `functools.partial` with some
arguments fixed, and NumPy functions that have a rule (`np.sin`, `np.linalg.det`), which have
no Python source: those become a one-line function calling them, whose source is registered
with `linecache` like a notebook cell's.
"""

from __future__ import annotations

import functools
import inspect
import linecache
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import WrtError
from .parse import is_user_class
from .rules import rule_for

_RULE_FUNCTIONS: dict[int, Callable] = {}  # id of a function with a rule -> its wrapper


def called(fn: Callable) -> Callable:
    """What a call of `fn` runs: an object of the user's called as a function (`layer(x)`) is
    its bound `__call__`; a function with a rule, the one-line function calling it."""
    call = getattr(type(fn), "__call__", None)  # noqa: B004 - the class's own method
    if is_user_class(type(fn)) and inspect.isfunction(call):
        return fn.__call__
    return rule_function(fn) or fn


def unbound(fn: Callable) -> tuple[Callable, dict[str, Any]]:
    """The function a callable runs and the arguments bound to it before the call: a bound
    method's object (`model.loss`, `model` for `__call__`), a `functools.partial`'s
    positional arguments (its keywords stay in its signature, as defaults a call may
    override). Bound arguments are constants of the derivative."""
    bound: dict[str, Any] = {}
    while True:
        fn = called(fn)
        if inspect.ismethod(fn):
            first = next(iter(_signature(fn.__func__).parameters), None)
            if first is not None:
                bound[first] = fn.__self__
            fn = fn.__func__
        elif isinstance(fn, functools.partial):
            names = [p.name for p in _signature(called(fn.func)).parameters.values()
                     if p.kind <= p.POSITIONAL_OR_KEYWORD and p.name not in bound]
            if len(fn.args) > len(names):
                raise WrtError(f"{fn!r} binds more positional arguments than "
                               f"{getattr(fn.func, '__name__', 'its function')} takes")
            bound.update(zip(names, fn.args, strict=False))
            fn = fn.func
        else:
            return fn, bound


def _signature(fn: Callable) -> inspect.Signature:
    return inspect.signature(fn, follow_wrapped=False)


def rule_function(fn: Any) -> Callable | None:
    """`np.sin` as `def sin(x): return np.sin(x)`, for a function with a rule and no Python
    source (made once per function); None for any other callable. Its parameters are the
    required positional ones (`x1, x2` of a two-input ufunc): for options (`axis=`), write a
    function or a lambda that passes them."""
    if inspect.isfunction(fn) or rule_for(fn) is None:
        return None
    made = _RULE_FUNCTIONS.get(id(fn))
    if made is not None:
        return made
    params = _required_parameters(fn)
    spelled, namespace = _spelling(fn)
    name = getattr(fn, "__name__", "function")
    source = (f"def {name}({', '.join(params)}):\n"
              f"    return {spelled}({', '.join(params)})\n")
    filename = f"<sourcegrad: {spelled}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace["__name__"] = filename  # the wrapper's __module__
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own one line
    made = _RULE_FUNCTIONS[id(fn)] = namespace[name]
    return made


def _required_parameters(fn: Any) -> list[str]:
    if isinstance(fn, np.ufunc):
        return ["x"] if fn.nin == 1 else [f"x{i + 1}" for i in range(fn.nin)]
    try:  # NumPy's dispatchers (`np.linalg.det`) show the function they wrap
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        raise WrtError(f"{fn!r} has no signature to differentiate: write a function or a "
                       "lambda calling it") from None
    return [p.name for p in params if p.kind <= p.POSITIONAL_OR_KEYWORD
            and p.default is p.empty]


def _spelling(fn: Any) -> tuple[str, dict[str, Any]]:
    """How the one-line function names `fn` (`np.linalg.det`), and the globals it runs in."""
    name = getattr(fn, "__name__", "")
    for prefix, module in (("np", np), ("np.linalg", np.linalg), ("np.fft", np.fft)):
        if getattr(module, name, None) is fn:
            return f"{prefix}.{name}", {"np": np}
    special = sys.modules.get("scipy.special")
    if special is not None and getattr(special, name, None) is fn:
        return f"scipy.special.{name}", {"scipy": sys.modules["scipy"]}
    return f"{name}_of_the_rule", {f"{name}_of_the_rule": fn}  # not the wrapper's own name
