"""Reverse mode through arithmetic: + - * / ** @ and unary minus, constants, augmented assignment,
one name reassigned many times or bound to another (`y = x`), a number that becomes an array,
int/bool arguments as constants, NumPy broadcasting, 0-d arrays, float32 mixed with float64, long
straight-line code, and arguments the output does not depend on (their gradient is a zero of
their own kind)."""

import numpy as np
import pytest
from provenance import found_in

import sourcegrad
from oracle import arr, assert_grad, assert_value_and_grad, case, signed

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


# negative constants, folded and printed without parentheses (issue 9 "No silent wrong gradient",
# kind 6)


def negative_constant_power(x):
    return x * (-0.77) ** 2


def negative_constants_everywhere(x):
    return np.sum(x ** (-2.0) * (-1.5) ** 3 + (-x) ** 2 - (-0.5) ** 2 * x)


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
] + found_in("issue9", [
    case(negative_constant_power, 0.3, name="kind6-power"),
    case(negative_constants_everywhere, arr(3, lo=0.5, hi=2.0), name="kind6-mixed"),
])


def test_closed_form_product_rule():
    dx, dy = assert_grad(mul, 1.5, -2.0, wrt=(0, 1))
    assert (dx, dy) == pytest.approx((-2.0, 1.5), rel=1e-10)


# -- long straight-line code ----------------------------------------------------------------------


def long_straight_line(x, w):
    t0 = x * w
    t1 = x + 0.5
    t2 = np.tanh(t1 - t0)
    t3 = t2 / (1.0 + t1 * t1)
    t4 = np.exp(-t3 * t3) + t2
    t5 = np.cos(t3) * t4
    t6 = np.sin(t5) * w
    t7 = t6 * t5 + 0.1
    t8 = np.tanh(t7 - t6)
    t9 = t8 / (1.0 + t7 * t7)
    t10 = np.exp(-t9 * t9) + t8
    t11 = np.cos(t9) * t10
    t12 = np.sin(t11) * w
    t13 = t12 * t11 + 0.1
    t14 = np.tanh(t13 - t12)
    t15 = t14 / (1.0 + t13 * t13)
    t16 = np.exp(-t15 * t15) + t14
    t17 = np.cos(t15) * t16
    t18 = np.sin(t17) * w
    t19 = t18 * t17 + 0.1
    t20 = np.tanh(t19 - t18)
    t21 = t20 / (1.0 + t19 * t19)
    t22 = np.exp(-t21 * t21) + t20
    t23 = np.cos(t21) * t22
    t24 = np.sin(t23) * w
    t25 = t24 * t23 + 0.1
    t26 = np.tanh(t25 - t24)
    t27 = t26 / (1.0 + t25 * t25)
    t28 = np.exp(-t27 * t27) + t26
    t29 = np.cos(t27) * t28
    t30 = np.sin(t29) * w
    t31 = t30 * t29 + 0.1
    t32 = np.tanh(t31 - t30)
    t33 = t32 / (1.0 + t31 * t31)
    t34 = np.exp(-t33 * t33) + t32
    t35 = np.cos(t33) * t34
    t36 = np.sin(t35) * w
    t37 = t36 * t35 + 0.1
    t38 = np.tanh(t37 - t36)
    t39 = t38 / (1.0 + t37 * t37)
    t40 = np.exp(-t39 * t39) + t38
    t41 = np.cos(t39) * t40
    t42 = np.sin(t41) * w
    t43 = t42 * t41 + 0.1
    t44 = np.tanh(t43 - t42)
    t45 = t44 / (1.0 + t43 * t43)
    t46 = np.exp(-t45 * t45) + t44
    t47 = np.cos(t45) * t46
    t48 = np.sin(t47) * w
    t49 = t48 * t47 + 0.1
    t50 = np.tanh(t49 - t48)
    t51 = t50 / (1.0 + t49 * t49)
    t52 = np.exp(-t51 * t51) + t50
    t53 = np.cos(t51) * t52
    t54 = np.sin(t53) * w
    t55 = t54 * t53 + 0.1
    t56 = np.tanh(t55 - t54)
    t57 = t56 / (1.0 + t55 * t55)
    t58 = np.exp(-t57 * t57) + t56
    t59 = np.cos(t57) * t58
    t60 = np.sin(t59) * w
    t61 = t60 * t59 + 0.1
    return np.sum(t61 * t60) + np.sum(t33)


STRAIGHT = found_in("round4", [
    case(long_straight_line, arr(3, lo=0.1, hi=0.9), 0.6, wrt=(0, 1)),
])


# -- names rebound, aliased and augmented; a number that becomes an array -------------------------


def scalar_then_array(x):
    s = 0.0
    s = s + x
    s = s * s
    s = np.sum(s)
    return s


def self_assign(x):
    x = x
    y = x
    y = y
    return y * x


def alias_then_rebind(x):
    y = x
    x = x * 2.0
    return np.sum(y * x)


def alias_array_augmented(a):
    b = a
    b = b * 1.0
    b += a
    b *= b
    return np.sum(b)


def augmented_chain(x):
    y = x * 1.0
    y += x
    y *= x
    y -= x * 0.5
    y /= 1.0 + x * x
    y **= 2
    return y


# numbers re-bound after += (issue 9 "No silent wrong gradient", kind 8): a number's alias keeps
# the old value, an array's alias sees the change


def number_alias_then_augmented_in_loop(w):
    y = w * 1.0
    a = y
    t = 0.0
    for i in range(3):
        y += 1.0
        t = t + a * a
    return t + y


def number_alias_becomes_array(x, n):
    g = x * 2.0
    d = g
    d += np.zeros(n) + x
    return np.sum(d) + g


def array_alias_then_augmented(x):
    y = x * 1.0
    a = y
    for i in range(2):
        y += np.sin(a)
    return np.sum(a * y)


ASSIGNMENT = found_in("unseen", [
    case(scalar_then_array, arr(3)),
    case(self_assign, 0.7),
    case(alias_then_rebind, arr(3)),
    case(alias_array_augmented, arr(3)),
    case(augmented_chain, 0.8),
]) + found_in("issue9", [
    case(number_alias_then_augmented_in_loop, 0.4, name="kind8-number-alias-loop"),
    case(number_alias_becomes_array, 0.4, 3, name="kind8-number-becomes-array"),
    case(array_alias_then_augmented, arr(3), name="kind8-array-alias"),
])


# -- broadcasting that grows a value's shape ------------------------------------------------------


def scalar_grows_to_matrix(a, b):
    s = 1.0
    s = s * a
    s = s[:, None] + b
    s = np.tanh(s)
    s = s.sum()
    return s


def broadcast_loop(r, m, c, x):
    # r (1, 3), m (2, 3), c (2, 1), x scalar
    s = m
    for i in range(3):
        s = np.tanh(s * r + c * x) + (i + 1.0) * r
        s = s + c @ r
    return np.sum(s)


BROADCASTING = found_in("unseen", [
    case(scalar_grows_to_matrix, arr(3), arr(2, seed=1), wrt=(0, 1)),
]) + found_in("programs", [
    case(
        broadcast_loop,
        arr(1, 3, lo=-0.8, hi=0.8),
        arr(2, 3, seed=1),
        arr(2, 1, seed=2),
        0.6,
        wrt=(0, 1, 2, 3),
    ),
])


# -- 0-d arrays -----------------------------------------------------------------------------------


def zero_d_input(a):
    return np.sin(a) * a + a * a


def zero_d_in_loop(a, n):
    s = a
    for _ in range(n):
        s = s * a + 1.0
    return s


def zero_d_with_vector(a, v):
    return np.sum(np.exp(a * v))


def zero_d_where_loop(a, v, n):
    for _ in range(n):
        v = np.where(v > 0, v * a, v)
    return np.sum(v)


ZERO_D = found_in("unseen", [
    case(zero_d_input, np.array(0.7)),
    case(zero_d_in_loop, np.array(0.7), 3),
    case(zero_d_with_vector, np.array(0.7), arr(3), wrt=(0, 1)),
    case(zero_d_where_loop, np.array(0.7), signed(3), 2, wrt=(0, 1)),
])


# a 0-d array changed in place while another name holds it: refused (issue 9 "No silent wrong
# gradient", kind 13); a number or a 1-d array in its place is followed


def zero_d_alias(x):
    y = x
    x += 1.0
    return np.sum(y * y)


def test_zero_d_array_shared_and_changed_is_refused():
    with pytest.raises(sourcegrad.UnsupportedSyntaxError, match="0-d array"):
        sourcegrad.grad(zero_d_alias)(np.array(0.5))


def test_zero_d_alias_of_a_number_and_of_an_array():
    assert_grad(zero_d_alias, 0.5)  # a float: y keeps 0.5
    assert_grad(zero_d_alias, np.array([0.5, 1.0]))  # an array: y sees the change


# -- float32 and float64 together -----------------------------------------------------------------


def float32_data_float64_weights(w, x):
    return np.sum(np.tanh(w * x.astype(np.float64)))


def float32_weight_float64_data(w, x):
    h = w * x
    return np.sum(h * h)


def float32_buffer_written(x):
    y = np.zeros(3, dtype=np.float32)
    for i in range(3):
        y[i] = x[i] * 2.0
    return np.sum(y * x)


def float32_loop(a, n):
    s = 0.0
    for _ in range(n):
        s = s + np.sum(np.tanh(a) * a)
        a = a * 0.5
    return s


def float32_scalar_mix(a, x):
    return np.sum(a * x + a**2)


def mlp_float32(w1, w2, x):
    h = np.tanh(x @ w1)
    return np.sum((h @ w2) ** 2)


def euler_float32(k, s, n):
    for _ in range(n):
        s = s + np.float32(0.1) * (-k * s)
    return np.sum(s * s)


def float_weight_float32_data(w, x):
    s = 0.0
    for i in range(2):
        s = s + np.sum(np.tanh(x * w) * (i + 1.0))
    return s


DTYPES = found_in("round4", [
    case(float32_data_float64_weights, 0.7, arr(3).astype(np.float32)),
])


DTYPES_FLOAT32 = found_in("unseen", [
    case(float32_loop, arr(3).astype(np.float32), 3),
    case(float32_scalar_mix, arr(3).astype(np.float32), 0.7),
]) + found_in("programs", [
    case(
        mlp_float32,
        arr(3, 4).astype(np.float32),
        arr(4, 2, seed=1).astype(np.float32),
        arr(5, 3, seed=2).astype(np.float32),
        wrt=(0, 1, 2),
    ),
    case(
        euler_float32,
        arr(3, lo=0.2, hi=1.0).astype(np.float32),
        arr(3, seed=1).astype(np.float32),
        4,
        wrt=(0, 1),
    ),
])


def test_float32_weight_float64_data():
    w, x = np.float32(0.7) * np.ones(3, dtype=np.float32), arr(3)
    assert_grad(float32_weight_float64_data, w, x, wrt=(0, 1), rtol=1e-3, atol=1e-4)


def test_float32_buffer_written():
    # f = sum(float32(2 x) * x): d/dx = 4 x up to the buffer's float32 rounding
    x = arr(3)
    got = sourcegrad.grad(float32_buffer_written)(x)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, 4.0 * x, rtol=1e-6)


def test_float_wrt_with_float32_data_closed_form():
    # finite differences in float32 are too coarse here: d/dw = 3 sum(x (1 - tanh(x w)^2))
    x = arr(3).astype(np.float32)
    got = sourcegrad.grad(float_weight_float32_data)(0.7, x)
    x64 = x.astype(np.float64)
    assert isinstance(got, float)
    np.testing.assert_allclose(got, 3.0 * np.sum(x64 * (1.0 - np.tanh(x64 * 0.7) ** 2)), rtol=1e-5)


# -- arguments the output does not depend on: a zero of the argument's kind -----------------------


def not_depending_on_b(a, b):
    return np.sum(a * a)


def not_depending_scalar(a, b):
    return np.sum(a) * 2.0


def depends_only_through_shape(a, b):
    return np.sum(a) * b.shape[0] + len(b)


def ignores_array_arg(a, b, n):
    s = 0.0
    for _ in range(n):
        s = s + np.sum(a * a)
    if np.sum(b) > 100.0:
        s = s + np.sum(b)
    return s


def shadowed_arg(x, y):
    y = 2.0
    return x * y


def only_shape_of(a, b):
    s = 0.0
    for i in range(b.shape[0]):
        s = s + a[i % a.shape[0]] * b.ndim
    return s


UNUSED = found_in("unseen", [
    case(not_depending_on_b, arr(3), arr(2, 2, seed=1), wrt=(0, 1)),
    case(not_depending_scalar, arr(3), 0.5, wrt="b"),
    case(depends_only_through_shape, arr(3), arr(4, seed=1), wrt=(0, 1)),
]) + found_in("programs", [
    case(ignores_array_arg, arr(3), arr(2, 2, seed=1), 2, wrt=(0, 1)),
    case(shadowed_arg, 0.7, 1.3, wrt=(0, 1)),
    case(only_shape_of, arr(3), arr(5, seed=1), wrt=(0, 1)),
])


def test_unused_wrt_is_zero_of_right_kind():
    a = arr(3)
    b = arr(2, 2, seed=1).astype(np.float32)
    da, db = sourcegrad.grad(ignores_array_arg, wrt=(0, 1))(a, b, 2)
    np.testing.assert_allclose(da, 4.0 * a, rtol=1e-12)
    assert isinstance(db, np.ndarray) and db.shape == (2, 2) and db.dtype == np.float32
    assert not np.any(db)
    dx, dy = sourcegrad.grad(shadowed_arg, wrt=(0, 1))(0.7, 1.3)
    assert dx == 2.0 and isinstance(dy, float) and dy == 0.0


# -- the cases above against the oracle -----------------------------------------------------------


@pytest.mark.parametrize(
    "f, args, kwargs, wrt",
    CASES + STRAIGHT + ASSIGNMENT + BROADCASTING + ZERO_D + DTYPES + UNUSED,
)
def test_grad(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)


@pytest.mark.parametrize("f, args, kwargs, wrt", DTYPES_FLOAT32)
def test_grad_float32(f, args, kwargs, wrt):
    # finite differences through float32 values are coarse
    assert_grad(f, *args, wrt=wrt, rtol=2e-3, atol=1e-4, **kwargs)
