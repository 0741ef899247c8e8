"""Reverse mode through the NumPy functions of the contract: elementwise functions on scalars,
(3,) and (2, 3); binary functions away from ties; reductions with axis and keepdims; shape
functions, constructors, constants and the ndarray method forms. Then the same functions in
small models: reductions over several axes with keepdims (normalizations, softmax, log-sum-exp
and ties in its max), where/maximum/minimum and masks in loops, attention and MLPs."""

import math

import numpy as np
import pytest
from provenance import found_in

import sourcegrad
from oracle import arr, assert_grad, assert_value_and_grad, assert_vjp, case, signed

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


# -- reductions over axes, keepdims, normalizations -----------------------------------------------


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


def max_along_axis(m):
    return np.sum(np.max(m, axis=0) * np.min(m, axis=1).sum())


def mean_keepdims_cov(m):
    c = m - m.mean(axis=0, keepdims=True)
    cov = c.T @ c / m.shape[0]
    return np.sum(cov * cov)


def tuple_axis(m):
    return np.sum(np.mean(m * m, axis=(0, 1))) + np.sum(m, axis=(0, 2)).sum()


def vjp_keepdims(m):
    return m / m.sum(axis=1, keepdims=True)


def keepdims_norms(m, gamma, beta):
    mu = m.mean(axis=0, keepdims=True)
    sd = np.std(m, axis=0, keepdims=True)
    z = (m - mu) / (sd + 1e-3)
    z = gamma * z + beta
    row = np.sum(z, axis=-1, keepdims=True)
    return np.sum(z * row) + np.max(z, axis=1, keepdims=True).sum()


def tuple_axes_reductions(t):
    a = np.sum(t, axis=(0, 2))
    b = np.mean(t * t, axis=(1, -1))
    c = np.max(t, axis=-1)
    d = np.min(t, axis=(0, 1))
    e = np.prod(t, axis=-1)
    return np.sum(a * a) + np.sum(b) + np.sum(c * c) + np.sum(d) + np.sum(e)


def var_std_axes(t):
    return np.sum(np.var(t, axis=(0, 2))) + np.sum(np.std(t, axis=-1, keepdims=True) * t)


def max_min_axes_loop(m, n):
    s = 0.0
    for _ in range(n):
        hi = np.max(m, axis=0)
        lo = m.min(axis=1)
        s = s + np.sum(hi) * np.sum(lo)
        m = m * 0.8 + np.mean(m, axis=1, keepdims=True) * 0.2
    return s


KEEPDIMS = found_in("unseen", [
    case(keepdims_broadcast, arr(3, 4)),
    case(softmax_keepdims, arr(4, 3), arr(3, 2, seed=1), wrt=(0, 1)),
    case(logsumexp_rows, arr(3, 4)),
    case(max_along_axis, arr(3, 4)),
    case(mean_keepdims_cov, arr(4, 3)),
    case(tuple_axis, arr(2, 3, 4)),
]) + found_in("programs", [
    case(keepdims_norms, arr(4, 3), arr(1, 3, seed=1), arr(3, seed=2), wrt=(0, 1, 2)),
    case(tuple_axes_reductions, arr(2, 3, 4)),
    case(var_std_axes, arr(2, 3, 4)),
    case(max_min_axes_loop, arr(3, 4), 3),
])


KEEPDIMS_VJP = found_in("unseen", [
    pytest.param(vjp_keepdims, (arr(2, 3, lo=0.5, hi=2.0),), arr(2, 3, seed=2), id="keepdims"),
])


# -- where, maximum, minimum, masks, ties ---------------------------------------------------------


def where_broadcast(a, b):
    return np.sum(np.where(a[:, None] > b[None, :], a[:, None] * b, b * b))


def where_scalar_both(a, x):
    return np.sum(np.where(a > 0, x, -x) * a)


def relu_chain(x):
    h = np.maximum(x, 0.0)
    h = np.minimum(h, 1.0)
    return np.sum(h * x)


def mask_multiply(a):
    mask = a > 0
    return np.sum(a * mask) + np.sum(np.where(mask, a, 0.0) ** 2)


def where_in_loop(a, w, n):
    for i in range(n):
        a = np.where(a > 0.1 * i, a * w, 0.3 * a)
        a = np.where(np.abs(a) < 1.5, a, np.sign(a) * 1.5)
    return np.sum(a * a)


def maximum_minimum_broadcast(a, b):
    s = 0.0
    for k in range(3):
        s = s + np.sum(np.maximum(a[:, None], b[None, :] + k * 0.3))
        s = s + np.sum(np.minimum(a[None, :], b[:, None] * 0.5))
    return s


def where_loop_out(a, w):
    for i in range(3):
        a = np.where(a > 0.2 * i, np.tanh(a * w), a * a)
    return a


def lse_max(z):
    m = np.max(z)
    return m + np.log(np.sum(np.exp(z - m)))


def lse_builtin_max_loop(z):
    m = z[0]
    for v in z:
        m = max(m, v)
    return m + np.log(np.sum(np.exp(z - m)))


def lse_where_loop(z):
    m = z[0]
    for v in z:
        m = np.where(v > m, v, m)
    return m + np.log(np.sum(np.exp(z - m)))


def lse_rows_keepdims(z):
    m = np.max(z, axis=-1, keepdims=True)
    return np.sum(m[:, 0] + np.log(np.sum(np.exp(z - m), axis=-1)))


WHERE = found_in("unseen", [
    case(where_broadcast, arr(3), arr(4, seed=1), wrt=(0, 1)),
    case(where_scalar_both, signed(4), 0.7, wrt=(0, 1)),
    case(relu_chain, arr(6, lo=-0.9, hi=1.9)),
    case(mask_multiply, signed(5)),
]) + found_in("programs", [
    case(where_in_loop, signed(6), 1.3, 3, wrt=(0, 1)),
    case(maximum_minimum_broadcast, arr(3), arr(4, seed=1), wrt=(0, 1)),
])


WHERE_VJP = found_in("programs", [
    pytest.param(where_loop_out, (signed(5), 1.2), arr(5, seed=3), id="where-loop"),
])


@pytest.mark.parametrize("f", [lse_max, lse_builtin_max_loop, lse_where_loop])
@pytest.mark.parametrize(
    "z", [np.zeros(4), np.array([1.0, 2.0, 2.0, -1.0])], ids=["all-tied", "two-tied"]
)
def test_logsumexp_ties_closed_form(f, z):
    p = np.exp(z - z.max()) / np.sum(np.exp(z - z.max()))
    np.testing.assert_allclose(sourcegrad.grad(f)(z), p, rtol=1e-12, atol=1e-15)


def test_logsumexp_rows_ties_closed_form():
    z = np.array([[0.0, 0.0, 1.0], [2.0, 2.0, 2.0]])
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(sourcegrad.grad(lse_rows_keepdims)(z), p, rtol=1e-12)


# -- models written with NumPy: attention, MLPs, constructors with int shapes ---------------------


def ones_matrix_of_ints(x, n, m):
    a = np.ones((n, m)) * x
    b = np.eye(n) * x
    return np.sum(a) + np.sum(b @ a)


def batch_mlp(w1, w2, xs):
    h = np.maximum(xs @ w1, 0.0)
    out = h @ w2
    return np.mean((out - 1.0) ** 2)


def attention(q, k, v):
    s = q @ k.T / np.sqrt(q.shape[1])
    s = s - s.max(axis=1, keepdims=True)
    p = np.exp(s)
    p = p / p.sum(axis=1, keepdims=True)
    return np.sum((p @ v) ** 2)


def vjp_matrix_out(a, b):
    return np.outer(a, b) * np.sin(a)[:, None]


def softmax_probs(z, temperature):
    z = z / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def attention_block(x, wq, wk, wv, wo):
    q = x @ wq
    k = x @ wk
    v = x @ wv
    scores = q @ k.T / math.sqrt(wq.shape[1])
    scores = scores - np.max(scores, axis=-1, keepdims=True)
    att = np.exp(scores)
    att = att / np.sum(att, axis=-1, keepdims=True)
    h = x + (att @ v) @ wo
    mu = np.mean(h, axis=-1, keepdims=True)
    var = np.var(h, axis=-1, keepdims=True)
    y = (h - mu) / np.sqrt(var + 1e-5)
    return np.sum(y * np.arange(y.shape[1]))


def multihead_attention(x, wq, wk, wv):
    # wq, wk, wv: (heads, d, dk); heads summed after the transpose
    out = 0.0
    for hd in range(wq.shape[0]):
        q = x @ wq[hd]
        k = x @ wk[hd]
        s = q @ np.transpose(k) * 0.5
        s = s - s.max(axis=1, keepdims=True)
        a = np.exp(s)
        a = a / a.sum(axis=1, keepdims=True)
        out = out + a @ (x @ wv[hd])
    return np.sum(np.tanh(out))


def attention_out(q, k, v):
    s = q @ k.T
    s = s - np.max(s, axis=-1, keepdims=True)
    p = np.exp(s)
    p = p / np.sum(p, axis=-1, keepdims=True)
    return p @ v


def mlp_out(w1, w2, x):
    return np.tanh(x @ w1) @ w2


def query_over_batches(q, keys, values):
    # one query vector (d,) against keys (b, t, d): scores (b, t)
    s = q @ np.swapaxes(keys, -1, -2)
    s = s - np.max(s, axis=-1, keepdims=True)
    p = np.exp(s)
    p = p / np.sum(p, axis=-1, keepdims=True)
    return np.sum(np.sum(p[:, :, None] * values, axis=1) ** 2)


PROGRAMS = found_in("round4", [
    case(ones_matrix_of_ints, 0.7, 2, 3),
]) + found_in("unseen", [
    case(batch_mlp, arr(3, 4), arr(4, 2, seed=1), arr(5, 3, seed=2), wrt=(0, 1, 2)),
    case(attention, arr(3, 4), arr(5, 4, seed=1), arr(5, 2, seed=2), wrt=(0, 1, 2)),
]) + found_in("programs", [
    case(
        attention_block,
        arr(4, 3),
        arr(3, 2, seed=1),
        arr(3, 2, seed=2),
        arr(3, 2, seed=3),
        arr(2, 3, seed=4),
        wrt=(0, 1, 2, 3, 4),
    ),
    case(
        multihead_attention,
        arr(4, 3),
        arr(2, 3, 2, seed=1),
        arr(2, 3, 2, seed=2),
        arr(2, 3, 2, seed=3),
        wrt=(0, 1, 2, 3),
    ),
    case(
        query_over_batches,
        arr(3),
        arr(2, 4, 3, seed=1),
        arr(2, 4, 2, seed=2),
        wrt=(0, 1, 2),
    ),
])


PROGRAMS_VJP = found_in("unseen", [
    pytest.param(vjp_matrix_out, (arr(3), arr(2, seed=1)), arr(3, 2, seed=2), id="outer"),
]) + found_in("programs", [
    pytest.param(
        attention_out,
        (arr(3, 2), arr(4, 2, seed=1), arr(4, 3, seed=2)),
        arr(3, 3, seed=5),
        id="attention",
    ),
    pytest.param(
        mlp_out, (arr(3, 4), arr(4, 2, seed=1), arr(5, 3, seed=2)), arr(5, 2, seed=3), id="mlp"
    ),
    pytest.param(softmax_probs, (arr(3, 4), 0.7), arr(3, 4, seed=4), id="softmax"),
])


# -- the cases above against the oracle -----------------------------------------------------------


@pytest.mark.parametrize("f, args, kwargs, wrt", KEEPDIMS + WHERE + PROGRAMS)
def test_grad(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)


@pytest.mark.parametrize("f, args, seed", KEEPDIMS_VJP + WHERE_VJP + PROGRAMS_VJP)
def test_vjp(f, args, seed):
    assert_vjp(f, *args, seed=seed)
