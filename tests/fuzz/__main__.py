"""Command line of the program fuzzer; see the package docstring (`tests/fuzz/__init__.py`)."""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

from .campaign import report, run_campaign
from .reduce import reduce
from .run import check

FOUND = Path(__file__).resolve().parent / "found"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--seed", type=int, default=None, help="first seed (random if omitted)")
    parser.add_argument("--n", type=int, default=100, help="how many programs")
    parser.add_argument("--level", type=int, default=0,
                        help="1-6: language and size; 0 (default) mixes them")
    parser.add_argument("--minutes", type=float, default=None, help="stop after this long")
    parser.add_argument("--fast", action="store_true",
                        help="the smaller set of emitted paths (what CI runs)")
    parser.add_argument("--reduce", type=float, default=90.0, metavar="SECONDS",
                        help="time to reduce each failure (0: do not reduce)")
    parser.add_argument("--save", type=Path, default=FOUND, help="where failures are saved")
    parser.add_argument("--check", type=Path, default=None, metavar="FILE",
                        help="check (and reduce) one saved program instead")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sourcegrad_fuzz_") as workdir:
        if args.check is not None:
            return _check_file(args.check, Path(workdir), args.reduce)
        seed = args.seed if args.seed is not None else random.randrange(10**9)
        print(f"python -m tests.fuzz --seed {seed} --n {args.n} --level {args.level}",
              flush=True)
        stats = run_campaign(seed, args.n, Path(workdir), args.level or None, args.fast,
                             args.save, args.reduce, minutes=args.minutes,
                             log=lambda text: print(text, flush=True))
    print(report(stats))
    return 1 if stats.findings else 0


def _check_file(path: Path, workdir: Path, budget: float) -> int:
    source = path.read_text()
    outcome = check(source, workdir)
    print(f"{outcome.cls} {outcome.kind}\n{outcome.detail}\n" + "\n".join(outcome.notes))
    if outcome.failed and budget > 0:
        reduced, result = reduce(source, outcome, workdir, budget)
        print(f"\nreduced ({result.cls} {result.kind}):\n{reduced}\n{result.detail}")
    return 1 if outcome.failed else 0


if __name__ == "__main__":
    sys.exit(main())
