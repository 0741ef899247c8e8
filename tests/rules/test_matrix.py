"""A generated sweep of the rules against finite differences, in the spirit of NumPy's ufunc
tests: every elementwise ufunc with a rule on every shape and broadcasting pair, reductions
over every axis and keepdims, numpy.linalg on matrices and stacks. The cases and the module of
functions they differentiate are built by matrix_cases.py; one pytest id per case, e.g.
`power-(1,3)x(2,3)`, `max-(2,3)-axis=-1-keepdims=True`, `solve-(2,3,3)x(3,)`.
"""

import pytest
from matrix_cases import (
    BINARY_DOMAINS,
    BINARY_PAIRS,
    CASES,
    ROWS,
    UNARY_DOMAINS,
    UNARY_SHAPES,
    UNUSABLE,
    elementwise_ufunc_rules,
    source_name,
    special,
)

from oracle import assert_grad


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES["unary"])
def test_unary_ufunc(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES["binary"])
def test_binary_ufunc(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES["reductions"])
def test_reduction(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES["linalg"])
def test_linalg(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


def test_every_elementwise_ufunc_rule_has_its_rows():
    """A new unary or binary ufunc rule joins the matrix by itself (with the default domain
    unless one is listed); one the matrix cannot name or call fails here."""
    missing = [f"{fn.__name__}: {ROWS.get(fn, 0)} of {len(rows)} rows ({UNUSABLE.get(fn)})"
               for nin, rows in [(1, UNARY_SHAPES), (2, BINARY_PAIRS)]
               for fn in elementwise_ufunc_rules(nin) if ROWS.get(fn, 0) != len(rows)]
    assert missing == []


def test_every_listed_domain_belongs_to_a_ufunc_rule():
    """A misspelt or stale name in the domain tables would silently leave its ufunc on the
    default inputs."""
    named = {nin: {source_name(fn) for fn in elementwise_ufunc_rules(nin)} for nin in (1, 2)}
    stale = [name for nin, table in [(1, UNARY_DOMAINS), (2, BINARY_DOMAINS)] for name in table
             if name not in named[nin] and (special is not None or "special." not in name)]
    assert stale == []
