"""Functions in the supported style that other tests do not cover."""

import math

import numpy as np
import pytest

from oracle import arr, assert_grad, assert_vjp, case, signed

# -- nested loops and loop-carried state ----------------------------------------------------------


def inner_var_after_inner_loop(a, n):
    s = 0.0
    for i in range(n):
        for j in range(len(a)):
            t = a[j] * (i + 1.0)
        s = s + t * t + j * a[0]
    return s


def while_in_for(x, n):
    s = 0.0
    for i in range(n):
        y = x + i
        while y > 1.0:
            y = y * 0.5
        s = s + y * y
    return s


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


def scalar_then_array(x):
    s = 0.0
    s = s + x
    s = s * s
    s = np.sum(s)
    return s


def scalar_grows_to_array_in_loop(x, n):
    s = 0.0
    for _ in range(n):
        s = s + x
        s = s * x
    return np.sum(s)


def scalar_grows_to_matrix(a, b):
    s = 1.0
    s = s * a
    s = s[:, None] + b
    s = np.tanh(s)
    s = s.sum()
    return s


def keepdims_broadcast(m):
    mu = np.mean(m, axis=1, keepdims=True)
    c = m - mu
    v = np.sum(c * c, axis=1, keepdims=True)
    z = c / np.sqrt(v + 1e-3)
    return np.sum(z * np.arange(m.shape[1]))


def softmax_keepdims(m, w):
    z = m @ w
    z = z - np.max(z, axis=-1, keepdims=True)
    e = np.exp(z)
    p = e / e.sum(axis=-1, keepdims=True)
    return np.sum(p[:, 0] * np.log(p[:, 1]))


def logsumexp_rows(m):
    mx = m.max(axis=1, keepdims=True)
    return np.sum(mx[:, 0] + np.log(np.sum(np.exp(m - mx), axis=1)))


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


# -- early exits ----------------------------------------------------------------------------------


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


# -- helper calls ---------------------------------------------------------------------------------


def _step(h, w, b=0.0):
    a = w * h + b
    return np.tanh(a), a


def _combine(u, v, alpha=0.5, beta=2.0):
    return alpha * u + beta * v * v


def helper_tuple_in_loop(h, w, n):
    s = 0.0
    for i in range(n):
        h, a = _step(h, w, b=0.1 * i)
        s = s + np.sum(a * a)
    return s + np.sum(h)


def helper_kwargs_orders(x, y):
    a = _combine(x, y)
    b = _combine(v=x, u=y)
    c = _combine(x, v=y, beta=1.5)
    d = _combine(beta=0.3, alpha=x, u=y, v=y)
    return a * b + c * d


def helper_chain(x, n):
    s = x
    for _ in range(n):
        t, _u = _step(s, 0.9)
        s = _combine(t, s, alpha=1.2)
    return s


def _tree_sum(a):
    if a.shape[0] == 1:
        return a[0] * a[0]
    half = a.shape[0] // 2
    return _tree_sum(a[:half]) + np.sin(_tree_sum(a[half:]))


def recursion_on_arrays(a):
    return _tree_sum(a)


def _shrink(v, n):
    if n == 0:
        return v
    return _shrink(np.tanh(v) * 1.1, n - 1)


def recursion_array_depth(v):
    return np.sum(_shrink(v, 3) ** 2)


def _unused_args(x, y, z):
    return x * x


def helper_ignores_arg(x, y):
    return _unused_args(x, y, x * y) + y


def _polar2(r, t):
    return r * math.cos(t), r * math.sin(t)


def helper_unpack_swap(r, t):
    x, y = _polar2(r, t)
    y, x = x, y
    return x * x * 2.0 + y


# -- wrt and shapes of the result -----------------------------------------------------------------


def not_depending_on_b(a, b):
    return np.sum(a * a)


def not_depending_scalar(a, b):
    return np.sum(a) * 2.0


def zero_trip_loop_array(a, b, n):
    s = np.sum(a)
    for _ in range(n):
        s = s + np.sum(b * a)
    return s


def depends_only_through_shape(a, b):
    return np.sum(a) * b.shape[0] + len(b)


def only_through_branch(x, y):
    if y > 0:
        return x * 2.0
    return x * 3.0


# -- no-ops, aliasing and swapping ----------------------------------------------------------------


def self_assign(x):
    x = x
    y = x
    y = y
    return y * x


def alias_then_rebind(x):
    y = x
    x = x * 2.0
    return np.sum(y * x)


def alias_array_augmented(a):
    b = a
    b = b * 1.0
    b += a
    b *= b
    return np.sum(b)


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


def augmented_chain(x):
    y = x * 1.0
    y += x
    y *= x
    y -= x * 0.5
    y /= 1.0 + x * x
    y **= 2
    return y


# -- integers, lengths and shapes -----------------------------------------------------------------


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


def while_index(a):
    i = 0
    s = 0.0
    while i < a.size:
        s = s + a[i] * a[a.size - 1 - i]
        i += 2
    return s


def int_arithmetic_weights(x, n):
    s = 0.0
    for i in range(n):
        k = (i * 3) % 4
        s = s + x ** (k + 1) / (k + 1)
    return s


# -- indexing -------------------------------------------------------------------------------------


def mask_in_loop(a, n):
    s = 0.0
    for i in range(n):
        m = a > (i * 0.5 - 1.0)
        s = s + np.sum(a[m] ** 2)
    return s


def mask_from_other(a, b):
    return np.sum(np.exp(a[b > 0]) * b[b > 0])


def mask_2d_rows(m):
    keep = m.sum(axis=1) > 0
    return np.sum(m[keep] ** 3)


def fancy_repeats_in_loop(a, n):
    idx = np.array([0, 2, 2, 1, 0, 0])
    s = 0.0
    for k in range(n):
        s = s + np.sum(a[idx] * (k + 1.0)) * a[idx[k]]
    return s


def fancy_2d_rows_repeat(m, w):
    rows = np.array([1, 1, 0, 2])
    g = m[rows] @ w
    return np.sum(np.tanh(g))


def index_minus_one_loop(a):
    s = a[0]
    for i in range(1, len(a)):
        s = s * 0.5 + a[i] * a[i - 1]
    return s


def slice_reductions(m):
    top = m[:2]
    bottom = m[-2:]
    return np.sum(top * bottom) + np.max(m[:, 1:], axis=0).sum()


# -- matrix products in loops ---------------------------------------------------------------------


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


def batch_mlp(w1, w2, xs):
    h = np.maximum(xs @ w1, 0.0)
    out = h @ w2
    return np.mean((out - 1.0) ** 2)


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


# -- where, max, min ------------------------------------------------------------------------------


def where_broadcast(a, b):
    return np.sum(np.where(a[:, None] > b[None, :], a[:, None] * b, b * b))


def where_scalar_both(a, x):
    return np.sum(np.where(a > 0, x, -x) * a)


def max_along_axis(m):
    return np.sum(np.max(m, axis=0) * np.min(m, axis=1).sum())


def builtin_max_min_loop(a):
    best = -10.0
    worst = 10.0
    for v in a:
        best = max(best, v * v)
        worst = min(worst, v)
    return best * worst


def relu_chain(x):
    h = np.maximum(x, 0.0)
    h = np.minimum(h, 1.0)
    return np.sum(h * x)


# -- dtypes and 0-d -------------------------------------------------------------------------------


def float32_loop(a, n):
    s = 0.0
    for _ in range(n):
        s = s + np.sum(np.tanh(a) * a)
        a = a * 0.5
    return s


def zero_d_input(a):
    return np.sin(a) * a + a * a


def zero_d_in_loop(a, n):
    s = a
    for _ in range(n):
        s = s * a + 1.0
    return s


def zero_d_with_vector(a, v):
    return np.sum(np.exp(a * v))


# -- more names that look like sourcegrad's -------------------------------------------------------


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


# -- loop targets, iterables and bounds -----------------------------------------------------------


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


# -- inner loops that run zero times, inner branches never taken ----------------------------------


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


# -- helpers with loops that exit early -----------------------------------------------------------


def _grow_while(x):
    k = 0
    while k < 3:
        x = np.sin(x) + x
        k = k + 1
    return x


def helper_with_while(x):
    return _grow_while(x) * x


def _grow_until(x):
    for _ in range(5):
        x = x * 1.5
        if x > 2.0:
            break
    return x


def helper_with_break(x):
    return _grow_until(x) + _grow_until(x * 0.5)


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


def _rec_pair(x, n):
    if n == 0:
        return x, x * x
    u, v = _rec_pair(x * 0.9, n - 1)
    return u + v, u * v


def recursion_tuple(x):
    a, b = _rec_pair(x, 3)
    return a * b


def _scale(u, k=2.0):
    return u * k


def helper_nested_kwargs_in_loop(x, n):
    for i in range(n):
        x = _scale(_scale(x, k=0.5 + i), k=1.5)
    return x


def helper_called_zero_times(a, n):
    s = a
    for _ in range(n):
        s = _scale(s)
    return np.sum(s)


def _tuple3(x):
    return x, x * x, x * x * x


def helper_tuple_partial_use(x):
    a, _, c = _tuple3(x)
    t = _tuple3(c)
    return a * c + t[2] - t[0]


# -- models -------------------------------------------------------------------------------------


def attention(q, k, v):
    s = q @ k.T / np.sqrt(q.shape[1])
    s = s - s.max(axis=1, keepdims=True)
    p = np.exp(s)
    p = p / p.sum(axis=1, keepdims=True)
    return np.sum((p @ v) ** 2)


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


def scalar_or_array_branch(a, x):
    if x > 0:
        y = a * x
    else:
        y = x
    return np.sum(y)


def mean_keepdims_cov(m):
    c = m - m.mean(axis=0, keepdims=True)
    cov = c.T @ c / m.shape[0]
    return np.sum(cov * cov)


def tuple_axis(m):
    return np.sum(np.mean(m * m, axis=(0, 1))) + np.sum(m, axis=(0, 2)).sum()


def gather_rows_cols(m):
    r = np.array([0, 2, 2])
    c = np.array([1, 1, 0])
    return np.sum(m[r, c] ** 3)


def mask_multiply(a):
    mask = a > 0
    return np.sum(a * mask) + np.sum(np.where(mask, a, 0.0) ** 2)


def argmax_index(a):
    k = np.argmax(a)
    return a[k] * np.sum(a)


def float32_scalar_mix(a, x):
    return np.sum(a * x + a**2)


def zero_d_subscript(a):
    return a[()] * a


def zero_d_subscript_of_product(a):
    b = a * a
    return b[()]


def zero_d_where_loop(a, v, n):
    for _ in range(n):
        v = np.where(v > 0, v * a, v)
    return np.sum(v)


def zero_d_helper(a):
    return _scale(a) * a


CASES = [
    case(inner_var_after_inner_loop, arr(3), 3),
    case(inner_var_after_inner_loop, arr(3), 0),
    case(while_in_for, 2.7, 3),
    case(while_in_for, 0.3, 4),
    case(bound_in_if_in_loop, signed(5)),
    case(bound_in_if_used_same_iteration, 0.8, 5),
    case(scalar_then_array, arr(3)),
    case(scalar_grows_to_array_in_loop, arr(3), 3),
    case(scalar_grows_to_matrix, arr(3), arr(2, seed=1), wrt=(0, 1)),
    case(keepdims_broadcast, arr(3, 4)),
    case(softmax_keepdims, arr(4, 3), arr(3, 2, seed=1), wrt=(0, 1)),
    case(logsumexp_rows, arr(3, 4)),
    case(name_clash_dx, 0.7, 1.3, wrt=(0, 1)),
    case(name_clash_tape, 0.7, 1.3, wrt=("x", "tape")),
    case(name_clash_d, 0.7, 1.3),
    case(name_clash_d_wrt_d, 0.7, 1.3, wrt="d"),
    case(name_clash_dloss, 0.7, 1.3, wrt=(0, 1)),
    case(name_clash_np_like, arr(3)),
    case(name_clash_h_saved, arr(3), 0.8, 3, wrt=(0, 1)),
    case(name_clash_i_saved, 0.9, 4),
    case(name_clash_w_times_h, 0.7, arr(3), wrt=(0, 1)),
    case(return_from_nested_loops, 1.1, 4),
    case(return_from_nested_loops, 0.5, 2),
    case(break_in_nested_if, signed(6)),
    case(continue_then_code, signed(6, seed=3)),
    case(break_inner_only, signed(3, 4, seed=4)),
    case(continue_inner_last, signed(3, 3, seed=5)),
    case(while_break_nested, 0.8),
    case(while_break_nested, 2.5),
    case(helper_tuple_in_loop, arr(3), 0.8, 3, wrt=(0, 1)),
    case(helper_kwargs_orders, 0.7, -1.2, wrt=(0, 1)),
    case(helper_chain, 0.6, 3),
    case(recursion_on_arrays, arr(5)),
    case(recursion_array_depth, arr(3)),
    case(helper_ignores_arg, 0.7, 1.3, wrt=(0, 1)),
    case(helper_unpack_swap, 1.3, 0.4, wrt=(0, 1)),
    case(not_depending_on_b, arr(3), arr(2, 2, seed=1), wrt=(0, 1)),
    case(not_depending_scalar, arr(3), 0.5, wrt="b"),
    case(zero_trip_loop_array, arr(3), arr(3, seed=1), 0, wrt=(0, 1)),
    case(depends_only_through_shape, arr(3), arr(4, seed=1), wrt=(0, 1)),
    case(only_through_branch, 0.7, 0.5, wrt=(0, 1)),
    case(self_assign, 0.7),
    case(alias_then_rebind, arr(3)),
    case(alias_array_augmented, arr(3)),
    case(swap_in_loop_arrays, arr(3), arr(3, seed=1), 3, wrt=(0, 1)),
    case(rotate_three, 0.7, 0.9, 1.1, 4, wrt=(0, 1, 2)),
    case(fib_like, 0.6, 5),
    case(augmented_chain, 0.8),
    case(bounds_from_shape, arr(3, 4)),
    case(bounds_from_len, arr(5)),
    case(while_index, arr(5)),
    case(int_arithmetic_weights, 0.9, 6),
    case(mask_in_loop, arr(5), 3),
    case(mask_from_other, arr(4), signed(4, seed=1), wrt=(0, 1)),
    case(mask_2d_rows, arr(4, 3)),
    case(fancy_repeats_in_loop, arr(3), 4),
    case(fancy_2d_rows_repeat, arr(3, 2), arr(2, 2, seed=1), wrt=(0, 1)),
    case(index_minus_one_loop, arr(5)),
    case(slice_reductions, arr(4, 3)),
    case(
        rnn_matvec,
        arr(3, 3, lo=-0.5, hi=0.5),
        arr(3, 2, seed=1),
        arr(4, 2, seed=2),
        arr(3, seed=3),
        wrt=(0, 1, 2, 3),
    ),
    case(vec_vec_matmul, arr(3), arr(3, seed=1), 3, wrt=(0, 1)),
    case(batch_mlp, arr(3, 4), arr(4, 2, seed=1), arr(5, 3, seed=2), wrt=(0, 1, 2)),
    case(power_iteration, arr(3, 3), arr(3, seed=1), 3, wrt=(0, 1)),
    case(outer_in_loop, arr(3), arr(2, seed=1), 3, wrt=(0, 1)),
    case(where_broadcast, arr(3), arr(4, seed=1), wrt=(0, 1)),
    case(where_scalar_both, signed(4), 0.7, wrt=(0, 1)),
    case(max_along_axis, arr(3, 4)),
    case(builtin_max_min_loop, signed(5)),
    case(relu_chain, arr(6, lo=-0.9, hi=1.9)),
    case(float32_loop, arr(3).astype(np.float32), 3),
    case(zero_d_input, np.array(0.7)),
    case(zero_d_in_loop, np.array(0.7), 3),
    case(zero_d_with_vector, np.array(0.7), arr(3), wrt=(0, 1)),
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
    case(for_rebinds_iterable, arr(3)),
    case(for_rebinds_iterable_rows, arr(3, 2)),
    case(loop_var_reassigned_in_body, arr(3)),
    case(range_var_reassigned, 0.7, 3),
    case(range_bound_reassigned, 0.7, 3),
    case(loop_var_after_loop, 0.7, 3),
    case(data_loop_var_after_loop, arr(3)),
    case(list_of_vars_rebound, 0.7, 1.3, wrt=(0, 1)),
    case(triangular_inner_loop, arr(3)),
    case(triangular_products, arr(4)),
    case(break_in_nested_if_in_inner_loop, 0.5, 2),
    case(return_in_nested_if_in_nested_loop, signed(4), 3, name="return_nested-taken"),
    case(
        return_in_nested_if_in_nested_loop,
        arr(4, lo=-2.0, hi=-0.1),
        3,
        name="return_nested-never_taken",
    ),
    case(while_in_while, arr(3), 3),
    case(while_counting_in_for, arr(3), 3),
    case(while_true_continue_break, 0.7, 6),
    case(helper_with_while, 0.7),
    case(helper_with_break, 0.7),
    case(helper_return_in_while_in_loop, arr(4, lo=0.3, hi=2.9)),
    case(recursion_tuple, 0.7),
    case(helper_nested_kwargs_in_loop, 0.7, 3),
    case(helper_called_zero_times, arr(2), 0),
    case(helper_tuple_partial_use, 0.7),
    case(attention, arr(3, 4), arr(5, 4, seed=1), arr(5, 2, seed=2), wrt=(0, 1, 2)),
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
    case(grows_shape_loop, arr(3), arr(2, seed=1), 4, wrt=(0, 1)),
    case(grows_shape_loop, arr(3), arr(2, seed=1), 1, wrt=(0, 1)),
    case(scalar_or_array_branch, arr(3), 0.5, wrt=(0, 1)),
    case(scalar_or_array_branch, arr(3), -0.5, wrt=(0, 1)),
    case(mean_keepdims_cov, arr(4, 3)),
    case(tuple_axis, arr(2, 3, 4)),
    case(gather_rows_cols, arr(3, 3)),
    case(mask_multiply, signed(5)),
    case(argmax_index, arr(4)),
    case(float32_scalar_mix, arr(3).astype(np.float32), 0.7),
    case(zero_d_subscript, np.array(0.7)),
    case(zero_d_subscript_of_product, np.array(0.7)),
    case(zero_d_where_loop, np.array(0.7), signed(3), 2, wrt=(0, 1)),
    case(zero_d_helper, np.array(0.7)),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES)
def test_grad(f, args, kwargs, wrt):
    rtol = 2e-3 if any(getattr(a, "dtype", None) == np.float32 for a in args) else 1e-5
    assert_grad(f, *args, wrt=wrt, rtol=rtol, atol=1e-4 if rtol > 1e-5 else 1e-7, **kwargs)


# -- vector-Jacobian products of array outputs ----------------------------------------------------


def vjp_rnn_states(w, h, n):
    out = h * 0.0
    for _ in range(n):
        h = np.tanh(w @ h)
        out = out + h
    return out


def vjp_matrix_out(a, b):
    return np.outer(a, b) * np.sin(a)[:, None]


def vjp_branch_out(a, x):
    if x > 0:
        return a * x
    return a - x


def vjp_keepdims(m):
    return m / m.sum(axis=1, keepdims=True)


VJP_CASES = [
    pytest.param(vjp_rnn_states, (arr(3, 3), arr(3, seed=1), 3), arr(3, seed=2), id="rnn"),
    pytest.param(vjp_matrix_out, (arr(3), arr(2, seed=1)), arr(3, 2, seed=2), id="outer"),
    pytest.param(vjp_branch_out, (arr(3), 0.5), arr(3, seed=2), id="branch-pos"),
    pytest.param(vjp_branch_out, (arr(3), -0.5), arr(3, seed=2), id="branch-neg"),
    pytest.param(vjp_keepdims, (arr(2, 3, lo=0.5, hi=2.0),), arr(2, 3, seed=2), id="keepdims"),
]


@pytest.mark.parametrize("f, args, seed", VJP_CASES)
def test_vjp(f, args, seed):
    assert_vjp(f, *args, seed=seed)
