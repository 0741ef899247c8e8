"""Small programs in, analysis facts out: the canonical tree of a function, its statements found
by their source, and the save plan of its derivative. For tests/test_analysis_*.py."""

import gast

from sourcegrad.analysis.abstract import of_value
from sourcegrad.emit import to_source
from sourcegrad.module import ModuleBuilder
from sourcegrad.pipeline import canonicalize, differentiate
from sourcegrad.reverse.nodes import Branch, Loop, Step


def source_of(stmt: gast.stmt) -> str:
    """The first line of a statement as the canonical tree prints it: `h = np.tanh(w_times_h)`,
    `for i in range(n):`."""
    return to_source(gast.Module(body=[stmt], type_ignores=[])).strip().splitlines()[0]


def statement(tree: gast.FunctionDef, text: str) -> gast.stmt:
    """The one statement of the canonical tree whose first line is `text`."""
    found = [node for node in gast.walk(tree)
             if isinstance(node, gast.stmt) and node is not tree and source_of(node) == text]
    assert len(found) == 1, f"{len(found)} statements {text!r} in:\n{to_source(tree)}"
    return found[0]


def abstract_params(canonical, args):
    """The abstract values of actual arguments, by the canonical tree's parameter names."""
    return dict(zip(canonical.params, [of_value(a) for a in args], strict=True))


def derivative(fn, *args, wrt):
    """The differentiator's output for fn at these arguments: annotated nodes and save plan."""
    canonical = canonicalize(fn)
    builder = ModuleBuilder()
    sweeps = differentiate(canonical, set(wrt), abstract_params(canonical, args),
                           builder.request_callee, builder.bind_value, builder.bind_global)
    return sweeps


def nodes_by_source(nodes):
    """Every Step, Branch and Loop of an annotated tree, by the source of its statement."""
    out = {}
    for node in nodes:
        if isinstance(node, Step):
            out[source_of(node.primal)] = node
        elif isinstance(node, Branch):
            out[source_of(node.stmt)] = node
            out.update(nodes_by_source(node.body))
            out.update(nodes_by_source(node.orelse))
        elif isinstance(node, Loop):
            out[source_of(node.stmt)] = node
            out.update(nodes_by_source(node.body))
    return out
