"""check_grad against correct and deliberately wrong gradients; stop_gradient cuts the gradient
and shows in the emitted code."""

import numpy as np
import pytest

import sourcegrad
from sourcegrad import d
from sourcegrad.rules.templates import remove_rule


def energy(w, x):
    return np.sum(np.tanh(w * x) ** 2) + np.sum(w**3)


def helper(x):
    return np.sin(x)


def calls_helper(x):
    return np.sum(helper(x) * x)


def test_check_grad_accepts_a_correct_gradient():
    sourcegrad.check_grad(energy, np.array([0.3, -0.5, 1.1]), np.array([1.0, 2.0, 0.5]))
    sourcegrad.check_grad(energy, np.array([0.3, -0.5]), np.array([1.0, 2.0]), wrt=(0, 1))


def test_check_grad_reports_a_wrong_rule_with_argument_and_entry():
    @sourcegrad.adjoint(helper)
    def wrong_helper(y, x):
        d[x] += d[y] * np.sin(x)  # should be cos

    try:
        with pytest.raises(sourcegrad.GradientCheckError) as info:
            sourcegrad.check_grad(calls_helper, np.array([0.3, -0.5, 1.1]))
        message = str(info.value)
        assert "calls_helper" in message and "respect to x" in message
        assert "worst entry x[" in message
    finally:
        remove_rule(helper)


class _Params:
    def __init__(self, w, b):
        self.w, self.b = w, b


def of_containers(p, xs, m):
    return (np.sum(p["w"] ** 2) + p["b"] * np.sum(xs[0] * xs[1]) + np.sum(xs[2] ** 3)
            + m.b * np.sum(m.w * p["w"]))


def helper_of_a_dict_entry(p):
    return np.sum(helper(p["w"]) * p["w"]) + p["b"]


CONTAINER_ARGS = ({"w": np.array([0.3, -0.5, 1.1]), "b": 0.5},
                  [np.ones(2), np.arange(2.0), np.array([0.2, 0.4, 0.6])],
                  _Params(np.array([0.1, 0.2, 0.3]), -0.7))


@pytest.mark.parametrize("wrt", [0, 1, 2, (0, 1, 2)], ids=["dict", "list", "object", "all"])
def test_check_grad_accepts_a_correct_gradient_of_containers_and_objects(wrt):
    sourcegrad.check_grad(of_containers, *CONTAINER_ARGS, wrt=wrt)


def test_check_grad_names_the_entry_of_a_dict_that_is_wrong():
    @sourcegrad.adjoint(helper)
    def wrong_helper(y, x):
        d[x] += d[y] * np.sin(x)  # should be cos

    try:
        with pytest.raises(sourcegrad.GradientCheckError) as info:
            sourcegrad.check_grad(helper_of_a_dict_entry, {"w": np.array([0.3, -0.5, 1.1]),
                                                           "b": 0.5})
        message = str(info.value)
        assert "respect to p['w']" in message
        assert "worst entry p['w'][" in message and "np.int64" not in message
    finally:
        remove_rule(helper)


def scaled_without_gradient_through_scale(x):
    scale = sourcegrad.stop_gradient(np.sum(x * x))
    return scale * np.sum(x)


def test_stop_gradient_cuts_the_gradient():
    x = np.array([0.5, -1.0, 2.0])
    got = sourcegrad.grad(scaled_without_gradient_through_scale)(x)
    np.testing.assert_allclose(got, np.full(3, np.sum(x * x)), rtol=1e-12)
    df = sourcegrad.grad(scaled_without_gradient_through_scale)
    df(x)
    assert "stop_gradient(" in df.source
