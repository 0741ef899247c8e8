"""Reverse mode through calls of the user's own functions: helpers several levels deep, one helper
called many times, keyword arguments and defaults, recursion on an integer depth, helpers
returning tuples, and tuple packing/unpacking in assignments and returns."""

import numpy as np
import pytest

import sourcegrad
from oracle import arr, assert_grad, case

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


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES)
def test_grad(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


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
