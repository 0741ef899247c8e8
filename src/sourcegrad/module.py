"""Build the emitted module: the requested derivative plus one forward/backward pair for each
user function it calls, with the imports and names they need.

A call of a user function inside a derivative becomes a call of that function's own forward
function (which returns its result and a tape of what its adjoint needs) and, in the adjoint,
of its backward function. Each pair is emitted once per set of active parameters, so recursion
and repeated helpers fall out naturally.
"""

from __future__ import annotations

import builtins
import inspect
from dataclasses import dataclass, field
from typing import Any

import gast

from . import runtime
from .analysis.abstract import without_shapes
from .analysis.definedness import upward_exposed
from .emit import comment, compile_module, docstring, to_source
from .errors import InternalError, Origin, UnsupportedSyntaxError, UserCodeError
from .gastutil import assign, const, load, loaded_names, store
from .names import Namer
from .normalize.closures import LiftedFunction
from .optimize import propagate_copies
from .options import DEFAULT, BuildOptions
from .pipeline import Canonical, Sweeps, canonicalize, differentiate, top_level_prev_names
from .runtime import __all__ as RUNTIME_NAMES

_IMPORTABLE = {"np": "numpy", "math": "math"}


@dataclass
class EmittedModule:
    source: str
    namespace: dict[str, Any]
    entry: str
    dependencies: list[tuple[dict, str, Any]] = field(default_factory=list)


def _zeros_or_adjoint(sweeps: Sweeps, param: str) -> gast.expr:
    if param in sweeps.final.init:
        return load(sweeps.namer.adjoint(param))
    return gast.Call(func=load("zeros_like"), args=[load(param)], keywords=[])


def _returned(values: list[gast.expr]) -> gast.expr:
    return values[0] if len(values) == 1 else gast.Tuple(elts=values, ctx=gast.Load())


def _runtime_call(name: str) -> gast.stmt:
    return gast.Expr(value=gast.Call(func=load(name), args=[], keywords=[]))


def _stack_inits(sweeps: Sweeps) -> list[gast.stmt]:
    return [assign(stack, gast.List(elts=[], ctx=gast.Load()))
            for stack in sorted(sweeps.plan.stacks.values())]


def _function(name: str, params: list[str], body: list[gast.stmt],
              defaults: list[gast.expr] = ()) -> gast.FunctionDef:
    args = gast.arguments(args=[gast.Name(id=p, ctx=gast.Param(), annotation=None,
                                          type_comment=None) for p in params],
                          posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[],
                          kwarg=None, defaults=list(defaults))
    return gast.FunctionDef(name=name, args=args, body=body, decorator_list=[], returns=None,
                            type_comment=None, type_params=[])


class ModuleBuilder:
    def __init__(self, options: BuildOptions = DEFAULT):
        self.options = options
        self.functions: list[gast.FunctionDef] = []
        self.function_names = Namer()
        self.requests: dict[tuple[Any, tuple[str, ...]], tuple[str, str]] = {}
        self.pending: list[tuple[Any, tuple[str, ...], str, str]] = []
        self.user_names: dict[str, Any] = {}
        self.dependencies: list[tuple[dict, str, Any]] = []
        self.canonical: dict[Any, Canonical] = {}

    # -- callbacks the differentiator uses ---------------------------------------------------
    def request_callee(self, fn: Any, active: tuple[str, ...], args: tuple,
                       call_site: Origin | None = None) -> tuple[str, str]:
        """Names of fn's forward/backward pair for these active parameters and argument
        shapes, queued for emission the first time they are asked for."""
        key = (fn, active, args)
        if key not in self.requests:
            # `h[g]`, a copy of h with the nested function g fixed, becomes `h_g_forward`
            qualname = fn.__qualname__ if "<lambda>" not in fn.__qualname__ else _qualname(
                fn, self.canonical_of(fn))
            stem = qualname.replace("<locals>.", "").replace("[", ".").rstrip("]")
            forward = self.function_names.fresh(f"{stem}_forward")
            backward = self.function_names.fresh(f"{stem}_backward")
            self.requests[key] = (forward, backward)
            self.pending.append((fn, active, args, forward, backward, call_site))
        return self.requests[key]

    def bind_value(self, value: Any, hint: str) -> str:
        for name, existing in self.user_names.items():
            if existing is value:
                return name
        name = self.function_names.fresh(hint)
        self.user_names[name] = value
        return name

    def bind_global(self, name: str, value: Any) -> None:
        """A name a rule template uses: numpy, math and the runtime come from the header."""
        if name in _IMPORTABLE or name in RUNTIME_NAMES or hasattr(builtins, name):
            return
        if name in self.user_names and self.user_names[name] is not value:
            raise InternalError(f"a derivative rule uses the name {name}, which the "
                                "differentiated code uses for something else; rename one")
        self.user_names[name] = value

    # -- building ---------------------------------------------------------------------------
    def canonical_of(self, fn: Any) -> Canonical:
        if fn not in self.canonical:
            self.canonical[fn] = canonicalize(fn)
            self._record_globals(self.canonical[fn])
        return self.canonical[fn]

    def _differentiate(self, fn: Any, active: set[str], args: tuple) -> tuple[Canonical, Sweeps]:
        canonical = self.canonical_of(fn)
        if not self.options.specialize:
            args = tuple(without_shapes(arg) for arg in args)
        params = dict(zip(canonical.params, args, strict=True))
        return canonical, differentiate(canonical, set(canonical.param_names(list(active))),
                                        params, self.request_callee, self.bind_value,
                                        self.bind_global, self.options)

    def _optimized(self, function: gast.FunctionDef, sweeps: Sweeps) -> gast.FunctionDef:
        if not self.options.optimize:
            return function
        return propagate_copies(function, sweeps.namer.is_adjoint)

    def add_gradient(self, fn: Any, wrt: list[str], args: tuple) -> str:
        """The combined function: primal sweep, adjoint sweep, return value and gradient."""
        canonical, sweeps = self._differentiate(fn, set(wrt), args)
        name = self.function_names.fresh(f"d{canonical.parsed.name}_d" + "_d".join(
            canonical.param_names(wrt)))
        where = f"{_qualname(fn, canonical)} ({canonical.parsed.origin.short})"
        body = [docstring(f"Value and gradient of {where} with respect to {', '.join(wrt)}.")]
        if self.options.checked:
            body.append(_runtime_call("checked_begin"))
        body += _stack_inits(sweeps) + sweeps.primal
        grads = _returned([_zeros_or_adjoint(sweeps, p) for p in canonical.param_names(wrt)])
        value = self._capture_output(sweeps, body)
        body += sweeps.adjoint
        if self.options.checked:
            body.append(_runtime_call("checked_end"))
        body.append(gast.Return(value=gast.Tuple(elts=[value, grads], ctx=gast.Load())))
        function = _function(name, canonical.params + [sweeps.seed], body, [const(1.0)])
        self.functions.append(self._optimized(function, sweeps))
        self._drain()
        return name

    def add_split(self, fn: Any, active: tuple[str, ...], args: tuple) -> tuple[str, str]:
        names = self.request_callee(fn, active, args)
        self._drain()
        return names

    def _capture_output(self, sweeps: Sweeps, body: list[gast.stmt]) -> gast.expr:
        """The output's value, kept aside if the adjoint sweep will restore that variable."""
        output = sweeps.output
        if isinstance(output, gast.Name) and output.id in _assigned_in(sweeps.adjoint):
            value = sweeps.namer.fresh("value")
            body.append(assign(value, load(output.id)))
            return load(value)
        return output

    def _drain(self) -> None:
        while self.pending:
            fn, active, args, forward, backward, call_site = self.pending.pop(0)
            try:
                canonical, sweeps = self._differentiate(fn, set(active), args)
            except UserCodeError as error:
                if call_site is not None:  # say which call of the user's led there
                    error.args = (f"{error.args[0]}\n  called from:\n{call_site.render()}",)
                raise
            self.functions.extend(self._split(canonical, sweeps, active, forward, backward))

    def _split(self, canonical: Canonical, sweeps: Sweeps, active: tuple[str, ...],
               forward: str, backward: str) -> list[gast.FunctionDef]:
        fn = canonical.fn
        returned = gast.Return(value=_returned([_zeros_or_adjoint(sweeps, p)
                                                for p in canonical.param_names(active)]))
        tape_names = self._tape(sweeps, sweeps.adjoint + [returned])
        where = f"{_qualname(fn, canonical)} ({canonical.parsed.origin.short})"
        tape = gast.Tuple(elts=[load(n) for n in tape_names], ctx=gast.Load())
        forward_body = [docstring(f"Run {where} and keep what its adjoint needs.")]
        forward_body += self._undefined_guards(canonical, sweeps, tape_names)
        forward_body += _stack_inits(sweeps) + sweeps.primal
        result = gast.Tuple(elts=[sweeps.output, tape], ctx=gast.Load())
        forward_body.append(gast.Return(value=result))
        tape_var = sweeps.namer.fresh("tape")
        backward_body = [docstring(f"Adjoint of {where} with respect to {', '.join(active)}.")]
        if tape_names:
            backward_body.append(assign(gast.Tuple(elts=[store(n) for n in tape_names],
                                                   ctx=gast.Store()), load(tape_var)))
        backward_body += sweeps.adjoint + [returned]
        backward_function = _function(backward, [tape_var, sweeps.seed], backward_body)
        return [_function(forward, canonical.params, forward_body),
                self._optimized(backward_function, sweeps)]

    def _tape(self, sweeps: Sweeps, adjoint: list[gast.stmt]) -> list[str]:
        """Primal names the adjoint sweep reads before it binds them, in order of first use."""
        known = sweeps.local_names | set(sweeps.plan.stacks.values())
        known |= {s.prev for saves in sweeps.plan.saves.values() for s in saves if s.prev}
        known |= {s.prev for s in sweeps.plan.target_saves.values() if s.prev}
        needed = upward_exposed(adjoint) & known
        seen: list[str] = []
        for stmt in adjoint:
            for node in gast.walk(stmt):
                if isinstance(node, gast.Name) and node.id in needed and node.id not in seen:
                    seen.append(node.id)
        return seen

    def _undefined_guards(self, canonical: Canonical, sweeps: Sweeps,
                          tape_names: list[str]) -> list[gast.stmt]:
        """Names bound only on some paths start as None, so the tape can always be built."""
        sure = set(canonical.params) | set(sweeps.plan.stacks.values())
        sure |= top_level_prev_names(sweeps.nodes, sweeps.plan)
        sure |= _surely_bound(sweeps.primal)
        return [assign(n, const(None)) for n in tape_names if n not in sure]

    def _record_globals(self, canonical: Canonical) -> None:
        """Every global the function's code names becomes a name of the emitted module."""
        namespace = canonical.parsed.namespace
        for name in sorted(loaded_names(canonical.tree) - canonical.local_names):
            value = namespace.lookup(name)
            if value is getattr(builtins, name, object()) or name in _IMPORTABLE and value is \
                    __import__(_IMPORTABLE[name]):
                continue
            if name in RUNTIME_NAMES and value is getattr(runtime, name, None):
                continue  # a runtime helper the normalized code calls (dict_key)
            if name in RUNTIME_NAMES or name in _IMPORTABLE:
                raise UnsupportedSyntaxError(
                    f"the global name {name} means something else in {canonical.parsed.name} "
                    "than in the code sourcegrad emits", canonical.parsed.origin,
                    hint=f"Rename {name} in your module, or import it under another name.")
            emitted = name
            if name in self.user_names and self.user_names[name] is not value:
                emitted = self._renamed_global(canonical, name, value)
            self.user_names[emitted] = value
            source_dict = canonical.parsed.namespace.closure if name in \
                canonical.parsed.namespace.closure else canonical.parsed.namespace.globals
            self.dependencies.append((source_dict, name, value))
            source = getattr(value, "source", None)  # a copy of a module-level function
            if isinstance(value, LiftedFunction) and inspect.isfunction(source) and \
                    source.__globals__.get(source.__name__) is source:
                self.dependencies.append((source.__globals__, source.__name__, source))

    def _renamed_global(self, canonical: Canonical, name: str, value: Any) -> str:
        """Two functions of the module use one global name for different objects (stacked
        decorators each calling its own `f`, two closures of one factory): in this function's
        tree it becomes a fresh name (`f_2`), bound to its own object."""
        fresh = self.function_names.fresh(name)
        while fresh in self.user_names:
            fresh = self.function_names.fresh(name)
        for node in gast.walk(canonical.tree):
            if isinstance(node, gast.Name) and node.id == name:
                node.id = fresh
        canonical.parsed.namespace.closure[fresh] = value
        return fresh

    # -- the module ----------------------------------------------------------------------------
    def finish(self, entry: str, label: str) -> EmittedModule:
        module = gast.Module(body=self._header() + self.functions, type_ignores=[])
        source = to_source(module)
        namespace: dict[str, Any] = dict(self.user_names)
        compile_module(source, label, namespace)
        return EmittedModule(source, namespace, entry, self.dependencies)

    def _header(self) -> list[gast.stmt]:
        used = set()
        for fn in self.functions:
            used |= loaded_names(fn)
        header = [comment("Generated by sourcegrad (reverse mode). Plain NumPy: read it, edit it.")]
        header += [gast.Import(names=[gast.alias(name="numpy", asname="np")])]
        if "math" in used and "math" not in self.user_names:
            header.append(gast.Import(names=[gast.alias(name="math", asname=None)]))
        runtime = sorted(used & set(RUNTIME_NAMES))
        if runtime:
            header.append(gast.ImportFrom(module="sourcegrad.runtime", names=[
                gast.alias(name=n, asname=None) for n in runtime], level=0))
        modules, others = self._user_imports(used)
        header += modules
        if others:
            header.append(comment("Supplied from the user's modules when loaded: "
                                  + ", ".join(others)))
        return header

    def _user_imports(self, used: set[str]) -> tuple[list[gast.stmt], list[str]]:
        imports, others = [], []
        for name in sorted(set(self.user_names) & used):
            value = self.user_names[name]
            if inspect.ismodule(value):
                imports.append(gast.Import(names=[gast.alias(
                    name=value.__name__, asname=None if value.__name__ == name else name)]))
            else:
                others.append(name)
        return imports, others


def _assigned_in(stmts: list[gast.stmt]) -> set[str]:
    names = set()
    for stmt in stmts:
        for node in gast.walk(stmt):
            if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
                names.add(node.id)
    return names


def _surely_bound(stmts: list[gast.stmt]) -> set[str]:
    names: set[str] = set()
    for stmt in stmts:
        if isinstance(stmt, gast.Assign):
            for node in gast.walk(stmt.targets[0]):
                if isinstance(node, gast.Name):
                    names.add(node.id)
        elif isinstance(stmt, gast.If):
            names |= _surely_bound(stmt.body) & _surely_bound(stmt.orelse)
    return names


def _qualname(fn: Any, canonical: Canonical) -> str:
    """`fn`'s qualified name, a lambda's by what the user bound it to (parse.py)."""
    return fn.__qualname__.replace("<lambda>", canonical.parsed.name)
