"""Reverse mode through for loops: range(...) with argument bounds and steps, over array rows and
lists, variables overwritten each iteration, accumulations, nested loops, loops that run zero
times, loop targets rebound, break, continue and return inside loops, and longer programs
built on loops (ODE integrators, filters, training steps)."""

import math

import numpy as np
import pytest
from provenance import found_in

import sourcegrad
from oracle import arr, assert_value_and_grad, assert_vjp, case, line_of, signed

# -- for over ranges, rows, elements and lists ----------------------------------------------------


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


FOR = [
    case(power_loop, 1.3, 5),
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
]


@pytest.mark.parametrize("n", [0, 1, 2, 6])
def test_closed_form_power_loop(n):
    got = assert_value_and_grad(power_loop, 1.3, n)
    assert got == pytest.approx(n * 1.3 ** (n - 1), rel=1e-10)


# -- nested loops, inner loops that run zero times ------------------------------------------------


def deep_nesting(x, w):
    total = 0.0
    for i in range(2):
        for j in range(3):
            for k in range(2):
                v = x[j] * w
                if (i + j + k) % 2 == 0:
                    if v > 0:
                        total = total + v * v
                    else:
                        total = total - v
                elif k == 1:
                    total = total + np.sin(v) * (i + 1)
                else:
                    continue
    return total


def deep_nesting_with_break_while(x):
    total = 0.0
    for i in range(3):
        for j in range(3):
            n = 0
            while n < 3:
                if x[i] * x[j] > 1.5:
                    break
                total = total + x[i] * x[j] * (n + 1)
                n = n + 1
    return total


def inner_var_after_inner_loop(a, n):
    s = 0.0
    for i in range(n):
        for j in range(len(a)):
            t = a[j] * (i + 1.0)
        s = s + t * t + j * a[0]
    return s


def triangular_inner_loop(a):
    s = 0.0
    for i in range(len(a)):
        for j in range(i):
            s = s + a[j]
    return s


def triangular_products(a):
    s = 0.0
    for i in range(len(a)):
        p = 1.0
        for j in range(i):
            p = p * a[j]
        s = s + p * a[i]
    return s


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


# Found by the fuzzer: the reversed inner loop recomputes `v = 0.2 * y` (a cheap loop-local);
# `y` changed after the outer loop must be put back for it, not only after an inner loop


def inner_recompute_reads_name_changed_after(y, M):
    M = M * 1.0
    for _ in range(3):
        for _ in range(2):
            M = M * (0.5 * y)
    y += 0.3
    return np.sum(y * y) + np.sum(M * M)


def inner_recompute_in_generic_shape_read(y, M, n):
    M = (M[n, 1] * np.linspace(-0.6, 0.74, 6)).reshape((3, 2), order="F") ** 2
    for _ in range(4):
        for _ in range(n):
            M -= 0.2 * y
    y += 0.3
    return np.sum(y * y) + np.sum(M * M)


def inner_recompute_read_by_rule(y, M):
    for _ in range(2):
        for _ in range(2):
            M = np.sin(M * (y + 0.5))
    y = y * 2.0
    return y + np.sum(M)


# Found by the fuzzer: a loop whose adjoint's ownership passes did not settle dropped the names
# of the body it kept; `a_prev` of the statement before the loop was then the loop's own


def scaled_then_loop_reads_view_from_before(a, ws):
    w13 = a[:1]
    a *= 0.9
    for _ in range(len(a)):
        a += ws[-2]
    return np.sum(w13)


def squared_then_loop_reads_view_from_before(a, ws):
    w13 = a[:1]
    a *= a
    for _ in range(len(a)):
        a += ws[-2]
    return np.sum(w13) + np.sum(a * a)


def squared_then_view_taken_in_loop(a, ws):
    w13 = a[:1]
    a = a * a
    for _ in range(len(a)):
        a = a + ws[-2]
        w13 = a[:1]
    return np.sum(w13 * w13)


def rebound_to_itself_then_added_item(a):
    a = a * 0.8
    for i in range(len(a)):
        a = a
        a += a[i]
    return np.sum(a)


M32 = np.array([[0.853, -0.738], [1.205, -1.169], [-0.279, 0.311]])
A3 = np.array([-0.893, 1.16, 0.124])
WS = [np.array([-0.866, 1.111, -0.188]), np.array([-0.096, -1.227, 0.789])]


NESTED = found_in("round4", [
    case(deep_nesting, arr(3), 0.7, wrt=(0, 1)),
    case(deep_nesting_with_break_while, arr(3, lo=0.2, hi=1.5)),
]) + found_in("unseen", [
    case(inner_var_after_inner_loop, arr(3), 3),
    case(inner_var_after_inner_loop, arr(3), 0),
    case(triangular_inner_loop, arr(3)),
    case(triangular_products, arr(4)),
]) + [
    case(nested_loops, arr(3), arr(2, seed=1), wrt=(0, 1)),
    case(nested_data_loops, arr(2, 3)),
] + found_in("fuzz", [
    case(inner_recompute_reads_name_changed_after, -1.046, M32, wrt=(0, 1)),
    case(inner_recompute_in_generic_shape_read, -1.046, M32, 1, wrt=(0, 1)),
    case(inner_recompute_read_by_rule, 0.3, M32, wrt=(0, 1)),
    case(scaled_then_loop_reads_view_from_before, A3, WS, wrt=(0, 1),
         name="scaled_then_loop_reads_view_from_before-3-list"),
    case(squared_then_loop_reads_view_from_before, A3, WS, wrt=(0, 1),
         name="squared_then_loop_reads_view_from_before-3-list"),
    case(squared_then_view_taken_in_loop, A3, WS, wrt=(0, 1),
         name="squared_then_view_taken_in_loop-3-list"),
    case(rebound_to_itself_then_added_item, np.array([1.227, 0.243, -0.283, -1.166])),
])


# -- branches inside loops ------------------------------------------------------------------------


def bound_in_if_in_loop(a):
    s = 0.0
    for v in a:
        if v > 0:
            w = v * v
        else:
            w = np.sin(v)
        s = s + w * v
    return s


def bound_in_if_used_same_iteration(x, n):
    s = 0.0
    for i in range(n):
        if i % 2 == 0:
            tmp = x * (i + 1.0)
            s = s + tmp * tmp
        s = s * x
    return s


def loop_with_branch(a):
    s = 0.0
    for v in a:
        if v > 0:
            s = s + v**2
        else:
            s = s - np.sin(v)
    return s


# Neighbours of a fuzzer find: a loop-local bound in an arm, then again after the branch; the
# arm's value is pushed at the end of the arm (its adjoint reads it), the later one at the end


def bound_in_arm_then_after_branch(x, a):
    for _ in range(3):
        if a[0] > 0:
            t = np.sin(a * x)
            a = a + t * t
        t = np.cos(a)
        a = a * t
    return np.sum(a)


def bound_in_nested_arm_then_in_both_arms(x, a):
    for i in range(3):
        if a[i] > 0:
            if x > 0.1:
                t = np.sin(a * x)
                a = a + t * t
            t = np.tanh(a)
            a = a * t
        else:
            t = np.cos(a * x)
            a = a - t * x
    return np.sum(a)


A3D = np.array([0.3, -0.5, 0.9])
BRANCHES = found_in("unseen", [
    case(bound_in_if_in_loop, signed(5)),
    case(bound_in_if_used_same_iteration, 0.8, 5),
]) + [
    case(loop_with_branch, signed(5)),
] + found_in("fuzz", [
    case(bound_in_arm_then_after_branch, 0.7, A3D, wrt=(0, 1), name="arm_then_after-taken"),
    case(bound_in_arm_then_after_branch, 0.7, -A3D, wrt=(0, 1), name="arm_then_after-skipped"),
    case(bound_in_nested_arm_then_in_both_arms, 0.7, A3D, wrt=(0, 1), name="nested_arm-taken"),
    case(bound_in_nested_arm_then_in_both_arms, 0.05, A3D, wrt=(0, 1), name="nested_arm-skipped"),
])


# -- break, continue and return inside loops ------------------------------------------------------


def return_from_nested_loops(x, n):
    s = x
    for _i in range(n):
        for j in range(n):
            s = s * 1.2 + j
            if s > 8.0:
                return s * x
    return -s


def break_in_nested_if(a):
    s = 0.0
    for v in a:
        if v > -1.5:
            if s > 1.0:
                break
            s = s + v * v
        s = s * 1.1
    return s


def continue_then_code(a):
    s = 0.0
    p = 1.0
    for v in a:
        p = p * (1.0 + 0.1 * v)
        if v < 0:
            s = s - v
            continue
        q = v * p
        s = s + q * q
        p = p + q
    return s * p


def break_inner_only(m):
    s = 0.0
    for row in m:
        for v in row:
            if v < 0:
                break
            s = s + v
        s = s * 1.5
    return s


def continue_inner_last(m):
    s = 0.0
    for row in m:
        for v in row:
            if v > 0:
                s = s + v * s + v
                continue
            s = s - v * v
    return s


def break_in_nested_if_in_inner_loop(x, n):
    s = x
    for _k in range(n):
        for _j in range(2):
            if s > 10:
                if x > 1.0:
                    break
            s = s * x
    return s


def return_in_nested_if_in_nested_loop(a, n):
    for k in range(n):
        for v in a:
            if v > 0:
                if v * k > 1.0:
                    return v * k * np.sum(a)
    return np.sum(a * a)


def _grow_until(x):
    for _ in range(5):
        x = x * 1.5
        if x > 2.0:
            break
    return x


def helper_with_break(x):
    return _grow_until(x) + _grow_until(x * 0.5)


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


# Found by the fuzzer: lowering `break` / `continue` copies the statements after it into each
# arm; a loop-local they bind is pushed at the end of every arm that binds it, not only the first


def break_in_nested_if_then_write_through_ellipsis(a, x, n):
    a = a * 1.0
    for i in range(n):
        if x > 0.3:
            if x < 1.2 - i:
                break
        a[...] *= np.array([x, x, x]) + a
    return np.sum(a * a)


def break_in_nested_if_then_temporary(a, x, n):
    for i in range(n):
        if x > 0.3:
            if x < 1.2 - i:
                break
        t = np.sin(a * x)
        a = a + t * t
    return np.sum(a * a)


def break_in_nested_if_elif_then_temporary(a, x, n):
    for i in range(n):
        if x > 0.3:
            if x < 1.2 - i:
                break
        elif x < -5.0:
            a = a * 2.0
        else:
            a = a + 0.1
        t = np.sin(a * x)
        a = a + t * t
    return np.sum(a * a)


def continue_in_nested_if_then_temporary(a, x, n):
    for i in range(n):
        if x > 0.3:
            if x < 1.2 - i:
                continue
        t = np.sin(a * x)
        a = a + t * t
    return np.sum(a * a)


def break_then_array_subtracted(a, x, n):
    a = a * 1.0
    for _ in range(n):
        if not x <= 0.3:
            break
        a[...] -= np.array([x, x, x])
    return np.sum(a * a)


def continue_then_rebound_from_temporaries(x, a):
    for i in range(len(a)):
        if x * a[i] < 0.5:
            if x > 3.0:
                continue
        a = a * x + 0.1 * (a * a)
    return np.sum(np.tanh(a))


def continue_then_affine_update(x, a):
    for i in range(len(a)):
        if x * a[i] < 0.5:
            if x > 3.0:
                continue
        a = a * 0.8 + 0.1 * (a + 0.0)
    return np.sum(x * x) + np.sum(np.tanh(a))


A3B = np.array([-0.138, 0.873, -1.212])
A3C = np.array([-0.091, 1.181, -0.879])


JUMPS = found_in("unseen", [
    case(return_from_nested_loops, 1.1, 4),
    case(return_from_nested_loops, 0.5, 2),
    case(break_in_nested_if, signed(6)),
    case(continue_then_code, signed(6, seed=3)),
    case(break_inner_only, signed(3, 4, seed=4)),
    case(continue_inner_last, signed(3, 3, seed=5)),
    case(break_in_nested_if_in_inner_loop, 0.5, 2),
    case(return_in_nested_if_in_nested_loop, signed(4), 3, name="return_nested-taken"),
    case(
        return_in_nested_if_in_nested_loop,
        arr(4, lo=-2.0, hi=-0.1),
        3,
        name="return_nested-never_taken",
    ),
    case(helper_with_break, 0.7),
]) + [
    *[case(break_on_value, x) for x in (0.5, 1.3, 2.5)],
    case(continue_negatives, signed(5, seed=2)),
    case(return_inside_loop, 1.0, 0.7, 6, wrt=(0, 1)),
    case(return_inside_loop, 1.0, 0.7, 2, wrt=(0, 1)),
    case(return_inside_loop, 1.0, 0.7, 0, wrt=(0, 1)),
] + found_in("fuzz", [
    *[case(f, A3B, x, 3, wrt=(0, 1), name=f"{f.__name__}-{x}")
      for f in (break_in_nested_if_then_write_through_ellipsis,
                break_in_nested_if_then_temporary, break_in_nested_if_elif_then_temporary,
                continue_in_nested_if_then_temporary) for x in (0.2, 0.7)],
    case(break_then_array_subtracted, A3B, -1.378, 3, wrt=1),
    case(break_then_array_subtracted, A3B, 0.5, 3, wrt=(0, 1)),
    case(continue_then_rebound_from_temporaries, -0.914, A3C, wrt=(0, 1)),
    case(continue_then_affine_update, -0.914, A3C, wrt=(0, 1)),
])


# -- loop targets, iterables and bounds rebound; tuple swaps --------------------------------------


def reversed_range_with_writes(x):
    y = np.zeros(4)
    y[3] = x[3]
    for i in reversed(range(3)):
        y[i] = y[i + 1] * x[i] + np.sin(x[i])
    return np.sum(y * y)


def swap_in_loop_arrays(a, b, n):
    for _ in range(n):
        a, b = b, a * b
    return np.sum(a - b * b)


def rotate_three(x, y, z, n):
    for _ in range(n):
        x, y, z = y, z, x * y + z
    return x * y * z


def fib_like(x, n):
    a, b = 1.0, x
    for _ in range(n):
        a, b = b, a + b * x
    return b


def for_rebinds_iterable(a):
    s = 0.0
    for v in a:
        a = a * 2.0
        s = s + v
    return s


def for_rebinds_iterable_rows(m):
    s = 0.0
    for row in m:
        m = m[::-1]
        s = s + np.sum(row * m[0])
    return s


def loop_var_reassigned_in_body(a):
    s = 0.0
    for v in a:
        v = v * v
        s = s + v
    return s


def range_var_reassigned(x, n):
    s = 0.0
    for i in range(n):
        i = i * 2
        s = s + x**i
    return s


def range_bound_reassigned(x, n):
    s = 0.0
    for _ in range(n):
        n = n - 1
        s = s + x * n
    return s


def loop_var_after_loop(x, n):
    for i in range(n):  # noqa: B007
        x = x * 1.1
    return x * i


def data_loop_var_after_loop(a):
    s = 0.0
    for v in a:
        s = s + v
    return s * v


def list_of_vars_rebound(x, y):
    s = 0.0
    for v in [x, y]:
        x = x * 3.0
        s = s + v * x
    return s


# a local recomputed in the loop's adjoint reads a name rebound after the loop (issue 9 "No silent
# wrong gradient", kind 5)


def recomputed_then_rebound(a):
    t = 0.0
    for i in range(2):
        t = t + np.sin(a + a)
    a = a * 3.0
    return t + a


def recomputed_then_rebound_in_branch(a, b):
    t = 0.0
    for i in range(3):
        t = t + np.tanh(a * b)
    if b > 0.0:
        a = a * b
    return t + a * a


# Found by the fuzzer (seed 90015): Python's loop reads each item as it gets there, so it sees
# a change made by an earlier iteration; the lowered loop would read the array as it was.
def changes_the_array_it_walks(a, n):
    alias = a
    for e, _ in zip(alias, a, strict=True):
        a[n] += e
    return np.sum(alias)


def changes_the_array_a_copy_of_which_it_walks(a, n):
    for e in a.copy():
        a[n] += np.sin(e)
    return np.sum(a * a)


def writes_ahead_of_the_loop_over_it(a):
    # each item is read when the loop gets to it: the write into a[2] shows at the third
    b = a * 1.0
    s = 0.0
    for x in b:
        b[2] = x * 3.0
        s = s + x * x
    return s


def writes_into_the_array_it_walks_after_binding_it_anew(a):
    # `a = a * 2.0` makes a new array; the loop goes on over the one it started with
    s = 0.0
    for x in a:
        a = a * 2.0
        a[0] = x
        s = s + x * np.sum(a)
    return s


def writes_into_a_list_it_walks(a):
    xs = [a[0], a[1], a[2]]
    s = 0.0
    for x in xs:
        xs[2] = x * 3.0
        s = s + x * x
    return s


def writes_into_the_argument_it_walks(a, n):
    for e in a:
        a[n] += np.sin(e)
    return np.sum(a * a)


def changes_all_of_the_array_it_walks(a):
    b = a * 1.0
    s = 0.0
    for x in b:
        b *= 2.0
        s = s + x
    return s


def inner_loop_reads_what_the_outer_one_binds(x, y, m, a):
    # found by the fuzzer (seed 46000339): the inner reversed loop recomputed `m[1, 1]` from
    # the last outer iteration's m, not from the one it ran in
    for _ in a:
        m = m + m
        for _ in range(len(a)):
            x = x + y * m[1, 1]
    return x


def inner_loop_reads_what_a_while_binds(y, m):
    k = 0
    s = 0.0
    while k < 3:
        m = m * 1.5
        for j in range(2):
            s = s + y * m[j] * m[j + 1]
        k += 1
    return s


def inner_loop_reads_what_a_branch_binds(y, m, a):
    s = 0.0
    for e in a:
        if e > 0.0:
            m = m + e
        for j in range(2):
            s = s + y * m[j]
    return s


NESTED_RECOMPUTE = found_in("fuzz", [
    case(inner_loop_reads_what_the_outer_one_binds, 0.9, 1.23, arr(2, 3), arr(4), wrt=(0, 1, 2)),
    case(inner_loop_reads_what_a_while_binds, 0.7, arr(3), wrt=(0, 1)),
    case(inner_loop_reads_what_a_branch_binds, 0.7, arr(3), signed(4), wrt=(0, 1, 2)),
])


WRITES_AHEAD = [  # refused ("changed in place while the loop iterates over it") until the
    # loop read each item by index as Python's does
    case(writes_ahead_of_the_loop_over_it, arr(3)),
    case(writes_into_the_array_it_walks_after_binding_it_anew, arr(3)),
    case(writes_into_a_list_it_walks, arr(3)),
    case(writes_into_the_argument_it_walks, arr(3), 1),
]


def test_a_loop_over_an_array_changed_whole_is_refused():
    # `b *= 2.0` could be a list growing (`xs += [v]`): the loop would see new items
    with pytest.raises(sourcegrad.UnsupportedSyntaxError, match="while the loop at line"):
        sourcegrad.grad(changes_all_of_the_array_it_walks)(arr(3))


TARGETS = found_in("round4", [
    case(reversed_range_with_writes, arr(4)),
]) + found_in("unseen", [
    case(swap_in_loop_arrays, arr(3), arr(3, seed=1), 3, wrt=(0, 1)),
    case(rotate_three, 0.7, 0.9, 1.1, 4, wrt=(0, 1, 2)),
    case(fib_like, 0.6, 5),
    case(for_rebinds_iterable, arr(3)),
    case(for_rebinds_iterable_rows, arr(3, 2)),
    case(loop_var_reassigned_in_body, arr(3)),
    case(range_var_reassigned, 0.7, 3),
    case(range_bound_reassigned, 0.7, 3),
    case(loop_var_after_loop, 0.7, 3),
    case(data_loop_var_after_loop, arr(3)),
    case(list_of_vars_rebound, 0.7, 1.3, wrt=(0, 1)),
]) + found_in("issue9", [
    case(recomputed_then_rebound, 0.3, name="kind5-for"),
    case(recomputed_then_rebound_in_branch, 0.4, 0.8, wrt=(0, 1), name="kind5-branch"),
    case(recomputed_then_rebound_in_branch, 0.4, -0.8, wrt=(0, 1),
         name="kind5-branch-other-arm"),
    case(changes_the_array_a_copy_of_which_it_walks, arr(3), 1, name="fuzz-90015-over-a-copy"),
])


def test_changing_the_array_a_loop_walks_is_refused_at_the_change():
    with pytest.raises(sourcegrad.UnsupportedSyntaxError,
                       match="changed in place while the loop at line") as error:
        sourcegrad.grad(changes_the_array_it_walks)(arr(3), 1)
    line, text = line_of(changes_the_array_it_walks, "a[n] += e")
    assert f"test_reverse_loops.py:{line}" in str(error.value) and text in str(error.value)


# -- bounds from shapes, lengths and integer arithmetic -------------------------------------------


def bounds_from_shape(m):
    s = 0.0
    for i in range(m.shape[0]):
        for j in range(i, m.shape[1]):
            s = s + m[i, j] * (i - j)
    return s


def bounds_from_len(a):
    s = 0.0
    n = len(a)
    for i in range(n - 1):
        s = s + (a[i + 1] - a[i]) ** 2
    return s / n


def int_arithmetic_weights(x, n):
    s = 0.0
    for i in range(n):
        k = (i * 3) % 4
        s = s + x ** (k + 1) / (k + 1)
    return s


BOUNDS = found_in("unseen", [
    case(bounds_from_shape, arr(3, 4)),
    case(bounds_from_len, arr(5)),
    case(int_arithmetic_weights, 0.9, 6),
])


# -- values whose shape grows from one iteration to the next --------------------------------------


def scalar_grows_to_array_in_loop(x, n):
    s = 0.0
    for _ in range(n):
        s = s + x
        s = s * x
    return np.sum(s)


def grows_shape_loop(a, b, n):
    s = 0.0
    for i in range(n):
        if i == 0:
            s = s + a
        elif i == 1:
            s = s[:, None] * b
        else:
            s = np.tanh(s)
    return np.sum(s)


def shape_grows_rows(m, w):
    s = 0.0
    for row in m:
        s = s + row * w
    return np.sum(s @ m.T)


def shape_grows_to_matrix(a, b, n):
    # s: scalar, then (3,) with a, then (2, 3) with b of shape (2, 1)
    s = 0.0
    for i in range(n):
        if i == 0:
            s = s + a
        else:
            s = s * b + a * 0.5
    return np.sum(s * s)


SHAPES = found_in("unseen", [
    case(scalar_grows_to_array_in_loop, arr(3), 3),
    case(grows_shape_loop, arr(3), arr(2, seed=1), 4, wrt=(0, 1)),
    case(grows_shape_loop, arr(3), arr(2, seed=1), 1, wrt=(0, 1)),
]) + found_in("programs", [
    case(shape_grows_rows, arr(3, 2), arr(2, seed=1), wrt=(0, 1)),
    case(shape_grows_to_matrix, arr(3), arr(2, 1, seed=1), 3, wrt=(0, 1)),
    case(shape_grows_to_matrix, arr(3), arr(2, 1, seed=1), 1, wrt=(0, 1)),
])


# -- ODE integrators ------------------------------------------------------------------------------


def euler_scalar(k, y0, dt, n):
    y = y0
    t = 0.0
    for _ in range(n):
        y = y + dt * (-k * y + np.sin(t))
        t = t + dt
    return y * y


def _decay_rhs(y, t, k, forcing=0.3):
    return -k * y + forcing * math.cos(t)


def rk4_scalar(k, y0, n, dt=0.1):
    y = y0
    t = 0.0
    for _ in range(n):
        k1 = _decay_rhs(y, t, k)
        k2 = _decay_rhs(y + 0.5 * dt * k1, t + 0.5 * dt, k)
        k3 = _decay_rhs(y + 0.5 * dt * k2, t + 0.5 * dt, k)
        k4 = _decay_rhs(y + dt * k3, t + dt, k, forcing=0.3)
        y = y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        t += dt
    return y


def _oscillator(s, w, c):
    return np.stack([s[1], -w * w * s[0] - c * s[1]])


def rk4_oscillator(s, w, c, n):
    dt = 0.05
    energy = 0.0
    for _ in range(n):
        k1 = _oscillator(s, w, c)
        k2 = _oscillator(s + 0.5 * dt * k1, w, c)
        k3 = _oscillator(s + 0.5 * dt * k2, w, c)
        k4 = _oscillator(s + dt * k3, w, c)
        s = s + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        energy = energy + 0.5 * (s[1] ** 2 + w * w * s[0] ** 2) * dt
    return energy


def _lotka(x, y, a, b, c, d):
    return a * x - b * x * y, d * x * y - c * y


def euler_lotka_volterra(params, x, y, n):
    a = params[0]
    b = params[1]
    c = params[2]
    d = params[3]
    dt = 0.02
    for _ in range(n):
        dx, dy = _lotka(x, y, a, b, c, d)
        x, y = x + dt * dx, y + dt * dy
    return x * y + x


def euler_linear_system(a, s, n):
    for _ in range(n):
        s = s + 0.1 * (a @ s)
    return np.sum(s * s)


def euler_closed_form(k, y0, n):
    y = y0
    for _ in range(n):
        y = y - 0.1 * k * y
    return y


def euler_batch_states(k, states, n):
    # several trajectories at once, (2, 3) states with (1, 3) rates
    for _ in range(n):
        states = states + 0.1 * (-k * states + np.tanh(states[::-1]))
    return np.sum(states**2)


def rk4_trajectory_end(s, w, c):
    dt = 0.1
    for _ in range(4):
        k1 = _oscillator(s, w, c)
        k2 = _oscillator(s + 0.5 * dt * k1, w, c)
        k3 = _oscillator(s + 0.5 * dt * k2, w, c)
        k4 = _oscillator(s + dt * k3, w, c)
        s = s + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return s


ODE = found_in("programs", [
    case(euler_scalar, 0.7, 1.2, 0.1, 8, wrt=(0, 1, 2)),
    case(euler_scalar, 0.7, 1.2, 0.1, 0, wrt=(0, 1)),
    case(rk4_scalar, 0.9, 1.1, 6, wrt=(0, 1)),
    case(rk4_scalar, 0.9, 1.1, 4, dt=0.2, wrt=("k", "dt")),
    case(rk4_oscillator, np.array([1.0, 0.2]), 1.3, 0.2, 5, wrt=(0, 1, 2)),
    case(euler_lotka_volterra, np.array([1.1, 0.4, 0.9, 0.3]), 1.2, 0.8, 10, wrt=(0, 1, 2)),
    case(euler_linear_system, arr(3, 3, lo=-0.5, hi=0.5), arr(3, seed=1), 5, wrt=(0, 1)),
    case(
        euler_batch_states,
        arr(1, 3, lo=0.2, hi=1.0),
        arr(2, 3, seed=1),
        4,
        wrt=(0, 1),
    ),
])


ODE_VJP = found_in("programs", [
    pytest.param(
        rk4_trajectory_end, (np.array([1.0, 0.2]), 1.3, 0.2), np.array([0.7, -1.1]), id="rk4-end"
    ),
])


def test_euler_closed_form():
    # y_n = y0 (1 - 0.1 k)^n
    k, y0, n = 0.8, 1.5, 6
    dk, dy0 = sourcegrad.grad(euler_closed_form, wrt=(0, 1))(k, y0, n)
    base = 1.0 - 0.1 * k
    np.testing.assert_allclose(dk, y0 * n * base ** (n - 1) * -0.1, rtol=1e-12)
    np.testing.assert_allclose(dy0, base**n, rtol=1e-12)


# -- longer programs built on loops ---------------------------------------------------------------


def zero_trip_loop_array(a, b, n):
    s = np.sum(a)
    for _ in range(n):
        s = s + np.sum(b * a)
    return s


def rnn_matvec(wh, wx, xs, h):
    for t in range(xs.shape[0]):
        h = np.tanh(wh @ h + wx @ xs[t])
    return np.sum(h * h)


def vec_vec_matmul(a, b, n):
    s = 0.0
    for _ in range(n):
        s = s + a @ b
        a = a * 0.9 + b * 0.1
    return s


def power_iteration(m, v, n):
    for _ in range(n):
        v = m @ v
        v = v / np.sqrt(np.sum(v * v))
    return v @ m @ v


def outer_in_loop(a, b, n):
    acc = np.zeros((a.shape[0], b.shape[0]))
    for k in range(n):
        acc = acc + np.outer(a, b) * (k + 1.0)
        a = np.tanh(a)
    return np.sum(acc * acc)


def lstm_like(w, x, n):
    h = x * 0.0
    c = x * 0.0
    for _ in range(n):
        z = w @ (h + x)
        i = 1.0 / (1.0 + np.exp(-z))
        c = c * 0.9 + i * np.tanh(z)
        h = np.tanh(c) * i
    return np.sum(h)


def gradient_descent_unrolled(w, x, y, n):
    for _ in range(n):
        r = x @ w - y
        g = x.T @ r / x.shape[0]
        w = w - 0.1 * g
    return np.sum((x @ w - y) ** 2)


def stencil(u, n):
    for _ in range(n):
        u = np.concatenate([u[:1], 0.25 * u[:-2] + 0.5 * u[1:-1] + 0.25 * u[2:], u[-1:]])
    return np.sum(u * u)


def vjp_rnn_states(w, h, n):
    out = h * 0.0
    for _ in range(n):
        h = np.tanh(w @ h)
        out = out + h
    return out


def kalman_filter(f, q, r, zs, x, p):
    h = np.array([[1.0, 0.0]])
    loss = 0.0
    for z in zs:
        x = f @ x
        p = f @ p @ f.T + q * np.eye(2)
        innovation = z - h @ x
        s = h @ p @ h.T + r
        gain = p @ h.T / s
        x = x + gain @ innovation
        p = (np.eye(2) - gain @ h) @ p
        loss = loss + np.sum(innovation**2 / s + np.log(s))
    return loss + np.sum(p) * 0.1


def kalman_states(f, zs, x):
    h = np.array([[1.0, 0.0]])
    p = np.eye(2)
    out = x * 0.0
    for z in zs:
        x = f @ x
        p = f @ p @ f.T + 0.1 * np.eye(2)
        s = h @ p @ h.T + 0.5
        gain = p @ h.T / s
        x = x + gain @ (z - h @ x)
        p = (np.eye(2) - gain @ h) @ p
        out = out + x
    return out


def _newton_fixed(a, n=40):
    x = 1.0
    for _ in range(n):
        x = x - 0.7 * (x * x - a) / (2.0 * x)
    return x


def newton_fixed_sqrt(a):
    # the iterate converges to sqrt(a): d/da sum(sqrt(a)) = 0.5 / sqrt(a)
    return np.sum(_newton_fixed(a))


def mlp_layers_loop(w1, b1, w2, b2, x, y):
    h = x
    for layer in range(2):
        if layer == 0:
            h = np.tanh(h @ w1 + b1)
        else:
            h = h @ w2 + b2
    return np.mean((h - y) ** 2)


def mlp_list_of_layers(w1, w2, x):
    h = x
    for w in [w1, w2]:
        h = np.maximum(h @ w, 0.1 * (h @ w))
    return np.sum(h * h)


def training_steps(w, x, y, lr, n):
    # an unrolled training loop: gradient of the final loss wrt the initial weights and lr
    for _ in range(n):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        w = w - lr * (x.T @ (p - y)) / x.shape[0]
    p = 1.0 / (1.0 + np.exp(-(x @ w)))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def horner(coeffs, x):
    p = 0.0
    for c in coeffs:
        p = p * x + c
    return np.sum(p)


def horner_expected(coeffs, x):
    n = len(coeffs)
    powers = np.array([x ** (n - 1 - k) for k in range(n)])
    dcoeffs = np.sum(powers.reshape(n, -1), axis=1)
    dx = np.polyval(np.polyder(coeffs), x)
    return dcoeffs, dx


def horner_index(coeffs, x):
    p = coeffs[len(coeffs) - 1] * 0.0
    for i in range(len(coeffs)):
        p = p * x + coeffs[i]
    return np.sum(p)


def horner_values(coeffs, x):
    p = 0.0
    for c in coeffs:
        p = p * x + c
    return p


PROGRAMS = found_in("unseen", [
    case(zero_trip_loop_array, arr(3), arr(3, seed=1), 0, wrt=(0, 1)),
    case(
        rnn_matvec,
        arr(3, 3, lo=-0.5, hi=0.5),
        arr(3, 2, seed=1),
        arr(4, 2, seed=2),
        arr(3, seed=3),
        wrt=(0, 1, 2, 3),
    ),
    case(vec_vec_matmul, arr(3), arr(3, seed=1), 3, wrt=(0, 1)),
    case(power_iteration, arr(3, 3), arr(3, seed=1), 3, wrt=(0, 1)),
    case(outer_in_loop, arr(3), arr(2, seed=1), 3, wrt=(0, 1)),
    case(lstm_like, arr(3, 3), arr(3, seed=1), 3, wrt=(0, 1)),
    case(
        gradient_descent_unrolled,
        arr(3),
        arr(5, 3, seed=1),
        arr(5, seed=2),
        3,
        wrt=("w", "x", "y"),
    ),
    case(stencil, arr(6), 3),
]) + found_in("programs", [
    case(
        kalman_filter,
        np.array([[1.0, 0.1], [0.0, 0.95]]),
        0.05,
        0.4,
        arr(5, seed=2),
        np.array([0.1, -0.2]),
        np.eye(2) * 0.5,
        wrt=(0, 1, 2, 3, 4, 5),
    ),
    case(newton_fixed_sqrt, arr(3, lo=0.5, hi=2.0)),
    case(
        mlp_layers_loop,
        arr(3, 4),
        arr(4, seed=1),
        arr(4, 2, seed=2),
        arr(1, 2, seed=3),
        arr(5, 3, seed=4),
        arr(5, 2, seed=5),
        wrt=(0, 1, 2, 3, 4),
    ),
    case(mlp_list_of_layers, arr(3, 4), arr(4, 2, seed=1), arr(5, 3, seed=2), wrt=(0, 1, 2)),
    case(
        training_steps,
        arr(3, lo=-0.5, hi=0.5),
        arr(6, 3, seed=1),
        np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0]),
        0.5,
        4,
        wrt=(0, 1, 3),
    ),
    case(horner_index, arr(4), arr(3, seed=1), wrt=(0, 1), name="horner_index-vector_x"),
])


PROGRAMS_VJP = found_in("unseen", [
    pytest.param(vjp_rnn_states, (arr(3, 3), arr(3, seed=1), 3), arr(3, seed=2), id="rnn"),
]) + found_in("programs", [
    pytest.param(
        kalman_states,
        (np.array([[1.0, 0.1], [0.0, 0.95]]), arr(4, seed=3), np.array([0.1, -0.2])),
        np.array([0.4, 1.3]),
        id="kalman",
    ),
    pytest.param(horner_values, (arr(4), arr(2, 3, seed=1)), arr(2, 3, seed=2), id="horner"),
])


def test_newton_fixed_closed_form():
    a = arr(3, lo=0.5, hi=2.0)
    got = sourcegrad.grad(newton_fixed_sqrt)(a)
    np.testing.assert_allclose(got, 0.5 / np.sqrt(a), rtol=1e-9)


@pytest.mark.parametrize(
    "x", [0.7, arr(3, seed=1), arr(2, 3, seed=2)], ids=["scalar", "vector", "matrix"]
)
def test_horner_closed_form(x):
    coeffs = np.array([0.5, -1.2, 0.3, 2.0])
    dcoeffs, dx = sourcegrad.grad(horner, wrt=(0, 1))(coeffs, x)
    expected_dcoeffs, expected_dx = horner_expected(coeffs, x)
    np.testing.assert_allclose(dcoeffs, expected_dcoeffs, rtol=1e-12)
    np.testing.assert_allclose(dx, expected_dx, rtol=1e-12)
    assert np.shape(dx) == np.shape(x)


# -- the cases above against the oracle -----------------------------------------------------------


@pytest.mark.parametrize(
    "f, args, kwargs, wrt",
    FOR + NESTED + BRANCHES + JUMPS + TARGETS + WRITES_AHEAD + NESTED_RECOMPUTE
    + BOUNDS + SHAPES + ODE + PROGRAMS,
)
def test_grad(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)


@pytest.mark.parametrize("f, args, seed", ODE_VJP + PROGRAMS_VJP)
def test_vjp(f, args, seed):
    assert_vjp(f, *args, seed=seed)
