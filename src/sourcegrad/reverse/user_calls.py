"""The adjoint of a call of one of the user's own functions, for `statements.AssignAdjoint`.

The primal statement calls the callee's forward function (`y, g_tape = g_forward(x, w)`), the
adjoint block its backward function (`dx, dw = g_backward(g_tape, dy)`), once per set of active
parameters; defaults are made explicit. A call that changes an argument in place, which
normalization did not turn into a call of a variant returning it (a method, say), is refused.
"""

from __future__ import annotations

import inspect

import gast

from ..analysis.calls import call_label
from ..errors import UnsupportedSyntaxError
from ..gastutil import assign, clone, const, load, store, target_names
from ..normalize.mutations import call_effects
from .accumulate import accumulate
from .renamed import original, rename_back


class UserCalls:
    """Mixed into `statements.AssignAdjoint`."""

    def _user_call(self, fn, call: gast.Call, dresult: gast.expr) -> None:
        params, args = self._bind_user_call(fn, call)
        self._refuse_unfollowed_changes(fn, call, params, args)
        active = tuple(p for p, a in zip(params, args, strict=True)
                       if isinstance(a, gast.Name) and self.ctx.is_active(original(self, a.id)))
        if not active:
            return
        shapes = tuple(self.ctx.shapes.value(rename_back(self, a), self.env) for a in args)
        forward, backward = self.ctx.request_callee(fn, active, shapes,
                                                    getattr(self.stmt, "origin", None))
        tape = self.ctx.namer.fresh(f"{fn.__name__}_tape")
        self.ctx.local_names.add(tape)
        self.targets = self.targets + [tape]
        primal_args = [rename_back(self, a) for a in args]
        # the tape may hold the arguments themselves (arrays, lists, objects), not copies: a
        # later write into one must be undone before the backward function reads the tape
        self.held_by_tape |= {a.id for a in primal_args if isinstance(a, gast.Name)
                              and a.id not in self.targets}
        self.held_by_tape |= self._written_results()
        self.primal = assign(
            gast.Tuple(elts=[clone(self.target), store(tape)], ctx=gast.Store()),
            gast.Call(func=load(forward), args=primal_args, keywords=[]), self.stmt)
        grads = gast.Call(func=load(backward), args=[load(tape), dresult], keywords=[])
        targets = [args[params.index(p)].id for p in active]
        self._accumulate_call_result(targets, grads, fn.__name__)

    def _written_results(self) -> set[str]:
        """The call's results that are written into later: one may be a view of a value the
        callee's tape holds (`return np.linalg.inv(a)[0]`), whose backward would read what the
        write left; the write is undone before the backward runs, as for an argument."""
        return {t for t in target_names(self.target) if t in self.ctx.written}

    def _accumulate_call_result(self, targets: list[str], grads: gast.expr, label: str) -> None:
        originals = [original(self, t) for t in targets]
        if len(originals) == 1:
            accumulate(self.ctx, self.state, originals[0], grads, self.code)
            return
        fresh_targets = len(set(originals)) == len(originals) and not any(
            o in self.state.init for o in originals)
        if fresh_targets:
            names = [self.ctx.namer.adjoint(o) for o in originals]
            self.code.append(assign(gast.Tuple(elts=[store(n) for n in names], ctx=gast.Store()),
                                    grads))
            for o in originals:
                self.state.init.add(o)
                self.state.owned.discard(o)
            return
        temps = [self.ctx.namer.fresh(f"d{o}_{label}") for o in originals]
        self.code.append(assign(gast.Tuple(elts=[store(t) for t in temps], ctx=gast.Store()),
                                grads))
        for o, t in zip(originals, temps, strict=True):
            accumulate(self.ctx, self.state, o, load(t), self.code)

    def _refuse_unfollowed_changes(self, fn, call: gast.Call, params: list[str],
                                   args: list[gast.expr]) -> None:
        """A call that changes an argument in place, which normalization did not turn into a
        call of a variant returning it (normalize/mutations.py): a method, say."""
        effects = call_effects(fn)
        for param in sorted((effects.changed | effects.rebound)
                            - set(getattr(fn, "changes", ()))):
            arg = args[params.index(param)]
            if isinstance(arg, gast.Name) and self.ctx.shapes.value(
                    rename_back(self, arg), self.env).shape == () or isinstance(
                    arg, gast.Constant) and isinstance(arg.value, (int, float, complex)):
                continue  # a number: changing it rebinds the callee's name only
            if self._rebinds_the_change(arg, param in effects.always_returned):
                continue
            what = call_label(call.func)
            if self._left_to_default(fn, call, param):
                raise UnsupportedSyntaxError(
                    f"{what} changes the default value of its parameter {param} in place",
                    getattr(self.stmt, "origin", None),
                    why="A default is made once, when the function is defined: every call "
                        "would see the changes of the calls before.",
                    hint=f"Pass {param} explicitly, or make a new array in the function "
                         f"({param} = np.zeros(...) when None is passed).")
            raise UnsupportedSyntaxError(
                f"{what} changes its argument {param} in place (an array written into, an "
                "attribute set), which sourcegrad cannot follow back to this call",
                getattr(self.stmt, "origin", None),
                why="sourcegrad follows such changes for calls of a function by its name "
                    "(step(state, x)), not for methods or functions held in variables.",
                hint=f"Write it as a function called by name ({fn.__name__}({param}, ...) "
                     "at module level), or have it return the new value and bind that at the "
                     "call.")

    @staticmethod
    def _left_to_default(fn, call: gast.Call, param: str) -> bool:
        try:
            bound = inspect.signature(fn, follow_wrapped=False).bind_partial(
                *(a for a in call.args if not isinstance(a, gast.Starred)),
                **{k.arg: k.value for k in call.keywords if k.arg is not None})
        except TypeError:
            return False
        return param not in bound.arguments

    def _rebinds_the_change(self, arg: gast.expr, returned: bool) -> bool:
        """`traj = sim.step(traj, t)` where step returns the array it changed, and no other
        name holds it: binding the result is all the change there is."""
        target = self.stmt.targets[0] if isinstance(self.stmt, gast.Assign) else None
        if not (returned and isinstance(arg, gast.Name) and isinstance(target, gast.Name)
                and rename_back(self, arg).id == target.id):
            return False
        sharers = getattr(self.stmt, "argument_sharers", None)
        return sharers is not None and all(
            self.ctx.shapes.value(load(s), self.env).shape == () for s in sharers)

    def _bind_user_call(self, fn, call: gast.Call) -> tuple[list[str], list[gast.expr]]:
        """Every parameter of `fn` with the expression passed for it (defaults made explicit)."""
        signature = inspect.signature(fn, follow_wrapped=False)  # the wrapper, as called
        params = list(signature.parameters)
        # ANF packed *args and **kwargs into one variable each: `f(a, *xs, **kw)`
        star = next((a.value for a in call.args if isinstance(a, gast.Starred)), None)
        double_star = next((kw.value for kw in call.keywords if kw.arg is None), None)
        positional = [a for a in call.args if not isinstance(a, gast.Starred)]
        named = {kw.arg: kw.value for kw in call.keywords if kw.arg is not None}
        try:
            bound = signature.bind_partial(*positional, **named)
        except TypeError as exc:
            raise UnsupportedSyntaxError(f"the call of {fn.__name__} does not match its "
                                         f"signature: {exc}",
                                         getattr(self.stmt, "origin", None)) from None
        args = []
        for name, param in signature.parameters.items():
            if param.kind is param.VAR_POSITIONAL:
                args.append(star or gast.Tuple(elts=[], ctx=gast.Load()))
            elif param.kind is param.VAR_KEYWORD:
                args.append(double_star or gast.Dict(keys=[], values=[]))
            elif name in bound.arguments:
                args.append(bound.arguments[name])
            else:
                args.append(self._default(fn, param.default))
        return params, args

    def _default(self, fn, value) -> gast.expr:
        if value is None or isinstance(value, (bool, int, float, str)):
            return const(value)
        return load(self.ctx.bind_value(value, f"{fn.__name__}_default"))
