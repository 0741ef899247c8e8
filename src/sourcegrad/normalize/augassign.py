"""Lower augmented assignment to plain assignment, noting where that changes what Python does.

Requires: syntax_check (targets are names).
Guarantees: no AugAssign or AnnAssign remains. `x += y` becomes `x = x + y`, which never writes
into the caller's array: the gradient code must not mutate its inputs. For a float the two are
the same; for an array NumPy updates in place, so another name bound to the same array (`y = x`,
a view `y = x[1:]`) would see the change. Such statements get `inplace_aliases`, the names that
may share the array, and the differentiator refuses them when `x` is an array.
Writes into part of an array (`y[i] = v`, and `y[i] += v` lowered to `y[i] = y[i] + v`) always
update in place; they are marked the same way when another name may share `y`.
Example: `s *= 2` becomes `s = s * 2`.
"""

from __future__ import annotations

import gast

from ..gastutil import as_load, assign, loaded_names, target_names

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


class LowerAugAssign(gast.NodeTransformer):
    def __init__(self, read_anywhere: set[str]):
        self.read_anywhere = read_anywhere
        self.aliases: dict[str, set[str]] = {}
        self.holders: dict[str, set[str]] = {}

    def _bind(self, name: str, source: str | None) -> None:
        for group in self.aliases.values():
            group.discard(name)
        self.aliases[name] = set()
        if source is not None and source != name:
            group = self.aliases.setdefault(source, set())
            self.aliases[name] = {source} | group
            for other in {source} | group:
                self.aliases.setdefault(other, set()).add(name)

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
                self._bind(name, source if isinstance(target, gast.Name) else None)
        return node

    def visit_AugAssign(self, node: gast.AugAssign) -> gast.stmt:
        value = gast.BinOp(left=as_load(node.target), op=node.op, right=node.value)
        lowered = assign(node.target, value, node)
        root = node.target.value if isinstance(node.target, gast.Subscript) else node.target
        self._mark_shared(lowered, root.id)
        return lowered

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
        before = {k: set(v) for k, v in self.aliases.items()}
        node.body = [self.visit(s) for s in node.body]
        after_body, self.aliases = self.aliases, before
        node.orelse = [self.visit(s) for s in node.orelse]
        for name, group in after_body.items():
            self.aliases.setdefault(name, set()).update(group)
        return node

    def _loop(self, node):
        for _ in range(2):  # the second pass sees aliases made by the first iteration
            self._branches(node)
        return node

    visit_If = _branches
    visit_For = visit_While = _loop


def lower_augassign(tree: gast.FunctionDef) -> gast.FunctionDef:
    LowerAugAssign(loaded_names(tree)).visit(tree)
    return tree
