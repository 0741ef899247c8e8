"""Administrative normal form: one operation per assignment, operands are atoms.

Requires: syntax_check, augassign.
Guarantees, for every statement of the function:
  - `target = op` where target is a name or a tuple of names and op is one of: an atom
    (name or constant), a global constant (`np.pi`), BinOp/UnaryOp of atoms, a call whose
    positional arguments are atoms or list/tuple displays of atoms, `atom.attr`, `atom[index]`
    with a side-effect-free index, a tuple/list display of atoms, or an opaque expression that
    carries no gradient (a comparison, `not`, a call of a zero-gradient function) kept whole;
  - `if name:` (the test hoisted into a named boolean), `for`, `while` (test kept whole);
  - `return atom` or `return (atom, ...)`; expression statements are kept whole (no gradient);
  - conditional expressions and `and`/`or` in value positions became if statements, so each
    branch is evaluated only when Python would evaluate it.
Temporaries are named for what they hold (`w_times_h = w * h`), never clashing with user names.
Example: `y = np.tanh(w * h) + 1` becomes `w_times_h = w * h; tanh_w_times_h = np.tanh(...)`.
"""

from __future__ import annotations

import inspect

import gast
import numpy as np

from ..errors import UnsupportedSyntaxError
from ..gastutil import (
    assign,
    assigned_names,
    clone,
    const,
    is_atom,
    load,
    loaded_names,
    store,
    target_names,
    with_origin,
)
from ..names import Namer

# builtins that treat a dict view and a list of its elements alike
_CONSUMERS_OF_VIEWS = {"list", "tuple", "sum", "len", "zip", "enumerate", "max", "min", "any",
                       "all"}

OP_WORDS = {
    gast.Add: "plus", gast.Sub: "minus", gast.Mult: "times", gast.Div: "over",
    gast.Pow: "pow", gast.MatMult: "at", gast.Mod: "mod", gast.FloorDiv: "floordiv",
    gast.Gt: "gt", gast.GtE: "ge", gast.Lt: "lt", gast.LtE: "le", gast.Eq: "eq",
    gast.NotEq: "ne", gast.Is: "is", gast.IsNot: "isnot", gast.In: "in", gast.NotIn: "notin",
}
_MAX_NAME = 20


def describe(node: gast.expr) -> str:
    """A short name for what `node` computes: `w_times_h`, `exp_x`, `x_T`."""
    text = _describe(node)
    return text if len(text) <= _MAX_NAME else _describe_short(node)


def _describe(node: gast.expr) -> str:
    if isinstance(node, gast.Name):
        return node.id
    if isinstance(node, gast.Constant) and isinstance(node.value, (int, float)):
        return str(node.value).replace("-", "neg").replace(".", "_")
    if isinstance(node, gast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, gast.BinOp):
        return f"{_describe(node.left)}_{OP_WORDS.get(type(node.op), 'op')}_{_describe(node.right)}"
    if isinstance(node, gast.Compare) and len(node.ops) == 1:
        word = OP_WORDS.get(type(node.ops[0]), "cmp")
        return f"{_describe(node.left)}_{word}_{_describe(node.comparators[0])}"
    if isinstance(node, gast.UnaryOp):
        return ("not_" if isinstance(node.op, gast.Not) else "neg_") + _describe(node.operand)
    if isinstance(node, gast.Call):
        head = _describe_short(node)
        return f"{head}_{_describe(node.args[0])}" if node.args else head
    if isinstance(node, gast.Attribute):
        return f"{_describe(node.value)}_{node.attr}"
    if isinstance(node, gast.Subscript):
        index = node.slice
        tail = _describe(index) if isinstance(index, (gast.Name, gast.Constant)) else "part"
        tail = tail if tail.isidentifier() else "part"
        return f"{_describe(node.value)}_{tail}"
    return _describe_short(node)


def _describe_short(node: gast.expr) -> str:
    if isinstance(node, gast.BinOp):
        return {gast.Add: "total", gast.Sub: "difference", gast.Mult: "product",
                gast.Div: "ratio", gast.Pow: "power", gast.MatMult: "matmul"}.get(
                    type(node.op), "value")
    if isinstance(node, gast.Call):
        func = node.func
        return func.attr if isinstance(func, gast.Attribute) else getattr(func, "id", "call")
    if isinstance(node, (gast.Compare, gast.BoolOp)):
        return "cond"
    if isinstance(node, gast.Subscript):
        return f"{_describe_short(node.value)}_part"
    if isinstance(node, gast.Name):
        return node.id
    return "tmp"


def _fold_constant(node: gast.expr) -> gast.expr:
    """`-1` parses as UnaryOp(USub, 1): fold it so negative constants are atoms."""
    if (isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd))
            and isinstance(node.operand, gast.Constant)
            and isinstance(node.operand.value, (int, float))):
        value = node.operand.value
        return with_origin(const(-value if isinstance(node.op, gast.USub) else value), node)
    return node


class ANF:
    """Rewrites one statement list at a time, appending to `self.out`."""

    def __init__(self, namer: Namer, local_names: set[str], calls):
        self.namer = namer
        self.local_names = local_names
        self.calls = calls
        self.is_opaque_call = calls.is_opaque
        self.out: list[gast.stmt] = []
        self.stmt: gast.stmt | None = None

    # -- statements ------------------------------------------------------------------------
    def block(self, stmts: list[gast.stmt]) -> list[gast.stmt]:
        saved_out, saved_stmt, self.out = self.out, self.stmt, []
        for stmt in stmts:
            self.stmt = stmt
            visitor = getattr(self, "visit_" + type(stmt).__name__, None)
            if visitor is None:
                self.out.append(stmt)
            else:
                visitor(stmt)
        result, self.out, self.stmt = self.out, saved_out, saved_stmt
        return result

    def visit_Assign(self, node: gast.Assign) -> None:
        *others, first = node.targets
        target = first
        if isinstance(target, gast.Subscript):
            self._store(node, target)
            return
        if isinstance(target, (gast.Tuple, gast.List)) and isinstance(
                node.value, (gast.Tuple, gast.List)) and len(target.elts) == len(node.value.elts):
            self._parallel_assign(target.elts, node.value.elts)
        else:
            self.value_into(node.value, target)
            final = self.out[-1] if self.out else None
            if isinstance(final, gast.Assign):
                for mark in ("inplace_aliases", "followed_aliases", "alias_rebind"):
                    if hasattr(node, mark):
                        setattr(final, mark, getattr(node, mark))
        for other in others:
            self.emit(assign(other, _target_as_load(target)))

    def _store(self, node: gast.Assign, target: gast.Subscript) -> None:
        """`y[index] = value`: the value an atom, the index cheap and pure."""
        value = self.atom(node.value)
        index = self.index(target.slice)
        store_target = gast.Subscript(value=store(target.value.id), slice=index, ctx=gast.Store())
        final = assign(store_target, value)
        for mark in ("inplace_aliases", "held_by"):
            if hasattr(node, mark):
                setattr(final, mark, getattr(node, mark))
        self.emit(final)

    def _parallel_assign(self, targets: list[gast.expr], values: list[gast.expr]) -> None:
        """`a, b = b, a`: evaluate every right side first where a target would clobber it."""
        written: set[str] = set()
        atoms = []
        for tgt, value in zip(targets, values, strict=True):
            atoms.append(self.atom(value))
            written.update(target_names(tgt))
        ready = []
        for atom in atoms:
            if isinstance(atom, gast.Name) and atom.id in written:
                tmp = self.namer.fresh(atom.id + "_old")
                self.emit(assign(tmp, atom))
                atom = load(tmp)
            ready.append(atom)
        for tgt, atom in zip(targets, ready, strict=True):
            if isinstance(tgt, gast.Subscript):  # `y[i], y[j] = y[j], y[i]`
                self._store(assign(tgt, atom), tgt)
            else:
                self.value_into(atom, tgt)

    def visit_Return(self, node: gast.Return) -> None:
        """`return a, b` becomes `result = (a, b); return result`: one name is the output."""
        value = node.value if node.value is not None else const(None)
        if isinstance(value, (gast.Tuple, gast.List)):
            name = self.namer.fresh("result")
            self.value_into(value, store(name))
            value = load(name)
        self.emit(gast.Return(value=self.atom(value)))

    def visit_If(self, node: gast.If) -> None:
        test = self.condition(node.test)
        self.emit(gast.If(test=test, body=self.block(node.body), orelse=self.block(node.orelse)))

    def visit_For(self, node: gast.For) -> None:
        iterable = node.iter
        if self._is_builtin_call(iterable, "reversed") and len(iterable.args) == 1:
            # `reversed(xs)` walks `xs[::-1]` (a range, list, tuple or array alike)
            iterable = gast.Subscript(value=iterable.args[0], slice=gast.Slice(
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
            item = gast.Subscript(value=load(mapping), slice=_target_as_load(key_target),
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

    def visit_Expr(self, node: gast.Expr) -> None:
        if isinstance(node.value, gast.Constant):
            return  # a docstring or a bare constant does nothing
        call = node.value
        if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and \
                call.func.attr == "append" and len(call.args) == 1:
            node = gast.Expr(value=gast.Call(func=call.func, args=[self.atom(call.args[0])],
                                             keywords=call.keywords))
        self.emit(node)

    def visit_Pass(self, node: gast.Pass) -> None:
        return

    # -- expressions -------------------------------------------------------------------------
    def emit(self, stmt: gast.stmt) -> None:
        self.out.append(with_origin(stmt, self.stmt))

    def condition(self, test: gast.expr) -> gast.Name:
        if isinstance(test, gast.Name):
            return test
        name = self.namer.fresh(describe(test))
        self.value_into(test, store(name))
        return load(name)

    def atom(self, node: gast.expr) -> gast.expr:
        """`node` itself when it is an atom, else a fresh temporary holding its value."""
        node = _fold_constant(node)
        if is_atom(node) or self._is_global_constant(node):
            return node
        name = self.namer.fresh(describe(node))
        self.value_into(node, store(name))
        return load(name)

    def value_into(self, node: gast.expr, target: gast.expr) -> None:
        """Emit statements computing `node` into `target`, one operation per statement."""
        node = _fold_constant(node)
        if isinstance(node, (gast.ListComp, gast.GeneratorExp, gast.DictComp)):
            self._lower_comprehension(node, target)
        elif isinstance(node, gast.IfExp):
            self._lower_ifexp(node, target)
        elif isinstance(node, gast.BoolOp) and not self._opaque(node):
            self._lower_boolop(node, target)
        else:
            self.emit(assign(target, self.operation(node)))

    def operation(self, node: gast.expr) -> gast.expr:
        """`node` with every operand that is not an atom replaced by a temporary."""
        if is_atom(node) or self._is_global_constant(node) or self._opaque(node):
            return node
        if isinstance(node, gast.BinOp):
            return gast.BinOp(left=self.atom(node.left), op=node.op, right=self.atom(node.right))
        if isinstance(node, gast.UnaryOp):
            return gast.UnaryOp(op=node.op, operand=self.atom(node.operand))
        if isinstance(node, gast.Call):
            return self._call(node)
        if isinstance(node, gast.Attribute):
            return gast.Attribute(value=self.atom(node.value), attr=node.attr, ctx=gast.Load())
        if isinstance(node, gast.Subscript):
            return gast.Subscript(value=self.atom(node.value), slice=self.index(node.slice),
                                  ctx=gast.Load())
        if isinstance(node, (gast.Tuple, gast.List)):
            return type(node)(elts=[self.atom(elt) for elt in node.elts], ctx=gast.Load())
        if isinstance(node, gast.Dict):
            return gast.Dict(keys=node.keys, values=[self.atom(v) for v in node.values])
        if isinstance(node, (gast.IfExp, gast.BoolOp, gast.ListComp, gast.GeneratorExp,
                             gast.DictComp)):
            return self.atom(node)
        return node

    def _call(self, node: gast.Call) -> gast.Call:
        if isinstance(node.func, gast.Name) and node.func.id in _CONSUMERS_OF_VIEWS and \
                node.func.id not in self.local_names:
            node = gast.Call(func=node.func, args=[self._listed_view(a) for a in node.args],
                             keywords=node.keywords)
        func = node.func
        if isinstance(func, gast.Attribute) and not self._is_global_constant(func):
            func = gast.Attribute(value=self.atom(func.value), attr=func.attr, ctx=gast.Load())
        if any(isinstance(a, gast.Starred) for a in node.args) or any(
                kw.arg is None for kw in node.keywords):
            return self._unpacking_call(func, node)
        args = [self._argument(arg) for arg in node.args]
        keywords = [gast.keyword(arg=kw.arg, value=self._argument(kw.value))
                    for kw in node.keywords]
        signature = self.calls.packing_signature(node)
        if signature is not None:
            return self._packed_call(func, signature, args, keywords)
        return gast.Call(func=func, args=args, keywords=keywords)

    def _packed_call(self, func, signature, args, keywords) -> gast.Call:
        """`total(a, b, c)` for `def total(*xs)` becomes `xs = (a, b, c); total(*xs)`, so
        the tuple (or the dict of **kwargs) is one variable, with an adjoint of its own."""
        try:
            bound = signature.bind(*args, **{kw.arg: kw.value for kw in keywords})
        except TypeError as exc:
            raise UnsupportedSyntaxError(f"this call does not match the signature: {exc}",
                                         getattr(self.stmt, "origin", None)) from None
        positional, named, star, double_star = [], [], None, None
        for name, param in signature.parameters.items():
            if name not in bound.arguments:
                continue
            value = bound.arguments[name]
            if param.kind is param.VAR_POSITIONAL:
                star = self._packed(name, gast.Tuple(elts=list(value), ctx=gast.Load()))
            elif param.kind is param.VAR_KEYWORD:
                double_star = self._packed(name, gast.Dict(keys=[const(k) for k in value],
                                                           values=list(value.values())))
            elif param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD) and \
                    star is None and not named:
                positional.append(value)
            else:
                named.append(gast.keyword(arg=name, value=value))
        if star is not None:
            positional.append(gast.Starred(value=star, ctx=gast.Load()))
        if double_star is not None:
            named.append(gast.keyword(arg=None, value=double_star))
        return gast.Call(func=func, args=positional, keywords=named)

    def _unpacking_call(self, func: gast.expr, node: gast.Call) -> gast.Call:
        """`f(a, *xs)` / `f(**kw)` of a user function that takes `*args` / `**kwargs` right
        there: the tuple (dict) is handed over whole, as `tuple(xs)` (`dict(kw)`)."""
        signature = self.calls.packing_signature(node)
        stars = [a for a in node.args if isinstance(a, gast.Starred)]
        double = [kw for kw in node.keywords if kw.arg is None]
        params = list(signature.parameters.values()) if signature else []
        leading = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        plain = [a for a in node.args if not isinstance(a, gast.Starred)]
        fits = (signature is not None and len(stars) <= 1 and len(double) <= 1
                and len(plain) <= len(leading)
                and (not stars or (node.args[-1] is stars[0]
                                   and len(node.args) - 1 == len(leading)
                                   and any(p.kind is p.VAR_POSITIONAL for p in params)))
                and (not double or any(p.kind is p.VAR_KEYWORD for p in params)))
        if not fits and not double and len(stars) == 1 and node.args[-1] is stars[0]:
            count = self._starred_count(node, len(plain))
            if count is not None:
                return self._spread_call(func, node, count)
        if not fits:
            raise UnsupportedSyntaxError(
                "unpacking arguments into this call (f(*xs), f(**kw)) is not supported",
                getattr(self.stmt, "origin", None),
                hint="Pass the arguments one by one, or call a function of yours whose own "
                     "*args (**kwargs) takes the whole tuple (dict).")
        args = [self._argument(a) for a in node.args if not isinstance(a, gast.Starred)]
        keywords = [gast.keyword(arg=kw.arg, value=self._argument(kw.value))
                    for kw in node.keywords if kw.arg is not None]
        if stars:
            whole = gast.Call(func=load("tuple"), args=[stars[0].value], keywords=[])
            args.append(gast.Starred(value=self._packed(_star_name(params, True), whole),
                                     ctx=gast.Load()))
        if double:
            whole = gast.Call(func=load("dict"), args=[double[0].value], keywords=[])
            keywords.append(gast.keyword(arg=None, value=self._packed(
                _star_name(params, False), whole)))
        return gast.Call(func=func, args=args, keywords=keywords)

    def _starred_count(self, node: gast.Call, plain: int) -> int | None:
        """How many arguments `*xs` must supply to the callee, when its parameters say so:
        a ufunc takes `nin` inputs; a function without *args or defaults left to fill takes
        the positional parameters the other arguments leave open."""
        target = self.calls.resolve(node.func)
        if isinstance(target, np.ufunc):
            return target.nin - plain if not node.keywords and target.nin > plain else None
        try:
            params = list(inspect.signature(target).parameters.values())
        except (TypeError, ValueError):
            return None
        named = {kw.arg for kw in node.keywords}
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        open_ = [p for p in positional[plain:] if p.name not in named]
        if any(p.kind is p.VAR_POSITIONAL for p in params) or not open_ or any(
                p.default is not p.empty for p in open_):
            return None
        return len(open_)

    def _spread_call(self, func: gast.expr, node: gast.Call, count: int) -> gast.Call:
        """`f(a, *xs)` where `f` takes two more arguments becomes `xs_0, xs_1 = xs` /
        `f(a, xs_0, xs_1)`: the unpacking fails, as the call would, when `xs` has another
        length."""
        star = node.args[-1].value
        base = star.id if isinstance(star, gast.Name) else "item"
        names = [self.namer.fresh(f"{base}_{i}") for i in range(count)]
        self.emit(assign(gast.Tuple(elts=[store(n) for n in names], ctx=gast.Store()),
                         self.atom(star)))
        args = [self._argument(a) for a in node.args[:-1]] + [load(n) for n in names]
        keywords = [gast.keyword(arg=kw.arg, value=self._argument(kw.value))
                    for kw in node.keywords]
        return gast.Call(func=func, args=args, keywords=keywords)

    def _packed(self, name: str, display: gast.expr) -> gast.Name:
        """The tuple or dict a call packs for the callee's `*name` / `**name`."""
        packed = self.namer.fresh(name)
        self.value_into(display, store(packed))
        return load(packed)

    def _argument(self, node: gast.expr) -> gast.expr:
        node = _fold_constant(node)
        if isinstance(node, (gast.Tuple, gast.List)):
            return type(node)(elts=[self._argument(elt) for elt in node.elts], ctx=gast.Load())
        return self.atom(node)

    def index(self, node: gast.expr) -> gast.expr:
        """Indices stay inline when they are cheap and pure (`i + 1`, `1:-1`, `:, 0`)."""
        if isinstance(node, gast.Tuple):
            return gast.Tuple(elts=[self.index(elt) for elt in node.elts], ctx=gast.Load())
        if isinstance(node, gast.Slice):
            parts = [None if p is None else self.index(p)
                     for p in (node.lower, node.upper, node.step)]
            return gast.Slice(*parts)
        node = _fold_constant(node)
        return node if self._is_pure_index(node) else self.atom(node)

    def _is_pure_index(self, node: gast.expr) -> bool:
        if is_atom(node) or self._is_global_constant(node):
            return True
        if isinstance(node, gast.BinOp):
            return self._is_pure_index(node.left) and self._is_pure_index(node.right)
        if isinstance(node, gast.UnaryOp):
            return self._is_pure_index(node.operand)
        return False

    def _lower_comprehension(self, node: gast.ListComp | gast.GeneratorExp | gast.DictComp,
                             target: gast.expr) -> None:
        """`[f(x) for x in xs if c(x)]` (or a generator) becomes a loop that appends to a new
        list, `{k: f(v) for ...}` one that writes into a new dict; the comprehension's
        variables get fresh names, as they are its own."""
        name = target.id if isinstance(target, gast.Name) else self.namer.fresh("items")
        renames = {n: self.namer.fresh(n) for g in node.generators
                   for n in target_names(g.target) if n in self.local_names}
        rename = _RenameLoads(renames)
        if isinstance(node, gast.DictComp):
            self.emit(assign(name, gast.Dict(keys=[], values=[])))
            item = gast.Subscript(value=store(name), slice=rename.visit(clone(node.key)),
                                  ctx=gast.Store())
            body: list[gast.stmt] = [assign(item, rename.visit(clone(node.value)), self.stmt)]
        else:
            self.emit(assign(name, gast.List(elts=[], ctx=gast.Load())))
            body = [gast.Expr(value=gast.Call(
                func=gast.Attribute(value=load(name), attr="append", ctx=gast.Load()),
                args=[rename.visit(clone(node.elt))], keywords=[]))]
        for generator in reversed(node.generators):
            for condition in reversed(generator.ifs):
                body = [gast.If(test=rename.visit(clone(condition)), body=body, orelse=[])]
            loop_target = _RenameTargets(renames).visit(clone(generator.target))
            body = [gast.For(target=loop_target, iter=rename.visit(clone(generator.iter)),
                             body=body, orelse=[], type_comment=None)]
        for stmt in body:
            self.visit_For(with_origin(stmt, self.stmt))
        if not isinstance(target, gast.Name):
            self.emit(assign(target, load(name)))

    def _lower_ifexp(self, node: gast.IfExp, target: gast.expr) -> None:
        test = self.condition(node.test)
        saved, self.out = self.out, []
        self.value_into(node.body, target)
        body, self.out = self.out, []
        self.value_into(node.orelse, target)
        orelse, self.out = self.out, saved
        self.emit(gast.If(test=test, body=body, orelse=orelse))

    def _lower_boolop(self, node: gast.BoolOp, target: gast.expr) -> None:
        """`y = a and b` is `y = a; if y: y = b` (for `or`: `if not y: y = b`)."""
        first, *rest = node.values
        rest_value = rest[0] if len(rest) == 1 else gast.BoolOp(op=node.op, values=rest)
        name = target.id if isinstance(target, gast.Name) else self.namer.fresh("bool_value")
        self.value_into(first, store(name))
        test = load(name)
        if isinstance(node.op, gast.Or):
            test = self.condition(gast.UnaryOp(op=gast.Not(), operand=load(name)))
        saved, self.out = self.out, []
        self.value_into(rest_value, store(name))
        body, self.out = self.out, saved
        self.emit(gast.If(test=test, body=body, orelse=[]))
        if not isinstance(target, gast.Name):
            self.emit(assign(target, load(name)))

    # -- classification ------------------------------------------------------------------------
    def _is_global_constant(self, node: gast.expr) -> bool:
        """`np.pi`, `np.newaxis`: an attribute chain rooted at a global, not at a local."""
        if not isinstance(node, gast.Attribute):
            return False
        while isinstance(node, gast.Attribute):
            node = node.value
        return isinstance(node, gast.Name) and node.id not in self.local_names

    def _opaque(self, node: gast.expr) -> bool:
        """Expressions that carry no gradient are kept whole: Python evaluates them as written."""
        if isinstance(node, gast.Compare):
            return True
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.Not):
            return True
        if isinstance(node, gast.BoolOp):
            return all(self._opaque(value) for value in node.values)
        if isinstance(node, gast.Call):
            return self.is_opaque_call(node)
        return False

    def _is_range_call(self, node: gast.expr) -> bool:
        return (isinstance(node, gast.Call) and isinstance(node.func, gast.Name)
                and node.func.id == "range" and "range" not in self.local_names
                and not node.keywords)


def _star_name(params, positional: bool) -> str:
    kind = inspect.Parameter.VAR_POSITIONAL if positional else inspect.Parameter.VAR_KEYWORD
    return next(p.name for p in params if p.kind is kind)


class _RenameLoads(gast.NodeTransformer):
    def __init__(self, mapping: dict[str, str]):
        self.mapping = mapping

    def visit_Name(self, node: gast.Name) -> gast.Name:
        return load(self.mapping[node.id]) if node.id in self.mapping and isinstance(
            node.ctx, gast.Load) else node


class _RenameTargets(gast.NodeTransformer):
    def __init__(self, mapping: dict[str, str]):
        self.mapping = mapping

    def visit_Name(self, node: gast.Name) -> gast.Name:
        return store(self.mapping.get(node.id, node.id))


def _target_as_load(target: gast.expr) -> gast.expr:
    if isinstance(target, gast.Name):
        return load(target.id)
    return gast.Tuple(elts=[_target_as_load(elt) for elt in target.elts], ctx=gast.Load())


def to_anf(tree: gast.FunctionDef, namer: Namer, local_names: set[str],
           calls) -> gast.FunctionDef:
    tree.body = ANF(namer, local_names, calls).block(tree.body)
    return tree
