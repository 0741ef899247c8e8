"""The finite-difference oracle every gradient test compares against, and small test utilities.

The oracle is independent of sourcegrad's transformer: it only calls the user's function, with
central differences in float64, step 1e-6 scaled by max(1, |x|). It knows float scalars and
float ndarrays; anything else (int, bool, int arrays, None, ...) is a constant with no gradient.

    numeric_grad(f, args, kwargs, wrt)   the numerical gradient, shaped like sourcegrad's
    assert_grad(f, *args, wrt=0, ...)    grad(f, wrt)(*args) == oracle, types, no mutation
    assert_vjp(f, *args, seed=...)       vjp(f, *args)[1](seed) == oracle of sum(seed * f)

NaN never counts as equal: inputs must be chosen where the function is smooth.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import inspect
import sys
from pathlib import Path

import numpy as np
import pytest

import sourcegrad
from sourcegrad import verify

STEP = 1e-6


# -- what has a gradient --------------------------------------------------------------------------


def is_differentiable(value) -> bool:
    """True for float scalars and float ndarrays, and lists, tuples and dicts of those; ints,
    bools and everything else are constants."""
    if isinstance(value, (list, tuple)):
        return bool(value) and all(is_differentiable(v) for v in value)
    if isinstance(value, dict):
        return bool(value) and all(is_differentiable(v) for v in value.values())
    if _is_object(value):
        return any(is_differentiable(v) for v in vars(value).values())
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (float, np.floating)):
        return True
    return isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating)


def _to_scalar(value) -> float:
    out = np.asarray(value, dtype=np.float64)
    assert out.shape == (), f"the function must return a scalar, got shape {out.shape}"
    return float(out)


# -- central differences --------------------------------------------------------------------------


def _fd_scalar(g, x: float) -> float:
    h = STEP * max(1.0, abs(x))
    up, down = x + h, x - h
    return (g(up) - g(down)) / (up - down)


def _fd(g, x):
    """Derivative of the scalar function g at x (float, float ndarray, or a list, tuple or dict
    of those), shaped like x."""
    if isinstance(x, (list, tuple)):
        return type(x)(_fd(lambda v, i=i: g(_replaced(x, i, v)), item) for i, item in enumerate(x))
    if isinstance(x, dict):
        return {k: _fd(lambda v, k=k: g(_replaced(x, k, v)), item) for k, item in x.items()}
    if _is_object(x):
        return {k: _fd(lambda v, k=k: g(_with_attribute(x, k, v)), item)
                for k, item in vars(x).items() if is_differentiable(item)}
    if not isinstance(x, np.ndarray):
        return _fd_scalar(g, float(x))
    base = np.array(x, dtype=np.float64)
    out = np.zeros_like(base)
    for idx in np.ndindex(base.shape):

        def along(v, idx=idx):
            moved = base.copy()
            moved[idx] = v
            return g(moved)

        out[idx] = _fd_scalar(along, float(base[idx]))
    return out.astype(x.dtype)


def _is_object(value) -> bool:
    """An object holding data in attributes (one called through `__call__` too), not a
    function, class or module."""
    return hasattr(value, "__dict__") and not isinstance(value, type) and not inspect.isroutine(
        value) and not inspect.ismodule(value) and not isinstance(value, functools.partial)


def _with_attribute(obj, name, value):
    """A shallow copy of an object with one attribute replaced."""
    other = copy.copy(obj)
    object.__setattr__(other, name, value)
    return other


def _replaced(container, key, value):
    """A copy of a list, tuple or dict with one item replaced."""
    if isinstance(container, dict):
        return {**container, key: value}
    items = list(container)
    items[key] = value
    return type(container)(items)


def _signature(f):
    """The parameters of the function the caller calls: a decorator's wrapper has its own
    (`inspect.signature` would follow `__wrapped__` to the wrapped function's)."""
    return inspect.signature(f, follow_wrapped=False)


def _wrt_names(f, wrt) -> list[str]:
    names = list(_signature(f).parameters)
    items = wrt if isinstance(wrt, tuple) else (wrt,)
    return [names[w] if isinstance(w, int) else w for w in items]


def numeric_grad(f, args, kwargs, wrt):
    """Central-difference gradient of scalar-valued f at (args, kwargs) with respect to `wrt`.

    `wrt` is a positional index, a parameter name or a tuple of those; the result is one float or
    ndarray per entry, in a tuple exactly when `wrt` is a tuple.
    """
    sig = _signature(f)
    results = []
    for name in _wrt_names(f, wrt):
        bound = sig.bind(*copy.deepcopy(args), **copy.deepcopy(kwargs))
        bound.apply_defaults()

        def g(v, name=name):
            call = sig.bind(*copy.deepcopy(args), **copy.deepcopy(kwargs))
            call.apply_defaults()
            call.arguments[name] = copy.deepcopy(v)  # f may change its argument in place
            return _to_scalar(f(*call.args, **call.kwargs))

        x = bound.arguments[name]
        assert is_differentiable(x), f"oracle: argument {name!r} is not differentiable: {x!r}"
        results.append(_fd(g, x))
    return tuple(results) if isinstance(wrt, tuple) else results[0]


# -- comparisons ----------------------------------------------------------------------------------


def _check_gradient(got, expected, x, what: str, rtol: float, atol: float) -> None:
    if isinstance(x, (list, tuple)):
        assert type(got) is type(x) and len(got) == len(x), f"{what}: expected a {type(x)}"
        for i, (g, e, item) in enumerate(zip(got, expected, x, strict=True)):
            _check_gradient(g, e, item, f"{what}[{i}]", rtol, atol)
        return
    if isinstance(x, dict):
        assert isinstance(got, dict) and got.keys() == x.keys(), f"{what}: expected a dict"
        for key in x:
            _check_gradient(got[key], expected[key], x[key], f"{what}[{key!r}]", rtol, atol)
        return
    if _is_object(x):
        assert type(got) is type(x), f"{what}: expected a {type(x).__name__}, got {type(got)}"
        for key in expected:
            _check_gradient(getattr(got, key), expected[key], getattr(x, key),
                            f"{what}.{key}", rtol, atol)
        return
    assert np.all(np.isfinite(expected)), f"{what}: oracle is not finite, pick smoother inputs"
    if isinstance(x, np.ndarray):
        assert isinstance(got, np.ndarray), f"{what}: expected an ndarray, got {type(got)}"
        assert got.shape == x.shape, f"{what}: shape {got.shape}, argument has {x.shape}"
        assert got.dtype == x.dtype, f"{what}: dtype {got.dtype}, argument has {x.dtype}"
    else:
        assert isinstance(got, float), f"{what}: expected a float, got {type(got)}: {got!r}"
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, equal_nan=False, err_msg=what)


def _assert_unchanged(before, after, what: str) -> None:
    if isinstance(before, np.ndarray):
        assert isinstance(after, np.ndarray) and after.shape == before.shape, f"{what} changed"
        assert after.dtype == before.dtype and np.array_equal(after, before), f"{what} mutated"
    elif isinstance(before, (list, tuple)):
        assert type(after) is type(before) and len(after) == len(before), f"{what} changed"
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            _assert_unchanged(b, a, f"{what}[{i}]")
    elif isinstance(before, dict):
        assert after.keys() == before.keys(), f"{what} changed keys"
        for key in before:
            _assert_unchanged(before[key], after[key], f"{what}[{key!r}]")
    elif _is_object(before):
        for key, value in vars(before).items():
            _assert_unchanged(value, getattr(after, key), f"{what}.{key}")
    elif isinstance(before, (int, float, complex, np.number)):
        assert type(after) is type(before) and (after == before or after != after), \
            f"{what} changed: {before!r} became {after!r}"


def _describe(f, wrt) -> str:
    return f"grad({f.__name__}, wrt={wrt!r})"


def assert_grad(f, *args, wrt=0, rtol=1e-5, atol=1e-7, **kwargs):
    """Check sourcegrad.grad(f, wrt=wrt)(*args, **kwargs) against the oracle; return the gradient.

    Also checks: a float argument gets a float, an array argument an ndarray of the same shape and
    dtype, a tuple `wrt` gives a tuple, and the caller's arguments are left untouched.
    """
    before = copy.deepcopy((args, kwargs))
    expected = numeric_grad(f, args, kwargs, wrt)
    got = sourcegrad.grad(f, wrt=wrt)(*args, **kwargs)
    _assert_unchanged(before, (args, kwargs), "the caller's arguments")

    sig = _signature(f)
    bound = sig.bind(*args, **kwargs)
    bound.apply_defaults()
    names = _wrt_names(f, wrt)
    if isinstance(wrt, tuple):
        assert isinstance(got, tuple), f"{_describe(f, wrt)}: a tuple wrt must give a tuple"
        assert len(got) == len(wrt), f"{_describe(f, wrt)}: {len(got)} results for {len(wrt)}"
        triples = zip(got, expected, names, strict=True)
    else:
        triples = [(got, expected, names[0])]
    for g, e, name in triples:
        what = f"{_describe(f, wrt)}, d/d{name}"
        _check_gradient(g, e, bound.arguments[name], what, rtol, atol)
    _check_other_paths(f, args, kwargs, wrt, got, rtol, atol)
    return got


def _check_other_paths(f, args, kwargs, wrt, got, rtol, atol) -> None:
    """The generic derivative (checked), the unoptimized one (checked) and `.source` compiled
    alone give what grad gave; a path may refuse (the generic one lacks the shapes), never
    answer differently. Checked mode raises at the first value the adjoint reads wrong."""
    before = copy.deepcopy((args, kwargs))
    results = verify.gradients_by_path(f, args, kwargs, wrt, verify.FAST_PATHS)
    _assert_unchanged(before, (args, kwargs), "the caller's arguments")
    for path, result in results.items():
        if result.refused is None:
            _same_gradient(result.gradient, got, f"{_describe(f, wrt)}, {path} path", rtol,
                           atol)


def _same_gradient(other, got, what: str, rtol: float, atol: float) -> None:
    if isinstance(got, (list, tuple)):
        for i, (o, g) in enumerate(zip(other, got, strict=True)):
            _same_gradient(o, g, f"{what}[{i}]", rtol, atol)
    elif isinstance(got, dict):
        for key in got:
            _same_gradient(other[key], got[key], f"{what}[{key!r}]", rtol, atol)
    elif _is_object(got):
        for key, value in vars(got).items():
            if is_differentiable(value):
                _same_gradient(getattr(other, key), value, f"{what}.{key}", rtol, atol)
    else:
        np.testing.assert_allclose(other, got, rtol=rtol, atol=atol, err_msg=what)


def assert_vjp(f, *args, seed, rtol=1e-5, atol=1e-7, **kwargs):
    """Check vjp(f, *args, **kwargs): its output equals f(...) and pullback(seed) has, for each
    positional argument, the oracle gradient of sum(seed * f(...)) (None for constants)."""
    before = copy.deepcopy((args, kwargs, seed))
    out, pullback = sourcegrad.vjp(f, *args, **kwargs)
    reference = f(*copy.deepcopy(args), **copy.deepcopy(kwargs))
    np.testing.assert_allclose(out, reference, rtol=1e-12, atol=1e-14, equal_nan=False)
    cotangents = pullback(seed)
    _assert_unchanged(before, (args, kwargs, seed), "the caller's arguments or seed")
    assert isinstance(cotangents, tuple), f"pullback must return a tuple, got {type(cotangents)}"
    assert len(cotangents) == len(args), f"{len(cotangents)} cotangents for {len(args)} args"

    for i, (x, ct) in enumerate(zip(args, cotangents, strict=True)):
        what = f"vjp({f.__name__}) cotangent of positional argument {i}"
        if not is_differentiable(x):
            assert ct is None, f"{what}: expected None for constant {x!r}, got {ct!r}"
            continue

        def g(v, i=i):
            moved = list(copy.deepcopy(args))
            moved[i] = v
            return _to_scalar(np.sum(seed * f(*moved, **copy.deepcopy(kwargs))))

        _check_gradient(ct, _fd(g, x), x, what, rtol, atol)
    return cotangents


# -- test data ------------------------------------------------------------------------------------


def assert_value_and_grad(f, *args, wrt=0, **kwargs):
    """assert_grad, and the value sourcegrad computes on the way is f's own (f runs on
    copies: it may change its arguments)."""
    value, _ = sourcegrad.value_and_grad(f, wrt=wrt)(*copy.deepcopy(args),
                                                     **copy.deepcopy(kwargs))
    expected = f(*copy.deepcopy(args), **copy.deepcopy(kwargs))
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-14)
    return assert_grad(f, *args, wrt=wrt, **kwargs)


def arr(*shape, lo=-2.0, hi=2.0, seed=0):
    """Float64 values in [lo, hi] of the given shape, pairwise at least (hi - lo) / (2 n) apart
    (no ties for max/min/where); a Python float when no shape is given."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape, dtype=int))
    grid = (np.arange(n) + 0.5 + rng.uniform(-0.25, 0.25, n)) / n
    values = (lo + (hi - lo) * rng.permutation(grid)).reshape(shape)
    return float(values) if shape == () else values


def signed(*shape, lo=0.3, hi=2.0, seed=0):
    """Like arr, with magnitudes in [lo, hi] (distinct) and both signs: away from 0 for abs/sign."""
    magnitudes = arr(*shape, lo=lo, hi=hi, seed=seed)
    n = int(np.prod(shape, dtype=int))
    rng = np.random.default_rng(seed + 1)
    pattern = [1.0, -1.0] if rng.integers(2) else [-1.0, 1.0]
    signs = rng.permutation(np.resize(pattern, n))
    values = (np.asarray(magnitudes) * signs.reshape(shape)).reshape(shape)
    return float(values) if shape == () else values


def _label(value) -> str:
    if isinstance(value, np.ndarray):
        return "x".join(map(str, value.shape)) or "0d"
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value)


def case(f, *args, wrt=0, name=None, **kwargs):
    """One parametrized gradient check: pytest.param(f, args, kwargs, wrt) with a readable id."""
    if name is None:
        parts = [f.__name__, *map(_label, args)]
        parts += [f"{k}={_label(v)}" for k, v in kwargs.items()]
        if wrt != 0:
            parts.append(f"wrt={wrt}")
        name = "-".join(parts).replace(" ", "")
    return pytest.param(f, args, kwargs, wrt, id=name)


def assert_refused_at(f, args, marker, holder):
    """grad(f)(*args) raises a SourcegradError naming the file:line of the first line of
    `holder`'s source that contains `marker`, and showing that line."""
    with pytest.raises(sourcegrad.SourcegradError) as info:
        sourcegrad.grad(f)(*args)
    message = str(info.value)
    lineno, text = line_of(holder, marker)
    where = f"{Path(inspect.getsourcefile(holder)).name}:{lineno}"
    assert where in message, f"expected {where} in:\n{message}"
    assert text in message, f"expected the line {text!r} in:\n{message}"


def line_of(f, marker):
    """Absolute line number and stripped text of the first line of f's source containing marker:
    where an error about f must point."""
    lines, start = inspect.getsourcelines(f)
    for offset, line in enumerate(lines):
        if marker in line:
            return start + offset, line.strip()
    raise AssertionError(f"{marker!r} not in the source of {f.__name__}")


def load_module(path, name=None):
    """Import the Python file at `path` as a fresh module (registered in sys.modules), so that
    inspect.getsource works on the functions it defines."""
    path = Path(path)
    name = name or path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
