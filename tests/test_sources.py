"""Where a differentiated function comes from: lambdas anywhere in a file, code compiled under
a name whose source `linecache` holds (notebook cells, the Python 3.13 prompt), and a clear
error where Python keeps no source at all."""

import functools
import linecache
import math
import subprocess
import sys

import numpy as np
import pytest

import sourcegrad
from oracle import arr, assert_value_and_grad, numeric_grad

square_sum = lambda x: np.sum(x ** 2)  # noqa: E731
product = lambda x, y=2.0: x * y  # noqa: E731
double, triple = (lambda x: x * 2.0), (lambda x: x * 3.0)  # noqa: E731
spread = (lambda x, w:  # noqa: E731
          np.sum(np.tanh(x * w)
                 * x))
ACTIVATIONS = {"soft": lambda v: np.log1p(np.exp(v)), "sq": lambda v: v * v}
keyword_only = lambda x, *, s=2.0: s * x ** 3  # noqa: E731


def with_default(x, act=lambda v: np.sin(v) * v):
    return np.sum(act(x))


def _scaled(c):
    return lambda x: np.sum(c * x ** 2)


def calls_a_lambda(x):
    return np.sum(double(x) * x) + square_sum(x[:2])


@pytest.mark.parametrize("f, args, wrt", [
    (square_sum, (arr(3),), 0),
    (product, (0.7, 1.3), (0, 1)),
    (double, (0.7,), 0),
    (triple, (0.7,), 0),
    (spread, (arr(3), arr(3, seed=1)), (0, 1)),
    (ACTIVATIONS["soft"], (0.4,), 0),
    (keyword_only, (0.6,), 0),
    (with_default.__defaults__[0], (0.8,), 0),
    (_scaled(3.0), (arr(2),), 0),
    (calls_a_lambda, (arr(3),), 0),
], ids=["assigned", "two_parameters", "first_of_two_on_a_line", "second_of_two_on_a_line",
        "over_three_lines", "dict_value", "keyword_only", "default_argument", "closure",
        "called_from_a_def"])
def test_a_lambda(f, args, wrt):
    assert_value_and_grad(f, *args, wrt=wrt)


def test_a_lambda_written_inside_the_call():
    got = sourcegrad.grad(lambda x: np.sum(np.sin(x) * x))(arr(3))
    x = arr(3)
    np.testing.assert_allclose(got, np.sin(x) + x * np.cos(x))


def test_a_lambdas_derivative_is_named_after_what_it_is_bound_to():
    derivative = sourcegrad.grad(square_sum)
    derivative(arr(3))
    assert "def dsquare_sum_dx(x" in derivative.source
    line = square_sum.__code__.co_firstlineno
    assert f"test_sources.py:{line}  square_sum = lambda x: np.sum(x ** 2)" in derivative.source


SOURCE = """import numpy as np
def cubed(x):
    return np.sum(x ** 3)
wave = lambda x: x * np.sin(x)
"""


def test_code_compiled_under_a_name_linecache_holds():
    # how notebook cells (IPython) and the Python 3.13 prompt keep their source
    name = "<ipython-input-7-0123456789ab>"
    linecache.cache[name] = (len(SOURCE), None, SOURCE.splitlines(True), name)
    namespace = {}
    exec(compile(SOURCE, name, "exec"), namespace)
    x = arr(3)
    np.testing.assert_allclose(sourcegrad.grad(namespace["cubed"])(x), 3 * x ** 2)
    got = sourcegrad.grad(namespace["wave"])(0.5)
    np.testing.assert_allclose(got, numeric_grad(namespace["wave"], (0.5,), {}, 0), rtol=1e-6)


@pytest.mark.parametrize("name", ["cubed", "wave"])
def test_code_compiled_from_a_bare_string_says_what_works(name):
    namespace = {}
    exec(compile(SOURCE, "<string>", "exec"), namespace)
    with pytest.raises(sourcegrad.SourceUnavailableError,
                       match=r"(?s)Python kept no source for .*<string>.*linecache\.cache"):
        sourcegrad.grad(namespace[name])(0.5)


def test_python_dash_c_says_what_works():
    code = "import sourcegrad; sourcegrad.grad(lambda x: x * x)(1.0)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0
    assert "SourceUnavailableError: Python kept no source for the lambda of line 1" \
        in done.stderr
    assert "python -c" in done.stderr


# -- partials, callable objects, bound methods, functions with a rule ----------------------------


def _fit(w, x, y, reg=0.1):
    return np.sum((x @ w - y) ** 2) + reg * np.sum(w * w)


class _Layer:
    def __init__(self, W):
        self.W = W

    def __call__(self, v, scale=1.0):
        return np.sum(np.tanh(self.W @ v)) * scale

    def energy(self, v, c):
        return np.sum(self.W) * np.sum(v * v) * c


W = arr(4, 3)
X, Y = arr(4, 3, seed=1), arr(4, seed=2)
LAYER = _Layer(arr(2, 3, seed=3))


@pytest.mark.parametrize("f, args, wrt, expected", [
    (functools.partial(_fit, x=X, y=Y), (arr(3),), 0,
     lambda w: numeric_grad(_fit, (w, X, Y), {}, 0)),
    (functools.partial(_fit, arr(3)), (X, Y), 0,
     lambda x, y: numeric_grad(_fit, (arr(3), x, y), {}, 1)),
    (functools.partial(_fit, reg=0.5), (arr(3), X, Y), "reg",
     lambda w, x, y: np.sum(w * w)),
    (LAYER, (arr(3),), 0, lambda v: numeric_grad(LAYER, (v,), {}, 0)),
    (LAYER, (arr(3), 2.0), 1, lambda v, s: LAYER(v)),
    (functools.partial(LAYER, scale=3.0), (arr(3),), 0,
     lambda v: 3.0 * numeric_grad(LAYER, (v,), {}, 0)),
    (functools.partial(LAYER.energy, c=2.0), (arr(3),), 0,
     lambda v: 4.0 * np.sum(LAYER.W) * v),
    (np.sin, (0.3,), 0, np.cos),
    (np.arctan2, (0.3, 0.7), (0, 1), lambda y, x: (x / (x * x + y * y), -y / (x * x + y * y))),
    (np.linalg.det, (arr(3, 3) + 2 * np.eye(3),), 0,
     lambda a: np.linalg.det(a) * np.linalg.inv(a).T),
    (np.sum, (arr(3),), 0, np.ones_like),
    (math.sin, (0.3,), 0, math.cos),
], ids=["partial_keywords", "partial_positional", "partial_keyword_in_wrt", "callable_object",
        "callable_object_keyword", "partial_of_a_callable_object",
        "partial_of_a_bound_method", "ufunc", "two_input_ufunc", "linalg_det", "numpy_sum",
        "math_sin"])
def test_what_a_callable_runs_is_differentiated(f, args, wrt, expected):
    got = sourcegrad.grad(f, wrt=wrt)(*args)
    want = expected(*args)
    for g, e in zip(got if isinstance(wrt, tuple) else [got],
                    want if isinstance(wrt, tuple) else [want], strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-9)


def test_vjp_of_a_function_with_a_rule():
    x = arr(3)
    out, pullback = sourcegrad.vjp(np.tanh, x)
    np.testing.assert_allclose(out, np.tanh(x))
    np.testing.assert_allclose(pullback(np.ones(3))[0], 1.0 - np.tanh(x) ** 2)


def test_a_function_with_a_rule_prints_as_one_line_calling_it():
    derivative = sourcegrad.grad(np.linalg.det)
    derivative(np.eye(2) * 2.0)
    assert "<sourcegrad: np.linalg.det>:2  return np.linalg.det(a)" in derivative.source


# -- the user's own installed package ------------------------------------------------------------

_PACKAGE = '''
import numpy as np


def predict(w, x):
    return np.tanh(x @ w)


class Model:
    def __init__(self, w):
        self.w = w

    def loss(self, x, y):
        return np.sum((predict(self.w, x) - y) ** 2)
'''


installed_model = None  # the fixture's module


def _fit_with_installed(w, x, y):
    return np.sum((installed_model.predict(w, x) - y) ** 2)


def _loss_of_installed_model(m, x, y):
    return m.loss(x, y)


@pytest.fixture
def installed_package(tmp_path, monkeypatch):
    """A package of the user's lying where installed packages lie (site-packages)."""
    from sourcegrad import parse

    (tmp_path / "sgpkg_installed").mkdir()
    (tmp_path / "sgpkg_installed" / "__init__.py").write_text("")
    (tmp_path / "sgpkg_installed" / "model.py").write_text(_PACKAGE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(parse, "_LIBRARY_DIRS", parse._LIBRARY_DIRS + (str(tmp_path) + "/",))
    monkeypatch.setattr(parse, "_PACKAGE_DIRS", parse._PACKAGE_DIRS + (str(tmp_path) + "/",))
    monkeypatch.setattr(parse, "_USER_PACKAGES", set())
    parse.is_package_class.cache_clear()
    module = __import__("sgpkg_installed.model").model
    monkeypatch.setitem(globals(), "installed_model", module)
    yield module
    parse.is_package_class.cache_clear()
    for name in ("sgpkg_installed", "sgpkg_installed.model"):
        sys.modules.pop(name, None)


def test_an_installed_package_of_the_users_is_transformed_once_declared(installed_package):
    w, x, y = arr(3), arr(4, 3, seed=1), arr(4, seed=2)
    with pytest.raises(sourcegrad.NoRuleError,
                       match=r"sourcegrad\.transform_package\('sgpkg_installed'\)"):
        sourcegrad.grad(_fit_with_installed)(w, x, y)
    sourcegrad.transform_package("sgpkg_installed")
    assert_value_and_grad(_fit_with_installed, w, x, y)
    model = installed_package.Model(arr(3))
    got = sourcegrad.grad(_loss_of_installed_model)(model, x, y)
    np.testing.assert_allclose(
        got.w, numeric_grad(lambda w: model.loss.__func__(installed_package.Model(w), x, y),
                            (model.w,), {}, 0), rtol=1e-6)


def test_transform_package_takes_a_package_name():
    with pytest.raises(TypeError, match="package name"):
        sourcegrad.transform_package("not a/name")
