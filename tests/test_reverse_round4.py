"""Combinations of features, edge cases of the newest ones.

Closures inside loops and branches, module functions passed as arguments together with loops,
writes and containers, comprehensions over parameter dicts, reversed/enumerate(zip) loops,
objects calling module functions, several containers in `wrt`, value_and_grad/vjp on such
programs, recursion over containers, one grad object fed different container structures,
module-level array constants, shadowed builtins, long straight-line code, deep nesting, int
arguments in shapes, mixed float32/float64; and the error path of every unsupported construct.
Everything is checked against the finite-difference oracle or a closed form written here.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import sourcegrad
from oracle import arr, assert_grad, assert_vjp, case, line_of, numeric_grad

FILE = Path(__file__).name
WEIGHTS = np.array([0.5, -1.0, 2.0])
OFFSETS = [0.1, 0.2, 0.3]
TABLE = {"a": 1.5, "b": -0.5}


# -- closures in loops and branches ---------------------------------------------------------------


def def_inside_loop_body(w, x):
    total = 0.0
    for i in range(3):
        k = float(i + 1)

        def g(t):
            return np.sin(t * k) * w

        total = total + np.sum(g(x))
    return total


def lambda_in_branch(w, x):
    if w > 0:
        h = lambda t: t * t * w  # noqa: E731
    else:
        h = lambda t: -t * w  # noqa: E731
    return np.sum(h(x))


def closure_called_in_branch_in_loop(w, x):
    def act(t):
        return np.tanh(t * w)

    total = 0.0
    for v in x:
        if v > 0:
            total = total + act(v)
        else:
            total = total - act(v) * v
    return total


def _square_helper(t):
    return t * t


def closure_calls_module_helper(w, x):
    def g(t):
        return _square_helper(t * w) + w

    return np.sum(g(x)) + g(w)


def closure_calls_closure_in_loop(w, x):
    def inner(t):
        return np.exp(-t * w)

    def outer(t):
        return inner(t) + inner(t * 0.5) * w

    acc = x
    for _ in range(3):
        acc = outer(acc)
    return np.sum(acc)


def closure_with_while_early_return(w, x):
    def iterate(t):
        n = 0
        while True:
            t = 0.5 * (t + w / t)
            n = n + 1
            if n >= 4:
                return t

    return iterate(x) * x


def closure_reads_loop_updated_var(w, x):
    scale = 1.0
    h = lambda t: t * scale  # noqa: E731
    total = 0.0
    for _ in range(3):
        scale = scale * w
        total = total + np.sum(h(x))
    return total


def closure_returns_tuple(w, x):
    def both(t):
        return np.sin(t * w), np.cos(t) * w

    a, b = both(x)
    return np.sum(a * b)


def closure_writes_array(w, x):
    def fill(t):
        out = np.zeros(3)
        for i in range(3):
            out[i] = t[i] * w + i
        return out

    return np.sum(fill(x) ** 2)


def _helper_with_closure(x, w):
    def sq(t):
        return t * t * w

    return sq(x) + sq(w)


def helper_defines_closure_in_loop(x, w):
    total = 0.0
    for v in x:
        total = total + _helper_with_closure(v, w)
    return total


def lambda_in_generator(w, xs):
    g = lambda t: np.sin(t) * w  # noqa: E731
    return sum(np.sum(g(x)) for x in xs)


def closure_over_dict_param(p, x):
    def layer(t):
        return np.tanh(p["w"] * t + p["b"])

    return np.sum(layer(layer(x)))


def recursive_nested_def(w, x):
    def power(t, n):
        if n == 0:
            return 1.0
        return t * power(t, n - 1)

    return np.sum(power(x * w, 3))


# -- module functions passed as arguments ---------------------------------------------------------


def integrand_gauss(t, p):
    return np.exp(-p * t * t)


def integrand_poly(t, p):
    return p * t**3 + t


def trapezoid_quad(f, a, b, n, p):
    ts = np.zeros(n + 1)
    ys = np.zeros(n + 1)
    h = (b - a) / n
    for i in range(n + 1):
        ts[i] = a + i * h
        ys[i] = f(ts[i], p)
    return h * (np.sum(ys) - 0.5 * ys[0] - 0.5 * ys[n])


def quad_of_two(p, b):
    gauss = trapezoid_quad(integrand_gauss, 0.0, b, 8, p)
    return gauss + trapezoid_quad(integrand_poly, 0.0, b, 4, p)


def rhs_dict(y, params):
    return params["a"] * y - params["b"] * y * y


def euler_trajectory(rhs, y0, params, n):
    traj = np.zeros((n + 1,) + np.shape(y0))
    traj[0] = y0
    y = y0
    for k in range(n):
        y = y + 0.1 * rhs(y, params)
        traj[k + 1] = y
    return traj


def trajectory_loss(y0, params):
    traj = euler_trajectory(rhs_dict, y0, params, 5)
    return np.sum(traj**2)


def _apply_twice(f, x, p):
    return f(f(x, p), p)


def _pass_along(f, x, p):
    total = 0.0
    for _ in range(2):
        total = total + _apply_twice(f, x, p)
    return total


def passed_through_two_levels(x, p):
    return _pass_along(integrand_poly, x, p) + _pass_along(integrand_gauss, x, p)


def _sum_with_weights(f, xs, ws):
    total = 0.0
    for x, w in zip(xs, ws, strict=True):
        total = total + w * f(x, 2.0)
    return total


def function_arg_over_lists(xs, ws):
    return _sum_with_weights(integrand_gauss, xs, ws)


def _bisect_root(f, lo, hi, p):
    while hi - lo > 1e-10:
        mid = 0.5 * (lo + hi)
        if f(mid, p) > 0:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


def shifted_cube(t, p):
    return t**3 - p


def root_times(p):
    r = _bisect_root(shifted_cube, 0.0, 3.0, p)
    return r * p


def functions_in_tuple_loop(x, p):
    total = 0.0
    for fn in (integrand_gauss, integrand_poly):
        total = total + fn(x, p)
    return total


def function_chosen_by_branch(x, p):
    if x > 0:
        fn = integrand_gauss
    else:
        fn = integrand_poly
    return trapezoid_quad(fn, 0.0, x, 4, p)


# -- comprehensions, reversed, enumerate(zip) ------------------------------------------------------


def dict_comprehension_scale(p, x):
    q = {k: v * 2.0 + 1.0 for k, v in p.items()}
    return np.sum(q["w"] * x) + q["b"] * q["b"]


def dict_comprehension_filtered(p, x):
    q = {k: np.tanh(v) for k, v in p.items() if k != "skip"}
    total = 0.0
    for k in q:
        total = total + np.sum(q[k] * x)
    return total


def list_comprehension_over_dict(p, x):
    terms = [np.sum(p[k] * x) for k in p]
    return sum(terms) * terms[0]


def nested_comprehension(ws, xs):
    return sum(sum(w * x for x in xs) for w in ws)


def reversed_over_layers(ws, x):
    h = x
    for w in reversed(ws):
        h = np.tanh(w @ h)
    return np.sum(h)


def reversed_range_with_writes(x):
    y = np.zeros(4)
    y[3] = x[3]
    for i in reversed(range(3)):
        y[i] = y[i + 1] * x[i] + np.sin(x[i])
    return np.sum(y * y)


def enumerate_zip_branch(ws, bs, x):
    h = x
    for i, (w, b) in enumerate(zip(ws, bs, strict=True)):
        if i % 2 == 0:
            h = np.tanh(w * h + b)
        else:
            h = h * w - b
    return np.sum(h)


def reversed_enumerate_list(xs):
    total = 0.0
    for i, x in reversed(list(enumerate(xs))):
        total = total * 0.5 + (i + 1) * x
    return total


def comprehension_in_closure(p, x):
    def feats(t):
        return [np.sin(t * v) for v in p.values()]

    return sum(np.sum(f) for f in feats(x))


# -- several containers, value_and_grad, vjp ------------------------------------------------------


def three_containers(p, ws, pair, x):
    h = p["w"] * x + p["b"]
    for w in ws:
        h = np.tanh(h * w)
    a, b = pair
    return np.sum(h * a) + b * np.sum(x)


def containers_and_object(p, obj, xs):
    total = np.sum(obj.w * p["v"])
    for x in xs:
        total = total + x * obj.s
    return total


# -- recursion with containers --------------------------------------------------------------------


def _tree_sum(ws, i, x):
    if i == len(ws):
        return x
    return _tree_sum(ws, i + 1, np.tanh(ws[i] * x))


def recursion_over_list(ws, x):
    return np.sum(_tree_sum(ws, 0, x))


def _rec_dict(p, depth, x):
    if depth == 0:
        return x * p["c"]
    y = _rec_dict(p, depth - 1, x)
    return np.sin(y * p["a"]) + p["b"]


def recursion_with_dict(p, x):
    return np.sum(_rec_dict(p, 3, x))


def _rec_collect(x, n, acc):
    if n == 0:
        return acc
    acc.append(x * n)
    return _rec_collect(np.sin(x), n - 1, acc)


def recursion_appends(x):
    parts = _rec_collect(x, 3, [])
    return np.sum(np.stack(parts) ** 2)


# -- helpers with while and early return ----------------------------------------------------------


def _newton_sqrt(a):
    x = a
    k = 0
    while k < 20:
        x_new = 0.5 * (x + a / x)
        if abs(x_new - x) < 1e-12:
            return x_new
        x = x_new
        k = k + 1
    return x


def newton_in_loop_with_containers(ps):
    total = 0.0
    for p in ps:
        total = total + _newton_sqrt(p) * p
    return total


def _first_above(x, limit):
    i = 0
    while i < len(x):
        if x[i] > limit:
            return x[i] * 2.0
        i = i + 1
    return x[0]


def while_early_return_helper(x):
    return _first_above(x, 0.5) + _first_above(x * 0.1, 0.5)


# -- objects --------------------------------------------------------------------------------------


def _act(t):
    return np.tanh(t)


class Block:
    def __init__(self, w, b):
        self.w = w
        self.b = b

    def pre(self, x):
        return self.w @ x + self.b

    def forward(self, x):
        return _act(self.pre(x)) + _square_helper(self.pre(x)) * 0.1

    def loss(self, x):
        total = 0.0
        for k in range(2):
            total = total + np.sum(self.forward(x * (k + 1)))
        return total

    def integrate(self, f, p):
        return trapezoid_quad(f, 0.0, 1.0, 4, p) * np.sum(self.b)


def object_method_calls(block, x):
    return block.loss(x)


def object_method_with_function_arg(block, p):
    return block.integrate(integrand_gauss, p)


@dataclass
class Params:
    w: np.ndarray
    table: dict
    s: float


def dataclass_with_dict(params, x):
    h = params.w * x
    for k in params.table:
        h = h + params.table[k] * params.s
    return np.sum(np.sin(h))


# -- module-level constants, shadowed builtins ---------------------------------------------------


def reads_module_array(x):
    return np.sum(WEIGHTS * np.sin(x)) + sum(o * x[0] for o in OFFSETS) + TABLE["a"] * x[1]


def writes_copy_of_module_array(x):
    y = WEIGHTS.copy()
    y[1] = x[0] * x[1]
    return np.sum(y * x)


def shadow_sum(x):
    sum = 0.0
    for v in x:
        sum = sum + v * v
    return sum


def shadow_max(x):
    max = x[0]
    for v in x:
        if v > max:
            max = v
    return max * np.sum(x)


def shadow_len_list(w):
    list = [w, 2.0 * w, w * w]
    len = 3
    return list[0] * list[2] + len * list[1]


def shadow_range_param(x, range):
    total = 0.0
    for r in range:
        total = total + r * x
    return total


def shadow_sum_param(sum, x):
    return np.sum(sum * x) + np.sum(sum)


def shadow_abs_min(x):
    abs = np.abs(x) + 1.0
    min = np.min(abs)
    return min * np.sum(abs)


# -- long straight-line code and deep nesting ------------------------------------------------------

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


def deep_nesting(x, w):
    total = 0.0
    for i in range(2):
        for j in range(3):
            for k in range(2):
                v = x[j] * w
                if (i + j + k) % 2 == 0:
                    if v > 0:
                        total = total + v * v
                    else:
                        total = total - v
                elif k == 1:
                    total = total + np.sin(v) * (i + 1)
                else:
                    continue
    return total


def deep_nesting_with_break_while(x):
    total = 0.0
    for i in range(3):
        for j in range(3):
            n = 0
            while n < 3:
                if x[i] * x[j] > 1.5:
                    break
                total = total + x[i] * x[j] * (n + 1)
                n = n + 1
    return total


# -- ints in shapes, float32 / float64 -------------------------------------------------------------


def zeros_of_int_arg(x, n):
    y = np.zeros(n)
    for i in range(n):
        y[i] = x * (i + 1)
    return np.sum(np.sin(y))


def ones_matrix_of_ints(x, n, m):
    a = np.ones((n, m)) * x
    b = np.eye(n) * x
    return np.sum(a) + np.sum(b @ a)


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


CASES = [
    case(def_inside_loop_body, 0.7, arr(3), wrt=(0, 1)),
    case(closure_called_in_branch_in_loop, 0.6, arr(4), wrt=(0, 1)),
    case(closure_calls_module_helper, 0.6, arr(3), wrt=(0, 1)),
    case(closure_calls_closure_in_loop, 0.6, arr(3), wrt=(0, 1)),
    case(closure_with_while_early_return, 2.0, 1.3, wrt=(0, 1)),
    case(closure_reads_loop_updated_var, 0.8, arr(3), wrt=(0, 1)),
    case(closure_returns_tuple, 0.8, arr(3), wrt=(0, 1)),
    case(closure_writes_array, 0.8, arr(3), wrt=(0, 1)),
    case(helper_defines_closure_in_loop, arr(3), 0.9, wrt=(0, 1)),
    case(lambda_in_generator, 0.9, [arr(2), arr(2, seed=1)], wrt=(0, 1)),
    case(closure_over_dict_param, {"w": arr(3), "b": 0.3}, arr(3), wrt=(0, 1)),
    case(recursive_nested_def, 0.9, arr(3), wrt=(0, 1)),
    case(quad_of_two, 0.7, 1.3, wrt=(0, 1)),
    case(trajectory_loss, 0.3, {"a": 1.1, "b": 0.4}, wrt=(0, 1)),
    case(trajectory_loss, arr(2, lo=0.1, hi=0.5), {"a": 1.1, "b": 0.4}, wrt=(0, 1),
         name="trajectory_loss-vector"),
    case(passed_through_two_levels, 0.4, 0.8, wrt=(0, 1)),
    case(function_arg_over_lists, [0.3, 0.5], [1.0, -2.0], wrt=(0, 1)),
    case(dict_comprehension_scale, {"w": arr(3), "b": 0.4}, arr(3), wrt=(0, 1)),
    case(dict_comprehension_filtered, {"w": arr(3), "skip": arr(3, seed=2), "b": 0.4}, arr(3),
         wrt=(0, 1), name="dict_comprehension_filtered"),
    case(list_comprehension_over_dict, {"u": arr(3), "v": arr(3, seed=3)}, arr(3), wrt=(0, 1)),
    case(nested_comprehension, [0.5, 1.5], [2.0, -1.0, 0.3], wrt=(0, 1)),
    case(reversed_over_layers, [arr(3, 3) * 0.5, arr(3, 3, seed=1) * 0.5], arr(3), wrt=(0, 1)),
    case(reversed_range_with_writes, arr(4)),
    case(enumerate_zip_branch, [0.5, 1.2, -0.7], (0.1, 0.2, 0.3), arr(3), wrt=(0, 1, 2)),
    case(comprehension_in_closure, {"a": 0.5, "b": 1.5}, arr(3), wrt=(0, 1)),
    case(three_containers, {"w": arr(3), "b": 0.2}, [0.5, 1.5], (arr(3, seed=4), 0.7), arr(3),
         wrt=(0, 1, 2, 3)),
    case(recursion_over_list, [0.5, 1.5, -0.8], arr(3), wrt=(0, 1)),
    case(recursion_with_dict, {"a": 0.7, "b": 0.1, "c": 1.3}, arr(3), wrt=(0, 1)),
    case(recursion_appends, arr(3)),
    case(newton_in_loop_with_containers, [2.0, 3.0, 0.5]),
    case(newton_in_loop_with_containers, (2.0, 3.0), name="newton_in_loop-tuple"),
    case(while_early_return_helper, arr(4)),
    case(object_method_calls, Block(arr(3, 3) * 0.5, arr(3, seed=1)), arr(3), wrt=(0, 1)),
    case(object_method_with_function_arg, Block(arr(3, 3), arr(3, seed=1)), 0.7, wrt=(0, 1)),
    case(dataclass_with_dict, Params(arr(3), {"a": 0.5, "b": arr(3, seed=5)}, 0.8), arr(3),
         wrt=(0, 1)),
    case(reads_module_array, arr(3)),
    case(writes_copy_of_module_array, arr(3)),
    case(shadow_sum, arr(4)),
    case(shadow_max, arr(4)),
    case(shadow_len_list, 0.8),
    case(shadow_range_param, 0.8, [1.5, -2.0], wrt=(0, 1)),
    case(shadow_sum_param, arr(3), arr(3, seed=1), wrt=(0, 1)),
    case(shadow_abs_min, arr(4)),
    case(long_straight_line, arr(3, lo=0.1, hi=0.9), 0.6, wrt=(0, 1)),
    case(deep_nesting, arr(3), 0.7, wrt=(0, 1)),
    case(deep_nesting_with_break_while, arr(3, lo=0.2, hi=1.5)),
    case(zeros_of_int_arg, 0.7, 4),
    case(ones_matrix_of_ints, 0.7, 2, 3),
    case(float32_data_float64_weights, 0.7, arr(3).astype(np.float32)),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES)
def test_grad(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


def test_float32_weight_float64_data():
    w, x = np.float32(0.7) * np.ones(3, dtype=np.float32), arr(3)
    assert_grad(float32_weight_float64_data, w, x, wrt=(0, 1), rtol=1e-3, atol=1e-4)


def test_float32_buffer_written():
    # f = sum(float32(2 x) * x): d/dx = 4 x up to the buffer's float32 rounding
    x = arr(3)
    got = sourcegrad.grad(float32_buffer_written)(x)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, 4.0 * x, rtol=1e-6)


def test_containers_and_object_wrt_all():
    class Holder:
        pass

    obj = Holder()
    obj.w = arr(3)
    obj.s = 0.5
    assert_grad(containers_and_object, {"v": arr(3, seed=2)}, obj, [0.3, 1.2], wrt=(0, 1, 2))


# -- closed forms ----------------------------------------------------------------------------------


def test_root_by_bisection_has_the_derivative_of_its_replayed_steps():
    # bisection's result is piecewise constant in p, so the derivative of r * p is r itself
    got = sourcegrad.grad(root_times)(2.0)
    assert got == pytest.approx(2.0 ** (1.0 / 3.0), rel=1e-8)


# -- undocumented combinations: the right gradient, or a SourcegradError at the user's line ------


@pytest.mark.parametrize("f, args, wrt, marker", [
    pytest.param(lambda_in_branch, (0.7, arr(3)), (0, 1), "h = lambda t: -t", id="lambda-if-pos"),
    pytest.param(lambda_in_branch, (-0.7, arr(3)), (0, 1), "h = lambda t: -t", id="lambda-if-neg"),
    pytest.param(functions_in_tuple_loop, (0.4, 0.8), (0, 1), "fn(x, p)", id="functions-tuple"),
    pytest.param(function_chosen_by_branch, (0.9, 0.8), (0, 1), "trapezoid_quad(fn",
                 id="function-by-branch"),
])
def test_right_or_refused(f, args, wrt, marker):
    try:
        got = sourcegrad.grad(f, wrt=wrt)(*args)
    except sourcegrad.SourcegradError as error:
        lineno, text = line_of(f, marker)
        assert f"{FILE}:{lineno}" in str(error), f"expected {FILE}:{lineno} in:\n{error}"
        return
    _close(got, numeric_grad(f, args, {}, wrt))


def test_shadow_sum_closed_form():
    x = arr(4)
    np.testing.assert_allclose(sourcegrad.grad(shadow_sum)(x), 2.0 * x)


def test_zeros_of_int_arg_closed_form():
    n, x = 5, 0.3
    k = np.arange(1, n + 1)
    assert sourcegrad.grad(zeros_of_int_arg)(x, n) == pytest.approx(np.sum(k * np.cos(k * x)))


# -- value_and_grad and vjp on these programs ------------------------------------------------------


def _close(got, expected):
    if isinstance(expected, dict):
        assert isinstance(got, dict) and got.keys() == expected.keys()
        for key in expected:
            _close(got[key], expected[key])
    elif isinstance(expected, (list, tuple)):
        assert type(got) is type(expected) and len(got) == len(expected)
        for g, e in zip(got, expected, strict=True):
            _close(g, e)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("f, args, wrt", [
    pytest.param(trajectory_loss, (0.3, {"a": 1.1, "b": 0.4}), (0, 1), id="trajectory"),
    pytest.param(three_containers, ({"w": arr(3), "b": 0.2}, [0.5, 1.5], (arr(3), 0.7), arr(3)),
                 (0, 1, 2), id="three_containers"),
    pytest.param(closure_calls_closure_in_loop, (0.6, arr(3)), 0, id="closures"),
    pytest.param(recursion_with_dict, ({"a": 0.7, "b": 0.1, "c": 1.3}, arr(3)), 0, id="recursion"),
])
def test_value_and_grad(f, args, wrt):
    value, g = sourcegrad.value_and_grad(f, wrt=wrt)(*args)
    np.testing.assert_allclose(value, f(*args), rtol=1e-12)
    _close(g, numeric_grad(f, args, {}, wrt))


def trajectory_of_dict_params(y0, params):
    return euler_trajectory(rhs_dict, y0, params, 4)


def dict_out_of_closures(p, x):
    def lin(t):
        return p["w"] * t + p["b"]

    return {"h": np.tanh(lin(x)), "s": np.sum(lin(x) ** 2)}


def list_out_of_reversed(ws, x):
    outs = []
    h = x
    for w in reversed(ws):
        h = np.sin(h * w)
        outs.append(h)
    return outs


def test_vjp_trajectory_of_dict_params():
    seed = arr(5, seed=7)
    assert_vjp(trajectory_of_dict_params, 0.3, {"a": 1.1, "b": 0.4}, seed=seed)


def test_vjp_dict_output_of_closures():
    p, x = {"w": arr(3), "b": 0.2}, arr(3, seed=1)
    out, pullback = sourcegrad.vjp(dict_out_of_closures, p, x)
    seed = {"h": arr(3, seed=2), "s": 0.7}
    dp, dx = pullback(seed)

    def scalar(p, x):
        o = dict_out_of_closures(p, x)
        return np.sum(o["h"] * seed["h"]) + o["s"] * seed["s"]

    _close(out["h"], dict_out_of_closures(p, x)["h"])
    _close(dp, numeric_grad(scalar, (p, x), {}, 0))
    _close(dx, numeric_grad(scalar, (p, x), {}, 1))


def test_vjp_list_output_of_reversed_loop():
    ws, x = [0.5, 1.5, -0.7], arr(3)
    out, pullback = sourcegrad.vjp(list_out_of_reversed, ws, x)
    seed = [arr(3, seed=k) for k in range(3)]
    dws, dx = pullback(seed)

    def scalar(ws, x):
        return sum(np.sum(o * s) for o, s in zip(list_out_of_reversed(ws, x), seed, strict=True))

    _close(out, list_out_of_reversed(ws, x))
    _close(dws, numeric_grad(scalar, (ws, x), {}, 0))
    _close(dx, numeric_grad(scalar, (ws, x), {}, 1))


# -- one grad object, container structures in turn ------------------------------------------------


def sum_over_dict(p, x):
    total = 0.0
    for k, v in p.items():
        total = total + np.sum(np.sin(v * x)) * len(k)
    return total


def sum_over_list(ws, x):
    return sum(np.sum(w * x) ** 2 for w in ws)


def test_same_grad_dict_two_keys_then_three():
    df = sourcegrad.grad(sum_over_dict)
    x = arr(3)
    for p in ({"a": arr(3), "bb": 0.5}, {"a": arr(3), "bb": 0.5, "ccc": arr(3, seed=4)},
              {"z": 0.2, "a": arr(3)}):
        _close(df(p, x), numeric_grad(sum_over_dict, (p, x), {}, 0))


def test_same_grad_list_then_longer_list_then_tuple():
    df = sourcegrad.grad(sum_over_list, wrt=(0, 1))
    x = arr(3)
    for ws in ([arr(3), 0.5], [arr(3), 0.5, arr(3, seed=2)], (0.3, arr(3, seed=3))):
        _close(df(ws, x), numeric_grad(sum_over_list, (ws, x), {}, (0, 1)))


def test_same_grad_float_then_array_in_dict():
    df = sourcegrad.grad(closure_over_dict_param)
    x = arr(3)
    for p in ({"w": 0.5, "b": 0.3}, {"w": arr(3), "b": 0.3}, {"w": arr(3), "b": arr(3, seed=1)}):
        _close(df(p, x), numeric_grad(closure_over_dict_param, (p, x), {}, 0))


def test_same_grad_int_shape_changes():
    df = sourcegrad.grad(zeros_of_int_arg)
    for n in (1, 3, 6):
        k = np.arange(1, n + 1)
        assert df(0.4, n) == pytest.approx(np.sum(k * np.cos(k * 0.4)))


def test_same_grad_float32_then_float64():
    df = sourcegrad.grad(float32_buffer_written)
    for x in (arr(3).astype(np.float32), arr(3)):
        g = df(x)
        assert g.dtype == x.dtype
        # f = sum(float32(2 x) * x): d/dx = 4 x (up to float32 rounding of the buffer)
        np.testing.assert_allclose(g, 4.0 * x, rtol=1e-5)


# -- unsupported constructs: a SourcegradError at the user's line --------------------------------


def err_raise_in_branch(x):
    if x < 0:
        raise ValueError("negative")
    return x * 2.0


def err_star_args(x, *rest):
    return x * 2.0


def _helper_kwargs(x, **opts):
    return x * 2.0


def err_kwargs_in_helper(x):
    return _helper_kwargs(x) + x


def err_eval(x):
    return eval("x * 2.0")


def err_exec(x):
    exec("y = 1")
    return x * 2.0


def err_set_comprehension(x):
    s = {v for v in [x, 2.0 * x]}
    return x * len(s)


def err_for_else(x):
    total = 0.0
    for i in range(3):
        total = total + x * i
    else:
        total = total + 1.0
    return total


def err_starred_unpack(x):
    a, *rest = [x, 2.0 * x, 3.0 * x]
    return a * len(rest)


def err_starred_call(x):
    args = (x, 2.0)
    return np.sum(*args)  # np.sum's parameters have defaults: how many *args fills is unknown


def err_reshaped_alias_then_write(x):
    x = x.copy()
    v = x.reshape(3, 1)  # a view or a copy, depending on x's layout
    x[0] = 5.0
    return np.sum(v * x)


def err_raise_in_closure(x):
    def check(t):
        if t > 10:
            raise ValueError("big")
        return t * t

    return check(x)


def err_try_in_method_holder(block, x):
    return block.run(x)


class _TryBlock:
    def run(self, x):
        try:
            return x * 2.0
        except ValueError:
            return x


def err_nonlocal_in_closure(x):
    total = 0.0

    def add(t):
        nonlocal total
        total = total + t
        return total

    return add(x) * x


def err_global_in_loop(x):
    for _ in range(2):
        global TABLE
    return x


def err_dropped_sort_in_helper(x):
    return _sorts(x * 2.0)


def _sorts(y):
    y.sort()
    return np.sum(y)


def err_with_in_loop(x):
    total = 0.0
    for _ in range(2):
        with np.errstate(all="ignore"):
            total = total + x
    return total


def err_yield_in_closure(x):
    def gen(t):
        yield t

    return sum(gen(x))


# function, args, the text marking the offending line, the function whose source holds it
ERRORS = [
    pytest.param(err_raise_in_branch, (-1.5,), "raise ValueError", err_raise_in_branch, id="raise"),
    pytest.param(err_raise_in_branch, (1.5,), "raise ValueError", err_raise_in_branch,
                 id="raise-not-taken"),
    pytest.param(err_eval, (1.5,), 'eval("x', err_eval, id="eval"),
    pytest.param(err_exec, (1.5,), 'exec("y', err_exec, id="exec"),
    pytest.param(err_set_comprehension, (1.5,), "{v for v", err_set_comprehension,
                 id="set-comprehension"),
    pytest.param(err_for_else, (1.5,), "for i in range(3)", err_for_else, id="for-else"),
    pytest.param(err_starred_unpack, (1.5,), "a, *rest", err_starred_unpack, id="starred-unpack"),
    pytest.param(err_starred_call, (1.5,), "np.sum(*args)", err_starred_call, id="starred-call"),
    pytest.param(err_reshaped_alias_then_write, (np.array([0.5, 1.0, 2.0]),), "x[0] = 5.0",
                 err_reshaped_alias_then_write, id="reshaped-alias-write"),
    pytest.param(err_raise_in_closure, (1.5,), "raise ValueError", err_raise_in_closure,
                 id="raise-in-closure"),
    pytest.param(err_try_in_method_holder, (_TryBlock(), 1.5), "try:", _TryBlock.run,
                 id="try-in-method"),
    pytest.param(err_nonlocal_in_closure, (1.5,), "nonlocal total", err_nonlocal_in_closure,
                 id="nonlocal-in-closure"),
    pytest.param(err_global_in_loop, (1.5,), "global TABLE", err_global_in_loop,
                 id="global-in-loop"),
    pytest.param(err_dropped_sort_in_helper, (np.array([0.5, 1.5, 0.2]),), "y.sort()", _sorts,
                 id="sort-in-helper"),
    pytest.param(err_with_in_loop, (1.5,), "with np.errstate", err_with_in_loop, id="with-in-loop"),
    pytest.param(err_yield_in_closure, (1.5,), "yield t", err_yield_in_closure,
                 id="yield-in-closure"),
]


@pytest.mark.parametrize("f, args, marker, holder", ERRORS)
def test_unsupported_points_at_user_line(f, args, marker, holder):
    with pytest.raises(sourcegrad.SourcegradError) as info:
        sourcegrad.grad(f)(*args)
    message = str(info.value)
    lineno, text = line_of(holder, marker)
    assert f"{FILE}:{lineno}" in message, f"expected {FILE}:{lineno} in:\n{message}"
    assert text in message, f"expected the line {text!r} in:\n{message}"


def test_unsupported_in_vjp_and_value_and_grad():
    with pytest.raises(sourcegrad.SourcegradError):
        sourcegrad.vjp(err_for_else, 1.5)
    with pytest.raises(sourcegrad.SourcegradError):
        sourcegrad.value_and_grad(err_starred_unpack)(1.5)


# -- more combinations ----------------------------------------------------------------------------


def _double_dict(p):
    return {k: v * 2.0 for k, v in p.items()}


def dict_from_helper_comprehension_items(p, x):
    total = 0.0
    for k, v in _double_dict(p).items():
        total = total + np.sum(v * x) * len(k)
    return total


def list_comprehension_then_loop(ws, x):
    hs = [np.tanh(w * x) for w in ws]
    total = 0.0
    for i in range(len(hs)):
        total = total + np.sum(hs[i]) * (i + 1)
    return total


class Scaler:
    def __init__(self, s):
        self.s = s

    def apply(self, x):
        def f(t):
            return np.sin(t * self.s)

        return np.sum(f(x) + f(2.0 * x))


def closure_in_method(obj, x):
    return obj.apply(x)


def dict_comprehension_enumerate_zip(ws, bs, x):
    layers = {f"l{i}": (w, b) for i, (w, b) in enumerate(zip(ws, bs, strict=True))}
    h = x
    for name in layers:
        w, b = layers[name]
        h = np.tanh(w * h + b)
    return np.sum(h)


MORE = [
    case(list_comprehension_then_loop, [0.5, 1.5, -0.3], arr(3), wrt=(0, 1)),
    case(closure_in_method, Scaler(0.7), arr(3), wrt=(0, 1)),
    case(dict_comprehension_enumerate_zip, [0.5, 1.5], [0.1, -0.2], arr(3), wrt=(0, 1, 2)),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", MORE)
def test_more(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


def test_value_and_grad_dict_two_keys_then_three():
    vg = sourcegrad.value_and_grad(sum_over_dict, wrt=(0, 1))
    x = arr(3)
    for p in ({"a": arr(3), "bb": 0.5}, {"a": arr(3), "bb": 0.5, "ccc": arr(3, seed=4)}):
        value, g = vg(p, x)
        assert value == pytest.approx(sum_over_dict(p, x))
        _close(g, numeric_grad(sum_over_dict, (p, x), {}, (0, 1)))


def test_vjp_dict_of_two_then_three_keys():
    for p in ({"w": arr(3), "b": 0.2}, {"w": arr(3), "b": 0.2, "extra": 1.0}):
        assert_vjp(closure_over_dict_param, p, arr(3, seed=1), seed=1.0)


# Not supported yet: dict views outside a loop header, `.items()` of a call's result, and
# `list(enumerate(...))`; each is refused at the user's line (never a wrong number).
@pytest.mark.parametrize("f, args, wrt, marker", [
    pytest.param(reversed_enumerate_list, ([0.5, 1.2, -0.7],), 0,
                 "for i, x in reversed(list(enumerate(xs)))", id="reversed-list-enumerate"),
    pytest.param(dict_from_helper_comprehension_items, ({"a": arr(3), "bb": 0.5}, arr(3)),
                 (0, 1), "_double_dict(p).items()", id="items-of-a-call"),
])
def test_refused_for_now(f, args, wrt, marker):
    with pytest.raises(sourcegrad.SourcegradError) as info:
        sourcegrad.grad(f, wrt=wrt)(*args)
    lineno, _ = line_of(f, marker)
    assert f"{FILE}:{lineno}" in str(info.value)


def test_star_args_and_kwargs_definitions_now_work():
    # *args and **kwargs in definitions are supported: calls pack them into a tuple or dict
    assert sourcegrad.grad(err_star_args)(1.5, 2.0, 3.0) == pytest.approx(2.0)
    assert sourcegrad.grad(err_kwargs_in_helper)(1.5) == pytest.approx(3.0)
