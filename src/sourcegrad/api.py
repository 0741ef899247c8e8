"""The public entry points: grad, value_and_grad, vjp, show.

They check and normalize arguments (which parameters `wrt` names, which arguments can carry a
gradient), fetch the emitted derivative from the cache, call it, and hand back gradients shaped
like the arguments: a float for a float, an array of the same shape and dtype for an array.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from . import cache
from .analysis.abstract import is_foreign_array, is_plain_object, of_value
from .callables import called, rule_function, unbound
from .errors import (
    HigherOrderError,
    InternalError,
    NonDifferentiableInputError,
    NonScalarOutputError,
    SourceUnavailableError,
    WrtError,
)
from .module import EmittedModule, ModuleBuilder
from .options import DEFAULT, BuildOptions
from .runtime import zeros_like

Wrt = int | str | tuple[int | str, ...]


def _signature(fn: Callable) -> inspect.Signature:
    """The parameters of the function the user calls. `inspect.signature` follows the
    `__wrapped__` that `functools.wraps` sets to the function a decorator wrapped; but the
    wrapper is what runs, and what sourcegrad differentiates, so its own parameters count."""
    return inspect.signature(fn, follow_wrapped=False)


def _parameters(fn: Callable) -> list[inspect.Parameter]:
    """The parameters of `fn`, a function sourcegrad can differentiate (not a derivative)."""
    _refuse_derivative(fn)
    if not callable(fn):
        raise SourceUnavailableError(f"{fn!r} is not a function")
    try:
        return list(_signature(fn).parameters.values())
    except (TypeError, ValueError):
        raise SourceUnavailableError(
            f"cannot differentiate {fn!r}: it has no Python signature (a builtin or C "
            "function?). Register a rule with @sourcegrad.adjoint instead.") from None


_PULLBACK = "_sourcegrad_pullback"  # on the pullbacks vjp returns: what they are the pullback of


def _refuse_derivative(fn: Any) -> None:
    """A derivative sourcegrad made is refused, not differentiated: what `inspect` reaches
    through it is the user's function, whose first derivative came back as if it were the
    second (`grad(grad(cube))(3.0)` gave 27)."""
    target = fn.__self__ if inspect.ismethod(fn) else fn
    if isinstance(target, Derivative):
        what = repr(target)
    elif isinstance(getattr(target, _PULLBACK, None), str):
        what = getattr(target, _PULLBACK)
    else:
        return
    raise HigherOrderError(
        f"cannot differentiate {what}: it is a derivative sourcegrad made (by grad, "
        "value_and_grad or vjp), and derivatives of derivatives are not supported yet (a later "
        "version builds them).\n"
        "For a second derivative, write the first derivative as a Python function of your own "
        "(for x ** 3: def dcube(x): return 3.0 * x ** 2) and differentiate that, or take central "
        "differences of the gradient: (df(x + h) - df(x - h)) / (2 * h).")


def _packed_hint(fn: Callable, params: list[inspect.Parameter], api: str = "grad") -> str:
    """Why nothing matched in a function that packs its arguments into *args/**kwargs, a
    decorator's wrapper most often: sourcegrad differentiates the function called, with
    respect to its own parameters, never the function the wrapper wraps."""
    if not any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        return ""
    inner = getattr(fn, "__wrapped__", None)
    made = "" if inner is None else (
        f" is a wrapper a decorator made around "
        f"{getattr(inner, '__qualname__', repr(inner))} (functools.wraps gave it that name); it")
    hint = (f".\n{fn.__name__}{made} takes {_signature(fn)}, and sourcegrad differentiates "
            "the function you call with respect to its own parameters. Give it named "
            "parameters (def wrapper(x, *args, **kwargs))")
    if inner is not None:
        hint += (", or, if the decorator leaves the value unchanged, differentiate the function "
                 f"inside: {api}({fn.__name__}.__wrapped__)")
    return hint + "."


def _wrt_names(fn: Callable, wrt: Wrt) -> tuple[list[str], bool]:
    """The parameter names `wrt` designates, and whether one value (not a tuple) is wanted."""
    params = _parameters(fn)
    names = [p.name for p in params]
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY,
                                                       p.POSITIONAL_OR_KEYWORD)]
    single = not isinstance(wrt, tuple)
    chosen = []
    for item in (wrt,) if single else wrt:
        if isinstance(item, bool) or not isinstance(item, (int, str)):
            raise WrtError(f"wrt must be a parameter index, a parameter name, or a tuple of "
                           f"those; got {item!r}")
        if isinstance(item, int):
            if not -len(positional) <= item < len(positional):
                raise WrtError(f"wrt={item} is out of range: {fn.__name__} has "
                               f"{len(positional)} positional parameters ({', '.join(positional)})"
                               + _packed_hint(fn, params))
            item = positional[item]
        elif item not in names:
            raise WrtError(f"wrt={item!r} names no parameter of {fn.__name__}; its parameters "
                           f"are: {', '.join(names)}" + _packed_hint(fn, params))
        if item in chosen:
            raise WrtError(f"wrt names the parameter {item!r} twice")
        chosen.append(item)
    if not chosen:
        raise WrtError("wrt is empty: name at least one parameter")
    return chosen, single


def _bind(signature: inspect.Signature, args: tuple, kwargs: dict) -> dict[str, Any]:
    """Each parameter's value in this call, as Python binds it (*args and **kwargs pack)."""
    params = signature.parameters
    if not kwargs and len(args) == len(params) and all(
            p.kind <= p.POSITIONAL_OR_KEYWORD for p in params.values()):
        return dict(zip(params, args, strict=True))  # the common case, fast
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def _as_differentiable(value: Any, name: str, fn_name: str) -> Any:
    """Floats and float arrays pass; ints become floats; lists, tuples and dicts of those keep
    their structure; anything else is an error."""
    if type(value) is float or type(value) is np.ndarray and value.dtype.kind in "fc":
        return value
    if isinstance(value, (complex, np.complexfloating)):
        return value  # the gradient follows the convention in the README (dL/du - i dL/dv)
    if isinstance(value, (list, tuple)):
        return type(value)(_as_differentiable(v, f"{name}[{i}]", fn_name)
                           for i, v in enumerate(value))
    if isinstance(value, dict):
        return {k: _as_differentiable(v, f"{name}[{k!r}]", fn_name) for k, v in value.items()}
    if is_plain_object(value):
        _refuse_foreign_array(value, name, fn_name)
        return value  # an object holding arrays: its float and array attributes get gradients
    if isinstance(value, (bool, np.bool_)):
        raise NonDifferentiableInputError(
            f"cannot differentiate {fn_name} with respect to {name}: it is a bool")
    if isinstance(value, (float, np.floating)):
        return value
    if isinstance(value, (int, np.integer)):
        return float(value)
    if isinstance(value, np.ndarray):
        if np.issubdtype(value.dtype, np.floating):
            return value
        if np.issubdtype(value.dtype, np.integer):
            return value.astype(np.float64)
    _refuse_foreign_array(value, name, fn_name)
    kind = _type_name(value)
    if isinstance(value, np.ndarray):
        kind += f" of {value.dtype}"
    raise NonDifferentiableInputError(
        f"cannot differentiate {fn_name} with respect to {name}: it is a {kind}; "
        "sourcegrad differentiates with respect to floats and float arrays, lists, tuples and "
        "dicts of those, and dataclasses or objects of your own classes holding them.\n"
        f"Pass {name} as a NumPy array (np.asarray({name}, dtype=float)), or keep it out of wrt "
        "if it needs no gradient.")


def _refuse_real(value: Any, name: str, fn_name: str) -> None:
    """`holomorphic=True` differentiates with respect to complex inputs, as JAX does: a real
    one would give the derivative of the real part along the real axis only."""
    leaves = value.values() if isinstance(value, dict) else value if isinstance(
        value, (list, tuple)) else [value]
    if not all(np.iscomplexobj(leaf) for leaf in leaves):
        raise NonDifferentiableInputError(
            f"grad(..., holomorphic=True) of {fn_name} takes complex inputs, and {name} is "
            f"real: pass it as a complex number or array ({name} + 0j, "
            f"np.asarray({name}, dtype=complex)).")


def _type_name(value: Any) -> str:
    """`ndarray`, `float`; a library's type with its module: `torch.Tensor`."""
    cls = type(value)
    if cls.__module__ in ("builtins", "numpy"):
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def _refuse_foreign_array(value: Any, name: str, fn_name: str) -> None:
    """An array of another library (a torch tensor, a JAX or CuPy array, a pandas Series), as
    the argument, an item or an attribute, is refused: taken for an object, it came back
    unchanged as its own "gradient". Its arithmetic is its library's, not NumPy's."""
    found = _foreign_array_in(value, name, set())
    if found is None:
        return
    where, array = found
    raise NonDifferentiableInputError(
        f"cannot differentiate {fn_name} with respect to {where}: it is a "
        f"{_type_name(array)}, an array of another library. sourcegrad differentiates NumPy "
        "code and takes NumPy arrays; the operations of this one are its library's own.\n"
        f"Convert it first: np.asarray({where}) (a torch tensor: {where}.detach().cpu().numpy(), "
        f"a pandas object: {where}.to_numpy()); the gradient comes back as a NumPy array.")


def _foreign_array_in(value: Any, name: str, seen: set[int]) -> tuple[str, Any] | None:
    """The first array of another library in `value`: itself, an item of a list, tuple or
    dict, or an attribute of a user's object; with the expression that reaches it."""
    if is_foreign_array(value):
        return name, value
    if id(value) in seen:
        return None
    seen.add(id(value))
    if isinstance(value, (list, tuple)):
        parts = [(f"{name}[{i}]", v) for i, v in enumerate(value)]
    elif isinstance(value, dict):
        parts = [(f"{name}[{k!r}]", v) for k, v in value.items()]
    elif is_plain_object(value):
        parts = [(f"{name}.{k}", v) for k, v in vars(value).items()]
    else:
        return None
    for where, part in parts:
        found = _foreign_array_in(part, where, seen)
        if found is not None:
            return found
    return None


def _is_differentiable(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return bool(value) and all(_is_differentiable(v) for v in value)
    if isinstance(value, dict):
        return bool(value) and all(_is_differentiable(v) for v in value.values())
    if is_plain_object(value):
        return any(_is_differentiable(v) for v in vars(value).values())
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (float, np.floating, complex, np.complexfloating)):
        return True
    return isinstance(value, np.ndarray) and value.dtype.kind in "fc"


def _shaped_like(gradient: Any, arg: Any, inputs: list[Any]) -> Any:
    """A float for a float argument; an owned array of the argument's shape and dtype; the
    same structure (list, tuple, dict) for a container of those."""
    if type(arg) is float and type(gradient) in (float, np.float64):
        return float(gradient)
    if isinstance(arg, (list, tuple, dict)):
        return _container_like(gradient, arg, inputs)
    if is_plain_object(arg):
        return _object_like(gradient, arg, inputs)
    if not isinstance(arg, np.ndarray):
        value = np.asarray(gradient)
        if np.iscomplexobj(value) and not isinstance(arg, (complex, np.complexfloating)):
            value = value.real
        if value.shape != ():
            raise InternalError(f"gradient of shape {value.shape} for a scalar argument")
        if isinstance(arg, np.generic):
            return type(arg)(value)
        return complex(value) if isinstance(arg, complex) else float(value)
    gradient = np.asarray(gradient)
    if np.iscomplexobj(gradient) and not np.iscomplexobj(arg):
        gradient = gradient.real  # a real argument's gradient: the real part (see README)
    gradient = gradient.astype(arg.dtype, copy=False)
    if gradient.shape != arg.shape:
        if gradient.shape == () and gradient == 0:
            return np.zeros_like(arg)
        raise InternalError(f"gradient of shape {gradient.shape} for an argument of shape "
                            f"{arg.shape}")
    if not gradient.flags.writeable or any(
            isinstance(x, np.ndarray) and np.may_share_memory(gradient, x) for x in inputs):
        gradient = gradient.copy()
    return gradient


def _container_like(gradient: Any, arg: Any, inputs: list[Any]) -> Any:
    if isinstance(gradient, (int, float)) and gradient == 0:  # no contribution at all
        gradient = zeros_like(arg)
    if isinstance(arg, dict):
        return {k: _shaped_like(gradient[k], v, inputs) for k, v in arg.items()}
    return type(arg)(_shaped_like(g, v, inputs) for g, v in zip(gradient, arg, strict=True))


def _object_like(gradient: Any, arg: Any, inputs: list[Any]) -> Any:
    """A copy of the object whose float and array attributes hold their gradients (the others
    keep their values): a dataclass of parameters gives a dataclass of gradients."""
    if isinstance(gradient, (int, float)) and gradient == 0:
        gradient = zeros_like(arg)
    fields = {k: _shaped_like(gradient[k], v, inputs) for k, v in vars(arg).items()
              if _is_differentiable(v) and k in gradient}
    if dataclasses.is_dataclass(arg):
        return dataclasses.replace(arg, **fields)
    result = copy.copy(arg)
    for key, value in fields.items():
        setattr(result, key, value)
    return result


def _check_scalar(value: Any, fn: Callable, holomorphic: bool = False) -> None:
    if type(value) in (float, np.float64):
        return
    if holomorphic and np.ndim(value) == 0:
        return  # a complex number: its derivative f'(z)
    if np.ndim(value) == 0 and np.iscomplexobj(value):
        raise NonScalarOutputError(
            f"grad requires {fn.__name__} to return a real number, but it returned the complex "
            f"number {complex(value)!r}: the gradient of a complex output is not defined by one "
            "number (sourcegrad's convention for complex inputs is in the README).\n"
            "For a holomorphic function, grad(f, holomorphic=True) gives f'(z); else "
            "differentiate a real quantity of it (np.real(...), np.abs(...) ** 2), or use "
            "sourcegrad.vjp(f, *args), whose pullback takes a complex seed.")
    if np.ndim(value) != 0 or not np.isrealobj(value):
        shape = np.shape(value)
        raise NonScalarOutputError(
            f"grad requires {fn.__name__} to return a scalar, but it returned "
            f"{'an array of shape ' + str(shape) if shape else type(value).__name__}.\n"
            "For a vector-valued function use sourcegrad.vjp(f, *args), whose pullback takes "
            "a seed of the output's shape, or reduce the output to a scalar (np.sum).")


class Derivative:
    """The callable `grad(f)` returns. `.source` is the emitted module; printing shows it."""

    def __init__(self, fn: Callable, wrt: Wrt, with_value: bool,
                 options: BuildOptions = DEFAULT, has_aux: bool = False,
                 holomorphic: bool = False):
        _refuse_derivative(fn)
        fn = called(fn)
        self._fn, self._bound = unbound(fn)
        if not inspect.isfunction(self._fn) and callable(self._fn):
            raise SourceUnavailableError(
                f"cannot differentiate {getattr(self._fn, '__qualname__', repr(self._fn))}: it "
                f"is a {type(self._fn).__name__}, not a Python function with source code, and "
                "has no derivative rule. sourcegrad transforms the source of functions written "
                "in Python; for compiled code, register a derivative rule with "
                "@sourcegrad.adjoint.")
        self._wrt, self._single = _wrt_names(fn, wrt)
        self._with_value = with_value
        self._has_aux = has_aux  # fn returns (loss, aux): the gradient is the loss's
        # fn is complex-differentiable: its complex output's derivative f'(z). The adjoint with
        # the seed 1.0 is the gradient of Re f, dRe f/du - i dRe f/dv, which is f'(z) by the
        # Cauchy-Riemann equations (README: complex convention)
        self._holomorphic = holomorphic
        self._options = options  # how to build: only sourcegrad.verify changes them
        self._params = [p.name for p in _parameters(self._fn)]
        self._signature = _signature(fn)
        _name_after(self, fn, self._signature)

    def _module(self, args: tuple) -> EmittedModule:
        """The derivative specialized on the shapes of `args` (abstract values)."""
        def build() -> EmittedModule:
            builder = ModuleBuilder(self._options)
            if self._has_aux:  # the pair's adjoint is seeded (1.0, zeros for aux)
                forward, backward = builder.add_split(self._fn, tuple(self._wrt), args)
                return builder.finish(f"{forward} {backward}", f"d{self._fn.__name__}")
            entry = builder.add_gradient(self._fn, self._wrt, args)
            return builder.finish(entry, f"d{self._fn.__name__}")
        self._last_args = args
        kind = "grad with aux" if self._has_aux else "grad"
        return cache.lookup(self._fn, (kind, tuple(self._wrt), args, self._options), build)

    @property
    def source(self) -> str:
        """The emitted module, for the arguments of the last call (shapes unknown before)."""
        return self._module(getattr(self, "_last_args", self._unknown_args())).source

    def _unknown_args(self) -> tuple:
        return tuple(of_value(None) for _ in self._params)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        values = _bind(self._signature, args, kwargs)
        values.update(self._bound)
        for name in self._wrt:
            values[name] = _as_differentiable(values[name], name, self._fn.__name__)
            if self._holomorphic:
                _refuse_real(values[name], name, self._fn.__name__)
        inputs = [values[p] for p in self._params]
        module = self._module(tuple(of_value(v) for v in inputs))
        if self._has_aux:
            value, aux, grads = self._with_aux(module, inputs)
        else:
            value, grads = module.namespace[module.entry](*inputs)
            _check_scalar(value, self._fn, self._holomorphic)
        grads = (grads,) if len(self._wrt) == 1 else grads
        shaped = tuple(_shaped_like(g, values[n], inputs) for g, n in zip(grads, self._wrt,
                                                                          strict=True))
        result = shaped[0] if self._single else shaped
        if self._has_aux:
            return ((value, aux), result) if self._with_value else (result, aux)
        return (value, result) if self._with_value else result

    def _with_aux(self, module: EmittedModule, inputs: list[Any]) -> tuple[Any, Any, Any]:
        """The loss, the aux and the loss's gradients, for `fn` returning `(loss, aux)`."""
        forward, backward = module.entry.split()
        out, tape = module.namespace[forward](*inputs)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise NonScalarOutputError(
                f"with has_aux=True, {self._fn.__name__} must return a pair (loss, aux), but "
                f"it returned {type(out).__name__}"
                + (f" of {len(out)} items" if isinstance(out, (tuple, list)) else "")
                + ".\nReturn `loss, aux` (aux may be anything: a dict, a tuple of arrays).")
        loss, aux = out
        _check_scalar(loss, self._fn, self._holomorphic)
        seed = type(out)([1.0, zeros_like(aux)])
        return loss, aux, module.namespace[backward](tape, seed)

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return (f"<sourcegrad derivative of {self._fn.__qualname__} with respect to "
                f"{', '.join(self._wrt)}>")


def _name_after(derivative: Derivative, fn: Callable, signature: inspect.Signature) -> None:
    """`fn`'s name, docstring and signature on its derivative, for `help` and editors. Not
    `functools.update_wrapper`: its `__wrapped__` (and a decorated `fn`'s own, copied with
    `fn.__dict__`) made `inspect`, and sourcegrad, take the derivative for `fn`."""
    for attribute in ("__module__", "__name__", "__qualname__", "__doc__"):
        if hasattr(fn, attribute):
            setattr(derivative, attribute, getattr(fn, attribute))
    derivative.__signature__ = signature


def grad(fn: Callable | None = None, wrt: Wrt = 0, has_aux: bool = False,
         holomorphic: bool = False) -> Any:
    """The gradient of a scalar function `fn` with respect to the parameters `wrt` names.

    Usable as `grad(f)`, `@grad` and `@grad(wrt=...)`. `wrt` is a positional index, a
    parameter name, or a tuple of those (then a tuple of gradients comes back). With
    `has_aux`, `fn` returns `(loss, aux)` and the derivative `(gradient, aux)`; with
    `holomorphic`, `fn` maps complex inputs to a complex number and the derivative is f'(z);
    both as in JAX.
    """
    options = {"has_aux": has_aux, "holomorphic": holomorphic}
    if fn is None:
        return lambda f: Derivative(f, wrt, with_value=False, **options)
    return Derivative(fn, wrt, with_value=False, **options)


def value_and_grad(fn: Callable | None = None, wrt: Wrt = 0, has_aux: bool = False,
                   holomorphic: bool = False) -> Any:
    """Like `grad`, but the callable returns `(value, gradient)`, the value computed once;
    with `has_aux`, `((loss, aux), gradient)`."""
    options = {"has_aux": has_aux, "holomorphic": holomorphic}
    if fn is None:
        return lambda f: Derivative(f, wrt, with_value=True, **options)
    return Derivative(fn, wrt, with_value=True, **options)


def vjp(fn: Callable, *args: Any, **kwargs: Any) -> tuple[Any, Callable[[Any], tuple]]:
    """Run `fn(*args, **kwargs)`; return its output and a pullback.

    `pullback(seed)` returns one cotangent per positional argument: `sum(seed * d out / d arg)`,
    shaped like the argument, or None for ints, bools and other non-differentiable arguments.
    """
    fn = rule_function(fn) or fn  # `vjp(np.sin, x)`
    params = _parameters(fn)
    values = _bind(_signature(fn), args, kwargs)
    names = [p.name for p in params]
    positional = _positional_names(fn, params, len(args))
    for name in positional:
        _refuse_foreign_array(values[name], name, fn.__name__)
    active = tuple(n for n in positional if _is_differentiable(values[n]))

    inputs = [values[n] for n in names]
    shapes = tuple(of_value(v) for v in inputs)

    def build() -> EmittedModule:
        builder = ModuleBuilder()
        forward, backward = builder.add_split(fn, active, shapes)
        return builder.finish(forward + " " + backward, f"vjp {fn.__name__}")

    module = cache.lookup(fn, ("vjp", active, shapes), build)
    forward, backward = module.entry.split()
    out, tape = module.namespace[forward](*inputs)

    def pullback(seed: Any) -> tuple:
        if _structure(seed) != _structure(out):
            raise NonScalarOutputError(
                f"the seed is shaped {_structure(seed)} but {fn.__name__} returned "
                f"{_structure(out)}: pass a seed shaped like the output")
        grads = module.namespace[backward](_fresh(tape), seed) if active else ()
        grads = (grads,) if len(active) == 1 else grads
        by_name = dict(zip(active, grads, strict=True))
        return tuple(_shaped_like(by_name[n], values[n], inputs + [seed]) if n in by_name
                     else None for n in positional)

    setattr(pullback, _PULLBACK, f"the pullback vjp returned for {fn.__qualname__}")
    return out, pullback


def _positional_names(fn: Callable, params: list[inspect.Parameter], count: int) -> list[str]:
    """The parameter each of `count` positional arguments binds to. A pullback gives one
    cotangent per positional argument: arguments packed into *args (by a decorator's wrapper,
    often) are refused rather than answered for the whole tuple."""
    named = [p.name for p in params if p.kind <= p.POSITIONAL_OR_KEYWORD]
    if count > len(named):
        raise WrtError(f"vjp gives one cotangent per positional argument, and {fn.__name__} "
                       f"packs {count - len(named)} of the {count} into its *args"
                       + _packed_hint(fn, params, "vjp"))
    return named[:count]


def _fresh(tape: Any) -> Any:
    """A copy of the tape the backward function may consume (it pops stacks and puts back
    what writes overwrote), so that a pullback can run more than once."""
    return copy.deepcopy(tape)


def _structure(value: Any) -> Any:
    """The shape of a value, or of each item of a list, tuple or dict of values."""
    if isinstance(value, (list, tuple)):
        return tuple(_structure(v) for v in value)
    if isinstance(value, dict):
        return {k: _structure(v) for k, v in value.items()}
    return np.shape(value)


def show(fn: Callable, wrt: Wrt = 0) -> None:
    """Print the derivative sourcegrad emits for `fn` with respect to `wrt`."""
    print(grad(fn, wrt).source)
