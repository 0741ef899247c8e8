"""Statements: assignments of every form, writes into arrays and views, and control flow.

A statement maker returns the statement's lines (nested lines indented by four spaces) and
updates the scope with what it binds, or returns None when the scope has nothing it can use
(then another kind is drawn). Loop-carried updates are damped (`0.5 * v + ...`, tanh) so that a
loop does not blow values up.
"""

from __future__ import annotations

from .scope import SCALAR, Scope, Ty, Var, num


def indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


class StmtGen:
    """Mixin of the generator: draws statements and blocks. Needs ExprGen and self.fresh."""

    def block(self, scope: Scope, count: int, depth: int) -> list[str]:
        """`count` statements (at least `pass`), nested at most `depth` more levels."""
        lines: list[str] = []
        for _ in range(count):
            lines += self.statement(scope, depth)
        return lines or ["pass"]

    def statement(self, scope: Scope, depth: int) -> list[str]:
        for _ in range(8):
            maker = self.weighted(self.statement_makers(scope, depth))
            lines = maker()
            if lines:
                return lines
        return self.st_assign(scope)

    def statement_makers(self, scope: Scope, depth: int):
        """(weight, maker) for every statement kind the level allows here."""
        h = self.has
        nest = depth > 0
        s = scope
        return [
            (6, lambda: self.st_assign(s)),
            (4, lambda: self.st_reassign(s)),
            (3, lambda: self.st_augassign(s)),
            (4 * h("writes"), lambda: self.st_write(s)),
            (1 * h("writes"), lambda: self.st_copy(s)),
            (1, lambda: self.st_tuple(s)),
            # sharing made on some paths only is refused by design: aliases at the top
            (3 * h("views") * (not s.nested), lambda: self.st_alias_or_view(s)),
            (4 * h("if") * nest, lambda: self.st_if(s, depth)),
            (4 * h("for") * nest, lambda: self.st_for(s, depth)),
            (2 * h("while") * nest, lambda: self.st_while(s, depth)),
            (3 * h("break") * s.in_for, lambda: self.st_break(s)),
            (1 * h("return") * (s.returns is not None), lambda: self.st_return(s)),
            (3 * h("helpers"), lambda: self.st_mutating_call(s)),
            (3 * h("lists"), lambda: self.st_list(s, depth)),
            (2 * h("dicts"), lambda: self.st_dict(s)),
            (2 * h("closures") * s.closures_ok, lambda: self.st_closure(s)),
            (2 * h("objects"), lambda: self.st_object(s)),
        ]

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}{self.counter}"

    def new_shape(self, scope: Scope) -> tuple:
        shapes = scope.array_shapes()
        if self.chance(0.4):
            return ()
        if shapes and self.chance(0.8):
            return self.pick(shapes)
        return self.pick([(3,), (4,), (2, 3), (3, 3)])

    # -- assignments ---------------------------------------------------------------------------
    def st_assign(self, scope: Scope) -> list[str]:
        shape = self.new_shape(scope)
        name = self.fresh("t" if shape == () else "u")
        value = self.expr(scope, shape, self.depth_budget)
        line = f"{name} = {self.owned(value) if scope.nested else value}"
        scope.vars[name] = Var(num(*shape))
        return [line]

    def rebindable(self, scope: Scope, pred=lambda v: True) -> list[str]:
        return scope.names(lambda v: v.rebindable and v.ty.kind == "num" and pred(v))

    def st_reassign(self, scope: Scope):
        names = self.rebindable(scope)
        if not names:
            return None
        name = self.pick(names)
        shape = scope.vars[name].ty.shape
        e = self.expr(scope, shape, self.depth_budget)
        e = self.owned(e) if scope.nested else e
        form = self.pick(["{e}", "np.tanh({v} + {e})", "0.5 * {v} + 0.5 * np.sin({e})",
                          "{v} * 0.8 + 0.1 * {e}"])
        return [f"{name} = {form.format(v=name, e=e)}"]

    def st_augassign(self, scope: Scope):
        names = self.rebindable(scope)
        if not names:
            return None
        name = self.pick(names)
        shape = scope.vars[name].ty.shape
        rhs = self.rhs_into(scope, shape)
        return [self.pick([f"{name} += 0.3 * np.tanh({rhs})", f"{name} -= 0.2 * {rhs}",
                           f"{name} *= 0.9 + 0.1 * np.tanh({rhs})",
                           f"{name} /= 1.0 + {rhs} ** 2", f"{name} += {rhs}"])]

    def rhs_into(self, scope: Scope, shape: tuple) -> str:
        """A value that broadcasts into `shape` without changing it (for `+=` and writes)."""
        options = [shape, shape, ()]
        if len(shape) == 2:
            options.append(shape[1:])
        return self.expr(scope, self.pick(options), self.depth_budget - 1)

    def st_tuple(self, scope: Scope):
        """`a, b = e1, e2` binding new names, or a swap / rotation of two names of one type."""
        names = self.rebindable(scope)
        if len(names) >= 2 and self.chance(0.5):
            a = self.pick(names)
            same = [n for n in names if n != a and scope.vars[n].ty == scope.vars[a].ty]
            if same:
                b = self.pick(same)
                if self.chance(0.5):
                    return [f"{a}, {b} = {b}, {a}"]
                shape = scope.vars[a].ty.shape
                return [f"{a}, {b} = {self.expr(scope, shape, 1)}, {a}"]
        shapes = [self.new_shape(scope), self.new_shape(scope)]
        targets = [self.fresh("t" if s == () else "u") for s in shapes]
        values = [self.owned(self.expr(scope, s, self.depth_budget)) for s in shapes]
        for t, s in zip(targets, shapes, strict=True):
            scope.vars[t] = Var(num(*s))
        if self.chance(0.3):
            return [f"{targets[0]}, {targets[1]} = ({values[0]}, {values[1]})"]
        return [f"{targets[0]}, {targets[1]} = {values[0]}, {values[1]}"]

    # -- writes into arrays --------------------------------------------------------------------
    def writable_arrays(self, scope: Scope) -> list[str]:
        return scope.names(lambda v: v.ty.is_array and v.writable)

    def st_copy(self, scope: Scope):
        """A fresh array to write into, copied from a name or made by arithmetic."""
        arrays = scope.names(lambda v: v.ty.is_array)
        if not arrays:
            return None
        src = self.pick(arrays)
        ty = scope.vars[src].ty
        shape = ty.shape
        form = self.pick([f"{src}.copy()", f"np.copy({src})", f"{src} * 1.0",
                          f"np.zeros({shape})", f"np.array({src})", f"{src} + 0.0",
                          f"np.ones_like({src}) * {self.expr(scope, (), 1)}"])
        name = self.fresh("z")
        scope.vars[name] = Var(ty)
        return [f"{name} = {form}"]

    def st_write(self, scope: Scope):
        """`z[i] = v`, `z[1:] += v`, `m[:, j] *= s`, `z[z > c] = v`, `m.T[0] = v`, ..."""
        arrays = self.writable_arrays(scope)
        if not arrays:
            return self.st_copy(scope)
        name = self.pick(arrays)
        shape = scope.vars[name].ty.shape
        if self.chance(0.1):  # `np.f(..., out=z)`: the write `z[...] = np.f(...)`
            fn = self.pick(["np.multiply", "np.add", "np.maximum"])
            first = self.expr(scope, shape, self.depth_budget - 1)
            return [f"{fn}({first}, {self.expr(scope, (), 1)}, out={name})"]
        target, part = self.write_target(scope, name, shape)
        op = self.pick(["=", "=", "+=", "-=", "*="])
        value = self.expr(scope, part, self.depth_budget - 1)
        if op == "*=":
            value = f"(0.8 + 0.2 * np.tanh({value}))"
        return [f"{target} {op} {value}"]

    def write_target(self, scope: Scope, name: str, shape: tuple) -> tuple[str, tuple]:
        """A subscript of `name` and the shape a value written there must have."""
        n = shape[0]
        if len(shape) == 1:
            k = self.rng.randrange(1, n) if n > 1 else 1
            options = [
                (f"{name}[{self.index(scope, n)}]", ()),
                (f"{name}[{k}:]", (n - k,)),
                (f"{name}[:{k}]", (k,)),
                (f"{name}[::2]", ((n + 1) // 2,)),
                (f"{name}[{self.mask(scope, shape, 1)}]", ()),
                (f"{name}[[0, {n - 1}]]", (2,)),
                (f"{name}[...]", shape),
            ]
        else:
            r, c = shape
            options = [
                (f"{name}[{self.index(scope, r)}]", (c,)),
                (f"{name}[:, {self.index(scope, c)}]", (r,)),
                (f"{name}[{self.index(scope, r)}, {self.index(scope, c)}]", ()),
                (f"{name}[1:, :]", (r - 1, c)) if r > 1 else (f"{name}[0]", (c,)),
                (f"{name}.T[{self.index(scope, c)}]", (r,)),
                (f"{name}[{self.mask(scope, shape, 1)}]", ()),
                (f"{name}[{self.index(scope, r)}, :]", (c,)),
            ]
        return self.pick(options)

    def st_alias_or_view(self, scope: Scope):
        """`w = z` (an alias) or `w = z[1:]` / `z.T` / `z[0]` (a view), then a change through
        one name that shows through the other."""
        numbers = self.rebindable(scope, lambda v: v.ty.shape == ())
        if numbers and self.chance(0.2):
            return self.number_alias(scope, self.pick(numbers))
        arrays = self.writable_arrays(scope)
        if not arrays:
            return None
        base = self.pick(arrays)
        shape = scope.vars[base].ty.shape
        name = self.fresh("w")
        views = [(base, shape)]
        if len(shape) == 1 and shape[0] > 1:
            views += [(f"{base}[1:]", (shape[0] - 1,)), (f"{base}[:-1]", (shape[0] - 1,)),
                      (f"{base}[::-1]", shape)]
        elif len(shape) == 2:
            views += [(f"{base}.T", shape[::-1]), (f"{base}[0]", shape[1:]),
                      (f"{base}[:, 1]", shape[:1]), (f"np.swapaxes({base}, 0, 1)", shape[::-1])]
        view, vshape = self.pick(views)
        scope.vars[name] = Var(num(*vshape))
        lines = [f"{name} = {view}"]
        changed = self.pick([name, name, base])
        cshape = scope.vars[changed].ty.shape
        if self.chance(0.5):
            lines.append(f"{changed} += {self.rhs_into(scope, cshape)}")
        else:
            target, part = self.write_target(scope, changed, cshape)
            lines.append(f"{target} = {self.expr(scope, part, 1)}")
        return lines

    def number_alias(self, scope: Scope, name: str) -> list[str]:
        """`b = t; t += ...`: a number is never shared, `b` keeps the old value."""
        alias = self.fresh("t")
        scope.vars[alias] = Var(SCALAR)
        return [f"{alias} = {name}", f"{name} += {self.expr(scope, (), 1)}"]

    # -- control flow --------------------------------------------------------------------------
    def st_if(self, scope: Scope, depth: int) -> list[str]:
        """if / elif / else, each arm a block of its own; new names stay inside the arm."""
        lines = [f"if {self.cond(scope, 2)}:"]
        lines += indent(self.block(scope.child(), self.rng.randint(1, 3), depth - 1))
        if self.has("elif") and self.chance(0.4):
            lines.append(f"elif {self.cond(scope, 2)}:")
            lines += indent(self.block(scope.child(), self.rng.randint(1, 2), depth - 1))
        if self.chance(0.6):
            lines.append("else:")
            lines += indent(self.block(scope.child(), self.rng.randint(1, 2), depth - 1))
        return lines

    def loop_header(self, scope: Scope, inner: Scope) -> str:
        """`for i in range(...)`, over an array's rows or items, `enumerate`, `zip`, a list."""
        i = self.fresh("i")
        ints = [n for n in scope.ints() if scope.vars[n].rebindable is False and
                scope.vars[n].top >= 1 and n.startswith("n")]
        vectors = scope.names(lambda v: v.ty.is_array and len(v.ty.shape) == 1)
        lists = scope.names(lambda v: v.ty.kind == "list" and v.ty.length > 0)
        matrices = scope.names(lambda v: v.ty.is_array and len(v.ty.shape) == 2)
        options = [("range", 3)]
        if ints:
            options.append(("param", 4))
        if vectors:
            options += [("len", 3), ("items", 1), ("enumerate", 1), ("zip", 1)]
        if matrices:
            options.append(("rows", 1))
        if lists:
            options.append(("list", 2))
        kind = self.weighted([(w, k) for k, w in options])
        ro = dict(rebindable=False, writable=False)
        if kind == "range":
            top = self.rng.randint(1, 4)
            inner.vars[i] = Var(Ty("int"), top=top - 1, **ro)
            return f"for {i} in range({top}):"
        if kind == "param":
            nm = self.pick(ints)
            inner.vars[i] = Var(Ty("int"), top=scope.vars[nm].top - 1, **ro)
            return f"for {i} in range({nm}):"
        if kind == "rows":
            m = self.pick(matrices)
            t = self.fresh("row")
            inner.vars[t] = Var(num(*scope.vars[m].ty.shape[1:]), **ro)
            return f"for {t} in {m}:"
        if kind == "list":
            xs = self.pick(lists)
            t = self.fresh("item")
            inner.vars[t] = Var(scope.vars[xs].ty.item, **ro)
            return f"for {t} in {xs}:"
        v = self.pick(vectors)
        n = scope.vars[v].ty.shape[0]
        t = self.fresh("e")
        if kind == "len":
            inner.vars[i] = Var(Ty("int"), top=n - 1, **ro)
            return f"for {i} in range(len({v})):"
        inner.vars[t] = Var(SCALAR, **ro)
        if kind == "items":
            return f"for {t} in {v}:"
        if kind == "enumerate":
            inner.vars[i] = Var(Ty("int"), top=n - 1, **ro)
            return f"for {i}, {t} in enumerate({v}):"
        same = [w for w in vectors if scope.vars[w].ty.shape == (n,)]
        t2 = self.fresh("e")
        inner.vars[t2] = Var(SCALAR, **ro)
        return f"for {t}, {t2} in zip({v}, {self.pick(same)}):"

    def st_for(self, scope: Scope, depth: int) -> list[str]:
        inner = scope.child(loop_depth=scope.loop_depth + 1, in_for=True)
        header = self.loop_header(scope, inner)
        body = self.block(inner, self.rng.randint(1, 3), depth - 1)
        return [header] + indent(body)

    def st_break(self, scope: Scope) -> list[str]:
        jump = self.pick(["break", "continue"])
        lines = [f"if {self.cond(scope, 1)}:"]
        if self.chance(0.4):
            lines += indent(self.statement(scope.child(), 0))
        return lines + indent([jump])

    def st_return(self, scope: Scope) -> list[str]:
        value = self.expr(scope, scope.returns.shape, self.depth_budget - 1)
        return [f"if {self.cond(scope, 1)}:", f"    return {value}"]

    def st_while(self, scope: Scope, depth: int) -> list[str]:
        """A loop to a tolerance or a data-dependent bound, always with an iteration cap."""
        return self.pick([self.while_fixed_point, self.while_newton, self.while_walk,
                          self.while_kepler])(scope, depth)

    def while_fixed_point(self, scope: Scope, depth: int) -> list[str]:
        shape = self.pick([(), ()] + scope.array_shapes())
        y, nxt, err, it = self.fresh("y"), self.fresh("y_next"), self.fresh("err"), \
            self.fresh("it")
        drive = self.expr(scope, shape, 1)
        dist = f"({nxt} - {y}) ** 2" if shape == () else f"np.sum(({nxt} - {y}) ** 2)"
        start = "0.0" if shape == () else f"np.zeros({shape})"
        lines = [f"{y} = {start}", f"{it} = 0", f"{err} = 1.0",
                 f"while {err} > 1e-20 and {it} < 80:",
                 f"    {it} += 1",
                 f"    {nxt} = 0.5 * np.cos({y}) + 0.4 * np.tanh({drive})",
                 f"    {err} = {dist}",
                 f"    {y} = {nxt}"]
        scope.vars[y] = Var(num(*shape))
        return lines

    def while_newton(self, scope: Scope, depth: int) -> list[str]:
        r, g, it = self.fresh("r"), self.fresh("g"), self.fresh("it")
        lines = [f"{r} = 1.0 + {self.expr(scope, (), 1)} ** 2", f"{g} = 1.0", f"{it} = 0",
                 f"while ({g} * {g} - {r}) ** 2 > 1e-24 * {r} ** 2 and {it} < 50:",
                 f"    {it} += 1",
                 f"    {g} = 0.5 * ({g} + {r} / {g})"]
        scope.vars[r] = Var(SCALAR)
        scope.vars[g] = Var(SCALAR)
        return lines

    def while_kepler(self, scope: Scope, depth: int) -> list[str]:
        e, m, big, de, it = (self.fresh("ecc"), self.fresh("mean"), self.fresh("E"),
                             self.fresh("dE"), self.fresh("it"))
        lines = [f"{e} = 0.3 + 0.2 * np.tanh({self.expr(scope, (), 1)})",
                 f"{m} = {self.expr(scope, (), 1)}", f"{big} = {m}", f"{it} = 0",
                 "while True:",
                 f"    {it} += 1",
                 f"    {de} = ({big} - {e} * np.sin({big}) - {m}) / (1.0 - {e} * np.cos({big}))",
                 f"    {big} = {big} - {de}",
                 f"    if {de} * {de} < 1e-24 or {it} > 60:",
                 "        break"]
        for name in (e, m, big):
            scope.vars[name] = Var(SCALAR)
        return lines

    def while_walk(self, scope: Scope, depth: int) -> list[str]:
        """A counter and a float that grows to a threshold; the body is drawn like any other
        (`continue` and `break` included: the counter is stepped first)."""
        t, k = self.fresh("t"), self.fresh("k")
        inner = scope.child(loop_depth=scope.loop_depth + 1, in_for=True)
        lines = [f"{t} = {self.expr(scope, (), 1)}", f"{k} = 0",
                 f"while {t} < 1.5 and {k} < 8:", f"    {k} += 1"]
        body = self.block(inner, self.rng.randint(1, 2), depth - 1)
        lines += indent(body)
        lines.append(f"    {t} = {t} + 0.3 + 0.2 * np.tanh({self.expr(scope, (), 1)})")
        scope.vars[t] = Var(SCALAR)
        return lines
