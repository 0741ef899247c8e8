"""Calls of user functions that change their arguments, for `augassign.LowerAugAssign`:
`fill(buf, x)` becomes `buf_changed = fill_changing_buf(buf, x)` / `buf = buf_changed` (a change
of `buf` like any other), `return fill(buf, x)` too; `y = f(x)` where `f` may return its
argument makes `y` share `x`'s array. While mutations.py walks a function to find its effects
(`only_analyze`), the same code notes what changes and rewrites nothing.
"""

from __future__ import annotations

import gast

from ..errors import UnsupportedSyntaxError
from ..gastutil import assign, load, store
from .sharing import (
    ARGUMENT,
    CHANGING_METHODS,
    REWRITING_METHODS,
    copied,
    sliced_view,
    view_source,
    written_back,
)

# where a part of an expression runs only on some paths: no call in it is moved out
_CONDITIONAL = (gast.BoolOp, gast.IfExp, gast.ListComp, gast.SetComp, gast.DictComp,
                gast.GeneratorExp, gast.Lambda)


def _evaluation_order(node: gast.AST):
    """The parts of an expression in the order Python finishes them (operands before the
    operation); a part that runs only on some paths is given whole, its insides not."""
    if isinstance(node, _CONDITIONAL):
        yield node
        return
    if isinstance(node, gast.Compare) and len(node.comparators) > 1:  # `a < h(b) < c`
        yield from _evaluation_order(node.left)
        yield from _evaluation_order(node.comparators[0])
        yield from node.comparators[1:]
        yield node
        return
    for child in gast.iter_child_nodes(node):
        yield from _evaluation_order(child)
    yield node


class _ReplaceNode(gast.NodeTransformer):
    def __init__(self, old: gast.AST, new: gast.expr):
        self.old, self.new = old, new

    def visit(self, node: gast.AST) -> gast.AST:
        return self.new if node is self.old else super().visit(node)


class ChangingCalls:
    """Mixed into `augassign.LowerAugAssign`."""

    def _hoisted(self, value: gast.expr, origin: gast.stmt, within: gast.expr | None = None
                 ) -> tuple[list[gast.stmt], gast.expr]:
        """`y = 2.0 * fill(buf, x)`, `if fill(buf, x) > 0:`: the first call in `value` that
        changes its argument becomes a statement of its own before, `fill_result = fill(buf,
        x)` (followed as any such call), and `value` reads its result. Only where Python
        computes the same: the call runs on every path (not inside `and`/`or`, a conditional
        expression or a comprehension), and nothing evaluated before it reads a name that may
        share what it changes. Else the statement is left as it is (and refused after).
        `within`: the part of `value` a call may be moved out of (`x[i] -= v`: only v)."""
        if value is None or self.effects is None or not hasattr(self.effects, "namespace"):
            return [], value
        order = list(_evaluation_order(value))
        for i, call in enumerate(order):
            if call is value or not isinstance(call, gast.Call):
                continue
            changed = self._changed_sources(call)
            if not changed:
                continue
            if within is not None and not any(n is call for n in gast.walk(within)):
                return [], value
            inside = {id(n) for n in gast.walk(call)}
            before = {n.id for earlier in order[:i] if id(earlier) not in inside
                      for n in gast.walk(earlier) if isinstance(n, gast.Name)}
            if before & self._may_see_changes_of(changed):
                return [], value
            fn = self.effects.callee(call)
            result = self.effects.namer.fresh(f"{fn.__name__.lstrip('_')}_result")
            self.local_names.add(result)
            self.read_anywhere.add(result)
            hoisted = assign(store(result), call, origin)
            return [hoisted], _ReplaceNode(call, load(result)).visit(value)
        return [], value

    def _changed_sources(self, call: gast.Call) -> set[str]:
        """The names whose arrays `call` (of a user function) changes in place."""
        fn = self.effects.callee(call)
        if fn is None:
            return set()
        effects = self.effects.of(fn, call)
        passed = self.effects.arguments(call, fn, effects.changed | effects.rebound
                                        | effects.by_method)
        return {view_source(a) for a in passed.values()} - {None}

    def _may_see_changes_of(self, names: set[str]) -> set[str]:
        """`names` and every name that may share, hold or be held by what they hold."""
        seen, pending = set(names), list(names)
        while pending:
            name = pending.pop()
            for field in ("aliases", "whole", "same", "parents", "holders", "part_holders"):
                for other in getattr(self, field).get(name, set()):
                    if other not in seen:
                        seen.add(other)
                        pending.append(other)
        return seen

    def _arguments_held(self, name: str, whole: bool = False) -> set[str]:
        """The parameters whose argument `name` may hold (or view, or hold a part of; with
        `whole`: hold itself)."""
        groups = self.whole if whole else self.aliases
        return {other[:-len(ARGUMENT)] for other in groups.get(name, set()) | {name}
                if other.endswith(ARGUMENT)}

    def _arguments_within(self, name: str) -> set[str]:
        """The parameters whose argument (or a part of it) the object `name` holds, as an
        item or an attribute, at any depth: `d = {"w": w}` holds w's array, so a function
        returning d may return a part of its argument w."""
        seen, pending = {name}, [name]
        while pending:
            container = pending.pop()
            for groups in (self.holders, self.part_holders):
                for held, containers in groups.items():
                    if container in containers and held not in seen:
                        seen.add(held)
                        pending.append(held)
        return {held[:-len(ARGUMENT)] for held in seen if held.endswith(ARGUMENT)}

    def _note_method_change(self, value: gast.expr) -> None:
        """`xs.append(v)` changes the list xs holds: note it when that is an argument (a
        method that rewrites values, `v.fill(0.0)`, starts from a copy: it is followed as a
        change like `v[:] = 0.0`)."""
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) and \
                isinstance(value.func.value, gast.Name) and value.func.attr in \
                CHANGING_METHODS - REWRITING_METHODS:
            self.changed_by_method |= self._arguments_held(value.func.value.id)

    def _note_methods_called(self, value: gast.expr) -> None:
        """Every method called on an argument's object, here or in a callee it is handed
        to (`cell.nudge(v)`): only the class says what it changes, and the caller knows the
        class (reverse/unfollowed.py refuses what cannot be followed back out)."""
        if not getattr(self.effects, "only_analyze", False):
            return  # the function differentiated: its own method calls are followed there
        for call in gast.walk(value):
            if not isinstance(call, gast.Call):
                continue
            func = call.func
            if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name):
                self.methods_called |= {(p, func.attr)
                                        for p in self._arguments_held(func.value.id)}
            fn = self.effects.callee(call)
            if fn is None:
                continue
            effects = self.effects.of(fn, call)
            passed = self.effects.arguments(call, fn, frozenset(p for p, _ in effects.methods))
            for param, method in effects.methods:
                source = view_source(passed[param]) if param in passed else None
                if source is not None:
                    self.methods_called |= {(p, method) for p in self._arguments_held(source)}

    def visit_Return(self, node: gast.Return) -> gast.Return | list[gast.stmt]:
        hoisted, node.value = self._hoisted(node.value, node)  # `return np.sum(fill(buf, x))`
        if hoisted:
            return self._block([*hoisted, node])  # each lowered
        if node.value is not None:
            self._note_receiver_sharers(node)
        value = node.value
        parts = value.elts if isinstance(value, (gast.Tuple, gast.List)) else [value]
        for part in parts:  # `return fill(buf, x), buf` is hoisted below
            if part is not None:
                self._note_methods_called(part)
                self._refuse_nested_changing_calls(part, node)
        hoisted = self._hoist_changing_calls(parts, node)
        if hoisted:  # `return fill(buf, x)`, `return fill(buf, x), buf`: fill changes buf
            result = gast.Return(value=value if isinstance(value, (gast.Tuple, gast.List))
                                 else parts[0])
            result.origin = getattr(node, "origin", None)
            return [*hoisted, self.visit_Return(result)]
        held = [self._arguments_held(view_source(part)) if part is not None and view_source(
            part) is not None else set() for part in parts]
        for part in parts:  # `return {"w": w}`, `return model`: holding an argument
            if part is not None and view_source(part) is not None:
                self.returned_within |= self._arguments_within(view_source(part))
        for params in held:
            self.returned_params |= params
        for part in parts:
            if isinstance(part, gast.Name):  # `return state`: the object itself
                self.returned_whole |= self._arguments_held(part.id, whole=True)
        surely = {p for p in held[0] if self._surely_holds(parts[0], p)} if len(parts) == 1 \
            else set()
        self.always_returned = surely if self.always_returned is None else \
            self.always_returned & surely
        return node

    def _refuse_nested_changing_calls(self, value: gast.expr, origin: gast.stmt,
                                      whole_too: bool = False) -> None:
        """`d = {"k": fill(buf, x)}`, `y = buf[0] + fill(buf, x)`: a call that changes its
        argument inside a larger expression. Only a call that is a statement's whole value
        can be turned into a call of the variant that returns the change (and moving it out
        would change what the rest of the expression reads, which Python reads before).
        `whole_too`: the value is a test or a loop header, where no call is followed."""
        if self.effects is None or not hasattr(self.effects, "namespace"):
            return
        for call in gast.walk(value):
            if call is value and not whole_too or not isinstance(call, gast.Call):
                continue
            fn = self.effects.callee(call)
            if fn is None:
                continue
            effects = self.effects.of(fn, call)
            passed = self.effects.arguments(call, fn, effects.changed | effects.rebound
                                            | effects.by_method)
            changed = sorted(p for p, a in passed.items() if view_source(a) is not None)
            if changed:
                raise UnsupportedSyntaxError(
                    f"{fn.__name__} changes its argument {changed[0]} in place, and is called "
                    "inside a larger expression or a condition", getattr(origin, "origin", None),
                    hint=f"Call it in a statement of its own (r = {fn.__name__}(...)) and use "
                         "r in the expression.")

    def _hoist_changing_calls(self, parts: list[gast.expr], origin: gast.stmt) -> list[gast.stmt]:
        """Calls in a returned value that change an argument become statements before the
        `return` (in order, as Python evaluates them); `parts` then names their results."""
        if self.effects is None:
            return []
        stmts: list[gast.stmt] = []
        for i, part in enumerate(parts):
            if isinstance(part, gast.Call):
                names = self.effects.namer.snapshot()
                result = self.effects.namer.fresh("result")
                changing = self._changing_call(part, store(result), origin, returning=True)
                if changing is None:
                    self.effects.namer.restore(names)
                    continue
                stmts += changing
                parts[i] = load(result)
        return stmts

    def _surely_holds(self, value: gast.expr, param: str) -> bool:
        """`value` is a name bound to the very object passed as `param` on every path."""
        return isinstance(value, gast.Name) and param + ARGUMENT in self.same.get(value.id,
                                                                                   set())

    def _changing_call(self, call: gast.Call, target: gast.expr | None, origin: gast.stmt,
                       returning: bool = False) -> list[gast.stmt] | None:
        """`r = fill(buf, x)` where `fill` changes its argument: call the variant that returns
        it too, bind `buf` to what it returns, and follow every name sharing `buf`. A list
        changed with a method (`acc.append(v)`) cannot be followed so, except in a `return`
        (`returning`), where nothing here reads it again."""
        fn = self.effects.callee(call) if self.effects is not None else None
        if fn is None:
            return None
        effects = self.effects.of(fn, call)
        passed = self.effects.arguments(call, fn, effects.changed | effects.rebound
                                        | effects.by_method)
        passed = {p: a for p, a in passed.items() if view_source(a) is not None}
        for param, argument in list(passed.items()):
            if param in effects.by_method and returning:
                self.changed_by_method |= self._arguments_held(view_source(argument))
                del passed[param]
                continue
            if param in effects.by_method:
                raise UnsupportedSyntaxError(
                    f"{fn.__name__} changes its argument {param} with a method (append, "
                    "update, ...): sourcegrad cannot follow that back to this call",
                    getattr(origin, "origin", None),
                    hint=f"Let {fn.__name__} build and return a new list or dict instead.")
            if param in effects.changed:
                self.changed_params |= self._arguments_held(view_source(argument))
            elif isinstance(argument, gast.Name):
                self.rebound_params |= self._arguments_held(argument.id, whole=True)
        self._refuse_shared_arguments(call, fn, passed, origin)
        if not passed or self.effects.only_analyze:
            return None
        return self._call_variant(call, target, passed, fn, origin, effects)

    def _refuse_shared_arguments(self, call: gast.Call, fn, passed: dict[str, gast.expr],
                                 origin: gast.stmt) -> None:
        """`smooth(u, u)` where smooth writes into its first argument: inside, the second
        sees the writes (Gauss-Seidel, not Jacobi); the variant has two arrays. Refused."""
        arguments = [*call.args, *(k.value for k in call.keywords)]
        for param, argument in passed.items():
            source = view_source(argument)
            sharing = self.aliases.get(source, set()) | {source}
            others = [a for a in arguments if a is not argument and view_source(a) in sharing]
            if others:
                raise UnsupportedSyntaxError(
                    f"{fn.__name__} changes its argument {param} in place, and this call hands "
                    f"it {source} (or a view of it) twice", getattr(origin, "origin", None),
                    why="Inside the function, a write through one argument would show through "
                        "the other; sourcegrad keeps them apart.",
                    hint="Pass a copy as the one that is only read (u.copy()), or write the "
                         "function for one array.")

    def _share_returned(self, name: str, call: gast.Call) -> None:
        """`y = f(x)` where `f` may return its argument: y may share x's array."""
        fn = self.effects.callee(call) if self.effects is not None else None
        if fn is None:
            return
        effects = self.effects.of(fn, call)
        returned = self.effects.arguments(call, fn, effects.returned)
        for param, argument in returned.items():
            source = view_source(argument)
            if source is not None:  # `return state` is state, `return state.h` a part of it
                self._join(name, source, whole=param in effects.returned_whole and isinstance(
                    argument, gast.Name))
        for argument in self.effects.arguments(call, fn, effects.held).values():
            self._hold(name, argument)  # `d = make(w)` returning {"w": w}: d holds w

    def _call_variant(self, call: gast.Call, target: gast.expr | None,
                      passed: dict[str, gast.expr], fn, origin: gast.stmt,
                      effects) -> list[gast.stmt]:
        """`result, buf_changed = fill_changing_buf(buf, x)`, then the caller's side."""
        names = self.effects.namer
        params = tuple(passed)
        arguments = {a.id for a in passed.values() if isinstance(a, gast.Name)}
        variant_name, returns_value = self.effects.variant(fn, params)
        direct = isinstance(target, gast.Name) and target.id not in arguments and returns_value
        result = target.id if direct else names.fresh(f"{fn.__name__.lstrip('_')}_result")
        changed = [store(names.fresh(f"{view_source(a)}_changed")) for a in passed.values()]
        targets = [store(result), *changed] if returns_value else changed
        variant = gast.Call(func=load(variant_name), args=call.args, keywords=call.keywords)
        stmts = [assign(targets[0] if len(targets) == 1 else gast.Tuple(
            elts=targets, ctx=gast.Store()), variant, origin)]
        self._bind(result, None)
        for (param, argument), name in zip(passed.items(), changed, strict=True):
            whole = param not in effects.changed  # `step(s, x)` only sets attributes of s
            stmts += self._argument_changed(argument, name.id, origin, whole)
        if returns_value:
            self._share_returned(result, call)
        if target is not None and not direct:  # `buf = fill(buf)`: the result is bound last
            value = load(result) if returns_value else gast.Constant(value=None, kind=None)
            stmts.append(self.visit_Assign(assign(target, value, origin)))
        return stmts

    def _argument_changed(self, argument: gast.expr, changed: str, origin: gast.stmt,
                          whole: bool) -> list[gast.stmt]:
        """The caller's side of a call that changed `argument`: bind it to the array the
        call returned (or write that back into the array it views), then follow."""
        if isinstance(argument, gast.Name):
            return self._changed_in_place(assign(argument.id, load(changed), origin),
                                          argument.id, whole)
        viewed = sliced_view(argument)
        if viewed is None:
            raise UnsupportedSyntaxError(
                "this call changes the array it is handed, which may or may not be a view of "
                f"{view_source(argument)}", getattr(origin, "origin", None),
                hint="Pass a name, a slice with constant bounds (x[1:]), or a copy.")
        write = written_back(viewed, argument, changed, origin)
        return [copied(viewed, origin), *self._changed_in_place(write, viewed)]
