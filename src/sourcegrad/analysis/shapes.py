"""Shape facts: the array shape of each variable before each statement, when it is certain.

sourcegrad specializes a derivative on the shapes of the arguments it is called with (as JAX
traces per shape). Knowing that `w` is a float and `x` has shape (3,) lets the differentiator
write `dx = dz` instead of `dx = unbroadcast(dz, x)`, `np.sum(g, axis=0)` instead of a generic
helper, `g @ b.T` for a matrix product, and stop saving values whose only use was their shape.

A shape is a tuple of ints, or None when unknown; `integer` marks values known to be Python or
NumPy integers (loop counters, lengths), which index without repeats. The analysis is a forward
abstract interpretation with a fixed point at loops; anything it cannot decide is None, and the
differentiator then falls back to the runtime helpers, which decide at run time. Sound by
construction: a shape is recorded only when NumPy's rules fix it for every input of these shapes.
Requires: the canonical form.
"""

from __future__ import annotations

import builtins
import dataclasses
import inspect
import math
import operator
import warnings
from typing import Any

import gast
import numpy as np

from ..gastutil import target_names
from ..normalize.mutations import call_effects
from ..parse import is_user_class
from ..runtime import new_object, stop_gradient, with_attribute
from .abstract import (
    INTEGER,
    SCALAR,
    UNKNOWN,
    Abstract,
    Env,
    Shape,
    broadcast,
    dot_shape,
    join,
    join_envs,
    matmul_shape,
    of_value,
    reduced_shape,
)
from .calls import CallClassifier

_PLACEHOLDER = 7919  # stands for an unknown length when NumPy computes an indexing result

_REDUCTIONS = {np.sum, np.mean, np.prod, np.max, np.amax, np.min, np.amin, np.var, np.std}
_REDUCTION_METHODS = {"sum", "mean", "prod", "max", "min", "var", "std"}
_SAME_SHAPE = {np.zeros_like, np.ones_like, np.empty_like, np.copy, np.array, np.asarray}
_SAME_SHAPE_METHODS = {"copy", "astype", "conj"}
_INTEGER_RESULTS = {builtins.len, builtins.int, builtins.round, math.floor, math.ceil,
                    np.argmax, np.argmin, np.size, np.ndim}
_BINARY = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
           gast.Div: operator.truediv, gast.Pow: operator.pow, gast.Mod: operator.mod,
           gast.FloorDiv: operator.floordiv}


def _item(items: tuple, index: gast.expr) -> Abstract:
    """The abstract value of `container[constant]`."""
    if isinstance(index, (gast.Slice, gast.Tuple)):
        return UNKNOWN
    if not isinstance(index, gast.Constant):  # any item: what they all have in common
        values = [v for _, v in items] if items and isinstance(items[0], tuple) else list(items)
        common = values[0] if values else UNKNOWN
        for value in values[1:]:
            common = join(common, value)
        return common
    key = index.value
    if items and isinstance(items[0], tuple):  # a dict
        return dict(items).get(key, UNKNOWN)
    if isinstance(key, int) and not isinstance(key, bool) and -len(items) <= key < len(items):
        return items[key]
    return UNKNOWN


def _integer_dtype(node: gast.expr | None) -> bool:
    """`dtype=int`, `dtype=bool`, `dtype=np.int64`, `dtype="int32"`: integers."""
    name = getattr(node, "id", None) or getattr(node, "attr", None) or getattr(node, "value", None)
    return isinstance(name, str) and name.startswith(("int", "uint", "bool"))


_READING_METHODS = {"get", "keys", "values", "items", "copy", "index", "count"}


def _forget_changed_items(call: gast.expr, env: Env) -> None:
    """`xs.append(v)`, `d.update(e)`, `d.pop(k)`: the container's items are no longer known."""
    if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and isinstance(
            call.func.value, gast.Name) and call.func.attr not in _READING_METHODS:
        name = call.func.value.id
        held = env.get(name)
        if held is not None and held.items is not None and held.cls is None:
            env[name] = Abstract(None, is_dict=held.is_dict)


def _stored_item(held: Abstract, index: gast.expr, value: Abstract) -> Abstract:
    """A container after `held[index] = value`: a dict gains or changes the key, a list's
    item changes; where the index is not a constant, every item may have changed."""
    if isinstance(index, gast.Constant) and held.is_dict:
        return dataclasses.replace(held, items=tuple({**dict(held.items),
                                                      index.value: value}.items()))
    if held.is_dict:
        return dataclasses.replace(held, items=None)
    items = list(held.items)
    key = index.value if isinstance(index, gast.Constant) else None
    if isinstance(key, int) and not isinstance(key, bool) and -len(items) <= key < len(items):
        items[key] = value
    else:
        items = [join(item, value) for item in items]
    return dataclasses.replace(held, items=tuple(items))


class ShapeFacts:
    """`before[id(stmt)]`: the environment before a statement; `exit[id(loop)]`: after a loop
    (what holds at its head on every iteration and when it ends)."""

    _MAX_LOOP_PASSES = 6

    def __init__(self, tree: gast.FunctionDef, params: Env, calls: CallClassifier):
        self.calls = calls
        self.before: dict[int, Env] = {}
        self.exit: dict[int, Env] = {}
        self._breaks: list[Env] = []
        self.block(tree.body, dict(params))

    def env_at(self, stmt: gast.stmt) -> Env:
        return self.before.get(id(stmt), {})

    # -- statements ------------------------------------------------------------------------
    def block(self, stmts: list[gast.stmt], env: Env) -> Env:
        for stmt in stmts:
            self.before[id(stmt)] = dict(env)
            if isinstance(stmt, gast.Assign):
                self._assign(stmt, env)
            elif isinstance(stmt, gast.If):
                env = join_envs(self.block(stmt.body, dict(env)),
                                self.block(stmt.orelse, dict(env)))
            elif isinstance(stmt, (gast.For, gast.While)):
                env = self._loop(stmt, env)
            elif isinstance(stmt, gast.Break):
                self._breaks.append(dict(env))
            elif isinstance(stmt, gast.Expr):
                _forget_changed_items(stmt.value, env)
        return env

    def _assign(self, stmt: gast.Assign, env: Env) -> None:
        target = stmt.targets[0]
        value = self.value(stmt.value, env)
        _forget_changed_items(stmt.value, env)
        if isinstance(target, gast.Name):
            env[target.id] = value
        elif isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name):
            held = env.get(target.value.id)
            if held is not None and held.items is not None and held.cls is None:
                env[target.value.id] = _stored_item(held, target.slice, value)
        elif isinstance(target, gast.Tuple) and value.items is not None and len(
                value.items) == len(target.elts) and all(isinstance(e, gast.Name)
                                                         for e in target.elts):
            for elt, item in zip(target.elts, value.items, strict=True):
                env[elt.id] = item if isinstance(item, Abstract) else UNKNOWN
        else:
            for name in target_names(target):
                env[name] = UNKNOWN

    def _loop(self, stmt: gast.For | gast.While, env: Env) -> Env:
        head = dict(env)
        outer_breaks, self._breaks = self._breaks, []
        for _ in range(self._MAX_LOOP_PASSES):
            if isinstance(stmt, gast.For):
                head[stmt.target.id] = self._iteration(stmt.iter, head)
            self._breaks = []
            end = self.block(stmt.body, dict(head))
            new_head = join_envs(head, end)
            if new_head == head:
                break
            head = new_head
        else:
            head = {name: UNKNOWN for name in head}
            self._breaks = []
            self.block(stmt.body, dict(head))
        exit_env = head
        for env_at_break in self._breaks:
            exit_env = join_envs(exit_env, env_at_break)
        self._breaks = outer_breaks
        self.exit[id(stmt)] = exit_env
        return dict(exit_env)

    def _iteration(self, iterable: gast.expr, env: Env) -> Abstract:
        if isinstance(iterable, gast.Call) and getattr(iterable.func, "id", None) == "range":
            return INTEGER
        return UNKNOWN

    # -- expressions -------------------------------------------------------------------------
    def value(self, node: gast.expr, env: Env) -> Abstract:
        visitor = getattr(self, "_" + type(node).__name__, None)
        result = visitor(node, env) if visitor else UNKNOWN
        if not result.complex and self._reads_complex(node, env):
            result = dataclasses.replace(result, complex=True)  # complex in, maybe complex out
        return result

    def _reads_complex(self, node: gast.expr, env: Env) -> bool:
        """Whether `node` reads a value that may be complex: a variable, a global or a constant
        holding complex numbers, or a complex dtype (`dtype=complex`, `astype(np.complex64)`)."""
        for sub in gast.walk(node):
            if isinstance(sub, gast.Constant) and (isinstance(sub.value, complex) or isinstance(
                    sub.value, str) and _complex_dtype_name(sub.value)):
                return True
            if isinstance(sub, gast.Name) and isinstance(sub.ctx, gast.Load):
                if sub.id in env:
                    if env[sub.id].complex:
                        return True
                    continue
                if sub.id in self.calls.local_names:
                    continue
                resolved = self.calls.resolve(sub)
                if _complex_kind(resolved):
                    return True
            if isinstance(sub, gast.Attribute) and _complex_kind(self.calls.resolve(sub)):
                return True
        return False

    def _Name(self, node: gast.Name, env: Env) -> Abstract:
        if node.id in env:
            return env[node.id]
        if node.id in self.calls.static:
            return of_value(self.calls.static[node.id])
        if node.id in self.calls.local_names:
            return UNKNOWN
        resolved = self.calls.resolve(node)
        return of_value(resolved)

    def _Constant(self, node: gast.Constant, env: Env) -> Abstract:
        if isinstance(node.value, bool | int):
            return INTEGER
        return SCALAR if isinstance(node.value, float) else UNKNOWN

    def _Attribute(self, node: gast.Attribute, env: Env) -> Abstract:
        if isinstance(node.value, gast.Name) and node.value.id in self.calls.local_names:
            inner = self.value(node.value, env)
            if node.attr == "T" and inner.shape is not None:
                return Abstract(inner.shape[::-1], inner.integer)
            if node.attr in ("ndim", "size"):
                return INTEGER
            if node.attr == "shape":
                return Abstract(None, shape_tuple=True)
            if inner.cls is not None and inner.items is not None:
                return dict(inner.items).get(node.attr, UNKNOWN)
            return UNKNOWN
        return of_value(self.calls.resolve(node))

    def _BinOp(self, node: gast.BinOp, env: Env) -> Abstract:
        left, right = self.value(node.left, env), self.value(node.right, env)
        if isinstance(node.op, gast.MatMult):
            return Abstract(matmul_shape(left.shape, right.shape))
        integer = left.integer and right.integer and not isinstance(node.op, gast.Div)
        return Abstract(broadcast(left.shape, right.shape), integer)

    def _UnaryOp(self, node: gast.UnaryOp, env: Env) -> Abstract:
        inner = self.value(node.operand, env)
        return Abstract(inner.shape, inner.integer) if not isinstance(node.op, gast.Not) \
            else Abstract((), True)

    def _Tuple(self, node: gast.Tuple, env: Env) -> Abstract:
        return Abstract(None, items=tuple(self.value(e, env) for e in node.elts))

    _List = _Tuple

    def _Dict(self, node: gast.Dict, env: Env) -> Abstract:
        return Abstract(None, items=tuple((k.value, self.value(v, env))
                                          for k, v in zip(node.keys, node.values, strict=True)),
                        is_dict=True)

    def _Compare(self, node: gast.Compare, env: Env) -> Abstract:
        shapes = [self.value(n, env).shape for n in [node.left] + node.comparators]
        return Abstract(broadcast(*shapes))

    def _Subscript(self, node: gast.Subscript, env: Env) -> Abstract:
        inner = self.value(node.value, env)
        if inner.items is not None:
            return _item(inner.items, node.slice)
        if inner.shape_tuple:
            return INTEGER if not isinstance(node.slice, gast.Slice) else UNKNOWN
        index = self._index(node.slice, env)
        if inner.shape is None or index is None:
            return UNKNOWN
        stand_in = tuple(_PLACEHOLDER if n is None else n for n in inner.shape)
        try:
            proxy = np.broadcast_to(np.empty(()), stand_in)
            shape = proxy[index].shape
        except (IndexError, TypeError, ValueError):
            return UNKNOWN
        if None in inner.shape:  # lengths derived from an unknown length are unknown
            shape = tuple(None if n >= _PLACEHOLDER - 10 else n for n in shape)
        return Abstract(shape, inner.integer)

    def _index(self, node: gast.expr, env: Env) -> Any:
        """A stand-in index with the same effect on shapes, or None if shapes depend on data."""
        if isinstance(node, gast.Tuple):
            parts = [self._index(e, env) for e in node.elts]
            return None if any(p is None for p in parts) else tuple(parts)
        if isinstance(node, gast.Slice):
            bounds = [self._constant(p) for p in (node.lower, node.upper, node.step)]
            return None if any(b is _NOT_CONSTANT for b in bounds) else slice(*bounds)
        constant = self._constant(node)
        if constant is not _NOT_CONSTANT and (constant is None or constant is Ellipsis
                                              or isinstance(constant, int)):
            return np.newaxis if constant is None else constant
        value = self.value(node, env)
        return 0 if value.integer and value.shape == () else None

    def _constant(self, node: gast.expr | None) -> Any:
        if node is None:
            return None
        if isinstance(node, gast.Constant):
            return node.value
        if isinstance(node, gast.Attribute):
            resolved = self.calls.resolve(node)
            if resolved is None:
                return None
        return _NOT_CONSTANT

    def _Call(self, node: gast.Call, env: Env) -> Abstract:
        method = self._user_method(node, env)
        if method is not None:  # `sim.step(traj, t)`
            bound = gast.Call(func=node.func, args=[node.func.value, *node.args],
                              keywords=node.keywords)
            return self._returned_argument(method, bound, env)
        kind = self.calls.classify(node)
        args = [self.value(a, env) for a in node.args]
        if kind.kind == "method":
            receiver = self.value(kind.receiver, env)
            return self._method(kind.target, receiver, node, env)
        fn = kind.target
        if fn is with_attribute and len(args) == 3 and args[0].cls is not None and isinstance(
                node.args[1], gast.Constant):  # `obj.h = v`: the object with h set
            if args[0].items is None:  # attributes the paths before disagree on: unknown
                return args[0]
            items = {**dict(args[0].items), node.args[1].value: args[2]}
            return dataclasses.replace(args[0], items=tuple(items.items()))
        if kind.kind == "user" and getattr(fn, "changes", ()):
            return self._returned_arguments(fn, node, env)
        if kind.kind == "user":
            return self._returned_argument(fn, node, env)
        if is_user_class(fn):  # `b = Box()`: its methods
            return Abstract(None, cls=fn)  # are known, its attributes not
        if fn is new_object and node.args:  # `Box(w)` before its __init__ (constructors.py)
            made = self.calls.resolve(node.args[0])
            return Abstract(None, cls=made) if is_user_class(made) else UNKNOWN
        if kind.kind not in ("rule", "zero") or fn is None:
            return UNKNOWN
        return self._function(fn, args, node)

    def _user_method(self, node: gast.Call, env: Env) -> Any:
        """The function behind `obj.method(...)` for an object of a user class, or None."""
        func = node.func
        if not (isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name)):
            return None
        cls = self.value(func.value, env).cls
        method = getattr(cls, func.attr, None) if cls is not None else None
        return method if inspect.isfunction(method) else None

    def _returned_argument(self, fn: Any, node: gast.Call, env: Env) -> Abstract:
        """`traj = step(traj, t)` where `step` returns the very array it is handed (written
        into, maybe): the result is that array, its shape unchanged."""
        returned = call_effects(fn).always_returned
        if len(returned) != 1:
            return UNKNOWN
        try:
            bound = inspect.signature(fn, follow_wrapped=False).bind(
                *node.args, **{k.arg: k.value for k in node.keywords})
        except TypeError:
            return UNKNOWN
        (param,) = returned
        return self.value(bound.arguments[param], env) if param in bound.arguments else UNKNOWN

    def _returned_arguments(self, fn: Any, node: gast.Call, env: Env) -> Abstract:
        """`(result, *arguments)` of a variant that returns the arguments it changed in place
        (normalize/mutations.py): an array written into keeps its shape."""
        try:
            bound = inspect.signature(fn, follow_wrapped=False).bind(
                *node.args, **{k.arg: k.value for k in node.keywords})
        except TypeError:
            return UNKNOWN
        changed = [self.value(bound.arguments[p], env) for p in fn.changes]
        if not fn.returns_value:
            return changed[0] if len(changed) == 1 else Abstract(None, items=tuple(changed))
        return Abstract(None, items=(UNKNOWN, *changed))

    def _function(self, fn: Any, args: list[Abstract], node: gast.Call) -> Abstract:
        keywords = {kw.arg: kw.value for kw in node.keywords}
        if fn in _INTEGER_RESULTS:
            return INTEGER
        if fn in (builtins.tuple, builtins.list, builtins.dict) and len(args) == 1:
            return args[0]  # the same items in another container
        if fn in (np.zeros, np.ones, np.empty, np.full) and node.args:
            return Abstract(self._shape_argument(node.args[0], args[0]),
                            _integer_dtype(keywords.get("dtype")))
        if fn is np.arange and args and all(a.integer for a in args):
            return Abstract((None,), True)
        if fn is np.matmul and len(args) == 2:
            return Abstract(matmul_shape(args[0].shape, args[1].shape))
        if fn is np.dot and len(args) == 2:
            return Abstract(dot_shape(args[0].shape, args[1].shape))
        if isinstance(fn, np.ufunc) and fn.signature is None and len(args) == fn.nin \
                and not keywords:
            return Abstract(broadcast(*[a.shape for a in args]))
        if getattr(fn, "__module__", None) == "math" and fn not in (math.modf, math.frexp) \
                or fn in (builtins.abs, builtins.float):  # (modf and frexp give pairs)
            return SCALAR if all(a.shape == () for a in args) else UNKNOWN
        if fn in _REDUCTIONS and args:
            axis = self._keyword(node, keywords, "axis", 1)
            keepdims = self._keyword(node, keywords, "keepdims", 4 if fn in (np.var, np.std)
                                     else 3)
            return Abstract(reduced_shape(args[0].shape, axis, keepdims))
        if (fn in _SAME_SHAPE or fn is stop_gradient) and len(args) == 1 and not keywords:
            return Abstract(args[0].shape, args[0].integer and fn is not np.array)
        if fn is np.where and len(args) == 3:
            return Abstract(broadcast(*[a.shape for a in args]))
        if fn is np.transpose and len(args) == 1 and args[0].shape is not None:
            return Abstract(args[0].shape[::-1])
        return UNKNOWN

    def _shape_argument(self, node: gast.expr, value: Abstract) -> Shape:
        """The shape `np.zeros(n)` or `np.zeros((n, 3))` makes: lengths known when constant."""
        if value.integer and value.shape == ():
            return (node.value,) if isinstance(node, gast.Constant) else (None,)
        if isinstance(node, gast.Tuple):
            return tuple(e.value if isinstance(e, gast.Constant) and isinstance(e.value, int)
                         else None for e in node.elts)
        return None

    def _method(self, name: str, receiver: Abstract, node: gast.Call, env: Env) -> Abstract:
        keywords = {kw.arg: kw.value for kw in node.keywords}
        if name in _REDUCTION_METHODS:
            axis = self._keyword(node, keywords, "axis", 0)
            keepdims = self._keyword(node, keywords, "keepdims", 3 if name in ("var", "std")
                                     else 2)
            return Abstract(reduced_shape(receiver.shape, axis, keepdims))
        if name in _SAME_SHAPE_METHODS and not node.args:
            return receiver
        if name == "dot" and len(node.args) == 1:
            return Abstract(matmul_shape(receiver.shape, self.value(node.args[0], env).shape))
        return UNKNOWN

    def _keyword(self, node: gast.Call, keywords: dict, name: str, position: int) -> Any:
        """A constant argument given by keyword or position; defaults to None/False."""
        if name in keywords:
            value = keywords[name]
        elif len(node.args) > position:
            value = node.args[position]
        else:
            return False if name == "keepdims" else None
        if isinstance(value, gast.Constant):
            return value.value
        if isinstance(value, gast.Tuple) and all(isinstance(e, gast.Constant)
                                                 for e in value.elts):
            return tuple(e.value for e in value.elts)
        return _NOT_CONSTANT


_NOT_CONSTANT = object()


def _complex_kind(value) -> bool:
    """A complex number or array, or a complex type (`complex`, `np.complex128`)."""
    if isinstance(value, type):
        return issubclass(value, (complex, np.complexfloating))
    return isinstance(value, (complex, np.complexfloating)) or (
        isinstance(value, np.ndarray) and value.dtype.kind == "c")


def _complex_dtype_name(text: str) -> bool:
    """`'complex64'`, `'c16'`, `'D'`: a string NumPy reads as a complex dtype."""
    try:
        with warnings.catch_warnings():  # `np.dtype("a")` warns of a deprecated alias
            warnings.simplefilter("ignore")
            return np.dtype(text).kind == "c"
    except (TypeError, ValueError, SyntaxError):
        return False
