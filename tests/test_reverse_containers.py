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
