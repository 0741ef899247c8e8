"""The guards that keep a wrong gradient from coming back silently: checked mode, every emitted
path compared (`sourcegrad.verify`), and emitted source that must parse back to its tree.

Checked mode is tested where sourcegrad cannot see the breach itself: a function of the user's
with a registered rule keeps its argument, and another changes it behind sourcegrad's back. The
plain derivative then answers wrong; the checked one must name the line and the variable.
"""

import gast
import numpy as np
import pytest

import sourcegrad
from oracle import arr, line_of, numeric_grad
from sourcegrad import d, emit, verify
from sourcegrad.errors import InternalError
from sourcegrad.options import BuildOptions
from sourcegrad.runtime import checked

# -- a breach sourcegrad cannot see: state changed behind its back ------------------------------

_KEPT: list = []


def kept_scaled(x):
    """Returns 2 x, and keeps the result to change it later (hidden state)."""
    y = 2.0 * x
    _KEPT.append(y)
    return y


@sourcegrad.adjoint(kept_scaled)
def kept_scaled_rule(y, x):
    d[x] += d[y] * y / x  # reads the result: the value the hidden change corrupts


def poke():
    """Changes the kept array in place: nothing passed, nothing returned."""
    _KEPT[-1][...] = 100.0


def hidden_change(x):
    y = kept_scaled(x)
    s = np.sum(y * y)
    poke()
    return s


def test_checked_mode_names_the_line_and_the_variable_of_a_breach():
    x = arr(3, lo=0.5, hi=1.5)
    wrong = sourcegrad.grad(hidden_change)(x)
    assert not np.allclose(wrong, 8.0 * x)  # the plain derivative is silently wrong here
    checked_grad = verify.Derivative(hidden_change, 0, True, BuildOptions(checked=True))
    with pytest.raises(checked.CheckedModeError) as error:
        checked_grad(x)
    line, _ = line_of(hidden_change, "np.sum(y * y)")  # the first adjoint to read y
    assert f"test_checked_mode.py:{line} " in str(error.value)
    assert "the adjoint reads y = [100. 100. 100.]" in str(error.value)


# -- the checked-mode runtime on its own --------------------------------------------------------


class Point:
    def __init__(self, w):
        self.w = w


@pytest.mark.parametrize("value, changed", [
    (np.arange(3.0), np.array([0.0, 1.0, 5.0])),
    (np.array([np.nan, 1.0]), np.array([np.nan, 2.0])),
    ([np.ones(2), 1.0], [np.ones(2), 2.0]),
    ({"w": np.ones(2)}, {"w": np.zeros(2)}),
    (Point(np.ones(2)), Point(np.zeros(2))),
    (1.5, 2.5),
])
def test_a_changed_value_is_caught_and_an_unchanged_one_passes(value, changed):
    checked.checked_begin()
    checked.checked_after("f.py:3 y = g(x)", {"y": value})
    checked.checked_compare("f.py:3 y = g(x)", {"y": value})
    checked.checked_end()
    checked.checked_after("f.py:3 y = g(x)", {"y": value})
    with pytest.raises(checked.CheckedModeError, match="f.py:3 y = g.x.: the adjoint reads y"):
        checked.checked_compare("f.py:3 y = g(x)", {"y": changed})


def test_a_snapshot_is_a_copy_so_a_change_in_place_is_caught():
    checked.checked_begin()
    y = np.arange(3.0)
    checked.checked_after("f.py:3 y = g(x)", {"y": y})
    y[0] = 7.0
    with pytest.raises(checked.CheckedModeError, match="adjoint reads y"):
        checked.checked_compare("f.py:3 y = g(x)", {"y": y})


def test_values_taken_before_the_statement_are_compared_under_their_prev_name():
    checked.checked_begin()
    checked.checked_before("f.py:4 x = x * 2", {"x_prev": 1.0})
    checked.checked_after("f.py:4 x = x * 2", {"x": 2.0}, True)
    checked.checked_compare("f.py:4 x = x * 2", {"x_prev": 1.0, "x": 2.0})
    checked.checked_end()


def test_sweeps_out_of_step_and_skipped_blocks_are_caught():
    checked.checked_begin()
    checked.checked_after("f.py:3 a = g(x)", {})
    with pytest.raises(checked.CheckedModeError, match="out of step"):
        checked.checked_compare("f.py:5 b = h(a)", {})
    checked.checked_begin()
    checked.checked_after("f.py:3 a = g(x)", {})
    with pytest.raises(checked.CheckedModeError, match="skipped"):
        checked.checked_end()
    checked.checked_begin()
    with pytest.raises(checked.CheckedModeError, match="more often"):
        checked.checked_compare("f.py:3 a = g(x)", {})


# -- every emitted path --------------------------------------------------------------------------


def looped_writes(x, w):
    y = np.zeros(len(x))
    for i in range(len(x)):
        y[i] = np.tanh(x[i] * w) + (y[i - 1] if i > 0 else 0.0)
    return np.sum(y * y)


def test_every_path_answers_and_agrees_with_the_oracle():
    x, w = arr(4), 0.7
    results = verify.check_paths(looped_writes, (x, w), wrt=(0, 1))
    assert set(results) == {*verify.PATHS, "source"}
    expected = numeric_grad(looped_writes, (x, w), {}, (0, 1))
    for name, result in results.items():
        assert result.refused is None, name
        np.testing.assert_allclose(result.value, looped_writes(x, w), rtol=1e-12, err_msg=name)
        for got, want in zip(result.gradient, expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-8, err_msg=name)


def broadcast_product(x, w):
    return np.sum(x * w)


def test_the_generic_derivative_keeps_the_runtime_helpers_the_specialized_one_drops():
    x, w = arr(3), arr(3, seed=1)
    generic = verify.Derivative(broadcast_product, 0, True, BuildOptions(specialize=False))
    generic(x, w)
    specialized = sourcegrad.grad(broadcast_product)
    specialized(x, w)
    assert "unbroadcast" in generic.source and "unbroadcast" not in specialized.source


def test_a_path_that_answers_differently_is_a_mismatch(monkeypatch):
    original = verify._run

    def off_by_one_on_the_generic_path(derivative, args, kwargs):
        result = original(derivative, args, kwargs)
        if not derivative._options.specialize:
            result.gradient = result.gradient + 1.0
        return result

    monkeypatch.setattr(verify, "_run", off_by_one_on_the_generic_path)
    with pytest.raises(verify.PathMismatch, match="generic"):
        verify.check_paths(looped_writes, (arr(4), 0.7))


# -- the emitted source means what its tree means -----------------------------------------------


def _with_constant(source: str, value) -> gast.Module:
    """`source` parsed, with the name `c` replaced by the constant `value`."""

    class Replace(gast.NodeTransformer):
        def visit_Name(self, node):
            return gast.Constant(value=value, kind=None) if node.id == "c" else node

    return Replace().visit(gast.parse(source))


@pytest.mark.parametrize("value", [-0.77, -2, -1e100, -2j, 1 - 2j, -1 - 2j, float("-inf"),
                                   float("nan"), -0.0])
@pytest.mark.parametrize("expression", ["y = x * c ** 2", "y = x ** c", "y = -c", "y = c - x"])
def test_negative_and_special_constants_print_as_what_they_are(value, expression):
    source = emit.to_source(_with_constant(expression, value))
    x = 1.5
    namespace = {"x": x}
    exec(source, namespace)
    expected = eval(expression.split(" = ")[1], {"x": x, "c": value})
    assert namespace["y"] == expected or (namespace["y"] != namespace["y"]
                                          and expected != expected)


def test_a_printer_that_drops_parentheses_is_caught(monkeypatch):
    monkeypatch.setattr(emit._SignedConstants, "visit_Constant", lambda self, node: node)
    with pytest.raises(InternalError, match="does not parse back"):
        emit.to_source(_with_constant("y = x * c ** 2", -0.77))
