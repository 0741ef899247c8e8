"""ANF for loops: `for` headers become loops the adjoint can replay backwards.

`range(...)` keeps bounds the body does not change; `zip`, `enumerate` and dict views become
loops over an index that read the items; `reversed(xs)` walks `xs[::-1]`; a dict view handed
to `sum`, `list`, `zip`... becomes the list of its elements. Mixed into `anf.ANF`, whose
`emit`, `atom`, `value_into` and `block` these methods use.

As Python: `enumerate(xs, start=k)` counts from `k` as it was when the loop started;
`zip(xs, ys, strict=True)` over unequal lengths raises Python's own ValueError when the loop
ends without `break` (after the loop, `zip_check = len([*zip(xs, ys, strict=True)])`, with
`strict=not zip_broken` when the body can break). Keywords these builtins do not take are
refused.
"""

from __future__ import annotations

import gast

from ..errors import UnsupportedSyntaxError
from ..gastutil import assign, assigned_names, const, load, loaded_names, store, with_origin
from .naming import describe

_KEYWORDS = {"zip": ("strict",), "enumerate": ("start",), "reversed": ()}  # as Python's


class LoopLowering:
    """The loop half of ANF (see the module docstring)."""

    def visit_For(self, node: gast.For) -> None:
        iterable = node.iter
        if self._is_builtin_call(iterable, "reversed") and len(iterable.args) == 1:
            # `reversed(xs)` walks `xs[::-1]` (a range, list, tuple or array alike; a dict
            # view as the list of its elements)
            iterable = gast.Subscript(value=self._listed_view(iterable.args[0]), slice=gast.Slice(
                None, None, const(-1)), ctx=gast.Load())
            node = gast.For(target=node.target, iter=iterable, body=node.body, orelse=[],
                            type_comment=None)
        if self._is_dict_view(iterable):
            self._dict_loop(node)
            return
        if self._is_builtin_call(iterable, "enumerate") or self._is_builtin_call(iterable, "zip"):
            self._zip_or_enumerate(node)
            return
        if self._is_range_call(iterable):
            iterable = self._range(iterable, assigned_names(node.body))
        elif not isinstance(iterable, gast.Name) or iterable.id in assigned_names(node.body):
            iterable = self.atom(iterable) if not isinstance(iterable, gast.Name) else \
                self._copy_name(iterable)
        self.emit(gast.For(target=node.target, iter=iterable, body=self.block(node.body),
                           orelse=[], type_comment=None))

    def _zip_or_enumerate(self, node: gast.For) -> None:
        """`for i, x in enumerate(xs)` and `for a, b in zip(xs, ys)` become loops over an
        index that read the items, so the adjoint can walk them backwards."""
        call, target = node.iter, node.target
        enumerate_ = call.func.id == "enumerate"
        sources = [_enumerated(call)] if enumerate_ else list(call.args)
        zipped = None if enumerate_ else call
        if enumerate_ and self._is_builtin_call(sources[0], "zip") and isinstance(
                target, gast.Tuple) and isinstance(target.elts[1], gast.Tuple):
            # `for k, (a, b) in enumerate(zip(xs, ys))`
            zipped = sources[0]
            sources = list(sources[0].args)
            target = gast.Tuple(elts=[target.elts[0], *target.elts[1].elts], ctx=gast.Store())
            node = gast.For(target=target, iter=gast.Call(func=call.func, args=[call.args[0]],
                                                         keywords=[]), body=node.body,
                            orelse=[], type_comment=None)
        sources = [self._listed_view(s) for s in sources]
        if not isinstance(target, gast.Tuple) or len(target.elts) != (
                1 + len(sources) if enumerate_ else len(sources)):
            raise UnsupportedSyntaxError(
                f"unpack {call.func.id}(...) into one name per item", node.origin,
                hint="Write for i, x in enumerate(xs) or for a, b in zip(xs, ys).")
        rebound = assigned_names(node.body)
        items = [self._at_start(s, rebound) for s in sources]
        strict = self._strict(zipped, rebound) if zipped is not None and len(items) > 1 else None
        body, broken = node.body, None
        if strict is not None and _breaks(body):
            broken = self.namer.fresh("zip_broken")
            self.emit(assign(broken, const(False), node))
            body = _flag_breaks(body, broken)
        lengths = [gast.Call(func=load("len"), args=[i], keywords=[]) for i in items]
        count = lengths[0] if len(lengths) == 1 else gast.Call(func=load("min"), args=lengths,
                                                                keywords=[])
        counter = self.namer.fresh("index")
        prefix = [assign(elt, gast.Subscript(value=load(item.id), slice=load(counter),
                                             ctx=gast.Load()), node)
                  for elt, item in zip(target.elts[len(target.elts) - len(items):], items,
                                       strict=True)]
        if enumerate_:
            start = self._at_start(_enumerate_start(call), rebound)
            prefix.insert(0, assign(target.elts[0], gast.BinOp(left=load(counter), op=gast.Add(),
                                                               right=start), node))
        header = gast.Call(func=load("range"), args=[self.atom(count)], keywords=[])
        self.emit(gast.For(target=store(counter), iter=header, body=self.block(prefix + body),
                           orelse=[], type_comment=None))
        if strict is not None:
            self.emit(_zip_check(items, strict, broken, self.namer.fresh("zip_check"), node))

    def _at_start(self, node: gast.expr, rebound: set[str]) -> gast.expr:
        """The value `node` has when the loop starts: Python evaluates a loop's header once,
        so a name the body rebinds is read into a copy first."""
        if isinstance(node, gast.Name):
            return self._copy_name(node) if node.id in rebound else node
        return self.atom(node)

    def _strict(self, zipped: gast.Call, rebound: set[str]) -> gast.expr | None:
        """The `strict=` of a zip, None when it is absent or a constant false."""
        value = next((kw.value for kw in zipped.keywords if kw.arg == "strict"), None)
        if value is None or isinstance(value, gast.Constant) and not value.value:
            return None
        return value if isinstance(value, gast.Constant) else self._at_start(value, rebound)

    def _is_dict_view(self, node: gast.expr) -> bool:
        return (isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute)
                and node.func.attr in ("items", "keys", "values") and not node.args
                and isinstance(node.func.value, gast.Name)
                and node.func.value.id in self.local_names)

    def _listed_view(self, node: gast.expr) -> gast.expr:
        """`d.values()` handed to `sum`, `list`, `zip`...: `[d[k] for k in d.keys()]`, a list
        those builtins treat the same and whose loop `_dict_loop` lowers."""
        if not self._is_dict_view(node):
            return node
        mapping, view = node.func.value.id, node.func.attr
        key = self.namer.fresh("key")
        item = gast.Subscript(value=load(mapping), slice=load(key), ctx=gast.Load())
        element = {"keys": load(key), "values": item,
                   "items": gast.Tuple(elts=[load(key), item], ctx=gast.Load())}[view]
        keys = gast.Call(func=gast.Attribute(value=load(mapping), attr="keys", ctx=gast.Load()),
                         args=[], keywords=[])
        listed = self.namer.fresh(f"{mapping}_{view}")
        self.value_into(gast.ListComp(elt=element, generators=[gast.comprehension(
            target=store(key), iter=keys, ifs=[], is_async=0)]), store(listed))
        return load(listed)

    def _dict_loop(self, node: gast.For) -> None:
        """`for k, v in d.items()` (or `.keys()`, `.values()`) walks the keys by position."""
        mapping, view = node.iter.func.value.id, node.iter.func.attr
        counter = self.namer.fresh("index")
        key_target = node.target.elts[0] if view == "items" else (
            node.target if view == "keys" else store(self.namer.fresh("key")))
        key = gast.Call(func=load("dict_key"), args=[load(mapping), load(counter)],
                        keywords=[])
        prefix = [assign(key_target, key, node)]
        if view != "keys":
            value_target = node.target.elts[1] if view == "items" else node.target
            item = gast.Subscript(value=load(mapping), slice=target_as_load(key_target),
                                  ctx=gast.Load())
            prefix.append(assign(value_target, item, node))
        length = gast.Call(func=load("len"), args=[load(mapping)], keywords=[])
        header = gast.Call(func=load("range"), args=[self.atom(length)], keywords=[])
        self.emit(gast.For(target=store(counter), iter=header,
                           body=self.block(prefix + node.body), orelse=[], type_comment=None))

    def _is_builtin_call(self, node: gast.expr, name: str) -> bool:
        """A call of the builtin `zip`, `enumerate` or `reversed` (not a local of that name);
        a keyword it does not take is refused (Python raises TypeError)."""
        if not (isinstance(node, gast.Call) and isinstance(node.func, gast.Name)
                and node.func.id == name and name not in self.local_names):
            return False
        for keyword in node.keywords:
            if keyword.arg not in _KEYWORDS[name]:
                taken = " or ".join(f"{k}=" for k in _KEYWORDS[name]) or "no keywords"
                raise UnsupportedSyntaxError(
                    f"{name}() with " + (f"the keyword {keyword.arg}=" if keyword.arg else "**")
                    + f" is not supported: {name}() takes {taken}",
                    getattr(node, "origin", None) or getattr(self.stmt, "origin", None),
                    hint="Python raises TypeError on it; pass the arguments as the builtin takes "
                         "them.")
        return True

    def _copy_name(self, name: gast.Name) -> gast.Name:
        """The loop iterates over the object the name held when the loop started."""
        copy = self.namer.fresh(name.id + "_items")
        self.emit(assign(copy, load(name.id)))
        return load(copy)

    def _range(self, call: gast.Call, assigned_in_body: set[str]) -> gast.Call:
        """`range(...)` with bounds the body does not change, so that the adjoint can replay
        it reversed: bounds that are not cheap and pure, or that the body reassigns, are
        computed once before the loop."""
        args = []
        for arg in call.args:
            if not self._is_pure_index(arg) or loaded_names(arg) & assigned_in_body:
                name = self.namer.fresh(describe(arg))
                self.value_into(arg, store(name))
                arg = load(name)
            args.append(arg)
        return gast.Call(func=call.func, args=args, keywords=[])

    def visit_While(self, node: gast.While) -> None:
        self.emit(gast.While(test=node.test, body=self.block(node.body), orelse=[]))

    def _is_range_call(self, node: gast.expr) -> bool:
        return (isinstance(node, gast.Call) and isinstance(node.func, gast.Name)
                and node.func.id == "range" and "range" not in self.local_names
                and not node.keywords)


def _enumerated(call: gast.Call) -> gast.expr:
    """What `enumerate(...)` walks: its first argument."""
    if not call.args:
        raise UnsupportedSyntaxError(
            "enumerate() without a positional iterable is not supported",
            getattr(call, "origin", None), hint="Write enumerate(xs) or enumerate(xs, start=k).")
    return call.args[0]


def _enumerate_start(call: gast.Call) -> gast.expr:
    """`enumerate(xs, k)` or `enumerate(xs, start=k)`: k; 0 without one."""
    if len(call.args) > 1:
        return call.args[1]
    return next((kw.value for kw in call.keywords if kw.arg == "start"), const(0))


def _breaks(body: list[gast.stmt]) -> bool:
    """Whether a `break` of this loop is in `body` (not one of a loop nested in it)."""
    return any(isinstance(s, gast.Break) or isinstance(s, gast.If) and (
        _breaks(s.body) or _breaks(s.orelse)) for s in body)


def _flag_breaks(body: list[gast.stmt], flag: str) -> list[gast.stmt]:
    """`body` with `flag = True` before each `break` of this loop: zip's strict check runs
    only when the loop ran out, as zip raises only when asked for one more item."""
    out: list[gast.stmt] = []
    for stmt in body:
        if isinstance(stmt, gast.Break):
            out += [assign(flag, const(True), stmt), stmt]
        elif isinstance(stmt, gast.If):
            out.append(with_origin(gast.If(test=stmt.test, body=_flag_breaks(stmt.body, flag),
                                           orelse=_flag_breaks(stmt.orelse, flag)), stmt))
        else:
            out.append(stmt)
    return out


def _zip_check(items: list[gast.expr], strict: gast.expr, broken: str | None, name: str,
               node: gast.For) -> gast.Assign:
    """`zip_check = len([*zip(xs, ys, strict=...)])`: Python's own zip walks the items again
    and raises its own ValueError ("zip() argument 2 is shorter than argument 1") where the
    user's loop would have; `strict=not zip_broken` after a loop that may break."""
    if broken is not None:
        not_broken = gast.UnaryOp(op=gast.Not(), operand=load(broken))
        strict = not_broken if isinstance(strict, gast.Constant) else gast.BoolOp(
            op=gast.And(), values=[strict, not_broken])
    zipped = gast.Call(func=load("zip"), args=list(items),
                       keywords=[gast.keyword(arg="strict", value=strict)])
    listed = gast.List(elts=[gast.Starred(value=zipped, ctx=gast.Load())], ctx=gast.Load())
    return assign(name, gast.Call(func=load("len"), args=[listed], keywords=[]), node)


def target_as_load(target: gast.expr) -> gast.expr:
    """The names a target binds, as an expression that reads them back."""
    if isinstance(target, gast.Name):
        return load(target.id)
    return gast.Tuple(elts=[target_as_load(elt) for elt in target.elts], ctx=gast.Load())
