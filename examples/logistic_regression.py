"""Train logistic regression with plain gradient descent on sourcegrad's gradient.

Run: python examples/logistic_regression.py
"""

import numpy as np

import sourcegrad


def loss(w, b, X, y, l2):
    """Mean logistic loss with an L2 penalty; labels y are 0 or 1."""
    z = X @ w + b
    log_likelihood = y * z - np.logaddexp(0.0, z)
    return -np.mean(log_likelihood) + l2 * np.sum(w * w)


def make_data(rng, n=500, d=5):
    X = rng.normal(size=(n, d))
    true_w = rng.normal(size=d)
    y = (X @ true_w + 0.3 * rng.normal(size=n) > 0).astype(float)
    return X, y


def main() -> None:
    rng = np.random.default_rng(0)
    X, y = make_data(rng)
    w, b, lr, l2 = np.zeros(X.shape[1]), 0.0, 0.5, 1e-3
    loss_and_grads = sourcegrad.value_and_grad(loss, wrt=("w", "b"))
    for step in range(101):
        value, (dw, db) = loss_and_grads(w, b, X, y, l2)
        w = w - lr * dw
        b = b - lr * db
        if step % 20 == 0:
            print(f"step {step:3d}  loss {value:.5f}")
    accuracy = np.mean(((X @ w + b) > 0) == (y > 0.5))
    print(f"training accuracy {accuracy:.1%}")


if __name__ == "__main__":
    main()
