"""Adjoints of Python builtins used on numbers and arrays (abs, min, max, sum, float, pow,
divmod), of a dict's `get`, and of setting an object's attribute (`obj.h = v`, lowered to
`obj = with_attribute(obj, "h", v)`)."""

import builtins

import numpy as np

from ..runtime import (
    adjoint_like,
    attribute_adjoint,
    check_keywords,
    check_unshared,
    dict_key,
    got_default,
    got_item,
    got_key,
    leading_parts,
    new_object,
    pick_extremum,
    shares_changes,
    spread_sum,
    stop_gradient,
    unbroadcast,
    with_attribute,
    with_defaults,
    without_attribute,
)
from .templates import ANY, accepts, adjoint, adjoint_method, d, nondifferentiable


@adjoint(builtins.abs)
def abs(y, x):
    d[x] += d[y] * np.conj(np.sign(x))  # as np.abs: x / |x| conjugated for a complex x


@adjoint(builtins.float)
def float(y, x):
    d[x] += d[y]


@adjoint(builtins.pow)
def pow(z, base, exp, mod=None):
    """As `base ** exp`; the modular form `pow(base, exp, mod)` is integer arithmetic."""
    d[base] += unbroadcast(d[z] * exp * base ** (exp - 1), base)
    d[exp] += unbroadcast(d[z] * z * np.log(np.where(base == 0, 1.0, base)), exp)


@adjoint(builtins.divmod)
def divmod(qr, a, b):
    """(q, r) with r = a - q * b: the integer-valued quotient q is flat."""
    d[a] += unbroadcast(d[qr][1], a)
    d[b] += unbroadcast(-d[qr][1] * qr[0], b)


@adjoint(builtins.max, builtins.min)
def max(y, *items):
    d[items] += pick_extremum(d[y], y, items)


@adjoint(builtins.list, builtins.tuple)
def list(y, iterable=()):
    d[iterable] += adjoint_like(d[y], iterable)


@adjoint(builtins.dict)
def dict(y, mapping=()):
    d[mapping] += d[y]


@adjoint_method("get")
def get(y, mapping, key, default=None):
    """dict.get: into the item when the dict holds the key, else into the default."""
    d[mapping] += got_item(d[y], mapping, key)
    d[default] += got_default(d[y], mapping, key)
    d[key] += got_key(mapping, key)


@adjoint(with_attribute)
def with_attribute(y, obj, name, value):
    d[value] += attribute_adjoint(d[y], name)
    d[obj] += without_attribute(d[y], name)


@adjoint(with_defaults)
@accepts(required=ANY, defaults=ANY)  # a count, and defaults fixed at definition: constants
def with_defaults(y, items, required, defaults):
    d[items] += leading_parts(d[y], items)


@adjoint(builtins.sum)
def sum(y, items, start=0):
    d[items] += spread_sum(d[y], items)
    d[start] += d[y]


nondifferentiable(stop_gradient, dict_key, check_keywords, check_unshared, shares_changes,
                  new_object)
nondifferentiable(builtins.len, builtins.range, builtins.int, builtins.bool, builtins.round,
                  builtins.isinstance, builtins.print, builtins.slice)
