"""Syntax sourcegrad does not differentiate (raise, eval, exec, set comprehensions, for-else,
starred assignment and calls, try, nonlocal, global, with, yield) is refused with an
UnsupportedSyntaxError that points at the user's line, wherever it hides: a branch not taken, a
closure, a method, a helper. Refusals of a construct sourcegrad does support (an in-place change
it cannot follow) are tested with that construct."""


import numpy as np
import pytest
from provenance import found_in

import sourcegrad
from oracle import assert_refused_at

# -- unsupported syntax at the user's line --------------------------------------------------------




def err_raise_in_branch(x):
    if x < 0:
        raise ValueError("negative")
    return x * 2.0


def err_eval(x):
    return eval("x * 2.0")


def err_exec(x):
    exec("y = 1")
    return x * 2.0


def err_set_comprehension(x):
    s = {v for v in [x, 2.0 * x]}
    return x * len(s)


def err_for_else(x):
    total = 0.0
    for i in range(3):
        total = total + x * i
    else:
        total = total + 1.0
    return total


def err_starred_unpack(x):
    a, *rest = [x, 2.0 * x, 3.0 * x]
    return a * len(rest)


def err_starred_call(x):
    args = (x, 2.0)
    return np.sum(*args)  # np.sum's parameters have defaults: how many *args fills is unknown


def err_raise_in_closure(x):
    def check(t):
        if t > 10:
            raise ValueError("big")
        return t * t

    return check(x)


def err_try_in_method_holder(block, x):
    return block.run(x)


class _TryBlock:
    def run(self, x):
        try:
            return x * 2.0
        except ValueError:
            return x


def err_nonlocal_in_closure(x):
    total = 0.0

    def add(t):
        nonlocal total
        total = total + t
        return total

    return add(x) * x


def err_global_in_loop(x):
    for _ in range(2):
        global TABLE
    return x


def err_with_in_loop(x):
    total = 0.0
    for _ in range(2):
        with np.errstate(all="ignore"):
            total = total + x
    return total


def err_yield_in_closure(x):
    def gen(t):
        yield t

    return sum(gen(x))


ERRORS = found_in("round4", [
    pytest.param(err_raise_in_branch, (-1.5,), "raise ValueError", err_raise_in_branch, id="raise"),
    pytest.param(err_raise_in_branch, (1.5,), "raise ValueError", err_raise_in_branch,
                 id="raise-not-taken"),
    pytest.param(err_eval, (1.5,), 'eval("x', err_eval, id="eval"),
    pytest.param(err_exec, (1.5,), 'exec("y', err_exec, id="exec"),
    pytest.param(err_set_comprehension, (1.5,), "{v for v", err_set_comprehension,
                 id="set-comprehension"),
    pytest.param(err_for_else, (1.5,), "for i in range(3)", err_for_else, id="for-else"),
    pytest.param(err_starred_unpack, (1.5,), "a, *rest", err_starred_unpack, id="starred-unpack"),
    pytest.param(err_starred_call, (1.5,), "np.sum(*args)", err_starred_call, id="starred-call"),
    pytest.param(err_raise_in_closure, (1.5,), "raise ValueError", err_raise_in_closure,
                 id="raise-in-closure"),
    pytest.param(err_try_in_method_holder, (_TryBlock(), 1.5), "try:", _TryBlock.run,
                 id="try-in-method"),
    pytest.param(err_nonlocal_in_closure, (1.5,), "nonlocal total", err_nonlocal_in_closure,
                 id="nonlocal-in-closure"),
    pytest.param(err_global_in_loop, (1.5,), "global TABLE", err_global_in_loop,
                 id="global-in-loop"),
    pytest.param(err_with_in_loop, (1.5,), "with np.errstate", err_with_in_loop, id="with-in-loop"),
    pytest.param(err_yield_in_closure, (1.5,), "yield t", err_yield_in_closure,
                 id="yield-in-closure"),
])


@pytest.mark.parametrize("f, args, marker, holder", ERRORS)
def test_unsupported_points_at_user_line(f, args, marker, holder):
    assert_refused_at(f, args, marker, holder)


def test_unsupported_in_vjp_and_value_and_grad():
    with pytest.raises(sourcegrad.SourcegradError):
        sourcegrad.vjp(err_for_else, 1.5)
    with pytest.raises(sourcegrad.SourcegradError):
        sourcegrad.value_and_grad(err_starred_unpack)(1.5)
