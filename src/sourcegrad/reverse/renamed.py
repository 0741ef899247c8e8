"""Names inside one step: a target that is also an operand (`x = x * 2`) is read through
`x_prev`, its value before the statement (`step.prev_names`); these give back the variable a
name stands for."""

from __future__ import annotations

import gast

from ..gastutil import clone, load


def original(step, name: str) -> str:
    """The variable a (possibly `_prev`-renamed) name stands for."""
    for var, prev in step.prev_names.items():
        if prev == name:
            return var
    return name


def original_node(step, node: gast.expr) -> str | None:
    return original(step, node.id) if isinstance(node, gast.Name) else None


def rename_back(step, node: gast.expr) -> gast.expr:
    if isinstance(node, gast.Name):
        return load(original(step, node.id))
    return clone(node)
