"""Quickstart: differentiate a NumPy function, print its derivative, check it.

Run: python examples/quickstart.py
"""

import inspect

import numpy as np

import sourcegrad


def model(w, x, n):
    """A tiny recurrent model: n steps of h = tanh(w * h), then a squared norm."""
    h = x
    for i in range(n):
        h = np.tanh(w * h)
    loss = np.sum(h * h)
    return loss


def central_difference(f, w, *args, eps=1e-6):
    return (f(w + eps, *args) - f(w - eps, *args)) / (2 * eps)


def main() -> None:
    x = np.array([0.5, -0.3, 1.2])
    dmodel = sourcegrad.grad(model)  # gradient with respect to w, the first argument

    w = 0.7
    exact = dmodel(w, x, 3)  # transforms model for these argument shapes, then runs
    numeric = central_difference(model, w, x, 3)

    print("The function:\n")
    print(inspect.getsource(model))
    print("The derivative sourcegrad wrote for it (for a float w and a vector x):\n")
    print(dmodel.source)
    print(f"d model / d w at w = {w}:")
    print(f"  sourcegrad          {exact:.12f}")
    print(f"  finite differences  {numeric:.12f}")
    print(f"  difference          {abs(exact - numeric):.1e}")


if __name__ == "__main__":
    main()
