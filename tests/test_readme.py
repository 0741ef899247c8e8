"""The README's rule example runs as printed, and the rules it registers are right."""

import re
from pathlib import Path

import numpy as np
import pytest

import sourcegrad
from oracle import assert_grad
from sourcegrad.rules.templates import remove_rule

README = Path(__file__).resolve().parent.parent / "README.md"


def rule_example() -> str:
    text = README.read_text()
    section = text[text.index("## Your own derivative rules"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_rule_example_runs_and_its_rules_are_right(tmp_path):
    pytest.importorskip("scipy.special")
    module = tmp_path / "readme_rules.py"
    module.write_text(rule_example() + """

def uses_both(x):
    return np.sum(soft_clip(x, 1.5) + scipy.special.erfcx(x))
""")
    from oracle import load_module

    namespace = load_module(module)
    try:
        assert_grad(namespace.uses_both, np.array([0.3, -0.8, 1.2]))
        df = sourcegrad.grad(namespace.uses_both)
        df(np.array([0.3, -0.8, 1.2]))
        assert "soft_clip_forward" not in df.source, "the rule replaces the source"
    finally:
        remove_rule(namespace.soft_clip)
        remove_rule(__import__("scipy.special").special.erfcx)
        sourcegrad.rules.templates.ZERO_GRADIENT.discard(np.histogram_bin_edges)


def test_readme_shows_the_derivative_quickstart_prints(capsys):
    import runpy

    runpy.run_path(str(README.parent / "examples" / "quickstart.py"), run_name="__main__")
    printed = capsys.readouterr().out
    text = README.read_text()
    start = text.index("def dmodel_dw")
    shown = text[start:text.index("return loss, dw", start) + len("return loss, dw")]
    assert shown in printed, "README's example derivative differs from what quickstart prints"
