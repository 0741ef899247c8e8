"""Properties of the emitted derivative where its shape is the point: what is saved, what is
left out, comments tying blocks to the user's lines, tracebacks through the derivative. The
gradients themselves are checked against the oracle in the other modules."""

import linecache
import re
import traceback
from pathlib import Path

import numpy as np
import pytest

import sourcegrad
from oracle import assert_grad

FILE = Path(__file__).name


def style_example(w, x, n):
    h = x
    for i in range(n):
        h = np.tanh(w * h)
    loss = np.sum(h * h)
    return loss


def reads_only_in_loop(w, x, n):
    s = 0.0
    for i in range(n):
        s = s + np.sin(w * x[i])
    return s


def straight_line_reassign(x):
    y = np.sin(x)
    y = y * y
    y = np.exp(y)
    return np.sum(y)


def two_args(w, b):
    return np.sum(np.tanh(w) * b)


def emitted(f, *args, wrt=0):
    df = sourcegrad.grad(f, wrt=wrt)
    df(*args)
    return df.source


def test_loop_saves_only_the_overwritten_value_it_needs():
    source = emitted(style_example, 0.7, np.array([0.5, -0.3, 1.2]), 3)
    assert set(re.findall(r"(\w+_saved) = \[\]", source)) == {"h_saved"}
    assert source.count("h_saved.append(h)") == 1
    assert "w_saved" not in source and "dh_times_h" in source
    assert_grad(style_example, 0.7, np.array([0.5, -0.3, 1.2]), 3)


def test_loop_that_only_reads_saves_nothing():
    # x[i] and w * x[i] are recomputed in the reversed loop, not stacked
    source = emitted(reads_only_in_loop, 0.3, np.array([0.1, 0.2, 0.3]), 3)
    assert "_saved" not in source
    assert "for i in reversed(range(n)):" in source
    assert_grad(reads_only_in_loop, 0.3, np.array([0.1, 0.2, 0.3]), 3)


def test_straight_line_reassignment_keeps_old_values_in_variables():
    source = emitted(straight_line_reassign, np.array([0.2, 0.4]))
    assert "_saved" not in source
    assert "y_prev" in source


def test_no_adjoint_code_for_arguments_outside_wrt():
    source = emitted(two_args, np.array([0.1, 0.2]), np.array([1.0, 2.0]), wrt=1)
    assert "db" in source and "dw" not in source


def _scaled_tanh(x, w):
    return np.tanh(w * x)


def _layer(x, w):
    return _scaled_tanh(x, w)


def calls_a_helper(w, x):
    return np.sum(_layer(x, w))


def test_forward_of_a_call_binds_its_tape_without_a_placeholder():
    source = emitted(calls_a_helper, 0.7, np.array([0.5, -0.3]))
    assert "scaled_tanh_forward(" in source and "= None" not in source
    assert_grad(calls_a_helper, 0.7, np.array([0.5, -0.3]), wrt=(0, 1))


def test_each_adjoint_block_names_the_users_line():
    source = emitted(style_example, 0.7, np.array([0.5, -0.3, 1.2]), 3)
    tanh_line = style_example.__code__.co_firstlineno + 3
    assert f"# {FILE}:{tanh_line}  h = np.tanh(w * h)" in source
    assert "(iterations in reverse)" in source


def test_traceback_through_the_derivative_shows_its_lines():
    def bad_shapes(a, b):
        return np.sum(a @ b)

    df = sourcegrad.grad(bad_shapes, wrt=1)
    with pytest.raises(ValueError) as info:
        df(np.ones((2, 3)), np.ones((4,)))
    frames = traceback.extract_tb(info.value.__traceback__)
    emitted_frames = [f for f in frames if f.filename.startswith("<sourcegrad")]
    assert emitted_frames, "the derivative's frame is in the traceback"
    frame = emitted_frames[-1]
    assert frame.line, "linecache knows the emitted source"
    assert frame.line == linecache.getline(frame.filename, frame.lineno).strip()


def test_derivative_specializes_on_shapes_and_stays_correct_for_others():
    x = np.array([0.5, -0.3, 1.2])
    assert_grad(style_example, 0.7, x, 3)
    assert_grad(style_example, np.array([0.7, 0.1, 0.2]), x, 3)
    assert_grad(style_example, 0.7, x.reshape(3, 1) * np.ones((3, 2)), 2)
