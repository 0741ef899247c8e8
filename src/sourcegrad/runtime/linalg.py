"""Runtime helpers for the numpy.linalg rules: adjoints of decompositions, norms and products.

Real matrices, stacked along leading axes wherever NumPy stacks them. Each helper returns the
gradient with respect to one input of the function, shaped like that input. Functions that read
one triangle of a symmetric input (eigh, eigvalsh, cholesky, the hermitian forms of svd and
pinv) get the gradient with respect to the entries NumPy actually reads: that triangle, with
the other one's gradient folded onto it (`fold_to_triangle`). For symmetric perturbations this
agrees with the usual symmetric gradient.

Adjoints of eigenvectors and singular vectors need distinct eigenvalues (nonzero, distinct
singular values), and the 2-norm of a matrix a simple largest singular value. Eigenvectors of
eig are NumPy's: unit norm, any sign. pinv and lstsq are differentiated at constant rank.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "fold_to_triangle", "solve_transposed", "rhs_outer", "pinv_adjoint", "matrix_power_adjoint",
    "multi_dot_adjoint", "lstsq_adjoint_a", "lstsq_adjoint_b", "norm_derivative",
    "vector_norm_derivative", "matrix_norm_derivative", "eigh_adjoint", "cholesky_adjoint",
    "svd_adjoint", "qr_adjoint", "eig_adjoint", "eigvals_adjoint",
]


def _t(x):
    return np.swapaxes(x, -1, -2)


def _no_gradient(what: str, hint: str):
    from ..errors import NoRuleError
    return NoRuleError(what, None, hint=hint)


def _off_diagonal_inverse(gaps):
    """1 / gaps off the diagonal, 0 on it (the diagonal of `gaps` is zero)."""
    eye = np.eye(gaps.shape[-1])
    return 1.0 / (gaps + eye) - eye


# -- symmetric inputs ------------------------------------------------------------------------
def fold_to_triangle(g, UPLO="L"):
    """Gradient with respect to the triangle (UPLO) NumPy reads, from a full-matrix gradient g."""
    g = np.asarray(g)
    both = g + _t(g)
    folded = np.tril(both) if UPLO.upper() == "L" else np.triu(both)
    return folded - g * np.eye(g.shape[-1])


# -- solving and inverting -------------------------------------------------------------------
def _columns(v, b):
    """The right-hand sides of `solve(a, b)` as a stack of matrices (1-d `b`: one column)."""
    v = np.asarray(v)
    return v[..., None] if np.ndim(b) == 1 else v


def solve_transposed(a, g, b):
    """`z` with `a.T @ z = g`, for `g` shaped like the solution of `np.linalg.solve(a, b)`."""
    z = np.linalg.solve(_t(a), _columns(g, b))
    return z[..., 0] if np.ndim(b) == 1 else z


def rhs_outer(u, v, b):
    """`u @ v.T` over the right-hand sides of `np.linalg.solve(a, b)` (1-d `b`: one column)."""
    return _columns(u, b) @ _t(_columns(v, b))


def pinv_adjoint(g, p, a, hermitian=False):
    """Gradient of `p = np.linalg.pinv(a)` at constant rank, from the adjoint `g` of `p`."""
    a, p, g = np.asarray(a), np.asarray(p), np.asarray(g)
    pt = _t(p)
    da = -pt @ g @ pt
    da = da + (np.eye(a.shape[-2]) - a @ p) @ _t(g) @ (p @ pt)
    da = da + (pt @ p) @ _t(g) @ (np.eye(a.shape[-1]) - p @ a)
    return fold_to_triangle(da) if hermitian else da


def matrix_power_adjoint(g, a, n):
    """Gradient of `np.linalg.matrix_power(a, n)` (negative `n` through the inverse)."""
    a, g, n = np.asarray(a), np.asarray(g), int(n)
    if n == 0:
        return np.zeros(a.shape)
    if n < 0:
        inverse = np.linalg.inv(a)
        dinverse = matrix_power_adjoint(g, inverse, -n)
        return -_t(inverse) @ dinverse @ _t(inverse)
    powers = [np.broadcast_to(np.eye(a.shape[-1]), a.shape)]
    for _ in range(n - 1):
        powers.append(powers[-1] @ a)
    return sum(_t(powers[k]) @ g @ _t(powers[n - 1 - k]) for k in range(n))


def multi_dot_adjoint(g, arrays):
    """Gradient of `np.linalg.multi_dot(arrays)` for each array (1-d ends as row/column)."""
    mats = [np.asarray(m) for m in arrays]
    if mats[0].ndim == 1:
        mats[0] = mats[0][None, :]
    if mats[-1].ndim == 1:
        mats[-1] = mats[-1][:, None]
    g = np.reshape(g, (mats[0].shape[0], mats[-1].shape[1]))
    left = [np.eye(mats[0].shape[0])]
    for m in mats[:-1]:
        left.append(left[-1] @ m)
    right = [np.eye(mats[-1].shape[1])]
    for m in mats[:0:-1]:
        right.append(m @ right[-1])
    right.reverse()
    return [np.reshape(left[i].T @ g @ right[i].T, np.shape(arrays[i]))
            for i in range(len(mats))]


def _lstsq_parts(g, y, a, b):
    """Everything the lstsq adjoints share, with 1-d `b` and `x` as one column."""
    a = np.asarray(a)
    x, residuals = _columns(y[0], b), np.asarray(y[1])
    dx, dresiduals = _columns(g[0], b), np.broadcast_to(g[1], residuals.shape)
    r = _columns(b, b) - a @ x if residuals.size and np.any(dresiduals) else None
    return a, x, dx, dresiduals, r


def lstsq_adjoint_b(g, y, a, b, rcond=None):
    """Gradient of `np.linalg.lstsq(a, b, rcond)` (solution and residuals) with respect to b."""
    a, x, dx, dresiduals, r = _lstsq_parts(g, y, a, b)
    db = _t(np.linalg.pinv(a, rcond=rcond) if rcond is not None else np.linalg.pinv(a)) @ dx
    if r is not None:
        db = db + 2.0 * r * dresiduals
    return np.reshape(db, np.shape(b))


def lstsq_adjoint_a(g, y, a, b, rcond=None):
    """Gradient of `np.linalg.lstsq(a, b, rcond)` (x, residuals, s) with respect to a."""
    a, x, dx, dresiduals, r = _lstsq_parts(g, y, a, b)
    p = np.linalg.pinv(a, rcond=rcond) if rcond is not None else np.linalg.pinv(a)
    da = pinv_adjoint(dx @ _t(_columns(b, b)), p, a)
    if r is not None:
        da = da - 2.0 * (r * dresiduals) @ _t(x)
    if np.any(g[3]):
        da = da + svd_adjoint(g[3], y[3], a, compute_uv=False)
    return da


# -- norms -----------------------------------------------------------------------------------
def _safe_divide(x, y):
    return np.divide(x, y, out=np.zeros(np.broadcast_shapes(np.shape(x), np.shape(y))),
                     where=y != 0)


def _shared_extremum(values, axis, largest):
    """Where `values` attains its max (min) over `axis`, ties sharing equally."""
    pick = np.max if largest else np.min
    hits = values == pick(values, axis=axis, keepdims=True)
    return hits / np.sum(hits, axis=axis, keepdims=True)


def vector_norm_derivative(x, ord=2, axis=None):
    """Derivative of each vector norm over `axis` (None: all entries) by each entry of `x`."""
    x = np.asarray(x, dtype=np.result_type(x, np.float64))
    if ord is None or ord == 2:
        return _safe_divide(x, np.sqrt(np.sum(x * x, axis=axis, keepdims=True)))
    if ord == 0:
        return np.zeros(x.shape)
    if ord == 1:
        return np.sign(x)
    magnitude = np.abs(x)
    if ord in (np.inf, -np.inf):
        return np.sign(x) * _shared_extremum(magnitude, axis, ord > 0)
    norm = np.sum(magnitude ** ord, axis=axis, keepdims=True) ** (1.0 / ord)
    return np.sign(x) * (magnitude / norm) ** (ord - 1)


def matrix_norm_derivative(x, ord="fro", axis=(-2, -1)):
    """Derivative of each matrix norm over the `axis` pair (rows, columns) by each entry."""
    x = np.moveaxis(np.asarray(x, dtype=np.result_type(x, np.float64)), axis, (-2, -1))
    if ord in (None, "fro"):
        derivative = _safe_divide(x, np.sqrt(np.sum(x * x, axis=(-2, -1), keepdims=True)))
    elif ord in ("nuc", 2, -2):
        u, _, vh = np.linalg.svd(x, full_matrices=False)
        if ord != "nuc":
            pick = slice(0, 1) if ord == 2 else slice(-1, None)
            u, vh = u[..., :, pick], vh[..., pick, :]
        derivative = u @ vh
    elif ord in (1, -1, np.inf, -np.inf):
        summed = -2 if ord in (1, -1) else -1   # 1: column sums, inf: row sums
        sums = np.sum(np.abs(x), axis=summed, keepdims=True)
        derivative = np.sign(x) * _shared_extremum(sums, -1 if summed == -2 else -2, ord > 0)
    else:
        raise ValueError(f"invalid norm order {ord!r} for matrices")
    return np.moveaxis(derivative, (-2, -1), axis)


def norm_derivative(x, ord=None, axis=None):
    """Derivative of `np.linalg.norm(x, ord, axis)` (vector or matrix norm) by each entry."""
    if axis is None:
        if ord is None:
            return vector_norm_derivative(x)
        axis = tuple(range(np.ndim(x)))
    axis = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if len(axis) == 2:
        return matrix_norm_derivative(x, "fro" if ord is None else ord, axis)
    return vector_norm_derivative(x, 2 if ord is None else ord, axis)


# -- decompositions --------------------------------------------------------------------------
def eigh_adjoint(g, y):
    """Gradient of `(w, v) = np.linalg.eigh(a)` as a full matrix, from the adjoints `g`."""
    (dw, dv), (w, v) = g, y
    inner = np.asarray(dw)[..., None, :] * np.eye(w.shape[-1])
    if np.any(dv):
        gaps = w[..., None, :] - w[..., :, None]
        inner = inner + _off_diagonal_inverse(gaps) * (_t(v) @ dv)
    return v @ inner @ _t(v)


def cholesky_adjoint(g, l, upper=False):
    """Gradient of `l = np.linalg.cholesky(a, upper)` with respect to the triangle it reads."""
    if upper:
        l, g = _t(l), _t(g)
    phi = np.tril(_t(l) @ g)
    phi = phi - 0.5 * phi * np.eye(l.shape[-1])
    left = np.linalg.solve(_t(l), phi)                # L^-T phi
    full = _t(np.linalg.solve(_t(l), _t(left)))       # L^-T phi L^-1
    return fold_to_triangle(full, "U" if upper else "L")


def _singular_values_adjoint(ds, a, hermitian):
    u, _, vh = np.linalg.svd(a, full_matrices=False, hermitian=hermitian)
    return (u * np.asarray(ds)[..., None, :]) @ vh


def _reduced(parts, adjoints, k):
    """Keep the first k columns of u and rows of vh; the others must carry no gradient."""
    (u, s, vh), (du, ds, dvh) = parts, adjoints
    du, dvh = np.broadcast_to(du, u.shape), np.broadcast_to(dvh, vh.shape)
    if np.any(du[..., :, k:]) or np.any(dvh[..., k:, :]):
        raise _no_gradient(
            "the gradient of the extra singular vectors of np.linalg.svd(a, full_matrices=True)"
            " is undefined for a non-square a",
            "Call np.linalg.svd(a, full_matrices=False).")
    return (u[..., :, :k], s, vh[..., :k, :]), (du[..., :, :k], ds, dvh[..., :k, :])


def svd_adjoint(g, y, a, full_matrices=True, compute_uv=True, hermitian=False):
    """Gradient of `np.linalg.svd(a, ...)` from the adjoints `g` of its result `y`."""
    a = np.asarray(a)
    if not compute_uv:
        da = _singular_values_adjoint(g, a, hermitian)
        return fold_to_triangle(da) if hermitian else da
    k = min(a.shape[-2:])
    (u, s, vh), (du, ds, dvh) = _reduced(tuple(y), tuple(g), k)
    da = (u * np.asarray(ds)[..., None, :]) @ vh
    if np.any(du) or np.any(dvh):
        v, dv = _t(vh), _t(dvh)
        f = _off_diagonal_inverse(s[..., None, :] ** 2 - s[..., :, None] ** 2)
        j = f * (_t(u) @ du - _t(du) @ u)
        kk = f * (_t(v) @ dv - _t(dv) @ v)
        inner = j * s[..., None, :] + s[..., :, None] * kk
        da = da + u @ inner @ vh
        da = da + ((du - u @ (_t(u) @ du)) / s[..., None, :]) @ vh
        da = da + (u / s[..., None, :]) @ (_t(dv) - (_t(dv) @ v) @ vh)
    return fold_to_triangle(da) if hermitian else da


def _qr_tall_adjoint(dq, dr, q, r):
    """Gradient of a reduced QR with as many rows as columns or more."""
    n = dr @ _t(r) - _t(q) @ dq
    upper_copied = np.triu(n) + _t(np.triu(n, 1))
    b = dq + q @ upper_copied
    return _t(np.linalg.solve(r, _t(b)))              # b R^-T


def qr_adjoint(g, y, a, mode="reduced"):
    """Gradient of `np.linalg.qr(a, mode)` ('reduced', 'r', 'complete' unless tall)."""
    a = np.asarray(a)
    rows, cols = a.shape[-2:]
    if mode == "r":
        (q, r), (dq, dr) = np.linalg.qr(a), (0.0, g)
    elif mode == "reduced" or mode == "complete" and rows <= cols:
        (q, r), (dq, dr) = y, g
    else:
        raise _no_gradient(f"np.linalg.qr(a, mode={mode!r}) has no gradient rule for this a",
                           "Use mode='reduced'.")
    dq, dr = np.broadcast_to(dq, q.shape), np.broadcast_to(dr, r.shape)
    if rows >= cols:
        return _qr_tall_adjoint(dq, dr, q, r)
    # wide: q, r1 = qr(a[:, :rows]) and r2 = q.T @ a[:, rows:]
    dr1, dr2 = dr[..., :, :rows], dr[..., :, rows:]
    dfirst = _qr_tall_adjoint(dq + a[..., :, rows:] @ _t(dr2), dr1, q, r[..., :, :rows])
    return np.concatenate([dfirst, q @ dr2], axis=-1)


def _eig_gradient(dw, dv, w, v):
    if np.iscomplexobj(w) or np.iscomplexobj(v):
        raise _no_gradient(
            "np.linalg.eig of a matrix with complex eigenvalues has no gradient rule yet",
            "Only real matrices with real eigenvalues are supported (eigh for symmetric ones).")
    inner = np.asarray(dw)[..., None, :] * np.eye(w.shape[-1])
    if dv is not None and np.any(dv):
        vt_dv = _t(v) @ dv
        diagonal = np.diagonal(vt_dv, axis1=-2, axis2=-1)[..., None, :]
        gaps = w[..., None, :] - w[..., :, None]
        inner = inner + _off_diagonal_inverse(gaps) * (vt_dv - (_t(v) @ v) * diagonal)
    return np.linalg.solve(_t(v), inner @ _t(v))       # V^-T inner V^T


def eig_adjoint(g, y):
    """Gradient of `(w, v) = np.linalg.eig(a)` for real eigenvalues, from the adjoints `g`."""
    return _eig_gradient(g[0], np.broadcast_to(g[1], np.shape(y[1])), y[0], y[1])


def eigvals_adjoint(g, a):
    """Gradient of `np.linalg.eigvals(a)` for real eigenvalues: V^-T diag(g) V^T."""
    w, v = np.linalg.eig(a)
    return _eig_gradient(g, None, w, v)
