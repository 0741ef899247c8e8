"""Nested functions and lambdas capturing outer variables: each becomes a function of its own
(captured variables as extra parameters, read when it is called, as Python does)."""

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


def passes_a_lambda(w):
    f = lambda t: t * w  # noqa: E731
    return _apply(f, 2.0)


def _apply(fn, v):
    return fn(v)


def test_nested_function_used_as_a_value_is_refused():
    with pytest.raises(sourcegrad.UnsupportedSyntaxError, match="used as a value"):
        sourcegrad.grad(passes_a_lambda)(0.7)


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
