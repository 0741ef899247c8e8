"""How a derivative is built: the switches the tests and the fuzzer turn to reach every path.

Users never set these; `grad` builds with the defaults. `sourcegrad.verify` builds the same
function under each setting and compares the numbers, so that a path nobody calls by default
(shapes unknown, optimizations off) cannot drift from the one users run.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BuildOptions:
    """`specialize`: use the arguments' shapes (plain NumPy where they are known) or build the
    generic derivative that holds for any shapes. `optimize`: forward adjoint copies and drop
    repeated array copies. `checked`: the primal keeps a private copy of every value an adjoint
    block reads, and the adjoint asserts it reads the same (`runtime.checked`)."""

    specialize: bool = True
    optimize: bool = True
    checked: bool = False


DEFAULT = BuildOptions()
