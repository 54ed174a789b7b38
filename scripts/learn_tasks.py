"""The Transformer Programs task table (docs/learning.md, 'Measured: the task table').

Learns the RASP paper's tasks — reverse, histogram, double histogram, sort, most-frequent,
Dyck-1, Dyck-2 (vocabulary 8, lengths 1-8; Dyck lengths 1-16) — from examples the library's
programs produce (rasp/training/data.py: the same input distributions, the Dyck mixture for
Dyck), with several seeds, each run an independent process (as scripts/experiments.py).
Every run is rasp.learning.pipeline.learn: learn_examples (the hard program's held-out accuracy)
→ simplify → decompile → agreement of the RASP with the hard program on the held-out inputs →
size in lines → `analyse` of the RASP's result (layers, heads per layer). Prints a Markdown
table (median and range over seeds) and writes JSON (each run also to OUT.partial.jsonl as it
finishes).

    nice -n 10 python scripts/learn_tasks.py --preset cpu --jobs 2 --out learn_tasks.json
    python scripts/learn_tasks.py --quick
    python scripts/learn_tasks.py --preset paper   # Transformer Programs' sizes: for an accelerator
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rasp.training.parallel import XLA_ONE_THREAD, run_meta, run_parallel  # noqa: E402

LETTERS = tuple("abcdefgh")
# task: (program over `tokens`, vocabulary, Dyck pairs or None, longest input)
TASKS = {
    "reverse": ("reverse(tokens)", LETTERS, None, 8),
    "hist": ("histogram(tokens)", LETTERS, None, 8),
    "double_hist": ("double_histogram(tokens)", LETTERS, None, 8),
    "sort": ("sort(tokens, tokens)", LETTERS, None, 8),
    "most_freq": ('sort_by_frequency(tokens, "_")', LETTERS, None, 8),
    "dyck1": ("dyck1(tokens)", ("(", ")") + LETTERS[:6], ("()",), 16),
    "dyck2": ("dyck2(tokens)", ("(", ")", "{", "}") + LETTERS[:4], ("()", "{}"), 16),
}
# The published re-run of Transformer Programs (one seed), test accuracy % (RESEARCH.md section 3)
PUBLISHED = {"reverse": 99.74, "hist": 99.95, "double_hist": 94.4, "sort": 99.98, "most_freq": 77.8,
             "dyck1": 99.17, "dyck2": 98.34}

PRESETS = {
    # sized for this loaded 2-core machine: ~20-30 minutes at nice 10 with 2 jobs
    "cpu": {"examples": 2000, "layers": 3, "categorical_heads": 2, "counting_heads": 1, "mlps": 1, "epochs": 100,
            "batch": 512, "lr": 5e-2, "restarts": 1, "seeds": [0, 1]},
    # Transformer Programs' sizes (RESEARCH.md section 3): 20,000 examples, 3 layers, 4 + 4 heads, 250 epochs
    "paper": {"examples": 20_000, "layers": 3, "categorical_heads": 4, "counting_heads": 4, "mlps": 2,
              "epochs": 250, "batch": 512, "lr": 5e-2, "restarts": 1, "seeds": [0, 1, 2]},
}
QUICK = {"examples": 300, "layers": 1, "categorical_heads": 1, "counting_heads": 1, "mlps": 1, "epochs": 3,
         "batch": 512, "lr": 5e-2, "restarts": 1, "seeds": [0], "max_len": 5}
SETTING_KEYS = ("layers", "categorical_heads", "counting_heads", "mlps", "epochs", "batch", "lr", "restarts", "seed",
                "var_size")


def examples(task: str, n: int, seed: int, max_len: int | None = None) -> tuple[list, list]:
    """n inputs of `task`'s distribution and the library program's outputs on them."""
    import numpy as np

    import rasp
    from rasp.training.data import Distribution, program_outputs, sample_inputs

    source, vocab, dyck, longest = TASKS[task]
    session = rasp.Session()
    session.run(f'load "paper"; program = {source};')
    dist = Distribution(vocab=vocab, min_len=1, max_len=max_len or longest, dyck=dyck)
    inputs = sample_inputs(dist, n, np.random.default_rng(seed + 7_000_003))
    return inputs, program_outputs(session["program"].node, inputs)


def run_one(run: dict) -> dict:
    """One learning run: its settings in, its figures out (no shared state)."""
    os.environ.setdefault("XLA_FLAGS", XLA_ONE_THREAD)
    import jax

    if run.get("cache"):  # the seeds of a task have one shape: compile it once (JAX's persistent cache)
        jax.config.update("jax_compilation_cache_dir", run["cache"])
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    from rasp.errors import RaspError
    from rasp.learning.pipeline import learn
    from rasp.learning.trainer import LearnSettings

    started = time.perf_counter()
    try:
        inputs, outputs = examples(run["task"], run["examples"], run["seed"], run.get("max_len"))
        settings = LearnSettings(**{k: run[k] for k in SETTING_KEYS if k in run})
        learned = learn(inputs, outputs, settings)
    except RaspError as error:
        return {**run, "error": error.message, "seconds": time.perf_counter() - started}
    found = learned.to_json()
    return {**run, **{k: found[k] for k in ("token_accuracy", "sequence_accuracy", "train_accuracy", "agreement",
                                            "lines", "size_before", "size_after", "program")},
            "analysed_layers": found["layers"], "analysed_heads": found["heads"],
            "learn_seconds": learned.learned.seconds, "seconds": time.perf_counter() - started}


def plan(config: dict, tasks: list[str]) -> list[dict]:
    base = {k: v for k, v in config.items() if k != "seeds"}
    return [{**base, "task": task, "seed": seed} for task in tasks for seed in config["seeds"]]


def _percent(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{100 * statistics.median(values):.1f} ({100 * min(values):.1f}-{100 * max(values):.1f})"


def _median(values: list, digits: int = 0) -> str:
    values = [v for v in values if v is not None]
    return f"{statistics.median(values):.{digits}f}" if values else "-"


def table(results: list[dict]) -> str:
    """Markdown: one row per task; median (range) over seeds."""
    lines = ["| task | seeds | token acc. % | sequence acc. % | published acc. % | agreement % | RASP lines "
             "| analysed layers / heads | seconds (median) |", "|---|---|---|---|---|---|---|---|---|"]
    groups: dict[str, list[dict]] = {}
    for r in results:
        groups.setdefault(r["task"], []).append(r)
    for task, runs in groups.items():
        good = [r for r in runs if "error" not in r]
        if not good:
            lines.append(f"| {task} | {len(runs)} | ({runs[0]['error']}) | | {PUBLISHED[task]} | | | | |")
            continue
        analysed = "-"
        if all("analysed_layers" in r for r in good):
            analysed = "; ".join(f"{r['analysed_layers']} / {','.join(map(str, r['analysed_heads']))}" for r in good)
        agreement = _percent([r["agreement"] for r in good if "agreement" in r])
        lines.append(f"| {task} | {len(good)} | {_percent([r['token_accuracy'] for r in good])} "
                     f"| {_percent([r['sequence_accuracy'] for r in good])} | {PUBLISHED[task]} | {agreement} "
                     f"| {_median([r.get('lines') for r in good])} | {analysed} "
                     f"| {_median([r['seconds'] for r in good])} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="cpu")
    parser.add_argument("--quick", action="store_true", help="a smoke run: tiny data, 3 epochs, one seed, length 5")
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated, from " + ", ".join(TASKS))
    parser.add_argument("--seeds", help="comma-separated seeds (default: the preset's)")
    parser.add_argument("--examples", type=int)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--layers", type=int)
    parser.add_argument("--jobs", type=int, default=max(os.cpu_count() or 1, 1))
    parser.add_argument("--out", default="learn_tasks.json")
    parser.add_argument("--cache", help="a directory for JAX's persistent compilation cache (shared by the runs)")
    args = parser.parse_args(argv)
    config = dict(QUICK if args.quick else PRESETS[args.preset])
    for key in ("examples", "epochs", "layers"):
        if getattr(args, key) is not None:
            config[key] = getattr(args, key)
    if args.seeds:
        config["seeds"] = [int(s) for s in args.seeds.split(",")]
    tasks = args.tasks.split(",")
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        parser.error(f"unknown task {unknown[0]!r}: one of {', '.join(TASKS)}")
    runs = plan(config, tasks)
    if args.cache:
        runs = [{**r, "cache": str(Path(args.cache).resolve())} for r in runs]
    started = time.perf_counter()
    results = run_parallel(run_one, runs, args.jobs, args.out, describe=lambda r: (
        f"{r['task']} seed {r['seed']}: "
        + (r.get("error") or f"{100 * r['token_accuracy']:.1f}% tokens, {r['seconds']:.0f} s")))
    order = {t: i for i, t in enumerate(TASKS)}
    results.sort(key=lambda r: (order[r["task"]], r["seed"]))
    meta = run_meta(config, args.jobs, started)
    Path(args.out).write_text(json.dumps({"meta": meta, "runs": results}, indent=1, default=str))
    print(table(results))
    print(f"\n{len(runs)} runs, {meta['seconds']:.0f} s wall-clock, {args.jobs} jobs; {meta['machine']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
