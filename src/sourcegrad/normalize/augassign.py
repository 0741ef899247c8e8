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
import numpy as np

from ..errors import UnsupportedSyntaxError
from ..gastutil import (
    as_load,
    assign,
    assigned_names,
    clone,
    const,
    copy_of,
    load,
    loaded_names,
    parameter_names,
    store,
    target_names,
)
from .changing_calls import ChangingCalls
from .library_calls import LibraryCalls
from .sharing import (
    ARGUMENT,
    CHANGING_METHODS,
    REWRITING_METHODS,
    attribute_set,
    check_unshared,
    copied,
    part_name,
    part_target,
    sliced_view,
    view_source,
    written_back,
)

# relations that may hold on either arm of a branch, so join by union
_MAY_GROUPS = ("aliases", "whole", "parents", "holders", "part_holders")


class LowerAugAssign(ChangingCalls, LibraryCalls, gast.NodeTransformer):
    def __init__(self, tree: gast.FunctionDef, params: list[str] = (), effects=None):
        self.read_anywhere = loaded_names(tree)
        self.local_names = set(parameter_names(tree.args)) | assigned_names(tree.body)
        self.aliases: dict[str, set[str]] = {}  # names that may share an array (or a part)
        self.whole: dict[str, set[str]] = {}  # names that may hold the same object
        self.same: dict[str, set[str]] = {}  # names that surely hold the same object
        self.parents: dict[str, set[str]] = {}  # names whose object may hold this one's
        self.views: dict[str, tuple[str, gast.expr]] = {}  # surely a view: (of what, how)
        self.holders: dict[str, set[str]] = {}  # containers that may hold the object
        self.part_holders: dict[str, set[str]] = {}  # ... that may hold a part of it
        self.effects = effects  # mutations.CallEffects: what calls do to their arguments
        self.changed_params: set[str] = set()  # whose argument the function changes in place
        self.rebound_params: set[str] = set()  # ... whose attributes it only sets
        self.changed_by_method: set[str] = set()
        self.methods_called: set[tuple[str, str]] = set()  # (parameter, method): Effects.methods
        self.returned_params: set[str] = set()  # whose argument it may return (or a part)
        self.returned_whole: set[str] = set()  # ... whose argument itself it may return
        self.returned_within: set[str] = set()  # ... whose argument what it returns may hold
        self.always_returned: set[str] | None = None  # ... it returns on every path, as is
        self.iterated: list[tuple[set[str], set[str], gast.For]] = []  # enclosing `for x in a`
        for param in params:
            self._bind(param + ARGUMENT, param, same=True)

    def _bind(self, name: str, source: str | None, same: bool = False) -> None:
        self.views = {v: view for v, view in self.views.items()
                      if v != name and view[0] != name}
        for groups in (getattr(self, field) for field in (*_MAY_GROUPS, "same")):
            for group in groups.values():
                group.discard(name)
            groups[name] = set()
        if source is not None:
            self._join(name, source, same, whole=same)

    def _join(self, name: str, source: str, same: bool = False, whole: bool = False) -> None:
        """`name` may share (part of) what `source` holds; with `whole` it may be the same
        object, with `same` it surely is."""
        if source == name or source not in self.local_names and not source.endswith(ARGUMENT):
            return  # `np` in `np.swapaxes(a, 0, 1)` holds no array of the function
        if not (whole or same):  # `s = d["s"]`: s is a part of what d holds
            self.parents.setdefault(name, set()).update({source} | self.whole.get(source, set()))
        for groups, joins in ((self.aliases, True), (self.whole, whole or same),
                              (self.same, same)):
            if joins:
                group = groups.setdefault(source, set())
                groups[name] = groups.get(name, set()) | {source} | group
                for other in {source} | group:
                    groups.setdefault(other, set()).add(name)

    def visit_Assign(self, node: gast.Assign) -> gast.stmt | list[gast.stmt]:
        hoisted, node.value = self._hoisted(node.value, node)  # `y = 2.0 * fill(buf, x)`
        if hoisted:
            return self._block([*hoisted, node])
        self._note_methods_called(node.value)
        target = node.targets[0]
        if isinstance(target, (gast.Subscript, gast.Attribute)) and not isinstance(
                target.value, gast.Name):
            return self._nested_write(target, node.value, node)
        if isinstance(target, gast.Subscript):  # a write into the array, not a binding
            changed = self._changed_in_place(node, target.value.id)
            self._hold(target.value.id, node.value)  # a list holds what it gets
            return changed
        if isinstance(target, gast.Attribute):  # `obj.h = v` changes the object
            whole = not (getattr(node, "augmented", False) or getattr(node, "writes_back", False))
            lowered = attribute_set(target, node.value, node)
            for mark in ("augmented", "writes_back"):
                if hasattr(node, mark):
                    setattr(lowered, mark, True)
            changed = self._changed_in_place(lowered, target.value.id, whole)
            self._hold(target.value.id, node.value)  # obj holds the value
            return changed
        self._note_method_change(node.value)
        self._refuse_nested_changing_calls(node.value, node)
        if isinstance(node.value, gast.Call) and len(node.targets) == 1:
            changing = self._changing_call(node.value, target, node)
            if changing is not None:
                return changing
        self._note_receiver_sharers(node)
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
                self._hold(target.id, item)
            return node
        if isinstance(target, gast.Name) and isinstance(node.value, _COMPREHENSIONS):
            self._hold_comprehension(target.id, node.value)  # `xs = [a for _ in ys]` holds a
            return node
        self._bind_targets(node.targets, node.value)
        viewed = sliced_view(node.value)
        if isinstance(target, gast.Name) and viewed is not None and viewed != target.id:
            self.views[target.id] = (viewed, node.value)
        if isinstance(node.value, gast.Call) and isinstance(target, gast.Name):
            self._share_returned(target.id, node.value)
        return node

    def _held_sources(self, value: gast.expr) -> list[tuple[str, bool, bool]]:
        """`_sources`, and for a call of a user function that may return an argument (or a
        part of it), that argument: `{"k": f(u)}` may hold u's array."""
        sources = _sources(value)
        fn = self.effects.callee(value) if isinstance(value, gast.Call) and \
            self.effects is not None else None
        if fn is None:
            return sources
        effects = self.effects.of(fn, value)
        for param, argument in self.effects.arguments(value, fn, effects.returned
                                                      | effects.held).items():
            source = view_source(argument)
            if source is not None:
                whole = param in effects.returned_whole and isinstance(argument, gast.Name)
                sources.append((source, False, whole))
        return sources

    def _hold_comprehension(self, container: str, value: gast.expr) -> None:
        """The list a comprehension makes holds what its items name from outside it (`a` in
        `[a for q in qs]`, `w[1:]` in `{k: w[1:] for k in d}`), not its own loop variables."""
        self._bind(container, None)
        own = {n for g in value.generators for n in target_names(g.target)}
        items = [value.key, value.value] if isinstance(value, gast.DictComp) else [value.elt]
        for item in items:
            if not any(source in own for source, _, _ in _sources(item)):
                self._hold(container, item)

    def _bind_targets(self, targets: list[gast.expr], value: gast.expr) -> None:
        """What the names an assignment binds may share: `a = b = x` (both hold x's array),
        `a, b = x, y` (item by item, a swap included), `a, b = xs` (items of xs),
        `y = x if c else z` (either)."""
        first = targets[0]
        if isinstance(first, (gast.Tuple, gast.List)) and isinstance(
                value, (gast.Tuple, gast.List)) and len(first.elts) == len(value.elts):
            pairs = [(elt, _sources(item)) for elt, item in zip(first.elts, value.elts,
                                                                strict=True)]
        else:
            pairs = [(first, _sources(value))]
        bound = [(name, sources, isinstance(elt, gast.Name)) for elt, sources in pairs
                 for name in target_names(elt)]
        before = {name: (self.aliases.get(name, set()) | {name}, self.whole.get(name, set())
                         | {name}) for name, _, _ in bound}
        for name, _, _ in bound:
            self._bind(name, None)
        for name, sources, plain in bound:
            for source, same, whole in sources:
                if source in before:  # `a, b = b, a`: a holds what b held (b is rebound)
                    shared, wholly = before[source]
                    for other in shared - set(before):
                        self._join(name, other, whole=whole and plain and other in wholly)
                else:
                    self._join(name, source, same and plain, whole and plain)
        self._join_targets_of_one_source(bound, before)
        for other in targets[1:]:  # `a = b = x`: the other targets hold what the first holds
            for name in target_names(other):
                self._bind(name, None)
                if isinstance(first, gast.Name) and isinstance(other, gast.Name):
                    self._join(name, first.id, same=True)

    def _join_targets_of_one_source(self, bound: list, before: dict) -> None:
        """`u, a = u, u`, `b, c = x, x`: targets given the same object share it with each
        other too (a source that is itself rebound is joined with nobody above)."""
        def held(sources) -> set[str]:
            names: set[str] = set()
            for source, _, _ in sources:
                names |= before[source][0] if source in before else {source}
            return names
        for i, (name, sources, plain) in enumerate(bound):
            for other, other_sources, other_plain in bound[i + 1:]:
                if name == other or not held(sources) & held(other_sources):
                    continue
                both_whole = plain and other_plain and all(
                    whole for _, _, whole in sources + other_sources)
                same = both_whole and all(s for _, s, _ in sources + other_sources) and len(
                    {s for s, _, _ in sources + other_sources}) == 1
                self._join(name, other, same=same, whole=both_whole)

    def visit_AugAssign(self, node: gast.AugAssign) -> list[gast.stmt]:
        hoisted, right = self._hoisted(gast.BinOp(left=as_load(node.target), op=node.op,
                                                  right=node.value), node, within=node.value)
        if hoisted:  # `x -= 2.0 * fill(buf, y)`
            node.value = right.right
            return self._block([*hoisted, node])
        value = gast.BinOp(left=as_load(node.target), op=node.op, right=node.value)
        self._note_methods_called(value)
        self._refuse_nested_changing_calls(value, node)  # `x -= fill(buf, x)`
        lowered = assign(node.target, value, node)
        if isinstance(node.target, gast.Attribute) and isinstance(node.target.value, gast.Name):
            lowered.augmented = True  # NumPy changes the attribute's array in place
            return [check_unshared(node.target, node), *self.visit_Assign(lowered)]
        if isinstance(node.target, (gast.Attribute, gast.Subscript)) and not isinstance(
                node.target.value, gast.Name):
            return self.visit_Assign(lowered)  # `xs[k][0] += v`
        if isinstance(node.target, gast.Name):
            return self._changed_in_place(lowered, node.target.id)
        # `xs[k] += v`: NumPy changes the array xs[k] holds, which xs may share with others
        root = node.target.value.id
        lowered.augmented = True
        changed = self._changed_in_place(lowered, root)
        if isinstance(node.target.slice, (gast.Slice, gast.Tuple)):
            return changed  # a part of an array (lists take no tuples, slices are copies)
        return [check_unshared(node.target, node), *changed]

    def _nested_write(self, target: gast.expr, value: gast.expr,
                      origin: gast.stmt) -> list[gast.stmt]:
        """`xs[k][0] = v`, `self.buf[i] = v`, `M.T[1] = v`: take the part out (a copy of it,
        for a write into an array), write into it, and put it back, `xs[k] = part`,
        `self.buf = part`, `M = part.T`, which is a change of `xs` (`self`, `M`) like any
        other."""
        stmts = []
        if not isinstance(value, (gast.Name, gast.Constant)):  # Python evaluates it first
            stmts.append(assign(self._fresh("value"), value, origin))
            value = load(stmts[-1].targets[0].id)
        inner = target.value
        part = self._fresh(part_name(inner))
        if not (isinstance(inner, gast.Subscript) and isinstance(inner.slice, (gast.Slice,
                                                                              gast.Tuple))):
            stmts.append(check_unshared(inner, origin))
        taken = clone(inner)
        if isinstance(target, gast.Subscript):  # `part = xs[k].copy()`
            taken = copy_of(taken)
        taken = assign(part, taken, origin)
        self._bind(part, None)  # a copy (a new object, for an attribute): put back below
        written = type(target)(**{**{f: getattr(target, f) for f in target._fields},
                                  "value": store(part)})
        if isinstance(inner, gast.Attribute) and inner.attr == "T":  # `M.T[1] = v`: all of
            whole = gast.Subscript(value=clone(inner.value), slice=const(Ellipsis),  # M is
                                   ctx=gast.Store())  # written, `M[...] = part.T`
            put_back = assign(whole, gast.Attribute(value=load(part), attr="T",
                                                    ctx=gast.Load()), origin)
        else:
            put_back = assign(part_target(inner), load(part), origin)
            put_back.writes_back = True  # the part's arrays changed in place, in Python
        return [*self._block(stmts), taken,
                *self._block([assign(written, value, origin), put_back])]

    def _fresh(self, base: str) -> str:
        if self.effects is None:
            self.effects = _NoEffects(self.read_anywhere)
        return self.effects.namer.fresh(base)

    def _changed_in_place(self, stmt: gast.Assign | gast.Expr, name: str,
                          whole: bool = False) -> list[gast.stmt]:
        """`stmt` changes the array `name` (NumPy would write into it): mark who may share
        it, and follow those who surely do. A `whole` change (`obj.h = v`) sets an attribute
        of the object and leaves the arrays it held alone: names holding those arrays (`h =
        obj.h`) do not see it."""
        self._refuse_change_of_iterated(stmt, name)
        if isinstance(stmt, gast.Assign) and whole:
            self.rebound_params |= self._arguments_held(name, whole=True)
        elif isinstance(stmt, gast.Assign):  # a method's change is noted apart (by_method)
            self.changed_params |= self._arguments_held(name)
        self._mark_shared(stmt, name, whole)
        follow_ups, followed, through_views = self._follow_ups(name, stmt)
        if not followed:
            return [stmt]
        stmt.followed_aliases = sorted(followed)
        if through_views:  # right for arrays only: a slice of a list is a copy
            stmt.followed_views = sorted(through_views)
        if isinstance(stmt, gast.Expr) or isinstance(stmt.targets[0], gast.Subscript):
            return [copied(name, stmt), stmt, *follow_ups]  # what was saved stays as it was
        return [stmt, *follow_ups]

    def _refuse_change_of_iterated(self, stmt: gast.stmt, name: str) -> None:
        """`for e in a: a[k] += e`: Python's loop reads the items as it goes and sees the
        change; the lowered loop reads a copy taken before (the change starts from a copy of
        `a`). Changing the item the loop is at (`for row in a: row *= 2`) is fine."""
        for iterated, targets, loop in self.iterated:
            if name in targets:
                continue
            shared = ({name} | self.aliases.get(name, set())) & iterated
            if shared:
                raise UnsupportedSyntaxError(
                    f"{name} is changed in place while the loop at line "
                    f"{getattr(getattr(loop, 'origin', None), 'lineno', '?')} iterates over "
                    f"{sorted(shared)[0]}", getattr(stmt, "origin", None),
                    why="Python's loop reads each item when it gets to it, so it sees the "
                        "change; sourcegrad's loop reads the array as it was.",
                    hint=f"Iterate over a copy (for ... in {sorted(shared)[0]}.copy()) if the "
                         "loop should see the values from before, or loop over indices "
                         "(for i in range(len(...))) and read the items by index.")

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
            back = written_back(base, view, top, origin)
            held = (self.holders.get(base, set()) | self.part_holders.get(base, set())) \
                & self.read_anywhere
            if held:  # `xs = [a]; v = a[1:]; v += d`: what xs holds changes (refused)
                back.held_by = sorted(held)
            stmts += [copied(base, origin), back]
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

    def _note_receiver_sharers(self, node: gast.Assign | gast.Expr) -> None:
        """`m.step(x)`: who else may hold m's object, should step set its attributes (the
        differentiator follows that when nobody does, analysis/method_changes.py)."""
        receivers = {call.func.value.id for call in gast.walk(node.value)
                     if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute)
                     and isinstance(call.func.value, gast.Name)
                     and call.func.value.id in self.local_names}
        if receivers:  # ANF hands each to the statement that makes the call
            node.method_receivers = {name: sorted((self._containing(name) | self.holders.get(
                name, set())) & self.read_anywhere) for name in receivers}

    def visit_Expr(self, node: gast.Expr) -> gast.stmt | list[gast.stmt]:
        hoisted, node.value = self._hoisted(node.value, node)  # `print(fill(buf, x))`
        if hoisted:
            return self._block([*hoisted, node])
        self._note_method_change(node.value)
        self._note_methods_called(node.value)
        self._refuse_nested_changing_calls(node.value, node)
        self._note_receiver_sharers(node)
        if isinstance(node.value, gast.Call):
            changing = self._changing_call(node.value, None, node)
            if changing is not None:
                return changing
        call = node.value
        written = self._written_out(call, node)
        if written is not None:  # `np.multiply(x, w, out=o)` is `o[...] = np.multiply(x, w)`
            return self.visit_Assign(written)
        if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and \
                call.func.attr == "append" and isinstance(call.func.value, gast.Name) and call.args:
            self._hold(call.func.value.id, call.args[0])  # xs now holds v
        if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and isinstance(
                call.func.value, gast.Name) and call.func.attr in CHANGING_METHODS and \
                call.func.value.id in self.local_names:  # not `np.put(a, i, v)`
            name = call.func.value.id
            if call.func.attr in REWRITING_METHODS:  # `M.fill(0.0)`: as a library call
                return self._changed_by_library_call(node, call, [name])
            return self._changed_in_place(node, name)  # `ys = xs; xs.append(v)`
        if isinstance(call, gast.Call):
            return self._changed_by_library_call(node, call)
        return node

    def _written_out(self, call: gast.expr, node: gast.Expr) -> gast.Assign | None:
        """`np.f(args, out=o)` as a statement, for a NumPy function and a local array `o` (or
        a part of one, `out=buf[i]`): the write into o's buffer it is, `o[...] = np.f(args)`
        (followed like any write; the call without `out=` has a rule, with it none)."""
        if not isinstance(call, gast.Call) or self.effects is None or not hasattr(
                self.effects, "namespace"):
            return None
        out = [k.value for k in call.keywords if k.arg == "out"]
        target = self._out_target(out[0]) if len(out) == 1 else None
        fn = self.effects.namespace.resolve(call.func, self.local_names)
        if target is None or getattr(fn, "__module__", None) is None or not (
                isinstance(fn, np.ufunc) or fn.__module__.partition(".")[0] == "numpy"):
            return None
        value = gast.Call(func=call.func, args=call.args,
                          keywords=[k for k in call.keywords if k.arg != "out"])
        return assign(target, value, node)

    def _out_target(self, out: gast.expr) -> gast.Subscript | None:
        """`o[...]` for `out=o`, `buf[i]` for `out=buf[i]` (an index of names and constants,
        the same when written as when passed); None for anything else."""
        base, part = out, gast.Constant(value=Ellipsis, kind=None)
        if isinstance(out, gast.Subscript):
            if not all(isinstance(n, (gast.Name, gast.Constant, gast.Slice, gast.Tuple,
                                      gast.Load)) for n in gast.walk(out.slice)):
                return None
            base, part = out.value, copy.deepcopy(out.slice)
        if not isinstance(base, gast.Name) or base.id not in self.local_names:
            return None
        return gast.Subscript(value=store(base.id), slice=part, ctx=gast.Store())

    def _containing(self, name: str) -> set[str]:
        """The names that may hold the object `name` holds: itself under other names, and
        the lists, dicts and objects it may be a part of (`s = d["s"]`: d), and theirs."""
        found: set[str] = set()
        pending = [name]
        while pending:
            current = pending.pop()
            for other in self.whole.get(current, set()) | self.parents.get(current, set()):
                if other not in found and other != name:
                    found.add(other)
                    pending.append(other)
        return found

    def _hold(self, container: str, value: gast.expr) -> None:
        """`container` now holds `value` (a write into it shows through the container): the
        object of a name (`[x]`), or a part of one (`[x[1:]]`, `[obj.h]`)."""
        if container not in self.local_names:
            return
        for item, _, whole in self._held_sources(value):  # `x`, `x[1:]`, `f(x)`
            if item == container:
                continue
            wholly = {item} | self.whole.get(item, set()) if whole else set()
            for held in wholly - {container}:
                self.holders.setdefault(held, set()).add(container)
            for held in ({item} | self.aliases.get(item, set())) - wholly - {container}:
                self.part_holders.setdefault(held, set()).add(container)

    def _mark_shared(self, node: gast.Assign, name: str, whole: bool = False) -> None:
        """Note the other names that may share the array `node` updates in place, and the
        containers that hold it (they matter when `name` is an array, not a container); for
        a `whole` change, those that may hold the object itself."""
        shared = (self._containing(name) if whole else self.aliases.get(name, set())) \
            & self.read_anywhere
        if shared:
            node.inplace_aliases = sorted(shared)
        held = self.holders.get(name, set()) | (set() if whole else self.part_holders.get(
            name, set()))
        held &= self.read_anywhere
        if held:
            node.held_by = sorted(held)
        if getattr(node, "augmented", False) or getattr(node, "writes_back", False):
            holds = {n for held in (self.holders, self.part_holders)
                     for n, containers in held.items() if name in containers}
            if holds & self.read_anywhere:  # `xs[k] += v` changes what xs holds in place
                node.holds = sorted(holds & self.read_anywhere)

    def visit_AnnAssign(self, node: gast.AnnAssign) -> gast.stmt | None:
        if node.value is None:
            return None
        return self.visit_Assign(assign(node.target, node.value, node))

    def _branches(self, node):
        """May-relations join over both arms; sure ones (`same`, views) hold after both only."""
        if isinstance(node, gast.If):  # `if h(buf) > 0:` (a loop's header runs again)
            hoisted, node.test = self._hoisted(node.test, node)
            if hoisted:
                return self._block([*hoisted, node])
        header = node.iter if isinstance(node, gast.For) else node.test
        self._note_methods_called(header)
        self._refuse_nested_changing_calls(header, node, whole_too=True)
        before = self._snapshot()
        iterating = isinstance(node, gast.For) and not (isinstance(
            node.iter, gast.Call) and getattr(node.iter.func, "id", None) == "range")
        if iterating:  # `for row in a`: a view or an item
            for name in target_names(node.target):
                self._bind(name, None)
                for source in loaded_names(node.iter):
                    self._join(name, source)
                    self._hold(source, load(name))
            self.iterated.append((_iterated(node.iter) & self.local_names,
                                  set(target_names(node.target)), node))
        try:
            node.body = self._block(node.body)
        finally:
            if iterating:
                self.iterated.pop()
        after_body = {field: getattr(self, field) for field in before}
        for field, value in before.items():
            setattr(self, field, value)
        node.orelse = self._block(node.orelse)
        for field in _MAY_GROUPS:
            joined = getattr(self, field)
            for name, group in after_body[field].items():
                joined.setdefault(name, set()).update(group)
        self.same = {name: group & after_body["same"].get(name, set())
                     for name, group in self.same.items()}
        views = after_body["views"]
        self.views = {v: view for v, view in self.views.items()
                      if v in views and view[0] == views[v][0]
                      and gast.dump(view[1]) == gast.dump(views[v][1])}
        return node

    def _snapshot(self) -> dict:
        """A copy of who shares what."""
        state = {field: {k: set(v) for k, v in getattr(self, field).items()}
                 for field in (*_MAY_GROUPS, "same")}
        state["views"] = dict(self.views)
        return state

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

    def _facts(self) -> dict:
        """Who shares what, to compare."""
        state = self._snapshot()
        state["views"] = {v: (of, gast.dump(how)) for v, (of, how) in self.views.items()}
        return state

    visit_If = _branches
    visit_For = visit_While = _loop


_MAX_LOOP_PASSES = 8


_COMPREHENSIONS = (gast.ListComp, gast.GeneratorExp, gast.DictComp, gast.SetComp)


def _iterated(iterable: gast.expr) -> set[str]:
    """The names whose arrays (or lists) a loop walks: `a` in `for e in a`, `zip(a, b)`,
    `enumerate(a[1:])`, `reversed(a.T)`; not in `a.copy()`, a new array."""
    if isinstance(iterable, gast.Call) and getattr(iterable.func, "id", None) in (
            "zip", "enumerate", "reversed"):
        return {name for arg in iterable.args for name in _iterated(arg)}
    source = view_source(iterable)
    return {source} if source is not None else set()


def _sources(value: gast.expr) -> list[tuple[str, bool, bool]]:
    """The names whose object `value` may be or be part of (a view, an item, an attribute),
    each with whether it surely is it and whether it may be it whole."""
    if isinstance(value, gast.Name):
        return [(value.id, True, True)]
    if isinstance(value, (gast.IfExp, gast.BoolOp)):
        parts = [value.body, value.orelse] if isinstance(value, gast.IfExp) else value.values
        return [(name, False, whole) for part in parts for name, _, whole in _sources(part)]
    source = view_source(value)
    return [(source, False, False)] if source is not None else []


class _NoEffects:
    """Calls change nothing (for trees normalized without a namespace, in tests)."""

    only_analyze = True

    def __init__(self, taken: set[str]):
        from ..names import Namer
        self.namer = Namer(taken)

    def callee(self, call: gast.Call) -> None:
        return None


def lower_augassign(tree: gast.FunctionDef, effects=None) -> gast.FunctionDef:
    """`effects` (a mutations.CallEffects) says what calls of user functions change."""
    LowerAugAssign(tree, effects=effects).visit(tree)
    return tree
