"""Reverse mode through NumPy's products, einsum, interpolation and convolution, one row per
rule and option, against finite differences; and the options those rules refuse.

Every function reads its result out with fixed uneven weights (`np.sum(op(x) * w)`, see
numpy_cases.py).
"""

import numpy as np
import pytest
from numpy_cases import row

import sourcegrad
from oracle import arr, assert_grad, assert_value_and_grad
from sourcegrad.errors import NoRuleError

X23 = arr(2, 3, seed=1)
X34 = arr(3, 4, seed=2)

# -- interpolation and convolution ----------------------------------------------------------------

XP = np.array([-1.0, -0.2, 0.5, 1.6])


def np_interp(x, fp, w):
    return np.sum(np.interp(x, XP, fp) * w)


def np_interp_xp(x, xp, fp, w):
    return np.sum(np.interp(x, xp, fp) * w)


def np_interp_ends(x, fp, left, right, w):
    return np.sum(np.interp(x, XP, fp, left=left, right=right) * w)


def np_interp_period(x, xp, fp, w):
    return np.sum(np.interp(x, xp, fp, period=2.0) * w)


INTERP_X = np.array([[-1.5, -0.7, 0.1], [0.9, 1.3, 2.1]])  # inside and outside XP's range


def np_convolve(a, v, w, mode):
    return np.sum(np.convolve(a, v, mode=mode) * w)


def np_correlate(a, v, w, mode):
    return np.sum(np.correlate(a, v, mode) * w)


def np_convolve_default(a, v, w):
    return np.sum(np.convolve(a, v) * w) + np.sum(np.correlate(a, v) ** 2)


INTERPOLATION = [
    row(np_interp, INTERP_X, arr(4, seed=17), wrt=(0, 1)),
    row(np_interp, 0.2, arr(4, seed=17), wrt=(0, 1)),
    row(np_interp_xp, INTERP_X, XP, arr(4, seed=18), wrt=(0, 1, 2)),
    row(np_interp_ends, INTERP_X, arr(4, seed=19), -2.0, 3.0, wrt=(0, 1, 2, 3)),
    row(np_interp_period, np.array([-2.6, -0.4, 0.3, 1.2, 3.5]),
        np.array([0.1, 0.7, 1.3, 2.4]), arr(4, seed=20), wrt=(0, 1, 2)),
    *[row(f, arr(n, seed=n), arr(m, seed=10 + m), wrt=(0, 1), mode=mode)
      for f in (np_convolve, np_correlate) for mode in ("full", "same", "valid")
      for n, m in [(5, 3), (4, 4), (2, 5), (6, 4), (3, 1)]],
    row(np_convolve_default, arr(5, seed=21), arr(3, seed=22), wrt=(0, 1)),
]

# -- products and einsum --------------------------------------------------------------------------


def np_vecdot(a, b, w):
    return np.sum(np.vecdot(a, b) * w)


def np_vecdot_axis0(a, b, w):
    return np.sum(np.vecdot(a, b, axis=0) * w)


def np_inner(a, b, w):
    return np.sum(np.inner(a, b) * w)


def np_dot(a, b, w):
    return np.sum(np.dot(a, b) * w)


def dot_method(a, b, w):
    return np.sum(a.dot(b) * w)


def np_tensordot(a, b, w, axes):
    return np.sum(np.tensordot(a, b, axes=axes) * w)


def np_kron(a, b, w):
    return np.sum(np.kron(a, b) * w)


def np_trace(x, w):
    return np.sum(np.trace(x) * w)


def np_trace_offset(x, w):
    return np.sum(np.trace(x, offset=1, axis1=1, axis2=2) * w)


def trace_method(x, w):
    return np.sum(x.trace(-1) * w)


def np_einsum(a, b, w, spec):
    return np.sum(np.einsum(spec, a, b) * w)


def np_einsum_one(a, w, spec):
    return np.sum(np.einsum(spec, a) * w)


def np_einsum_three(a, b, c, w):
    return np.sum(np.einsum("ij,jk,kl->il", a, b, c) * w)


def np_einsum_interleaved(a, b, w):
    return np.sum(np.einsum(a, [0, 1], b, [1, 2], [0, 2]) * w)


def np_einsum_same_operand(a, w):
    return np.sum(np.einsum("ij,ij->i", a, a) * w)


A3 = arr(2, 3, 4, seed=30)
PRODUCTS = [
    row(np_vecdot, arr(3, seed=31), arr(3, seed=32), wrt=(0, 1)),
    row(np_vecdot, arr(2, 3, seed=31), arr(3, seed=32), wrt=(0, 1)),
    row(np_vecdot_axis0, arr(3, 2, seed=31), arr(3, 2, seed=32), wrt=(0, 1)),
    *[row(np_inner, a, b, wrt=(0, 1)) for a, b in [
        (arr(3, seed=33), arr(3, seed=34)), (arr(2, 3, seed=33), arr(4, 3, seed=34)),
        (arr(2, 3, seed=33), arr(3, seed=34)), (arr(3, seed=33), arr(4, 3, seed=34)),
        (1.3, arr(2, 3, seed=34)), (A3, arr(4, seed=34))]],
    *[row(f, a, b, wrt=(0, 1)) for f in (np_dot, dot_method) for a, b in [
        (A3, arr(4, 5, seed=34)), (A3, arr(4, seed=34)), (arr(4, seed=33), arr(2, 4, 3, seed=34)),
        (arr(2, 1, 3, 4, seed=33), arr(4, 2, seed=34)), (arr(3, seed=33), arr(2, 2, 3, 2)),
        (X23, arr(3, 4, seed=34))]],
    row(np_dot, 1.3, A3, wrt=(0, 1)),
    *[row(np_tensordot, a, b, axes=axes, wrt=(0, 1)) for a, b, axes in [
        (A3, arr(3, 4, 2, seed=35), 2), (A3, arr(4, 5, seed=35), 1), (X23, arr(2, seed=35), 0),
        (A3, arr(4, 2, seed=35), ([2, 0], [0, 1])), (A3, arr(3, 2, seed=35), (1, 0)),
        (A3, arr(4, 3, 5, seed=35), ([1, 2], [1, 0]))]],
    *[row(np_kron, a, b, wrt=(0, 1)) for a, b in [
        (arr(3, seed=36), arr(2, seed=37)), (X23, arr(2, 2, seed=37)), (arr(3, seed=36), X23),
        (0.8, arr(3, seed=37))]],
    row(np_trace, arr(3, 3, seed=38)),
    row(np_trace, arr(3, 4, seed=38)),
    row(np_trace_offset, A3),
    row(trace_method, arr(3, 4, seed=39)),
    *[row(np_einsum, a, b, spec=spec, wrt=(0, 1)) for spec, a, b in [
        ("ij,jk->ik", X23, X34), ("ij,jk", X23, X34), ("i,j->ij", arr(3), arr(4)),
        ("ij,ij->", X23, arr(2, 3, seed=40)), ("ij,j->i", X23, arr(3, seed=40)),
        ("...ij,...jk->...ik", A3, arr(2, 4, 2, seed=40)), ("...i,i->...", A3, arr(4)),
        ("bij,jk->bik", A3, arr(4, 2, seed=40)), ("ij,kj->ik", arr(1, 3), arr(4, 3, seed=40)),
        ("i...,i...->...", arr(2, 1, 3), arr(2, 4, 3, seed=40)), ("ii,i->i", arr(3, 3), arr(3)),
        (",ij->ij", 1.7, X23), ("Ab,bA", arr(2, 3), arr(3, 2, seed=40))]],
    *[row(np_einsum_one, a, spec=spec) for spec, a in [
        ("ii", arr(3, 3)), ("ii->i", arr(3, 3)), ("ij->", X23), ("ij->j", X23),
        ("ij->ji", X23), ("iij->ij", arr(2, 2, 3)), ("ijk->kj", A3), ("...->...", X23)]],
    row(np_einsum_three, X23, X34, arr(4, 2, seed=41), wrt=(0, 1, 2)),
    row(np_einsum_interleaved, X23, X34, wrt=(0, 1)),
    row(np_einsum_same_operand, X23),
]


# -- options without a rule fail loudly when the derivative runs ----------------------------------


def pad_mean(x):
    return np.sum(np.pad(x, 1, mode="mean") ** 2)


def average_returned(x, v):
    avg, total = np.average(x, weights=v, returned=True)
    return avg * total


def einsum_first_operand_only(a, b):
    return np.sum(np.einsum(a, [0, 1], b, [1]) ** 2)


CASES = INTERPOLATION + PRODUCTS


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES)
def test_numpy_product(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


def test_dot_of_a_3d_array_and_a_matrix_closed_form():
    """np.dot(a, b)[i, j, k] = sum_m a[i, j, m] b[m, k]: the gradient of sum(dot * w) is
    w b^T for a, the rows of a weighted by w summed for b."""
    b, w = arr(4, 5, seed=34), arr(2, 3, 5, seed=35)
    da, db = sourcegrad.grad(np_dot, wrt=(0, 1))(A3, b, w)
    expected_a = np.einsum("ijk,mk->ijm", w, b)
    expected_b = np.einsum("ijm,ijk->mk", A3, w)
    np.testing.assert_allclose(da, expected_a, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(db, expected_b, rtol=1e-12, atol=1e-14)


def test_dot_of_a_stack_of_rows_with_a_stack_of_matrices():
    """np.dot pairs each row of a with each matrix of b (shape (3, 2, 5)), unlike matmul, which
    broadcasts stacks: the shape analysis used to read it as matmul (the derivative was
    refused rather than built for the wrong shape)."""
    assert_value_and_grad(np_dot, X34, arr(2, 4, 5, seed=1), arr(3, 2, 5, seed=2),
                          wrt=(0, 1))


def test_pad_in_a_mode_without_rule_refuses():
    with pytest.raises(NoRuleError, match="np.pad with mode='mean'"):
        sourcegrad.grad(pad_mean)(arr(4))


def test_average_returning_the_weights_sum_refuses():
    with pytest.raises(NoRuleError, match="returned=True"):
        sourcegrad.grad(average_returned)(arr(3), arr(3, lo=0.5, hi=1.0, seed=1))


def test_einsum_interleaved_with_only_the_first_operand_active():
    assert_grad(einsum_first_operand_only, X23, arr(3, seed=3))
