"""Programs the adversarial round 6 found answered wrongly or crashing: comprehensions that
rebind the name they loop over (now right), and objects or arrays shared through containers
and attributes (`s = d["s"]; s.h = ...`, `p.a = y; y[0] = w`), now refused at the user's line
instead of answered as if nothing were shared."""

import copy
from dataclasses import dataclass

import numpy as np
import pytest

import sourcegrad
from oracle import assert_value_and_grad


class S:
    def __init__(self, h):
        self.h = h


@dataclass
class P:
    a: np.ndarray
    b: np.ndarray


X = np.array([0.5, -1.2, 0.8])
W = 0.7


def mk():
    return S(np.array([0.3, 0.9, -0.4]))


def mk2():
    return P(np.array([0.3, 0.9, -0.4]), np.array([1.1, -0.6, 0.2]))


# -- A. comprehension rebinding the name it iterates over: `ys = [f(v) for v in ys]` =========
# Emitted code does `ys = []` and then loops over the new empty `ys`: crashes (IndexError,
# KeyError, zip error) or, through an alias, gives value 0 and gradient 0.

def comp_rebinds_local_list(x, w):
    ys = [x, x * 2]
    ys = [v * w for v in ys]
    return np.sum(ys[0]) + np.sum(ys[1])


def comp_rebinds_argument_list(xs, w):
    xs = [v * w for v in xs]
    return sum(np.sum(v) for v in xs)


def comp_over_array_rebinds(x, w):
    t = x * w
    t = [t[i] * 2 for i in range(3)]
    return t[0] + t[2]


def dict_comp_rebinds(d, w):
    d = {k: v * w for k, v in d.items()}
    return np.sum(d["a"]) + np.sum(d["b"])


def comp_rebinds_in_loop(x, w):
    ys = [x, x * 2]
    for _ in range(2):
        ys = [v * w for v in ys]
    return np.sum(ys[0]) + np.sum(ys[1] ** 2)


def comp_rebinds_alias(xs, w):   # WRONG: value 0, gradient 0 (no crash)
    t = xs
    t = [v * w for v in t]
    return sum(np.sum(v) for v in t)


# -- B. object taken out of a container / attribute, then an attribute of it set ==============
# Setting `s.h` where s came from `lst[0]`, `d["s"]`, `t[0]`, `o.h` is not seen through the
# container: reading `lst[0].h` gives the old array. Python: one object, the container sees it.

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


# -- C. array stored into an attribute (`p.a = y`) does not share with y ======================
# Python: p.a and y are one array; an in-place change through either is seen by the other.

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


FIXED = [
    (dict_comp_rebinds, ({"a": X, "b": X * 2}, W), (0, 1)),
    (comp_rebinds_local_list, (X, W), (0, 1)),
    (comp_rebinds_argument_list, ([X, X * 2], W), (0, 1)),
    (comp_over_array_rebinds, (X, W), (0, 1)),
    (comp_rebinds_in_loop, (X, W), (0, 1)),
    (comp_rebinds_alias, ([X, X * 2], W), (0, 1)),
]


@pytest.mark.parametrize("f, args, wrt", FIXED)
def test_now_right(f, args, wrt):
    assert_value_and_grad(f, *args, wrt=wrt)


REFUSED = [
    (obj_from_dict_attr_set, ({"s": mk()}, W), 1),
    (obj_from_list_attr_set, ([mk()], W), 1),
    (obj_from_list_both_reads, ([mk()], W), 1),
    (obj_from_tuple_attr_set, ((mk(),), W), 1),
    (obj_negative_index, ([mk(), mk()], W), 1),
    (obj_variable_index, ([mk(), mk()], W), 1),
    (two_objs_from_dict, ({"a": mk(), "b": mk()}, W), 1),
    (inner_obj_attr_set, (S(mk()), W), 1),
    (obj_from_dict_setter, ({"s": mk()}, W), 1),
    (inner_obj_setter, (S(mk()), W), 1),
    (list_holding_arg_obj, (mk2(), W), (0, 1)),
    (dict_holding_arg_obj, (mk2(), W), (0, 1)),
    (attr_from_other_attr_item_write, (mk2(), mk2(), W), (0, 1, 2)),
    (attr_from_other_attr_aug, (mk2(), mk2(), W), (0, 1, 2)),
    (attr_from_arg_then_arg_written, (mk2(), X, W), (0, 1, 2)),
    (attr_from_arg_then_attr_written, (mk2(), X, W), (0, 1, 2)),
    (attr_from_local_attr_aug, (mk2(), X, W), (0, 1, 2)),
    (attr_from_local_local_aug, (mk2(), X, W), (0, 1, 2)),
    (dict_of_attr_item_write, (mk2(), W), (0, 1)),
    (attr_holds_view_of_other_attr, (mk2(), W), (0, 1)),
    (attr_holds_view_of_local, (mk2(), X, W), (0, 1, 2)),
]


@pytest.mark.parametrize("f, args, wrt", REFUSED)
def test_now_refused(f, args, wrt):
    with pytest.raises(sourcegrad.UnsupportedSyntaxError):
        sourcegrad.grad(f, wrt=wrt)(*copy.deepcopy(args))
