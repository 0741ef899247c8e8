"""Reverse mode through the NumPy functions of the contract: elementwise functions on scalars,
(3,) and (2, 3); binary functions away from ties; reductions with axis and keepdims; shape
functions, constructors, constants and the ndarray method forms."""

import numpy as np
import pytest

from oracle import arr, assert_grad, case, signed

SHAPES = [(), (3,), (2, 3)]

# -- elementwise functions, each as sum(x * f(x)) so the cotangent reaching f is not constant ------


def np_exp(x):
    return np.sum(x * np.exp(x))


def np_log(x):
    return np.sum(x * np.log(x))


def np_log1p(x):
    return np.sum(x * np.log1p(x))


def np_expm1(x):
    return np.sum(x * np.expm1(x))


def np_sqrt(x):
    return np.sum(x * np.sqrt(x))


def np_square(x):
    return np.sum(x * np.square(x))


def np_sin(x):
    return np.sum(x * np.sin(x))


def np_cos(x):
    return np.sum(x * np.cos(x))


def np_tan(x):
    return np.sum(x * np.tan(x))


def np_tanh(x):
    return np.sum(x * np.tanh(x))


def np_arctan(x):
    return np.sum(x * np.arctan(x))


def np_sinh(x):
    return np.sum(x * np.sinh(x))


def np_cosh(x):
    return np.sum(x * np.cosh(x))


def np_abs(x):
    return np.sum(x * np.abs(x))


def np_sign(x):
    return np.sum(x**2 * np.sign(x))


# function -> domain (lo, hi) of its inputs; None: both signs, away from 0
UNARY = {
    np_exp: (-2.0, 2.0),
    np_log: (0.3, 3.0),
    np_log1p: (-0.6, 2.0),
    np_expm1: (-2.0, 2.0),
    np_sqrt: (0.3, 3.0),
    np_square: (-2.0, 2.0),
    np_sin: (-3.0, 3.0),
    np_cos: (-3.0, 3.0),
    np_tan: (-1.2, 1.2),
    np_tanh: (-2.0, 2.0),
    np_arctan: (-3.0, 3.0),
    np_sinh: (-2.0, 2.0),
    np_cosh: (-2.0, 2.0),
    np_abs: None,
    np_sign: None,
}


def _unary_input(domain, shape, seed):
    if domain is None:
        return signed(*shape, seed=seed)
    return arr(*shape, lo=domain[0], hi=domain[1], seed=seed)


UNARY_CASES = [
    case(f, _unary_input(domain, shape, seed))
    for seed, (f, domain) in enumerate(UNARY.items())
    for shape in SHAPES
]

# -- binary functions -----------------------------------------------------------------------------


def np_arctan2(y, x):
    return np.sum(np.arctan2(y, x) * y)


def np_power(x, y):
    return np.sum(np.power(x, y))


def np_power_int(x):
    return np.sum(np.power(x, 3) * x)


def np_maximum(a, b):
    return np.sum(np.maximum(a, b) * a)


def np_minimum(a, b):
    return np.sum(np.minimum(a, b) * b)


def np_maximum_zero(a):
    return np.sum(np.maximum(a, 0.0) ** 2)


def np_minimum_scalar(a, x):
    return np.sum(np.minimum(a, x) * a)


def np_clip(a):
    return np.sum(np.clip(a, -0.5, 0.5) * a)


def np_where(a, b):
    return np.sum(np.where(a > b, a * b, a + b))


def np_where_scalar_branch(a, x):
    return np.sum(np.where(a > 0.0, a**2, x * a))


def np_dot(a, b):
    return np.sum(np.dot(a, b) ** 2)


def np_matmul(a, b):
    return np.sum(np.sin(np.matmul(a, b)))


def _apart(shape, seed):
    """A pair of arrays whose elementwise differences are at least 0.2 in magnitude."""
    a = arr(*shape, seed=seed)
    return a, a + signed(*shape, lo=0.2, hi=1.0, seed=seed + 100)


CLIP_INPUT = np.array([[-1.3, -0.2, 0.3], [0.9, -0.7, 0.05]])

BINARY_CASES = [
    case(np_arctan2, arr(3, seed=1), arr(3, lo=0.3, hi=2.0, seed=2), wrt=(0, 1)),
    case(np_arctan2, signed(2, 3, seed=3), signed(2, 3, seed=4), wrt=(0, 1)),
    case(np_arctan2, 0.4, -1.3, wrt=(0, 1)),
    case(np_power, arr(3, lo=0.3, hi=2.0, seed=5), arr(3, seed=6), wrt=(0, 1)),
    case(np_power, arr(2, 3, lo=0.3, hi=2.0, seed=5), 1.7, wrt=(0, 1)),
    case(np_power, 1.4, arr(2, 3, seed=6), wrt=(0, 1)),
    case(np_power_int, arr(2, 3, seed=7)),
    *[
        case(f, *_apart(s, seed), wrt=(0, 1))
        for f in (np_maximum, np_minimum, np_where)
        for seed, s in enumerate(SHAPES[1:], start=8)
    ],
    case(np_maximum, 0.3, -0.4, wrt=(0, 1)),
    case(np_minimum, 0.3, -0.4, wrt=(0, 1)),
    case(np_maximum_zero, signed(2, 3, seed=10)),
    case(np_minimum_scalar, np.array([-1.0, 0.2, 0.9, 1.5]), 0.5, wrt=(0, 1)),
    case(np_clip, CLIP_INPUT),
    case(np_clip, CLIP_INPUT[0]),
    case(np_where_scalar_branch, signed(2, 3, seed=11), 1.3, wrt=(0, 1)),
    case(np_dot, arr(3, seed=12), arr(3, seed=13), wrt=(0, 1)),
    case(np_dot, arr(2, 3, seed=12), arr(3, seed=13), wrt=(0, 1)),
    case(np_dot, arr(2, 3, seed=12), arr(3, 2, seed=13), wrt=(0, 1)),
    case(np_dot, 1.5, arr(3, seed=13), wrt=(0, 1)),
    case(np_matmul, arr(2, 3, seed=14), arr(3, 2, seed=15), wrt=(0, 1)),
    case(np_matmul, arr(2, 3, seed=14), arr(3, seed=15), wrt=(0, 1)),
]

# -- reductions -----------------------------------------------------------------------------------


def red_sum(x, axis, keepdims):
    r = np.sum(x, axis=axis, keepdims=keepdims)
    return np.sum(r * r)


def red_mean(x, axis, keepdims):
    r = np.mean(x, axis=axis, keepdims=keepdims)
    return np.sum(r * r)


def red_prod(x, axis, keepdims):
    r = np.prod(x, axis=axis, keepdims=keepdims)
    return np.sum(r * r)


def red_max(x, axis, keepdims):
    r = np.max(x, axis=axis, keepdims=keepdims)
    return np.sum(r * r)


def red_min(x, axis, keepdims):
    r = np.min(x, axis=axis, keepdims=keepdims)
    return np.sum(r * r)


def red_var(x, axis, keepdims):
    r = np.var(x, axis=axis, keepdims=keepdims)
    return np.sum(r * r)


def red_std(x, axis, keepdims):
    r = np.std(x, axis=axis, keepdims=keepdims)
    return np.sum(r * r)


REDUCTIONS = [red_sum, red_mean, red_prod, red_max, red_min, red_var, red_std]


def _reduction_input(f, shape, seed):
    if f is red_prod:
        return signed(*shape, lo=0.5, hi=1.5, seed=seed)
    return arr(*shape, seed=seed)


REDUCTION_CASES = [
    *[
        case(f, _reduction_input(f, (2, 3), seed), axis=axis, keepdims=keepdims)
        for seed, f in enumerate(REDUCTIONS)
        for axis in (None, 0, 1, -1)
        for keepdims in (False, True)
    ],
    *[
        case(f, _reduction_input(f, (3,), seed), axis=axis, keepdims=False)
        for seed, f in enumerate(REDUCTIONS)
        for axis in (None, 0, -1)
    ],
    case(red_sum, 0.7, axis=None, keepdims=False),
    case(red_mean, 0.7, axis=None, keepdims=False),
]


def sum_axis_literal(x):
    return np.sum(np.sum(x, axis=1) ** 2)


def mean_axis_positional(x):
    return np.sum(np.mean(x, 0) ** 3)


def max_no_axis(x):
    return np.max(x) * np.min(x)


def std_of_tanh(x):
    return np.std(np.tanh(x)) + np.var(x, axis=-1, keepdims=True)[0, 0]


def prod_keepdims_broadcast(x):
    return np.sum(np.prod(x, axis=0, keepdims=True) * x)


def mean_subtracted(x):
    centered = x - np.mean(x, axis=1, keepdims=True)
    return np.sum(centered**2 * x)


LITERAL_REDUCTION_CASES = [
    case(sum_axis_literal, arr(2, 3)),
    case(mean_axis_positional, arr(2, 3, seed=1)),
    case(max_no_axis, arr(2, 3, seed=2)),
    case(std_of_tanh, arr(2, 3, seed=3)),
    case(prod_keepdims_broadcast, signed(2, 3, lo=0.5, hi=1.5, seed=4)),
    case(mean_subtracted, arr(2, 3, seed=5)),
]

# -- shapes ---------------------------------------------------------------------------------------


def np_transpose(x, y):
    return np.sum(np.transpose(x) * y)


def np_transpose_axes(x, y):
    return np.sum(np.transpose(x, (1, 0)) ** 2 * y)


def np_reshape(x, y):
    return np.sum(np.reshape(x, (3, 2)) * y)


def np_reshape_flat(x, y):
    return np.sum(np.reshape(x, -1) ** 2 * y)


def np_squeeze(x, y):
    return np.sum(np.squeeze(x) * y)


def np_squeeze_axis(x, y):
    return np.sum(np.squeeze(x, axis=1) ** 2 * y)


def np_expand_dims(x, y):
    return np.sum(np.expand_dims(x, 0) * y)


def np_expand_dims_axis1(x, y):
    return np.sum(np.expand_dims(x, axis=1) ** 2 * y)


def np_concatenate(x, y):
    return np.sum(np.sin(np.concatenate([x, y])) * np.concatenate([y, x]))


def np_concatenate_axis1(x, y):
    return np.sum(np.concatenate((x, y), axis=1) ** 3)


def np_stack(x, y):
    return np.sum(np.stack([x, y]) ** 3)


def np_stack_axis1(x, y):
    s = np.stack([x, y, x * y], axis=1)
    return np.sum(s * s)


SHAPE_CASES = [
    case(np_transpose, arr(2, 3), arr(3, 2, seed=1), wrt=(0, 1)),
    case(np_transpose_axes, arr(2, 3), arr(3, 2, seed=1), wrt=(0, 1)),
    case(np_reshape, arr(2, 3), arr(3, 2, seed=1), wrt=(0, 1)),
    case(np_reshape_flat, arr(2, 3), arr(6, seed=1), wrt=(0, 1)),
    case(np_squeeze, arr(1, 3), arr(3, seed=1), wrt=(0, 1)),
    case(np_squeeze_axis, arr(2, 1), arr(2, seed=1), wrt=(0, 1)),
    case(np_expand_dims, arr(3), arr(2, 3, seed=1), wrt=(0, 1)),
    case(np_expand_dims_axis1, arr(3), arr(3, 2, seed=1), wrt=(0, 1)),
    case(np_concatenate, arr(3), arr(3, seed=1), wrt=(0, 1)),
    case(np_concatenate, arr(2, 3), arr(2, 3, seed=1), wrt=(0, 1)),
    case(np_concatenate_axis1, arr(2, 3), arr(2, 2, seed=1), wrt=(0, 1)),
    case(np_stack, arr(3), arr(3, seed=1), wrt=(0, 1)),
    case(np_stack, 0.4, -1.1, wrt=(0, 1)),
    case(np_stack_axis1, arr(3), arr(3, seed=1), wrt=(0, 1)),
]

# -- constructors and constants -------------------------------------------------------------------


def zeros_then_add(x):
    z = np.zeros(3)
    z = z + x
    return np.sum(z * z)


def ones_broadcast(x):
    return np.sum(np.ones((2, 3)) * x**2)


def zeros_like_add(x):
    return np.sum((np.zeros_like(x) + x) ** 2)


def ones_like_mul(x):
    return np.sum(np.ones_like(x) * x**3)


def full_mul(x):
    return np.sum(np.full((2, 3), 2.5) * x**2)


def array_of_scalars(x, y):
    v = np.array([x, y, x * y])
    return np.sum(v * v)


def array_with_constants(x):
    v = np.array([1.0, x, 2.0, x**2])
    return np.sum(np.sin(v) * v)


def nested_array(x, y):
    m = np.array([[x, 1.0], [2.0, y]])
    return np.sum(m @ m)


def array_of_arrays(a, b):
    m = np.array([a, b, a * b])
    return np.sum(np.tanh(m) * m)


def np_constants(x):
    return np.sin(np.pi * x) + np.e**x


def np_newaxis(x, y):
    return np.sum(x[:, np.newaxis] * y[np.newaxis, :] ** 2)


CONSTRUCTOR_CASES = [
    case(zeros_then_add, arr(3)),
    case(zeros_then_add, 0.6),
    case(ones_broadcast, arr(3)),
    case(ones_broadcast, 0.6),
    case(zeros_like_add, arr(2, 3)),
    case(ones_like_mul, arr(2, 3)),
    case(full_mul, arr(2, 3)),
    case(array_of_scalars, 0.8, -1.3, wrt=(0, 1)),
    case(array_with_constants, 0.7),
    case(nested_array, 0.8, -1.3, wrt=(0, 1)),
    case(array_of_arrays, arr(3), arr(3, seed=1), wrt=(0, 1)),
    case(np_constants, 0.3),
    case(np_newaxis, arr(3), arr(2, seed=1), wrt=(0, 1)),
]

# -- method forms and attributes ------------------------------------------------------------------


def method_sum(x):
    return x.sum() * x.sum()


def method_sum_axis(x):
    return np.sum(x.sum(axis=0) ** 2)


def method_mean_axis(x):
    return np.sum(x.mean(axis=0) ** 2) + np.sum(x.mean(axis=1) ** 3)


def method_dot(x, y):
    return np.sum(x.dot(y) ** 2)


def method_transpose(x, y):
    return np.sum(x.T * y)


def method_reshape(x, y):
    return np.sum(x.reshape(3, 2) * y) + np.sum(x.reshape((6,)) ** 2)


def shape_constants(x):
    return np.sum(x) / x.size + x.ndim * np.sum(x**2) + x.shape[0] * np.sum(x**3) + x.shape[-1]


METHOD_CASES = [
    case(method_sum, arr(2, 3)),
    case(method_sum_axis, arr(2, 3)),
    case(method_mean_axis, arr(2, 3)),
    case(method_dot, arr(3), arr(3, seed=1), wrt=(0, 1)),
    case(method_dot, arr(2, 3), arr(3, seed=1), wrt=(0, 1)),
    case(method_dot, arr(2, 3), arr(3, 2, seed=1), wrt=(0, 1)),
    case(method_transpose, arr(2, 3), arr(3, 2, seed=1), wrt=(0, 1)),
    case(method_reshape, arr(2, 3), arr(3, 2, seed=1), wrt=(0, 1)),
    case(shape_constants, arr(2, 3)),
    case(shape_constants, arr(4)),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", UNARY_CASES)
def test_elementwise(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


@pytest.mark.parametrize("f, args, kwargs, wrt", BINARY_CASES)
def test_binary(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


@pytest.mark.parametrize("f, args, kwargs, wrt", REDUCTION_CASES + LITERAL_REDUCTION_CASES)
def test_reduction(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


@pytest.mark.parametrize("f, args, kwargs, wrt", SHAPE_CASES)
def test_shape(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


@pytest.mark.parametrize("f, args, kwargs, wrt", CONSTRUCTOR_CASES)
def test_constructor_and_constant(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


@pytest.mark.parametrize("f, args, kwargs, wrt", METHOD_CASES)
def test_method(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


def test_closed_form_tanh():
    x = arr(2, 3)
    expected = np.tanh(x) + x * (1.0 - np.tanh(x) ** 2)
    np.testing.assert_allclose(assert_grad(np_tanh, x), expected, rtol=1e-10)
