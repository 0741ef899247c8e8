"""Calls of functions held in variables: `loss = make_loss(t, 2.0); loss(pred)`,
`ACTIVATIONS[name](x)`, `for f in transforms: x = f(x)`, `layer(h)` for an object of the user's.

Which function such a call runs is known only when it runs. The derivative calls it through
`call_function_value` (`call_object_value` when the value itself carries a gradient: an
object whose attributes do), which differentiates the function it finds as `vjp` would
(cached per function and argument shapes), runs its forward function, and hands back the
value with a pullback: `y, y_pullback = call_function_value(f, x)` in the primal,
`df, dx = y_pullback(dy)` in the adjoint. Where no gradient flows, `run_function_value`.

What such a function does to its arguments is checked when it runs: one that changes an
argument in place, or that captured values carrying a gradient (a closure made from them),
is refused there, with the reason.
"""

from __future__ import annotations

import copy
import functools
import inspect
from typing import Any

from . import cache
from .analysis.abstract import is_plain_object, of_value
from .callables import rule_function
from .errors import UnsupportedSyntaxError
from .normalize.closures import LiftedFunction
from .normalize.mutations import call_effects
from .parse import is_library_function, is_user_class


def forward_of(fn: Any, args: tuple, kwargs: dict, carries_gradient: bool
               ) -> tuple[Any, _Pullback]:
    """`fn(*args, **kwargs)` and the pullback giving `(d fn, *d args)`: the adjoint of the
    object `fn` is, for an object called through `__call__` (0.0 for a function), and of each
    positional argument. Keyword arguments are constants (the derivative refuses active ones)."""
    target, leading = _target(fn, carries_gradient)
    full = (*leading, *args)
    values = _bound(target, full, kwargs)
    _refuse_changes(target, values)
    params = list(values)
    active = tuple(p for p in params[:len(full)] if _carries_gradient(values[p]))
    shapes = tuple(of_value(values[p]) for p in params)
    module = cache.lookup(target, ("call of a value", active, shapes),
                          lambda: _build(target, active, shapes))
    forward, backward = module.entry.split()
    out, tape = module.namespace[forward](*values.values())
    return out, _Pullback(module.namespace[backward], tape, active, params[:len(full)],
                          bool(leading))


class _Pullback:
    """`(d fn, *d args)` from the output's adjoint, by the backward function of the call.
    Running it consumes its tape (stacks are popped); a copy of it (`copy.deepcopy`, which a
    `vjp` pullback makes of its whole tape on every call) has a tape of its own."""

    def __init__(self, backward, tape, active: tuple[str, ...], params: list[str],
                 bound_first: bool):
        self.backward, self.tape, self.active = backward, tape, active
        self.params, self.bound_first = params, bound_first

    def __call__(self, dout: Any) -> tuple:
        grads = self.backward(self.tape, dout) if self.active else ()
        by_name = dict(zip(self.active, (grads,) if len(self.active) == 1 else grads,
                           strict=True))
        per_argument = [by_name.get(p, 0.0) for p in self.params]
        own = per_argument[0] if self.bound_first else 0.0
        return (own, *per_argument[int(self.bound_first):])

    def __deepcopy__(self, memo: dict) -> _Pullback:
        return _Pullback(self.backward, copy.deepcopy(self.tape, memo), self.active,
                         self.params, self.bound_first)


def run_checked(fn: Any, args: tuple, kwargs: dict) -> Any:
    """`fn(*args, **kwargs)` where no gradient flows through the call: run as written, once
    sure a function of the user's does not change its arguments (the derivative would not see
    it). A library's function runs as is."""
    try:
        target, leading = _target(fn, carries_gradient=False)
    except UnsupportedSyntaxError:
        return fn(*args, **kwargs)
    _refuse_changes(target, _bound(target, (*leading, *args), kwargs))
    return fn(*args, **kwargs)


def _build(target: Any, active: tuple[str, ...], shapes: tuple):
    from .module import ModuleBuilder  # noqa: PLC0415 - module imports the runtime

    builder = ModuleBuilder()
    forward, backward = builder.add_split(target, active, shapes)
    return builder.finish(f"{forward} {backward}", f"call of {target.__name__}")


def _target(fn: Any, carries_gradient: bool) -> tuple[Any, tuple]:
    """The Python function a call of `fn` runs, and the arguments bound before the call."""
    leading: tuple = ()
    call = getattr(type(fn), "__call__", None)  # noqa: B004 - the class's own method
    if is_user_class(type(fn)) and inspect.isfunction(call):
        return call, (fn,)
    if inspect.ismethod(fn):
        return fn.__func__, (fn.__self__,)
    if isinstance(fn, functools.partial):
        if fn.keywords:
            raise _error(fn, "a functools.partial with keywords held in a variable")
        inner, leading = _target(fn.func, carries_gradient)
        return inner, (*leading, *fn.args)
    if inspect.isfunction(fn) and not is_library_function(fn) or isinstance(fn, LiftedFunction):
        if carries_gradient and _captures_values(fn):
            raise _error(fn, "a function that captured values which may carry a gradient "
                             "(a closure made from them)",
                         "Pass those values to it as arguments instead of capturing them.")
        return fn, leading
    wrapped = rule_function(fn)
    if wrapped is not None:
        return wrapped, leading
    raise _error(fn, f"a {type(fn).__name__} with no source sourcegrad reads and no rule",
                 "Call a function of yours, or one that has a rule, by this variable.")


def _captures_values(fn: Any) -> bool:
    """Whether a closure's cells hold numbers, arrays, containers or objects (not functions,
    classes or modules)."""
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if not (callable(value) or inspect.ismodule(value)) or is_plain_object(value):
            return True
    return False


def _bound(target: Any, args: tuple, kwargs: dict) -> dict[str, Any]:
    """Each parameter's value, defaults filled in; `*args`/`**kwargs` parameters refused."""
    signature = inspect.signature(target, follow_wrapped=False)
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in signature.parameters.values()):
        raise _error(target, "a function taking *args or **kwargs, held in a variable",
                     "Give it named parameters, or call it by its name.")
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def _refuse_changes(target: Any, values: dict[str, Any]) -> None:
    """A function held in a variable that changes an argument in place: the derivative of
    the caller could not see it (it follows such changes for functions called by name)."""
    effects = call_effects(target)
    if effects.unreadable is not None:
        raise effects.unreadable
    changed = set(effects.changed | effects.rebound | effects.by_method)
    for param, method in effects.methods:
        owner = type(values.get(param))
        if is_user_class(owner) and _changes_object(owner, method):
            changed.add(param)
    if changed:
        raise _error(target, f"a function that changes its argument {sorted(changed)[0]} in "
                             "place, held in a variable",
                     "Call it by its name (step(state, x)), where sourcegrad follows the "
                     "change, or return the new value.")


def _changes_object(cls: type, method: str) -> bool:
    from .analysis.method_changes import method_change  # noqa: PLC0415

    return method_change(cls, method, None) is not None


def _carries_gradient(value: Any) -> bool:
    from .api import _is_differentiable  # noqa: PLC0415 - api imports this module's users

    return _is_differentiable(value)


def _error(fn: Any, what: str, hint: str = "") -> UnsupportedSyntaxError:
    name = getattr(fn, "__qualname__", repr(fn))
    return UnsupportedSyntaxError(
        f"the derivative called {name}, {what}: sourcegrad cannot differentiate this call",
        None, why="Which function a variable holds is known only when the call runs.",
        hint=hint)
