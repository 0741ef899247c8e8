"""Adjoints of the `math` module's functions on Python floats."""

import math

from ..runtime import norm_parts, spread_sum
from .templates import adjoint, d, nondifferentiable


# -- exponents and logarithms --------------------------------------------------------------
@adjoint(math.exp)
def exp(y, x):
    d[x] += d[y] * y


@adjoint(math.log)
def log(y, x, base=math.e):
    d[x] += d[y] / (x * math.log(base))


@adjoint(math.log10)
def log10(y, x):
    d[x] += d[y] / (x * math.log(10.0))


@adjoint(math.log2)
def log2(y, x):
    d[x] += d[y] / (x * math.log(2.0))


@adjoint(math.log1p)
def log1p(y, x):
    d[x] += d[y] / (1.0 + x)


@adjoint(math.expm1)
def expm1(y, x):
    d[x] += d[y] * (y + 1.0)


@adjoint(math.sqrt)
def sqrt(y, x):
    d[x] += d[y] * 0.5 / y


@adjoint(math.pow)
def pow(z, x, y):
    d[x] += d[z] * y * math.pow(x, y - 1)
    d[y] += d[z] * z * math.log(x if x != 0 else 1.0)  # 0 ** y: flat in y


@adjoint(math.ldexp)
def ldexp(y, x, i):
    d[x] += d[y] * math.ldexp(1.0, i)  # x * 2 ** i; the integer i has no gradient


# -- trigonometric and hyperbolic ------------------------------------------------------------
@adjoint(math.sin)
def sin(y, x):
    d[x] += d[y] * math.cos(x)


@adjoint(math.cos)
def cos(y, x):
    d[x] += -d[y] * math.sin(x)


@adjoint(math.tan)
def tan(y, x):
    d[x] += d[y] * (1.0 + y * y)


@adjoint(math.asin)
def asin(y, x):
    d[x] += d[y] / math.sqrt(1.0 - x * x)


@adjoint(math.acos)
def acos(y, x):
    d[x] += -d[y] / math.sqrt(1.0 - x * x)


@adjoint(math.atan)
def atan(y, x):
    d[x] += d[y] / (1.0 + x * x)


@adjoint(math.atan2)
def atan2(z, y, x):
    d[y] += d[z] * x / (x * x + y * y)
    d[x] += -d[z] * y / (x * x + y * y)


@adjoint(math.hypot)
def hypot(y, *coordinates):
    d[coordinates] += norm_parts(d[y], y, coordinates)  # c / |c| for each coordinate


@adjoint(math.sinh)
def sinh(y, x):
    d[x] += d[y] * math.cosh(x)


@adjoint(math.cosh)
def cosh(y, x):
    d[x] += d[y] * math.sinh(x)


@adjoint(math.tanh)
def tanh(y, x):
    d[x] += d[y] * (1.0 - y * y)


@adjoint(math.asinh)
def asinh(y, x):
    d[x] += d[y] / math.sqrt(x * x + 1.0)


@adjoint(math.acosh)
def acosh(y, x):
    d[x] += d[y] / math.sqrt(x * x - 1.0)


@adjoint(math.atanh)
def atanh(y, x):
    d[x] += d[y] / (1.0 - x * x)


# -- angular conversion ------------------------------------------------------------------------
@adjoint(math.degrees)
def degrees(y, x):
    d[x] += d[y] * (180.0 / math.pi)


@adjoint(math.radians)
def radians(y, x):
    d[x] += d[y] * (math.pi / 180.0)


# -- special functions ----------------------------------------------------------------------
@adjoint(math.erf)
def erf(y, x):
    d[x] += d[y] * 2.0 / math.sqrt(math.pi) * math.exp(-x * x)


# -- signs, remainders and sums ----------------------------------------------------------------
@adjoint(math.fabs)
def fabs(y, x):
    d[x] += d[y] * math.copysign(1.0, x)


@adjoint(math.copysign)
def copysign(z, x, y):
    d[x] += d[z] * math.copysign(1.0, x) * math.copysign(1.0, y)  # flat in y: a sign flip


@adjoint(math.fmod, math.remainder)
def fmod(z, x, y):
    d[x] += d[z]
    d[y] += -d[z] * round((x - z) / y)  # z = x - n * y, n the integer the function chose


@adjoint(math.fsum)
def fsum(y, iterable):
    d[iterable] += spread_sum(d[y], iterable)


nondifferentiable(math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite,
                  math.isclose)
