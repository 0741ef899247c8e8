"""Derivative rules, one module per namespace; importing this package registers them all."""

from . import (  # noqa: F401  (registration side effects)
    builtins,
    fft,
    linalg,
    math,
    numpy,
    numpy_arrays,
    numpy_methods,
    operators,
    scipy_special,
)
from .templates import (
    ADJOINTS,
    ANY,
    FLOAT_DTYPES,
    METHOD_ADJOINTS,
    Contribution,
    Local,
    Rule,
    accepts,
    adjoint,
    adjoint_method,
    bind,
    d,
    fill,
    is_zero_gradient,
    nondifferentiable,
    registry_version,
    rule_for,
)

__all__ = [
    "ADJOINTS", "ANY", "FLOAT_DTYPES", "METHOD_ADJOINTS", "Contribution", "Local", "Rule",
    "accepts", "adjoint", "adjoint_method", "bind", "d", "fill", "is_zero_gradient",
    "nondifferentiable", "registry_version", "rule_for",
]
