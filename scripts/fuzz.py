"""Fuzz the RASP interpreter for a while.

Runs the generators of tests/fuzzing.py (the same ones tests/test_fuzz.py runs briefly)
round-robin until the time is up:

  tokens    random token sequences from RASP's vocabulary
  mutants   mutated stdlib/*.rasp files (loaded from a scratch file)
  programs  random well-typed programs, values checked against the naive evaluator
  cli       token sequences and mutants through `rasp.cli.main` (-c as text and --json,
            piped stdin, --example): no Python traceback, exit status 0 or 1 (2 for --example)
  hostile   the fixed list of hostile inputs (once per run)

Prints the number of cases per category and every distinct failure; each failing input
is saved to --out (NAME.rasp, with NAME.txt saying what went wrong) for reproduction:
`rasp NAME.rasp` (a mutant: `rasp -c 'load "NAME.rasp";'`).

usage: python scripts/fuzz.py --minutes 10 [--seed 1] [--out fuzz-failures]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import fuzzing  # found through the path set just above
from fuzzing import Case, Outcome

from rasp.cli import main as cli_main

TRACEBACK = "Traceback (most recent call last)"


def cli_outcome(case: Case, seconds: float) -> Outcome:
    """Run the case's source through the command line: -c in text and JSON mode, piped
    standard input (the line-based session), and its start as --example."""
    outcome = Outcome()
    runs = [
        (["-c", case.source], "", (0, 1)),
        (["--json", "-c", case.source], "", (0, 1)),
        ([], case.source, (0, 1)),
        (["--example", case.source[:60], "-c", "x = indices;"], "", (0, 1, 2)),
    ]
    for argv, stdin, statuses in runs:
        how = "piped stdin" if stdin else " ".join(a for a in argv if a in ("-c", "--json", "--example"))
        out, err = io.StringIO(), io.StringIO()
        saved_stdin, sys.stdin = sys.stdin, io.StringIO(stdin)
        try:
            with fuzzing.time_box(seconds), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                status = cli_main(argv)
        except SystemExit as stop:  # argparse's usage errors
            status = stop.code
        except fuzzing.CaseTimeout as timeout:
            outcome.failures.append(f"cli {how}: hang: {timeout}")
            continue
        except BaseException as error:  # noqa: BLE001 - anything else is a finding
            outcome.failures.append(f"cli {how}: raised {type(error).__name__}: {error}")
            continue
        finally:
            sys.stdin = saved_stdin
        outcome.results += 1
        outcome.errors += status == 1
        if status not in statuses:
            outcome.failures.append(f"cli {how}: exit status {status}: {err.getvalue()[-200:]}")
        if TRACEBACK in out.getvalue() + err.getvalue():
            outcome.failures.append(f"cli {how}: a traceback: {err.getvalue()[-300:]}")
    return outcome


def cli_cases(rng: random.Random) -> Iterator[Case]:
    files = fuzzing.stdlib_files()
    i = 0
    while True:
        if i % 2:
            source = fuzzing.mutate(rng, files[i % len(files)].read_text(encoding="utf-8"))
        else:
            source = fuzzing.random_tokens(rng)
        yield Case("cli", f"cli #{i}", source)
        i += 1


def endless(make: Callable[[random.Random, int], Iterator[Case]], rng: random.Random) -> Iterator[Case]:
    while True:
        yield from make(rng, 1000)


def normalised(failure: str) -> str:
    """A failure with its numbers and quoted parts blurred, to group repeats."""
    return re.sub(r"\d+", "N", re.sub(r"`[^`]*`|'[^']*'|\"[^\"]*\"", "Q", failure))[:160]


def save(out_dir: Path, case: Case, failures: list[str], number: int) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{case.category}-{number:03d}"
    path = out_dir / f"{stem}.rasp"
    path.write_text(case.source, encoding="utf-8", errors="surrogateescape")
    how = 'load it: rasp -c \'load "PATH";\'' if case.category == "mutants" else "run it: rasp PATH"
    (out_dir / f"{stem}.txt").write_text(f"{case.name}\n{how}\n\n" + "\n".join(failures) + "\n", encoding="utf-8")
    return path


def run(minutes: float, seed: int, out_dir: Path, seconds: float) -> int:
    rng = random.Random(seed)
    streams: dict[str, Iterator[Case]] = {
        "tokens": endless(fuzzing.token_cases, rng),
        "mutants": endless(fuzzing.mutant_cases, rng),
        "programs": endless(fuzzing.program_cases, rng),
        "cli": cli_cases(rng),
    }
    counts: Counter[str] = Counter()
    with_errors: Counter[str] = Counter()
    failing: Counter[str] = Counter()
    seen: dict[str, int] = {}
    deadline = time.monotonic() + minutes * 60
    started = time.monotonic()

    def check(case: Case) -> None:
        outcome = cli_outcome(case, seconds) if case.category == "cli" else fuzzing.check_case(case, seconds)
        counts[case.category] += 1
        with_errors[case.category] += outcome.errors > 0
        if outcome.ok:
            return
        failing[case.category] += 1
        new = list({normalised(f): f for f in outcome.failures if normalised(f) not in seen}.values())
        for failure in outcome.failures:
            seen[normalised(failure)] = seen.get(normalised(failure), 0) + 1
        if new:
            path = save(out_dir, case, outcome.failures, len(seen))
            print(f"FAILURE [{case.category}] {case.name} -> {path}", flush=True)
            for failure in new:
                print(f"    {failure[:300]}", flush=True)

    for case in fuzzing.hostile_case_list():
        check(case)
    while time.monotonic() < deadline:
        for stream in streams.values():
            check(next(stream))

    elapsed = time.monotonic() - started
    print(f"\n{sum(counts.values())} cases in {elapsed / 60:.1f} min (seed {seed})")
    print(f"{'category':10} {'cases':>7} {'with errors':>12} {'failing':>8}")
    for category in ("tokens", "mutants", "programs", "cli", "hostile"):
        print(f"{category:10} {counts[category]:7} {with_errors[category]:12} {failing[category]:8}")
    print(f"distinct failures: {len(seen)}" + (f" (inputs saved in {out_dir})" if seen else ""))
    return 1 if seen else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=1.0, help="how long to fuzz (default 1)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: from the clock)")
    parser.add_argument("--out", type=Path, default=Path("fuzz-failures"), help="where failing inputs are saved")
    parser.add_argument("--case-seconds", type=float, default=20.0, help="time box of one case (default 20)")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else int(time.time())
    with tempfile.TemporaryDirectory(prefix="rasp-fuzz-") as scratch:
        os.environ["RASP_DRAW_DIR"] = scratch  # fuzzed `draw` statements write here, not into the current directory
        return run(args.minutes, seed, args.out, args.case_seconds)


if __name__ == "__main__":
    sys.exit(main())
