"""Adjoints of the `math` module's functions on Python floats."""

import math

from .templates import adjoint, d, nondifferentiable


# -- exponents and logarithms --------------------------------------------------------------
@adjoint(math.exp)
def exp(y, x):
    d[x] += d[y] * y


@adjoint(math.log)
def log(y, x, base=math.e):
    d[x] += d[y] / (x * math.log(base))


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


@adjoint(math.atan)
def atan(y, x):
    d[x] += d[y] / (1.0 + x * x)


@adjoint(math.atan2)
def atan2(z, y, x):
    d[y] += d[z] * x / (x * x + y * y)
    d[x] += -d[z] * y / (x * x + y * y)


@adjoint(math.sinh)
def sinh(y, x):
    d[x] += d[y] * math.cosh(x)


@adjoint(math.cosh)
def cosh(y, x):
    d[x] += d[y] * math.sinh(x)


@adjoint(math.tanh)
def tanh(y, x):
    d[x] += d[y] * (1.0 - y * y)


# -- special functions ----------------------------------------------------------------------
@adjoint(math.erf)
def erf(y, x):
    d[x] += d[y] * 2.0 / math.sqrt(math.pi) * math.exp(-x * x)


@adjoint(math.fabs)
def fabs(y, x):
    d[x] += d[y] * math.copysign(1.0, x)


nondifferentiable(math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite,
                  math.isclose)
