"""Adjoints of Python's operators: `+ - * / ** @`, unary minus. Binary operands broadcast, so
every operand's contribution goes through `unbroadcast`."""

import operator

import numpy as np

from ..runtime import matmul_left, matmul_right, unbroadcast
from .templates import adjoint, d, nondifferentiable


# -- arithmetic --------------------------------------------------------------------------
@adjoint(operator.add, np.add)
def add(z, x, y):
    d[x] += unbroadcast(d[z], x)
    d[y] += unbroadcast(d[z], y)


@adjoint(operator.sub, np.subtract)
def subtract(z, x, y):
    d[x] += unbroadcast(d[z], x)
    d[y] += unbroadcast(-d[z], y)


@adjoint(operator.mul, np.multiply)
def multiply(z, x, y):
    d[x] += unbroadcast(d[z] * y, x)
    d[y] += unbroadcast(d[z] * x, y)


@adjoint(operator.truediv, np.divide, np.true_divide)
def divide(z, x, y):
    d[x] += unbroadcast(d[z] / y, x)
    d[y] += unbroadcast(-d[z] * z / y, y)


@adjoint(operator.pow, np.power)
def power(z, x, y):
    d[x] += unbroadcast(d[z] * y * x ** (y - 1), x)
    d[y] += unbroadcast(d[z] * z * np.log(np.where(x == 0, 1.0, x)), y)  # 0 ** y: flat in y


@adjoint(operator.neg, np.negative)
def negative(y, x):
    d[x] += -d[y]


@adjoint(operator.pos, np.positive)
def positive(y, x):
    d[x] += d[y]


# -- linear algebra --------------------------------------------------------------------------
@adjoint(operator.matmul, np.matmul)
def matmul(z, x, y):
    d[x] += matmul_left(d[z], x, y)
    d[y] += matmul_right(d[z], x, y)


# -- no gradient: comparisons and integer arithmetic -------------------------------------------
nondifferentiable(operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne,
                  operator.not_, operator.floordiv, operator.invert,
                  operator.and_, operator.or_, operator.xor)
