"""What a call in the user's code refers to: a rule, a zero-gradient function, a user function
(transform its source too), or something sourcegrad knows nothing about."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import gast

from ..normalize.closures import LiftedFunction
from ..parse import Namespace, is_library_function, is_missing
from ..rules import METHOD_ADJOINTS, Rule, is_zero_gradient, rule_for

# Attributes of arrays that are plain facts about the shape: constants for the adjoint.
CONSTANT_ATTRIBUTES = frozenset({"shape", "ndim", "size", "dtype", "itemsize", "nbytes"})


@dataclass(frozen=True)
class CallKind:
    """kind is 'rule', 'method', 'zero', 'user' or 'unknown'; `receiver` is set for methods."""

    kind: str
    target: Any = None
    rule: Rule | None = None
    receiver: gast.expr | None = None
    label: str = ""


def call_label(func: gast.expr) -> str:
    """How the user wrote the called function: `np.sum`, `layer.forward`."""
    if isinstance(func, gast.Name):
        return func.id
    if isinstance(func, gast.Attribute):
        return f"{call_label(func.value)}.{func.attr}"
    return "<call>"


class CallClassifier:
    """Classifies calls of one function, given what its names refer to."""

    def __init__(self, namespace: Namespace, local_names: set[str],
                 static: dict[str, Any] | None = None):
        self.namespace = namespace
        self.local_names = local_names
        self.static = static or {}  # parameters known to hold a given function

    def resolve(self, func: gast.expr) -> Any:
        if isinstance(func, gast.Name) and func.id in self.static:
            return self.static[func.id]
        return self.namespace.resolve(func, self.local_names)

    def with_functions(self, static: dict[str, Any]) -> CallClassifier:
        """This classifier, knowing that some parameters hold functions (`rhs` is `f`)."""
        return CallClassifier(self.namespace, self.local_names, {**self.static, **static})

    def classify(self, call: gast.Call) -> CallKind:
        func, label = call.func, call_label(call.func)
        target = self.resolve(func)
        if is_missing(target):
            if isinstance(func, gast.Attribute):
                rule = METHOD_ADJOINTS.get(func.attr)
                if rule is not None:
                    return CallKind("method", func.attr, rule, func.value, label)
                if func.attr in CONSTANT_ATTRIBUTES:
                    return CallKind("zero", None, None, func.value, label)
            return CallKind("unknown", None, None, None, label)
        return self.classify_object(target, label)

    def classify_object(self, target: Any, label: str) -> CallKind:
        rule = rule_for(target)
        if rule is not None:
            return CallKind("rule", target, rule, None, label)
        if is_zero_gradient(target):
            return CallKind("zero", target, None, None, label)
        if inspect.isfunction(target) and not is_library_function(target) or isinstance(
                target, LiftedFunction):
            return CallKind("user", target, None, None, label)
        return CallKind("unknown", target, None, None, label)

    def packing_signature(self, call: gast.Call) -> inspect.Signature | None:
        """The signature of a user function taking *args or **kwargs, which calls of it pack
        into a tuple or a dict."""
        kind = self.classify(call)
        if kind.kind != "user":
            return None
        signature = inspect.signature(kind.target, follow_wrapped=False)
        kinds = {p.kind for p in signature.parameters.values()}
        packs = {inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD} & kinds
        return signature if packs else None

    def is_opaque(self, call: gast.Call) -> bool:
        """Calls that carry no gradient may be kept whole by ANF."""
        return self.classify(call).kind == "zero"
