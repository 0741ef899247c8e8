"""No option is silently ignored: every parameter of every rule is read by the rule's template,
declared harmless or handled for some values with `@accepts`, or refused (NoRuleError at the
user's line) when the call gives it a value other than its default.

The first tests walk the whole rule table (ADJOINTS and METHOD_ADJOINTS) and bind each rule
the way the differentiator does; the others differentiate programs that pass such options, and
check the gradients the accepted ones give against central differences.
"""

import gast
import numpy as np
import pytest

import sourcegrad
from oracle import arr, assert_grad, line_of
from sourcegrad.rules import ADJOINTS, METHOD_ADJOINTS
from sourcegrad.rules.templates import (
    ANY,
    FLOAT_DTYPES,
    OptionValues,
    Rule,
    TemplateError,
    accepts,
    adjoint,
    bind,
    d,
    literal_value,
    remove_rule,
)


def _rules() -> list[Rule]:
    """Each rule once (aliases and method forms share their function's rule object)."""
    unique = {id(rule): rule for rule in [*ADJOINTS.values(), *METHOD_ADJOINTS.values()]}
    return sorted(unique.values(), key=lambda rule: rule.defined_at)


RULES = [pytest.param(rule, id=f"{rule.name}@{rule.defined_at.rsplit('/', 1)[-1]}")
         for rule in _rules()]


def _name(name: str) -> gast.Name:
    return gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)


def _call_with(rule: Rule, param: str, value: gast.expr) -> tuple[list, dict]:
    """Arguments binding every required parameter to a placeholder name and `param` to
    `value` (positionally for the `*args` parameter)."""
    required = [p for p in rule.params if p not in rule.defaults and p not in rule.kwonly]
    args: list[gast.expr] = [_name(f"{p}_value") for p in required]
    keywords = {p: _name(f"{p}_value") for p in rule.params
                if p in rule.kwonly and p not in rule.defaults}
    if param == rule.vararg:  # extra positional arguments, after every positional parameter
        positional = [p for p in rule.params if p not in rule.kwonly]
        return [*[_name(f"{p}_value") for p in positional], value], keywords
    if param in required:
        args[required.index(param)] = value
    else:
        keywords[param] = value
    return args, keywords


def _parameters(rule: Rule) -> list[str]:
    """The call's parameters a rule binds: its own, and its `*args` one."""
    return rule.params + ([rule.vararg] if rule.vararg is not None else [])


def _is_refused(rule: Rule, param: str, value: gast.expr) -> bool:
    args, keywords = _call_with(rule, param, value)
    try:
        bind(rule, args, keywords, "f")
    except TemplateError as exc:
        assert "has no rule yet" in str(exc) and f"{param}=" in str(exc), str(exc)
        return True
    return False


NOT_A_DEFAULT = _name("some_option")  # a value known only when the program runs
UNHEARD_OF = gast.Constant(value="unheard-of", kind=None)  # a literal no rule handles


@pytest.mark.parametrize("rule", RULES)
def test_every_parameter_is_read_declared_or_refused(rule):
    """The guard, rule by rule: a parameter the template never reads is declared harmless
    (`ANY`), declared for some values, or refused when given anything but its default. A rule
    with no contribution gives zero gradient whatever its options, so it takes them all."""
    if not rule.differentiable:
        for param in _parameters(rule):
            assert not _is_refused(rule, param, NOT_A_DEFAULT)
        return
    for param in _parameters(rule):
        spec = rule.accepts.get(param)
        if spec is ANY or param in rule.read and spec is None:
            assert not _is_refused(rule, param, NOT_A_DEFAULT), param
        elif spec is not None:
            assert _is_refused(rule, param, NOT_A_DEFAULT), param
            assert _is_refused(rule, param, UNHEARD_OF), param
        else:
            assert param in rule.defaults, (
                f"{rule.name}: {param} has no default and the body never reads it: every call "
                "would be refused; read it, or declare it with @accepts")
            assert _is_refused(rule, param, NOT_A_DEFAULT), param
            assert _is_refused(rule, param, UNHEARD_OF), param
            assert not _is_refused(rule, param, rule.defaults[param]), param


@pytest.mark.parametrize("rule", [pytest.param(r, id=r.name) for r in _rules()
                                  if any(spec.values for spec in r.accepts.values())])
def test_declared_values_bind(rule):
    """Each value a rule lists for an option binds, written as a literal."""
    for param, spec in rule.accepts.items():
        for value in spec.values:
            assert not _is_refused(rule, param, gast.Constant(value=value, kind=None)), value


def test_a_keyword_no_rule_has_is_refused():
    """`initial=`, `where=`: options the template does not even name."""
    with pytest.raises(TemplateError, match="np.max with initial=0.0 has no rule yet"):
        bind(ADJOINTS[np.max], [_name("x")], {"initial": gast.Constant(value=0.0, kind=None)},
             "np.max")


def test_accepts_names_parameters_only():
    with pytest.raises(TemplateError, match="orderr"):
        @adjoint(np.fliplr)
        @accepts(orderr=("C",))
        def fliplr(y, m):
            d[m] += np.fliplr(d[y])


def test_literal_values():
    """What the guard can compare at binding time: constants, negated numbers, tuples."""
    assert literal_value(gast.Constant(value="F", kind=None)) == (True, "F")
    assert literal_value(gast.UnaryOp(op=gast.USub(), operand=gast.Constant(value=1, kind=None)))\
        == (True, -1)
    assert literal_value(gast.Tuple(elts=[gast.Constant(value=0, kind=None)],
                                    ctx=gast.Load())) == (True, (0,))
    assert literal_value(_name("order")) == (False, None)
    assert OptionValues("C", "F").matches(gast.Constant(value="F", kind=None))
    assert not OptionValues(1).matches(gast.Constant(value=True, kind=None))


@pytest.mark.parametrize("spelling, accepted", [
    ("None", True), ("float", True), ("np.float64", True), ("numpy.float32", True),
    ("np.double", True), ("'float32'", True), ("'f8'", True), ("int", False),
    ("np.int64", False), ("'int32'", False), ("np.complex128", False), ("complex", False),
    ("bool", False), ("x.dtype", False), ("d", False), ("config.f", False), ("'c16'", False),
])
def test_float_dtypes(spelling, accepted):
    """dtype= is handled when it names a real floating type: the gradient is the same at any
    precision. Anything else, including a dtype known only at run time, is refused."""
    node = gast.parse(spelling).body[0].value
    assert FLOAT_DTYPES.matches(node) is accepted


# -- refused at the user's line ----------------------------------------------------------------

def reshape_a(x):
    return np.sum(np.reshape(x, (3, 2), order="A") ** 2)  # refused


def ravel_k(x):
    return np.sum(x.ravel(order="K") ** 2)  # refused


def flatten_a(x):
    return np.sum(x.flatten("A") ** 2)  # refused


def reshape_order_variable(x, order):
    return np.sum(np.reshape(x, (3, 2), order=order) ** 2)  # refused


def sum_int_dtype(x):
    return np.sum(x, dtype=int) * x[0]  # refused


def mean_complex_dtype(x):
    return np.real(np.mean(x, dtype=np.complex128)) * 2.0  # refused


def max_initial(x):
    return np.max(x, initial=10.0) + np.sum(x)  # refused


def sum_where(x):
    return np.sum(x, where=x > 0.0)  # refused


def sort_order(x):
    return np.sum(np.sort(x, order=None) * np.sort(x, kind="stable", order="f"))  # refused


def nan_to_num_in_place(x):
    y = np.where(x < 0.0, np.nan, x)
    return np.sum(np.nan_to_num(y, copy=False) * x)  # refused: y changed, its adjoint reads y


def astype_no_copy(x):
    y = x.astype(np.float64, copy=False)  # refused: may be x itself
    return np.sum(y * x)


REFUSED = [
    (reshape_a, (arr(2, 3),), "np.reshape with order='A' has no rule yet"),
    (ravel_k, (arr(2, 3),), "x.ravel with order='K' has no rule yet"),
    (flatten_a, (arr(2, 3),), "x.flatten with order='A' has no rule yet"),
    (reshape_order_variable, (arr(2, 3), "F"), "np.reshape with order=order has no rule yet"),
    (sum_int_dtype, (arr(3),), "np.sum with dtype=int has no rule yet"),
    (mean_complex_dtype, (arr(3),), "np.mean with dtype=np.complex128 has no rule yet"),
    (max_initial, (arr(3),), "np.max with initial=10.0 has no rule yet"),
    (sum_where, (arr(3),), "np.sum with where="),
    (sort_order, (arr(3),), "np.sort with order='f' has no rule yet"),
    (nan_to_num_in_place, (arr(3),), "np.nan_to_num with copy=False has no rule yet"),
    (astype_no_copy, (arr(3),), "x.astype with copy=False has no rule yet"),
]


@pytest.mark.parametrize("f, args, message", [pytest.param(*c, id=c[0].__name__)
                                              for c in REFUSED])
def test_an_option_without_rule_is_refused_at_the_users_line(f, args, message):
    with pytest.raises(sourcegrad.NoRuleError) as info:
        sourcegrad.grad(f)(*args)
    text = str(info.value)
    line, source = line_of(f, "# refused")
    assert message in text and f":{line}" in text and source in text, text


# -- accepted: harmless, or handled, and right -------------------------------------------------

def sum_float_dtypes(x):
    return np.sum(x, dtype=np.float64) * np.mean(x, dtype=float) + np.sum(
        np.cumsum(x, dtype="float64") ** 2)


def joined_float_dtypes(x):
    y = np.concatenate([x, x * x], axis=1, dtype=np.float64, casting="same_kind")
    z = np.stack([x, np.sin(x)], dtype="float64")
    return np.sum(y * y) + np.sum(z * z) + np.sum(np.vstack([x, x * 3.0], dtype=float) ** 3)


def copies_and_layouts(x):
    y = np.copy(x, order="F") * x.copy("F") + np.asarray(x, dtype=np.float64)
    z = np.einsum("ij,ij->i", y, x, order="C", optimize=True)
    return np.sum(np.squeeze(np.expand_dims(z, axis=0), axis=0) ** 2)


def nan_to_num_values(x, v):
    y = np.where(x > 1.5, np.inf, np.where(x < -0.5, np.nan, x))
    return np.sum(np.nan_to_num(y, nan=v, posinf=3.0 * v, neginf=-1.0) * x)


def reshape_c_explicit(x):
    return np.sum(np.reshape(x, (3, 2), order="C") * np.arange(6.0).reshape(3, 2)) + np.sum(
        x.ravel("C") ** 2)


@pytest.mark.parametrize("f, args, wrt", [
    pytest.param(sum_float_dtypes, (arr(2, 3),), 0, id="sum_float_dtypes"),
    pytest.param(joined_float_dtypes, (arr(2, 3),), 0, id="joined_float_dtypes"),
    pytest.param(copies_and_layouts, (arr(2, 3),), 0, id="copies_and_layouts"),
    pytest.param(nan_to_num_values, (np.array([0.5, -1.0, 0.2, 2.0]), 0.3), (0, 1),
                 id="nan_to_num_values"),
    pytest.param(reshape_c_explicit, (arr(2, 3),), 0, id="reshape_c_explicit"),
])
def test_accepted_options_give_the_right_gradient(f, args, wrt):
    assert_grad(f, *args, wrt=wrt)


# -- a user's rule is held to the same guard -----------------------------------------------------

def smooth(x, scale=1.0, mode="plain"):
    return np.log1p(np.exp(x * scale))


def uses_mode(x):
    return np.sum(smooth(x, mode="fast"))  # refused


def test_a_users_rule_refuses_an_option_it_does_not_read():
    @sourcegrad.adjoint(smooth)
    def smooth_rule(y, x, scale=1.0, mode="plain"):
        d[x] += d[y] * scale / (1.0 + np.exp(-x * scale))

    try:
        with pytest.raises(sourcegrad.NoRuleError, match="smooth with mode='fast' has no rule"):
            sourcegrad.grad(uses_mode)(arr(3))

        @sourcegrad.adjoint(smooth)
        @accepts(mode=ANY)
        def smooth_rule_any_mode(y, x, scale=1.0, mode="plain"):
            d[x] += d[y] * scale / (1.0 + np.exp(-x * scale))

        assert_grad(uses_mode, arr(3))
    finally:
        remove_rule(smooth)
