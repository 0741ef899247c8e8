"""Activity analysis (src/sourcegrad/analysis/activity.py) on small programs: which names are
varied (depend differentiably on wrt), useful (reach the output) and active (both). Each fact
below is read off the program by hand; the canonical names of temporaries are shown in the
comments (`w_times_h` holds `w * h`)."""

# ruff: noqa: F841 (the programs below bind names only for the analysis to see)

import numpy as np
import pytest

from sourcegrad import stop_gradient
from sourcegrad.analysis.activity import analyze_activity
from sourcegrad.pipeline import canonicalize


def activity(fn, wrt):
    canonical = canonicalize(fn)
    return analyze_activity(canonical.tree, set(wrt), canonical.calls, {canonical.output.id})


def rnn(w, x, n):
    h = x
    for i in range(n):
        h = np.tanh(w * h)  # w_times_h = w * h; h = np.tanh(w_times_h)
    loss = np.sum(h * h)  # h_times_h = h * h
    return loss


@pytest.mark.parametrize("wrt, active, inactive", [
    # w varies w * h, hence h (through the loop), hence the loss; x only reaches the output
    ({"w"}, {"w", "w_times_h", "h", "h_times_h", "loss"}, {"x", "n", "i"}),
    # h = x: x varies h, then everything after it; w still multiplies h, but does not vary
    ({"x"}, {"x", "w_times_h", "h", "h_times_h", "loss"}, {"w", "n", "i"}),
])
def test_a_loop_carries_activity_from_wrt_to_the_output(wrt, active, inactive):
    facts = activity(rnn, wrt)
    assert {name for name in active | inactive if facts.is_active(name)} == active
    # x and w are useful either way: both reach the loss
    assert {"x", "w"} <= facts.useful
    # the trip count and the counter carry no gradient
    assert not {"n", "i"} & (facts.varied | facts.useful)


def cuts(x):
    n = len(x)
    m = np.argmax(x)
    s = np.floor(x)
    q = x // 2.0
    b = x > 0.0
    c = stop_gradient(x)
    y = x * n + s + q + m + c
    return np.sum(y * b)


def test_functions_and_operators_without_gradient_do_not_vary():
    facts = activity(cuts, {"x"})
    # len, argmax, floor, //, a comparison and stop_gradient: each result is a constant
    # as far as derivatives go, though each is computed from x and reaches the output
    for name in ("n", "m", "s", "q", "b", "c"):
        assert name not in facts.varied, name
        assert name in facts.useful, name
    assert facts.is_active("x") and facts.is_active("y")


def dead_and_constant(x, w):
    a = np.sin(x)  # varied, but never reaches the output
    b = w * 2.0  # reaches the output, but does not depend on x
    return x * b


def test_varied_but_useless_and_useful_but_constant_are_both_inactive():
    facts = activity(dead_and_constant, {"x"})
    assert "a" in facts.varied and "a" not in facts.useful
    assert "b" in facts.useful and "b" not in facts.varied
    assert "w" in facts.useful and "w" not in facts.varied
    assert not facts.is_active("a") and not facts.is_active("b")
    assert facts.is_active("x")


def rebound_to_a_constant(x):
    y = x
    y = 3.0
    return y


def test_one_fact_per_name_whatever_the_statement():
    # flow-insensitive, hence conservative: y is active because one of its values depends on
    # x, though the value returned is the constant 3.0
    facts = activity(rebound_to_a_constant, {"x"})
    assert facts.is_active("y") and facts.is_active("x")


def written_into(x):
    y = np.zeros(3)
    y[0] = x * 2.0  # x_times_2_0 = x * 2.0; y[0] = x_times_2_0
    return np.sum(y)


def appended_to(x):
    xs = []
    xs.append(x * 2.0)
    return np.sum(np.stack(xs))


@pytest.mark.parametrize("fn, container", [(written_into, "y"), (appended_to, "xs")])
def test_a_container_written_or_appended_to_becomes_varied(fn, container):
    # np.zeros(3) and [] vary nothing; the write `y[0] = v` and `xs.append(v)` make the
    # container hold a varied value (and keep what it held)
    facts = activity(fn, {"x"})
    assert facts.is_active(container)
    assert facts.is_active("x_times_2_0")


def one_arm(x):
    if x > 0.0:  # x_gt_0_0 = x > 0.0
        y = x * 2.0
    z = x + 1.0
    return z


def test_a_branch_test_is_not_varied_and_an_unread_arm_is_not_useful():
    facts = activity(one_arm, {"x"})
    assert "x_gt_0_0" not in facts.varied  # a comparison
    assert "y" in facts.varied and "y" not in facts.useful  # nothing after the if reads y
    assert facts.is_active("z")
