"""ANF for loops: `for` headers become loops the adjoint can replay backwards.

`range(...)` keeps bounds the body does not change; `zip`, `enumerate` and dict views become
loops over an index that read the items; `reversed(xs)` walks `xs[::-1]`; a dict view handed
to `sum`, `list`, `zip`... becomes the list of its elements. Mixed into `anf.ANF`, whose
`emit`, `atom`, `value_into` and `block` these methods use.
"""

from __future__ import annotations

import gast

from ..errors import UnsupportedSyntaxError
from ..gastutil import assign, assigned_names, const, load, loaded_names, store
from .naming import describe


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
        sources = [call.args[0]] if enumerate_ else list(call.args)
        if enumerate_ and self._is_builtin_call(sources[0], "zip") and isinstance(
                target, gast.Tuple) and isinstance(target.elts[1], gast.Tuple):
            # `for k, (a, b) in enumerate(zip(xs, ys))`
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
        items = [(self._copy_name(s) if s.id in rebound else s) if isinstance(s, gast.Name)
                 else self.atom(s) for s in sources]
        lengths = [gast.Call(func=load("len"), args=[i], keywords=[]) for i in items]
        count = lengths[0] if len(lengths) == 1 else gast.Call(func=load("min"), args=lengths,
                                                                keywords=[])
        counter = self.namer.fresh("index")
        prefix = [assign(elt, gast.Subscript(value=load(item.id), slice=load(counter),
                                             ctx=gast.Load()), node)
                  for elt, item in zip(target.elts[len(target.elts) - len(items):], items,
                                       strict=True)]
        if enumerate_:
            start = call.args[1] if len(call.args) > 1 else const(0)
            prefix.insert(0, assign(target.elts[0], gast.BinOp(left=load(counter), op=gast.Add(),
                                                               right=start), node))
        header = gast.Call(func=load("range"), args=[self.atom(count)], keywords=[])
        self.emit(gast.For(target=store(counter), iter=header, body=self.block(prefix + node.body),
                           orelse=[], type_comment=None))

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
        """`zip(...)`/`enumerate(...)` of builtins (zip's `strict=` only checks lengths)."""
        return (isinstance(node, gast.Call) and isinstance(node.func, gast.Name)
                and node.func.id == name and name not in self.local_names
                and all(kw.arg == "strict" for kw in node.keywords))

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


def target_as_load(target: gast.expr) -> gast.expr:
    """The names a target binds, as an expression that reads them back."""
    if isinstance(target, gast.Name):
        return load(target.id)
    return gast.Tuple(elts=[target_as_load(elt) for elt in target.elts], ctx=gast.Load())
