"""Expressions of a required shape: broadcasting arithmetic and the NumPy functions sourcegrad
differentiates, built so that they are valid for the shapes in scope and stay bounded.

Each maker takes the shape it must produce and a depth budget and returns source text, always
parenthesized where precedence could matter. Values stay bounded because growth is damped
(division by 1 + q**2, tanh, sin); the probe throws away the programs where that is not enough.
"""

from __future__ import annotations

import math

from .scope import Scope

UNARY = [
    "np.tanh({})", "np.sin({})", "np.cos({})", "np.arctan({})", "np.exp(np.tanh({}))",
    "np.log1p({} ** 2)", "np.sqrt(1.0 + {} ** 2)", "np.square(np.tanh({}))", "(-{})",
    "np.sinh(np.tanh({}))", "np.abs({})", "({} ** 2)", "np.cbrt(2.0 + np.tanh({}))",
]
SCALAR_ONLY_UNARY = [
    "math.sin({})", "math.tanh({})", "math.exp(math.tanh({}))", "abs({})", "math.atan({})",
    "math.log1p({} ** 2)", "float({})", "math.log10(1.5 + {} ** 2)", "math.log2(1.0 + {} ** 2)",
    "math.hypot({}, 0.7)", "(math.degrees(math.tanh({})) * 0.02)", "math.radians({})",
    "math.copysign({}, -0.7)", "math.asinh({})", "math.atan2({}, 1.5)", "pow({}, 2)",
]
VIEWS = ("np.flip(", "np.transpose(", "np.swapaxes(", "np.moveaxis(", "np.reshape(",
         "np.squeeze(", "np.ravel(", "np.expand_dims(", "np.diagonal(")
CONSTANTS = [0.5, 0.3, 1.5, 2.0, 0.25, 0.7, 1.2, 0.1, -0.5, -0.77, -1.3, 3.0]


def fmt(value: float) -> str:
    """A float literal; negative ones in parentheses, as a user would write `x * (-0.5)`."""
    return f"({value!r})" if value < 0 else repr(value)


def size(shape: tuple) -> int:
    return math.prod(shape)


class ExprGen:
    """Mixin of the generator: draws expressions. Needs self.rng, self.has(feature)."""

    # -- small random helpers --------------------------------------------------------------
    def pick(self, items):
        return items[self.rng.randrange(len(items))]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def const(self) -> str:
        return fmt(self.pick(CONSTANTS))

    def weighted(self, options):
        """One of the (weight, maker) pairs whose maker is not None, drawn by weight."""
        options = [(w, m) for w, m in options if m is not None and w > 0]
        total = sum(w for w, _ in options)
        r = self.rng.random() * total
        for w, m in options:
            r -= w
            if r <= 0:
                return m
        return options[-1][1]

    # -- leaves --------------------------------------------------------------------------------
    def leaf(self, scope: Scope, shape: tuple) -> str:
        """A name of this shape when there is one (recent ones likelier), else one built from a
        name in scope so that the expression still depends on the inputs."""
        names = scope.of_shape(shape)
        if names and self.chance(0.85):
            return names[-1 - min(int(self.rng.expovariate(0.6)), len(names) - 1)]
        if shape == ():
            return self.scalar_from_scope(scope)
        return self.array_from_scope(scope, shape)

    def scalar_from_scope(self, scope: Scope) -> str:
        """A scalar read out of an array, a container or a constant."""
        arrays = scope.names(lambda v: v.ty.is_array)
        items = self.container_leaves(scope, ())
        options = [(1, lambda: self.const())]
        if arrays:
            a = self.pick(arrays)
            shape = scope.vars[a].ty.shape
            options.append((4, lambda: self.index_scalar(scope, a, shape)))
            options.append((2, lambda: f"np.sum({a})"))
        if items:
            options.append((4, lambda: self.pick(items)))
        return self.weighted(options)()

    def index_scalar(self, scope: Scope, name: str, shape: tuple) -> str:
        """`a[i]`, `a[-1]`, `m[i, j]` or `m[i][j]` with indices valid for the shape."""
        idx = [self.index(scope, n) for n in shape]
        if len(idx) == 2 and self.chance(0.3):
            return f"{name}[{idx[0]}][{idx[1]}]"
        return f"{name}[{', '.join(idx)}]"

    def index(self, scope: Scope, length: int) -> str:
        """An int expression valid as an index into an axis of this length: a constant, or a
        loop counter known to stay below it."""
        counters = [n for n in scope.ints() if scope.vars[n].top < length and
                    scope.vars[n].top >= 0 and not scope.vars[n].rebindable]
        if counters and self.chance(0.6):
            i = self.pick(counters)
            if scope.vars[i].top + 1 < length and self.chance(0.3):
                return f"{i} + 1"
            if self.chance(0.2):
                return f"{i} - 1"
            return i
        return str(self.rng.randrange(-length, length))

    def array_from_scope(self, scope: Scope, shape: tuple) -> str:
        """An array of `shape` built from scope: a longer vector cut, a row broadcast, or a
        scalar times a fixed array of distinct values (no ties for max or sort)."""
        n = size(shape)
        lo, hi = self.rng.uniform(-1.0, 0.0), self.rng.uniform(0.2, 1.2)
        spread = f"np.linspace({lo:.2f}, {hi:.2f}, {n})"
        if len(shape) > 1:
            spread += f".reshape({', '.join(map(str, shape))})"
        longer = [a for a in scope.names(lambda v: v.ty.is_array and len(v.ty.shape) == 1)
                  if len(shape) == 1 and scope.vars[a].ty.shape[0] > shape[0]]
        if longer and self.chance(0.5):
            return f"{self.pick(longer)}[:{shape[0]}]"
        rows = scope.of_shape(shape[1:]) if len(shape) == 2 else []
        if rows and self.chance(0.5):
            return f"(np.zeros({shape}) + {self.pick(rows)})"
        return f"({self.leaf(scope, ())} * {spread})"

    def container_leaves(self, scope: Scope, shape: tuple) -> list[str]:
        """Reads of dict items, object attributes and list items of this shape."""
        out = []
        for name, var in scope.vars.items():
            ty = var.ty
            if ty.kind == "dict":
                out += [f'{name}["{k}"]' for k, t in ty.fields if t.kind == "num" and
                        t.shape == shape]
            elif ty.kind == "obj":
                out += [f"{name}.{k}" for k, t in ty.fields if t.kind == "num" and
                        t.shape == shape]
            elif ty.kind == "list" and ty.length > 0 and ty.item.shape == shape:
                out.append(f"{name}[{self.rng.randrange(-ty.length, ty.length)}]")
        return out

    # -- expressions ---------------------------------------------------------------------------
    def expr(self, scope: Scope, shape: tuple, depth: int = 2) -> str:
        """An expression of exactly this shape (() is a float)."""
        if depth <= 0 or self.chance(0.25):
            items = self.container_leaves(scope, shape)
            if items and self.chance(0.3):
                return self.pick(items)
            return self.leaf(scope, shape)
        maker = self.weighted(self.scalar_makers(scope, depth) if shape == () else
                              self.array_makers(scope, shape, depth))
        return maker()

    def common_makers(self, scope: Scope, shape: tuple, depth: int):
        """Makers valid for any shape: arithmetic, elementwise functions, choices."""
        d = depth - 1
        sub = lambda s=shape: self.expr(scope, s, d)  # noqa: E731
        op = lambda: self.pick(["+", "-", "*"])  # noqa: E731
        return [
            (6, lambda: f"({sub()} {op()} {self.broadcast_operand(scope, shape, d)})"),
            (2, lambda: f"({self.broadcast_operand(scope, shape, d)} {op()} {sub()})"),
            (3, lambda: f"({sub()} / (1.0 + {self.broadcast_operand(scope, shape, d)} ** 2))"),
            (5, lambda: self.pick(UNARY).format(sub())),
            (1, lambda: f"({self.const()} * {sub()} ** 2)"),
            (2 * self.has("if"), lambda: f"({self.owned(sub())} if {self.cond(scope, d)} "
                                         f"else {self.owned(sub())})"),
            (1, lambda: f"np.maximum({sub()}, {self.broadcast_operand(scope, shape, d)})"),
            (1, lambda: f"np.minimum({sub()}, {self.const()})"),
            (1, lambda: f"np.clip({sub()}, -0.6, 0.8)"),
            (1, lambda: f"np.where({self.mask(scope, shape, d)}, {sub()}, {sub()})"),
            (1, lambda: f"np.arctan2({sub()}, 1.5 + np.tanh({sub()}))"),
            (1, lambda: f"np.logaddexp({sub()}, {sub()})"),
            (1, lambda: f"np.hypot({sub()}, 0.5)"),
            (2 * self.has("helpers"), lambda: self.helper_call(scope, shape, d)),
            (2 * self.has("closures"), lambda: self.closure_call(scope, shape, d)),
            (1 * self.has("objects"), lambda: self.method_call(scope, shape, d)),
        ]

    def owned(self, text: str) -> str:
        """Mostly a new array rather than a name or a view: a name bound to another's array
        on some paths only (a conditional expression, an assignment in one arm), or held by a
        list or dict, is refused by design when the array changes (README); kept sometimes,
        so that the refusal stays tested."""
        view = text.isidentifier() or text.endswith(("]", ".T")) or text.startswith(VIEWS) \
            or (text.startswith("(") and " if " in text)
        return f"({text} + 0.0)" if view and self.chance(0.8) else text

    def broadcast_operand(self, scope: Scope, shape: tuple, depth: int) -> str:
        """The other operand of a binary operation producing `shape`: the same shape, a float,
        or a shape that broadcasts up to it (a trailing part, a keepdims column)."""
        choices = [shape, shape, ()]
        if len(shape) == 2:
            choices += [shape[1:], (shape[0], 1), (1, shape[1])]
        return self.expr(scope, self.pick(choices), depth)

    def scalar_makers(self, scope: Scope, depth: int):
        """Makers of floats: the common ones, reductions, products, indexing."""
        d = depth - 1
        arr = lambda: self.any_array_shape(scope)  # noqa: E731
        sub = lambda: self.expr(scope, (), d)  # noqa: E731
        return self.common_makers(scope, (), depth) + [
            (3, lambda: self.pick(SCALAR_ONLY_UNARY).format(sub())),
            (6, lambda: self.reduction(scope, arr(), d)),
            (3, lambda: self.inner_product(scope, d)),
            (3, lambda: self.indexed_scalar(scope, d)),
            (1, lambda: f"{self.pick(['max', 'min'])}({sub()}, {sub()})"),
            (1, lambda: f"({sub()} * {fmt(self.pick(CONSTANTS))} ** 2)"),
        ]

    def any_array_shape(self, scope: Scope) -> tuple:
        shapes = scope.array_shapes()
        if shapes and self.chance(0.8):
            return self.pick(shapes)
        return self.pick([(3,), (4,), (2, 3), (3, 3), (3, 2)])

    def reduction(self, scope: Scope, shape: tuple, depth: int) -> str:
        """A float from an array: sums, means, norms, max, var; function or method form."""
        a = self.expr(scope, shape, depth)
        options = ["np.sum({})", "np.mean({})", "{}.sum()", "np.max({})", "np.min({})",
                   "{}.mean()", "np.linalg.norm({})", "np.var({})", "np.std({})",
                   "np.prod(np.tanh({}) + 1.5)", "np.sum({} ** 2)", "{}.max()",
                   "np.average({})", "np.ptp({})", "np.sum(np.cumsum({}))"]
        if size(shape) < 2:
            options = options[:3]
        return self.pick(options).format(a)

    def inner_product(self, scope: Scope, depth: int) -> str:
        n = self.pick([3, 4] + [s[0] for s in scope.array_shapes() if len(s) == 1])
        u, v = self.expr(scope, (n,), depth), self.expr(scope, (n,), depth)
        forms = ["np.dot({}, {})", "({} @ {})", "{}.dot({})", "np.inner({}, {})"]
        return self.pick(forms).format(u, v)

    def indexed_scalar(self, scope: Scope, depth: int) -> str:
        arrays = scope.names(lambda v: v.ty.is_array)
        if not arrays:
            return self.scalar_from_scope(scope)
        a = self.pick(arrays)
        return self.index_scalar(scope, a, scope.vars[a].ty.shape)

    def mask(self, scope: Scope, shape: tuple, depth: int) -> str:
        """A boolean array of `shape` (a comparison), for `np.where` and masked writes."""
        left = self.expr(scope, shape, depth)
        right = self.pick([self.const(), self.expr(scope, (), depth)])
        return f"({left} {self.pick(['<', '>'])} {right})"

    def cond(self, scope: Scope, depth: int = 1) -> str:
        """A data-dependent test: comparisons of floats, reductions, combined with
        `and`/`or`/`not` when the level allows."""
        d = max(depth - 1, 0)
        base = lambda: f"{self.expr(scope, (), d)} {self.pick(['<', '>', '<=', '>='])} " \
                       f"{self.pick([self.const(), self.const(), self.expr(scope, (), d)])}"  # noqa: E731
        if self.chance(0.1):
            shape = self.any_array_shape(scope)
            return f"np.{self.pick(['all', 'any'])}({self.mask(scope, shape, d)})"
        if self.has("if") and self.chance(0.3):
            joiner = self.pick([" and ", " or "])
            return f"({base()}{joiner}{base()})"
        if self.has("if") and self.chance(0.1):
            return f"not ({base()})"
        return base()

    def array_makers(self, scope: Scope, shape: tuple, depth: int):
        """Makers of arrays of `shape`: the common ones and the shape-changing functions that
        can produce it (slices, transposes, reshapes, joins, products, reductions)."""
        d = depth - 1
        e = lambda s: self.expr(scope, tuple(s), d)  # noqa: E731
        makers = self.common_makers(scope, shape, depth)
        if len(shape) == 1:
            makers += self.vector_makers(scope, shape[0], d, e)
        else:
            makers += self.matrix_makers(scope, shape, d, e)
        return makers

    def vector_makers(self, scope: Scope, n: int, d: int, e):
        m = self.pick([2, 3])
        k = self.rng.randrange(1, n) if n > 1 else 1
        perm = [self.rng.randrange(n) for _ in range(n)]
        return [
            (2, lambda: f"{e((n + 1,))}[1:]"),
            (1, lambda: f"{e((n + 2,))}[1:-1]"),
            (1, lambda: f"{e((n,))}[::-1]"),
            (1, lambda: f"{e((n,))}[{perm}]"),
            (1, lambda: f"np.flip({e((n,))})"),
            (1, lambda: f"np.roll({e((n,))}, {self.pick([1, -1, 2])})"),
            (2, lambda: f"np.cumsum({e((n,))})"),
            (1, lambda: f"np.diff({e((n + 1,))})"),
            (2, lambda: f"{e((m, n))}[{self.index(scope, m)}]"),
            (2, lambda: f"{e((n, m))}[:, {self.index(scope, m)}]"),
            (2, lambda: f"np.{self.pick(['sum', 'mean'])}({e((m, n))}, axis=0)"),
            (1, lambda: f"{e((n, m))}.{self.pick(['sum', 'mean', 'max'])}(axis=1)"),
            (1, lambda: f"np.max({e((m, n))}, axis=0)"),
            (2, lambda: f"({e((n, m))} @ {e((m,))})"),
            (1, lambda: f"({e((m,))} @ {e((m, n))})"),
            (1, lambda: f"np.dot({e((n, m))}, {e((m,))})"),
            (1 * (n > 1), lambda: f"np.concatenate([{e((k,))}, {e((n - k,))}])"),
            (1 * (n in (4, 6)), lambda: f"{e((2, n // 2))}.ravel()"),
            (1 * (n in (4, 6)), lambda: f"np.reshape({e((n // 2, 2))}, ({n},))"),
            (1 * (n in (4, 6)), lambda: f"np.ravel({e((2, n // 2))}, order='F')"),
            (1 * (n in (4, 6)), lambda: f"{e((2, n // 2))}.flatten(order='F')"),
            (1 * (n > 1), lambda: f"np.r_[{e((k,))}, {e((n - k,))}]"),
            (1, lambda: f"(np.mgrid[-1.0:1.0:{n}j] * {e((n,))})"),
            (0.3, lambda: f"np.r_[0.5:(1.0 + {self.scalar_from_scope(scope)} ** 2):{n}j]"),
            (1, lambda: f"np.sort({e((n,))})"),
            (1, lambda: f"np.array([{', '.join(e(()) for _ in range(n))}])"),
            (1, lambda: f"np.stack([{', '.join(e(()) for _ in range(n))}])"),
            (1, lambda: f"np.cumprod(0.5 + 0.4 * np.tanh({e((n,))}))"),
            (1 * (n > 1), lambda: f"np.squeeze({e((1, n))})"),
            (1 * (n > 1), lambda: f"np.interp({e((n,))}, np.linspace(-1.0, 1.0, {n}), "
                                  f"{e((n,))})"),
        ]

    def matrix_makers(self, scope: Scope, shape: tuple, d: int, e):
        r, c = shape
        k = self.pick([2, 3])
        return [
            (2, lambda: f"{e((c, r))}.T"),
            (1, lambda: f"np.transpose({e((c, r))})"),
            (1, lambda: f"np.swapaxes({e((c, r))}, 0, 1)"),
            (1, lambda: f"np.moveaxis({e((c, r))}, 0, -1)"),
            (1, lambda: f"{e((c, r))}.transpose()"),
            (2, lambda: f"{e((r * c,))}.reshape({r}, {c})"),
            (1, lambda: f"{e((r * c,))}.reshape(({r}, {c}), order='F')"),
            (1, lambda: f"np.reshape({e((c, r))}, ({r}, {c}))"),
            (2, lambda: f"np.outer({e((r,))}, {e((c,))})"),
            (1, lambda: f"({e((r,))}[:, None] * {e((c,))})"),
            (2, lambda: f"({e((r, k))} @ {e((k, c))})"),
            (1, lambda: f"np.matmul({e((r, k))}, {e((k, c))})"),
            (2, lambda: f"np.stack([{', '.join(e((c,)) for _ in range(r))}])"),
            (1, lambda: f"np.stack([{', '.join(e((r,)) for _ in range(c))}], axis=1)"),
            (1 * (r > 1), lambda: f"np.concatenate([{e((1, c))}, {e((r - 1, c))}], axis=0)"),
            (1 * (c > 1), lambda: f"np.concatenate([{e((r, 1))}, {e((r, c - 1))}], axis=1)"),
            (1 * (r > 1), lambda: f"np.vstack([{e((c,))}, {e((r - 1, c))}])"),
            (1, lambda: f"{e((r + 1, c))}[1:]"),
            (1, lambda: f"(np.ogrid[0.0:1.0:{r}j, -1.0:1.0:{c}j][0] * {e((r, c))})"),
            (1, lambda: f"{e((r, c + 1))}[:, :-1]"),
            (1, lambda: f"np.cumsum({e((r, c))}, axis={self.pick([0, 1])})"),
            (1, lambda: f"(np.sum({e((r, c))}, axis={self.pick([0, 1])}, keepdims=True) + "
                        f"{e((r, c))})"),
            (1, lambda: f"np.flip({e((r, c))}, axis={self.pick([0, 1])})"),
            (1, lambda: f"np.tile({e((c,))}, ({r}, 1))"),
            (1 * (r == 1), lambda: f"np.expand_dims({e((c,))}, 0)"),
            (1 * (r == c), lambda: f"np.triu({e((r, c))})"),
            (1 * (r == c), lambda: f"np.diag({e((r,))})"),
            (1 * (r == c), lambda: f"np.linalg.inv(np.eye({r}) * 3.0 + 0.4 * "
                                   f"np.tanh({e((r, c))}))"),
        ]
