"""Where a test case was found, kept in its id once the case sits in the file of its construct.

    CASES = found_in("round5", [case(f, x, w), ...])

gives ids such as `test_grad[round5-f-4-0.7]`: the cases found by a round of bug hunting
(`round4` ... `round6-found`) or by a batch of programs written to probe the supported style
(`newer`, `unseen`, `programs`) say so, and grepping the round finds them all.
"""

import re

import pytest

_OBJECT = re.compile(r"<(?:[\w.]+\.)?(\w+)objectat0x[0-9a-f]+>")


def found_in(origin, cases):
    """The cases, each a pytest.param or a tuple whose first item is the function, with ids
    starting with `origin-`; an object argument is named by its class, not by its address (so
    ids are the same on every run)."""
    out = []
    for c in cases:
        if not hasattr(c, "marks"):
            c = pytest.param(*c, id=c[0].__name__)
        ident = _OBJECT.sub(r"\1", c.id)
        out.append(pytest.param(*c.values, marks=c.marks, id=f"{origin}-{ident}"))
    return out
