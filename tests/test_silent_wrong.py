"""The classes of silently wrong gradients of the issue "No silent wrong gradient" (kinds 1-8
and 13), each reproducer with its neighbours: the other arm, a deeper nesting, a `while`
instead of a `for`, a column instead of a row. Every case runs through `assert_grad`, which
also runs the generic and unoptimized derivatives in checked mode (tests/oracle.py).

To be folded into the construct modules once their reorganization lands.
"""

import numpy as np
import pytest

import sourcegrad
from oracle import arr, assert_grad, assert_value_and_grad, case, signed

# -- kind 1: a branch whose arm rebinds its own test --------------------------------------------


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


# -- kind 2: a store's adjoint handed on as a view of the part it zeroes ------------------------


def store_row_of_partly_known_shape(x, n):
    v = np.zeros(n) + x
    G = np.zeros((2, 3))
    G[1, :] = v * v
    return np.sum(G * G)


def store_column_of_partly_known_shape(x, n):
    v = np.zeros(n) + x
    G = np.zeros((3, 2))
    G[:, 0] = np.sin(v)
    G[:, 1] = v * 3.0
    return np.sum(G * G)


def store_rows_in_a_loop(x, n):
    G = np.zeros((3, 4))
    for i in range(3):
        G[i, :] = np.tanh(np.zeros(n) + x * (i + 1.0))
    return np.sum(G**3)


# -- kind 3: a temporary that views an array written later --------------------------------------


def transposed_then_written(x):
    z = x * 1.0
    s = np.sum(z.T * x)
    z[0] = 0.0
    return s + np.sum(z)


def np_transpose_then_written(x):
    z = x * 1.0
    s = np.sum(np.transpose(z) * x)
    z[0] = 0.0
    return s + np.sum(z)


def method_transpose_then_written(x):
    z = x * 1.0
    s = np.sum(z.transpose() * x)
    z[0] = 0.0
    return s + np.sum(z)


def moveaxis_then_written(x):
    z = x * 1.0
    s = np.sum(np.moveaxis(z, 0, 1) * x)
    z[:, 1] = 2.0
    return s + np.sum(z * z)


def swapaxes_then_written(x):
    z = x * 1.0
    s = np.sum(np.swapaxes(z, 0, 1) * x)
    z[1] = 0.5
    return s + np.sum(z)


def asarray_then_written(x):
    z = x * 1.0
    s = np.sum(np.asarray(z) * x)
    z[0] = 0.0
    return s + np.sum(z)


def reshape_ravel_squeeze_then_written(x):
    z = x * 1.0
    s = np.sum(z.reshape(9) ** 2) + np.sum(np.ravel(z) * 3.0) + np.sum(np.squeeze(z) ** 3)
    z[2, :] = 1.0
    return s + np.sum(z * z)


def column_view_then_written_in_loop(x):
    z = x * 1.0
    s = 0.0
    for j in range(3):
        s = s + np.sum(np.sin(z.T[j]) * x[:, j])
        z[:, j] = 0.0
    return s + np.sum(z)


# -- kind 4: a helper's tape holds its argument, written by the caller afterwards --------------


def squared_sum(s):
    return np.sum(s * s)


def weighted_tanh(s, w=2.0):
    return np.sum(np.tanh(s) * w)


def helper_then_write(x):
    z = x * 1.0
    a = squared_sum(z)
    z[0] = 0.0
    return a + np.sum(z)


def helper_in_loop_then_row_write(x):
    z = x * 1.0
    total = 0.0
    for i in range(2):
        total = total + weighted_tanh(z[i], w=1.5) + squared_sum(z)
        z[i] = z[i] * 0.5
    return total + np.sum(z**2)


def helper_then_list_append(x):
    xs = [x * 1.0, x * 2.0]
    a = sum_of_list(xs)
    xs.append(x * 3.0)
    return a + np.sum(xs[2])


def sum_of_list(xs):
    total = 0.0
    for item in xs:
        total = total + np.sum(item**2)
    return total


# -- kind 5: a recomputed loop-local reads a name rebound after the loop -----------------------


def recomputed_then_rebound(a):
    t = 0.0
    for i in range(2):
        t = t + np.sin(a + a)
    a = a * 3.0
    return t + a


def recomputed_in_while_then_rebound(a):
    t = 0.0
    i = 0
    while i < 3:
        t = t + np.cos(a * 2.0) * t + 1.0
        i += 1
    a = a - 1.0
    return t * a


def recomputed_then_rebound_in_branch(a, b):
    t = 0.0
    for i in range(3):
        t = t + np.tanh(a * b)
    if b > 0.0:
        a = a * b
    return t + a * a


# -- kind 7: tuple assignment through temporaries that alias ------------------------------------


def tuple_then_item_write(x):
    prev, e = np.tanh(x), 1.0
    prev[2] = prev[2] * 3.0
    return np.sum(prev) * e


def swapped_then_written(x, y):
    a, b = np.sin(x), np.cos(y)
    a, b = b, a
    b[0] = b[0] * 2.0
    return np.sum(a * b)


# -- kind 8: numbers re-bound after += ----------------------------------------------------------


def number_alias_then_augmented_in_loop(w):
    y = w * 1.0
    a = y
    t = 0.0
    for i in range(3):
        y += 1.0
        t = t + a * a
    return t + y


def number_alias_becomes_array(x, n):
    g = x * 2.0
    d = g
    d += np.zeros(n) + x
    return np.sum(d) + g


def array_alias_then_augmented(x):
    y = x * 1.0
    a = y
    for i in range(2):
        y += np.sin(a)
    return np.sum(a * y)


CASES = [
    case(conditional_in_elif, np.array([-0.5, 0.3, -1.2, 0.8, -0.7, 1.1]),
         np.array([0.4, -0.9, -0.3, 0.2, 0.6, -0.8]), 2.0, name="kind1-elif-ifexp"),
    case(conditional_in_elif, signed(6, seed=3), arr(6, seed=4), 2.0, wrt=(0, 2),
         name="kind1-elif-ifexp-wrt-k"),
    case(conditional_in_else_of_while, arr(7), 1.5, wrt=(0, 1), name="kind1-while"),
    case(flag_rebound_in_its_branch, arr(8, lo=-2.0, hi=2.0), name="kind1-user-flag"),
    case(nested_and_or, arr(6), 0.7, wrt=(0, 1), name="kind1-nested-and-or"),
    case(nested_and_or, arr(6), 1.3, wrt=(0, 1), name="kind1-nested-and-or-other-arm"),
    case(store_row_of_partly_known_shape, 0.7, 3, name="kind2-row"),
    case(store_column_of_partly_known_shape, 0.4, 3, name="kind2-column"),
    case(store_rows_in_a_loop, 0.3, 4, name="kind2-rows-in-loop"),
    case(transposed_then_written, arr(3, 3), name="kind3-T"),
    case(np_transpose_then_written, arr(3, 3), name="kind3-np-transpose"),
    case(method_transpose_then_written, arr(3, 3), name="kind3-transpose-method"),
    case(moveaxis_then_written, arr(3, 3), name="kind3-moveaxis"),
    case(swapaxes_then_written, arr(3, 3), name="kind3-swapaxes"),
    case(asarray_then_written, arr(3, 3), name="kind3-asarray"),
    case(reshape_ravel_squeeze_then_written, arr(3, 3), name="kind3-reshape-ravel-squeeze"),
    case(column_view_then_written_in_loop, arr(3, 3), name="kind3-column-in-loop"),
    case(helper_then_write, arr(3), name="kind4-helper"),
    case(helper_in_loop_then_row_write, arr(2, 3), name="kind4-helper-in-loop-row"),
    case(helper_then_list_append, arr(3), name="kind4-list-appended"),
    case(recomputed_then_rebound, 0.3, name="kind5-for"),
    case(recomputed_in_while_then_rebound, 0.3, name="kind5-while"),
    case(recomputed_then_rebound_in_branch, 0.4, 0.8, wrt=(0, 1), name="kind5-branch"),
    case(recomputed_then_rebound_in_branch, 0.4, -0.8, wrt=(0, 1),
         name="kind5-branch-other-arm"),
    case(tuple_then_item_write, arr(4), name="kind7-tuple"),
    case(swapped_then_written, arr(3), arr(3, seed=2), wrt=(0, 1), name="kind7-swap"),
    case(number_alias_then_augmented_in_loop, 0.4, name="kind8-number-alias-loop"),
    case(number_alias_becomes_array, 0.4, 3, name="kind8-number-becomes-array"),
    case(array_alias_then_augmented, arr(3), name="kind8-array-alias"),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES)
def test_gradient(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)


# -- kind 6: a negative constant folded and printed without parentheses ------------------------


def negative_constant_power(x):
    return x * (-0.77) ** 2


def negative_constants_everywhere(x):
    return np.sum(x ** (-2.0) * (-1.5) ** 3 + (-x) ** 2 - (-0.5) ** 2 * x)


@pytest.mark.parametrize("f, args, kwargs, wrt", [
    case(negative_constant_power, 0.3, name="kind6-power"),
    case(negative_constants_everywhere, arr(3, lo=0.5, hi=2.0), name="kind6-mixed"),
])
def test_negative_constants(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)


# -- kind 13: a 0-d array changed in place while shared -----------------------------------------


def zero_d_alias(x):
    y = x
    x += 1.0
    return np.sum(y * y)


def test_zero_d_array_shared_and_changed_is_refused():
    with pytest.raises(sourcegrad.UnsupportedSyntaxError, match="0-d array"):
        sourcegrad.grad(zero_d_alias)(np.array(0.5))


def test_zero_d_alias_of_a_number_and_of_an_array():
    assert_grad(zero_d_alias, 0.5)  # a float: y keeps 0.5
    assert_grad(zero_d_alias, np.array([0.5, 1.0]))  # an array: y sees the change


# -- kind 13: calls whose result is dropped change their arguments unseen -----------------------


def diagonal_zeroed_by_numpy(x, m):
    y = x * m
    np.fill_diagonal(m, 0.0)
    return np.sum(y) + np.sum(m * x)


def copied_into_by_numpy(x):
    m = np.ones(3) * 2.0
    y = np.sum(x * m)
    np.copyto(m, np.arange(3.0))
    return y + np.sum(m * x)


def filled_by_a_method(x):
    m = np.ones(3) * 2.0
    y = np.sum(x * m)
    m.fill(5.0)
    return y + np.sum(m * x)


def shuffled_by_a_generator(x):
    m = np.arange(3.0)
    y = np.sum(x * m)
    np.random.default_rng(0).shuffle(m)
    return y + np.sum(m * x)


def added_at_repeated_indices(x):
    m = np.ones(3) * 2.0
    y = np.sum(x * m)
    np.add.at(m, [0, 0], 1.0)
    return y + np.sum(m * x)


def put_by_numpy_while_shared(x):
    m = np.ones(3) * 2.0
    alias = m
    y = np.sum(x * m)
    np.put(m, [0], 7.0)
    return y + np.sum(alias * x)


def zero_the_diagonal(m):
    np.fill_diagonal(m, 0.0)


def set_first(v):
    v[0] = 0.0


def helper_changing_through_numpy(x):
    m = np.ones((3, 3)) * 2.0
    y = np.sum(x * m)
    zero_the_diagonal(m)
    return y + np.sum(m * x)


def inactive_helper_writing_an_argument(x, m):
    y = np.sum(x * m)
    set_first(m)
    return y + np.sum(m * x)


@pytest.mark.parametrize("f, args, kwargs, wrt", [
    case(diagonal_zeroed_by_numpy, arr(3), np.full((3, 3), 2.0), name="kind13-fill-diagonal"),
    case(copied_into_by_numpy, arr(3), name="kind13-copyto"),
    case(filled_by_a_method, arr(3), name="kind13-fill-method"),
    case(shuffled_by_a_generator, arr(3), name="kind13-shuffle"),
    case(added_at_repeated_indices, arr(3), name="kind13-add-at"),
    case(put_by_numpy_while_shared, arr(3), name="kind13-put-shared"),
    case(helper_changing_through_numpy, arr(3), name="kind13-helper-fill-diagonal"),
    case(inactive_helper_writing_an_argument, arr(3), np.full(3, 2.0),
         name="kind13-inactive-helper-writes-argument"),
])
def test_changes_by_calls_whose_result_is_dropped(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)
