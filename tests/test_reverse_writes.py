"""Writes into arrays: `y[i] = v`, `y[i] += v`, slices, masks, rows and columns, inside loops:
stencils, integrators writing a trajectory, the Thomas algorithm, hand-written cumulative sums,
solvers written with loops and writes (Gauss-Seidel, LU, Cholesky, Gram-Schmidt, heat and wave
equations, soft-DTW, HMM forward); writes after `x = x.copy()` and the views taken around it;
vjp of programs that write. The caller's arrays are never changed (assert_grad checks), even when
f writes into them."""

import numpy as np
import pytest
from provenance import found_in

import sourcegrad
from oracle import arr, assert_grad, assert_value_and_grad, assert_vjp, case, numeric_grad, signed


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


# rows and columns of a shape known only in part (issue 9 "No silent wrong gradient", kind 2: the
# store's adjoint was handed on as a view of the part it zeroes)


def store_row_of_partly_known_shape(x, n):
    v = np.zeros(n) + x
    G = np.zeros((2, 3))
    G[1, :] = v * v
    return np.sum(G * G)


def store_column_of_partly_known_shape(x, n):
    v = np.zeros(n) + x
    G = np.zeros((3, 2))
    G[:, 0] = np.sin(v)
    G[:, 1] = v * 3.0
    return np.sum(G * G)


def store_rows_in_a_loop(x, n):
    G = np.zeros((3, 4))
    for i in range(3):
        G[i, :] = np.tanh(np.zeros(n) + x * (i + 1.0))
    return np.sum(G**3)


def _scaled_grid(p):
    return np.linspace(0.24, 0.21, 12).reshape(4, 3) * p


def helper_result_squared_in_part(x):
    # found by the fuzzer (seed 41000693): a helper's result may be a list, so the part read
    # for `u[1:] **= 2` was not copied, and the write changed what its adjoint reads
    u = _scaled_grid(x)
    u[1:] **= 2
    return np.sum(u)


def helper_result_part_replaced(x):
    u = _scaled_grid(x)
    u[1:] = np.sin(u[1:])
    return np.sum(u * u)


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
] + found_in("issue9", [
    case(store_row_of_partly_known_shape, 0.7, 3, name="kind2-row"),
    case(store_column_of_partly_known_shape, 0.4, 3, name="kind2-column"),
    case(store_rows_in_a_loop, 0.3, 4, name="kind2-rows-in-loop"),
]) + found_in("fuzz", [
    case(helper_result_squared_in_part, 1.3),
    case(helper_result_part_replaced, 1.3),
])


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


# -- solvers and programs that fill preallocated arrays -------------------------------------------


WEIGHTS = np.array([0.5, -1.0, 2.0])


def writes_copy_of_module_array(x):
    y = WEIGHTS.copy()
    y[1] = x[0] * x[1]
    return np.sum(y * x)


def zeros_of_int_arg(x, n):
    y = np.zeros(n)
    for i in range(n):
        y[i] = x * (i + 1)
    return np.sum(np.sin(y))


def gauss_seidel(a, b, sweeps):
    """Gauss-Seidel on a diagonally dominant system: x[i] is read right after it is written."""
    n = len(b)
    x = np.zeros(n)
    for _ in range(sweeps):
        for i in range(n):
            s = b[i]
            for j in range(n):
                if j != i:
                    s = s - a[i, j] * x[j]
            x[i] = s / a[i, i]
    return np.sum(x * np.arange(1.0, n + 1.0))


def jacobi(a, b, sweeps):
    n = len(b)
    x = np.zeros(n)
    for _ in range(sweeps):
        x_new = np.zeros(n)
        for i in range(n):
            off = np.dot(a[i], x) - a[i, i] * x[i]
            x_new[i] = (b[i] - off) / a[i, i]
        x = x_new
    return np.sum(x**2)


def heat_explicit(u0, kappa, steps):
    """Explicit 1-d heat equation, fixed ends, a copy of the previous step each time."""
    u = u0.copy()
    n = len(u)
    for _ in range(steps):
        un = u.copy()
        for i in range(1, n - 1):
            u[i] = un[i] + kappa * (un[i - 1] - 2.0 * un[i] + un[i + 1])
    return np.sum(u**2) + u[n // 2]


def heat_in_place(u0, kappa, steps):
    """The same sweep done in place (u[i - 1] is already the new value): order matters."""
    u = u0.copy()
    for _ in range(steps):
        for i in range(1, len(u) - 1):
            u[i] = u[i] + kappa * (u[i - 1] - 2.0 * u[i] + u[i + 1])
    return np.sum(u**3)


def heat_sliced(u0, kappa, steps):
    u = u0.copy()
    for _ in range(steps):
        u[1:-1] += kappa * (u[:-2] - 2.0 * u[1:-1] + u[2:])
    return np.sum(np.sin(u))


def wave_trajectory(u0, c, steps):
    """Leapfrog wave equation writing every step into a 2-d trajectory U[t, i]."""
    n = len(u0)
    u = np.zeros((steps + 1, n))
    u[0] = u0
    u[1] = u0
    for t in range(1, steps):
        for i in range(1, n - 1):
            lap = u[t, i - 1] - 2.0 * u[t, i] + u[t, i + 1]
            u[t + 1, i] = 2.0 * u[t, i] - u[t - 1, i] + c**2 * lap
    return np.sum(u[-1] ** 2) + np.sum(u[:, 2])


def cumprod_columns(x):
    """Cumulative product along rows of a matrix, column by column."""
    c = np.ones_like(x)
    c[:, 0] = x[:, 0]
    for j in range(1, x.shape[1]):
        c[:, j] = c[:, j - 1] * x[:, j]
    return np.sum(c)


def lu_det(a):
    """Determinant from an LU decomposition without pivoting, done with loops."""
    n = a.shape[0]
    lower = np.eye(n)
    upper = a.copy()
    for k in range(n):
        for i in range(k + 1, n):
            lower[i, k] = upper[i, k] / upper[k, k]
            for j in range(k, n):
                upper[i, j] = upper[i, j] - lower[i, k] * upper[k, j]
    det = 1.0
    for k in range(n):
        det = det * upper[k, k]
    return det


def lu_rows(a):
    """The same with row slices: U[i, k:] -= L[i, k] * U[k, k:]; loss uses both factors."""
    n = a.shape[0]
    lower = np.eye(n)
    upper = a.copy()
    for k in range(n - 1):
        for i in range(k + 1, n):
            lower[i, k] = upper[i, k] / upper[k, k]
            upper[i, k:] -= lower[i, k] * upper[k, k:]
    return np.sum(lower**2) + np.sum(np.triu(upper) * np.arange(1.0, n + 1.0))


def lu_solve(a, b):
    """LU without pivoting, then forward and back substitution reading y[:i] as it grows."""
    n = len(b)
    lu = a.copy()
    for k in range(n - 1):
        lu[k + 1:, k] = lu[k + 1:, k] / lu[k, k]
        lu[k + 1:, k + 1:] -= np.outer(lu[k + 1:, k], lu[k, k + 1:])
    y = np.zeros(n)
    for i in range(n):
        y[i] = b[i] - np.dot(lu[i, :i], y[:i])
    x = np.zeros(n)
    for i in range(n - 1, -1, -1):
        x[i] = (y[i] - np.dot(lu[i, i + 1:], x[i + 1:])) / lu[i, i]
    return np.sum(x * np.array([1.0, -2.0, 0.5, 3.0]))


def _softmin3(a, b, c, gamma):
    m = min(a, b, c)
    s = np.exp(-(a - m) / gamma) + np.exp(-(b - m) / gamma) + np.exp(-(c - m) / gamma)
    return m - gamma * np.log(s)


def soft_dtw(x, y, gamma):
    n, m = len(x), len(y)
    r = np.full((n + 1, m + 1), 1e10)
    r[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost = (x[i - 1] - y[j - 1]) ** 2
            r[i, j] = cost + _softmin3(r[i - 1, j - 1], r[i - 1, j], r[i, j - 1], gamma)
    return r[n, m]


def _logsumexp(v):
    m = np.max(v)
    return m + np.log(np.sum(np.exp(v - m)))


def hmm_forward(log_pi, log_a, emissions):
    """Forward algorithm in log space: alpha[t, k] written from a row of the previous step."""
    steps, k = emissions.shape
    alpha = np.zeros((steps, k))
    alpha[0] = log_pi + emissions[0]
    for t in range(1, steps):
        for s in range(k):
            alpha[t, s] = _logsumexp(alpha[t - 1] + log_a[:, s]) + emissions[t, s]
    return _logsumexp(alpha[-1])


def viterbi_scores(log_a, emissions):
    """Max-product scores with a data-dependent backpointer used to pick the path's scores."""
    steps, k = emissions.shape
    score = np.zeros((steps, k))
    back = np.zeros((steps, k), dtype=int)
    score[0] = emissions[0]
    for t in range(1, steps):
        for s in range(k):
            cand = score[t - 1] + log_a[:, s]
            back[t, s] = np.argmax(cand)
            score[t, s] = cand[back[t, s]] + emissions[t, s]
    best = np.argmax(score[-1])
    total = score[-1, best]
    for t in range(steps - 1, 0, -1):
        best = back[t, best]
        total = total + 0.1 * score[t - 1, best]
    return total


def branchy_fill(x):
    y = np.zeros((2, len(x)))
    for i in range(len(x)):
        if x[i] > 0.0:
            y[0, i] = x[i] ** 2
            y[1, i] += np.sin(x[i])
        elif x[i] > -1.0:
            y[1, i] = 3.0 * x[i]
        else:
            y[:, i] = x[i] * np.array([1.0, -1.0])
    return np.sum(y * np.exp(y))


def write_at_argmax(x, w):
    y = x * w
    k = np.argmax(y)
    y[k] = np.tanh(y[k]) * 2.0
    y[np.argmin(x)] *= w
    return np.sum(y**2)


def histogram_scatter(samples, weights, edges):
    """A soft histogram: each sample adds its weight to the bin its value falls into."""
    hist = np.zeros(len(edges) - 1)
    for t in range(len(samples)):
        k = int(np.searchsorted(edges, samples[t])) - 1
        hist[k] += weights[t] * samples[t]
    return np.sum(hist**2)


def write_then_read_same_element(x):
    y = np.zeros(len(x))
    total = 0.0
    for i in range(len(x)):
        y[i] = x[i] ** 2
        y[i] = y[i] + y[i] * x[i]
        total = total + y[i] * np.cos(y[i])
        y[i] += y[i - 1]
    return total + np.sum(y)


def augmented_ops_on_elements(x, s):
    y = x.copy()
    y[0] /= s
    y[1] **= 2
    y[2] -= s * y[0]
    y[1:3] *= y[0]
    y[-1] /= y[1]
    return np.sum(y)


def running_max_write(x):
    y = np.zeros(len(x))
    y[0] = x[0]
    for i in range(1, len(x)):
        y[i] = max(y[i - 1], x[i])
    return np.sum(y * np.arange(1.0, len(x) + 1.0))


def overlapping_self_copy(x):
    y = x.copy()
    y[1:] = y[:-1] * 2.0
    y[::-1] = y
    return np.sum(y * np.arange(len(x)))


def strided_writes(x):
    y = np.zeros(6)
    y[::2] = x[1::2] ** 2
    y[1::2] = np.sin(x[::2])
    y[-1:0:-2] += x[:3]
    return np.sum(y * y)


def fancy_index_write(x, w):
    y = np.zeros(5)
    y[np.array([3, 0, 4])] = x * w
    y[[1, 2]] += w
    return np.sum(np.cos(y))


def mask_augmented(x):
    y = x * 1.5
    y[y > 0.0] *= 2.0
    y[x < -0.5] += x[x < -0.5] ** 2
    y[np.abs(x) < 0.4] = 0.0
    return np.sum(y**3)


def block_writes_2d(a, b):
    m = np.eye(4)
    m[1:3, 1:3] = a @ b
    m[0, 1:] = a[0, 0] * np.arange(3.0)
    m[:, 3] *= b[1, 1]
    return np.sum(m @ m.T)


def tensor_writes_3d(x):
    t = np.zeros((2, 3, 4))
    for i in range(2):
        for j in range(4):
            t[i, :, j] = x[:, j] * (i + 1.0)
    t[:, 1, :] += np.sin(t[:, 0, :])
    t[..., 0] = t[..., 1] * t[..., 2]
    t[1] -= t[0] ** 2
    return np.sum(t**2)


def write_scalar_then_matrix_loop(w, x):
    """Rows of a design matrix filled in a while loop with a data-dependent trip count."""
    rows = np.zeros((5, 2))
    i = 0
    h = x
    while i < 5 and h < 10.0:
        rows[i, 0] = h
        rows[i, 1] = h * w
        h = h * 1.7 + w
        i += 1
    return np.sum(rows[:i] ** 2)


def write_into_argument_in_loop(u, k):
    for i in range(1, len(u)):
        u[i] = u[i - 1] * k + u[i]
    return np.sum(u**2)


def write_into_2d_argument(m, s):
    m[0] *= s
    m[:, 1] = m[:, 0] + m[:, 2]
    m[1, 2] += s**2
    return np.sum(np.sin(m))


def scalar_read_then_write(x):
    """y[1] of a 1-d array is a number, not a view: writing y[1] afterwards leaves v alone."""
    y = x.copy()
    v = y[1]
    y[1] = 7.0 * x[0]
    return v * np.sum(y)


def sum_of_slice_then_write(x):
    y = x**2
    s = np.sum(y[:2])
    y[0] = s * 3.0
    return np.sum(y) * s


def np_array_copy_then_write(x):
    y = np.array(x)
    y[0] = 0.0
    return np.sum(x * y) + np.sum(x)


def rk_stages(y0, k):
    """An explicit Runge-Kutta method: each stage written into a row of a stage matrix."""
    a = np.array([[0.0, 0.0], [0.5, 0.0]])
    b = np.array([0.0, 1.0])
    dt = 0.1
    y = y0
    for _ in range(3):
        stages = np.zeros((2, len(y0)))
        for s in range(2):
            ys = y + dt * (a[s, :s] @ stages[:s])
            stages[s] = -k * ys**3
        y = y + dt * (b @ stages)
    return np.sum(y**2)


def gram_schmidt(a):
    m, n = a.shape
    q = np.zeros((m, n))
    for j in range(n):
        v = a[:, j].copy()
        for i in range(j):
            v = v - np.dot(q[:, i], a[:, j]) * q[:, i]
        q[:, j] = v / np.sqrt(np.sum(v**2))
    return np.sum(q * np.arange(m * n).reshape(m, n))


def modified_gram_schmidt_in_place(a):
    q = a.copy()
    for j in range(q.shape[1]):
        q[:, j] /= np.sqrt(np.sum(q[:, j] ** 2))
        for k in range(j + 1, q.shape[1]):
            q[:, k] -= np.dot(q[:, j], q[:, k]) * q[:, j]
    return np.sum(q * np.arange(q.size).reshape(q.shape))


def cholesky_loops(a):
    n = a.shape[0]
    low = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1):
            s = np.sum(low[i, :j] * low[j, :j])
            if i == j:
                low[i, j] = np.sqrt(a[i, i] - s)
            else:
                low[i, j] = (a[i, j] - s) / low[j, j]
    return np.sum(low * np.arange(n * n).reshape(n, n))


def heat_2d(u0, kappa):
    u = u0.copy()
    for _ in range(3):
        lap = u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:] - 4.0 * u[1:-1, 1:-1]
        u[1:-1, 1:-1] = u[1:-1, 1:-1] + kappa * lap
    return np.sum(u**2)


def relu_in_place(w, x):
    h = x @ w
    h[h < 0.0] *= 0.1
    out = h @ w.T
    out[out < 0.0] = 0.0
    return np.sum(out**2)


def pair_index_write(m, v):
    y = m.copy()
    y[np.array([0, 1, 2]), np.array([2, 0, 1])] = v
    return np.sum(y * m)


def while_break_write(x):
    y = np.zeros(6)
    i = 0
    while True:
        y[i] += x * (i + 1)
        if y[i] > 2.0 or i == 5:
            break
        i += 1
    return np.sum(y**2)


def row_broadcast_param(m, s):
    y = m.copy()
    for i in range(m.shape[0]):
        y[i, :] = s * (i + 1)
        y[i, i] += m[i, i]
    y[1:, 1:] = s**2
    return np.sum(y * m)


def enumerate_into_array(ws, x):
    out = np.zeros(len(ws))
    for k, w in enumerate(ws):
        out[k] = np.sum(w * x)
    return np.sum(np.exp(out))


def _simulate(x, k):
    traj = np.zeros(4)
    traj[0] = x
    energy = 0.0
    for t in range(3):
        traj[t + 1] = traj[t] - k * traj[t] ** 3
        energy = energy + traj[t + 1] ** 2
    return traj, energy


def helper_returns_written_array(x, k):
    traj, energy = _simulate(x, k)
    return np.sum(traj**2) + energy


def bubble_sort_swap(x):
    y = x.copy()
    n = len(y)
    for i in range(n):
        for j in range(n - 1 - i):
            if y[j] > y[j + 1]:
                y[j], y[j + 1] = y[j + 1], y[j]
    return np.sum(y * np.arange(1.0, n + 1.0))


def zero_d_buffer(x):
    y = np.zeros(())
    y[()] = x * 2.0
    return np.sum(y) * x


def _heat_matrix(n, kappa):
    step = np.eye(n)
    for i in range(1, n - 1):
        step[i, i - 1 : i + 2] += kappa * np.array([1.0, -2.0, 1.0])
    return step


PROGRAMS = found_in("round4", [
    case(writes_copy_of_module_array, arr(3)),
    case(zeros_of_int_arg, 0.7, 4),
]) + found_in("newer", [
    case(gauss_seidel, np.diag([4.0, 5.0, 6.0]) + 0.3 * arr(3, 3), arr(3), 3, wrt=(0, 1)),
    case(jacobi, np.diag([4.0, 5.0, 6.0]) + 0.3 * arr(3, 3), arr(3), 4, wrt=(0, 1)),
    case(heat_explicit, arr(6), 0.2, 3, wrt=(0, 1)),
    case(heat_in_place, arr(6), 0.2, 3, wrt=(0, 1)),
    case(heat_sliced, arr(7), 0.25, 4, wrt=(0, 1)),
    case(wave_trajectory, np.sin(np.linspace(0.0, np.pi, 6)), 0.5, 4, wrt=(0, 1)),
    case(cumprod_columns, arr(3, 4, lo=0.5, hi=1.5)),
    case(lu_det, np.eye(4) * 3.0 + arr(4, 4)),
    case(lu_rows, np.eye(4) * 3.0 + arr(4, 4)),
    case(lu_solve, np.eye(4) * 3.0 + arr(4, 4), arr(4, seed=2), wrt=(0, 1)),
    case(soft_dtw, arr(4), arr(3, seed=2), 0.5, wrt=(0, 1, 2)),
    case(hmm_forward, arr(3), arr(3, 3, seed=1), arr(4, 3, seed=2), wrt=(0, 1, 2)),
    case(viterbi_scores, arr(3, 3, seed=1), arr(4, 3, seed=2), wrt=(0, 1)),
    case(branchy_fill, np.array([0.7, -0.4, -1.6, 1.2, -0.9])),
    case(write_at_argmax, arr(5), 0.8, wrt=(0, 1)),
    case(histogram_scatter, np.array([0.15, 0.85, 0.45, 0.55, 0.1]), arr(5),
         np.array([0.0, 0.3, 0.6, 1.0]), wrt=(0, 1)),
    case(write_then_read_same_element, arr(4, lo=-1.0, hi=1.0)),
    case(augmented_ops_on_elements, signed(4), 1.3, wrt=(0, 1)),
    case(running_max_write, np.array([0.3, -0.2, 0.9, 0.4, 1.5])),
    case(overlapping_self_copy, arr(5)),
    case(strided_writes, arr(6)),
    case(fancy_index_write, arr(3), 0.6, wrt=(0, 1)),
    case(mask_augmented, np.array([0.9, -0.2, -1.1, 0.3, 1.4, -0.7])),
    case(block_writes_2d, arr(2, 3), arr(3, 2, seed=1), wrt=(0, 1)),
    case(tensor_writes_3d, arr(3, 4) * 0.5),
    case(write_scalar_then_matrix_loop, 0.4, 0.9, wrt=(0, 1)),
    case(write_into_argument_in_loop, arr(5), 0.6, wrt=(0, 1)),
    case(write_into_2d_argument, arr(3, 3), 1.2, wrt=(0, 1)),
    case(scalar_read_then_write, arr(4)),
    case(sum_of_slice_then_write, arr(4)),
    case(np_array_copy_then_write, arr(3)),
    case(rk_stages, arr(3), 0.8, wrt=(0, 1)),
    case(gram_schmidt, arr(4, 3)),
    case(modified_gram_schmidt_in_place, arr(4, 3)),
    case(cholesky_loops, np.array([[4.0, 1.0, 0.5], [1.0, 3.0, -0.4], [0.5, -0.4, 2.5]])),
    case(heat_2d, arr(4, 5), 0.2, wrt=(0, 1)),
    case(relu_in_place, arr(3, 4), arr(5, 3, seed=1), wrt=(0, 1)),
    case(pair_index_write, arr(3, 3), arr(3, seed=1), wrt=(0, 1)),
    case(while_break_write, 0.45),
    case(row_broadcast_param, arr(3, 3), 0.6, wrt=(0, 1)),
    case(enumerate_into_array, [arr(2), arr(2, seed=1), arr(2, seed=2)], arr(2, seed=3),
         wrt=(0, 1), name="enumerate_into_array"),
    case(helper_returns_written_array, 0.8, 0.3, wrt=(0, 1)),
    case(bubble_sort_swap, arr(5)),
    case(zero_d_buffer, 0.7),
])


def test_zeros_of_int_arg_closed_form():
    n, x = 5, 0.3
    k = np.arange(1, n + 1)
    assert sourcegrad.grad(zeros_of_int_arg)(x, n) == pytest.approx(np.sum(k * np.cos(k * x)))


def test_lu_det_closed_form():
    a = np.eye(3) * 2.0 + arr(3, 3) * 0.5
    got = sourcegrad.grad(lu_det)(a)
    np.testing.assert_allclose(got, np.linalg.det(a) * np.linalg.inv(a).T, rtol=1e-10)


def test_cumprod_closed_form():
    x = arr(2, 3, lo=0.5, hi=1.5)
    got = sourcegrad.grad(cumprod_columns)(x)
    c = np.cumprod(x, axis=1)
    # d/dx[:, j] of sum_k c[:, k] = sum_{k >= j} c[:, k] / x[:, j]
    expected = np.cumsum(c[:, ::-1], axis=1)[:, ::-1] / x
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_heat_explicit_closed_form():
    # u_T = S^T u0 with S the one-step matrix; loss = |u_T|^2 + u_T[n // 2]
    u0, kappa, steps = arr(6), 0.2, 3
    m = np.linalg.matrix_power(_heat_matrix(6, kappa), steps)
    u = m @ u0
    seed = 2.0 * u
    seed[3] += 1.0
    got = sourcegrad.grad(heat_explicit)(u0, kappa, steps)
    np.testing.assert_allclose(got, m.T @ seed, rtol=1e-12, atol=1e-14)


def test_hmm_forward_closed_form_posteriors():
    # d log p(obs) / d emissions[t, k] is the posterior P(s_t = k), enumerated over all paths
    log_pi, log_a, em = arr(3), arr(3, 3, seed=1), arr(4, 3, seed=2)
    paths = np.array(np.meshgrid(*[range(3)] * 4, indexing="ij")).reshape(4, -1).T
    scores = np.array([log_pi[p[0]] + em[0, p[0]]
                       + sum(log_a[p[t - 1], p[t]] + em[t, p[t]] for t in range(1, 4))
                       for p in paths])
    weights = np.exp(scores - scores.max())
    weights /= weights.sum()
    posterior = np.zeros((4, 3))
    for p, wgt in zip(paths, weights, strict=True):
        posterior[np.arange(4), p] += wgt
    got = sourcegrad.grad(hmm_forward, wrt=2)(log_pi, log_a, em)
    np.testing.assert_allclose(got, posterior, rtol=1e-10, atol=1e-12)


# -- writes after x = x.copy() and the views taken around it --------------------------------------


Y4 = arr(4, seed=12)


W = 0.7


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


COPIES = found_in("round6", [
    case(argument_view_before_copy, Y4, W, wrt=(0, 1)),
    case(view_after_copy_before_write, Y4, W, wrt=(0, 1)),
    case(view_between_writes, Y4, W, wrt=(0, 1)),
    case(copy_and_write_in_loop, Y4, W, wrt=(0, 1)),
    case(view_before_loop_of_copies, Y4, W, wrt=(0, 1)),
    case(transpose_before_copy_then_augmented, Y4, W, wrt=(0, 1)),
    case(old_view_written_after_copy, Y4, W, wrt=(0, 1)),
    case(argument_written_viewed_copied_written, Y4, W, wrt=(0, 1)),
    case(view_between_two_copies, Y4, W, wrt=(0, 1)),
    case(alias_taken_between_writes, Y4, W, wrt=(0, 1)),
    case(alias_before_copy_both_written, Y4, W, wrt=(0, 1)),
    case(view_rebuilt_after_each_copy, Y4, W, wrt=(0, 1)),
])


# -- vector-Jacobian products of programs that write ----------------------------------------------


def heat_report(u0, kappa):
    u = u0.copy()
    history = np.zeros((3, len(u0)))
    for t in range(3):
        u[1:-1] = u[1:-1] + kappa * (u[:-2] - 2.0 * u[1:-1] + u[2:])
        history[t] = u
    return {"final": u, "energy": np.sum(history**2)}


def lu_factors(a):
    n = a.shape[0]
    lower = np.eye(n)
    upper = a.copy()
    for k in range(n - 1):
        for i in range(k + 1, n):
            lower[i, k] = upper[i, k] / upper[k, k]
            upper[i, k:] -= lower[i, k] * upper[k, k:]
    return lower, upper


def assert_close_to_oracle(scalar, args, i, got):
    expected = numeric_grad(scalar, args, {}, i)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


HEAT_SEED = {"final": np.array([1.0, -2.0, 0.5, 0.0, 3.0]), "energy": 0.5}


def heat_report_weighted(u0, kappa):
    out = heat_report(u0, kappa)
    return np.sum(HEAT_SEED["final"] * out["final"]) + HEAT_SEED["energy"] * out["energy"]


def gauss_seidel_vector(a, b, sweeps):
    n = len(b)
    x = np.zeros(n)
    for _ in range(sweeps):
        for i in range(n):
            x[i] = (b[i] - np.dot(a[i], x) + a[i, i] * x[i]) / a[i, i]
    return x


def test_vjp_dict_output_of_heat_solver():
    u0 = arr(5)
    out, pullback = sourcegrad.vjp(heat_report, u0, 0.2)
    ref = heat_report(u0.copy(), 0.2)
    assert isinstance(out, dict) and out.keys() == ref.keys()
    np.testing.assert_allclose(out["final"], ref["final"], rtol=1e-12)
    np.testing.assert_allclose(out["energy"], ref["energy"], rtol=1e-12)
    du0, dkappa = pullback(HEAT_SEED)
    assert_close_to_oracle(heat_report_weighted, (u0, 0.2), 0, du0)
    assert isinstance(dkappa, float)
    assert_close_to_oracle(heat_report_weighted, (u0, 0.2), 1, dkappa)


def test_vjp_tuple_output_of_helper_that_writes():
    seed = (np.array([1.0, 0.5, -1.0, 2.0]), 3.0)
    out, pullback = sourcegrad.vjp(_simulate, 0.8, 0.3)
    ref = _simulate(0.8, 0.3)
    np.testing.assert_allclose(out[0], ref[0], rtol=1e-12)
    np.testing.assert_allclose(out[1], ref[1], rtol=1e-12)
    dx, dk = pullback(seed)

    def weighted(x, k):
        traj, energy = _simulate(x, k)
        return np.sum(seed[0] * traj) + seed[1] * energy

    assert_close_to_oracle(weighted, (0.8, 0.3), 0, dx)
    assert_close_to_oracle(weighted, (0.8, 0.3), 1, dk)


def test_vjp_tuple_output_of_lu():
    a = np.eye(3) * 3.0 + arr(3, 3)
    seed_l, seed_u = arr(3, 3, seed=1), arr(3, 3, seed=2)
    out, pullback = sourcegrad.vjp(lu_factors, a)
    lower, upper = lu_factors(a.copy())
    np.testing.assert_allclose(out[0], lower, rtol=1e-12)
    np.testing.assert_allclose(out[1], upper, rtol=1e-12)
    (got,) = pullback((seed_l, seed_u))

    def scalar(m):
        lo, up = lu_factors(m)
        return np.sum(seed_l * lo) + np.sum(seed_u * up)

    assert_close_to_oracle(scalar, (a,), 0, got)


def test_vjp_array_output_of_gauss_seidel_writes():
    assert_vjp(gauss_seidel_vector, np.diag([4.0, 5.0, 6.0]) + 0.3 * arr(3, 3), arr(3), 3,
               seed=np.array([1.0, -0.5, 2.0]))


def test_jacobian_rows_by_repeated_pullback_of_a_loop_with_writes():
    # x = M b is linear in b (x starts at 0): column j of M is the solver applied to e_j
    a = np.diag([4.0, 5.0, 6.0]) + 0.3 * arr(3, 3)
    b = arr(3)
    jac = np.stack([gauss_seidel_vector(a, e, 3) for e in np.eye(3)], axis=1)
    _, pullback = sourcegrad.vjp(gauss_seidel_vector, a, b, 3)
    for row in range(3):
        _, db, _ = pullback(np.eye(3)[row])
        np.testing.assert_allclose(db, jac[row], rtol=1e-12, atol=1e-14)


# -- chained indices, integer buffers; scatter with repeated indices, refused ----------------------


def chained_index_write(x):
    y = np.zeros((2, 3))
    for i in range(2):
        for j in range(3):
            y[i][j] = x[i, j] ** 2
    return np.sum(y * x)


def int_buffer_truncates(x):
    y = np.zeros(3, dtype=int)
    y[0] = x * 10.0
    return x * y[0] + x


def arange_buffer_truncates(x):
    y = np.arange(3)
    y[1] = 2.0 * x[1]
    return np.sum(y * x)


def repeated_index_augmented(x):
    y = np.zeros(3)
    y[np.array([0, 0, 2])] += x
    return np.sum(y**2)


def add_at_scatter(x):
    y = np.zeros(3)
    np.add.at(y, np.array([0, 0, 2]), x)
    return np.sum(y**2)


CHAINED_AND_INTEGER = found_in("newer", [
    case(chained_index_write, arr(2, 3)),
    case(int_buffer_truncates, 0.73),
    case(arange_buffer_truncates, np.array([0.3, 1.26, -0.4])),
])


@pytest.mark.parametrize("f", [repeated_index_augmented, add_at_scatter])
def test_unsupported_scatter_is_refused_clearly(f):
    with pytest.raises(sourcegrad.SourcegradError):
        sourcegrad.grad(f)(np.array([0.5, -1.0, 2.0]))


# -- the cases above against the oracle -----------------------------------------------------------


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES + PROGRAMS + COPIES + CHAINED_AND_INTEGER)
def test_grad(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)


# -- a masked write into an array without gradient, in a loop that rebinds the array ------------
# Found by the fuzzer (seed 68000074): putting back what `M[M > 1.3] = e` overwrote read the
# mask of the last iteration (the write's own adjoint had nothing to read when M carries no
# gradient): a ValueError from NumPy's boolean assignment.


def masked_write_in_a_loop_that_rebinds(M, a, y):
    for e in a:
        M[M > 1.3] = e
        M = np.matmul(e * np.linspace(0.52, 0.99, 4).reshape(2, 2),
                      y * np.linspace(0.84, 1.06, 6).reshape(2, 3))
    return np.sum(M)


@pytest.mark.parametrize("f, args, kwargs, wrt", found_in("fuzz", [
    case(masked_write_in_a_loop_that_rebinds,
         np.array([[0.012, 1.053, 0.39], [-0.731, 1.392, 0.654], [-1.383, -0.342, -1.053]]),
         np.array([0.245, 1.224, -1.274, -0.49]), 1.122, wrt=(1, 2)),
]))
def test_a_masked_write_restored_with_its_own_iterations_mask(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)


# -- `out=` of a NumPy function called as a statement: a write into the array ---------------------


def writes_through_out(x, w):
    out = np.empty(3)
    np.multiply(x, w, out=out)
    return np.sum(out ** 2)


def writes_through_out_into_rows(x, w):
    buf = np.zeros((2, 3))
    for i in range(2):
        np.add(x * i, w, out=buf[i])
    return np.sum(buf ** 2)


def writes_through_out_into_its_own_input(x):
    y = x * 1.0
    alias = y
    np.sin(y, out=y)  # alias sees it too
    return np.sum(alias * x)


@pytest.mark.parametrize("f, args, kwargs, wrt", [
    case(writes_through_out, arr(3), arr(3, seed=1), wrt=(0, 1)),
    case(writes_through_out_into_rows, arr(3), arr(3, seed=1), wrt=(0, 1)),
    case(writes_through_out_into_its_own_input, arr(3)),
])
def test_out_written_by_a_numpy_function(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)
