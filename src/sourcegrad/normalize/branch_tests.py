"""Keep each branch's condition apart from what its arms bind.

Requires: jumps folded (the last pass that makes `if` statements), so every test is a name.
Guarantees: no `if` binds, in either arm, the name its test reads. The adjoint sweep reads the
test again to run the arm that ran; an arm that rebinds it (`y = a and b` is `y = a; if y: y =
b`, and a user's `if flag: flag = x > 0`) would leave the value after the arm in it, not the
one that chose the arm.
Example: `cond = pen; if cond: cond = v_i_lt_0` becomes
`cond = pen; was_cond = cond; if was_cond: cond = v_i_lt_0`.
"""

from __future__ import annotations

import gast

from ..gastutil import assign, assigned_names, load, statement_lists
from ..names import Namer


def keep_branch_tests(tree: gast.FunctionDef, namer: Namer) -> gast.FunctionDef:
    """`tree` with a copy of each test its own arms rebind, taken right before the `if`."""
    for block in list(statement_lists(tree)):
        index = 0
        while index < len(block):
            stmt = block[index]
            if isinstance(stmt, gast.If) and isinstance(stmt.test, gast.Name) and \
                    stmt.test.id in assigned_names(stmt.body + stmt.orelse):
                kept = namer.fresh(f"was_{stmt.test.id}")
                block.insert(index, assign(kept, load(stmt.test.id), stmt))
                stmt.test = load(kept)
                index += 1
            index += 1
    return tree
