"""Benchmark workloads: plain NumPy functions, their hand-written gradients, and their data.

Each user function is written the way a scientist writes it (loops, ranges, scalar reads), since
sourcegrad transforms its source. Every function uses NumPy only through the module-level name
`np`, so the benchmark can run the very same code under autograd, JAX and PyTorch by rebinding
that name (see `backends.rebind`).

Each hand-written gradient follows the structure of its function (a loop where the function has a
loop), as a person deriving the adjoint by hand would; `run.py` checks it against central finite
differences before anything is timed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Workload:
    """One benchmark case: a scalar function, its hand gradient, and how to build its inputs."""

    name: str
    description: str
    f: Callable
    grad: Callable
    make_args: Callable[[np.random.Generator], tuple]
    wrt: int | tuple[int, ...] = 0

    @property
    def wrt_indices(self) -> tuple[int, ...]:
        """The differentiated argument positions, always as a tuple."""
        return self.wrt if isinstance(self.wrt, tuple) else (self.wrt,)


# 1. Scalar loop ---------------------------------------------------------------------------------


def scalar_loop(w, x0, n):
    """Iterate x <- x + 0.01 sin(w x) n times on Python floats."""
    x = x0
    for _ in range(n):
        x = x + 0.01 * np.sin(x * w)
    return x


def scalar_loop_grad(w, x0, n):
    """d scalar_loop / dw, carrying the tangent dx/dw through the same loop."""
    x = x0
    dx = 0.0
    for _ in range(n):
        dx = dx + 0.01 * np.cos(x * w) * (dx * w + x)
        x = x + 0.01 * np.sin(x * w)
    return dx


def scalar_loop_args(rng):
    """w, x0 as Python floats, 1,000 iterations."""
    return 1.3, 0.5, 1000


# 2. Data-dependent while loop (Kepler's equation by Newton) ------------------------------------


def kepler_mean_radius(e, n):
    """Time-averaged radius of an orbit of eccentricity e (semi-major axis 1), over n samples.

    For each mean anomaly M, Kepler's equation E - e sin E = M is solved by Newton's method to a
    tolerance, so the number of iterations depends on the data. The exact answer is 1 + e**2 / 2.
    """
    total = 0.0
    for k in range(n):
        M = 2.0 * np.pi * (k + 0.5) / n
        E = M
        step = 1.0
        while abs(step) > 1e-12:
            step = (E - e * np.sin(E) - M) / (1.0 - e * np.cos(E))
            E = E - step
        total = total + 1.0 - e * np.cos(E)
    return total / n


def kepler_mean_radius_grad(e, n):
    """d kepler_mean_radius / de, with dE/de = sin E / (1 - e cos E) from the implicit function."""
    total = 0.0
    for k in range(n):
        M = 2.0 * np.pi * (k + 0.5) / n
        E = M
        step = 1.0
        while abs(step) > 1e-12:
            step = (E - e * np.sin(E) - M) / (1.0 - e * np.cos(E))
            E = E - step
        dE = np.sin(E) / (1.0 - e * np.cos(E))
        total = total - np.cos(E) + e * np.sin(E) * dE
    return total / n


def kepler_args(rng):
    """Eccentricity 0.3 as a Python float, 100 orbit samples."""
    return 0.3, 100


# 3. Logistic regression -------------------------------------------------------------------------


def logistic_loss(w, X, y, lam):
    """Mean logistic loss for labels y in {-1, +1}, plus an L2 penalty."""
    z = X @ w
    return np.mean(np.log1p(np.exp(-y * z))) + 0.5 * lam * np.sum(w * w)


def logistic_loss_grad(w, X, y, lam):
    """d logistic_loss / dw."""
    z = X @ w
    dz = -y / (1.0 + np.exp(y * z)) / X.shape[0]
    return X.T @ dz + lam * w


def logistic_args(rng):
    """X of 1000 x 100, labels from a noisy linear model, w of 100."""
    X = rng.normal(size=(1000, 100))
    y = np.sign(X @ rng.normal(size=100) + rng.normal(size=1000))
    return 0.1 * rng.normal(size=100), X, y, 1e-3


# 4. Two-layer MLP with softmax cross-entropy -----------------------------------------------------


def mlp_loss(W1, b1, W2, b2, X, Y):
    """Mean softmax cross-entropy of a tanh MLP on a batch X with one-hot targets Y."""
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    z = z - np.max(z, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(Y * logp) / X.shape[0]


def mlp_loss_grad(W1, b1, W2, b2, X, Y):
    """Gradients of mlp_loss with respect to W1, b1, W2, b2."""
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    p = np.exp(z - np.max(z, axis=1, keepdims=True))
    p = p / np.sum(p, axis=1, keepdims=True)
    dz = (p - Y) / X.shape[0]
    da = (dz @ W2.T) * (1.0 - h * h)
    return X.T @ da, np.sum(da, axis=0), h.T @ dz, np.sum(dz, axis=0)


def mlp_args(rng):
    """Batch of 64, layers 784-128-10."""
    W1 = rng.normal(size=(784, 128)) / np.sqrt(784)
    W2 = rng.normal(size=(128, 10)) / np.sqrt(128)
    b1 = 0.1 * rng.normal(size=128)
    b2 = 0.1 * rng.normal(size=10)
    X = rng.normal(size=(64, 784))
    Y = np.eye(10)[rng.integers(0, 10, size=64)]
    return W1, b1, W2, b2, X, Y


# 5. Tanh RNN --------------------------------------------------------------------------------------


def rnn_loss(Wh, Wx, xs, h0):
    """Run a tanh RNN over the sequence xs and return the squared norm of the final state."""
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t])
    return np.sum(h * h)


def rnn_loss_grad(Wh, Wx, xs, h0):
    """d rnn_loss / dWh by backpropagation through time."""
    hs = [h0]
    for t in range(xs.shape[0]):
        hs.append(np.tanh(Wh @ hs[-1] + Wx @ xs[t]))
    dWh = np.zeros_like(Wh)
    dh = 2.0 * hs[-1]
    for t in range(xs.shape[0], 0, -1):
        da = dh * (1.0 - hs[t] * hs[t])
        dWh += np.outer(da, hs[t - 1])
        dh = Wh.T @ da
    return dWh


def rnn_args(rng):
    """30 steps, hidden size 64, input size 32."""
    Wh = 0.9 * rng.normal(size=(64, 64)) / np.sqrt(64)
    Wx = rng.normal(size=(64, 32)) / np.sqrt(32)
    return Wh, Wx, rng.normal(size=(30, 32)), np.zeros(64)


# 6. Elementwise expression ------------------------------------------------------------------------


def elementwise(x):
    """Sum of an elementwise expression over a large array."""
    return np.sum(np.sin(x) * np.exp(-x * x) + x**2)


def elementwise_grad(x):
    """d elementwise / dx."""
    gauss = np.exp(-x * x)
    return (np.cos(x) - 2.0 * x * np.sin(x)) * gauss + 2.0 * x


def elementwise_args(rng):
    """x of 1,000,000 elements."""
    return (rng.normal(size=1_000_000),)


# 7. Scalar reads in a stencil loop ----------------------------------------------------------------


def chain_energy(u):
    """Bending plus quartic on-site energy of a chain, summed site by site over the interior."""
    energy = 0.0
    for i in range(1, len(u) - 1):
        curvature = u[i + 1] - 2.0 * u[i] + u[i - 1]
        energy += curvature**2 + u[i] ** 4
    return energy


def chain_energy_grad(u):
    """d chain_energy / du, scattering each site's contribution to its three neighbours."""
    g = np.zeros_like(u)
    for i in range(1, len(u) - 1):
        curvature = u[i + 1] - 2.0 * u[i] + u[i - 1]
        g[i + 1] += 2.0 * curvature
        g[i] += -4.0 * curvature + 4.0 * u[i] ** 3
        g[i - 1] += 2.0 * curvature
    return g


def chain_args(rng):
    """u of 502 values: 500 interior sites and two ends."""
    return (0.5 * rng.normal(size=502),)


WORKLOADS = (
    Workload(
        "scalar_loop",
        "1,000 iterations of x = x + 0.01*sin(w*x) on Python floats; d/dw",
        scalar_loop,
        scalar_loop_grad,
        scalar_loop_args,
    ),
    Workload(
        "newton_while",
        "Kepler's equation solved by Newton to 1e-12 (while loop) at 100 anomalies; d/de",
        kepler_mean_radius,
        kepler_mean_radius_grad,
        kepler_args,
    ),
    Workload(
        "logistic",
        "logistic-regression loss + L2, X 1000x100; d/dw (100,)",
        logistic_loss,
        logistic_loss_grad,
        logistic_args,
    ),
    Workload(
        "mlp",
        "784-128-10 tanh MLP, softmax cross-entropy, batch 64; d/d(W1, b1, W2, b2)",
        mlp_loss,
        mlp_loss_grad,
        mlp_args,
        wrt=(0, 1, 2, 3),
    ),
    Workload(
        "rnn",
        "tanh RNN, 30 steps, hidden 64, loss = sum(h_T**2); d/dWh",
        rnn_loss,
        rnn_loss_grad,
        rnn_args,
    ),
    Workload(
        "elementwise",
        "sum(sin(x)*exp(-x*x) + x**2) over 1e6 elements; d/dx",
        elementwise,
        elementwise_grad,
        elementwise_args,
    ),
    Workload(
        "stencil_loop",
        "loop over 500 sites reading u[i-1], u[i], u[i+1]; d/du (502,)",
        chain_energy,
        chain_energy_grad,
        chain_args,
    ),
)
