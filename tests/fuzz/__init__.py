"""The program fuzzer: random valid NumPy programs, every emitted path, central differences.

No silent wrong gradient (issue 9): each program is generated over the language sourcegrad
supports (generate.py, exprs.py, stmts.py, features.py), kept only where central differences
are a valid oracle (probe.py: no comparison, tie or kink near flipping, values bounded),
differentiated along every emitted path (paths.py: specialized, generic, unoptimized, checked,
`.source` alone) and classified (run.py): ok, refused, WRONG gradient, WRONG value, MUTATED
(the caller's arguments changed), paths DISAGREE, CRASH, checked-mode breach. Failures are
saved and reduced by delta debugging to a few lines (reduce.py, campaign.py).

Run from the repository root:

    .venv/bin/python -m tests.fuzz --seed 7 --n 200 --level 3    # one batch, level 3
    .venv/bin/python -m tests.fuzz --n 100000 --minutes 120      # a long campaign, random seed
    .venv/bin/python -m tests.fuzz --check tests/fuzz/found/gradient_s123_L4.py   # one file

`--seed` is printed when omitted, so any run can be repeated; program k of a run has seed
S + k (`--seed S+k --n 1` repeats it alone). `--level` 1-6 grows the language: 1 straight-line
NumPy, broadcasting and writes into arrays; 2 if/elif, for, break/continue, aliases and views;
3 while loops to a tolerance, early returns, helper functions (keywords, defaults, rebound
float parameters, functions changing their arguments); 4 lists, dicts, closures, objects;
5-6 bigger and deeper programs. 0 (the default) mixes them. `--fast` runs the smaller set of
paths CI uses; `--reduce SECONDS` (default 90, 0 to skip) bounds each reduction; failures go to
tests/fuzz/found/ (`--save DIR`) as `<class>_s<seed>_L<level>.py` and `..._reduced.py`, each
headed by what was wrong. The exit status is 1 when anything failed.

tests/test_fuzz.py runs a fixed-seed batch in CI.
"""
