"""check_grad: compare sourcegrad's gradient with central finite differences.

Independent of the transformer: the reference is computed by calling `f` itself. One
dot-product test per random direction `v`: `grad(f) . v` against `(f(x + h v) - f(x - h v)) / 2h`,
which costs two calls of `f` per direction however large the arguments are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

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
    names, single = _wrt_names(f, wrt)
    gradients = grad(f, wrt=tuple(names))(*args, **kwargs)
    rng = np.random.default_rng(seed)
    bound = _bound(f, args, kwargs)
    for name, gradient in zip(names, gradients, strict=True):
        point = np.asarray(bound[name], dtype=np.float64)
        for _ in range(directions):
            direction = rng.standard_normal(point.shape)
            direction /= max(np.linalg.norm(direction), 1e-300)
            h = step * max(1.0, float(np.max(np.abs(point), initial=0.0)))
            numeric = (_at(f, bound, name, point + h * direction)
                       - _at(f, bound, name, point - h * direction)) / (2 * h)
            exact = float(np.sum(np.asarray(gradient) * direction))
            if not np.isclose(exact, numeric, rtol=rtol, atol=atol):
                raise GradientCheckError(_report(f, bound, name, point, gradient, h, exact,
                                                 numeric))


def _bound(f: Callable, args: tuple, kwargs: dict) -> dict[str, Any]:
    import inspect
    bound = inspect.signature(f, follow_wrapped=False).bind(*args, **kwargs)  # f's own
    bound.apply_defaults()
    return dict(bound.arguments)


def _at(f: Callable, bound: dict[str, Any], name: str, value: np.ndarray) -> float:
    arguments = dict(bound)
    original = bound[name]
    arguments[name] = float(value) if np.ndim(original) == 0 and not isinstance(
        original, np.ndarray) else value.astype(np.asarray(original).dtype)
    return float(f(**arguments))


def _report(f, bound, name, point, gradient, h, exact, numeric) -> str:
    worst, worst_index = "", None
    flat = np.asarray(gradient, dtype=np.float64).ravel()
    if point.size <= 10_000:
        errors = []
        for i in range(point.size):
            one_hot = np.zeros(point.size)
            one_hot[i] = 1.0
            one_hot = one_hot.reshape(point.shape)
            column = (_at(f, bound, name, point + h * one_hot)
                      - _at(f, bound, name, point - h * one_hot)) / (2 * h)
            errors.append((abs(flat[i] - column), i, column))
        _, worst_index, column = max(errors)
        index = np.unravel_index(worst_index, point.shape) if point.shape else ()
        worst = (f"\nworst entry {name}{list(index) if index else ''}: sourcegrad "
                 f"{flat[worst_index]:.10g}, finite differences {column:.10g}")
    return (f"gradient of {f.__name__} with respect to {name} disagrees with finite differences: "
            f"directional derivative {exact:.10g} (sourcegrad) vs {numeric:.10g} (central "
            f"difference, step {h:.1e}){worst}")
