"""Reverse mode through NumPy's mathematical functions, one row per rule and option, against
finite differences: elementwise functions, complex numbers, reductions, cumulative sums,
differences and integrals (products, einsum, interpolation: test_numpy_products.py).

Every function reads its result out with fixed uneven weights (`np.sum(op(x) * w)`, see
numpy_cases.py). Inputs stay away from kinks (mod's jumps, ties of max and sort).
"""

import math

import numpy as np
import pytest
from numpy_cases import row

from oracle import arr, assert_grad, signed

SHAPES = [(), (3,), (2, 3)]
X23 = arr(2, 3, seed=1)
X34 = arr(3, 4, seed=2)

# -- elementwise ----------------------------------------------------------------------------------


def np_degrees(x, w):
    return np.sum(np.degrees(x) * w)


def np_rad2deg(x, w):
    return np.sum(np.rad2deg(x) * w)


def np_radians(x, w):
    return np.sum(np.radians(x) * w)


def np_deg2rad(x, w):
    return np.sum(np.deg2rad(x) ** 2 * w)


def np_sinc(x, w):
    return np.sum(np.sinc(x) * w)


def np_fabs(x, w):
    return np.sum(np.fabs(x) * x * w)


def np_nan_to_num(x, w):
    return np.sum(np.nan_to_num(x) * x * w)


def np_real_if_close(x, w):
    return np.sum(np.real_if_close(x) ** 2 * w)


def np_logaddexp2(x, y, w):
    return np.sum(np.logaddexp2(x, y) * w)


def np_copysign(x, y, w):
    return np.sum(np.copysign(x, y) * x * w)


def np_heaviside(x, y, w):
    return np.sum(np.heaviside(x, y) * (x + y) * w)


def np_mod(x, y, w):
    return np.sum(np.mod(x, y) * w)


def np_remainder(x, y, w):
    return np.sum(np.remainder(x, y) * x * w)


def np_fmod(x, y, w):
    return np.sum(np.fmod(x, y) * w)


def np_asin(x, w):
    return np.sum(np.asin(x) * w) + np.sum(np.arcsin(x) ** 2)


def np_acos(x, w):
    return np.sum(np.acos(x) * w) + np.sum(np.arccos(x) ** 2)


def np_atanh(x, w):
    return np.sum(np.atanh(x) * w) + np.sum(np.arctanh(x) ** 2)


def np_asinh(x, w):
    return np.sum(np.asinh(x) * w) + np.sum(np.arcsinh(x) ** 2)


def np_acosh(x, w):
    return np.sum(np.acosh(x) * w) + np.sum(np.arccosh(x) ** 2)


def np_exp2(x, w):
    return np.sum(np.exp2(x) * w)


def np_log2(x, w):
    return np.sum(np.log2(x) * w)


def np_log10(x, w):
    return np.sum(np.log10(x) * w)


def np_reciprocal(x, w):
    return np.sum(np.reciprocal(x) * w)


def np_cbrt(x, w):
    return np.sum(np.cbrt(x) * w)


def np_hypot(x, y, w):
    return np.sum(np.hypot(x, y) * w)


def np_logaddexp(x, y, w):
    return np.sum(np.logaddexp(x, y) * w)


def np_atan2_pow(x, y, w):
    return np.sum(np.atan2(x, y) * np.pow(y, 2) * w)


# d/dp of 0 ** p is 0 for p > 0: zeros of the base must not make the exponent's gradient NaN
def power_of_zero(x, p, w):
    return np.sum(x**p * w) + np.sum(np.power(x, 2.0 * p)) + math.pow(0.0, p) * 1.5


# numerators and divisors of mod/fmod chosen away from the jumps (x / y off the integers)
MOD_X = np.array([[2.3, -1.7, 0.4], [-3.1, 5.3, -0.6]])
MOD_Y = np.array([0.9, -1.3, 0.7])

ELEMENTWISE = [
    *[row(f, arr(*s, seed=i)) for i, f in enumerate(
        (np_degrees, np_rad2deg, np_radians, np_deg2rad, np_sinc, np_real_if_close))
      for s in SHAPES],
    row(np_sinc, np.array([-1.3, 0.0, 0.4, 2.2])),
    *[row(f, signed(*s, seed=7)) for f in (np_fabs, np_nan_to_num) for s in SHAPES],
    row(np_logaddexp2, arr(2, 3, seed=8), arr(3, seed=9), wrt=(0, 1)),
    row(np_logaddexp2, 0.4, -1.2, wrt=(0, 1)),
    row(np_copysign, signed(2, 3, seed=10), signed(3, seed=11)),
    row(np_copysign, -0.8, 1.5),
    row(np_heaviside, np.array([-1.0, 0.0, 2.0, 0.0]), arr(4, seed=12), wrt=1),
    row(np_heaviside, np.array([-1.0, 0.5, 2.0]), 0.3, wrt=(0, 1)),
    *[row(f, MOD_X, MOD_Y, wrt=(0, 1)) for f in (np_mod, np_remainder, np_fmod)],
    row(np_mod, 2.3, 0.7, wrt=(0, 1)),
    # rules without a row elsewhere, and NumPy 2's aliases
    *[row(f, arr(*s, lo=lo, hi=hi, seed=30 + i)) for i, (f, lo, hi) in enumerate(
        [(np_asin, -0.9, 0.9), (np_acos, -0.9, 0.9), (np_atanh, -0.9, 0.9), (np_asinh, -2, 2),
         (np_acosh, 1.2, 3.0), (np_exp2, -2, 2), (np_log2, 0.3, 3.0), (np_log10, 0.3, 3.0),
         (np_reciprocal, 0.5, 2.0), (np_cbrt, 0.3, 3.0)]) for s in SHAPES],
    row(np_cbrt, signed(3, seed=40)),
    *[row(f, X23, arr(3, seed=41), wrt=(0, 1)) for f in (np_hypot, np_logaddexp)],
    row(np_atan2_pow, X23, arr(2, 3, lo=0.3, hi=2.0, seed=42), wrt=(0, 1)),
    row(power_of_zero, np.array([[0.0, 1.3, 0.6], [2.0, 0.0, 0.0]]), 1.7, wrt=1),
]

# -- complex numbers (the gradient of a real input is the real part of its complex adjoint) ------

C = np.array([1.0 + 2.0j, -0.5 + 0.3j, 0.7 - 1.1j])


def np_angle(x, w):
    return np.sum(np.angle(x * C + 0.5j) * w)


def np_angle_deg(x, w):
    return np.sum(np.angle(x * C - 0.2, deg=True) * w)


def np_angle_of_real(x, w):
    return np.sum(np.angle(x) * w + x * w)


def np_real_imag(x, w):
    z = x * C + 1j * x**2
    return np.sum(np.real(z) * w + np.imag(z) ** 2)


def np_imag_of_real(x, w):
    return np.sum(np.imag(x) * w + x * w)


def np_conj(x, w):
    z = np.exp(x * C)
    return np.sum(np.real(np.conj(z) * z * C) * w)


def np_conjugate_abs(x, w):
    return np.sum(np.abs(np.conjugate(x * C + 0.3)) * w)


def np_abs_complex(x, w):
    return np.sum(np.abs(x * C - 1j) * w)


def complex_methods(x, w):
    z = x * C + 2.0j
    return np.sum((z.real * z.imag + z.conj().imag + z.conjugate().real) * w)


COMPLEX = [
    *[row(f, arr(3, seed=20 + i)) for i, f in enumerate(
        (np_angle, np_angle_deg, np_real_imag, np_conj, np_conjugate_abs, np_abs_complex,
         complex_methods))],
    row(np_angle_of_real, signed(3, seed=27)),
    row(np_imag_of_real, arr(2, 3, seed=28)),
]

# -- reductions -----------------------------------------------------------------------------------

NAN_AT = np.array([[True, False, False], [False, False, True]])


def np_nansum(x, w, axis, keepdims):
    return np.sum(np.nansum(np.where(NAN_AT, np.nan, x), axis=axis, keepdims=keepdims) * w)


def np_nanmean(x, w, axis, keepdims):
    return np.sum(np.nanmean(np.where(NAN_AT, np.nan, x), axis=axis, keepdims=keepdims) * w)


def np_nanmax(x, w, axis, keepdims):
    return np.sum(np.nanmax(np.where(NAN_AT, np.nan, x), axis=axis, keepdims=keepdims) * w)


def np_nanmin(x, w, axis, keepdims):
    return np.sum(np.nanmin(np.where(NAN_AT, np.nan, x), axis=axis, keepdims=keepdims) * w)


def np_ptp(x, w, axis, keepdims):
    return np.sum(np.ptp(x, axis=axis, keepdims=keepdims) * w)


def np_average(x, w, axis, keepdims):
    return np.sum(np.average(x, axis=axis, keepdims=keepdims) * w)


def np_average_weights(x, v, w):
    return np.sum(np.average(x, axis=1, weights=v) * w)


def np_average_weights_full(x, v, w):
    return np.sum(np.average(x, weights=v) * w)


def np_average_weights_axis0(x, v, w):
    return np.sum(np.average(x, 0, v, keepdims=True) * w)


# np.prod where the input has zeros: the gradient is the product of the other factors (dividing
# the product by the input gives NaN there)
ZEROS = np.array([[0.5, 0.0, -1.2], [0.0, 1.3, 0.0]])
ZEROS_3D = np.where(arr(2, 3, 4, seed=9) > 1.0, 0.0, arr(2, 3, 4, seed=9))


def np_prod(x, w, axis, keepdims):
    return np.sum(np.prod(x, axis=axis, keepdims=keepdims) * w)


def method_prod(x, w, axis, keepdims):
    return np.sum(x.prod(axis=axis, keepdims=keepdims) * w)


def np_prod_default(x, w):
    return np.prod(x) * w


# np.std and np.var over one sample: identically 0, so a zero gradient (not NaN); std of equal
# samples is 0, its smallest value: 0 is its subgradient, which central differences give too


def np_std(x, w, axis, keepdims, ddof):
    return np.sum(np.std(x, axis=axis, ddof=ddof, keepdims=keepdims) * w)


def np_var(x, w, axis, keepdims, ddof):
    return np.sum(np.var(x, axis=axis, ddof=ddof, keepdims=keepdims) * w)


def std_methods(x, w):
    return np.sum((x.std(axis=0) + x.var(axis=0) + x.std(0, keepdims=True)) * w)


def std_of_number(x, w):
    return np.std(x) * w + np.std(x * x, ddof=0) * w


REDUCTIONS = [
    *[row(f, X23, axis=axis, keepdims=keepdims, seed=i)
      for i, f in enumerate((np_nansum, np_nanmean, np_nanmax, np_nanmin, np_ptp, np_average))
      for axis in (None, 0, 1, -1) for keepdims in (False, True)],
    row(np_ptp, arr(4, seed=3), axis=None, keepdims=False),
    row(np_average, arr(4, seed=3), axis=0, keepdims=False),
    row(np_average_weights, X23, arr(3, lo=0.5, hi=2.0, seed=4), wrt=(0, 1)),
    row(np_average_weights_full, X23, arr(2, 3, lo=0.5, hi=2.0, seed=5), wrt=(0, 1)),
    row(np_average_weights_axis0, X23, arr(2, lo=0.5, hi=2.0, seed=6), wrt=(0, 1)),
    *[row(f, x, axis=axis, keepdims=keepdims, seed=i) for i, f in enumerate((np_prod, method_prod))
      for x, axis in [(ZEROS, None), (ZEROS, 0), (ZEROS, 1), (ZEROS, -1), (ZEROS, (0, 1)),
                      (ZEROS_3D, None), (ZEROS_3D, 1), (ZEROS_3D, (0, 2)), (X23, 1),
                      (np.array([0.0, 0.0, 2.0]), None), (np.array([0.0]), 0)]
      for keepdims in (False, True)],
    row(np_prod_default, np.array([1.5, 0.0, -0.7, 2.0])),
    row(np_prod_default, 0.0),
    *[row(f, x, axis=axis, keepdims=keepdims, ddof=ddof, seed=i)
      for i, f in enumerate((np_std, np_var))
      for x, axis in [(arr(1), None), (arr(1), 0), (arr(1, 3), 0), (arr(3, 1), 1),
                      (arr(2, 1, 3), 1), (np.full(3, 0.7), None), (np.full((2, 3), -0.4), 1),
                      (X23, 1)]
      for keepdims in (False, True) for ddof in (0, 1)
      if np.shape(x)[axis or 0] > ddof],
    row(std_methods, arr(1, 3)),
    row(std_methods, np.full((2, 3), 1.1)),
    row(std_of_number, 0.7),
]

# -- cumulative sums and products, differences, integrals -----------------------------------------


def np_cumsum(x, w, axis):
    return np.sum(np.cumsum(x, axis=axis) * w)


def np_cumprod(x, w, axis):
    return np.sum(np.cumprod(x, axis=axis) * w)


def cumsum_method(x, w):
    return np.sum(x.cumsum(axis=1) * x.cumprod(0) * w)


def np_diff(x, w, n, axis):
    return np.sum(np.diff(x, n=n, axis=axis) * w)


def np_diff_prepend(x, p, w):
    return np.sum(np.diff(x, prepend=p, append=1.5) * w)


def np_diff_append_rows(x, p, w):
    return np.sum(np.diff(x, axis=0, append=p) * w)


def np_gradient(x, w):
    return np.sum(np.gradient(x) * w)


def np_gradient_spacing(x, w):
    return np.sum(np.gradient(x, 0.5, edge_order=2) * w)


def np_gradient_coordinates(x, w):
    return np.sum(np.gradient(x, np.array([0.0, 0.3, 1.1, 1.5, 2.6]), edge_order=2) * w)


def np_gradient_2d(x, w):
    gx, gy = np.gradient(x, 2.0, 0.5)
    return np.sum(gx * w) + np.sum(gy * gy)


def np_gradient_axis(x, w):
    return np.sum(np.gradient(x, axis=1) * w)


def np_trapezoid(y, w):
    return np.sum(np.trapezoid(y) * w)


def np_trapezoid_x(y, x, w):
    return np.sum(np.trapezoid(y, x) * w)


def np_trapezoid_x_axis0(y, x, w):
    return np.sum(np.trapezoid(y, x, axis=0) * w)


def np_trapezoid_dx(y, dx, w):
    return np.sum(np.trapezoid(y, dx=dx, axis=0) * w)


TWO_D_VECTORS = pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors")


def np_cross(a, b, w):
    return np.sum(np.cross(a, b) * w)


def np_cross_axis(a, b, w):
    return np.sum(np.cross(a, b, axis=0) * w)


def np_cross_axes(a, b, w):
    return np.sum(np.cross(a, b, axisa=0, axisb=1, axisc=0) * w)


CUMULATIVE = [
    *[row(f, x, axis=axis, seed=i) for i, f in enumerate((np_cumsum, np_cumprod))
      for x, axis in [(0.7, None), (arr(4, seed=7), None), (arr(4, seed=7), 0), (X23, None),
                      (X23, 0), (X23, 1), (X23, -1)]],
    row(np_cumprod, np.array([[0.5, 0.0, -1.2], [0.0, 1.3, 0.0]]), axis=1),
    row(np_cumprod, np.array([1.1, 0.0, 0.8, 0.0, 1.4]), axis=None),
    row(cumsum_method, X23),
    *[row(np_diff, x, n=n, axis=axis) for x, n, axis in
      [(arr(5, seed=8), 1, -1), (arr(5, seed=8), 2, -1), (X34, 1, 0), (X34, 2, 1), (X34, 0, 1)]],
    row(np_diff_prepend, arr(4, seed=9), 0.3, wrt=(0, 1)),
    row(np_diff_append_rows, X23, arr(1, 3, seed=10), wrt=(0, 1)),
    *[row(f, arr(5, seed=11)) for f in (np_gradient, np_gradient_spacing,
                                       np_gradient_coordinates)],
    row(np_gradient, arr(2, seed=11)),
    row(np_gradient, X34),
    row(np_gradient_2d, X34),
    row(np_gradient_axis, X34),
    row(np_trapezoid, arr(5, seed=12)),
    row(np_trapezoid, X23),
    row(np_trapezoid_x, arr(4, seed=13), np.array([0.0, 0.4, 1.5, 1.9]), wrt=(0, 1)),
    row(np_trapezoid_x, X34, np.array([0.0, 0.4, 1.5, 1.9]), wrt=(0, 1)),
    row(np_trapezoid_x, X34, arr(3, 4, lo=0.0, hi=1.0, seed=14), wrt=(0, 1)),
    row(np_trapezoid_x_axis0, X34, np.array([0.0, 0.4, 1.5]), wrt=(0, 1)),
    row(np_trapezoid_dx, X34, 0.7, wrt=(0, 1)),
    row(np_cross, arr(3, seed=15), arr(3, seed=16), wrt=(0, 1)),
    row(np_cross, arr(4, 3, seed=15), arr(3, seed=16), wrt=(0, 1)),
    *[row(np_cross, a, b, wrt=(0, 1), marks=TWO_D_VECTORS) for a, b in [
        (arr(2, seed=15), arr(2, seed=16)), (arr(3, 2, seed=15), arr(3, seed=16))]],
    row(np_cross_axis, arr(3, 4, seed=15), arr(3, 4, seed=16), wrt=(0, 1)),
    row(np_cross_axes, arr(3, 4, seed=15), arr(4, 3, seed=16), wrt=(0, 1)),
]

CASES = ELEMENTWISE + REDUCTIONS + CUMULATIVE


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES)
def test_numpy_function(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")
@pytest.mark.parametrize("f, args, kwargs, wrt", COMPLEX)
def test_complex(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)
