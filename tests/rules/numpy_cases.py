"""Shared pieces of the NumPy rule tests: fixed readout weights shaped like a function's result.

Each test function is `f(*inputs, w)` returning `np.sum(op(*inputs) * w)`: the weights are fixed
and uneven, so every entry of the result gets its own cotangent. `row` finds the result's shape by
calling `f` once with a probe in place of `w`.
"""

import warnings

import numpy as np
import pytest

from oracle import arr, case


def weights(*shape, seed=0):
    """Fixed readout weights in [-1.5, 1.5], all different."""
    return arr(*shape, lo=-1.5, hi=1.5, seed=seed + 50)


class _Probe:
    """Stands for `w` in `np.sum(result * w)` and records the result's shape."""

    __array_ufunc__ = None  # NumPy defers `result * probe` to __rmul__

    def __init__(self):
        self.shapes = []

    def __rmul__(self, other):
        self.shapes.append(np.shape(other))
        return 0.0

    __mul__ = __rmul__


def row(f, *args, wrt=0, seed=0, name=None, marks=(), **kwargs):
    """A case for `f(*args, w, **kwargs)` with weights `w` shaped like the result."""
    probe = _Probe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the row's marks filter them
        f(*args, probe, **kwargs)
    (shape,) = set(probe.shapes)
    w = weights(*shape, seed=seed) if shape else weights(1, seed=seed)[0]
    param = case(f, *args, w, wrt=wrt, name=name, **kwargs)
    return pytest.param(*param.values, id=param.id, marks=marks) if marks else param
