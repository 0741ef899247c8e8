"""ANF for calls: arguments become atoms, and argument packing is made explicit.

`total(a, b)` for `def total(*xs)` binds the tuple `xs` first; `f(*xs)` / `f(**kw)` is
handed over whole to a function of the user's that takes `*args` / `**kwargs` there, or
unpacked into names when the callee's parameters say how many (`f(a, *xs)`); a dict view
handed to a builtin becomes a list. Mixed into `anf.ANF`.
"""

from __future__ import annotations

import inspect

import gast
import numpy as np

from ..errors import UnsupportedSyntaxError
from ..gastutil import assign, const, load, store

# builtins that treat a dict view and a list of its elements alike
_CONSUMERS_OF_VIEWS = {"list", "tuple", "sum", "len", "zip", "enumerate", "max", "min", "any",
                       "all"}


class CallLowering:
    """The call half of ANF (see the module docstring)."""

    def _call(self, node: gast.Call) -> gast.Call:
        if isinstance(node.func, gast.Name) and node.func.id in _CONSUMERS_OF_VIEWS and \
                node.func.id not in self.local_names:
            node = gast.Call(func=node.func, args=[self._listed_view(a) for a in node.args],
                             keywords=node.keywords)
        func = node.func
        if isinstance(func, gast.Attribute) and not self._is_global_constant(func):
            func = gast.Attribute(value=self.atom(func.value), attr=func.attr, ctx=gast.Load())
        elif not isinstance(func, (gast.Name, gast.Attribute)):  # `make(w)(x)`, `fs[0](x)`
            func = self.atom(func)
        if any(isinstance(a, gast.Starred) for a in node.args) or any(
                kw.arg is None for kw in node.keywords):
            target = self._keyword_spread_target(node)
            if target is not None:
                return self._keyword_spread_call(func, node, target)
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
            spread = self._starred_count(node, len(plain))
            if spread is not None:
                return self._spread_call(func, node, *spread)
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

    def _keyword_spread_target(self, node: gast.Call):
        """The user function `f` of `f(a, **params)` whose named parameters `params` fills
        (one `**`, no `*`); None for other calls."""
        if any(isinstance(a, gast.Starred) for a in node.args) or sum(
                kw.arg is None for kw in node.keywords) != 1:
            return None
        kind = self.calls.classify(node)
        if kind.kind != "user":
            return None
        params = inspect.signature(kind.target, follow_wrapped=False).parameters.values()
        fillable = [p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        return kind.target if fillable else None

    def _keyword_spread_call(self, func: gast.expr, node: gast.Call, target) -> gast.Call:
        """`layer(x, **params)` for `def layer(x, w, b, scale=1.0)` becomes
        `check_keywords(params, ...)`, then `layer(x, w=params['w'], b=params['b'],
        scale=params['scale'] if 'scale' in params else 1.0)`: each parameter reads its
        item, so the gradient reaches `params` item by item. A `**rest` of the callee takes
        the items left over."""
        signature = inspect.signature(target, follow_wrapped=False)
        args = [self._argument(a) for a in node.args]
        keywords = [gast.keyword(arg=kw.arg, value=self._argument(kw.value))
                    for kw in node.keywords if kw.arg is not None]
        mapping = self.atom(next(kw.value for kw in node.keywords if kw.arg is None))
        try:
            bound = signature.bind_partial(*args, **{kw.arg: kw.value for kw in keywords})
        except TypeError as exc:
            raise UnsupportedSyntaxError(f"this call does not match the signature: {exc}",
                                         getattr(self.stmt, "origin", None)) from None
        params = list(signature.parameters.values())
        rest = next((p.name for p in params if p.kind is p.VAR_KEYWORD), None)
        if rest is not None and rest in bound.arguments:
            raise UnsupportedSyntaxError(
                "this call passes keywords the callee's **" + rest + " takes both one by one "
                "and through **", getattr(self.stmt, "origin", None),
                hint="Put every keyword into the dict you unpack, or pass them all one by one.")
        open_ = [p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                 and p.name not in bound.arguments]
        taken = [p.name for p in params if p.name in bound.arguments and p.kind in (
            p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        names = tuple(p.name for p in open_)
        checks = {"accepted": const(None) if rest else _tuple_of(names),
                  "required": _tuple_of(tuple(p.name for p in open_ if p.default is p.empty)),
                  "taken": _tuple_of(tuple(taken))}
        self.emit(gast.Expr(value=gast.Call(
            func=load("check_keywords"), args=[mapping, const(target.__name__)],
            keywords=[gast.keyword(arg=k, value=v) for k, v in checks.items()])))
        for param in open_:
            item = gast.Subscript(value=mapping, slice=const(param.name), ctx=gast.Load())
            if param.default is not param.empty:
                item = gast.IfExp(test=gast.Compare(left=const(param.name), ops=[gast.In()],
                                                    comparators=[mapping]),
                                  body=item, orelse=self._default_value(target, param))
            value = self.namer.fresh(param.name)
            self.value_into(item, store(value))
            keywords.append(gast.keyword(arg=param.name, value=load(value)))
        call = self._packed_call(func, signature, args, keywords)
        if rest is not None:
            call.keywords.append(gast.keyword(arg=None, value=self._left_over(mapping, rest,
                                                                              names)))
        return call

    def _default_value(self, target, param: inspect.Parameter) -> gast.expr:
        """A parameter's default: inline when it is a plain constant, else the very object
        the function holds, bound to a name of its own."""
        if param.default is None or type(param.default) in (bool, int, float, str):
            return const(param.default)
        name = self.namer.fresh(f"{target.__name__}_{param.name}_default")
        self.calls.namespace.closure[name] = param.default
        return load(name)

    def _left_over(self, mapping: gast.Name, rest: str, named: tuple[str, ...]) -> gast.Name:
        """The dict the callee's `**rest` receives: the items no named parameter took."""
        if not named:
            whole = gast.Call(func=load("dict"), args=[mapping], keywords=[])
            return self._packed(rest, whole)
        key = self.namer.fresh("key")
        left = gast.DictComp(
            key=load(key), value=gast.Subscript(value=mapping, slice=load(key), ctx=gast.Load()),
            generators=[gast.comprehension(
                target=store(key), iter=mapping, is_async=0,
                ifs=[gast.Compare(left=load(key), ops=[gast.NotIn()],
                                  comparators=[_tuple_of(named)])])])
        return self._packed(rest, left)

    def _starred_count(self, node: gast.Call, plain: int) -> tuple[int, list] | None:
        """How many arguments `*xs` must supply to the callee, when its parameters say so,
        and the defaults of the last ones: a ufunc takes `nin` inputs; a function without
        *args takes the positional parameters the other arguments leave open."""
        target = self.calls.resolve(node.func)
        if isinstance(target, np.ufunc):
            return (target.nin - plain, []) if not node.keywords and target.nin > plain \
                else None
        own = self.calls.classify(node).kind == "user"  # a wrapper's own, not the wrapped's
        try:
            params = list(inspect.signature(target, follow_wrapped=not own).parameters.values())
        except (TypeError, ValueError):
            return None
        named = {kw.arg for kw in node.keywords}
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        open_ = [p for p in positional[plain:] if p.name not in named]
        if any(p.kind is p.VAR_POSITIONAL for p in params) or not open_:
            return None
        defaults = [self._default_value(target, p) for p in open_ if p.default is not p.empty]
        return len(open_) - len(defaults), defaults

    def _spread_call(self, func: gast.expr, node: gast.Call, count: int,
                     defaults: list[gast.expr]) -> gast.Call:
        """`f(a, *xs)` where `f` takes two more arguments becomes `xs_0, xs_1 = xs` /
        `f(a, xs_0, xs_1)`: the unpacking fails, as the call would, when `xs` has another
        length. Parameters with defaults take what `xs` leaves over:
        `xs_0, xs_1 = with_defaults(xs, 1, (0.5,))`."""
        star = node.args[-1].value
        base = star.id if isinstance(star, gast.Name) else "item"
        names = [self.namer.fresh(f"{base}_{i}") for i in range(count + len(defaults))]
        items = self.atom(star)
        if defaults:
            items = gast.Call(func=load("with_defaults"), args=[
                items, const(count), gast.Tuple(elts=defaults, ctx=gast.Load())], keywords=[])
        self.emit(assign(gast.Tuple(elts=[store(n) for n in names], ctx=gast.Store()), items))
        args = [self._argument(a) for a in node.args[:-1]] + [load(n) for n in names]
        keywords = [gast.keyword(arg=kw.arg, value=self._argument(kw.value))
                    for kw in node.keywords]
        return gast.Call(func=func, args=args, keywords=keywords)

    def _packed(self, name: str, display: gast.expr) -> gast.Name:
        """The tuple or dict a call packs for the callee's `*name` / `**name`."""
        packed = self.namer.fresh(name)
        self.value_into(display, store(packed))
        return load(packed)


def _tuple_of(names: tuple[str, ...]) -> gast.Tuple:
    return gast.Tuple(elts=[const(n) for n in names], ctx=gast.Load())


def _star_name(params, positional: bool) -> str:
    kind = inspect.Parameter.VAR_POSITIONAL if positional else inspect.Parameter.VAR_KEYWORD
    return next(p.name for p in params if p.kind is kind)
