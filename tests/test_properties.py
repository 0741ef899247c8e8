"""Property tests: random programs from the supported subset, differentiated and compared with the
finite-difference oracle.

A program is a function f(x, y, a, n) of two floats, a (3,) array and an int constant, built from
smooth operations (add, sub, mul, division by 1 + q**2, tanh, sin, exp of tanh, np.sum), with
optional if/else branches on comparisons and loops over range(n). Each example is written to a
temporary .py file and imported, so that sourcegrad can read its source. A probe copy of the same
program records how far each comparison is from its threshold and how large the values get;
examples too close to a branch boundary or with large values are discarded.
"""

import itertools
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from oracle import assert_grad, load_module

ARGS = {"x": "s", "y": "s", "a": "a"}
SCALAR_EXPRS = [
    "{p} + {q}",
    "{p} - {q}",
    "{p} * {q}",
    "{p} / (1.0 + {q} ** 2)",
    "np.tanh({p})",
    "np.sin({p})",
    "np.exp(np.tanh({p}))",
    "{p} * n",
    "np.sum({A})",
    "np.sum({A} * {B})",
]
ARRAY_EXPRS = [
    "{A} + {q}",
    "{A} * {B}",
    "{A} - {q}",
    "{A} / (1.0 + {B} ** 2)",
    "np.tanh({A})",
    "np.cos({A}) * {p}",
    "np.exp(np.tanh({A}))",
]
MARGIN = 1e-3
LARGEST = 1e2

_TMP = tempfile.TemporaryDirectory(prefix="sourcegrad_properties_")
_COUNTER = itertools.count()

# -- program generation ---------------------------------------------------------------------------


def _expression(draw, kind, names):
    """An expression of kind 's' (scalar) or 'a' (array) over the variables in `names`."""
    scalars = [v for v, k in names.items() if k == "s"]
    arrays = [v for v, k in names.items() if k == "a"]
    template = draw(st.sampled_from(SCALAR_EXPRS if kind == "s" else ARRAY_EXPRS))
    pick = st.sampled_from
    return template.format(
        p=draw(pick(scalars)), q=draw(pick(scalars)), A=draw(pick(arrays)), B=draw(pick(arrays))
    )


def _assignments(draw, names, count, fresh):
    """`count` assignments to new or existing names; returns (lines, new names)."""
    lines, assigned = [], {}
    for _ in range(count):
        if draw(st.booleans()):
            target, kind = f"v{next(fresh)}", draw(st.sampled_from("sa"))
        else:
            target = draw(st.sampled_from(sorted(names)))
            kind = names[target]
        lines.append((target, _expression(draw, kind, {**names, **assigned})))
        assigned[target] = kind
    return lines, assigned


@st.composite
def programs(draw, branching):
    """A program as a list of statements: ('=', target, expr), ('if', cond, then, else) with
    (target, expr) lists, or ('for', target, expr)."""
    names, statements, fresh = dict(ARGS), [], itertools.count()
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["=", "if", "for"] if branching else ["="]))
        if kind == "=":
            (line,), new = _assignments(draw, names, 1, fresh)
            statements.append(("=", *line))
        elif kind == "if":
            scalars = sorted(v for v, k in names.items() if k == "s")
            cond = (
                draw(st.sampled_from(scalars)),
                draw(st.sampled_from("<>")),
                draw(st.sampled_from([-0.5, 0.0, 0.3, 1.0])),
            )
            then, new = _assignments(draw, names, draw(st.integers(1, 2)), fresh)
            otherwise = [(t, _expression(draw, new[t], names)) for t, _ in then]
            if draw(st.booleans()) and all(t in names for t, _ in then):
                otherwise = []
            statements.append(("if", cond, then, otherwise))
        else:
            target = draw(st.sampled_from(sorted(names)))
            new = {}
            statements.append(("for", target, _expression(draw, names[target], names)))
        names.update(new)
    last = statements[-1][1] if statements[-1][0] != "if" else statements[-1][2][0][0]
    other = draw(st.sampled_from(sorted(names)))
    return statements, f"np.sum({last} * {other}) + 0.1 * x * y"


def _render(statements, result, probe):
    """The source text of f; the probe version records comparison margins and magnitudes."""
    rec = "_rec({})" if probe else "{}"
    out = ["import numpy as np", "", "", "def f(x, y, a, n):"]

    def assign(target, expr, indent):
        out.append(f"{indent}{target} = {rec.format(expr)}")

    for stmt in statements:
        if stmt[0] == "=":
            assign(stmt[1], stmt[2], "    ")
        elif stmt[0] == "for":
            out.append("    for _ in range(n):")
            assign(stmt[1], f"np.tanh({stmt[2]})", "        ")
        else:
            (var, op, threshold), then, otherwise = stmt[1:]
            margin = f"{var} - {threshold}" if op == ">" else f"{threshold} - {var}"
            out.append(f"    if _cond({margin}):" if probe else f"    if {var} {op} {threshold}:")
            for target, expr in then:
                assign(target, expr, "        ")
            if otherwise:
                out.append("    else:")
                for target, expr in otherwise:
                    assign(target, expr, "        ")
    out.append(f"    return {result}")
    return "\n".join(out) + "\n"


def _probe(source, args):
    """Run the probe source; return (smallest comparison margin, largest magnitude)."""
    margins, magnitudes = [np.inf], [0.0]

    def cond(margin):
        margins.append(abs(float(margin)))
        return margin > 0

    def rec(value):
        magnitudes.append(float(np.max(np.abs(value))))
        return value

    namespace = {"_cond": cond, "_rec": rec}
    exec(compile(source, "<probe>", "exec"), namespace)
    namespace["f"](*args)
    return min(margins), max(magnitudes)


def _load(source):
    name = f"generated_{next(_COUNTER)}"
    path = Path(_TMP.name) / f"{name}.py"
    path.write_text(source)
    return load_module(path, f"sourcegrad_properties_{name}").f


# -- the properties -------------------------------------------------------------------------------

floats = st.floats(-1.5, 1.5, allow_nan=False).map(lambda v: round(v, 3))
arrays = st.lists(floats, min_size=3, max_size=3).map(np.array)
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=True,  # the same programs on every run: CI must not flake (explore locally)
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _check(statements, result, x, y, a, n):
    source = _render(statements, result, probe=False)
    note(source)
    smallest_margin, largest = _probe(_render(statements, result, probe=True), (x, y, a, n))
    assume(smallest_margin > MARGIN and largest < LARGEST)
    assert_grad(_load(source), x, y, a, n, wrt=(0, 1, 2), rtol=1e-5, atol=1e-6)


@SETTINGS
@given(programs(branching=False), floats, floats, arrays, st.integers(0, 3))
def test_straight_line_programs(program, x, y, a, n):
    _check(*program, x, y, a, n)


@SETTINGS
@given(programs(branching=True), floats, floats, arrays, st.integers(0, 3))
def test_branching_programs(program, x, y, a, n):
    _check(*program, x, y, a, n)
