"""Comparing results that are containers: the gradient of a dict of parameters, the cotangents of
a pullback, a list of outputs."""

import numpy as np


def assert_nested_close(got, expected, rtol=1e-5, atol=1e-7):
    """got and expected have the same structure (dicts with the same keys, lists and tuples of
    the same type and length) and allclose leaves."""
    if isinstance(expected, dict):
        assert isinstance(got, dict) and got.keys() == expected.keys(), (got, expected)
        for key in expected:
            assert_nested_close(got[key], expected[key], rtol, atol)
    elif isinstance(expected, (list, tuple)):
        assert type(got) is type(expected) and len(got) == len(expected), (got, expected)
        for g, e in zip(got, expected, strict=True):
            assert_nested_close(g, e, rtol, atol)
    else:
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)
