"""Names for the temporaries ANF introduces, read off what they compute: `w_times_h`,
`exp_x`, `x_T`; long expressions get a short word (`total`, `product`)."""

from __future__ import annotations

import gast

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
    if isinstance(node, (gast.ListComp, gast.GeneratorExp)):
        return f"{_describe_short(node.elt)}_items"  # [f(x) for x in xs]: f_items
    if isinstance(node, gast.DictComp):
        return "mapping"
    return "tmp"

