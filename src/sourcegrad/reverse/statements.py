"""The adjoint of one assignment `target = op(operands)`, by rule instantiation.

Requires: the canonical form, activity facts. Each assignment becomes a `Step`: the primal
statement (a call of a user function becomes a call of its forward function, which also returns
a tape), and the adjoint block that reads the target's adjoint and adds to the operands' adjoints.
A target that is also an operand (`h = np.tanh(w * h)`, in ANF `h = np.tanh(w_times_h)` is not,
but `x = x * 2` is) is read through `x_prev`, its value before the statement; the save planner
makes sure `x_prev` holds it.
"""

from __future__ import annotations

import inspect
import operator

import gast

from ..analysis.abstract import specializable
from ..errors import NoRuleError, UnsupportedSyntaxError
from ..gastutil import assign, clone, const, copy_of, load, loaded_names, target_names
from ..normalize.sharing import VIEW_FUNCTIONS, VIEW_METHODS
from ..parse import is_library_function, is_user_class
from ..rules import Contribution, Local, bind, fill
from ..rules.templates import TemplateError
from .accumulate import accumulate, accumulate_at, zeros_like
from .context import Context
from .nodes import AdjointState, Step
from .renamed import original, original_node
from .specialize import Specializer
from .user_calls import UserCalls
from .value_calls import ValueCalls, is_value_call, run_value_call

BINARY_OPERATORS = {
    gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
    gast.Div: operator.truediv, gast.Pow: operator.pow, gast.MatMult: operator.matmul,
    gast.Mod: operator.mod,
}
UNARY_OPERATORS = {gast.USub: operator.neg, gast.UAdd: operator.pos}


# results that may be a view of one array operand (the list-returning np.split and
# friends are not: a copy of the list would still hold views)
_VIEW_ATTRIBUTES = {"T", "mT", "real", "imag"}
_ARRAY_VIEWS = (VIEW_FUNCTIONS | VIEW_METHODS) - {
    "split", "array_split", "hsplit", "vsplit", "dsplit", "broadcast_arrays", "unstack"}


def _viewed(value: gast.expr, local_names: set[str]) -> gast.expr | None:
    """The operand `value` may be a view of: `y` for `y[1:]`, `y.T`, `y.reshape(...)`,
    `np.swapaxes(y, 0, 1)`; None for anything else."""
    if isinstance(value, gast.Subscript):
        return value.value
    if isinstance(value, gast.Attribute) and value.attr in _VIEW_ATTRIBUTES:
        return value.value
    if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) and \
            value.func.attr in _ARRAY_VIEWS:
        owner = value.func.value
        if isinstance(owner, gast.Name) and owner.id not in local_names:  # np.swapaxes(y, ...)
            return value.args[0] if value.args else None
        return owner  # y.swapaxes(0, 1)
    return None


class _Rename(gast.NodeTransformer):
    def __init__(self, mapping: dict[str, str]):
        self.mapping = mapping

    def visit_Name(self, node: gast.Name) -> gast.Name:
        if isinstance(node.ctx, gast.Load) and node.id in self.mapping:
            return load(self.mapping[node.id])
        return node


class AssignAdjoint(UserCalls, ValueCalls):
    """Builds the Step for one assignment; one instance per statement, used once."""

    def __init__(self, ctx: Context, stmt: gast.Assign, state: AdjointState):
        self.ctx, self.stmt, self.state = ctx, stmt, state
        self.target = stmt.targets[0]
        self.targets = target_names(self.target)
        self.code: list[gast.stmt] = []
        self.primal: gast.stmt = stmt
        self.held_by_tape: set[str] = set()  # arguments of a user call: its tape may hold them
        overwritten = set(self.targets) & loaded_names(stmt.value)
        self.prev_names = {name: ctx.namer.fresh(f"{name}_prev") for name in sorted(overwritten)}
        self.value = _Rename(self.prev_names).visit(clone(stmt.value))
        self.env = ctx.shapes.env_at(stmt)
        self._reads_complex = ctx.shapes.value(stmt.value, self.env).complex
        self.specializer = Specializer(self._shape_map())
        self._copy_parts_of_written_arrays()
        self._keys_of_dicts()

    def _keys_of_dicts(self) -> None:
        """`for k in d` walks a dict's keys: the item read becomes `k = dict_key(d, index)`."""
        value = self.stmt.value
        if getattr(self.stmt, "loop_item", False) and isinstance(value.value, gast.Name):
            if self.ctx.shapes.value(value.value, self.env).is_dict:
                key = gast.Call(func=load("dict_key"), args=[clone(value.value),
                                                              clone(value.slice)], keywords=[])
                self.primal = assign(clone(self.target), key, self.stmt)

    def _copy_parts_of_written_arrays(self) -> None:
        """`part = y[1:]`, `y_T = y.T`, `np.swapaxes(y, 0, 1)` may be views: if the function
        writes into y later, the write would show through them and change what their adjoints
        read, so the primal takes a copy (a single element is already one). The same for
        `prev = tanh_x` (ANF of `prev, e = np.tanh(x), 1.0`) or `u = joined_tmp[:, 0]` when
        `prev` or `u` is written into later: the adjoints of tanh or of the join read the
        temporary. And `tmp = a` (ANF of `a[...] *= x if c else a`) when a is written into
        later: the product's adjoint reads tmp. The user's own names that share an array were
        followed before (normalize/sharing.py), copying it before the write: a name written
        into shares its array with no name the user reads later."""
        value, target = self.stmt.value, self.target
        if not isinstance(target, gast.Name) or self.specializer.shapes.get(target.id) == ():
            return
        base = _viewed(value, self.ctx.local_names)
        if isinstance(value, gast.Name):  # `tmp = a` (ANF of `x if c else a`): the same array
            base = value
        viewed_written = isinstance(base, gast.Name) and base.id in self.ctx.written \
            and base.id not in self.ctx.containers  # a list's item: no view
        alias_written = (isinstance(value, gast.Name) or base is not None) \
            and target.id in self.ctx.written \
            and target.id not in self.ctx.containers  # a list appended to: followed
        if viewed_written or alias_written:
            held = base.id if viewed_written else target.id
            owned = gast.Call(func=load("owned_part"), args=[clone(value)], keywords=[]) \
                if held in self.ctx.maybe_containers else copy_of(clone(value))
            self.primal = assign(clone(self.target), owned, self.stmt)  # maybe a list: its
            # items are numbers or arrays the list holds, and `owned_part` copies only arrays

    def _shape_map(self) -> dict:
        """Shapes of the names this block uses: operands before the statement (also under
        their `_prev` names), the target and its adjoint after it."""
        shapes = specializable(self.env)
        for var, prev in self.prev_names.items():
            shapes[prev] = shapes.get(var)
        if isinstance(self.target, gast.Name):
            value = self.ctx.shapes.value(self.stmt.value, self.env)
            result = None if value.complex else value.shape  # as `specializable`
            shapes[self.target.id] = result
            shapes[self.ctx.namer.adjoint(self.target.id)] = result
        return shapes

    # -- the step ----------------------------------------------------------------------------
    def build(self) -> Step:
        if self._flows():
            result_adjoint = self._result_adjoint()
            for name in self.targets:
                self.state.init.discard(name)
                self.state.owned.discard(name)
            self.visit(self.value, result_adjoint)
        else:
            for name in self.targets:
                self.state.init.discard(name)
                self.state.owned.discard(name)
            if is_value_call(self.stmt.value, self.ctx.local_names):
                self.primal = run_value_call(self.stmt)  # checked for in-place changes
        return self._step()

    def _flows(self) -> bool:
        """Whether any adjoint reaches this statement: an active target with a value."""
        return any(self.ctx.is_active(t) and t in self.state.init for t in self.targets)

    def _result_adjoint(self) -> gast.expr:
        if isinstance(self.target, gast.Name):
            return load(self.ctx.namer.adjoint(self.target.id))
        return self._nested_adjoint(self.target)

    def _nested_adjoint(self, target: gast.expr) -> gast.expr:
        """`(da, (db, dc))` for the target `a, (b, c)`; zeros for parts without an adjoint."""
        if isinstance(target, gast.Name):
            name = target.id
            if name in self.state.init and self.ctx.is_active(name):
                return load(self.ctx.namer.adjoint(name))
            return zeros_like(name)
        return gast.Tuple(elts=[self._nested_adjoint(e) for e in target.elts], ctx=gast.Load())

    def _step(self) -> Step:
        reads = set()
        for stmt in self.code:
            reads |= loaded_names(stmt)
        used_prev = {v: p for v, p in self.prev_names.items() if p in reads}
        local_reads = (reads | self.held_by_tape) & self.ctx.local_names
        return Step(self.primal, self.code, self.targets,
                    reads_before=local_reads - set(self.targets),
                    reads_after=local_reads & set(self.targets),
                    prev_names=used_prev, origin=getattr(self.stmt, "origin", None))

    # -- one visitor per operation kind --------------------------------------------------------
    def visit(self, value: gast.expr, dresult: gast.expr) -> None:
        visitor = getattr(self, "visit_" + type(value).__name__, None)
        if visitor is None:
            raise UnsupportedSyntaxError(
                f"cannot differentiate a {type(value).__name__} expression",
                getattr(self.stmt, "origin", None),
                hint="Rewrite the expression with arithmetic, NumPy calls and subscripts.")
        visitor(value, dresult)

    def visit_Name(self, value: gast.Name, dresult: gast.expr) -> None:
        accumulate(self.ctx, self.state, original(self, value.id), dresult, self.code)

    def visit_Constant(self, value: gast.Constant, dresult: gast.expr) -> None:
        return

    def visit_Compare(self, value: gast.Compare, dresult: gast.expr) -> None:
        return

    def visit_BoolOp(self, value: gast.BoolOp, dresult: gast.expr) -> None:
        return

    def visit_BinOp(self, value: gast.BinOp, dresult: gast.expr) -> None:
        operands = [original_node(self, v) for v in (value.left, value.right)]
        if any(name in self.ctx.containers for name in operands if name):
            self._list_operation(value, dresult)
            return
        fn = BINARY_OPERATORS.get(type(value.op))
        if fn is not None:
            self._apply(self.ctx.calls.classify_object(fn, "operator"),
                        [value.left, value.right], {}, dresult)

    def _list_operation(self, value: gast.BinOp, dresult: gast.expr) -> None:
        """`xs + ys` concatenates lists and `xs * n` repeats one: the adjoints split the
        result's adjoint into its pieces (and add up the repeats)."""
        left, right = value.left, value.right
        if isinstance(value.op, gast.Add):
            parts = self.ctx.namer.fresh("dparts")
            call = gast.Call(func=load("split_concatenated"), args=[clone(dresult), left, right],
                             keywords=[])
            self.code.append(assign(parts, call))
            for i, operand in enumerate((left, right)):
                if isinstance(operand, gast.Name):
                    part = gast.Subscript(value=load(parts), slice=const(i), ctx=gast.Load())
                    accumulate(self.ctx, self.state, original(self, operand.id), part,
                               self.code)
        elif isinstance(value.op, gast.Mult):
            items = left if original_node(self, left) in self.ctx.containers else right
            if isinstance(items, gast.Name):
                call = gast.Call(func=load("sum_repeats"), args=[clone(dresult), items],
                                 keywords=[])
                accumulate(self.ctx, self.state, original(self, items.id), call, self.code)
        else:
            raise UnsupportedSyntaxError("this operation on lists has no derivative",
                                         getattr(self.stmt, "origin", None),
                                         hint="Use np.concatenate or np.stack on arrays.")

    def visit_UnaryOp(self, value: gast.UnaryOp, dresult: gast.expr) -> None:
        fn = UNARY_OPERATORS.get(type(value.op))
        if fn is not None:
            self._apply(self.ctx.calls.classify_object(fn, "operator"), [value.operand], {},
                        dresult)

    def visit_Tuple(self, value: gast.Tuple, dresult: gast.expr) -> None:
        for i, elt in enumerate(value.elts):
            if isinstance(elt, gast.Name):
                part = gast.Subscript(value=clone(dresult), slice=const(i), ctx=gast.Load())
                accumulate(self.ctx, self.state, original(self, elt.id), part, self.code)

    visit_List = visit_Tuple

    def visit_Dict(self, value: gast.Dict, dresult: gast.expr) -> None:
        for key, item in zip(value.keys, value.values, strict=True):
            if isinstance(item, gast.Name):
                part = gast.Subscript(value=clone(dresult), slice=clone(key), ctx=gast.Load())
                accumulate(self.ctx, self.state, original(self, item.id), part, self.code)

    def visit_Subscript(self, value: gast.Subscript, dresult: gast.expr) -> None:
        if isinstance(value.value, gast.Name):
            if original(self, value.value.id) in self.targets:
                dresult = self._read_once(dresult)  # `m = m[::-1]`: same adjoint both sides
            accumulate_at(self.ctx, self.state, original(self, value.value.id),
                          clone(value.slice), dresult, self.code, self.specializer)

    def visit_Attribute(self, value: gast.Attribute, dresult: gast.expr) -> None:
        if not self.ctx.is_active(original_node(self, value.value)):
            return
        owner = self._object_of(value.value)
        if owner is not None and isinstance(inspect.getattr_static(owner, value.attr, None),
                                            property):
            raise UnsupportedSyntaxError(
                f"{value.value.id}.{value.attr} is a property of {owner.__name__}: sourcegrad "
                "does not follow properties yet", getattr(self.stmt, "origin", None),
                hint=f"Make it a method (def {value.attr}(self): ...) and call it: "
                     f"{value.value.id}.{value.attr}().")
        if owner is not None:  # `self.w`: one attribute's adjoint
            accumulate_at(self.ctx, self.state, original(self, value.value.id),
                          const(value.attr), dresult, self.code, self.specializer)
            return
        if self.ctx.calls.resolve(value) is not None and not isinstance(value.value, gast.Name):
            return
        kind = self.ctx.calls.classify(gast.Call(func=value, args=[], keywords=[]))
        if kind.kind == "zero":
            return
        if kind.kind != "method":
            raise NoRuleError(
                f"no derivative rule for the attribute .{value.attr}",
                getattr(self.stmt, "origin", None),
                hint="Register one with @sourcegrad.adjoint_method"
                     f"({value.attr!r}), or compute the value with NumPy functions.")
        self._apply(kind, [], {}, dresult)

    def visit_Call(self, value: gast.Call, dresult: gast.expr) -> None:
        kind = self.ctx.calls.classify(value)
        keywords = {kw.arg: kw.value for kw in value.keywords}
        method = self._method_of(value.func)
        if method is not None and kind.kind in ("unknown", "method"):  # `layer.forward(x)`,
            # also a method of the user's class named like an array's (`b.sum(x)`, `p.get(k)`)
            bound = gast.Call(func=value.func, args=[value.func.value] + list(value.args),
                              keywords=value.keywords)
            self._user_call(method, bound, dresult)
        elif kind.kind == "user":
            self._user_call(kind.target, value, dresult)
        elif kind.kind == "unknown" and (is_value_call(value, self.ctx.local_names)
                                         or self._function_attribute(value.func)):
            self._value_call(value, dresult)  # `loss(pred)`, `layer(h)`, `self.act(h)`
        elif kind.kind != "zero":
            self._apply(kind, list(value.args), keywords, dresult)

    def _object_of(self, node: gast.expr) -> type | None:
        """The class of the user object `node` names, when the shape facts know it."""
        if not isinstance(node, gast.Name):
            return None
        return self.ctx.shapes.value(node, self.env).cls

    def _function_attribute(self, func: gast.expr) -> bool:
        """`self.activation` for an object of a user class whose instance holds a function in
        that attribute (its class has no such method): a function value."""
        if not isinstance(func, gast.Attribute):
            return False
        cls = self._object_of(func.value)
        return cls is not None and is_user_class(cls) and not hasattr(cls, func.attr)

    def _method_of(self, func: gast.expr):
        """The Python function behind `obj.method`, for an object of a user class."""
        if not isinstance(func, gast.Attribute):
            return None
        cls = self._object_of(func.value)
        method = getattr(cls, func.attr, None) if cls is not None else None
        return method if inspect.isfunction(method) else None

    # -- rules -------------------------------------------------------------------------------
    def _apply(self, kind, args: list[gast.expr], keywords: dict[str, gast.expr],
               dresult: gast.expr) -> None:
        if kind.kind == "unknown":
            self._no_rule(kind)
        if kind.rule is None:
            return
        if kind.receiver is not None:
            args = [kind.receiver] + args
        out = keywords.get("out")
        if out is not None and not (isinstance(out, gast.Constant) and out.value is None):
            raise UnsupportedSyntaxError(
                f"{kind.label}(..., out=...) writes its result into an array: sourcegrad does "
                "not follow that", getattr(self.stmt, "origin", None),
                hint="Assign the result instead: y = np.sin(x).")
        try:
            bound = bind(kind.rule, args, keywords, kind.label)
        except TemplateError as exc:
            raise NoRuleError(str(exc), getattr(self.stmt, "origin", None)) from None
        result = _as_load(self.target)
        snapshot = self.ctx.namer.snapshot()
        items = self._ordered(fill(kind.rule, bound, result, dresult, self.ctx.namer.fresh))
        if self._self_contributions(items) > 1 and isinstance(dresult, gast.Name):
            # several contributions to the target's own adjoint: read the result's once first
            self.ctx.namer.restore(snapshot)
            alias = self._read_once(dresult)
            items = self._ordered(fill(kind.rule, bound, result, alias, self.ctx.namer.fresh))
        for name in kind.rule.free_names:
            self.ctx.bind_global(name, kind.rule.globals.get(name))
        for item in items:
            item.value = self.specializer.visit(item.value)
            if isinstance(item, Local):
                self.specializer.shapes[item.name] = self.specializer.shape(item.value)
                self.code.append(assign(item.name, item.value))
            else:
                self._contribute(item, kind.rule)

    def _read_once(self, dresult: gast.expr) -> gast.expr:
        """Bind the result's adjoint to its own name before the operands' (the same) change."""
        alias = self.ctx.namer.fresh(f"{dresult.id}_out")
        self.code.append(assign(alias, dresult))
        self.specializer.shapes[alias] = self.specializer.shape(dresult)
        return load(alias)

    def _ordered(self, items: list[Contribution | Local]) -> list[Contribution | Local]:
        """Live items, with contributions to the target's own adjoint last: every other
        contribution reads the result's adjoint before it is overwritten."""
        items = _live_items(items, self)
        own = [it for it in items if self._is_self_contribution(it)]
        return [it for it in items if not self._is_self_contribution(it)] + own

    def _is_self_contribution(self, item: Contribution | Local) -> bool:
        return (isinstance(item, Contribution) and isinstance(item.target, gast.Name)
                and original(self, item.target.id) in self.targets)

    def _self_contributions(self, items: list[Contribution | Local]) -> int:
        return sum(self._is_self_contribution(it) for it in items)

    def _contribute(self, item: Contribution, rule=None) -> None:
        target = item.target
        if rule is not None and not rule.builtin and item.index is None and isinstance(
                target, gast.Name):
            # a user's rule: a gradient of the wrong shape is the rule's error, said so
            item.value = gast.Call(func=load("checked_gradient"), args=[
                item.value, clone(target), const(rule.name)],
                keywords=[])
        if item.index is not None:
            if isinstance(target, gast.Name):
                accumulate_at(self.ctx, self.state, original(self, target.id), item.index,
                              item.value, self.code, self.specializer)
            return
        if isinstance(target, gast.Name):
            accumulate(self.ctx, self.state, original(self, target.id),
                       self._as_real_if_real(item.value, target), self.code)
        elif isinstance(target, (gast.Tuple, gast.List)):
            self._contribute_to_display(target, item.value)

    def _as_real_if_real(self, value: gast.expr, operand: gast.Name) -> gast.expr:
        """The adjoint of a real value is real: where this statement reads complex values,
        a contribution to an operand that may be real keeps its real part (`match_complex`),
        unless it comes out of `unbroadcast`, which takes it. Nothing changes elsewhere."""
        if not self._reads_complex:
            return value
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Name) \
                and value.func.id in ("unbroadcast", "match_complex"):
            return value
        return gast.Call(func=load("match_complex"), args=[value, clone(operand)], keywords=[])

    def _contribute_to_display(self, display: gast.expr, value: gast.expr) -> None:
        """`d[[a, b]] += parts`: split the parts over the display's active elements."""
        parts = self.ctx.namer.fresh("dparts")
        self.code.append(assign(parts, value))
        for i, elt in enumerate(display.elts):
            part = gast.Subscript(value=load(parts), slice=const(i), ctx=gast.Load())
            if isinstance(elt, gast.Name):
                accumulate(self.ctx, self.state, original(self, elt.id),
                           self._as_real_if_real(part, elt), self.code)
            elif isinstance(elt, (gast.Tuple, gast.List)) and _has_active(self, elt):
                self._contribute_to_display(elt, part)

    def _no_rule(self, kind) -> None:
        name = kind.label
        if name in self.ctx.local_names:
            raise UnsupportedSyntaxError(
                f"calling {name}, a function held in a variable, is not supported yet",
                getattr(self.stmt, "origin", None),
                hint="sourcegrad follows a function passed straight to a function of yours "
                     "(f(rhs, y), f(y, rhs=lambda t: ...)), or mapped with map(f, xs); not "
                     "one chosen at run time (by a branch or a loop over functions), made by "
                     "another call, or taken out of a container.")
        owner, _, view = name.rpartition(".")
        if owner in self.ctx.local_names and view in ("keys", "values", "items"):
            raise UnsupportedSyntaxError(
                f"{name}() is used here as a value of its own", getattr(self.stmt, "origin", None),
                hint=f"Loop over it (for v in {name}()), hand it straight to list, tuple, sum, "
                     f"len, zip or enumerate, or build the list: [{owner}[k] for k in {owner}].")
        raise NoRuleError(
            f"no derivative rule for {name}",
            getattr(self.stmt, "origin", None),
            why=(f"{name} belongs to an installed library, whose source sourcegrad does not "
                 "differentiate, and no rule is registered for it." if is_library_function(
                     kind.target) else f"{name} is not Python source that sourcegrad can "
                 "transform, and no rule is registered for it."),
            hint=_own_package_hint(kind.target)
            + "Register one before calling grad, for example:\n"
                 f"    @sourcegrad.adjoint({name})\n"
                 f"    def {name.rsplit('.', 1)[-1]}_rule(y, x):\n"
                 "        d[x] += d[y] * <derivative of y with respect to x>\n"
                 "or, if the value needs no gradient, wrap it: sourcegrad.stop_gradient(...)")


def _own_package_hint(target) -> str:
    """For a library function: how to say its package is the user's own code."""
    package = (getattr(target, "__module__", None) or "").partition(".")[0]
    if not is_library_function(target) or not package:
        return ""
    return (f"If {package} is your own code, installed as a package, call "
            f"sourcegrad.transform_package({package!r}) first: sourcegrad then transforms its "
            "source.\nOtherwise: ")


def _as_load(target: gast.expr) -> gast.expr:
    if isinstance(target, gast.Name):
        return load(target.id)
    return gast.Tuple(elts=[_as_load(e) for e in target.elts], ctx=gast.Load())


def _has_active(step: AssignAdjoint, display: gast.expr) -> bool:
    return any(step.ctx.is_active(original(step, n.id)) for n in gast.walk(display)
               if isinstance(n, gast.Name))


def _live_items(items: list[Contribution | Local], step: AssignAdjoint):
    """Drop contributions to inactive operands, then locals nothing uses any more."""
    def active(item: Contribution) -> bool:
        target = item.target
        if isinstance(target, gast.Name):
            return step.ctx.is_active(original(step, target.id))
        if isinstance(target, (gast.Tuple, gast.List)):
            return _has_active(step, target)
        return False

    kept = [it for it in items if isinstance(it, Local) or active(it)]
    used: set[str] = set()
    live = []
    for item in reversed(kept):
        if isinstance(item, Local) and item.name not in used:
            continue
        used |= loaded_names(item.value)
        if isinstance(item, Contribution) and item.index is not None:
            used |= loaded_names(item.index)
        live.append(item)
    return list(reversed(live))


def assignment_step(ctx: Context, stmt: gast.Assign, state: AdjointState) -> Step:
    return AssignAdjoint(ctx, stmt, state).build()


def passive_step(stmt: gast.stmt) -> Step:
    """A statement with no adjoint (an expression statement, a break, the return)."""
    return Step(stmt, [], [], set(), set(), {}, getattr(stmt, "origin", None))


__all__ = ["assignment_step", "passive_step"]
