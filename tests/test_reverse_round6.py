"""Round 6: the sharing model, dead-binding removal, writes after `x = x.copy()` and functions
changing their array arguments, each checked against the finite-difference oracle and its value
against the function itself.

Covered: objects passed in bound to a second name (`q = p`), swapped (`p, t = t, p`, also in a
loop), attributes read into names before the attribute is set again (`h = s.h; s.h = ...`),
state-updating helpers called by name that return `state.h`; name-to-name bindings overwritten
later in the same block (closures and lambdas reading them, loops, `while` conditions, swaps
through a temporary, rebinding after in-place changes, helpers changing the array); views taken
before, between and after `x = x.copy()` and the writes that follow (arguments, loops, a second
copy); functions changing their array arguments (views passed in, defaults, recursion, helpers
calling helpers, keyword calls, branches, swaps through `a[:] = b`). Constructs that cannot be
followed (methods changing an argument, one array handed twice to a changing function,
conditional aliases written into) must be refused with `UnsupportedSyntaxError`.
"""

from dataclasses import dataclass

import numpy as np
import pytest

import sourcegrad
from oracle import arr, assert_value_and_grad, case

X3 = arr(3, seed=11)
X4 = arr(4, seed=12)
W = 0.7


class State:
    def __init__(self, h):
        self.h = h


@dataclass
class Pair:
    a: np.ndarray
    b: np.ndarray


def _state():
    return State(arr(3, lo=-1.0, hi=1.0, seed=21))


def _pair():
    return Pair(arr(3, seed=22), arr(3, seed=23))


# -- 1. objects and names sharing them ------------------------------------------------------------


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


def arrays_swapped_in_loop_then_written(x, w):
    a = x * 1.0
    b = x * 2.0
    for i in range(3):
        a, b = b, a
        a[i] = w * (i + 1)
    return np.sum(a**2) + np.sum(b**3)


def list_item_rebound_not_written(x, w):
    a = x * 1.0
    ys = [a, a * 2]
    ys[0] = ys[0] * w
    return np.sum(a**2) + np.sum(ys[0])


def list_alias_appended(x, w):
    ys = [x * 1.0]
    zs = ys
    zs.append(x * w)
    return np.sum(ys[1] ** 2)


def dict_alias_item_set(x, w):
    d = {"a": x * 1.0}
    e = d
    e["a"] = x * w
    return np.sum(d["a"] ** 2)


OBJECT_CASES = [
    case(second_name_sees_attribute, _state(), W, wrt=(0, 1)),
    case(old_attribute_kept_by_name, _state(), W, wrt=(0, 1)),
    case(objects_swapped_then_set, _pair(), _pair(), W, wrt=(0, 1, 2)),
    case(objects_swapped_then_augmented, _pair(), _pair(), W, wrt=(0, 1, 2)),
    case(objects_swapped_in_loop, _state(), _state(), W, wrt=(0, 1, 2)),
    case(dict_object_item_written, {"s": _state()}, W, wrt=1),
    case(dict_object_attribute_set_through_item, {"s": _state()}, W, wrt=1),
    case(nested_object_written, State(_state()), W, wrt=1),
    case(new_name_for_expression_of_attribute, _state(), W, wrt=(0, 1)),
    case(dead_alias_of_object, _state(), _state(), W, wrt=(0, 1, 2)),
    case(alias_dropped_after_use, _state(), W, wrt=(0, 1)),
    case(attribute_read_twice, _state(), W, wrt=(0, 1)),
    case(old_value_carried_in_loop, _state(), W, wrt=(0, 1)),
    case(step_results_kept, _state(), W, wrt=(0, 1)),
    case(step_results_between_sets, _state(), W, wrt=(0, 1)),
    case(attributes_swapped_through_temporary, _pair(), W, wrt=(0, 1)),
    case(attribute_bound_to_other_then_rebound, _pair(), W, wrt=(0, 1)),
    case(attribute_of_other_object_then_rebound, _pair(), _pair(), W, wrt=(0, 1, 2)),
    case(arrays_swapped_in_loop_then_written, X3, W, wrt=(0, 1)),
    case(list_item_rebound_not_written, X3, W, wrt=(0, 1)),
    case(list_alias_appended, X3, W, wrt=(0, 1)),
    case(dict_alias_item_set, X3, W, wrt=(0, 1)),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", OBJECT_CASES)
def test_objects_and_sharing(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)


# -- 2. bindings overwritten before they are read -------------------------------------------------


def closure_reads_binding_later_overwritten(x, w):
    def g():
        return np.sum(t * w)

    t = x
    r = g()
    t = x * 2.0
    return r + np.sum(t)


def lambda_reads_binding_later_overwritten(x, w):
    g = lambda: np.sum(t**2)  # noqa: E731
    t = x * w
    r = g()
    t = x
    return r + np.sum(t)


def binding_read_on_next_iteration(x, w):
    t = x
    total = 0.0
    for _ in range(3):
        total = total + np.sum(t * w)
        t = x
        t = t * w
    return total


def binding_read_in_while_condition(x, w):
    t = x
    n = 0
    y = x * w
    while np.sum(t) < 5.0 and n < 4:
        t = y
        t = t + 1.0
        n += 1
    return np.sum(t * w)


def rebound_after_write(x, w):
    y = x * 1.0
    t = y
    y[0] = w
    t = y
    return np.sum(t**2)


def rebound_after_augmented(x, w):
    y = x * 1.0
    t = y
    t += w
    t = x
    return np.sum(t**2) + np.sum(y**2)


def rebound_after_write_in_branch(x, w):
    y = x * 1.0
    t = y
    if w > 0:
        t[0] = w
    t = x
    return np.sum(t**2) + np.sum(y**2)


def rebound_in_loop_after_write(x, w):
    y = x * 1.0
    for i in range(2):
        t = y
        t[i] = w * i
        t = x
    return np.sum(y**2) + np.sum(t)


def swap_through_temporary_in_loop(x, w):
    a = x * w
    b = x + 1.0
    for _ in range(3):
        t = a
        a = b
        b = t
        t = a
    return np.sum(a * 2.0 + b**2)


def _fill_first(u, w):
    u[0] = w


def alias_of_array_changed_by_helper(x, w):
    y = x * 1.0
    t = y
    _fill_first(t, w)
    t = x
    return np.sum(y**2) + np.sum(t)


def view_augmented_after_alias_rebound(x, w):
    y = x * 1.0
    t = y
    v = y[1:]
    t = x
    v += w
    return np.sum(y**2) + np.sum(t)


def binding_skipped_by_continue(x, w):
    s = 0.0
    t = x
    for i in range(3):
        if i == 1:
            continue
        s = s + np.sum(t) * w
        t = x
        t = t * w
    return s


DEAD_BINDING_CASES = [
    case(closure_reads_binding_later_overwritten, X3, W, wrt=(0, 1)),
    case(lambda_reads_binding_later_overwritten, X3, W, wrt=(0, 1)),
    case(binding_read_on_next_iteration, X3, W, wrt=(0, 1)),
    case(binding_read_in_while_condition, X3, W, wrt=(0, 1)),
    case(rebound_after_write, X3, W, wrt=(0, 1)),
    case(rebound_after_augmented, X3, W, wrt=(0, 1)),
    case(rebound_after_write_in_branch, X3, W, wrt=(0, 1)),
    case(rebound_in_loop_after_write, X3, W, wrt=(0, 1)),
    case(swap_through_temporary_in_loop, X3, W, wrt=(0, 1)),
    case(alias_of_array_changed_by_helper, X3, W, wrt=(0, 1)),
    case(view_augmented_after_alias_rebound, X3, W, wrt=(0, 1)),
    case(binding_skipped_by_continue, X3, W, wrt=(0, 1)),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", DEAD_BINDING_CASES)
def test_dead_bindings(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)


# -- 3. writes after x = x.copy() -----------------------------------------------------------------


def argument_view_before_copy(x, w):
    v = x[1:]
    x = x.copy()
    x[1] = w
    return np.sum(v**2) + np.sum(x**2)


def view_after_copy_before_write(x, w):
    x = x.copy()
    v = x[1:]
    x[1] = w
    return np.sum(v**2) + np.sum(x)


def view_between_writes(x, w):
    x = x.copy()
    x[0] = w
    v = x[1:]
    x[1] = w * 2
    return np.sum(v**2) + np.sum(x)


def copy_and_write_in_loop(x, w):
    y = x * 1.0
    for i in range(3):
        v = y[i:]
        y = y.copy()
        y[i] = w * np.sum(v)
    return np.sum(y**2)


def view_before_loop_of_copies(x, w):
    y = x * 1.0
    v = y[1:]
    for i in range(3):
        y = y.copy()
        y[i] = w * np.sum(v)
    return np.sum(y**2) + np.sum(v)


def transpose_before_copy_then_augmented(x, w):
    y = x * 1.0
    v = y.T
    y = y.copy()
    y += w
    return np.sum(v**2) + np.sum(y**2)


def old_view_written_after_copy(x, w):
    y = x * 1.0
    v = y[1:]
    y = y.copy()
    v[0] = w
    y[0] = w
    return np.sum(v**2) + np.sum(y**3)


def argument_written_viewed_copied_written(x, w):
    x[0] = w
    v = x[1:]
    x = x.copy()
    x[1] = w
    return np.sum(v**2) + np.sum(x)


def view_between_two_copies(x, w):
    y = x * 1.0
    y = y.copy()
    v = y[1:]
    y[1] = w
    y = y.copy()
    y[2] = w * 2
    return np.sum(v**2) + np.sum(y**2)


def alias_taken_between_writes(x, w):
    y = x * 1.0
    y = y.copy()
    y[1] = w
    out = y
    y[2] = y[1] * w
    return np.sum(out**2)


def alias_before_copy_both_written(x, w):
    y = x * 1.0
    z = y
    y = y.copy()
    y[0] = w
    z[1] = w
    return np.sum(y**2) + np.sum(z**3)


def view_rebuilt_after_each_copy(x, w):
    y = x * 1.0
    v = y[1:]
    for i in range(2):
        y = y.copy()
        y[i + 1] = w * (i + 1)
        v = y[1:]
    return np.sum(v**2) + np.sum(y)


COPY_CASES = [
    case(argument_view_before_copy, X4, W, wrt=(0, 1)),
    case(view_after_copy_before_write, X4, W, wrt=(0, 1)),
    case(view_between_writes, X4, W, wrt=(0, 1)),
    case(copy_and_write_in_loop, X4, W, wrt=(0, 1)),
    case(view_before_loop_of_copies, X4, W, wrt=(0, 1)),
    case(transpose_before_copy_then_augmented, X4, W, wrt=(0, 1)),
    case(old_view_written_after_copy, X4, W, wrt=(0, 1)),
    case(argument_written_viewed_copied_written, X4, W, wrt=(0, 1)),
    case(view_between_two_copies, X4, W, wrt=(0, 1)),
    case(alias_taken_between_writes, X4, W, wrt=(0, 1)),
    case(alias_before_copy_both_written, X4, W, wrt=(0, 1)),
    case(view_rebuilt_after_each_copy, X4, W, wrt=(0, 1)),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", COPY_CASES)
def test_writes_after_copy(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)


# -- 4. functions changing their array arguments --------------------------------------------------


def _scale_default(u, s=2.0):
    u *= s


def _fill_back(u, n, w):
    if n == 0:
        return u
    u[n] = u[n - 1] * w
    return _fill_back(u, n - 1, w)


def _scale(u, s):
    u *= s
    return u


def _fill_then_scale(u, w):
    _fill_first(u, w)
    return _scale(u, w)


def _swap_contents(a, b):
    t = a.copy()
    a[:] = b
    b[:] = t


def _fill_n(u, w, n=2):
    for i in range(n):
        u[i] = u[i] * w
    return u


def view_sees_helper_write(x, w):
    y = x * 1.0
    v = y[1:]
    _fill_first(y, w)
    return np.sum(v**2) + np.sum(y**2)


def helper_with_default(x, w):
    y = x * 1.0
    _scale_default(y)
    _scale_default(y, w)
    return np.sum(y**2)


def recursive_helper(x, w):
    y = x * 1.0
    r = _fill_back(y, 3, w)
    return np.sum(y**2) + np.sum(r)


def helper_on_view(x, w):
    y = x * 1.0
    _scale(y[1:], w)
    return np.sum(y**2)


def helper_on_transpose(x, w):
    y = x * 1.0
    r = _scale(y.T, w)
    return np.sum(r**2) + np.sum(y)


def helper_by_keyword(x, w):
    y = x * 1.0
    _fill_first(u=y, w=w)
    return np.sum(y**2)


def helper_in_branch(x, w):
    y = x * 1.0
    if w > 0:
        _fill_first(y, w)
    return np.sum(y**2)


def helper_on_argument_with_view(x, w):
    v = x[1:]
    _fill_first(x, w)
    return np.sum(v**2) + np.sum(x)


def helpers_calling_helpers(x, w):
    y = x * 1.0
    r = _fill_then_scale(y, w)
    return np.sum(r) + np.sum(y**2)


def element_read_before_helper(x, w):
    y = x * 1.0
    s = y[0]
    _scale(y, w)
    return s + y[0]


def contents_swapped_by_helper(x, w):
    a = x * w
    b = x + 1.0
    _swap_contents(a, b)
    return np.sum(a**2) + np.sum(b)


def result_rebinds_argument(x, w):
    y = x * 1.0
    y = _fill_n(y, w)
    y = _fill_n(y, w, 3)
    return np.sum(y**2)


def result_kept_argument_rebound(x, w):
    y = x * 1.0
    z = _fill_n(y, w)
    y = x * 2.0
    return np.sum(z**2) + np.sum(y)


CHANGING_CASES = [
    case(view_sees_helper_write, X4, W, wrt=(0, 1)),
    case(helper_with_default, X4, W, wrt=(0, 1)),
    case(recursive_helper, X4, W, wrt=(0, 1)),
    case(helper_on_view, X4, W, wrt=(0, 1)),
    case(helper_on_transpose, X4, W, wrt=(0, 1)),
    case(helper_by_keyword, X4, W, wrt=(0, 1)),
    case(helper_in_branch, X4, W, wrt=(0, 1)),
    case(helper_on_argument_with_view, X4, W, wrt=(0, 1)),
    case(helpers_calling_helpers, X4, W, wrt=(0, 1)),
    case(element_read_before_helper, X4, W, wrt=(0, 1)),
    case(contents_swapped_by_helper, X4, W, wrt=(0, 1)),
    case(result_rebinds_argument, X4, W, wrt=(0, 1)),
    case(result_kept_argument_rebound, X4, W, wrt=(0, 1)),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", CHANGING_CASES)
def test_changing_helpers(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)


# -- refused --------------------------------------------------------------------------------------


class _Layer:
    def __init__(self, w):
        self.w = w

    def fill(self, u, v):
        u[0] = v * self.w

    def apply(self, u):
        u *= self.w
        return u


def _two(a, b, w):
    a[0] = w
    b[1] = a[0] * w


def method_changes_argument(layer, x, w):
    y = x * w
    layer.fill(y, w)
    return np.sum(y**2)


def method_returns_changed_argument(layer, x, w):
    y = x * w
    r = layer.apply(y)
    return np.sum(r**2) + np.sum(y)


def array_handed_twice(x, w):
    y = x * 1.0
    _two(y, y, w)
    return np.sum(y**2)


def overlapping_views_handed(x, w):
    y = x * 1.0
    _two(y[:2], y[1:3], w)
    return np.sum(y**2)


def conditional_alias_written(x, w):
    a = x * 1.0
    y = a if w > 0 else x
    y[0] = w
    return np.sum(a**2)


def conditional_object_alias_set(s, t, w):
    q = s if w > 0 else t
    q.h = q.h * w
    return np.sum(s.h**2) + np.sum(t.h)


def part_of_attribute_written(s, w):
    h = s.h
    s.h[0] = w
    return np.sum(h * h)


@pytest.mark.parametrize("f, args, wrt", [
    (method_changes_argument, (_Layer(1.5), X3, W), (1, 2)),
    (method_returns_changed_argument, (_Layer(1.5), X3, W), (1, 2)),
    (array_handed_twice, (X4, W), (0, 1)),
    (overlapping_views_handed, (X4, W), (0, 1)),
    (conditional_alias_written, (X3, W), (0, 1)),
    (conditional_object_alias_set, (_state(), _state(), W), (0, 1, 2)),
    (part_of_attribute_written, (_state(), W), (0, 1)),
])
def test_refused(f, args, wrt):
    with pytest.raises(sourcegrad.UnsupportedSyntaxError):
        sourcegrad.grad(f, wrt=wrt)(*args)
