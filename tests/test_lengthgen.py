"""Length generalisation (docs/lengthgen.md): the causal mask, the next-token data and its RASP-L targets,
and a CI-sized run through the real pipeline."""

from __future__ import annotations

import json

import numpy as np
import pytest
from support import load_script

from rasp.errors import RaspValueError
from rasp.training.data import IGNORED
from rasp.training.lengthgen.data import encoding_of, make_data, program_targets, targets
from rasp.training.lengthgen.tasks import TASK_NAMES, Example, Task, canonical, make_task, uncanonical

pytest.importorskip("jax")
pytest.importorskip("optax")

PROGRAM_TASKS = [name for name in TASK_NAMES if make_task(name, 4).program is not None]


def test_the_tasks_with_raspl_programs_are_the_papers():
    assert PROGRAM_TASKS == ["count", "mode", "copy_unique", "sort", "add_hints"]
    assert [n for n in TASK_NAMES if n not in PROGRAM_TASKS] == ["parity", "copy_repeat", "add_plain"]


def _model(causal_width: int = 12):
    import jax.numpy as jnp

    from rasp.training.model import Shape, init_params

    params = init_params(Shape(layers=2, heads=2, d_model=16, d_ff=32), vocab_size=9, classes=5, seed=3)
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 9, size=(4, causal_width)).astype(np.int32)
    return params, ids, jnp.asarray(rng.normal(size=(causal_width, 16)).astype(np.float32))


@pytest.mark.slow  # the first JAX compile
@pytest.mark.parametrize("changed", [1, 5, 11])
def test_the_causal_mask_hides_later_tokens(changed):
    from rasp.training.model import forward

    params, ids, positions = _model()
    other = ids.copy()
    other[:, changed] = np.where(ids[:, changed] == 8, 2, ids[:, changed] + 1)
    before = np.asarray(forward(params, ids, positions, causal=True)[0])
    after = np.asarray(forward(params, other, positions, causal=True)[0])
    np.testing.assert_allclose(before[:, :changed], after[:, :changed], atol=1e-6)
    assert not np.allclose(before[:, changed:], after[:, changed:])
    attention = np.asarray(forward(params, ids, positions, causal=True)[1])
    assert np.all(np.triu(np.ones((12, 12)), k=1)[None, None, None] * attention < 1e-9)


def test_without_the_causal_flag_the_model_still_sees_every_token():
    from rasp.training.model import forward

    params, ids, positions = _model()
    other = ids.copy()
    other[:, 11] = np.where(ids[:, 11] == 8, 2, ids[:, 11] + 1)
    before = np.asarray(forward(params, ids, positions)[0])
    after = np.asarray(forward(params, other, positions)[0])
    assert not np.allclose(before[:, :11], after[:, :11])


@pytest.mark.parametrize("name", PROGRAM_TASKS)
def test_the_targets_are_the_raspl_programs_predictions_and_the_oracles(name):
    task = make_task(name, 24)
    rng = np.random.default_rng(5)
    examples = [task.sample(n, rng) for n in [1, 2, 3, 7, 16, 24] * 3]
    assert program_targets(task, examples) == [e.answer for e in examples]
    assert targets(task, examples) == [e.answer for e in examples]


def test_hints_start_at_random_offsets_and_the_program_reads_them_moved_back():
    task = make_task("add_hints", 10)
    rng = np.random.default_rng(1)
    examples = [task.sample(3, rng) for _ in range(30)]
    assert len({e.hint_offset for e in examples}) > 3
    example = next(e for e in examples if e.hint_offset > 0)
    assert example.prompt[0] == 100 + example.hint_offset
    moved = canonical(example.sequence, example.hint_offset)
    assert moved[0] == 100 and 300 in moved and uncanonical(moved, example.hint_offset) == example.sequence
    assert set(e for x in examples for e in x.sequence) <= set(task.vocab)


def test_a_program_that_disagrees_with_the_oracle_is_an_error():
    count = make_task("count", 8)
    wrong = Task("count", count.program, lambda n, rng: Example([2, 1 + n], [*range(2, 2 + n), 0]), count.vocab, 8)
    with pytest.raises(RaspValueError, match="oracle"):
        targets(wrong, [wrong.sample(3, np.random.default_rng(0))])


@pytest.mark.parametrize("name", TASK_NAMES)
def test_only_the_answer_is_scored_and_labels_are_the_next_tokens(name):
    task = make_task(name, 12)
    data = make_data(task, [1, 4, 9, 12], seed=2)
    encoding = encoding_of(task)
    for row, example in enumerate(data.examples):
        scored = np.flatnonzero(data.labels[row] != IGNORED)
        assert len(scored) == len(example.answer)
        assert scored[0] == len(example.prompt)  # BOS is column 0: the prompt's last token is column len(prompt)
        assert [encoding.classes[c] for c in data.labels[row, scored]] == example.answer
        assert [encoding.vocab[i - 2] for i in data.ids[row, 1:len(example.sequence)]] == example.sequence[:-1]
    assert list(data.lengths) == [1, 4, 9, 12]


def test_data_from_the_same_seed_is_the_same_and_lengths_do_not_fix_the_tokens():
    task = make_task("count", 16)
    first, again = make_data(task, [3] * 50, seed=4), make_data(task, [3] * 50, seed=4)
    assert [e.sequence for e in first.examples] == [e.sequence for e in again.examples]
    lengths = np.random.default_rng(4).integers(1, 9, size=400).tolist()
    assert len({tuple(e.sequence) for e in make_data(task, lengths, seed=4).examples}) > 150


def test_unknown_task_and_bad_settings_are_errors():
    from rasp.training.lengthgen.experiment import RunSettings, check_run_settings

    with pytest.raises(RaspValueError, match="unknown length-generalisation task"):
        make_task("reverse", 8)
    with pytest.raises(RaspValueError, match="positions"):
        check_run_settings(RunSettings(task="count", positions="rotary"))
    with pytest.raises(RaspValueError, match="multiple"):
        check_run_settings(RunSettings(task="count", d_model=30, heads=4))


@pytest.mark.slow
def test_a_tiny_model_learns_count_on_short_inputs_and_is_scored_at_longer_ones():
    from rasp.training.lengthgen.experiment import RunSettings, run

    settings = RunSettings(task="count", train_length=4, test_lengths=(1, 2, 3, 4, 5, 6, 8), layers=2, heads=2,
                           d_model=32, d_ff=64, examples=1000, test_per_length=40, steps=400, batch=32, lr=3e-3,
                           seed=0)
    seen = []
    result = run(settings, progress=lambda step, loss: seen.append((step, loss)))
    assert [p["length"] for p in result["per_length"]] == [1, 2, 3, 4, 5, 6, 8]
    assert [p["in_training"] for p in result["per_length"]] == [True] * 4 + [False] * 3
    inside = [p for p in result["per_length"] if p["in_training"]]
    assert min(p["sequence_accuracy"] for p in inside) >= 0.9
    assert all(0.0 <= p["token_accuracy"] <= 1.0 for p in result["per_length"])
    assert seen[-1][0] == 400 and seen[-1][1] < seen[0][1]
    assert result["program"] == "count_task(tokens_int)"


def _fake_run(task: str, positions: str, seed: int, accuracies: list[float]) -> dict:
    return {"task": task, "positions": positions, "seed": seed, "train_length": 2,
            "per_length": [{"length": n + 1, "in_training": n < 2, "sequence_accuracy": a, "token_accuracy": a}
                           for n, a in enumerate(accuracies)]}


@pytest.mark.slow  # matplotlib
def test_the_scripts_table_and_plot(tmp_path, capsys):
    script = load_script("lengthgen")
    results = [_fake_run("count", "none", 0, [1.0, 1.0, 0.5]), _fake_run("count", "none", 1, [1.0, 0.8, 0.25]),
               _fake_run("parity", "none", 0, [1.0, 0.5, 0.5]), _fake_run("count", "sinusoidal", 0, [1.0, 1.0, 0.0])]
    text = script.table(results, "sequence_accuracy")
    lines = text.splitlines()
    assert lines[0] == "| task | RASP-L | positions | seeds | **1** | **2** | 3 |"
    assert lines[2] == "| count | yes | none | 2 | 100 | 90 | 38 |"
    assert lines[3] == "| parity | no | none | 1 | 100 | 50 | 50 |"
    assert lines[4] == "| count | yes | sinusoidal | 1 | 100 | 100 | 0 |"
    script.plot(results, str(tmp_path / "plot.png"), "test")
    assert (tmp_path / "plot.png").read_bytes()[:4] == b"\x89PNG"
    saved = tmp_path / "runs.json"
    meta = {"config": script.PRESETS["cpu"], "seconds": 1.0, "machine": "m", "load": [1, 1, 1], "date": "d"}
    saved.write_text(json.dumps({"meta": meta, "runs": results}))
    assert script.main(["--replot", str(saved)]) == 0
    assert "| count | yes | none | 2 | 100 | 90 | 38 |" in capsys.readouterr().out
    assert (tmp_path / "runs.png").exists()
    plan = script.plan(script.PRESETS["cpu"], ["count", "parity"])
    assert {(r["task"], r["positions"]) for r in plan} == {("count", "none"), ("parity", "none"),
                                                          ("count", "sinusoidal")}
