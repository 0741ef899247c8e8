"""Reverse mode through the math module (exp, log, sin, cos, sqrt, tanh, pow, erf) and the
builtins abs, min, max, sum, float and len, in scalar functions, and the builtin max and min in
loops (a running max, a softmax shifted by it)."""

import math

import numpy as np
import pytest
from provenance import found_in

import sourcegrad
from oracle import arr, assert_grad, assert_value_and_grad, case, signed

# -- math -----------------------------------------------------------------------------------------


def m_exp(x):
    return math.exp(math.sin(x))


def m_log(x):
    return math.log(x * x + 1.0) * x


def m_log_plain(x):
    return math.log(x)


def m_sin(x):
    return math.sin(x) * x


def m_cos(x):
    return math.cos(2.0 * x) + x * x


def m_sqrt(x):
    return math.sqrt(x * x + 1.0)


def m_tanh(x):
    return math.tanh(2.0 * x) * x


def m_pow(x):
    return math.pow(x, 3)


def m_pow_both(x, y):
    return math.pow(x, y)


def m_pow_constant_base(x):
    return math.pow(2.0, x)


def m_erf(x):
    return math.erf(x) * x


def m_mixed(x, y):
    return math.exp(-x) * math.cos(y) + math.sqrt(math.exp(x)) * math.tanh(y)


def m_on_elements(a):
    return math.exp(a[0]) * a[1] + math.sin(a[2])


# -- builtins -------------------------------------------------------------------------------------


def b_abs(x):
    return abs(x) * x + abs(x - 1.0)


def b_min(x, y):
    return min(x, y) ** 2


def b_max(x, y):
    return max(x, y) * y


def b_max3(x, y, z):
    return max(x, y * 2.0, z) * x


def b_min_list(x, y):
    return min([x, y, 0.5]) * (x + y)


def b_sum_list(x, y):
    return sum([x, y * x, y])


def b_sum_array(a):
    return sum(a) ** 2


def b_float(x):
    return float(x) * x


def b_float_int(x, n):
    return x * float(n)


def b_len_array(a):
    return np.sum(a) / len(a)


def b_len_list(x, y):
    v = [x, y, x * y]
    return sum(v) / len(v)


CASES = [
    *[case(m_exp, x) for x in (-1.2, 0.4, 2.5)],
    case(m_log, -0.8),
    case(m_log, 1.7),
    case(m_log_plain, 0.6),
    *[case(f, x) for f in (m_sin, m_cos, m_sqrt, m_tanh, m_erf) for x in (-1.1, 0.7)],
    case(m_pow, -1.3),
    case(m_pow, 0.9),
    case(m_pow_both, 1.8, 0.7, wrt=(0, 1)),
    case(m_pow_both, 0.5, -1.5, wrt=(0, 1)),
    case(m_pow_constant_base, 1.3),
    case(m_mixed, 0.4, -0.9, wrt=(0, 1)),
    case(m_on_elements, arr(3)),
    case(b_abs, -1.3),
    case(b_abs, 0.6),
    case(b_abs, 1.8),
    case(b_min, 0.4, -0.9, wrt=(0, 1)),
    case(b_min, -0.4, 0.9, wrt=(0, 1)),
    case(b_max, 0.4, -0.9, wrt=(0, 1)),
    case(b_max, -0.4, 0.9, wrt=(0, 1)),
    *[
        case(b_max3, *xyz, wrt=(0, 1, 2))
        for xyz in ((1.5, 0.2, -1.0), (0.1, 0.6, 0.3), (0.1, -0.6, 0.9))
    ],
    case(b_min_list, 1.2, 0.9, wrt=(0, 1)),
    case(b_min_list, 0.2, 0.9, wrt=(0, 1)),
    case(b_min_list, 1.2, -0.3, wrt=(0, 1)),
    case(b_sum_list, 0.7, -1.4, wrt=(0, 1)),
    case(b_sum_array, arr(3)),
    case(b_float, 1.4),
    case(b_float_int, 1.4, 3),
    case(b_len_array, arr(4)),
    case(b_len_list, 0.7, -1.4, wrt=(0, 1)),
]


@pytest.mark.parametrize("x", [-0.8, 0.3, 1.6])
def test_closed_form_erf(x):
    expected = math.erf(x) + x * 2.0 / math.sqrt(math.pi) * math.exp(-x * x)
    assert assert_grad(m_erf, x) == pytest.approx(expected, rel=1e-10)


# -- builtin max and min in loops -----------------------------------------------------------------


def builtin_max_min_loop(a):
    best = -10.0
    worst = 10.0
    for v in a:
        best = max(best, v * v)
        worst = min(worst, v)
    return best * worst


def softmax_builtin_max(z):
    m = z[0]
    for v in z:
        m = max(m, v)
    e = np.exp(z - m)
    p = e / np.sum(e)
    return np.sum(p * np.arange(len(z)))


PROGRAMS = found_in("unseen", [
    case(builtin_max_min_loop, signed(5)),
]) + found_in("programs", [
    case(softmax_builtin_max, signed(5)),
])


def test_softmax_closed_form():
    # d/dz sum(p * c) = p * (c - sum(p * c))
    z = signed(5)
    p = np.exp(z - z.max()) / np.sum(np.exp(z - z.max()))
    c = np.arange(5.0)
    got = sourcegrad.grad(softmax_builtin_max)(z)
    np.testing.assert_allclose(got, p * (c - np.sum(p * c)), rtol=1e-10, atol=1e-14)


# -- the cases above against the oracle -----------------------------------------------------------


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES + PROGRAMS)
def test_grad(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)
