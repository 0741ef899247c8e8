"""Benchmark sourcegrad against a hand-written gradient, autograd, JAX and PyTorch.

Usage: python benchmarks/run.py [--quick] [--only NAME[,...]] [--skip BACKEND[,...]] [--markdown]

For every workload (see workloads.py) the hand gradient is first checked against central finite
differences (the run stops if it is wrong). Each back end's first call is compared with the hand
gradient; a failure shows as MISMATCH or ERROR in the table, with the details listed below it.
All timings are taken in this one process, as the minimum over repeats of timeit(number)/number.
"""

from __future__ import annotations

import pin_threads  # noqa: F401  (must come first: sets thread counts before NumPy loads)

# isort: split
import argparse
import os
import platform
import sys
import time
import traceback
from dataclasses import dataclass

import numpy as np
from backends import BACKENDS, Unavailable, library_versions
from measure import TimingSettings, as_arrays, check_hand_gradient, max_error, measure
from workloads import WORKLOADS, Workload

DEFAULT = TimingSettings(target=0.1, repeat=5, budget=2.0)
QUICK = TimingSettings(target=0.01, repeat=2, budget=0.2)
SEED = 20240601

COLUMNS = (
    "workload", "f", "hand grad", "sourcegrad", "sg/hand", "sg/f",
    "autograd", "jax eager", "jax jit", "torch", "sg transform", "jit compile",
)  # fmt: skip


@dataclass
class Cell:
    """Outcome of one back end on one workload."""

    status: str  # "ok", "n/a", "skipped", "ERROR" or "MISMATCH"
    seconds: float | None = None
    first_call: float | None = None  # seconds for construction plus the first call
    detail: str = ""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short measurements (smoke test)")
    names = ", ".join(w.name for w in WORKLOADS)
    parser.add_argument("--only", metavar="NAME", help=f"comma-separated workloads among {names}")
    parser.add_argument("--markdown", action="store_true", help="print a GitHub markdown table")
    parser.add_argument(
        "--skip",
        metavar="BACKEND",
        default="",
        help="comma-separated columns not to run, e.g. 'jax' or 'jax eager,torch'",
    )
    return parser.parse_args(argv)


def select(only: str | None) -> list[Workload]:
    """The workloads named by --only (all when absent); exit on an unknown name."""
    if not only:
        return list(WORKLOADS)
    by_name = {w.name: w for w in WORKLOADS}
    names = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in names if n not in by_name]
    if unknown:
        sys.exit(f"unknown workload(s) {unknown}; choose from {', '.join(by_name)}")
    return [by_name[n] for n in names]


def skipped_backends(skip: str) -> set[str]:
    """Back ends named (or prefixed, as 'jax') by --skip; exit on a name that matches none."""
    skipped = set()
    for word in filter(None, (w.strip() for w in skip.split(","))):
        matches = {b for b in BACKENDS if b.startswith(word)}
        if not matches or matches & {"f", "hand grad"}:
            sys.exit(f"--skip {word!r}: choose among {', '.join(list(BACKENDS)[2:])}")
        skipped |= matches
    return skipped


def log(message: str) -> None:
    """Progress goes to stderr so that stdout holds only the report."""
    print(message, file=sys.stderr, flush=True)


def describe(exc: Exception) -> str:
    """The exception's type and message verbatim, and where it was raised."""
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    return f"{type(exc).__name__}: {exc}\n(raised at {frame.filename}:{frame.lineno}, {frame.name})"


def run_cell(
    backend: str, workload: Workload, args: tuple, reference: tuple, settings: TimingSettings
) -> Cell:
    """Prepare, call once (warm-up, compilation, check), then time one back end."""
    try:
        start = time.perf_counter()
        call = BACKENDS[backend](workload, args)
        result = call()
        first_call = time.perf_counter() - start
    except Unavailable as exc:
        return Cell("n/a", detail=f"{exc} is not installed")
    except Exception as exc:  # the report shows it; the run goes on
        return Cell("ERROR", detail=describe(exc))
    if backend != "f":
        problem = max_error(as_arrays(result, workload.wrt), reference)
        if problem:
            return Cell("MISMATCH", detail=problem)
    return Cell("ok", measure(call, settings), first_call)


def run_workload(workload: Workload, settings: TimingSettings, skip: set[str]) -> dict[str, Cell]:
    """All back ends on one workload, after checking its hand gradient."""
    rng = np.random.default_rng(SEED)
    args = workload.make_args(rng)
    check_hand_gradient(workload, args, rng)
    reference = as_arrays(workload.grad(*args), workload.wrt)
    cells = {}
    for backend in BACKENDS:
        if backend in skip:
            cells[backend] = Cell("skipped")
            continue
        cells[backend] = cell = run_cell(backend, workload, args, reference, settings)
        shown = cell.status
        if cell.status == "ok":
            shown = f"{format_seconds(cell.seconds)} (first call {format_seconds(cell.first_call)})"
        log(f"  {workload.name:<13} {backend:<11} {shown}")
        if cell.status in ("ERROR", "MISMATCH"):
            log(f"    {cell.status}: {cell.detail}")
    return cells


def format_seconds(seconds: float | None) -> str:
    """A duration with three significant digits and a fitting unit."""
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(seconds) >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def ratio(cells: dict[str, Cell], numerator: str, denominator: str) -> str:
    """time(numerator) / time(denominator), or '-' when either is missing."""
    top, bottom = cells[numerator], cells[denominator]
    if top.status != "ok" or bottom.status != "ok":
        return "-"
    return f"{top.seconds / bottom.seconds:.3g}x"


def one_off_time(cell: Cell) -> str:
    """One-off cost (transformation, compilation): construction plus first call minus a call."""
    if cell.status != "ok":
        return "-"
    return format_seconds(max(cell.first_call - cell.seconds, 0.0))


def table_row(name: str, cells: dict[str, Cell], notes: list[str]) -> list[str]:
    """One table row; failures become numbered references into `notes`."""

    def show(backend: str) -> str:
        cell = cells[backend]
        if cell.status == "ok":
            return format_seconds(cell.seconds)
        if cell.status in ("n/a", "skipped"):
            return cell.status
        notes.append(f"{name} / {backend}: {cell.status}: {cell.detail}")
        return f"{cell.status} [{len(notes)}]"

    return [
        name, show("f"), show("hand grad"), show("sourcegrad"),
        ratio(cells, "sourcegrad", "hand grad"), ratio(cells, "sourcegrad", "f"),
        show("autograd"), show("jax eager"), show("jax jit"), show("torch"),
        one_off_time(cells["sourcegrad"]), one_off_time(cells["jax jit"]),
    ]  # fmt: skip


def _align(line: list[str], widths: list[int]) -> str:
    """Workload names left-aligned, every other column right-aligned."""
    cells = [line[0].ljust(widths[0])]
    cells += [cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=True)]
    return "  ".join(cells)


def render_table(rows: list[list[str]], markdown: bool) -> str:
    """Rows under COLUMNS, as aligned plain text or as a GitHub markdown table."""
    header = list(COLUMNS)
    if markdown:
        lines = [header, ["---"] + ["--:"] * (len(header) - 1), *rows]
        return "\n".join("| " + " | ".join(line) + " |" for line in lines)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [header, ["-" * w for w in widths], *rows]
    return "\n".join(_align(line, widths) for line in lines)


def render_notes(notes: list[str], markdown: bool) -> str:
    """The numbered failure details, messages verbatim (fenced in markdown)."""
    text = "\n".join(
        f"[{number}] " + note.replace("\n", "\n    ") for number, note in enumerate(notes, 1)
    )
    return f"```text\n{text}\n```" if markdown else text


def header(settings: TimingSettings) -> str:
    """Machine, library versions and timing settings of this run."""
    versions = ", ".join(f"{k} {v}" for k, v in library_versions().items())
    return (
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores; "
        f"{versions}\n"
        f"threads: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, "
        f"XLA_FLAGS={os.environ.get('XLA_FLAGS')}\n"
        f"timing: min of up to {settings.repeat} repeats, each >= {settings.target} s "
        f"(fewer repeats past {settings.budget} s per cell)"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the selected workloads and print the report."""
    opts = parse_args(argv)
    settings = QUICK if opts.quick else DEFAULT
    workloads = select(opts.only)
    skip = skipped_backends(opts.skip)
    started = time.perf_counter()
    print(header(settings), flush=True)
    rows, notes = [], []
    for workload in workloads:
        log(f"{workload.name}: {workload.description}")
        rows.append(table_row(workload.name, run_workload(workload, settings, skip), notes))
    print()
    print(render_table(rows, opts.markdown))
    if notes:
        print()
        print(render_notes(notes, opts.markdown))
    print(f"\ntotal run time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
