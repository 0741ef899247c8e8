"""Shape facts (src/sourcegrad/analysis/shapes.py) on small programs: the shape of each variable
before each statement of the canonical tree when NumPy's rules fix it for every input of the
argument shapes, a fixed point at loops, and unknown (None; a None length: the rank is known,
the length is not) wherever the data or the trip count decides. Facts worked out by hand from
NumPy's rules."""

# ruff: noqa: F841 (the programs below bind names only for the analysis to see)

import numpy as np
import pytest
from analysis_helpers import abstract_params, statement

from sourcegrad.analysis.shapes import ShapeFacts
from sourcegrad.pipeline import canonicalize


def facts_of(fn, *args):
    canonical = canonicalize(fn)
    facts = ShapeFacts(canonical.tree, abstract_params(canonical, args), canonical.calls)
    return canonical.tree, facts


def env_before(fn, args, text):
    tree, facts = facts_of(fn, *args)
    return facts.env_at(statement(tree, text))


def numpy_rules(a, b, w, n):
    c = a * b
    d = a @ b
    e = np.sum(a, axis=0)
    f = np.mean(a, axis=1, keepdims=True)
    g = a.T
    h = w * d
    k = a[0]
    m = a[:, 1:]
    z = np.zeros(n)
    z2 = np.zeros((2, n))
    r = np.arange(n)
    big = b[b > 0.0]  # b_gt_0_0 = b > 0.0; big = b[b_gt_0_0]
    i = np.argmax(b)
    bi = b[i]
    return np.sum(c) + np.sum(h)


A23, B3 = np.ones((2, 3)), np.ones(3)


@pytest.mark.parametrize("name, shape", [
    ("a", (2, 3)), ("b", (3,)), ("w", ()), ("n", ()),
    ("c", (2, 3)),  # (2, 3) * (3,): broadcast
    ("d", (2,)),  # (2, 3) @ (3,)
    ("e", (3,)),  # summed over axis 0
    ("f", (2, 1)),  # mean over axis 1, kept
    ("g", (3, 2)),  # transposed
    ("h", (2,)),  # float * (2,)
    ("k", (3,)),  # a row
    ("m", (2, 2)),  # columns 1 and 2
    ("z", (None,)),  # np.zeros(n): one axis, its length the argument's value, not its shape
    ("z2", (2, None)),
    ("r", (None,)),
    ("b_gt_0_0", (3,)),
    ("big", None),  # a boolean mask: the length depends on the data
    ("i", ()),
    ("bi", ()),  # an array indexed by an integer
])
def test_numpy_fixes_these_shapes(name, shape):
    env = env_before(numpy_rules, (A23, B3, 0.7, 4), "return sum_c_plus_sum_h")
    assert env[name].shape == shape


@pytest.mark.parametrize("name, integer", [
    ("n", True), ("i", True), ("r", True), ("w", False), ("z", False), ("bi", False),
])
def test_integers_are_known_as_integers(name, integer):
    # an int argument, np.argmax and np.arange of ints hold integers: they index without repeats
    env = env_before(numpy_rules, (A23, B3, 0.7, 4), "return sum_c_plus_sum_h")
    assert env[name].integer is integer


def same_shape_each_iteration(w, h, n):
    for i in range(n):
        h = np.tanh(w * h)
    return np.sum(h)


def shorter_each_iteration(y, n):
    for i in range(n):
        y = y[1:]
    return np.sum(y)


def rank_grows_on_the_first_iteration(x, n):
    s = 0.0
    for i in range(n):
        s = s + x
    return np.sum(s)


def test_a_shape_that_holds_on_every_iteration_is_the_fixed_point():
    tree, facts = facts_of(same_shape_each_iteration, 0.7, np.ones(3), 5)
    loop = statement(tree, "for i in range(n):")
    inside = facts.env_at(statement(tree, "h = np.tanh(w_times_h)"))
    assert inside["h"].shape == (3,) and inside["w_times_h"].shape == (3,)
    assert inside["i"].integer
    assert facts.exit[id(loop)]["h"].shape == (3,)


def test_a_length_that_changes_each_iteration_is_unknown_its_rank_known():
    # (4,), then (3,), (2,), ...: at the loop head one axis of unknown length
    tree, facts = facts_of(shorter_each_iteration, np.ones(4), 2)
    loop = statement(tree, "for i in range(n):")
    assert facts.env_at(statement(tree, "y = y[1:]"))["y"].shape == (None,)
    assert facts.exit[id(loop)]["y"].shape == (None,)


def test_a_rank_that_depends_on_the_trip_count_is_unknown():
    # s is 0.0 if the loop does not run, (3,) if it does
    tree, facts = facts_of(rank_grows_on_the_first_iteration, np.ones(3), 2)
    loop = statement(tree, "for i in range(n):")
    assert facts.env_at(loop)["s"].shape == ()
    assert facts.env_at(statement(tree, "s = s + x"))["s"].shape is None
    assert facts.exit[id(loop)]["s"].shape is None


def branches(x, c):
    if c > 0.0:  # c_gt_0_0 = c > 0.0
        y = x
        u = x
    else:
        y = 0.0
        u = x * 2.0
    return np.sum(y) + np.sum(u)


def test_after_a_branch_what_both_arms_agree_on():
    env = env_before(branches, (np.ones(3), 0.5), "sum_y = np.sum(y)")
    assert env["u"].shape == (3,)  # (3,) on both arms
    assert env["y"].shape is None  # (3,) on one arm, a float on the other
    assert env["c_gt_0_0"].shape == ()


def test_inside_an_arm_its_own_bindings():
    env = env_before(branches, (np.ones(3), 0.5), "u = x * 2.0")
    assert env["y"].shape == ()


def containers(w, x):
    p = {"w": w, "b": x}
    q = p["b"]
    xs = [x, w]
    v = xs[1]
    r = xs[0] * w
    return np.sum(q) + v + np.sum(r)


def test_items_of_lists_and_dicts_keep_their_shapes():
    env = env_before(containers, (0.5, np.ones(3)), "return total")
    assert env["q"].shape == (3,) and env["v"].shape == () and env["r"].shape == (3,)
    assert env["p"].is_dict and dict(env["p"].items)["w"].shape == ()
    assert [item.shape for item in env["xs"].items] == [(3,), ()]


def appended(x, n):
    xs = []
    for i in range(n):
        xs.append(x * i)
    return np.sum(np.stack(xs))


def test_a_list_appended_to_forgets_its_items():
    env = env_before(appended, (np.ones(3), 2), "stack_xs = np.stack(xs)")
    assert env["xs"].items is None and env["xs"].shape is None


def test_shapes_follow_the_arguments_of_each_call():
    # the same function, other argument shapes: other facts (derivatives are specialized on
    # these, and cached per argument shapes)
    env = env_before(numpy_rules, (np.ones((4, 2)), np.ones(2), 0.7, 4), "return sum_c_plus_sum_h")
    assert env["c"].shape == (4, 2) and env["d"].shape == (4,) and env["g"].shape == (2, 4)
    env = env_before(numpy_rules, (np.ones((2, 3)), np.ones(3), np.ones((3, 1)), 4),
                     "return sum_c_plus_sum_h")
    assert env["h"].shape == (3, 2)  # (3, 1) * (2,)
