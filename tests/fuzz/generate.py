"""Random, valid NumPy programs over the language sourcegrad supports, one module per program.

`generate(seed, level)` returns a `Program`: the text of a module defining helpers, classes and
`f`, plus `fuzz_args()` (the arguments, built in the module so that objects are instances of its
classes) and `WRT` (what to differentiate with respect to). The module is self-contained: it is
the reproducer. Level 1 is straight-line code (NumPy, broadcasting, writes); 2 adds if/elif,
for, break/continue, aliases and views; 3 while loops, early returns and helper functions; 4
lists, dicts, closures and objects; higher levels make programs bigger and deeper.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from .exprs import ExprGen
from .features import FeatureGen
from .scope import SCALAR, Scope, Ty, Var, num
from .stmts import StmtGen, indent

FEATURES = [
    (1, {"writes"}),
    (2, {"if", "elif", "for", "break", "views"}),
    (3, {"while", "return", "helpers"}),
    (4, {"lists", "dicts", "closures", "objects"}),
]
MAX_LEVEL = 6


@dataclass
class Program:
    """A generated module: its source, and the seed and level that reproduce it."""

    source: str
    seed: int
    level: int


class Generator(ExprGen, StmtGen, FeatureGen):
    """Writes one program; the mixins draw expressions, statements and definitions."""

    def __init__(self, seed: int, level: int):
        self.rng = random.Random(seed)
        self.level = level
        self.features = set().union(*(f for lv, f in FEATURES if lv <= level))
        self.counter = 0
        self.depth_budget = 2 + (level >= 5)
        self.helpers = []
        self.classes = {}

    def has(self, feature: str) -> bool:
        return feature in self.features

    # -- the module ----------------------------------------------------------------------------
    def module(self) -> str:
        params = self.parameters()
        header = ["import math", "", "import numpy as np", "", ""]
        defs = self.definitions(params)
        scope = self.f_scope(params)
        nest = 1 + (self.level >= 2) + (self.level >= 4)
        count = self.rng.randint(2, 2 + 2 * self.level)
        body = self.block(scope, count, nest)
        body.append(f"return {self.result(scope)}")
        signature = ", ".join(p.signature for p in params)
        f = [f"def f({signature}):"] + indent(body)
        return "\n".join(header + defs + f + ["", ""] + self.inputs(params)) + "\n"

    def parameters(self) -> list[Param]:
        """f's parameters, their types and the values passed (positional, then by keyword)."""
        n0 = self.pick([3, 4])
        params = [Param("x", SCALAR, self.value(())), Param("a", num(n0), self.value((n0,)))]
        if self.chance(0.5):
            params.append(Param("y", SCALAR, self.value(())))
        if self.chance(0.5):
            shape = self.pick([(2, 3), (3, 3), (3, 2), (2, n0)])
            params.append(Param("M", num(*shape), self.value(shape)))
        self.rng.shuffle(params)
        if self.has("for") and self.chance(0.7):
            k = self.rng.randint(1, 3)
            params.append(Param("n", Ty("int"), repr(k), top=k))
        if self.has("lists") and self.chance(0.4):
            items = [self.value((n0,)) for _ in range(2)]
            params.append(Param("ws", Ty("list", item=num(n0), length=2),
                                f"[{', '.join(items)}]"))
        if self.has("dicts") and self.chance(0.4):
            ty = Ty("dict", fields=(("w", num(n0)), ("b", SCALAR)))
            params.append(Param("p", ty, f'{{"w": {self.value((n0,))}, "b": {self.value(())}}}'))
        if self.has("objects") and self.chance(0.4):
            params.append(Param("cell", None, self.value((n0,)) + ", " + self.value(())))
        if self.has("helpers") and self.chance(0.3):
            params.append(Param("scale", SCALAR, self.value(()), default="0.5",
                                by_keyword=self.chance(0.7)))
        return params

    def value(self, shape: tuple) -> str:
        """An argument's literal: distinct values in [-1.5, 1.5] (no ties), 3 decimals."""
        if shape == ():
            return repr(round(self.rng.uniform(-1.5, 1.5), 3))
        n = int(np.prod(shape))
        grid = [(k + 0.5 + self.rng.uniform(-0.25, 0.25)) / n for k in range(n)]
        self.rng.shuffle(grid)
        values = np.round(-1.5 + 3.0 * np.array(grid), 3).reshape(shape)
        return f"np.array({values.tolist()})"

    def definitions(self, params: list[Param]) -> list[str]:
        """Classes and helper functions before f: one class per object parameter, a layer
        for a dict parameter, and some helpers at level 3 and above."""
        lines = []
        shapes = sorted({p.ty.shape for p in params if p.ty is not None and p.ty.is_array})
        for p in params:
            if p.name == "cell":  # its `w` is shaped like `a`
                a_shape = next(q.ty.shape for q in params if q.name == "a")
                class_lines, p.ty = self.make_class(a_shape)
                p.value = f"{p.ty.cls}({p.value})"
                lines += class_lines
            if p.name == "p":
                lines += self.make_dict_helper(list(p.ty.fields))
        if self.has("helpers"):
            for _ in range(self.rng.randint(1, 3)):
                lines += self.make_helper(shapes)
        return lines

    def f_scope(self, params: list[Param]) -> Scope:
        scope = Scope(returns=SCALAR)
        for p in params:
            if p.ty.kind == "int":
                scope.vars[p.name] = Var(p.ty, writable=False, rebindable=False, top=p.top)
            else:
                scope.vars[p.name] = Var(p.ty, rebindable=p.ty.kind == "num")
        return scope

    def result(self, scope: Scope) -> str:
        """A scalar that every value computed at the top level of f reaches."""
        terms = []
        for name, var in scope.vars.items():
            ty = var.ty
            if ty.kind == "num":
                form = self.pick(["np.sum({})", "np.sum({} * {})", "np.sum(np.tanh({}))",
                                  "0.5 * np.sum({})"])
                terms.append(form.format(name, name))
            elif ty.kind == "list" and ty.length > 0:
                terms.append(f"np.sum(np.stack({name}))")
            elif ty.kind == "dict":
                terms += [f'np.sum({name}["{k}"])' for k, _ in ty.fields]
            elif ty.kind == "obj":
                terms.append(f"np.sum({name}.w) + {name}.b")
        keep = terms[-6:] + [t for t in terms[:-6] if self.chance(0.3)]
        return " + ".join(keep) if keep else "0.0"

    def inputs(self, params: list[Param]) -> list[str]:
        """`fuzz_args()` and `WRT`: the call the checker makes."""
        positional = [p.value for p in params if not p.by_keyword]
        keywords = [f'"{p.name}": {p.value}' for p in params if p.by_keyword]
        diff = [i for i, p in enumerate(params) if p.ty.kind != "int"]
        chosen = sorted(self.rng.sample(diff, self.rng.randint(1, min(3, len(diff)))))
        names = [params[i].name for i in chosen]
        forms = [repr(i) if not params[i].by_keyword and self.chance(0.5) else repr(n)
                 for i, n in zip(chosen, names, strict=True)]
        wrt = forms[0] if len(forms) == 1 and self.chance(0.6) else f"({', '.join(forms)},)"
        return ["def fuzz_args():",
                f"    return ({''.join(v + ', ' for v in positional)}), "
                f"{{{', '.join(keywords)}}}", "", "", f"WRT = {wrt}"]


@dataclass
class Param:
    """A parameter of f: name, type, the literal passed, a default, passed by keyword."""

    name: str
    ty: Ty | None
    value: str
    top: int = 0
    default: str | None = None
    by_keyword: bool = False

    @property
    def signature(self) -> str:
        return f"{self.name}={self.default}" if self.default else self.name


def generate(seed: int, level: int) -> Program:
    """The program for (seed, level): the same text on every run."""
    level = max(1, min(level, MAX_LEVEL))
    return Program(Generator(seed, level).module(), seed, level)
