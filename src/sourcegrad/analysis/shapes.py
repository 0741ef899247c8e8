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
from dataclasses import dataclass
from typing import Any

import gast
import numpy as np

from ..gastutil import loaded_names, target_names
from ..runtime import stop_gradient
from .calls import CallClassifier

Shape = tuple[int | None, ...] | None  # None: unknown; a None entry: a length not known
_PLACEHOLDER = 7919  # stands for an unknown length when NumPy computes an indexing result


@dataclass(frozen=True)
class Abstract:
    """What is known of a value: its array shape, whether it is an integer, and whether it is
    an array's `.shape` tuple (whose items are integers)."""

    shape: Shape
    integer: bool = False
    shape_tuple: bool = False
    items: tuple | None = None  # a list/tuple: its items' Abstracts; a dict: (key, Abstract)s
    function: Any = None  # a user function passed as a value: which one
    cls: type | None = None  # an object of a user class: its class; items: (attribute, Abstract)
    complex: bool = False  # may hold complex numbers: derivatives keep the generic helpers
    is_dict: bool = False  # a dict (its items, when known, are (key, Abstract) pairs)


UNKNOWN = Abstract(None)
SCALAR = Abstract(())
INTEGER = Abstract((), True)
Env = dict[str, Abstract]

_REDUCTIONS = {np.sum, np.mean, np.prod, np.max, np.amax, np.min, np.amin, np.var, np.std}
_REDUCTION_METHODS = {"sum", "mean", "prod", "max", "min", "var", "std"}
_SAME_SHAPE = {np.zeros_like, np.ones_like, np.empty_like, np.copy, np.array, np.asarray}
_SAME_SHAPE_METHODS = {"copy", "astype", "conj"}
_INTEGER_RESULTS = {builtins.len, builtins.int, builtins.round, math.floor, math.ceil,
                    np.argmax, np.argmin, np.size, np.ndim}
_BINARY = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
           gast.Div: operator.truediv, gast.Pow: operator.pow, gast.Mod: operator.mod,
           gast.FloorDiv: operator.floordiv}


def known(shape: Shape) -> bool:
    """Whether every length of `shape` is known (so it can be compared exactly)."""
    return shape is not None and None not in shape


def broadcast(*shapes: Shape) -> Shape:
    """NumPy's broadcast of shapes, with unknown lengths: 1 or n with n, else unknown."""
    if any(s is None for s in shapes):
        return None
    if all(known(s) for s in shapes):
        try:
            return tuple(np.broadcast_shapes(*shapes))
        except ValueError:
            return None
    rank = max(len(s) for s in shapes)
    result = []
    for axis in range(rank):
        dims = [s[len(s) - rank + axis] for s in shapes if len(s) - rank + axis >= 0]
        big = {d for d in dims if d is not None and d != 1}
        if len(big) > 1:
            return None
        result.append(big.pop() if big else (1 if all(d == 1 for d in dims) else None))
    return tuple(result)


def _fits(m: int | None, n: int | None) -> bool:
    return m is None or n is None or m == n


def matmul_shape(a: Shape, b: Shape) -> Shape:
    """The shape of `a @ b` by NumPy's rules (1-d operands promoted, stacks broadcast)."""
    if a is None or b is None or not a or not b:
        return None
    if len(a) == 1 and len(b) == 1:
        return () if _fits(a[0], b[0]) else None
    if len(b) == 1:
        return a[:-1] if _fits(a[-1], b[0]) else None
    if len(a) == 1:
        return b[:-2] + b[-1:] if _fits(a[0], b[-2]) else None
    if not _fits(a[-1], b[-2]):
        return None
    stack = broadcast(a[:-2], b[:-2])
    return None if stack is None else stack + (a[-2], b[-1])


def reduced_shape(shape: Shape, axis: Any, keepdims: Any) -> Shape:
    """The shape of a reduction over `axis` (None, an int or a tuple of ints)."""
    if shape is None or keepdims not in (True, False):
        return None
    rank = len(shape)
    if axis is None:
        axes = set(range(rank))
    elif isinstance(axis, int) and not isinstance(axis, bool):
        axes = {axis}
    elif isinstance(axis, tuple) and all(isinstance(a, int) for a in axis):
        axes = set(axis)
    else:
        return None
    if rank == 0:
        return () if axis is None else None
    if any(not -rank <= a < rank for a in axes):
        return None
    axes = {a % rank for a in axes}
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


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


def _appended(stmt: gast.Expr) -> list[str]:
    call = stmt.value
    if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and \
            call.func.attr == "append" and isinstance(call.func.value, gast.Name):
        return [call.func.value.id]
    return []


def specializable(env: Env) -> dict[str, Shape]:
    """The shapes the specializer may rely on: not those of values that may be complex (their
    zeros and sums keep the generic helpers, which preserve the dtype)."""
    return {name: None if value.complex else value.shape for name, value in env.items()}


def join(a: Abstract | None, b: Abstract | None) -> Abstract:
    if a is None or b is None:
        return UNKNOWN
    if a == b:
        return a
    return Abstract(_join_shapes(a.shape, b.shape), integer=a.integer and b.integer,
                    shape_tuple=a.shape_tuple and b.shape_tuple,
                    items=a.items if a.items == b.items else None,
                    function=a.function if a.function is b.function else None,
                    cls=a.cls if a.cls is b.cls else None, complex=a.complex or b.complex,
                    is_dict=a.is_dict and b.is_dict)


def _join_shapes(a: Shape, b: Shape) -> Shape:
    """What two paths agree on: the rank, and the lengths that are the same on both."""
    if a is None or b is None or len(a) != len(b):
        return None
    return tuple(m if m == n else None for m, n in zip(a, b, strict=True))


def join_envs(a: Env, b: Env) -> Env:
    return {name: join(a.get(name), b.get(name)) for name in set(a) | set(b)}


_ARRAYS: dict[tuple, Abstract] = {}  # one Abstract per array shape: cheap keys on every call


def of_value(value: Any) -> Abstract:
    """The abstract value of an actual argument (on every call: the common cases first)."""
    if type(value) is float:
        return SCALAR
    if type(value) is np.ndarray:
        key = (value.shape, value.dtype.kind in "iub", value.dtype.kind == "c")
        known = _ARRAYS.get(key)
        if known is None:
            known = _ARRAYS[key] = Abstract(key[0], integer=key[1], complex=key[2])
        return known
    if isinstance(value, (complex, np.complexfloating)):
        return Abstract((), complex=True)
    if isinstance(value, (bool, np.bool_)):
        return INTEGER
    if isinstance(value, (int, np.integer)):
        return INTEGER
    if isinstance(value, (float, np.floating)):
        return SCALAR
    if isinstance(value, np.ndarray):
        return Abstract(value.shape, value.dtype.kind in "iub", complex=value.dtype.kind == "c")
    if isinstance(value, (list, tuple)):
        return Abstract(None, items=tuple(of_value(v) for v in value))
    if isinstance(value, dict) and all(isinstance(k, (str, int)) for k in value):
        return Abstract(None, items=tuple((k, of_value(v)) for k, v in value.items()),
                        is_dict=True)
    if inspect.isfunction(value):
        return Abstract(None, function=value)
    if is_plain_object(value):
        return Abstract(None, items=tuple((k, of_value(v)) for k, v in vars(value).items()),
                        cls=type(value))
    return UNKNOWN


def is_plain_object(value: Any) -> bool:
    """An instance of a user class holding its data in attributes (a dataclass, say)."""
    return (hasattr(value, "__dict__") and not isinstance(value, type)
            and not inspect.ismodule(value) and not callable(value))


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
                for name in _appended(stmt):
                    env[name] = UNKNOWN  # the list grew: its items are no longer known
        return env

    def _assign(self, stmt: gast.Assign, env: Env) -> None:
        target = stmt.targets[0]
        value = self.value(stmt.value, env)
        if isinstance(target, gast.Name):
            env[target.id] = value
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
        if not result.complex and any(env[n].complex for n in loaded_names(node) if n in env):
            result = dataclasses.replace(result, complex=True)  # complex in, maybe complex out
        return result

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
        kind = self.calls.classify(node)
        args = [self.value(a, env) for a in node.args]
        if kind.kind == "method":
            receiver = self.value(kind.receiver, env)
            return self._method(kind.target, receiver, node, env)
        fn = kind.target
        if kind.kind not in ("rule", "zero") or fn is None:
            return UNKNOWN
        return self._function(fn, args, node)

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
        if fn in (np.matmul, np.dot) and len(args) == 2:
            return Abstract(matmul_shape(args[0].shape, args[1].shape))
        if isinstance(fn, np.ufunc) and fn.signature is None and len(args) == fn.nin \
                and not keywords:
            return Abstract(broadcast(*[a.shape for a in args]))
        if getattr(fn, "__module__", None) == "math" or fn in (builtins.abs, builtins.float):
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
