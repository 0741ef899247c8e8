"""Reverse mode through while loops: data-dependent trip counts (Newton, fixed point, bisection to a
tolerance), counters, `while True` with break, continue and return, while loops nested in loops
and in helpers."""

import math

import numpy as np
import pytest
from provenance import found_in

import sourcegrad
from oracle import arr, assert_value_and_grad, case

# -- iterations to a tolerance: Newton, fixed point, bisection ------------------------------------


def _newton_cubic(a, b, damping=0.8):
    x = 1.0
    k = 0
    r = x**3 + a * x - b
    while abs(r) > 1e-13 and k < 200:
        x = x - damping * r / (3.0 * x * x + a)
        r = x**3 + a * x - b
        k = k + 1
    return x


def newton_loss(a, b):
    root = _newton_cubic(a, b)
    return (root - 0.5) ** 2 + root * a


def newton_in_loop(a, bs):
    s = 0.0
    for b in bs:
        s = s + _newton_cubic(a, b, damping=0.9) * b
    return s


def bisection_bracket(a, w):
    # root of x**2 - 2 in [0, a]: with the decisions fixed, the result is a dyadic fraction of a
    lo = 0.0
    hi = a
    while hi - lo > 1e-9:
        mid = 0.5 * (lo + hi)
        if mid * mid > 2.0:
            hi = mid
        else:
            lo = mid
    mid = 0.5 * (lo + hi)
    return mid * mid * w + a


def bisection_bracket_expected(a, w):
    lo, hi = 0.0, a
    while hi - lo > 1e-9:
        mid = 0.5 * (lo + hi)
        if mid * mid > 2.0:
            hi = mid
        else:
            lo = mid
    mid = 0.5 * (lo + hi)
    return 2.0 * mid * (mid / a) * w + 1.0, mid * mid


def bisection_feeds_weights(c, v):
    # the root depends only on the constant c; the gradient wrt v goes through the final midpoint
    lo = -3.0
    hi = 3.0
    while hi - lo > 1e-8:
        mid = (lo + hi) / 2.0
        if np.tanh(mid) - c > 0:
            hi = mid
        else:
            lo = mid
    mid = (lo + hi) / 2.0
    return np.sum(np.sin(v * mid)) + mid


def newton_sqrt(a):
    x = a
    x_new = 0.5 * (x + a / x)
    while abs(x_new - x) >= 1e-12:
        x = x_new
        x_new = 0.5 * (x + a / x)
    return x_new


def fixed_point(a):
    x = 0.0
    x_new = 0.5 * math.cos(x) + a
    while abs(x_new - x) > 1e-13:
        x = x_new
        x_new = 0.5 * math.cos(x) + a
    return x_new


TOLERANCE = found_in("programs", [
    case(newton_loss, 1.5, 0.8, wrt=(0, 1)),
    case(newton_in_loop, 1.2, arr(3, lo=0.2, hi=2.0), wrt=(0, 1)),
    case(bisection_feeds_weights, 0.3, arr(3), wrt=1),
])


@pytest.mark.parametrize("a", [2.5, 4.0, 1.7])
def test_bisection_closed_form(a):
    w = 0.6
    expected_da, mid2 = bisection_bracket_expected(a, w)
    da, dw = sourcegrad.grad(bisection_bracket, wrt=(0, 1))(a, w)
    np.testing.assert_allclose(da, expected_da, rtol=1e-9)
    np.testing.assert_allclose(dw, mid2, rtol=1e-12)


@pytest.mark.parametrize("a", [0.3, 2.0, 9.0])
def test_closed_form_newton_sqrt(a):
    got = assert_value_and_grad(newton_sqrt, a)
    assert got == pytest.approx(0.5 / math.sqrt(a), rel=1e-9)


@pytest.mark.parametrize("a", [-0.4, 0.2, 1.1])
def test_closed_form_fixed_point(a):
    x = fixed_point(a)
    got = assert_value_and_grad(fixed_point, a)
    assert got == pytest.approx(1.0 / (1.0 + 0.5 * math.sin(x)), rel=1e-9)


# -- counters and halving -------------------------------------------------------------------------


def while_counter(x, n):
    i = 0
    while i < n:
        x = np.sin(x) + x
        i = i + 1
    return x


def while_halving(x):
    while x > 10.0:
        x = x / 2.0
    return x * x


COUNTERS = [
    case(while_counter, 0.4, 3),
    case(while_counter, 0.4, 0),
    case(while_halving, 35.0),
    case(while_halving, 3.0),
]


# -- while True, break, continue and return -------------------------------------------------------


def while_break_nested(x):
    y = x
    k = 0
    while k < 10:
        k = k + 1
        if y > 2.0:
            if y > 3.0:
                break
            y = y * y
        else:
            y = y + 0.7
    return y * x


def while_true_continue_break(x, n):
    i = 0
    s = 0.0
    while True:
        i += 1
        if i > n:
            break
        if i % 2:
            continue
        s += x**i
    return s


def while_true_break(x):
    y = x
    while True:
        y = y * 1.3
        if y > 10.0:
            break
    return y


JUMPS = found_in("unseen", [
    case(while_break_nested, 0.8),
    case(while_break_nested, 2.5),
    case(while_true_continue_break, 0.7, 6),
]) + [
    case(while_true_break, 0.7),
]


# -- while loops nested in for and while loops ----------------------------------------------------


def while_in_for(x, n):
    s = 0.0
    for i in range(n):
        y = x + i
        while y > 1.0:
            y = y * 0.5
        s = s + y * y
    return s


def while_in_while(a, n):
    s = 0.0
    i = 0
    while i < n:
        j = i
        while j < n:
            s = s + a[i] * a[j]
            j = j + 1
        i = i + 1
    return s


def while_counting_in_for(a, n):
    s = 0.0
    for i in range(n):
        k = 0
        while k < i:
            s = s + a[k]
            k = k + 1
        s = s * 0.5
    return s


NESTED = found_in("unseen", [
    case(while_in_for, 2.7, 3),
    case(while_in_for, 0.3, 4),
    case(while_in_while, arr(3), 3),
    case(while_counting_in_for, arr(3), 3),
])


# -- while loops inside helpers -------------------------------------------------------------------


def _bisect_root(f, lo, hi, p):
    while hi - lo > 1e-10:
        mid = 0.5 * (lo + hi)
        if f(mid, p) > 0:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


def shifted_cube(t, p):
    return t**3 - p


def root_times(p):
    r = _bisect_root(shifted_cube, 0.0, 3.0, p)
    return r * p


def _newton_sqrt(a):
    x = a
    k = 0
    while k < 20:
        x_new = 0.5 * (x + a / x)
        if abs(x_new - x) < 1e-12:
            return x_new
        x = x_new
        k = k + 1
    return x


def newton_in_loop_with_containers(ps):
    total = 0.0
    for p in ps:
        total = total + _newton_sqrt(p) * p
    return total


def _first_above(x, limit):
    i = 0
    while i < len(x):
        if x[i] > limit:
            return x[i] * 2.0
        i = i + 1
    return x[0]


def while_early_return_helper(x):
    return _first_above(x, 0.5) + _first_above(x * 0.1, 0.5)


def _grow_while(x):
    k = 0
    while k < 3:
        x = np.sin(x) + x
        k = k + 1
    return x


def helper_with_while(x):
    return _grow_while(x) * x


def _first_big(x):
    while x < 3.0:
        x = x * 2.0
        if x > 2.5:
            return x * 1.5
    return x


def helper_return_in_while_in_loop(a):
    s = 0.0
    for v in a:
        s = s + _first_big(v)
    return s


HELPERS = found_in("round4", [
    case(newton_in_loop_with_containers, [2.0, 3.0, 0.5]),
    case(newton_in_loop_with_containers, (2.0, 3.0), name="newton_in_loop-tuple"),
    case(while_early_return_helper, arr(4)),
]) + found_in("unseen", [
    case(helper_with_while, 0.7),
    case(helper_return_in_while_in_loop, arr(4, lo=0.3, hi=2.9)),
])


def test_root_by_bisection_has_the_derivative_of_its_replayed_steps():
    # bisection's result is piecewise constant in p, so the derivative of r * p is r itself
    got = sourcegrad.grad(root_times)(2.0)
    assert got == pytest.approx(2.0 ** (1.0 / 3.0), rel=1e-8)


# -- indices stepped by hand ----------------------------------------------------------------------


def while_index(a):
    i = 0
    s = 0.0
    while i < a.size:
        s = s + a[i] * a[a.size - 1 - i]
        i += 2
    return s


PROGRAMS = found_in("unseen", [
    case(while_index, arr(5)),
])


# -- a conditional expression in a branch; a recomputed local whose input is rebound after -------
# (issue 9 "No silent wrong gradient", kinds 1 and 5)


def conditional_in_else_of_while(g, k):
    total = 0.0
    i = 0
    while i < len(g):
        small = g[i] < 0.5
        if small and g[i] > -0.5:
            total = total + g[i] * (k if small else 2.0)
        else:
            total = total + g[i] ** 2 * (3.0 if g[i] > 0.0 else 0.5)
        i += 1
    return total


def recomputed_in_while_then_rebound(a):
    t = 0.0
    i = 0
    while i < 3:
        t = t + np.cos(a * 2.0) * t + 1.0
        i += 1
    a = a - 1.0
    return t * a


# Found by the fuzzer: the counter of a while loop on one arm of a branch that breaks was pushed
# on the other arm too, where it is unbound (an UnboundLocalError in the derivative)
def while_on_the_arm_that_does_not_break(a, x, scale):
    total = scale * 1.0
    for i in range(len(a)):
        if x <= a[i]:
            break
        g = 1.0
        while g > 1e-3:
            g = g * 0.5
            total = total + np.sin(scale * g) * a[i]
    return total


REBOUND = found_in("issue9", [
    case(conditional_in_else_of_while, arr(7), 1.5, wrt=(0, 1), name="kind1-while"),
    case(recomputed_in_while_then_rebound, 0.3, name="kind5-while"),
    case(while_on_the_arm_that_does_not_break, np.array([-0.5, 0.5, 1.2, -1.3]), 0.9, 0.7,
         wrt=(0, 2), name="fuzz-while-counter-on-one-arm"),
    case(while_on_the_arm_that_does_not_break, np.array([-0.5, 0.5, 1.2, -1.3]), -0.9, 0.7,
         wrt=(0, 2), name="fuzz-while-counter-on-one-arm-breaks-first"),
])


# -- the cases above against the oracle -----------------------------------------------------------


@pytest.mark.parametrize(
    "f, args, kwargs, wrt",
    TOLERANCE + COUNTERS + JUMPS + NESTED + HELPERS + PROGRAMS + REBOUND,
)
def test_grad(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)
