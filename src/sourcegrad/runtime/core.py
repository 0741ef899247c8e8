"""Core helpers of the runtime: broadcasting, reductions, products, zeros. NumPy only.

Each helper does one thing a rule would otherwise spell out in many lines, and is named for
what it does. Keep it small and fast: it runs inside every derivative.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import inspect

import numpy as np

__all__ = [
    "stop_gradient", "adjoint_like", "add_tree", "add_to_item", "checked_gradient",
    "split_concatenated", "sum_repeats", "unbroadcast", "expand_reduced", "zeros_like",
    "reduced_count", "extremum_mask", "matmul_left", "matmul_right", "dot_left", "dot_right",
    "untranspose", "split_like", "unstack", "clip_mask", "pick_extremum", "spread_sum", "add_at",
    "written_part", "owned_part", "dict_key", "owned_copy", "check_keywords", "with_attribute",
    "attribute_adjoint", "without_attribute", "zero_adjoint", "check_unshared", "with_defaults",
    "leading_parts", "shares_changes", "new_object", "call_function_value",
    "call_object_value", "run_function_value", "norm_parts", "got_item", "got_default", "got_key",
]


def stop_gradient(x):
    """The value passes unchanged; sourcegrad sends no gradient through it."""
    return x


def add_tree(a, b):
    """The sum of two adjoints of a container (list, tuple or dict): item by item."""
    if isinstance(a, dict):
        return {key: add_tree(a[key], b[key]) if key in b else a[key] for key in a} | {
            key: b[key] for key in b if key not in a}
    if isinstance(a, (list, tuple)):
        return [add_tree(x, y) for x, y in zip(a, b, strict=True)]
    return a + b


def checked_gradient(g, x, rule):
    """The gradient a user's rule computed for `x`, refused if its shape is not `x`'s."""
    if np.shape(g) != np.shape(x):
        from ..errors import TemplateError
        raise TemplateError(f"the derivative rule {rule} returned a gradient of shape "
                            f"{np.shape(g)} for an argument of shape {np.shape(x)}")
    return g


def add_to_item(d, index, g):
    """`d[index] += g` for an adjoint that is an array, or a list or dict of adjoints (an
    object's adjoint is a dict of its attributes' adjoints)."""
    if isinstance(d, (list, dict)):
        d[index] = add_tree(d[index], g)
    else:
        np.add.at(d, index, g)  # repeated indices add up


def owned_copy(adjoint):
    """A copy of a container's adjoint the derivative may change in place (pop, set items):
    a list for a list, a tuple or an array of rows, a dict for a dict."""
    if isinstance(adjoint, dict):
        return dict(adjoint)
    return list(adjoint)


def owned_part(part):
    """A copy of `part` when it is an array (the derivative zeroes the original next); an
    item of a list may be a number, which is its own."""
    return part.copy() if isinstance(part, np.ndarray) else part


def dict_key(mapping, index):
    """The key at position `index` of a dict (how a loop over a dict reads its keys)."""
    return list(mapping)[index]


def check_keywords(mapping, function, accepted, required, taken=()):
    """Raise as Python would when `function(..., **mapping)` does not fit its parameters:
    `accepted` names the keywords it takes (None: any, it has **kwargs), `required` those
    without a default, `taken` those the call already passed."""
    for name in mapping:
        if not isinstance(name, str):
            raise TypeError(f"{function}() keywords must be strings")
        if name in taken:
            raise TypeError(f"{function}() got multiple values for argument '{name}'")
        if accepted is not None and name not in accepted:
            raise TypeError(f"{function}() got an unexpected keyword argument '{name}'")
    missing = [name for name in required if name not in mapping]
    if missing:
        listed = " and ".join(f"'{name}'" for name in missing)
        raise TypeError(f"{function}() missing {len(missing)} required argument"
                        f"{'s' if len(missing) > 1 else ''}: {listed}")


def with_defaults(items, required, defaults):
    """`f(*items)` into `required` parameters and some with `defaults`: the arguments, the
    defaults filling what `items` leaves over; Python's TypeError when it does not fit."""
    count = len(items)
    if not required <= count <= required + len(defaults):
        raise TypeError(f"takes from {required} to {required + len(defaults)} positional "
                        f"arguments but {count} were given")
    return (*items, *defaults[count - required:])


def leading_parts(g, items):
    """The adjoint of `with_defaults(items, ...)` handed back to `items`: its first parts."""
    return adjoint_like(list(g)[:len(items)], items)


def shares_changes(value):
    """Whether an in-place change of `value` (`x += d` while `y = x`) shows through every name
    bound to it: not for numbers and other immutable values, which Python rebinds instead."""
    return not isinstance(value, (int, float, complex, np.generic, str, bytes, tuple,
                                  type(None)))


def check_unshared(container, key):
    """Raise when `container[key]` (an attribute, for an object) is the very object another
    item holds: a write into it would show through both (`[z, z]`, `[a] * 2`, `t.a = t.b`),
    which the derivative does not follow."""
    if isinstance(container, np.ndarray):
        return
    if isinstance(container, (list, tuple, dict)):
        part = container[key]
        others = [v for k, v in (container.items() if isinstance(container, dict)
                                 else enumerate(container)) if k != key]
        where = f"item {key!r}"
    else:
        part = getattr(container, key)
        others = [v for k, v in vars(container).items() if k != key]
        where = f"attribute {key}"
    if any(other is part or isinstance(part, np.ndarray) and isinstance(other, np.ndarray)
           and np.may_share_memory(part, other) for other in others):
        from ..errors import UnsupportedSyntaxError
        raise UnsupportedSyntaxError(
            f"the {where} written into is (or views) the same object as another item of its "
            "container",
            None, why="The write would show through both, which sourcegrad does not follow.",
            hint="Give each item an array of its own ([np.zeros(2) for _ in range(2)], not "
                 "[np.zeros(2)] * 2; t.a = t.b.copy(), not t.a = t.b).")


def with_attribute(obj, name, value):
    """`obj.name = value` without changing `obj`: a shallow copy with the attribute set (the
    object the derivative saved keeps its values; every name holding it is bound anew). A
    frozen dataclass's `__init__` sets its fields so too."""
    changed = copy.copy(obj)
    try:
        setattr(changed, name, value)
    except dataclasses.FrozenInstanceError:
        object.__setattr__(changed, name, value)
    return changed


def call_function_value(fn, /, *args, **kwargs):
    """`fn(*args, **kwargs)` for a function held in a variable (`loss(pred)`, `f(x)` in
    `for f in transforms`), and the pullback giving the adjoints of `fn` and of each positional
    argument: sourcegrad differentiates the function it finds (sourcegrad/dynamic.py)."""
    from ..dynamic import forward_of  # noqa: PLC0415 - the transformer, only when called

    return forward_of(fn, args, kwargs, carries_gradient=False)


def call_object_value(fn, /, *args, **kwargs):
    """`call_function_value` for a value that carries a gradient itself: an object of the
    user's called through `__call__` (`layer(h)`), whose attributes' adjoints come back first."""
    from ..dynamic import forward_of  # noqa: PLC0415

    return forward_of(fn, args, kwargs, carries_gradient=True)


def run_function_value(fn, /, *args, **kwargs):
    """`fn(*args, **kwargs)` for a function held in a variable where no gradient flows: run as
    written, refused if it is one of the user's that changes an argument in place."""
    from ..dynamic import run_checked  # noqa: PLC0415

    return run_checked(fn, args, kwargs)


def new_object(cls):
    """`C(...)` before its `__init__` runs: the object `cls.__new__` makes, no attribute set
    (normalize/constructors.py then calls the `__init__` that returns the object it set up)."""
    return cls.__new__(cls)


def attribute_adjoint(dobj, name):
    """The adjoint of one attribute in an object's adjoint (a dict of them)."""
    return dobj.get(name, 0.0) if isinstance(dobj, dict) else 0.0


def without_attribute(dobj, name):
    """An object's adjoint with one attribute's part taken out (it was overwritten)."""
    if not isinstance(dobj, dict):
        return dobj
    return {key: zero_adjoint(value) if key == name else value for key, value in dobj.items()}


def zero_adjoint(adjoint):
    """An adjoint of the same structure as `adjoint`, all zeros."""
    if isinstance(adjoint, dict):
        return {key: zero_adjoint(value) for key, value in adjoint.items()}
    if isinstance(adjoint, (list, tuple)):
        return [zero_adjoint(value) for value in adjoint]
    return np.zeros_like(adjoint) if isinstance(adjoint, np.ndarray) else 0.0


def adjoint_like(g, items):
    """The adjoint of `list(items)` handed back to `items`: rows stacked again for an array."""
    if isinstance(items, np.ndarray):
        return np.array([np.zeros(items.shape[1:]) if isinstance(part, float) and part == 0
                         else part for part in g])
    return [*g]


def split_concatenated(g, xs, ys):
    """The adjoints of the two lists that `xs + ys` concatenated."""
    g = list(g)
    return g[:len(xs)], g[len(xs):]


def sum_repeats(g, xs):
    """The adjoint of the list repeated by `xs * n`: the repeats' adjoints added up."""
    g = list(g)
    size = len(xs)
    total = g[:size]
    for start in range(size, len(g), size):
        total = add_tree(total, g[start:start + size])
    return total


def _real_if_real(g, x):
    """`g` as the adjoint of `x` as far as its dtype goes: its real part when `x` is real and
    `g` complex. The adjoint of a real value is real (README, complex numbers): an imaginary
    part left in it turns into a wrong real part wherever it later meets a complex factor
    (`np.abs(z)`'s adjoint, `z = r * w`), which the real part taken at the end cannot undo.
    Every helper here that hands an operand its share of a result's adjoint goes through it
    (`match_complex` of runtime/numpy.py is the same rule, for the elementwise rules)."""
    if _is_complex(g) and not _is_complex(x):
        return np.real(g)
    return g


def _is_complex(value) -> bool:
    """Whether `value` holds complex numbers (a complex number, or an array of them)."""
    if isinstance(value, complex):  # np.complex128 too
        return True
    dtype = getattr(value, "dtype", None)
    return dtype.kind == "c" if dtype is not None else np.iscomplexobj(value)


def unbroadcast(g, x):
    """`g` as the adjoint of the operand `x`: its real part when `x` is real
    (`_real_if_real`), summed over the axes along which `x` was broadcast, to `x`'s shape."""
    g = _real_if_real(g, x)
    x_shape = np.shape(x)
    g_shape = np.shape(g)
    if g_shape == x_shape:
        return g
    if not x_shape:
        return np.sum(g)
    if len(g_shape) < len(x_shape):
        return np.broadcast_to(g, x_shape)
    lead = len(g_shape) - len(x_shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(x_shape) if n == 1 and g_shape[lead + i] != 1)
    g = np.sum(g, axis=axes, keepdims=True)
    return g.reshape(x_shape)


def expand_reduced(g, x, axis=None, keepdims=False):
    """Broadcast the gradient of a reduction over `axis` back to the shape of `x`; for a list
    (`np.sum(xs)`), a list of one part per item, as the list's own adjoint is."""
    if axis is not None and not keepdims and np.ndim(x):
        g = np.expand_dims(g, axis)
    expanded = np.broadcast_to(g, np.shape(x))
    if isinstance(x, list):
        return [np.array(part) if np.ndim(part) else part for part in expanded]
    return expanded


def reduced_count(x, y):
    """How many entries of `x` were reduced into each entry of `y`."""
    return np.size(x) // max(np.size(y), 1)


def is_data_object(x) -> bool:
    """An object holding data in attributes (an object of the user's, one called through
    `__call__` too), not a function, method, class or module."""
    return hasattr(x, "__dict__") and not isinstance(x, type) and not inspect.isroutine(x) \
        and not inspect.ismodule(x) and not isinstance(x, functools.partial)


def zeros_like(x):
    """A zero adjoint for `x`: 0.0 for numbers, zeros for arrays, a list for tuples and lists,
    a dict for dicts."""
    if isinstance(x, (tuple, list)):
        return [zeros_like(item) for item in x]
    if isinstance(x, dict):
        return {key: zeros_like(item) for key, item in x.items()}
    if is_data_object(x):
        return {key: zeros_like(item) for key, item in vars(x).items()}  # an object's data
    if isinstance(x, np.ndarray):
        return np.zeros(x.shape, dtype=np.result_type(x.dtype, np.float64))
    return 0.0


def extremum_mask(x, y, axis=None, keepdims=False):
    """Where `x` attains its max/min `y` along `axis`, shared equally among ties."""
    hits = np.asarray(x) == expand_reduced(y, x, axis, keepdims)
    return hits / np.sum(hits, axis=axis, keepdims=True)


def matmul_left(g, a, b):
    """Gradient of `a @ b` with respect to `a`, for 1-d, 2-d and stacked operands."""
    a_nd, b_nd = np.ndim(a), np.ndim(b)
    if b_nd == 1:
        part = np.multiply.outer(g, b) if a_nd > 1 else g * b
    elif a_nd == 1:
        part = np.matmul(b, g) if b_nd == 2 else np.matmul(b, g[..., None])[..., 0]
    else:
        part = np.matmul(g, np.swapaxes(b, -1, -2))
    return unbroadcast(part, a)


def matmul_right(g, a, b):
    """Gradient of `a @ b` with respect to `b`, for 1-d, 2-d and stacked operands."""
    a_nd, b_nd = np.ndim(a), np.ndim(b)
    if a_nd == 1:
        part = a[:, None] * np.expand_dims(g, -2) if b_nd > 1 else g * a
    elif b_nd == 1:
        part = np.matmul(np.swapaxes(a, -1, -2), g[..., None])[..., 0] if a_nd > 2 \
            else np.matmul(g, a)
    else:
        part = np.matmul(np.swapaxes(a, -1, -2), g)
    return unbroadcast(part, b)


def dot_left(g, a, b):
    """Gradient of `np.dot(a, b)` with respect to `a`: scalars scale, 1-d and 2-d operands are
    a matmul; N-d ones contract `a`'s last axis with `b`'s second-to-last (its only, 1-d)."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * b, a)
    if np.ndim(a) <= 2 and np.ndim(b) <= 2:
        return matmul_left(g, a, b)
    g, b = np.asarray(g), np.asarray(b)
    if b.ndim == 1:
        return unbroadcast(np.multiply.outer(g, b), a)
    free_b = [*range(b.ndim - 2), b.ndim - 1]  # all but the contracted axis
    return unbroadcast(np.tensordot(g, b, axes=(list(range(np.ndim(a) - 1, g.ndim)), free_b)), a)


def dot_right(g, a, b):
    """Gradient of `np.dot(a, b)` with respect to `b` (as `dot_left`): `a`'s leading axes
    contracted with the result's, the summed axis put back second-to-last."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * a, b)
    if np.ndim(a) <= 2 and np.ndim(b) <= 2:
        return matmul_right(g, a, b)
    g, a = np.asarray(g), np.asarray(a)
    lead = list(range(a.ndim - 1))
    part = np.tensordot(a, g, axes=(lead, lead))  # (contracted, *b's leading, b's last)
    return unbroadcast(part if np.ndim(b) == 1 else np.moveaxis(part, 0, -2), b)


def untranspose(g, axes=None):
    """Undo `np.transpose(x, axes)` on the gradient."""
    if axes is None:
        return np.transpose(g)
    return np.transpose(g, np.argsort(axes))


def split_like(g, parts, axis=0):
    """Cut the gradient of `np.concatenate(parts, axis)` into one piece per part."""
    sizes = [np.shape(p)[axis] if np.ndim(p) else 1 for p in parts]
    pieces = np.split(g, np.cumsum(sizes)[:-1], axis=axis)
    return [_real_if_real(piece, part) for piece, part in zip(pieces, parts, strict=True)]


def unstack(g, axis=0):
    """The gradient of `np.stack(parts, axis)` for each part."""
    return [np.take(g, i, axis=axis) for i in range(np.shape(g)[axis])]


def clip_mask(x, low, high):
    """Where `np.clip(x, low, high)` passes `x` through (bounds may be None)."""
    inside = np.ones(np.shape(x), dtype=bool)
    if low is not None:
        inside &= np.asarray(x) >= low
    if high is not None:
        inside &= np.asarray(x) <= high
    return inside


def pick_extremum(g, y, items):
    """Gradient of builtin `max(a, b, ...)`/`min(...)`: all of it to the first item equal to y."""
    if len(items) == 1:
        (values,) = items
        if isinstance(values, np.ndarray):
            return [g * extremum_mask(values, y)]
        items = list(values)
        picked = [0.0] * len(items)
        picked[next(i for i, v in enumerate(items) if v == y)] = g
        return [picked]
    picked = [0.0] * len(items)
    picked[next(i for i, v in enumerate(items) if v is y or v == y)] = g
    return picked


def norm_parts(g, y, coordinates):
    """Gradient of `math.hypot(*coordinates)` (`y`, the Euclidean norm) for each coordinate:
    `g * c / y`; 0 at the origin, where the norm has no derivative (as np.abs at 0)."""
    return [g * c / y if y else 0.0 for c in coordinates]


def _check_dict(mapping):
    """The `get` method rule is for dicts; another object's `get` (a user class's method)
    is not what it differentiates: refuse rather than answer with a dict's gradient."""
    if not isinstance(mapping, dict):
        from ..errors import NoRuleError
        raise NoRuleError(f"the derivative rule of .get(...) is dict.get; it was called on a "
                          f"{type(mapping).__name__}", None,
                          hint="Rename the method, or read the value without .get(...).")


def got_item(g, mapping, key):
    """Gradient of `mapping.get(key, default)` for the dict: `g` at `key` when the dict holds
    it, zeros elsewhere (a full adjoint: items read later add into it by key)."""
    _check_dict(mapping)
    adjoint = zeros_like(mapping)
    if key in mapping:
        adjoint[key] = g
    return adjoint


def got_default(g, mapping, key):
    """Gradient of `mapping.get(key, default)` for `default`: `g` when the key is absent."""
    _check_dict(mapping)
    return zeros_like(g) if key in mapping else g


def got_key(mapping, key):
    """A dict's key carries no gradient (checked to be a dict's get: see `_check_dict`)."""
    _check_dict(mapping)
    return zeros_like(key)


def spread_sum(g, items):
    """Gradient of builtin `sum(items)`: the same `g` for every item."""
    if isinstance(items, np.ndarray):
        return np.broadcast_to(_real_if_real(g, items), items.shape)
    return [_real_if_real(g, item) for item in items]


def written_part(g, index, value):
    """Gradient of `y[index] = value` for `value`: an owned copy of `g[index]`, summed to
    `value`'s shape. A write with a repeated integer index keeps only its last value, which
    this derivative does not model: it refuses instead of answering wrongly."""
    for part in index if isinstance(index, tuple) else (index,):
        if isinstance(part, np.ndarray) and part.dtype.kind in "iu" and \
                len(np.unique(part)) != part.size:
            from ..errors import NoRuleError
            raise NoRuleError("a write into an array with repeated indices has no derivative "
                              "rule", None, hint="Use unique indices, or np.add.at for sums.")
    return unbroadcast(owned_part(g[index]), value)  # of a list: an item, maybe a number


def add_at(dx, index, g):
    """`dx[index] += g` that also accumulates repeated integer indices."""
    np.add.at(dx, index, g)
    return dx
