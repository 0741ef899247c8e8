"""A damped pendulum integrated step by step into a preallocated trajectory, differentiated
with respect to its physical parameters, and fitted to noisy observations.

Run: python examples/pendulum_fit.py
"""

import numpy as np

import sourcegrad

DT = 0.01


def simulate(length, damping, theta0, steps):
    """Semi-implicit Euler for theta'' = -(g / length) sin(theta) - damping theta'."""
    g = 9.81
    trajectory = np.zeros((steps + 1, 2))
    trajectory[0, 0] = theta0
    for t in range(steps):
        theta, omega = trajectory[t, 0], trajectory[t, 1]
        omega = omega + DT * (-(g / length) * np.sin(theta) - damping * omega)
        trajectory[t + 1, 0] = theta + DT * omega
        trajectory[t + 1, 1] = omega
    return trajectory


def misfit(length, damping, theta0, observed, every):
    """Mean squared distance between simulated and observed angles at the sample times."""
    trajectory = simulate(length, damping, theta0, (len(observed) - 1) * every)
    angles = trajectory[::every, 0]
    return np.mean((angles - observed) ** 2)


def central_difference(f, args, i, eps=1e-6):
    up, down = list(args), list(args)
    up[i] += eps
    down[i] -= eps
    return (f(*up) - f(*down)) / (2 * eps)


def main() -> None:
    rng = np.random.default_rng(1)
    every = 10
    truth = simulate(1.3, 0.25, 0.8, 400)[::every, 0]
    observed = truth + 0.01 * rng.normal(size=truth.shape)

    gradient = sourcegrad.grad(misfit, wrt=("length", "damping"))
    args = (1.0, 0.1, 0.8, observed, every)
    exact = gradient(*args)
    print("d misfit / d (length, damping) at length=1.0, damping=0.1:")
    for name, i, value in zip(("length", "damping"), (0, 1), exact, strict=True):
        numeric = central_difference(misfit, args, i)
        print(f"  {name:8s} sourcegrad {value:+.10f}   finite differences {numeric:+.10f}")

    length, damping = 1.0, 0.1
    for step in range(121):
        loss = misfit(length, damping, 0.8, observed, every)
        dlength, ddamping = gradient(length, damping, 0.8, observed, every)
        length, damping = length - 0.3 * dlength, damping - 0.3 * ddamping
        if step % 20 == 0:
            print(f"step {step:3d}  misfit {loss:.6f}  length {length:.4f}  damping {damping:.4f}")
    print("true values: length 1.3, damping 0.25")


if __name__ == "__main__":
    main()
