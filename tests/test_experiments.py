"""scripts/experiments.py: the plan of runs, the table, and a smoke run through the real trainer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support import load_script as _load

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "experiments.py"


def test_the_plan_crosses_tasks_shapes_and_seeds_and_supervises_the_predicted_shape():
    experiments = _load("experiments")
    config = {**experiments.PRESETS["cpu"], "supervise_ablations": False}
    runs = experiments.plan(config, list(experiments.TASKS), list(experiments.SHAPES))
    seeds = len(config["seeds"])
    unsupervised = [r for r in runs if not r["supervise"]]
    supervised = [r for r in runs if r["supervise"]]
    assert len(unsupervised) == len(experiments.TASKS) * len(experiments.SHAPES) * seeds
    assert {r["variant"] for r in supervised} == {"predicted"}
    assert len(supervised) == len(experiments.TASKS) * seeds
    everything = experiments.plan({**config, "supervise_ablations": True}, ["hist"], list(experiments.SHAPES))
    assert len(everything) == len(experiments.SHAPES) * 2 * seeds
    assert all("seeds" not in r and "supervise_ablations" not in r for r in runs)


def test_the_table_gives_median_and_range_over_seeds_and_the_reason_a_run_could_not_be_made():
    experiments = _load("experiments")
    runs = [{"task": "hist", "variant": "predicted", "supervise": False, "layers": 1, "heads": [1], "d_model": 64,
             "token_accuracy": t, "sequence_accuracy": s, "seconds": sec}
            for t, s, sec in ((1.0, 1.0, 10), (0.9, 0.5, 20), (0.95, 0.75, 30))]
    runs.append({"task": "hist", "variant": "fewer_layers", "supervise": False, "error": "leaves 0 layers"})
    lines = experiments.table(runs).splitlines()
    assert lines[2] == "| hist | predicted | no | 1 x 1, 64 | 95.0 (90.0-100.0) | 75.0 (50.0-100.0) | 20 |"
    assert "(leaves 0 layers)" in lines[3]


@pytest.mark.slow
def test_a_quick_run_trains_through_the_real_pipeline_and_writes_json(tmp_path):
    pytest.importorskip("jax")
    out = tmp_path / "runs.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--tasks", "hist", "--shapes",
                           "predicted,fewer_layers", "--jobs", "1", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    written = json.loads(out.read_text())
    assert [r["variant"] for r in written["runs"]] == ["predicted", "fewer_layers"]
    trained, refused = written["runs"]
    assert 0.0 <= trained["token_accuracy"] <= 1.0 and trained["layers"] == 1
    assert "error" in refused
    assert written["meta"]["config"]["examples"] == _load("experiments").QUICK["examples"]
    assert "| hist | predicted | no | 1 x 1, 16 |" in done.stdout
    assert "[2/2]" in done.stderr  # progress, one line per finished run
