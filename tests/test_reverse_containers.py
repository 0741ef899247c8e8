"""Containers: lists, tuples and dicts of parameters as `wrt` (the gradient comes back in the
same structure), dict and tuple displays, `append` in loops then `np.stack`/`sum`/indexing,
list concatenation and repetition, and loops with `zip`, `enumerate` and tuple targets."""

import numpy as np
import pytest

import sourcegrad
from oracle import arr, assert_grad, assert_vjp, case


def mlp(params, x):
    W1, b1 = params["W1"], params["b1"]
    h = np.tanh(x @ W1 + b1)
    return np.sum((h @ params["W2"]) ** 2)


def tuple_param(ab, x):
    a, b = ab
    return np.sum(a * x) + b * ab[1]


def list_param(ws, x):
    s = 0.0
    for i in range(len(ws)):
        s = s + np.sum(ws[i] * x)
    return s * ws[0][1]


def nested_param(tree, x):
    return np.sum(tree["layers"][0] * x) + tree["layers"][1] * tree["scale"]


def builds_dict(w, b):
    p = {"w": w, "b": b}
    return np.sum(p["w"] * p["b"])


def rnn_states(w, x0, n):
    h = x0
    states = []
    for t in range(n):
        h = np.tanh(w * h + 0.1 * t)
        states.append(h)
    hs = np.stack(states)
    return np.sum(hs**2) + sum(states)[0]


def collect_scalars(x, n):
    vals = []
    for i in range(n):
        vals.append(x ** (i + 1))
    return sum(vals) + vals[-1] * 2.0


def concatenated_lists(a, b):
    parts = [a] + [b * b]
    return np.sum(np.stack(parts) * np.array([[1.0], [3.0]]))


def repeated_list(x0):
    return np.sum(np.stack([x0] * 3) * np.arange(3.0)[:, None])


def zip_layers(w1, b1, w2, b2, x):
    h = x
    for w, b in zip([w1, w2], [b1, b2], strict=True):
        h = np.tanh(h @ w + b)
    return np.sum(h)


def discounted(rewards, gamma):
    total = 0.0
    for t, r in enumerate(rewards):
        total = total + gamma**t * r
    return total


def pairs_loop(pairs):
    s = 0.0
    for a, b in pairs:
        s = s + a * b
    return s


def slice_of_list(a, b, c, x):
    coeffs = [a, b, c]
    p = 0.0
    for q in coeffs[1:]:
        p = p * x + q
    return p + coeffs[0]


def _split(x, y):
    return x * y, (x + y, x * 3.0)


def nested_tuple_unpacking(x, y):
    p, (q, r) = _split(x, y)
    return p * q + r


def nested_tuple_indexing(x, y):
    out = _split(x, y)
    return out[0] + out[1][0] * out[1][1]


RNG = np.random.default_rng(7)
PARAMS = {"W1": RNG.normal(size=(3, 4)), "b1": RNG.normal(size=4), "W2": RNG.normal(size=(4, 2))}

CASES = [
    case(mlp, PARAMS, RNG.normal(size=(5, 3))),
    case(tuple_param, (np.array([0.3, 0.5]), 0.7), np.array([1.0, 2.0])),
    case(list_param, [np.array([0.1, 0.2]), np.array([0.5, -0.3])], np.array([1.0, 2.0])),
    case(nested_param, {"layers": [arr(3), 0.4], "scale": 1.5}, arr(3, seed=3)),
    case(builds_dict, arr(2), arr(2, seed=5), wrt=(0, 1)),
    case(rnn_states, 0.7, np.array([0.3, -0.4]), 4),
    case(collect_scalars, 0.7, 4),
    case(concatenated_lists, arr(3), arr(3, seed=2), wrt=(0, 1)),
    case(repeated_list, arr(2)),
    case(zip_layers, arr(3, 2), arr(2), arr(2, 2, seed=4), arr(2, seed=6), arr(4, 3),
         wrt=(0, 1, 2, 3)),
    case(discounted, np.array([1.0, 0.5, -0.3, 2.0]), 0.9, wrt=(0, 1)),
    case(pairs_loop, [(0.3, 1.2), (0.5, -0.7)]),
    case(slice_of_list, 0.5, -1.2, 0.3, 0.7, wrt=(0, 1, 2, 3)),
    case(nested_tuple_unpacking, 0.7, 1.3, wrt=(0, 1)),
    case(nested_tuple_indexing, 0.7, 1.3, wrt=(0, 1)),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES)
def test_grad(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


def returns_dict(w, x):
    return {"loss": np.sum(w * x), "reg": w * w}


def returns_tuple(w, x):
    return np.sum(w * x), w * w


def test_vjp_of_dict_and_tuple_outputs():
    w, x = np.array([0.3, 0.5]), np.array([1.0, 2.0])
    _, pullback = sourcegrad.vjp(returns_dict, w, x)
    dw, dx = pullback({"loss": 1.0, "reg": np.array([1.0, 0.5])})
    np.testing.assert_allclose(dw, x + 2 * w * np.array([1.0, 0.5]), rtol=1e-12)
    np.testing.assert_allclose(dx, w, rtol=1e-12)
    _, pullback = sourcegrad.vjp(returns_tuple, w, x)
    dw, _ = pullback((2.0, np.array([1.0, 1.0])))
    np.testing.assert_allclose(dw, 2 * x + 2 * w, rtol=1e-12)


def test_gradient_of_a_dict_has_its_keys():
    grads = sourcegrad.grad(mlp)(PARAMS, RNG.normal(size=(5, 3)))
    assert isinstance(grads, dict) and grads.keys() == PARAMS.keys()
    assert all(grads[k].shape == PARAMS[k].shape for k in PARAMS)


def test_seed_of_the_wrong_structure_is_refused():
    _, pullback = sourcegrad.vjp(returns_dict, arr(2), arr(2, seed=3))
    with pytest.raises(sourcegrad.NonScalarOutputError):
        pullback({"loss": 1.0})


def test_vjp_with_array_output_built_by_append():
    assert_vjp(rnn_states_vector, 0.7, np.array([0.3, -0.4]), 3, seed=np.array([[1.0, 2.0],
                                                                                 [0.5, -1.0],
                                                                                 [3.0, 0.1]]))


def rnn_states_vector(w, x0, n):
    h = x0
    states = []
    for _ in range(n):
        h = np.tanh(w * h)
        states.append(h)
    return np.stack(states)


# -- comprehensions ---------------------------------------------------------------------------


def generator_sum(x, ws):
    return sum(np.sin(w * x) for w in ws)


def comprehension_stack(x, n):
    rows = [np.tanh(x * (k + 1)) for k in range(n) if k != 1]
    return np.sum(np.stack(rows) ** 2)


def nested_comprehension(a):
    return sum([a[i] * a[j] for i in range(len(a)) for j in range(i)])


def comprehension_variable_is_its_own(x):
    k = 3.0
    vals = [x * k for k in range(4)]
    return sum(vals) * k


def max_of_generator(x):
    return max(np.sin(x * c) for c in [1.0, 2.0, 3.0])


@pytest.mark.parametrize("f, args, kwargs, wrt", [
    case(generator_sum, 0.7, [0.3, 1.1, -0.5], wrt=(0, 1)),
    case(comprehension_stack, np.array([0.3, -0.2]), 4),
    case(nested_comprehension, np.array([0.3, -0.2, 0.5, 1.0])),
    case(comprehension_variable_is_its_own, 0.7),
    case(max_of_generator, 0.4),
])
def test_comprehensions(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


def backward_sweep(a, x):
    s = 0.0
    for i in reversed(range(len(a))):
        s = s * x + a[i]
    return s


def reversed_items(ws, x):
    h = x
    for w in reversed(ws):
        h = np.tanh(w * h)
    return np.sum(h)


@pytest.mark.parametrize("f, args, kwargs, wrt", [
    case(backward_sweep, np.array([0.3, -0.5, 1.2]), 0.7, wrt=(0, 1)),
    case(reversed_items, [0.3, -0.5, 1.2], np.array([0.2, 0.4]), wrt=(0, 1)),
])
def test_reversed_loops(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


def scaled_params(params, s):
    scaled = {k: v * s for k, v in params.items()}
    return np.sum(scaled["w"] ** 2) + scaled["b"] ** 2


def squares_by_name(a, b):
    d = {name: x * x for name, x in zip(["a", "b"], [a, b], strict=True)}
    return d["a"] + 2.0 * d["b"]


@pytest.mark.parametrize("f, args, kwargs, wrt", [
    case(scaled_params, {"w": np.array([0.3, -0.5]), "b": 0.7}, 1.3, wrt=(0, 1)),
    case(squares_by_name, 0.3, 1.2, wrt=(0, 1)),
])
def test_dict_comprehensions(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


# -- dict views handed to builtins: sum(d.values()), list(d.items()), zip(d.keys(), ...) -----------


def sum_of_values(p, x):
    return np.sum(sum(p.values()) * x)


def stacked_values(p, x):
    rows = np.stack(list(p.values()))
    return np.sum(np.tanh(rows) * x) * len(p.keys())


def zipped_views(p, x):
    total = 0.0
    for i, (k, v) in enumerate(zip(p.keys(), p.values(), strict=True)):
        total = total + np.sum(v * x) * (i + len(k))
    return total


def zip_dict_values(p, q):
    total = 0.0
    for a, b in zip(p.values(), q.values(), strict=True):
        total = total + np.sum(a * b)
    return total


def listed_items(p, x):
    pairs = list(p.items())
    return np.sum(pairs[0][1] * pairs[1][1] * x)


def _params():
    return {"a": arr(2), "bb": arr(2, seed=1)}


@pytest.mark.parametrize("f, args, kwargs, wrt", [
    case(sum_of_values, _params(), arr(2, seed=2), wrt=(0, 1)),
    case(stacked_values, _params(), arr(2, seed=2), wrt=(0, 1)),
    case(zipped_views, _params(), arr(2, seed=2), wrt=(0, 1)),
    case(listed_items, _params(), arr(2, seed=2), wrt=(0, 1)),
    case(zip_dict_values, _params(), {"c": arr(2, seed=2), "d": 0.5}, wrt=(0, 1)),
])
def test_dict_views_outside_loop_headers(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


def test_sum_of_values_matches_closed_form():
    # d/dp[k] sum(a + bb . x) = x for every key
    x = np.array([0.5, -2.0])
    dp = sourcegrad.grad(sum_of_values)({"a": np.ones(2), "bb": np.zeros(2)}, x)
    np.testing.assert_allclose(dp["a"], x)
    np.testing.assert_allclose(dp["bb"], x)


def stacks_a_view(p, x):
    return np.sum(np.stack(p.values()) * x)


def test_dict_view_used_as_a_value_is_refused_with_the_fix():
    with pytest.raises(sourcegrad.UnsupportedSyntaxError, match=r"p\.values\(\) is used") as info:
        sourcegrad.grad(stacks_a_view)(_params(), arr(2))
    assert "list, tuple, sum" in str(info.value)


def reversed_values(p, x):
    total = 0.0
    for v in reversed(p.values()):
        total = total * 0.5 + np.sum(np.sin(v) * x)
    return total


def test_reversed_dict_view():
    assert_grad(reversed_values, _params(), arr(2, seed=2), wrt=(0, 1))


# -- zip(..., strict=...), enumerate(..., start=...), zip of three: as Python runs them ------------


def zip_strict(xs, ys):
    total = 0.0
    for a, b in zip(xs, ys, strict=True):
        total = total + a * np.sin(b)
    return total


def zip_strict_three(xs, ys, zs):
    total = 0.0
    for a, b, c in zip(xs, ys, zs, strict=True):
        total = total + a * b * c
    return total


def zip_strict_breaks(xs, ys, limit):
    total = 0.0
    for a, b in zip(xs, ys, strict=True):
        total = total + a * b
        if total > limit:
            break
    return total


def zip_strict_returns(xs, ys, limit):
    total = 0.0
    for a, b in zip(xs, ys, strict=True):
        total = total + a * b
        if total > limit:
            return total * 2.0
    return total


def zip_strict_flag(xs, ys, strict):
    total = 0.0
    for a, b in zip(xs, ys, strict=strict):
        total = total + a * b
    return total


def zip_not_strict(xs, ys):
    total = 0.0
    for a, b in zip(xs, ys, strict=False):
        total = total + a * b
    return total


def enumerate_zip_strict(xs, ys, k):
    total = 0.0
    for i, (a, b) in enumerate(zip(xs, ys, strict=True), start=k):
        total = total + i * a * b
    return total


def zip_strict_comprehension(xs, ys):
    return sum([a * b for a, b in zip(xs, ys, strict=True)])


def _same_error_as_python(f, *args):
    """sourcegrad's derivative raises what f raises, message included."""
    with pytest.raises(ValueError) as python:
        f(*args)
    with pytest.raises(ValueError) as derivative:
        sourcegrad.grad(f)(*args)
    assert str(derivative.value) == str(python.value)


TWO, THREE = [0.5, -1.2], [0.3, 0.8, -0.4]


@pytest.mark.parametrize("f, args", [
    (zip_strict, (TWO, THREE)),  # argument 2 is longer
    (zip_strict, (THREE, TWO)),  # argument 2 is shorter
    (zip_strict, (arr(3), TWO)),
    (zip_strict_three, (TWO, TWO, THREE)),  # argument 3 is longer than arguments 1-2
    (zip_strict_three, (THREE, THREE, TWO)),
    (zip_strict_breaks, (TWO, THREE, 100.0)),  # runs out: raises
    (zip_strict_returns, (TWO, THREE, 100.0)),
    (zip_strict_flag, (TWO, THREE, True)),
    (zip_strict_flag, (THREE, TWO, 1)),
    (enumerate_zip_strict, (TWO, THREE, 2)),
    (zip_strict_comprehension, (THREE, TWO)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_zip_strict_over_unequal_lengths_raises_as_python(f, args):
    _same_error_as_python(f, *args)


@pytest.mark.parametrize("f, args, kwargs, wrt", [
    case(zip_strict, TWO, [0.7, -0.1]),
    case(zip_strict, arr(3), arr(3, seed=1), wrt=(0, 1)),
    case(zip_strict_three, TWO, [0.7, -0.1], arr(2, seed=2), wrt=(0, 1, 2)),
    case(zip_strict_breaks, [2.0, 3.0], THREE, 1.0, name="breaks-before-running-out"),
    case(zip_strict_breaks, TWO, [0.7, -0.1], 100.0, name="strict-breaks-equal"),
    case(zip_strict_returns, [2.0, 3.0], THREE, 1.0, name="returns-before-running-out"),
    case(zip_strict_flag, TWO, THREE, False, name="strict-false-variable"),
    case(zip_not_strict, THREE, TWO, wrt=(0, 1)),
    case(enumerate_zip_strict, TWO, [0.7, -0.1], 3, wrt=(0, 1)),
    case(zip_strict_comprehension, TWO, [0.7, -0.1]),
])
def test_zip_strict_gradients(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


def enumerate_start_keyword(xs, k):
    total = 0.0
    for i, x in enumerate(xs, start=k):
        total = total + i * x * x
    return total


def enumerate_start_rebound(xs, k):
    total = 0.0
    for i, x in enumerate(xs, k):
        k = k + 2  # enumerate read k once, when the loop started
        total = total + i * x * x + k * x
    return total


def enumerate_start_expression(xs, k):
    total = 0.0
    for i, x in enumerate(xs, start=2 * k - 1):
        total = total + np.sin(i * x)
    return total


def zip_of_three(xs, ys, zs):
    total = 0.0
    for a, b, c in zip(xs, ys, zs):  # noqa: B905 (zip without strict: over the shortest)
        total = total + a * np.tanh(b) * c
    return total


@pytest.mark.parametrize("f, args, kwargs, wrt", [
    case(enumerate_start_keyword, arr(3), 2),
    case(enumerate_start_keyword, arr(3), -1),
    case(enumerate_start_rebound, arr(3), 3),
    case(enumerate_start_expression, arr(4), 2),
    case(zip_of_three, arr(3), arr(3, seed=1), arr(3, seed=2), wrt=(0, 1, 2)),
    case(zip_of_three, [0.5, -1.2, 0.3], arr(2, seed=1), (0.7, 0.9, 1.1), wrt=(0, 1, 2),
         name="zip_of_three-unequal"),
])
def test_enumerate_start_and_zip_of_three(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


def zip_with_a_keyword_python_refuses(xs, ys):
    total = 0.0
    for a, b in zip(xs, ys, fillvalue=0.0):  # noqa: B905 (a keyword zip does not take)
        total = total + a * b
    return total


def test_a_keyword_zip_does_not_take_is_refused_at_its_line():
    with pytest.raises(sourcegrad.UnsupportedSyntaxError) as info:
        sourcegrad.grad(zip_with_a_keyword_python_refuses)(TWO, THREE)
    message = str(info.value)
    assert "zip() with the keyword fillvalue=" in message and "takes strict=" in message
    assert "test_reverse_containers.py" in message and "zip(xs, ys, fillvalue=0.0)" in message


# -- cases folded in from the files of the rounds of bug hunting ----------------------------------
# Their imports are here, not at the top, while others append to this file too.

from pathlib import Path  # noqa: E402

from nested_results import assert_nested_close  # noqa: E402
from provenance import found_in  # noqa: E402

from oracle import assert_value_and_grad, line_of, numeric_grad  # noqa: E402

# -- several containers as wrt --------------------------------------------------------------------


def three_containers(p, ws, pair, x):
    h = p["w"] * x + p["b"]
    for w in ws:
        h = np.tanh(h * w)
    a, b = pair
    return np.sum(h * a) + b * np.sum(x)


def containers_and_object(p, obj, xs):
    total = np.sum(obj.w * p["v"])
    for x in xs:
        total = total + x * obj.s
    return total


WRT = found_in("round4", [
    case(three_containers, {"w": arr(3), "b": 0.2}, [0.5, 1.5], (arr(3, seed=4), 0.7), arr(3),
         wrt=(0, 1, 2, 3)),
    case(three_containers, {"w": arr(3), "b": 0.2}, [0.5, 1.5], (arr(3), 0.7), arr(3),
         wrt=(0, 1, 2), name="three_containers"),
])


def test_containers_and_object_wrt_all():
    class Holder:
        pass

    obj = Holder()
    obj.w = arr(3)
    obj.s = 0.5
    assert_grad(containers_and_object, {"v": arr(3, seed=2)}, obj, [0.3, 1.2], wrt=(0, 1, 2))


# -- comprehensions over lists and dicts, also rebinding what they loop over ----------------------


def dict_comprehension_scale(p, x):
    q = {k: v * 2.0 + 1.0 for k, v in p.items()}
    return np.sum(q["w"] * x) + q["b"] * q["b"]


def dict_comprehension_filtered(p, x):
    q = {k: np.tanh(v) for k, v in p.items() if k != "skip"}
    total = 0.0
    for k in q:
        total = total + np.sum(q[k] * x)
    return total


def list_comprehension_over_dict(p, x):
    terms = [np.sum(p[k] * x) for k in p]
    return sum(terms) * terms[0]


def nested_generators(ws, xs):
    return sum(sum(w * x for x in xs) for w in ws)


def list_comprehension_then_loop(ws, x):
    hs = [np.tanh(w * x) for w in ws]
    total = 0.0
    for i in range(len(hs)):
        total = total + np.sum(hs[i]) * (i + 1)
    return total


def dict_comprehension_enumerate_zip(ws, bs, x):
    layers = {f"l{i}": (w, b) for i, (w, b) in enumerate(zip(ws, bs, strict=True))}
    h = x
    for name in layers:
        w, b = layers[name]
        h = np.tanh(w * h + b)
    return np.sum(h)


Z3 = np.array([0.5, -1.2, 0.8])


W = 0.7


def comp_rebinds_local_list(x, w):
    ys = [x, x * 2]
    ys = [v * w for v in ys]
    return np.sum(ys[0]) + np.sum(ys[1])


def comp_rebinds_argument_list(xs, w):
    xs = [v * w for v in xs]
    return sum(np.sum(v) for v in xs)


def comp_over_array_rebinds(x, w):
    t = x * w
    t = [t[i] * 2 for i in range(3)]
    return t[0] + t[2]


def dict_comp_rebinds(d, w):
    d = {k: v * w for k, v in d.items()}
    return np.sum(d["a"]) + np.sum(d["b"])


def comp_rebinds_in_loop(x, w):
    ys = [x, x * 2]
    for _ in range(2):
        ys = [v * w for v in ys]
    return np.sum(ys[0]) + np.sum(ys[1] ** 2)


def comp_rebinds_alias(xs, w):   # WRONG: value 0, gradient 0 (no crash)
    t = xs
    t = [v * w for v in t]
    return sum(np.sum(v) for v in t)


COMPREHENSIONS = found_in("round4", [
    case(dict_comprehension_scale, {"w": arr(3), "b": 0.4}, arr(3), wrt=(0, 1)),
    case(dict_comprehension_filtered, {"w": arr(3), "skip": arr(3, seed=2), "b": 0.4}, arr(3),
         wrt=(0, 1), name="dict_comprehension_filtered"),
    case(list_comprehension_over_dict, {"u": arr(3), "v": arr(3, seed=3)}, arr(3), wrt=(0, 1)),
    case(nested_generators, [0.5, 1.5], [2.0, -1.0, 0.3], wrt=(0, 1)),
    case(list_comprehension_then_loop, [0.5, 1.5, -0.3], arr(3), wrt=(0, 1)),
    case(dict_comprehension_enumerate_zip, [0.5, 1.5], [0.1, -0.2], arr(3), wrt=(0, 1, 2)),
]) + found_in("round6-found", [
    case(dict_comp_rebinds, {"a": Z3, "b": Z3 * 2}, W, wrt=(0, 1)),
    case(comp_rebinds_local_list, Z3, W, wrt=(0, 1)),
    case(comp_rebinds_argument_list, [Z3, Z3 * 2], W, wrt=(0, 1)),
    case(comp_over_array_rebinds, Z3, W, wrt=(0, 1)),
    case(comp_rebinds_in_loop, Z3, W, wrt=(0, 1)),
    case(comp_rebinds_alias, [Z3, Z3 * 2], W, wrt=(0, 1)),
])


# -- zip, enumerate and reversed over containers --------------------------------------------------


FILE = Path(__file__).name


def reversed_over_layers(ws, x):
    h = x
    for w in reversed(ws):
        h = np.tanh(w @ h)
    return np.sum(h)


def enumerate_zip_branch(ws, bs, x):
    h = x
    for i, (w, b) in enumerate(zip(ws, bs, strict=True)):
        if i % 2 == 0:
            h = np.tanh(w * h + b)
        else:
            h = h * w - b
    return np.sum(h)


def reversed_enumerate_list(xs):
    total = 0.0
    for i, x in reversed(list(enumerate(xs))):
        total = total * 0.5 + (i + 1) * x
    return total


def list_out_of_reversed(ws, x):
    outs = []
    h = x
    for w in reversed(ws):
        h = np.sin(h * w)
        outs.append(h)
    return outs


def _double_dict(p):
    return {k: v * 2.0 for k, v in p.items()}


def dict_from_helper_comprehension_items(p, x):
    total = 0.0
    for k, v in _double_dict(p).items():
        total = total + np.sum(v * x) * len(k)
    return total


def mlp_zip_layers(w1, b1, w2, b2, x):
    h = x
    for w, b in [(w1, b1), (w2, b2)]:
        h = np.tanh(h @ w + b)
    return np.sum(h * h)


def discounted_return(rewards, gamma):
    ret = 0.0
    for t, r in enumerate(rewards):
        ret = ret + gamma**t * r
    return ret


LOOPS = found_in("round4", [
    case(reversed_over_layers, [arr(3, 3) * 0.5, arr(3, 3, seed=1) * 0.5], arr(3), wrt=(0, 1)),
    case(enumerate_zip_branch, [0.5, 1.2, -0.7], (0.1, 0.2, 0.3), arr(3), wrt=(0, 1, 2)),
]) + found_in("programs", [
    case(
        mlp_zip_layers,
        arr(3, 4),
        arr(4, seed=1),
        arr(4, 2, seed=2),
        arr(2, seed=3),
        arr(5, 3, seed=4),
        wrt=(0, 1, 2, 3),
    ),
    case(discounted_return, arr(4), 0.9, wrt=(0, 1)),
])


def test_vjp_list_output_of_reversed_loop():
    ws, x = [0.5, 1.5, -0.7], arr(3)
    out, pullback = sourcegrad.vjp(list_out_of_reversed, ws, x)
    seed = [arr(3, seed=k) for k in range(3)]
    dws, dx = pullback(seed)

    def scalar(ws, x):
        return sum(np.sum(o * s) for o, s in zip(list_out_of_reversed(ws, x), seed, strict=True))

    assert_nested_close(out, list_out_of_reversed(ws, x))
    assert_nested_close(dws, numeric_grad(scalar, (ws, x), {}, 0))
    assert_nested_close(dx, numeric_grad(scalar, (ws, x), {}, 1))


# Not supported yet: dict views outside a loop header, `.items()` of a call's result, and
# `list(enumerate(...))`; each is refused at the user's line (never a wrong number).
@pytest.mark.parametrize("f, args, wrt, marker", [
    pytest.param(reversed_enumerate_list, ([0.5, 1.2, -0.7],), 0,
                 "for i, x in reversed(list(enumerate(xs)))", id="reversed-list-enumerate"),
    pytest.param(dict_from_helper_comprehension_items, ({"a": arr(3), "bb": 0.5}, arr(3)),
                 (0, 1), "_double_dict(p).items()", id="items-of-a-call"),
])
def test_refused_for_now(f, args, wrt, marker):
    with pytest.raises(sourcegrad.SourcegradError) as info:
        sourcegrad.grad(f, wrt=wrt)(*args)
    lineno, _ = line_of(f, marker)
    assert f"{FILE}:{lineno}" in str(info.value)


# -- items of lists and dicts rebound and added ---------------------------------------------------


# B1 a dict key added to a dict by item assignment (key absent from the display) holding a float:
#    AttributeError: 'float' object has no attribute 'copy' (emitted `dp['b'].copy()`).
def dict_new_key_float(w):
    p = {"w": w}
    p["b"] = w * 2.0
    return p["b"] * w


def dict_new_key_in_loop_then_unpacked(w, x):
    p = {"w": w}
    for i in range(2):
        p["b"] = p["w"] * i
    return np.sum(x * p["w"] + p["b"])


V4 = np.array([0.3, -1.2, 0.8, 1.5])


def mlp_list_slice(w1, w2, w3, x):
    ws = [w1, w2, w3]
    h = x
    for w in ws[:-1]:
        h = np.tanh(h @ w)
    return np.sum((h @ ws[-1]) ** 2)


def horner_list_of_params(a, b, c, x):
    coeffs = [a, b, c]
    p = coeffs[0]
    for q in coeffs[1:]:
        p = p * x + q
    return p


ITEMS = found_in("round5-found", [
    case(dict_new_key_float, 0.7),
    case(dict_new_key_in_loop_then_unpacked, 0.7, V4[:3], wrt=(0, 1)),
]) + found_in("programs", [
    case(
        mlp_list_slice,
        arr(3, 4),
        arr(4, 4, seed=1),
        arr(4, 2, seed=2),
        arr(5, 3, seed=3),
        wrt=(0, 1, 2),
    ),
    case(horner_list_of_params, 0.5, -1.2, 0.3, 0.7, wrt=(0, 1, 2, 3)),
])


# -- lists grown by append and concatenation ------------------------------------------------------


def trajectory_append(y0, k, n):
    # collect the states of an Euler run, then a loss on the whole trajectory
    traj = []
    y = y0
    for _ in range(n):
        y = y + 0.1 * (-k * y + np.sin(y))
        traj.append(y)
    return np.sum((np.stack(traj) - 0.5) ** 2)


def trajectory_concat(y0, k, n):
    traj = []
    y = y0
    for _ in range(n):
        y = y + 0.1 * (-k * y)
        traj = traj + [y]
    return np.sum(np.stack(traj) ** 2)


def ensemble_copies(x0, w):
    xs = np.stack([x0] * 3)
    for i in range(2):
        xs = np.tanh(xs * w + i)
    return np.sum(xs * np.arange(3.0)[:, None])


APPEND = found_in("programs", [
    case(trajectory_append, arr(3), 0.7, 4, wrt=(0, 1)),
    case(trajectory_concat, arr(3), 0.7, 3, wrt=(0, 1)),
    case(ensemble_copies, arr(2), 0.8, wrt=(0, 1)),
])


# -- parameter trees, caches and optimizers in dicts and lists ------------------------------------


def nested_param_tree(params, x):
    """A dict of dicts and lists: an encoder dict and a decoder list of (W, b) tuples."""
    enc = params["enc"]
    h = np.tanh(x @ enc["W"] + enc["b"])
    for w, b in params["dec"]:
        h = np.tanh(h @ w + b)
    return np.sum(h**2) + params["scale"] * np.sum(enc["W"] ** 2)


def append_nested_loops(w, x):
    rows = []
    for i in range(len(x)):
        row = []
        for j in range(len(w)):
            row.append(np.sin(x[i] * w[j]))
        rows.append(np.stack(row))
    m = np.stack(rows)
    return np.sum(m * m.T) if m.shape[0] == m.shape[1] else np.sum(m @ m.T)


def append_flat_then_reshape(w, x):
    vals = []
    for i in range(2):
        for j in range(3):
            vals.append(w[i] * x[j] + i * j)
    grid = np.stack(vals).reshape(2, 3)
    return np.sum(grid**2) + vals[4] * vals[1]


def list_of_tuples_layers(layers, x):
    h = x
    for w, b in layers:
        h = np.tanh(h @ w + b)
    return np.sum(h)


def enumerate_zip_params(ws, bs, x):
    h = x
    penalty = 0.0
    for k, (w, b) in enumerate(zip(ws, bs, strict=True)):
        h = np.maximum(h @ w + b, 0.1 * (h @ w + b))
        penalty = penalty + (k + 1.0) * np.sum(w**2)
    return np.sum(h**2) + 0.01 * penalty


def comprehension_into_stack(ws, x):
    hs = np.stack([np.tanh(w @ x) for w in ws])
    weights = np.array([1.0, -0.5, 2.0])
    return np.sum(hs * weights[:, None])


def generators_in_min_max(ws, x):
    best = max(np.sum(w * x) for w in ws)
    worst = min(np.dot(w, w) for w in ws)
    return best * worst + sum(np.sum(w) ** 2 for w in ws)


def _forward_cache(p, x):
    z = x @ p["w"] + p["b"]
    h = np.tanh(z)
    return {"z": z, "h": h, "out": h @ p["v"]}


def _loss_from_cache(cache, y):
    return np.mean((cache["out"] - y) ** 2) + 0.1 * np.sum(cache["z"] ** 2)


def dict_returned_and_consumed(p, x, y):
    cache = _forward_cache(p, x)
    return _loss_from_cache(cache, y) + np.sum(cache["h"][0])


def list_item_assignment(xs, s):
    ys = list(xs)
    for i in range(len(ys)):
        ys[i] = ys[i] * s + ys[i - 1]
    return np.sum(np.stack(ys) ** 2)


def dict_item_assignment(p, x):
    state = {"h": x, "c": 0.0}
    for _ in range(3):
        state["c"] = state["c"] + np.sum(state["h"])
        state["h"] = np.tanh(p["w"] @ state["h"] + p["b"])
    return state["c"] + np.sum(state["h"] ** 2)


def dict_items_loop(params, x):
    total = 0.0
    for name, w in params.items():
        total = total + np.sum(np.sin(w * x)) * len(name)
    return total


def list_of_dicts(layers, x):
    h = x
    for layer in layers:
        h = np.tanh(h @ layer["w"] + layer["b"])
    return np.sum(h**2)


def tuple_of_tuples(pair, x):
    (a, b), (c, d) = pair
    return np.sum(a * x + b) * np.sum(c * x) + d


def _make_list(x):
    return [x * 2.0, x * 3.0]


def _make_tuple(x):
    return x * 2.0, x * 3.0


def _make_dict(x):
    return {"a": x * 2.0, "b": x * 3.0}


def _first_squared(c):
    return np.sum(c[0] ** 2)


def _a_squared(c):
    return np.sum(c["a"] ** 2)


def helper_list_to_helper(x):
    c = _make_list(x)
    return _first_squared(c) + np.sum(c[1])


def helper_tuple_to_helper(x):
    c = _make_tuple(x)
    return _first_squared(c) + np.sum(c[1])


def helper_dict_to_helper_twice(x):
    c = _make_dict(x)
    return _a_squared(c) + _a_squared(c)


def dict_keys_loop(params, x):
    total = 0.0
    for k in params:
        total = total + np.sum(params[k] * x)
    return total


def append_to_argument_list(xs, w):
    xs.append(w * 2.0)
    return sum(np.sum(v) for v in xs) * w


def list_display_item_assignment(a, b, s):
    ys = [a, b]
    for i in range(2):
        ys[i] = ys[i] * s + ys[i - 1]
    return np.sum(np.stack(ys) ** 2)


def sgd_rebinds_dict_entries(params, x, y):
    """Rebinding an entry of the caller's dict: the derivative must not touch the caller's."""
    for _ in range(2):
        r = x @ params["w"] + params["b"] - y
        params["w"] = params["w"] - 0.05 * (x.T @ r)
        params["b"] = params["b"] - 0.05 * np.sum(r)
    return np.sum((x @ params["w"] + params["b"] - y) ** 2)


def momentum_over_named_params(params, x, y):
    vel = {"w": np.zeros_like(params["w"]), "b": 0.0}
    p = {"w": params["w"], "b": params["b"]}
    for _ in range(3):
        r = x @ p["w"] + p["b"] - y
        g = {"w": x.T @ r, "b": np.sum(r)}
        for k in ["w", "b"]:
            vel[k] = 0.9 * vel[k] + g[k]
            p[k] = p[k] - 0.02 * vel[k]
    return np.sum((x @ p["w"] + p["b"] - y) ** 2)


PROGRAMS = found_in("newer", [
    case(nested_param_tree,
         {"enc": {"W": arr(3, 4) * 0.5, "b": arr(4, seed=1)},
          "dec": [(arr(4, 2, seed=2) * 0.5, arr(2, seed=3)), (arr(2, 2, seed=4), 0.1)],
          "scale": 0.3},
         arr(5, 3, seed=5), name="nested_param_tree"),
    case(append_nested_loops, arr(3), arr(3, seed=1), wrt=(0, 1)),
    case(append_nested_loops, arr(2), arr(3, seed=1), wrt=(0, 1)),
    case(append_flat_then_reshape, arr(2), arr(3, seed=1), wrt=(0, 1),
         name="append_flat_then_reshape"),
    case(list_of_tuples_layers, [(arr(3, 3) * 0.5, arr(3, seed=1)), (arr(3, 2, seed=2), 0.2)],
         arr(4, 3, seed=3), wrt=(0, 1), name="list_of_tuples_layers"),
    case(enumerate_zip_params, [arr(3, 3), arr(3, 2, seed=1)], [arr(3, seed=2), arr(2, seed=3)],
         arr(4, 3, seed=4), wrt=(0, 1, 2), name="enumerate_zip_params"),
    case(comprehension_into_stack, [arr(2, 3, seed=k) for k in range(3)], arr(3, seed=9),
         wrt=(0, 1), name="comprehension_into_stack"),
    case(generators_in_min_max, [arr(3, seed=k) for k in range(3)], arr(3, seed=9), wrt=(0, 1),
         name="generators_in_min_max"),
    case(dict_returned_and_consumed, {"w": arr(3, 4), "b": arr(4, seed=1), "v": arr(4, seed=2)},
         arr(5, 3, seed=3), arr(5, seed=4), wrt=(0, 1), name="dict_returned_and_consumed"),
    case(list_item_assignment, [arr(2), arr(2, seed=1), arr(2, seed=2)], 0.7, wrt=(0, 1),
         name="list_item_assignment"),
    case(dict_item_assignment, {"w": arr(3, 3) * 0.5, "b": arr(3, seed=1)}, arr(3, seed=2),
         wrt=(0, 1), name="dict_item_assignment"),
    case(dict_items_loop, {"a": arr(3), "bb": arr(3, seed=1)}, arr(3, seed=2), wrt=(0, 1),
         name="dict_items_loop"),
    case(list_of_dicts, [{"w": arr(3, 3), "b": arr(3, seed=1)}, {"w": arr(3, 2), "b": 0.3}],
         arr(4, 3, seed=3), name="list_of_dicts"),
    case(tuple_of_tuples, ((arr(3), 0.5), (arr(3, seed=1), -0.2)), arr(3, seed=2),
         name="tuple_of_tuples"),
    case(helper_list_to_helper, arr(3), name="helper_list_to_helper"),
    case(helper_tuple_to_helper, arr(3), name="helper_tuple_to_helper"),
    case(helper_dict_to_helper_twice, arr(3), name="helper_dict_to_helper_twice"),
    case(dict_keys_loop, {"a": arr(3), "b": arr(3, seed=1)}, arr(3, seed=2), wrt=(0, 1),
         name="dict_keys_loop"),
    case(append_to_argument_list, [arr(2), arr(2, seed=1)], 0.6, wrt=(0, 1),
         name="append_to_argument_list"),
    case(list_display_item_assignment, arr(2), arr(2, seed=1), 0.7, wrt=(0, 1, 2),
         name="list_display_item_assignment"),
    case(sgd_rebinds_dict_entries, {"w": arr(2, seed=3), "b": 0.1}, arr(5, 2), arr(5, seed=2),
         wrt=(0, 1), name="sgd_rebinds_dict_entries"),
    case(momentum_over_named_params, {"w": arr(2, seed=3), "b": 0.1}, arr(5, 2), arr(5, seed=2),
         wrt=(0, 1), name="momentum_over_named_params"),
])


# -- the cases above against the oracle -----------------------------------------------------------


@pytest.mark.parametrize(
    "f, args, kwargs, wrt",
    WRT + COMPREHENSIONS + LOOPS + ITEMS + APPEND + PROGRAMS,
)
def test_value_and_grad(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)


def summed_list_written_by_index(p):
    # found by the fuzzer: np.sum's adjoint of a list was an array, and the list's pop failed
    m = p["b"] * 2.0
    xs = []
    xs.append(p["b"])
    xs.append(np.sin(p["w"][0]))
    xs[0] = m
    return np.sum(xs)


def test_np_sum_of_a_list_written_by_index():
    assert_value_and_grad(summed_list_written_by_index, {"w": arr(2), "b": 1.5})


def number_written_into_a_list_of_arrays(x, a, n):
    # found by the fuzzer (seed 63203962 L5): the written number's adjoint was taken with
    # `.copy()`, which a float does not have
    xs = []
    for _ in range(n):
        xs.append(a)
    xs[1] = x
    return xs[1] * np.sum(xs[0]) + xs[2][1]


def list_item_written_with_itself(a, scale):
    # found by the fuzzer (seed 41000669): the item saved before the write was taken with
    # `.copy()`, which a float does not have
    xs = []
    for _ in range(3):
        xs.append(scale)
    for _ in range(2):
        xs[1] = xs[1]
        total = sum(q for q in xs)
    return np.sum(a) * total


def test_list_item_written_with_itself():
    assert_value_and_grad(list_item_written_with_itself, arr(3), -1.091, wrt=(0, 1))


def list_built_anew_in_a_nested_loop(a, x, n, ws):
    # found by the fuzzer (seed 49000492): the reversed loops popped the list the last
    # iteration built once per iteration (IndexError); the list is bound anew each time
    s = 0.0
    for w in ws:
        for _ in range(len(a)):
            xs = []
            for i in range(n):
                xs.append(np.zeros((2, 3)).sum() + x * i)
            d = {"k0": w, "k1": xs[2]}
            s = s + d["k1"] * np.sum(d["k0"])
    return s


def list_without_gradient_built_anew_in_a_nested_loop(a, x, n, ws):
    for _ in ws:
        for _ in range(len(a)):
            xs = []
            for _ in range(n):
                xs.append(np.zeros((2, 3)).sum())
            d = {"k0": ws[-2], "k1": xs[2]}
    return x * d["k1"] + x * x


@pytest.mark.parametrize("f", [list_built_anew_in_a_nested_loop,
                               list_without_gradient_built_anew_in_a_nested_loop])
def test_list_built_anew_in_a_nested_loop(f):
    assert_value_and_grad(f, arr(3), 0.7, 3, [arr(3, seed=1), arr(3, seed=2)], wrt=(1, 3))


def test_number_written_into_a_list_of_arrays():
    assert_value_and_grad(number_written_into_a_list_of_arrays, 0.7, arr(3), 3, wrt=(0, 1))


# -- an item of a list of unknown length replaced by another array -------------------------------
# Found by the fuzzer (seeds 51000796, 52001133): the replaced item's adjoint was zeroed as the
# number 0.0, which the adjoint of the append that made it (np.stack's unstack, a matmul) then
# took apart as an array: IndexError, ValueError.


def stacked_item_replaced(M, a, n):
    xs = []
    for _ in range(n):
        xs.append(np.stack([a, a, np.zeros(3)], axis=1))
    xs[1] = M
    return np.sum(xs)


def product_item_replaced_by_another_shape(a, x):
    xs = []
    xs.append(np.linspace(0.1, 0.71, 12).reshape(4, 3) @ (x * np.linspace(0.74, 0.23, 3)))
    xs[0] = np.r_[a[1:2] * x, a[:3]]
    return np.sum(xs)


@pytest.mark.parametrize("f, args, kwargs, wrt", found_in("fuzz", [
    case(stacked_item_replaced, arr(3, 3), arr(3, seed=1), 2, wrt=(0, 1)),
    case(stacked_item_replaced, arr(3, 3), arr(3, seed=1), 3, wrt=(0, 1)),
    case(product_item_replaced_by_another_shape, arr(4), -1.268, wrt=(0, 1)),
]))
def test_an_item_replaced_in_a_list_of_unknown_length(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)
