"""User names that the emitted code could take for its own (`dx`, `x_saved`, `zeros_like`,
`returned`, `iterations`) and builtins the user shadows (`sum`, `max`, `range`): the derivative
renames its own, never the user's."""

import numpy as np
import pytest
from provenance import found_in

import sourcegrad
from oracle import arr, assert_value_and_grad, case

# -- names that look like sourcegrad's ------------------------------------------------------------


def name_clash_dx(x, dx):
    x_prev = x
    x_saved = dx * x
    result = x_prev * x_saved
    returned = result + dx
    iterations = 3
    for _ in range(iterations):
        returned = returned * x
    return returned


def name_clash_tape(x, tape):
    tape = tape * x
    dtape = tape + x
    ddtape = dtape * dtape
    return ddtape


def name_clash_d(x, d):
    dd = d * x
    return dd * d + np.sin(dd)


def name_clash_d_wrt_d(x, d):
    dd = d * x
    return dd * d + np.sin(dd)


def name_clash_dloss(loss, dloss):
    loss = loss * dloss
    return loss * loss


def name_clash_np_like(x):
    np_ = x * 2.0
    zeros_like = np_ + 1.0
    unbroadcast = zeros_like * x
    expand_reduced = np.sum(unbroadcast)
    return expand_reduced


def name_clash_h_saved(h, w, n):
    h_saved = 0.0
    for _ in range(n):
        h_saved = h_saved + h
        h = np.tanh(w * h)
    return np.sum(h_saved * h)


def name_clash_i_saved(x, n):
    s = 0.0
    i_saved = 1.0
    for i in range(n):
        i_saved = i_saved * x
        s = s + i_saved * i
    return s


def name_clash_w_times_h(w, h):
    w_times_h = w + h
    y = w * h
    return np.sum(y * w_times_h)


def name_clash_zeros_like_loop(w, h, n):
    zeros_like = w * 1.0
    for _ in range(n):
        h = np.tanh(zeros_like * h)
    return np.sum(h)


def name_clash_zeros_like_grows(x, n):
    zeros_like = 0.0
    s = 0.0
    for _ in range(n):
        zeros_like = zeros_like + x
        s = s + zeros_like * x
    return np.sum(s)


def name_clash_underscore_while(x):
    _ = 2.0
    while x < 5.0:
        x = x * _
    return x * _


def name_clash_user_iterations_while(x):
    iterations = 0.5
    y = x
    while y < 10.0:
        y = y * 1.7
        iterations = iterations * x
    return y * iterations


def name_clash_returned_result(x, n):
    returned = x * 2.0
    result = x * 3.0
    for _ in range(n):
        if returned > 5.0:
            return returned * result
        returned = returned * 1.5
    return result


def name_clash_index_names(a):
    s = 0.0
    v_index = 2.0
    range_len_a = 3.0
    for v in a:
        s = s + v * v_index * range_len_a
    return s


def param_named_x_prev(x, x_prev):
    x += 1.0
    x = x * x
    return x * x_prev


def param_named_seed(x, dproduct):
    return x * dproduct * 2.0


def param_named_ddx(x, ddx):
    dx = x * ddx
    return dx * dx


CLASHES = found_in("unseen", [
    case(name_clash_dx, 0.7, 1.3, wrt=(0, 1)),
    case(name_clash_tape, 0.7, 1.3, wrt=("x", "tape")),
    case(name_clash_d, 0.7, 1.3),
    case(name_clash_d_wrt_d, 0.7, 1.3, wrt="d"),
    case(name_clash_dloss, 0.7, 1.3, wrt=(0, 1)),
    case(name_clash_np_like, arr(3)),
    case(name_clash_h_saved, arr(3), 0.8, 3, wrt=(0, 1)),
    case(name_clash_i_saved, 0.9, 4),
    case(name_clash_w_times_h, 0.7, arr(3), wrt=(0, 1)),
    case(name_clash_zeros_like_loop, 0.7, arr(2), 2, wrt=(0, 1)),
    case(name_clash_zeros_like_grows, arr(3), 3),
    case(name_clash_zeros_like_grows, 0.5, 3),
    case(name_clash_underscore_while, 0.7),
    case(name_clash_user_iterations_while, 0.7),
    case(name_clash_returned_result, 1.2, 4),
    case(name_clash_returned_result, 0.1, 2),
    case(name_clash_index_names, arr(3)),
    case(param_named_x_prev, 0.7, 1.3, wrt=(0, 1)),
    case(param_named_seed, 0.7, 1.3, wrt=(0, 1)),
    case(param_named_ddx, 0.7, 1.3, wrt=(0, 1)),
])


# -- shadowed builtins ----------------------------------------------------------------------------


def shadow_sum(x):
    sum = 0.0
    for v in x:
        sum = sum + v * v
    return sum


def shadow_max(x):
    max = x[0]
    for v in x:
        if v > max:
            max = v
    return max * np.sum(x)


def shadow_len_list(w):
    list = [w, 2.0 * w, w * w]
    len = 3
    return list[0] * list[2] + len * list[1]


def shadow_range_param(x, range):
    total = 0.0
    for r in range:
        total = total + r * x
    return total


def shadow_sum_param(sum, x):
    return np.sum(sum * x) + np.sum(sum)


def shadow_abs_min(x):
    abs = np.abs(x) + 1.0
    min = np.min(abs)
    return min * np.sum(abs)


BUILTINS = found_in("round4", [
    case(shadow_sum, arr(4)),
    case(shadow_max, arr(4)),
    case(shadow_len_list, 0.8),
    case(shadow_range_param, 0.8, [1.5, -2.0], wrt=(0, 1)),
    case(shadow_sum_param, arr(3), arr(3, seed=1), wrt=(0, 1)),
    case(shadow_abs_min, arr(4)),
])


def test_shadow_sum_closed_form():
    x = arr(4)
    np.testing.assert_allclose(sourcegrad.grad(shadow_sum)(x), 2.0 * x)


# -- the cases above against the oracle -----------------------------------------------------------


@pytest.mark.parametrize("f, args, kwargs, wrt", CLASHES + BUILTINS)
def test_grad(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)
