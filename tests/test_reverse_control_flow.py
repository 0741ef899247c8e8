"""Reverse mode through control flow: if/elif/else on data (nested), for over range(...) with
argument bounds and steps, over array rows and lists, while loops with data-dependent trip counts
(Newton, fixed point), break, continue, early return, ternaries, and/or/not, variables overwritten
each iteration, accumulations, nested loops and loops that run zero times."""

import math

import numpy as np
import pytest

from oracle import arr, assert_grad, case, signed

# -- branches -------------------------------------------------------------------------------------


def piecewise(x):
    if x > 1.0:
        y = x**2
    elif x > -1.0:
        y = 2.0 * x - 1.0
    else:
        y = -(x**3)
    return y * x


def nested_if(x, y):
    if x > 0:
        if y > 0:
            z = x * y
        else:
            z = x - y
    else:
        if y > x:
            z = x**2 + y
        else:
            z = np.sin(x * y)
    return z * x


def if_on_array(a):
    if np.sum(a) > 0:
        return np.sum(a**2)
    else:
        return np.sum(np.exp(a))


def if_without_else(x):
    y = x
    if x > 0:
        y = y * 3.0
    return y * x


def branch_reassigns_twice(x, y):
    z = x * y
    if z > 0.5:
        z = z * z
        z = z + x
    else:
        z = np.tanh(z)
    return z * y


def early_return(x):
    if x < 0:
        return x**2
    return np.sin(x)


def return_in_elif(x, y):
    if x > 1.0:
        return x * y
    elif y > 0.0:
        return x + y * y
    return x * x * y


def ternary(x):
    y = x**2 if x > 0 else -x
    return y * x


def nested_ternary(x, y):
    return x * y if x > y else (x + y if y > 1.0 else x - y)


def and_or_not(x, y):
    if x > 0 and y > 0:
        z = x * y
    elif not (x > 1.0) or y < -2.0:
        z = x + 2.0 * y
    else:
        z = x - y
    return z * z


def if_on_int(x, n):
    if n > 2:
        return x**n
    return x * n


def if_on_bool(x, flag):
    return np.sin(x) if flag else np.cos(x)


# -- for loops ------------------------------------------------------------------------------------


def power_loop(x, n):
    y = 1.0
    for _ in range(n):
        y = y * x
    return y


def range_start_stop_step(x, lo, hi, step):
    s = 0.0
    for i in range(lo, hi, step):
        s = s + x**i / (i + 1.0)
    return s


def range_counting_down(x, n):
    s = x
    for i in range(n, 0, -1):
        s = s * x + i
    return s


def loop_over_rows(m, w):
    s = 0.0
    for row in m:
        s = s + np.sum(np.tanh(row * w))
    return s


def loop_over_elements(a):
    s = 0.0
    for v in a:
        s = s + np.sin(v) * v
    return s


def loop_over_constant_list(x):
    s = 0.0
    for c in [1.0, 2.0, 3.0]:
        s = s + c * x**c
    return s


def loop_over_active_list(x, y):
    s = 0.0
    for v in [x, y, x * y]:
        s = s + v * v
    return s


def overwrite_each_iteration(w, h, n):
    for _ in range(n):
        h = np.tanh(w * h)
    return np.sum(h * h)


def recurrent_net(w, xs, h):
    for x in xs:
        h = np.tanh(w @ h + x)
    return np.sum(h)


def accumulate_two(x, n):
    s = 0.0
    p = 1.0
    for i in range(n):
        p = p * x
        s = s + p / (i + 1)
    return s * p


def nested_loops(a, b):
    s = 0.0
    for i in range(len(a)):
        for j in range(len(b)):
            s = s + a[i] * b[j] * (i + 1) - a[i] ** 2 * j
    return s


def nested_data_loops(m):
    s = 1.0
    for row in m:
        for v in row:
            s = s * (1.0 + 0.1 * v)
    return s


def loop_with_branch(a):
    s = 0.0
    for v in a:
        if v > 0:
            s = s + v**2
        else:
            s = s - np.sin(v)
    return s


# -- break, continue, return in loops -------------------------------------------------------------


def break_on_value(x):
    s = 1.0
    for _ in range(10):
        s = s * x + 1.0
        if s > 5.0:
            break
    return s


def continue_negatives(a):
    s = 0.0
    for v in a:
        if v < 0:
            continue
        s = s + v**2
    return s


def return_inside_loop(x, y, n):
    for _ in range(n):
        x = x * 1.5
        if x > 4.0:
            return x * y
    return -x * y


def while_true_break(x):
    y = x
    while True:
        y = y * 1.3
        if y > 10.0:
            break
    return y


# -- while loops ----------------------------------------------------------------------------------


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


CASES = [
    *[case(piecewise, x) for x in (2.0, 0.3, -2.0)],
    *[
        case(nested_if, x, y, wrt=(0, 1))
        for x, y in ((0.5, 0.8), (0.5, -0.8), (-0.5, 0.8), (-0.5, -0.8))
    ],
    case(if_on_array, arr(3, lo=0.1, hi=1.0), name="if_on_array-positive"),
    case(if_on_array, arr(3, lo=-1.0, hi=-0.1), name="if_on_array-negative"),
    case(if_without_else, 0.7),
    case(if_without_else, -0.7),
    case(branch_reassigns_twice, 0.9, 1.1, wrt=(0, 1)),
    case(branch_reassigns_twice, 0.3, 0.5, wrt=(0, 1)),
    case(early_return, -0.6),
    case(early_return, 0.6),
    *[case(return_in_elif, x, y, wrt=(0, 1)) for x, y in ((1.5, 0.3), (0.5, 0.3), (0.5, -0.3))],
    case(ternary, 0.8),
    case(ternary, -0.8),
    *[case(nested_ternary, x, y, wrt=(0, 1)) for x, y in ((1.0, 0.5), (0.5, 1.5), (0.2, 0.7))],
    *[
        case(and_or_not, x, y, wrt=(0, 1))
        for x, y in ((0.5, 0.6), (0.5, -0.6), (1.5, -3.0), (1.5, -0.5))
    ],
    case(if_on_int, 0.7, 3),
    case(if_on_int, 0.7, 1),
    case(if_on_bool, 0.7, True),
    case(if_on_bool, 0.7, False),
    *[case(power_loop, 1.3, n) for n in (0, 1, 5)],
    case(range_start_stop_step, 0.8, 1, 8, 2),
    case(range_start_stop_step, 0.8, 2, 3, 1),
    case(range_start_stop_step, 0.8, 5, 5, 1),
    case(range_counting_down, 0.6, 4),
    case(loop_over_rows, arr(3, 2), arr(2, seed=1), wrt=(0, 1)),
    case(loop_over_rows, arr(3, 2), 0.8, wrt=(0, 1)),
    case(loop_over_elements, arr(4)),
    case(loop_over_constant_list, 0.9),
    case(loop_over_active_list, 0.9, -0.4, wrt=(0, 1)),
    case(overwrite_each_iteration, 0.9, 0.5, 4, wrt=(0, 1)),
    case(overwrite_each_iteration, arr(3), arr(3, seed=1), 3, wrt=(0, 1)),
    case(overwrite_each_iteration, 0.9, arr(3, seed=1), 0, wrt=(0, 1)),
    case(recurrent_net, arr(2, 2), arr(3, 2, seed=1), arr(2, seed=2), wrt=(0, 1, 2)),
    case(accumulate_two, 0.8, 4),
    case(nested_loops, arr(3), arr(2, seed=1), wrt=(0, 1)),
    case(nested_data_loops, arr(2, 3)),
    case(loop_with_branch, signed(5)),
    *[case(break_on_value, x) for x in (0.5, 1.3, 2.5)],
    case(continue_negatives, signed(5, seed=2)),
    case(return_inside_loop, 1.0, 0.7, 6, wrt=(0, 1)),
    case(return_inside_loop, 1.0, 0.7, 2, wrt=(0, 1)),
    case(return_inside_loop, 1.0, 0.7, 0, wrt=(0, 1)),
    case(while_true_break, 0.7),
    *[case(newton_sqrt, a) for a in (0.3, 2.0, 9.0)],
    *[case(fixed_point, a) for a in (-0.4, 0.2, 1.1)],
    case(while_counter, 0.4, 3),
    case(while_counter, 0.4, 0),
    case(while_halving, 35.0),
    case(while_halving, 3.0),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES)
def test_grad(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


@pytest.mark.parametrize("n", [0, 1, 2, 6])
def test_closed_form_power_loop(n):
    assert assert_grad(power_loop, 1.3, n) == pytest.approx(n * 1.3 ** (n - 1), rel=1e-10)


@pytest.mark.parametrize("a", [0.3, 2.0, 9.0])
def test_closed_form_newton_sqrt(a):
    assert assert_grad(newton_sqrt, a) == pytest.approx(0.5 / math.sqrt(a), rel=1e-9)


@pytest.mark.parametrize("a", [-0.4, 0.2, 1.1])
def test_closed_form_fixed_point(a):
    x = fixed_point(a)
    assert assert_grad(fixed_point, a) == pytest.approx(1.0 / (1.0 + 0.5 * math.sin(x)), rel=1e-9)
