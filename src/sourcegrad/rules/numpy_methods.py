"""Adjoints of ndarray methods and attributes (`x.sum()`, `x.T`, `x.reshape(...)`), whose
receiver binds to the rule's first parameter, and the NumPy functions with no gradient.
"""

import numpy as np

from ..runtime import (
    unitem,
    untranspose,
)
from . import numpy as elementwise
from . import numpy_arrays as arrays
from .templates import ANY, accepts, adjoint_method, d, nondifferentiable

# -- ndarray methods and attributes: the receiver binds to the first parameter -----------------
adjoint_method("sum")(arrays.sum)
adjoint_method("mean")(arrays.mean)
adjoint_method("prod")(arrays.prod)
adjoint_method("max", "min")(arrays.max)
adjoint_method("var")(arrays.var)
adjoint_method("std")(arrays.std)
adjoint_method("dot")(arrays.dot)
adjoint_method("clip")(elementwise.clip)
adjoint_method("squeeze")(arrays.squeeze)
adjoint_method("ravel", "flatten")(arrays.ravel)
adjoint_method("cumsum")(arrays.cumsum)
adjoint_method("cumprod")(arrays.cumprod)
adjoint_method("trace")(arrays.trace)
adjoint_method("diagonal")(arrays.diagonal)
adjoint_method("conj", "conjugate")(elementwise.conjugate)
adjoint_method("real")(elementwise.real)
adjoint_method("imag")(elementwise.imag)
adjoint_method("swapaxes")(arrays.swapaxes)
adjoint_method("repeat")(arrays.repeat)
adjoint_method("take")(arrays.take)
adjoint_method("mT")(arrays.matrix_transpose)


@adjoint_method("reshape")
@accepts(shape=ANY, order=("C", "F"))  # as np.reshape
def reshape_method(y, a, *shape, order="C"):
    d[a] += np.reshape(d[y], np.shape(a), order=order)


@adjoint_method("transpose")
def transpose_method(y, a, *axes):
    d[a] += untranspose(d[y], axes or None)


@adjoint_method("T")
def transpose_attribute(y, a):
    d[a] += np.transpose(d[y])


@adjoint_method("copy")
@accepts(args=ANY, order=ANY)  # the memory layout only
def copy(y, a, *args, order="K"):
    d[a] += d[y]


@adjoint_method("astype")
@accepts(order=ANY, casting=ANY)  # as np.astype: copy=False may hand back a itself
def astype_method(y, a, dtype, order="K", casting="unsafe", subok=True, copy=True):
    d[a] += d[y] * np.issubdtype(dtype, np.inexact)  # a cast to integers has no gradient


@adjoint_method("item")
def item(y, a, *args):
    d[a] += unitem(d[y], a, args)


@adjoint_method("round", "argmax", "argmin", "argsort", "argpartition", "nonzero",
                "searchsorted", "any", "all")
def no_gradient_method(y, a, *args, axis=None, out=None, keepdims=False, decimals=0,
                       kind=None, order=None, side="left", sorter=None, stable=None):
    """The method forms of the functions below: integer, boolean or piecewise constant."""


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
    np.argpartition, np.nanargmax, np.nanargmin, np.flatnonzero, np.signbit, np.isneginf,
    np.isposinf, np.isreal, np.iscomplex, np.array_equal, np.array_equiv, np.isin,
    np.tri, np.tril_indices, np.triu_indices, np.diag_indices, np.indices, np.unravel_index,
    np.ravel_multi_index, np.lexsort,
    *(getattr(np.random, name) for name in np.random.__all__),  # numpy.random.*
)
