"""Lower augmented assignment to plain assignment, keeping what NumPy's in-place updates do.

Requires: syntax_check (targets are names).
Guarantees: no AugAssign or AnnAssign remains. `x += y` becomes `x = x + y`, which never writes
into the caller's array: the gradient code must not mutate its inputs. For a float the two are
the same; for an array NumPy updates in place, so the other names that share the array see the
change. Names that surely share it are followed (the change is made to show through them):
  - `y = x` on every path: after `x += d` or `x[i] = v`, `y = x` again;
  - a sliced view `v = x[1:]` (or `x.T`) on every path: after a change of `x`, `v = x[1:]`
    again; after a change of `v` (`v += d`, `v[j] = u`), it is written back, `x = x.copy()` /
    `x[1:] = v`, and then every name sharing `x` is followed in turn.
A write into an array that others share starts from a copy (`x = x.copy()` / `x[i] = v`), so
the arrays the derivative saved for later keep the values they had. The rebinding `y = x` is
marked `alias_rebind` (the differentiator drops it when `x` turns out to be a number, which
Python rebinds alone), the changed statement lists the names followed in `followed_aliases`.
A statement that changes an array in place also gets `inplace_aliases`, every name that may
share it; the differentiator refuses those not followed (aliases made on some paths only,
`reshape`, fancy indexing), and arrays held by a list or dict (`held_by`).
Loops are walked until the sharing a previous iteration leaves is known, then lowered once.
Example: `v = x[1:]; v += 1` becomes `v = x[1:]; v = v + 1; x = x.copy(); x[1:] = v;
v = x[1:]`.
"""

from __future__ import annotations

import copy

import gast

from ..errors import UnsupportedSyntaxError
from ..gastutil import as_load, assign, clone, load, loaded_names, store, target_names

# calls and attributes whose result may be a view of their first operand
_VIEW_METHODS = {"reshape", "view", "transpose", "ravel", "squeeze", "swapaxes"}
_VIEW_FUNCTIONS = {"reshape", "transpose", "ravel", "squeeze", "asarray", "swapaxes",
                   "expand_dims", "broadcast_to", "moveaxis", "atleast_1d", "atleast_2d"}


def _view_source(value: gast.expr) -> str | None:
    """The name whose array `value` may share: `x`, `x[1:]`, `x.T`, `x.reshape(...)`,
    `layer.w` (an object's attribute)."""
    if isinstance(value, gast.Name):
        return value.id
    if isinstance(value, (gast.Subscript, gast.Attribute)):
        return _view_source(value.value)
    if isinstance(value, gast.Call):
        func = value.func
        if isinstance(func, gast.Attribute) and func.attr in _VIEW_METHODS:
            return _view_source(func.value)
        if isinstance(func, gast.Attribute) and func.attr in _VIEW_FUNCTIONS and value.args:
            return _view_source(value.args[0])
    return None


def _sliced_view(value: gast.expr) -> str | None:
    """The name `value` is surely a view of, for `x[1:]`, `x[:, ::2]` (basic slicing with
    constant bounds, always a view of an array) and `x.T`; None otherwise (`x[0]` may be a
    number, `x[idx]` a copy, `x.reshape(...)` either)."""
    if isinstance(value, gast.Attribute) and value.attr == "T" and isinstance(
            value.value, gast.Name):
        return value.value.id
    if not (isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name)):
        return None
    parts = value.slice.elts if isinstance(value.slice, gast.Tuple) else [value.slice]
    if all(isinstance(p, gast.Slice) for p in parts) and not loaded_names(value.slice):
        return value.value.id
    return None


_ARGUMENT = "@argument"  # `p@argument`: a name no code has, for the object passed as `p`
_CHANGING_METHODS = {"append", "extend", "insert", "pop", "remove", "clear", "update",
                     "setdefault", "popitem", "sort", "reverse", "fill", "resize", "put"}


class LowerAugAssign(gast.NodeTransformer):
    def __init__(self, read_anywhere: set[str], params: list[str] = (), effects=None):
        self.read_anywhere = read_anywhere
        self.aliases: dict[str, set[str]] = {}  # names that may share an array
        self.same: dict[str, set[str]] = {}  # names that surely hold the same object
        self.views: dict[str, tuple[str, gast.expr]] = {}  # surely a view: (of what, how)
        self.holders: dict[str, set[str]] = {}
        self.effects = effects  # mutations.CallEffects: what calls do to their arguments
        self.changed_params: set[str] = set()  # whose argument the function changes
        self.changed_by_method: set[str] = set()
        self.returned_params: set[str] = set()  # whose argument it may return
        self.always_returned: set[str] | None = None  # ... it returns on every path, as is
        for param in params:
            self._bind(param + _ARGUMENT, param, same=True)

    def _bind(self, name: str, source: str | None, same: bool = False) -> None:
        self.views = {v: view for v, view in self.views.items()
                      if v != name and view[0] != name}
        for groups in (self.aliases, self.same):
            for group in groups.values():
                group.discard(name)
            groups[name] = set()
        if source is not None:
            self._join(name, source, same)

    def _join(self, name: str, source: str, same: bool = False) -> None:
        """`name` may (with `same`: surely does) hold the array `source` holds."""
        if source == name:
            return
        for groups, joins in ((self.aliases, True), (self.same, same)):
            if joins:
                group = groups.setdefault(source, set())
                groups[name] = groups.get(name, set()) | {source} | group
                for other in {source} | group:
                    groups.setdefault(other, set()).add(name)

    def visit_Assign(self, node: gast.Assign) -> gast.stmt | list[gast.stmt]:
        target = node.targets[0]
        if isinstance(target, (gast.Subscript, gast.Attribute)) and not isinstance(
                target.value, gast.Name):
            return self._nested_write(target, node.value, node)
        if isinstance(target, gast.Subscript):  # a write into the array, not a binding
            return self._changed_in_place(node, target.value.id)
        if isinstance(target, gast.Attribute):  # `obj.h = v` changes the object
            return self._changed_in_place(_attribute_set(target, node.value, node),
                                          target.value.id)
        self._note_method_change(node.value)
        if isinstance(node.value, gast.Call) and len(node.targets) == 1:
            changing = self._changing_call(node.value, target, node)
            if changing is not None:
                return changing
        if isinstance(target, gast.Name) and isinstance(node.value, gast.Call) and any(
                isinstance(a, gast.Name) and a.id == target.id for a in node.value.args):
            # `traj = sim.step(traj, t)`: who else holds traj, should step change it
            node.argument_sharers = sorted(self.aliases.get(target.id, set())
                                           & self.read_anywhere)
        if isinstance(target, gast.Name) and isinstance(node.value, (gast.List, gast.Tuple,
                                                                     gast.Dict)):
            # a container holds its items themselves: writes into one show through it
            self._bind(target.id, None)
            items = node.value.values if isinstance(node.value, gast.Dict) else node.value.elts
            for item in items:
                self._hold(target.id, _view_source(item))
            return node
        source = _view_source(node.value)
        for target in node.targets:
            for name in target_names(target):
                self._bind(name, source if isinstance(target, gast.Name) else None,
                           same=isinstance(node.value, gast.Name))
        viewed = _sliced_view(node.value)
        if isinstance(target, gast.Name) and viewed is not None and viewed != target.id:
            self.views[target.id] = (viewed, node.value)
        if isinstance(node.value, gast.Call) and isinstance(target, gast.Name):
            self._share_returned(target.id, node.value)
        return node

    def visit_AugAssign(self, node: gast.AugAssign) -> list[gast.stmt]:
        value = gast.BinOp(left=as_load(node.target), op=node.op, right=node.value)
        lowered = assign(node.target, value, node)
        if isinstance(node.target, gast.Attribute) or isinstance(
                node.target, gast.Subscript) and not isinstance(node.target.value, gast.Name):
            return self.visit_Assign(lowered)  # `obj.h += v`, `xs[k][0] += v`
        root = node.target.value if isinstance(node.target, gast.Subscript) else node.target
        return self._changed_in_place(lowered, root.id)

    def _nested_write(self, target: gast.expr, value: gast.expr,
                      origin: gast.stmt) -> list[gast.stmt]:
        """`xs[k][0] = v`, `self.buf[i] = v`: take the part out (a copy of it, for a write
        into an array), write into it, and put it back, `xs[k] = part`, `self.buf = part`,
        which is a change of `xs` (`self`) like any other."""
        stmts = []
        if not isinstance(value, (gast.Name, gast.Constant)):  # Python evaluates it first
            stmts.append(assign(self._fresh("value"), value, origin))
            value = load(stmts[-1].targets[0].id)
        inner = target.value
        part = self._fresh(_part_name(inner))
        taken = assign(part, clone(inner), origin)
        if isinstance(target, gast.Subscript):
            taken.value = _copied(part, origin).value
            taken.value.func.value = clone(inner)  # `part = xs[k].copy()`
        self._bind(part, None)  # a copy (a new object, for an attribute): put back below
        written = type(target)(**{**{f: getattr(target, f) for f in target._fields},
                                  "value": store(part)})
        return [*self._block(stmts), taken, *self._block([assign(written, value, origin),
                                             assign(_as_store(inner), load(part), origin)])]

    def _fresh(self, base: str) -> str:
        if self.effects is None:
            self.effects = _NoEffects(self.read_anywhere)
        return self.effects.namer.fresh(base)

    def _changed_in_place(self, stmt: gast.Assign | gast.Expr, name: str) -> list[gast.stmt]:
        """`stmt` changes the array `name` (NumPy would write into it): mark who may share
        it, and follow those who surely do."""
        if isinstance(stmt, gast.Assign):  # a method's change is noted apart (by_method)
            self.changed_params |= self._arguments_held(name)
        self._mark_shared(stmt, name)
        follow_ups, followed, through_views = self._follow_ups(name, stmt)
        if not followed:
            return [stmt]
        stmt.followed_aliases = sorted(followed)
        if through_views:  # right for arrays only: a slice of a list is a copy
            stmt.followed_views = sorted(through_views)
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Subscript):
            return [_copied(name, stmt), stmt, *follow_ups]  # the arrays saved stay as they were
        return [stmt, *follow_ups]

    def _follow_ups(self, name: str, origin: gast.stmt
                    ) -> tuple[list[gast.stmt], set[str], set[str]]:
        """After `name` changed: write a view's new values back into the array it views (a
        copy of it), up to the array that is no one's view; then bind every name that surely
        shares that array to it (or to its view) again. Returns the statements, the names
        followed, and those of them followed as views or viewed arrays."""
        stmts: list[gast.stmt] = []
        followed: set[str] = set()
        top = name
        while top in self.views and self.views[top][0] not in followed | {name}:
            base, view = self.views[top]
            stmts += [_copied(base, origin), _written_back(base, view, top, origin)]
            followed.add(base)
            top = base
        through_views = set(followed)
        pending = [top]
        while pending:
            current = pending.pop(0)
            sharing = sorted(self.same.get(current, set()) & self.read_anywhere - followed - {top})
            for alias in sharing:  # `y = x`: y is the changed array too
                rebind = assign(alias, load(current), origin)
                rebind.alias_rebind = True
                stmts.append(rebind)
            viewing = sorted(v for v, (of, _) in self.views.items()
                             if of in {current, *sharing} and v in self.read_anywhere
                             and v not in followed and v != top)
            for view in viewing:  # `v = x[1:]`: v is a view of the changed array
                stmts.append(assign(view, clone(self.views[view][1]), origin))
            followed.update(sharing, viewing)
            through_views.update(viewing)
            pending += viewing
        followed.discard(name)
        return stmts, followed, through_views - {name}

    def _arguments_held(self, name: str) -> set[str]:
        """The parameters whose argument `name` may hold (or view)."""
        return {other[:-len(_ARGUMENT)] for other in self.aliases.get(name, set()) | {name}
                if other.endswith(_ARGUMENT)}

    def _note_method_change(self, value: gast.expr) -> None:
        """`xs.append(v)` changes the list xs holds: note it when that is an argument."""
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) and \
                isinstance(value.func.value, gast.Name) and value.func.attr in _CHANGING_METHODS:
            self.changed_by_method |= self._arguments_held(value.func.value.id)

    def visit_Return(self, node: gast.Return) -> gast.Return | list[gast.stmt]:
        value = node.value
        parts = value.elts if isinstance(value, (gast.Tuple, gast.List)) else [value]
        hoisted = self._hoist_changing_calls(parts, node)
        if hoisted:  # `return fill(buf, x)`, `return fill(buf, x), buf`: fill changes buf
            result = gast.Return(value=value if isinstance(value, (gast.Tuple, gast.List))
                                 else parts[0])
            result.origin = getattr(node, "origin", None)
            return [*hoisted, self.visit_Return(result)]
        held = [self._arguments_held(_view_source(part)) if part is not None and _view_source(
            part) is not None else set() for part in parts]
        for params in held:
            self.returned_params |= params
        surely = {p for p in held[0] if self._surely_holds(parts[0], p)} if len(parts) == 1 \
            else set()
        self.always_returned = surely if self.always_returned is None else \
            self.always_returned & surely
        return node

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
        return isinstance(value, gast.Name) and param + _ARGUMENT in self.same.get(value.id,
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
        effects = self.effects.of(fn)
        passed = self.effects.arguments(call, fn, effects.changed | effects.by_method)
        passed = {p: a for p, a in passed.items() if _view_source(a) is not None}
        for param, argument in list(passed.items()):
            if param in effects.by_method and returning:
                self.changed_by_method |= self._arguments_held(_view_source(argument))
                del passed[param]
                continue
            if param in effects.by_method:
                raise UnsupportedSyntaxError(
                    f"{fn.__name__} changes its argument {param} with a method (append, "
                    "update, ...): sourcegrad cannot follow that back to this call",
                    getattr(origin, "origin", None),
                    hint=f"Let {fn.__name__} build and return a new list or dict instead.")
            self.changed_params |= self._arguments_held(_view_source(argument))
        if not passed or self.effects.only_analyze:
            return None
        return self._call_variant(call, target, passed, fn, origin)

    def _share_returned(self, name: str, call: gast.Call) -> None:
        """`y = f(x)` where `f` may return its argument: y may share x's array."""
        fn = self.effects.callee(call) if self.effects is not None else None
        if fn is None:
            return
        returned = self.effects.arguments(call, fn, self.effects.of(fn).returned)
        for source in filter(None, map(_view_source, returned.values())):
            self._join(name, source)

    def _call_variant(self, call: gast.Call, target: gast.expr | None,
                      passed: dict[str, gast.expr], fn, origin: gast.stmt) -> list[gast.stmt]:
        """`result, buf_changed = fill_changing_buf(buf, x)`, then the caller's side."""
        names = self.effects.namer
        params = tuple(passed)
        arguments = {a.id for a in passed.values() if isinstance(a, gast.Name)}
        variant_name, returns_value = self.effects.variant(fn, params)
        direct = isinstance(target, gast.Name) and target.id not in arguments and returns_value
        result = target.id if direct else names.fresh(f"{fn.__name__.lstrip('_')}_result")
        changed = [store(names.fresh(f"{_view_source(a)}_changed")) for a in passed.values()]
        targets = [store(result), *changed] if returns_value else changed
        variant = gast.Call(func=load(variant_name), args=call.args, keywords=call.keywords)
        stmts = [assign(targets[0] if len(targets) == 1 else gast.Tuple(
            elts=targets, ctx=gast.Store()), variant, origin)]
        self._bind(result, None)
        for argument, name in zip(passed.values(), changed, strict=True):
            stmts += self._argument_changed(argument, name.id, origin)
        if returns_value:
            self._share_returned(result, call)
        if target is not None and not direct:  # `buf = fill(buf)`: the result is bound last
            value = load(result) if returns_value else gast.Constant(value=None, kind=None)
            stmts.append(self.visit_Assign(assign(target, value, origin)))
        return stmts

    def _argument_changed(self, argument: gast.expr, changed: str,
                          origin: gast.stmt) -> list[gast.stmt]:
        """The caller's side of a call that changed `argument`: bind it to the array the
        call returned (or write that back into the array it views), then follow."""
        if isinstance(argument, gast.Name):
            return self._changed_in_place(assign(argument.id, load(changed), origin),
                                          argument.id)
        viewed = _sliced_view(argument)
        if viewed is None:
            raise UnsupportedSyntaxError(
                "this call changes the array it is handed, which may or may not be a view of "
                f"{_view_source(argument)}", getattr(origin, "origin", None),
                hint="Pass a name, a slice with constant bounds (x[1:]), or a copy.")
        write = _written_back(viewed, argument, changed, origin)
        return [_copied(viewed, origin), *self._changed_in_place(write, viewed)]

    def visit_Expr(self, node: gast.Expr) -> gast.stmt | list[gast.stmt]:
        self._note_method_change(node.value)
        if isinstance(node.value, gast.Call):
            changing = self._changing_call(node.value, None, node)
            if changing is not None:
                return changing
        call = node.value
        if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and \
                call.func.attr == "append" and isinstance(call.func.value, gast.Name) and call.args:
            self._hold(call.func.value.id, _view_source(call.args[0]))  # xs now holds v
        if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and isinstance(
                call.func.value, gast.Name) and call.func.attr in _CHANGING_METHODS:
            return self._changed_in_place(node, call.func.value.id)  # `ys = xs; xs.append(v)`
        return node

    def _hold(self, container: str, item: str | None) -> None:
        """`container` holds `item`'s array (a write into that array shows through it)."""
        if item is not None and item != container:
            self.holders.setdefault(item, set()).add(container)
            for alias in self.aliases.get(item, set()):
                self.holders.setdefault(alias, set()).add(container)

    def _mark_shared(self, node: gast.Assign, name: str) -> None:
        """Note the other names that may share the array `node` updates in place, and the
        containers that hold it (they matter when `name` is an array, not a container)."""
        shared = self.aliases.get(name, set()) & self.read_anywhere
        if shared:
            node.inplace_aliases = sorted(shared)
        held = self.holders.get(name, set()) & self.read_anywhere
        if held:
            node.held_by = sorted(held)

    def visit_AnnAssign(self, node: gast.AnnAssign) -> gast.stmt | None:
        if node.value is None:
            return None
        return self.visit_Assign(assign(node.target, node.value, node))

    def _branches(self, node):
        """May-aliases join over both arms; sure ones (`same`) hold after both only."""
        before = {k: set(v) for k, v in self.aliases.items()}
        same_before, views_before = {k: set(v) for k, v in self.same.items()}, dict(self.views)
        node.body = self._block(node.body)
        after_body, self.aliases = self.aliases, before
        same_after_body, self.same = self.same, same_before
        views_after_body, self.views = self.views, views_before
        node.orelse = self._block(node.orelse)
        for name, group in after_body.items():
            self.aliases.setdefault(name, set()).update(group)
        self.same = {name: group & same_after_body.get(name, set())
                     for name, group in self.same.items()}
        self.views = {v: view for v, view in self.views.items()
                      if v in views_after_body and view[0] == views_after_body[v][0]
                      and gast.dump(view[1]) == gast.dump(views_after_body[v][1])}
        return node

    def _block(self, stmts: list[gast.stmt]) -> list[gast.stmt]:
        out: list[gast.stmt] = []
        for stmt in stmts:
            visited = self.visit(stmt)
            out.extend(visited if isinstance(visited, list) else [visited])
        return out

    def _loop(self, node):
        """A loop's body sees what earlier iterations left: walk copies of the loop until
        that stops changing, then lower the loop itself once."""
        names = self.effects.namer.snapshot() if self.effects is not None else None
        for _ in range(_MAX_LOOP_PASSES):
            before = self._facts()
            self._branches(copy.deepcopy(node))
            if before == self._facts():
                break
        if names is not None:  # the copies' new names are not the loop's
            self.effects.namer.restore(names)
        return self._branches(node)

    def _facts(self) -> tuple:
        """A snapshot of who shares what, to compare."""
        return ({k: set(v) for k, v in self.aliases.items()},
                {k: set(v) for k, v in self.same.items()},
                {v: (of, gast.dump(how)) for v, (of, how) in self.views.items()})

    visit_If = _branches
    visit_For = visit_While = _loop


_MAX_LOOP_PASSES = 8


class _NoEffects:
    """Calls change nothing (for trees normalized without a namespace, in tests)."""

    only_analyze = True

    def __init__(self, taken: set[str]):
        from ..names import Namer
        self.namer = Namer(taken)

    def callee(self, call: gast.Call) -> None:
        return None


def _part_name(node: gast.expr) -> str:
    """`xs_k` for `xs[k]`, `self_buf` for `self.buf`."""
    if isinstance(node, gast.Attribute):
        return f"{_part_name(node.value)}_{node.attr}"
    if isinstance(node, gast.Subscript):
        index = node.slice
        tail = str(index.value) if isinstance(index, gast.Constant) else getattr(
            index, "id", "part")
        return f"{_part_name(node.value)}_{tail}"
    return getattr(node, "id", "part")


def _as_store(node: gast.expr) -> gast.expr:
    """`xs[k]` (or `self.buf`) as the target of an assignment."""
    copied = clone(node)
    copied.ctx = gast.Store()
    return copied


def _attribute_set(target: gast.Attribute, value: gast.expr, origin: gast.stmt) -> gast.Assign:
    """`obj.h = v` as `obj = with_attribute(obj, "h", v)`: a new object, which every name
    sharing the old one is then bound to, as for an array changed in place."""
    obj = target.value.id
    call = gast.Call(func=load("with_attribute"), args=[
        load(obj), gast.Constant(value=target.attr, kind=None), value], keywords=[])
    return assign(obj, call, origin)


def _copied(name: str, origin: gast.stmt) -> gast.Assign:
    """`x = x.copy()`: a change of `x` leaves the array others saved untouched."""
    call = gast.Call(func=gast.Attribute(value=load(name), attr="copy", ctx=gast.Load()),
                     args=[], keywords=[])
    return assign(name, call, origin)


def _written_back(base: str, view: gast.expr, name: str, origin: gast.stmt) -> gast.Assign:
    """`x[1:] = v` for `v = x[1:]`, `x[:] = v.T` for `v = x.T`."""
    if isinstance(view, gast.Attribute):  # `.T`
        part: gast.expr = gast.Slice(lower=None, upper=None, step=None)
        value: gast.expr = gast.Attribute(value=load(name), attr="T", ctx=gast.Load())
    else:
        part, value = clone(view.slice), load(name)
    return assign(gast.Subscript(value=store(base), slice=part, ctx=gast.Store()), value, origin)


def lower_augassign(tree: gast.FunctionDef, effects=None) -> gast.FunctionDef:
    """`effects` (a mutations.CallEffects) says what calls of user functions change."""
    LowerAugAssign(loaded_names(tree), effects=effects).visit(tree)
    return tree
