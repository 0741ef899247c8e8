"""Gradients with respect to complex inputs, with the convention of autograd and JAX: for a real
loss L and z = u + iv, the gradient is dL/du - i dL/dv. The oracle differentiates along the
real and the imaginary axis separately (central differences)."""

import numpy as np
import pytest

import sourcegrad

Z = np.array([0.3 + 0.2j, -0.5 + 1.1j, 0.8 - 0.4j])
H = np.array([1.0, 0.5, 2.0])
A = np.array([[0.3 + 0.1j, 0.2, -0.4j], [0.5, -0.2 + 0.3j, 0.1]])


def complex_oracle(f, z, eps=1e-6):
    """dL/du - i dL/dv, entry by entry."""
    gradient = np.zeros_like(z)
    for i in np.ndindex(z.shape):
        step = np.zeros(z.shape)
        step[i] = eps
        du = (f(z + step) - f(z - step)) / (2 * eps)
        dv = (f(z + 1j * step) - f(z - 1j * step)) / (2 * eps)
        gradient[i] = du - 1j * dv
    return gradient


def energy(z):
    return np.sum(np.abs(z) ** 2)


def filtered_power(z):
    return np.sum(np.abs(np.fft.fft(z) * H) ** 2)


def holomorphic_part(z):
    return np.real(np.sum(np.exp(z) * np.conj(z)))


def through_matmul(z):
    return np.sum(np.abs(A @ z))


def logs(z):
    return np.sum(np.imag(np.log(z)) + np.real(np.log(z)) ** 2)


def real_and_imaginary(z):
    return np.sum(np.real(z) ** 3 - np.imag(z) * np.real(z))


def inverse_round_trip(z):
    return np.sum(np.abs(np.fft.ifft(np.fft.fft(z) * H)))


@pytest.mark.parametrize("f", [energy, filtered_power, holomorphic_part, through_matmul, logs,
                               real_and_imaginary, inverse_round_trip])
def test_complex_gradient(f):
    got = sourcegrad.grad(f)(Z)
    assert got.dtype == Z.dtype and got.shape == Z.shape
    np.testing.assert_allclose(got, complex_oracle(f, Z), rtol=1e-6, atol=1e-8)


def test_complex_scalar_argument():
    def f(z):
        return np.abs(z * z + 1.0) ** 2

    z = 0.4 - 0.7j
    got = sourcegrad.grad(f)(z)
    assert isinstance(got, complex)
    expected = complex_oracle(lambda v: f(v[0]), np.array([z]))[0]
    assert got == pytest.approx(expected, rel=1e-6)
