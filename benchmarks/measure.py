"""Timing, gradient comparison, and the finite-difference check of the hand-written gradients."""

from __future__ import annotations

import math
import timeit
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

EPS = np.finfo(np.float64).eps


@dataclass(frozen=True)
class TimingSettings:
    """How long one measurement lasts, how many to take, and the time cap per cell."""

    target: float  # seconds one measurement (of `number` calls) should at least take
    repeat: int  # measurements taken; the minimum is reported
    budget: float  # seconds after which a slow cell stops taking further measurements


def measure(call: Callable[[], object], settings: TimingSettings) -> float:
    """Seconds per call: min over repeats of timeit(number) / number, number calibrated."""
    timer = timeit.Timer(call)
    number = 1
    elapsed = timer.timeit(number)
    while elapsed < settings.target:
        scale = 1.2 * settings.target / max(elapsed, 1e-9)
        number = max(2 * number, math.ceil(number * min(scale, 100.0)))
        elapsed = timer.timeit(number)
    samples = [elapsed]
    spent = elapsed
    while len(samples) < settings.repeat and spent + elapsed <= settings.budget:
        samples.append(timer.timeit(number))
        spent += samples[-1]
    return min(samples) / number


def as_arrays(result, wrt) -> tuple[np.ndarray, ...]:
    """A gradient (one value, or a tuple for a tuple wrt) as a tuple of float64 arrays."""
    parts = result if isinstance(wrt, tuple) else (result,)
    return tuple(np.asarray(p, dtype=np.float64) for p in parts)


def max_error(got: tuple[np.ndarray, ...], ref: tuple[np.ndarray, ...]) -> str | None:
    """None when `got` matches `ref` (np.allclose per part); otherwise a one-line description."""
    if len(got) != len(ref):
        return f"{len(got)} gradients returned, {len(ref)} expected"
    for k, (g, r) in enumerate(zip(got, ref, strict=True)):
        if g.shape != r.shape:
            return f"gradient {k}: shape {g.shape}, expected {r.shape}"
        scale = max(1.0, float(np.max(np.abs(r), initial=0.0)))
        if not np.allclose(g, r, rtol=1e-6, atol=1e-9 * scale):
            err = float(np.max(np.abs(g - r)))
            return f"gradient {k}: max |got - hand| = {err:.3g} (max |hand| = {scale:.3g})"
    return None


def _probes(x, rng: np.random.Generator, coordinates: int = 3):
    """Directions to check along: a few unit coordinates and one random unit direction."""
    if np.ndim(x) == 0:
        yield 1.0
        return
    x = np.asarray(x)
    for flat in rng.choice(x.size, size=min(coordinates, x.size), replace=False):
        e = np.zeros_like(x)
        e.flat[flat] = 1.0
        yield e
    d = rng.normal(size=x.shape)
    yield d / np.linalg.norm(d)


def _directional_fd(f, args, index, direction, h):
    """Central difference of f along `direction` in argument `index`, and the noise bound."""
    plus, minus = list(args), list(args)
    plus[index] = args[index] + h * direction
    minus[index] = args[index] - h * direction
    f_plus, f_minus = float(f(*plus)), float(f(*minus))
    noise = 10.0 * EPS * (abs(f_plus) + abs(f_minus)) / (2 * h)
    return (f_plus - f_minus) / (2 * h), noise


def check_hand_gradient(workload, args, rng: np.random.Generator, rtol: float = 1e-5) -> None:
    """Compare the hand gradient with central finite differences; raise AssertionError if off."""
    grads = as_arrays(workload.grad(*args), workload.wrt)
    for index, g in zip(workload.wrt_indices, grads, strict=True):
        x = args[index]
        h = 1e-5 * (1.0 + float(np.max(np.abs(x))))
        for direction in _probes(x, rng):
            fd, noise = _directional_fd(workload.f, args, index, direction, h)
            analytic = float(np.sum(g * direction))
            if abs(fd - analytic) > rtol * max(abs(fd), abs(analytic)) + noise + 1e-9:
                raise AssertionError(
                    f"hand gradient of {workload.name} (argument {index}) disagrees with "
                    f"finite differences: analytic {analytic!r}, central difference {fd!r}"
                )
