"""The adjoint of a call of a function held in a variable, for `statements.AssignAdjoint`:
`loss(pred)` after `loss = make_loss(t, 2.0)`, `f(x)` in `for f in transforms`, `layer(h)`.

Which function runs is known only at run time, so the primal calls it through the runtime
(`y, y_pullback = call_function_value(f, x)`, sourcegrad/dynamic.py), which differentiates the
function it finds; the adjoint block calls the pullback (`dparts = y_pullback(dy)`: the
adjoint of the value itself first, then one per positional argument) and adds the parts to the
active names. A value that carries a gradient itself (an object of the user's with active
attributes) is called with `call_object_value`, which refuses a closure that captured values.
"""

from __future__ import annotations

import gast

from ..analysis.calls import call_label
from ..errors import UnsupportedSyntaxError
from ..gastutil import assign, clone, const, load, store
from .accumulate import accumulate
from .renamed import original, rename_back


def is_value_call(call: gast.expr, local_names: set[str]) -> bool:
    """A call of a function held in one of the function's own variables."""
    return isinstance(call, gast.Call) and isinstance(call.func, gast.Name) and \
        call.func.id in local_names


def run_value_call(stmt: gast.Assign | gast.Expr) -> gast.stmt:
    """`y = f(x)` where no gradient flows: `y = run_function_value(f, x)`, which refuses a
    function of the user's that changes its arguments (nothing would follow the change)."""
    call = stmt.value
    run = gast.Call(func=load("run_function_value"), args=[call.func, *call.args],
                    keywords=call.keywords)
    if isinstance(stmt, gast.Expr):
        result = gast.Expr(value=run)
        result.origin = getattr(stmt, "origin", None)
        return result
    return assign(stmt.targets[0], run, stmt)


class ValueCalls:
    """Mixed into `statements.AssignAdjoint`."""

    def _value_call(self, call: gast.Call, dresult: gast.expr) -> None:
        """`fn` is a variable, or an attribute of an object (`self.activation`): then the
        function itself gets no adjoint, but a closure over the object's values is refused."""
        fn = call.func
        self._refuse_active_keywords(call)
        holder = fn if isinstance(fn, gast.Name) else fn.value
        carrying = self.ctx.is_active(original(self, holder.id))
        pullback = self.ctx.namer.fresh(f"{_label(self.target)}_pullback")  # fn: a name or
        # an attribute of one, both atoms the primal reads again
        self.ctx.local_names.add(pullback)
        self.targets = self.targets + [pullback]
        primal_args = [rename_back(self, a) for a in [fn, *call.args]]
        # the pullback's tape may hold the arguments themselves: a later write into one is
        # undone before the pullback runs, as for a user call's tape
        self.held_by_tape |= {a.id for a in primal_args if isinstance(a, gast.Name)
                              and a.id not in self.targets} | self._written_results()
        runner = "call_object_value" if carrying else "call_function_value"
        self.primal = assign(
            gast.Tuple(elts=[clone(self.target), store(pullback)], ctx=gast.Store()),
            gast.Call(func=load(runner), args=primal_args, keywords=call.keywords), self.stmt)
        parts = self.ctx.namer.fresh(f"d{_label(self.target)}_parts")
        self.code.append(assign(parts, gast.Call(func=load(pullback), args=[dresult],
                                                 keywords=[])))
        for index, arg in enumerate([fn, *call.args]):  # an attribute `self.act`: skipped
            if isinstance(arg, gast.Name) and self.ctx.is_active(original(self, arg.id)):
                part = gast.Subscript(value=load(parts), slice=const(index), ctx=gast.Load())
                accumulate(self.ctx, self.state, original(self, arg.id), part, self.code)

    def _refuse_active_keywords(self, call: gast.Call) -> None:
        for keyword in call.keywords:
            if keyword.arg is None or isinstance(keyword.value, gast.Name) and \
                    self.ctx.is_active(original(self, keyword.value.id)):
                raise UnsupportedSyntaxError(
                    f"{call_label(call.func)}, a function held in a variable, is passed a value "
                    "that carries a gradient by keyword (or by **)",
                    getattr(self.stmt, "origin", None),
                    why="Its gradients come back for positional arguments only.",
                    hint="Pass that value positionally.")
        if any(isinstance(a, gast.Starred) for a in call.args):
            raise UnsupportedSyntaxError(
                f"{call_label(call.func)}, a function held in a variable, is called with "
                "*arguments",
                getattr(self.stmt, "origin", None), hint="Pass the arguments one by one.")


def _label(target: gast.expr) -> str:
    return target.id if isinstance(target, gast.Name) else "result"
