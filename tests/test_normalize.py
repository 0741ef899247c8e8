"""The normalization passes: each guarantee holds, and the canonical function computes exactly
what the user's function computes (executed side by side on the same inputs)."""

import gast
import numpy as np
import pytest

from sourcegrad.emit import to_source
from sourcegrad.pipeline import canonicalize


def run_canonical(f, *args):
    """Execute the canonical tree of f as Python, in f's globals."""
    canonical = canonicalize(f)
    module = gast.Module(body=[canonical.tree], type_ignores=[])
    namespace = dict(f.__globals__)
    exec(compile(to_source(module), "<canonical>", "exec"), namespace)
    return namespace[canonical.tree.name](*args), canonical.tree


def nested(x, y):
    return np.sum(np.tanh(x * y + 1.0) ** 2) / (1.0 + y * y)


def ternary_and_or(x, y):
    a = x if x > 0 else -x
    b = (x > 0 and y) or 2.0
    return a * b


def early_returns(x, n):
    for i in range(n):
        x = x * 1.5
        if x > 4.0:
            return x
        if x < -4.0:
            continue
        x = x + 0.1
    if x > 2.0:
        return -x
    return x * 2.0


def loop_over_rows(m):
    s = 0.0
    for row in m:
        s = s + np.sum(row * row)
    return s


def swap(a, b):
    a, b = b, a + b
    return a * b


def augmented(x):
    y = 2.0
    y *= x
    y += x**2
    return y


CASES = [
    (nested, (np.array([0.3, -0.2]), 0.7)),
    (ternary_and_or, (0.5, 3.0)),
    (ternary_and_or, (-0.5, 3.0)),
    (early_returns, (0.5, 6)),
    (early_returns, (-0.5, 6)),
    (early_returns, (1.0, 0)),
    (loop_over_rows, (np.arange(6.0).reshape(3, 2),)),
    (swap, (1.5, 2.0)),
    (augmented, (0.7,)),
]


@pytest.mark.parametrize("f, args", CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_canonical_form_computes_the_same(f, args):
    got, _ = run_canonical(f, *args)
    np.testing.assert_allclose(got, f(*args), rtol=1e-14)


def _statements(stmts):
    for stmt in stmts:
        yield stmt
        yield from _statements(getattr(stmt, "body", []))
        yield from _statements(getattr(stmt, "orelse", []))


@pytest.mark.parametrize("f, args", CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_canonical_form_guarantees(f, args):
    _, tree = run_canonical(f, *args)
    body = tree.body
    assert isinstance(body[-1], gast.Return), "the function ends with its only return"
    returns = [n for n in gast.walk(tree) if isinstance(n, gast.Return)]
    assert len(returns) == 1
    for stmt in _statements(body):
        assert not isinstance(stmt, (gast.AugAssign, gast.Continue))
        if isinstance(stmt, gast.If):
            assert isinstance(stmt.test, gast.Name), "if tests are named booleans"
        if isinstance(stmt, gast.For):
            assert getattr(stmt.iter.func, "id", None) == "range", "loops run over ranges"
        if isinstance(stmt, gast.Assign):
            assert not any(isinstance(n, (gast.IfExp, gast.BoolOp)) for n in gast.walk(stmt.value)
                           if not isinstance(stmt.value, (gast.Compare, gast.BoolOp))), \
                "conditional expressions became if statements"
    for loop in (s for s in _statements(body) if isinstance(s, (gast.For, gast.While))):
        for i, stmt in enumerate(loop.body):
            assert not isinstance(stmt, gast.Break) or i == len(loop.body) - 1


def test_temporaries_are_named_for_what_they_hold():
    _, tree = run_canonical(nested, np.array([0.3, -0.2]), 0.7)
    names = {t.id for n in gast.walk(tree) if isinstance(n, gast.Assign) for t in n.targets
             if isinstance(t, gast.Name)}
    assert {"x_times_y", "y_times_y"} <= names
