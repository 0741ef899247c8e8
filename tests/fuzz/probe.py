"""Is central differencing a valid oracle for this program at this point?

The probe instruments any module's source (generated or reduced): every ordering comparison,
every call of a function with a kink or a tie (abs, maximum, max, argmax, sort, clip, norm,
interp, round, ...) and every assigned or returned value. Running the instrumented `f` records
each discrete decision (which way a comparison went, which element was largest), how close each
was to going the other way, and how large the values got. A program is usable when no decision
is within a margin of flipping, no value is huge or not finite, and the decisions are the same
at points moved by much more than the finite-difference step (so that the oracle differentiates
the same branch sourcegrad does).
"""

from __future__ import annotations

import ast
import copy
import itertools
import linecache
import math
import random
from dataclasses import dataclass, field

import numpy as np

MARGIN = 1e-4  # relative distance of a comparison, tie or kink from flipping
LARGEST = 1e4
MOVE = 1e-4  # relative size of the moves whose decisions must agree (FD uses 1e-6)
MOVES = 3
# Closer than this is an exact tie of two equal expressions (`abs(x - x)`, `max(u, u)`, the
# copies of `np.tile`), the same at every moved point: the moves decide those.
STRUCTURAL = 1e-13
_PROBES = itertools.count()


def _kinds() -> dict:
    """Functions with kinks or ties, by what makes them flip."""
    kinds = {abs: "abs", math.fabs: "abs", math.copysign: "abs", np.abs: "abs", np.fabs: "abs",
             np.sign: "abs",
             np.maximum: "pair", np.minimum: "pair", np.fmax: "pair", np.fmin: "pair",
             max: "extreme", min: "extreme", np.max: "top", np.amax: "top",
             np.min: "bottom", np.amin: "bottom", np.argmax: "top", np.argmin: "bottom",
             np.ptp: "sort", np.sort: "sort", np.median: "sort", np.partition: "sort",
             np.clip: "clip", np.linalg.norm: "norm", np.sqrt: "positive",
             math.sqrt: "positive", np.log: "positive", math.log: "positive",
             np.interp: "interp", np.round: "round", np.floor: "floor", np.ceil: "floor",
             np.heaviside: "abs"}
    return kinds


KINDS = _kinds()
METHOD_KINDS = {"max": "top", "argmax": "top", "min": "bottom", "argmin": "bottom",
                "clip": "clip", "sort": "sort", "ptp": "sort", "round": "round"}
COMPARISONS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


@dataclass
class Record:
    """What one run of the instrumented f saw."""

    decisions: list = field(default_factory=list)
    margin: float = math.inf
    where: str = ""
    largest: float = 0.0
    finite: bool = True

    def decide(self, what: str, decision, margin: float) -> None:
        decision = np.asarray(decision)
        self.decisions.append((what, decision.shape, decision.tobytes()))
        if STRUCTURAL <= margin < self.margin:
            self.margin, self.where = float(margin), what


def _relative(diff, a, b) -> float:
    """Smallest |a - b| relative to the operands' size (absolute when they exceed 1)."""
    diff = np.abs(np.asarray(diff, dtype=float))
    if diff.size == 0:
        return math.inf
    scale = np.maximum(np.abs(np.asarray(a, dtype=float)), np.abs(np.asarray(b, dtype=float)))
    scale = np.clip(np.broadcast_to(scale, diff.shape), 1e-300, 1.0)
    return float(np.min(diff / scale))


class Recorder:
    """The functions the instrumented source calls: `_cmp`, `_kink`, `_val`."""

    def __init__(self):
        self.record = Record()

    def cmp(self, a, b, op: str):
        result = {"<": lambda: a < b, "<=": lambda: a <= b, ">": lambda: a > b,
                  ">=": lambda: a >= b}[op]()
        if _numeric(a) and _numeric(b):
            self.record.decide(f"comparison {op}", result, _relative(np.subtract(a, b), a, b))
        return result

    def kink(self, fn, *args, **kwargs):
        result = fn(*args, **kwargs)
        receiver = getattr(fn, "__self__", None)
        if isinstance(receiver, np.ndarray):
            kind, args = METHOD_KINDS.get(fn.__name__), (receiver, *args)
        else:
            kind = KINDS.get(fn) if _hashable(fn) else None
        if kind is not None and args and all(_numeric(a) for a in args[:1]):
            self.measure(kind, getattr(fn, "__name__", "?"), args, kwargs, result)
        return result

    def measure(self, kind: str, name: str, args: tuple, kwargs: dict, result=None) -> None:
        """Record the decision a kinked function took and its distance from the kink."""
        x = np.asarray(args[0], dtype=float) if kind != "extreme" or len(args) > 1 else None
        if kind == "abs":
            self.record.decide(name, x > 0, float(np.min(np.abs(x))) if x.size else math.inf)
        elif kind == "pair":
            d = np.subtract(args[0], args[1])
            self.record.decide(name, d > 0, _relative(d, args[0], args[1]))
        elif kind == "extreme":
            values = np.asarray([float(v) for v in (args if len(args) > 1 else args[0])])
            self.measure("sort", name, (values,), {})
        elif kind == "norm":
            self.record.decide(name, True, float(np.min(result)))
        elif kind in ("top", "bottom", "sort"):
            axis = kwargs.get("axis", args[1] if len(args) > 1 and kind != "sort" else None)
            self.ties(kind, name, x, axis)
        elif kind == "clip":
            lo, hi = (args[1], args[2]) if len(args) > 2 else (kwargs.get("a_min", args[1]),
                                                               kwargs.get("a_max"))
            d = np.concatenate([np.ravel(x - lo), np.ravel(x - hi)]) if hi is not None else \
                np.ravel(x - lo)
            self.record.decide(name, d > 0, float(np.min(np.abs(d))))
        elif kind == "positive":
            self.record.decide(name, x > 0, float(np.min(np.abs(x))) if x.size else math.inf)
        elif kind == "interp":
            d = np.subtract.outer(np.ravel(x), np.ravel(np.asarray(args[1], dtype=float)))
            self.record.decide(name, d > 0, float(np.min(np.abs(d))))
        elif kind in ("round", "floor"):
            shift = 0.5 if kind == "round" else 0.0
            frac = np.abs((x + shift) - np.round(x + shift))
            self.record.decide(name, np.floor(x + shift), float(np.min(frac)) if x.size else 1)

    def ties(self, kind: str, name: str, x: np.ndarray, axis) -> None:
        """Gaps between the largest (or smallest, or all neighbouring) values along axis."""
        if x.ndim == 0 or x.size < 2:
            return
        if axis is None or isinstance(axis, tuple):
            x, axis = np.ravel(x), 0
        if x.shape[axis] < 2:
            return
        s = np.sort(x, axis=axis)
        if kind == "top":
            gaps = np.take(s, -1, axis) - np.take(s, -2, axis)
        elif kind == "bottom":
            gaps = np.take(s, 1, axis) - np.take(s, 0, axis)
        else:
            gaps = np.diff(s, axis=axis)
        self.record.decide(name, np.argsort(x, axis=axis), float(np.min(gaps)))

    def val(self, value):
        if isinstance(value, (float, np.floating)) or (
                isinstance(value, np.ndarray) and value.dtype.kind == "f"):
            if value.size if isinstance(value, np.ndarray) else True:
                if not np.all(np.isfinite(value)):
                    self.record.finite = False
                else:
                    self.record.largest = max(self.record.largest, float(np.max(np.abs(value))))
        return value


def _numeric(value) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    return isinstance(value, (int, float, np.number)) or (
        isinstance(value, np.ndarray) and value.dtype.kind in "fiu")


def _hashable(fn) -> bool:
    try:
        hash(fn)
    except TypeError:
        return False
    return True


class _Instrument(ast.NodeTransformer):
    """Rewrites comparisons, kinked calls and assigned/returned values into recorder calls.
    `fuzz_args` (the inputs) is left alone."""

    def visit_FunctionDef(self, node):
        if node.name == "fuzz_args":
            return node
        return self.generic_visit(node)

    def visit_Compare(self, node):
        self.generic_visit(node)
        parts, left = [], node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            if type(op) in COMPARISONS:
                parts.append(_call("_cmp", [left, right, ast.Constant(COMPARISONS[type(op)])]))
            else:
                parts.append(ast.Compare(left=left, ops=[op], comparators=[right]))
            left = right
        return parts[0] if len(parts) == 1 else ast.BoolOp(op=ast.And(), values=parts)

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id.startswith("_"):
            return node
        return ast.Call(func=ast.Name("_kink", ast.Load()), args=[node.func, *node.args],
                        keywords=node.keywords)

    def visit_Assign(self, node):
        self.generic_visit(node)
        node.value = _call("_val", [node.value])
        return node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        node.value = _call("_val", [node.value])
        return node

    def visit_Return(self, node):
        self.generic_visit(node)
        if node.value is not None:
            node.value = _call("_val", [node.value])
        return node


def _call(name: str, args: list) -> ast.Call:
    return ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])


def instrument(source: str) -> str:
    tree = _Instrument().visit(ast.parse(source))
    return ast.unparse(ast.fix_missing_locations(tree))


@dataclass
class Verdict:
    """Whether the oracle is valid for the program, and why not."""

    ok: bool
    reason: str = ""


def probe(source: str, seed: int = 0) -> Verdict:
    """Run the instrumented program at its inputs and at moved inputs; judge its smoothness."""
    recorder = Recorder()
    namespace = {"_cmp": recorder.cmp, "_kink": recorder.kink, "_val": recorder.val}
    with np.errstate(all="ignore"):
        exec(_compiled(instrument(source)), namespace)
        base = _run(namespace, recorder, None)
        if base.margin < MARGIN:
            return Verdict(False, f"near a kink or tie: {base.where} ({base.margin:.2g})")
        if not base.finite or base.largest > LARGEST:
            return Verdict(False, f"values too large ({base.largest:.3g})")
        rng = random.Random(seed)
        for _ in range(MOVES):
            direction = rng.random()
            for sign in (1.0, -1.0):
                moved = _run(namespace, recorder, (rng, direction, sign))
                if moved.decisions != base.decisions:
                    return Verdict(False, "a decision flips within the step")
    return Verdict(True)


def _compiled(source: str):
    """Compiled under a name linecache knows, so that code reading its own source (a rule
    registered with @sourcegrad.adjoint) runs in the probe too."""
    filename = f"<fuzz probe {next(_PROBES)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return compile(source, filename, "exec")


def _run(namespace: dict, recorder: Recorder, move) -> Record:
    recorder.record = Record()
    args, kwargs = namespace["fuzz_args"]()
    if move is not None:
        rng, seed, sign = move
        local = random.Random(seed)
        args, kwargs = perturb((args, kwargs), local, sign)
    namespace["f"](*args, **kwargs)
    return recorder.record


def perturb(value, rng: random.Random, sign: float):
    """A copy of value with every float moved by about MOVE (relative), random directions."""
    if isinstance(value, bool) or isinstance(value, (int, np.integer)):
        return value
    if isinstance(value, (float, np.floating)):
        return value + sign * MOVE * max(1.0, abs(value)) * rng.choice((-1.0, 1.0))
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        steps = np.array([rng.choice((-1.0, 1.0)) for _ in range(value.size)])
        return value + sign * MOVE * np.maximum(1.0, np.abs(value)) * steps.reshape(value.shape)
    if isinstance(value, (list, tuple)):
        return type(value)(perturb(v, rng, sign) for v in value)
    if isinstance(value, dict):
        return {k: perturb(v, rng, sign) for k, v in value.items()}
    if hasattr(value, "__dict__") and not callable(value):
        other = copy.copy(value)
        for k, v in vars(value).items():
            setattr(other, k, perturb(v, rng, sign))
        return other
    return value
