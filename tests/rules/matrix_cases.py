"""The generated test matrix of test_matrix.py: elementwise ufuncs, reductions and numpy.linalg.

sourcegrad reads source code, so every case is a real function in a real file: the matrix writes
one Python module with all its functions into a temporary directory (kept for the session) and
imports it. Each function is `f(*inputs, w)` returning `np.sum(op(*inputs) * w)`, with fixed
uneven weights `w` shaped like the result (numpy_cases.row); options (axis, keepdims, ord) are
literals in the source, as a user would write them.

Groups (pytest ids in brackets):
- UNARY: every unary elementwise ufunc with a rule, on (), (3,), (2, 3)    [sin-(2,3)]
- BINARY: every binary elementwise ufunc with a rule, on BINARY_PAIRS, d/d both operands
                                                                           [power-(1,3)x(2,3)]
- REDUCTIONS: reductions and vector norms over axis x keepdims     [max-(2,3)-axis=0-keepdims=True]
- LINALG: numpy.linalg on well-conditioned matrices and stacks             [solve-(2,3,3)x(3,)]

Inputs stay inside each function's domain and away from kinks (UNARY_DOMAINS, BINARY_DOMAINS);
binary operands that must not tie or hit a jump (max/min, mod) are redrawn until the broadcast
pair is safe. Shape () is a Python float. The nan* reductions see no NaN here (their NaN holes are
rows of test_numpy_functions.py). Cases NumPy does not support are never generated, and a ufunc
the matrix cannot name in source (neither `np.<name>` nor `special.<name>`) or call on floats
gets no row: test_matrix.py fails for it.
"""

from __future__ import annotations

import re
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy_cases import row

from oracle import arr, load_module, signed
from sourcegrad.rules import ADJOINTS

try:
    import scipy.special as special
except ImportError:  # scipy is optional: without it its rules are not registered either
    special = None

MODULE_NAME = "sourcegrad_generated_matrix"

UNARY_SHAPES = [(), (3,), (2, 3)]
BINARY_PAIRS = [((), (3,)), ((3,), ()), ((3,), (3,)), ((1, 3), (2, 3)), ((2, 3), (1, 3)),
                ((2, 1), (1, 3)), ((2, 3), ()), ((), (2, 3))]
AXES = [None, 0, 1, -1]
AXIS_TUPLES = [(0, 1), (1, 2), (0, 2), (0, 1, 2), (-1, -3)]
MATRIX_SHAPES = [(2, 2), (3, 3), (4, 4), (2, 3, 3)]


# -- domains ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Domain:
    """Values in [lo, hi], pairwise distinct; with `signed`, magnitudes in [lo, hi] and both
    signs (away from 0, for kinks and poles)."""

    lo: float = -2.0
    hi: float = 2.0
    signed: bool = False

    def sample(self, shape, seed):
        draw = signed if self.signed else arr
        return draw(*shape, lo=self.lo, hi=self.hi, seed=seed)


DEFAULT = Domain()
AWAY_FROM_0 = Domain(0.3, 2.0, signed=True)
POSITIVE = Domain(0.3, 3.0)
OPEN_UNIT = Domain(-0.9, 0.9)

# Unary ufuncs by name (`special.` for scipy.special); the others take DEFAULT.
UNARY_DOMAINS = {
    "tan": Domain(-1.2, 1.2),
    "arcsin": OPEN_UNIT, "arccos": OPEN_UNIT, "arctanh": OPEN_UNIT,
    "arccosh": Domain(1.1, 3.0),
    "log": POSITIVE, "log2": POSITIVE, "log10": POSITIVE, "sqrt": POSITIVE,
    "log1p": Domain(-0.7, 2.0),
    "absolute": AWAY_FROM_0, "fabs": AWAY_FROM_0, "reciprocal": AWAY_FROM_0,
    "cbrt": AWAY_FROM_0,
    "special.logit": Domain(0.1, 0.9),
    "special.erfinv": OPEN_UNIT,
    "special.erfcinv": Domain(0.1, 1.9),
    "special.gamma": Domain(0.5, 3.0), "special.gammaln": Domain(0.5, 3.0),
    "special.psi": Domain(0.5, 3.0),
}


def _no_tie(x, y) -> bool:
    return bool(np.all(np.abs(np.subtract(x, y)) > 0.1))


def _off_jumps(x, y) -> bool:
    """x / y at least 0.15 away from the integers, where mod and fmod jump."""
    frac = np.mod(np.divide(x, y), 1.0)
    return bool(np.all((frac > 0.15) & (frac < 0.85)))


@dataclass(frozen=True)
class BinaryDomain:
    first: Domain = DEFAULT
    second: Domain = DEFAULT
    valid: Callable | None = None   # redraw the (broadcast) pair until this holds


NO_TIE = BinaryDomain(valid=_no_tie)
MOD = BinaryDomain(Domain(-3.0, 3.0), Domain(0.5, 1.5, signed=True), _off_jumps)

# Binary ufuncs by name; the others take BinaryDomain().
BINARY_DOMAINS = {
    "power": BinaryDomain(Domain(0.5, 2.0), DEFAULT),
    "divide": BinaryDomain(DEFAULT, Domain(0.5, 2.0, signed=True)),
    "arctan2": BinaryDomain(AWAY_FROM_0, DEFAULT),   # off the origin and the branch cut
    "hypot": BinaryDomain(AWAY_FROM_0, DEFAULT),
    "copysign": BinaryDomain(AWAY_FROM_0, AWAY_FROM_0),
    "heaviside": BinaryDomain(AWAY_FROM_0, DEFAULT),
    "maximum": NO_TIE, "minimum": NO_TIE, "fmax": NO_TIE, "fmin": NO_TIE,
    "remainder": MOD, "fmod": MOD,
    "special.beta": BinaryDomain(Domain(0.5, 3.0), Domain(0.5, 3.0)),
    "special.betaln": BinaryDomain(Domain(0.5, 3.0), Domain(0.5, 3.0)),
    "special.xlogy": BinaryDomain(DEFAULT, POSITIVE),
    "special.xlog1py": BinaryDomain(DEFAULT, Domain(-0.7, 2.0)),
}


def _binary_operands(domain: BinaryDomain, shapes, seed):
    for attempt in range(200):
        x = domain.first.sample(shapes[0], seed + 2 * attempt)
        y = domain.second.sample(shapes[1], seed + 2 * attempt + 1)
        if domain.valid is None or domain.valid(x, y):
            return x, y
    raise AssertionError(f"no operands of shapes {shapes} satisfy {domain.valid.__name__}")


# -- which ufuncs ------------------------------------------------------------------------------


def elementwise_ufunc_rules(nin: int) -> list:
    """Ufuncs with `nin` operands, no core signature and a rule that differentiates something."""
    return [fn for fn, rule in ADJOINTS.items()
            if isinstance(fn, np.ufunc) and fn.nin == nin and fn.signature is None
            and rule.differentiable]


def source_name(fn) -> str | None:
    """How the generated module spells the ufunc: `sin`, `special.gamma` (the module writes `np.`
    before NumPy names), or None when it is in neither namespace."""
    name = fn.__name__
    if getattr(np, name, None) is fn:
        return name
    if special is not None and getattr(special, name, None) is fn:
        return f"special.{name}"
    return None


def _call(name: str) -> str:
    return name if name.startswith("special.") else f"np.{name}"


# -- building the module -----------------------------------------------------------------------


def _shape(shape) -> str:
    return "(" + ",".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _axis(axis) -> str:
    return _shape(axis) if isinstance(axis, tuple) else str(axis)


def _seed(text: str) -> int:
    return zlib.crc32(text.encode()) % 10_000


class _Matrix:
    """Collects functions (as source) and cases, then writes, imports and parametrizes them."""

    def __init__(self):
        self.functions: dict[str, str] = {}
        self.cases: dict[str, list] = {}
        self.rows: dict[object, int] = {}   # ufunc -> number of rows
        self.unusable: dict[object, str] = {}   # ufunc -> why it has (some) rows missing

    def function(self, stem: str, params: str, expr: str) -> str:
        minus = re.sub(r"(?<![\w)])-(?=\d)", "m", stem)   # axis=-1: axis_m1, not axis_1
        name = re.sub(r"\W+", "_", minus).strip("_")
        source = f"def {name}({params}, w):\n    return np.sum({expr} * w)\n"
        assert self.functions.setdefault(name, source) == source, f"two functions named {name}"
        return name

    def case(self, group, case_id, function, *args, wrt=0, ufunc=None):
        self.cases.setdefault(group, []).append((case_id, function, args, wrt, ufunc))

    def build(self, directory: Path) -> dict[str, list]:
        header = "import numpy as np\n"
        if special is not None:
            header += "import scipy.special as special\n"
        path = directory / f"{MODULE_NAME}.py"
        path.write_text(header + "".join(f"\n\n{s}" for s in self.functions.values()))
        module = load_module(path, MODULE_NAME)
        params: dict[str, list] = {}
        for group, cases in self.cases.items():
            params[group] = []
            for case_id, function, args, wrt, ufunc in cases:
                try:
                    param = row(getattr(module, function), *args, wrt=wrt, seed=_seed(case_id),
                                name=case_id)
                except Exception as e:
                    if ufunc is None:   # hand-specified cases are ones NumPy supports
                        raise
                    # a new ufunc rule may not take float operands (ldexp's int exponent)
                    self.unusable[ufunc] = f"{case_id}: NumPy raises {e!r}"
                    continue
                params[group].append(param)
                if ufunc is not None:
                    self.rows[ufunc] = self.rows.get(ufunc, 0) + 1
        return params


def _unary(m: _Matrix):
    for fn in elementwise_ufunc_rules(1):
        name = source_name(fn)
        if name is None or fn.nout != 1:
            m.unusable[fn] = "not in numpy or scipy.special" if name is None else "nout > 1"
            continue
        function = m.function(f"unary_{name}", "x", f"{_call(name)}(x)")
        domain = UNARY_DOMAINS.get(name, DEFAULT)
        for shape in UNARY_SHAPES:
            case_id = f"{name}-{_shape(shape)}"
            m.case("unary", case_id, function, domain.sample(shape, _seed(case_id)), ufunc=fn)


def _binary(m: _Matrix):
    for fn in elementwise_ufunc_rules(2):
        name = source_name(fn)
        if name is None or fn.nout != 1:
            m.unusable[fn] = "not in numpy or scipy.special" if name is None else "nout > 1"
            continue
        function = m.function(f"binary_{name}", "x, y", f"{_call(name)}(x, y)")
        domain = BINARY_DOMAINS.get(name, BinaryDomain())
        for shapes in BINARY_PAIRS:
            case_id = f"{name}-{_shape(shapes[0])}x{_shape(shapes[1])}"
            x, y = _binary_operands(domain, shapes, _seed(case_id))
            m.case("binary", case_id, function, x, y, wrt=(0, 1), ufunc=fn)


REDUCTIONS = ["sum", "mean", "prod", "max", "min", "var", "std", "ptp", "nansum", "nanmean",
              "nanmax", "nanmin", "average"]
# Vector norms: (name in ids, callable in source, ord in source, axes it is a vector norm over);
# np.linalg.norm over axis=None of a matrix is a vector norm only for ord=None.
VECTOR_NORMS = [
    ("linalg.norm", "np.linalg.norm", "None", AXES),
    ("linalg.norm(ord=1)", "np.linalg.norm", "1", [0, 1, -1]),
    ("linalg.norm(ord=inf)", "np.linalg.norm", "np.inf", [0, 1, -1]),
    ("linalg.vector_norm", "np.linalg.vector_norm", "2", AXES),
    ("linalg.vector_norm(ord=1)", "np.linalg.vector_norm", "1", AXES),
    ("linalg.vector_norm(ord=inf)", "np.linalg.vector_norm", "np.inf", AXES),
]


def _reductions(m: _Matrix):
    def add(name, call, x, axis, keepdims, ord_=None):
        case_id = f"{name}-{_shape(x.shape)}-axis={_axis(axis)}-keepdims={keepdims}"
        options = f"axis={axis!r}, keepdims={keepdims}"
        if ord_ is not None:
            options = f"ord={ord_}, {options}"
        function = m.function(f"reduce_{case_id}", "x", f"{call}(x, {options})")
        m.case("reductions", case_id, function, x)

    x = arr(2, 3, seed=1)   # pairwise distinct: no ties for max, min, ptp
    for name in REDUCTIONS:
        for axis in AXES:
            for keepdims in (False, True):
                add(name, f"np.{name}", x, axis, keepdims)
    x3 = arr(2, 3, 4, seed=2)
    for name in ("sum", "mean"):
        for axis in AXIS_TUPLES:
            for keepdims in (False, True):
                add(name, f"np.{name}", x3, axis, keepdims)
    xs = signed(2, 3, seed=3)   # distinct magnitudes away from 0: |x| and max |x| are smooth
    for name, call, ord_, axes in VECTOR_NORMS:
        for axis in axes:
            for keepdims in (False, True):
                add(name, call, xs, axis, keepdims, ord_)


def general(*shape, seed=0):
    """Square matrices (stacked on leading axes), well conditioned: random plus n I."""
    return arr(*shape, lo=-1.0, hi=1.0, seed=seed) + shape[-1] * np.eye(shape[-1])


def spd(*shape, seed=0):
    """Symmetric positive definite matrices b b^T + n I."""
    b = arr(*shape, lo=-1.0, hi=1.0, seed=seed)
    return b @ np.swapaxes(b, -1, -2) + shape[-1] * np.eye(shape[-1])


def negative_det(*shape, seed=0):
    """`general` with its first row negated: a negative determinant for slogdet's |det|."""
    a = general(*shape, seed=seed)
    a[..., 0, :] *= -1.0
    return a


def _linalg(m: _Matrix):
    one_operand = [("det", "np.linalg.det(a)", general),
                   ("slogdet", "np.linalg.slogdet(a)[1]", negative_det),
                   ("inv", "np.linalg.inv(a)", general),
                   ("pinv", "np.linalg.pinv(a)", general),
                   ("cholesky", "np.linalg.cholesky(a)", spd),
                   ("eigvalsh", "np.linalg.eigvalsh(a)", spd)]
    for name, expr, matrices in one_operand:
        function = m.function(f"linalg_{name}", "a", expr)
        for shape in MATRIX_SHAPES:
            case_id = f"{name}-{_shape(shape)}"
            m.case("linalg", case_id, function, matrices(*shape, seed=_seed(case_id)))

    function = m.function("linalg_solve", "a, b", "np.linalg.solve(a, b)")
    for shape in MATRIX_SHAPES:
        n = shape[-1]
        for b_shape in [(n,), (*shape[:-1], 2)]:   # a vector; a matrix (stack) of columns
            case_id = f"solve-{_shape(shape)}x{_shape(b_shape)}"
            a = general(*shape, seed=_seed(case_id))
            b = arr(*b_shape, seed=_seed(case_id) + 1)
            m.case("linalg", case_id, function, a, b, wrt=(0, 1))

    # matrix norms: np.linalg.norm takes a stack only with the two matrix axes named
    for ord_ in ("fro", "nuc", 2):
        flat = m.function(f"linalg_norm_{ord_}", "a", f"np.linalg.norm(a, {ord_!r})")
        stacked = m.function(f"linalg_norm_{ord_}_stacked", "a",
                             f"np.linalg.norm(a, {ord_!r}, axis=(-2, -1))")
        for shape in MATRIX_SHAPES:
            case_id = f"norm(ord={ord_})-{_shape(shape)}"
            function = stacked if len(shape) > 2 else flat
            m.case("linalg", case_id, function, general(*shape, seed=_seed(case_id)))


def build(directory: Path):
    """Write and import the matrix module; return {group: [pytest.param]}, {ufunc: number of
    rows} and {ufunc: why rows are missing}."""
    m = _Matrix()
    _unary(m)
    _binary(m)
    _reductions(m)
    _linalg(m)
    return m.build(directory), m.rows, m.unusable


# The directory lives as long as this module (the test session): sourcegrad and inspect read the
# generated functions' source from the file when they differentiate them.
_DIRECTORY = tempfile.TemporaryDirectory(prefix="sourcegrad-matrix-")
CASES, ROWS, UNUSABLE = build(Path(_DIRECTORY.name))
