"""sourcegrad: reverse-mode automatic differentiation of NumPy code by source transformation.

    @sourcegrad.grad
    def loss(w, x):
        return np.sum(np.tanh(w * x) ** 2)

    loss(1.5, x)        # the gradient with respect to w
    print(loss)         # the derivative's source code
"""

from .api import grad, show, value_and_grad, vjp
from .check import GradientCheckError, check_grad
from .errors import (
    HigherOrderError,
    InternalError,
    NonDifferentiableInputError,
    NonScalarOutputError,
    NoRuleError,
    SourcegradError,
    SourceUnavailableError,
    TemplateError,
    UnsupportedSyntaxError,
    WrtError,
)
from .parse import transform_package
from .rules import adjoint, adjoint_method, d, nondifferentiable
from .runtime import stop_gradient

__version__ = "0.1.0"

__all__ = [
    "grad", "value_and_grad", "vjp", "show", "check_grad", "stop_gradient",
    "adjoint", "adjoint_method", "nondifferentiable", "d", "transform_package",
    "SourcegradError", "UnsupportedSyntaxError", "NoRuleError", "SourceUnavailableError",
    "WrtError", "NonScalarOutputError", "NonDifferentiableInputError", "TemplateError",
    "InternalError", "GradientCheckError", "HigherOrderError",
]
