"""Objects built inside the differentiated function: `model = LinearModel(w, b)`.

A call of a user class runs its `__init__` on a new object. The call becomes exactly that:
`LinearModel_init_changing_self(new_object(LinearModel), w, b)`, where the variant of
`__init__` (normalize/mutations.py) returns the object it set up, so gradients flow back
through its attributes into the arguments it was built from, as through any function that sets
attributes of its argument. A dataclass's generated `__init__` has no source: one is written
from its fields (`self.k = k` each, then `self.__post_init__()`), registered with `linecache`.

Requires: syntax_check. Runs before augassign.py, which then knows the object holds `w`.
"""

from __future__ import annotations

import dataclasses
import inspect
import linecache
from typing import Any

import gast

from ..errors import UnsupportedSyntaxError
from ..gastutil import load
from ..names import Namer
from ..parse import Namespace, is_user_class
from .mutations import call_effects, unreadable_callee_error, variant_of

_DATACLASS_INITS: dict[type, Any] = {}


def build_objects(tree: gast.FunctionDef, namespace: Namespace, local_names: set[str],
                  namer: Namer) -> gast.FunctionDef:
    return _BuildObjects(namespace, local_names, namer).visit(tree)


class _BuildObjects(gast.NodeTransformer):
    def __init__(self, namespace: Namespace, local_names: set[str], namer: Namer):
        self.namespace, self.local_names, self.namer = namespace, local_names, namer
        self.variants: dict[type, str] = {}

    def visit_Call(self, node: gast.Call) -> gast.Call:
        self.generic_visit(node)
        cls = self.namespace.resolve(node.func, self.local_names)
        if not is_user_class(cls):
            return node
        init = _init_of(cls, node)
        if init is None:
            return node  # object.__init__: `C()` makes it, as Python does
        name = self._variant(cls, init, node)
        made = gast.Call(func=load("new_object"), args=[node.func], keywords=[])
        built = gast.Call(func=load(name), args=[made, *node.args], keywords=node.keywords)
        return gast.copy_location(built, node) if hasattr(node, "lineno") else built

    def _variant(self, cls: type, init: Any, call: gast.Call) -> str:
        """The name of `__init__`'s variant returning the object, bound in the namespace."""
        if cls not in self.variants:
            receiver = next(iter(inspect.signature(init, follow_wrapped=False).parameters))
            _refuse_other_changes(cls, init, receiver, call)
            variant = variant_of(init, (receiver,))
            name = self.namer.fresh(f"built_{cls.__name__}")  # what its result is named after
            self.namespace.closure[name] = variant
            self.variants[cls] = name
        return self.variants[cls]


def _init_of(cls: type, call: gast.Call) -> Any:
    """The `__init__` a call of `cls` runs, as a function with source; None for
    `object.__init__`."""
    if cls.__new__ is not object.__new__:
        raise UnsupportedSyntaxError(
            f"{cls.__name__} defines __new__, which sourcegrad does not follow",
            getattr(call, "origin", None),
            hint=f"Build the object outside the differentiated function and pass it in, or "
                 f"drop {cls.__name__}.__new__.")
    init = cls.__init__
    if init is object.__init__:
        return None
    if dataclasses.is_dataclass(cls) and init.__code__.co_filename == "<string>":
        return _dataclass_init(cls, call)
    return init


def _refuse_other_changes(cls: type, init: Any, receiver: str, call: gast.Call) -> None:
    """An `__init__` that changes an argument other than its new object (`buf[0] = 0.0`, a
    list appended to, a method of another object) would change the caller's value too."""
    effects = call_effects(init)
    if effects.unreadable is not None:
        raise unreadable_callee_error(init, call, effects.unreadable)
    others = (effects.changed | effects.rebound | effects.by_method) - {receiver}
    others |= {param for param, _ in effects.methods if param != receiver}
    if others:
        raise UnsupportedSyntaxError(
            f"{cls.__name__}.__init__ may change its argument {sorted(others)[0]} (or calls a "
            "method of it), besides setting up the new object", getattr(call, "origin", None),
            hint=f"Let {cls.__name__}.__init__ only set attributes of self; change the "
                 "argument outside.")


def _dataclass_init(cls: type, call: gast.Call) -> Any:
    """The `__init__` a dataclass's fields describe, with source sourcegrad can read."""
    if cls in _DATACLASS_INITS:
        return _DATACLASS_INITS[cls]
    namespace: dict[str, Any] = {}
    positional, keyword_only, body = ["self"], [], []
    for field in dataclasses.fields(cls):
        if field.default_factory is not dataclasses.MISSING:
            raise UnsupportedSyntaxError(
                f"the field {field.name} of the dataclass {cls.__name__} has a default_factory, "
                "which sourcegrad does not follow", getattr(call, "origin", None),
                hint="Build the object outside the differentiated function and pass it in, "
                     f"or pass {field.name} explicitly with a plain default.")
        default = ""
        if field.default is not dataclasses.MISSING:
            namespace[f"{field.name}_default"] = field.default
            default = f"={field.name}_default"
        if field.init:
            (keyword_only if field.kw_only else positional).append(f"{field.name}{default}")
            body.append(f"    self.{field.name} = {field.name}")
        elif default:
            body.append(f"    self.{field.name} = {field.name}_default")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    params = positional + (["*", *keyword_only] if keyword_only else [])
    filename = f"<sourcegrad: the dataclass {cls.__qualname__}>"
    source = "\n".join([f"def __init__({', '.join(params)}):", *(body or ["    pass"]), ""])
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace["__name__"] = cls.__module__
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - from its own fields
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    _DATACLASS_INITS[cls] = init
    return init
