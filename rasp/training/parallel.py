"""Running an experiment's independent runs in parallel processes (scripts/experiments.py,
scripts/lengthgen.py, scripts/learn_tasks.py).

Each run is a dict of settings and `run_one(settings) -> dict` a pure function of it, so the runs
could be dispatched anywhere. NumPy only here: the workers import JAX, the parent need not.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def run_parallel(run_one: Callable[[dict], dict], runs: list[dict], jobs: int, out: str,
                 describe: Callable[[dict], str]) -> list[dict]:
    """Every run's result, in the order they finish. Each is appended to OUT.partial.jsonl as it comes
    (so a run cut short keeps what it measured) and announced on stderr as `[k/N] describe(result)`.
    One XLA thread per process: `jobs` processes share the cores."""
    os.environ["XLA_FLAGS"] = XLA_ONE_THREAD
    partial = Path(out).with_suffix(".partial.jsonl")
    partial.write_text("")
    results: list[dict] = []
    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        for result in pool.imap_unordered(run_one, runs):
            results.append(result)
            with partial.open("a") as stream:
                stream.write(json.dumps(result, default=str) + "\n")
            print(f"[{len(results)}/{len(runs)}] {describe(result)}", file=sys.stderr, flush=True)
    return results


def run_meta(config: dict, jobs: int, started: float) -> dict:
    """What a results file says about how it was made: settings, processes, time, machine, date, load."""
    return {"config": config, "jobs": jobs, "seconds": time.perf_counter() - started,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "load": os.getloadavg() if hasattr(os, "getloadavg") else None}
