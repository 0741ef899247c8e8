"""The public API: grad as a call and as a decorator, wrt by index, name and tuple,
value_and_grad, vjp, the emitted `.source` (printable, compilable on its own), show, the cache,
redefined functions and concurrent first use from several threads."""

import dataclasses
import functools
import importlib
import inspect
import threading
import time
import types
import uuid

import numpy as np
import pytest

import sourcegrad
from oracle import arr, assert_grad, assert_vjp, load_module, numeric_grad


def poly(x, y, z):
    return x * x * y + np.sin(z) * y


def mixed(a, x):
    return np.sum(np.tanh(a) * x) + x**2


def array_out(a, b, n):
    return np.sin(a) * b * n


def with_flag(x, flag):
    return x * 2.0 if flag else x**2


def numpy_only(x):
    return np.sum(np.tanh(x) * x) + np.sum(x**2)


POLY_ARGS = (0.3, -1.2, 0.7)

# -- grad and wrt ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "wrt", [0, 1, 2, "x", "z", (0, 2), (2, 0), ("x", "z"), (1, "z"), (0, 1, 2), (0,)], ids=repr
)
def test_wrt(wrt):
    assert_grad(poly, *POLY_ARGS, wrt=wrt)


def test_wrt_name_of_keyword_argument():
    assert_grad(poly, 0.3, -1.2, z=0.7, wrt="z")


def test_default_wrt_is_first_argument():
    x, y, _ = POLY_ARGS
    assert sourcegrad.grad(poly)(*POLY_ARGS) == pytest.approx(2 * x * y, rel=1e-10)


def test_all_arguments_by_keyword():
    x, _, z = POLY_ARGS
    got = sourcegrad.grad(poly, wrt="y")(x=0.3, y=-1.2, z=0.7)
    assert got == pytest.approx(x * x + np.sin(z), rel=1e-10)


def test_mixed_float_and_array_wrt():
    assert_grad(mixed, arr(2, 3), 0.8, wrt=(1, 0))


def test_same_function_with_other_types_and_shapes():
    assert_grad(mixed, 0.5, 0.8)
    assert_grad(mixed, arr(2, 3), 0.8)
    assert_grad(mixed, arr(4), 0.8)
    assert_grad(mixed, 0.5, 0.8)


def test_signature_is_kept():
    assert list(inspect.signature(sourcegrad.grad(poly)).parameters) == ["x", "y", "z"]


@pytest.fixture(scope="module")
def decorated():
    return importlib.import_module("api_decorated")


def test_decorator(decorated):
    got = decorated.d_cube(2.0)
    assert isinstance(got, float)
    assert got == pytest.approx(12.0, rel=1e-10)


def test_decorator_wrt_index(decorated):
    assert decorated.d_wrt_index(1.5, 0.4) == pytest.approx(1.5 * np.cos(0.4), rel=1e-10)


def test_decorator_wrt_name(decorated):
    assert decorated.d_wrt_name(1.5, 0.4) == pytest.approx(2 * 1.5 * 0.4, rel=1e-10)


def test_decorator_wrt_tuple(decorated):
    a = arr(3)
    da, dy = decorated.d_wrt_tuple(a, 0.7)
    np.testing.assert_allclose(da, 2.0 * a * 0.7, rtol=1e-10)
    assert dy == pytest.approx(np.sum(a * a), rel=1e-10)


# -- value_and_grad and vjp -----------------------------------------------------------------------


def test_value_and_grad():
    value, g = sourcegrad.value_and_grad(poly, wrt=(0, 2))(*POLY_ARGS)
    assert value == pytest.approx(poly(*POLY_ARGS), rel=1e-10)
    assert isinstance(g, tuple) and len(g) == 2
    np.testing.assert_allclose(g, numeric_grad(poly, POLY_ARGS, {}, (0, 2)), rtol=1e-5)


def test_value_and_grad_array():
    a = arr(2, 3)
    value, g = sourcegrad.value_and_grad(mixed)(a, 0.8)
    assert value == pytest.approx(mixed(a, 0.8), rel=1e-10)
    assert isinstance(g, np.ndarray) and g.shape == a.shape
    np.testing.assert_allclose(g, numeric_grad(mixed, (a, 0.8), {}, 0), rtol=1e-5)


def test_vjp_array_output_and_int_argument():
    cotangents = assert_vjp(array_out, arr(2, 3), arr(3, seed=1), 3, seed=arr(2, 3, seed=2))
    assert cotangents[2] is None


def test_vjp_scalar_output():
    assert_vjp(poly, *POLY_ARGS, seed=1.5)


def test_vjp_bool_argument():
    assert_vjp(with_flag, 0.7, True, seed=2.0)
    assert_vjp(with_flag, 0.7, False, seed=2.0)


def test_vjp_pullback_twice():
    a, b = arr(3), arr(3, seed=1)
    _, pullback = sourcegrad.vjp(array_out, a, b, 2)
    first = pullback(np.ones(3))
    second = pullback(2.0 * np.ones(3))
    np.testing.assert_allclose(second[0], 2.0 * first[0], rtol=1e-10)
    np.testing.assert_allclose(first[0], np.cos(a) * b * 2, rtol=1e-10)


# -- the emitted source ---------------------------------------------------------------------------


def test_source_compiles_and_runs_on_its_own():
    x = arr(3)
    df = sourcegrad.grad(numpy_only)
    df(x)
    src = df.source
    assert isinstance(src, str) and "def " in src
    namespace = {}
    exec(compile(src, "x", "exec"), namespace)
    # the emitted entry point is named d<f>_d<wrt> and returns (value, gradient)
    entry = namespace["dnumpy_only_dx"]
    assert entry.__code__.co_filename == "x"
    value, got = entry(x.copy())
    np.testing.assert_allclose(value, numpy_only(x), rtol=1e-12)
    np.testing.assert_allclose(got, numeric_grad(numpy_only, (x,), {}, 0), rtol=1e-5, atol=1e-7)


def test_print_shows_source(capsys):
    df = sourcegrad.grad(numpy_only)
    df(arr(3))
    print(df)
    assert df.source.strip() in capsys.readouterr().out


def test_show_prints_source(capsys):
    sourcegrad.show(numpy_only)
    assert "def " in capsys.readouterr().out


# -- cache, redefinition, threads -----------------------------------------------------------------


def _module(tmp_path, source, name="mod"):
    """Write `source` to a fresh file under tmp_path and import it."""
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    return load_module(path, f"sg_{tmp_path.name}_{name}")


# A template: each use fills in a constant of its own, so that no test meets a derivative cached by
# another test or by an earlier run (in memory or on disk).
FRESH = "import numpy as np\n\n\ndef f(x, a):\n    return np.sum(np.sin(a * x)) * x + {}\n"


def _fresh_source():
    return FRESH.format((uuid.uuid4().int % 10**6) * 1e-6)


def test_second_grad_is_cached(tmp_path):
    f = _module(tmp_path, _fresh_source()).f
    a = arr(3)
    start = time.perf_counter()
    df1 = sourcegrad.grad(f)
    g1 = df1(0.4, a)
    first = time.perf_counter() - start
    start = time.perf_counter()
    df2 = sourcegrad.grad(f)
    g2 = df2(0.4, a)
    second = time.perf_counter() - start
    assert g1 == g2
    same = df1 is df2 or df1.source is df2.source
    assert same or 10 * second < first, f"not cached: {first:.4f}s then {second:.4f}s"


def test_redefined_function_gets_new_derivative(tmp_path):
    first = _module(tmp_path, "def f(x):\n    return x * x\n")
    assert sourcegrad.grad(first.f)(3.0) == pytest.approx(6.0, rel=1e-10)
    second = _module(tmp_path, "def f(x):\n    return x * x * x + 1.0\n")
    assert sourcegrad.grad(second.f)(3.0) == pytest.approx(27.0, rel=1e-10)


def test_redefined_helper_gets_new_derivative(tmp_path):
    caller = "\n\n\ndef f(x):\n    return helper(x) + x\n"
    first = _module(tmp_path, "def helper(x):\n    return x * x" + caller)
    assert sourcegrad.grad(first.f)(3.0) == pytest.approx(7.0, rel=1e-10)
    second = _module(tmp_path, "def helper(x):\n    return x * x * x + 1.0" + caller)
    assert sourcegrad.grad(second.f)(3.0) == pytest.approx(28.0, rel=1e-10)


def test_threads_on_a_new_function(tmp_path):
    f = _module(tmp_path, _fresh_source()).f
    a = arr(3)
    xs = [0.1 * (i + 1) for i in range(8)]
    barrier = threading.Barrier(len(xs))
    results = [None] * len(xs)

    def work(i):
        barrier.wait()
        try:
            results[i] = sourcegrad.grad(f)(xs[i], a)
        except BaseException as exc:  # reported below, in the main thread
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for x, got in zip(xs, results, strict=True):
        assert not isinstance(got, BaseException), f"x={x}: {got!r}"
        assert got == pytest.approx(numeric_grad(f, (x, a), {}, 0), rel=1e-5)


# -- a derivative handed to grad, vjp or check_grad: refused, never the first derivative again ----


def cube(x):
    """x cubed."""
    return x**3


def _derivatives():
    """Each kind of callable sourcegrad makes, with what differentiating it must not give."""
    _, pullback = sourcegrad.vjp(cube, 3.0)
    return {"grad": sourcegrad.grad(cube), "value_and_grad": sourcegrad.value_and_grad(cube),
            "pullback": pullback, "bound __call__": sourcegrad.grad(cube).__call__}


@pytest.mark.parametrize("kind", ["grad", "value_and_grad", "pullback", "bound __call__"])
@pytest.mark.parametrize("api", ["grad", "value_and_grad", "vjp", "check_grad", "show"])
def test_a_derivative_is_refused_by_every_entry_point(kind, api):
    derivative = _derivatives()[kind]
    calls = {"grad": lambda: sourcegrad.grad(derivative)(3.0),
             "value_and_grad": lambda: sourcegrad.value_and_grad(derivative)(3.0),
             "vjp": lambda: sourcegrad.vjp(derivative, 3.0),
             "check_grad": lambda: sourcegrad.check_grad(derivative, 3.0),
             "show": lambda: sourcegrad.show(derivative)}
    with pytest.raises(sourcegrad.HigherOrderError, match="not supported yet"):
        calls[api]()


def test_grad_of_grad_is_refused_where_it_is_built():
    # it returned 27 = d cube / dx at 3, the first derivative, as if it were the second (18)
    with pytest.raises(sourcegrad.HigherOrderError):
        sourcegrad.grad(sourcegrad.grad(cube))


def test_stacked_grad_decorators_are_refused():
    with pytest.raises(sourcegrad.HigherOrderError):
        sourcegrad.grad(sourcegrad.grad(wrt=0)(cube))


def test_derivative_has_the_functions_name_and_doc_but_does_not_wrap_it():
    df = sourcegrad.grad(cube)
    assert df.__name__ == "cube" and df.__qualname__ == "cube" and df.__doc__ == cube.__doc__
    assert not hasattr(df, "__wrapped__")
    assert inspect.unwrap(df) is df  # inspect (and sourcegrad) do not take it for cube
    assert list(inspect.signature(df).parameters) == ["x"]


def test_derivative_of_a_decorated_function_does_not_inherit_its_wrapped():
    df = sourcegrad.grad(doubled_square)
    assert not hasattr(df, "__wrapped__") and df.__name__ == "doubled_square"


# -- a decorated function is differentiated as the function the user calls ------------------------


def doubled(f):
    @functools.wraps(f)
    def wrapper(x):
        return 2.0 * f(x)

    return wrapper


def doubled_without_wraps(f):
    def wrapper(x):
        return 2.0 * f(x)

    return wrapper


def scaled(f):
    """Adds a parameter the wrapped function does not have."""

    @functools.wraps(f)
    def wrapper(x, scale=3.0):
        return scale * f(x)

    return wrapper


def shifted(fn):
    """Another name for the wrapped function than `f`: see the stacked tests below."""

    @functools.wraps(fn)
    def shift_wrapper(x):
        return fn(x + 0.5)

    return shift_wrapper


def forwarding(f):
    """The usual wrapper: named first parameter, the rest forwarded."""

    @functools.wraps(f)
    def wrapper(x, *args, **kwargs):
        return f(x * 2.0, *args, **kwargs)

    return wrapper


def stiffer(f):
    """The wrapper's default differs from the wrapped function's: the wrapper's holds."""

    @functools.wraps(f)
    def wrapper(x, k=2.0):
        return f(x, k) + k * x

    return wrapper


def packed(f):
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        return f(*args, **kwargs) + 1.0

    return wrapper


REGISTERED = []


def registered(f):
    """Returns the function itself: nothing to see through."""
    REGISTERED.append(f)
    return f


@doubled
def doubled_square(x):
    return x**2


@doubled_without_wraps
def doubled_square_plain(x):
    return x**2


@scaled
def scaled_square(x):
    return x**2


@registered
def registered_square(x):
    return np.sum(x**2)


@doubled
@shifted
def doubled_shifted(x):
    return np.sin(x) * x


@scaled
@shifted
def scaled_shifted(x):
    return np.tanh(x) * x


@doubled
@scaled
def doubled_scaled(x):
    return x**3


@forwarding
def forwarded_square(x):
    return x**2


@stiffer
def energy(x, k=1.0):
    return k * x**2


@packed
def packed_square(x):
    return x**2


def test_functools_wraps_decorator_differentiates_the_wrapper():
    # 2 x**2: the gradient is 4x, not the 2x of the function inside
    got = sourcegrad.grad(doubled_square)(1.5)
    assert got == pytest.approx(6.0, rel=1e-10)
    assert_grad(doubled_square, 1.5)


def test_decorator_without_wraps():
    assert_grad(doubled_square_plain, 1.5)


def test_decorator_adding_a_parameter():
    assert_grad(scaled_square, 1.5)
    assert_grad(scaled_square, 1.5, scale=0.7)
    assert_grad(scaled_square, 1.5, 0.7, wrt=(0, "scale"))
    assert sourcegrad.grad(scaled_square, wrt="scale")(1.5, 0.7) == pytest.approx(2.25)


def test_decorator_returning_the_function_itself():
    assert_grad(registered_square, arr(3))


def test_stacked_decorators():
    assert_grad(doubled_shifted, 0.7)
    assert_grad(scaled_shifted, 0.7, scale=1.5, wrt=(0, "scale"))


def _scaler(k):
    def scale(x):
        return k * np.sin(x)
    return scale


low_scale, high_scale = _scaler(1.0), _scaler(3.0)  # two closures: `k` names 1.0 and 3.0


def two_closures_of_one_factory(x):
    return low_scale(x) + high_scale(x) * x


def test_two_closures_of_one_factory_keep_their_own_captured_values():
    assert_grad(two_closures_of_one_factory, 0.7)


def test_stacked_decorators_with_the_same_closure_name():
    assert_grad(doubled_scaled, 0.7)


def test_the_wrappers_default_is_the_one_that_holds():
    # energy(x) runs wrapper(x, k=2.0): 2 x**2 + 2 x, gradient 4x + 2 (the wrapped default
    # k=1.0 would give 2x + 1)
    assert sourcegrad.grad(energy)(1.5) == pytest.approx(8.0, rel=1e-10)
    assert_grad(energy, 1.5)
    assert_grad(energy, 1.5, 0.5, wrt=(0, 1))


def test_value_and_grad_and_vjp_of_a_decorated_function():
    value, g = sourcegrad.value_and_grad(scaled_square)(1.5, scale=0.5)
    assert value == pytest.approx(scaled_square(1.5, scale=0.5))
    assert g == pytest.approx(1.5, rel=1e-10)
    assert_vjp(scaled_square, 1.5, 0.5, seed=2.0)


def test_check_grad_binds_the_wrappers_own_parameters():
    sourcegrad.check_grad(scaled_square, 1.5, scale=0.5)


def calls_decorated_helpers(x):
    return doubled_square(x) * registered_square(x) + x


def calls_a_helper_with_an_added_parameter(x):
    return scaled_square(x, 0.5) + scaled_square(x, scale=2.0)


def calls_a_helper_with_its_own_default(x):
    return energy(x) * 1.0


def test_decorated_helper_called_by_a_user_function():
    assert_grad(calls_decorated_helpers, 0.8)


def test_decorated_helper_called_with_an_added_parameter():
    assert_grad(calls_a_helper_with_an_added_parameter, 0.8)


def test_decorated_helper_called_with_the_wrappers_default():  # was silently wrong: k=1.0
    assert_grad(calls_a_helper_with_its_own_default, 1.5)


def test_wrapper_taking_args_and_kwargs_is_refused_with_the_way_out():
    with pytest.raises(sourcegrad.WrtError) as info:
        sourcegrad.grad(packed_square)(1.5)
    message = str(info.value)
    assert "(*args, **kwargs)" in message and "decorator" in message
    assert "grad(packed_square.__wrapped__)" in message
    with pytest.raises(sourcegrad.WrtError, match=r"packs 1 of the 1 into its \*args"):
        sourcegrad.vjp(packed_square, 1.5)


def test_wrapper_forwarding_args_and_kwargs_is_refused_not_differentiated_as_the_inner():
    # grad(forwarded_square)(x) is 8x; the function inside alone would give 2x
    with pytest.raises(sourcegrad.UnsupportedSyntaxError, match=r"\*args, \*\*kwargs"):
        sourcegrad.grad(forwarded_square)(1.5)


def test_the_way_out_of_the_refusal_works():
    # what the message suggests, for a decorator that leaves the value unchanged but +1
    assert sourcegrad.grad(packed_square.__wrapped__)(1.5) == pytest.approx(3.0)


def with_rest(x, *rest):
    return x * len(rest) + x * x + np.sum(np.asarray(rest))


def test_arguments_packed_into_star_args_bind_as_python_binds_them():
    # two arguments for (x, *rest): rest is (5.0,), not 5.0
    assert_grad(with_rest, 2.0, 5.0)
    assert_grad(with_rest, 2.0, 5.0, 6.0)


# -- arrays of other libraries --------------------------------------------------------------------


class ForeignArray:
    """An array of another library, as far as sourcegrad can tell: it converts to NumPy
    (`__array__`, as torch tensors, JAX and pandas objects do) but is no ndarray."""

    def __init__(self, values):
        self.values = np.asarray(values, dtype=float)

    def __array__(self, dtype=None, copy=None):
        return self.values if dtype is None else self.values.astype(dtype)


class InterfaceArray:
    """Exposes its buffer through `__array_interface__` only."""

    def __init__(self, values):
        self.values = np.asarray(values, dtype=float)
        self.__array_interface__ = self.values.__array_interface__


@dataclasses.dataclass
class Params:
    w: object
    b: float


def weighted(w, x):
    return np.sum(w * np.asarray(x) ** 2)


def product_with(w, x):
    return np.sum(w * x)


def params_loss(p, x):
    return np.sum(np.asarray(p.w) * x) + p.b


def _foreign_inputs():
    return {"__array__": ForeignArray([1.0, 2.0]),
            "__array_interface__": InterfaceArray([1.0, 2.0])}


@pytest.mark.parametrize("kind", ["__array__", "__array_interface__"])
def test_an_array_of_another_library_in_wrt_is_refused(kind):
    foreign = _foreign_inputs()[kind]
    with pytest.raises(sourcegrad.NonDifferentiableInputError, match="np.asarray"):
        sourcegrad.grad(weighted, wrt=1)(0.5, foreign)
    with pytest.raises(sourcegrad.NonDifferentiableInputError, match=r"x\[1\]"):
        sourcegrad.grad(sum_of_items)([np.ones(2), foreign])
    with pytest.raises(sourcegrad.NonDifferentiableInputError, match=r"p\.w"):
        sourcegrad.grad(params_loss)(Params(foreign, 0.5), np.ones(2))


def sum_of_items(x):
    return np.sum(x[0]) + np.sum(np.asarray(x[1]))


def test_vjp_refuses_an_array_of_another_library_instead_of_returning_none():
    with pytest.raises(sourcegrad.NonDifferentiableInputError, match="ForeignArray"):
        sourcegrad.vjp(product_with, np.ones(2), ForeignArray([1.0, 2.0]))


@pytest.mark.parametrize("f", [weighted, product_with])
def test_an_array_of_another_library_as_a_constant_is_used_as_numpy_uses_it(f):
    # not in wrt: the derivative runs f's own operations on it; `w * x` converted it
    # (through __array__) and the gradient with respect to w was 0 where it is x
    assert_grad(f, np.array([0.5, -1.5]), ForeignArray([1.0, 2.0]))
    assert_grad(f, np.array([0.5, -1.5]), InterfaceArray([1.0, 2.0]))


def test_an_object_of_an_installed_package_in_wrt_is_refused():
    scipy_sparse = pytest.importorskip("scipy.sparse")
    matrix = scipy_sparse.csr_matrix(np.eye(2))
    with pytest.raises(sourcegrad.NonDifferentiableInputError, match="csr_matrix"):
        sourcegrad.grad(product_with, wrt=1)(np.ones(2), matrix)


def namespace_loss(p):
    return np.sum(p.w * p.w) + p.b


def test_plain_objects_of_the_user_and_the_standard_library_still_differentiate():
    assert_grad(namespace_loss, types.SimpleNamespace(w=np.array([1.0, 2.0]), b=3.0))
    assert_grad(params_loss, Params(np.array([1.0, -2.0]), 0.5), np.array([0.5, 1.5]))


def test_pandas_objects_are_refused_in_wrt_and_used_as_constants():
    pandas = pytest.importorskip("pandas")
    series = pandas.Series([1.0, 2.0])
    with pytest.raises(sourcegrad.NonDifferentiableInputError, match="to_numpy"):
        sourcegrad.grad(weighted, wrt=1)(0.5, series)
    assert_grad(weighted, np.array([0.5, -1.5]), series)


# -- has_aux: f returns (loss, aux) ---------------------------------------------------------------


def _loss_and_aux(w, x, y):
    pred = np.tanh(x @ w)
    err = pred - y
    return np.mean(err ** 2), {"pred": pred, "n": len(y), "worst": np.argmax(np.abs(err))}


def _only_loss(w, x, y):
    return _loss_and_aux(w, x, y)[0]


_AUX_ARGS = (np.array([0.3, -0.2, 0.5]), np.linspace(-1.0, 1.0, 15).reshape(5, 3),
             np.array([0.1, -0.4, 0.2, 0.3, -0.1]))


@pytest.mark.parametrize("wrt", [0, (0, 1)], ids=["w", "w_and_x"])
def test_grad_with_aux_gives_the_losss_gradient_and_the_aux(wrt):
    got, aux = sourcegrad.grad(_loss_and_aux, wrt=wrt, has_aux=True)(*_AUX_ARGS)
    expected = numeric_grad(_only_loss, _AUX_ARGS, {}, wrt)
    for g, e in zip(got if isinstance(wrt, tuple) else [got],
                    expected if isinstance(wrt, tuple) else [expected], strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-9)
    _, python_aux = _loss_and_aux(*_AUX_ARGS)
    np.testing.assert_allclose(aux["pred"], python_aux["pred"])
    assert (aux["n"], aux["worst"]) == (python_aux["n"], python_aux["worst"])


def test_value_and_grad_with_aux():
    @sourcegrad.value_and_grad(has_aux=True)
    def loss(w, x, y):
        return _loss_and_aux(w, x, y)

    (value, aux), got = loss(*_AUX_ARGS)
    assert value == pytest.approx(_only_loss(*_AUX_ARGS), rel=1e-12)
    assert aux["n"] == 5
    np.testing.assert_allclose(got, numeric_grad(_only_loss, _AUX_ARGS, {}, 0), rtol=1e-6)


def _not_a_pair(w):
    return np.sum(w), w, w


def test_has_aux_without_a_pair_is_refused():
    with pytest.raises(sourcegrad.NonScalarOutputError, match=r"must return a pair \(loss, aux"):
        sourcegrad.grad(_not_a_pair, has_aux=True)(np.ones(2))
