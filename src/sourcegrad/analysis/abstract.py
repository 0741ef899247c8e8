"""Abstract values: what the analyses know of a value without running the code.

An `Abstract` holds an array shape (a tuple of ints, or None when unknown; a None entry is a
length not known), whether the value is an integer, the items of a container, the function or
class it is. `of_value` abstracts an actual argument (derivatives are specialized on these, so
they are also the cache key); `join` keeps what two paths agree on. The shape arithmetic
(broadcasting, matmul, reductions) lives here too, for the analyses and the specializer.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..parse import is_package_class, is_user_class

Shape = tuple[int | None, ...] | None  # None: unknown; a None entry: a length not known


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
    array0: bool = False  # may be a 0-d array (shape () but changed in place, unlike numbers)


UNKNOWN = Abstract(None)
SCALAR = Abstract(())
INTEGER = Abstract((), True)
Env = dict[str, Abstract]


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


def dot_shape(a: Shape, b: Shape) -> Shape:
    """The shape of `np.dot(a, b)`: a product for a number, else the last axis of `a` summed
    with the second-to-last of `b` (the last of a 1-d `b`), every row of `a` paired with every
    matrix of `b` (not broadcast, as matmul's stacks are)."""
    if a is None or b is None:
        return None
    if a == () or b == ():
        return broadcast(a, b)
    if len(b) == 1:
        return a[:-1] if _fits(a[-1], b[0]) else None
    return a[:-1] + b[:-2] + b[-1:] if _fits(a[-1], b[-2]) else None


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
                    is_dict=a.is_dict and b.is_dict, array0=a.array0 or b.array0)


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
            known = _ARRAYS[key] = Abstract(key[0], integer=key[1], complex=key[2],
                                            array0=key[0] == ())
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
        return Abstract(value.shape, value.dtype.kind in "iub", complex=value.dtype.kind == "c",
                        array0=value.shape == ())
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


def without_shapes(value: Abstract) -> Abstract:
    """What the generic derivative knows of an argument: numbers stay numbers, arrays keep
    their rank but no length (`x[i]` of a vector is still a number); the structure of
    containers and objects and the functions passed are kept (they decide which code runs)."""
    items = value.items
    if items is not None and (value.is_dict or value.cls is not None):
        items = tuple((key, without_shapes(item)) for key, item in items)
    elif items is not None:
        items = tuple(without_shapes(item) for item in items)
    shape = None if value.shape is None else tuple(None for _ in value.shape)
    return Abstract(shape, integer=value.integer, shape_tuple=value.shape_tuple, items=items,
                    function=value.function, cls=value.cls, complex=value.complex,
                    is_dict=value.is_dict, array0=value.array0)


def is_plain_object(value: Any) -> bool:
    """An instance of a user class holding its data in attributes (a dataclass, say). Not an
    array of another library nor an object of an installed package: their arithmetic is their
    own, and taking them for objects would give them (and what they touch) no gradient."""
    return (hasattr(value, "__dict__") and not isinstance(value, type)
            and not inspect.ismodule(value)
            and not (callable(value) and not is_user_class(type(value)))  # `layer(h)` is one
            and not is_foreign_array(value) and not is_package_class(type(value)))


_ARRAY_PROTOCOLS = ("__array__", "__array_interface__", "__array_struct__",
                    "__cuda_array_interface__", "__dlpack__")


def is_foreign_array(value: Any) -> bool:
    """An array of another library (torch, JAX, CuPy, pandas, xarray...): it speaks one of
    NumPy's conversion protocols but is no NumPy array or scalar."""
    if isinstance(value, (np.ndarray, np.generic)):
        return False
    own = getattr(value, "__dict__", {})
    return any(hasattr(type(value), p) or p in own for p in _ARRAY_PROTOCOLS)
