"""Writes into arrays, containers and objects, combined in longer programs.

Each program is written the way a scientist or an ML engineer writes it: preallocated arrays
filled in nested loops and branches, dicts and lists of parameters, dataclasses whose methods call
each other and write into buffers. Gradients are checked against the finite-difference oracle or
a closed form written here, never against sourcegrad's own output; the caller's arrays and objects
must come back untouched (assert_grad checks)."""

from dataclasses import dataclass

import numpy as np
import pytest

import sourcegrad
from oracle import arr, assert_grad, assert_vjp, case, numeric_grad, signed


def ncase(f, *args, wrt=0, **kwargs):
    """A case named after the function only (its arguments are containers or objects)."""
    return case(f, *args, wrt=wrt, name=f.__name__, **kwargs)


# -- linear algebra and PDE solvers written with loops and writes ---------------------------------


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


# -- writes: indices, branches, data-dependent positions ------------------------------------------


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


def _fill_squares(out, x):
    for i in range(len(x)):
        out[i] = x[i] ** 2
    return out


def helper_fills_preallocated(x):
    buf = np.zeros(len(x))
    buf = _fill_squares(buf, x)
    return np.sum(buf * x)


def _relax_in_place(u, r):
    for i in range(1, len(u) - 1):
        u[i] = 0.5 * (u[i - 1] + u[i + 1]) * r
    return u


def helper_writes_its_argument(u0, r):
    u = u0.copy()
    for _ in range(2):
        u = _relax_in_place(u, r)
    return np.sum(u**2)


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


def _fill_recursive(y, x, i):
    if i == len(x):
        return y
    y[i] = x[i] * (i + 1.0) + (y[i - 1] if i > 0 else 0.0)
    return _fill_recursive(y, x, i + 1)


def recursive_fill(x):
    y = np.zeros(len(x))
    y = _fill_recursive(y, x, 0)
    return np.sum(y**2)


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


WRITE_CASES = [
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
    case(helper_fills_preallocated, arr(4)),
    case(helper_writes_its_argument, arr(5), 0.9, wrt=(0, 1)),
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
    case(recursive_fill, arr(4)),
    case(while_break_write, 0.45),
    case(row_broadcast_param, arr(3, 3), 0.6, wrt=(0, 1)),
    case(enumerate_into_array, [arr(2), arr(2, seed=1), arr(2, seed=2)], arr(2, seed=3),
         wrt=(0, 1), name="enumerate_into_array"),
    case(helper_returns_written_array, 0.8, 0.3, wrt=(0, 1)),
    case(bubble_sort_swap, arr(5)),
    case(zero_d_buffer, 0.7),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", WRITE_CASES)
def test_writes(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


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


def _heat_matrix(n, kappa):
    step = np.eye(n)
    for i in range(1, n - 1):
        step[i, i - 1 : i + 2] += kappa * np.array([1.0, -2.0, 1.0])
    return step


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


# -- containers -----------------------------------------------------------------------------------


def nested_param_tree(params, x):
    """A dict of dicts and lists: an encoder dict and a decoder list of (W, b) tuples."""
    enc = params["enc"]
    h = np.tanh(x @ enc["W"] + enc["b"])
    for w, b in params["dec"]:
        h = np.tanh(h @ w + b)
    return np.sum(h**2) + params["scale"] * np.sum(enc["W"] ** 2)


def append_nested_loops(w, x):
    rows = []
    for i in range(len(x)):
        row = []
        for j in range(len(w)):
            row.append(np.sin(x[i] * w[j]))
        rows.append(np.stack(row))
    m = np.stack(rows)
    return np.sum(m * m.T) if m.shape[0] == m.shape[1] else np.sum(m @ m.T)


def append_flat_then_reshape(w, x):
    vals = []
    for i in range(2):
        for j in range(3):
            vals.append(w[i] * x[j] + i * j)
    grid = np.stack(vals).reshape(2, 3)
    return np.sum(grid**2) + vals[4] * vals[1]


def list_of_tuples_layers(layers, x):
    h = x
    for w, b in layers:
        h = np.tanh(h @ w + b)
    return np.sum(h)


def enumerate_zip_params(ws, bs, x):
    h = x
    penalty = 0.0
    for k, (w, b) in enumerate(zip(ws, bs, strict=True)):
        h = np.maximum(h @ w + b, 0.1 * (h @ w + b))
        penalty = penalty + (k + 1.0) * np.sum(w**2)
    return np.sum(h**2) + 0.01 * penalty


def comprehension_into_stack(ws, x):
    hs = np.stack([np.tanh(w @ x) for w in ws])
    weights = np.array([1.0, -0.5, 2.0])
    return np.sum(hs * weights[:, None])


def generators_in_min_max(ws, x):
    best = max(np.sum(w * x) for w in ws)
    worst = min(np.dot(w, w) for w in ws)
    return best * worst + sum(np.sum(w) ** 2 for w in ws)


def _forward_cache(p, x):
    z = x @ p["w"] + p["b"]
    h = np.tanh(z)
    return {"z": z, "h": h, "out": h @ p["v"]}


def _loss_from_cache(cache, y):
    return np.mean((cache["out"] - y) ** 2) + 0.1 * np.sum(cache["z"] ** 2)


def dict_returned_and_consumed(p, x, y):
    cache = _forward_cache(p, x)
    return _loss_from_cache(cache, y) + np.sum(cache["h"][0])


def list_item_assignment(xs, s):
    ys = list(xs)
    for i in range(len(ys)):
        ys[i] = ys[i] * s + ys[i - 1]
    return np.sum(np.stack(ys) ** 2)


def dict_item_assignment(p, x):
    state = {"h": x, "c": 0.0}
    for _ in range(3):
        state["c"] = state["c"] + np.sum(state["h"])
        state["h"] = np.tanh(p["w"] @ state["h"] + p["b"])
    return state["c"] + np.sum(state["h"] ** 2)


def dict_items_loop(params, x):
    total = 0.0
    for name, w in params.items():
        total = total + np.sum(np.sin(w * x)) * len(name)
    return total


def list_of_dicts(layers, x):
    h = x
    for layer in layers:
        h = np.tanh(h @ layer["w"] + layer["b"])
    return np.sum(h**2)


def tuple_of_tuples(pair, x):
    (a, b), (c, d) = pair
    return np.sum(a * x + b) * np.sum(c * x) + d


def list_of_arrays_written(xs, w):
    """Arrays in a list, each written into after a copy."""
    out = [x.copy() for x in xs]
    for k in range(len(out)):
        out[k][0] = out[k][1] * w
    return sum(np.sum(o**2) for o in out)


def _make_list(x):
    return [x * 2.0, x * 3.0]


def _make_tuple(x):
    return x * 2.0, x * 3.0


def _make_dict(x):
    return {"a": x * 2.0, "b": x * 3.0}


def _first_squared(c):
    return np.sum(c[0] ** 2)


def _a_squared(c):
    return np.sum(c["a"] ** 2)


def helper_list_to_helper(x):
    c = _make_list(x)
    return _first_squared(c) + np.sum(c[1])


def helper_tuple_to_helper(x):
    c = _make_tuple(x)
    return _first_squared(c) + np.sum(c[1])


def helper_dict_to_helper_twice(x):
    c = _make_dict(x)
    return _a_squared(c) + _a_squared(c)


def dict_keys_loop(params, x):
    total = 0.0
    for k in params:
        total = total + np.sum(params[k] * x)
    return total


def append_to_argument_list(xs, w):
    xs.append(w * 2.0)
    return sum(np.sum(v) for v in xs) * w


def list_display_item_assignment(a, b, s):
    ys = [a, b]
    for i in range(2):
        ys[i] = ys[i] * s + ys[i - 1]
    return np.sum(np.stack(ys) ** 2)


def sgd_rebinds_dict_entries(params, x, y):
    """Rebinding an entry of the caller's dict: the derivative must not touch the caller's."""
    for _ in range(2):
        r = x @ params["w"] + params["b"] - y
        params["w"] = params["w"] - 0.05 * (x.T @ r)
        params["b"] = params["b"] - 0.05 * np.sum(r)
    return np.sum((x @ params["w"] + params["b"] - y) ** 2)


def momentum_over_named_params(params, x, y):
    vel = {"w": np.zeros_like(params["w"]), "b": 0.0}
    p = {"w": params["w"], "b": params["b"]}
    for _ in range(3):
        r = x @ p["w"] + p["b"] - y
        g = {"w": x.T @ r, "b": np.sum(r)}
        for k in ["w", "b"]:
            vel[k] = 0.9 * vel[k] + g[k]
            p[k] = p[k] - 0.02 * vel[k]
    return np.sum((x @ p["w"] + p["b"] - y) ** 2)


CONTAINER_CASES = [
    ncase(nested_param_tree,
         {"enc": {"W": arr(3, 4) * 0.5, "b": arr(4, seed=1)},
          "dec": [(arr(4, 2, seed=2) * 0.5, arr(2, seed=3)), (arr(2, 2, seed=4), 0.1)],
          "scale": 0.3},
         arr(5, 3, seed=5)),
    case(append_nested_loops, arr(3), arr(3, seed=1), wrt=(0, 1)),
    case(append_nested_loops, arr(2), arr(3, seed=1), wrt=(0, 1)),
    ncase(append_flat_then_reshape, arr(2), arr(3, seed=1), wrt=(0, 1)),
    ncase(list_of_tuples_layers, [(arr(3, 3) * 0.5, arr(3, seed=1)), (arr(3, 2, seed=2), 0.2)],
         arr(4, 3, seed=3), wrt=(0, 1)),
    ncase(enumerate_zip_params, [arr(3, 3), arr(3, 2, seed=1)], [arr(3, seed=2), arr(2, seed=3)],
         arr(4, 3, seed=4), wrt=(0, 1, 2)),
    ncase(comprehension_into_stack, [arr(2, 3, seed=k) for k in range(3)], arr(3, seed=9),
         wrt=(0, 1)),
    ncase(generators_in_min_max, [arr(3, seed=k) for k in range(3)], arr(3, seed=9), wrt=(0, 1)),
    ncase(dict_returned_and_consumed, {"w": arr(3, 4), "b": arr(4, seed=1), "v": arr(4, seed=2)},
         arr(5, 3, seed=3), arr(5, seed=4), wrt=(0, 1)),
    ncase(list_item_assignment, [arr(2), arr(2, seed=1), arr(2, seed=2)], 0.7, wrt=(0, 1)),
    ncase(dict_item_assignment, {"w": arr(3, 3) * 0.5, "b": arr(3, seed=1)}, arr(3, seed=2),
         wrt=(0, 1)),
    ncase(dict_items_loop, {"a": arr(3), "bb": arr(3, seed=1)}, arr(3, seed=2), wrt=(0, 1)),
    ncase(list_of_dicts, [{"w": arr(3, 3), "b": arr(3, seed=1)}, {"w": arr(3, 2), "b": 0.3}],
         arr(4, 3, seed=3)),
    ncase(tuple_of_tuples, ((arr(3), 0.5), (arr(3, seed=1), -0.2)), arr(3, seed=2)),
    ncase(helper_list_to_helper, arr(3)),
    ncase(helper_tuple_to_helper, arr(3)),
    ncase(helper_dict_to_helper_twice, arr(3)),
    ncase(dict_keys_loop, {"a": arr(3), "b": arr(3, seed=1)}, arr(3, seed=2), wrt=(0, 1)),
    ncase(append_to_argument_list, [arr(2), arr(2, seed=1)], 0.6, wrt=(0, 1)),
    ncase(list_display_item_assignment, arr(2), arr(2, seed=1), 0.7, wrt=(0, 1, 2)),
    ncase(sgd_rebinds_dict_entries, {"w": arr(2, seed=3), "b": 0.1}, arr(5, 2), arr(5, seed=2),
         wrt=(0, 1)),
    ncase(momentum_over_named_params, {"w": arr(2, seed=3), "b": 0.1}, arr(5, 2), arr(5, seed=2),
         wrt=(0, 1)),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", CONTAINER_CASES)
def test_containers(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


# -- objects --------------------------------------------------------------------------------------


@dataclass
class Dense:
    w: np.ndarray
    b: np.ndarray

    def pre(self, x):
        return x @ self.w + self.b

    def forward(self, x):
        return np.tanh(self.pre(x))

    def penalty(self):
        return np.sum(self.w**2) + np.sum(self.b**2)


@dataclass
class Net:
    """Fields that are a list and a dict of arrays."""

    weights: list
    extras: dict
    depth: int

    def forward(self, x):
        h = x
        for k in range(self.depth):
            h = np.tanh(h @ self.weights[k])
        return h * self.extras["gain"] + self.extras["shift"]


@dataclass
class Simulator:
    k: float
    damping: float
    dt: float

    def rhs(self, x, v):
        return v, -self.k * x - self.damping * v

    def step(self, traj, t):
        x, v = traj[t, 0], traj[t, 1]
        dx, dv = self.rhs(x, v)
        traj[t + 1, 0] = x + self.dt * dx
        traj[t + 1, 1] = v + self.dt * dv
        return traj

    def run(self, state0, n):
        traj = np.zeros((n + 1, 2))
        traj[0] = state0
        for t in range(n):
            traj = self.step(traj, t)
        return traj


class Buffered:
    """A plain object whose method writes into an array attribute of its own."""

    def __init__(self, w):
        self.w = w
        self.buf = np.zeros(3)

    def fill(self, x):
        for i in range(3):
            self.buf[i] = self.w[i] * x
        return np.sum(self.buf**2)


def two_dense(first, second, x):
    h = first.forward(x)
    return np.sum(second.forward(h) ** 2) + 0.01 * (first.penalty() + second.penalty())


def _apply(layer, x):
    return layer.forward(x) + 0.5 * layer.pre(x)


def object_to_helper(layer, x):
    return np.sum(_apply(layer, x) ** 2)


def list_of_objects(layers, x):
    h = x
    for layer in layers:
        h = layer.forward(h)
    return np.sum(h**2) + sum(layer.penalty() for layer in layers) * 0.1


def net_with_containers(net, x):
    return np.sum(net.forward(x) ** 2)


def simulator_loss(sim, state0, n):
    traj = sim.run(state0, n)
    return np.sum(traj[:, 0] ** 2) + traj[-1, 1]


def buffered_object(obj, x):
    return obj.fill(x) + np.sum(obj.buf)


def object_writes_through_attribute(layer, x):
    layer.b[0] = np.sum(layer.w[:, 0])
    return np.sum(layer.forward(x))


def list_of_objects_by_index(layers, x):
    h = x
    for i in range(len(layers)):
        h = np.tanh(h @ layers[i].w + layers[i].b)
    return np.sum(h**2)


DENSE1 = Dense(arr(3, 4) * 0.5, arr(4, seed=1))
DENSE2 = Dense(arr(4, 2, seed=2) * 0.5, arr(2, seed=3))
X = arr(5, 3, seed=4)

OBJECT_CASES = [
    ncase(two_dense, DENSE1, DENSE2, X, wrt=(0, 1, 2)),
    ncase(object_to_helper, DENSE1, X, wrt=(0, 1)),
    ncase(list_of_objects, [DENSE1, DENSE2], X, wrt=(0, 1)),
    ncase(list_of_objects_by_index, [DENSE1, DENSE2], X, wrt=(0, 1)),
    ncase(net_with_containers,
         Net([arr(3, 3) * 0.5, arr(3, 2, seed=1)], {"gain": 1.5, "shift": arr(2, seed=2)}, 2),
         X),
    ncase(simulator_loss, Simulator(1.3, 0.2, 0.1), np.array([1.0, -0.5]), 6, wrt=(0, 1)),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", OBJECT_CASES)
def test_objects(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


def test_gradient_of_dataclass_with_list_and_dict_fields_keeps_structure():
    net = Net([arr(3, 3) * 0.5, arr(3, 2, seed=1)], {"gain": 1.5, "shift": arr(2, seed=2)}, 2)
    grads = sourcegrad.grad(net_with_containers)(net, X)
    assert isinstance(grads, Net)
    assert isinstance(grads.weights, list) and len(grads.weights) == 2
    assert isinstance(grads.extras, dict) and grads.extras.keys() == {"gain", "shift"}
    assert isinstance(grads.extras["gain"], float)


def test_simulator_matches_closed_form_for_undamped_linear_step():
    # one Euler step: traj[1] = (x + dt v, v - dt k x); loss = x^2 + (x + dt v)^2 + (v - dt k x)
    sim = Simulator(2.0, 0.0, 0.1)
    x, v = 0.7, -0.3
    dsim = sourcegrad.grad(simulator_loss)(sim, np.array([x, v]), 1)
    assert isinstance(dsim, Simulator)
    np.testing.assert_allclose(dsim.k, -sim.dt * x, rtol=1e-12)
    np.testing.assert_allclose(dsim.dt, 2 * (x + sim.dt * v) * v - sim.k * x, rtol=1e-12)
    np.testing.assert_allclose(dsim.damping, -sim.dt * v, rtol=1e-12)


# -- vjp of dict and tuple outputs of programs that write -----------------------------------------


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


def object_trajectory(sim, state0):
    return sim.run(state0, 4)


def assert_close_to_oracle(scalar, args, i, got):
    expected = numeric_grad(scalar, args, {}, i)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


HEAT_SEED = {"final": np.array([1.0, -2.0, 0.5, 0.0, 3.0]), "energy": 0.5}


def heat_report_weighted(u0, kappa):
    out = heat_report(u0, kappa)
    return np.sum(HEAT_SEED["final"] * out["final"]) + HEAT_SEED["energy"] * out["energy"]


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


def test_vjp_trajectory_of_object_method():
    sim = Simulator(1.3, 0.2, 0.1)
    seed = arr(5, 2, seed=3)
    out, pullback = sourcegrad.vjp(object_trajectory, sim, np.array([1.0, -0.5]))
    np.testing.assert_allclose(out, sim.run(np.array([1.0, -0.5]), 4), rtol=1e-12)
    dsim, dstate = pullback(seed)
    assert isinstance(dsim, Simulator)
    np.testing.assert_allclose(
        dstate,
        _trajectory_oracle(sim, seed),
        rtol=1e-5,
        atol=1e-7,
    )


def _trajectory_oracle(sim, seed):
    def scalar(state0):
        return np.sum(seed * sim.run(state0, 4))

    return numeric_grad(scalar, (np.array([1.0, -0.5]),), {}, 0)


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


def gauss_seidel_vector(a, b, sweeps):
    n = len(b)
    x = np.zeros(n)
    for _ in range(sweeps):
        for i in range(n):
            x[i] = (b[i] - np.dot(a[i], x) + a[i, i] * x[i]) / a[i, i]
    return x


# -- aliasing, mutation, odd dtypes: the right number or a clear SourcegradError ---------------


def row_view_then_write(x):
    y = x.copy()
    row = y[0]
    y[0, 1] = 5.0
    return np.sum(row * x[1])


def chained_index_write(x):
    y = np.zeros((2, 3))
    for i in range(2):
        for j in range(3):
            y[i][j] = x[i, j] ** 2
    return np.sum(y * x)


def slice_of_slice_write(x):
    y = x.copy()
    y[1:][0] = x[0] * 3.0
    return np.sum(y**2)


def asarray_alias_write(x):
    y = np.asarray(x)
    y[0] = 0.0
    return np.sum(x**2)


def reshape_view_write(x):
    y = x.copy()
    m = y.reshape(2, 2)
    m[0, 0] = 10.0
    return np.sum(y * x)


def transpose_attribute_write(x):
    y = x.copy()
    y.T[0] = x[:, 1]
    return np.sum(y * x)


def list_holds_array_then_write(x):
    y = x.copy()
    parts = [y, x]
    y[0] = 4.0
    return np.sum(parts[0] * x)


def dict_holds_array_then_write(x):
    y = x * 2.0
    p = {"a": y}
    y[1] = 0.0
    return np.sum(p["a"] * x)


def attribute_alias_write(layer, x):
    w = layer.w
    w[0, 0] = 0.0
    return np.sum(layer.forward(x))


class Cell:
    """A stateful cell: a method rebinds an attribute of the caller's object."""

    def __init__(self, w):
        self.w = w
        self.h = np.zeros(2)

    def step(self, x):
        self.h = np.tanh(self.w @ self.h + x)
        return self.h


def stateful_cell(cell, xs):
    total = 0.0
    for x in xs:
        total = total + np.sum(cell.step(x))
    return total


def array_in_dict_written(x):
    state = {"u": x.copy()}
    state["u"][0] = x[1] ** 2
    return np.sum(state["u"] ** 2)


def append_same_array_then_write(x):
    """The list holds three references to one array: every entry sees the last write."""
    out = []
    y = np.zeros(3)
    for i in range(3):
        y[i] = x[i] ** 2
        out.append(y)
    return np.sum(np.stack(out) * np.arange(9.0).reshape(3, 3))


def _zero_first(v):
    v[0] = 0.0


def helper_mutates_without_return(x):
    y = x.copy()
    _zero_first(y)
    return np.sum(y * x)


def int_buffer_truncates(x):
    y = np.zeros(3, dtype=int)
    y[0] = x * 10.0
    return x * y[0] + x


def arange_buffer_truncates(x):
    y = np.arange(3)
    y[1] = 2.0 * x[1]
    return np.sum(y * x)


RIGHT_OR_REFUSED = [
    case(row_view_then_write, arr(2, 3)),
    case(chained_index_write, arr(2, 3)),
    case(slice_of_slice_write, arr(4)),
    case(asarray_alias_write, arr(3)),
    case(reshape_view_write, arr(4)),
    case(transpose_attribute_write, arr(3, 3)),
    case(list_holds_array_then_write, arr(3)),
    case(dict_holds_array_then_write, arr(3)),
    case(append_same_array_then_write, arr(3)),
    ncase(attribute_alias_write, Dense(arr(3, 2), arr(2, seed=1)), X, wrt=(0, 1)),
    case(helper_mutates_without_return, arr(3)),
    ncase(stateful_cell, Cell(arr(2, 2) * 0.5), [arr(2, seed=1), arr(2, seed=2)], wrt=(0, 1)),
    case(array_in_dict_written, arr(3)),
    case(int_buffer_truncates, 0.73),
    case(arange_buffer_truncates, np.array([0.3, 1.26, -0.4])),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", RIGHT_OR_REFUSED)
def test_right_or_refused(f, args, kwargs, wrt):
    """A write seen through another name must give the oracle's number or raise a
    SourcegradError; never a wrong number, never an internal traceback."""
    try:
        assert_grad(f, *args, wrt=wrt, **kwargs)
    except sourcegrad.SourcegradError as err:
        assert "^" in str(err) and ".py:" in str(err), str(err)


def repeated_index_augmented(x):
    y = np.zeros(3)
    y[np.array([0, 0, 2])] += x
    return np.sum(y**2)


def add_at_scatter(x):
    y = np.zeros(3)
    np.add.at(y, np.array([0, 0, 2]), x)
    return np.sum(y**2)


@pytest.mark.parametrize("f", [repeated_index_augmented, add_at_scatter])
def test_unsupported_scatter_is_refused_clearly(f):
    with pytest.raises(sourcegrad.SourcegradError):
        sourcegrad.grad(f)(np.array([0.5, -1.0, 2.0]))


# Writes through an attribute or into an item of a container (`layer.b[0] = v`,
# `out[k][0] = v`) change the object or list as NumPy would.
@pytest.mark.parametrize("f, args", [
    (list_of_arrays_written, ([arr(3), arr(3, seed=1)], 0.8)),
    (object_writes_through_attribute, (Dense(arr(3, 2), arr(2, seed=1)), X)),
])
def test_writes_through_attributes_and_items(f, args):
    assert_grad(f, *args, wrt=(0, 1))


def test_a_method_writing_into_its_object_is_refused():
    # the caller's object would change: sourcegrad follows that for functions called by name
    with pytest.raises(sourcegrad.UnsupportedSyntaxError, match="changes its argument self"):
        sourcegrad.grad(buffered_object, wrt=(0, 1))(Buffered(arr(3)), 0.7)
