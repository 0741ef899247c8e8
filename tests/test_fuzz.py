"""The program fuzzer in CI: a fixed-seed batch of random programs must give no wrong number,
and the fuzzer itself must catch what it is there to catch.

The batch is the same on every run (seeds CI_SEED .. CI_SEED + CI_PROGRAMS - 1, levels mixed);
a failure lists each failing program's source and what was wrong, so it can be pasted into
`python -m tests.fuzz --check FILE` to reduce it. Long campaigns: see tests/fuzz/__init__.py.
"""

import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pytest
from fuzz.campaign import report, run_campaign
from fuzz.generate import MAX_LEVEL, generate
from fuzz.reduce import reduce
from fuzz.run import DISCARDED, INVALID, OK, REFUSED, WRONG_GRADIENT, check

CI_SEED = 90_000
CI_PROGRAMS = 100


@pytest.fixture(scope="module")
def workdir():
    with tempfile.TemporaryDirectory(prefix="sourcegrad_fuzz_") as path:
        yield Path(path)


def test_fixed_seed_batch(workdir):
    stats = run_campaign(CI_SEED, CI_PROGRAMS, workdir, fast=True, log=None)
    failures = [f"seed {f.seed} level {f.level}: {f.outcome.cls} {f.outcome.kind}\n"
                f"{f.outcome.detail}\n{f.source}" for f in stats.findings]
    assert not failures, f"{len(failures)} programs failed\n\n" + "\n\n".join(failures) + \
        "\n\n" + report(stats)
    n = stats.programs
    assert stats.counts[INVALID] == 0, report(stats)  # the generator writes valid Python
    assert stats.counts[REFUSED] < 0.4 * n, report(stats)  # it tests what is supported
    assert stats.counts[DISCARDED] < 0.2 * n, report(stats)  # and where the oracle holds


def test_generated_programs_run_in_plain_python():
    for level in range(1, MAX_LEVEL + 1):
        for seed in range(25):
            namespace = {}
            with np.errstate(all="ignore"):
                exec(generate(seed, level).source, namespace)
                args, kwargs = namespace["fuzz_args"]()
                value = namespace["f"](*args, **kwargs)
            assert np.ndim(value) == 0, (seed, level)


WRONG_RULE = """
import numpy as np
import sourcegrad
from sourcegrad import d


def cube(x):
    return x ** 3


@sourcegrad.adjoint(cube)
def cube_rule(y, x):
    d[x] += d[y] * 2.0 * x  # wrong on purpose: the derivative is 3 x**2


def f(x, a):
    t = np.tanh(a) * x
    s = np.sum(t * t)
    u = cube(x) + s
    return u + 0.5 * s


def fuzz_args():
    return (0.7, np.array([0.1, -0.4, 0.9])), {}


WRT = 0
"""


def test_a_wrong_gradient_is_caught_and_reduced(workdir):
    outcome = check(WRONG_RULE, workdir)
    assert outcome.cls == WRONG_GRADIENT, outcome
    reduced, result = reduce(WRONG_RULE, outcome, workdir, budget=60)
    assert result.cls == WRONG_GRADIENT
    assert "cube(x)" in reduced and "np.tanh" not in reduced, reduced


@pytest.mark.parametrize("body, x", [
    ("return abs(x) + x", 0.0),
    ("return x if x > 0.3 else 2.0 * x", 0.3),
    ("return np.max(np.array([x, 0.5]))", 0.5),
])
def test_programs_at_a_kink_are_discarded(workdir, body, x):
    source = textwrap.dedent(f"""
        import numpy as np


        def f(x):
            {body}


        def fuzz_args():
            return ({x!r},), {{}}


        WRT = 0
        """)
    assert check(source, workdir).cls == DISCARDED


def test_a_smooth_program_is_ok(workdir):
    source = WRONG_RULE.replace("2.0 * x  #", "3.0 * x ** 2  #")
    assert check(source, workdir).cls == OK
