"""Fresh, readable names for everything sourcegrad adds to the user's code.

Every name the emitted module introduces (temporaries, adjoints, saved values) comes from one
`Namer`, which knows every name the user's code already uses, so nothing collides with them.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable

import gast

_NOT_IDENT = re.compile(r"[^0-9a-zA-Z_]+")


def sanitize(base: str) -> str:
    """Turn a description such as `x[i]` into an identifier stem such as `x_i`."""
    stem = _NOT_IDENT.sub("_", base).strip("_") or "tmp"
    if stem[0].isdigit():
        stem = "v" + stem
    return stem + "_" if keyword.iskeyword(stem) else stem


def names_in(tree: gast.AST) -> set[str]:
    """Every identifier that appears in `tree`: variables, parameters, attribute roots."""
    return {node.id for node in gast.walk(tree) if isinstance(node, gast.Name)}


class Namer:
    """Hands out names that collide neither with the user's nor with each other."""

    def __init__(self, reserved: Iterable[str] = ()):
        self._taken: set[str] = set(reserved)
        self._adjoints: dict[str, str] = {}
        self._adjoint_of: dict[str, str] = {}

    def reserve(self, names: Iterable[str]) -> None:
        self._taken.update(names)

    def is_free(self, name: str) -> bool:
        return name not in self._taken

    def fresh(self, base: str) -> str:
        """`base` itself when free, else `base_2`, `base_3`, ..."""
        stem = sanitize(base)
        name, k = stem, 2
        while name in self._taken:
            name, k = f"{stem}_{k}", k + 1
        self._taken.add(name)
        return name

    def adjoint(self, var: str) -> str:
        """The adjoint of `var`: `dx` for `x`, the same name every time it is asked for."""
        if var not in self._adjoints:
            self._adjoints[var] = self.fresh("d" + var)
            self._adjoint_of[self._adjoints[var]] = var
        return self._adjoints[var]

    def is_adjoint(self, name: str) -> bool:
        return name in self._adjoint_of

    def var_of_adjoint(self, name: str) -> str | None:
        """`x` for `dx`: the variable whose adjoint `name` is, if it is one."""
        return self._adjoint_of.get(name)

    def snapshot(self) -> tuple[set[str], dict[str, str], dict[str, str]]:
        return set(self._taken), dict(self._adjoints), dict(self._adjoint_of)

    def restore(self, snapshot: tuple[set[str], dict[str, str], dict[str, str]]) -> None:
        taken, adjoints, adjoint_of = snapshot
        self._taken, self._adjoints, self._adjoint_of = set(taken), dict(adjoints), dict(adjoint_of)
