"""Definedness (src/sourcegrad/analysis/definedness.py) on small programs: the names maybe and
surely bound before each statement of the canonical tree, and the names a block reads before it
binds them. Facts read off the programs by hand."""

# ruff: noqa: F841 (the programs below bind names only for the analysis to see)

import numpy as np
from analysis_helpers import statement

from sourcegrad.analysis.definedness import Definedness, upward_exposed
from sourcegrad.pipeline import canonicalize


def facts_before(fn, text):
    """(maybe, surely) bound before the canonical statement `text` of fn."""
    tree = canonicalize(fn).tree
    facts = Definedness(tree)
    stmt = statement(tree, text)
    return set(facts.maybe[id(stmt)]), set(facts.sure[id(stmt)])


def one_arm(x):
    if x > 0.0:  # x_gt_0_0 = x > 0.0
        y = x * 2.0
    z = x + 1.0
    return z


def both_arms(x):
    if x > 0.0:
        y = x
    else:
        y = -x
    return y


def test_a_name_bound_on_one_arm_is_maybe_bound_after_the_branch():
    maybe, sure = facts_before(one_arm, "z = x + 1.0")
    assert sure == {"x", "x_gt_0_0"}
    assert maybe == sure | {"y"}


def test_a_name_bound_on_both_arms_is_surely_bound_after_the_branch():
    maybe, sure = facts_before(both_arms, "return y")
    assert sure == maybe == {"x", "x_gt_0_0", "y"}


def test_inside_an_arm_the_branch_test_is_bound_but_not_the_other_arm():
    maybe, sure = facts_before(both_arms, "y = -x")
    assert sure == maybe == {"x", "x_gt_0_0"}


def accumulate(x, n):
    s = 0.0
    for i in range(n):
        t = x * i
        s = s + t
    return s


def test_a_loop_body_sees_what_its_previous_iteration_bound():
    # before the first statement of the body: t from the iteration before, maybe
    maybe, sure = facts_before(accumulate, "t = x * i")
    assert sure == {"x", "n", "s", "i"}
    assert maybe == sure | {"t"}
    # later in the body, t is surely bound
    maybe, sure = facts_before(accumulate, "s = s + t")
    assert sure == maybe == {"x", "n", "s", "i", "t"}


def test_after_a_for_loop_its_target_and_locals_are_maybe_bound():
    # range(n) may be empty: neither i nor t is surely bound after the loop; s was before it
    maybe, sure = facts_before(accumulate, "return s")
    assert sure == {"x", "n", "s"}
    assert maybe == sure | {"i", "t"}


def doubling(x):
    while x < 10.0:
        y = x * 2.0
        x = y + 1.0
    return x


def test_a_while_loop_binds_nothing_surely():
    maybe, sure = facts_before(doubling, "y = x * 2.0")
    assert sure == {"x"} and maybe == {"x", "y"}
    maybe, sure = facts_before(doubling, "return x")
    assert sure == {"x"} and maybe == {"x", "y"}


def test_upward_exposed_names_are_read_before_the_block_binds_them():
    loop = statement(canonicalize(accumulate).tree, "for i in range(n):")
    # t = x * i; s = s + t: x, i and s flow in, t is bound before it is read
    assert upward_exposed(loop.body) == {"x", "i", "s"}
    assert upward_exposed(loop.body, bound={"i"}) == {"x", "s"}
    # the whole loop: its header reads range and n, its body the rest (i is bound by the
    # header)
    assert upward_exposed([loop]) == {"range", "n", "x", "s"}


def shadowing(x):
    if x > 0.0:  # x_gt_0_0 = x > 0.0
        y = np.sin(x)
    else:
        z = x
    return x


def test_names_bound_on_different_arms_are_each_maybe_bound():
    maybe, sure = facts_before(shadowing, "return x")
    assert sure == {"x", "x_gt_0_0"}
    assert maybe == sure | {"y", "z"}
