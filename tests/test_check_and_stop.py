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
