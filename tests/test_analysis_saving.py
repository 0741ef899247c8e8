"""Save planning (src/sourcegrad/reverse/saving.py) on small programs: which overwritten values
the adjoint keeps, in a variable outside loops or on one stack per variable inside them, which
loop-locals are pushed once per iteration (or per branch arm) and which cheap ones the reversed
loop recomputes instead. Facts worked out by hand from what each statement's adjoint reads:
`h = np.tanh(a)` reads its result h, `y = a * b` reads a and b, `s = s + t` reads nothing."""

import numpy as np
import pytest
from analysis_helpers import derivative, nodes_by_source

import sourcegrad
from sourcegrad.reverse.saving import Save


def plan(fn, *args, wrt):
    sweeps = derivative(fn, *args, wrt=wrt)
    return sweeps.plan, nodes_by_source(sweeps.nodes)


def style_example(w, x, n):
    h = x
    for i in range(n):
        h = np.tanh(w * h)  # w_times_h = w * h; h = np.tanh(w_times_h)
    loss = np.sum(h * h)
    return loss


def test_a_value_overwritten_in_a_loop_is_pushed_once_per_iteration():
    # the adjoint of w * h reads the h of the iteration before: tanh overwrites it, so each
    # iteration pushes h on its stack; w_times_h is read by no adjoint, w is never reassigned
    saves, nodes = plan(style_example, 0.7, np.ones(3), 3, wrt={"w"})
    step = nodes["h = np.tanh(w_times_h)"]
    assert saves.saves == {id(step): [Save("h", None, "h_saved", True)]}
    assert saves.stacks == {"h": "h_saved"}
    loop = nodes["for i in range(n):"]
    assert saves.loop_locals[id(loop)] == [] and saves.recompute[id(loop)] == []
    assert loop.trips is None  # range(n) replays itself: no iteration counter


def straight_line(x):
    y = x * 2.0
    z = y * y  # its adjoint reads y
    y = np.sin(y)  # overwrites that y
    return z + y


def test_a_value_overwritten_in_straight_line_code_is_kept_in_a_variable():
    saves, nodes = plan(straight_line, 0.5, wrt={"x"})
    step = nodes["y = np.sin(y)"]
    assert saves.saves == {id(step): [Save("y", "y_prev", None, True)]}
    assert saves.stacks == {}


def only_reads(w, x, n):
    s = 0.0
    for i in range(n):
        s = s + w * x[i]  # x_i = x[i]; w_times_x_i = w * x_i; s = s + w_times_x_i
    return s


def test_a_loop_that_only_reads_saves_nothing_and_recomputes_its_cheap_locals():
    # s = s + t reads nothing; w * x_i reads w and x_i, and x_i = x[i] is recomputed in the
    # reversed iteration from x and i, which the body leaves alone
    saves, nodes = plan(only_reads, 0.5, np.ones(3), 3, wrt={"w"})
    loop = nodes["for i in range(n):"]
    assert saves.saves == {} and saves.stacks == {}
    assert saves.recompute[id(loop)] == [nodes["x_i = x[i]"]]
    assert saves.loop_locals[id(loop)] == []


def loop_local(w, x, n):
    s = 0.0
    for i in range(n):
        t = np.sin(w * x)  # w_times_x = w * x; t = np.sin(w_times_x)
        s = s + t * t  # t_times_t = t * t; s = s + t_times_t
    return s


def test_loop_locals_are_pushed_unless_cheap_to_recompute():
    # sin's adjoint reads w_times_x: a product of names the body leaves alone, recomputed;
    # t * t's adjoint reads t, a call's result: pushed once per iteration
    saves, nodes = plan(loop_local, 0.5, 0.3, 3, wrt={"w"})
    loop = nodes["for i in range(n):"]
    assert saves.recompute[id(loop)] == [nodes["w_times_x = w * x"]]
    assert saves.loop_locals[id(loop)] == ["t"]
    assert saves.stacks == {"t": "t_saved"}
    assert saves.saves == {}  # no statement overwrites a value some adjoint still needs


def branch_in_loop(x, n):
    s = 0.5
    for i in range(n):
        if s > 1.0:  # s_gt_1_0 = s > 1.0
            s = s * x
        else:
            s = s + x
    return s


def test_a_branch_in_a_loop_pushes_its_test_and_what_one_arm_overwrites():
    saves, nodes = plan(branch_in_loop, 0.5, 3, wrt={"x"})
    loop = nodes["for i in range(n):"]
    branch = nodes["if s_gt_1_0:"]
    assert id(branch) in saves.branch_tests  # the reversed branch re-reads its test
    assert saves.loop_locals[id(loop)] == ["s_gt_1_0"]
    # s * x reads the s it overwrites; s + x reads nothing
    assert saves.saves == {id(nodes["s = s * x"]): [Save("s", "s_prev", "s_saved", False)]}


def arm_local(x, n):
    s = 0.0
    for i in range(n):
        if x > 0.0:  # x_gt_0_0 = x > 0.0
            u = np.sin(x)
            s = s + u * u  # u_times_u = u * u; s = s + u_times_u
    return s


def test_a_local_of_one_arm_is_pushed_at_the_end_of_that_arm():
    saves, nodes = plan(arm_local, 0.5, 3, wrt={"x"})
    loop = nodes["for i in range(n):"]
    branch = nodes["if x_gt_0_0:"]
    assert saves.arm_locals == {(id(branch), "body"): ["u"]}
    assert saves.loop_locals[id(loop)] == ["x_gt_0_0"]
    assert saves.stacks == {"u": "u_saved", "x_gt_0_0": "x_gt_0_0_saved"}


def overwrites_a_part(x):
    y = np.sin(x)
    s = np.sum(y * y)  # y_times_y = y * y: its adjoint reads y
    y[0] = 0.0
    return s + np.sum(y)


def overwrites_in_a_loop(x, n):
    y = np.sin(x)
    s = 0.0
    for i in range(n):
        s = s + y[i] * y[i]  # y_i = y[i]; y_i_2 = y[i]; ...
        y[i] = 0.5
    return s + np.sum(y)


def test_a_write_keeps_only_the_part_it_overwrites():
    saves, nodes = plan(overwrites_a_part, np.ones(3), wrt={"x"})
    assert saves.saves == {id(nodes["y[0] = 0.0"]): [Save("y", "y_part_prev", None, True)]}


def test_locals_whose_operand_is_written_later_in_the_body_are_pushed():
    # y[i] is cheap, but y[i] = 0.5 changes y later in the same iteration: the reversed
    # iteration could not recompute it, so both reads are pushed; the write itself keeps
    # nothing, since no adjoint reads y but through them
    saves, nodes = plan(overwrites_in_a_loop, np.ones(3), 2, wrt={"x"})
    loop = nodes["for i in range(n):"]
    assert saves.recompute[id(loop)] == []
    assert saves.loop_locals[id(loop)] == ["y_i", "y_i_2"]
    assert saves.saves == {}


def doubling(x):
    while x < 10.0:
        y = x * 2.0
        x = y + 1.0
    return x


def test_a_while_loop_counts_its_iterations_and_saves_nothing_it_does_not_read():
    saves, nodes = plan(doubling, 0.5, wrt={"x"})
    assert nodes["while x < 10.0:"].trips is not None
    assert saves.saves == {} and saves.stacks == {}


def bound_on_some_paths(x):
    if x > 0.0:
        y = x * x
    y = np.sin(y)
    return y


def test_a_value_bound_on_some_paths_that_the_adjoint_needs_is_refused():
    with pytest.raises(sourcegrad.UnsupportedSyntaxError, match="y is bound on only some paths"):
        plan(bound_on_some_paths, 0.5, wrt={"x"})


def tail_copied_into_two_arms(a, x, n):
    for i in range(n):
        if x > 0.3:
            if x < 1.2 - i:
                break
        t = np.sin(a * x)  # lowering the break copies these two lines into both outer arms
        a = a + t * t
    return np.sum(a * a)


def test_a_local_bound_in_two_arms_is_pushed_at_the_end_of_each():
    saves, nodes = plan(tail_copied_into_two_arms, np.ones(3), 0.2, 3, wrt={"a", "x"})
    # the inner orelse (no break) and the outer orelse (x <= 0.3) both bind t and a_times_x
    arms = [names for names in saves.arm_locals.values() if "t" in names]
    assert arms == [["a_times_x", "t"], ["a_times_x", "t"]]


def recomputed_in_inner_loop(y, M):
    for i in range(3):
        for j in range(2):
            M = M * (0.5 * y)  # v0_5_times_y = 0.5 * y: recomputed in the reversed inner loop
    y = y + 0.3
    return y * y + np.sum(M * M)


def test_a_name_an_inner_loop_recomputes_from_is_restored_after_the_outer_loop():
    saves, nodes = plan(recomputed_in_inner_loop, 0.5, np.ones(3), wrt={"y", "M"})
    assert [step.primal.targets[0].id for step in saves.recompute[id(nodes["for j in range(2):"])]
            ] == ["v0_5_times_y"]
    (save,) = saves.saves[id(nodes["y = y + 0.3"])]  # kept and put back after its block
    assert (save.var, save.stack, save.restore) == ("y", None, True)
