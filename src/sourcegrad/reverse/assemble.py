"""Turn the annotated tree and the save plan into the primal sweep and the adjoint sweep.

The primal sweep is the user's (canonical) code plus the saving lines; the adjoint sweep walks
it backwards, each block under a comment naming the user's file:line and the line itself.
"""

from __future__ import annotations

import ast

import gast

from ..analysis.definedness import upward_exposed
from ..emit import comment
from ..errors import Origin
from ..gastutil import assign, clone, const, load, store
from .nodes import Branch, Loop, Node, Step
from .saving import Save, SavePlan


def _method_call(obj: str, method: str, *args: gast.expr) -> gast.Call:
    func = gast.Attribute(value=load(obj), attr=method, ctx=gast.Load())
    return gast.Call(func=func, args=list(args), keywords=[])


def _push(stack: str, var: str) -> gast.stmt:
    return gast.Expr(value=_method_call(stack, "append", load(var)))


def _pop(stack: str) -> gast.Call:
    return _method_call(stack, "pop")


def _increment(name: str) -> gast.stmt:
    return gast.AugAssign(target=store(name), op=gast.Add(), value=const(1))


def _at_end(stmts: list[gast.stmt], extra: list[gast.stmt]) -> list[gast.stmt]:
    """`stmts + extra`, unless `stmts` ends in a break (which already ran `extra` first)."""
    if stmts and isinstance(stmts[-1], gast.Break):
        return stmts
    return stmts + extra


def _line(node: Node) -> int | None:
    return node.origin.lineno if node.origin else None


def _origin_text(origin: Origin | None) -> str:
    if origin is None:
        return ""
    return f"{origin.short}  {origin.line_text().strip()}"


def _call(name: str, *args: gast.expr) -> gast.stmt:
    return gast.Expr(value=gast.Call(func=load(name), args=list(args), keywords=[]))


def _names_dict(values: dict[str, str]) -> gast.Dict:
    """`{'x_prev': x, ...}`: what checked mode snapshots or compares, by the name read."""
    keys = sorted(values)
    return gast.Dict(keys=[const(k) for k in keys], values=[load(values[k]) for k in keys])


class Assembler:
    """`checked`: add checked mode's snapshots to the primal and comparisons to the adjoint
    (runtime/checked.py), for each statement whose adjoint block reads primal values."""

    def __init__(self, plan: SavePlan, checked: bool = False):
        self.plan = plan
        self.checked = checked

    # -- primal sweep -------------------------------------------------------------------------
    def primal(self, nodes: list[Node], on_break: list[gast.stmt] = ()) -> list[gast.stmt]:
        """The primal of `nodes`; `on_break`: the pushes a `break` must not skip."""
        out: list[gast.stmt] = []
        for node in nodes:
            if isinstance(node, Step):
                for save in self.plan.saves.get(id(node), []):
                    if node.undo is None:
                        out.append(self._save_line(save, node))
                if isinstance(node.primal, gast.Break):
                    out.extend(on_break)
                out.extend(self._checked_primal(node))
            elif isinstance(node, Branch):
                body = self._arm(node, "body", on_break)
                out.append(gast.If(test=node.stmt.test, body=body or [gast.Pass()],
                                   orelse=self._arm(node, "orelse", on_break)))
            else:
                out.extend(self._primal_loop(node))
        return out

    def _checked_primal(self, node: Step) -> list[gast.stmt]:
        """The statement, with checked mode's snapshots of what its adjoint block reads:
        variables it overwrites (read as `x_prev`) before it, the others after it."""
        reads = self._checked_reads(node)
        if not self.checked or not reads:
            return [node.primal]
        where = const(self._where(node))
        prev_of = {prev: var for var, prev in node.prev_names.items()}
        before = {name: prev_of[name] for name in reads if name in prev_of}
        after = {name: name for name in reads if name not in prev_of}
        out = [_call("checked_before", where, _names_dict(before))] if before else []
        out.append(node.primal)
        out.append(_call("checked_after", clone(where), _names_dict(after),
                         const(bool(before))))
        return out

    def _checked_reads(self, node: Step) -> set[str]:
        """The primal values the adjoint block of `node` reads."""
        if not node.adjoint:
            return set()
        primal = node.reads_before | node.reads_after | set(node.prev_names.values())
        return upward_exposed(node.adjoint) & primal

    def _where(self, node: Step) -> str:
        primal = ast.fix_missing_locations(gast.gast_to_ast(node.primal))
        statement = ast.unparse(primal).splitlines()[0]
        origin = f"{node.origin.short} " if node.origin else ""
        return f"{origin}{statement}"

    def _arm(self, node: Branch, arm: str, on_break: list[gast.stmt]) -> list[gast.stmt]:
        pushes = self._pushes(self.plan.arm_locals.get((id(node), arm), []))
        stmts = self.primal(getattr(node, arm), pushes + list(on_break))
        return _at_end(stmts, pushes)

    def _pushes(self, names: list[str]) -> list[gast.stmt]:
        return [_push(self.plan.stacks[v], v) for v in names]

    def _save_line(self, save: Save, node: Step | None = None) -> gast.stmt:
        value = clone(node.save_value) if node is not None and node.writes == save.var \
            else load(save.var)
        if save.stack:
            return gast.Expr(value=_method_call(save.stack, "append", value))
        return assign(save.prev, value)

    def _primal_loop(self, node: Loop) -> list[gast.stmt]:
        out = []
        target_save = self.plan.target_saves.get(id(node))
        if target_save:
            out.append(self._save_line(target_save))
        pushes = self._pushes(self.plan.loop_locals.get(id(node), []))
        body = _at_end(self.primal(node.body, pushes), pushes)
        if node.trips:
            out.append(assign(node.trips, const(0)))
            body.insert(0, _increment(node.trips))
        stmt = node.stmt
        if isinstance(stmt, gast.For):
            loop = gast.For(target=stmt.target, iter=stmt.iter, body=body or [gast.Pass()],
                            orelse=[], type_comment=None)
        else:
            loop = gast.While(test=stmt.test, body=body or [gast.Pass()], orelse=[])
        out.append(loop)
        return out

    # -- adjoint sweep --------------------------------------------------------------------------
    def adjoint(self, nodes: list[Node], line: int | None = None) -> list[gast.stmt]:
        """The reversed `nodes`, a comment above each block from another user line than the
        previous one (`line`: the line of the construct they sit in)."""
        out: list[gast.stmt] = []
        last_line = line
        for node in reversed(nodes):
            if isinstance(node, Step):
                block = self._adjoint_step(node)
            elif isinstance(node, Branch):
                block = self._adjoint_branch(node)
            else:
                block = self._adjoint_loop(node)
            if not block:
                continue
            lineno = node.origin.lineno if node.origin else None
            if lineno is not None and lineno != last_line:
                text = _origin_text(node.origin)
                if isinstance(node, Loop):
                    text += "  (iterations in reverse)"
                out.append(comment(text, blank_before=bool(out)))
            last_line = lineno if isinstance(node, Step) else None
            out.extend(block)
        return out

    def _adjoint_step(self, node: Step) -> list[gast.stmt]:
        saves = self.plan.saves.get(id(node), [])
        before, after = [], []
        for save in saves:
            if node.undo is not None:  # `xs.pop()` takes back `xs.append(v)`
                after.append(node.undo)
                continue
            if node.writes == save.var:  # put back the part the write overwrote
                part = gast.Subscript(value=load(save.var), slice=clone(node.primal.targets[0]
                                                                        .slice), ctx=gast.Store())
                after.append(assign(part, _pop(save.stack) if save.stack else load(save.prev)))
                continue
            prev = node.prev_names.get(save.var)
            if save.stack and prev:
                before.append(assign(prev, _pop(save.stack)))
                if save.restore:
                    after.append(assign(save.var, load(prev)))
            elif save.stack:
                after.append(assign(save.var, _pop(save.stack)))
            elif save.restore:
                after.append(assign(save.var, load(save.prev)))
        if not node.adjoint and not before and not after:
            return []
        reads = self._checked_reads(node)
        if self.checked and reads:
            check = _call("checked_compare", const(self._where(node)),
                          _names_dict({name: name for name in reads}))
            before.append(check)
        return before + node.adjoint + after

    def _adjoint_branch(self, node: Branch) -> list[gast.stmt]:
        body = self._pops(self.plan.arm_locals.get((id(node), "body"), []))
        body += self.adjoint(node.body, _line(node)) + node.body_inits
        orelse = self._pops(self.plan.arm_locals.get((id(node), "orelse"), []))
        orelse += self.adjoint(node.orelse, _line(node)) + node.orelse_inits
        if not body and not orelse:
            return []
        if not body:
            test = gast.UnaryOp(op=gast.Not(), operand=node.stmt.test)
            return [gast.If(test=test, body=orelse, orelse=[])]
        return [gast.If(test=node.stmt.test, body=body, orelse=orelse)]

    def _pops(self, names: list[str]) -> list[gast.stmt]:
        return [assign(v, _pop(self.plan.stacks[v])) for v in names]

    def _adjoint_loop(self, node: Loop) -> list[gast.stmt]:
        pops = self._pops(self.plan.loop_locals.get(id(node), []))
        pops += [clone(step.primal) for step in self.plan.recompute.get(id(node), [])]
        body = self.adjoint(node.body, _line(node)) + node.end_inits
        out = list(node.pre_inits)
        if not body and not pops:
            return out
        stmt = node.stmt
        if isinstance(stmt, gast.For):
            iterations = stmt.iter
            if node.trips:
                iterations = gast.Subscript(value=iterations, slice=gast.Slice(
                    None, load(node.trips), None), ctx=gast.Load())
            reversed_iter = gast.Call(func=load("reversed"), args=[iterations], keywords=[])
            loop = gast.For(target=stmt.target, iter=reversed_iter, body=pops + body, orelse=[],
                            type_comment=None)
        else:
            count = gast.Call(func=load("range"), args=[load(node.trips)], keywords=[])
            loop = gast.For(target=store(node.counter), iter=count, body=pops + body, orelse=[],
                            type_comment=None)
        out.append(loop)
        target_save = self.plan.target_saves.get(id(node))
        if target_save:
            value = _pop(target_save.stack) if target_save.stack else load(target_save.prev)
            out.append(assign(target_save.var, value))
        return out
