"""Adjoints of numpy.linalg, by family, real matrices, stacks wherever NumPy stacks them.

Parameter names and defaults mirror NumPy's (2.x), so calls with keywords bind. A function with
a tuple result (slogdet, eigh, svd, qr, lstsq, eig) binds the whole tuple to the result
parameter and its adjoint to `d[y]`; a part the user never reads has a zero adjoint. The
fields of NumPy 2's named results (`np.linalg.svd(a).S`, `.eigenvalues`, `.Q`, `.logabsdet`)
have rules of their own at the end.

Conventions, as in the runtime helpers (`runtime/linalg.py`):
- eigh, eigvalsh, cholesky and the hermitian forms of svd and pinv read one triangle of their
  input; their gradient is with respect to that triangle (the other one gets zeros). For a
  symmetric perturbation this is the usual symmetric gradient.
- Eigenvectors and singular vectors are defined up to sign: only losses invariant to each
  vector's sign have a gradient, and it needs distinct eigenvalues (singular values).
- eig: real matrices with real eigenvalues, NumPy's unit-norm eigenvectors; complex
  eigenvalues raise NoRuleError when the derivative runs.
- pinv and lstsq: at constant rank. det and slogdet: at invertible matrices.
"""

import numpy as np

from ..runtime import (
    cholesky_adjoint,
    eig_adjoint,
    eigh_adjoint,
    eigvals_adjoint,
    expand_reduced,
    fold_to_triangle,
    lstsq_adjoint_a,
    lstsq_adjoint_b,
    matrix_norm_derivative,
    matrix_power_adjoint,
    multi_dot_adjoint,
    norm_derivative,
    pinv_adjoint,
    qr_adjoint,
    rhs_outer,
    solve_transposed,
    svd_adjoint,
    unbroadcast,
    vector_norm_derivative,
)
from .templates import ANY, accepts, adjoint, adjoint_method, d, nondifferentiable


# -- matrix and vector products --------------------------------------------------------------
@adjoint(np.linalg.multi_dot)
def multi_dot(y, arrays, *, out=None):
    d[arrays] += multi_dot_adjoint(d[y], arrays)


@adjoint(np.linalg.matrix_power)
def matrix_power(y, a, n):
    d[a] += matrix_power_adjoint(d[y], a, n)


# -- decompositions ----------------------------------------------------------------------------
@adjoint(np.linalg.cholesky)
def cholesky(l, a, /, *, upper=False):
    d[a] += cholesky_adjoint(d[l], l, upper=upper)


@adjoint(np.linalg.qr)
def qr(y, a, mode="reduced"):
    d[a] += qr_adjoint(d[y], y, a, mode=mode)


@adjoint(np.linalg.svd)
def svd(y, a, full_matrices=True, compute_uv=True, hermitian=False):
    d[a] += svd_adjoint(d[y], y, a, full_matrices=full_matrices, compute_uv=compute_uv,
                        hermitian=hermitian)


@adjoint(np.linalg.svdvals)
def svdvals(s, x, /):
    d[x] += svd_adjoint(d[s], s, x, compute_uv=False)


# -- matrix eigenvalues ------------------------------------------------------------------------
@adjoint(np.linalg.eig)
def eig(y, a):
    d[a] += eig_adjoint(d[y], y)


@adjoint(np.linalg.eigh)
def eigh(y, a, UPLO="L"):
    d[a] += fold_to_triangle(eigh_adjoint(d[y], y), UPLO=UPLO)


@adjoint(np.linalg.eigvals)
def eigvals(w, a):
    d[a] += eigvals_adjoint(d[w], a)


@adjoint(np.linalg.eigvalsh)
def eigvalsh(w, a, UPLO="L"):
    v = np.linalg.eigh(a, UPLO)[1]
    d[a] += fold_to_triangle((v * np.expand_dims(d[w], -2)) @ v.mT, UPLO=UPLO)


# -- norms and other numbers -------------------------------------------------------------------
@adjoint(np.linalg.norm)
def norm(y, x, ord=None, axis=None, keepdims=False):
    d[x] += (expand_reduced(d[y], x, axis=axis, keepdims=keepdims)
             * norm_derivative(x, ord=ord, axis=axis))


@adjoint(np.linalg.matrix_norm)
def matrix_norm(y, x, /, *, keepdims=False, ord="fro"):
    d[x] += (expand_reduced(d[y], x, axis=(-2, -1), keepdims=keepdims)
             * matrix_norm_derivative(x, ord=ord))


@adjoint(np.linalg.vector_norm)
def vector_norm(y, x, /, *, axis=None, keepdims=False, ord=2):
    d[x] += (expand_reduced(d[y], x, axis=axis, keepdims=keepdims)
             * vector_norm_derivative(x, ord=ord, axis=axis))


@adjoint(np.linalg.det)
def det(y, a):
    d[a] += np.expand_dims(d[y] * y, (-2, -1)) * np.linalg.inv(a).mT


@adjoint(np.linalg.slogdet)
def slogdet(y, a):
    d[a] += np.expand_dims(d[y][1], (-2, -1)) * np.linalg.inv(a).mT  # the sign is constant


# -- solving equations and inverting matrices ----------------------------------------------------
@adjoint(np.linalg.solve)
def solve(x, a, b):
    rhs_adjoint = solve_transposed(a, d[x], b)      # a.T @ rhs_adjoint = d[x]
    d[b] += unbroadcast(rhs_adjoint, b)
    d[a] += -unbroadcast(rhs_outer(rhs_adjoint, x, b), a)


@adjoint(np.linalg.lstsq)
def lstsq(y, a, b, rcond=None):
    d[a] += lstsq_adjoint_a(d[y], y, a, b, rcond=rcond)
    d[b] += lstsq_adjoint_b(d[y], y, a, b, rcond=rcond)


@adjoint(np.linalg.inv)
def inv(y, a):
    d[a] += -y.mT @ d[y] @ y.mT


@adjoint(np.linalg.pinv)
@accepts(rcond=ANY, rtol=ANY)  # the cutoff sets the rank; the gradient at that rank reads y
def pinv(y, a, rcond=None, hermitian=False, *, rtol=None):
    d[a] += pinv_adjoint(d[y], y, a, hermitian=hermitian)


# -- fields of the named-tuple results: np.linalg.svd(a).S, np.linalg.eigh(a).eigenvectors, ... --
@adjoint_method("eigenvalues", "U", "Q", "sign")
def first_field(y, result):
    d[result][0] += d[y]


@adjoint_method("eigenvectors", "S", "R", "logabsdet")
def second_field(y, result):
    d[result][1] += d[y]


@adjoint_method("Vh")
def third_field(y, result):
    d[result][2] += d[y]


# -- no gradient -------------------------------------------------------------------------------
nondifferentiable(np.linalg.matrix_rank)
