"""The examples run, and what they print holds: derivatives agree with finite differences,
the training loss falls, the fit finds the parameters."""

import re
import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(name: str, capsys) -> str:
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    return capsys.readouterr().out


def test_quickstart(capsys):
    out = run("quickstart.py", capsys)
    assert "def dmodel_dw" in out
    exact = float(re.search(r"sourcegrad\s+([-\d.]+)", out).group(1))
    numeric = float(re.search(r"finite differences\s+([-\d.]+)", out).group(1))
    assert exact == pytest.approx(numeric, rel=1e-7)


def test_logistic_regression(capsys):
    losses = [float(v) for v in re.findall(r"loss ([\d.]+)", run("logistic_regression.py",
                                                                   capsys))]
    assert len(losses) >= 3 and all(a > b for a, b in zip(losses, losses[1:], strict=False))


def test_pendulum_fit(capsys):
    out = run("pendulum_fit.py", capsys)
    for exact, numeric in re.findall(r"sourcegrad ([-+\d.]+)\s+finite differences ([-+\d.]+)",
                                     out):
        assert float(exact) == pytest.approx(float(numeric), rel=1e-6)
    length, damping = re.findall(r"length ([\d.]+)\s+damping ([\d.]+)", out)[-1]
    assert float(length) == pytest.approx(1.3, abs=0.02)
    assert float(damping) == pytest.approx(0.25, abs=0.02)


def test_small_network(capsys):
    out = run("small_network.py", capsys)
    exact, numeric = re.search(r"sourcegrad ([-\d.]+)\s+finite differences ([-\d.]+)",
                               out).groups()
    assert float(exact) == pytest.approx(float(numeric), rel=1e-6)
    losses = [float(v) for v in re.findall(r"loss ([\d.]+)", out)]
    assert len(losses) == 5 and losses[-1] < 0.1 * losses[0]
