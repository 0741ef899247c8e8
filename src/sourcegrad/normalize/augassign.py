"""Lower augmented assignment to plain assignment.

Requires: syntax_check (targets are names).
Guarantees: no AugAssign or AnnAssign remains. `x += y` becomes `x = x + y`, which never writes
into the caller's array: the gradient code must not mutate its inputs.
Example: `s *= 2` becomes `s = s * 2`.
"""

from __future__ import annotations

import gast

from ..gastutil import as_load, assign


class LowerAugAssign(gast.NodeTransformer):
    def visit_AugAssign(self, node: gast.AugAssign) -> gast.stmt:
        value = gast.BinOp(left=as_load(node.target), op=node.op, right=node.value)
        return assign(node.target, value, node)

    def visit_AnnAssign(self, node: gast.AnnAssign) -> gast.stmt | None:
        return assign(node.target, node.value, node) if node.value is not None else None


def lower_augassign(tree: gast.FunctionDef) -> gast.FunctionDef:
    return LowerAugAssign().visit(tree)
