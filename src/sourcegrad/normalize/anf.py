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
    branch is evaluated only when Python would evaluate it;
  - `np.r_[a, 0:3]` and `np.c_[a, b]` became calls (`index_concatenate(np.r_, a, slice(0, 3))`)
    whose rule joins the gradients back.
Temporaries are named for what they hold (`w_times_h = w * h`), never clashing with user names.
Example: `y = np.tanh(w * h) + 1` becomes `w_times_h = w * h; tanh_w_times_h = np.tanh(...)`.
"""

from __future__ import annotations

import gast
import numpy as np

from ..errors import UnsupportedSyntaxError
from ..gastutil import (
    assign,
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
from ..runtime import index_concatenate
from .anf_calls import CallLowering
from .anf_loops import LoopLowering, target_as_load
from .naming import describe


def _fold_constant(node: gast.expr) -> gast.expr:
    """`-1` parses as UnaryOp(USub, 1): fold it so negative constants are atoms."""
    if (isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd))
            and isinstance(node.operand, gast.Constant)
            and isinstance(node.operand.value, (int, float))):
        value = node.operand.value
        return with_origin(const(-value if isinstance(node.op, gast.USub) else value), node)
    return node


class ANF(LoopLowering, CallLowering):
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
                _copy_marks(node, final)
        for other in others:
            self.emit(assign(other, target_as_load(target)))

    def _store(self, node: gast.Assign, target: gast.Subscript) -> None:
        """`y[index] = value`: the value an atom, the index cheap and pure."""
        value = self.atom(node.value)
        index = self.index(target.slice)
        store_target = gast.Subscript(value=store(target.value.id), slice=index, ctx=gast.Store())
        final = assign(store_target, value)
        _copy_marks(node, final)
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

    def visit_Expr(self, node: gast.Expr) -> None:
        if isinstance(node.value, gast.Constant):
            return  # a docstring or a bare constant does nothing
        call = node.value
        if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and \
                call.func.attr == "append" and len(call.args) == 1:
            lowered = gast.Expr(value=gast.Call(func=call.func, args=[self.atom(call.args[0])],
                                                keywords=call.keywords))
            _copy_marks(node, lowered)
            node = lowered
        self.emit(node)

    def visit_Pass(self, node: gast.Pass) -> None:
        return

    # -- expressions -------------------------------------------------------------------------
    def emit(self, stmt: gast.stmt) -> None:
        receivers = getattr(self.stmt, "method_receivers", None)
        call = getattr(stmt, "value", None)
        if receivers and isinstance(stmt, (gast.Assign, gast.Expr)) and isinstance(
                call, gast.Call) and isinstance(call.func, gast.Attribute) and isinstance(
                call.func.value, gast.Name) and call.func.value.id in receivers:
            stmt.receiver_sharers = receivers[call.func.value.id]  # `m.step(x)`
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
        if isinstance(node, gast.Subscript) and self._is_index_concatenator(node.value):
            if isinstance(node.slice, gast.Tuple) and len(node.slice.elts) == 1:
                raise UnsupportedSyntaxError(  # np.mgrid[0:1:3j,] is 2-d, np.mgrid[0:1:3j] 1-d
                    "an index trick (np.r_, np.c_, np.mgrid, np.ogrid) indexed with a tuple of "
                    "one item", getattr(self.stmt, "origin", None),
                    hint="Drop the trailing comma: np.mgrid[0:1:3j].")
            return self._call(_index_concatenation(node))
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
        direct = isinstance(target, gast.Name) and target.id not in loaded_names(node)
        name = target.id if direct else self.namer.fresh(  # `ys = [f(y) for y in ys]`
            target.id if isinstance(target, gast.Name) else "items")
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
        if not direct:
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

    def _is_index_concatenator(self, node: gast.expr) -> bool:
        """`np.r_` or `np.c_`, which join the arrays they are indexed with (`np.r_[a, 0:3]`),
        or `np.mgrid`, `np.ogrid`, which make arrays of the slices' bounds (`np.mgrid[0:x:5j]`):
        as calls, activity sees those bounds. The name of the call they become is made known
        to the namespace here."""
        joiner = self.calls.resolve(node)  # nothing for a local name or attribute
        if not any(joiner is known for known in (np.r_, np.c_, np.mgrid, np.ogrid)):
            return False
        namespace = self.calls.namespace
        if namespace.globals.get("index_concatenate", index_concatenate) is not index_concatenate:
            raise UnsupportedSyntaxError(
                "np.r_[...] and np.c_[...] are differentiated as calls of sourcegrad's "
                "index_concatenate, a name this module gives to something else",
                getattr(self.stmt, "origin", None), hint="Rename index_concatenate.")
        namespace.closure.setdefault("index_concatenate", index_concatenate)
        return True

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


def _index_concatenation(node: gast.Subscript) -> gast.Call:
    """`np.r_[a, 0:3]` as `index_concatenate(np.r_, a, slice(0, 3))`: a call of a function with
    a rule, so activity sees the operands and the derivative joins their gradients back."""
    key = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
    items = [_slice_call(item) if isinstance(item, gast.Slice) else item for item in key]
    return gast.Call(func=load("index_concatenate"), args=[node.value, *items], keywords=[])


def _slice_call(item: gast.Slice) -> gast.Call:
    """`0:3` as `slice(0, 3)`, `0:1:5j` as `slice(0, 1, 5j)`: a slice as a call's argument."""
    parts = [item.lower, item.upper] + ([item.step] if item.step is not None else [])
    return gast.Call(func=load("slice"), args=[const(None) if p is None else p for p in parts],
                     keywords=[])


# What normalize/augassign.py notes on a statement that changes what other names share; the
# statement ANF emits last for it carries the notes on.
_SHARING_MARKS = ("inplace_aliases", "followed_aliases", "followed_views", "alias_rebind",
                  "argument_sharers", "held_by", "holds")


def _copy_marks(source: gast.stmt, target: gast.stmt) -> None:
    for mark in _SHARING_MARKS:
        if hasattr(source, mark):
            setattr(target, mark, getattr(source, mark))


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


def to_anf(tree: gast.FunctionDef, namer: Namer, local_names: set[str],
           calls) -> gast.FunctionDef:
    tree.body = ANF(namer, local_names, calls).block(tree.body)
    return tree
