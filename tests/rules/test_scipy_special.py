"""Reverse mode through scipy.special, one row per rule and option, against finite differences.

scipy is optional: without it this whole module is skipped. Every function reads its result out
with fixed uneven weights (`np.sum(op(x) * w)`), so every entry gets its own cotangent. Inputs
stay inside each function's domain and away from its poles: erfinv in (-1, 1), erfcinv in
(0, 2), logit in (0, 1), gamma, gammaln and digamma away from 0, -1, -2, ...
"""

import importlib.util
import inspect
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import sourcegrad
import sourcegrad.rules.scipy_special  # noqa: F401  (registers the rules; empty without scipy)
from oracle import arr, assert_grad, case
from sourcegrad.rules import ADJOINTS, registry_version

special = pytest.importorskip("scipy.special")

SHAPES = [(), (3,), (2, 3)]


def weights(*shape, seed=0):
    """Fixed readout weights in [-1.5, 1.5], all different; a float for shape ()."""
    return arr(*shape, lo=-1.5, hi=1.5, seed=seed + 50)


def each_shape(f, lo, hi, seed):
    """One row of `f(x, w)` per shape of SHAPES, with x in [lo, hi]."""
    return [case(f, arr(*s, lo=lo, hi=hi, seed=seed), weights(*s, seed=seed)) for s in SHAPES]


# -- elementwise functions of one argument --------------------------------------------------------


def ndtr_of(x, w):
    return np.sum(special.ndtr(x) * w)


def log_ndtr_of(x, w):
    return np.sum(special.log_ndtr(x) * w)


def logit_of(x, w):
    return np.sum(special.logit(x) * w)


def expit_of(x, w):
    return np.sum(special.expit(x) * w)


def gamma_of(x, w):
    return np.sum(special.gamma(x) * w)


def gammaln_of(x, w):
    return np.sum(special.gammaln(x) * w)


def digamma_of(x, w):
    return np.sum(special.digamma(x) * w)


def psi_of(x, w):
    return np.sum(special.psi(x) * w)


def erf_of(x, w):
    return np.sum(special.erf(x) * w)


def erfc_of(x, w):
    return np.sum(special.erfc(x) * w)


def erfinv_of(x, w):
    return np.sum(special.erfinv(x) * w)


def erfcinv_of(x, w):
    return np.sum(special.erfcinv(x) * w)


def sinc_of(x, w):
    return np.sum(special.sinc(x) * w)


def polygamma_of(x, w, n):
    return np.sum(special.polygamma(n, x) * w)


def polygamma_keywords(x, w):
    return np.sum(special.polygamma(n=2, x=x) * w)


def composed(x):
    """Rules feeding rules: the emitted code calls scipy in both sweeps."""
    return np.sum(special.erf(special.expit(x)) * special.gammaln(x * x + 1.0))


# -- elementwise functions of two arguments, broadcasting -----------------------------------------


def beta_of(a, b, w):
    return np.sum(special.beta(a, b) * w)


def betaln_of(a, b, w):
    return np.sum(special.betaln(a, b) * w)


def xlogy_of(x, y, w):
    return np.sum(special.xlogy(x, y) * w)


def xlog1py_of(x, y, w):
    return np.sum(special.xlog1py(x, y) * w)


# -- over an axis ---------------------------------------------------------------------------------


def softmax_of(x, w, axis=None):
    return np.sum(special.softmax(x, axis=axis) * w)


def log_softmax_of(x, w, axis=None):
    return np.sum(special.log_softmax(x, axis=axis) * w)


def logsumexp_of(a, w, axis=None, keepdims=False):
    return np.sum(special.logsumexp(a, axis=axis, keepdims=keepdims) * w)


def logsumexp_weighted(a, b, w, axis=None, keepdims=False):
    return np.sum(special.logsumexp(a, axis=axis, b=b, keepdims=keepdims) * w)


def logsumexp_positional(a, b):
    return special.logsumexp(a, None, b) ** 2


def softmax_cross_entropy(logits, labels):
    """A typical use: log_softmax against one-hot labels, plus a logsumexp regularizer."""
    return -np.sum(labels * special.log_softmax(logits, axis=1)) + np.sum(
        special.logsumexp(logits, axis=1) ** 2) * 0.1


# -- the table ------------------------------------------------------------------------------------

X23 = arr(2, 3, lo=-2.0, hi=2.0, seed=40)
POSITIVE = arr(2, 3, lo=0.4, hi=3.0, seed=41)

CASES = [
    # raw statistical functions
    *each_shape(ndtr_of, -3.0, 3.0, seed=1),
    *each_shape(log_ndtr_of, -3.0, 3.0, seed=2),
    case(log_ndtr_of, arr(3, lo=-30.0, hi=-10.0, seed=3), weights(3, seed=3),
         name="log_ndtr_of-far_left_tail"),
    *each_shape(logit_of, 0.05, 0.95, seed=4),
    *each_shape(expit_of, -4.0, 4.0, seed=5),
    # gamma and related functions
    *each_shape(gamma_of, 0.3, 3.0, seed=6),
    case(gamma_of, arr(3, lo=-1.8, hi=-1.2, seed=7), weights(3, seed=7), name="gamma_of-negative"),
    *each_shape(gammaln_of, 0.2, 5.0, seed=8),
    case(gammaln_of, arr(3, lo=-2.8, hi=-2.2, seed=9), weights(3, seed=9),
         name="gammaln_of-negative"),
    *each_shape(digamma_of, 0.3, 4.0, seed=10),
    case(psi_of, arr(3, lo=0.3, hi=4.0, seed=11), weights(3, seed=11)),
    *[case(polygamma_of, arr(*s, lo=0.5, hi=3.0, seed=12), weights(*s, seed=12), n)
      for s in SHAPES for n in (0, 1, 3)],
    case(polygamma_of, POSITIVE, weights(2, 3, seed=13), np.array([0, 1, 2]),
         name="polygamma_of-2x3-n_per_column"),
    case(polygamma_keywords, arr(3, lo=0.5, hi=3.0, seed=14), weights(3, seed=14)),
    *[case(beta_of, a, b, w, wrt=(0, 1)) for a, b, w in [
        (1.3, 2.1, 0.7),
        (arr(3, lo=0.5, hi=3.0, seed=15), arr(3, lo=0.5, hi=3.0, seed=16), weights(3, seed=15)),
        (POSITIVE, arr(3, lo=0.5, hi=3.0, seed=17), weights(2, 3, seed=17)),
        (1.6, POSITIVE, weights(2, 3, seed=18)),
        (arr(2, 1, lo=0.5, hi=3.0, seed=19), arr(3, lo=0.5, hi=3.0, seed=20),
         weights(2, 3, seed=19))]],
    *[case(betaln_of, a, b, w, wrt=(0, 1)) for a, b, w in [
        (1.3, 2.1, 0.7),
        (arr(3, lo=0.5, hi=3.0, seed=21), arr(3, lo=0.5, hi=3.0, seed=22), weights(3, seed=21)),
        (POSITIVE, arr(3, lo=0.5, hi=3.0, seed=23), weights(2, 3, seed=23)),
        (arr(2, 1, lo=0.5, hi=3.0, seed=24), 2.4, weights(2, 1, seed=24))]],
    # error function
    *each_shape(erf_of, -2.0, 2.0, seed=25),
    *each_shape(erfc_of, -2.0, 2.0, seed=26),
    *each_shape(erfinv_of, -0.9, 0.9, seed=27),
    *each_shape(erfcinv_of, 0.1, 1.9, seed=28),
    # softmax, log_softmax: over everything, an axis, a tuple of axes
    *[case(softmax_of, arr(*s, seed=29), weights(*s, seed=29)) for s in SHAPES],
    *[case(softmax_of, X23, weights(2, 3, seed=30), axis=ax) for ax in (0, 1, -1, (0, 1))],
    case(softmax_of, arr(2, 3, 2, seed=31), weights(2, 3, 2, seed=31), axis=(0, 2)),
    *[case(log_softmax_of, arr(*s, seed=32), weights(*s, seed=32)) for s in SHAPES],
    *[case(log_softmax_of, X23, weights(2, 3, seed=33), axis=ax) for ax in (0, 1, -1, (0, 1))],
    case(log_softmax_of, arr(2, 3, 2, seed=34), weights(2, 3, 2, seed=34), axis=(2, 0)),
    # logsumexp: axis, keepdims, weights b (same shape, broadcast, a number)
    *[case(logsumexp_of, arr(*s, seed=35), 0.8) for s in SHAPES],
    *[case(logsumexp_of, X23, weights(*s, seed=36), axis=ax, keepdims=k)
      for ax, k, s in [(0, False, (3,)), (1, False, (2,)), (-1, True, (2, 1)),
                       ((0, 1), False, ()), ((1, 0), True, (1, 1)), (None, True, (1, 1))]],
    case(logsumexp_of, arr(2, 3, 2, seed=37), weights(3, seed=37), axis=(0, 2)),
    *[case(logsumexp_weighted, X23, b, weights(*s, seed=38), wrt=(0, 1), axis=ax, keepdims=k)
      for b, ax, k, s in [
          (POSITIVE, None, False, ()),
          (POSITIVE, 1, False, (2,)),
          (POSITIVE, (0, 1), True, (1, 1)),
          (arr(3, lo=0.4, hi=3.0, seed=39), 0, False, (3,)),
          (arr(2, 1, lo=0.4, hi=3.0, seed=39), -1, True, (2, 1)),
          (1.7, 1, False, (2,))]],
    case(logsumexp_weighted, arr(3, seed=42), arr(3, lo=-0.5, hi=2.0, seed=42), 1.2, wrt=(0, 1),
         name="logsumexp_weighted-3-negative_weights"),
    case(logsumexp_weighted, 0.4, 2.5, 1.1, wrt=(0, 1)),
    case(logsumexp_positional, arr(3, seed=43), arr(3, lo=0.4, hi=3.0, seed=43), wrt=(0, 1)),
    # convenience functions of two arguments
    *[case(xlogy_of, x, y, w, wrt=(0, 1)) for x, y, w in [
        (0.7, 1.9, 1.3),
        (arr(3, seed=44), arr(3, lo=0.2, hi=3.0, seed=45), weights(3, seed=44)),
        (X23, arr(3, lo=0.2, hi=3.0, seed=46), weights(2, 3, seed=46)),
        (1.4, POSITIVE, weights(2, 3, seed=47))]],
    case(xlogy_of, np.array([0.0, 1.0]), np.array([2.0, 3.0]), np.ones(2), wrt=(0, 1),
         name="xlogy_of-zero_x"),   # xlogy(0, y) = 0 for every y, and x log y around it
    *[case(xlog1py_of, x, y, w, wrt=(0, 1)) for x, y, w in [
        (0.7, 0.9, 1.3),
        (arr(3, seed=48), arr(3, lo=-0.5, hi=2.0, seed=49), weights(3, seed=48)),
        (X23, arr(2, 1, lo=-0.5, hi=2.0, seed=50), weights(2, 3, seed=50)),
        (arr(3, seed=51), 0.6, weights(3, seed=51))]],
    # numpy's sinc under scipy's name; compositions
    case(sinc_of, arr(3, lo=0.2, hi=1.7, seed=52), weights(3, seed=52)),
    case(composed, arr(2, 3, seed=53)),
    case(softmax_cross_entropy, X23, np.eye(3)[[0, 2]]),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES)
def test_scipy_special(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


# -- what the rules refuse, when the derivative is built -----------------------------------------


def logsumexp_with_sign(a):
    value, sign = special.logsumexp(a, return_sign=True)
    return value * sign


def erf_into(x):
    out = np.zeros(3)
    return np.sum(special.erf(x, out=out))


def erf_into_positional(x):
    out = np.zeros(3)
    return np.sum(special.erf(x, out))


@pytest.mark.parametrize("f, message", [
    (logsumexp_with_sign, "return_sign"),
    (erf_into, "out="),
    (erf_into_positional, "positional arguments"),
])
def test_refused_calls_say_why(f, message):
    with pytest.raises(sourcegrad.SourcegradError, match=message):
        sourcegrad.grad(f)(arr(3, seed=54))


# -- the emitted derivative imports scipy.special and runs on its own -----------------------------


def test_emitted_source_imports_scipy_special_and_runs():
    df = sourcegrad.grad(digamma_of)
    x, w = arr(3, lo=0.5, hi=2.0, seed=55), weights(3, seed=55)
    df(x, w)
    assert "import scipy.special as special" in df.source
    assert "special.polygamma(1, x)" in df.source
    namespace = {}
    exec(compile(df.source, "<emitted>", "exec"), namespace)
    value, gradient = namespace["ddigamma_of_dx"](x, w)
    np.testing.assert_allclose(gradient, w * special.polygamma(1, x))


# -- every function of the list has a rule, and every rule a row above ----------------------------

TARGETS = {
    "erf", "erfc", "erfinv", "erfcinv", "gammaln", "digamma", "polygamma", "expit", "logit",
    "logsumexp", "xlogy", "xlog1py", "softmax", "log_softmax", "gamma", "beta", "betaln",
    "log_ndtr", "ndtr", "sinc",
}

RULES = Path(sourcegrad.rules.scipy_special.__file__)


def test_every_targeted_function_has_a_rule():
    assert {name for name in TARGETS if getattr(special, name) not in ADJOINTS} == set()


def test_every_rule_of_the_module_has_a_row():
    ruled = {name for name in dir(special) if not name.startswith("_")
             and getattr(special, name) in ADJOINTS
             and str(RULES) in ADJOINTS[getattr(special, name)].defined_at}
    exercised = set()
    for param in CASES:
        exercised |= set(re.findall(r"special\.(\w+)", inspect.getsource(param.values[0])))
    assert ruled - exercised == set()
    assert ruled == TARGETS - {"sinc"} | {"psi"}   # sinc is numpy's, psi is digamma


def test_without_scipy_the_module_defines_nothing(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy", None)  # `import scipy...` raises ImportError
    monkeypatch.setitem(sys.modules, "scipy.special", None)
    name = "sourcegrad.rules._scipy_special_without_scipy"
    spec = importlib.util.spec_from_file_location(name, RULES)
    module = importlib.util.module_from_spec(spec)
    version = registry_version()
    spec.loader.exec_module(module)
    assert registry_version() == version
    assert [name for name in vars(module) if not name.startswith("__")] == []
