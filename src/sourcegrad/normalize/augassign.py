"""Lower augmented assignment to plain assignment, noting where that changes what Python does.

Requires: syntax_check (targets are names).
Guarantees: no AugAssign or AnnAssign remains. `x += y` becomes `x = x + y`, which never writes
into the caller's array: the gradient code must not mutate its inputs. For a float the two are
the same; for an array NumPy updates in place, so another name bound to the same array (`y = x`,
a view `y = x[1:]`) would see the change. Such statements get `inplace_aliases`, the names that
may share the array, and the differentiator refuses them when `x` is an array, except for
names that surely hold the very same array (`y = x` on every path) or surely a view of it
(`v = x[1:]`, `v = x.T` on every path): for those the update is followed, `x = x + d` /
`y = x` / `v = x[1:]`, the rebinding marked `alias_rebind` and the names listed in
`followed_aliases`. The differentiator drops the rebinding when `x` turns out to be a number
(Python rebinds only `x` then).
Writes into part of an array (`y[i] = v`, and `y[i] += v` lowered to `y[i] = y[i] + v`) always
update in place; they are marked the same way when another name may share `y`.
Example: `s *= 2` becomes `s = s * 2`.
"""

from __future__ import annotations

import gast

from ..gastutil import as_load, assign, clone, load, loaded_names, target_names

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


class LowerAugAssign(gast.NodeTransformer):
    def __init__(self, read_anywhere: set[str]):
        self.read_anywhere = read_anywhere
        self.aliases: dict[str, set[str]] = {}  # names that may share an array
        self.same: dict[str, set[str]] = {}  # names that surely hold the same object
        self.views: dict[str, tuple[str, gast.expr]] = {}  # surely a view: (of what, how)
        self.holders: dict[str, set[str]] = {}

    def _bind(self, name: str, source: str | None, same: bool = False) -> None:
        self.views = {v: view for v, view in self.views.items()
                      if v != name and view[0] != name}
        for groups in (self.aliases, self.same):
            for group in groups.values():
                group.discard(name)
            groups[name] = set()
        if source is not None and source != name:
            for groups, joins in ((self.aliases, True), (self.same, same)):
                if joins:
                    group = groups.setdefault(source, set())
                    groups[name] = {source} | group
                    for other in {source} | group:
                        groups.setdefault(other, set()).add(name)

    def visit_Assign(self, node: gast.Assign) -> gast.stmt:
        target = node.targets[0]
        if isinstance(target, gast.Subscript):
            self._mark_shared(node, target.value.id)  # a write into the array, not a binding
            return node
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
        return node

    def visit_AugAssign(self, node: gast.AugAssign) -> list[gast.stmt]:
        value = gast.BinOp(left=as_load(node.target), op=node.op, right=node.value)
        lowered = assign(node.target, value, node)
        root = node.target.value if isinstance(node.target, gast.Subscript) else node.target
        self._mark_shared(lowered, root.id)
        if isinstance(node.target, gast.Subscript):
            return [lowered]
        again = {alias: load(root.id) for alias in self.same.get(root.id, set())}
        again.update({v: clone(expr) for v, (of, expr) in self.views.items() if of == root.id})
        followed = sorted(set(again) & self.read_anywhere)
        rebinds = []
        for alias in followed:  # `y = x; x += d`: y is the updated array too (or its view)
            rebind = assign(alias, again[alias], node)
            rebind.alias_rebind = True
            rebinds.append(rebind)
        if followed:
            lowered.followed_aliases = followed
        return [lowered, *rebinds]

    def visit_Expr(self, node: gast.Expr) -> gast.stmt:
        call = node.value
        if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and \
                call.func.attr == "append" and isinstance(call.func.value, gast.Name) and call.args:
            self._hold(call.func.value.id, _view_source(call.args[0]))  # xs now holds v
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
        for _ in range(2):  # the second pass sees aliases made by the first iteration
            self._branches(node)
        return node

    visit_If = _branches
    visit_For = visit_While = _loop


def lower_augassign(tree: gast.FunctionDef) -> gast.FunctionDef:
    LowerAugAssign(loaded_names(tree)).visit(tree)
    return tree
