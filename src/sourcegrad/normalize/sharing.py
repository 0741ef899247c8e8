"""What may share an array (or list, object) with what, read off the code: `y = x`, views
(`x[1:]`, `x.T`, `x.reshape(...)`), and the statements augassign.py emits to follow a change
or to write through an attribute or item.
"""

from __future__ import annotations

import gast

from ..gastutil import assign, clone, copy_of, load, loaded_names, store, with_origin

# calls and attributes whose result may be a view of their first operand
VIEW_METHODS = {"reshape", "view", "transpose", "ravel", "squeeze", "swapaxes", "diagonal",
                "flatten_view"}
VIEW_FUNCTIONS = {"reshape", "transpose", "ravel", "squeeze", "asarray", "asanyarray",
                  "ascontiguousarray", "asfortranarray", "require", "swapaxes", "expand_dims",
                  "broadcast_to", "broadcast_arrays", "moveaxis", "rollaxis", "atleast_1d",
                  "atleast_2d", "atleast_3d", "real", "imag", "split", "array_split", "hsplit",
                  "vsplit", "dsplit", "flip", "fliplr", "flipud", "rot90", "diagonal",
                  "unstack"}
ARGUMENT = "@argument"  # `p@argument`: a name no code has, for the object passed as `p`
CHANGING_METHODS = {"append", "extend", "insert", "pop", "remove", "clear", "update",
                    "setdefault", "popitem", "sort", "reverse", "fill", "resize", "put",
                    "partition", "itemset"}
# ... of those, the ones that rewrite values in place (`M.fill(0.0)`, `v.sort()`) rather than
# grow or shrink a container: a copy before them keeps what the derivative saved
REWRITING_METHODS = {"sort", "reverse", "fill", "resize", "put", "partition", "itemset"}
# methods that change the arrays passed to them (NumPy's random generators)
ARGUMENT_CHANGING_METHODS = {"shuffle"}


def view_source(value: gast.expr) -> str | None:
    """The name whose array `value` may share: `x`, `x[1:]`, `x.T`, `x.reshape(...)`,
    `layer.w` (an object's attribute)."""
    if isinstance(value, gast.Name):
        return value.id
    if isinstance(value, (gast.Subscript, gast.Attribute)):
        return view_source(value.value)
    if isinstance(value, gast.Call):
        func = value.func
        if isinstance(func, gast.Attribute) and func.attr in VIEW_FUNCTIONS and value.args \
                and isinstance(func.value, gast.Name) and func.value.id == "np":
            return view_source(value.args[0])  # `np.swapaxes(a, 0, 1)`
        if isinstance(func, gast.Attribute) and func.attr in VIEW_METHODS:
            return view_source(func.value)  # `a.swapaxes(0, 1)`
        if isinstance(func, gast.Attribute) and func.attr in VIEW_FUNCTIONS and value.args:
            return view_source(value.args[0])
    return None


def sliced_view(value: gast.expr) -> str | None:
    """The name `value` is surely a view of, for `x[1:]`, `x[:, ::2]` (basic slicing with
    constant bounds, always a view of an array) and `x.T`; None otherwise (`x[0]` may be a
    number, `x[idx]` a copy, `x.reshape(...)` either)."""
    if isinstance(value, gast.Attribute) and value.attr == "T" and isinstance(
            value.value, gast.Name):
        return value.value.id
    if not (isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name)):
        return None
    parts = value.slice.elts if isinstance(value.slice, gast.Tuple) else [value.slice]
    if all(isinstance(p, gast.Slice) for p in parts) and not loaded_names(value.slice):
        return value.value.id
    return None


def copied(name: str, origin: gast.stmt) -> gast.Assign:
    """`x = x.copy()`: a change of `x` leaves the array others saved untouched."""
    return assign(name, copy_of(load(name)), origin)


def written_back(base: str, view: gast.expr, name: str, origin: gast.stmt) -> gast.Assign:
    """`x[1:] = v` for `v = x[1:]`, `x[:] = v.T` for `v = x.T`."""
    if isinstance(view, gast.Attribute):  # `.T`
        part: gast.expr = gast.Slice(lower=None, upper=None, step=None)
        value: gast.expr = gast.Attribute(value=load(name), attr="T", ctx=gast.Load())
    else:
        part, value = clone(view.slice), load(name)
    return assign(gast.Subscript(value=store(base), slice=part, ctx=gast.Store()), value, origin)


def check_unshared(part: gast.expr, origin: gast.stmt) -> gast.Expr:
    """`check_unshared(xs, k)` for `xs[k]` (`check_unshared(obj, 'buf')` for `obj.buf`)."""
    key = part.slice if isinstance(part, gast.Subscript) else gast.Constant(value=part.attr,
                                                                           kind=None)
    call = gast.Call(func=load("check_unshared"), args=[clone(part.value), clone(key)],
                     keywords=[])
    return with_origin(gast.Expr(value=call), origin)


def part_name(node: gast.expr) -> str:
    """`xs_k` for `xs[k]`, `self_buf` for `self.buf`."""
    if isinstance(node, gast.Attribute):
        return f"{part_name(node.value)}_{node.attr}"
    if isinstance(node, gast.Subscript):
        index = node.slice
        tail = str(index.value) if isinstance(index, gast.Constant) else getattr(
            index, "id", "part")
        return f"{part_name(node.value)}_{tail}"
    return getattr(node, "id", "part")


def part_target(node: gast.expr) -> gast.expr:
    """`xs[k]` (or `self.buf`) as the target of an assignment: only the outer node stores
    (gastutil.as_store would make the index `k` a store too)."""
    copied = clone(node)
    copied.ctx = gast.Store()
    return copied


def attribute_set(target: gast.Attribute, value: gast.expr, origin: gast.stmt) -> gast.Assign:
    """`obj.h = v` as `obj = with_attribute(obj, "h", v)`: a new object, which every name
    sharing the old one is then bound to, as for an array changed in place."""
    obj = target.value.id
    call = gast.Call(func=load("with_attribute"), args=[
        load(obj), gast.Constant(value=target.attr, kind=None), value], keywords=[])
    return assign(obj, call, origin)
