"""Each error class: UnsupportedSyntaxError (try, yield, global, nonlocal, with, async def, class),
NoRuleError, SourceUnavailableError, WrtError, NonScalarOutputError, NonDifferentiableInputError
and HigherOrderError. Errors about user code must name this file with the line number and show
the offending line."""

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
    "make", [lambda: eval("lambda x: x * 2"), lambda: math.gcd],
    ids=["eval-lambda", "builtin_without_a_rule"]
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


def complex_output(z):
    return z * z


def test_a_complex_output_says_so():
    with pytest.raises(sourcegrad.NonScalarOutputError,
                       match=r"(?s)returned the complex number.*np\.real"):
        sourcegrad.grad(complex_output)(0.5 + 0.2j)


# -- calls that would change values behind the derivative's back ----------------------------------


def sorts_in_place(x):
    y = x * 2.0
    y.sort()
    return np.sum(y * np.arange(3.0))


def sum_into_out(x):
    buf = np.zeros(())
    y = np.sum(x * x, out=buf)
    return y * buf


@pytest.mark.parametrize("f, marker", [(sorts_in_place, "y.sort()"),
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
    assert "writes into its object's arrays" in message and "called by name" in message
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


# -- a derivative handed to grad; an input sourcegrad cannot take ---------------------------------


def cube(x):
    return x**3


def test_higher_order_error_says_what_why_and_what_to_do():
    with pytest.raises(sourcegrad.HigherOrderError) as info:
        sourcegrad.grad(sourcegrad.grad(cube))(3.0)
    message = str(info.value)
    assert isinstance(info.value, sourcegrad.SourcegradError)
    assert "<sourcegrad derivative of cube with respect to x>" in message  # what
    assert "not supported yet" in message and "later" in message  # why
    assert "def dcube(x)" in message and "(df(x + h) - df(x - h)) / (2 * h)" in message  # to do


def test_higher_order_error_names_a_pullback():
    _, pullback = sourcegrad.vjp(cube, 3.0)
    with pytest.raises(sourcegrad.HigherOrderError, match="the pullback vjp returned for cube"):
        sourcegrad.vjp(pullback, 1.0)


class _TensorLike:
    """Stands for a torch tensor or a JAX array: converts to NumPy, is no ndarray."""

    def __init__(self, values):
        self.values = np.asarray(values, dtype=float)

    def __array__(self, dtype=None, copy=None):
        return self.values


def scaled_norm(w, x):
    return np.sum(w * np.asarray(x) ** 2)


def test_an_array_of_another_library_names_its_type_where_and_the_fix():
    with pytest.raises(sourcegrad.NonDifferentiableInputError) as info:
        sourcegrad.grad(scaled_norm, wrt=(0, 1))(0.5, {"a": _TensorLike([1.0, 2.0])})
    message = str(info.value)
    assert isinstance(info.value, sourcegrad.SourcegradError)
    assert "scaled_norm with respect to x['a']" in message
    assert "_TensorLike, an array of another library" in message
    assert "np.asarray(x['a'])" in message and ".detach().cpu().numpy()" in message


def test_an_input_of_no_supported_kind_says_what_is_supported():
    with pytest.raises(sourcegrad.NonDifferentiableInputError) as info:
        sourcegrad.grad(scaled_norm)("0.5", np.ones(2))
    message = str(info.value)
    assert "it is a str" in message and "dataclasses or objects of your own" in message
    assert "np.asarray(w, dtype=float)" in message


def forwards_everything(f):
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        return f(*args, **kwargs)

    return wrapper


@forwards_everything
def decorated(x):
    return x**2


def test_wrt_into_a_wrappers_star_args_names_the_decorator_and_the_way_out():
    with pytest.raises(sourcegrad.WrtError) as info:
        sourcegrad.grad(decorated)(1.5)
    message = str(info.value)
    assert "wrt=0 is out of range" in message
    assert "a wrapper a decorator made around decorated" in message
    assert "takes (*args, **kwargs)" in message
    assert "grad(decorated.__wrapped__)" in message
