"""Nested functions and lambdas capturing outer variables: each becomes a function of its own
(captured variables as extra parameters, read when it is called, as Python does)."""

import helpers_module
import numpy as np
import pytest

import sourcegrad
from oracle import arr, assert_grad, case


def nested_def_in_loop(w, x):
    scale = 2.0

    def g(y):
        return np.tanh(w * y) * scale

    total = 0.0
    for i in range(3):
        total = total + np.sum(g(x * i))
    return total


def lambda_called_twice(w, x):
    sq = lambda t: t * t * w  # noqa: E731
    return np.sum(sq(x)) + sq(w)


def late_binding(w):
    c = 1.0
    h = lambda t: t * c  # noqa: E731
    c = 3.0
    return h(w)


def nested_calls_nested(w, x):
    def inner(t):
        return np.sin(t * w)

    def outer(t):
        return inner(t) * inner(2.0 * t)

    return np.sum(outer(x))


def nested_with_default(w):
    def power(t, k=3.0):
        return t**k

    return power(w) + power(w, 2.0)


CASES = [
    case(nested_def_in_loop, 0.7, arr(2), wrt=(0, 1)),
    case(lambda_called_twice, 0.7, arr(2), wrt=(0, 1)),
    case(late_binding, 0.7),
    case(nested_calls_nested, 0.4, arr(3), wrt=(0, 1)),
    case(nested_with_default, 1.3),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES)
def test_grad(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


# -- nested functions and lambdas passed to the user's functions ----------------------------------


def _apply(fn, v):
    return fn(v)


def _twice(fn, v):
    return _apply(fn, v) * _apply(fn, 2.0 * v)


def passes_a_lambda(w):
    f = lambda t: t * w  # noqa: E731
    return _apply(f, 2.0)


def passes_a_def_twice(w, x):
    def sq(t):
        return t * t * w

    return np.sum(_apply(sq, x)) + _apply(sq, w)


def passes_it_on(w):
    g = lambda t: np.sin(t * w)  # noqa: E731
    return _twice(g, w)


def lambda_made_in_loop(w):
    total = 0.0
    for k in range(3):
        g = lambda t: t * w * k  # noqa: E731
        total = total + _apply(g, 2.0)
    return total


def to_other_module(r, y0):
    return np.sum(helpers_module.integrate(lambda y: -r * y * y, y0, 5))


PASSED = [
    case(passes_a_def_twice, 0.7, arr(3), wrt=(0, 1)),
    case(passes_it_on, 0.7),
    case(lambda_made_in_loop, 0.7),
    case(to_other_module, 0.8, arr(3, lo=0.5, hi=1.5), wrt=(0, 1)),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", PASSED)
def test_nested_function_passed_to_a_function_of_the_user(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


def test_passed_lambda_matches_closed_form():
    # d/dw _apply(lambda t: t * w, 2.0) = 2
    assert sourcegrad.grad(passes_a_lambda)(0.7) == pytest.approx(2.0)


def _recurse(fn, v, n):
    if n == 0:
        return fn(v)
    return _recurse(fn, v, n - 1) + fn(v * n)


def recursion_carries_a_lambda(w):
    g = lambda t: t * w  # noqa: E731
    return _recurse(g, 1.0, 3)


def _integrate(y0, n, rhs, dt=0.1):
    y = y0
    for _ in range(n):
        y = y + dt * rhs(y)
    return y


def _integrate_keyword_only(y0, *, rhs, n=4):
    return _integrate(y0, n, rhs=rhs)


def passes_by_keyword(r, y0):
    def decay(y):
        return -r * y

    return np.sum(_integrate(y0, 4, rhs=decay))


def passes_an_inline_lambda_by_keyword(r, y0):
    return np.sum(_integrate(y0, n=3, dt=0.05, rhs=lambda y: -r * y * y))


def passes_to_a_keyword_only_parameter(r, y0):
    return np.sum(_integrate_keyword_only(y0, rhs=lambda y: np.sin(r * y)))


def maps_a_lambda(w, x):
    f = lambda t: t * w  # noqa: E731
    return sum(map(f, x))


def maps_over_two_lists(w, xs, ys):
    return sum(map(lambda a, b: np.sum(a * b) * w, xs, ys))


def maps_a_module_function(x):
    return np.sum(np.stack(list(map(np.tanh, [x, 2.0 * x]))))


def _combine(f, g, y):
    return f(y) * g(y)


def passes_two_lambdas(r, y):
    return np.sum(_combine(lambda t: t * r, lambda t: np.sin(t + r), y))


def passes_two_lambdas_by_keyword(r, y):
    return np.sum(_combine(y=y, g=lambda t: np.sin(t + r), f=lambda t: t * r))


PASSED_FURTHER = [
    case(passes_two_lambdas, 0.7, arr(3), wrt=(0, 1)),
    case(passes_two_lambdas_by_keyword, 0.7, arr(3), wrt=(0, 1)),
    case(recursion_carries_a_lambda, 0.7),
    case(passes_by_keyword, 0.8, arr(3, lo=0.5, hi=1.5), wrt=(0, 1)),
    case(passes_an_inline_lambda_by_keyword, 0.8, arr(3, lo=0.5, hi=1.5), wrt=(0, 1)),
    case(passes_to_a_keyword_only_parameter, 0.8, arr(3, lo=0.5, hi=1.5), wrt=(0, 1)),
    case(maps_a_lambda, 0.7, arr(3), wrt=(0, 1)),
    case(maps_over_two_lists, 0.7, [arr(2), arr(2, seed=1)], [arr(2, seed=2), arr(2, seed=3)],
         wrt=(0, 1, 2)),
    case(maps_a_module_function, arr(3)),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", PASSED_FURTHER)
def test_nested_function_by_keyword_through_recursion_and_map(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


def test_recursion_with_a_lambda_matches_closed_form():
    # _recurse(g, 1, 3) = g(1) + g(3) + g(2) + g(1) = 7 w
    assert sourcegrad.grad(recursion_carries_a_lambda)(0.7) == pytest.approx(7.0)


def keeps_a_lambda(w):
    f = lambda t: t * w  # noqa: E731
    fs = [f]
    return fs[0](2.0)


def _make_scaler(w):
    def scale(t):
        return t * w

    return scale


def returns_a_nested_function(w):
    return _make_scaler(w)(2.0)


def sorts_with_a_lambda(w, xs):
    return sum(sorted(xs, key=lambda t: t * w))


@pytest.mark.parametrize("f, args, match", [
    (keeps_a_lambda, (0.7,), "used as a value"),
    (returns_a_nested_function, (0.7,), "a function held in a variable"),
    (sorts_with_a_lambda, (0.7, [1.0, 2.0]), "used as a value"),
])
def test_nested_function_stored_or_given_to_library_code_is_refused(f, args, match):
    with pytest.raises(sourcegrad.UnsupportedSyntaxError, match=match):
        sourcegrad.grad(f)(*args)


def test_nested_function_gets_its_own_adjoint():
    df = sourcegrad.grad(nested_def_in_loop)
    df(0.7, arr(2))
    assert "def nested_def_in_loop_g_backward" in df.source


# -- functions passed as arguments ----------------------------------------------------------------


def logistic_rhs(y, r):
    return r * y * (1.0 - y)


def decay_rhs(y, r):
    return -r * y


def euler(f, y, r, n):
    for _ in range(n):
        y = y + 0.1 * f(y, r)
    return y


def logistic_growth(y0, r):
    return euler(logistic_rhs, y0, r, 5)


def two_models(y0, r):
    return euler(logistic_rhs, y0, r, 3) + euler(decay_rhs, y0, r, 3)


@pytest.mark.parametrize("f, args, kwargs, wrt", [
    case(logistic_growth, 0.3, 1.2, wrt=(0, 1)),
    case(two_models, 0.3, 1.2, wrt=(0, 1)),
    case(euler, logistic_rhs, 0.3, 1.2, 4, wrt=(1, 2)),
])
def test_function_passed_as_an_argument(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)
