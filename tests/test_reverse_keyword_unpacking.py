"""`f(x, **params)` into the named parameters of a user function: the common
`layer(x, **params)`. Each parameter reads its item of the dict, defaults fill what the dict
leaves out, a `**rest` of the callee takes the items left over, and a dict that does not fit
the parameters fails as Python's call would."""

import numpy as np
import pytest

import sourcegrad
from oracle import arr, assert_grad, case

OFFSET = np.array([0.5, -0.25])


def _layer(x, w, b):
    return np.tanh(x @ w + b)


def _scaled_layer(x, w, b, scale=2.0, *, power=1):
    return scale * np.tanh(x @ w + b) ** power


def _shifted(x, w, shift=OFFSET):
    return x @ w + shift


def _layer_with_rest(x, w, **rest):
    out = x @ w
    for name, value in rest.items():
        out = out + value
    return np.sin(out)


def _keyword_only(x, *, gain, bias=0.0):
    return gain * x + bias


def one_layer(params, x):
    return np.sum(_layer(x, **params))


def mlp(layers, x):
    h = x
    for params in layers:
        h = _layer(h, **params)
    return np.sum(h * h)


def default_left_out(params, x):
    return np.sum(_scaled_layer(x, **params))


def default_given(params, x):
    return np.sum(_scaled_layer(x, **params, power=2))


def array_default(params, x):
    return np.sum(_shifted(x, **params) ** 2)


def leftovers_to_rest(params, x):
    return np.sum(_layer_with_rest(x, **params))


def keyword_only_parameters(opts, x):
    return np.sum(_keyword_only(x, **opts) ** 2)


def built_inside(w, b, x):
    params = {"w": w * 2.0, "b": b}
    return np.sum(_layer(x, **params))


def _dict(**items):
    return dict(items)


W, B, X = arr(3, 2), arr(2, seed=1), arr(4, 3, seed=2)


@pytest.mark.parametrize("f, args, kwargs, wrt", [
    case(one_layer, {"w": W, "b": B}, X, wrt=(0, 1)),
    case(mlp, [{"w": arr(3, 3, seed=3), "b": arr(3, seed=4)}, {"w": W, "b": B}], X,
         wrt=(0, 1)),
    case(default_left_out, {"w": W, "b": B}, X, name="default_left_out"),
    case(default_left_out, {"w": W, "b": B, "scale": 0.7}, X, name="default_given_in_dict"),
    case(default_left_out, {"w": W, "b": B, "power": 3}, X, wrt=1, name="keyword_only_in_dict"),
    case(default_given, {"w": W, "b": B, "scale": 0.7}, X, wrt=(0, 1)),
    case(array_default, {"w": W}, X, wrt=(0, 1), name="array_default_left_out"),
    case(array_default, {"w": W, "shift": B}, X, wrt=(0, 1), name="array_default_given"),
    case(leftovers_to_rest, {"w": W, "b": B, "c": arr(2, seed=5)}, X, wrt=(0, 1)),
    case(leftovers_to_rest, {"w": W}, X, name="nothing_left_over"),
    case(keyword_only_parameters, {"gain": 1.5, "bias": 0.3}, X, wrt=(0, 1)),
    case(keyword_only_parameters, {"gain": 1.5}, X, name="keyword_only_default"),
    case(built_inside, W, B, X, wrt=(0, 1, 2)),
])
def test_keyword_unpacking(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


def test_closed_form_with_the_default_scale():
    # f = sum(scale * (x w + b)) with power 1 and tanh removed: d/db = scale * rows of x
    x = np.ones((3, 2))
    params = {"w": np.zeros((2, 2)), "b": np.zeros(2)}
    got = sourcegrad.grad(default_left_out)(params, x)
    # tanh'(0) = 1, scale = 2, three rows: db = 2 * 3 for each output
    np.testing.assert_allclose(got["b"], [6.0, 6.0])
    assert "scale" not in got


@pytest.mark.parametrize("params, message", [
    ({"w": W}, r"_layer\(\) missing 1 required .*'b'"),
    ({"w": W, "b": B, "c": B}, r"_layer\(\) got an unexpected keyword argument 'c'"),
    ({"w": W, "b": B, "x": X}, r"_layer\(\) got multiple values for argument 'x'"),
])
def test_a_dict_that_does_not_fit_fails_as_python_does(params, message):
    with pytest.raises(TypeError, match=message):
        one_layer(params, X)  # Python's own error, for comparison
    with pytest.raises(TypeError, match=message):
        sourcegrad.grad(one_layer)(params, X)


def test_the_callers_dict_is_left_alone_and_source_reads_items():
    params = {"w": W, "b": B}
    df = sourcegrad.grad(one_layer)
    df(params, X)
    assert set(params) == {"w", "b"}
    assert "w = params['w']" in df.source and "check_keywords(params, '_layer'" in df.source


def key_added_later(w, b, s, x):
    params = {"w": w, "b": b}
    params["scale"] = s
    return np.sum(_scaled_layer(x, **params))


def _affine(x, w, b, scale=2.0):
    return scale * (x @ w) + b


def key_added_on_one_path(w, b, s, x):
    params = {"w": w, "b": b}
    if s > 0:
        params["scale"] = s
    return np.sum(np.sin(_affine(x, **params)))


@pytest.mark.parametrize("f, args, kwargs, wrt", [
    case(key_added_later, W, B, 0.7, X, wrt=(0, 1, 2)),
    case(key_added_on_one_path, W, B, 0.7, X, wrt=(0, 1, 2), name="key_added-taken"),
    case(key_added_on_one_path, W, B, -0.7, X, wrt=(0, 1, 2), name="key_added-not_taken"),
])
def test_keys_the_function_adds(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


def test_a_default_left_out_gets_no_adjoint():
    # `power=1` stays a constant when the dict has no "power": no adjoint for it, so no
    # log of the negative tanh values (which would raise here)
    with np.errstate(invalid="raise", divide="raise"):
        got = sourcegrad.grad(default_left_out)({"w": W, "b": B}, X)
    expected = 2.0 * (1.0 - np.tanh(X @ W + B) ** 2).sum(axis=0)
    np.testing.assert_allclose(got["b"], expected, rtol=1e-12)
