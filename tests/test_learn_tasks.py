"""scripts/learn_tasks.py: the plan of runs, the table, the task data, a quick run through the real pipeline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support import load_script as _load

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "learn_tasks.py"


def test_the_plan_is_every_task_with_every_seed():
    script = _load("learn_tasks")
    runs = script.plan(script.PRESETS["cpu"], list(script.TASKS))
    assert len(runs) == len(script.TASKS) * len(script.PRESETS["cpu"]["seeds"])
    assert {(r["task"], r["seed"]) for r in runs} == {(t, s) for t in script.TASKS
                                                       for s in script.PRESETS["cpu"]["seeds"]}
    assert all("seeds" not in r for r in runs)


def test_the_table_gives_median_and_range_over_seeds_and_shows_errors():
    script = _load("learn_tasks")
    good = {"task": "hist", "token_accuracy": 1.0, "sequence_accuracy": 1.0, "agreement": 1.0, "lines": 20,
            "analysed_layers": 1, "analysed_heads": [1], "seconds": 30.0}
    worse = {**good, "token_accuracy": 0.5, "sequence_accuracy": 0.25, "lines": 30, "seconds": 50.0}
    failed = {"task": "sort", "error": "the vocabulary has 65 tokens", "seconds": 1.0}
    text = script.table([good, worse, failed])
    hist = next(line for line in text.splitlines() if line.startswith("| hist"))
    assert "| 75.0 (50.0-100.0) |" in hist and "| 62.5 (25.0-100.0) |" in hist and "| 99.95 |" in hist
    assert "| 25 |" in hist and "1 / 1; 1 / 1" in hist and hist.endswith("| 40 |")
    assert "(the vocabulary has 65 tokens)" in text


def test_task_examples_are_the_library_programs_outputs():
    script = _load("learn_tasks")
    inputs, outputs = script.examples("hist", 20, seed=0)
    assert len(inputs) == 20 and all(1 <= len(x) <= 8 and set(x) <= set("abcdefgh") for x in inputs)
    assert outputs == [[x.count(v) for v in x] for x in inputs]
    dyck_inputs, _ = script.examples("dyck1", 20, seed=0)
    assert max(len(x) for x in dyck_inputs) <= 16


@pytest.mark.slow
def test_a_quick_run_writes_json_and_a_table(tmp_path):
    pytest.importorskip("jax")
    out = tmp_path / "tasks.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--tasks", "hist", "--jobs", "1", "--out", str(out)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    assert "| hist | 1 |" in done.stdout
    (run,) = json.loads(out.read_text())["runs"]
    assert run["task"] == "hist" and run["agreement"] == 1.0 and 0 <= run["token_accuracy"] <= 1
