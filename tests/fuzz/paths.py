"""Every way sourcegrad can compute a program's gradient, so that the checker can ask them all
for the same numbers.

`sourcegrad.verify.gradients_by_path` runs the derivative specialized on the arguments' shapes,
the generic one, the one without optimizations, the checked mode and the printed `.source`
executed alone. Where it is missing (an older checkout), a fallback runs the specialized
derivative through the public API only.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import sourcegrad


@dataclass
class Answer:
    """One path's value and gradient, or the SourcegradError it refused with."""

    value: Any = None
    gradient: Any = None
    refused: Exception | None = None


def gradients_by_path(fn, args: tuple, kwargs: dict, wrt, fast: bool = False
                      ) -> dict[str, Answer]:
    """{path: Answer}; each path gets its own copy of the arguments. `fast` runs the smaller
    set of builds that still turns every switch (for CI)."""
    try:
        from sourcegrad import verify
    except ImportError:
        return _fallback(fn, args, kwargs, wrt)
    paths = getattr(verify, "FAST_PATHS", None) if fast else None
    results = verify.gradients_by_path(fn, args, kwargs, wrt, paths)
    return {name: Answer(r.value, r.gradient, r.refused) for name, r in results.items()}


def _fallback(fn, args: tuple, kwargs: dict, wrt) -> dict[str, Answer]:
    try:
        value, gradient = sourcegrad.value_and_grad(fn, wrt=wrt)(
            *copy.deepcopy(args), **copy.deepcopy(kwargs))
    except (sourcegrad.UnsupportedSyntaxError, sourcegrad.NoRuleError) as error:
        return {"specialized": Answer(refused=error)}
    return {"specialized": Answer(value, gradient)}


def checked_mode_error() -> type:
    """The exception checked mode raises on a breach (a class nothing else raises without it)."""
    try:
        from sourcegrad.runtime.checked import CheckedModeError
    except ImportError:
        return type("NoCheckedMode", (Exception,), {})
    return CheckedModeError
