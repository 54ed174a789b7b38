"""Length generalisation on the RASP-L paper's tasks (docs/lengthgen.md).

Causal transformers trained by next-token prediction on lengths 1..L of each task and tested at every
length up to 2L and beyond; tasks with RASP-L programs (count, mode, copy_unique, sort, add_hints) and
without (parity, copy_repeat, add_plain). Each run is an independent process computing a pure function
of its settings (rasp.training.lengthgen.experiment.run). Prints Markdown tables of whole-answer and
per-token accuracy per test length, writes every run as JSON and a PNG plot (accuracy vs. length).

    python scripts/lengthgen.py --quick
    nice -n 10 python scripts/lengthgen.py --preset cpu --jobs 2 --out docs/results/lengthgen_cpu.json
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

from rasp.training.lengthgen.tasks import TASK_NAMES  # noqa: E402 (NumPy only: no JAX in the parent)
from rasp.training.parallel import XLA_ONE_THREAD, run_meta, run_parallel  # noqa: E402

RASPL_TASKS = ("count", "mode", "copy_unique", "sort", "add_hints")

PRESETS = {
    # sized for the loaded 2-core machine (about 25 minutes with --jobs 2 at nice 10)
    "cpu": {"train_length": 8, "test_lengths": [*range(1, 17), 20, 24], "layers": 4, "heads": 4, "d_model": 64,
            "d_ff": 256, "examples": 5000, "test_per_length": 100, "steps": 1500, "batch": 32, "lr": 1e-3,
            "seeds": [0, 1], "positions": ["none"],
            # the position-encoding comparison: these tasks again with absolute sinusoids
            "compare_positions": {"tasks": ["count", "copy_unique"], "positions": "sinusoidal", "seeds": [0]}},
}
QUICK = {"train_length": 3, "test_lengths": [1, 2, 3, 4, 6], "layers": 1, "heads": 2, "d_model": 16, "d_ff": 32,
         "examples": 200, "test_per_length": 20, "steps": 30, "batch": 16, "lr": 3e-3, "seeds": [0],
         "positions": ["none"], "compare_positions": None}
QUICK_TASKS = ("count", "parity")  # one task with a RASP-L program, one without
RUN_KEYS = ("train_length", "layers", "heads", "d_model", "d_ff", "examples", "test_per_length", "steps", "batch",
            "lr")


def run_one(run: dict) -> dict:
    """One run: its settings in, its figures out (no shared state)."""
    os.environ.setdefault("XLA_FLAGS", XLA_ONE_THREAD)
    from rasp.errors import RaspError
    from rasp.training.lengthgen.experiment import RunSettings
    from rasp.training.lengthgen.experiment import run as run_settings

    settings = RunSettings(task=run["task"], test_lengths=tuple(run["test_lengths"]), positions=run["positions"],
                           seed=run["seed"], **{k: run[k] for k in RUN_KEYS})
    try:
        return {**run, **run_settings(settings)}
    except RaspError as error:
        return {**run, "error": error.message}


def plan(config: dict, tasks: list[str]) -> list[dict]:
    base = {k: config[k] for k in (*RUN_KEYS, "test_lengths")}
    runs = [{**base, "task": t, "positions": p, "seed": s}
            for t in tasks for p in config["positions"] for s in config["seeds"]]
    compare = config.get("compare_positions")
    if compare:
        runs += [{**base, "task": t, "positions": compare["positions"], "seed": s}
                 for t in compare["tasks"] if t in tasks for s in compare["seeds"]]
    return runs


def grouped(results: list[dict]) -> dict[tuple, list[dict]]:
    """(task, positions) -> its runs without errors, in task order."""
    groups: dict[tuple, list[dict]] = {}
    for r in sorted(results, key=lambda r: (r["positions"] != "none", TASK_NAMES.index(r["task"]), r["seed"])):
        groups.setdefault((r["task"], r["positions"]), [])
        if "error" not in r:
            groups[(r["task"], r["positions"])].append(r)
    return groups


def accuracy_by_length(runs: list[dict], key: str) -> dict[int, list[float]]:
    figures: dict[int, list[float]] = {}
    for r in runs:
        for point in r["per_length"]:
            figures.setdefault(point["length"], []).append(point[key])
    return figures


def table(results: list[dict], key: str) -> str:
    """Markdown: one row per task (and position encoding), one column per test length; the median over seeds, %."""
    lengths = sorted({p["length"] for r in results if "error" not in r for p in r["per_length"]})
    train_length = results[0]["train_length"]
    header = [f"**{n}**" if n <= train_length else str(n) for n in lengths]
    lines = ["| task | RASP-L | positions | seeds | " + " | ".join(header) + " |",
             "|---|---|---|---|" + "---|" * len(lengths)]
    for (task, positions), runs in grouped(results).items():
        if not runs:
            lines.append(f"| {task} | | {positions} | 0 | (failed) |")
            continue
        figures = accuracy_by_length(runs, key)
        cells = [f"{100 * statistics.median(figures[n]):.0f}" if n in figures else "-" for n in lengths]
        lines.append(f"| {task} | {'yes' if task in RASPL_TASKS else 'no'} | {positions} | {len(runs)} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(results: list[dict], path: str, title: str) -> None:
    """Whole-answer accuracy vs. length: one line per task (median over seeds, the range shaded), RASP-L tasks
    solid, the others dashed, the training lengths shaded; a second panel compares position encodings."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = grouped(results)
    compared = sorted({t for (t, p) in groups if p != "none"}, key=TASK_NAMES.index)
    panels = 2 if compared else 1
    fig, axes = plt.subplots(1, panels, figsize=(7.5 * panels, 6), squeeze=False)
    colours = dict(zip(TASK_NAMES, plt.get_cmap("tab10").colors, strict=False))
    train_length = results[0]["train_length"]
    for panel, ax in enumerate(axes[0]):
        for (task, positions), runs in groups.items():
            if not runs or (panel == 0 and positions != "none") or (panel == 1 and task not in compared):
                continue
            figures = accuracy_by_length(runs, "sequence_accuracy")
            lengths = sorted(figures)
            median = [100 * statistics.median(figures[n]) for n in lengths]
            style = "-" if (task in RASPL_TASKS if panel == 0 else positions == "none") else "--"
            label = (f"{task}{' (RASP-L)' if task in RASPL_TASKS else ''}" if panel == 0 else f"{task}, {positions}")
            ax.plot(lengths, median, style, marker="o", markersize=3, color=colours[task], label=label)
            if len(runs) > 1:
                ax.fill_between(lengths, [100 * min(figures[n]) for n in lengths],
                                [100 * max(figures[n]) for n in lengths], color=colours[task], alpha=0.12)
        ax.axvspan(0.5, train_length + 0.5, color="grey", alpha=0.15, label=f"training lengths 1-{train_length}")
        ax.set_xlabel("test length (numbers counted, tokens, or digits per operand)")
        ax.set_ylabel("whole answer correct (%)")
        ax.set_ylim(-3, 103)
        ax.set_title("no position encoding" if panel == 0 else "positions: none (solid) vs. sinusoidal (dashed)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def report(meta: dict, results: list[dict], picture: str) -> None:
    """Write the plot, print the two tables and how they were made."""
    config = meta["config"]
    try:
        plot(results, picture, f"trained on lengths 1-{config['train_length']}: {config['layers']} layers x "
             f"{config['heads']} heads, d_model {config['d_model']}, {config['steps']} steps; {meta['date']}")
    except ImportError:
        picture = 'none (the plot needs matplotlib: pip install "rasp[train]")'
    print("Whole answer correct (%), median over seeds; training lengths in bold\n")
    print(table(results, "sequence_accuracy"))
    print("\nAnswer tokens correct (%, teacher-forced), median over seeds\n")
    print(table(results, "token_accuracy"))
    print(f"\n{len(results)} runs in {meta['seconds']:.0f} s; {meta['machine']}; load {meta['load']}; plot {picture}")


def _described(result: dict) -> str:
    done = result.get("error") or " ".join(f"{p['length']}:{100 * p['sequence_accuracy']:.0f}"
                                           for p in result["per_length"])
    return f"{result['task']} {result['positions']} seed {result['seed']}: {done}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="cpu")
    parser.add_argument("--quick", action="store_true", help="a smoke run: a tiny model, 30 steps, one seed, 2 tasks")
    parser.add_argument("--tasks", help="comma-separated, from " + ", ".join(TASK_NAMES)
                        + " (default: all; with --quick, " + ",".join(QUICK_TASKS) + ")")
    parser.add_argument("--seeds", help="comma-separated seeds (default: the preset's)")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--positions", help="comma-separated, from none, sinusoidal: every task with each "
                        "(default: the preset's, none, and its comparison runs)")
    parser.add_argument("--jobs", type=int, default=max(os.cpu_count() or 1, 1))
    parser.add_argument("--replot", metavar="JSON", help="no training: the tables and the plot of a run's JSON")
    parser.add_argument("--out", default="lengthgen.json", help="the JSON of every run; the plot goes beside it (.png)")
    args = parser.parse_args(argv)
    if args.replot:
        saved = json.loads(Path(args.replot).read_text())
        report(saved["meta"], saved["runs"], str(Path(args.replot).with_suffix(".png")))
        return 0
    config = dict(QUICK if args.quick else PRESETS[args.preset])
    if args.seeds:
        config["seeds"] = [int(s) for s in args.seeds.split(",")]
    if args.steps:
        config["steps"] = args.steps
    if args.positions:
        config["positions"], config["compare_positions"] = args.positions.split(","), None
    tasks = args.tasks.split(",") if args.tasks else list(QUICK_TASKS if args.quick else TASK_NAMES)
    unknown = [t for t in tasks if t not in TASK_NAMES]
    if unknown:
        parser.error(f"unknown task {unknown[0]!r}; choose from {', '.join(TASK_NAMES)}")
    runs = sorted(plan(config, tasks), key=lambda r: not r["task"].startswith("add"))  # the longest first
    started = time.perf_counter()
    results = run_parallel(run_one, runs, args.jobs, args.out, describe=_described)
    meta = run_meta(config, args.jobs, started)
    Path(args.out).write_text(json.dumps({"meta": meta, "runs": results}, indent=1))
    Path(args.out).with_suffix(".partial.jsonl").unlink()  # the whole is written
    report(meta, results, str(Path(args.out).with_suffix(".png")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
