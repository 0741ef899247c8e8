"""A small network written the way people write one in plain Python: layer objects built
inside the loss from a dict of parameters, activations picked from a dict of functions, a
lambda for the penalty, and the loss returned with what it would be nice to log (`has_aux`).

sourcegrad differentiates all of it; the gradient is checked against central differences,
then a few steps of gradient descent make the loss fall.
"""

import numpy as np

import sourcegrad


class Dense:
    def __init__(self, W, b, activation):
        self.W = W
        self.b = b
        self.activation = activation  # a name in ACTIVATIONS

    def __call__(self, h):
        return ACTIVATIONS[self.activation](h @ self.W + self.b)


ACTIVATIONS = {"tanh": np.tanh, "softplus": lambda v: np.log1p(np.exp(v))}
penalty = lambda p: 1e-3 * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))  # noqa: E731


def loss(params, X, y):
    layers = [Dense(params["W1"], params["b1"], "tanh"),
              Dense(params["W2"], params["b2"], "softplus")]
    h = X
    for layer in layers:
        h = layer(h)
    error = h[:, 0] - y
    return np.mean(error ** 2) + penalty(params), {"worst": float(np.max(np.abs(error)))}


def main() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 3))
    y = np.log1p(np.exp(np.sin(X[:, 0]) + 0.5 * X[:, 1]))
    params = {"W1": 0.5 * rng.normal(size=(3, 8)), "b1": np.zeros(8),
              "W2": 0.5 * rng.normal(size=(8, 1)), "b2": np.zeros(1)}

    value_and_grad = sourcegrad.value_and_grad(loss, has_aux=True)
    (value, aux), grads = value_and_grad(params, X, y)
    step = 1e-6
    direction = {k: rng.normal(size=v.shape) for k, v in params.items()}
    moved = [{k: v + s * step * direction[k] for k, v in params.items()} for s in (1, -1)]
    numeric = (loss(moved[0], X, y)[0] - loss(moved[1], X, y)[0]) / (2 * step)
    exact = sum(np.sum(grads[k] * direction[k]) for k in params)
    print(f"directional derivative: sourcegrad {exact:.10f}  finite differences {numeric:.10f}")

    for iteration in range(60):
        (value, aux), grads = value_and_grad(params, X, y)
        if iteration % 15 == 0:
            print(f"step {iteration:3d}  loss {value:.6f}  worst error {aux['worst']:.3f}")
        params = {k: v - 0.5 * grads[k] for k, v in params.items()}
    print(f"step  60  loss {loss(params, X, y)[0]:.6f}")


if __name__ == "__main__":
    main()
