"""The public API: grad as a call and as a decorator, wrt by index, name and tuple,
value_and_grad, vjp, the emitted `.source` (printable, compilable on its own), show, the cache,
redefined functions and concurrent first use from several threads."""

import importlib
import inspect
import threading
import time
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
