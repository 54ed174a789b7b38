#!/usr/bin/env python3
"""Benchmark the rasp engine: the paper's programs at growing lengths, a batch, start-up.

    python scripts/bench.py            # the full table (about a minute)
    python scripts/bench.py --quick    # a smoke test: short inputs, few runs
    python scripts/bench.py --json     # machine-readable output
    python scripts/bench.py --before /tmp/before   # also the figures of another checkout (e.g. main), same run

For reverse, histogram, sort, sort by most frequent token and Dyck-2 (from
tests/programs/paper_examples.rasp, the reference's paper style) at n = 16, 64, 256,
1024, 4096 it reports the median evaluation time (the engine only: a fresh evaluation of
the program's graph on one input, no memo shared between runs, except that at n <= 32
the engine keeps the values of the nodes computed from indices and constants alone
between evaluations of a length; wall clock and CPU time), the first (cold) run, and the
peak memory of one evaluation as tracemalloc sees it (NumPy reports its array
allocations to tracemalloc; Python objects are counted too). Then the throughput of a
batch of 10,000 inputs of length 16 through sort (`Session.evaluate`, result objects
included), and the start-up time of `rasp -c 'tokens;'` (wall clock of a subprocess,
median, with bytecode caching on as in an installed package).

Small inputs: the median time of one call `session[name](tokens)` at n = 16 for the
five programs, as a Python user or the REPL's live preview pays it (input checks,
evaluation, result object), each call on a new random input.

With --before PATH (a checkout of another version, e.g. `git worktree add /tmp/before
main`) the same figures are measured for that checkout in the same run: small inputs in
subprocesses taking turns with this checkout's, start-up runs alternating, and the
table of n >= 64 after this checkout's. --rasp PATH measures only that checkout (the
script's own code, the rasp package imported from PATH).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

# the rasp package measured, imported from a checkout without installing: this one, or the one of --rasp PATH
sys.path.insert(0, str(Path(sys.argv[sys.argv.index("--rasp") + 1] if "--rasp" in sys.argv[:-1]
                            else Path(__file__).parent.parent).resolve()))

import numpy as np

from rasp.api import Session
from rasp.engine import Evaluation, input_items

ROOT = Path(__file__).resolve().parent.parent
RASP_ROOT = Path(sys.path[0])

# The paper's programs in the reference's style, shared with the tests: BOS programs expect a
# beginning-of-sequence token at position 0.
PAPER_EXAMPLES = ROOT / "tests" / "programs" / "paper_examples.rasp"
# The file's most-frequent sort subtracts 300 per repeated token, too little at n = 4096: use a larger bound.
PROGRAMS = PAPER_EXAMPLES.read_text(encoding="utf-8") + 'sort_by_most_freq = _sort_by_freq_bos("§", 100000);\n'

BOS = "§"
# table row name -> (RASP name, input maker)
BENCHMARKS = {
    "reverse": ("reverse", "letters"),
    "histogram": ("hist_bos", "bos letters"),
    "sort": ("sort_bos", "bos letters"),
    "most-frequent sort": ("sort_by_most_freq", "bos letters"),
    "Dyck-2": ("dyck2_ptf", "parens"),
}
LENGTHS = (16, 64, 256, 1024, 4096)
QUICK_LENGTHS = (16, 64)


def make_input(kind: str, n: int, rng: random.Random) -> list[str]:
    if kind == "parens":
        return _parens(n, rng)
    letters = [rng.choice("abcdefghij") for _ in range(n)]
    return [BOS, *letters[1:]] if kind == "bos letters" else letters


def _parens(n: int, rng: random.Random) -> list[str]:
    """Mostly well-nested "()" / "{}" strings, so every branch of Dyck-2 is exercised."""
    out, stack = [], []
    for _ in range(n):
        if stack and (rng.random() < 0.5 or len(stack) > n // 4):
            out.append(stack.pop())
        else:
            opener, closer = rng.choice(["()", "{}"])
            out.append(opener)
            stack.append(closer)
    return out


def runs_for(n: int, quick: bool) -> int:
    if quick:
        return 3
    return 21 if n <= 256 else 9 if n <= 1024 else 5


def time_evaluation(node, items: list, runs: int) -> tuple[float, float, float]:
    """(first run, median of the runs, median CPU time of the runs) in seconds; each run a fresh
    evaluation. CPU time is what a busy shared machine disturbs least."""
    times, cpu_times = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        Evaluation(items).value(node)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - start_cpu)
    return times[0], statistics.median(times), statistics.median(cpu_times)


def peak_memory(node, items: list) -> int:
    """Peak bytes traced by tracemalloc during one evaluation."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        Evaluation(items).value(node)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def program_table(session: Session, lengths, quick: bool) -> list[dict]:
    rng = random.Random(20210611)
    rows = []
    for title, (name, kind) in BENCHMARKS.items():
        node = session[name].node
        for n in lengths:
            items = input_items(make_input(kind, n, rng))
            first, median, cpu = time_evaluation(node, items, runs_for(n, quick))
            rows.append({"program": title, "name": name, "n": n, "median_s": median, "cpu_median_s": cpu,
                         "first_s": first, "peak_bytes": peak_memory(node, items)})
    return rows


SMALL_N = 16


def small_inputs(session: Session, runs: int) -> list[dict]:
    """Median seconds of one call `session[name](tokens)` at n = 16, each on a new random input."""
    rng = random.Random(16)
    rows = []
    for title, (name, kind) in BENCHMARKS.items():
        bound = session[name]
        inputs = [make_input(kind, SMALL_N, rng) for _ in range(runs)]
        bound(inputs[0])  # warm up
        times = []
        for tokens in inputs:
            start = time.perf_counter()
            bound(tokens)
            times.append(time.perf_counter() - start)
        rows.append({"program": title, "name": name, "n": SMALL_N, "runs": runs, "median_s": statistics.median(times)})
    return rows


def batch_throughput(session: Session, count: int, n: int = 16) -> dict:
    rng = random.Random(7)
    inputs = [make_input("bos letters", n, rng) for _ in range(count)]
    start, start_cpu = time.perf_counter(), time.process_time()
    results = session.evaluate("sort_bos", inputs)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    expected = [BOS, *sorted(inputs[0][1:])]
    assert results[0].values == expected, (results[0], expected)  # the batch gives real values
    return {"program": "sort", "inputs": count, "n": n, "seconds": elapsed, "cpu_seconds": cpu,
            "inputs_per_s": count / elapsed}


def startup_times(roots: list[Path], runs: int) -> list[dict]:
    """`rasp -c 'tokens;'` in a subprocess for each checkout of `roots`, the checkouts taking turns:
    median wall and CPU seconds of each."""
    commands, walls, cpus = [], [[] for _ in roots], [[] for _ in roots]
    for number, root in enumerate(roots):
        env = dict(os.environ, PYTHONPYCACHEPREFIX=str(Path(tempfile.gettempdir()) / "rasp-bench-pycache"))
        if len(roots) > 1:  # a cache directory each: the parsed standard library of one checkout is not
            # the other's (rasp/stdlib_cache.py keys it by the parser's sources and keeps one version)
            env["XDG_CACHE_HOME"] = str(Path(tempfile.gettempdir()) / f"rasp-bench-cache-{os.getpid()}-{number}")
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")])
        commands.append(([sys.executable, "-m", "rasp", "-c", "tokens;"], env))
    for command, env in commands:  # warm up: bytecode, Lark's cache
        subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=True)
    for _ in range(runs):
        for i, (command, env) in enumerate(commands):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
            walls[i].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus[i].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            assert "tokens" in done.stdout, done.stdout
    return [{"command": "rasp -c 'tokens;'", "runs": runs, "median_s": statistics.median(w), "min_s": min(w),
             "cpu_median_s": statistics.median(c)} for w, c in zip(walls, cpus, strict=True)]


def startup_time(runs: int) -> dict:
    """`rasp -c 'tokens;'` in a subprocess: median wall and CPU seconds."""
    return startup_times([RASP_ROOT], runs)[0]


def machine() -> dict:
    return {"python": platform.python_version(), "numpy": np.__version__, "cpus": os.cpu_count(),
            "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def _measure_in(root: Path, flags: list[str]) -> dict:
    """This script's JSON report for the rasp package of another checkout (a subprocess)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--rasp", str(root), "--json", *flags]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def small_in_turns(session: Session, before: Path, runs: int, rounds: int = 3) -> tuple[list[dict], list[dict]]:
    """Small-input medians of this checkout and of `before`, measured in turns (`rounds` each);
    each figure is the median of the rounds' medians."""
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(small_inputs(session, runs))
        theirs.append(_measure_in(before, ["--small-only", "--runs", str(runs)])["small"])
    return _median_rows(ours), _median_rows(theirs)


def table_in_turns(session: Session, before: Path, lengths, quick: bool, rounds: int = 2) -> tuple[list, list]:
    """The table of growing lengths for this checkout and for `before`, measured in turns."""
    flags = ["--table-only", *(["--quick"] if quick else [])]
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(program_table(session, lengths, quick))
        theirs.append(_measure_in(before, flags)["programs"])
    return _median_rows(ours), _median_rows(theirs)


def _median_rows(rounds: list[list[dict]]) -> list[dict]:
    """Each row's figures: the median over the rounds."""
    rows = [dict(row) for row in rounds[0]]
    for i, row in enumerate(rows):
        for key in ("median_s", "cpu_median_s", "first_s"):
            if key in row:
                row[key] = statistics.median(r[i][key] for r in rounds)
    return rows


def _size(size: int) -> str:
    return f"{size / 2**20:.1f} MiB" if size >= 2**20 else f"{size / 1024:.0f} KiB"


def format_small(rows: list[dict], before: list[dict] | None = None) -> list[str]:
    header = f"small inputs: one call session[name](tokens) at n = {SMALL_N}, median of {rows[0]['runs']} calls"
    lines = [header, "program                  median" + ("       before   speed-up" if before else "")]
    for i, row in enumerate(rows):
        line = f"{row['program']:<20} {row['median_s'] * 1e3:>7.3f} ms"
        if before:
            line += f" {before[i]['median_s'] * 1e3:>9.3f} ms {before[i]['median_s'] / row['median_s']:>9.2f}x"
        lines.append(line)
    return lines


def format_report(report: dict) -> str:
    lines = format_small(report["small"], report.get("before", {}).get("small")) + [""]
    lines.append("program              n     median   CPU median      first   peak memory")
    for row in report["programs"]:
        lines.append(f"{row['program']:<18} {row['n']:>5} {row['median_s'] * 1000:>8.2f} ms "
                     f"{row['cpu_median_s'] * 1000:>9.2f} ms {row['first_s'] * 1000:>8.2f} ms "
                     f"{_size(row['peak_bytes']):>13}")
    batch = report["batch"]
    lines.append(f"\nbatch: {batch['inputs']} inputs of length {batch['n']} through {batch['program']}: "
                 f"{batch['seconds']:.3f} s, CPU {batch['cpu_seconds']:.3f} s ({batch['inputs_per_s']:,.0f} inputs/s)")
    start = report["startup"]
    lines.append(f"start-up: {start['command']}: median {start['median_s']:.3f} s (min {start['min_s']:.3f} s, "
                 f"CPU {start['cpu_median_s']:.3f} s; {start['runs']} runs)")
    if "before" in report:
        old = report["before"]
        lines.append(f"start-up of {old['root']}: median {old['startup']['median_s']:.3f} s "
                     f"(min {old['startup']['min_s']:.3f} s), runs alternating with this checkout's")
        lines.append(f"\ntable of {old['root']} (the before), measured in turns with the table above; "
                     "after/before: ratio of the CPU medians (what a loaded machine disturbs least)")
        lines.append("program              n     median   CPU median      first   peak memory   after/before")
        for row, now in zip(old["programs"], report["programs"], strict=True):
            lines.append(f"{row['program']:<18} {row['n']:>5} {row['median_s'] * 1000:>8.2f} ms "
                         f"{row['cpu_median_s'] * 1000:>9.2f} ms {row['first_s'] * 1000:>8.2f} ms "
                         f"{_size(row['peak_bytes']):>13} {now['cpu_median_s'] / row['cpu_median_s']:>13.2f}")
    m = report["machine"]
    lines.append(f"\nPython {m['python']}, NumPy {m['numpy']}, {m['cpus']} CPUs, load average {m['load_average']} "
                 f"at the start, {m.get('load_average_end')} at the end; {m.get('date', '')}"
                 "; peak memory by tracemalloc")
    return "\n".join(lines)


def _compile_sizes():
    """scripts/compile_sizes.py as a module."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import compile_sizes

    return compile_sizes


def compile_figures(max_lens: tuple[int, ...] = (10, 32), random_inputs: int = 200) -> list[dict]:
    """Compiled sizes and compile/verify times of every library program (scripts/compile_sizes.py)."""
    sizes = _compile_sizes()
    return [sizes.measure(file, call, max_len, random_inputs, timeout=600.0)
            for max_len in max_lens for file, call in sizes.library_calls()]


def compile_table(rows: list[dict]) -> str:
    return _compile_sizes().format_table(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short inputs and few runs (a smoke test)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--before", metavar="PATH", help="also measure the checkout at PATH, in the same run")
    parser.add_argument("--rasp", metavar="PATH", help="measure the rasp package of the checkout at PATH")
    parser.add_argument("--small-only", action="store_true", help="only the small-input figures")
    parser.add_argument("--table-only", action="store_true", help="only the table of growing lengths")
    parser.add_argument("--runs", type=int, help="calls per program for the small-input figures (default 501)")
    parser.add_argument("--compile", action="store_true", help="only the library's compiled sizes (compile_sizes.py)")
    args = parser.parse_args(argv)
    if args.compile:
        rows = compile_figures((10,) if args.quick else (10, 32))
        print(json.dumps(rows, indent=1) if args.json else compile_table(rows))
        return 0
    load_at_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    session = Session()
    session.sop_examples_on = session.selector_examples_on = False
    problems = [r for r in session.run(PROGRAMS, "bench.rasp", check=False) if getattr(r, "error", None)]
    if problems:
        raise SystemExit(f"the benchmark programs failed: {problems[0].error}")
    small_runs = args.runs or (51 if args.quick else 501)
    lengths = QUICK_LENGTHS if args.quick else LENGTHS
    if args.small_only:
        print(json.dumps({"small": small_inputs(session, small_runs)}))
        return 0
    if args.table_only:
        print(json.dumps({"programs": program_table(session, lengths, args.quick)}))
        return 0
    report: dict = {}
    if args.before:
        before = Path(args.before).resolve()
        report["small"], before_small = small_in_turns(session, before, small_runs, 1 if args.quick else 3)
    else:
        report["small"] = small_inputs(session, small_runs)
    if args.before:
        report["programs"], before_table = table_in_turns(session, before, lengths, args.quick)
    else:
        report["programs"] = program_table(session, lengths, args.quick)
    report["batch"] = batch_throughput(session, 1000 if args.quick else 10_000)
    startup_runs = 3 if args.quick else 21
    if args.before:
        report["startup"], before_startup = startup_times([RASP_ROOT, before], startup_runs)
        report["before"] = {"root": str(before), "small": before_small, "startup": before_startup,
                            "programs": before_table}
    else:
        report["startup"] = startup_time(startup_runs)
    report["machine"] = machine()
    report["machine"]["load_average_end"] = report["machine"]["load_average"]
    report["machine"]["load_average"] = load_at_start
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
