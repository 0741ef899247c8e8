"""Adjoints of NumPy functions and ndarray methods, in NumPy's documentation order.

Parameter names and defaults mirror NumPy's, so calls with keywords bind. Binary functions
broadcast: each operand's contribution goes through `unbroadcast`. Reductions broadcast the
result's gradient back with `expand_reduced`.
"""

import numpy as np

from ..runtime import (
    clip_mask,
    dot_left,
    dot_right,
    expand_reduced,
    extremum_mask,
    reduced_count,
    split_like,
    unbroadcast,
    unstack,
    untranspose,
)
from .templates import adjoint, adjoint_method, d, nondifferentiable


# -- trigonometric ------------------------------------------------------------------------
@adjoint(np.sin)
def sin(y, x):
    d[x] += d[y] * np.cos(x)


@adjoint(np.cos)
def cos(y, x):
    d[x] += -d[y] * np.sin(x)


@adjoint(np.tan)
def tan(y, x):
    d[x] += d[y] * (1.0 + y * y)


@adjoint(np.arcsin)
def arcsin(y, x):
    d[x] += d[y] / np.sqrt(1.0 - x * x)


@adjoint(np.arccos)
def arccos(y, x):
    d[x] += -d[y] / np.sqrt(1.0 - x * x)


@adjoint(np.arctan)
def arctan(y, x):
    d[x] += d[y] / (1.0 + x * x)


@adjoint(np.arctan2)
def arctan2(z, x1, x2):
    d[x1] += unbroadcast(d[z] * x2 / (x1 * x1 + x2 * x2), x1)
    d[x2] += unbroadcast(-d[z] * x1 / (x1 * x1 + x2 * x2), x2)


@adjoint(np.hypot)
def hypot(z, x1, x2):
    d[x1] += unbroadcast(d[z] * x1 / z, x1)
    d[x2] += unbroadcast(d[z] * x2 / z, x2)


# -- hyperbolic ------------------------------------------------------------------------------
@adjoint(np.sinh)
def sinh(y, x):
    d[x] += d[y] * np.cosh(x)


@adjoint(np.cosh)
def cosh(y, x):
    d[x] += d[y] * np.sinh(x)


@adjoint(np.tanh)
def tanh(y, x):
    d[x] += d[y] * (1.0 - y * y)


@adjoint(np.arcsinh)
def arcsinh(y, x):
    d[x] += d[y] / np.sqrt(x * x + 1.0)


@adjoint(np.arccosh)
def arccosh(y, x):
    d[x] += d[y] / np.sqrt(x * x - 1.0)


@adjoint(np.arctanh)
def arctanh(y, x):
    d[x] += d[y] / (1.0 - x * x)


# -- exponents and logarithms ------------------------------------------------------------------
@adjoint(np.exp)
def exp(y, x):
    d[x] += d[y] * y


@adjoint(np.exp2)
def exp2(y, x):
    d[x] += d[y] * y * np.log(2.0)


@adjoint(np.expm1)
def expm1(y, x):
    d[x] += d[y] * (y + 1.0)


@adjoint(np.log)
def log(y, x):
    d[x] += d[y] / x


@adjoint(np.log2)
def log2(y, x):
    d[x] += d[y] / (x * np.log(2.0))


@adjoint(np.log10)
def log10(y, x):
    d[x] += d[y] / (x * np.log(10.0))


@adjoint(np.log1p)
def log1p(y, x):
    d[x] += d[y] / (1.0 + x)


@adjoint(np.logaddexp)
def logaddexp(z, x1, x2):
    d[x1] += unbroadcast(d[z] * np.exp(x1 - z), x1)
    d[x2] += unbroadcast(d[z] * np.exp(x2 - z), x2)


# -- arithmetic ------------------------------------------------------------------------------
@adjoint(np.reciprocal)
def reciprocal(y, x):
    d[x] += -d[y] * y * y


@adjoint(np.sqrt)
def sqrt(y, x):
    d[x] += d[y] * 0.5 / y


@adjoint(np.cbrt)
def cbrt(y, x):
    d[x] += d[y] / (3.0 * y * y)


@adjoint(np.square)
def square(y, x):
    d[x] += d[y] * 2.0 * x


@adjoint(np.abs, np.absolute)
def absolute(y, x):
    d[x] += d[y] * np.sign(x)


@adjoint(np.maximum, np.fmax)
def maximum(z, x1, x2):
    d[x1] += unbroadcast(d[z] * (x1 >= x2), x1)
    d[x2] += unbroadcast(d[z] * (x1 < x2), x2)


@adjoint(np.minimum, np.fmin)
def minimum(z, x1, x2):
    d[x1] += unbroadcast(d[z] * (x1 <= x2), x1)
    d[x2] += unbroadcast(d[z] * (x1 > x2), x2)


@adjoint(np.clip)
def clip(y, a, a_min=None, a_max=None):
    d[a] += d[y] * clip_mask(a, a_min, a_max)
    d[a_min] += unbroadcast(d[y] * (a < a_min), a_min)
    d[a_max] += unbroadcast(d[y] * (a > a_max), a_max)


@adjoint(np.where)
def where(out, condition, x, y):
    d[x] += unbroadcast(np.where(condition, d[out], 0.0), x)
    d[y] += unbroadcast(np.where(condition, 0.0, d[out]), y)


# -- sums, products and statistics -------------------------------------------------------------
@adjoint(np.sum)
def sum(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] += expand_reduced(d[y], a, axis=axis, keepdims=keepdims)


@adjoint(np.mean)
def mean(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] += expand_reduced(d[y], a, axis=axis, keepdims=keepdims) / reduced_count(a, y)


@adjoint(np.prod)
def prod(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] += expand_reduced(d[y] * y, a, axis=axis, keepdims=keepdims) / a


@adjoint(np.max, np.amax, np.min, np.amin)
def max(y, a, axis=None, out=None, keepdims=False):
    hits = extremum_mask(a, y, axis=axis, keepdims=keepdims)
    d[a] += expand_reduced(d[y], a, axis=axis, keepdims=keepdims) * hits


@adjoint(np.var)
def var(y, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    centered = a - np.mean(a, axis=axis, keepdims=True)
    count = reduced_count(a, y) - ddof
    d[a] += expand_reduced(d[y], a, axis=axis, keepdims=keepdims) * 2.0 * centered / count


@adjoint(np.std)
def std(y, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    centered = a - np.mean(a, axis=axis, keepdims=True)
    count = reduced_count(a, y) - ddof
    d[a] += expand_reduced(d[y] / y, a, axis=axis, keepdims=keepdims) * centered / count


# -- products of arrays --------------------------------------------------------------------------
@adjoint(np.dot)
def dot(z, a, b):
    d[a] += dot_left(d[z], a, b)
    d[b] += dot_right(d[z], a, b)


@adjoint(np.outer)
def outer(z, a, b):
    d[a] += np.reshape(d[z] @ np.ravel(b), np.shape(a))
    d[b] += np.reshape(np.ravel(a) @ d[z], np.shape(b))


@adjoint(np.inner)
def inner(z, a, b):
    d[a] += unbroadcast(np.multiply.outer(d[z], b) if np.ndim(a) > 1 else d[z] * b, a)
    d[b] += unbroadcast(np.multiply.outer(d[z], a) if np.ndim(b) > 1 else d[z] * a, b)


# -- changing shape ------------------------------------------------------------------------------
@adjoint(np.reshape)
def reshape(y, a, shape=None, order="C", newshape=None, copy=None):
    d[a] += np.reshape(d[y], np.shape(a))


@adjoint(np.ravel)
def ravel(y, a, order="C"):
    d[a] += np.reshape(d[y], np.shape(a))


@adjoint(np.squeeze)
def squeeze(y, a, axis=None):
    d[a] += np.reshape(d[y], np.shape(a))


@adjoint(np.expand_dims)
def expand_dims(y, a, axis):
    d[a] += np.reshape(d[y], np.shape(a))


@adjoint(np.transpose)
def transpose(y, a, axes=None):
    d[a] += untranspose(d[y], axes)


@adjoint(np.swapaxes)
def swapaxes(y, a, axis1, axis2):
    d[a] += np.swapaxes(d[y], axis1, axis2)


@adjoint(np.broadcast_to)
def broadcast_to(y, array, shape):
    d[array] += unbroadcast(d[y], array)


# -- joining and building arrays -----------------------------------------------------------------
@adjoint(np.concatenate)
def concatenate(y, arrays, axis=0):
    d[arrays] += split_like(d[y], arrays, axis)


@adjoint(np.stack)
def stack(y, arrays, axis=0):
    d[arrays] += unstack(d[y], axis)


@adjoint(np.array, np.asarray)
def array(y, object, dtype=None):
    d[object] += d[y]


@adjoint(np.full)
def full(y, shape, fill_value, dtype=None):
    d[fill_value] += unbroadcast(d[y], fill_value)


# -- ndarray methods and attributes: the receiver binds to the first parameter -----------------
adjoint_method("sum")(sum)
adjoint_method("mean")(mean)
adjoint_method("prod")(prod)
adjoint_method("max", "min")(max)
adjoint_method("var")(var)
adjoint_method("std")(std)
adjoint_method("dot")(dot)
adjoint_method("clip")(clip)
adjoint_method("squeeze")(squeeze)
adjoint_method("ravel", "flatten")(ravel)


@adjoint_method("reshape")
def reshape_method(y, a, *shape, order="C"):
    d[a] += np.reshape(d[y], np.shape(a))


@adjoint_method("transpose")
def transpose_method(y, a, *axes):
    d[a] += untranspose(d[y], axes or None)


@adjoint_method("T")
def transpose_attribute(y, a):
    d[a] += np.transpose(d[y])


@adjoint_method("copy", "astype")
def copy(y, a, *args, order="K"):
    d[a] += d[y]


# -- no gradient ------------------------------------------------------------------------------
nondifferentiable(
    np.floor, np.ceil, np.round, np.rint, np.trunc, np.fix, np.around, np.sign,
    np.argmax, np.argmin, np.argsort, np.argwhere, np.nonzero, np.searchsorted,
    np.isfinite, np.isnan, np.isinf, np.isclose, np.allclose,
    np.equal, np.not_equal, np.greater, np.greater_equal, np.less, np.less_equal,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
    np.zeros, np.ones, np.empty, np.zeros_like, np.ones_like, np.empty_like, np.full_like,
    np.shape, np.ndim, np.size, np.result_type, np.floor_divide, np.count_nonzero,
    np.any, np.all, np.unique, np.digitize, np.histogram, np.arange, np.eye, np.identity,
)
