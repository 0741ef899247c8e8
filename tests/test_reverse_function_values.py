"""Functions as values: made by a factory, taken from dicts, lists and tuples, looped over,
objects called through `__call__` (passed in, built inside, in lists), composed. Which function
a variable holds is known only when the call runs (sourcegrad/dynamic.py)."""

import numpy as np
import pytest

import sourcegrad
from oracle import arr, assert_value_and_grad, case, numeric_grad


def _make_loss(target, p):
    def loss(pred):
        return np.sum(np.abs(pred - target) ** p)
    return loss


def _relu(v):
    return np.maximum(v, 0.0)


def _soft(v):
    return np.log1p(np.exp(v))


def _scaled(v, k=2.0):
    return k * np.sin(v)


_ACTIVATIONS = {"relu": _relu, "soft": _soft, "scaled": _scaled}


def _compose(f, g):
    def both(v):
        return f(g(v))
    return both


class _Layer:
    def __init__(self, W):
        self.W = W

    def __call__(self, h):
        return np.tanh(self.W @ h)


def loss_from_a_factory(x):
    loss = _make_loss(np.ones(3), 2.0)
    return loss(x)


def activation_from_a_dict(x):
    return np.sum(_ACTIVATIONS["soft"](x)) + np.sum(_ACTIVATIONS["scaled"](x, 0.5))


def functions_looped_over(x):
    for fn in (_relu, _soft, np.tanh):
        x = fn(x)
    return np.sum(x)


def functions_indexed_in_a_loop(x):
    fns = [_soft, _scaled]
    t = 0.0
    for i in range(2):
        t = t + np.sum(fns[i](x * (i + 1.0)))
    return t


def composed(x):
    both = _compose(np.tanh, _soft)
    return np.sum(both(x) * x)


def layer_passed_in(x, layer):
    return np.sum(layer(x) ** 2)


def layers_passed_in(x, layers):
    h = x
    for layer in layers:
        h = layer(h)
    return np.sum(h)


def layer_built_inside(x, W):
    layer = _Layer(W)
    h = layer(x)
    return np.sum(layer(h) ** 2)


W3 = np.array([[0.5, 0.1, 0.0], [0.2, -0.3, 0.4], [0.0, 0.1, 0.6]])

CASES = [
    case(loss_from_a_factory, arr(3)),
    case(activation_from_a_dict, arr(3)),
    case(functions_looped_over, np.array([0.3, -0.2, 0.5])),
    case(functions_indexed_in_a_loop, arr(3)),
    case(composed, arr(3)),
    case(layer_passed_in, arr(3), _Layer(W3), wrt=(0, 1)),
    case(layers_passed_in, arr(3), [_Layer(W3), _Layer(2.0 * W3)], wrt=(0, 1)),
    case(layer_built_inside, arr(3), W3, wrt=(0, 1)),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES)
def test_a_function_held_in_a_variable(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)


def _fill(buf, v):
    buf[0] = v
    return 0.0


def changing_function_value(x):
    f = _fill
    buf = np.zeros(2)
    r = f(buf, x)
    return np.sum(buf) + r


def changing_function_value_without_gradient(x):
    f = _fill
    buf = np.zeros(2)
    f(buf, 1.0)
    return np.sum(buf) * x


def closure_capturing_a_gradient(x, t):
    loss = _make_loss(t, 2.0)
    return loss(x)


def active_keyword(x):
    f = _scaled
    return np.sum(f(1.0, k=x))


def result_written_into(x):
    f = _relu
    y = f(x)
    y[0] = 5.0
    return np.sum(y * x)


@pytest.mark.parametrize("f, args, match", [
    (changing_function_value, (0.7,), "changes its argument buf in place, held in a variable"),
    (changing_function_value_without_gradient, (0.7,), "changes its argument buf in place"),
    (closure_capturing_a_gradient, (arr(3), arr(3, seed=1)), "used as a value|captured values"),
    (active_keyword, (0.7,), "by keyword"),
    (result_written_into, (arr(3),), "may return one of its arguments' arrays"),
], ids=["changes_its_argument", "changes_its_argument_without_gradient",
        "closure_capturing_a_gradient", "active_keyword", "result_written_into"])
def test_what_a_function_value_cannot_follow_is_refused(f, args, match):
    with pytest.raises(sourcegrad.UnsupportedSyntaxError, match=match):
        sourcegrad.grad(f, wrt=tuple(range(len(args))))(*args)


def test_the_emitted_derivative_calls_the_value_through_the_runtime():
    derivative = sourcegrad.grad(functions_looped_over)
    derivative(arr(3))
    assert "call_function_value(fn, x)" in derivative.source
    assert "_pullback(d" in derivative.source


def _repeated_sine(v):
    for _ in range(3):
        v = np.sin(v) * 1.5
    return np.sum(v)


def calls_a_listed_function(x):
    fn = [_repeated_sine][0]
    return fn(x) * 2.0


def test_a_vjp_pullback_through_a_function_value_runs_twice():
    # each run of the pullback consumes the inner call's tape: a second run popped from empty
    # stacks (IndexError) until the inner pullback was copied with the vjp's tape
    x = arr(2)
    _, pullback = sourcegrad.vjp(calls_a_listed_function, x)
    first, second = pullback(1.0)[0], pullback(1.0)[0]
    expected = numeric_grad(calls_a_listed_function, (x,), {}, 0)
    np.testing.assert_allclose(first, expected, rtol=1e-6)
    np.testing.assert_allclose(second, expected, rtol=1e-6)


# -- a function held in an attribute --------------------------------------------------------------


class _Dense:
    def __init__(self, W, activation):
        self.W = W
        self.activation = activation

    def __call__(self, h):
        return self.activation(self.W @ h)


def _identity(v):
    return v


def attribute_function(x, W):
    layer = _Dense(W, _soft)
    return np.sum(layer(x) ** 2)


def attribute_function_called_directly(x, W):
    layer = _Dense(W, np.tanh)
    return np.sum(layer.activation(x) * layer(x))


def attribute_function_result_written(x):
    layer = _Dense(np.eye(3), _identity)
    h = layer.activation(x)
    h[0] = 5.0
    return np.sum(h * x)


@pytest.mark.parametrize("f, args, kwargs, wrt", [
    case(attribute_function, arr(3), W3, wrt=(0, 1)),
    case(attribute_function_called_directly, arr(3), W3, wrt=(0, 1)),
])
def test_a_function_held_in_an_attribute(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)


def test_a_write_into_what_a_function_in_an_attribute_returned_is_refused():
    with pytest.raises(sourcegrad.UnsupportedSyntaxError, match="held in an attribute"):
        sourcegrad.grad(attribute_function_result_written)(arr(3))
