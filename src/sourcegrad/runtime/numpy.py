"""Runtime helpers for the NumPy function rules beyond the core ones. NumPy only.

Each helper is the adjoint of one NumPy function (or one family) that a rule would otherwise
spell out in many lines: it takes the result's gradient `g` first, then the call's arguments,
and returns the gradient of one argument, shaped like it. `un<name>` undoes `np.<name>` on the
gradient; `<name>_left`/`<name>_right` are the gradients of a product's two operands.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Sequence

import numpy as np

from .core import unbroadcast

__all__ = [
    "match_complex", "product_of_others", "std_derivative", "uncumsum", "uncumprod", "undiff",
    "ungradient", "trapezoid_weights", "trapezoid_x_adjoint", "interp_slope",
    "interp_fp_adjoint", "interp_xp_adjoint",
    "convolve_left", "correlate_left", "correlate_right", "cross_left", "cross_right",
    "inner_left", "inner_right", "tensordot_left", "tensordot_right", "kron_left", "kron_right",
    "einsum_adjoint",
]


def _no_rule(what: str, hint: str = ""):
    """The error for options no rule covers, raised when the derivative runs."""
    from ..errors import NoRuleError
    return NoRuleError(f"{what} has no derivative rule yet", None, hint=hint)


def _zeros(shape, g) -> np.ndarray:
    """Zeros of `shape` that can hold `g` (float, or complex for a complex `g`)."""
    return np.zeros(shape, dtype=np.result_type(g, np.float64))


def match_complex(g, x):
    """`g` as the adjoint of `x`: its real part when `x` is real (autograd's and JAX's rule)."""
    if np.iscomplexobj(g) and not np.iscomplexobj(x):
        return np.real(g)
    return g


# -- sums, products, differences ------------------------------------------------------------------

def product_of_others(a, axis=None):
    """For each entry of `a`, the product of the other entries reduced with it by
    `np.prod(a, axis)`: the derivative of the product, exact where `a` has zeros (`y / a` is
    NaN there)."""
    a = np.asarray(a)
    if a.size == 0:
        return np.zeros(a.shape, dtype=np.result_type(a, np.float64))
    axes = list(range(a.ndim)) if axis is None else sorted(
        {int(i) % a.ndim for i in np.atleast_1d(axis)})
    kept = [i for i in range(a.ndim) if i not in axes]
    moved = np.transpose(a, kept + axes)
    rows = np.reshape(moved, moved.shape[:len(kept)] + (-1,))
    # the product of the entries before each one, times the product of those after it
    ones = np.ones_like(rows[..., :1])
    before = np.cumprod(np.concatenate([ones, rows[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, rows[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    others = np.reshape(before * after, moved.shape)
    return np.transpose(others, np.argsort(kept + axes))


def std_derivative(a, axis=None, ddof=0):
    """Derivative of `np.std(a, axis, ddof=ddof)` by each entry of `a`: the entry's deviation
    from the mean over (count - ddof) * std. Where the samples are all equal (one sample, or a
    constant) it is 0: exact for one sample, whose std is always 0; for several, std is at its
    smallest there and 0 is a subgradient (as for np.linalg.norm at 0). Equality is decided on
    the samples: the rounded mean leaves deviations and a std of ~1e-17 whose ratio is noise."""
    a = np.asarray(a)
    deviations = a - np.mean(a, axis=axis, keepdims=True)
    std = np.std(a, axis=axis, ddof=ddof, keepdims=True)
    equal = np.ptp(a, axis=axis, keepdims=True) == 0
    count = a.size // max(std.size, 1) - ddof
    return np.where(equal, 0.0, deviations / (count * np.where(equal, 1.0, std)))


def uncumsum(g, a, axis=None):
    """Gradient of `np.cumsum(a, axis)`: the cumulative sum of `g` taken from the end."""
    if axis is None:
        return np.reshape(np.cumsum(np.ravel(g)[::-1])[::-1], np.shape(a))
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)


def uncumprod(g, a, y, axis=None):
    """Gradient of `y = np.cumprod(a, axis)`; exact where `a` has zeros."""
    shape = np.shape(a)
    if axis is None:
        g, a, y, axis = np.ravel(g), np.ravel(a), np.ravel(y), 0
    a = np.asarray(a)
    if np.all(a != 0):
        return np.reshape(uncumsum(g * y, a, axis) / a, shape)
    # with zeros: dy_i/da_k = prod(a[:k]) * prod(a[k+1:i+1]), the second factor summed backwards
    a_, g_ = np.moveaxis(a, axis, 0), np.moveaxis(np.asarray(g), axis, 0)
    before = np.concatenate([np.ones_like(a_[:1]), np.cumprod(a_, axis=0)[:-1]])
    after = _zeros(g_.shape, g_)
    if len(a_):
        after[-1] = g_[-1]
    for k in range(len(a_) - 2, -1, -1):
        after[k] = g_[k] + a_[k + 1] * after[k + 1]
    return np.reshape(np.moveaxis(before * after, 0, axis), shape)


def undiff(g, a, n=1, axis=-1, prepend=None, append=None, part="a"):
    """Gradient of `np.diff(a, n, axis, prepend, append)` for `a`, `prepend` or `append`."""
    # n times: the negated difference of g padded with a zero at both ends
    for _ in range(n):
        g = -np.diff(g, axis=axis, prepend=0.0, append=0.0)
    axis = axis % np.ndim(a)

    def length(edge):
        return 0 if edge is None else 1 if np.ndim(edge) == 0 else np.shape(edge)[axis]

    start = length(prepend)
    pieces = np.split(g, [start, start + np.shape(a)[axis]], axis=axis)
    which = {"prepend": 0, "a": 1, "append": 2}[part]
    return unbroadcast(pieces[which], (prepend, a, append)[which])


def ungradient(g, f, varargs=(), axis=None, edge_order=1):
    """Gradient of `np.gradient(f, *varargs, ...)` for `f` (the spacings are constants)."""
    shape = np.shape(f)
    axes = range(len(shape)) if axis is None else np.atleast_1d(axis) % len(shape)
    parts = [g] if len(axes) == 1 else list(g)
    if not varargs:
        spacings = [1.0] * len(axes)
    elif len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        spacings = list(varargs) * len(axes)
    else:
        spacings = list(varargs)
    out = _zeros(shape, parts[0])
    for ax, part, spacing in zip(axes, parts, spacings, strict=True):
        out += _transposed_stencil(part, shape[ax], ax, spacing, edge_order)
    return out


def _transposed_stencil(g, n, axis, spacing, edge_order):
    """`M.T @ g` along `axis`, for `M` the matrix of `np.gradient` along one axis."""
    # M has at most two entries either side of its diagonal, so np.gradient of comb r (ones at
    # the entries = r mod 5) holds, in each row, the one band entry of the column = r mod 5
    combs = [(np.arange(n) % 5 == r).astype(np.float64) for r in range(5)]
    band = np.stack([np.gradient(c, spacing, edge_order=edge_order) for c in combs])
    g = np.moveaxis(np.asarray(g), axis, -1)
    out = _zeros(g.shape, g)
    rows = np.arange(n)
    for offset in range(-2, 3):
        i = rows[(rows + offset >= 0) & (rows + offset < n)]
        out[..., i + offset] += band[(i + offset) % 5, i] * g[..., i]
    return np.moveaxis(out, -1, axis)


def trapezoid_weights(y, x=None, dx=1.0, axis=-1):
    """Weight of each entry of `y` in `np.trapezoid(y, x, dx, axis)`: half its two widths."""
    ndim = np.ndim(y)
    axis = axis % ndim
    n = np.shape(y)[axis]
    along = [1] * ndim
    along[axis] = -1
    if x is None:
        widths = np.reshape(np.full(max(n - 1, 0), dx), along)
    elif np.ndim(x) == 1:
        widths = np.reshape(np.diff(x), along)
    else:
        widths = np.diff(x, axis=axis)
    before = [(0, 0)] * np.ndim(widths)
    after = list(before)
    before[axis], after[axis] = (1, 0), (0, 1)
    return (np.pad(widths, before) + np.pad(widths, after)) / 2.0


def trapezoid_x_adjoint(g, y, x, axis=-1):
    """Gradient of `np.trapezoid(y, x, axis=axis)` for the sample points `x`."""
    y = np.asarray(y)
    axis = axis % y.ndim
    n = y.shape[axis]
    middles = (np.take(y, range(1, n), axis) + np.take(y, range(n - 1), axis)) / 2.0
    dwidths = np.expand_dims(g, axis) * middles
    dx = -np.diff(dwidths, axis=axis, prepend=0.0, append=0.0)
    if np.ndim(x) == 1 and y.ndim > 1:
        return np.sum(dx, axis=tuple(i for i in range(y.ndim) if i != axis))
    return unbroadcast(dx, x)


# -- interpolation and convolution ----------------------------------------------------------------

def _interp_segments(x, xp, period):
    """Segment index, fraction along it and inside-ness of each x, as np.interp sees them."""
    # with `period`, xp is sorted and extended by one point each side, as NumPy does; `source`
    # maps every point of that xp back to the caller's index
    x, xp = np.asarray(x, dtype=np.float64), np.asarray(xp, dtype=np.float64)
    source = np.arange(len(xp))
    if period is not None:
        x, xp = x % period, xp % period
        source = np.argsort(xp, kind="stable")
        xp = np.concatenate([xp[source[-1:]] - period, xp[source], xp[source[:1]] + period])
        source = np.concatenate([source[-1:], source, source[:1]])
    i = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    t = (x - xp[i]) / (xp[i + 1] - xp[i])
    inside = (x >= xp[0]) & (x <= xp[-1])
    return i, t, inside, xp, source


def interp_slope(x, xp, fp, left=None, right=None, period=None):
    """Derivative of `np.interp(x, xp, fp, ...)` in `x`: its segment's slope, 0 outside."""
    i, _, inside, xp, source = _interp_segments(x, xp, period)
    fp = np.asarray(fp)[source]
    return (fp[i + 1] - fp[i]) / (xp[i + 1] - xp[i]) * inside


def interp_fp_adjoint(g, x, xp, fp, left=None, right=None, period=None):
    """Gradient of `np.interp(x, xp, fp, ...)` for `fp`: `g` shared by each segment's ends."""
    # outside the range all of g goes to the end value, unless left/right replace it
    i, t, inside, xp, source = _interp_segments(x, xp, period)
    g = np.broadcast_to(g, np.shape(t))
    out = _zeros(np.shape(fp), np.result_type(g, np.asarray(fp)))
    np.add.at(out, source[i], np.where(inside, g * (1.0 - t), 0.0))
    np.add.at(out, source[i + 1], np.where(inside, g * t, 0.0))
    if period is None:
        x = np.asarray(x)
        if left is None:
            out[0] += np.sum(np.where(x < xp[0], g, 0.0))
        if right is None:
            out[-1] += np.sum(np.where(x > xp[-1], g, 0.0))
    return out


def interp_xp_adjoint(g, x, xp, fp, left=None, right=None, period=None):
    """Gradient of `np.interp(x, xp, fp, ...)` for the breakpoints `xp`."""
    slope = interp_slope(x, xp, fp, period=period)
    i, t, inside, _, source = _interp_segments(x, xp, period)
    g = np.where(inside, np.broadcast_to(g, np.shape(t)) * slope, 0.0)
    out = _zeros(np.shape(xp), g)
    np.add.at(out, source[i], g * (t - 1.0))
    np.add.at(out, source[i + 1], -g * t)
    return out


def _full_convolution(g, n, m, mode, same_offset):
    """The gradient of a 'same' or 'valid' convolution padded with zeros to the 'full' one."""
    if mode == "full":
        return np.asarray(g)
    start = min(n, m) - 1 if mode == "valid" else same_offset
    full = _zeros(n + m - 1, g)
    full[start:start + len(g)] = g
    return full


def convolve_left(g, a, v, mode="full"):
    """Gradient of `np.convolve(a, v, mode)` for `a` (for `v`: swap them, it is symmetric)."""
    a1, v1 = np.atleast_1d(a), np.atleast_1d(v)
    n, m = len(a1), len(v1)
    full = _full_convolution(g, n, m, mode, (min(n, m) - 1) // 2)
    return np.reshape(np.correlate(full, np.conj(v1), "valid"), np.shape(a))


def _correlate_full(g, n, m, mode):
    """As `_full_convolution`, for NumPy's offsets of a correlation's 'same' mode."""
    same_offset = (min(n, m) - 1) // 2 if m <= n else min(n, m) // 2
    return _full_convolution(g, n, m, mode, same_offset)


def correlate_left(g, a, v, mode="valid"):
    """Gradient of `np.correlate(a, v, mode)` for `a`."""
    a1, v1 = np.atleast_1d(a), np.atleast_1d(v)
    full = _correlate_full(g, len(a1), len(v1), mode)
    return np.reshape(np.correlate(full, v1[::-1], "valid"), np.shape(a))


def correlate_right(g, a, v, mode="valid"):
    """Gradient of `np.correlate(a, v, mode)` for `v` (which the correlation conjugates)."""
    a1, v1 = np.atleast_1d(a), np.atleast_1d(v)
    full = _correlate_full(g, len(a1), len(v1), mode)
    return np.reshape(np.correlate(np.conj(full), a1, "valid")[::-1], np.shape(v))


# -- products -------------------------------------------------------------------------------------

def _cross_adjoint(g, a, b, axisa, axisb, axisc, axis):
    """Gradient of `np.cross(a, b)` for `a`: `b x g` (2-vectors padded with a zero z)."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a_, b_ = np.moveaxis(np.asarray(a), axisa, -1), np.moveaxis(np.asarray(b), axisb, -1)
    if a_.shape[-1] == 2 and b_.shape[-1] == 2:
        g = np.asarray(g)
        g_ = np.stack([np.zeros_like(g), np.zeros_like(g), g], axis=-1)
    else:
        g_ = np.moveaxis(np.asarray(g), axisc, -1)
    b3 = np.concatenate([b_, np.zeros(b_.shape[:-1] + (3 - b_.shape[-1],))], axis=-1)
    da = np.cross(b3, g_)[..., :a_.shape[-1]]
    return np.moveaxis(unbroadcast(da, a_), -1, axisa)


def cross_left(g, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Gradient of `np.cross(a, b, axisa, axisb, axisc, axis)` for `a`: `b x g`."""
    return _cross_adjoint(g, a, b, axisa, axisb, axisc, axis)


def cross_right(g, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Gradient of `np.cross(a, b, axisa, axisb, axisc, axis)` for `b`: `g x a`."""
    return _cross_adjoint(-np.asarray(g), b, a, axisb, axisa, axisc, axis)


def _tensordot_axes(a, b, axes):
    """The contracted axes of `a` and of `b`, as non-negative lists."""
    if np.ndim(axes) == 0:
        return list(range(a.ndim - axes, a.ndim)), list(range(axes))
    axes_a, axes_b = axes
    return ([int(i) % a.ndim for i in np.atleast_1d(axes_a)],
            [int(i) % b.ndim for i in np.atleast_1d(axes_b)])


def tensordot_left(g, a, b, axes=2):
    """Gradient of `np.tensordot(a, b, axes)` for `a`: `g` contracted with `b`'s free axes."""
    a, b, g = np.asarray(a), np.asarray(b), np.asarray(g)
    axes_a, axes_b = _tensordot_axes(a, b, axes)
    free_a = [i for i in range(a.ndim) if i not in axes_a]
    free_b = [i for i in range(b.ndim) if i not in axes_b]
    part = np.tensordot(g, b, axes=(list(range(len(free_a), g.ndim)), free_b))
    partners = [axes_a[axes_b.index(j)] for j in sorted(axes_b)]
    return np.transpose(part, np.argsort(free_a + partners))


def tensordot_right(g, a, b, axes=2):
    """Gradient of `np.tensordot(a, b, axes)` for `b`: `a`'s free axes contracted with `g`."""
    a, b, g = np.asarray(a), np.asarray(b), np.asarray(g)
    axes_a, axes_b = _tensordot_axes(a, b, axes)
    free_a = [i for i in range(a.ndim) if i not in axes_a]
    free_b = [i for i in range(b.ndim) if i not in axes_b]
    part = np.tensordot(a, g, axes=(free_a, list(range(len(free_a)))))
    partners = [axes_b[axes_a.index(i)] for i in sorted(axes_a)]
    return np.transpose(part, np.argsort(partners + free_b))


def inner_left(g, a, b):
    """Gradient of `np.inner(a, b)` for `a` (a tensordot over the last axes; scalars scale)."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * b, a)
    return tensordot_left(g, a, b, axes=([-1], [-1]))


def inner_right(g, a, b):
    """Gradient of `np.inner(a, b)` for `b` (a tensordot over the last axes; scalars scale)."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * a, b)
    return tensordot_right(g, a, b, axes=([-1], [-1]))


def _kron_blocks(g, a, b):
    """`g` as a matrix: one row per entry of `a`, one column per entry of `b`."""
    nd = max(np.ndim(a), np.ndim(b))
    sa = (1,) * (nd - np.ndim(a)) + np.shape(a)
    sb = (1,) * (nd - np.ndim(b)) + np.shape(b)
    blocks = np.reshape(g, [n for pair in zip(sa, sb, strict=True) for n in pair])
    blocks = np.transpose(blocks, list(range(0, 2 * nd, 2)) + list(range(1, 2 * nd, 2)))
    return np.reshape(blocks, (np.size(a), np.size(b)))


def kron_left(g, a, b):
    """Gradient of `np.kron(a, b)` for `a`: each block of `g` contracted with `b`."""
    return np.reshape(_kron_blocks(g, a, b) @ np.ravel(b), np.shape(a))


def kron_right(g, a, b):
    """Gradient of `np.kron(a, b)` for `b`: the blocks of `g` weighted by `a`."""
    return np.reshape(np.ravel(a) @ _kron_blocks(g, a, b), np.shape(b))


# -- einsum ---------------------------------------------------------------------------------------

_LABELS = string.ascii_uppercase + string.ascii_lowercase  # in NumPy's (ASCII) order


def _einsum_spec(subscripts, operands):
    """The arrays, their subscripts and the output's, with every ellipsis spelled in letters."""
    if isinstance(subscripts, str):
        arrays = list(operands)
    else:  # interleaved: einsum(op0, sublist0, op1, sublist1, ..., [sublistout])
        args = (subscripts, *operands)
        arrays = list(args[0::2][:len(args) // 2])
        sublists = list(args[1::2]) + ([args[-1]] if len(args) % 2 else [])

        def spell(sublist):
            return "".join("..." if s is Ellipsis else _LABELS[s] for s in sublist)

        subscripts = ",".join(spell(s) for s in sublists[:len(arrays)])
        if len(sublists) > len(arrays):
            subscripts += "->" + spell(sublists[-1])
    subscripts = subscripts.replace(" ", "")
    inputs, arrow, output = subscripts.partition("->")
    terms = inputs.split(",")
    spare = [c for c in string.ascii_letters if c not in subscripts]
    ellipsis_dims = max([np.ndim(x) - len(t) + 3 for t, x in zip(terms, arrays, strict=True)
                         if "..." in t], default=0)
    letters = "".join(spare[:ellipsis_dims])
    spelled = []
    for term, x in zip(terms, arrays, strict=True):
        if "..." in term:
            count = np.ndim(x) - len(term) + 3
            term = term.replace("...", letters[ellipsis_dims - count:])
        spelled.append(term)
    if not arrow:
        named = "".join(terms).replace(".", "")
        output = "..." * bool(letters) + "".join(sorted(c for c in set(named)
                                                        if named.count(c) == 1))
    return arrays, spelled, output.replace("...", letters)


def _einsum_operand_adjoint(g, k, arrays, terms, output):
    """The gradient of operand `k`: an einsum of `g` with the other operands."""
    # then broadcast over the letters only k has, summed over the axes along which k was
    # broadcast, and placed on the diagonals k's repeated letters take
    x, term = np.asarray(arrays[k]), terms[k]
    others = [j for j in range(len(arrays)) if j != k]
    unique = "".join(dict.fromkeys(term))
    available = set(output).union(*(terms[j] for j in others))
    kept = "".join(c for c in unique if c in available)
    spec = ",".join([output] + [terms[j] for j in others]) + "->" + kept
    part = np.einsum(spec, g, *(arrays[j] for j in others), optimize=len(others) > 1)
    part = np.expand_dims(part, tuple(i for i, c in enumerate(unique) if c not in available))
    sizes = dict(zip(term, x.shape, strict=True))
    broadcast = tuple(i for i, c in enumerate(unique) if sizes[c] == 1 and part.shape[i] != 1)
    if broadcast:
        part = np.sum(part, axis=broadcast, keepdims=True)
    part = np.broadcast_to(part, [sizes[c] for c in unique])
    if len(unique) == len(term):
        return part
    out = np.zeros(x.shape, dtype=part.dtype)
    np.einsum(term + "->" + unique, out)[...] = part  # a writeable view of the diagonal
    return out


class _Parts(Sequence):
    """Gradients of several operands, each computed when read (only active ones are read)."""

    def __init__(self, count, compute):
        self._count, self._compute = count, functools.cache(compute)

    def __len__(self):
        return self._count

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(self._count)[index]]
        if not -self._count <= index < self._count:
            raise IndexError(index)
        return self._compute(index % self._count)


def einsum_adjoint(g, subscripts, operands, first=False):
    """Gradients of `np.einsum(subscripts, *operands)` for the operands (or the first one)."""
    # operands of the interleaved form alternate arrays and sublists (None for those), and its
    # first array binds to `subscripts`: first=True asks for it
    arrays, terms, output = _einsum_spec(subscripts, operands)

    def operand(k):
        return _einsum_operand_adjoint(g, k, arrays, terms, output)

    if first:
        return operand(0)
    if isinstance(subscripts, str):
        return _Parts(len(operands), operand)
    # interleaved: operands = (sublist0, op1, sublist1, op2, ...), op_k at position 2k - 1
    return _Parts(len(operands), lambda i: operand((i + 1) // 2) if i % 2 else None)
