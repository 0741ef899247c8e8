"""In-place changes of arrays that other names share, as NumPy does them: a change through a
view (`v = x[1:]; v += d`) shows in `x`, a change of `x` shows in its views and in every name
bound to it (`y = x`), through any chain of views and in loops. Sharing that holds on some
paths only is refused (tests/test_errors.py)."""

import numpy as np
import pytest

import sourcegrad
from oracle import arr, assert_grad, case


def augment_through_a_view(x):
    x = x.copy()
    v = x[1:]
    v += 1.0
    return np.sum(x * x) + np.sum(np.sin(v))


def scale_through_a_view(x, w):
    x = x.copy()
    v = x[1:]
    v *= w
    return np.sum(x**3)


def through_a_transpose(a, b):
    a = a.copy()
    t = a.T
    t += b
    return np.sum(np.tanh(a) * b.T)


def write_into_a_view(x, w):
    x = x.copy()
    v = x[:, 1:]
    v[0] = w * 2.0
    return np.sum(x * x)


def write_into_the_base_seen_by_a_view(x, w):
    x = x.copy()
    v = x[1:]
    x[1] = w * 2.0
    return np.sum(v * v) + np.sum(x)


def write_seen_by_the_same_array(x, w):
    y = x
    x[0] = w
    return np.sum(y * y)


def augment_seen_by_name_and_view(x, w):
    x = x * 1.0
    y = x
    v = y[1:]
    x *= w
    return np.sum(v * v) + np.sum(y)


def view_of_a_view(x, w):
    x = x.copy()
    v = x[1:]
    u = v[1:]
    u += w
    return np.sum(x * x) + np.sum(v)


def view_updated_in_a_loop(x0, w):
    x = x0.copy()
    v = x[1:]
    for _ in range(3):
        v += w * x[:-1]
    return np.sum(x * x)


def heat_step_through_interior(u0, k):
    u = u0.copy()
    inner = u[1:-1]
    for _ in range(4):
        inner += k * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return np.sum(u**2)


def view_made_on_both_paths(x, w):
    x = x.copy()
    if w > 0:
        v = x[1:]
    else:
        v = x[1:]
    v -= w
    return np.sum(x * x)


def argument_changed_through_a_view(x):
    v = x[1:]
    v *= 3.0
    return np.sum(x * x)


CASES = [
    case(augment_through_a_view, arr(4)),
    case(scale_through_a_view, arr(4), 0.7, wrt=(0, 1)),
    case(through_a_transpose, arr(2, 3), arr(3, 2, seed=1), wrt=(0, 1)),
    case(write_into_a_view, arr(2, 3), 0.7, wrt=(0, 1)),
    case(write_into_the_base_seen_by_a_view, arr(4), 0.7, wrt=(0, 1)),
    case(write_seen_by_the_same_array, arr(3), 0.7, wrt=(0, 1)),
    case(augment_seen_by_name_and_view, arr(4), 0.7, wrt=(0, 1)),
    case(view_of_a_view, arr(5), 0.7, wrt=(0, 1)),
    case(view_updated_in_a_loop, arr(4), 0.3, wrt=(0, 1)),
    case(heat_step_through_interior, arr(6), 0.2, wrt=(0, 1)),
    case(view_made_on_both_paths, arr(3), 0.7, wrt=(0, 1), name="both_paths-taken"),
    case(view_made_on_both_paths, arr(3), -0.7, wrt=(0, 1), name="both_paths-else"),
    case(argument_changed_through_a_view, arr(3)),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES)
def test_grad(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


def test_view_update_matches_closed_form():
    # x = [x0, 3 x1, 3 x2] after `v *= 3`: f = x0^2 + 9 x1^2 + 9 x2^2
    x = np.array([0.5, 1.0, -2.0])
    got = sourcegrad.grad(argument_changed_through_a_view)(x)
    np.testing.assert_allclose(got, [1.0, 18.0, -36.0])
    np.testing.assert_array_equal(x, [0.5, 1.0, -2.0])  # the caller's array is untouched


def test_the_value_is_numpys():
    x = arr(6)
    value, _ = sourcegrad.value_and_grad(heat_step_through_interior, wrt=(0, 1))(x, 0.2)
    assert value == pytest.approx(heat_step_through_interior(x, 0.2), rel=1e-13)


def test_emitted_code_writes_the_view_back():
    df = sourcegrad.grad(augment_through_a_view)
    df(arr(4))
    assert "x[1:] = v" in df.source and "v = x[1:]" in df.source


# -- lists and dicts shared by two names: a change through one shows through the other ------------


def appends_to_a_shared_list(x):
    xs = [x]
    ys = xs
    xs.append(3.0 * x)
    return sum(ys)


def writes_into_a_shared_list(x):
    xs = [x, 2.0 * x]
    ys = xs
    xs[0] = 5.0 * x
    return sum(ys) * x


def extends_a_shared_list(x):
    xs = [x]
    ys = xs
    xs += [4.0 * x]
    return sum(ys) ** 2


def writes_into_a_shared_dict(x):
    d = {"a": x, "b": x * x}
    e = d
    d["a"] = 7.0 * x
    return e["a"] * e["b"]


def slice_of_a_list_then_append(x):
    xs = [x, 2.0 * x]
    tail = xs[1:]  # a copy: the append does not show in it
    xs.append(x)
    return sum(tail) + sum(xs)


@pytest.mark.parametrize("f", [appends_to_a_shared_list, writes_into_a_shared_list,
                               extends_a_shared_list, writes_into_a_shared_dict])
def test_shared_containers(f):
    assert_grad(f, 1.5)


def test_shared_list_matches_closed_form():
    # ys = [x, 3x]: d/dx sum(ys) = 4
    assert sourcegrad.grad(appends_to_a_shared_list)(1.5) == pytest.approx(4.0)


def test_a_slice_of_a_changed_list_is_refused_not_guessed():
    with pytest.raises(sourcegrad.UnsupportedSyntaxError, match="tail may share it"):
        sourcegrad.grad(slice_of_a_list_then_append)(1.5)
