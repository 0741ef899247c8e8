"""What the generator knows about the variables of the program it is writing.

Every name has a type that never changes once bound (a float, a float array of a known shape, an
int with a known largest value, a list, a dict, an object), so that any expression drawn from
the scope is valid Python whichever branch or iteration ran before it. Names bound inside a
block are forgotten when the block ends: Python keeps them, but they may be unbound on another
path, so the generator never reads them there.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Ty:
    """A value's type. kind: "num" (float when shape == (), else a float ndarray), "int",
    "list" (items of type `item`, `length` items), "dict" (`fields` keys), "obj" (class `cls`
    with attributes `fields`), "fn" (a closure from `item`-shaped... see `params`)."""

    kind: str
    shape: tuple = ()
    item: Ty | None = None
    length: int = 0
    fields: tuple = ()  # ((name, Ty), ...)
    cls: str = ""
    params: tuple = ()  # a closure's parameter shapes; `shape` is what it returns

    @property
    def is_array(self) -> bool:
        return self.kind == "num" and self.shape != ()

    @property
    def is_scalar(self) -> bool:
        return self.kind == "num" and self.shape == ()


def num(*shape: int) -> Ty:
    """The type of a float (no shape) or a float array."""
    return Ty("num", tuple(shape))


SCALAR = num()


@dataclass
class Var:
    """A bound name: its type, whether arrays may be written into it (not read-only, not a
    name the loop rebinds), whether it may be rebound, and the largest value of an int."""

    ty: Ty
    writable: bool = True
    rebindable: bool = True
    top: int = 0


@dataclass
class Scope:
    """The names visible at a point of the program, and where that point is (inside which
    loops, what a `return` must give)."""

    vars: dict[str, Var] = field(default_factory=dict)
    loop_depth: int = 0
    in_for: bool = False  # a `break`/`continue` here ends a `for` (not a while with a counter)
    returns: Ty | None = None
    function: str = "f"
    closures_ok: bool = True
    nested: bool = False  # inside an if arm or a loop

    def child(self, **changes) -> Scope:
        """The scope of a nested block: sees everything, its own new names stay inside."""
        inner = Scope(dict(self.vars), self.loop_depth, self.in_for, self.returns,
                      self.function, self.closures_ok, nested=True)
        for key, value in changes.items():
            setattr(inner, key, value)
        return inner

    def names(self, pred) -> list[str]:
        """Names whose Var satisfies `pred`, in binding order (newer last)."""
        return [n for n, v in self.vars.items() if pred(v)]

    def of_shape(self, shape: tuple) -> list[str]:
        return self.names(lambda v: v.ty.kind == "num" and v.ty.shape == shape)

    def ints(self) -> list[str]:
        return self.names(lambda v: v.ty.kind == "int")

    def array_shapes(self) -> list[tuple]:
        return sorted({v.ty.shape for v in self.vars.values() if v.ty.is_array})
