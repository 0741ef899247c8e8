"""Reject the Python that sourcegrad cannot differentiate, with a message that says why.

Requires: a parsed function with origins.
Guarantees: no try/with/yield/await/global/nonlocal/class/nested def/lambda/comprehension/
del/import/match, no `else` on loops, no starred expressions; assignment targets are names,
tuples of names, or one write into an array named by a variable (`y[i] = v`, `y[:, j] += v`).
Everything a later pass meets is something it can handle.
Example: `try: ...` raises UnsupportedSyntaxError pointing at the `try` line.
"""

from __future__ import annotations

import gast

from ..errors import UnsupportedSyntaxError

_REASONS: dict[type, tuple[str, str]] = {
    gast.Try: ("try/except is not supported", "Move the error handling out of the function "
               "you differentiate, or check the condition with an if statement."),
    gast.With: ("with statements are not supported", "Move the context manager to the caller."),
    gast.AsyncFunctionDef: ("async functions are not supported", "Differentiate a plain def."),
    gast.Await: ("await is not supported", "Differentiate a plain def."),
    gast.Yield: ("generators (yield) are not supported", "Return a list or an array instead."),
    gast.YieldFrom: ("generators (yield from) are not supported",
                     "Return a list or an array instead."),
    gast.Global: ("global statements are not supported",
                  "Pass the value in as an argument and return the new value."),
    gast.Nonlocal: ("nonlocal statements are not supported",
                    "Pass the value in as an argument and return the new value."),
    gast.ClassDef: ("class definitions inside a differentiated function are not supported",
                    "Define the class at module level."),
    gast.FunctionDef: ("nested function definitions are not supported yet",
                       "Define the helper at module level and pass what it needs as arguments."),
    gast.Lambda: ("a lambda used here (not called, nor passed as a positional argument to a "
                  "function of yours) is not supported",
                  "Bind it to a name and call it or pass it to a function of yours, or define "
                  "a module-level function with def instead."),
    gast.SetComp: ("set comprehensions are not supported", "Write a for loop."),
    gast.Delete: ("del is not supported", "Leave the variable alone or reassign it."),
    gast.Import: ("imports inside a differentiated function are not supported",
                  "Import at module level."),
    gast.ImportFrom: ("imports inside a differentiated function are not supported",
                      "Import at module level."),
    gast.NamedExpr: ("assignment expressions (:=) are not supported",
                     "Assign on a line of its own."),
    gast.Set: ("set displays are not supported", "Use a tuple or a list."),
    gast.Raise: ("raise is not supported", "Check inputs before calling the differentiated "
                 "function."),
}
if hasattr(gast, "Match"):
    _REASONS[gast.Match] = ("match statements are not supported", "Use if/elif/else.")


def _fail(node: gast.AST, what: str, hint: str) -> None:
    raise UnsupportedSyntaxError(what, getattr(node, "origin", None), hint=hint)


def _check_stored_iterator(node: gast.Assign) -> None:
    """`g = (f(x) for x in xs)` or `m = map(f, xs)` is an iterator that a second reading finds
    empty; sourcegrad makes lists of them, so only a generator read where it is made is right."""
    value = node.value
    if isinstance(value, gast.GeneratorExp) or (
            isinstance(value, gast.Call) and isinstance(value.func, gast.Name)
            and value.func.id == "map"):
        _fail(node, "a generator or map object stored in a variable is not supported (it can "
              "be read only once)", "Make it a list: [f(x) for x in xs], list(map(f, xs)); "
              "or hand it straight to sum(...), np.stack(...).")


def _check_written_part(node: gast.AST, value: gast.expr) -> None:
    """What `...[i] = v` or `....attr = v` writes into: a name, an item or an attribute of
    one (`x`, `xs[k]`, `self.buf`, `self.layers[0].w`)."""
    while isinstance(value, (gast.Subscript, gast.Attribute)):
        value = value.value
    if not isinstance(value, gast.Name):
        _fail(node, "writing into the result of an expression is not supported",
              "Bind it to a name first: y = f(x); y[i] = v.")


def _check_target(node: gast.AST, target: gast.expr, top: bool = True) -> None:
    """Names, tuples of names, or one write `y[...] = v` (`y[...] += v`) standing alone."""
    if isinstance(target, gast.Name):
        return
    if isinstance(target, (gast.Tuple, gast.List)):
        for elt in target.elts:
            _check_target(node, elt, top=False)
        return
    alone = isinstance(node, gast.AugAssign) or (
        isinstance(node, gast.Assign) and len(node.targets) == 1)
    if isinstance(target, gast.Subscript):
        nested = not isinstance(target.value, gast.Name)
        swap = isinstance(node, gast.Assign) and isinstance(node.value, (gast.Tuple, gast.List))
        if not (top and alone or swap and not nested):
            _fail(node, "a write into an array must be a statement of its own",
                  "Write x[i] = value on its own line.")
        _check_written_part(node, target.value)
        return
    if isinstance(target, gast.Attribute):
        if not (top and alone):
            _fail(node, "setting an attribute must be a statement of its own",
                  "Write obj.attr = value on its own line.")
        _check_written_part(node, target.value)
        return
    _fail(node, f"assigning to {type(target).__name__.lower()} targets is not supported",
          "Assign to a plain variable.")


def check_syntax(tree: gast.FunctionDef) -> gast.FunctionDef:
    """Raise UnsupportedSyntaxError at the first construct sourcegrad cannot handle."""
    if isinstance(tree, gast.AsyncFunctionDef):
        _fail(tree, *_REASONS[gast.AsyncFunctionDef])
    for node in gast.walk(tree):
        if node is tree:
            continue
        reason = _REASONS.get(type(node))
        if reason:
            _fail(node, *reason)
        if isinstance(node, (gast.For, gast.While)) and node.orelse:
            _fail(node, "else clauses on loops are not supported",
                  "Use a flag variable set before break.")
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and \
                node.func.id in ("exec", "eval"):
            _fail(node, f"{node.func.id}() is not supported: sourcegrad differentiates source "
                  "code it can read", "Write the code out in the function.")
        if isinstance(node, gast.Dict) and not all(
                isinstance(k, gast.Constant) and isinstance(k.value, (str, int))
                for k in node.keys):
            _fail(node, "dict displays need constant keys ({'w': w, 'b': b})",
                  "Spell the keys out as strings or ints; ** unpacking is not supported.")
        if isinstance(node, gast.Assign):
            for target in node.targets:
                _check_target(node, target)
            _check_stored_iterator(node)
        if isinstance(node, (gast.AugAssign, gast.AnnAssign)):
            _check_target(node, node.target)
        if isinstance(node, gast.For):
            _check_target(node, node.target)
    return tree
