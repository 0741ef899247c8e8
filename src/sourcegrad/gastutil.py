"""Small helpers to build and inspect gast nodes, shared by every pass."""

from __future__ import annotations

import copy
from typing import TypeVar

import gast

Node = TypeVar("Node", bound=gast.AST)


def load(name: str) -> gast.Name:
    return gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)


def store(name: str) -> gast.Name:
    return gast.Name(id=name, ctx=gast.Store(), annotation=None, type_comment=None)


def const(value) -> gast.Constant:
    return gast.Constant(value=value, kind=None)


def assign(target: gast.expr | str, value: gast.expr, origin_of: gast.AST | None = None):
    if isinstance(target, str):
        target = store(target)
    node = gast.Assign(targets=[target], value=value, type_comment=None)
    return with_origin(node, origin_of)


def with_origin(node: Node, origin_of: gast.AST | None) -> Node:
    """Give `node` (and its children without one) the origin of `origin_of`."""
    origin = getattr(origin_of, "origin", None)
    if origin is None:
        return node
    for child in gast.walk(node):
        if getattr(child, "origin", None) is None:
            child.origin = origin
    return node


def parse_expr(source: str) -> gast.expr:
    return gast.parse(source, mode="eval").body


def parse_stmts(source: str) -> list[gast.stmt]:
    return gast.parse(source).body


def copy_of(node: gast.expr) -> gast.Call:
    """`node.copy()`: the array (or list) `node` holds, as a new object."""
    return gast.Call(func=gast.Attribute(value=node, attr="copy", ctx=gast.Load()), args=[],
                     keywords=[])


def clone(node: Node) -> Node:
    """A deep copy that keeps origins (they are immutable, so shared)."""
    return copy.deepcopy(node)


def as_store(node: gast.expr) -> gast.expr:
    node = clone(node)
    for child in gast.walk(node):
        if hasattr(child, "ctx"):
            child.ctx = gast.Store()
    return node


def as_load(node: gast.expr) -> gast.expr:
    node = clone(node)
    for child in gast.walk(node):
        if hasattr(child, "ctx"):
            child.ctx = gast.Load()
    return node


def target_names(target: gast.expr) -> list[str]:
    """The variable names an assignment target binds: `a` or `a, b` or `(a, (b, c))`."""
    if isinstance(target, gast.Name):
        return [target.id]
    if isinstance(target, (gast.Tuple, gast.List)):
        return [name for elt in target.elts for name in target_names(elt)]
    return []


def assigned_names(stmts: list[gast.stmt]) -> set[str]:
    """Every name bound anywhere in `stmts` (assignments and for-loop targets)."""
    names: set[str] = set()
    for stmt in stmts:
        for node in gast.walk(stmt):
            if isinstance(node, gast.Assign):
                for target in node.targets:
                    names.update(target_names(target))
            elif isinstance(node, gast.For):
                names.update(target_names(node.target))
            elif isinstance(node, gast.AugAssign):
                names.update(target_names(node.target))
    return names


def loaded_names(node: gast.AST) -> set[str]:
    return {
        n.id for n in gast.walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)
    }


def parameter_names(args: gast.arguments) -> list[str]:
    """A function's parameters in signature order: positional, *args, keyword-only, **kwargs."""
    names = [a.id for a in args.posonlyargs + args.args]
    names += [args.vararg.id] if args.vararg else []
    names += [a.id for a in args.kwonlyargs]
    return names + ([args.kwarg.id] if args.kwarg else [])


def is_atom(node: gast.expr) -> bool:
    return isinstance(node, (gast.Name, gast.Constant))


def statement_lists(tree: gast.AST):
    """Every list of statements in `tree` (bodies and else-branches), nested ones included."""
    for node in gast.walk(tree):
        for field in ("body", "orelse"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block and isinstance(block[0], gast.stmt):
                yield block


def copy_replacing(tree: Node, replaced: dict[int, list[gast.stmt]]) -> Node:
    """A copy of `tree` in which each statement whose id is a key of `replaced` becomes the
    statements it maps to (none: dropped). The tree itself stays as it was: the canonical
    form of a function serves every specialization of it."""
    copies: dict[int, gast.AST] = {}
    tree = copy.deepcopy(tree, copies)
    replaced = {id(copies[key]): new for key, new in replaced.items()}
    for node in gast.walk(tree):
        for field in ("body", "orelse"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block and isinstance(block[0], gast.stmt):
                new = [s for stmt in block for s in replaced.get(id(stmt), [stmt])]
                setattr(node, field, new or [gast.Pass()])
    return tree
