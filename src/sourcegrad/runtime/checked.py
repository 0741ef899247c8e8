"""Checked mode: the emitted derivative proves, as it runs, that the adjoint sweep restores state.

The reverse pass rests on one invariant (docs/architecture.md): when the adjoint block of a
statement runs, every primal variable it reads holds the value it had right after that
statement in the primal sweep. In checked mode the primal sweep snapshots (deep copies) those
values after each statement that has an adjoint block, on one stack for the whole derivative
(callees included), and the adjoint sweep compares what it reads with the snapshot before the
block runs. A view kept by reference and then written, a callee's tape holding an array the
caller changes, a value popped on one branch arm only, a recomputed value reading a name
rebound later: each becomes a `CheckedModeError` naming the user's line and the variable.

For tests and the fuzzer only (`sourcegrad.verify`); never in a derivative users run.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from .core import is_data_object

__all__ = ["checked_before", "checked_after", "checked_compare", "checked_begin",
           "checked_end", "CheckedModeError"]


class CheckedModeError(AssertionError):
    """The adjoint sweep read a value other than the one the primal had: a sourcegrad bug."""


_log: list[tuple[str, dict[str, Any]]] = []      # (where, snapshot), one per statement run
_pending: list[tuple[str, dict[str, Any]]] = []  # values taken before a statement ran


def _snapshot(value: Any) -> Any:
    try:
        return copy.deepcopy(value)
    except Exception:  # a module or a generator: compared by identity
        return value


def checked_begin() -> None:
    """A new derivative call: forget what an earlier, failed call left behind."""
    _log.clear()
    _pending.clear()


def checked_before(where: str, values: dict[str, Any]) -> None:
    """Values a statement overwrites that its adjoint reads under a `_prev` name."""
    _pending.append((where, {k: _snapshot(v) for k, v in values.items()}))


def checked_after(where: str, values: dict[str, Any], has_before: bool = False) -> None:
    """Right after a statement: keep what its adjoint block will read."""
    snapshot = {k: _snapshot(v) for k, v in values.items()}
    if has_before:
        before_where, before = _pending.pop()
        if before_where != where:
            raise CheckedModeError(f"checked mode lost track: {before_where} and {where}")
        snapshot.update(before)
    _log.append((where, snapshot))


def checked_compare(where: str, values: dict[str, Any]) -> None:
    """Before an adjoint block: what it reads must be what the primal had."""
    if not _log:
        raise CheckedModeError(f"the adjoint of {where} runs more often than its statement")
    recorded_where, snapshot = _log.pop()
    if recorded_where != where:
        raise CheckedModeError(f"the adjoint sweep runs the block of {where} where the primal "
                               f"ran {recorded_where} last: the sweeps are out of step")
    for name, value in values.items():
        if name in snapshot and not _same(snapshot[name], value):
            raise CheckedModeError(
                f"{where}: the adjoint reads {name} = {_brief(value)}, but right after this "
                f"line the primal had {name} = {_brief(snapshot[name])}; the adjoint sweep "
                "did not restore it (a value kept by reference and changed, or restored late)")


def checked_end() -> None:
    """After the adjoint sweep: every statement's block ran as often as the statement."""
    if _log or _pending:
        left = ", ".join(where for where, _ in (_log + _pending)[-3:])
        checked_begin()
        raise CheckedModeError(f"the adjoint sweep skipped the blocks of: {left}")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(
            _same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (float, complex, np.floating, np.complexfloating)):
        return isinstance(b, (int, float, complex, np.number)) and (a == b or (a != a and b != b))
    if is_data_object(a):
        return type(a) is type(b) and _same(vars(a), vars(b))
    try:
        return a is b or bool(a == b)
    except Exception:
        return a is b


def _brief(value: Any) -> str:
    text = np.array2string(value, threshold=6) if isinstance(value, np.ndarray) else repr(value)
    return text if len(text) < 60 else text[:57] + "..."
