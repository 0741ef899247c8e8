"""Round 5: ordinary NumPy programs attacking the newest features, each checked against the
finite-difference oracle and its value against the function itself.

Covered: `f(x, **params)` into a user function's parameters (module-constant and array defaults,
keyword-only parameters, `**rest`, dicts built in the function or grown on some paths, `*args`
with `**kwargs`, calls in loops, comprehensions and recursion, dicts that do not fit); in-place
changes through views and of arrays shared by two names (views of views, views made in branches
and loops, writes into the base seen by a view, double buffering, overlapping updates); user
functions that change their array arguments (no result, returned argument, helpers calling
helpers, recursion, slices and transposes passed in, calls in loops and branches, by keyword);
attributes of objects passed in (`obj.h = v`, `obj.h += v`, `obj.buf[i] = v`, nested objects,
RNN-like `step(state, x)` in loops and recursion); lists and dicts shared by two names; nested
functions and lambdas passed by keyword, to keyword-only parameters, through recursion, and
mapped with `map`. Constructs that cannot be followed must be refused with a clear
`UnsupportedSyntaxError`, never differentiated wrongly; those are checked at the end.
"""

import math
from dataclasses import dataclass

import numpy as np
import pytest

import sourcegrad
from oracle import arr, assert_value_and_grad, case

SHIFT = np.array([0.3, -0.2])
GAIN = 1.7


# -- 1. f(x, **params) ----------------------------------------------------------------------------


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


def _affine(x, w, b=0.0):
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
    return np.sum(_affine(x, **p))


def key_added_on_data(w, x):
    p = {"w": w}
    if w > 0.5:
        p["b"] = w * w
    return np.sum(_affine(x, **p))


def key_added_on_one_iteration(w, x):
    p = {"w": w}
    for i in range(3):
        if i == 1:
            p["b"] = w * 3.0
    return np.sum(_affine(x, **p))


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
        total = total + np.sum(_affine(x, **p))
        p = {"w": p["w"] * 2.0, "b": p["b"] + w}
    return total


def dict_item_augmented_in_loop(w, x):
    p = {"w": w, "b": 0.0}
    for _ in range(3):
        p["b"] += w
        x = _affine(x, **p)
    return np.sum(x)


def callers_dict_grown_through_alias(p, x):
    p2 = p
    p2["b"] = x
    return np.sum(_affine(x, **p))


def kwargs_passed_through(x, **kw):
    return _affine(x, **kw)


def kwargs_pass_through_caller(w, x):
    return np.sum(kwargs_passed_through(x, w=w, b=w * 2.0))


def array_changed_through_keyword_only(x):
    buf = np.zeros(3)
    _writes_keyword_only(x, out=buf)
    return np.sum(buf**2)


def dict_of_dicts(ps, x):
    total = 0.0
    for name in ps:
        total = total + np.sum(_affine(x, **ps[name]))
    return total


W32, B2, X43 = arr(3, 2), arr(2, seed=1), arr(4, 3, seed=2)
X3 = arr(3, seed=5)
TWO_LAYERS = [{"w": arr(3, 3, seed=3), "b": arr(3, seed=4)}, {"w": W32, "b": B2}]

KEYWORD_CASES = [
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
]


@pytest.mark.parametrize("f, args, kwargs, wrt", KEYWORD_CASES)
def test_keyword_unpacking(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)


def unexpected_key(w, x):
    p = {"w": w, "zz": 1.0}
    return np.sum(_affine(x, **p))


def missing_key(w, x):
    p = {"b": w}
    return np.sum(_affine(x, **p))


def key_given_twice(w, x):
    p = {"w": w}
    return np.sum(_affine(x, w, **p))


@pytest.mark.parametrize("f, message", [
    (unexpected_key, r"_affine\(\) got an unexpected keyword argument 'zz'"),
    (missing_key, r"_affine\(\) missing 1 required .*'w'"),
    (key_given_twice, r"_affine\(\) got multiple values for argument 'w'"),
])
def test_a_dict_that_does_not_fit_raises_like_python(f, message):
    with pytest.raises(TypeError, match=message):
        f(0.7, X3)
    with pytest.raises(TypeError, match=message):
        sourcegrad.grad(f)(0.7, X3)


# -- 2. in-place changes through views and of shared arrays ---------------------------------------


def augment_through_tail_view(x, d):
    x = x.copy()
    v = x[1:]
    v += d
    return np.sum(np.sin(x)) * np.sum(v)


def scale_through_transpose(a, w):
    a = a.copy()
    t = a.T
    t *= w
    return np.sum(a**2 * np.arange(6.0).reshape(2, 3))


def index_write_seen_by_alias(x, w):
    x = x.copy()
    y = x
    x[0] = w * x[1]
    return np.sum(y**2)


def index_write_into_argument_seen_by_alias(x, w):
    y = x
    x[0] = w
    return np.sum(np.sin(y)) + np.sum(x * x)


def write_into_strided_view_of_view(x, w):
    x = x.copy()
    v = x[1:]
    u = v[::2]
    u[0] = w
    u *= w
    return np.sum(x**2) + np.sum(v)


def base_scaled_seen_by_view(x, w):
    x = x.copy()
    v = x[1:]
    x *= w
    return np.sum(v**3)


def view_kept_after_base_rebound(x, w):
    x = x.copy()
    v = x[1:]
    x = x * 2.0
    v += w
    return np.sum(x**2) + np.sum(v**2)


def view_of_argument_scaled(x, w):
    v = x[::2]
    v *= w
    return np.sum(x**2)


def chain_of_three_names(x, w):
    x = x.copy()
    y = x
    z = y
    z += w
    z[1] = w
    return np.sum(x**2) + np.sum(y)


def value_saved_before_view_update(x, w):
    x = x.copy()
    v = x[1:]
    s = np.sin(x)
    v *= w
    return np.sum(s * x)


def element_written_through_transpose(a, w):
    a = a.copy()
    v = a.T
    v[0, 1] = w
    return np.sum(a**2)


def reversed_view_written(x, w):
    x = x.copy()
    v = x[::-1]
    v[0] = w
    v *= w
    return np.sum(x * np.arange(4.0))


def base_written_in_loop_read_through_view(x, w):
    x = x.copy()
    v = x[1:]
    for _ in range(3):
        x[0] = x[0] * w
        x[1] = x[0] + v[1]
    return np.sum(x**2) + np.sum(v)


def names_swapped_in_loop(x, w):
    a = x.copy()
    b = a * 2.0
    for _ in range(2):
        a, b = b, a
    b += w
    return np.sum(a) + np.sum(b**2)


def alias_made_every_iteration(x, w):
    x = x.copy()
    for _ in range(3):
        y = x
        y *= w
    return np.sum(x)


def many_in_place_ops_in_loop(x, w):
    y = x.copy()
    for _ in range(3):
        y *= w
        y += x
        y -= 0.1 * y
        y /= 1.5
    return np.sum(y**2)


def power_through_view(x, w):
    x = np.abs(x) + 1.0
    v = x[1:]
    v **= w
    return np.sum(x)


def alias_made_on_both_branches(x, w):
    x = x.copy()
    if w > 0:
        y = x
    else:
        y = x
    y *= w
    return np.sum(x**2)


def astype_is_a_copy(x, w):
    x = x.copy()
    y = x.astype(float)
    y += w
    return np.sum(x**2) + np.sum(y)


def slice_assignment_copies(x, w):
    y = np.zeros(4)
    y[:] = x
    x = x * w
    return np.sum(y**2) + np.sum(x)


def full_slice_is_a_view(x, w):
    x = x.copy()
    y = x[:]
    y *= w
    return np.sum(x**2)


def np_array_is_a_copy(x, w):
    y = np.array(x)
    y += w
    return np.sum(x**2) + np.sum(y**2)


def numpy_scalar_is_not_shared(x, w):
    s = np.sum(x)
    t = s
    s += w
    return t * s


def element_read_is_a_copy(x, w):
    x = x.copy()
    s = x[0]
    s += w
    return np.sum(x**2) + s


def element_read_before_write(x, w):
    x = x.copy()
    s = x[0]
    x[0] = w
    return s * np.sum(x**2)


def overlapping_slices_augmented(x, w):
    x = x.copy()
    x[1:] += w * x[:-1]
    return np.sum(x**2)


def overlapping_view_augmented(x, w):
    x = x.copy()
    v = x[1:]
    v += w * x[:-1]
    return np.sum(x**2)


def alias_augmented_by_itself(x, w):
    x = x * 1.0
    y = x
    y += y * w
    return np.sum(x**2)


def augmented_by_own_transpose(a, w):
    a = a.copy()
    a += w * a.T
    return np.sum(a**2)


def reversed_view_augmented_by_base(x, w):
    x = x.copy()
    v = x[::-1]
    v += w * x
    return np.sum(x * np.arange(4.0))


def rebound_to_copy_then_changed(x, w):
    x = x.copy()
    y = x
    x = x.copy()
    x += w
    return np.sum(y**2) + np.sum(x)


def alias_rebound_then_base_changed(x, w):
    x = x.copy()
    y = x
    y = y + 1.0
    x *= w
    return np.sum(y**2) + np.sum(x)


def view_scaled_in_while(x, w):
    x = x.copy()
    v = x[1:]
    n = 0
    while n < 3:
        v *= w
        n += 1
    return np.sum(x**2)


def transpose_read_after_base_changed(a, w):
    a = a.copy()
    t = a.T
    a += w
    return np.sum(t**2)


def double_buffered_stencil(x, w):
    u = x.copy()
    v = np.zeros_like(x)
    for _ in range(3):
        v[1:-1] = u[1:-1] + w * (u[2:] - 2.0 * u[1:-1] + u[:-2])
        v[0] = u[0]
        v[-1] = u[-1]
        u, v = v, u
    return np.sum(u**2)


def previous_kept_by_rebinding(x, w):
    cur = x.copy()
    for _ in range(3):
        prev = cur
        cur = cur * w
        cur += prev
    return np.sum(cur**2)


def previous_shares_changed_array(x, w):
    cur = x.copy()
    for _ in range(3):
        prev = cur
        cur *= w
    return np.sum(prev**2)


def view_made_each_iteration(x, w):
    x = x.copy()
    for i in range(3):
        v = x[1:]
        v += w * i
    return np.sum(x**2)


def base_written_in_loop_view_read_after(x, w):
    x = x.copy()
    v = x[:2]
    for i in range(4):
        x[i] = x[i] * w + v[0]
    return np.sum(v**2) + np.sum(x)


def alias_read_by_while_condition(x, w):
    a = x.copy()
    b = a
    n = 0
    while np.sum(b**2) < 50.0 and n < 10:
        a *= 1.0 + w
        n += 1
    return np.sum(b)


X4, A23, X5 = arr(4), arr(2, 3, seed=1), arr(5, seed=2)

VIEW_CASES = [
    case(augment_through_tail_view, X4, 0.3, wrt=(0, 1)),
    case(scale_through_transpose, A23, 0.7, wrt=(0, 1)),
    case(index_write_seen_by_alias, X4, 0.7, wrt=(0, 1)),
    case(index_write_into_argument_seen_by_alias, X4, 0.7, wrt=(0, 1)),
    case(write_into_strided_view_of_view, X5, 0.7, wrt=(0, 1)),
    case(base_scaled_seen_by_view, X4, 0.7, wrt=(0, 1)),
    case(view_kept_after_base_rebound, X4, 0.7, wrt=(0, 1)),
    case(view_of_argument_scaled, X5, 0.7, wrt=(0, 1)),
    case(chain_of_three_names, X4, 0.7, wrt=(0, 1)),
    case(value_saved_before_view_update, X4, 0.7, wrt=(0, 1)),
    case(element_written_through_transpose, A23, 0.7, wrt=(0, 1)),
    case(reversed_view_written, X4, 0.7, wrt=(0, 1)),
    case(base_written_in_loop_read_through_view, X4, 0.7, wrt=(0, 1)),
    case(names_swapped_in_loop, X4, 0.7, wrt=(0, 1)),
    case(alias_made_every_iteration, X4, 0.7, wrt=(0, 1)),
    case(many_in_place_ops_in_loop, X4, 0.7, wrt=(0, 1)),
    case(power_through_view, X4, 0.7, wrt=(0, 1)),
    case(alias_made_on_both_branches, X4, 0.7, wrt=(0, 1), name="both_branches-if"),
    case(alias_made_on_both_branches, X4, -0.7, wrt=(0, 1), name="both_branches-else"),
    case(astype_is_a_copy, X4, 0.7, wrt=(0, 1)),
    case(slice_assignment_copies, X4, 0.7, wrt=(0, 1)),
    case(full_slice_is_a_view, X4, 0.7, wrt=(0, 1)),
    case(np_array_is_a_copy, X4, 0.7, wrt=(0, 1)),
    case(numpy_scalar_is_not_shared, X4, 0.7, wrt=(0, 1)),
    case(element_read_is_a_copy, X4, 0.7, wrt=(0, 1)),
    case(element_read_before_write, X4, 0.7, wrt=(0, 1)),
    case(overlapping_slices_augmented, X4, 0.7, wrt=(0, 1)),
    case(overlapping_view_augmented, X4, 0.7, wrt=(0, 1)),
    case(alias_augmented_by_itself, X4, 0.7, wrt=(0, 1)),
    case(augmented_by_own_transpose, arr(2, 2, seed=1), 0.7, wrt=(0, 1)),
    case(reversed_view_augmented_by_base, X4, 0.7, wrt=(0, 1)),
    case(rebound_to_copy_then_changed, X4, 0.7, wrt=(0, 1)),
    case(alias_rebound_then_base_changed, X4, 0.7, wrt=(0, 1)),
    case(view_scaled_in_while, X4, 0.7, wrt=(0, 1)),
    case(transpose_read_after_base_changed, A23, 0.7, wrt=(0, 1)),
    case(double_buffered_stencil, X5, 0.3, wrt=(0, 1)),
    case(previous_kept_by_rebinding, X5, 0.3, wrt=(0, 1)),
    case(previous_shares_changed_array, X5, 0.3, wrt=(0, 1)),
    case(view_made_each_iteration, X5, 0.3, wrt=(0, 1)),
    case(base_written_in_loop_view_read_after, X5, 0.3, wrt=(0, 1)),
    case(alias_read_by_while_condition, X5, 0.3, wrt=(0, 1)),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", VIEW_CASES)
def test_views_and_shared_arrays(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)


# -- 3. user functions that change their array arguments ------------------------------------------


def _fill_sin(out, x):
    for i in range(len(x)):
        out[i] = np.sin(x[i])


def _fill_squares_returning(out, x):
    out[:] = x * x
    return out


def _scale(a, s):
    a *= s


def _add(a, d):
    a += d
    return a


def _fill_then_add(out, x):
    _fill_sin(out, x)
    out += x


def _fill_recursively(out, x, k):
    if k == len(x):
        return
    out[k] = x[k] * (k + 1)
    _fill_recursively(out, x, k + 1)


def _axpy(y, a, x):
    y += a * x


def _scale_row(m, i, s):
    m[i] *= s


def _scale_if_positive(a, s):
    if s > 0:
        a *= s
    return s


def _relax(a, x, n):
    for _ in range(n):
        a += np.sin(a) * x


def _scale_unless_negative(a, s):
    if s < 0:
        return 0.0
    a *= s
    return 1.0


def _scale_then_rebind(a, s):
    a *= s
    a = a * 2.0
    a += 1.0
    return a


def _scale_and_accumulate(a, b, s):
    a *= s
    b += a


def _jacobi(out, u, w):
    for i in range(1, len(u) - 1):
        out[i] = w * (u[i - 1] + u[i + 1])


def fills_a_buffer(x):
    buf = np.zeros(3)
    _fill_sin(buf, x)
    return np.sum(buf * buf)


def fills_a_tail_slice(x):
    buf = np.ones(4)
    _fill_sin(buf[1:], x)
    return np.sum(np.exp(buf))


def fills_a_strided_slice(x):
    buf = np.ones(6)
    _fill_sin(buf[::2], x)
    return np.sum(buf * np.arange(6.0))


def fills_recursively(x):
    out = np.zeros(3)
    _fill_recursively(out, x, 0)
    return np.sum(out**2)


def helper_calls_helper(x):
    buf = np.zeros(3)
    _fill_then_add(buf, x)
    return np.sum(np.cos(buf))


def same_array_read_and_changed(x, w):
    a = x.copy()
    _axpy(a, w, a)
    return np.sum(a**2)


def overlapping_views_passed(x, w):
    a = x.copy()
    _axpy(a[1:], w, a[:-1])
    return np.sum(a**2)


def rebinds_the_returned_argument(x, w):
    buf = np.zeros(3)
    buf = _fill_squares_returning(buf, x * w)
    return np.sum(buf**3)


def changes_in_a_loop(x, w):
    a = x.copy()
    for _ in range(3):
        _scale(a, w)
        _axpy(a, 0.1, x)
    return np.sum(a**2)


def changes_by_keyword(x, w):
    a = x.copy()
    _axpy(y=a, a=w, x=x)
    return np.sum(a**2)


def reads_then_changes(x, w):
    a = x.copy()
    s = np.sin(a)
    _scale(a, w)
    return np.sum(s * a)


def changes_the_callers_argument(x, w):
    _scale(x, w)
    return np.sum(x**2)


def alias_sees_the_change(x, w):
    a = x.copy()
    b = a
    _scale(a, w)
    return np.sum(b**2)


def view_sees_the_change(x, w):
    a = x.copy()
    v = a[1:]
    _scale(a, w)
    return np.sum(v**2)


def change_through_view_name(x, w):
    a = x.copy()
    v = a[1:]
    _scale(v, w)
    return np.sum(a**2)


def change_through_transpose(m, w):
    m = m.copy()
    _scale(m.T, w)
    return np.sum(m**2)


def changes_rows_in_a_loop(m, w):
    m = m.copy()
    for i in range(m.shape[0]):
        _scale_row(m, i, w + i)
    return np.sum(m**2)


def changes_on_one_path_of_callee(x, w):
    a = x.copy()
    _scale_if_positive(a, w)
    return np.sum(a**2)


def callee_changes_in_its_loop(x, w):
    a = np.ones(3) * w
    _relax(a, x, 3)
    return np.sum(a**2)


def callee_returns_early(x, w):
    a = x.copy()
    r = _scale_unless_negative(a, w)
    return np.sum(a**2) + r


def callee_rebinds_after_change(x, w):
    a = x.copy()
    b = _scale_then_rebind(a, w)
    return np.sum(a**2) + np.sum(b)


def callee_changes_two_arrays(x, w):
    a = x.copy()
    b = x * 2.0
    _scale_and_accumulate(a, b, w)
    return np.sum(a**2) + np.sum(b**2)


def nested_function_changes_argument(x, w):
    a = x.copy()

    def bump(t):
        t += w

    bump(a)
    return np.sum(a**2)


def changes_in_branches(x, w):
    a = x.copy()
    if w > 0:
        _scale(a, w)
    else:
        _axpy(a, w, x)
    return np.sum(a**2)


def float_argument_is_rebound_only(x, w):
    s = w * 1.0
    _add(s, x)
    return s * w


def float_argument_result_used(x, w):
    s = w * 1.0
    t = _add(s, x)
    return s * t


def jacobi_into_another_array(x, w):
    u = x.copy()
    v = x.copy()
    _jacobi(v, u, w)
    return np.sum(v**2)


CHANGING_CALL_CASES = [
    case(fills_a_buffer, X3),
    case(fills_a_tail_slice, X3),
    case(fills_a_strided_slice, X3),
    case(fills_recursively, X3),
    case(helper_calls_helper, X3),
    case(rebinds_the_returned_argument, X3, 0.7, wrt=(0, 1)),
    case(changes_in_a_loop, X3, 0.7, wrt=(0, 1)),
    case(changes_by_keyword, X3, 0.7, wrt=(0, 1)),
    case(reads_then_changes, X3, 0.7, wrt=(0, 1)),
    case(changes_the_callers_argument, X3, 0.7, wrt=(0, 1)),
    case(alias_sees_the_change, X3, 0.7, wrt=(0, 1)),
    case(view_sees_the_change, X3, 0.7, wrt=(0, 1)),
    case(change_through_view_name, X3, 0.7, wrt=(0, 1)),
    case(change_through_transpose, A23, 0.7, wrt=(0, 1)),
    case(changes_rows_in_a_loop, A23, 0.7, wrt=(0, 1)),
    case(changes_on_one_path_of_callee, X3, 0.7, wrt=(0, 1), name="one_path-taken"),
    case(changes_on_one_path_of_callee, X3, -0.7, wrt=(0, 1), name="one_path-not_taken"),
    case(callee_changes_in_its_loop, X3, 0.7, wrt=(0, 1)),
    case(callee_returns_early, X3, 0.7, wrt=(0, 1), name="early-no"),
    case(callee_returns_early, X3, -0.7, wrt=(0, 1), name="early-yes"),
    case(callee_rebinds_after_change, X3, 0.7, wrt=(0, 1)),
    case(callee_changes_two_arrays, X3, 0.7, wrt=(0, 1)),
    case(nested_function_changes_argument, X3, 0.7, wrt=(0, 1)),
    case(changes_in_branches, X3, 0.7, wrt=(0, 1), name="branches-if"),
    case(changes_in_branches, X3, -0.7, wrt=(0, 1), name="branches-else"),
    case(float_argument_is_rebound_only, 0.3, 0.7, wrt=(0, 1)),
    case(float_argument_result_used, 0.3, 0.7, wrt=(0, 1)),
    case(jacobi_into_another_array, X5, 0.3, wrt=(0, 1)),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", CHANGING_CALL_CASES)
def test_functions_changing_their_arguments(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)


# -- 4. attributes --------------------------------------------------------------------------------


@dataclass
class Cell:
    W: np.ndarray
    U: np.ndarray
    h: np.ndarray


@dataclass
class Pair:
    a: np.ndarray
    b: np.ndarray


class Plain:
    def __init__(self, w, buf):
        self.w = w
        self.buf = buf


class Holder:
    def __init__(self, inner, scale):
        self.inner = inner
        self.scale = scale


def _cell_step(state, x):
    state.h = np.tanh(state.W @ state.h + state.U @ x)


def _cell_step_returning(state, x):
    state.h = np.tanh(state.W @ state.h + state.U @ x)
    return state.h


def _cell_steps(state, x, n):
    if n == 0:
        return
    state.h = np.tanh(state.W @ state.h + state.U @ x)
    _cell_steps(state, x, n - 1)


def _set_w(p, v):
    p.w = v


def _accumulate_into(dst, src, s):
    dst.a += s * src.a
    dst.b = dst.b * s


def rnn_over_a_sequence(s, xs):
    for x in xs:
        _cell_step(s, x)
    return np.sum(s.h**2)


def rnn_result_dropped(s, xs):
    for x in xs:
        _cell_step_returning(s, x)
    return np.sum(s.h)


def rnn_by_recursion(s, x):
    _cell_steps(s, x, 3)
    return np.sum(s.h)


def float_attribute_augmented(p, x):
    p.w += x
    p.w *= 2.0
    return p.w * np.sum(p.buf)


def attribute_buffer_written_in_loop(p, x):
    for i in range(3):
        p.buf[i] = p.buf[i] * p.w + x[i]
    return np.sum(p.buf**2)


def attribute_slice_augmented(p, x):
    p.buf[1:] += x[:2] * p.w
    return np.sum(np.sin(p.buf))


def nested_attribute_written(o, x):
    o.inner.buf[0] = x * o.scale
    o.inner.w = o.inner.w * x
    return np.sum(o.inner.buf**2) + o.inner.w


def nested_attribute_augmented(o, x):
    o.inner.buf += x
    return np.sum(o.inner.buf**2) * o.scale


def list_item_written(xs, w):
    xs[1][0] = w
    return np.sum(xs[0] * xs[1])


def dict_item_written(d, w):
    d["a"][1] = w * d["b"][0]
    return np.sum(d["a"] ** 2) + np.sum(d["b"])


def objects_read_from_a_list(objs, x):
    total = 0.0
    for o in objs:
        total = total + o.w * x
    return total


def object_with_two_names(p, x):
    q = p
    q.w = q.w * x
    p.buf = p.buf * p.w
    return np.sum(q.buf)


def attribute_set_in_branch(p, x):
    if x > 0:
        p.w = p.w * x
    return p.w * np.sum(p.buf)


def attribute_set_in_while(p, x):
    n = 0
    while n < 3:
        p.buf = p.buf * x + p.w
        n += 1
    return np.sum(p.buf**2)


def helper_sets_attribute_twice(p, x):
    _set_w(p, p.w * x)
    _set_w(p, p.w + x)
    return p.w * np.sum(p.buf)


def new_attribute_set(p, x):
    p.extra = x * 2.0
    return p.extra * p.w


def dataclass_array_written(s, x):
    s.h[0] = x
    s.h[1:] = s.h[1:] * x
    return np.sum(s.h**2) + np.sum(s.W)


def same_object_passed_twice(t, w):
    _accumulate_into(t, t, w)
    return np.sum(t.a**2) + np.sum(t.b)


def attributes_set_on_alternate_iterations(t, w):
    for i in range(3):
        if i % 2 == 0:
            t.a = t.a * w
        else:
            t.b += t.a
    return np.sum(t.a * t.b)


class Net:
    def __init__(self, ws, w):
        self.ws = ws
        self.w = w


def list_items_written_in_loop(xs, w):
    for k in range(len(xs)):
        xs[k][0] = xs[k][1] * w
    return np.sum(xs[0] * xs[1])


def dict_item_written_in_loop(d, w):
    for i in range(3):
        d["w"][i] = d["w"][i] * w + d["b"]
    return np.sum(d["w"] ** 2)


def attribute_list_item_written(o, w):
    o.ws[0][1] = w * o.w
    return np.sum(o.ws[0] ** 2) + np.sum(o.ws[1])


def _cell():
    return Cell(arr(3, 3, seed=1) * 0.5, arr(3, 2, seed=2) * 0.5, arr(3, seed=3))


def _plain():
    return Plain(0.7, arr(3, seed=7))


def _pair():
    return Pair(arr(3, seed=1), arr(3, seed=2))


SEQ = [arr(2, seed=4), arr(2, seed=5), arr(2, seed=6)]

ATTRIBUTE_CASES = [
    case(rnn_over_a_sequence, _cell(), SEQ, wrt=(0, 1)),
    case(rnn_result_dropped, _cell(), SEQ, wrt=(0, 1)),
    case(rnn_by_recursion, _cell(), SEQ[0], wrt=(0, 1)),
    case(float_attribute_augmented, _plain(), 0.3, wrt=(0, 1)),
    case(attribute_buffer_written_in_loop, _plain(), X3, wrt=(0, 1)),
    case(attribute_slice_augmented, _plain(), X3, wrt=(0, 1)),
    case(nested_attribute_written, Holder(_plain(), 1.3), 0.4, wrt=(0, 1)),
    case(nested_attribute_augmented, Holder(_plain(), 1.3), 0.4, wrt=(0, 1)),
    case(list_item_written, [arr(3), arr(3, seed=1)], 0.4, wrt=(0, 1)),
    case(dict_item_written, {"a": arr(3), "b": arr(3, seed=1)}, 0.4, wrt=(0, 1)),
    case(objects_read_from_a_list, [_plain(), Plain(0.3, arr(3))], 0.4, wrt=(0, 1)),
    case(object_with_two_names, _plain(), 0.4, wrt=(0, 1)),
    case(attribute_set_in_branch, _plain(), 0.4, wrt=(0, 1), name="branch-taken"),
    case(attribute_set_in_branch, _plain(), -0.4, wrt=(0, 1), name="branch-not_taken"),
    case(attribute_set_in_while, _plain(), 0.4, wrt=(0, 1)),
    case(helper_sets_attribute_twice, _plain(), 0.4, wrt=(0, 1)),
    case(new_attribute_set, _plain(), 0.4, wrt=(0, 1)),
    case(dataclass_array_written, _cell(), 0.4, wrt=(0, 1)),
    case(attributes_set_on_alternate_iterations, _pair(), 0.7, wrt=(0, 1)),
    case(list_items_written_in_loop, [arr(3), arr(3, seed=1)], 0.7, wrt=(0, 1)),
    case(dict_item_written_in_loop, {"w": arr(3), "b": 0.3}, 0.7, wrt=(0, 1)),
    case(attribute_list_item_written, Net([arr(3), arr(3, seed=1)], 0.5), 0.7, wrt=(0, 1)),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", ATTRIBUTE_CASES)
def test_attributes(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)


# -- 5. lists and dicts shared by two names -------------------------------------------------------


def dict_shared_updated_in_loop(x):
    d = {"a": x, "b": 0.0}
    e = d
    for _ in range(3):
        d["b"] = d["b"] + d["a"] * x
    return e["b"]


def concatenation_makes_a_new_list(x):
    xs = [x]
    ys = xs
    xs = xs + [x * x]
    return sum(ys)


def items_rewritten_in_loop(x):
    xs = [x, x, x]
    ys = xs
    for i in range(3):
        xs[i] = xs[i] * (i + x)
    return sum(ys)


def three_names_one_list(x):
    a = [x]
    b = a
    c = b
    c.append(x * 5.0)
    return sum(a) * sum(b)


def lists_swapped_then_appended(x):
    a = [x]
    b = [x * 2.0]
    a, b = b, a
    a.append(x * x)
    return sum(a) + sum(b)


def comprehension_over_shared_list(x):
    xs = [x]
    ys = xs
    xs.append(2.0 * x)
    return sum([y * y for y in ys])


def appended_on_one_path(x):
    xs = [x]
    if x > 0:
        xs.append(x * x)
    return sum(xs)


def appends_to_argument(xs):
    xs.append(xs[0] * 2.0)
    return sum(xs)


def dict_item_set_in_branch_seen_by_alias(x):
    d = {"a": x, "b": x * 2.0}
    e = d
    if x > 0:
        d["a"] = x * x
    return e["a"] * e["b"]


def alternate_items_rewritten_in_loop(x):
    xs = [x, x * 2.0]
    ys = xs
    for i in range(3):
        xs[i % 2] = xs[i % 2] * x
    return ys[0] + ys[1]


def list_copied_then_appended(x):
    xs = [x]
    ys = list(xs)
    zs = xs.copy()
    xs.append(x * x)
    return sum(ys) + sum(xs) * sum(zs)


def dict_copied_then_set(x):
    d = {"a": x}
    e = dict(d)
    f = d.copy()
    d["a"] = x * x
    return e["a"] + d["a"] * f["a"]


CONTAINER_CASES = [
    case(dict_shared_updated_in_loop, 0.7),
    case(concatenation_makes_a_new_list, 0.7),
    case(items_rewritten_in_loop, 0.7),
    case(three_names_one_list, 0.7),
    case(lists_swapped_then_appended, 0.7),
    case(comprehension_over_shared_list, 0.7),
    case(appended_on_one_path, 0.7, name="one_path-taken"),
    case(appended_on_one_path, -0.7, name="one_path-not_taken"),
    case(appends_to_argument, [0.7, 0.2]),
    case(dict_item_set_in_branch_seen_by_alias, 0.7, name="alias_branch-taken"),
    case(dict_item_set_in_branch_seen_by_alias, -0.7, name="alias_branch-not_taken"),
    case(alternate_items_rewritten_in_loop, 0.7),
    case(list_copied_then_appended, 0.7),
    case(dict_copied_then_set, 0.7),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", CONTAINER_CASES)
def test_shared_containers(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)


# -- 6. nested functions by keyword, through recursion, with map ----------------------------------


def _integrate(y0, rhs, n=4, dt=0.1):
    y = y0
    for _ in range(n):
        y = y + dt * rhs(y)
    return y


def _integrate_keyword_only(y0, *, rhs, n=3):
    return _integrate(y0, rhs=rhs, n=n)


def _heun(y0, n, *, f):
    y = y0
    for _ in range(n):
        k1 = f(y)
        k2 = f(y + 0.05 * k1)
        y = y + 0.05 * (k1 + k2)
    return y


def _apply_n(f, x, n):
    if n == 0:
        return x
    return _apply_n(f, f(x), n - 1)


def _apply_n_keyword(x, n, *, f):
    if n == 0:
        return x
    return _apply_n_keyword(f(x), n - 1, f=f)


def _square(a):
    return a * a


def inline_lambda_by_keyword(r, y0):
    return np.sum(_integrate(y0, rhs=lambda y: -r * y))


def two_lambdas_in_two_calls(r, y0):
    a = _integrate(y0, rhs=lambda y: -r * y)
    b = _integrate(y0, rhs=lambda y: np.sin(r * y), n=2)
    return np.sum(a * b)


def def_to_keyword_only(r, y0):
    def decay(y):
        return -r * y * y

    return np.sum(_heun(y0, 3, f=decay))


def keyword_only_passed_on(r, y0):
    return np.sum(_integrate_keyword_only(y0, rhs=lambda y: np.cos(y) * r))


def lambda_by_keyword_in_loop(r, y0):
    total = 0.0
    for k in range(3):
        total = total + np.sum(_integrate(y0, rhs=lambda y: -r * k * y, n=2))
    return total


def def_in_loop_by_keyword(r, y0):
    total = 0.0
    for k in range(1, 3):
        s = r * k

        def g(y):
            return -s * y

        total = total + np.sum(_integrate(y0, rhs=g))
    return total


def lambda_through_recursion(r, x):
    return np.sum(_apply_n(lambda t: np.tanh(r * t), x, 3))


def lambda_by_keyword_through_recursion(r, x):
    return np.sum(_apply_n_keyword(x, 3, f=lambda t: np.tanh(r * t)))


def lambda_in_a_name_by_keyword(r, y0):
    rhs = lambda y: -r * y  # noqa: E731
    return np.sum(_integrate(y0, rhs=rhs))


def map_lambda_over_list(r, xs):
    return sum(map(lambda a: np.sum(a * r) ** 2, xs))


def map_lambda_two_lists(r, xs, ys):
    return sum(map(lambda a, b: np.sum(a * b) * r, xs, ys))


def map_def_then_stack(r, xs):
    def g(a):
        return np.sin(a * r)

    return np.sum(np.stack(list(map(g, xs))))


def map_numpy_function(r, xs):
    return sum(map(np.sum, [x * r for x in xs]))


def map_module_function(r, xs):
    return np.sum(list(map(_square, xs))) * r


def map_over_array_rows(r, x):
    return sum(map(lambda t: t * r, x))


def map_in_a_loop(r, xs):
    total = 0.0
    for k in range(2):
        total = total + sum(map(lambda a: np.sum(a) * r * k, xs))
    return total


def loop_over_map(r, xs):
    total = 0.0
    for v in map(lambda a: a * r, xs):
        total = total + np.sum(v**2)
    return total


def map_into_tuple(r, xs):
    t = tuple(map(lambda a: a * r, xs))
    return np.sum(t[0] * t[1])


def map_stops_at_shortest(r, xs, ys):
    return sum(map(lambda a, b: a * b * r, xs, ys))


def map_def_with_default(r, xs):
    def g(a, scale=2.0):
        return a * scale

    return sum(map(g, xs)) * r


def map_builtin_float(r, xs):
    return sum(map(float, xs)) * r


Y0 = arr(3, lo=0.5, hi=1.5)
XS3 = [arr(3, seed=1), arr(3, seed=2), arr(3, seed=3)]

CLOSURE_CASES = [
    case(inline_lambda_by_keyword, 0.8, Y0, wrt=(0, 1)),
    case(two_lambdas_in_two_calls, 0.8, Y0, wrt=(0, 1)),
    case(def_to_keyword_only, 0.8, Y0, wrt=(0, 1)),
    case(keyword_only_passed_on, 0.8, Y0, wrt=(0, 1)),
    case(lambda_by_keyword_in_loop, 0.8, Y0, wrt=(0, 1)),
    case(def_in_loop_by_keyword, 0.8, Y0, wrt=(0, 1)),
    case(lambda_through_recursion, 0.8, Y0, wrt=(0, 1)),
    case(lambda_by_keyword_through_recursion, 0.8, Y0, wrt=(0, 1)),
    case(lambda_in_a_name_by_keyword, 0.8, Y0, wrt=(0, 1)),
    case(map_lambda_over_list, 0.8, XS3, wrt=(0, 1)),
    case(map_lambda_two_lists, 0.8, XS3, XS3[::-1], wrt=(0, 1, 2)),
    case(map_def_then_stack, 0.8, XS3, wrt=(0, 1)),
    case(map_numpy_function, 0.8, XS3, wrt=(0, 1)),
    case(map_module_function, 0.8, XS3, wrt=(0, 1)),
    case(map_over_array_rows, 0.8, Y0, wrt=(0, 1)),
    case(map_in_a_loop, 0.8, XS3, wrt=(0, 1)),
    case(loop_over_map, 0.8, XS3, wrt=(0, 1)),
    case(map_into_tuple, 0.8, XS3, wrt=(0, 1)),
    case(map_stops_at_shortest, 0.7, [0.1, 0.2, 0.3], [0.5, 0.6], wrt=(0, 1, 2)),
    case(map_def_with_default, 0.7, [0.1, 0.2, 0.3], wrt=(0, 1)),
    case(map_builtin_float, 0.7, [0.1, 0.2, 0.3], wrt=(0, 1)),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", CLOSURE_CASES)
def test_nested_functions_by_keyword_and_map(f, args, kwargs, wrt):
    assert_value_and_grad(f, *args, wrt=wrt, **kwargs)


def test_closed_forms():
    # y0 e^{-r t} by Euler: y4 = y0 (1 - 0.1 r)^4, d/dr sum = -0.4 (1 - 0.1 r)^3 sum(y0)
    y0 = np.array([1.0, 2.0])
    got = sourcegrad.grad(inline_lambda_by_keyword)(0.5, y0)
    assert got == pytest.approx(-0.4 * 0.95**3 * 3.0, rel=1e-12)
    # a = [x0, w x1, w x2] after a view update: d/dw sum(a^2) = 2 w (x1^2 + x2^2)
    x = np.array([0.5, 1.0, -2.0])
    got = sourcegrad.grad(change_through_view_name, wrt=1)(x, 3.0)
    assert got == pytest.approx(2 * 3.0 * 5.0, rel=1e-12)
    np.testing.assert_array_equal(x, [0.5, 1.0, -2.0])


# -- what cannot be followed is refused, at the user's line ---------------------------------------


def view_made_in_one_branch(x, w):
    x = x.copy()
    v = x
    if w > 0:
        v = x[1:]
    v += w
    return np.sum(x**2)


def alias_on_one_iteration(x, w):
    x = x.copy()
    y = x * 1.0
    for i in range(3):
        if i == 1:
            y = x
        y += w
    return np.sum(x**2) + np.sum(y)


def through_a_reshape(x, w):
    x = x.copy()
    v = x.reshape(2, 2)
    v += w
    return np.sum(x**2)


def through_ravel(x, w):
    x = x.copy()
    v = x.ravel()
    v[0] = w
    return np.sum(x**2)


def through_a_fancy_index(x, w):
    x = x.copy()
    v = x[[0, 1]]
    v += w
    return np.sum(x**2) + np.sum(v**2)


def through_atleast_1d(x, w):
    x = x.copy()
    y = np.atleast_1d(x)
    y += w
    return np.sum(x**2)


def loop_dependent_view(x, w):
    x = x.copy()
    for i in range(3):
        v = x[i:]
        v *= w
    return np.sum(x**2)


def list_shared_on_one_path(x):
    xs = [x]
    ys = xs
    if x > 0:
        ys = [x * 2.0]
    xs.append(x * x)
    return sum(ys)


def list_shared_from_one_iteration(x):
    xs = [x]
    ys = [x * 2.0]
    for i in range(3):
        if i == 1:
            ys = xs
        xs.append(x * i)
    return sum(ys)


def changing_call_in_an_expression(x):
    buf = np.ones(3)
    return np.sum(buf) * np.sum(_fill_squares_returning(buf, x))


def changing_call_with_star_star(x, w):
    a = x.copy()
    kw = {"y": a, "a": w, "x": x}
    _axpy(**kw)
    return np.sum(a**2)


def array_held_by_a_list_then_changed(x, w):
    a = x.copy()
    hist = [a]
    a *= w
    return np.sum(hist[0] ** 2)


class _Stateful:
    def __init__(self, w):
        self.w = w
        self.h = np.zeros(3)

    def step(self, x):
        self.h = np.tanh(self.w * self.h + x)
        return self.h


def method_changes_its_object(m, x):
    return np.sum(m.step(x))


def test_a_method_setting_its_objects_attribute():
    assert_value_and_grad(method_changes_its_object, _Stateful(0.5), X3, wrt=(0, 1))


@pytest.mark.parametrize("f, args, marker, match", [
    (view_made_in_one_branch, (X4, 0.7), "v += w", "x may share it"),
    (alias_on_one_iteration, (X4, 0.7), "y += w", "x may share it"),
    (through_a_reshape, (X4, 0.7), "v += w", "x may share it"),
    (through_ravel, (X4, 0.7), "v[0] = w", "x may share it"),
    (through_a_fancy_index, (X4, 0.7), "v += w", "x may share it"),
    (through_atleast_1d, (X4, 0.7), "y += w", "x may share it"),
    (loop_dependent_view, (X4, 0.7), "v *= w", "x may share it"),
    (list_shared_on_one_path, (0.7,), "xs.append", "ys may share it"),
    (list_shared_from_one_iteration, (0.7,), "xs.append", "ys may share it"),
    (changing_call_in_an_expression, (X3,), "return np.sum(buf)", "changes its argument out"),
    (changing_call_with_star_star, (X3, 0.7), "_axpy(**kw)", "with \\* or \\*\\*"),
    (array_held_by_a_list_then_changed, (X3, 0.7), "a *= w", "hist may share it"),
    # refused though Python reads `a * x` before the write: sourcegrad does not look that close
    (same_array_read_and_changed, (X3, 0.7), "_axpy(a, w, a)", "hands it a"),
    (overlapping_views_passed, (X3, 0.7), "_axpy(a[1:], w, a[:-1])", "hands it a"),
    (same_object_passed_twice, (Pair(X3, X3 * 2.0), 0.7), "_accumulate_into(t, t, w)",
     "hands it t"),
])
def test_refused_at_the_users_line(f, args, marker, match):
    with pytest.raises(sourcegrad.UnsupportedSyntaxError, match=match) as info:
        sourcegrad.grad(f, wrt=len(args) - 1)(*args)
    assert marker in str(info.value)
