"""Adjoints of scipy.special, in scipy's documentation order. Optional: scipy is not a
dependency of sourcegrad; when it cannot be imported, this module defines and registers nothing.

The ufuncs take their operands positionally; binary ones broadcast, so each operand's
contribution goes through `unbroadcast`. Derivatives are written with scipy's own functions
(`special.digamma`, `special.polygamma`): the emitted code imports `scipy.special as special`.

What the rules refuse, when the derivative is built (NoRuleError at the user's line):
- `out=` (or a positional output array): the rules have no `out` parameter, as NumPy's ufunc
  rules have none; a result written into another array is not followed.
- logsumexp's `return_sign`, even False: its rule has no such parameter. With True the result
  is the pair (log|s|, sign), which one template for both results cannot read.

logsumexp, softmax and log_softmax reduce over `axis` (None, an int or a tuple); logsumexp's
weights `b` get a gradient too and must broadcast to `a`, as scipy documents. scipy.special.sinc
is numpy.sinc, whose rule is in `numpy.py`. Gradients hold where the functions are smooth:
erfinv in (-1, 1), erfcinv in (0, 2), logit in (0, 1), gamma and digamma away from the poles
0, -1, -2, ...
"""

try:
    import scipy.special as special
except ImportError:  # no scipy: nothing to differentiate, nothing defined
    pass
else:
    import numpy as np

    from ..runtime import expand_reduced, unbroadcast
    from .templates import adjoint, d

    # -- raw statistical functions ---------------------------------------------------------------
    @adjoint(special.ndtr)
    def ndtr(y, x):
        d[x] += d[y] * np.exp(-x * x / 2.0) / np.sqrt(2.0 * np.pi)

    @adjoint(special.log_ndtr)
    def log_ndtr(y, x):
        d[x] += d[y] * np.exp(-x * x / 2.0 - y) / np.sqrt(2.0 * np.pi)   # pdf / cdf

    @adjoint(special.logit)
    def logit(y, x):
        d[x] += d[y] / (x * (1.0 - x))

    @adjoint(special.expit)
    def expit(y, x):
        d[x] += d[y] * y * (1.0 - y)

    # -- gamma and related functions -------------------------------------------------------------
    @adjoint(special.gamma)
    def gamma(y, x):
        d[x] += d[y] * y * special.digamma(x)

    @adjoint(special.gammaln)
    def gammaln(y, x):
        d[x] += d[y] * special.digamma(x)

    @adjoint(special.beta)
    def beta(y, a, b):
        digamma_sum = special.digamma(a + b)
        d[a] += unbroadcast(d[y] * y * (special.digamma(a) - digamma_sum), a)
        d[b] += unbroadcast(d[y] * y * (special.digamma(b) - digamma_sum), b)

    @adjoint(special.betaln)
    def betaln(y, a, b):
        digamma_sum = special.digamma(a + b)
        d[a] += unbroadcast(d[y] * (special.digamma(a) - digamma_sum), a)
        d[b] += unbroadcast(d[y] * (special.digamma(b) - digamma_sum), b)

    @adjoint(special.digamma)   # special.psi is the same ufunc
    def digamma(y, x):
        d[x] += d[y] * special.polygamma(1, x)

    @adjoint(special.polygamma)
    def polygamma(y, n, x):
        d[x] += d[y] * special.polygamma(n + 1, x)

    # -- error function --------------------------------------------------------------------------
    @adjoint(special.erf)
    def erf(y, x):
        d[x] += d[y] * 2.0 / np.sqrt(np.pi) * np.exp(-x * x)

    @adjoint(special.erfc)
    def erfc(y, x):
        d[x] += -d[y] * 2.0 / np.sqrt(np.pi) * np.exp(-x * x)

    @adjoint(special.erfinv)
    def erfinv(y, x):
        d[x] += d[y] * np.sqrt(np.pi) / 2.0 * np.exp(y * y)

    @adjoint(special.erfcinv)
    def erfcinv(y, x):
        d[x] += -d[y] * np.sqrt(np.pi) / 2.0 * np.exp(y * y)

    # -- other special functions: softmax over an axis -------------------------------------------
    @adjoint(special.softmax)
    def softmax(y, x, axis=None):
        d[x] += y * (d[y] - np.sum(d[y] * y, axis=axis, keepdims=True))

    @adjoint(special.log_softmax)
    def log_softmax(y, x, axis=None):
        d[x] += d[y] - np.exp(y) * np.sum(d[y], axis=axis, keepdims=True)

    # -- convenience functions -------------------------------------------------------------------
    @adjoint(special.xlogy)
    def xlogy(z, x, y):
        d[x] += unbroadcast(d[z] * np.log(y), x)
        d[y] += unbroadcast(d[z] * x / y, y)

    @adjoint(special.xlog1py)
    def xlog1py(z, x, y):
        d[x] += unbroadcast(d[z] * np.log1p(y), x)
        d[y] += unbroadcast(d[z] * x / (1.0 + y), y)

    @adjoint(special.logsumexp)
    def logsumexp(y, a, axis=None, b=None, keepdims=False):
        g = expand_reduced(d[y], a, axis=axis, keepdims=keepdims)
        p = np.exp(a - expand_reduced(y, a, axis=axis, keepdims=keepdims))   # e^a / sum(b e^a)
        d[b] += unbroadcast(g * p, b)
        d[a] += g * p if b is None else g * p * b
