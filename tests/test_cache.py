"""The derivative cache: one grad object called with other shapes, dtypes, trip counts and
container structures in turn, and a helper shared by two functions, each result checked
against the oracle or a closed form."""

import numpy as np
import pytest
from nested_results import assert_nested_close

import sourcegrad
from oracle import arr, assert_vjp, numeric_grad

# -- shapes, dtypes and trip counts in turn -------------------------------------------------------


def zeros_of_int_arg(x, n):
    y = np.zeros(n)
    for i in range(n):
        y[i] = x * (i + 1)
    return np.sum(np.sin(y))


def float32_buffer_written(x):
    y = np.zeros(3, dtype=np.float32)
    for i in range(3):
        y[i] = x[i] * 2.0
    return np.sum(y * x)


def horner_expected(coeffs, x):
    n = len(coeffs)
    powers = np.array([x ** (n - 1 - k) for k in range(n)])
    dcoeffs = np.sum(powers.reshape(n, -1), axis=1)
    dx = np.polyval(np.polyder(coeffs), x)
    return dcoeffs, dx


def piecewise_reductions(a):
    if np.max(a) > 1.5:
        y = np.sum(a**2)
    elif np.mean(a) > 0.0:
        y = np.sum(np.sin(a))
    elif np.min(a) < -1.5:
        y = np.prod(a)
    else:
        y = np.sum(np.exp(a)) * a[0]
    return y


def euler_float32(k, s, n):
    for _ in range(n):
        s = s + np.float32(0.1) * (-k * s)
    return np.sum(s * s)


def horner_values(coeffs, x):
    p = 0.0
    for c in coeffs:
        p = p * x + c
    return p


def cached_program(x, n):
    s = 0.0
    for i in range(n):
        s = s + np.tanh(x * (i + 1.0)) * x
    return np.sum(s * s)


def _shared(u, w):
    return u * w + np.sin(u * w)


def shared_scalar_user(x, w):
    return np.sum(_shared(x, w))


def shared_array_user(a, w):
    return np.sum(_shared(a, w) * a)


def test_same_grad_int_shape_changes():
    df = sourcegrad.grad(zeros_of_int_arg)
    for n in (1, 3, 6):
        k = np.arange(1, n + 1)
        assert df(0.4, n) == pytest.approx(np.sum(k * np.cos(k * 0.4)))


def test_same_grad_float32_then_float64():
    df = sourcegrad.grad(float32_buffer_written)
    for x in (arr(3).astype(np.float32), arr(3)):
        g = df(x)
        assert g.dtype == x.dtype
        # f = sum(float32(2 x) * x): d/dx = 4 x (up to float32 rounding of the buffer)
        np.testing.assert_allclose(g, 4.0 * x, rtol=1e-5)


def test_cache_shapes_in_turn():
    df = sourcegrad.grad(cached_program)
    for x in [0.7, arr(3), arr(2, 3, seed=1), -0.4, arr(3, seed=2), np.array(0.3)]:
        got = df(x, 3)
        expected = numeric_grad(cached_program, (x, 3), {}, 0)
        assert isinstance(got, np.ndarray) == isinstance(x, np.ndarray)
        assert np.shape(got) == np.shape(x)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)


def test_cache_dtypes_and_trip_counts():
    df = sourcegrad.grad(euler_float32, wrt=(0, 1))
    k64 = arr(3, lo=0.2, hi=1.0)
    s64 = arr(3, seed=1)
    for k, s, n in [
        (k64, s64, 2),
        (k64.astype(np.float32), s64.astype(np.float32), 4),
        (k64, s64, 0),
        (k64, s64, 5),
    ]:
        dk, ds = df(k, s, n)
        assert dk.dtype == k.dtype and ds.dtype == s.dtype
        base = 1.0 - 0.1 * k.astype(np.float64)
        s0 = s.astype(np.float64)
        np.testing.assert_allclose(ds, 2.0 * s0 * base ** (2 * n), rtol=1e-5)
        np.testing.assert_allclose(
            dk, 2.0 * s0**2 * n * base ** (2 * n - 1) * -0.1, rtol=1e-5, atol=1e-7
        )


def test_cache_value_and_grad_shapes():
    vg = sourcegrad.value_and_grad(piecewise_reductions)
    for a in [
        arr(4, lo=-1.0, hi=1.9),
        arr(2, 2, lo=-0.5, hi=1.2),
        arr(4, lo=-1.2, hi=0.3),
        arr(3, lo=-1.9, hi=0.5),
    ]:
        value, g = vg(a)
        np.testing.assert_allclose(value, piecewise_reductions(a), rtol=1e-12)
        assert g.shape == a.shape
        np.testing.assert_allclose(g, numeric_grad(piecewise_reductions, (a,), {}, 0), rtol=1e-5)


def test_cache_helper_shared_by_two_functions():
    # the helper's derivative is built for one caller's shapes, then the other's, then again
    d1 = sourcegrad.grad(shared_scalar_user, wrt=(0, 1))
    d2 = sourcegrad.grad(shared_array_user, wrt=(0, 1))
    calls = [
        (d1, shared_scalar_user, (0.7, 1.2)),
        (d2, shared_array_user, (arr(3), 1.2)),
        (d1, shared_scalar_user, (arr(3), 1.2)),
        (d1, shared_scalar_user, (0.7, arr(2, 3))),
        (d2, shared_array_user, (arr(2, 3), arr(3, seed=1))),
        (d1, shared_scalar_user, (0.7, 1.2)),
    ]
    for df, f, args in calls:
        got = df(*args)
        expected = numeric_grad(f, args, {}, (0, 1))
        for g, e in zip(got, expected, strict=True):
            assert np.shape(g) == np.shape(e)
            np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-8)


def test_cache_vjp_output_shapes_in_turn():
    for args in [(arr(4), 0.7), (arr(4), arr(2, 3, seed=1)), (arr(4), 0.3), (arr(4), arr(3))]:
        seed = np.ones(np.shape(args[1])) * 0.5 if np.ndim(args[1]) else 0.5
        out, pullback = sourcegrad.vjp(horner_values, *args)
        np.testing.assert_allclose(out, horner_values(*args), rtol=1e-12)
        dcoeffs, dx = pullback(seed)
        expected_dcoeffs, expected_dx = horner_expected(args[0], args[1])
        np.testing.assert_allclose(dcoeffs, 0.5 * expected_dcoeffs, rtol=1e-12)
        np.testing.assert_allclose(dx, 0.5 * expected_dx, rtol=1e-12)


# -- container structures in turn -----------------------------------------------------------------


def closure_over_dict_param(p, x):
    def layer(t):
        return np.tanh(p["w"] * t + p["b"])

    return np.sum(layer(layer(x)))


def sum_over_dict(p, x):
    total = 0.0
    for k, v in p.items():
        total = total + np.sum(np.sin(v * x)) * len(k)
    return total


def sum_over_list(ws, x):
    return sum(np.sum(w * x) ** 2 for w in ws)


def test_same_grad_dict_two_keys_then_three():
    df = sourcegrad.grad(sum_over_dict)
    x = arr(3)
    for p in ({"a": arr(3), "bb": 0.5}, {"a": arr(3), "bb": 0.5, "ccc": arr(3, seed=4)},
              {"z": 0.2, "a": arr(3)}):
        assert_nested_close(df(p, x), numeric_grad(sum_over_dict, (p, x), {}, 0))


def test_same_grad_list_then_longer_list_then_tuple():
    df = sourcegrad.grad(sum_over_list, wrt=(0, 1))
    x = arr(3)
    for ws in ([arr(3), 0.5], [arr(3), 0.5, arr(3, seed=2)], (0.3, arr(3, seed=3))):
        assert_nested_close(df(ws, x), numeric_grad(sum_over_list, (ws, x), {}, (0, 1)))


def test_same_grad_float_then_array_in_dict():
    df = sourcegrad.grad(closure_over_dict_param)
    x = arr(3)
    for p in ({"w": 0.5, "b": 0.3}, {"w": arr(3), "b": 0.3}, {"w": arr(3), "b": arr(3, seed=1)}):
        assert_nested_close(df(p, x), numeric_grad(closure_over_dict_param, (p, x), {}, 0))


def test_value_and_grad_dict_two_keys_then_three():
    vg = sourcegrad.value_and_grad(sum_over_dict, wrt=(0, 1))
    x = arr(3)
    for p in ({"a": arr(3), "bb": 0.5}, {"a": arr(3), "bb": 0.5, "ccc": arr(3, seed=4)}):
        value, g = vg(p, x)
        assert value == pytest.approx(sum_over_dict(p, x))
        assert_nested_close(g, numeric_grad(sum_over_dict, (p, x), {}, (0, 1)))


def test_vjp_dict_of_two_then_three_keys():
    for p in ({"w": arr(3), "b": 0.2}, {"w": arr(3), "b": 0.2, "extra": 1.0}):
        assert_vjp(closure_over_dict_param, p, arr(3, seed=1), seed=1.0)
