"""Objects and modules: methods using `self.w`, `grad` of a bound method, gradients with
respect to objects holding arrays (a dataclass, a plain class), functions from other modules of
the project imported by name or by module attribute, and module-level constants."""

from dataclasses import dataclass

import helpers_module
import numpy as np
import pytest
from helpers_module import squash

import sourcegrad
from oracle import arr, assert_grad, case

OFFSET = np.array([0.1, -0.2])


@dataclass
class Layer:
    w: np.ndarray
    b: float

    def forward(self, x):
        return np.tanh(x @ self.w + self.b)

    def loss(self, x):
        return np.sum(self.forward(x) ** 2) + 0.1 * self.b**2


class Model:
    """A plain class: two layers and a name that carries no gradient."""

    def __init__(self, first, second):
        self.first = first
        self.second = second
        self.name = "model"

    def predict(self, x):
        h = np.tanh(x @ self.first)
        return h @ self.second


def layer_loss(layer, x):
    return np.sum(layer.forward(x) ** 2) + layer.b**2


def model_loss(model, x, y):
    return np.mean((model.predict(x) - y) ** 2)


def uses_project_module(x, w):
    return np.sum(helpers_module.squash(x, w)) + np.sum(squash(x, w) * OFFSET)


def method_in_loop(layer, x, n):
    h = x
    for _ in range(n):
        h = layer.forward(h)
    return np.sum(h)


LAYER = Layer(arr(2, 2, seed=3) * 0.5, 0.3)
MODEL = Model(arr(2, 3, seed=4) * 0.5, arr(3, seed=5))
X = arr(4, 2, seed=6)

CASES = [
    case(layer_loss, LAYER, X),
    case(layer_loss, LAYER, X, wrt=1),
    case(model_loss, MODEL, X, arr(4, seed=7)),
    case(uses_project_module, X, np.array([0.4, -0.7]), wrt=(0, 1)),
    case(method_in_loop, LAYER, X, 3),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES)
def test_grad(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


def test_gradient_of_a_dataclass_is_a_dataclass():
    grads = sourcegrad.grad(layer_loss)(LAYER, X)
    assert isinstance(grads, Layer)
    assert grads.w.shape == LAYER.w.shape and isinstance(grads.b, float)


def test_plain_object_gradient_keeps_other_attributes():
    grads = sourcegrad.grad(model_loss)(MODEL, X, arr(4, seed=7))
    assert isinstance(grads, Model) and grads.name == "model"
    assert grads.first.shape == (2, 3)


def test_grad_of_a_bound_method():
    layer = Layer(arr(2, 2, seed=8) * 0.5, -0.2)
    got = sourcegrad.grad(layer.loss)(X)
    eps = 1e-6
    expected = np.zeros_like(X)
    for index in np.ndindex(X.shape):
        step = np.zeros_like(X)
        step[index] = eps
        expected[index] = (layer.loss(X + step) - layer.loss(X - step)) / (2 * eps)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)


def test_method_becomes_its_own_adjoint_in_the_module():
    df = sourcegrad.grad(layer_loss)
    df(LAYER, X)
    assert "def Layer_forward_backward" in df.source
