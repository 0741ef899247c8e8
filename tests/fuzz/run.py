"""Check one program: load it, make sure the oracle is valid for it, run every emitted path and
classify what happened.

Outcome classes, worst first: a checked-mode breach, a CRASH (an InternalError, a Python error
from the emitted code, a hang), a WRONG value, a WRONG gradient, the caller's arguments MUTATED,
paths that DISAGREE; then `refused` (a clear UnsupportedSyntaxError or NoRuleError) and `ok`.
Two more say the program is no test at all: `invalid` (it fails in plain Python: a generator
bug) and `discarded` (near a kink, too large, or finite differences unstable).
"""

from __future__ import annotations

import copy
import importlib.util
import itertools
import re
import signal
import sys
import threading
import traceback
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import sourcegrad

from .paths import checked_mode_error, gradients_by_path
from .probe import probe

TESTS = str(Path(__file__).resolve().parent.parent)
if TESTS not in sys.path:  # the oracle lives in tests/ (conftest puts it on the path for pytest)
    sys.path.insert(0, TESTS)
import oracle  # noqa: E402

BREACH, CRASH = "checked-mode breach", "CRASH"
WRONG_VALUE, WRONG_GRADIENT = "WRONG value", "WRONG gradient"
MUTATED, DISAGREE = "MUTATED", "paths DISAGREE"
REFUSED, OK = "refused", "ok"
INVALID, DISCARDED = "invalid", "discarded"
FAILURES = (BREACH, CRASH, WRONG_VALUE, WRONG_GRADIENT, MUTATED, DISAGREE)
CLASSES = FAILURES + (REFUSED, OK, INVALID, DISCARDED)

FD_RTOL, FD_ATOL = 1e-4, 1e-5
VALUE_RTOL = 1e-10
PATH_RTOL = 1e-7
TIME_LIMIT = 30.0
_COUNTER = itertools.count()


@dataclass
class Outcome:
    """The class of a program's outcome; `kind` groups outcomes of one class (the error's
    type and message pattern, the paths that were wrong); `detail` is the full story."""

    cls: str
    kind: str = ""
    detail: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.cls in FAILURES


class Timeout(Exception):
    """A program or a derivative ran longer than TIME_LIMIT."""


@contextmanager
def time_limit(seconds: float):
    """Raise Timeout after `seconds` of this process's own CPU time (main thread only;
    elsewhere, no limit): two campaigns on two busy cores do not turn slow into "hung"."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise Timeout(f"no answer after {seconds:.0f} s of CPU time")

    previous = signal.signal(signal.SIGVTALRM, expire)
    signal.setitimer(signal.ITIMER_VIRTUAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, previous)


def load(source: str, workdir: Path):
    """Write the program to a new file and import it, so sourcegrad can read its source."""
    name = f"fuzzprog_{next(_COUNTER)}"
    path = Path(workdir) / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def unload(module) -> None:
    sys.modules.pop(module.__name__, None)
    Path(module.__file__).unlink(missing_ok=True)


def check(source: str, workdir: Path, fast: bool = False) -> Outcome:
    """The outcome of one program (a module defining f, fuzz_args and WRT)."""
    try:
        with np.errstate(all="ignore"), time_limit(TIME_LIMIT), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a reduced program may say `3[-1]`
            module = load(source, workdir)
    except Exception as error:  # noqa: BLE001 - any failure of plain Python
        return Outcome(INVALID, _kind(error), str(error))
    try:
        return _check(module, source, fast)
    finally:
        unload(module)


def _check(module, source: str, fast: bool) -> Outcome:
    f, wrt = module.f, module.WRT
    reference = _plain_value(module)
    if isinstance(reference, Outcome):
        return reference
    try:
        with time_limit(TIME_LIMIT):
            verdict = probe(source)
    except Exception as error:  # noqa: BLE001
        return Outcome(INVALID, "probe: " + _kind(error), str(error))
    if not verdict.ok:
        return Outcome(DISCARDED, verdict.reason.split(":")[0], verdict.reason)
    answers = _answers(module, fast)
    if isinstance(answers, Outcome):
        if answers.cls == BREACH:
            answers.notes.append(_unchecked_gradient(module))
        return answers
    refused = {n: a.refused for n, a in answers.items() if a.refused is not None}
    answered = {n: a for n, a in answers.items() if a.refused is None}
    if not answered:
        error = refused.get("specialized") or next(iter(refused.values()))
        return Outcome(REFUSED, _kind(error), str(error), [_refused_line(error)])
    notes = [f"{n} refused: {_kind(e)}" for n, e in refused.items()]
    for checker in (_check_values, _check_gradients, _check_mutation, _check_agreement):
        outcome = checker(module, f, wrt, reference, answered)
        if outcome is not None:
            outcome.notes += notes
            return outcome
    return Outcome(OK, notes=notes)


def _plain_value(module):
    """f's own value on fresh arguments, or the INVALID outcome when plain Python fails."""
    try:
        with np.errstate(all="ignore"), time_limit(TIME_LIMIT):
            args, kwargs = module.fuzz_args()
            value = module.f(*args, **kwargs)
            scalar = float(np.asarray(value))
    except Exception as error:  # noqa: BLE001
        return Outcome(INVALID, _kind(error), str(error))
    if np.ndim(value) != 0:
        return Outcome(INVALID, "not a scalar", repr(value))
    if not np.isfinite(scalar):  # it overflowed on these arguments: no test, no generator bug
        return Outcome(DISCARDED, "f is not finite", repr(value))
    return value


def _answers(module, fast: bool):
    """Every path's answer, or the outcome of the error that stopped them."""
    args, kwargs = module.fuzz_args()
    try:
        with np.errstate(all="ignore"), time_limit(TIME_LIMIT):
            return gradients_by_path(module.f, args, kwargs, module.WRT, fast=fast)
    except checked_mode_error() as error:
        return Outcome(BREACH, _kind(error), str(error))
    except (sourcegrad.UnsupportedSyntaxError, sourcegrad.NoRuleError) as error:
        return Outcome(REFUSED, _kind(error), str(error), [_refused_line(error)])
    except Exception as error:  # noqa: BLE001 - InternalError, Python errors, timeouts
        return Outcome(CRASH, _kind(error), _traceback(error))


def _unchecked_gradient(module) -> str:
    """After a breach: is the gradient `grad` gives (not checked) wrong too, or only the
    invariant broken on the way?"""
    args, kwargs = module.fuzz_args()
    try:
        with np.errstate(all="ignore"), time_limit(TIME_LIMIT):
            _, got = sourcegrad.value_and_grad(module.f, wrt=module.WRT)(*args, **kwargs)
    except Exception as error:  # noqa: BLE001
        return f"grad raises {_kind(error)}"
    expected = _numeric(module, 1e-6)
    if isinstance(expected, Outcome):
        return "grad: no finite differences to compare"
    wrong = mismatch(got, expected, FD_RTOL, FD_ATOL * (1 + _largest(expected)))
    return f"the gradient grad gives is also wrong: {wrong}" if wrong else \
        "the gradient grad gives is right"


def _check_values(module, f, wrt, reference, answered):
    wrong = [n for n, a in answered.items()
             if mismatch(a.value, reference, VALUE_RTOL, 1e-12 * (1 + abs(reference)))]
    if wrong:
        got = ", ".join(f"{n}: {answered[n].value!r}" for n in wrong)
        return Outcome(WRONG_VALUE, " ".join(wrong), f"f gives {reference!r}; {got}")
    return None


def _check_gradients(module, f, wrt, reference, answered):
    """Every path against central differences; a disagreement is confirmed with a second
    step size before it counts (else the program is discarded as numerically unstable)."""
    expected = _numeric(module, 1e-6)
    if isinstance(expected, Outcome):
        return expected
    scale = _largest(expected)
    wrong = {n: m for n, a in answered.items()
             if (m := mismatch(a.gradient, expected, FD_RTOL, FD_ATOL * (1 + scale)))}
    if not wrong:
        return None
    second = _numeric(module, 1e-5)
    if isinstance(second, Outcome) or mismatch(second, expected, FD_RTOL,
                                               FD_ATOL * (1 + scale)):
        return Outcome(DISCARDED, "finite differences unstable")
    detail = "\n".join(f"{n}: {m}" for n, m in wrong.items())
    return Outcome(WRONG_GRADIENT, " ".join(sorted(wrong)), detail)


def _numeric(module, step: float):
    args, kwargs = module.fuzz_args()
    saved, oracle.STEP = oracle.STEP, step
    try:
        with np.errstate(all="ignore"), time_limit(TIME_LIMIT):
            return oracle.numeric_grad(module.f, args, kwargs, module.WRT)
    except Exception as error:  # noqa: BLE001
        return Outcome(DISCARDED, "finite differences failed", _kind(error))
    finally:
        oracle.STEP = saved


def _check_mutation(module, f, wrt, reference, answered):
    """The caller's arguments after `value_and_grad` are what they were before."""
    args, kwargs = module.fuzz_args()
    before = copy.deepcopy((args, kwargs))
    try:
        with np.errstate(all="ignore"), time_limit(TIME_LIMIT):
            sourcegrad.value_and_grad(f, wrt=wrt)(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - it answered in gradients_by_path
        return Outcome(CRASH, _kind(error), _traceback(error))
    changed = mismatch((args, kwargs), before, 0.0, 0.0)
    if changed:
        return Outcome(MUTATED, "", f"the caller's arguments changed: {changed}")
    return None


def _check_agreement(module, f, wrt, reference, answered):
    first = answered.get("specialized") or next(iter(answered.values()))
    scale = _largest(first.gradient)
    differ = {n: m for n, a in answered.items()
              if (m := mismatch(a.gradient, first.gradient, PATH_RTOL, 1e-9 * (1 + scale)))}
    if differ:
        detail = "\n".join(f"{n} vs specialized: {m}" for n, m in differ.items())
        return Outcome(DISAGREE, " ".join(sorted(differ)), detail)
    return None


# -- comparing values of any structure ------------------------------------------------------


def mismatch(got, expected, rtol: float, atol: float, where: str = "") -> str | None:
    """None when `got` equals `expected` within tolerance (same structure, shapes, types of
    container); else where and how they differ."""
    if isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple)) or len(got) != len(expected):
            return f"{where or 'result'}: expected a {type(expected).__name__} of " \
                   f"{len(expected)}, got {_short(got)}"
        return _first(mismatch(g, e, rtol, atol, f"{where}[{i}]")
                      for i, (g, e) in enumerate(zip(got, expected, strict=True)))
    if isinstance(expected, dict):
        get = (lambda k: got.get(k)) if isinstance(got, dict) else (
            lambda k: getattr(got, k, None))
        return _first(mismatch(get(k), e, rtol, atol, f"{where}[{k!r}]")
                      for k, e in expected.items())
    if _is_object(expected):
        return mismatch(got, {k: v for k, v in vars(expected).items()}, rtol, atol, where)
    try:
        g, e = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return None if got == expected else f"{where}: {_short(got)} != {_short(expected)}"
    if g.shape != e.shape:
        return f"{where or 'result'}: shape {g.shape}, expected {e.shape}"
    bad = ~(np.abs(g - e) <= atol + rtol * np.abs(e))
    if not np.any(bad):
        return None
    worst = np.unravel_index(np.argmax(np.where(bad, np.abs(g - e), -1)), g.shape)
    at = f"[{', '.join(map(str, worst))}]" if g.ndim else ""
    return f"{where}{at}: got {g[worst]!r}, expected {e[worst]!r}" + (
        f" (got {_short(got)}, expected {_short(expected)})" if g.size <= 12 else "")


def _first(items):
    return next((item for item in items if item), None)


def _is_object(value) -> bool:
    return hasattr(value, "__dict__") and not isinstance(value, (type, np.ndarray)) and \
        not callable(value)


def _short(value) -> str:
    if isinstance(value, np.ndarray):
        return np.array2string(value, precision=6, separator=", ")
    text = repr(value)
    return text if len(text) < 200 else text[:200] + "..."


def _largest(value) -> float:
    if isinstance(value, (list, tuple)):
        return max((_largest(v) for v in value), default=0.0)
    if isinstance(value, dict):
        return max((_largest(v) for v in value.values()), default=0.0)
    if _is_object(value):
        return _largest(vars(value))
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return 0.0
    return float(np.max(np.abs(array))) if array.size else 0.0


# -- naming errors -----------------------------------------------------------------------------


def _kind(error: BaseException) -> str:
    """The error's type and the first line of its message with names and numbers blanked,
    and for an unexpected error where it was raised: errors of one cause share a kind."""
    if type(error).__name__ == "CheckedModeError":  # the line and values differ every time
        return "CheckedModeError: " + str(error).split("; ")[-1][:120]
    text = getattr(error, "what", None) or str(error).split("\n")[0]
    text = re.sub(r"`[^`]*`", "`_`", text)
    text = re.sub(r"'[^']*'", "'_'", text)
    text = re.sub(r"\b[a-zA-Z_]*\d+[a-zA-Z_\d]*\b", "N", text)
    text = re.sub(r"\d+(\.\d+)?", "N", text)
    return f"{type(error).__name__}: {text[:140]}{_raised_in(error)}"


def _raised_in(error: BaseException) -> str:
    """` in <module>.<function>` of sourcegrad's innermost frame, or ` in emitted code`."""
    if isinstance(error, sourcegrad.SourcegradError) and not isinstance(
            error, sourcegrad.InternalError):
        return ""
    where = ""
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename.startswith("<sourcegrad"):
            where = " in emitted code"
        elif "/sourcegrad/" in frame.filename and "/tests/" not in frame.filename:
            module = frame.filename.split("/sourcegrad/")[-1].removesuffix(".py")
            where = f" in {module}.{frame.name}"
    return where


def _refused_line(error: BaseException) -> str:
    """The user's line a refusal points at (what construct was refused)."""
    origin = getattr(error, "origin", None)
    return origin.line_text().strip() if origin is not None else ""


def _traceback(error: BaseException) -> str:
    lines = traceback.format_exception(type(error), error, error.__traceback__)
    return "".join(lines[-12:])
