"""Calls of the user's functions that change the arrays they are handed, as NumPy code does
(`fill(out, x)`, a helper that relaxes `u` in place): the caller sees the change, so the
derivative does too. Changing a list or dict argument with a method is refused."""

import numpy as np
import pytest

import sourcegrad
from oracle import arr, assert_grad, case


def _fill_squares(out, x):
    for i in range(len(x)):
        out[i] = x[i] ** 2


def _fill_and_total(out, x):
    out[:] = np.sin(x)
    return np.sum(out)


def _bump(a, d):
    a += d


def _two_levels(out, x):
    _fill_squares(out, x)
    out *= 2.0


def _gauss_seidel_sweep(u, f, h2):
    for i in range(1, len(u) - 1):
        u[i] = 0.5 * (u[i - 1] + u[i + 1] + h2 * f[i])


def _count_down(buf, x, n):
    if n == 0:
        return
    buf[n - 1] = x * n
    _count_down(buf, x, n - 1)


def fills_without_result(x):
    buf = np.zeros(len(x))
    _fill_squares(buf, x)
    return np.sum(buf * x)


def fills_and_uses_result(x):
    buf = np.zeros(len(x))
    total = _fill_and_total(buf, x)
    return total * np.sum(buf**2)


def bumps_an_array(x, d):
    y = x * 1.0
    _bump(y, d)
    return np.sum(y**2)


def bumps_a_number(x, d):
    y = x * 1.0  # a float: `a += d` in _bump rebinds a alone
    _bump(y, d)
    return y**2


def changes_through_two_levels(x):
    buf = np.ones(len(x))
    _two_levels(buf, x)
    return np.sum(np.cos(buf))


def relaxes_with_a_helper(f, u0):
    u = u0.copy()
    for _ in range(3):
        _gauss_seidel_sweep(u, f, 0.1)
    return np.sum(u**2)


def changes_a_view(x):
    y = x * 1.0
    _fill_squares(y[1:], x[:2])
    return np.sum(y**3)


def changes_a_shared_array(x):
    buf = np.zeros(len(x))
    same = buf
    _fill_squares(buf, x)
    return np.sum(same * x)


def changes_its_own_argument(x):
    _bump(x, 1.0)
    return np.sum(x**2)


def recursion_fills(x):
    buf = np.zeros(3)
    _count_down(buf, x, 3)
    return np.sum(buf**2)


def rebinds_to_the_result(x):
    buf = np.zeros(len(x))
    buf = _fill_and_total(buf, x)
    return buf


CASES = [
    case(fills_without_result, arr(3)),
    case(fills_and_uses_result, arr(3)),
    case(bumps_an_array, arr(3), 0.4, wrt=(0, 1)),
    case(bumps_a_number, 0.8, 0.4, wrt=(0, 1)),
    case(changes_through_two_levels, arr(3)),
    case(relaxes_with_a_helper, arr(5), arr(5, seed=1), wrt=(0, 1)),
    case(changes_a_view, arr(3)),
    case(changes_a_shared_array, arr(3)),
    case(changes_its_own_argument, arr(3)),
    case(recursion_fills, 0.7),
    case(rebinds_to_the_result, arr(3)),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES)
def test_grad(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


def test_values_are_numpys():
    x = arr(3)
    for f in (fills_without_result, fills_and_uses_result, changes_a_view, recursion_fills):
        args = (0.7,) if f is recursion_fills else (x,)
        value, _ = sourcegrad.value_and_grad(f)(*args)
        assert value == pytest.approx(f(*args), rel=1e-13), f.__name__


def test_closed_form_of_a_filled_buffer():
    # buf = x**2, f = sum(x**3): df/dx = 3 x**2
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(sourcegrad.grad(fills_without_result)(x), 3 * x**2)


def test_the_derivative_calls_a_variant_returning_the_array():
    df = sourcegrad.grad(fills_without_result)
    df(arr(3))
    assert "fill_squares_changing_out_forward(buf, x)" in df.source


def _push(xs, v):
    xs.append(v)


def pushes_into_a_list(x):
    xs = [x]
    _push(xs, 2.0 * x)
    return sum(xs)


def test_changing_a_list_with_a_method_is_refused():
    with pytest.raises(sourcegrad.UnsupportedSyntaxError, match="changes its argument xs"):
        sourcegrad.grad(pushes_into_a_list)(0.5)
