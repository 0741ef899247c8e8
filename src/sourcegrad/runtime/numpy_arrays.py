"""Runtime helpers for NumPy's array-building, axis-moving, indexing and statistics
functions: each undoes one function on the gradient (`unhstack`, `untake`, `unpad`), as in
`numpy.py`. NumPy only.
"""

from __future__ import annotations

import functools

import numpy as np

from .core import expand_reduced, unbroadcast
from .numpy import _no_rule, _zeros

__all__ = [
    "linspace_adjoint", "unappend", "reshape_each", "unbroadcast_each", "unhstack", "unvstack",
    "undstack", "uncolumn_stack", "unrollaxis", "undiagonal", "undiag", "unrepeat", "untile",
    "untake", "untake_along_axis", "unpermute", "unpad", "select_parts", "none_selected", "unitem",
    "average_weights", "average_weights_adjoint", "index_concatenate", "unindex_concatenate",
]


# -- building arrays ------------------------------------------------------------------------------

def linspace_adjoint(g, start, stop, num=50, endpoint=True, retstep=False, axis=0,
                     wrt="start"):
    """Gradient of `np.linspace(start, stop, ...)` for `start` or `stop`, as `wrt` says."""
    # the samples are start + t * (stop - start), t in [0, 1]
    g_step = 0.0
    if retstep:
        g, g_step = g
    div = num - 1 if endpoint else num
    t = np.arange(num) / div if div > 0 else np.zeros(num)
    weight, step_weight = (t, 1.0) if wrt == "stop" else (1.0 - t, -1.0)
    part = np.tensordot(weight, np.moveaxis(np.asarray(g), axis, 0), axes=(0, 0))
    if retstep and div > 0:
        part = part + np.asarray(g_step) * step_weight / div
    return unbroadcast(part, start if wrt == "start" else stop)


def unappend(g, arr, values, axis=None):
    """Gradient of `np.append(arr, values, axis)`: [the part for `arr`, the part for `values`]."""
    if axis is None:
        n = np.size(arr)
        return [np.reshape(g[:n], np.shape(arr)), np.reshape(g[n:], np.shape(values))]
    return np.split(g, [np.shape(arr)[axis]], axis=axis)


def reshape_each(g, arrays):
    """Gradient of `np.atleast_1d/2d/3d(*arrays)`: each array's part of `g`, shaped like it."""
    parts = [g] if len(arrays) == 1 else list(g)
    return [np.reshape(p, np.shape(a)) for p, a in zip(parts, arrays, strict=True)]


def unbroadcast_each(g, arrays):
    """Gradient of `np.broadcast_arrays(*arrays)`: each part of `g` summed back to its array."""
    return [unbroadcast(p, a) for p, a in zip(g, arrays, strict=True)]


def _split_joined(g, arrays, promoted, axis):
    """`g` cut along `axis` as the promoted arrays were joined, each piece shaped like its array."""
    sizes = [np.shape(p)[axis] for p in promoted]
    parts = np.split(g, np.cumsum(sizes)[:-1], axis=axis)
    return [np.reshape(p, np.shape(a)) for p, a in zip(parts, arrays, strict=True)]


def unhstack(g, tup):
    """Gradient of `np.hstack(tup)`: one piece of `g` per array, shaped like it."""
    promoted = [np.atleast_1d(a) for a in tup]
    return _split_joined(g, tup, promoted, 0 if promoted[0].ndim == 1 else 1)


def unvstack(g, tup):
    """Gradient of `np.vstack(tup)`: one piece of `g` per array, shaped like it."""
    return _split_joined(g, tup, [np.atleast_2d(a) for a in tup], 0)


def undstack(g, tup):
    """Gradient of `np.dstack(tup)`: one piece of `g` per array, shaped like it."""
    return _split_joined(g, tup, [np.atleast_3d(a) for a in tup], 2)


def uncolumn_stack(g, tup):
    """Gradient of `np.column_stack(tup)`: one piece of `g` per array, shaped like it."""
    promoted = [np.reshape(a, (-1, 1)) if np.ndim(a) < 2 else a for a in tup]
    return _split_joined(g, tup, promoted, 1)


def index_concatenate(joiner, *items):
    """`joiner[items]` for np.r_, np.c_, np.mgrid or np.ogrid: normalization writes
    `np.r_[a, 0:3]` as `index_concatenate(np.r_, a, slice(0, 3))`, a call whose operands
    activity sees (a slice's bounds that carry a gradient are refused: pipeline.py). One
    item is indexed alone: `np.mgrid[0:1:3j]` is 1-d, `np.mgrid[(0:1:3j,)]` would be 2-d."""
    return joiner[items[0] if len(items) == 1 else items]


def unindex_concatenate(g, joiner, items):
    """Gradient of `joiner[items]` (np.r_, np.c_) for each item: the entries of `g` it became,
    shaped like it (None for slices and directives)."""
    # the entries of the array and number items are numbered 1, 2, ... and the numbers joined
    # the same way (directive and slices as given, the slices' entries numbered 0)
    numbered, sizes = [], []
    for item in items:
        size = 0 if isinstance(item, (slice, str)) else int(np.size(item))
        start = 1 + sum(sizes)
        if isinstance(item, slice):
            numbered.append(np.zeros(np.shape(np.r_[item])))
        elif isinstance(item, str):
            numbered.append(item)
        else:
            numbered.append(np.reshape(np.arange(start, start + size, dtype=np.float64),
                                       np.shape(item)))
        sizes.append(size)
    joined = joiner[tuple(numbered)]
    if isinstance(joined, np.matrix):
        raise _no_rule(f"np.r_ or np.c_ with the directive {items[0]!r} (an np.matrix)",
                       hint="Join arrays: np.r_[a, b], np.c_[a, b], np.r_['0,2', a, b].")
    flat = _zeros(1 + sum(sizes), g)
    flat[np.ravel(joined).astype(np.intp)] = np.ravel(np.broadcast_to(g, np.shape(joined)))
    bounds = np.cumsum([1, *sizes])
    return [None if isinstance(item, (slice, str)) else np.reshape(flat[lo:hi], np.shape(item))
            for item, lo, hi in zip(items, bounds[:-1], bounds[1:], strict=True)]


# -- moving axes, diagonals, repeating ------------------------------------------------------------

def unrollaxis(g, axis, start=0):
    """Undo `np.rollaxis(a, axis, start)` on the gradient."""
    ndim = np.ndim(g)
    axis, start = axis % ndim, start + ndim if start < 0 else start
    return np.moveaxis(g, start - 1 if start > axis else start, axis)


def undiagonal(g, a, offset=0, axis1=0, axis2=1):
    """Gradient of `np.diagonal(a, offset, axis1, axis2)`: `g` on that diagonal (broadcast)."""
    out = _zeros(np.shape(a), g)
    view = np.moveaxis(out, (axis1, axis2), (-2, -1))
    n1, n2 = view.shape[-2:]
    rows, cols = max(-offset, 0), max(offset, 0)
    length = max(0, min(n1 - rows, n2 - cols))
    view[..., np.arange(rows, rows + length), np.arange(cols, cols + length)] = g
    return out


def undiag(g, v, k=0):
    """Gradient of `np.diag(v, k)`: `g`'s k-th diagonal (vector v), or `g` placed on it."""
    if np.ndim(v) == 1:
        return np.diag(g, k)
    return undiagonal(g, v, k)


def unrepeat(g, a, repeats, axis=None):
    """Gradient of `np.repeat(a, repeats, axis)`: the copies of each entry summed."""
    shape = np.shape(a)
    if axis is None:
        g, axis, base = np.ravel(g), 0, (np.size(a),)
    else:
        base = shape
    g = np.moveaxis(np.asarray(g), axis, 0)
    n = base[axis]
    if np.size(repeats) == 1:
        out = np.sum(np.reshape(g, (n, int(np.ravel(repeats)[0])) + g.shape[1:]), axis=1)
    else:
        out = _zeros((n,) + g.shape[1:], g)
        np.add.at(out, np.repeat(np.arange(n), repeats), g)
    return np.reshape(np.moveaxis(out, 0, axis), shape)


def untile(g, A, reps):
    """Gradient of `np.tile(A, reps)`: the tiles of `g` summed."""
    shape = np.shape(A)
    reps = (reps,) if np.ndim(reps) == 0 else tuple(reps)
    nd = max(len(shape), len(reps))
    tiles = (1,) * (nd - len(reps)) + reps
    sizes = (1,) * (nd - len(shape)) + shape
    g = np.reshape(g, [n for pair in zip(tiles, sizes, strict=True) for n in pair])
    return np.reshape(np.sum(g, axis=tuple(range(0, 2 * nd, 2))), shape)


# -- indexing and sorting -------------------------------------------------------------------------

def untake(g, a, indices, axis=None, mode="raise"):
    """Gradient of `np.take(a, indices, axis, mode=mode)`: `g` added at the taken entries."""
    shape = np.shape(a)
    indices = np.asarray(indices)
    n = np.size(a) if axis is None else shape[axis]
    if mode == "wrap":
        indices = indices % n
    elif mode == "clip":
        indices = np.clip(indices, 0, n - 1)
    if axis is None:
        out = _zeros(np.size(a), g)
        np.add.at(out, indices, g)
        return np.reshape(out, shape)
    axis = axis % len(shape)
    out = _zeros(shape, g)
    moved = np.moveaxis(np.asarray(g), list(range(axis, axis + indices.ndim)),
                        list(range(indices.ndim)))
    np.add.at(np.moveaxis(out, axis, 0), indices, moved)
    return out


def untake_along_axis(g, arr, indices, axis=-1):
    """Gradient of `np.take_along_axis(arr, indices, axis)`: `g` added at the taken entries."""
    shape = np.shape(arr)
    if axis is None:
        out = _zeros(np.size(arr), g)
        np.add.at(out, indices, g)
        return np.reshape(out, shape)
    axis = axis % len(shape)
    index = [np.arange(n).reshape([-1 if i == d else 1 for i in range(len(shape))])
             for d, n in enumerate(shape)]
    index[axis] = np.asarray(indices)
    out = _zeros(shape, g)
    np.add.at(out, tuple(index), g)
    return out


def unpermute(g, a, y, axis=-1):
    """Gradient of `y`, `a` reordered along `axis` (np.sort, np.partition): `g` sent back."""
    # each value of y is matched with the entry of a it came from, ties in order
    shape = np.shape(a)
    if axis is None:
        a, y, g, axis = np.ravel(a), np.ravel(y), np.ravel(g), 0
    source = np.argsort(a, axis=axis, kind="stable")
    target = np.argsort(y, axis=axis, kind="stable")
    out = _zeros(np.shape(a), g)
    g = np.broadcast_to(g, np.shape(y))
    np.put_along_axis(out, source, np.take_along_axis(g, target, axis), axis)
    return np.reshape(out, shape)


def unpad(g, array, pad_width, mode="constant", reflect_type="even"):
    """Gradient of `np.pad(array, pad_width, mode)` for `array` (modes that copy entries)."""
    # the inside of g; edge, reflect, symmetric and wrap add the padding back where it was
    # copied from, found by padding the entries' flat indices the same way
    shape = np.shape(array)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (len(shape), 2))
    if mode in ("constant", "empty"):
        return g[tuple(slice(b, b + n) for (b, _), n in zip(widths, shape, strict=True))]
    if mode in ("edge", "wrap") or mode in ("reflect", "symmetric") and reflect_type == "even":
        source = np.pad(np.arange(np.size(array)).reshape(shape), widths, mode=mode)
        out = _zeros(np.size(array), g)
        np.add.at(out, np.ravel(source), np.ravel(g))
        return np.reshape(out, shape)
    raise _no_rule(f"np.pad with mode={mode!r}" + (f", reflect_type={reflect_type!r}"
                                                  if reflect_type != "even" else ""),
                   hint="The modes with a rule: constant, empty, edge, reflect, symmetric, wrap.")


def select_parts(g, condlist, choicelist):
    """Gradient of `np.select(condlist, choicelist, default)` for each choice."""
    # g where a choice's condition is the first that holds
    taken = False
    parts = []
    for cond, choice in zip(condlist, choicelist, strict=True):
        picked = np.logical_and(cond, np.logical_not(taken))
        parts.append(unbroadcast(np.where(picked, g, 0.0), choice))
        taken = np.logical_or(taken, cond)
    return parts


def none_selected(condlist):
    """Where no condition of `np.select(condlist, ...)` holds: there the default is picked."""
    return np.logical_not(functools.reduce(np.logical_or, condlist, False))


def unitem(g, a, args=()):
    """Gradient of `a.item(*args)`: `g` at the chosen entry, zero elsewhere."""
    out = _zeros(np.shape(a), g)
    if not args:
        out.reshape(-1)[0] = g
    elif len(args) == 1 and np.ndim(args[0]) == 0:
        out.reshape(-1)[args[0]] = g
    else:
        out[tuple(args[0]) if len(args) == 1 else tuple(args)] = g
    return out


# -- statistics -----------------------------------------------------------------------------------

def _weights_like(a, weights, axis):
    """`weights` shaped to broadcast against `a` (NumPy lets them cover only `axis`)."""
    w = np.asarray(weights)
    if w.shape == np.shape(a):
        return w
    axes = [int(ax) % np.ndim(a) for ax in np.atleast_1d(axis)]
    shape = [1] * np.ndim(a)
    for ax, n in zip(axes, w.shape, strict=True):
        shape[ax] = n
    return np.reshape(np.transpose(w, np.argsort(axes)), shape)


def average_weights(a, weights=None, axis=None, returned=False):
    """Each entry's share in `np.average(a, axis, weights)`: weight / sum of the weights."""
    if returned:
        raise _no_rule("np.average(..., returned=True)",
                       hint="Compute the sum of the weights with np.sum instead.")
    if weights is None:
        axes = range(np.ndim(a)) if axis is None else np.atleast_1d(axis)
        return 1.0 / np.prod([np.shape(a)[ax] for ax in axes])
    w = _weights_like(a, weights, axis)
    return w / np.sum(w, axis=axis, keepdims=True)


def average_weights_adjoint(g, a, y, weights, axis=None, keepdims=False):
    """Gradient of `y = np.average(a, axis, weights)` for `weights`: (a - y) / sum(weights)."""
    a = np.asarray(a)
    w = _weights_like(a, weights, axis)
    dw = (expand_reduced(g, a, axis=axis, keepdims=keepdims)
          * (a - expand_reduced(y, a, axis=axis, keepdims=keepdims))
          / np.sum(w, axis=axis, keepdims=True))
    if np.shape(weights) == a.shape:
        return dw
    axes = [int(ax) % a.ndim for ax in np.atleast_1d(axis)]
    others = tuple(i for i in range(a.ndim) if i not in axes)
    dw = np.reshape(np.sum(dw, axis=others), [a.shape[i] for i in sorted(axes)])
    return np.transpose(dw, np.argsort(np.argsort(axes)))
