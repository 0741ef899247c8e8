"""check_grad: compare sourcegrad's gradient with central finite differences.

Independent of the transformer: the reference is computed by calling `f` itself. One
dot-product test per random direction `v`: `grad(f) . v` against `(f(x + h v) - f(x - h v)) / 2h`,
which costs two calls of `f` per direction however large the arguments are.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from .analysis.abstract import is_plain_object
from .api import Wrt, _wrt_names, grad
from .errors import SourcegradError


class GradientCheckError(SourcegradError):
    """sourcegrad's gradient and finite differences disagree beyond the tolerance."""


def check_grad(f: Callable, *args: Any, wrt: Wrt = 0, rtol: float = 1e-5, atol: float = 1e-8,
               directions: int = 3, step: float = 1e-6, seed: int = 0, **kwargs: Any) -> None:
    """Raise GradientCheckError if sourcegrad's gradient of `f` at `args` is wrong.

    For each argument in `wrt` and each of `directions` random unit directions, compares the
    directional derivative from the gradient with a central difference (in float64). The message
    names the argument, the worst direction's two values and the entry where the gradient and a
    one-hot difference disagree most.
    """
    names, _ = _wrt_names(f, wrt)
    gradients = grad(f, wrt=tuple(names))(*args, **kwargs)
    rng = np.random.default_rng(seed)
    bound = _bound(f, args, kwargs)
    for name, gradient in zip(names, gradients, strict=True):
        for where, get, put in _leaves(name, bound[name]):
            point = np.asarray(get(bound[name]), dtype=np.float64)
            leaf_gradient = get(gradient)

            def at(value, where=where, put=put, name=name):
                return _at(f, bound, name, put(bound[name], value))

            for _ in range(directions):
                _check_direction(f, at, where, point, leaf_gradient, rng, step, rtol, atol)


def _check_direction(f, at, where, point, gradient, rng, step, rtol, atol) -> None:
    direction = rng.standard_normal(point.shape)
    direction /= max(np.linalg.norm(direction), 1e-300)
    h = step * max(1.0, float(np.max(np.abs(point), initial=0.0)))
    numeric = (at(point + h * direction) - at(point - h * direction)) / (2 * h)
    exact = float(np.sum(np.asarray(gradient) * direction))
    if not np.isclose(exact, numeric, rtol=rtol, atol=atol):
        raise GradientCheckError(_report(f, at, where, point, gradient, h, exact, numeric))


def _leaves(name: str, value: Any, get=lambda v: v, put=lambda old, new: new):
    """Each float or float array in `value` (itself, or in its lists, tuples, dicts and
    attributes): how it is named (`p['w']`, `xs[1]`, `m.b`), read from `value` (or from its
    gradient, which has the same structure) and put back into a copy of `value`."""
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _leaves(f"{name}[{i}]", item, lambda v, i=i, g=get: g(v)[i],
                               lambda old, new, i=i, g=get, p=put: p(old, _replaced(
                                   g(old), i, new)))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(f"{name}[{key!r}]", item, lambda v, k=key, g=get: g(v)[k],
                               lambda old, new, k=key, g=get, p=put: p(old, {**g(old), k: new}))
    elif is_plain_object(value):
        for key, item in vars(value).items():
            if _is_float(item) or isinstance(item, (list, tuple, dict)) or is_plain_object(item):
                yield from _leaves(f"{name}.{key}", item,
                                   lambda v, k=key, g=get: getattr(g(v), k),
                                   lambda old, new, k=key, g=get, p=put: p(
                                       old, _with_attribute(g(old), k, new)))
    elif _is_float(value):
        yield name, get, lambda old, new, p=put, original=value: p(old, _like(new, original))


def _is_float(value: Any) -> bool:
    return isinstance(value, (float, np.floating)) or isinstance(
        value, np.ndarray) and value.dtype.kind == "f"


def _like(value: np.ndarray, original: Any) -> Any:
    if isinstance(original, np.ndarray):
        return np.asarray(value).astype(original.dtype)
    return float(value)


def _replaced(items, index: int, new: Any):
    copied = list(items)
    copied[index] = new
    return type(items)(copied)


def _with_attribute(obj: Any, name: str, value: Any) -> Any:
    copied = copy.copy(obj)
    object.__setattr__(copied, name, value)
    return copied


def _bound(f: Callable, args: tuple, kwargs: dict) -> dict[str, Any]:
    bound = inspect.signature(f, follow_wrapped=False).bind(*args, **kwargs)  # f's own
    bound.apply_defaults()
    return dict(bound.arguments)


def _at(f: Callable, bound: dict[str, Any], name: str, value: Any) -> float:
    arguments = dict(bound)
    arguments[name] = value
    return float(f(**arguments))


def _report(f, at, where, point, gradient, h, exact, numeric) -> str:
    worst = ""
    flat = np.asarray(gradient, dtype=np.float64).ravel()
    if point.size <= 10_000:
        errors = []
        for i in range(point.size):
            one_hot = np.zeros(point.size)
            one_hot[i] = 1.0
            one_hot = one_hot.reshape(point.shape)
            column = (at(point + h * one_hot) - at(point - h * one_hot)) / (2 * h)
            errors.append((abs(flat[i] - column), i, column))
        _, worst_index, column = max(errors)
        index = np.unravel_index(worst_index, point.shape) if point.shape else ()
        entry = f"[{', '.join(str(int(i)) for i in index)}]" if index else ""
        worst = (f"\nworst entry {where}{entry}: sourcegrad {flat[worst_index]:.10g}, finite "
                 f"differences {column:.10g}")
    return (f"gradient of {f.__name__} with respect to {where} disagrees with finite "
            f"differences: directional derivative {exact:.10g} (sourcegrad) vs {numeric:.10g} "
            f"(central difference, step {h:.1e}){worst}")
