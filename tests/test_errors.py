"""Each error class: UnsupportedSyntaxError (try, yield, global, nonlocal, with, async def, class),
NoRuleError, SourceUnavailableError, WrtError and NonScalarOutputError. Errors about user code
must name this file with the line number and show the offending line."""

import contextlib
import functools
import math
import operator
import statistics
from pathlib import Path

import numpy as np
import pytest

import sourcegrad
from oracle import line_of

FILE = Path(__file__).name
COUNTER = 0.0

# -- unsupported syntax ---------------------------------------------------------------------------


def uses_try(x):
    try:
        y = x * 2.0
    except ValueError:
        y = x
    return y


def uses_yield(x):
    yield x * 2.0


def uses_global(x):
    global COUNTER
    COUNTER = x
    return x * 2.0


def _make_nonlocal():
    total = 1.0

    def uses_nonlocal(x):
        nonlocal total
        total = total + x
        return total * x

    return uses_nonlocal


uses_nonlocal = _make_nonlocal()


def uses_with(x):
    with contextlib.suppress(ValueError):
        y = x * 2.0
    return y


async def uses_async(x):
    return x * 2.0


def uses_class(x):
    class Box:
        value = 2.0

    return x * Box.value


def calls_helper_with_try(x):
    return uses_try(x) + x


# function, the text that marks the offending line, the function whose source holds that line
UNSUPPORTED = [
    pytest.param(uses_try, "try:", uses_try, id="try"),
    pytest.param(uses_yield, "yield x", uses_yield, id="yield"),
    pytest.param(uses_global, "global COUNTER", uses_global, id="global"),
    pytest.param(uses_nonlocal, "nonlocal total", uses_nonlocal, id="nonlocal"),
    pytest.param(uses_with, "with ", uses_with, id="with"),
    pytest.param(uses_async, "async def", uses_async, id="async"),
    pytest.param(uses_class, "class Box", uses_class, id="class"),
    pytest.param(calls_helper_with_try, "try:", uses_try, id="try-in-helper"),
]


def _assert_points_at(message, f, marker):
    lineno, text = line_of(f, marker)
    assert f"{FILE}:{lineno}" in message, f"expected {FILE}:{lineno} in:\n{message}"
    assert text in message, f"expected the line {text!r} in:\n{message}"


@pytest.mark.parametrize("f, marker, holder", UNSUPPORTED)
def test_unsupported_syntax(f, marker, holder):
    with pytest.raises(sourcegrad.UnsupportedSyntaxError) as info:
        sourcegrad.grad(f)(1.5)
    assert isinstance(info.value, sourcegrad.SourcegradError)
    _assert_points_at(str(info.value), holder, marker)


# -- in-place update of an array another name shares -------------------------------------------


def alias_then_augment(x):
    y = x
    x += 1.0
    x *= y
    return np.sum(x * y)


def alias_on_some_iterations(x0):
    y = x0 * 1.0
    x = x0 * 2.0
    s = 0.0
    for _ in range(2):
        x += 1.0  # from the second iteration on, y is x: NumPy changes y too
        s = s + np.sum(y * y)
        y = x
    return s


def test_inplace_update_of_an_array_shared_on_some_iterations_is_refused():
    with pytest.raises(sourcegrad.UnsupportedSyntaxError) as info:
        sourcegrad.grad(alias_on_some_iterations)(np.array([0.5, 1.0]))
    message = str(info.value)
    assert "in place" in message and "copy()" in message and "iterations" in message
    _assert_points_at(message, alias_on_some_iterations, "x += 1.0")


def test_inplace_update_of_shared_float_is_plain_rebinding():
    # floats are immutable: x += 1 rebinds x and y keeps the old value; f = (x + 1) * x * x
    got = sourcegrad.grad(alias_then_augment)(0.5)
    assert got == pytest.approx(3 * 0.5**2 + 2 * 0.5)


# -- no rule --------------------------------------------------------------------------------------

TRIPLE = functools.partial(operator.mul, 3.0)
PY_SIN = np.frompyfunc(math.sin, 1, 1)


def calls_partial(x):
    return TRIPLE(x) + x


def calls_frompyfunc(x):
    return PY_SIN(x) * x


@pytest.mark.parametrize(
    "f, name", [(calls_partial, "TRIPLE"), (calls_frompyfunc, "PY_SIN")], ids=["partial", "ufunc"]
)
def test_no_rule(f, name):
    with pytest.raises(sourcegrad.NoRuleError) as info:
        sourcegrad.grad(f)(1.5)
    message = str(info.value)
    assert isinstance(info.value, sourcegrad.SourcegradError)
    assert name in message
    assert "rule" in message.lower()
    _assert_points_at(message, f, f"{name}(x)")


# -- no source ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make", [lambda: eval("lambda x: x * 2"), lambda: math.sin], ids=["eval-lambda", "builtin"]
)
def test_source_unavailable(make):
    f = make()
    with pytest.raises(sourcegrad.SourceUnavailableError) as info:
        sourcegrad.grad(f)(1.5)
    assert isinstance(info.value, sourcegrad.SourcegradError)


# -- bad wrt --------------------------------------------------------------------------------------


def two_args(x, y):
    return x * y


@pytest.mark.parametrize("wrt", ["nope", 5, (0, "nope"), (1, 7)], ids=repr)
def test_bad_wrt(wrt):
    with pytest.raises(sourcegrad.WrtError) as info:
        sourcegrad.grad(two_args, wrt=wrt)(1.5, 2.5)
    assert isinstance(info.value, sourcegrad.SourcegradError)


# -- non-scalar output ----------------------------------------------------------------------------


def vector_output(x):
    return x * 2.0


def test_non_scalar_output():
    with pytest.raises(sourcegrad.NonScalarOutputError) as info:
        sourcegrad.grad(vector_output)(np.array([1.0, 2.0, 3.0]))
    message = str(info.value)
    assert isinstance(info.value, sourcegrad.SourcegradError)
    assert "(3,)" in message
    assert "vjp" in message


# -- calls that would change values behind the derivative's back ----------------------------------


def sorts_in_place(x):
    y = x * 2.0
    y.sort()
    return np.sum(y * np.arange(3.0))


def writes_through_out(x):
    out = np.zeros(3)
    np.sin(x, out=out)
    return np.sum(out)


def sum_into_out(x):
    buf = np.zeros(())
    y = np.sum(x * x, out=buf)
    return y * buf


@pytest.mark.parametrize("f, marker", [(sorts_in_place, "y.sort()"),
                                       (writes_through_out, "np.sin(x, out=out)"),
                                       (sum_into_out, "np.sum(x * x, out=buf)")])
def test_hidden_in_place_updates_are_refused(f, marker):
    with pytest.raises(sourcegrad.UnsupportedSyntaxError) as info:
        sourcegrad.grad(f)(np.array([0.5, 1.5, 2.0]))
    _assert_points_at(str(info.value), f, marker)


class _Layer:
    def __init__(self, w):
        self.w = w

    def forward(self, x):
        self.h = np.tanh(self.w * x)
        return np.sum(self.h)


class _Buffer:
    def __init__(self):
        self.buf = np.zeros(2)

    def fill(self, x):
        self.buf[0] = np.sum(x)
        return np.sum(self.buf)


def caches_on_the_object(layer, x):
    return layer.forward(x)


def fills_the_object(holder, x):
    return holder.fill(x)


def test_a_method_setting_an_attribute_is_followed():
    # forward sets self.h and returns sum(tanh(w x)): d/dx = w (1 - tanh(w x)^2)
    w, x = np.array([0.5, -1.5]), np.array([0.3, 0.8])
    got = sourcegrad.grad(caches_on_the_object, wrt=1)(_Layer(w), x)
    np.testing.assert_allclose(got, w * (1.0 - np.tanh(w * x) ** 2))


def test_a_method_writing_into_its_object_says_why_and_what_to_do():
    with pytest.raises(sourcegrad.UnsupportedSyntaxError) as info:
        sourcegrad.grad(fills_the_object, wrt=1)(_Buffer(), np.ones(2))
    message = str(info.value)
    assert "changes its argument self in place" in message and "called by name" in message
    _assert_points_at(message, fills_the_object, "return holder.fill(x)")


def calls_a_library_function(x):
    return statistics.fmean([x, 2.0 * x])


def test_library_function_without_rule_asks_for_a_rule():
    # statistics.fmean is Python source, but the library's, not the user's: no rule, no guess
    with pytest.raises(sourcegrad.NoRuleError) as info:
        sourcegrad.grad(calls_a_library_function)(1.5)
    message = str(info.value)
    assert "installed library" in message and "@sourcegrad.adjoint(statistics.fmean)" in message
    _assert_points_at(message, calls_a_library_function, "statistics.fmean")
