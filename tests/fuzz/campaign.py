"""A batch of programs: generate, check, count, save and reduce the failures, report.

Program k of a campaign started with seed S has seed S + k and, unless a level is fixed, level
1 + (S + k) % MAX_LEVEL: `--seed S+k --n 1` repeats it alone.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .generate import MAX_LEVEL, generate
from .reduce import reduce
from .run import CLASSES, FAILURES, REFUSED, Outcome, check


@dataclass
class Finding:
    """A failing program, where it was saved, and its reduction when one was made."""

    seed: int
    level: int
    outcome: Outcome
    source: str
    saved: Path | None = None
    reduced: str | None = None
    reduced_outcome: Outcome | None = None


@dataclass
class Stats:
    counts: Counter = field(default_factory=Counter)
    kinds: dict = field(default_factory=lambda: defaultdict(Counter))
    examples: dict = field(default_factory=dict)  # (class, kind) -> a line or seed showing it
    by_level: dict = field(default_factory=lambda: defaultdict(Counter))
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def programs(self) -> int:
        return sum(self.counts.values())

    def add(self, seed: int, level: int, outcome: Outcome) -> None:
        self.counts[outcome.cls] += 1
        self.by_level[level][outcome.cls] += 1
        self.kinds[outcome.cls][outcome.kind] += 1
        line = outcome.notes[0] if outcome.cls == REFUSED and outcome.notes else ""
        self.examples.setdefault((outcome.cls, outcome.kind), f"seed {seed} L{level} {line}")


def level_of(seed: int, level: int | None) -> int:
    return level if level else 1 + seed % MAX_LEVEL


def run_campaign(seed: int, n: int, workdir: Path, level: int | None = None,
                 fast: bool = False, save: Path | None = None, reduce_budget: float = 0.0,
                 reductions_per_kind: int = 2, minutes: float | None = None,
                 log=print) -> Stats:
    """Check programs seed .. seed + n - 1 (or until `minutes` pass); save failing ones under
    `save`, reducing up to `reductions_per_kind` of each (class, kind) for `reduce_budget` s."""
    stats, start = Stats(), time.monotonic()
    reduced_kinds: Counter = Counter()
    for k in range(n):
        if minutes is not None and time.monotonic() - start > 60 * minutes:
            break
        s = seed + k
        lv = level_of(s, level)
        program = generate(s, lv)
        outcome = check(program.source, workdir, fast)
        stats.add(s, lv, outcome)
        if outcome.failed:
            finding = Finding(s, lv, outcome, program.source)
            stats.findings.append(finding)
            if log:
                log(f"[{k + 1}/{n}] seed {s} L{lv}: {outcome.cls} {outcome.kind}")
            key = (outcome.cls, outcome.kind)
            if reduce_budget > 0 and reduced_kinds[key] < reductions_per_kind:
                reduced_kinds[key] += 1
                finding.reduced, finding.reduced_outcome = reduce(
                    program.source, outcome, workdir, reduce_budget, fast=True)
            if save is not None:
                finding.saved = save_finding(finding, Path(save))
        elif log and (k + 1) % 50 == 0:
            log(f"[{k + 1}/{n}] {time.monotonic() - start:.0f} s  {dict(stats.counts)}")
    stats.seconds = time.monotonic() - start
    return stats


def save_finding(finding: Finding, directory: Path) -> Path:
    """`<class>_s<seed>_L<level>.py` (and `..._reduced.py`), each headed by what was wrong."""
    directory.mkdir(parents=True, exist_ok=True)
    slug = finding.outcome.cls.split()[-1].lower()
    path = directory / f"{slug}_s{finding.seed}_L{finding.level}.py"
    path.write_text(_header(finding.outcome) + finding.source)
    if finding.reduced is not None:
        outcome = finding.reduced_outcome or finding.outcome
        path.with_name(path.stem + "_reduced.py").write_text(_header(outcome) +
                                                             finding.reduced + "\n")
    return path


def _header(outcome: Outcome) -> str:
    lines = [f"{outcome.cls}: {outcome.kind}", *outcome.detail.splitlines()[:12],
             *outcome.notes]
    return "".join(f"# {line}\n" for line in lines) + "\n"


def report(stats: Stats, top: int = 8) -> str:
    """Counts per class and level, the commonest refusals and other kinds, the failures."""
    n = max(stats.programs, 1)
    out = [f"{stats.programs} programs in {stats.seconds:.0f} s "
           f"({stats.seconds / n:.2f} s each)"]
    for cls in CLASSES:
        if stats.counts[cls]:
            out.append(f"  {cls:22s}{stats.counts[cls]:6d}  {100 * stats.counts[cls] / n:5.1f}%")
    out.append("by level: " + "; ".join(
        f"L{lv}: " + ", ".join(f"{c} {k}" for c, k in sorted(counts.items()))
        for lv, counts in sorted(stats.by_level.items())))
    for cls in (REFUSED, "invalid", "discarded") + FAILURES:
        if stats.kinds.get(cls):
            out.append(f"{cls}, by kind:")
            for kind, count in stats.kinds[cls].most_common(top):
                out.append(f"  {count:5d}  {kind}\n         e.g. {stats.examples[(cls, kind)]}")
    for finding in stats.findings:
        out.append(f"FAILED seed {finding.seed} L{finding.level}: {finding.outcome.cls} "
                   f"{finding.outcome.kind}" + (f" -> {finding.saved}" if finding.saved else ""))
    return "\n".join(out)
