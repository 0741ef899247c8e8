"""Reverse mode through NumPy's array manipulation, one row per rule and option, against finite
differences: moving axes, joining and splitting, tiling and padding, rearranging, indexing and
sorting, building arrays, and the ndarray methods.

Every function reads its result out with fixed uneven weights (`np.sum(op(x) * w)`, see
numpy_cases.py); functions with several results weigh each part they use.
"""

import types

import numpy as np
import pytest
from numpy import c_
from numpy_cases import row

import sourcegrad
from oracle import arr, assert_grad, assert_refused_at

X23 = arr(2, 3, seed=1)
X34 = arr(3, 4, seed=2)
A3 = arr(2, 3, 4, seed=3)

# -- moving axes and changing dimensions ----------------------------------------------------------


def np_moveaxis(x, w):
    return np.sum(np.moveaxis(x, 0, -1) * w)


def np_moveaxis_many(x, w):
    return np.sum(np.moveaxis(x, [0, 1], [2, 0]) * w)


def np_rollaxis(x, w, axis, start):
    return np.sum(np.rollaxis(x, axis, start) * w)


def np_permute_dims(x, w):
    return np.sum(np.permute_dims(x, (1, 2, 0)) * w)


def np_matrix_transpose(x, w):
    return np.sum(np.matrix_transpose(x) * w)


def method_mT(x, w):
    return np.sum(x.mT * w)


def np_atleast_1d(x, w):
    return np.sum(np.atleast_1d(x) * w)


def np_atleast_2d(x, w):
    return np.sum(np.atleast_2d(x) * w)


def np_atleast_3d(x, w):
    return np.sum(np.atleast_3d(x) * w)


def np_atleast_2d_many(x, y, w):
    a, b = np.atleast_2d(x, y)
    return np.sum(a * w) + np.sum(b * b)


def np_atleast_3d_one_used(x, y, w):
    a, b = np.atleast_3d(x, y)
    return np.sum(b * w)


def np_broadcast_arrays(x, y, w):
    a, b = np.broadcast_arrays(x, y)
    return np.sum(a * b * w)


AXES = [
    row(np_moveaxis, A3),
    row(np_moveaxis_many, A3),
    *[row(np_rollaxis, A3, axis=axis, start=start) for axis, start in
      [(2, 0), (0, 3), (1, -1), (-1, 1), (0, 2)]],
    row(np_permute_dims, A3),
    row(np_matrix_transpose, X23),
    row(np_matrix_transpose, A3),
    row(method_mT, A3),
    *[row(f, x) for f in (np_atleast_1d, np_atleast_2d, np_atleast_3d)
      for x in (0.7, arr(3), X23, A3)],
    row(np_atleast_2d_many, 0.4, arr(3), wrt=(0, 1)),
    row(np_atleast_3d_one_used, X23, arr(3), wrt=(0, 1)),
    row(np_broadcast_arrays, arr(3), arr(2, 1, seed=4), wrt=(0, 1)),
    row(np_broadcast_arrays, 0.5, X23, wrt=(0, 1)),
]

# -- joining and splitting ------------------------------------------------------------------------


def np_hstack(x, y, w):
    return np.sum(np.hstack([x, y, x * y]) * w)


def np_vstack(x, y, w):
    return np.sum(np.vstack((x, y)) * w)


def np_row_stack(x, y, w):
    return np.sum(np.row_stack((x, y)) * w)


def np_dstack(x, y, w):
    return np.sum(np.dstack([x, y]) * w)


def np_column_stack(x, y, w):
    return np.sum(np.column_stack([x, y]) * w)


def np_split(x, w):
    a, b, c = np.split(x, 3)
    return np.sum(a * w) + np.sum(c * c)


def np_split_indices(x, w):
    a, b = np.split(x, [1], axis=1)
    return np.sum(b * w) + np.sum(a)


def np_split_parts(x, w):
    parts = np.split(x, 2, axis=1)
    return np.sum(parts[1] * w)


def np_array_split(x, w):
    a, b = np.array_split(x, 2, axis=1)
    return np.sum(a * w) + np.sum(b * b)


def np_hsplit(x, w):
    a, b = np.hsplit(x, [3])
    return np.sum(a * w) + np.sum(b**3)


def np_vsplit(x, w):
    a, b, c = np.vsplit(x, 3)
    return np.sum(a * c * w) + np.sum(b)


def np_dsplit(x, w):
    a, b = np.dsplit(x, 2)
    return np.sum(a * b * w)


# np.r_ and np.c_: an index expression that joins arrays, numbers and ranges (slices)


def np_r_twice(x, w):
    return np.sum(np.r_[x, x] * w)


def np_r_mixed(x, k, w):
    return np.sum(np.r_[x, 0:3, k, 2.5, x[::-1] * k] * w)


def np_r_range_steps(x, w):
    return np.sum(np.r_[0.0:1.0:4j, x, 5:1:-2] * w)


def np_r_one(x, w):
    return np.sum(np.r_[x] * w)


def np_r_numbers(k, w):
    return np.sum(np.r_[k, 2.0 * k, np.sin(k)] * w)


def np_r_directive_rows(x, y, w):
    return np.sum(np.r_["0,2", x, y] * w)


def np_r_directive_last(x, y, w):
    return np.sum(np.r_["-1", x, y] * w)


def np_c_(x, y, w):
    return np.sum(np.c_[x, y] * w)


def np_c_numbers(x, k, w):
    return np.sum(np.c_[x, x * k, np.tanh(x)] * w)


def index_with_r_(x, w):
    return np.sum(x[np.r_[0, 2:4]] * w)


def np_r_written(x, w):
    z = np.r_[x, x]
    z[0] = 5.0
    z += np.r_[0.0, x[1:], x]
    return np.sum(z * z * w)


def np_r_in_loop(x, w):
    t = x
    for i in range(3):
        t = np.r_[t[1:], t[0] * 2.0]
    return np.sum(t * w)


def np_mgrid_scaled(x, w):
    return np.sum(np.mgrid[0.0:1.0:4j] * x * w)


def np_mgrid_matmul(x, w):
    # found by the fuzzer (CI seed 90035): one slice was indexed as a tuple, a 2-d grid
    return np.sum((x @ np.mgrid[1.0:2.0:3j]) * w)


def np_ogrid_product(x, w):
    rows, cols = np.ogrid[0.0:1.0:3j, -1.0:1.0:4j]
    return np.sum(rows * cols * x * w)


def columns(v):
    return c_[v, v * v]  # imported from numpy


def np_c_in_helper(x, w):
    return np.sum(columns(x) * w)


DEPRECATED = pytest.mark.filterwarnings("ignore:`row_stack` alias is deprecated")
JOINING = [
    row(np_hstack, arr(3), arr(3, seed=5), wrt=(0, 1)),
    row(np_hstack, X23, arr(2, 3, seed=5), wrt=(0, 1)),
    row(np_hstack, 0.3, 1.2, wrt=(0, 1)),
    row(np_vstack, arr(3), arr(3, seed=5), wrt=(0, 1)),
    row(np_vstack, X23, arr(3, seed=5), wrt=(0, 1)),
    row(np_row_stack, X23, arr(1, 3, seed=5), wrt=(0, 1), marks=DEPRECATED),
    row(np_dstack, arr(3), arr(3, seed=5), wrt=(0, 1)),
    row(np_dstack, X23, arr(2, 3, seed=5), wrt=(0, 1)),
    row(np_column_stack, arr(3), arr(3, 2, seed=5), wrt=(0, 1)),
    row(np_column_stack, arr(3), arr(3, seed=5), wrt=(0, 1)),
    row(np_split, arr(6)),
    row(np_split, arr(3, 4)),
    row(np_split_indices, X34),
    row(np_split_parts, X34),
    row(np_array_split, arr(2, 5)),
    row(np_hsplit, arr(5)),
    row(np_hsplit, arr(2, 5)),
    row(np_vsplit, arr(3, 2)),
    row(np_dsplit, arr(2, 1, 4)),
    row(np_r_twice, arr(3)),
    row(np_r_twice, X23),
    row(np_r_twice, A3),
    row(np_r_mixed, arr(3), 0.7, wrt=(0, 1)),
    row(np_r_range_steps, arr(2)),
    row(np_r_one, X23),
    row(np_r_numbers, 0.4),
    row(np_r_directive_rows, arr(3), arr(3, seed=5), wrt=(0, 1)),
    row(np_r_directive_rows, X23, arr(3, seed=5), wrt=(0, 1)),
    row(np_r_directive_last, X23, arr(2, 2, seed=5), wrt=(0, 1)),
    row(np_c_, arr(3), arr(3, seed=5), wrt=(0, 1)),
    row(np_c_, X23, arr(2, seed=5), wrt=(0, 1)),
    row(np_c_, A3, arr(2, 3, 2, seed=5), wrt=(0, 1)),
    row(np_c_numbers, arr(3), 1.3, wrt=(0, 1)),
    row(index_with_r_, arr(5)),
    row(np_r_written, arr(3)),
    row(np_r_in_loop, arr(3)),
    row(np_c_in_helper, arr(3)),
    row(np_mgrid_scaled, 1.3),
    row(np_ogrid_product, 0.7),
    row(np_mgrid_matmul, arr(3)),
]

# -- tiling, adding and padding -------------------------------------------------------------------


def np_tile(x, w, reps):
    return np.sum(np.tile(x, reps) * w)


def np_repeat(x, w, repeats, axis):
    return np.sum(np.repeat(x, repeats, axis=axis) * w)


def method_repeat(x, w):
    return np.sum(x.repeat(2, axis=0) * w)


def np_append(x, y, w):
    return np.sum(np.append(x, y) * w)


def np_append_axis(x, y, w):
    return np.sum(np.append(x, y, axis=0) * w)


def np_pad(x, w, pad_width, mode):
    return np.sum(np.pad(x, pad_width, mode=mode) * w)


def np_pad_value(x, c, w):
    return np.sum(np.pad(x, ((1, 0), (2, 1)), constant_values=c) * w)


def np_pad_default(x, w):
    return np.sum(np.pad(x, 2) * w)


TILING = [
    *[row(np_tile, x, reps=reps) for x, reps in
      [(arr(3), 2), (arr(3), (2, 2)), (X23, (1, 2)), (X23, 3), (0.6, (2, 3)), (X23, (2, 1, 2))]],
    *[row(np_repeat, x, repeats=r, axis=axis) for x, r, axis in
      [(arr(3), 2, None), (X23, 3, None), (X23, 2, 1), (X23, [1, 0, 3], 1), (X23, [2, 1], 0),
       (X23, 2, -1), (0.4, 3, None)]],
    row(method_repeat, X23),
    row(np_append, arr(3), arr(2, seed=6), wrt=(0, 1)),
    row(np_append, X23, 0.5, wrt=(0, 1)),
    row(np_append_axis, X23, arr(1, 3, seed=6), wrt=(0, 1)),
    *[row(np_pad, x, pad_width=p, mode=m) for x, p in
      [(arr(4), 2), (arr(4), (1, 3)), (X34, ((1, 0), (2, 1))), (X34, 1)]
      for m in ("constant", "edge", "reflect", "symmetric", "wrap")],
    row(np_pad, arr(3), pad_width=(3, 4), mode="reflect"),
    row(np_pad, arr(3), pad_width=(4, 5), mode="wrap"),
    row(np_pad_value, X23, 0.7, wrt=(0, 1)),
    row(np_pad_default, X23),
]

# -- rearranging ----------------------------------------------------------------------------------


def np_flip(x, w, axis):
    return np.sum(np.flip(x, axis) * w)


def np_fliplr(x, w):
    return np.sum(np.fliplr(x) * w)


def np_flipud(x, w):
    return np.sum(np.flipud(x) * w)


def np_roll(x, w, shift, axis):
    return np.sum(np.roll(x, shift, axis) * w)


def np_rot90(x, w, k):
    return np.sum(np.rot90(x, k) * w)


def np_rot90_axes(x, w):
    return np.sum(np.rot90(x, 1, axes=(1, 2)) * w)


REARRANGING = [
    *[row(np_flip, x, axis=axis) for x, axis in
      [(arr(4), None), (X23, None), (X23, 0), (X23, 1), (A3, (0, 2))]],
    row(np_fliplr, X23),
    row(np_fliplr, A3),
    row(np_flipud, arr(4)),
    row(np_flipud, X23),
    *[row(np_roll, x, shift=s, axis=axis) for x, s, axis in
      [(arr(5), 2, None), (X23, 4, None), (X23, -1, 1), (X23, (1, 2), (0, 1)), (A3, 1, 2)]],
    *[row(np_rot90, X23, k=k) for k in (1, 2, 3, -1)],
    row(np_rot90_axes, A3),
]

# -- indexing and sorting -------------------------------------------------------------------------


def np_take(x, w, indices, axis):
    return np.sum(np.take(x, indices, axis=axis) * w)


def np_take_wrap(x, w):
    return np.sum(np.take(x, [4, -1, 7], mode="wrap") * w)


def np_take_clip(x, w):
    return np.sum(np.take(x, [[0, 9], [2, 2]], axis=1, mode="clip") * w)


def method_take(x, w):
    return np.sum(x.take([1, 1, 0]) * w)


def np_take_along_axis(x, w):
    return np.sum(np.take_along_axis(x, np.argsort(x, axis=1), axis=1) * w)


def np_take_along_axis_repeats(x, w):
    picks = np.array([[0, 2, 1, 1], [2, 2, 0, 1]])
    return np.sum(np.take_along_axis(x, picks, axis=0) * w)


def np_take_along_axis_flat(x, w):
    return np.sum(np.take_along_axis(x, np.array([5, 0, 5]), axis=None) * w)


def np_diagonal(x, w, offset, axis1, axis2):
    return np.sum(np.diagonal(x, offset, axis1, axis2) * w)


def method_diagonal(x, w):
    return np.sum(x.diagonal(1) * w)


def np_select(x, y, w):
    return np.sum(np.select([x < -0.5, x > 0.5], [x * y, y], default=x**2) * w)


def np_select_scalar(x, y, w):
    return np.sum(np.select([x < 0.0, x > 1.0], [y, 2.0], y * y) * w)


def np_sort(x, w, axis):
    return np.sum(np.sort(x, axis=axis) * w)


def np_partition(x, w, kth, axis):
    return np.sum(np.partition(x, kth, axis=axis) * w)


INDEXING = [
    *[row(np_take, x, indices=i, axis=axis) for x, i, axis in
      [(arr(5), [0, 3, 3, 1], None), (X23, 4, None), (X34, [[0, 2], [1, 1]], 1),
       (X34, 2, 0), (A3, [3, 0], -1), (X23, np.array([0, 0, 1]), 0)]],
    row(np_take_wrap, arr(5)),
    row(np_take_clip, X34),
    row(method_take, arr(2, 2)),
    row(np_take_along_axis, X34),
    row(np_take_along_axis_repeats, X34),
    row(np_take_along_axis_flat, X23),
    *[row(np_diagonal, x, offset=o, axis1=a1, axis2=a2) for x, o, a1, a2 in
      [(arr(3, 3), 0, 0, 1), (X34, 1, 0, 1), (X34, -2, 0, 1), (A3, 0, 1, 2), (A3, 1, 2, 0)]],
    row(method_diagonal, X34),
    row(np_select, arr(2, 3, lo=-1.5, hi=1.5, seed=7), X23, wrt=(0, 1)),
    row(np_select_scalar, np.array([-0.5, 0.3, 1.4, 0.8]), 0.9, wrt=(0, 1)),
    *[row(np_sort, x, axis=axis) for x, axis in
      [(arr(5), -1), (X34, -1), (X34, 0), (X34, None)]],
    *[row(np_partition, x, kth=k, axis=axis) for x, k, axis in
      [(arr(6), 2, -1), (X34, 1, 1), (X34, (0, 2), 0), (arr(6), -1, None)]],
]

# -- building arrays ------------------------------------------------------------------------------


def np_linspace(a, b, w):
    return np.sum(np.linspace(a, b, 5) * w)


def np_linspace_options(a, b, w):
    return np.sum(np.linspace(a, b, num=4, endpoint=False, axis=-1) * w)


def np_linspace_step(a, b, w):
    samples, step = np.linspace(a, b, 6, retstep=True)
    return np.sum(samples * w) + step**2


def np_diag(x, w, k):
    return np.sum(np.diag(x, k) * w)


def np_tril(x, w, k):
    return np.sum(np.tril(x, k) * w)


def np_triu(x, w, k):
    return np.sum(np.triu(x, k=k) * w)


def np_copy(x, w):
    return np.sum(np.copy(x) * x * w)


def np_astype(x, w):
    return np.sum(np.astype(x, np.float64) * x * w)


def astype_int(x, w):
    return np.sum(x.astype(int) * x * w) + np.sum(np.astype(x, np.int64) * w)


def method_astype(x, w):
    return np.sum(x.astype(float) ** 2 * w)


BUILDING = [
    row(np_linspace, 0.3, 2.1, wrt=(0, 1)),
    row(np_linspace, arr(3), arr(3, seed=8), wrt=(0, 1)),
    row(np_linspace_options, arr(2, 1), arr(3, seed=8), wrt=(0, 1)),
    row(np_linspace_step, -0.4, 1.7, wrt=(0, 1)),
    *[row(np_diag, x, k=k) for x, k in
      [(arr(3), 0), (arr(3), 1), (arr(3), -2), (arr(3, 3), 0), (X34, 1), (X34, -1)]],
    *[row(f, x, k=k) for f in (np_tril, np_triu) for x, k in
      [(X34, 0), (X34, 1), (X34, -1), (A3, 0), (arr(3), 0)]],
    row(np_copy, X23),
    row(np_astype, X23),
    row(astype_int, np.array([[0.3, 1.6, -2.2], [2.7, -0.4, 1.1]])),
    row(method_astype, X23),
]

# -- ndarray methods ------------------------------------------------------------------------------


def method_item(x, w):
    return x.item() * w


def method_item_index(x, w):
    return (x.item(4) * x.item(0, 1) + x.item((1, 2))) * w


def method_cumulative(x, w):
    return np.sum(x.cumsum() * w) + np.sum(x.cumprod(axis=1))


def method_swapaxes(x, w):
    return np.sum(x.swapaxes(0, 2) * w)


def constant_methods(x, w):
    flat = x.ravel()
    i = flat.argmax()
    k = flat.argsort()
    s = x.round(1)
    return flat[i] * w + np.sum(flat[k] * s.ravel())


def np_outer(x, y, w):
    return np.sum(np.outer(x, y) * w)


def np_ravel(x, w):
    return np.sum(np.ravel(x) * w)


# order="F": the gradient is read back in Fortran order too
def np_reshape_f(x, w):
    return np.sum(np.reshape(x, (3, -1), order="F") * w)


def np_reshape_c(x, w):
    return np.sum(np.reshape(x, (3, -1), order="C") * w)


def np_reshape_f_3d(x, w):
    return np.sum(np.reshape(x, (4, 3, 2), order="F") * w)


def np_ravel_f(x, w):
    return np.sum(np.ravel(x, order="F") * w)


def np_ravel_f_positional(x, w):
    return np.sum(np.ravel(x, "F") * w)


def method_reshape_f(x, w):
    return np.sum(x.reshape(-1, 2, order="F") * w)


def method_reshape_f_tuple(x, w):
    return np.sum(x.reshape((2, -1), order="F") * w)


def method_ravel_f(x, w):
    return np.sum(x.ravel(order="F") * w)


def method_ravel_f_positional(x, w):
    return np.sum(x.ravel("F") * w)


def method_flatten_f(x, w):
    return np.sum(x.flatten("F") * w)


def method_flatten_f_keyword(x, w):
    return np.sum(x.flatten(order="F") * w)


def reshape_f_then_c(x, w):
    flat = np.reshape(x, -1, order="F")
    return np.sum(np.reshape(flat, (2, -1)) * w) + np.sum(flat[:2] * flat[1:3])


def np_swapaxes(x, w):
    return np.sum(np.swapaxes(x, 0, 2) * w)


def np_broadcast_to(x, w):
    return np.sum(np.broadcast_to(x, (2, 3)) * w)


def reduction_methods(x, w):
    m = x.prod(axis=0) + x.max(axis=1, keepdims=True) * x.min() + x.var(0) * x.std(axis=1)[0]
    return np.sum(m * w)


def shape_methods(x, w):
    return np.sum((x.clip(-0.5, 0.5) + x.squeeze().transpose().T + x.copy()) * w)


METHODS = [
    row(np_outer, arr(3), X23, wrt=(0, 1)),
    row(np_ravel, A3),
    *[row(f, x) for f in (np_reshape_f, np_reshape_c, np_ravel_f, np_ravel_f_positional,
                          method_reshape_f, method_reshape_f_tuple, method_ravel_f,
                          method_ravel_f_positional, method_flatten_f, method_flatten_f_keyword,
                          reshape_f_then_c)
      for x in (X23, A3)],
    row(np_reshape_f_3d, A3),
    row(np_ravel_f, arr(4)),
    row(method_flatten_f, arr(2, 1, 3)),
    row(np_swapaxes, A3),
    row(np_broadcast_to, arr(3)),
    row(np_broadcast_to, 0.4),
    row(reduction_methods, np.array([[0.7, -1.3, 1.1], [1.4, 0.6, -0.9]])),
    row(shape_methods, np.array([[-0.9, 0.2, 0.7], [0.4, -0.3, 1.2]])),
    row(method_item, arr(1)),
    row(method_item, arr(1, 1)),
    row(method_item_index, X23),
    row(method_cumulative, X23),
    row(method_swapaxes, A3),
    row(constant_methods, X23),
]

CASES = AXES + JOINING + TILING + REARRANGING + INDEXING + BUILDING + METHODS


def matrix_directive(x):
    return np.sum(np.asarray(np.r_["r", x, x]))


def joins_twice(x):
    return np.sum(np.r_[x, x] ** 2)


def test_index_concatenate_taken_by_a_global_is_refused():
    """np.r_[...] becomes a call of index_concatenate: a global of that name is refused."""
    taken = types.FunctionType(joins_twice.__code__, {"np": np, "index_concatenate": len})
    with pytest.raises(sourcegrad.UnsupportedSyntaxError, match="index_concatenate"):
        sourcegrad.grad(taken)(arr(3))


@pytest.mark.filterwarnings("ignore:the matrix subclass is not the recommended way")
def test_index_concatenation_to_a_matrix_is_refused():
    """np.r_["r", ...] makes an np.matrix, whose `*` is a matrix product: refused, not guessed."""
    with pytest.raises(sourcegrad.NoRuleError, match="np.matrix"):
        sourcegrad.grad(matrix_directive)(arr(3))


def mgrid_to_x(x):
    return np.sum(np.mgrid[0:x:5j] ** 2)


def ogrid_from_x(x):
    rows, cols = np.ogrid[0:x:3j, 0:1:2j]
    return np.sum(rows * cols)


def r_range_to_x(x):
    return np.sum(np.r_[0:x:4j, x])


@pytest.mark.parametrize("f", [mgrid_to_x, ogrid_from_x, r_range_to_x])
def test_slice_bounds_that_carry_a_gradient_are_refused(f):
    # these gave 0 without an error: the bounds are an index, whose gradient is none
    assert_refused_at(f, (1.3,), "np.", f)
    with pytest.raises(sourcegrad.NoRuleError, match="slice whose bounds carry a gradient"):
        sourcegrad.grad(f)(1.3)


def grid_of_a_one_item_tuple(x):
    return np.sum(np.mgrid[0:1:3j,] * x)


def test_an_index_trick_indexed_with_a_one_item_tuple_is_refused():
    assert_refused_at(grid_of_a_one_item_tuple, (1.3,), "np.mgrid", grid_of_a_one_item_tuple)


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES)
def test_numpy_array_function(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)
