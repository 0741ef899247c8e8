"""Methods that set attributes of their object: `h = cell.step(x)` where `step` does
`self.h = np.tanh(...)`, RNN style.

Normalization cannot tell which class `cell` has; the arguments of a derivative say it. Where
the shape facts know the class and `step` only sets attributes of `self` (no array of it
written into, nothing else changed), the call becomes a call of a variant of the method that
also returns the object, bound again to the name: `h, cell = Cell_step_changing_self(cell, x)`
(normalize/mutations.py makes the variant). Only when no other name may hold the object
(`receiver_sharers`, noted by augassign.py); elsewhere the differentiator refuses the call.
Requires: the canonical form. Returns the tree itself when nothing changes, else a copy.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import gast

from ..gastutil import assign, copy_replacing, is_atom, load, store
from ..names import Namer
from ..normalize.mutations import call_effects, unreadable_callee_error, variant_of
from .calls import CallClassifier
from .shapes import ShapeFacts


def follow_method_changes(tree: gast.FunctionDef, facts: Callable[[], ShapeFacts],
                          calls: CallClassifier, namer: Namer,
                          bind: Callable[[str, Any], None]) -> gast.FunctionDef:
    """`facts()` gives the shape facts of `tree`, made only if a call asks for them."""
    candidates = [node for node in gast.walk(tree) if hasattr(node, "receiver_sharers")
                  and not node.receiver_sharers]
    if not candidates:
        return tree
    facts = facts()
    rewritten: dict[int, list[gast.stmt]] = {}
    for stmt in candidates:
        method = _method(stmt.value, facts.value(stmt.value.func.value, facts.env_at(stmt)).cls)
        if method is not None:
            rewritten[id(stmt)] = [_call_of_variant(stmt, method, namer, calls, bind)]
    return copy_replacing(tree, rewritten) if rewritten else tree


def method_change(cls: type, name: str, call: gast.Call,
                  seen: frozenset[str] = frozenset()) -> str | None:
    """How the method `name` of `cls` changes its object: "written" (into its arrays), "set"
    (attributes only), or None; the methods it calls on its object (`self.nudge(v)`) count.
    One sourcegrad cannot read may change anything: its own error is raised, saying why this
    call needs it read."""
    method = getattr(cls, name, None)
    if not inspect.isfunction(method):
        return None
    receiver = next(iter(inspect.signature(method, follow_wrapped=False).parameters), None)
    effects = call_effects(method)
    if effects.unreadable is not None:
        raise unreadable_callee_error(method, call, effects.unreadable)
    if receiver in effects.changed | effects.by_method:
        return "written"
    changes = {method_change(cls, called, call, seen | {name})
               for param, called in effects.methods if param == receiver and called not in seen}
    if "written" in changes:
        return "written"
    return "set" if receiver in effects.rebound or "set" in changes else None


def _method(call: gast.Call, cls: type | None) -> Any:
    """The method `call` calls, when all it changes is attributes of its object (itself or
    by methods it calls on it, which its derivative follows in turn)."""
    method = getattr(cls, call.func.attr, None) if cls is not None else None
    if not inspect.isfunction(method) or not all(map(is_atom, call.args)):
        return None  # `cell.step(cell.w)` is refused (unfollowed.py): `v = cell.w` first
    receiver = next(iter(inspect.signature(method, follow_wrapped=False).parameters), None)
    effects = call_effects(method)
    if effects.changed or effects.by_method or effects.rebound - {receiver} or any(
            param != receiver for param, _ in effects.methods):
        return None  # what it changes of its other arguments: refused (reverse/unfollowed.py)
    return method if method_change(cls, call.func.attr, call) == "set" else None


def _call_of_variant(stmt: gast.stmt, method: Any, namer: Namer, calls: CallClassifier,
                     bind: Callable[[str, Any], None]) -> gast.Assign:
    """`h = cell.step(x)` as `h, cell = Cell_step_changing_self(cell, x)`."""
    receiver = next(iter(inspect.signature(method, follow_wrapped=False).parameters))
    variant = variant_of(method, (receiver,))
    name = namer.fresh(variant.__name__)
    calls.namespace.closure[name] = variant
    bind(name, variant)
    call, obj = stmt.value, stmt.value.func.value.id
    new_call = gast.Call(func=load(name), args=[load(obj), *call.args], keywords=call.keywords)
    if not variant.returns_value:
        target: gast.expr = store(obj)
    else:
        result = stmt.targets[0] if isinstance(stmt, gast.Assign) else store(
            namer.fresh(f"{call.func.attr}_result"))
        target = gast.Tuple(elts=[result, store(obj)], ctx=gast.Store())
    return assign(target, new_call, stmt)
