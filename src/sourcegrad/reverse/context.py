"""What the differentiator of one function knows: facts from the analyses, the namer, and how
to ask the module builder for the adjoint of a user function it calls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gast

from ..analysis.activity import Activity
from ..analysis.calls import CallClassifier
from ..analysis.definedness import Definedness
from ..analysis.shapes import ShapeFacts
from ..names import Namer

# (user function, its active parameters, abstract arguments, call site) -> (forward, backward)
CalleeRequest = Callable[..., tuple[str, str]]
# a value the emitted module must hold (a default argument, say) -> the name it is bound to
BindValue = Callable[[Any, str], str]
# a name a rule template uses, and what it refers to in the rule's module
BindGlobal = Callable[[str, Any], None]


@dataclass
class Context:
    namer: Namer
    activity: Activity
    calls: CallClassifier
    definedness: Definedness
    shapes: ShapeFacts
    local_names: set[str]
    index_safe: set[str]
    request_callee: CalleeRequest
    bind_value: BindValue
    bind_global: BindGlobal
    # variables that get a zero adjoint where they may be unbound: the primal binds them to
    # None first, so that `zeros_like` has something to look at
    bind_none_first: set[str] = field(default_factory=set)
    # arrays the function writes into (`y[i] = v`): reading a part of them copies it
    written: set[str] = field(default_factory=set)
    # variables that may hold a list, tuple or dict: their adjoints add item by item
    containers: set[str] = field(default_factory=set)
    # ... and variables that may (a helper's result): their adjoints add item by item too
    maybe_containers: set[str] = field(default_factory=set)

    def adds_item_by_item(self, name: str) -> bool:
        return name in self.containers or name in self.maybe_containers

    def is_active(self, node: gast.expr | str) -> bool:
        name = node if isinstance(node, str) else getattr(node, "id", None)
        return name is not None and name in self.local_names and self.activity.is_active(name)
