"""Calls whose changes the derivative cannot follow, refused where the differentiator meets
them (mixed into `control.Differentiator`): a method that writes into its object and was not
turned into a call of a variant (analysis/method_changes.py); a helper, closure or method that
calls a method changing an object it was handed (the change would stay inside it); a write into
a method's result that is its object's array, or into what a function held in a variable
returned. Each of these ran as written before, and the derivative read what changed.
"""

from __future__ import annotations

import inspect
from typing import Any

import gast
import numpy as np

from ..analysis.method_changes import method_change
from ..errors import UnsupportedSyntaxError
from ..normalize.mutations import call_effects
from ..parse import is_user_class
from .value_calls import is_value_call

# the methods of what arrives of a class sourcegrad does not know (an array, a number, a
# container, a random generator): what they change is followed elsewhere (normalize/sharing.py's
# CHANGING_METHODS) or carries no gradient. Any other method may be a user method changing its
# object.
_LIBRARY_METHODS = frozenset(name for kind in (
    np.ndarray, np.generic, list, tuple, dict, set, float, int, complex, str,
    np.random.Generator, np.random.RandomState) for name in dir(kind))


def _bound_arguments(fn: Any, call: gast.Call) -> dict[str, gast.expr]:
    """The expression `call` passes for each parameter of `fn` (none when it passes `*args`,
    `**kwargs` or arguments that do not bind: Python's own error comes first)."""
    if any(isinstance(a, gast.Starred) for a in call.args) or any(
            k.arg is None for k in call.keywords):
        return {}
    try:
        return dict(inspect.signature(fn, follow_wrapped=False).bind_partial(
            *call.args, **{k.arg: k.value for k in call.keywords}).arguments)
    except (TypeError, ValueError):
        return {}


class UnfollowedChanges:
    """Mixed into `control.Differentiator` (which has `self.ctx`)."""

    def _refuse_unfollowed_method(self, stmt: gast.stmt, call: gast.Call, dropped: str) -> None:
        """`obj.step(...)` of a user class whose method changes its object, left as written
        because analysis/method_changes.py could not follow it. Active or not, an adjoint may
        read the object's arrays it changes."""
        func = call.func
        if not (isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name)):
            return
        owner = self.ctx.shapes.value(func.value, self.ctx.shapes.env_at(stmt)).cls
        change = method_change(owner, func.attr, call) if owner is not None else None
        if change is None:
            return
        obj, method = func.value.id, func.attr
        why = "It writes into its object's arrays (self.v[i] = ..., self.v += ...)." \
            if change == "written" else \
            "Its arguments are not plain names, or other names hold the object."
        raise UnsupportedSyntaxError(
            f"{obj}.{method}(...) is called for what it changes{dropped}: sourcegrad cannot "
            "follow this method's changes to its object", getattr(stmt, "origin", None),
            why=why,
            hint=f"Write it as a function called by name, {method}({obj}, ...), which may "
                 "change its argument in place"
                 + (", or set attributes (self.v = ...) instead of writing into them."
                    if change == "written" else
                    f"; or pass it plain variables (v = ...; {obj}.{method}(v))."))

    def _refuse_writes_into_a_methods_result(self, stmt: gast.Assign, call: gast.Call) -> None:
        """`u = cell.forward(z)` where forward returns `self.w` (a part of its object) or one
        of its arguments, and `u` is written into later: in Python the write changes that
        array too. Normalization follows this for functions called by name (it knows what
        they return); a method's class is known only here, too late to follow it."""
        target = stmt.targets[0]
        if not (isinstance(target, gast.Name) and target.id in self.ctx.written) or \
                self.ctx.calls.classify(call).kind == "user":
            return
        if is_value_call(call, self.ctx.local_names):
            raise UnsupportedSyntaxError(
                f"{target.id} is written into, and {call.func.id}, a function held in a "
                "variable, may return one of its arguments' arrays: the write would change "
                "it too, which sourcegrad does not follow", getattr(stmt, "origin", None),
                hint=f"Write into a copy: {target.id} = {call.func.id}(...).copy().")
        fn, passed, _ = self._callee_and_arguments(call, self.ctx.shapes.env_at(stmt))
        if fn is None and isinstance(call.func, gast.Attribute) and isinstance(
                call.func.value, gast.Name) and self.ctx.shapes.value(
                call.func.value, self.ctx.shapes.env_at(stmt)).cls is not None:
            raise UnsupportedSyntaxError(  # `h = self.act(x)`, a function in an attribute
                f"{target.id} is written into, and {call.func.value.id}.{call.func.attr}, a "
                "function held in an attribute, may return one of its arguments' arrays: the "
                "write would change it too, which sourcegrad does not follow",
                getattr(stmt, "origin", None),
                hint=f"Write into a copy: {target.id} = {call.func.value.id}.{call.func.attr}"
                     "(...).copy().")
        if fn is None:
            return
        effects = call_effects(fn)
        shared = sorted(param for param in effects.returned | effects.held  # not `traj =
                        if isinstance(passed.get(param), gast.Name)  # sim.step(traj, t)`
                        and passed[param].id != target.id)
        if not shared:
            return
        held = passed[shared[0]].id
        raise UnsupportedSyntaxError(
            f"{target.id} is written into, and {call.func.value.id}.{call.func.attr}(...) may "
            f"return {held}'s array (or a part of it): the write would change {held} too, "
            "which sourcegrad does not follow for a method's result",
            getattr(stmt, "origin", None),
            hint=f"Write into a copy: {target.id} = {call.func.value.id}.{call.func.attr}"
                 "(...).copy().")

    def _refuse_methods_changing_in_callees(self, stmt: gast.stmt, value: gast.expr) -> None:
        """`r = helper(cell, x)` where helper (or a function it calls) calls `cell.nudge(v)`,
        a method that changes its object: only a call made in the function differentiated is
        followed (analysis/method_changes.py), the callee's change would be lost to this
        caller. A method of an object whose class is unknown here may change it too."""
        for call in gast.walk(value):
            if isinstance(call, gast.Call):
                self._refuse_methods_changing_in_callee(stmt, call)

    def _refuse_methods_changing_in_callee(self, stmt: gast.stmt, call: gast.Call) -> None:
        env = self.ctx.shapes.env_at(stmt)
        fn, passed, handed_back = self._callee_and_arguments(call, env)
        if fn is None:
            return
        effects = call_effects(fn)
        for param, method in sorted(effects.methods):
            argument = passed.get(param)
            if argument is None or param in handed_back:
                continue
            owner = self.ctx.shapes.value(argument, env).cls
            if owner is not None:  # a library's object (a random generator): its own
                change = method_change(owner, method, call) if is_user_class(owner) else None
            else:
                change = None if method in _LIBRARY_METHODS else "unknown"
            if change is None:
                continue
            name = fn.__qualname__.split("[")[0].rpartition(".")[2]  # as the user wrote it
            raise UnsupportedSyntaxError(
                f"{name} calls {param}.{method}(...), which "
                + ("changes that object" if change != "unknown" else
                   "may change that object (its class is not known here)")
                + f": sourcegrad cannot follow a change made inside {name} back to this call",
                getattr(stmt, "origin", None),
                why="Only methods called in the function differentiated itself are followed; "
                    "this function would go on reading the object as it was.",
                hint=f"Call {param}.{method}(...) here, before or after calling {name}, or "
                     f"let {name} return the new values and set them here.")

    def _callee_and_arguments(self, call: gast.Call, env) -> tuple[Any, dict[str, gast.expr],
                                                                    set[str]]:
        """The user function `call` runs, the expression passed for each of its parameters,
        and the parameters whose changes come back to this call: what a variant returns
        (mutations.py), a method's object (followed, or refused by the check above)."""
        kind = self.ctx.calls.classify(call)
        if kind.kind == "user":
            fn = kind.target
            return fn, _bound_arguments(fn, call), set(getattr(fn, "changes", ()))
        func = call.func
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name):
            owner = self.ctx.shapes.value(func.value, env).cls
            method = getattr(owner, func.attr, None) if owner is not None and is_user_class(
                owner) else None
            if inspect.isfunction(method):  # `cell.step(other)`: self is cell
                receiver = next(iter(inspect.signature(method).parameters), None)
                as_function = gast.Call(func=func, args=[func.value, *call.args],
                                        keywords=call.keywords)
                return method, _bound_arguments(method, as_function), {receiver}
        return None, {}, set()
