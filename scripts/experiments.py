"""The experiments of "Thinking Like Transformers" with rasp's trainer (docs/training.md, 'The experiment').

Seven tasks x (the analysis's predicted shape and three ablations) x (with / without attention
supervision) x seeds, each run an independent process computing a pure function of its settings
(run_one), so that the runs could be dispatched anywhere. Prints a Markdown table (median and
range over seeds) and writes JSON.

    python scripts/experiments.py --preset cpu --jobs 2 --out results.json
    python scripts/experiments.py --quick
    python scripts/experiments.py --preset paper   # the paper's sizes: for an accelerator
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

# task: (program text over `tokens`, vocabulary, Dyck pairs or None)
TASKS = {
    "reverse": ("reverse(tokens)", list("abcd"), None),
    "hist": ("histogram(tokens)", list("abcd"), None),
    "double_hist": ("double_histogram(tokens)", list("abcd"), None),
    "sort": ("sort(tokens, tokens)", list("abcd"), None),
    "most_freq": ('sort_by_frequency(tokens, "_")', list("abcd"), None),
    "dyck1": ("dyck1(tokens)", ["(", ")", "x"], ("()",)),
    "dyck2": ("dyck2(tokens)", ["(", ")", "{", "}", "x"], ("()", "{}")),
}
SHAPES = ("predicted", "fewer_heads", "fewer_layers", "fewer_layers_wider")

PRESETS = {
    # sized for a 2-core machine (docs/training.md has its measured time): lengths to 10, 3,000 examples, d_model 64
    "cpu": {"min_len": 1, "max_len": 10, "examples": 3000, "validation": 300, "test": 500, "epochs": 30,
            "d_model": 64, "lr": 3e-3, "decay": 0.98, "batch": 50, "seeds": [0, 1, 2], "supervise": [False, True]},
    # the paper's sizes (RESEARCH.md section 1): lengths to 100, d_model 256, 50k examples
    "paper": {"min_len": 1, "max_len": 100, "examples": 50_000, "validation": 1000, "test": 1000, "epochs": 100,
              "d_model": 256, "d_ff": 512, "lr": 3e-4, "decay": 0.98, "batch": 50, "seeds": [0, 1, 2, 3],
              "supervise": [False, True]},
}
QUICK = {"min_len": 1, "max_len": 5, "examples": 200, "validation": 50, "test": 100, "epochs": 2, "d_model": 16,
         "lr": 3e-3, "decay": 0.98, "batch": 50, "seeds": [0], "supervise": [False]}


def run_one(run: dict) -> dict:
    """One training run: its settings in, its figures out (no shared state)."""
    os.environ.setdefault("XLA_FLAGS", XLA_ONE_THREAD)
    import rasp
    from rasp.errors import RaspError
    from rasp.training.data import Distribution
    from rasp.training.trainer import Settings, train_model

    source, vocab, dyck = TASKS[run["task"]]
    session = rasp.Session()
    session.run(f'load "paper"; program = {source};')
    node = session["program"].node
    dist = Distribution(vocab=tuple(vocab), min_len=run["min_len"], max_len=run["max_len"], bos=True,
                        dyck=tuple(dyck) if dyck else None)
    keys = ("examples", "validation", "test", "epochs", "d_model", "d_ff", "lr", "decay", "batch", "seed",
            "variant", "supervise")
    settings = Settings(**{k: run[k] for k in keys if k in run})
    started = time.perf_counter()
    try:
        trained = train_model(node, dist, settings, name=run["task"])
    except RaspError as error:  # e.g. an ablation that leaves no layer
        return {**run, "error": error.message, "seconds": time.perf_counter() - started}
    return {**run, **trained.to_json(), "heads": [trained.shape.heads] * trained.shape.layers,
            "seconds": trained.seconds}


def plan(config: dict, tasks: list[str], shapes: list[str]) -> list[dict]:
    """Every run of the design. Supervised runs use the predicted shape only unless `supervise_ablations`:
    an ablation has no head for some of the analysis's selectors, so its supervision is partial."""
    base = {k: v for k, v in config.items() if k not in ("seeds", "supervise", "supervise_ablations")}
    return [{**base, "task": task, "variant": shape, "supervise": supervise, "seed": seed}
            for task in tasks for shape in shapes for supervise in config["supervise"] for seed in config["seeds"]
            if not supervise or shape == "predicted" or config.get("supervise_ablations")]


def _figure(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{100 * statistics.median(values):.1f} ({100 * min(values):.1f}-{100 * max(values):.1f})"


def table(results: list[dict]) -> str:
    """Markdown: one row per task, shape and supervision; median (range) over seeds."""
    lines = ["| task | variant | supervised | shape (layers x heads, d_model) | token acc. % | sequence acc. % "
             "| seconds (median) |", "|---|---|---|---|---|---|---|"]
    groups: dict[tuple, list[dict]] = {}
    for r in results:
        groups.setdefault((r["task"], r["variant"], r["supervise"]), []).append(r)
    for (task, variant, supervise), runs in groups.items():
        good = [r for r in runs if "error" not in r]
        if not good:
            lines.append(f"| {task} | {variant} | {'yes' if supervise else 'no'} | - | ({runs[0]['error']}) | | |")
            continue
        shape = f"{good[0]['layers']} x {good[0]['heads'][0]}, {good[0]['d_model']}"
        lines.append(f"| {task} | {variant} | {'yes' if supervise else 'no'} | {shape} "
                     f"| {_figure([r['token_accuracy'] for r in good])} "
                     f"| {_figure([r['sequence_accuracy'] for r in good])} "
                     f"| {statistics.median(r['seconds'] for r in good):.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="cpu")
    parser.add_argument("--quick", action="store_true", help="a smoke run: tiny data, 2 epochs, one seed")
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated, from " + ", ".join(TASKS))
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--seeds", help="comma-separated seeds (default: the preset's)")
    parser.add_argument("--supervise", choices=["no", "yes", "both"], help="default: the preset's")
    parser.add_argument("--supervise-ablations", action="store_true",
                        help="supervise the ablations' heads too (default: supervised runs use the predicted shape)")
    parser.add_argument("--examples", type=int)
    parser.add_argument("--max-len", type=int)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--d-model", type=int)
    parser.add_argument("--jobs", type=int, default=max(os.cpu_count() or 1, 1))
    parser.add_argument("--out", default="experiments.json")
    args = parser.parse_args(argv)
    config = dict(QUICK if args.quick else PRESETS[args.preset])
    for key in ("examples", "max_len", "epochs", "d_model"):
        if getattr(args, key) is not None:
            config[key] = getattr(args, key)
    if args.seeds:
        config["seeds"] = [int(s) for s in args.seeds.split(",")]
    if args.supervise:
        config["supervise"] = {"no": [False], "yes": [True], "both": [False, True]}[args.supervise]
    config["supervise_ablations"] = args.supervise_ablations
    runs = plan(config, args.tasks.split(","), args.shapes.split(","))
    started = time.perf_counter()
    results = run_parallel(run_one, runs, args.jobs, args.out, describe=lambda r: (
        f"{r['task']} {r['variant']} seed {r['seed']}: "
        + (r.get("error") or f"{100 * r['sequence_accuracy']:.1f}% sequences")))
    order = {(t, s): i for i, (t, s) in enumerate((t, s) for t in TASKS for s in SHAPES)}
    results.sort(key=lambda r: (order.get((r["task"], r["variant"]), 0), r["supervise"], r["seed"]))
    meta = run_meta(config, args.jobs, started)
    Path(args.out).write_text(json.dumps({"meta": meta, "runs": results}, indent=1))
    print(table(results))
    print(f"\n{len(runs)} runs in {meta['seconds']:.0f} s; {meta['machine']}; load {meta['load']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
