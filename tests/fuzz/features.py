"""The parts of the language beyond one function body: helper functions (keyword arguments,
defaults, float parameters rebound inside, helpers that change their array arguments, `**params`
calls), closures and lambdas, classes with methods and attributes, lists and dicts.

Helpers and classes are module-level definitions written before `f`; their signatures are
recorded so that calls drawn later pass values of the right shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .scope import SCALAR, Scope, Ty, Var, num
from .stmts import indent


@dataclass
class Helper:
    """A module-level function: positional parameters (name, shape), parameters with float
    defaults, keyword-only ones, what it returns (a shape, or None), which array parameter it
    writes into (a function that changes its argument), or the dict whose keys it takes."""

    name: str
    params: list[tuple[str, tuple]]
    defaults: list[tuple[str, float]] = field(default_factory=list)
    kwonly: list[tuple[str, float]] = field(default_factory=list)
    returns: tuple | None = ()
    changes: str | None = None
    dict_keys: tuple = ()


class FeatureGen:
    """Mixin of the generator for helpers, closures, objects, lists and dicts."""

    # -- helper functions ----------------------------------------------------------------------
    def make_helper(self, shapes: list[tuple]) -> list[str]:
        """Define a helper over the given shapes; returns its source lines."""
        name = self.fresh("h")
        n_params = self.rng.randint(1, 3)
        params = [(self.fresh("p"), self.pick(shapes + [()])) for _ in range(n_params)]
        defaults = [(self.fresh("k"), self.pick([0.5, 1.5, -0.3]))
                    for _ in range(self.rng.randint(0, 2))]
        kwonly = [(self.fresh("scale"), 0.7)] if self.chance(0.3) else []
        changes = None
        arrays = [p for p, s in params if s != ()]
        if arrays and self.has("writes") and self.chance(0.4):
            changes = self.pick(arrays)
        returns = self.pick([(), ()] + [s for _, s in params if s != ()])
        if changes and self.chance(0.4):
            returns = None
        helper = Helper(name, params, defaults, kwonly, returns, changes)
        lines = self.helper_def(helper)
        self.helpers.append(helper)
        return lines

    def helper_def(self, helper: Helper) -> list[str]:
        """`def h(p, q, k=0.5, *, scale=0.7):` and a body that may rebind its float
        parameters, write into its changed argument, return early."""
        sig = [p for p, _ in helper.params] + [f"{k}={v!r}" for k, v in helper.defaults]
        if helper.kwonly:
            sig += ["*"] + [f"{k}={v!r}" for k, v in helper.kwonly]
        scope = Scope(returns=None if helper.returns is None else num(*helper.returns),
                      function=helper.name, closures_ok=False)
        for p, s in helper.params:
            scope.vars[p] = Var(num(*s), writable=p == helper.changes)
        for k, _ in helper.defaults + helper.kwonly:
            scope.vars[k] = Var(SCALAR)
        if helper.returns is not None and not helper.changes and self.chance(0.25):
            # a lambda (two on one line now and then, told apart by their columns)
            value = self.expr(scope, helper.returns, 2)
            return [f"{helper.name} = lambda {', '.join(sig)}: {value}", "", ""]
        body = []
        floats = [k for k, _ in helper.defaults] + [p for p, s in helper.params if s == ()]
        if floats and self.chance(0.6):
            k = self.pick(floats)
            body.append(f"{k} {self.pick(['-=', '+=', '*='])} 0.1 * "
                        f"np.tanh({self.expr(scope, (), 1)})")
        body += self.block(scope, self.rng.randint(1, 3), 1)
        if helper.changes:
            target, part = self.write_target(scope, helper.changes,
                                             scope.vars[helper.changes].ty.shape)
            body.append(f"{target} = {self.expr(scope, part, 1)}")
        if helper.returns is not None:
            body.append(f"return {self.expr(scope, helper.returns, 2)}")
        elif self.chance(0.3):
            body.append("return None")
        return [f"def {helper.name}({', '.join(sig)}):"] + indent(body) + ["", ""]

    def call_args(self, scope: Scope, helper: Helper, depth: int, skip: str = "") -> str:
        """Arguments for a call: positional, by keyword, defaults left out or given."""
        parts = []
        by_keyword = False
        for p, s in helper.params:
            value = skip if p == helper.changes and skip else self.expr(scope, s, depth)
            by_keyword = by_keyword or (p != helper.changes and self.chance(0.15))
            parts.append(f"{p}={value}" if by_keyword else value)
        for k, _ in helper.defaults + helper.kwonly:
            if self.chance(0.5):
                parts.append(f"{k}={self.expr(scope, (), depth)}")
        return ", ".join(parts)

    def helper_call(self, scope: Scope, shape: tuple, depth: int) -> str:
        options = [h for h in self.helpers if h.returns == shape and not h.changes and
                   not h.dict_keys]
        if not options or scope.function != "f":
            return self.expr(scope, shape, depth)
        helper = self.pick(options)
        called = helper.name
        if self.chance(0.2):  # a function taken out of a container: known when it runs
            called = self.pick([f"[{helper.name}][0]", f'{{"fn": {helper.name}}}["fn"]'])
        return f"{called}({self.call_args(scope, helper, depth)})"

    def st_mutating_call(self, scope: Scope):
        """`fill(z, x)` changing the caller's `z`, or `r = step(z, x)` also returning."""
        for helper in self.helpers:
            if not helper.changes:
                continue
            shape = dict(helper.params)[helper.changes]
            targets = [n for n in scope.names(lambda v: v.writable and v.ty.shape == shape
                                              and v.ty.kind == "num")]
            if not targets:
                continue
            call = f"{helper.name}({self.call_args(scope, helper, 1, self.pick(targets))})"
            if helper.returns is None:
                return [call]
            name = self.fresh("t" if helper.returns == () else "u")
            scope.vars[name] = Var(num(*helper.returns))
            return [f"{name} = {call}"]
        return None

    def make_dict_helper(self, keys: list) -> list[str]:
        """A layer taking the keys of a parameter dict by name, called as `layer(v, **p)`."""
        name = self.fresh("layer")
        keys = [(k, ty.shape) for k, ty in keys]
        shape = keys[0][1]
        helper = Helper(name, [("v", shape)] + keys, returns=shape,
                        dict_keys=tuple(k for k, _ in keys))
        scope = Scope(function=name, closures_ok=False)
        for p, s in helper.params:
            scope.vars[p] = Var(num(*s), writable=False)
        body = [f"return {self.expr(scope, shape, 2)}"]
        self.helpers.append(helper)
        sig = ", ".join(p for p, _ in helper.params)
        return [f"def {name}({sig}):"] + indent(body) + ["", ""]

    # -- closures ------------------------------------------------------------------------------
    def st_closure(self, scope: Scope):
        """A nested `def` or a lambda reading variables of `f`, bound to a name for later
        calls (`closure_call`)."""
        shape = self.new_shape(scope)
        ret = self.pick([shape, ()])
        name, t = self.fresh("g"), self.fresh("q")
        inner = Scope(function=name, closures_ok=False)
        for n, var in scope.vars.items():
            inner.vars[n] = Var(var.ty, writable=False, rebindable=False, top=var.top)
        inner.vars[t] = Var(num(*shape), writable=False, rebindable=False)
        if self.chance(0.4):
            line = f"{name} = lambda {t}: {self.expr(inner, ret, 2)}"
            scope.vars[name] = Var(Ty("fn", ret, params=(shape,)), rebindable=False)
            return [line]
        body = self.block(inner, self.rng.randint(0, 2), 0) if self.chance(0.5) else []
        body = [line for line in body if line != "pass"]
        body.append(f"return {self.expr(inner, ret, 2)}")
        scope.vars[name] = Var(Ty("fn", ret, params=(shape,)), rebindable=False)
        return [f"def {name}({t}):"] + indent(body)

    def closure_call(self, scope: Scope, shape: tuple, depth: int) -> str:
        fns = scope.names(lambda v: v.ty.kind == "fn" and v.ty.shape == shape)
        if not fns:
            return self.expr(scope, shape, depth)
        g = self.pick(fns)
        (pshape,) = scope.vars[g].ty.params
        return f"{g}({self.expr(scope, pshape, depth)})"

    # -- objects -------------------------------------------------------------------------------
    def make_class(self, shape: tuple) -> tuple[list[str], Ty]:
        """A class holding an array `w` and a float `b`, with a method reading `self.w` and
        one setting an attribute; returns its lines and the type of its instances."""
        name = f"Cell{self.counter}"
        self.counter += 1
        ty = Ty("obj", cls=name, fields=(("w", num(*shape)), ("b", SCALAR)))
        scope = Scope(function="forward", closures_ok=False)
        scope.vars["self"] = Var(ty, writable=False, rebindable=False)
        energy = self.expr(scope, (), 2)
        scope.vars["v"] = Var(num(*shape), writable=False)
        forward = f"np.tanh(self.w * {self.expr(scope, shape, 2)} + self.b)"
        lines = [f"class {name}:",
                 "    def __init__(self, w, b):",
                 "        self.w = w",
                 "        self.b = b", "",
                 "    def forward(self, v):",
                 f"        return {forward}", "",
                 "    def energy(self):",
                 f"        return {energy}", "",
                 "    def nudge(self, v):",
                 "        self.b = 0.5 * self.b + 0.1 * np.sum(np.tanh(v))", "",
                 "    def settle(self, v):  # changes its object through another method",
                 "        self.nudge(v)",
                 "        self.nudge(0.5 * v)",
                 "        return np.sum(self.w) * self.b", "", ""]
        self.classes[name] = shape
        return lines, ty

    def method_call(self, scope: Scope, shape: tuple, depth: int) -> str:
        objs = scope.names(lambda v: v.ty.kind == "obj")
        if not objs or scope.function != "f":  # a method calling itself would not end
            return self.expr(scope, shape, depth)
        o = self.pick(objs)
        wshape = dict(scope.vars[o].ty.fields)["w"].shape
        if shape == wshape and self.chance(0.7):
            return f"{o}.forward({self.expr(scope, wshape, depth)})"
        if shape == ():
            return f"{o}.energy()"
        return self.expr(scope, shape, depth)

    def st_object(self, scope: Scope):
        """Set an attribute of an object (`cell.b = ...`, `cell.w += ...`), call a method
        that sets one, or build a new object from values in scope."""
        objs = scope.names(lambda v: v.ty.kind == "obj")
        if self.classes and (not objs or self.chance(0.3)):
            return self.build_object(scope)
        if not objs:
            return None
        o = self.pick(objs)
        ty = scope.vars[o].ty
        wshape = dict(ty.fields)["w"].shape
        return self.pick([
            [f"{o}.b = {self.expr(scope, (), 1)}"],
            [f"{o}.w = np.tanh({self.expr(scope, wshape, 1)})"],
            [f"{o}.w += 0.1 * {self.expr(scope, wshape, 1)}"],
            [f"{o}.b += 0.2 * np.tanh({self.expr(scope, (), 1)})"],
            [f"{o}.nudge({self.expr(scope, wshape, 1)})"],
            [f"{o}.settle({self.expr(scope, wshape, 1)})"],
            [f"{o}.w[0] = {self.expr(scope, wshape[1:], 1)}"],
        ])

    def build_object(self, scope: Scope) -> list[str]:
        """`obj = Cell1(w, b)` from values in scope: its attributes hold them (a later write
        into `w` shows through `obj.w`, as in Python)."""
        name = self.pick(sorted(self.classes))
        shape = self.classes[name]
        obj = self.fresh("obj")
        line = f"{obj} = {name}({self.expr(scope, shape, 1)}, {self.expr(scope, (), 1)})"
        scope.vars[obj] = Var(Ty("obj", cls=name, fields=(("w", num(*shape)), ("b", SCALAR))))
        return [line]

    # -- lists and dicts -----------------------------------------------------------------------
    def st_list(self, scope: Scope, depth: int):
        """Build a list by `append` in a loop (or a comprehension), then use it: stack, sum,
        index, a generator expression, an item write."""
        counts = [n for n in scope.ints() if n.startswith("n")]
        shape = self.pick([(), ()] + scope.array_shapes())
        xs = self.fresh("xs")
        lists = scope.names(lambda v: v.ty.kind == "list" and v.ty.length > 0)
        if lists and self.chance(0.4):
            return self.list_use(scope, self.pick(lists))
        if self.chance(0.25) and lists:
            src = self.pick(lists)
            item = scope.vars[src].ty.item
            t = self.fresh("q")
            inner = scope.child()
            inner.vars[t] = Var(item, writable=False, rebindable=False)
            scope.vars[xs] = Var(Ty("list", item=item, length=scope.vars[src].ty.length))
            return [f"{xs} = [{self.expr(inner, item.shape, 1)} for {t} in {src}]"]
        top = scope.vars[counts[0]].top if counts else 3
        bound = counts[0] if counts else "3"
        i = self.fresh("i")
        inner = scope.child(loop_depth=scope.loop_depth + 1)
        inner.vars[i] = Var(Ty("int"), top=top - 1, writable=False, rebindable=False)
        lines = [f"{xs} = []", f"for {i} in range({bound}):",
                 f"    {xs}.append({self.owned(self.expr(inner, shape, 2))})"]
        scope.vars[xs] = Var(Ty("list", item=num(*shape), length=top))
        return lines

    def list_use(self, scope: Scope, xs: str) -> list[str]:
        ty = scope.vars[xs].ty
        shape, n = ty.item.shape, ty.length
        name = self.fresh("t" if shape == () else "u")
        options = [
            (f"np.sum(np.stack({xs}))", ()),
            (f"sum({xs})", shape),
            (f"{xs}[-1]", shape),
            (f"sum(np.sum(q * q) for q in {xs})", ()),
            (f"np.stack({xs})[{self.rng.randrange(n)}]", shape),
            (f"np.mean(np.stack({xs}), axis=0)", shape),
            (f"len({xs}) * 0.1 + np.sum({xs}[0])", ()),
        ]
        value, vshape = self.pick(options)
        lines = [f"{name} = {value}"]
        if self.chance(0.3):
            lines.insert(0, f"{xs}[{self.rng.randrange(n)}] = {self.expr(scope, shape, 1)}")
        scope.vars[name] = Var(num(*vshape))
        return lines

    def st_dict(self, scope: Scope):
        """A dict display, a write into an item, or a loop over the keys."""
        dicts = scope.names(lambda v: v.ty.kind == "dict")
        if dicts and self.chance(0.6):
            d = self.pick(dicts)
            key, kty = self.pick(list(scope.vars[d].ty.fields))
            sums = self.rebindable(scope, lambda v: v.ty.shape == ())
            if sums and self.chance(0.4):
                acc, k = self.pick(sums), self.fresh("key")
                return [f"for {k} in {d}:",
                        f"    {acc} = {acc} + 0.1 * np.sum({d}[{k}])"]
            if self.has("helpers") and self.chance(0.3):
                helper = [h for h in self.helpers if h.dict_keys and
                          set(h.dict_keys) == {k for k, _ in scope.vars[d].ty.fields}]
                if helper:
                    h = helper[0]
                    call = f"{h.name}({self.expr(scope, h.params[0][1], 1)}, **{d})"
                    name = self.fresh("u")
                    scope.vars[name] = Var(num(*h.params[0][1]))
                    return [f"{name} = {call}"]
            op = self.pick(["=", "+="])
            return [f'{d}["{key}"] {op} {self.expr(scope, kty.shape, 1)}']
        d = self.fresh("d")
        shapes = [self.new_shape(scope), ()]
        fields = tuple((f"k{j}", num(*s)) for j, s in enumerate(shapes))
        items = ", ".join(f'"{k}": {self.owned(self.expr(scope, t.shape, 1))}'
                          for k, t in fields)
        scope.vars[d] = Var(Ty("dict", fields=fields))
        return [f"{d} = {{{items}}}"]
