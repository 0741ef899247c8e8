"""Reverse mode through branches: if/elif/else on data (nested), early return, conditional
expressions, and/or/not, branches on ints and bools, and branches that change a value's
kind or shape."""

import numpy as np
import pytest
from provenance import found_in

from oracle import arr, assert_value_and_grad, assert_vjp, case, signed

# -- if / elif / else, conditional expressions, and / or / not ------------------------------------


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


BRANCHES = [
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
]


# -- branches on reductions, branches that choose a shape -----------------------------------------


def only_through_branch(x, y):
    if y > 0:
        return x * 2.0
    return x * 3.0


def scalar_or_array_branch(a, x):
    if x > 0:
        y = a * x
    else:
        y = x
    return np.sum(y)


def vjp_branch_out(a, x):
    if x > 0:
        return a * x
    return a - x


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


def piecewise_in_loop(m):
    s = 0.0
    for row in m:
        if row.sum() > 0.5:
            s = s + np.max(row) * row[0]
        elif np.abs(row).min() < 0.4:
            s = s - np.min(row) ** 2
        else:
            s = s * 0.5 + np.mean(row**3)
    return s


PROGRAMS = found_in("unseen", [
    case(only_through_branch, 0.7, 0.5, wrt=(0, 1)),
    case(scalar_or_array_branch, arr(3), 0.5, wrt=(0, 1)),
    case(scalar_or_array_branch, arr(3), -0.5, wrt=(0, 1)),
]) + found_in("programs", [
    case(piecewise_reductions, arr(4, lo=-1.0, hi=1.9), name="piecewise-max"),
    case(piecewise_reductions, arr(4, lo=-0.5, hi=1.2), name="piecewise-mean"),
    case(piecewise_reductions, arr(4, lo=-1.9, hi=0.5), name="piecewise-min"),
    case(piecewise_reductions, arr(4, lo=-1.2, hi=0.3), name="piecewise-else"),
    case(piecewise_in_loop, signed(4, 3, seed=7)),
])


PROGRAMS_VJP = found_in("unseen", [
    pytest.param(vjp_branch_out, (arr(3), 0.5), arr(3, seed=2), id="branch-pos"),
    pytest.param(vjp_branch_out, (arr(3), -0.5), arr(3, seed=2), id="branch-neg"),
])


# -- a branch whose arm rebinds its own test; conditional expressions and and/or in loops ---------
# (issue 9 "No silent wrong gradient", kind 1)


def conditional_in_elif(g, v, k):
    total = 0.0
    for i in range(len(g)):
        pen = g[i] < 0.0
        if pen and v[i] < 0.0:
            force = -k * g[i] - 2.0 * v[i]
        elif pen or v[i] < -0.5:
            force = -k * g[i] * (1.0 if pen else 0.05)
        else:
            force = 0.0
        total += force**2
    return total


def flag_rebound_in_its_branch(x):
    total = 0.0
    for i in range(len(x)):
        flag = x[i] > 0.0
        if flag:
            flag = x[i] > 1.0
            total = total + x[i] * 2.0
        if flag:
            total = total + x[i] ** 3
    return total


def nested_and_or(x, w):
    total = 0.0
    for i in range(len(x)):
        a = x[i] > -0.5
        b = x[i] < 0.8
        if (a and b) or w > 1.0:
            total = total + np.sin(x[i] * w) * (1.0 if a and not b else 0.25)
        else:
            total = total + x[i] * w
    return total


REBOUND_TESTS = found_in("issue9", [
    case(conditional_in_elif, np.array([-0.5, 0.3, -1.2, 0.8, -0.7, 1.1]),
         np.array([0.4, -0.9, -0.3, 0.2, 0.6, -0.8]), 2.0, name="kind1-elif-ifexp"),
    case(conditional_in_elif, signed(6, seed=3), arr(6, seed=4), 2.0, wrt=(0, 2),
         name="kind1-elif-ifexp-wrt-k"),
    case(flag_rebound_in_its_branch, arr(8, lo=-2.0, hi=2.0), name="kind1-user-flag"),
    case(nested_and_or, arr(6), 0.7, wrt=(0, 1), name="kind1-nested-and-or"),
    case(nested_and_or, arr(6), 1.3, wrt=(0, 1), name="kind1-nested-and-or-other-arm"),
])


# -- the cases above against the oracle -----------------------------------------------------------


@pytest.mark.parametrize("f, args, kwargs, wrt", BRANCHES + PROGRAMS + REBOUND_TESTS)
def test_grad(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)


@pytest.mark.parametrize("f, args, seed", PROGRAMS_VJP)
def test_vjp(f, args, seed):
    assert_vjp(f, *args, seed=seed)


# -- an adjoint arm emptied by copy propagation ---------------------------------------------------
# Found by the fuzzer (seed 70000127): the adjoint of `M if c else M` on values without a
# gradient kept only copies, which the optimizer dropped: `if c:` was printed with no body.


def both_arms_read_the_same_array(a, y, M, b):
    u = [np.std(a), np.var(M if b >= 3.0 else M), y]
    t = u[2]
    M[0] += t
    a[:1] = y
    return np.sum(u) * y


@pytest.mark.parametrize("f, args, kwargs, wrt", found_in("fuzz", [
    case(both_arms_read_the_same_array, arr(3), 0.885, arr(2, 3, seed=1), 0.761, wrt=(0, 1)),
    case(both_arms_read_the_same_array, arr(3), 0.885, arr(2, 3, seed=1), 3.5, wrt=(0, 1)),
]))
def test_an_adjoint_arm_emptied_by_the_optimizer(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)
