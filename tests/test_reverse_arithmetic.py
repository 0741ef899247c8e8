"""Reverse mode through arithmetic: + - * / ** @ and unary minus, constants, augmented assignment,
one name reassigned many times, int/bool arguments as constants, and NumPy broadcasting."""

import numpy as np
import pytest

from oracle import arr, assert_grad, case

# -- scalar operators -----------------------------------------------------------------------------


def add(x, y):
    return x + y


def sub(x, y):
    return x - y


def mul(x, y):
    return x * y


def div(x, y):
    return x / y


def power_int(x):
    return x**3


def power_negative(x):
    return x**-2


def power_float(x):
    return x**2.5


def power_both(x, y):
    return x**y


def power_constant_base(x):
    return 2.0**x


def negate(x, y):
    return -x * y


def double_negate(x):
    y = -x
    return -y * x


def constants(x):
    return 3.0 * x + 2 - x / 4 + 1.5


def polynomial(x):
    return 3 * x**4 - 2 * x**3 + x - 7


def rational(x):
    return (x * x + 1.0) / (x - 3.0)


def quotient_chain(x, y):
    return x / y / (x + y)


def reciprocal(x):
    return 1.0 / x


def square_by_self(x):
    return x * x * x * x


def constant_output(x):
    return 3.0


def independent_of_x(x, y):
    return y * 2.0


# -- assignment -----------------------------------------------------------------------------------


def augmented(x, y):
    z = x
    z += y
    z -= 0.5 * x
    z *= y
    z /= 1.0 + x * x
    z **= 2
    return z


def reassigned(x):
    y = x
    y = y * x
    y = y + x
    y = y * y
    y = y - 3.0 * x
    y = y / (1.0 + x**2)
    return y


def reassign_arguments(x, y):
    x = x * y
    x = x * x + y
    y = x - y
    return x * y


def reuse_old_values(x):
    a = x
    b = a * a
    a = b + a
    b = a * b
    a = a - b
    return a * b


def dead_temporary(x):
    t = x * 5.0
    t = x
    return x * x + t


def chained_temporaries(x, y):
    a = x * y
    b = a + x
    c = b * a
    d = c / (1.0 + b * b)
    return d - a


# -- int and bool arguments are constants ---------------------------------------------------------


def int_constant(x, n):
    return x * n + n**2 + x**n


def bool_constant(x, flag):
    return x * flag + x * x


def int_between(x, n, y):
    return (x + n) * (y - n) / (n + 1)


# -- arrays and broadcasting ----------------------------------------------------------------------


def scale_array(a, x):
    return np.sum(a * x + a / x)


def scalar_minus_array(a, x):
    return np.sum(x - a) * x


def vector_matrix_broadcast(u, m):
    return np.sum((u - m) ** 2 * u)


def row_matrix_broadcast(r, m):
    return np.sum(r * m / (1.0 + r * r))


def column_row_broadcast(c, r):
    return np.sum(c * r + c / (1.0 + r**2))


def elementwise(a, b):
    return np.sum(a * a / (1.0 + b * b) - a * b)


def array_powers(a):
    return np.sum(a**2 + a**0.5 + 2.0**a)


def array_pow_array(a, b):
    return np.sum(a**b)


def array_negate(a, b):
    return np.sum(-a * b)


def array_augmented(a, b):
    c = a * 1.0
    c += b
    c *= a
    c -= 2.0
    c /= 1.0 + b**2
    c **= 2
    return np.sum(c)


def scalar_accumulate(a, x):
    s = 0.0
    s += np.sum(a) * x
    s *= x
    return s


def comparison_mask(a):
    return np.sum(a * (a > 0.0))


# -- matmul ---------------------------------------------------------------------------------------


def matvec(m, v):
    return np.sum((m @ v) ** 2)


def vecmat(v, m):
    return np.sum(np.sin(v @ m))


def matmat(a, b):
    c = a @ b
    return np.sum(c * c)


def vecvec(u, v):
    return u @ v


def quadratic_form(x, q):
    return x @ q @ x


def matmat_chain(a, b, c):
    return np.sum(np.tanh(a @ b @ c))


CASES = [
    *[case(f, 1.3, -0.7, wrt=w) for f in (add, sub, mul, div) for w in (0, 1, (0, 1))],
    case(quotient_chain, 1.3, 0.6, wrt=(0, 1)),
    case(negate, 1.3, -0.7, wrt=(0, 1)),
    case(power_both, 1.7, 0.6, wrt=(0, 1)),
    case(power_both, 0.4, -1.3, wrt=(1, 0)),
    *[case(f, x) for f in (power_int, power_negative, power_constant_base) for x in (-1.4, 0.8)],
    *[case(f, 1.6) for f in (power_float, reciprocal, double_negate, constants, polynomial)],
    case(polynomial, -0.9),
    case(rational, 0.5),
    case(square_by_self, -1.1),
    case(constant_output, 0.5),
    case(independent_of_x, 0.5, 1.5),
    case(augmented, 0.9, -1.2, wrt=(0, 1)),
    case(reassigned, 0.7),
    case(reassigned, -1.6),
    case(reassign_arguments, 0.8, -0.6, wrt=(0, 1)),
    case(reuse_old_values, 0.6),
    case(dead_temporary, 1.2),
    case(chained_temporaries, 0.7, -1.1, wrt=(0, 1)),
    case(int_constant, 1.2, 3),
    case(int_constant, -0.8, 0),
    case(bool_constant, 1.2, True),
    case(bool_constant, 1.2, False),
    case(int_between, 0.4, 2, -1.5, wrt=(0, 2)),
    case(int_between, 0.4, 2, -1.5, wrt=2),
    case(scale_array, arr(3), 1.4, wrt=(0, 1)),
    case(scale_array, arr(2, 3), -0.8, wrt=(0, 1)),
    case(scalar_minus_array, arr(2, 3), 0.9, wrt=(1, 0)),
    case(vector_matrix_broadcast, arr(3, seed=1), arr(2, 3, seed=2), wrt=(0, 1)),
    case(row_matrix_broadcast, arr(1, 3, seed=3), arr(2, 3, seed=4), wrt=(0, 1)),
    case(column_row_broadcast, arr(2, 1, seed=5), arr(1, 3, seed=6), wrt=(0, 1)),
    case(elementwise, arr(3, seed=7), arr(3, seed=8), wrt=(0, 1)),
    case(elementwise, arr(2, 3, seed=7), arr(2, 3, seed=8), wrt=(0, 1)),
    case(array_powers, arr(2, 3, lo=0.3, hi=2.0)),
    case(array_pow_array, arr(3, lo=0.4, hi=2.0), arr(3, seed=9), wrt=(0, 1)),
    case(array_negate, arr(2, 3), arr(3, seed=2), wrt=(0, 1)),
    case(array_augmented, arr(2, 3, seed=10), arr(2, 3, seed=11), wrt=(0, 1)),
    case(scalar_accumulate, arr(3, seed=12), 0.7, wrt=(0, 1)),
    case(comparison_mask, np.array([-1.2, 0.4, 1.5, -0.3])),
    case(matvec, arr(2, 3, seed=13), arr(3, seed=14), wrt=(0, 1)),
    case(vecmat, arr(2, seed=15), arr(2, 3, seed=16), wrt=(0, 1)),
    case(matmat, arr(2, 3, seed=17), arr(3, 2, seed=18), wrt=(0, 1)),
    case(vecvec, arr(3, seed=19), arr(3, seed=20), wrt=(0, 1)),
    case(quadratic_form, arr(3, seed=21), arr(3, 3, seed=22), wrt=(0, 1)),
    case(matmat_chain, arr(2, 3, seed=23), arr(3, 3, seed=24), arr(3, 2, seed=25), wrt=(0, 1, 2)),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES)
def test_grad(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


def test_closed_form_product_rule():
    dx, dy = assert_grad(mul, 1.5, -2.0, wrt=(0, 1))
    assert (dx, dy) == pytest.approx((-2.0, 1.5), rel=1e-10)
