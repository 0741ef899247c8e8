"""Adjoints of NumPy's array functions: reductions and statistics, cumulative operations,
products of arrays, changing shape, joining, splitting, tiling, rearranging, indexing and
sorting, building matrices, ndarray methods, and the functions with no gradient. Elementwise
functions are in `numpy.py`; the conventions (NumPy's parameter names, `unbroadcast`,
`expand_reduced`, helpers named for what they undo, complex adjoints) are the same.
"""


import numpy as np

from ..runtime import (
    average_weights,
    average_weights_adjoint,
    cross_left,
    cross_right,
    dot_left,
    dot_right,
    einsum_adjoint,
    expand_reduced,
    extremum_mask,
    index_concatenate,
    inner_left,
    inner_right,
    kron_left,
    kron_right,
    linspace_adjoint,
    product_of_others,
    reduced_count,
    reshape_each,
    split_like,
    std_derivative,
    tensordot_left,
    tensordot_right,
    trapezoid_weights,
    trapezoid_x_adjoint,
    unappend,
    unbroadcast,
    unbroadcast_each,
    uncolumn_stack,
    uncumprod,
    uncumsum,
    undiag,
    undiagonal,
    undiff,
    undstack,
    ungradient,
    unhstack,
    unindex_concatenate,
    unpad,
    unpermute,
    unrepeat,
    unrollaxis,
    unstack,
    untake,
    untake_along_axis,
    untile,
    untranspose,
    unvstack,
)
from .templates import ANY, FLOAT_DTYPES, accepts, adjoint, d


def _if_present(*names):
    """The NumPy functions of these names that this NumPy has (row_stack is deprecated)."""
    return [getattr(np, name) for name in names if hasattr(np, name)]


# -- sums, products and statistics -------------------------------------------------------------
@adjoint(np.sum)
@accepts(dtype=FLOAT_DTYPES)
def sum(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] += expand_reduced(d[y], a, axis=axis, keepdims=keepdims)


@adjoint(np.mean)
@accepts(dtype=FLOAT_DTYPES)
def mean(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] += expand_reduced(d[y], a, axis=axis, keepdims=keepdims) / reduced_count(a, y)


@adjoint(np.prod)
@accepts(dtype=FLOAT_DTYPES)
def prod(y, a, axis=None, dtype=None, out=None, keepdims=False):
    g = expand_reduced(d[y], a, axis=axis, keepdims=keepdims)
    d[a] += g * product_of_others(a, axis=axis)  # exact where a has zeros


@adjoint(np.max, np.amax, np.min, np.amin, np.nanmax, np.nanmin)
def max(y, a, axis=None, out=None, keepdims=False):
    hits = extremum_mask(a, y, axis=axis, keepdims=keepdims)
    d[a] += expand_reduced(d[y], a, axis=axis, keepdims=keepdims) * hits


@adjoint(np.var)
@accepts(dtype=FLOAT_DTYPES)
def var(y, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    centered = a - np.mean(a, axis=axis, keepdims=True)
    count = reduced_count(a, y) - ddof
    d[a] += expand_reduced(d[y], a, axis=axis, keepdims=keepdims) * 2.0 * centered / count


@adjoint(np.std)
@accepts(dtype=FLOAT_DTYPES)
def std(y, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    g = expand_reduced(d[y], a, axis=axis, keepdims=keepdims)
    d[a] += g * std_derivative(a, axis=axis, ddof=ddof)  # 0 where the samples are all equal


@adjoint(np.nansum)
@accepts(dtype=FLOAT_DTYPES)
def nansum(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] += expand_reduced(d[y], a, axis=axis, keepdims=keepdims) * ~np.isnan(a)


@adjoint(np.nanmean)
@accepts(dtype=FLOAT_DTYPES)
def nanmean(y, a, axis=None, dtype=None, out=None, keepdims=False):
    counted = ~np.isnan(a)
    count = np.sum(counted, axis=axis, keepdims=True)
    d[a] += expand_reduced(d[y], a, axis=axis, keepdims=keepdims) * counted / count


@adjoint(np.ptp)
def ptp(y, a, axis=None, out=None, keepdims=False):
    top = extremum_mask(a, np.max(a, axis=axis, keepdims=True), axis=axis, keepdims=True)
    bottom = extremum_mask(a, np.min(a, axis=axis, keepdims=True), axis=axis, keepdims=True)
    d[a] += expand_reduced(d[y], a, axis=axis, keepdims=keepdims) * (top - bottom)


@adjoint(np.average)
def average(y, a, axis=None, weights=None, returned=False, *, keepdims=False):
    shares = average_weights(a, weights, axis=axis, returned=returned)
    d[a] += expand_reduced(d[y], a, axis=axis, keepdims=keepdims) * shares
    d[weights] += average_weights_adjoint(d[y], a, y, weights, axis=axis, keepdims=keepdims)


# -- cumulative sums and products, differences, integrals --------------------------------------
@adjoint(np.cumsum)
@accepts(dtype=FLOAT_DTYPES)
def cumsum(y, a, axis=None, dtype=None, out=None):
    d[a] += uncumsum(d[y], a, axis=axis)


@adjoint(np.cumprod)
@accepts(dtype=FLOAT_DTYPES)
def cumprod(y, a, axis=None, dtype=None, out=None):
    d[a] += uncumprod(d[y], a, y, axis=axis)


@adjoint(np.diff)
def diff(y, a, n=1, axis=-1, prepend=None, append=None):
    d[a] += undiff(d[y], a, n=n, axis=axis, prepend=prepend, append=append)
    d[prepend] += undiff(d[y], a, n=n, axis=axis, prepend=prepend, append=append,
                         part="prepend")
    d[append] += undiff(d[y], a, n=n, axis=axis, prepend=prepend, append=append,
                        part="append")


@adjoint(np.gradient)
def gradient(y, f, *varargs, axis=None, edge_order=1):
    d[f] += ungradient(d[y], f, varargs, axis=axis, edge_order=edge_order)


@adjoint(np.cross)
def cross(c, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    d[a] += cross_left(d[c], a, b, axisa=axisa, axisb=axisb, axisc=axisc, axis=axis)
    d[b] += cross_right(d[c], a, b, axisa=axisa, axisb=axisb, axisc=axisc, axis=axis)


@adjoint(np.trapezoid)
def trapezoid(z, y, x=None, dx=1.0, axis=-1):
    g = expand_reduced(d[z], y, axis=axis)
    d[y] += g * trapezoid_weights(y, x=x, dx=dx, axis=axis)
    d[x] += trapezoid_x_adjoint(d[z], y, x, axis=axis)
    d[dx] += unbroadcast(d[z] * np.trapezoid(y, axis=axis), dx)


# -- products of arrays --------------------------------------------------------------------------
@adjoint(np.dot)
def dot(z, a, b):
    d[a] += dot_left(d[z], a, b)
    d[b] += dot_right(d[z], a, b)


@adjoint(np.outer)
def outer(z, a, b):
    d[a] += np.reshape(d[z] @ np.ravel(b), np.shape(a))
    d[b] += np.reshape(np.ravel(a) @ d[z], np.shape(b))


@adjoint(np.vecdot)
def vecdot(y, x1, x2, out=None, *, axis=-1):
    g = np.expand_dims(d[y], axis)
    d[x1] += unbroadcast(np.conj(g * x2), x1)
    d[x2] += unbroadcast(g * np.conj(x1), x2)


@adjoint(np.inner)
def inner(z, a, b):
    d[a] += inner_left(d[z], a, b)
    d[b] += inner_right(d[z], a, b)


@adjoint(np.tensordot)
def tensordot(z, a, b, axes=2):
    d[a] += tensordot_left(d[z], a, b, axes=axes)
    d[b] += tensordot_right(d[z], a, b, axes=axes)


@adjoint(np.einsum)
@accepts(dtype=FLOAT_DTYPES, order=ANY, casting=ANY, optimize=ANY)  # layout, checks, path
def einsum(y, subscripts, *operands, out=None, dtype=None, order="K", casting="safe",
           optimize=False):
    d[operands] += einsum_adjoint(d[y], subscripts, operands)
    d[subscripts] += einsum_adjoint(d[y], subscripts, operands, first=True)  # interleaved


@adjoint(np.kron)
def kron(z, a, b):
    d[a] += kron_left(d[z], a, b)
    d[b] += kron_right(d[z], a, b)


@adjoint(np.trace)
@accepts(dtype=FLOAT_DTYPES)
def trace(y, a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    d[a] += undiagonal(np.expand_dims(d[y], -1), a, offset=offset, axis1=axis1, axis2=axis2)


# -- changing shape ------------------------------------------------------------------------------
# the gradient is read back in the same index order; "A" and "K" follow the memory layout,
# which copies made by the derivative do not keep: refused
@adjoint(np.reshape)
@accepts(order=("C", "F"), shape=ANY, newshape=ANY, copy=ANY)
def reshape(y, a, shape=None, order="C", newshape=None, copy=None):
    d[a] += np.reshape(d[y], np.shape(a), order=order)


@adjoint(np.ravel)
@accepts(order=("C", "F"))
def ravel(y, a, order="C"):
    d[a] += np.reshape(d[y], np.shape(a), order=order)


@adjoint(np.squeeze)
@accepts(axis=ANY)  # the gradient takes a's shape back
def squeeze(y, a, axis=None):
    d[a] += np.reshape(d[y], np.shape(a))


@adjoint(np.expand_dims)
@accepts(axis=ANY)
def expand_dims(y, a, axis):
    d[a] += np.reshape(d[y], np.shape(a))


@adjoint(np.moveaxis)
def moveaxis(y, a, source, destination):
    d[a] += np.moveaxis(d[y], destination, source)


@adjoint(np.rollaxis)
def rollaxis(y, a, axis, start=0):
    d[a] += unrollaxis(d[y], axis, start=start)


@adjoint(np.transpose, np.permute_dims)
def transpose(y, a, axes=None):
    d[a] += untranspose(d[y], axes)


@adjoint(np.swapaxes)
def swapaxes(y, a, axis1, axis2):
    d[a] += np.swapaxes(d[y], axis1, axis2)


@adjoint(np.matrix_transpose)
def matrix_transpose(y, x):
    d[x] += np.matrix_transpose(d[y])


@adjoint(np.atleast_1d, np.atleast_2d, np.atleast_3d)
def atleast_1d(y, *arys):
    d[arys] += reshape_each(d[y], arys)


@adjoint(np.broadcast_to)
@accepts(shape=ANY)
def broadcast_to(y, array, shape):
    d[array] += unbroadcast(d[y], array)


@adjoint(np.broadcast_arrays)
def broadcast_arrays(y, *args, subok=False):
    d[args] += unbroadcast_each(d[y], args)


# -- joining and building arrays -----------------------------------------------------------------
@adjoint(np.concatenate)
@accepts(dtype=FLOAT_DTYPES, casting=ANY)
def concatenate(y, arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    d[arrays] += split_like(d[y], arrays, axis)


@adjoint(np.stack)
@accepts(dtype=FLOAT_DTYPES, casting=ANY)
def stack(y, arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    d[arrays] += unstack(d[y], axis)


@adjoint(np.vstack, *_if_present("row_stack"))
@accepts(dtype=FLOAT_DTYPES, casting=ANY)
def vstack(y, tup, *, dtype=None, casting="same_kind"):
    d[tup] += unvstack(d[y], tup)


@adjoint(np.hstack)
@accepts(dtype=FLOAT_DTYPES, casting=ANY)
def hstack(y, tup, *, dtype=None, casting="same_kind"):
    d[tup] += unhstack(d[y], tup)


@adjoint(np.dstack)
def dstack(y, tup):
    d[tup] += undstack(d[y], tup)


@adjoint(np.column_stack)
def column_stack(y, tup):
    d[tup] += uncolumn_stack(d[y], tup)


@adjoint(index_concatenate)  # np.r_[a, 0:3, b], np.c_[a, b], as normalization writes them
def index_concatenation(y, joiner, *items):
    d[items] += unindex_concatenate(d[y], joiner, items)


# -- splitting arrays: the parts' gradients joined back ------------------------------------------
@adjoint(np.split, np.array_split)
@accepts(indices_or_sections=ANY)
def split(y, ary, indices_or_sections, axis=0):
    d[ary] += np.concatenate(d[y], axis=axis)


@adjoint(np.dsplit)
@accepts(indices_or_sections=ANY)
def dsplit(y, ary, indices_or_sections):
    d[ary] += np.dstack(d[y])


@adjoint(np.hsplit)
@accepts(indices_or_sections=ANY)
def hsplit(y, ary, indices_or_sections):
    d[ary] += np.hstack(d[y])


@adjoint(np.vsplit)
@accepts(indices_or_sections=ANY)
def vsplit(y, ary, indices_or_sections):
    d[ary] += np.vstack(d[y])


# -- tiling, adding and padding ------------------------------------------------------------------
@adjoint(np.tile)
def tile(y, A, reps):
    d[A] += untile(d[y], A, reps)


@adjoint(np.repeat)
def repeat(y, a, repeats, axis=None):
    d[a] += unrepeat(d[y], a, repeats, axis=axis)


@adjoint(np.append)
def append(y, arr, values, axis=None):
    parts = unappend(d[y], arr, values, axis=axis)
    d[arr] += parts[0]
    d[values] += parts[1]


@adjoint(np.pad)
@accepts(end_values=ANY, stat_length=ANY)  # for modes unpad refuses (linear_ramp, mean, ...)
def pad(y, array, pad_width, mode="constant", constant_values=0, end_values=0,
        reflect_type="even", stat_length=None):
    d[array] += unpad(d[y], array, pad_width, mode=mode, reflect_type=reflect_type)
    d[constant_values] += np.sum(d[y]) - np.sum(unpad(d[y], array, pad_width))


# -- rearranging -----------------------------------------------------------------------------------
@adjoint(np.flip)
def flip(y, m, axis=None):
    d[m] += np.flip(d[y], axis)


@adjoint(np.fliplr)
def fliplr(y, m):
    d[m] += np.fliplr(d[y])


@adjoint(np.flipud)
def flipud(y, m):
    d[m] += np.flipud(d[y])


@adjoint(np.roll)
def roll(y, a, shift, axis=None):
    d[a] += np.roll(d[y], np.negative(shift), axis=axis)


@adjoint(np.rot90)
def rot90(y, m, k=1, axes=(0, 1)):
    d[m] += np.rot90(d[y], -k, axes=axes)


# -- indexing and sorting ------------------------------------------------------------------------
@adjoint(np.take)
def take(y, a, indices, axis=None, out=None, mode="raise"):
    d[a] += untake(d[y], a, indices, axis=axis, mode=mode)


@adjoint(np.take_along_axis)
def take_along_axis(y, arr, indices, axis=-1):
    d[arr] += untake_along_axis(d[y], arr, indices, axis=axis)


@adjoint(np.diagonal)
def diagonal(y, a, offset=0, axis1=0, axis2=1):
    d[a] += undiagonal(d[y], a, offset=offset, axis1=axis1, axis2=axis2)


@adjoint(np.sort)
@accepts(kind=ANY, stable=ANY)  # ties have no gradient; order= sorts structured arrays
def sort(y, a, axis=-1, kind=None, order=None, *, stable=None):
    d[a] += unpermute(d[y], a, y, axis=axis)


@adjoint(np.partition)
@accepts(kth=ANY, kind=ANY)  # unpermute reads where each entry went from y
def partition(y, a, kth, axis=-1, kind="introselect", order=None):
    d[a] += unpermute(d[y], a, y, axis=axis)


@adjoint(np.array, np.asarray)
@accepts(dtype=FLOAT_DTYPES)
def array(y, object, dtype=None):
    d[object] += d[y]


@adjoint(np.copy)
@accepts(order=ANY)  # the memory layout only
def copy_function(y, a, order="K", subok=False):
    d[a] += d[y]


@adjoint(np.astype)
@accepts(device=ANY)  # copy=False may hand back x itself, which later writes would change
def astype(y, x, dtype, *, copy=True, device=None):
    d[x] += d[y] * np.issubdtype(dtype, np.inexact)  # a cast to integers has no gradient


@adjoint(np.full)
@accepts(shape=ANY, dtype=FLOAT_DTYPES)
def full(y, shape, fill_value, dtype=None):
    d[fill_value] += unbroadcast(d[y], fill_value)


@adjoint(np.linspace)
@accepts(dtype=FLOAT_DTYPES)
def linspace(y, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    d[start] += linspace_adjoint(d[y], start, stop, num=num, endpoint=endpoint,
                                 retstep=retstep, axis=axis)
    d[stop] += linspace_adjoint(d[y], start, stop, num=num, endpoint=endpoint,
                                retstep=retstep, axis=axis, wrt="stop")


# -- building matrices ---------------------------------------------------------------------------
@adjoint(np.diag)
def diag(y, v, k=0):
    d[v] += undiag(d[y], v, k=k)


@adjoint(np.tril)
def tril(y, m, k=0):
    d[m] += unbroadcast(np.tril(d[y], k), m)


@adjoint(np.triu)
def triu(y, m, k=0):
    d[m] += unbroadcast(np.triu(d[y], k), m)
