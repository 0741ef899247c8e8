"""`f(x, **params)` into the named parameters of a user function: the common
`layer(x, **params)`. Each parameter reads its item of the dict, defaults fill what the dict
leaves out, a `**rest` of the callee takes the items left over, and a dict that does not fit
the parameters fails as Python's call would. Also module-constant, math and array defaults,
keyword-only parameters, `*args` with `**kwargs`, dicts built item by item, grown on some paths
or in loops, dicts of dicts, lambdas and nested functions called with `**p`, and recursion by
keyword."""

import math

import numpy as np
import pytest
from provenance import found_in

import sourcegrad
from oracle import arr, assert_grad, assert_value_and_grad, case

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


# -- defaults, keyword-only parameters, **rest, dicts built or grown in the function --------------


SHIFT = np.array([0.3, -0.2])


GAIN = 1.7


def _lay(x, w, b):
    return np.tanh(x @ w + b)


def _lay_module_defaults(x, w, b=SHIFT, g=GAIN):
    return g * np.tanh(x @ w + b)


def _lay_keyword_only(x, *, w, b=0.0, scale=1.0):
    return scale * (x @ w) + b


def _product_of_rest(x, w, **rest):
    out = x @ w
    for k in rest:
        out = out * rest[k]
    return np.sum(out)


def _args_and_kwargs(x, *args, **kw):
    t = x
    for a in args:
        t = t * a
    for k, v in kw.items():
        t = t + v
    return np.sum(t)


def _sin_affine(x, w, b):
    return np.sin(x * w) + b


def _forwards_kwargs(x, **kw):
    return _sin_affine(x, **kw) * 2.0


def _affine_default_b(x, w, b=0.0):
    return x * w + b


def _array_default(x, w, b=np.zeros(3)):  # noqa: B008
    return x * w + b


def _math_default(x, w, c=math.pi / 4):
    return np.sin(x * w + c)


def _recursive_kw(x, w, n):
    if n == 0:
        return x
    return _recursive_kw(np.sin(x * w), w=w, n=n - 1)


def _writes_keyword_only(x, *, out):
    out[:] = np.sin(x)


def module_constant_defaults(p, x):
    return np.sum(_lay_module_defaults(x, **p))


def keyword_only_from_dict(p, x):
    return np.sum(_lay_keyword_only(x, **p) ** 2)


def leftovers_multiply(p, x):
    return _product_of_rest(x, **p)


def star_args_and_kwargs(w, b, x):
    xs = (w, 2.0)
    kw = {"b": b, "c": w * b}
    return _args_and_kwargs(x, *xs, **kw)


def star_args_and_kwargs_in_loop(w, x):
    total = 0.0
    for i in range(3):
        kw = {"a": w * i, "b": x}
        total = total + _args_and_kwargs(x, w, **kw)
    return total


def layers_in_a_loop(layers, x):
    h = x
    for p in layers:
        h = _lay(h, **p)
    return np.sum(h)


def layers_in_a_generator(layers, x):
    return sum(np.sum(_lay(x, **p)) for p in layers)


def kwargs_forwarded_by_keyword(w, b, x):
    return np.sum(_forwards_kwargs(x, w=w, b=b))


def kwargs_forwarded_from_dict(p, x):
    return np.sum(_forwards_kwargs(x, **p))


def dict_filled_item_by_item(w, x):
    p = {}
    p["w"] = w
    p["b"] = w * 0.5
    return np.sum(_sin_affine(x, **p))


def item_set_on_both_paths(w, x):
    p = {"w": w}
    if np.sum(x) > 0:
        p["b"] = x
    else:
        p["b"] = -x
    return np.sum(_sin_affine(x, **p))


def key_added_on_a_flag(w, x, flag):
    p = {"w": w}
    if flag:
        p["b"] = w * w
    return np.sum(_affine_default_b(x, **p))


def key_added_on_data(w, x):
    p = {"w": w}
    if w > 0.5:
        p["b"] = w * w
    return np.sum(_affine_default_b(x, **p))


def key_added_on_one_iteration(w, x):
    p = {"w": w}
    for i in range(3):
        if i == 1:
            p["b"] = w * 3.0
    return np.sum(_affine_default_b(x, **p))


def array_default_left_out(w, x):
    p = {"w": w}
    return np.sum(_array_default(x, **p) ** 2)


def math_constant_default(p, x):
    return np.sum(_math_default(x, **p))


def dict_holds_x_too(p, x):
    return np.sum(_sin_affine(**p)) * np.sum(x)


def recursion_by_keyword(w, x):
    p = {"w": w, "n": 3}
    return np.sum(_recursive_kw(x, **p))


def lambda_called_with_dict(p, x):
    f = lambda x, w, b: x * w + b  # noqa: E731
    return np.sum(f(x, **p))


def nested_def_called_with_dict(p, x):
    def f(x, w, b=1.0):
        return x * w + b

    return np.sum(f(x, **p))


def dict_rebuilt_each_iteration(w, x):
    total = 0.0
    p = {"w": w, "b": 0.0}
    for _ in range(3):
        total = total + np.sum(_affine_default_b(x, **p))
        p = {"w": p["w"] * 2.0, "b": p["b"] + w}
    return total


def dict_item_augmented_in_loop(w, x):
    p = {"w": w, "b": 0.0}
    for _ in range(3):
        p["b"] += w
        x = _affine_default_b(x, **p)
    return np.sum(x)


def callers_dict_grown_through_alias(p, x):
    p2 = p
    p2["b"] = x
    return np.sum(_affine_default_b(x, **p))


def kwargs_passed_through(x, **kw):
    return _affine_default_b(x, **kw)


def kwargs_pass_through_caller(w, x):
    return np.sum(kwargs_passed_through(x, w=w, b=w * 2.0))


def array_changed_through_keyword_only(x):
    buf = np.zeros(3)
    _writes_keyword_only(x, out=buf)
    return np.sum(buf**2)


def dict_of_dicts(ps, x):
    total = 0.0
    for name in ps:
        total = total + np.sum(_affine_default_b(x, **ps[name]))
    return total


W32, B2, X43 = arr(3, 2), arr(2, seed=1), arr(4, 3, seed=2)


X3 = arr(3, seed=5)


TWO_LAYERS = [{"w": arr(3, 3, seed=3), "b": arr(3, seed=4)}, {"w": W32, "b": B2}]


def unexpected_key(w, x):
    p = {"w": w, "zz": 1.0}
    return np.sum(_affine_default_b(x, **p))


def missing_key(w, x):
    p = {"b": w}
    return np.sum(_affine_default_b(x, **p))


def key_given_twice(w, x):
    p = {"w": w}
    return np.sum(_affine_default_b(x, w, **p))


def _kw_set_then_pass(x, **kw):
    kw["b"] = kw["w"] * 3.0
    return _affine_default_b(x, **kw)


def callee_sets_item_of_its_kwargs(w, x):
    p = {"w": w}
    return np.sum(_kw_set_then_pass(x, **p))


V4 = np.array([0.3, -1.2, 0.8, 1.5])


PROGRAMS = found_in("round5", [
    case(module_constant_defaults, {"w": W32}, X43, wrt=(0, 1), name="module_defaults-left_out"),
    case(module_constant_defaults, {"w": W32, "g": 0.5}, X43, wrt=(0, 1),
         name="module_defaults-given"),
    case(keyword_only_from_dict, {"w": W32, "b": B2, "scale": 0.3}, X43, wrt=(0, 1),
         name="keyword_only-all"),
    case(keyword_only_from_dict, {"w": W32}, X43, wrt=(0, 1), name="keyword_only-defaults"),
    case(leftovers_multiply, {"w": W32, "a": 0.5, "c": arr(2, seed=3)}, X43, wrt=(0, 1)),
    case(star_args_and_kwargs, 0.7, 0.3, X3, wrt=(0, 1, 2)),
    case(star_args_and_kwargs_in_loop, 0.7, X3, wrt=(0, 1)),
    case(layers_in_a_loop, TWO_LAYERS, X43, wrt=(0, 1)),
    case(layers_in_a_generator, TWO_LAYERS, X43, wrt=(0, 1)),
    case(kwargs_forwarded_by_keyword, 0.7, 0.3, X3, wrt=(0, 1, 2)),
    case(kwargs_forwarded_from_dict, {"w": 0.7, "b": 0.3}, X3, wrt=(0, 1)),
    case(dict_filled_item_by_item, 0.7, X3, wrt=(0, 1)),
    case(item_set_on_both_paths, 0.7, X3, wrt=(0, 1), name="both_paths-if"),
    case(item_set_on_both_paths, 0.7, -X3 - 1.0, wrt=(0, 1), name="both_paths-else"),
    case(key_added_on_a_flag, 0.7, X3, True, wrt=(0, 1), name="flag-true"),
    case(key_added_on_a_flag, 0.7, X3, False, wrt=(0, 1), name="flag-false"),
    case(key_added_on_data, 0.7, X3, wrt=(0, 1), name="on_data-added"),
    case(key_added_on_data, 0.3, X3, wrt=(0, 1), name="on_data-not_added"),
    case(key_added_on_one_iteration, 0.7, X3, wrt=(0, 1)),
    case(array_default_left_out, 0.7, X3, wrt=(0, 1)),
    case(math_constant_default, {"w": 0.7}, X3, wrt=(0, 1), name="math_default-left_out"),
    case(math_constant_default, {"w": 0.7, "c": 0.2}, X3, wrt=(0, 1), name="math_default-given"),
    case(dict_holds_x_too, {"x": X3, "w": 0.7, "b": 0.1}, X3, wrt=(0, 1)),
    case(recursion_by_keyword, 0.7, X3, wrt=(0, 1)),
    case(lambda_called_with_dict, {"w": 0.7, "b": 0.2}, X3, wrt=(0, 1)),
    case(nested_def_called_with_dict, {"w": 0.7}, X3, wrt=(0, 1)),
    case(dict_rebuilt_each_iteration, 0.7, X3, wrt=(0, 1)),
    case(dict_item_augmented_in_loop, 0.7, X3, wrt=(0, 1)),
    case(callers_dict_grown_through_alias, {"w": 0.5}, X3, wrt=(0, 1)),
    case(kwargs_pass_through_caller, 0.7, X3, wrt=(0, 1)),
    case(array_changed_through_keyword_only, X3),
    case(dict_of_dicts, {"a": {"w": 0.5}, "b": {"w": 0.3, "b": 0.1}}, X3, wrt=(0, 1)),
]) + found_in("round5-found", [
    case(callee_sets_item_of_its_kwargs, 0.7, V4, wrt=(0, 1)),
])


@pytest.mark.parametrize("f, message", [
    (unexpected_key, r"_affine_default_b\(\) got an unexpected keyword argument 'zz'"),
    (missing_key, r"_affine_default_b\(\) missing 1 required .*'w'"),
    (key_given_twice, r"_affine_default_b\(\) got multiple values for argument 'w'"),
])
def test_a_dict_that_does_not_fit_raises_like_python(f, message):
    with pytest.raises(TypeError, match=message):
        f(0.7, X3)
    with pytest.raises(TypeError, match=message):
        sourcegrad.grad(f)(0.7, X3)


# -- the cases above against the oracle -----------------------------------------------------------


@pytest.mark.parametrize("f, args, kwargs, wrt", PROGRAMS)
def test_grad(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)
