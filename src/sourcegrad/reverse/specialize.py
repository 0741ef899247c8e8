"""Rewrite runtime helpers into plain NumPy where the shapes are known.

Rules are written once for every shape (`unbroadcast(d[z] * y, x)`); at a call site whose
operand shapes the shape facts fix, the generic helper becomes what a person would write:
`dz * y` when nothing was broadcast, `np.sum(g, axis=0)` when it was, `g @ b.T` for a matrix
product, `0.0` or `np.zeros((3,))` for a zero adjoint. Besides reading better, the rewritten
code no longer reads operands only for their shape, so fewer values need saving.
"""

from __future__ import annotations

import gast
import numpy as np

from ..analysis.abstract import Shape, broadcast, known, matmul_shape
from ..gastutil import const, load

_NUMPY_ROOT = "np"


def _np(attr: str) -> gast.Attribute:
    return gast.Attribute(value=load(_NUMPY_ROOT), attr=attr, ctx=gast.Load())


def _call(func: gast.expr, *args: gast.expr, **keywords: gast.expr) -> gast.Call:
    return gast.Call(func=func, args=list(args),
                     keywords=[gast.keyword(arg=k, value=v) for k, v in keywords.items()])


def _axes(axes: tuple[int, ...]) -> gast.expr:
    if len(axes) == 1:
        return const(axes[0])
    return gast.Tuple(elts=[const(a) for a in axes], ctx=gast.Load())


def _shape_literal(shape: tuple[int, ...]) -> gast.expr:
    return gast.Tuple(elts=[const(n) for n in shape], ctx=gast.Load())


def _transpose(node: gast.expr) -> gast.expr:
    return gast.Attribute(value=node, attr="T", ctx=gast.Load())


def _matmul(a: gast.expr, b: gast.expr) -> gast.expr:
    return gast.BinOp(left=a, op=gast.MatMult(), right=b)


def _mul(a: gast.expr, b: gast.expr) -> gast.expr:
    return gast.BinOp(left=a, op=gast.Mult(), right=b)


class Specializer(gast.NodeTransformer):
    """`shapes` maps the names of one adjoint block to their shapes (when known)."""

    def __init__(self, shapes: dict[str, Shape]):
        self.shapes = shapes

    # -- shapes of expressions ---------------------------------------------------------------
    def shape(self, node: gast.expr) -> Shape:
        if isinstance(node, gast.Name):
            return self.shapes.get(node.id)
        if isinstance(node, gast.Constant):
            return () if isinstance(node.value, (int, float)) else None
        if isinstance(node, gast.BinOp):
            left, right = self.shape(node.left), self.shape(node.right)
            if isinstance(node.op, gast.MatMult):
                return matmul_shape(left, right)
            return broadcast(left, right)
        if isinstance(node, gast.UnaryOp):
            return self.shape(node.operand)
        if isinstance(node, gast.Compare):
            return broadcast(*[self.shape(n) for n in [node.left] + node.comparators])
        if isinstance(node, gast.Call):
            return self._call_shape(node)
        if isinstance(node, gast.Attribute) and node.attr == "T":
            inner = self.shape(node.value)
            return None if inner is None else inner[::-1]
        return None

    def _call_shape(self, node: gast.Call) -> Shape:
        func = node.func
        if not (isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name)
                and func.value.id == _NUMPY_ROOT):
            return None
        fn = getattr(np, func.attr, None)
        elementwise = isinstance(fn, np.ufunc) and fn.signature is None
        if elementwise and len(node.args) == fn.nin and not node.keywords:
            return broadcast(*[self.shape(a) for a in node.args])
        if fn is np.sum and len(node.args) == 1 and not node.keywords:
            return ()
        if fn is np.zeros and len(node.args) == 1 and isinstance(node.args[0], gast.Tuple):
            return tuple(getattr(e, "value", None) for e in node.args[0].elts)
        return None

    # -- rewrites, one per runtime helper --------------------------------------------------------
    def visit_Call(self, node: gast.Call) -> gast.expr:
        self.generic_visit(node)
        if isinstance(node.func, gast.Name) and not node.keywords or isinstance(
                node.func, gast.Name) and node.func.id == "expand_reduced":
            rewrite = getattr(self, "_" + node.func.id, None)
            if rewrite is not None:
                return rewrite(node)
        return node

    def _unbroadcast(self, node: gast.Call) -> gast.expr:
        g, x = node.args
        gs, xs = self.shape(g), self.shape(x)
        if gs is None or xs is None or len(gs) < len(xs):
            return node
        if gs == xs and known(gs):
            return g
        if xs == ():
            return _call(_np("sum"), g)
        lead = len(gs) - len(xs)
        if not known(xs) or any(n == 1 and gs[lead + i] is None for i, n in enumerate(xs)):
            return node  # whether an axis was broadcast is decided at run time
        inner = tuple(lead + i for i, n in enumerate(xs) if n == 1 and gs[lead + i] != 1)
        if not inner:
            return _call(_np("sum"), g, axis=_axes(tuple(range(lead))))
        if not lead:
            return _call(_np("sum"), g, axis=_axes(inner), keepdims=const(True))
        return node

    def _expand_reduced(self, node: gast.Call) -> gast.expr:
        g, a = node.args[:2]
        keywords = {kw.arg: kw.value for kw in node.keywords}
        gs, shape = self.shape(g), self.shape(a)
        if not known(shape) or gs is None:
            return node
        if gs == shape:
            return g
        axis = keywords.get("axis")
        keepdims = keywords.get("keepdims")
        if axis is not None and not (isinstance(keepdims, gast.Constant) and keepdims.value):
            g = _call(_np("expand_dims"), g, axis)
        return _call(_np("broadcast_to"), g, _shape_literal(shape))

    def _zeros_like(self, node: gast.Call) -> gast.expr:
        shape = self.shape(node.args[0])
        if not known(shape):
            return node
        return const(0.0) if shape == () else _call(_np("zeros"), _shape_literal(shape))

    def _reduced_count(self, node: gast.Call) -> gast.expr:
        a, y = (self.shape(arg) for arg in node.args)
        if not known(a) or not known(y):
            return node
        return const(int(np.prod(a, dtype=int)) // max(int(np.prod(y, dtype=int)), 1))

    def _untranspose(self, node: gast.Call) -> gast.expr:
        if len(node.args) == 1:
            return _transpose(node.args[0])
        return node

    def _matmul_left(self, node: gast.Call) -> gast.expr:
        g, a, b = node.args
        dims = self._dims(a, b)
        return {(2, 2): lambda: _matmul(g, _transpose(b)),
                (2, 1): lambda: _call(_np("outer"), g, b),
                (1, 2): lambda: _matmul(b, g),
                (1, 1): lambda: _mul(g, b)}.get(dims, lambda: node)()

    def _matmul_right(self, node: gast.Call) -> gast.expr:
        g, a, b = node.args
        dims = self._dims(a, b)
        return {(2, 2): lambda: _matmul(_transpose(a), g),
                (2, 1): lambda: _matmul(g, a),
                (1, 2): lambda: _call(_np("outer"), a, g),
                (1, 1): lambda: _mul(g, a)}.get(dims, lambda: node)()

    def _dot_left(self, node: gast.Call) -> gast.expr:
        g, a, b = node.args
        if self.shape(a) == () or self.shape(b) == ():
            return self._unbroadcast(_call(load("unbroadcast"), _mul(g, b), a))
        return self._matmul_left(node)

    def _dot_right(self, node: gast.Call) -> gast.expr:
        g, a, b = node.args
        if self.shape(a) == () or self.shape(b) == ():
            return self._unbroadcast(_call(load("unbroadcast"), _mul(g, a), b))
        return self._matmul_right(node)

    def _dims(self, a: gast.expr, b: gast.expr) -> tuple[int, int] | None:
        sa, sb = self.shape(a), self.shape(b)
        if sa is None or sb is None:
            return None
        return len(sa), len(sb)


def specialize(node: gast.expr, shapes: dict[str, Shape]) -> gast.expr:
    return Specializer(shapes).visit(node)
