"""Setting attributes (`state.h = v`, `state.h += v`) and writing through attributes and items
(`obj.buf[i] = v`, `xs[k][0] = v`, `p["w"][0] = v`), as Python does them: every name holding the
object sees the change, and so does the caller of a function, called by name, that changes its
argument. The caller's own object is never changed by the derivative."""

from dataclasses import dataclass

import numpy as np
import pytest

import sourcegrad
from oracle import arr, assert_grad, case


@dataclass
class State:
    h: np.ndarray
    w: float


class Inner:
    def __init__(self, w):
        self.w = w


class Outer:
    def __init__(self, w):
        self.inner = Inner(w)
        self.buf = np.zeros(3)


def sets_an_attribute(s, x):
    s.h = np.tanh(s.h * s.w + x)
    s.h = s.h * 2.0
    return np.sum(s.h)


def augments_an_attribute(s, x):
    s.h += x * s.w
    s.w *= 3.0
    return np.sum(s.h**2) * s.w


def seen_through_another_name(s, x):
    t = s
    s.h = s.h * x
    return np.sum(t.h)


def _step(state, x):
    state.h = np.tanh(state.w * state.h + x)


def steps_by_a_function(s, xs):
    for x in xs:
        _step(s, x)
    return np.sum(s.h)


def writes_through_an_attribute(o, x):
    for i in range(3):
        o.buf[i] = o.inner.w[i] * x
    return np.sum(o.buf**2)


def writes_two_attributes_deep(o, x):
    o.inner.w[0] = x * 2.0
    return np.sum(o.inner.w**2)


def writes_into_list_items(x):
    xs = [np.zeros(2), np.zeros(2)]
    xs[1][0] = x * 2.0
    xs[0][1] += x
    return np.sum(xs[0] * 3.0) + np.sum(xs[1] ** 2)


def writes_into_dict_items(p, x):
    p["w"][0] = x * p["w"][1]
    return np.sum(p["w"] ** 2)


STATE = State(arr(2), 0.7)
XS = [arr(2, seed=1), arr(2, seed=2)]

CASES = [
    case(sets_an_attribute, STATE, 0.3, wrt=(0, 1)),
    case(augments_an_attribute, STATE, 0.3, wrt=(0, 1)),
    case(seen_through_another_name, STATE, 0.3, wrt=(0, 1)),
    case(steps_by_a_function, STATE, XS, wrt=(0, 1)),
    case(writes_through_an_attribute, Outer(arr(3)), 0.7, wrt=(0, 1)),
    case(writes_two_attributes_deep, Outer(arr(3)), 0.7, wrt=(0, 1)),
    case(writes_into_list_items, 0.7),
    case(writes_into_dict_items, {"w": arr(3)}, 0.7, wrt=(0, 1)),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES)
def test_grad(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


def test_closed_form_and_the_callers_object_is_untouched():
    # h1 = 2 tanh(w h0 + x): d/dx sum(h1) = 2 sum(1 - tanh^2)
    s = State(np.array([0.1, -0.2]), 0.5)
    ds, dx = sourcegrad.grad(sets_an_attribute, wrt=(0, 1))(s, 0.3)
    np.testing.assert_allclose(dx, 2.0 * np.sum(1.0 - np.tanh(0.5 * s.h + 0.3) ** 2))
    assert isinstance(ds, State)
    np.testing.assert_array_equal(s.h, [0.1, -0.2])


def test_emitted_code_sets_the_attribute_on_a_copy():
    df = sourcegrad.grad(sets_an_attribute, wrt=(0, 1))
    df(State(arr(2), 0.7), 0.3)
    assert "s = with_attribute(s, 'h'," in df.source


def held_by_a_list(s, x):
    states = [s]
    s.h = s.h * x
    return np.sum(states[0].h)


def attribute_of_an_array(x):
    y = x * 1.0
    y.shape = (3, 1)
    return np.sum(y)


@pytest.mark.parametrize("f, args, match", [
    (held_by_a_list, (State(arr(2), 0.7), 0.3), "states may share it"),
    (attribute_of_an_array, (arr(3),), "not known to be an object"),
])
def test_what_cannot_be_followed_is_refused(f, args, match):
    with pytest.raises(sourcegrad.UnsupportedSyntaxError, match=match):
        sourcegrad.grad(f)(*args)
