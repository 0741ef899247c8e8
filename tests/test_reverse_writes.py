"""Writes into arrays: `y[i] = v`, `y[i] += v`, slices, masks, rows and columns, inside loops:
stencils, integrators writing a trajectory, the Thomas algorithm, hand-written cumulative sums.
The caller's arrays are never changed (assert_grad checks), even when f writes into them."""

import numpy as np
import pytest

import sourcegrad
from oracle import arr, assert_grad, case


def cumulative_sum(x):
    y = np.zeros(len(x))
    y[0] = x[0]
    for i in range(1, len(x)):
        y[i] = y[i - 1] + x[i]
    return np.sum(y * y)


def euler_trajectory(k, x0, n):
    traj = np.zeros(n + 1)
    traj[0] = x0
    for t in range(n):
        traj[t + 1] = traj[t] + 0.1 * (-k * traj[t] ** 3)
    return np.sum(traj**2)


def oscillator(omega, damping, state0, n):
    dt = 0.05
    traj = np.zeros((n + 1, 2))
    traj[0] = state0
    for t in range(n):
        x, v = traj[t, 0], traj[t, 1]
        traj[t + 1, 0] = x + dt * v
        traj[t + 1, 1] = v - dt * (omega**2 * x + damping * v)
    return np.sum(traj[:, 0] ** 2)


def laplacian_stencil(u):
    lap = np.zeros(len(u))
    for i in range(1, len(u) - 1):
        lap[i] = u[i - 1] - 2.0 * u[i] + u[i + 1]
    return np.sum(lap * lap) + np.sum(u**4)


def thomas(a, b, c, d):
    """Solve a tridiagonal system by the Thomas algorithm, return a weighted sum of x."""
    n = len(d)
    cp = np.zeros(n)
    dp = np.zeros(n)
    cp[0] = c[0] / b[0]
    dp[0] = d[0] / b[0]
    for i in range(1, n):
        m = b[i] - a[i] * cp[i - 1]
        cp[i] = c[i] / m
        dp[i] = (d[i] - a[i] * dp[i - 1]) / m
    x = np.zeros(n)
    x[n - 1] = dp[n - 1]
    for i in range(n - 2, -1, -1):
        x[i] = dp[i] - cp[i] * x[i + 1]
    return np.sum(x * np.arange(1.0, n + 1.0))


def augmented_slices(a):
    b = a.copy()
    b[1:] += 2.0 * a[:-1]
    b[0] *= 3.0
    b[-1] -= a[0] ** 2
    return np.sum(b**2)


def rows_and_columns(m, s):
    out = np.ones((3, 4))
    for i in range(3):
        out[i, :] = m[i] * s
    out[:, 1] *= s
    out[:, 2] = out[:, 2] + m[0, 1]
    return np.sum(np.sin(out))


def masked_write(x):
    y = x * 2.0
    y[x > 0.0] = x[x > 0.0] ** 3
    return np.sum(y)


def write_into_argument(a):
    a[0] = a[1] * 2.0
    a[2] += a[0]
    return np.sum(a * a)


def overwrite_and_read_again(x):
    y = np.zeros(3)
    total = 0.0
    for k in range(4):
        y[k % 3] = x[k % 3] * (k + 1.0)
        total = total + np.sum(y * y)
    return total


def write_scalar_into_slice(x, s):
    y = x.copy()
    y[1:3] = s
    return np.sum(y * x)


def prefix_products(x):
    p = np.ones(len(x) + 1)
    for i in range(len(x)):
        p[i + 1] = p[i] * x[i]
    return np.sum(p)


def matrix_fill(w):
    m = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            m[i, j] = np.sin(w * (i + 1) * (j + 2))
    return np.sum(m @ m)


CASES = [
    case(cumulative_sum, arr(5)),
    case(euler_trajectory, 0.8, 1.1, 6),
    case(oscillator, 1.3, 0.2, np.array([1.0, 0.0]), 10, wrt=(0, 1, 2)),
    case(laplacian_stencil, arr(7)),
    case(thomas, arr(5) * 0.1, arr(5) + 4.0, arr(5) * 0.1, arr(5), wrt=(0, 1, 2, 3)),
    case(augmented_slices, arr(4)),
    case(rows_and_columns, arr(3, 4), 0.7, wrt=(0, 1)),
    case(masked_write, np.array([0.5, -0.3, 1.2, -0.8])),
    case(write_into_argument, arr(4)),
    case(overwrite_and_read_again, arr(3)),
    case(write_scalar_into_slice, arr(5), 0.3, wrt=(0, 1)),
    case(prefix_products, arr(5)),
    case(matrix_fill, 0.4),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES)
def test_grad(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


def test_writing_into_an_argument_leaves_the_callers_array_alone():
    a = np.array([0.5, -1.0, 2.0, 0.3])
    before = a.copy()
    sourcegrad.grad(write_into_argument)(a)
    np.testing.assert_array_equal(a, before)


def test_only_the_overwritten_part_is_saved():
    df = sourcegrad.grad(euler_trajectory)
    df(0.8, 1.1, 6)
    assert "traj_saved" not in df.source, "no write overwrites what the adjoint reads"
    assert "dtraj[t + 1] = 0.0" in df.source


def repeated_index_write(x):
    y = np.zeros(3)
    y[np.array([0, 0, 1])] = x
    return np.sum(y * y)


def test_write_with_repeated_indices_is_refused():
    with pytest.raises(sourcegrad.NoRuleError, match="repeated indices"):
        sourcegrad.grad(repeated_index_write)(np.array([1.0, 2.0, 3.0]))


GLOBAL_BUFFER = np.zeros(3)


def writes_global(x):
    GLOBAL_BUFFER[0] = x
    return x * 2.0


def view_then_write(x):
    y = x.copy()
    head = y[:2]
    y[0] = 5.0
    return np.sum(head * x[:2])


def fancy_view_then_write(x):
    y = x.copy()
    head = y[[0, 1]]  # a copy, but sourcegrad cannot tell without knowing the index
    y[0] = 5.0
    return np.sum(head * x[:2])


def test_write_seen_through_a_view():
    # head = [5, x1] after the write: f = 5 x0 + x1^2
    got = assert_grad(view_then_write, np.array([0.5, 1.0, 2.0]))
    np.testing.assert_allclose(got, [5.0, 2.0, 0.0])


@pytest.mark.parametrize("f", [writes_global, fancy_view_then_write])
def test_writes_that_would_change_other_names_are_refused(f):
    with pytest.raises(sourcegrad.UnsupportedSyntaxError):
        sourcegrad.grad(f)(0.5 if f is writes_global else np.array([0.5, 1.0, 2.0]))


# -- augmented assignment on an array another name holds: `y = x; x += d` updates y too ----------


def alias_then_augment(x):
    y = x
    x += 1.0
    x *= y
    return np.sum(x * y)


def alias_reads_the_update(x, w):
    y = x
    x *= w
    x += np.sin(y)  # y is x * w here, as in NumPy
    return np.sum(y * y)


def alias_in_loop(x, w):
    y = x
    for _ in range(3):
        x += w * y
    return np.sum(y)


def alias_updated_itself(x, w):
    y = x
    y *= w
    return np.sum(x * y)


def alias_in_branches(x, w, flag):
    y = x
    if flag:
        x *= w
    else:
        y += w
    return np.sum(x * y) + np.sum(y)


def alias_made_in_loop(x, w):
    total = 0.0
    for _ in range(3):
        y = x
        x += w * np.sin(y)
        total = total + np.sum(y * x)
    return total


def alias_in_while(x, w):
    y = x
    n = 0
    while n < 3:
        y *= w
        n += 1
    return np.sum(x)


def view_follows_the_update(x, w):
    v = x[1:]
    x *= w
    return np.sum(v * v) + np.sum(x)


def transpose_follows_the_update(a, w):
    t = a.T
    a += w
    return np.sum(t[0] * a[:, 1])


def alias_of_a_number(x, w):
    y = x
    x *= w
    return y + x * 2.0


@pytest.mark.parametrize("f, args, kwargs, wrt", [
    case(alias_then_augment, arr(3), wrt=0),
    case(alias_reads_the_update, arr(3), arr(3, lo=0.5, hi=1.5, seed=1), wrt=(0, 1)),
    case(alias_in_loop, arr(3), 0.4, wrt=(0, 1)),
    case(alias_updated_itself, arr(3), arr(3, seed=1), wrt=(0, 1)),
    case(alias_in_branches, arr(3), arr(3, seed=1), True, wrt=(0, 1)),
    case(alias_in_branches, arr(3), arr(3, seed=1), False, wrt=(0, 1)),
    case(alias_made_in_loop, arr(3), arr(3, seed=1), wrt=(0, 1)),
    case(alias_in_while, arr(3), 0.9, wrt=(0, 1)),
    case(view_follows_the_update, arr(3), arr(3, seed=1), wrt=(0, 1)),
    case(transpose_follows_the_update, arr(2, 2), 0.7, wrt=(0, 1)),
    case(alias_of_a_number, 0.3, 1.7, wrt=(0, 1)),
])
def test_augmented_assignment_through_an_alias(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


def test_alias_follows_numpy_in_closed_form():
    # arrays: x and y are one array, f = sum((x + 1)^4); numbers: y keeps x, f = x + 2 w x
    x = np.array([0.5, -0.2])
    np.testing.assert_allclose(sourcegrad.grad(alias_then_augment)(x.copy()), 4 * (x + 1) ** 3)
    assert sourcegrad.grad(alias_of_a_number, wrt=(0, 1))(0.3, 1.7) == pytest.approx((4.4, 0.6))


def test_view_follows_in_closed_form():
    # v = (w x)[1:]: f = sum(w^2 x[1:]^2) + sum(w x), df/dx = 2 w^2 x [0, 1, 1] + w
    x, w = np.array([0.5, -0.2, 1.5]), 1.3
    dx = sourcegrad.grad(view_follows_the_update)(x.copy(), w)
    np.testing.assert_allclose(dx, 2 * w**2 * x * np.array([0.0, 1.0, 1.0]) + w)


def test_alias_update_leaves_the_callers_array_alone():
    x = np.array([0.5, -0.2])
    sourcegrad.grad(alias_reads_the_update, wrt=(0, 1))(x, np.array([1.0, 2.0]))
    np.testing.assert_array_equal(x, [0.5, -0.2])
