"""Longer programs in the supported style, combining constructs."""

import math

import numpy as np
import pytest

import sourcegrad
from oracle import arr, assert_grad, assert_vjp, case, numeric_grad, signed

# -- ODE integrators ------------------------------------------------------------------------------


def euler_scalar(k, y0, dt, n):
    y = y0
    t = 0.0
    for _ in range(n):
        y = y + dt * (-k * y + np.sin(t))
        t = t + dt
    return y * y


def _decay_rhs(y, t, k, forcing=0.3):
    return -k * y + forcing * math.cos(t)


def rk4_scalar(k, y0, n, dt=0.1):
    y = y0
    t = 0.0
    for _ in range(n):
        k1 = _decay_rhs(y, t, k)
        k2 = _decay_rhs(y + 0.5 * dt * k1, t + 0.5 * dt, k)
        k3 = _decay_rhs(y + 0.5 * dt * k2, t + 0.5 * dt, k)
        k4 = _decay_rhs(y + dt * k3, t + dt, k, forcing=0.3)
        y = y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        t += dt
    return y


def _oscillator(s, w, c):
    return np.stack([s[1], -w * w * s[0] - c * s[1]])


def rk4_oscillator(s, w, c, n):
    dt = 0.05
    energy = 0.0
    for _ in range(n):
        k1 = _oscillator(s, w, c)
        k2 = _oscillator(s + 0.5 * dt * k1, w, c)
        k3 = _oscillator(s + 0.5 * dt * k2, w, c)
        k4 = _oscillator(s + dt * k3, w, c)
        s = s + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        energy = energy + 0.5 * (s[1] ** 2 + w * w * s[0] ** 2) * dt
    return energy


def _lotka(x, y, a, b, c, d):
    return a * x - b * x * y, d * x * y - c * y


def euler_lotka_volterra(params, x, y, n):
    a = params[0]
    b = params[1]
    c = params[2]
    d = params[3]
    dt = 0.02
    for _ in range(n):
        dx, dy = _lotka(x, y, a, b, c, d)
        x, y = x + dt * dx, y + dt * dy
    return x * y + x


def euler_linear_system(a, s, n):
    for _ in range(n):
        s = s + 0.1 * (a @ s)
    return np.sum(s * s)


def euler_closed_form(k, y0, n):
    y = y0
    for _ in range(n):
        y = y - 0.1 * k * y
    return y


def euler_batch_states(k, states, n):
    # several trajectories at once, (2, 3) states with (1, 3) rates
    for _ in range(n):
        states = states + 0.1 * (-k * states + np.tanh(states[::-1]))
    return np.sum(states**2)


# -- filters and solvers --------------------------------------------------------------------------


def kalman_filter(f, q, r, zs, x, p):
    h = np.array([[1.0, 0.0]])
    loss = 0.0
    for z in zs:
        x = f @ x
        p = f @ p @ f.T + q * np.eye(2)
        innovation = z - h @ x
        s = h @ p @ h.T + r
        gain = p @ h.T / s
        x = x + gain @ innovation
        p = (np.eye(2) - gain @ h) @ p
        loss = loss + np.sum(innovation**2 / s + np.log(s))
    return loss + np.sum(p) * 0.1


def kalman_states(f, zs, x):
    h = np.array([[1.0, 0.0]])
    p = np.eye(2)
    out = x * 0.0
    for z in zs:
        x = f @ x
        p = f @ p @ f.T + 0.1 * np.eye(2)
        s = h @ p @ h.T + 0.5
        gain = p @ h.T / s
        x = x + gain @ (z - h @ x)
        p = (np.eye(2) - gain @ h) @ p
        out = out + x
    return out


def _newton_cubic(a, b, damping=0.8):
    x = 1.0
    k = 0
    r = x**3 + a * x - b
    while abs(r) > 1e-13 and k < 200:
        x = x - damping * r / (3.0 * x * x + a)
        r = x**3 + a * x - b
        k = k + 1
    return x


def newton_loss(a, b):
    root = _newton_cubic(a, b)
    return (root - 0.5) ** 2 + root * a


def newton_in_loop(a, bs):
    s = 0.0
    for b in bs:
        s = s + _newton_cubic(a, b, damping=0.9) * b
    return s


def _newton_fixed(a, n=40):
    x = 1.0
    for _ in range(n):
        x = x - 0.7 * (x * x - a) / (2.0 * x)
    return x


def newton_fixed_sqrt(a):
    # the iterate converges to sqrt(a): d/da sum(sqrt(a)) = 0.5 / sqrt(a)
    return np.sum(_newton_fixed(a))


def bisection_bracket(a, w):
    # root of x**2 - 2 in [0, a]: with the decisions fixed, the result is a dyadic fraction of a
    lo = 0.0
    hi = a
    while hi - lo > 1e-9:
        mid = 0.5 * (lo + hi)
        if mid * mid > 2.0:
            hi = mid
        else:
            lo = mid
    mid = 0.5 * (lo + hi)
    return mid * mid * w + a


def bisection_bracket_expected(a, w):
    lo, hi = 0.0, a
    while hi - lo > 1e-9:
        mid = 0.5 * (lo + hi)
        if mid * mid > 2.0:
            hi = mid
        else:
            lo = mid
    mid = 0.5 * (lo + hi)
    return 2.0 * mid * (mid / a) * w + 1.0, mid * mid


def bisection_feeds_weights(c, v):
    # the root depends only on the constant c; the gradient wrt v goes through the final midpoint
    lo = -3.0
    hi = 3.0
    while hi - lo > 1e-8:
        mid = (lo + hi) / 2.0
        if np.tanh(mid) - c > 0:
            hi = mid
        else:
            lo = mid
    mid = (lo + hi) / 2.0
    return np.sum(np.sin(v * mid)) + mid


# -- softmax, attention, MLP ----------------------------------------------------------------------


def _logsumexp(z):
    m = np.max(z)
    return m + np.log(np.sum(np.exp(z - m)))


def cross_entropy_rows(logits, labels):
    loss = 0.0
    for i in range(logits.shape[0]):
        loss = loss + _logsumexp(logits[i]) - logits[i, labels[i]]
    return loss / logits.shape[0]


def cross_entropy_vectorized(w, x, labels):
    z = x @ w
    m = np.max(z, axis=-1, keepdims=True)
    lse = m[:, 0] + np.log(np.sum(np.exp(z - m), axis=-1))
    picked = z[np.arange(z.shape[0]), labels]
    return np.mean(lse - picked)


def softmax_builtin_max(z):
    m = z[0]
    for v in z:
        m = max(m, v)
    e = np.exp(z - m)
    p = e / np.sum(e)
    return np.sum(p * np.arange(len(z)))


def softmax_probs(z, temperature):
    z = z / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def attention_block(x, wq, wk, wv, wo):
    q = x @ wq
    k = x @ wk
    v = x @ wv
    scores = q @ k.T / math.sqrt(wq.shape[1])
    scores = scores - np.max(scores, axis=-1, keepdims=True)
    att = np.exp(scores)
    att = att / np.sum(att, axis=-1, keepdims=True)
    h = x + (att @ v) @ wo
    mu = np.mean(h, axis=-1, keepdims=True)
    var = np.var(h, axis=-1, keepdims=True)
    y = (h - mu) / np.sqrt(var + 1e-5)
    return np.sum(y * np.arange(y.shape[1]))


def multihead_attention(x, wq, wk, wv):
    # wq, wk, wv: (heads, d, dk); heads summed after the transpose
    out = 0.0
    for hd in range(wq.shape[0]):
        q = x @ wq[hd]
        k = x @ wk[hd]
        s = q @ np.transpose(k) * 0.5
        s = s - s.max(axis=1, keepdims=True)
        a = np.exp(s)
        a = a / a.sum(axis=1, keepdims=True)
        out = out + a @ (x @ wv[hd])
    return np.sum(np.tanh(out))


def attention_out(q, k, v):
    s = q @ k.T
    s = s - np.max(s, axis=-1, keepdims=True)
    p = np.exp(s)
    p = p / np.sum(p, axis=-1, keepdims=True)
    return p @ v


def mlp_layers_loop(w1, b1, w2, b2, x, y):
    h = x
    for layer in range(2):
        if layer == 0:
            h = np.tanh(h @ w1 + b1)
        else:
            h = h @ w2 + b2
    return np.mean((h - y) ** 2)


def mlp_list_of_layers(w1, w2, x):
    h = x
    for w in [w1, w2]:
        h = np.maximum(h @ w, 0.1 * (h @ w))
    return np.sum(h * h)


def _dense(h, w, b, act=True):
    z = h @ w + b
    if act:
        return np.tanh(z)
    return z


def mlp_helper_kwargs(w1, b1, w2, b2, x):
    h = _dense(x, w1, b1)
    out = _dense(h, w2, b2, act=False)
    return np.sum(out**2)


def mlp_out(w1, w2, x):
    return np.tanh(x @ w1) @ w2


def training_steps(w, x, y, lr, n):
    # an unrolled training loop: gradient of the final loss wrt the initial weights and lr
    for _ in range(n):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        w = w - lr * (x.T @ (p - y)) / x.shape[0]
    p = 1.0 / (1.0 + np.exp(-(x @ w)))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


# -- polynomials, piecewise, reductions -----------------------------------------------------------


def horner(coeffs, x):
    p = 0.0
    for c in coeffs:
        p = p * x + c
    return np.sum(p)


def horner_expected(coeffs, x):
    n = len(coeffs)
    powers = np.array([x ** (n - 1 - k) for k in range(n)])
    dcoeffs = np.sum(powers.reshape(n, -1), axis=1)
    dx = np.polyval(np.polyder(coeffs), x)
    return dcoeffs, dx


def horner_index(coeffs, x):
    p = coeffs[len(coeffs) - 1] * 0.0
    for i in range(len(coeffs)):
        p = p * x + coeffs[i]
    return np.sum(p)


def _horner_rec(coeffs, x):
    if len(coeffs) == 1:
        return coeffs[0]
    return _horner_rec(coeffs[:-1], x) * x + coeffs[-1]


def horner_recursive(coeffs, x):
    return np.sum(_horner_rec(coeffs, x) ** 2)


def piecewise_reductions(a):
    if np.max(a) > 1.5:
        y = np.sum(a**2)
    elif np.mean(a) > 0.0:
        y = np.sum(np.sin(a))
    elif np.min(a) < -1.5:
        y = np.prod(a)
    else:
        y = np.sum(np.exp(a)) * a[0]
    return y


def piecewise_in_loop(m):
    s = 0.0
    for row in m:
        if row.sum() > 0.5:
            s = s + np.max(row) * row[0]
        elif np.abs(row).min() < 0.4:
            s = s - np.min(row) ** 2
        else:
            s = s * 0.5 + np.mean(row**3)
    return s


def shape_grows_rows(m, w):
    s = 0.0
    for row in m:
        s = s + row * w
    return np.sum(s @ m.T)


def shape_grows_to_matrix(a, b, n):
    # s: scalar, then (3,) with a, then (2, 3) with b of shape (2, 1)
    s = 0.0
    for i in range(n):
        if i == 0:
            s = s + a
        else:
            s = s * b + a * 0.5
    return np.sum(s * s)


def broadcast_loop(r, m, c, x):
    # r (1, 3), m (2, 3), c (2, 1), x scalar
    s = m
    for i in range(3):
        s = np.tanh(s * r + c * x) + (i + 1.0) * r
        s = s + c @ r
    return np.sum(s)


def keepdims_norms(m, gamma, beta):
    mu = m.mean(axis=0, keepdims=True)
    sd = np.std(m, axis=0, keepdims=True)
    z = (m - mu) / (sd + 1e-3)
    z = gamma * z + beta
    row = np.sum(z, axis=-1, keepdims=True)
    return np.sum(z * row) + np.max(z, axis=1, keepdims=True).sum()


def tuple_axes_reductions(t):
    a = np.sum(t, axis=(0, 2))
    b = np.mean(t * t, axis=(1, -1))
    c = np.max(t, axis=-1)
    d = np.min(t, axis=(0, 1))
    e = np.prod(t, axis=-1)
    return np.sum(a * a) + np.sum(b) + np.sum(c * c) + np.sum(d) + np.sum(e)


def var_std_axes(t):
    return np.sum(np.var(t, axis=(0, 2))) + np.sum(np.std(t, axis=-1, keepdims=True) * t)


def where_in_loop(a, w, n):
    for i in range(n):
        a = np.where(a > 0.1 * i, a * w, 0.3 * a)
        a = np.where(np.abs(a) < 1.5, a, np.sign(a) * 1.5)
    return np.sum(a * a)


def max_min_axes_loop(m, n):
    s = 0.0
    for _ in range(n):
        hi = np.max(m, axis=0)
        lo = m.min(axis=1)
        s = s + np.sum(hi) * np.sum(lo)
        m = m * 0.8 + np.mean(m, axis=1, keepdims=True) * 0.2
    return s


def maximum_minimum_broadcast(a, b):
    s = 0.0
    for k in range(3):
        s = s + np.sum(np.maximum(a[:, None], b[None, :] + k * 0.3))
        s = s + np.sum(np.minimum(a[None, :], b[:, None] * 0.5))
    return s


# -- helpers, recursion, mixed argument kinds -----------------------------------------------------


def _kick_drift(x, v, dt, k=1.0):
    v = v - dt * k * x
    x = x + dt * v
    return x, v


def leapfrog(x, v, k, n):
    for i in range(n):
        x, v = _kick_drift(x, v, 0.1, k=k * (1.0 + 0.1 * i))
    return np.sum(x * x + v * v)


def _matpow(m, n):
    if n == 1:
        return m
    return m @ _matpow(m, n - 1)


def recursive_matpow(m):
    return np.sum(_matpow(m, 3))


def _halve_sum(a):
    if a.shape[0] == 1:
        return a[0]
    k = a.shape[0] // 2
    return _halve_sum(a[:k]) * 1.5 + _halve_sum(a[k:])


def recursive_rows(m):
    # rows of a (4, 2) matrix combined by a recursion that returns (2,) vectors
    v = _halve_sum(m)
    return np.sum(v * v)


def _sq_sin(u, scale=1.0):
    return scale * u * u + np.sin(u)


def helper_float_and_array(x, a):
    s = _sq_sin(x)
    t = _sq_sin(a, scale=x)
    return s * np.sum(t) + _sq_sin(np.sum(a))


def _relax(u, rate=0.5, target=0.0):
    return u + rate * (target - u)


def helper_defaults_in_loop(a, x, n):
    for i in range(n):
        if i % 2 == 0:
            a = _relax(a)
        else:
            a = _relax(a, target=x, rate=0.3)
        x = _relax(x, 0.1)
    return np.sum(a * a) * x


def helper_tuple_loop_accumulate(a, n):
    m = a * 0.0
    v = 0.0
    for i in range(n):
        m, v = _moments(a * (i + 1.0), m, v)
    return np.sum(m) + v


def _moments(g, m, v, beta1=0.9, beta2=0.99):
    return beta1 * m + (1.0 - beta1) * g, beta2 * v + (1.0 - beta2) * np.sum(g * g)


# -- wrt that the output does not depend on -------------------------------------------------------


def ignores_array_arg(a, b, n):
    s = 0.0
    for _ in range(n):
        s = s + np.sum(a * a)
    if np.sum(b) > 100.0:
        s = s + np.sum(b)
    return s


def shadowed_arg(x, y):
    y = 2.0
    return x * y


def only_shape_of(a, b):
    s = 0.0
    for i in range(b.shape[0]):
        s = s + a[i % a.shape[0]] * b.ndim
    return s


# -- layers, trajectories and states in Python containers -----------------------------------------


def mlp_zip_layers(w1, b1, w2, b2, x):
    h = x
    for w, b in [(w1, b1), (w2, b2)]:
        h = np.tanh(h @ w + b)
    return np.sum(h * h)


def discounted_return(rewards, gamma):
    ret = 0.0
    for t, r in enumerate(rewards):
        ret = ret + gamma**t * r
    return ret


def mlp_list_slice(w1, w2, w3, x):
    ws = [w1, w2, w3]
    h = x
    for w in ws[:-1]:
        h = np.tanh(h @ w)
    return np.sum((h @ ws[-1]) ** 2)


def horner_list_of_params(a, b, c, x):
    coeffs = [a, b, c]
    p = coeffs[0]
    for q in coeffs[1:]:
        p = p * x + q
    return p


def trajectory_append(y0, k, n):
    # collect the states of an Euler run, then a loss on the whole trajectory
    traj = []
    y = y0
    for _ in range(n):
        y = y + 0.1 * (-k * y + np.sin(y))
        traj.append(y)
    return np.sum((np.stack(traj) - 0.5) ** 2)


def trajectory_concat(y0, k, n):
    traj = []
    y = y0
    for _ in range(n):
        y = y + 0.1 * (-k * y)
        traj = traj + [y]
    return np.sum(np.stack(traj) ** 2)


def ensemble_copies(x0, w):
    xs = np.stack([x0] * 3)
    for i in range(2):
        xs = np.tanh(xs * w + i)
    return np.sum(xs * np.arange(3.0)[:, None])


def _step_with_diagnostics(x, v, k):
    v = v - 0.1 * k * x
    x = x + 0.1 * v
    return x, (0.5 * v * v + 0.5 * k * x * x, v * x)


def leapfrog_diagnostics(x, v, k, n):
    total = 0.0
    for _ in range(n):
        x, (energy, flux) = _step_with_diagnostics(x, v, k)
        v = flux / x
        total = total + energy
    return total


def leapfrog_diagnostics_indexed(x, v, k):
    out = _step_with_diagnostics(x, v, k)
    return out[0] + out[1][0] * out[1][1]


# -- attention over a batch of key sets, integrator taking the model as an argument ---------------


def query_over_batches(q, keys, values):
    # one query vector (d,) against keys (b, t, d): scores (b, t)
    s = q @ np.swapaxes(keys, -1, -2)
    s = s - np.max(s, axis=-1, keepdims=True)
    p = np.exp(s)
    p = p / np.sum(p, axis=-1, keepdims=True)
    return np.sum(np.sum(p[:, :, None] * values, axis=1) ** 2)


def _logistic_rhs(y, r):
    return r * y * (1.0 - y)


def _euler(rhs, y, r, n):
    for _ in range(n):
        y = y + 0.1 * rhs(y, r)
    return y


def integrator_takes_rhs(y0, r):
    return _euler(_logistic_rhs, y0, r, 5)


# -- float32 --------------------------------------------------------------------------------------


def mlp_float32(w1, w2, x):
    h = np.tanh(x @ w1)
    return np.sum((h @ w2) ** 2)


def euler_float32(k, s, n):
    for _ in range(n):
        s = s + np.float32(0.1) * (-k * s)
    return np.sum(s * s)


CASES = [
    case(euler_scalar, 0.7, 1.2, 0.1, 8, wrt=(0, 1, 2)),
    case(euler_scalar, 0.7, 1.2, 0.1, 0, wrt=(0, 1)),
    case(rk4_scalar, 0.9, 1.1, 6, wrt=(0, 1)),
    case(rk4_scalar, 0.9, 1.1, 4, dt=0.2, wrt=("k", "dt")),
    case(rk4_oscillator, np.array([1.0, 0.2]), 1.3, 0.2, 5, wrt=(0, 1, 2)),
    case(euler_lotka_volterra, np.array([1.1, 0.4, 0.9, 0.3]), 1.2, 0.8, 10, wrt=(0, 1, 2)),
    case(euler_linear_system, arr(3, 3, lo=-0.5, hi=0.5), arr(3, seed=1), 5, wrt=(0, 1)),
    case(
        euler_batch_states,
        arr(1, 3, lo=0.2, hi=1.0),
        arr(2, 3, seed=1),
        4,
        wrt=(0, 1),
    ),
    case(
        kalman_filter,
        np.array([[1.0, 0.1], [0.0, 0.95]]),
        0.05,
        0.4,
        arr(5, seed=2),
        np.array([0.1, -0.2]),
        np.eye(2) * 0.5,
        wrt=(0, 1, 2, 3, 4, 5),
    ),
    case(newton_loss, 1.5, 0.8, wrt=(0, 1)),
    case(newton_in_loop, 1.2, arr(3, lo=0.2, hi=2.0), wrt=(0, 1)),
    case(newton_fixed_sqrt, arr(3, lo=0.5, hi=2.0)),
    case(bisection_feeds_weights, 0.3, arr(3), wrt=1),
    case(cross_entropy_rows, arr(4, 3), np.array([0, 2, 1, 2])),
    case(
        cross_entropy_vectorized,
        arr(3, 4),
        arr(5, 3, seed=1),
        np.array([0, 3, 1, 1, 2]),
        wrt=(0, 1),
    ),
    case(softmax_builtin_max, signed(5)),
    case(
        attention_block,
        arr(4, 3),
        arr(3, 2, seed=1),
        arr(3, 2, seed=2),
        arr(3, 2, seed=3),
        arr(2, 3, seed=4),
        wrt=(0, 1, 2, 3, 4),
    ),
    case(
        multihead_attention,
        arr(4, 3),
        arr(2, 3, 2, seed=1),
        arr(2, 3, 2, seed=2),
        arr(2, 3, 2, seed=3),
        wrt=(0, 1, 2, 3),
    ),
    case(
        mlp_layers_loop,
        arr(3, 4),
        arr(4, seed=1),
        arr(4, 2, seed=2),
        arr(1, 2, seed=3),
        arr(5, 3, seed=4),
        arr(5, 2, seed=5),
        wrt=(0, 1, 2, 3, 4),
    ),
    case(mlp_list_of_layers, arr(3, 4), arr(4, 2, seed=1), arr(5, 3, seed=2), wrt=(0, 1, 2)),
    case(
        mlp_helper_kwargs,
        arr(3, 4),
        arr(4, seed=1),
        arr(4, 2, seed=2),
        0.3,
        arr(5, 3, seed=4),
        wrt=(0, 1, 2, 3),
    ),
    case(
        training_steps,
        arr(3, lo=-0.5, hi=0.5),
        arr(6, 3, seed=1),
        np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0]),
        0.5,
        4,
        wrt=(0, 1, 3),
    ),
    case(horner_index, arr(4), arr(3, seed=1), wrt=(0, 1), name="horner_index-vector_x"),
    case(horner_recursive, arr(4), 0.7, wrt=(0, 1)),
    case(horner_recursive, arr(4), arr(2, seed=1), wrt=(0, 1), name="horner_recursive-arr_x"),
    case(piecewise_reductions, arr(4, lo=-1.0, hi=1.9), name="piecewise-max"),
    case(piecewise_reductions, arr(4, lo=-0.5, hi=1.2), name="piecewise-mean"),
    case(piecewise_reductions, arr(4, lo=-1.9, hi=0.5), name="piecewise-min"),
    case(piecewise_reductions, arr(4, lo=-1.2, hi=0.3), name="piecewise-else"),
    case(piecewise_in_loop, signed(4, 3, seed=7)),
    case(shape_grows_rows, arr(3, 2), arr(2, seed=1), wrt=(0, 1)),
    case(shape_grows_to_matrix, arr(3), arr(2, 1, seed=1), 3, wrt=(0, 1)),
    case(shape_grows_to_matrix, arr(3), arr(2, 1, seed=1), 1, wrt=(0, 1)),
    case(
        broadcast_loop,
        arr(1, 3, lo=-0.8, hi=0.8),
        arr(2, 3, seed=1),
        arr(2, 1, seed=2),
        0.6,
        wrt=(0, 1, 2, 3),
    ),
    case(keepdims_norms, arr(4, 3), arr(1, 3, seed=1), arr(3, seed=2), wrt=(0, 1, 2)),
    case(tuple_axes_reductions, arr(2, 3, 4)),
    case(var_std_axes, arr(2, 3, 4)),
    case(where_in_loop, signed(6), 1.3, 3, wrt=(0, 1)),
    case(max_min_axes_loop, arr(3, 4), 3),
    case(maximum_minimum_broadcast, arr(3), arr(4, seed=1), wrt=(0, 1)),
    case(leapfrog, arr(3), arr(3, seed=1), 1.3, 5, wrt=(0, 1, 2)),
    case(recursive_matpow, arr(3, 3)),
    case(recursive_rows, arr(4, 2)),
    case(helper_float_and_array, 0.7, arr(3), wrt=(0, 1)),
    case(helper_defaults_in_loop, arr(3), 0.7, 4, wrt=(0, 1)),
    case(helper_tuple_loop_accumulate, arr(3), 3),
    case(ignores_array_arg, arr(3), arr(2, 2, seed=1), 2, wrt=(0, 1)),
    case(shadowed_arg, 0.7, 1.3, wrt=(0, 1)),
    case(only_shape_of, arr(3), arr(5, seed=1), wrt=(0, 1)),
    case(
        mlp_float32,
        arr(3, 4).astype(np.float32),
        arr(4, 2, seed=1).astype(np.float32),
        arr(5, 3, seed=2).astype(np.float32),
        wrt=(0, 1, 2),
    ),
    case(
        euler_float32,
        arr(3, lo=0.2, hi=1.0).astype(np.float32),
        arr(3, seed=1).astype(np.float32),
        4,
        wrt=(0, 1),
    ),
    case(
        mlp_zip_layers,
        arr(3, 4),
        arr(4, seed=1),
        arr(4, 2, seed=2),
        arr(2, seed=3),
        arr(5, 3, seed=4),
        wrt=(0, 1, 2, 3),
    ),
    case(discounted_return, arr(4), 0.9, wrt=(0, 1)),
    case(
        mlp_list_slice,
        arr(3, 4),
        arr(4, 4, seed=1),
        arr(4, 2, seed=2),
        arr(5, 3, seed=3),
        wrt=(0, 1, 2),
    ),
    case(horner_list_of_params, 0.5, -1.2, 0.3, 0.7, wrt=(0, 1, 2, 3)),
    case(trajectory_append, arr(3), 0.7, 4, wrt=(0, 1)),
    case(trajectory_concat, arr(3), 0.7, 3, wrt=(0, 1)),
    case(ensemble_copies, arr(2), 0.8, wrt=(0, 1)),
    case(leapfrog_diagnostics, 0.7, 0.3, 1.3, 3, wrt=(0, 1, 2)),
    case(leapfrog_diagnostics_indexed, 0.7, 0.3, 1.3, wrt=(0, 1, 2)),
    case(
        query_over_batches,
        arr(3),
        arr(2, 4, 3, seed=1),
        arr(2, 4, 2, seed=2),
        wrt=(0, 1, 2),
    ),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES)
def test_grad(f, args, kwargs, wrt):
    rtol = 2e-3 if any(getattr(a, "dtype", None) == np.float32 for a in args) else 1e-5
    assert_grad(f, *args, wrt=wrt, rtol=rtol, atol=1e-4 if rtol > 1e-5 else 1e-7, **kwargs)


# -- closed forms ---------------------------------------------------------------------------------


def test_euler_closed_form():
    # y_n = y0 (1 - 0.1 k)^n
    k, y0, n = 0.8, 1.5, 6
    dk, dy0 = sourcegrad.grad(euler_closed_form, wrt=(0, 1))(k, y0, n)
    base = 1.0 - 0.1 * k
    np.testing.assert_allclose(dk, y0 * n * base ** (n - 1) * -0.1, rtol=1e-12)
    np.testing.assert_allclose(dy0, base**n, rtol=1e-12)


def test_newton_fixed_closed_form():
    a = arr(3, lo=0.5, hi=2.0)
    got = sourcegrad.grad(newton_fixed_sqrt)(a)
    np.testing.assert_allclose(got, 0.5 / np.sqrt(a), rtol=1e-9)


@pytest.mark.parametrize("a", [2.5, 4.0, 1.7])
def test_bisection_closed_form(a):
    w = 0.6
    expected_da, mid2 = bisection_bracket_expected(a, w)
    da, dw = sourcegrad.grad(bisection_bracket, wrt=(0, 1))(a, w)
    np.testing.assert_allclose(da, expected_da, rtol=1e-9)
    np.testing.assert_allclose(dw, mid2, rtol=1e-12)


@pytest.mark.parametrize(
    "x", [0.7, arr(3, seed=1), arr(2, 3, seed=2)], ids=["scalar", "vector", "matrix"]
)
def test_horner_closed_form(x):
    coeffs = np.array([0.5, -1.2, 0.3, 2.0])
    dcoeffs, dx = sourcegrad.grad(horner, wrt=(0, 1))(coeffs, x)
    expected_dcoeffs, expected_dx = horner_expected(coeffs, x)
    np.testing.assert_allclose(dcoeffs, expected_dcoeffs, rtol=1e-12)
    np.testing.assert_allclose(dx, expected_dx, rtol=1e-12)
    assert np.shape(dx) == np.shape(x)


def test_softmax_closed_form():
    # d/dz sum(p * c) = p * (c - sum(p * c))
    z = signed(5)
    p = np.exp(z - z.max()) / np.sum(np.exp(z - z.max()))
    c = np.arange(5.0)
    got = sourcegrad.grad(softmax_builtin_max)(z)
    np.testing.assert_allclose(got, p * (c - np.sum(p * c)), rtol=1e-10, atol=1e-14)


def test_unused_wrt_is_zero_of_right_kind():
    a = arr(3)
    b = arr(2, 2, seed=1).astype(np.float32)
    da, db = sourcegrad.grad(ignores_array_arg, wrt=(0, 1))(a, b, 2)
    np.testing.assert_allclose(da, 4.0 * a, rtol=1e-12)
    assert isinstance(db, np.ndarray) and db.shape == (2, 2) and db.dtype == np.float32
    assert not np.any(db)
    dx, dy = sourcegrad.grad(shadowed_arg, wrt=(0, 1))(0.7, 1.3)
    assert dx == 2.0 and isinstance(dy, float) and dy == 0.0


# -- vector-Jacobian products of array outputs ----------------------------------------------------


def rk4_trajectory_end(s, w, c):
    dt = 0.1
    for _ in range(4):
        k1 = _oscillator(s, w, c)
        k2 = _oscillator(s + 0.5 * dt * k1, w, c)
        k3 = _oscillator(s + 0.5 * dt * k2, w, c)
        k4 = _oscillator(s + dt * k3, w, c)
        s = s + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return s


def horner_values(coeffs, x):
    p = 0.0
    for c in coeffs:
        p = p * x + c
    return p


def where_loop_out(a, w):
    for i in range(3):
        a = np.where(a > 0.2 * i, np.tanh(a * w), a * a)
    return a


VJP_CASES = [
    pytest.param(
        rk4_trajectory_end, (np.array([1.0, 0.2]), 1.3, 0.2), np.array([0.7, -1.1]), id="rk4-end"
    ),
    pytest.param(
        kalman_states,
        (np.array([[1.0, 0.1], [0.0, 0.95]]), arr(4, seed=3), np.array([0.1, -0.2])),
        np.array([0.4, 1.3]),
        id="kalman",
    ),
    pytest.param(
        attention_out,
        (arr(3, 2), arr(4, 2, seed=1), arr(4, 3, seed=2)),
        arr(3, 3, seed=5),
        id="attention",
    ),
    pytest.param(
        mlp_out, (arr(3, 4), arr(4, 2, seed=1), arr(5, 3, seed=2)), arr(5, 2, seed=3), id="mlp"
    ),
    pytest.param(softmax_probs, (arr(3, 4), 0.7), arr(3, 4, seed=4), id="softmax"),
    pytest.param(horner_values, (arr(4), arr(2, 3, seed=1)), arr(2, 3, seed=2), id="horner"),
    pytest.param(where_loop_out, (signed(5), 1.2), arr(5, seed=3), id="where-loop"),
]


@pytest.mark.parametrize("f, args, seed", VJP_CASES)
def test_vjp(f, args, seed):
    assert_vjp(f, *args, seed=seed)


# -- the derivative cache across shapes -----------------------------------------------------------


def cached_program(x, n):
    s = 0.0
    for i in range(n):
        s = s + np.tanh(x * (i + 1.0)) * x
    return np.sum(s * s)


def test_cache_shapes_in_turn():
    df = sourcegrad.grad(cached_program)
    for x in [0.7, arr(3), arr(2, 3, seed=1), -0.4, arr(3, seed=2), np.array(0.3)]:
        got = df(x, 3)
        expected = sourcegrad_free_grad(cached_program, x, 3)
        assert type(got) is type(x) or isinstance(got, np.ndarray) == isinstance(x, np.ndarray)
        assert np.shape(got) == np.shape(x)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)


def test_cache_dtypes_and_trip_counts():
    df = sourcegrad.grad(euler_float32, wrt=(0, 1))
    k64 = arr(3, lo=0.2, hi=1.0)
    s64 = arr(3, seed=1)
    for k, s, n in [
        (k64, s64, 2),
        (k64.astype(np.float32), s64.astype(np.float32), 4),
        (k64, s64, 0),
        (k64, s64, 5),
    ]:
        dk, ds = df(k, s, n)
        assert dk.dtype == k.dtype and ds.dtype == s.dtype
        base = 1.0 - 0.1 * k.astype(np.float64)
        s0 = s.astype(np.float64)
        np.testing.assert_allclose(ds, 2.0 * s0 * base ** (2 * n), rtol=1e-5)
        np.testing.assert_allclose(
            dk, 2.0 * s0**2 * n * base ** (2 * n - 1) * -0.1, rtol=1e-5, atol=1e-7
        )


def test_cache_value_and_grad_shapes():
    vg = sourcegrad.value_and_grad(piecewise_reductions)
    for a in [
        arr(4, lo=-1.0, hi=1.9),
        arr(2, 2, lo=-0.5, hi=1.2),
        arr(4, lo=-1.2, hi=0.3),
        arr(3, lo=-1.9, hi=0.5),
    ]:
        value, g = vg(a)
        np.testing.assert_allclose(value, piecewise_reductions(a), rtol=1e-12)
        assert g.shape == a.shape
        np.testing.assert_allclose(g, numeric_grad(piecewise_reductions, (a,), {}, 0), rtol=1e-5)


def sourcegrad_free_grad(f, x, n):
    return numeric_grad(f, (x, n), {}, 0)


# -- ties in the max of a hand-written log-sum-exp: the gradient is the softmax whatever the max ---


def lse_max(z):
    m = np.max(z)
    return m + np.log(np.sum(np.exp(z - m)))


def lse_builtin_max_loop(z):
    m = z[0]
    for v in z:
        m = max(m, v)
    return m + np.log(np.sum(np.exp(z - m)))


def lse_where_loop(z):
    m = z[0]
    for v in z:
        m = np.where(v > m, v, m)
    return m + np.log(np.sum(np.exp(z - m)))


def lse_rows_keepdims(z):
    m = np.max(z, axis=-1, keepdims=True)
    return np.sum(m[:, 0] + np.log(np.sum(np.exp(z - m), axis=-1)))


@pytest.mark.parametrize("f", [lse_max, lse_builtin_max_loop, lse_where_loop])
@pytest.mark.parametrize(
    "z", [np.zeros(4), np.array([1.0, 2.0, 2.0, -1.0])], ids=["all-tied", "two-tied"]
)
def test_logsumexp_ties_closed_form(f, z):
    p = np.exp(z - z.max()) / np.sum(np.exp(z - z.max()))
    np.testing.assert_allclose(sourcegrad.grad(f)(z), p, rtol=1e-12, atol=1e-15)


def test_logsumexp_rows_ties_closed_form():
    z = np.array([[0.0, 0.0, 1.0], [2.0, 2.0, 2.0]])
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(sourcegrad.grad(lse_rows_keepdims)(z), p, rtol=1e-12)


def float_weight_float32_data(w, x):
    s = 0.0
    for i in range(2):
        s = s + np.sum(np.tanh(x * w) * (i + 1.0))
    return s


def test_float_wrt_with_float32_data_closed_form():
    # finite differences in float32 are too coarse here: d/dw = 3 sum(x (1 - tanh(x w)^2))
    x = arr(3).astype(np.float32)
    got = sourcegrad.grad(float_weight_float32_data)(0.7, x)
    x64 = x.astype(np.float64)
    assert isinstance(got, float)
    np.testing.assert_allclose(got, 3.0 * np.sum(x64 * (1.0 - np.tanh(x64 * 0.7) ** 2)), rtol=1e-5)


def _shared(u, w):
    return u * w + np.sin(u * w)


def shared_scalar_user(x, w):
    return np.sum(_shared(x, w))


def shared_array_user(a, w):
    return np.sum(_shared(a, w) * a)


def test_cache_helper_shared_by_two_functions():
    # the helper's derivative is built for one caller's shapes, then the other's, then again
    d1 = sourcegrad.grad(shared_scalar_user, wrt=(0, 1))
    d2 = sourcegrad.grad(shared_array_user, wrt=(0, 1))
    calls = [
        (d1, shared_scalar_user, (0.7, 1.2)),
        (d2, shared_array_user, (arr(3), 1.2)),
        (d1, shared_scalar_user, (arr(3), 1.2)),
        (d1, shared_scalar_user, (0.7, arr(2, 3))),
        (d2, shared_array_user, (arr(2, 3), arr(3, seed=1))),
        (d1, shared_scalar_user, (0.7, 1.2)),
    ]
    for df, f, args in calls:
        got = df(*args)
        expected = numeric_grad(f, args, {}, (0, 1))
        for g, e in zip(got, expected, strict=True):
            assert np.shape(g) == np.shape(e)
            np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-8)


def test_cache_vjp_output_shapes_in_turn():
    for args in [(arr(4), 0.7), (arr(4), arr(2, 3, seed=1)), (arr(4), 0.3), (arr(4), arr(3))]:
        seed = np.ones(np.shape(args[1])) * 0.5 if np.ndim(args[1]) else 0.5
        out, pullback = sourcegrad.vjp(horner_values, *args)
        np.testing.assert_allclose(out, horner_values(*args), rtol=1e-12)
        dcoeffs, dx = pullback(seed)
        expected_dcoeffs, expected_dx = horner_expected(args[0], args[1])
        np.testing.assert_allclose(dcoeffs, 0.5 * expected_dcoeffs, rtol=1e-12)
        np.testing.assert_allclose(dx, 0.5 * expected_dx, rtol=1e-12)


def test_a_module_function_passed_as_an_argument():
    assert_grad(integrator_takes_rhs, 0.2, 1.5, wrt=(0, 1))
