"""Calls of library code whose result is dropped, for `augassign.LowerAugAssign`.

Such a call is made for what it does to its arguments (`np.fill_diagonal(m, 0.0)`,
`np.copyto(y, x)`, `rng.shuffle(v)`, `np.add.at(c, i, v)`, `m.fill(0.0)`), and sourcegrad
cannot read what it changes: every variable passed to it is taken as changed. The change
starts from a copy, `m = m.copy()`, followed like `m = m + d` (the names sharing `m` are bound
to it again), so the caller's array and the values the derivative saved stay as they were.
"""

from __future__ import annotations

import builtins

import gast

from .sharing import ARGUMENT_CHANGING_METHODS, copied


class LibraryCalls:
    """Mixed into `augassign.LowerAugAssign`."""

    def _changed_by_library_call(self, node: gast.Expr, call: gast.Call,
                                 changed: list[str] | None = None) -> list[gast.stmt]:
        """A call of library code whose result is dropped is made for what it does to its
        arguments (`np.fill_diagonal(M, 0.0)`, `np.copyto(y, x)`, `rng.shuffle(v)`,
        `np.add.at(c, i, v)`): sourcegrad cannot read what it changes, so every variable
        passed to it is taken as changed. It starts from a copy (the caller's array and the
        values the derivative saved stay as they were), and the names sharing it follow."""
        if changed is None:
            passed = [*call.args, *(k.value for k in call.keywords)]
            if self._method_of_a_variable(call):  # `m.step(x)`: only `out=`, `rng.shuffle(v)`
                passed = [k.value for k in call.keywords if k.arg == "out"]
                passed += call.args if call.func.attr in ARGUMENT_CHANGING_METHODS else []
            changed = [a.id for a in passed
                       if isinstance(a, gast.Name) and a.id in self.local_names]
            if changed and self._leaves_arguments_alone(call):
                return [node]
        if not changed:
            return [node]
        copies, follow_ups = [], []
        for name in dict.fromkeys(changed):  # `M = M.copy()` is the change, as `M = M + d`
            copy = copied(name, node)
            copies.append(copy)
            follow_ups += self._changed_in_place(copy, name)[1:]
        return [*copies, node, *follow_ups]

    def _method_of_a_variable(self, call: gast.Call) -> bool:
        """`m.step(x)`, `rng.shuffle(v)`: a method of an object the function holds, whose
        class is not known here (an object of the user's sets its attributes, followed by
        analysis/method_changes.py; it changes no argument)."""
        root = call.func
        while isinstance(root, gast.Attribute):
            root = root.value
        return isinstance(call.func, gast.Attribute) and isinstance(root, gast.Name) and \
            root.id in self.local_names

    def _leaves_arguments_alone(self, call: gast.Call) -> bool:
        """Calls known to change none of their arguments: `print`, sourcegrad's own checks,
        and the user's functions (what those change is followed by changing_calls.py)."""
        if self.effects is None or not hasattr(self.effects, "namespace"):
            return True  # no namespace (trees normalized in tests): nothing is known
        if self.effects.callee(call) is not None:
            return True
        target = self.effects.namespace.resolve(call.func, self.local_names)
        return target is builtins.print or getattr(target, "__module__", "").startswith(
            "sourcegrad.")
