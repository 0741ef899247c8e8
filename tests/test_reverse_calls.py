"""Reverse mode through calls of the user's own functions: helpers several levels deep, one helper
called many times, keyword arguments and defaults, recursion on an integer depth, helpers
returning tuples, and tuple packing/unpacking in assignments and returns; helpers called in
loops with keywords in any order, nested tuples returned, arguments left unused; recursion over
arrays, lists, dicts and tuples."""

import math

import numpy as np
import pytest
from provenance import found_in

import sourcegrad
from oracle import arr, assert_grad, assert_value_and_grad, case

SCALE = 3.0

# -- helpers --------------------------------------------------------------------------------------


def cube(x):
    return x * x * x


def level3(x):
    return np.sin(x) * x


def level2(x, y):
    return level3(x) + level3(y * x)


def level1(x, y):
    return level2(x, y) * level3(y)


def affine(x, scale=2.0, shift=0.5):
    return scale * x + shift


def polar(x, y):
    return np.sqrt(x * x + y * y), np.arctan2(y, x)


def weighted_norm(a, w):
    return np.sqrt(np.sum(w * a * a))


def repeat_multiply(x, n):
    y = x
    for _ in range(n - 1):
        y = y * x
    return y


def power_rec(x, n):
    return 1.0 if n == 0 else x * power_rec(x, n - 1)


def sin_rec(a, n):
    if n == 0:
        return a
    return np.sin(sin_rec(a, n - 1)) * a


def two_branch_rec(x, n):
    if n <= 1:
        return x
    return two_branch_rec(x, n - 1) * 0.5 + np.sin(two_branch_rec(x, n - 2))


def even(x, n):
    return x if n == 0 else odd(x * 1.1, n - 1)


def odd(x, n):
    return np.sin(x) if n == 0 else even(x * x, n - 1)


def scaled(x):
    return SCALE * x**2


# -- functions differentiated ---------------------------------------------------------------------


def deep(x, y):
    return level1(x, y) + x


def many_calls(x, y):
    return cube(x) + cube(y) + cube(x * y) + cube(cube(x))


def helper_in_loop(x, n):
    s = 0.0
    for i in range(n):
        s = s + cube(x + i)
    return s


def defaults_only(x):
    return affine(x) * x


def keyword_call(x, y):
    return affine(x, shift=y) * affine(y, scale=x)


def keyword_reordered(x, y):
    return affine(shift=x * y, x=y, scale=3.0)


def positional_override(x, y):
    return affine(x, y, y * y)


def with_default(x, y=1.5):
    return x * y**2 + np.sin(y)


def array_helper(a, w):
    return weighted_norm(a, w) + weighted_norm(a * a, 2.0)


def int_argument_helper(x, n):
    return repeat_multiply(x, n) + repeat_multiply(x, 2)


def uses_power_rec(x, n):
    return power_rec(x, n)


def uses_sin_rec(a, n):
    return np.sum(sin_rec(a, n))


def uses_two_branch_rec(x):
    return two_branch_rec(x, 4)


def mutual_recursion(x, n):
    return even(x, n)


def global_constant(x):
    return scaled(x) + SCALE * x


def unpack_helper_tuple(x, y):
    r, t = polar(x, y)
    return r * np.cos(t) ** 2 + t * r


def index_helper_tuple(x, y):
    return polar(x, y)[1] * x


def swap(x, y):
    a, b = x, y
    a, b = b, a * b
    a, b = b - a, a
    return a * b + a


def swap_in_loop(x, y, n):
    a, b = x, y
    for _ in range(n):
        a, b = b, a + 0.5 * b
    return a * b


def nested_unpack(x, y):
    (a, b), c = (x, y), x * y
    return a * c - b


def pair(x, y):
    return x * y, x + y


def return_and_unpack(x, y):
    p, s = pair(x, y)
    q, t = pair(p, s)
    return q - t


def tuple_roundtrip(x, y):
    t = (x, y * 2.0)
    u, v = t
    return u * v


CASES = [
    case(deep, 0.7, -1.2, wrt=(0, 1)),
    case(deep, -1.5, 0.4, wrt=(0, 1)),
    case(many_calls, 0.8, -1.1, wrt=(0, 1)),
    case(helper_in_loop, 0.6, 4),
    case(defaults_only, 1.3),
    case(keyword_call, 0.9, -0.3, wrt=(0, 1)),
    case(keyword_reordered, 0.9, -0.3, wrt=(0, 1)),
    case(positional_override, 0.9, -0.3, wrt=(0, 1)),
    case(with_default, 0.8),
    case(with_default, 0.8, 2.0, wrt=(0, 1)),
    case(with_default, 0.8, y=2.0, wrt="y"),
    case(with_default, x=0.8, y=2.0, wrt=("y", "x")),
    case(array_helper, arr(3, lo=0.3), arr(3, lo=0.5, seed=1), wrt=(0, 1)),
    case(int_argument_helper, 1.2, 4),
    *[case(uses_power_rec, 1.4, n) for n in (0, 1, 4)],
    case(power_rec, 0.6, 3),
    case(sin_rec, 0.6, 2),
    case(uses_sin_rec, arr(3), 3),
    case(uses_sin_rec, arr(3), 0),
    case(uses_two_branch_rec, 0.7),
    case(mutual_recursion, 0.8, 3),
    case(mutual_recursion, 0.8, 4),
    case(global_constant, 0.6),
    case(unpack_helper_tuple, 0.9, -0.4, wrt=(0, 1)),
    case(index_helper_tuple, 0.9, -0.4, wrt=(0, 1)),
    case(swap, 0.7, -1.3, wrt=(0, 1)),
    case(swap_in_loop, 0.7, -1.3, 5, wrt=(0, 1)),
    case(nested_unpack, 0.7, -1.3, wrt=(0, 1)),
    case(return_and_unpack, 0.7, -1.3, wrt=(0, 1)),
    case(tuple_roundtrip, 0.7, -1.3, wrt=(0, 1)),
]


@pytest.mark.parametrize("n", [0, 1, 3, 7])
def test_closed_form_recursion(n):
    assert assert_grad(uses_power_rec, 1.4, n) == pytest.approx(n * 1.4 ** (n - 1), rel=1e-10)


# -- *args and **kwargs in definitions --------------------------------------------------------


def _total_energy(*parts, scale=1.0, **weights):
    s = 0.0
    for p in parts:
        s = s + np.sum(p * p)
    for name, w in weights.items():
        s = s + w * w
    return s * scale


def packs_args_and_kwargs(a, b, c):
    return _total_energy(a, b * 2.0, scale=0.5, alpha=c, beta=c * c)


def _plain_sum(*xs):
    return sum(xs)


def packs_args(x, y):
    return _plain_sum(x, y, x * y) + _plain_sum(x)


@pytest.mark.parametrize("f, args, kwargs, wrt", [
    case(packs_args_and_kwargs, np.array([0.3, 0.5]), np.array([1.0, -0.2]), 0.7,
         wrt=(0, 1, 2)),
    case(packs_args, 0.3, 1.2, wrt=(0, 1)),
    case(_plain_sum, 0.3, 1.2, wrt="xs"),
])
def test_star_args_and_kwargs(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


def unpacks_into_star_params(a, b, c):
    pieces = [a, b * 2.0]
    opts = {"alpha": c}
    return _total_energy(*pieces) + _total_energy(**opts)


def unpacks_next_to_star_params(a, c):
    opts = {"alpha": c, "scale": c * c}
    return _total_energy(a, **opts)


def unpacks_where_it_cannot(a, axes):
    return np.sum(a, **axes)


def test_unpacking_into_star_parameters():
    assert_grad(unpacks_into_star_params, np.array([0.3, 0.5]), np.array([1.0, -0.2]), 0.7,
                wrt=(0, 1, 2))
    assert_grad(unpacks_next_to_star_params, np.array([0.3, 0.5]), 0.7, wrt=(0, 1))


def test_unpacking_that_cannot_be_followed_is_refused():
    with pytest.raises(sourcegrad.UnsupportedSyntaxError, match="unpacking"):
        sourcegrad.grad(unpacks_where_it_cannot)(np.array([0.3, 0.5]), {"axis": 0})


# -- f(*xs) into plain parameters: as many arguments as the callee has open ----------------------


def _spring(k, x, rest=0.0):
    return 0.5 * k * (x - rest) ** 2


def _kinetic(m, v):
    return 0.5 * m * v * v


def spreads_into_a_helper(m, v, k):
    state = (m, v)
    return np.sum(_kinetic(*state)) + np.sum(_spring(k, *[v], rest=0.1))


def spreads_into_ufuncs(x, y):
    pair = (x, y)
    return np.sum(np.arctan2(*pair) + np.hypot(*pair) * np.exp(*[x]))


def spreads_a_parameter(w, xy):
    return np.sum(_kinetic(w, *xy))


@pytest.mark.parametrize("f, args, kwargs, wrt", [
    case(spreads_into_a_helper, 1.3, arr(3), 0.8, wrt=(0, 1, 2)),
    case(spreads_into_ufuncs, arr(3), arr(3, seed=1), wrt=(0, 1)),
    case(spreads_a_parameter, 0.6, (arr(2, seed=2),), wrt=(0, 1)),
])
def test_unpacking_into_plain_parameters(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


def test_unpacking_matches_closed_form():
    # d/dm 0.5 m v^2 = 0.5 v^2, d/dv = m v
    dm, dv = sourcegrad.grad(spreads_a_parameter, wrt=(0, 1))(2.0, (3.0,))
    assert dm == pytest.approx(4.5) and dv[0] == pytest.approx(6.0)


def spreads_the_wrong_length(m, v):
    state = (m, v, v)
    return _kinetic(*state)


def spreads_over_a_default(k, x):
    return _spring(k, *(x, 0.1))


def test_unpacking_of_the_wrong_length_fails_as_python_does():
    with pytest.raises(ValueError, match="too many values to unpack"):
        sourcegrad.grad(spreads_the_wrong_length)(1.0, 2.0)


def spreads_fewer_than_the_parameters(k, x, rest):
    fewer = (x,)
    more = (x, rest)
    return _spring(k, *fewer) + _spring(k, *more) * 2.0


def test_unpacking_over_parameters_with_defaults():
    # _spring(k, x, rest=0.0): *xs fills x, and rest when it has a second item
    assert_grad(spreads_over_a_default, 1.0, 2.0, wrt=(0, 1))
    assert_grad(spreads_fewer_than_the_parameters, 1.3, 0.8, 0.2, wrt=(0, 1, 2))
    # d/drest of 2 * 0.5 k (x - rest)^2 = -2 k (x - rest)
    got = sourcegrad.grad(spreads_fewer_than_the_parameters, wrt=2)(1.3, 0.8, 0.2)
    assert got == pytest.approx(-2 * 1.3 * 0.6)


def spreads_too_many(k, x):
    return _spring(k, *(x, 0.1, 0.2))


def test_unpacking_too_many_over_defaults_fails_as_python_does():
    with pytest.raises(TypeError, match="positional arguments"):
        sourcegrad.grad(spreads_too_many)(1.0, 2.0)


# -- helpers with keyword arguments, defaults and tuples, called in loops -------------------------


def err_star_args(x, *rest):
    return x * 2.0


def _helper_kwargs(x, **opts):
    return x * 2.0


def err_kwargs_in_helper(x):
    return _helper_kwargs(x) + x


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


def zero_d_helper(a):
    return _scale(a) * a


def _dense(h, w, b, act=True):
    z = h @ w + b
    if act:
        return np.tanh(z)
    return z


def mlp_helper_kwargs(w1, b1, w2, b2, x):
    h = _dense(x, w1, b1)
    out = _dense(h, w2, b2, act=False)
    return np.sum(out**2)


def _kick_drift(x, v, dt, k=1.0):
    v = v - dt * k * x
    x = x + dt * v
    return x, v


def leapfrog(x, v, k, n):
    for i in range(n):
        x, v = _kick_drift(x, v, 0.1, k=k * (1.0 + 0.1 * i))
    return np.sum(x * x + v * v)


def _sq_sin(u, scale=1.0):
    return scale * u * u + np.sin(u)


def helper_float_and_array(x, a):
    s = _sq_sin(x)
    t = _sq_sin(a, scale=x)
    return s * np.sum(t) + _sq_sin(np.sum(a))


def _relax(u, rate=0.5, target=0.0):
    return u + rate * (target - u)


def helper_defaults_in_loop(a, x, n):
    for i in range(n):
        if i % 2 == 0:
            a = _relax(a)
        else:
            a = _relax(a, target=x, rate=0.3)
        x = _relax(x, 0.1)
    return np.sum(a * a) * x


def helper_tuple_loop_accumulate(a, n):
    m = a * 0.0
    v = 0.0
    for i in range(n):
        m, v = _moments(a * (i + 1.0), m, v)
    return np.sum(m) + v


def _moments(g, m, v, beta1=0.9, beta2=0.99):
    return beta1 * m + (1.0 - beta1) * g, beta2 * v + (1.0 - beta2) * np.sum(g * g)


def _step_with_diagnostics(x, v, k):
    v = v - 0.1 * k * x
    x = x + 0.1 * v
    return x, (0.5 * v * v + 0.5 * k * x * x, v * x)


def leapfrog_diagnostics(x, v, k, n):
    total = 0.0
    for _ in range(n):
        x, (energy, flux) = _step_with_diagnostics(x, v, k)
        v = flux / x
        total = total + energy
    return total


def leapfrog_diagnostics_indexed(x, v, k):
    out = _step_with_diagnostics(x, v, k)
    return out[0] + out[1][0] * out[1][1]


# a helper's tape holds its argument, which the caller writes afterwards (issue 9 "No silent wrong
# gradient", kind 4)


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


HELPERS = found_in("unseen", [
    case(helper_tuple_in_loop, arr(3), 0.8, 3, wrt=(0, 1)),
    case(helper_kwargs_orders, 0.7, -1.2, wrt=(0, 1)),
    case(helper_chain, 0.6, 3),
    case(helper_ignores_arg, 0.7, 1.3, wrt=(0, 1)),
    case(helper_unpack_swap, 1.3, 0.4, wrt=(0, 1)),
    case(helper_nested_kwargs_in_loop, 0.7, 3),
    case(helper_called_zero_times, arr(2), 0),
    case(helper_tuple_partial_use, 0.7),
    case(zero_d_helper, np.array(0.7)),
]) + found_in("programs", [
    case(
        mlp_helper_kwargs,
        arr(3, 4),
        arr(4, seed=1),
        arr(4, 2, seed=2),
        0.3,
        arr(5, 3, seed=4),
        wrt=(0, 1, 2, 3),
    ),
    case(leapfrog, arr(3), arr(3, seed=1), 1.3, 5, wrt=(0, 1, 2)),
    case(helper_float_and_array, 0.7, arr(3), wrt=(0, 1)),
    case(helper_defaults_in_loop, arr(3), 0.7, 4, wrt=(0, 1)),
    case(helper_tuple_loop_accumulate, arr(3), 3),
    case(leapfrog_diagnostics, 0.7, 0.3, 1.3, 3, wrt=(0, 1, 2)),
    case(leapfrog_diagnostics_indexed, 0.7, 0.3, 1.3, wrt=(0, 1, 2)),
]) + found_in("issue9", [
    case(helper_then_write, arr(3), name="kind4-helper"),
    case(helper_in_loop_then_row_write, arr(2, 3), name="kind4-helper-in-loop-row"),
    case(helper_then_list_append, arr(3), name="kind4-list-appended"),
])


def test_star_args_and_kwargs_definitions_now_work():
    # *args and **kwargs in definitions are supported: calls pack them into a tuple or dict
    assert sourcegrad.grad(err_star_args)(1.5, 2.0, 3.0) == pytest.approx(2.0)
    assert sourcegrad.grad(err_kwargs_in_helper)(1.5) == pytest.approx(3.0)


# -- recursion over arrays, containers and tuples -------------------------------------------------


def _tree_sum(ws, i, x):
    if i == len(ws):
        return x
    return _tree_sum(ws, i + 1, np.tanh(ws[i] * x))


def recursion_over_list(ws, x):
    return np.sum(_tree_sum(ws, 0, x))


def _rec_dict(p, depth, x):
    if depth == 0:
        return x * p["c"]
    y = _rec_dict(p, depth - 1, x)
    return np.sin(y * p["a"]) + p["b"]


def recursion_with_dict(p, x):
    return np.sum(_rec_dict(p, 3, x))


def _rec_collect(x, n, acc):
    if n == 0:
        return acc
    acc.append(x * n)
    return _rec_collect(np.sin(x), n - 1, acc)


def recursion_appends(x):
    parts = _rec_collect(x, 3, [])
    return np.sum(np.stack(parts) ** 2)


def _tree_sum_halves(a):
    if a.shape[0] == 1:
        return a[0] * a[0]
    half = a.shape[0] // 2
    return _tree_sum_halves(a[:half]) + np.sin(_tree_sum_halves(a[half:]))


def recursion_on_arrays(a):
    return _tree_sum_halves(a)


def _shrink(v, n):
    if n == 0:
        return v
    return _shrink(np.tanh(v) * 1.1, n - 1)


def recursion_array_depth(v):
    return np.sum(_shrink(v, 3) ** 2)


def _rec_pair(x, n):
    if n == 0:
        return x, x * x
    u, v = _rec_pair(x * 0.9, n - 1)
    return u + v, u * v


def recursion_tuple(x):
    a, b = _rec_pair(x, 3)
    return a * b


def _horner_rec(coeffs, x):
    if len(coeffs) == 1:
        return coeffs[0]
    return _horner_rec(coeffs[:-1], x) * x + coeffs[-1]


def horner_recursive(coeffs, x):
    return np.sum(_horner_rec(coeffs, x) ** 2)


def _matpow(m, n):
    if n == 1:
        return m
    return m @ _matpow(m, n - 1)


def recursive_matpow(m):
    return np.sum(_matpow(m, 3))


def _halve_sum(a):
    if a.shape[0] == 1:
        return a[0]
    k = a.shape[0] // 2
    return _halve_sum(a[:k]) * 1.5 + _halve_sum(a[k:])


def recursive_rows(m):
    # rows of a (4, 2) matrix combined by a recursion that returns (2,) vectors
    v = _halve_sum(m)
    return np.sum(v * v)


RECURSION = found_in("round4", [
    case(recursion_over_list, [0.5, 1.5, -0.8], arr(3), wrt=(0, 1)),
    case(recursion_with_dict, {"a": 0.7, "b": 0.1, "c": 1.3}, arr(3), wrt=(0, 1)),
    case(recursion_appends, arr(3)),
    case(recursion_with_dict, {"a": 0.7, "b": 0.1, "c": 1.3}, arr(3), name="recursion"),
]) + found_in("unseen", [
    case(recursion_on_arrays, arr(5)),
    case(recursion_array_depth, arr(3)),
    case(recursion_tuple, 0.7),
]) + found_in("programs", [
    case(horner_recursive, arr(4), 0.7, wrt=(0, 1)),
    case(horner_recursive, arr(4), arr(2, seed=1), wrt=(0, 1), name="horner_recursive-arr_x"),
    case(recursive_matpow, arr(3, 3)),
    case(recursive_rows, arr(4, 2)),
])


# -- the cases above against the oracle -----------------------------------------------------------


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES + HELPERS + RECURSION)
def test_grad(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)


# -- a helper's result that views a value its tape holds, then written into -----------------------
# Found by the fuzzer (seed 79000048, a checked-mode breach): `u = h(a)` returning a column of
# an intermediate (`(...)[:, 1]`), then `u[mask] = x`, changed the value the helper's backward
# read. With `np.linalg.inv(A)[0]` the gradient was wrong without an error (dA[1] -2.6 against
# 0.054). The write is undone before the helper's backward runs, as for its arguments.


def _inverse_row(A):
    return np.linalg.inv(A)[0]


def _tanh_column(p):
    return np.tanh(p[3] * np.linspace(0.52, 0.71, 12).reshape(4, 3))[:, 1]


def written_inverse_row(A, x):
    u = _inverse_row(A)
    u[1] = x
    return np.sum(u)


def written_tanh_column(a, x):
    u = _tanh_column(a)
    u[np.linspace(0.48, 0.25, 4) > 0.3] = x
    return np.sum(u * u)


@pytest.mark.parametrize("f, args, kwargs, wrt", found_in("fuzz", [
    case(written_inverse_row, np.array([[2.0, 0.3], [0.4, 1.5]]), 5.0, wrt=(0, 1)),
    case(written_tanh_column, np.array([0.48, -0.301, -1.266, 1.017]), 0.549, wrt=(0, 1)),
]))
def test_a_write_into_a_helpers_result_that_views_its_tape(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)
