"""Reverse mode through the math module (exp, logs, trigonometric and hyperbolic functions and
their inverses, hypot, angle conversions, copysign, fmod, pow, erf) and the builtins abs, min,
max, sum, float, len, pow and divmod, and a dict's get, in scalar functions, and the builtin max
and min in loops (a running max, a softmax shifted by it)."""

import math

import numpy as np
import pytest
from provenance import found_in

import sourcegrad
from oracle import arr, assert_grad, assert_value_and_grad, case, line_of, signed

# -- math -----------------------------------------------------------------------------------------


def m_exp(x):
    return math.exp(math.sin(x))


def m_log(x):
    return math.log(x * x + 1.0) * x


def m_log_plain(x):
    return math.log(x)


def m_sin(x):
    return math.sin(x) * x


def m_cos(x):
    return math.cos(2.0 * x) + x * x


def m_sqrt(x):
    return math.sqrt(x * x + 1.0)


def m_tanh(x):
    return math.tanh(2.0 * x) * x


def m_pow(x):
    return math.pow(x, 3)


def m_pow_both(x, y):
    return math.pow(x, y)


def m_pow_constant_base(x):
    return math.pow(2.0, x)


def m_erf(x):
    return math.erf(x) * x


def m_mixed(x, y):
    return math.exp(-x) * math.cos(y) + math.sqrt(math.exp(x)) * math.tanh(y)


def m_on_elements(a):
    return math.exp(a[0]) * a[1] + math.sin(a[2])


def m_log10(x):
    return math.log10(x * x + 0.5) * x


def m_log2(x):
    return math.log2(x) + x


def m_hypot(x, y):
    return math.hypot(x, y) * x


def m_hypot3(x, y, z):
    return math.hypot(x, 2.0 * y, z)


def m_hypot1(x):
    return math.hypot(x) + x * x


def m_angles(x):
    return math.degrees(x) * x + math.radians(x * x)


def m_copysign(x, y):
    return math.copysign(x, y) * y


def m_copysign_of_sum(x, y):
    return math.copysign(x * x - 1.0, y) + x


def m_fmod(x, y):
    return math.fmod(x, y) * x


def m_remainder(x, y):
    return math.remainder(x, y) ** 2


def m_inverse_trig(x):
    return math.asin(x) * math.acos(x) + math.atan2(x, 1.0 - x)


def m_inverse_hyperbolic(x):
    return math.asinh(x) + math.acosh(2.0 + x * x) * math.atanh(0.5 * x)


def m_ldexp(x):
    return math.ldexp(x, 3) * x


def m_fsum(x, y):
    return math.fsum([x, x * y, 0.25]) * y


# -- builtins -------------------------------------------------------------------------------------


def b_abs(x):
    return abs(x) * x + abs(x - 1.0)


def b_min(x, y):
    return min(x, y) ** 2


def b_max(x, y):
    return max(x, y) * y


def b_max3(x, y, z):
    return max(x, y * 2.0, z) * x


def b_min_list(x, y):
    return min([x, y, 0.5]) * (x + y)


def b_sum_list(x, y):
    return sum([x, y * x, y])


def b_sum_array(a):
    return sum(a) ** 2


def b_float(x):
    return float(x) * x


def b_float_int(x, n):
    return x * float(n)


def b_pow(x, y):
    return pow(x, y) + pow(x, 2) * y


def b_pow_array(a, y):
    return np.sum(pow(a, 3) + pow(2.0, a * y))


def b_pow_modular(x):
    return pow(x, 3, 5) * 1.5  # refused


def b_divmod(x, y):
    q, r = divmod(x, y)
    return r * r + q * x


def b_divmod_remainder(x, y):
    return divmod(x, y)[1] * x


def b_divmod_array(a, y):
    q, r = divmod(a, y)
    return np.sum(r * np.arange(4.0)) + np.sum(q)


def b_len_array(a):
    return np.sum(a) / len(a)


def b_len_list(x, y):
    v = [x, y, x * y]
    return sum(v) / len(v)


CASES = [
    *[case(m_exp, x) for x in (-1.2, 0.4, 2.5)],
    case(m_log, -0.8),
    case(m_log, 1.7),
    case(m_log_plain, 0.6),
    *[case(f, x) for f in (m_sin, m_cos, m_sqrt, m_tanh, m_erf) for x in (-1.1, 0.7)],
    case(m_pow, -1.3),
    case(m_pow, 0.9),
    case(m_pow_both, 1.8, 0.7, wrt=(0, 1)),
    case(m_pow_both, 0.5, -1.5, wrt=(0, 1)),
    case(m_pow_constant_base, 1.3),
    case(m_mixed, 0.4, -0.9, wrt=(0, 1)),
    case(m_on_elements, arr(3)),
    *[case(f, x) for f in (m_log10, m_ldexp, m_hypot1, m_angles) for x in (-1.1, 0.7)],
    case(m_log2, 0.3),
    case(m_log2, 2.6),
    case(m_hypot, 0.8, -1.5, wrt=(0, 1)),
    case(m_hypot, -0.3, 0.4, wrt=(0, 1)),
    case(m_hypot3, 0.5, -0.7, 1.1, wrt=(0, 1, 2)),
    *[case(f, x, y, wrt=(0, 1)) for f in (m_copysign, m_copysign_of_sum)
      for x, y in ((0.8, 1.3), (0.8, -1.3), (-0.6, 1.3), (-0.6, -1.3))],
    *[case(f, x, y, wrt=(0, 1)) for f in (m_fmod, m_remainder)
      for x, y in ((2.5, 0.7), (-2.5, 0.7), (2.5, -0.7), (0.3, 1.1))],
    *[case(f, x) for f in (m_inverse_trig, m_inverse_hyperbolic) for x in (-0.6, 0.2, 0.7)],
    case(m_fsum, 0.7, -1.4, wrt=(0, 1)),
    case(b_abs, -1.3),
    case(b_abs, 0.6),
    case(b_abs, 1.8),
    case(b_min, 0.4, -0.9, wrt=(0, 1)),
    case(b_min, -0.4, 0.9, wrt=(0, 1)),
    case(b_max, 0.4, -0.9, wrt=(0, 1)),
    case(b_max, -0.4, 0.9, wrt=(0, 1)),
    *[
        case(b_max3, *xyz, wrt=(0, 1, 2))
        for xyz in ((1.5, 0.2, -1.0), (0.1, 0.6, 0.3), (0.1, -0.6, 0.9))
    ],
    case(b_min_list, 1.2, 0.9, wrt=(0, 1)),
    case(b_min_list, 0.2, 0.9, wrt=(0, 1)),
    case(b_min_list, 1.2, -0.3, wrt=(0, 1)),
    case(b_sum_list, 0.7, -1.4, wrt=(0, 1)),
    case(b_sum_array, arr(3)),
    case(b_float, 1.4),
    case(b_float_int, 1.4, 3),
    case(b_pow, 1.7, 0.6, wrt=(0, 1)),
    case(b_pow, 0.4, -1.3, wrt=(0, 1)),
    case(b_pow_array, signed(4), 0.7, wrt=(0, 1)),
    case(b_divmod, 2.5, 0.7, wrt=(0, 1)),
    case(b_divmod, -2.5, 0.7, wrt=(0, 1)),
    case(b_divmod, 2.5, -0.7, wrt=(0, 1)),
    case(b_divmod_remainder, 3.3, 1.2, wrt=(0, 1)),
    case(b_divmod_array, np.array([2.5, -1.3, 0.4, 3.1]), 0.7, wrt=(0, 1)),
    case(b_len_array, arr(4)),
    case(b_len_list, 0.7, -1.4, wrt=(0, 1)),
]


@pytest.mark.parametrize("x", [-0.8, 0.3, 1.6])
def test_closed_form_erf(x):
    expected = math.erf(x) + x * 2.0 / math.sqrt(math.pi) * math.exp(-x * x)
    assert assert_grad(m_erf, x) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("x, y", [(0.8, 1.3), (0.8, -1.3), (-0.6, 1.3), (-0.6, -1.3)])
def test_closed_form_copysign(x, y):
    """copysign(x, y) is |x| with y's sign: d/dx is +1 where the signs agree, -1 where they
    differ; y only flips the sign, so d/dy of copysign(x, y) * y is copysign(x, y)."""
    dx, dy = sourcegrad.grad(m_copysign, wrt=(0, 1))(x, y)
    assert dx == pytest.approx((1.0 if (x > 0) == (y > 0) else -1.0) * y, rel=1e-12)
    assert dy == pytest.approx(abs(x) * (1.0 if y > 0 else -1.0), rel=1e-12)


def test_closed_form_hypot_of_three():
    """d/dv hypot(v) = v / |v|, for every coordinate (y enters doubled)."""
    x, y, z = 0.5, -0.7, 1.1
    norm = math.sqrt(x * x + 4.0 * y * y + z * z)
    got = sourcegrad.grad(m_hypot3, wrt=(0, 1, 2))(x, y, z)
    assert got == pytest.approx((x / norm, 4.0 * y / norm, z / norm), rel=1e-12)


def test_closed_form_divmod():
    """r = a - q b with q = floor(a / b) = 3 here: dr/da = 1, dr/db = -q."""
    x, y = 2.5, 0.7
    r = x - 3.0 * y
    dx, dy = sourcegrad.grad(b_divmod, wrt=(0, 1))(x, y)
    assert (dx, dy) == pytest.approx((2.0 * r + 3.0, -3.0 * 2.0 * r), rel=1e-12)


def test_closed_form_angles():
    expected = 180.0 / math.pi * 2.0 * 0.7 + math.pi / 180.0 * 2.0 * 0.7
    assert sourcegrad.grad(m_angles)(0.7) == pytest.approx(expected, rel=1e-12)


def test_modular_pow_is_refused_at_the_users_line():
    with pytest.raises(sourcegrad.NoRuleError) as info:
        sourcegrad.grad(b_pow_modular)(3)
    line, source = line_of(b_pow_modular, "# refused")
    text = str(info.value)
    assert "pow with mod=5 has no rule yet" in text and f":{line}" in text and source in text


# -- a dict's get ---------------------------------------------------------------------------------


def get_present_or_absent(p, x):
    return p.get("w", 0.5) * x + p.get("b", x) + p["w"] * p.get("c", 2.0)


def get_without_default(p, x):
    return p.get("w") * x + p["w"] ** 2


def get_array_default(p, x, v):
    w = p.get("w", v)
    return np.sum(w * x) + np.sum(p.get("z", v * v) * x)


def get_in_a_loop(p, xs):
    total = 0.0
    for i in range(len(xs)):
        total = total + p.get("w", 1.0) * xs[i] + p.get("u", xs[i]) ** 2
    return total


def get_each_key(p, x):
    total = 0.0
    for key in ["a", "b", "c"]:
        total = total + p.get(key, x) * x
    return total


def get_list_default(p, x):
    pair = p.get("pair", [x, x * x])
    return pair[0] * pair[1] * x


def get_from_a_dict_built_here(w, x):
    p = {"w": w, "b": x * 2.0}
    return p.get("w", 1.0) * p.get("b") + p.get("c", w * x)


GETS = [
    case(get_present_or_absent, {"w": 2.0, "c": 3.0}, 0.7, wrt=(0, 1), name="get-w-c"),
    case(get_present_or_absent, {"w": 2.0, "b": 1.0}, 0.7, wrt=(0, 1), name="get-w-b"),
    case(get_without_default, {"w": -1.3, "b": 1.0}, 0.7, wrt=(0, 1)),
    case(get_array_default, {"w": arr(3)}, arr(3, seed=1), arr(3, seed=2), wrt=(0, 1, 2),
         name="get-array-present"),
    case(get_array_default, {"q": arr(3)}, arr(3, seed=1), arr(3, seed=2), wrt=(0, 1, 2),
         name="get-array-absent"),
    case(get_in_a_loop, {"w": 0.4}, arr(3), wrt=(0, 1), name="get-loop-u-absent"),
    case(get_in_a_loop, {"w": 0.4, "u": -0.9}, arr(3), wrt=(0, 1), name="get-loop-u-present"),
    case(get_each_key, {"a": 0.3, "c": 2.0}, 0.9, wrt=(0, 1), name="get-each-key"),
    case(get_list_default, {"pair": [0.3, -0.5]}, 0.9, wrt=(0, 1), name="get-list-present"),
    case(get_list_default, {"z": 1.0}, 0.9, wrt=(0, 1), name="get-list-absent"),
    case(get_from_a_dict_built_here, 0.7, -1.2, wrt=(0, 1)),
]


def test_closed_form_get():
    """Into the item when the key is there, into the default when it is not."""
    dp, dx = sourcegrad.grad(get_present_or_absent, wrt=(0, 1))({"w": 2.0, "c": 3.0}, 0.7)
    assert dp == pytest.approx({"w": 0.7 + 3.0, "c": 2.0}) and dx == pytest.approx(3.0)


class _Store:
    def __init__(self, w):
        self.w = w

    def get(self, v):
        return self.w * v * 3.0


def store_get(s, x):
    return s.get(x) * x


def test_a_user_objects_get_is_not_differentiated_as_a_dicts():
    """The method rule `get` is dict.get; an object of the user's with its own `get` is
    differentiated through its source, never given a dict's gradient."""
    got = sourcegrad.grad(store_get, wrt=1)(_Store(2.0), 0.7)
    assert got == pytest.approx(2.0 * 3.0 * 2.0 * 0.7, rel=1e-12)


# -- builtin max and min in loops -----------------------------------------------------------------


def builtin_max_min_loop(a):
    best = -10.0
    worst = 10.0
    for v in a:
        best = max(best, v * v)
        worst = min(worst, v)
    return best * worst


def softmax_builtin_max(z):
    m = z[0]
    for v in z:
        m = max(m, v)
    e = np.exp(z - m)
    p = e / np.sum(e)
    return np.sum(p * np.arange(len(z)))


PROGRAMS = found_in("unseen", [
    case(builtin_max_min_loop, signed(5)),
]) + found_in("programs", [
    case(softmax_builtin_max, signed(5)),
])


def test_softmax_closed_form():
    # d/dz sum(p * c) = p * (c - sum(p * c))
    z = signed(5)
    p = np.exp(z - z.max()) / np.sum(np.exp(z - z.max()))
    c = np.arange(5.0)
    got = sourcegrad.grad(softmax_builtin_max)(z)
    np.testing.assert_allclose(got, p * (c - np.sum(p * c)), rtol=1e-10, atol=1e-14)


# -- the cases above against the oracle -----------------------------------------------------------


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES + GETS + PROGRAMS)
def test_grad(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)
