"""Setting attributes (`state.h = v`, `state.h += v`) and writing through attributes and items
(`obj.buf[i] = v`, `xs[k][0] = v`, `p["w"][0] = v`), as Python does them: every name holding the
object sees the change, and so does the caller of a function, called by name, that changes its
argument. The caller's own object is never changed by the derivative. Also objects bound to two
names or swapped, attributes read into names before they are set again, RNN-like
`step(state, x)` in loops and recursion; objects taken out of containers and arrays stored into
attributes, which cannot be followed yet, are refused."""

import copy
from dataclasses import dataclass

import numpy as np
import pytest
from provenance import found_in

import sourcegrad
from oracle import arr, assert_value_and_grad, case


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
    case(writes_through_an_attribute, Outer(arr(3)), 0.7, wrt=(0, 1),
         name="writes_through_an_attribute"),
    case(writes_two_attributes_deep, Outer(arr(3)), 0.7, wrt=(0, 1),
         name="writes_two_attributes_deep"),
    case(writes_into_list_items, 0.7),
    case(writes_into_dict_items, {"w": arr(3)}, 0.7, wrt=(0, 1)),
]


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


# -- attributes of objects passed in: set, augmented, written through -----------------------------


X3 = arr(3, seed=5)


@dataclass
class Cell:
    W: np.ndarray
    U: np.ndarray
    h: np.ndarray


@dataclass
class Pair:
    a: np.ndarray
    b: np.ndarray


class Plain:
    def __init__(self, w, buf):
        self.w = w
        self.buf = buf


class Holder:
    def __init__(self, inner, scale):
        self.inner = inner
        self.scale = scale


def _cell_step(state, x):
    state.h = np.tanh(state.W @ state.h + state.U @ x)


def _cell_step_returning(state, x):
    state.h = np.tanh(state.W @ state.h + state.U @ x)
    return state.h


def _cell_steps(state, x, n):
    if n == 0:
        return
    state.h = np.tanh(state.W @ state.h + state.U @ x)
    _cell_steps(state, x, n - 1)


def _set_w(p, v):
    p.w = v


def rnn_over_a_sequence(s, xs):
    for x in xs:
        _cell_step(s, x)
    return np.sum(s.h**2)


def rnn_result_dropped(s, xs):
    for x in xs:
        _cell_step_returning(s, x)
    return np.sum(s.h)


def rnn_by_recursion(s, x):
    _cell_steps(s, x, 3)
    return np.sum(s.h)


def float_attribute_augmented(p, x):
    p.w += x
    p.w *= 2.0
    return p.w * np.sum(p.buf)


def attribute_buffer_written_in_loop(p, x):
    for i in range(3):
        p.buf[i] = p.buf[i] * p.w + x[i]
    return np.sum(p.buf**2)


def attribute_slice_augmented(p, x):
    p.buf[1:] += x[:2] * p.w
    return np.sum(np.sin(p.buf))


def nested_attribute_written(o, x):
    o.inner.buf[0] = x * o.scale
    o.inner.w = o.inner.w * x
    return np.sum(o.inner.buf**2) + o.inner.w


def nested_attribute_augmented(o, x):
    o.inner.buf += x
    return np.sum(o.inner.buf**2) * o.scale


def list_item_written(xs, w):
    xs[1][0] = w
    return np.sum(xs[0] * xs[1])


def dict_item_written(d, w):
    d["a"][1] = w * d["b"][0]
    return np.sum(d["a"] ** 2) + np.sum(d["b"])


def objects_read_from_a_list(objs, x):
    total = 0.0
    for o in objs:
        total = total + o.w * x
    return total


def object_with_two_names(p, x):
    q = p
    q.w = q.w * x
    p.buf = p.buf * p.w
    return np.sum(q.buf)


def attribute_set_in_branch(p, x):
    if x > 0:
        p.w = p.w * x
    return p.w * np.sum(p.buf)


def attribute_set_in_while(p, x):
    n = 0
    while n < 3:
        p.buf = p.buf * x + p.w
        n += 1
    return np.sum(p.buf**2)


def helper_sets_attribute_twice(p, x):
    _set_w(p, p.w * x)
    _set_w(p, p.w + x)
    return p.w * np.sum(p.buf)


def new_attribute_set(p, x):
    p.extra = x * 2.0
    return p.extra * p.w


def dataclass_array_written(s, x):
    s.h[0] = x
    s.h[1:] = s.h[1:] * x
    return np.sum(s.h**2) + np.sum(s.W)


def attributes_set_on_alternate_iterations(t, w):
    for i in range(3):
        if i % 2 == 0:
            t.a = t.a * w
        else:
            t.b += t.a
    return np.sum(t.a * t.b)


class Net:
    def __init__(self, ws, w):
        self.ws = ws
        self.w = w


def list_items_written_in_loop(xs, w):
    for k in range(len(xs)):
        xs[k][0] = xs[k][1] * w
    return np.sum(xs[0] * xs[1])


def dict_item_written_in_loop(d, w):
    for i in range(3):
        d["w"][i] = d["w"][i] * w + d["b"]
    return np.sum(d["w"] ** 2)


def attribute_list_item_written(o, w):
    o.ws[0][1] = w * o.w
    return np.sum(o.ws[0] ** 2) + np.sum(o.ws[1])


def _cell():
    return Cell(arr(3, 3, seed=1) * 0.5, arr(3, 2, seed=2) * 0.5, arr(3, seed=3))


def _plain():
    return Plain(0.7, arr(3, seed=7))


def _pair():
    return Pair(arr(3, seed=1), arr(3, seed=2))


SEQ = [arr(2, seed=4), arr(2, seed=5), arr(2, seed=6)]


def attribute_rebound_old_kept(p, x):
    old = p.buf
    p.buf = p.buf * x
    return np.sum(old**2) + np.sum(p.buf)


def _step_returning(state, x):
    state.h = np.tanh(state.W @ state.h + state.U @ x)
    return state.h


def rnn_collects_states(s, xs):
    hs = []
    for x in xs:
        h = _step_returning(s, x)
        hs.append(h)
    return np.sum(np.stack(hs) ** 2)


V4 = np.array([0.3, -1.2, 0.8, 1.5])


def _random_cell():
    rng = np.random.default_rng(0)
    return Cell(rng.normal(size=(3, 3)) * 0.5, rng.normal(size=(3, 2)) * 0.5, rng.normal(size=3))


ATTRIBUTES = found_in("round5", [
    case(rnn_over_a_sequence, _cell(), SEQ, wrt=(0, 1)),
    case(rnn_result_dropped, _cell(), SEQ, wrt=(0, 1)),
    case(rnn_by_recursion, _cell(), SEQ[0], wrt=(0, 1)),
    case(float_attribute_augmented, _plain(), 0.3, wrt=(0, 1)),
    case(attribute_buffer_written_in_loop, _plain(), X3, wrt=(0, 1)),
    case(attribute_slice_augmented, _plain(), X3, wrt=(0, 1)),
    case(nested_attribute_written, Holder(_plain(), 1.3), 0.4, wrt=(0, 1)),
    case(nested_attribute_augmented, Holder(_plain(), 1.3), 0.4, wrt=(0, 1)),
    case(list_item_written, [arr(3), arr(3, seed=1)], 0.4, wrt=(0, 1)),
    case(dict_item_written, {"a": arr(3), "b": arr(3, seed=1)}, 0.4, wrt=(0, 1)),
    case(objects_read_from_a_list, [_plain(), Plain(0.3, arr(3))], 0.4, wrt=(0, 1)),
    case(object_with_two_names, _plain(), 0.4, wrt=(0, 1)),
    case(attribute_set_in_branch, _plain(), 0.4, wrt=(0, 1), name="branch-taken"),
    case(attribute_set_in_branch, _plain(), -0.4, wrt=(0, 1), name="branch-not_taken"),
    case(attribute_set_in_while, _plain(), 0.4, wrt=(0, 1)),
    case(helper_sets_attribute_twice, _plain(), 0.4, wrt=(0, 1)),
    case(new_attribute_set, _plain(), 0.4, wrt=(0, 1)),
    case(dataclass_array_written, _cell(), 0.4, wrt=(0, 1)),
    case(attributes_set_on_alternate_iterations, _pair(), 0.7, wrt=(0, 1)),
    case(list_items_written_in_loop, [arr(3), arr(3, seed=1)], 0.7, wrt=(0, 1)),
    case(dict_item_written_in_loop, {"w": arr(3), "b": 0.3}, 0.7, wrt=(0, 1)),
    case(attribute_list_item_written, Net([arr(3), arr(3, seed=1)], 0.5), 0.7, wrt=(0, 1)),
]) + found_in("round5-found", [
    case(attribute_rebound_old_kept, Plain(0.7, V4.copy()), 0.4, wrt=(0, 1)),
    case(rnn_collects_states, _random_cell(), [np.array([0.1, 0.2]), np.array([-0.3, 0.5])],
         wrt=(0, 1)),
])


# -- objects bound to two names, swapped, read before they are set again --------------------------


W = 0.7


class Hidden:
    def __init__(self, h):
        self.h = h


def _state():
    return Hidden(arr(3, lo=-1.0, hi=1.0, seed=21))


def _other_pair():
    return Pair(arr(3, seed=22), arr(3, seed=23))


def second_name_sees_attribute(s, w):
    q = s
    s.h = s.h * w
    return np.sum(q.h**2)


def old_attribute_kept_by_name(s, w):
    h = s.h
    s.h = s.h * w
    return np.sum(h**3) + np.sum(s.h)


def objects_swapped_then_set(p, t, w):
    p, t = t, p
    p.a = p.a * w
    return np.sum(t.a**2) + np.sum(p.a**3)


def objects_swapped_then_augmented(p, t, w):
    p, t = t, p
    p.a += w
    return np.sum(t.a**2) + np.sum(p.a**3)


def objects_swapped_in_loop(s, t, w):
    for _ in range(3):
        s.h = s.h * w + t.h
        s, t = t, s
    return np.sum(s.h**2) + np.sum(t.h)


def dict_object_item_written(d, w):
    d["s"].h[1] = w
    return np.sum(d["s"].h ** 2)


def dict_object_attribute_set_through_item(d, w):
    d["s"].h = d["s"].h * w
    s = d["s"]
    return np.sum(s.h**2)


def nested_object_written(o, w):
    o.h.h[0] = w
    return np.sum(o.h.h ** 2)


def new_name_for_expression_of_attribute(s, w):
    h = s.h
    h = h + w
    return np.sum(s.h**2) + np.sum(h)


def dead_alias_of_object(s, t, w):
    q = s
    q = t
    q.h = q.h * w
    return np.sum(s.h**2) + np.sum(t.h**3)


def alias_dropped_after_use(s, w):
    q = s
    q.h = q.h * w
    q = None
    return np.sum(s.h**2)


def attribute_read_twice(s, w):
    h = s.h
    s.h = s.h * w
    h = s.h
    s.h = s.h + 1.0
    return np.sum(h**2) + np.sum(s.h)


def old_value_carried_in_loop(s, w):
    old = s.h
    for _ in range(3):
        s.h = old * w + s.h
        old = s.h
    return np.sum(old**2)


def _step_returning_h(state, w):
    state.h = np.tanh(state.h * w)
    return state.h


def step_results_kept(s, w):
    hs = []
    for _ in range(3):
        h = _step_returning_h(s, w)
        hs.append(h)
    return sum(np.sum(h * (k + 1)) for k, h in enumerate(hs))


def step_results_between_sets(s, w):
    h1 = _step_returning_h(s, w)
    s.h = s.h * 3.0
    h2 = _step_returning_h(s, w)
    return np.sum(h1**2) + np.sum(h2)


def attributes_swapped_through_temporary(p, w):
    a = p.a
    p.a = p.b
    p.b = a * w
    return np.sum(p.a**2) + np.sum(p.b**3) + np.sum(a)


def attribute_bound_to_other_then_rebound(p, w):
    p.a = p.b
    p.b = p.b * w
    return np.sum(p.a**2) + np.sum(p.b)


def attribute_of_other_object_then_rebound(p, q, w):
    p.a = q.a
    q.a = q.a * w
    return np.sum(p.a**2) + np.sum(q.a**3)


SHARING = found_in("round6", [
    case(second_name_sees_attribute, _state(), W, wrt=(0, 1)),
    case(old_attribute_kept_by_name, _state(), W, wrt=(0, 1)),
    case(objects_swapped_then_set, _other_pair(), _other_pair(), W, wrt=(0, 1, 2)),
    case(objects_swapped_then_augmented, _other_pair(), _other_pair(), W, wrt=(0, 1, 2)),
    case(objects_swapped_in_loop, _state(), _state(), W, wrt=(0, 1, 2)),
    case(dict_object_item_written, {"s": _state()}, W, wrt=1),
    case(dict_object_attribute_set_through_item, {"s": _state()}, W, wrt=1),
    case(nested_object_written, Hidden(_state()), W, wrt=1),
    case(new_name_for_expression_of_attribute, _state(), W, wrt=(0, 1)),
    case(dead_alias_of_object, _state(), _state(), W, wrt=(0, 1, 2)),
    case(alias_dropped_after_use, _state(), W, wrt=(0, 1)),
    case(attribute_read_twice, _state(), W, wrt=(0, 1)),
    case(old_value_carried_in_loop, _state(), W, wrt=(0, 1)),
    case(step_results_kept, _state(), W, wrt=(0, 1)),
    case(step_results_between_sets, _state(), W, wrt=(0, 1)),
    case(attributes_swapped_through_temporary, _other_pair(), W, wrt=(0, 1)),
    case(attribute_bound_to_other_then_rebound, _other_pair(), W, wrt=(0, 1)),
    case(attribute_of_other_object_then_rebound, _other_pair(), _other_pair(), W, wrt=(0, 1, 2)),
])


# -- writes through items of lists and dicts ------------------------------------------------------


# B4 write into a list of lists of floats: TypeError: unsupported operand type(s) for +: 'float'
#    and 'list' (add_tree). Python: fine.
def nested_list_item_written(x):
    grid = [[x, x], [x, x]]
    grid[0][1] = x * x
    return grid[1][1] + grid[0][1]


# B5 write through an attribute of an object held by a list argument:
#    TypeError: unsupported operand type(s) for +: 'float' and 'dict'.
def object_in_list_array_written(ts, w):
    ts[0].a[0] = w
    return np.sum(ts[0].a ** 2) + np.sum(ts[1].b)


def _small_pair():
    return Pair(np.array([1.0, 2.0]), np.array([3.0, 4.0]))


def list_of_arrays_written(xs, w):
    """Arrays in a list, each written into after a copy."""
    out = [x.copy() for x in xs]
    for k in range(len(out)):
        out[k][0] = out[k][1] * w
    return sum(np.sum(o**2) for o in out)


def array_in_dict_written(x):
    state = {"u": x.copy()}
    state["u"][0] = x[1] ** 2
    return np.sum(state["u"] ** 2)


ITEMS = found_in("round5-found", [
    case(nested_list_item_written, 0.7),
    case(object_in_list_array_written, [_small_pair(), _small_pair()], 0.7, wrt=(0, 1)),
]) + found_in("newer", [
    case(list_of_arrays_written, [arr(3), arr(3, seed=1)], 0.8, wrt=(0, 1),
         name="list_of_arrays_written"),
    case(array_in_dict_written, arr(3)),
])


# -- objects shared through containers and attributes: refused ------------------------------------


def _accumulate_into(dst, src, s):
    dst.a += s * src.a
    dst.b = dst.b * s


def same_object_passed_twice(t, w):
    _accumulate_into(t, t, w)
    return np.sum(t.a**2) + np.sum(t.b)


def objects_in_list_attribute_set(ts, w):
    for t in ts:
        t.a = t.a * w
    return np.sum(ts[0].a ** 2)


def objects_in_list_attribute_augmented(ts, w):
    for t in ts:
        t.a *= w
    return np.sum(ts[0].a ** 2)


def _scale_attr(t, s):
    t.a *= s


def objects_in_list_changed_by_function(ts, w):
    for t in ts:
        _scale_attr(t, w)
    return np.sum(ts[0].a ** 2)


# A17 two attributes bound to one array: a write through t.a shows in t.b; got t.b unchanged.
def attributes_share_an_array(t, w):
    t.a = t.b
    t.a[0] = w
    return np.sum(t.b**2)


def attributes_share_an_array_augmented(t, w):
    t.a = t.b
    t.a *= w
    return np.sum(t.b**2) + np.sum(t.a)


def conditional_object_alias_set(s, t, w):
    q = s if w > 0 else t
    q.h = q.h * w
    return np.sum(s.h**2) + np.sum(t.h)


def part_of_attribute_written(s, w):
    h = s.h
    s.h[0] = w
    return np.sum(h * h)


Z3 = np.array([0.5, -1.2, 0.8])


def mk():
    return Hidden(np.array([0.3, 0.9, -0.4]))


def mk2():
    return Pair(np.array([0.3, 0.9, -0.4]), np.array([1.1, -0.6, 0.2]))


def obj_from_dict_attr_set(d, w):
    s = d["s"]
    s.h = s.h * w
    return np.sum(d["s"].h ** 2)


def obj_from_list_attr_set(lst, w):
    s = lst[0]
    s.h = s.h * w
    return np.sum(lst[0].h ** 2)


def obj_from_list_both_reads(lst, w):
    s = lst[0]
    s.h = s.h * w
    return np.sum(lst[0].h ** 2) + np.sum(s.h)


def obj_from_tuple_attr_set(t, w):
    s = t[0]
    s.h = s.h * w
    return np.sum(t[0].h ** 2)


def obj_negative_index(lst, w):
    s = lst[-1]
    s.h = s.h * w
    return np.sum(lst[1].h ** 2)


def obj_variable_index(lst, w):
    i = 0
    s = lst[i]
    s.h = s.h * w
    return np.sum(lst[0].h ** 2)


def two_objs_from_dict(objs, w):
    a = objs["a"]
    b = objs["b"]
    a.h = b.h * w
    b.h = a.h + w
    return np.sum(objs["a"].h ** 2) + np.sum(objs["b"].h)


def inner_obj_attr_set(o, w):
    inner = o.h
    inner.h = inner.h * w
    return np.sum(o.h.h ** 2)


def _setter(s, w):
    s.h = s.h * w


def obj_from_dict_setter(d, w):      # value right, gradient 0
    s = d["s"]
    _setter(s, w)
    return np.sum(d["s"].h ** 2)


def inner_obj_setter(o, w):          # value right, gradient 0
    inner = o.h
    _setter(inner, w)
    return np.sum(o.h.h ** 2)


def list_holding_arg_obj(p, w):
    lst = [p]
    lst[0].a = p.a * w
    return np.sum(p.a ** 2)


def dict_holding_arg_obj(p, w):
    d = {"p": p}
    q = d["p"]
    q.a = q.a * w
    return np.sum(p.a ** 2)


def attr_from_other_attr_item_write(p, q, w):
    p.a = q.a
    q.a[0] = w
    return np.sum(p.a ** 2)


def attr_from_other_attr_aug(p, q, w):
    p.a = q.a
    q.a += w
    return np.sum(p.a ** 2)


def attr_from_arg_then_arg_written(p, x, w):   # value right, gradient wrong
    p.a = x
    x[0] = w
    return np.sum(p.a ** 2)


def attr_from_arg_then_attr_written(p, x, w):
    p.a = x
    p.a[0] = w
    return np.sum(x ** 2)


def attr_from_local_attr_aug(p, x, w):
    y = x * 1.0
    p.a = y
    p.a *= w
    return np.sum(y ** 2)


def attr_from_local_local_aug(p, x, w):
    y = x * 1.0
    p.a = y
    y *= w
    return np.sum(p.a ** 2)


def dict_of_attr_item_write(p, w):
    d = {"a": p.a}
    d["a"][0] = w
    return np.sum(p.a ** 2)


# crashes: InternalError "gradient of shape (2,) for an argument of shape (3,)"
def attr_holds_view_of_other_attr(p, w):
    p.b = p.a[1:]
    p.b *= w
    return np.sum(p.a ** 2)


def attr_holds_view_of_local(p, x, w):
    y = x * 1.0
    p.a = y[1:]
    y *= w
    return np.sum(p.a ** 2)


REFUSED = found_in("round5-found", [
    (objects_in_list_attribute_set, ([_small_pair()], 2.0), (0, 1)),
    (objects_in_list_attribute_augmented, ([_small_pair()], 2.0), (0, 1)),
    (objects_in_list_changed_by_function, ([_small_pair()], 2.0), (0, 1)),
    (attributes_share_an_array, (_small_pair(), 0.7), (0, 1)),
    (attributes_share_an_array_augmented, (_small_pair(), 0.7), (0, 1)),
]) + found_in("round6", [
    (conditional_object_alias_set, (_state(), _state(), W), (0, 1, 2)),
    (part_of_attribute_written, (_state(), W), (0, 1)),
]) + found_in("round6-found", [
    (obj_from_dict_attr_set, ({"s": mk()}, W), 1),
    (obj_from_list_attr_set, ([mk()], W), 1),
    (obj_from_list_both_reads, ([mk()], W), 1),
    (obj_from_tuple_attr_set, ((mk(),), W), 1),
    (obj_negative_index, ([mk(), mk()], W), 1),
    (obj_variable_index, ([mk(), mk()], W), 1),
    (two_objs_from_dict, ({"a": mk(), "b": mk()}, W), 1),
    (inner_obj_attr_set, (Hidden(mk()), W), 1),
    (obj_from_dict_setter, ({"s": mk()}, W), 1),
    (inner_obj_setter, (Hidden(mk()), W), 1),
    (list_holding_arg_obj, (mk2(), W), (0, 1)),
    (dict_holding_arg_obj, (mk2(), W), (0, 1)),
    (attr_from_other_attr_item_write, (mk2(), mk2(), W), (0, 1, 2)),
    (attr_from_other_attr_aug, (mk2(), mk2(), W), (0, 1, 2)),
    (attr_from_arg_then_arg_written, (mk2(), Z3, W), (0, 1, 2)),
    (attr_from_arg_then_attr_written, (mk2(), Z3, W), (0, 1, 2)),
    (attr_from_local_attr_aug, (mk2(), Z3, W), (0, 1, 2)),
    (attr_from_local_local_aug, (mk2(), Z3, W), (0, 1, 2)),
    (dict_of_attr_item_write, (mk2(), W), (0, 1)),
    (attr_holds_view_of_other_attr, (mk2(), W), (0, 1)),
    (attr_holds_view_of_local, (mk2(), Z3, W), (0, 1, 2)),
])


REFUSED_AT_LINE = found_in("round5", [
    (same_object_passed_twice, (Pair(X3, X3 * 2.0), 0.7), "_accumulate_into(t, t, w)",
     "hands it t"),
])


@pytest.mark.parametrize("f, args, marker, match", REFUSED_AT_LINE)
def test_refused_at_the_users_line(f, args, marker, match):
    with pytest.raises(sourcegrad.UnsupportedSyntaxError, match=match) as info:
        sourcegrad.grad(f, wrt=len(args) - 1)(*args)
    assert marker in str(info.value)


# -- the cases above against the oracle -----------------------------------------------------------


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES + ATTRIBUTES + SHARING + ITEMS)
def test_grad(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)


@pytest.mark.parametrize("f, args, wrt", REFUSED)
def test_refused(f, args, wrt):
    with pytest.raises(sourcegrad.UnsupportedSyntaxError):
        sourcegrad.grad(f, wrt=wrt)(*copy.deepcopy(args))
