"""Rename the user's local variables that would shadow names the emitted code needs.

Requires: a parsed function. Guarantees: no parameter or local variable is called `np`, `math`,
`range`, `reversed`, `len`, `slice` or a runtime helper (`zeros_like`, `unbroadcast`, ...);
such a variable is renamed everywhere in the function to a fresh name (`zeros_like_2`).
Example: `zeros_like = 0.0; s = zeros_like + x` becomes `zeros_like_2 = 0.0; s = zeros_like_2 + x`.
"""

from __future__ import annotations

import gast

from ..gastutil import assigned_names, parameter_names
from ..names import Namer


class _Rename(gast.NodeTransformer):
    def __init__(self, mapping: dict[str, str]):
        self.mapping = mapping

    def visit_Name(self, node: gast.Name) -> gast.Name:
        node.id = self.mapping.get(node.id, node.id)
        return node


def rename_locals(tree: gast.FunctionDef, reserved: set[str], namer: Namer) -> gast.FunctionDef:
    args = tree.args
    params = set(parameter_names(args))
    clashes = (params | assigned_names(tree.body)) & reserved
    if not clashes:
        return tree
    return _Rename({name: namer.fresh(name) for name in sorted(clashes)}).visit(tree)
