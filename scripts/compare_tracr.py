#!/usr/bin/env python3
"""rasp beside DeepMind's tracr: both evaluators, then both compilers, in one run.

    python scripts/compare_tracr.py              # evaluators at n = 16 and 64, compilers at max_len 5 and 10
    python scripts/compare_tracr.py --quick      # fewer runs, evaluators only at n = 16
    python scripts/compare_tracr.py --no-compile # evaluators only

tracr is not on the package index; install it from its repository into the environment
rasp runs in (docs/performance.md, "Comparing with tracr"):

    git clone https://github.com/google-deepmind/tracr && pip install ./tracr

Without tracr the script prints rasp's figures alone and says so.

Evaluators. The five programs of the benchmark (scripts/bench.py: reverse, histogram,
sort, sort by most frequent token, Dyck-2, in the paper's style from
tests/programs/paper_examples.rasp) are ported below to tracr's RASP with the same
algorithm, node for node where tracr has the operation (tracr's Map/SequenceMap take
Python functions, so a chain of elementwise operations is one node there). rasp is timed
the way a Python user calls it, `session[name](tokens)` (input checks, evaluation and
the result object included); tracr as `rasp.evaluate(program, tokens)`. The two are
timed alternately, run after run, on the same random inputs, and must give the same
values. Medians of wall-clock time.

Compilers. tracr compiles its own library (tracr.compiler.lib) and rasp its ports of it
(stdlib/tracr.rasp, stdlib/reverse.rasp, ...); for each: compile time (rasp's includes
its verification, here on 100 random inputs besides the exhaustive short ones),
layers, parameters stored and non-zero.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402 - the benchmark's programs and inputs

from rasp.api import Session  # noqa: E402

BOS = bench.BOS
FREQUENCY_BOUND = 100000  # scripts/bench.py's most-frequent sort: sort_by_most_freq = _sort_by_freq_bos("§", 100000)


def load_tracr():
    """tracr's rasp module, or None when tracr is not installed."""
    try:
        from tracr.rasp import rasp as tracr_rasp
    except ImportError:
        return None
    return tracr_rasp


# ------------------------------------------------------------ tracr ports


def tracr_programs(r) -> dict:
    """The benchmark's five programs in tracr's RASP (r: tracr.rasp.rasp), keyed by the table's names."""
    eq, lt, leq = r.Comparison.EQ, r.Comparison.LT, r.Comparison.LEQ
    tokens, indices = r.tokens, r.indices
    zero = r.Map(lambda _: 0, indices)
    one = r.Map(lambda _: 1, indices)

    def with_bos_selector_width(selector):
        # paper_examples.rasp, _with_bos_selector_width: 1 / (share of the BOS among the selected) - 1
        selector = r.SelectorOr(selector, r.Select(indices, zero, eq))
        bos_share = r.numerical(r.Aggregate(selector, r.numerical(r.Map(lambda i: 1 if i == 0 else 0, indices)),
                                            default=0))
        return r.Map(lambda x: round(1 / x) - 1, bos_share)

    def sort_bos(seq, key):
        earlier = r.SelectorOr(r.Select(key, key, lt), r.SelectorAnd(r.Select(key, key, eq),
                                                                       r.Select(indices, indices, lt)))
        num_before = r.SequenceMap(lambda i, b: -1 if i == 0 else b, indices, with_bos_selector_width(earlier))
        main_grab = r.Select(num_before, r.Map(lambda i: i - 1, indices), eq)
        bos_grab_self = r.SelectorAnd(r.Select(indices, zero, eq), r.Select(indices, indices, eq))
        return r.Aggregate(r.SelectorOr(main_grab, bos_grab_self), seq)

    def has_earlier_copy():
        earlier_copy = r.SelectorAnd(r.Select(tokens, tokens, eq), r.Select(indices, indices, lt))
        return r.Map(lambda x: x > 0, with_bos_selector_width(earlier_copy))

    hist_bos = with_bos_selector_width(r.Select(tokens, tokens, eq))

    def sort_by_most_freq():
        has_earlier = has_earlier_copy()
        filtered_freq = r.SequenceMap(lambda h, e: h - int(e) * FREQUENCY_BOUND, hist_bos, has_earlier)
        filtered_tokens = r.SequenceMap(lambda e, t: BOS if e else t, has_earlier, tokens)
        return sort_bos(filtered_tokens, r.Map(lambda x: -x, filtered_freq))

    def dyck2():
        pairs = ["()", "{}"]
        opens = r.Map(lambda t: 1 if t in "({" else 0, tokens)
        closes = r.Map(lambda t: 1 if t in ")}" else 0, tokens)
        up_to_self = r.Select(indices, indices, leq)

        def running_count(ones):
            share = r.numerical(r.Aggregate(up_to_self, r.numerical(ones), default=0))
            return r.SequenceMap(lambda i, s: round((i + 1) * s), indices, share)

        depth = r.SequenceMap(lambda a, b: a - b, running_count(opens), running_count(closes))
        delay_closer = r.SequenceMap(lambda d, c: d + c, depth, closes)
        same_delay = r.Select(delay_closer, delay_closer, eq)
        depth_index = r.SelectorWidth(r.SelectorAnd(same_delay, up_to_self))
        open_for_close = r.SelectorAnd(r.SelectorAnd(r.Select(opens, one, eq), same_delay),
                                       r.Select(depth_index, r.Map(lambda d: d - 1, depth_index), eq))
        matched_opener = r.Aggregate(open_for_close, tokens, default="-")
        opener_matches = r.SequenceMap(lambda m, t: m + t in pairs, matched_opener, tokens)
        mismatch = r.SequenceMap(lambda c, m: bool(c) and not m, closes, opener_matches)
        problem = r.SequenceMap(lambda m, d: 1 if m or d < 0 else 0, mismatch, depth)
        had_problem = r.Map(lambda x: x > 0, r.numerical(r.Aggregate(up_to_self, r.numerical(problem), default=0)))
        return r.SequenceMap(lambda p, d: "F" if p else ("T" if d == 0 else "P"), had_problem, depth)

    from tracr.compiler import lib

    return {
        "reverse": lib.make_reverse(tokens),  # the paper's reverse: length - indices - 1 (length by selector width)
        "histogram": hist_bos,
        "sort": sort_bos(tokens, tokens),
        "most-frequent sort": sort_by_most_freq(),
        "Dyck-2": dyck2(),
    }


# ------------------------------------------------------------ evaluators


def rasp_session() -> Session:
    session = Session()
    session.sop_examples_on = session.selector_examples_on = False
    session.run(bench.PROGRAMS, "bench.rasp")
    return session


def _median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


def compare_evaluators(session: Session, tracr_rasp, lengths, runs: int) -> list[dict]:
    """Median milliseconds per evaluation of each program, rasp and tracr alternately on the same inputs."""
    ports = tracr_programs(tracr_rasp) if tracr_rasp is not None else {}
    rng = random.Random(20210611)
    rows = []
    for title, (name, kind) in bench.BENCHMARKS.items():
        ours = session[name]
        for n in lengths:
            inputs = [bench.make_input(kind, n, rng) for _ in range(runs)]
            ours_times, tracr_times, ours_cpu, tracr_cpu = [], [], [], []
            for tokens in inputs:
                start, start_cpu = time.perf_counter(), time.process_time()
                expected = ours(tokens).values
                ours_times.append(time.perf_counter() - start)
                ours_cpu.append(time.process_time() - start_cpu)
                if title in ports:
                    start, start_cpu = time.perf_counter(), time.process_time()
                    got = tracr_rasp.evaluate(ports[title], tokens)
                    tracr_times.append(time.perf_counter() - start)
                    tracr_cpu.append(time.process_time() - start_cpu)
                    if list(got) != list(expected):
                        raise SystemExit(f"{title}: tracr gives {got} where rasp gives {expected} on {tokens}")
            row = {"program": title, "n": n, "rasp_ms": _median_ms(ours_times), "rasp_cpu_ms": _median_ms(ours_cpu)}
            if tracr_times:
                row["tracr_ms"], row["tracr_cpu_ms"] = _median_ms(tracr_times), _median_ms(tracr_cpu)
            rows.append(row)
    return rows


# ------------------------------------------------------------ compilers

# table name -> (rasp expression, tracr program maker(lib, rasp, max_len), vocabulary)
COMPILED = {
    "reverse": ("reverse(tokens)", lambda lib, r, m: lib.make_reverse(r.tokens), "abcd"),
    "histogram": ("histogram(tokens)", lambda lib, r, m: lib.make_hist(), "abcd"),
    "sort_unique": ("sort_unique(tokens, tokens)", lambda lib, r, m: lib.make_sort_unique(r.tokens, r.tokens),
                    [1, 2, 3, 4]),
    "sort_by_count": ("sort_by_count(tokens)", lambda lib, r, m: lib.make_sort_freq(m), "abcd"),
    "shuffle_dyck2": ("shuffle_dyck2(tokens)", lambda lib, r, m: lib.make_shuffle_dyck2(), "(){}"),
}


def compile_rasp(session: Session, expression: str, vocab, max_len: int) -> dict:
    from rasp.compiler import compile_program
    from rasp.errors import RaspError

    session.run(f"_compared = {expression};", "compare.rasp")
    node = session.globals.lookup("_compared")
    start = time.perf_counter()
    try:
        compiled = compile_program(node, "_compared", max_len=max_len, vocab=vocab, check=100)
    except RaspError as error:
        return {"error": error.message[:60]}
    seconds = time.perf_counter() - start
    arrays = compiled.model.arrays().values()
    return {"seconds": seconds, "layers": compiled.model.layers, "params": sum(int(a.size) for a in arrays),
            "nonzero": sum(int((a != 0).sum()) for a in arrays), "exact": compiled.agrees}


def compile_tracr(make, vocab, max_len: int) -> dict:
    import numpy as np
    from tracr.compiler import compiling, lib
    from tracr.rasp import rasp as r

    program = make(lib, r, max_len)
    start = time.perf_counter()
    try:
        model = compiling.compile_rasp_to_model(program, vocab=set(vocab), max_seq_len=max_len, compiler_bos="BOS")
    except Exception as error:  # noqa: BLE001 - whatever tracr refuses, say so in the table
        return {"error": f"{type(error).__name__}: {error}"[:60]}
    seconds = time.perf_counter() - start
    arrays = [np.asarray(a) for module in model.params.values() for a in module.values()]
    layers = sum(1 for name in model.params if name.endswith("attn/query"))
    return {"seconds": seconds, "layers": layers, "params": sum(a.size for a in arrays),
            "nonzero": sum(int((a != 0).sum()) for a in arrays)}


def compare_compilers(with_tracr: bool, lengths) -> list[dict]:
    session = Session()  # the standard library's programs (the benchmark's session rebinds `reverse`)
    session.sop_examples_on = session.selector_examples_on = False
    session.run('load "reverse"; load "histogram"; load "sort"; load "tracr";', "compare.rasp")
    rows = []
    for title, (expression, make, vocab) in COMPILED.items():
        for max_len in lengths:
            row = {"program": title, "max_len": max_len, "rasp": compile_rasp(session, expression, vocab, max_len)}
            if with_tracr:
                row["tracr"] = compile_tracr(make, vocab, max_len)
            rows.append(row)
    return rows


# ------------------------------------------------------------ report


def format_evaluators(rows: list[dict]) -> str:
    lines = ["evaluators: median ms per evaluation, wall clock and CPU time (rasp: session[name](tokens); "
             "tracr: rasp.evaluate)",
             "program                n     rasp ms    tracr ms   rasp faster by   rasp CPU ms  tracr CPU ms  faster by"]
    for row in rows:
        tracr_ms, tracr_cpu = row.get("tracr_ms"), row.get("tracr_cpu_ms")
        ratio = f"{tracr_ms / row['rasp_ms']:.2f}x" if tracr_ms else "-"
        cpu_ratio = f"{tracr_cpu / row['rasp_cpu_ms']:.2f}x" if tracr_cpu and row["rasp_cpu_ms"] else "-"
        lines.append(f"{row['program']:<20} {row['n']:>4} {row['rasp_ms']:>10.3f} "
                     f"{f'{tracr_ms:.3f}' if tracr_ms else '-':>11} {ratio:>14} {row['rasp_cpu_ms']:>13.3f} "
                     f"{f'{tracr_cpu:.3f}' if tracr_cpu else '-':>13} {cpu_ratio:>10}")
    return "\n".join(lines)


def _compiled_text(figures: dict | None) -> str:
    if figures is None:
        return "-"
    if "error" in figures:
        return f"refused: {figures['error']}"
    exact = "" if figures.get("exact", True) else " (wrong)"
    return (f"{figures['seconds']:.2f} s, {figures['layers']} layers, {figures['params']:,} params "
            f"({figures['nonzero']:,} non-zero){exact}")


def format_compilers(rows: list[dict]) -> str:
    lines = ["compilers: compile time, layers, parameters stored (non-zero)",
             f"{'program':<15} {'max_len':>7}  {'rasp':<55} tracr"]
    for row in rows:
        lines.append(f"{row['program']:<15} {row['max_len']:>7}  {_compiled_text(row['rasp']):<55} "
                     f"{_compiled_text(row.get('tracr'))}")
    return "\n".join(lines)


def machine_text() -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return (f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; Python {platform.python_version()}, "
            f"{os.cpu_count()} CPUs, load average {load}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few runs, n = 16 only, no compilers")
    parser.add_argument("--no-compile", action="store_true", help="evaluators only")
    parser.add_argument("--runs", type=int, default=None, help="evaluations per program and length (default 101)")
    args = parser.parse_args(argv)
    tracr_rasp = load_tracr()
    if tracr_rasp is None:
        print("tracr is not installed: rasp's figures only (docs/performance.md says how to install tracr)\n")
    session = rasp_session()
    runs = args.runs or (21 if args.quick else 101)
    lengths = (16,) if args.quick else (16, 64)
    print(format_evaluators(compare_evaluators(session, tracr_rasp, lengths, runs)))
    if not (args.quick or args.no_compile):
        print()
        print(format_compilers(compare_compilers(tracr_rasp is not None, (5, 10))))
    print(f"\n{machine_text()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
