"""Runtime helpers for the numpy.fft rules: the bookkeeping around the transforms' adjoints.

The adjoint of a discrete Fourier transform is the same transform (its matrix is symmetric), so
the rules call numpy.fft themselves; these helpers undo what happens around it: the cropping or
zero-padding to `n`/`s`, the half spectrum of the real transforms, the axes NumPy picks. Adjoints
follow autograd's convention for complex values (see `rules/fft.py`): for a real input only the
real part of its adjoint counts.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "fit_to_input", "transformed_axes", "pad_half_spectrum", "fold_to_half_spectrum",
    "swapped_norm",
]


def _axes_list(axes):
    return [int(axis) for axis in np.atleast_1d(axes)]


def _resize(g, n, axis):
    """`g` cropped or zero-padded to length `n` along `axis`."""
    have = g.shape[axis]
    if have > n:
        index = [slice(None)] * g.ndim
        index[axis] = slice(0, n)
        return g[tuple(index)]
    if have < n:
        widths = [(0, 0)] * g.ndim
        widths[axis] = (0, n - have)
        return np.pad(g, widths)
    return g


def fit_to_input(g, x, axes=-1):
    """`g` cropped or zero-padded along `axes` to the shape of `x`; its real part if `x` is real."""
    g = np.asarray(g)
    shape = np.shape(x)
    for axis in _axes_list(axes):
        g = _resize(g, shape[axis], axis)
    return g if np.iscomplexobj(x) else np.real(g)


def transformed_axes(a, s=None, axes=None):
    """The axes an n-dimensional transform of `a` runs over, as NumPy picks them (s, axes)."""
    ndim = np.ndim(a)
    if axes is None:
        axes = range(-len(s), 0) if s is not None else range(ndim)
    axes = tuple(int(axis) % ndim for axis in np.atleast_1d(axes))
    if len(set(axes)) != len(axes):
        from ..errors import NoRuleError
        raise NoRuleError(f"an FFT over the repeated axes {axes} has no derivative rule", None,
                          hint="Transform each axis once; call the FFT again to repeat it.")
    return axes


def pad_half_spectrum(g, a, s=None, axes=-1):
    """Zero-pad `g`, an rfft's half spectrum, along the last of `axes` to the full length:
    the last of `s` (`n` for rfft) or else `a`'s length there, the bins rfft leaves out."""
    axis = _axes_list(axes)[-1]
    n = -1 if s is None else int(np.atleast_1d(s)[-1])
    return _resize(np.asarray(g), np.shape(a)[axis] if n == -1 else n, axis)


def fold_to_half_spectrum(g, axes=-1):
    """Bins 0..n//2 of the full spectrum `g` along the last of `axes`, doubled where irfft also
    uses the bin's mirror image (all but the zero and, for even n, the Nyquist frequency)."""
    g = np.asarray(g)
    axis = _axes_list(axes)[-1]
    n = g.shape[axis]
    weights = np.full(n // 2 + 1, 2.0)
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    along = [1] * g.ndim
    along[axis] = -1
    return _resize(g, n // 2 + 1, axis) * weights.reshape(along)


def swapped_norm(norm=None):
    """The `norm` that scales the opposite direction: hfft and ihfft are irfft and rfft with it."""
    return {None: "forward", "backward": "forward", "forward": "backward"}.get(norm, norm)
