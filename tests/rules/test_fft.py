"""Reverse mode through numpy.fft: one row per rule and option, against finite differences.

Inputs are real arrays of shapes (8,), (4, 6), (2, 3, 4); losses are real: weighted real and
imaginary parts, weighted squared magnitudes, round trips through a fixed complex filter. Complex
inputs are built from two real arrays (u + 1j * v), so the oracle checks the adjoint of both
parts, including the parts irfft ignores (imaginary zero and Nyquist bins).
"""

import inspect
import re
from pathlib import Path

import numpy as np
import pytest

import sourcegrad
import sourcegrad.rules.fft  # noqa: F401  (registers the numpy.fft rules)
import sourcegrad.runtime
import sourcegrad.runtime.fft
from oracle import arr, assert_grad, case
from sourcegrad.rules import ADJOINTS

NORMS = [None, "backward", "ortho", "forward"]


def weights_like(transform, x, seed=0, **kwargs):
    """Fixed weights shaped like transform(x, **kwargs)."""
    return arr(*np.shape(transform(x, **kwargs)), lo=-1.5, hi=1.5, seed=seed + 50)


def spectrum(*shape, seed=0):
    """A fixed complex filter of unit magnitude."""
    return np.exp(1j * arr(*shape, lo=-3.0, hi=3.0, seed=seed + 80))


# -- the examples every FFT rule must get right ---------------------------------------------------


def power(x):
    return np.sum(np.abs(np.fft.fft(x)) ** 2)


def filtered(x, h):
    return np.sum(np.real(np.fft.ifft(np.fft.fft(x) * h)))


# -- complex transforms ---------------------------------------------------------------------------


def fft_of(x, c, n=None, axis=-1, norm=None):
    y = np.fft.fft(x, n=n, axis=axis, norm=norm)
    return np.sum(np.real(y) * c) + np.sum(np.abs(y) ** 2 * c)


def fft_positional(x, c):
    y = np.fft.fft(x, 6, 0, "ortho")
    return np.sum(np.abs(y) ** 2 * c)


def ifft_of(x, c, n=None, axis=-1, norm=None):
    y = np.fft.ifft(x, n=n, axis=axis, norm=norm)
    return np.sum(np.real(y) * c) + np.sum(np.abs(y) ** 2 * c)


def fft2_of(x, c, s=None, axes=(-2, -1), norm=None):
    y = np.fft.fft2(x, s=s, axes=axes, norm=norm)
    return np.sum(np.real(y) * c) + np.sum(np.abs(y) ** 2 * c)


def ifft2_of(x, c, s=None, axes=(-2, -1), norm=None):
    y = np.fft.ifft2(x, s=s, axes=axes, norm=norm)
    return np.sum(np.real(y) * c) + np.sum(np.abs(y) ** 2 * c)


def fftn_of(x, c, s=None, axes=None, norm=None):
    y = np.fft.fftn(x, s=s, axes=axes, norm=norm)
    return np.sum(np.real(y) * c) + np.sum(np.abs(y) ** 2 * c)


def ifftn_of(x, c, s=None, axes=None, norm=None):
    y = np.fft.ifftn(x, s=s, axes=axes, norm=norm)
    return np.sum(np.real(y) * c) + np.sum(np.abs(y) ** 2 * c)


# -- real transforms ------------------------------------------------------------------------------


def rfft_of(x, c, n=None, axis=-1, norm=None):
    y = np.fft.rfft(x, n=n, axis=axis, norm=norm)
    return np.sum(np.real(y) * c) + np.sum(np.abs(y) ** 2 * c)


def irfft_of(x, c, n=None, axis=-1, norm=None):
    y = np.fft.irfft(x, n=n, axis=axis, norm=norm)
    return np.sum(y * c) + np.sum(y * y * c * c)


def rfft2_of(x, c, s=None, axes=(-2, -1), norm=None):
    y = np.fft.rfft2(x, s=s, axes=axes, norm=norm)
    return np.sum(np.real(y) * c) + np.sum(np.abs(y) ** 2 * c)


def irfft2_of(x, c, s=None, axes=(-2, -1), norm=None):
    y = np.fft.irfft2(x, s=s, axes=axes, norm=norm)
    return np.sum(y * c) + np.sum(y * y * c * c)


def rfftn_of(x, c, s=None, axes=None, norm=None):
    y = np.fft.rfftn(x, s=s, axes=axes, norm=norm)
    return np.sum(np.real(y) * c) + np.sum(np.abs(y) ** 2 * c)


def irfftn_of(x, c, s=None, axes=None, norm=None):
    y = np.fft.irfftn(x, s=s, axes=axes, norm=norm)
    return np.sum(y * c) + np.sum(y * y * c * c)


def real_filter(x, h, c, n=None, norm=None):
    y = np.fft.irfft(np.fft.rfft(x, norm=norm) * h, n=n, norm=norm)
    return np.sum(y * c) + np.sum(y * y)


def real_filter_2d(x, h, c):
    y = np.fft.irfft2(np.fft.rfft2(x) * h, s=x.shape)
    return np.sum(y * c) + np.sum(y * y)


def convolve2d(img, kernel):
    spectrum = np.fft.rfft2(img) * np.fft.rfft2(kernel, s=img.shape)
    out = np.fft.irfft2(spectrum, s=img.shape, norm="ortho")
    return np.sum(np.fft.fftshift(out) ** 2 * np.arange(out.size).reshape(out.shape))


def real_filter_nd(x, h, c):
    y = np.fft.irfftn(np.fft.rfftn(x, axes=(0, 2)) * h, s=(2, 4), axes=(0, 2))
    return np.sum(y * c) + np.sum(y * y)


# -- Hermitian transforms -------------------------------------------------------------------------


def hfft_of(x, c, n=None, axis=-1, norm=None):
    y = np.fft.hfft(x, n=n, axis=axis, norm=norm)
    return np.sum(y * c) + np.sum(y * y * c * c)


def ihfft_of(x, c, n=None, axis=-1, norm=None):
    y = np.fft.ihfft(x, n=n, axis=axis, norm=norm)
    return np.sum(np.real(y) * c) + np.sum(np.abs(y) ** 2 * c)


# -- shifts ---------------------------------------------------------------------------------------


def fftshift_of(x, c, axes=None):
    return np.sum(np.fft.fftshift(x, axes=axes) * c)


def ifftshift_of(x, c, axes=None):
    return np.sum(np.fft.ifftshift(x, axes=axes) * c)


def centered_power(x, c):
    y = np.fft.fftshift(np.fft.fft(x))
    return np.sum(np.abs(np.fft.ifftshift(y * c)) ** 2 * c)


# -- the table ------------------------------------------------------------------------------------

SHAPES = [(8,), (4, 6), (2, 3, 4)]


def row(loss, transform, x, seed=0, **kwargs):
    """A case for loss(x, weights, **kwargs), with weights shaped like transform's output."""
    return case(loss, x, weights_like(transform, x, seed=seed, **kwargs), **kwargs)


fft, ifft, rfft, irfft = np.fft.fft, np.fft.ifft, np.fft.rfft, np.fft.irfft
fft2, ifft2, rfft2, irfft2 = np.fft.fft2, np.fft.ifft2, np.fft.rfft2, np.fft.irfft2
fftn, ifftn, rfftn, irfftn = np.fft.fftn, np.fft.ifftn, np.fft.rfftn, np.fft.irfftn

CASES = [
    # the examples
    case(power, arr(8, seed=1)),
    case(power, arr(7, seed=2)),
    case(filtered, arr(8, seed=3), spectrum(8, seed=3)),
    case(filtered, arr(4, 6, seed=4), spectrum(6, seed=4)),
    # fft, ifft: shapes, n (crop, pad), axis, norm
    *[row(fft_of, fft, arr(*s, seed=5)) for s in SHAPES],
    row(fft_of, fft, arr(8, seed=6), n=5),
    row(fft_of, fft, arr(8, seed=7), n=11),
    row(fft_of, fft, arr(4, 6, seed=8), axis=0),
    row(fft_of, fft, arr(2, 3, 4, seed=9), axis=1, n=4),
    *[row(fft_of, fft, arr(8, seed=10), norm=nm) for nm in NORMS[1:]],
    case(fft_positional, arr(4, 3, seed=11), weights_like(fft, arr(4, 3), n=6, axis=0)),
    *[row(ifft_of, ifft, arr(*s, seed=12)) for s in [(8,), (2, 3, 4)]],
    row(ifft_of, ifft, arr(8, seed=13), n=6, norm="ortho"),
    row(ifft_of, ifft, arr(4, 6, seed=14), axis=0, n=7, norm="forward"),
    row(ifft_of, ifft, arr(2, 3, 4, seed=15), axis=-2, norm="backward"),
    # fft2, ifft2, fftn, ifftn: s (crop, pad), axes, norm
    *[row(fft2_of, fft2, arr(*s, seed=16)) for s in SHAPES[1:]],
    row(fft2_of, fft2, arr(4, 6, seed=17), s=(3, 8), norm="ortho"),
    row(fft2_of, fft2, arr(2, 3, 4, seed=18), axes=(0, 2), s=(3, 3), norm="forward"),
    row(ifft2_of, ifft2, arr(4, 6, seed=19)),
    row(ifft2_of, ifft2, arr(2, 3, 4, seed=20), axes=(2, 0), s=(5, 1), norm="ortho"),
    *[row(fftn_of, fftn, arr(*s, seed=21)) for s in SHAPES],
    row(fftn_of, fftn, arr(2, 3, 4, seed=22), axes=(0, 2)),
    row(fftn_of, fftn, arr(2, 3, 4, seed=23), axes=(-1, 0, 1), s=(3, 2, 5), norm="ortho"),
    row(fftn_of, fftn, arr(4, 6, seed=24), norm="forward"),
    *[row(ifftn_of, ifftn, arr(*s, seed=25)) for s in [(8,), (2, 3, 4)]],
    row(ifftn_of, ifftn, arr(2, 3, 4, seed=26), axes=(1,), s=(5,), norm="forward"),
    row(ifftn_of, ifftn, arr(4, 6, seed=27), norm="ortho"),
    # rfft, irfft: even and odd n, crop and pad, axis, norm
    *[row(rfft_of, rfft, arr(*s, seed=28)) for s in SHAPES],
    *[row(rfft_of, rfft, arr(8, seed=29), n=n) for n in (7, 10, 11)],
    row(rfft_of, rfft, arr(4, 6, seed=30), axis=0, n=5),
    row(rfft_of, rfft, arr(2, 3, 4, seed=31), axis=1),
    *[row(rfft_of, rfft, arr(7, seed=32), norm=nm) for nm in ("ortho", "forward")],
    *[row(irfft_of, irfft, arr(*s, seed=33)) for s in SHAPES],
    *[row(irfft_of, irfft, arr(8, seed=34), n=n) for n in (9, 20)],
    row(irfft_of, irfft, arr(4, 6, seed=35), axis=0, n=5),
    row(irfft_of, irfft, arr(2, 3, 4, seed=36), axis=1),
    *[row(irfft_of, irfft, arr(5, seed=37), n=9, norm=nm) for nm in ("ortho", "forward")],
    # rfft2, irfft2, rfftn, irfftn
    *[row(rfft2_of, rfft2, arr(*s, seed=38)) for s in SHAPES[1:]],
    row(rfft2_of, rfft2, arr(4, 6, seed=39), s=(5, 7), norm="ortho"),
    row(rfft2_of, rfft2, arr(2, 3, 4, seed=40), axes=(2, 0), s=(3, 3), norm="forward"),
    *[row(irfft2_of, irfft2, arr(*s, seed=41)) for s in SHAPES[1:]],
    row(irfft2_of, irfft2, arr(4, 6, seed=42), s=(3, 9), norm="ortho"),
    row(irfft2_of, irfft2, arr(2, 3, 4, seed=43), axes=(2, 0), s=(4, 4), norm="forward"),
    *[row(rfftn_of, rfftn, arr(*s, seed=44)) for s in [(8,), (2, 3, 4)]],
    row(rfftn_of, rfftn, arr(2, 3, 4, seed=45), axes=(0, 1), s=(3, 5), norm="ortho"),
    row(rfftn_of, rfftn, arr(4, 6, seed=46), axes=(1,), norm="forward"),
    *[row(irfftn_of, irfftn, arr(*s, seed=47)) for s in [(8,), (2, 3, 4)]],
    row(irfftn_of, irfftn, arr(2, 3, 4, seed=48), axes=(1, 2), s=(2, 7), norm="ortho"),
    row(irfftn_of, irfftn, arr(4, 6, seed=49), axes=(0,), s=(8,), norm="forward"),
    # round trips through a fixed complex filter
    case(real_filter, arr(8, seed=50), spectrum(5, seed=50), arr(8, seed=51)),
    case(real_filter, arr(9, seed=52), spectrum(5, seed=52), arr(9, seed=53), n=9,
         norm="ortho"),
    case(real_filter, arr(8, seed=54), spectrum(5, seed=54), arr(6, seed=55), n=6,
         norm="forward"),
    case(real_filter_2d, arr(4, 6, seed=56), spectrum(4, 4, seed=56), arr(4, 6, seed=57)),
    case(convolve2d, arr(4, 5, seed=60), arr(2, 2, seed=61), wrt=(0, 1)),
    case(real_filter_nd, arr(2, 3, 4, seed=58), spectrum(2, 3, 3, seed=58),
         arr(2, 3, 4, seed=59)),
    # Hermitian transforms
    *[row(hfft_of, np.fft.hfft, arr(*s, seed=60)) for s in [(8,), (2, 3, 4)]],
    row(hfft_of, np.fft.hfft, arr(5, seed=61), n=9, norm="ortho"),
    row(hfft_of, np.fft.hfft, arr(4, 6, seed=62), axis=0, n=4, norm="forward"),
    *[row(ihfft_of, np.fft.ihfft, arr(*s, seed=63)) for s in [(8,), (2, 3, 4)]],
    row(ihfft_of, np.fft.ihfft, arr(8, seed=64), n=7, norm="ortho"),
    row(ihfft_of, np.fft.ihfft, arr(4, 6, seed=65), axis=0, norm="forward"),
    # shifts: odd lengths tell fftshift and ifftshift apart
    *[row(fftshift_of, np.fft.fftshift, arr(*s, seed=66)) for s in [(7,), (4, 5)]],
    row(fftshift_of, np.fft.fftshift, arr(5, 3, seed=67), axes=0),
    row(fftshift_of, np.fft.fftshift, arr(3, 2, 5, seed=68), axes=(0, 2)),
    *[row(ifftshift_of, np.fft.ifftshift, arr(*s, seed=69)) for s in [(7,), (3, 5)]],
    row(ifftshift_of, np.fft.ifftshift, arr(3, 2, 5, seed=70), axes=(-1,)),
    case(centered_power, arr(7, seed=71), weights_like(fft, arr(7), seed=71)),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES)
def test_fft(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


# -- complex inputs, u + 1j * v: the adjoint of both parts ----------------------------------------


def fft_complex(u, v, c):
    y = np.fft.fft(u + 1j * v, norm="ortho")
    return np.sum(np.real(y) * c) + np.sum(np.abs(y) ** 2 * c * c)


def ifft2_complex(u, v, c):
    y = np.fft.ifft2(u + 1j * v, s=(3, 7))
    return np.sum(np.imag(y) * c) + np.sum(np.abs(y) ** 2 * c * c)


def rfft_complex_weights(x, c):
    y = np.fft.rfft(x) * (1.0 + 2.0j)
    return np.sum(np.real(y) * c)


def irfft_complex(u, v, c, n=None):
    y = np.fft.irfft(u + 1j * v, n=n)
    return np.sum(y * c) + np.sum(y * y)


def irfftn_complex(u, v, c):
    y = np.fft.irfftn(u + 1j * v, axes=(0, 2))
    return np.sum(y * c) + np.sum(y * y)


def hfft_complex(u, v, c):
    y = np.fft.hfft(u + 1j * v, n=7)
    return np.sum(y * c) + np.sum(y * y)


COMPLEX_CASES = [
    case(fft_complex, arr(8, seed=80), arr(8, seed=81), arr(8, seed=82), wrt=(0, 1)),
    case(ifft2_complex, arr(4, 6, seed=83), arr(4, 6, seed=84), arr(3, 7, seed=85),
         wrt=(0, 1)),
    case(rfft_complex_weights, arr(8, seed=86), arr(5, seed=87)),
    # even n: the imaginary parts of the zero and Nyquist bins have no effect (gradient 0)
    case(irfft_complex, arr(5, seed=88), arr(5, seed=89), arr(8, seed=90), wrt=(0, 1)),
    case(irfft_complex, arr(5, seed=91), arr(5, seed=92), arr(9, seed=93), n=9, wrt=(0, 1)),
    case(irfft_complex, arr(5, seed=94), arr(5, seed=95), arr(6, seed=96), n=6, wrt=(0, 1)),
    case(irfftn_complex, arr(2, 3, 4, seed=97), arr(2, 3, 4, seed=98), arr(2, 3, 6, seed=99),
         wrt=(0, 1)),
    case(hfft_complex, arr(5, seed=100), arr(5, seed=101), arr(7, seed=102), wrt=(0, 1)),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", COMPLEX_CASES)
def test_fft_of_complex_inputs_built_from_real_parts(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


def test_irfft_ignores_the_imaginary_zero_and_nyquist_bins():
    du, dv = sourcegrad.grad(irfft_complex, wrt=(0, 1))(
        arr(5, seed=103), arr(5, seed=104), arr(8, seed=105))
    np.testing.assert_allclose([dv[0], dv[-1]], 0.0, atol=1e-12)
    assert np.all(np.abs(dv[1:-1]) > 1e-3)


# -- where the gradient is undefined, the derivative says so --------------------------------------


def test_repeated_axes_refuse():
    def repeated(x):
        return np.sum(np.abs(np.fft.fftn(x, axes=(0, 0))) ** 2)

    with pytest.raises(sourcegrad.NoRuleError, match="repeated axes"):
        sourcegrad.grad(repeated)(arr(4, 3, seed=106))


# -- every numpy.fft function of the coverage list has a rule with a row above --------------------

COVERAGE = Path("/work/shared/numpy-coverage.md")

# numpy.fft functions of the coverage list, as of this module.
FFT_TARGETS = {
    "fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2",
    "rfftn", "irfftn", "fftshift", "ifftshift",
}


def _fft_names_in(text: str) -> set[str]:
    return set(re.findall(r"`numpy\.fft\.(\w+)`", text))


def test_coverage_list_matches_the_targets_here():
    if not COVERAGE.exists():
        pytest.skip(f"{COVERAGE} is not available here")
    assert _fft_names_in(COVERAGE.read_text()) == FFT_TARGETS


def test_every_fft_function_of_the_coverage_list_has_a_rule():
    names = _fft_names_in(COVERAGE.read_text()) if COVERAGE.exists() else FFT_TARGETS
    assert {name for name in names if getattr(np.fft, name) not in ADJOINTS} == set()


def test_every_fft_rule_has_a_row():
    ruled = {name for name in dir(np.fft) if not name.startswith("_")
             and getattr(np.fft, name) in ADJOINTS
             and "rules/fft.py" in ADJOINTS[getattr(np.fft, name)].defined_at}
    exercised = set()
    for param in CASES + COMPLEX_CASES:
        exercised |= set(re.findall(r"np\.fft\.(\w+)", inspect.getsource(param.values[0])))
    assert ruled - exercised == set()
