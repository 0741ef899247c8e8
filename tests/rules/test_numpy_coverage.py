"""The NumPy coverage list (sections A and B without numpy.linalg and numpy.fft, C and D of
numpy-coverage.md): every listed name this NumPy has gets a rule, a zero-gradient entry or a
method rule, and every rule of rules/numpy*.py is exercised by a row of the NumPy rule
tests."""

import re
from pathlib import Path

import numpy as np
import pytest

from sourcegrad.analysis.calls import CONSTANT_ATTRIBUTES
from sourcegrad.rules import ADJOINTS, METHOD_ADJOINTS, is_zero_gradient, rule_for

COVERAGE = Path("/work/shared/numpy-coverage.md")
TESTS = Path(__file__).resolve().parents[1]

# Sections A and B (functions with a gradient), as of this module; numpy.linalg and numpy.fft
# are checked elsewhere.
DIFFERENTIABLE = {
    "abs", "absolute", "acos", "acosh", "add", "amax", "amin", "angle", "append", "arccos",
    "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "array", "array_split",
    "asin", "asinh", "astype", "atan", "atan2", "atanh", "atleast_1d", "atleast_2d",
    "atleast_3d", "broadcast_to", "clip", "column_stack", "concatenate", "conj", "conjugate",
    "cos", "cosh", "cross", "cumsum", "deg2rad", "degrees", "diag", "diagonal", "diff", "divide",
    "dot", "dsplit", "einsum", "exp", "exp2", "expand_dims", "expm1", "fabs", "fliplr",
    "flipud", "fmax", "fmin", "full", "gradient", "hsplit", "hstack", "hypot", "imag", "inner",
    "kron", "linspace", "log", "log10", "log1p", "log2", "logaddexp", "logaddexp2", "matmul",
    "max", "maximum", "mean", "min", "minimum", "mod", "moveaxis", "multiply", "nan_to_num",
    "negative", "outer", "pad", "partition", "permute_dims", "pow", "power", "prod", "rad2deg",
    "radians", "ravel", "real", "real_if_close", "reciprocal", "remainder", "repeat", "reshape",
    "roll", "rollaxis", "rot90", "row_stack", "select", "sin", "sinc", "sinh", "sort", "split",
    "sqrt", "square", "squeeze", "stack", "std", "subtract", "sum", "swapaxes", "tan", "tanh",
    "tensordot", "tile", "trace", "transpose", "tril", "triu", "true_divide", "var", "vsplit",
    "vstack", "where",
    # section B
    "cumprod", "flip", "matrix_transpose", "take", "take_along_axis", "nansum", "nanmean",
    "nanmax", "nanmin", "average", "cbrt", "heaviside", "copysign", "vecdot", "interp",
    "convolve", "correlate", "trapezoid", "broadcast_arrays", "ptp",
}

# Section C (no gradient); "random.*" stands for every function of numpy.random.
NO_GRADIENT = {
    "floor", "ceil", "round", "rint", "trunc", "fix", "around", "sign", "argmax", "argmin",
    "argsort", "argwhere", "nonzero", "searchsorted", "isfinite", "isnan", "isinf", "isclose",
    "allclose", "equal", "not_equal", "greater", "greater_equal", "less", "less_equal",
    "logical_and", "logical_or", "logical_not", "logical_xor", "zeros_like", "ones_like",
    "empty_like", "full_like", "shape", "ndim", "size", "result_type", "floor_divide",
    "count_nonzero", "any", "all", "unique", "digitize", "histogram", "random.*",
}

# Section D: ndarray methods and attributes.
METHODS = {
    "sum", "mean", "max", "min", "prod", "std", "var", "dot", "reshape", "transpose", "T",
    "ravel", "flatten", "squeeze", "clip", "cumsum", "cumprod", "trace", "diagonal", "astype",
    "copy", "conj", "real", "imag", "item", "shape", "ndim", "size", "dtype",
}

# Listed names deliberately left without a rule, each with the reason. The tests below fail
# when this and the missing rules disagree. Nothing is left out with NumPy 2.4; a name this
# NumPy lacks (row_stack, deprecated since 2.0, will go) is skipped, not listed here.
LEFT_OUT: dict[str, str] = {}


def _section(text: str, letter: str) -> str:
    return re.search(rf"^## {letter}\..*?(?=^## |\Z)", text, flags=re.M | re.S).group(0)


def _functions_in(section: str) -> set[str]:
    return {name for name in re.findall(r"^- `numpy\.([\w.*]+)`", section, flags=re.M)
            if not name.startswith(("linalg.", "fft."))}


def test_the_lists_here_match_the_coverage_document():
    if not COVERAGE.exists():
        pytest.skip(f"{COVERAGE} is not available here")
    text = COVERAGE.read_text()
    assert _functions_in(_section(text, "A")) | _functions_in(_section(text, "B")) \
        == DIFFERENTIABLE
    assert _functions_in(_section(text, "C")) == NO_GRADIENT
    assert set(re.findall(r"`x\.(\w+)", _section(text, "D"))) == METHODS


def _present(names: set[str]) -> dict[str, object]:
    return {name: getattr(np, name) for name in names if hasattr(np, name)}


def test_every_listed_function_has_a_rule():
    missing = {name for name, fn in _present(DIFFERENTIABLE).items() if fn not in ADJOINTS}
    assert missing == set(LEFT_OUT)


def test_every_listed_function_without_gradient_is_marked():
    missing = {name for name, fn in _present(NO_GRADIENT - {"random.*"}).items()
               if not is_zero_gradient(fn)}
    random = {name for name in np.random.__all__
              if not is_zero_gradient(getattr(np.random, name))}
    assert missing | {f"random.{name}" for name in random} == set(LEFT_OUT)


def test_every_listed_method_has_a_rule():
    missing = {name for name in METHODS
               if name not in METHOD_ADJOINTS and name not in CONSTANT_ATTRIBUTES}
    assert missing == set(LEFT_OUT)


# -- every rule of rules/numpy*.py has a row ----------------------------------------------------

ROW_MODULES = [TESTS / "test_reverse_numpy.py", *sorted((TESTS / "rules").glob("test_numpy_*.py"))]


def _numpy_rules(registry: dict) -> dict[object, set[str]]:
    """Each rule of rules/numpy*.py with the names it is registered under."""
    rules: dict[object, set[str]] = {}
    for key, rule in registry.items():
        where = rule.defined_at.replace("\\", "/").split(":")[0]
        if re.search(r"rules/numpy(_\w+)?\.py$", where):
            rules.setdefault(id(rule), set()).add(key)
    return rules


def test_every_numpy_function_rule_has_a_row():
    source = "\n".join(path.read_text() for path in ROW_MODULES)
    called = set(re.findall(r"\bnp\.(\w+)\(", source))
    names: dict[int, set[str]] = {}
    for name in dir(np):
        if not name.startswith("_") and rule_for(getattr(np, name)) is not None:
            names.setdefault(id(getattr(np, name)), set()).add(name)
    unexercised = []
    for functions in _numpy_rules(ADJOINTS).values():
        aliases = set().union(*(names.get(id(fn), set()) for fn in functions))
        if aliases and not aliases & called:
            unexercised.append(sorted(aliases))
    assert unexercised == []


def test_every_method_rule_has_a_row():
    source = "\n".join(path.read_text() for path in ROW_MODULES)
    used = set(re.findall(r"(?:\b(?!np\b)\w+|\))\.(\w+)", source))  # x.name, f(x).name
    unexercised = [sorted(names) for names in _numpy_rules(METHOD_ADJOINTS).values()
                   if not names & used]
    assert unexercised == []
