"""Adjoints of NumPy's elementwise functions (math, trigonometric, exponential, complex,
arithmetic) and of interpolation and convolution, in NumPy's documentation order; array
functions and ndarray methods are in `numpy_arrays.py`.

Parameter names and defaults mirror NumPy's, so calls with keywords bind. Binary functions
broadcast: each operand's contribution goes through `unbroadcast`. Reductions broadcast the
result's gradient back with `expand_reduced`. Functions whose adjoint takes more than a few
lines call a helper of `runtime/numpy*.py` named for what it undoes (`uncumsum`, `untake`).

Complex numbers follow autograd and JAX: the adjoint of a complex value `z = x + iy` holds
`dL/dx - i dL/dy` (so `grad` of |z|^2 is 2 conj(z)), holomorphic functions pass `g * f'(z)`,
`conj` conjugates the adjoint, `real` passes it through, `imag` multiplies it by -i, and an
input that is real keeps only the real part of its adjoint (`match_complex`).
"""

import operator

import numpy as np

from ..runtime import (
    clip_mask,
    convolve_left,
    correlate_left,
    correlate_right,
    interp_fp_adjoint,
    interp_slope,
    interp_xp_adjoint,
    match_complex,
    none_selected,
    select_parts,
    unbroadcast,
)
from .templates import ANY, accepts, adjoint, d


# -- trigonometric ------------------------------------------------------------------------
@adjoint(np.sin)
def sin(y, x):
    d[x] += d[y] * np.cos(x)


@adjoint(np.cos)
def cos(y, x):
    d[x] += -d[y] * np.sin(x)


@adjoint(np.tan)
def tan(y, x):
    d[x] += d[y] * (1.0 + y * y)


@adjoint(np.arcsin)
def arcsin(y, x):
    d[x] += d[y] / np.sqrt(1.0 - x * x)


@adjoint(np.arccos)
def arccos(y, x):
    d[x] += -d[y] / np.sqrt(1.0 - x * x)


@adjoint(np.arctan)
def arctan(y, x):
    d[x] += d[y] / (1.0 + x * x)


@adjoint(np.arctan2)
def arctan2(z, x1, x2):
    d[x1] += unbroadcast(d[z] * x2 / (x1 * x1 + x2 * x2), x1)
    d[x2] += unbroadcast(-d[z] * x1 / (x1 * x1 + x2 * x2), x2)


@adjoint(np.hypot)
def hypot(z, x1, x2):
    d[x1] += unbroadcast(d[z] * x1 / z, x1)
    d[x2] += unbroadcast(d[z] * x2 / z, x2)


@adjoint(np.degrees, np.rad2deg)
def degrees(y, x):
    d[x] += d[y] * (180.0 / np.pi)


@adjoint(np.radians, np.deg2rad)
def radians(y, x):
    d[x] += d[y] * (np.pi / 180.0)


# -- hyperbolic ------------------------------------------------------------------------------
@adjoint(np.sinh)
def sinh(y, x):
    d[x] += d[y] * np.cosh(x)


@adjoint(np.cosh)
def cosh(y, x):
    d[x] += d[y] * np.sinh(x)


@adjoint(np.tanh)
def tanh(y, x):
    d[x] += d[y] * (1.0 - y * y)


@adjoint(np.arcsinh)
def arcsinh(y, x):
    d[x] += d[y] / np.sqrt(x * x + 1.0)


@adjoint(np.arccosh)
def arccosh(y, x):
    d[x] += d[y] / np.sqrt(x * x - 1.0)


@adjoint(np.arctanh)
def arctanh(y, x):
    d[x] += d[y] / (1.0 - x * x)


# -- exponents and logarithms ------------------------------------------------------------------
@adjoint(np.exp)
def exp(y, x):
    d[x] += d[y] * y


@adjoint(np.exp2)
def exp2(y, x):
    d[x] += d[y] * y * np.log(2.0)


@adjoint(np.expm1)
def expm1(y, x):
    d[x] += d[y] * (y + 1.0)


@adjoint(np.log)
def log(y, x):
    d[x] += d[y] / x


@adjoint(np.log2)
def log2(y, x):
    d[x] += d[y] / (x * np.log(2.0))


@adjoint(np.log10)
def log10(y, x):
    d[x] += d[y] / (x * np.log(10.0))


@adjoint(np.log1p)
def log1p(y, x):
    d[x] += d[y] / (1.0 + x)


@adjoint(np.logaddexp)
def logaddexp(z, x1, x2):
    d[x1] += unbroadcast(d[z] * np.exp(x1 - z), x1)
    d[x2] += unbroadcast(d[z] * np.exp(x2 - z), x2)


@adjoint(np.logaddexp2)
def logaddexp2(z, x1, x2):
    d[x1] += unbroadcast(d[z] * np.exp2(x1 - z), x1)
    d[x2] += unbroadcast(d[z] * np.exp2(x2 - z), x2)


# -- special functions and floating point ------------------------------------------------------
@adjoint(np.sinc)
def sinc(y, x):
    d[x] += d[y] * (np.cos(np.pi * x) - y) / np.where(x == 0, 1.0, x)


@adjoint(np.copysign)
@accepts(x2=ANY)  # only its sign is read: piecewise constant
def copysign(z, x1, x2):
    d[x1] += unbroadcast(d[z] * np.sign(x1) * np.sign(z), x1)


# -- handling complex numbers ------------------------------------------------------------------
@adjoint(np.angle)
def angle(y, z, deg=False):
    scale = 180.0 / np.pi if deg else 1.0
    d[z] += match_complex(d[y] * scale * np.conj(1j * z) / (np.abs(z) * np.abs(z)), z)


@adjoint(np.real)
def real(y, val):
    d[val] += np.real(d[y])  # the adjoint of a real value is real


@adjoint(np.imag)
def imag(y, val):
    d[val] += match_complex(-1j * d[y], val)


@adjoint(np.conjugate, np.conj)
def conjugate(y, x):
    d[x] += np.conj(d[y])


# -- arithmetic ------------------------------------------------------------------------------
@adjoint(np.reciprocal)
def reciprocal(y, x):
    d[x] += -d[y] * y * y


@adjoint(np.fmod)
def fmod(z, x1, x2):
    d[x1] += unbroadcast(d[z], x1)
    d[x2] += unbroadcast(-d[z] * np.trunc(x1 / x2), x2)


@adjoint(np.mod, np.remainder, operator.mod)
def mod(z, x1, x2):
    d[x1] += unbroadcast(d[z], x1)
    d[x2] += unbroadcast(-d[z] * np.floor_divide(x1, x2), x2)


@adjoint(np.sqrt)
def sqrt(y, x):
    d[x] += d[y] * 0.5 / y


@adjoint(np.cbrt)
def cbrt(y, x):
    d[x] += d[y] / (3.0 * y * y)


@adjoint(np.square)
def square(y, x):
    d[x] += d[y] * 2.0 * x


@adjoint(np.abs, np.absolute, np.fabs)
def absolute(y, x):
    d[x] += d[y] * np.conj(np.sign(x))


@adjoint(np.heaviside)
def heaviside(z, x1, x2):
    d[x2] += unbroadcast(d[z] * (x1 == 0), x2)


@adjoint(np.nan_to_num)
def nan_to_num(y, x, copy=True, nan=0.0, posinf=None, neginf=None):
    d[x] += d[y] * np.isfinite(x)
    d[nan] += np.sum(d[y] * np.isnan(x))
    d[posinf] += np.sum(d[y] * np.isposinf(x))
    d[neginf] += np.sum(d[y] * np.isneginf(x))


@adjoint(np.real_if_close)
@accepts(tol=ANY)  # dropping imaginary parts passes the adjoint's real part, as np.real
def real_if_close(y, a, tol=100):
    d[a] += d[y]


@adjoint(np.maximum, np.fmax)
def maximum(z, x1, x2):
    d[x1] += unbroadcast(d[z] * (x1 >= x2), x1)
    d[x2] += unbroadcast(d[z] * (x1 < x2), x2)


@adjoint(np.minimum, np.fmin)
def minimum(z, x1, x2):
    d[x1] += unbroadcast(d[z] * (x1 <= x2), x1)
    d[x2] += unbroadcast(d[z] * (x1 > x2), x2)


@adjoint(np.clip)
def clip(y, a, a_min=None, a_max=None):
    d[a] += d[y] * clip_mask(a, a_min, a_max)
    d[a_min] += unbroadcast(d[y] * (a < a_min), a_min)
    d[a_max] += unbroadcast(d[y] * (a > a_max), a_max)


@adjoint(np.where)
def where(out, condition, x, y):
    d[x] += unbroadcast(np.where(condition, d[out], 0.0), x)
    d[y] += unbroadcast(np.where(condition, 0.0, d[out]), y)


@adjoint(np.select)
def select(y, condlist, choicelist, default=0):
    d[choicelist] += select_parts(d[y], condlist, choicelist)
    d[default] += unbroadcast(d[y] * none_selected(condlist), default)


# -- interpolation and convolution -------------------------------------------------------------
@adjoint(np.interp)
def interp(y, x, xp, fp, left=None, right=None, period=None):
    d[x] += d[y] * interp_slope(x, xp, fp, left=left, right=right, period=period)
    d[fp] += interp_fp_adjoint(d[y], x, xp, fp, left=left, right=right, period=period)
    d[xp] += interp_xp_adjoint(d[y], x, xp, fp, left=left, right=right, period=period)
    d[left] += np.sum(d[y] * (x < xp[0]))
    d[right] += np.sum(d[y] * (x > xp[-1]))


@adjoint(np.convolve)
def convolve(y, a, v, mode="full"):
    d[a] += convolve_left(d[y], a, v, mode=mode)
    d[v] += convolve_left(d[y], v, a, mode=mode)


@adjoint(np.correlate)
def correlate(y, a, v, mode="valid"):
    d[a] += correlate_left(d[y], a, v, mode=mode)
    d[v] += correlate_right(d[y], a, v, mode=mode)
