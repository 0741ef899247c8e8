"""Adjoints of numpy.fft: complex and real transforms in 1, 2 and n dimensions, and the shifts.

Parameter names and defaults mirror NumPy's (2.x), so calls with keywords bind; `n`/`s` crop or
zero-pad the input, `axis`/`axes` pick the axes, and every `norm` ("backward", "ortho",
"forward", None) is supported.

Complex values carry autograd's and JAX's adjoint, as the rules for np.real, np.imag, np.conj
and np.abs do: for a real loss L and a complex value z = u + iv the adjoint is
d[z] = dL/du - i dL/dv, so that dL = Re(sum(d[z] * dz)). With it the adjoint of a linear map is
its transpose, not its conjugate transpose, and a holomorphic f sends d[y] back as
d[y] * f'(z). A real input keeps the real part of its adjoint, which is then exactly dL/dx.

- fft, ifft, fft2, ifft2, fftn, ifftn: the DFT matrix (with any norm) is symmetric, so the
  adjoint is the same transform of d[y], cropped or zero-padded back to the input's shape.
- rfft, rfft2, rfftn: the transpose of "keep bins 0..n//2" zero-pads d[y] to the full
  spectrum, then the same complex transform applies (real part: the input is real).
- irfft, irfft2, irfftn: the output is Re(A z) where A weights bins 1..(n-1)//2 twice (they
  also stand for their mirror images) and ignores the imaginary parts of the zero and Nyquist
  bins; the adjoint is the inverse transform of Re(d[y]), folded onto the half spectrum with
  those weights (`fold_to_half_spectrum`).
- hfft and ihfft are irfft and rfft of the conjugate, with the direction of `norm` swapped.
- fftshift and ifftshift undo each other.

A transform over repeated axes (`axes=(0, 0)`) raises NoRuleError when the derivative runs.
"""

import numpy as np

from ..runtime import (
    fit_to_input,
    fold_to_half_spectrum,
    pad_half_spectrum,
    swapped_norm,
    transformed_axes,
)
from .templates import ANY, accepts, adjoint, d


# -- complex transforms: the adjoint is the same transform -------------------------------------
@adjoint(np.fft.fft)
@accepts(n=ANY)  # read through the shapes of d[y] and a
def fft(y, a, n=None, axis=-1, norm=None, out=None):
    d[a] += fit_to_input(np.fft.fft(d[y], axis=axis, norm=norm), a, axes=axis)


@adjoint(np.fft.ifft)
@accepts(n=ANY)  # read through the shapes of d[y] and a
def ifft(y, a, n=None, axis=-1, norm=None, out=None):
    d[a] += fit_to_input(np.fft.ifft(d[y], axis=axis, norm=norm), a, axes=axis)


@adjoint(np.fft.fft2)
def fft2(y, a, s=None, axes=(-2, -1), norm=None, out=None):
    used = transformed_axes(a, s, axes)
    d[a] += fit_to_input(np.fft.fftn(d[y], axes=used, norm=norm), a, axes=used)


@adjoint(np.fft.ifft2)
def ifft2(y, a, s=None, axes=(-2, -1), norm=None, out=None):
    used = transformed_axes(a, s, axes)
    d[a] += fit_to_input(np.fft.ifftn(d[y], axes=used, norm=norm), a, axes=used)


@adjoint(np.fft.fftn)
def fftn(y, a, s=None, axes=None, norm=None, out=None):
    used = transformed_axes(a, s, axes)
    d[a] += fit_to_input(np.fft.fftn(d[y], axes=used, norm=norm), a, axes=used)


@adjoint(np.fft.ifftn)
def ifftn(y, a, s=None, axes=None, norm=None, out=None):
    used = transformed_axes(a, s, axes)
    d[a] += fit_to_input(np.fft.ifftn(d[y], axes=used, norm=norm), a, axes=used)


# -- real transforms: half spectra -------------------------------------------------------------
@adjoint(np.fft.rfft)
def rfft(y, a, n=None, axis=-1, norm=None, out=None):
    full = pad_half_spectrum(d[y], a, s=n, axes=axis)
    d[a] += fit_to_input(np.fft.fft(full, axis=axis, norm=norm), a, axes=axis)


@adjoint(np.fft.irfft)
@accepts(n=ANY)  # read through the shapes of d[y] and a
def irfft(y, a, n=None, axis=-1, norm=None, out=None):
    full = np.fft.ifft(np.real(d[y]), axis=axis, norm=norm)
    d[a] += fit_to_input(fold_to_half_spectrum(full, axes=axis), a, axes=axis)


@adjoint(np.fft.rfft2)
def rfft2(y, a, s=None, axes=(-2, -1), norm=None, out=None):
    used = transformed_axes(a, s, axes)
    full = pad_half_spectrum(d[y], a, s=s, axes=used)
    d[a] += fit_to_input(np.fft.fftn(full, axes=used, norm=norm), a, axes=used)


@adjoint(np.fft.irfft2)
def irfft2(y, a, s=None, axes=(-2, -1), norm=None, out=None):
    used = transformed_axes(a, s, axes)
    full = np.fft.ifftn(np.real(d[y]), axes=used, norm=norm)
    d[a] += fit_to_input(fold_to_half_spectrum(full, axes=used), a, axes=used)


@adjoint(np.fft.rfftn)
def rfftn(y, a, s=None, axes=None, norm=None, out=None):
    used = transformed_axes(a, s, axes)
    full = pad_half_spectrum(d[y], a, s=s, axes=used)
    d[a] += fit_to_input(np.fft.fftn(full, axes=used, norm=norm), a, axes=used)


@adjoint(np.fft.irfftn)
def irfftn(y, a, s=None, axes=None, norm=None, out=None):
    used = transformed_axes(a, s, axes)
    full = np.fft.ifftn(np.real(d[y]), axes=used, norm=norm)
    d[a] += fit_to_input(fold_to_half_spectrum(full, axes=used), a, axes=used)


# -- Hermitian transforms: real transforms of the conjugate ------------------------------------
@adjoint(np.fft.hfft)
@accepts(n=ANY)  # read through the shapes of d[y] and a
def hfft(y, a, n=None, axis=-1, norm=None, out=None):
    full = np.fft.ifft(np.real(d[y]), axis=axis, norm=swapped_norm(norm))
    d[a] += np.conj(fit_to_input(fold_to_half_spectrum(full, axes=axis), a, axes=axis))


@adjoint(np.fft.ihfft)
def ihfft(y, a, n=None, axis=-1, norm=None, out=None):
    full = pad_half_spectrum(np.conj(d[y]), a, s=n, axes=axis)
    d[a] += fit_to_input(np.fft.fft(full, axis=axis, norm=swapped_norm(norm)), a, axes=axis)


# -- shifts ------------------------------------------------------------------------------------
@adjoint(np.fft.fftshift)
def fftshift(y, x, axes=None):
    d[x] += np.fft.ifftshift(d[y], axes=axes)


@adjoint(np.fft.ifftshift)
def ifftshift(y, x, axes=None):
    d[x] += np.fft.fftshift(d[y], axes=axes)
