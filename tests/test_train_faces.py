"""rasp/training's faces: the page of heads beside their selectors, progress, completion, help,
and the errors of rasp.train, the `train` statement and --train (docs/training.md)."""

from __future__ import annotations

import io
import json
import sys

import numpy as np
import pytest

import rasp
from rasp.cli import StageProgress, main
from rasp.errors import RaspError
from rasp.help import help_text
from rasp.interpreter import Session
from rasp.prompt import train_option_words

HIST = "hist = selector_width(select(tokens, tokens, ==));"
SMALL = 'vocab "ab" max_len 3 examples 40 epochs 2 d_model 8 seed 2'


def needs_jax():
    pytest.importorskip("jax")
    pytest.importorskip("optax")


def untrained(source: str, name: str, bos: bool = True):
    """A Trained with random parameters (no jit, no training): what the page shows needs no training."""
    needs_jax()
    from rasp.training.data import Distribution, make_dataset
    from rasp.training.matching import match_heads
    from rasp.training.model import init_params
    from rasp.training.trainer import Settings, Trained, choose_shape

    session = rasp.Session()
    session.run(source)
    node = session[name].node
    dist = Distribution(vocab=("a", "b", "c"), min_len=1, max_len=5, bos=bos)
    settings = Settings(d_model=8)
    shape = choose_shape(node, settings)
    data, encoding = make_dataset(node, dist, 20, seed=1)
    trained = Trained(name=name, shape=shape, distribution=dist, encoding=encoding,
                      params=init_params(shape, encoding.vocab_size, len(encoding.classes), 0), settings=settings,
                      epochs=0, seconds=0.0, token_accuracy=0.0, sequence_accuracy=0.0, program=node)
    trained.heads_matched = match_heads(node, trained, data)
    return trained


# ------------------------------------------------------------------ the page


def slow_difference(attention, target, first_row):
    """Half the L1 distance per scored row, averaged: loops, for comparison with the page's figure."""
    rows = range(first_row, attention.shape[0]) if first_row else range(attention.shape[0])
    per_row = [0.5 * sum(abs(float(attention[q, k]) - float(target[q, k])) for k in range(attention.shape[1]))
               for q in rows]
    return sum(per_row) / len(per_row)


@pytest.mark.parametrize("bos", [True, False])
@pytest.mark.slow  # the model runs eagerly: each JAX operation compiles once
def test_each_head_is_shown_beside_the_selector_it_matched(bos):
    from rasp.training.data import selector_targets
    from rasp.training.matching import program_selectors
    from rasp.training.page import head_views

    trained = untrained('load "paper"; r = reverse(tokens);', "r", bos)
    items = list("abcab")
    views = head_views(trained, items)
    attention = trained.attention(items)
    assert [(v.layer, v.head) for v in views] == [(1, 1), (2, 1)]
    for view, match in zip(views, trained.heads_matched, strict=True):
        np.testing.assert_array_equal(view.attention, attention[view.layer - 1, view.head - 1])
        assert view.selector == match["selector"] and view.test_difference == match["difference"]
        (selector,) = [s for s in program_selectors(trained.program) if s.name == view.selector]
        want = selector_targets(selector, [items], len(items) + bos, bos, view.counts_bos)[0]
        np.testing.assert_array_equal(view.target, want)
        assert view.input_difference == pytest.approx(slow_difference(view.attention, want, 1 if bos else 0), abs=1e-5)


@pytest.mark.slow  # the model runs eagerly: each JAX operation compiles once
def test_the_page_escapes_names_and_marks_the_bos_row():
    from rasp.training.page import page_html

    trained = untrained("w = selector_width(select(indices, indices, <));", "w")
    page = page_html(trained, "abca")
    assert page.startswith("<!DOCTYPE html>") and "select(indices, indices, <)" not in page
    assert "closest to select(indices, indices, &lt;)" in page
    assert page.count("not scored (the BOS row)") == 2 * 5  # the target's and the difference's BOS rows
    assert "rasp-trained-head" in trained._repr_html_()


@pytest.mark.slow  # the model runs eagerly: each JAX operation compiles once
def test_a_loaded_model_shows_its_attention_without_the_program(tmp_path):
    from rasp.training.page import head_views, page_html
    from rasp.training.trainer import Trained

    trained = untrained(HIST, "hist")
    again = Trained.load(trained.save(str(tmp_path / "hist")))
    (view,) = head_views(again, "abc")
    assert view.selector == trained.heads_matched[0]["selector"] and view.target is None
    assert "the program is not known" in page_html(again, "abc")


@pytest.mark.slow  # the model runs eagerly: each JAX operation compiles once
def test_the_page_is_written_where_draw_writes(tmp_path, monkeypatch):
    monkeypatch.setenv("RASP_DRAW_DIR", str(tmp_path))
    trained = untrained(HIST, "hist")
    path = trained.draw("abca")
    assert path == str(tmp_path / "hist_trained.html")
    assert "layer 1 head 1: closest to" in open(path, encoding="utf-8").read()


@pytest.mark.slow  # the model runs eagerly: each JAX operation compiles once
def test_the_page_refuses_an_input_the_model_cannot_read():
    trained = untrained(HIST, "hist")
    with pytest.raises(RaspError, match="not in the training vocabulary"):
        trained.page("abz")
    with pytest.raises(RaspError, match="non-empty input"):
        trained.page("")


# ------------------------------------------------------------------ progress


def test_training_lines_are_drawn_at_once_and_wiped():
    stream = io.StringIO()
    progress = StageProgress(stream, delay=60.0)
    progress("verifying x: the model on 100 inputs", 1, 100)
    assert stream.getvalue() == ""  # other work waits for the delay
    progress("training hist: epoch 1/5, loss 0.5000, validation 80.0%, 3 s", 1, 0)
    assert stream.getvalue() == "\r\x1b[Ktraining hist: epoch 1/5, loss 0.5000, validation 80.0%, 3 s"
    progress("done", 0, 0)
    assert stream.getvalue().endswith("\r\x1b[K")


@pytest.mark.slow  # trains (jit compiles): seconds on a CPU
def test_train_statement_reports_epochs_and_draws_its_page(tmp_path, monkeypatch):
    needs_jax()
    monkeypatch.setenv("RASP_DRAW_DIR", str(tmp_path))
    session = Session()
    calls = []
    session.progress = lambda stage, done, total: calls.append((stage, done, total))
    session.run('set example "abba"\n')
    session.run(HIST)
    (result,) = session.run(f"train hist {SMALL.replace('max_len 3', 'max_len 4')} draw;")
    assert calls[0] == ("training hist: generating the data, compiling the model", 0, 0)
    epochs = [(stage.split(",")[0], done) for stage, done, _ in calls if stage.startswith("training hist: epoch")]
    assert epochs in ([("training hist: epoch 1/2", 1), ("training hist: epoch 2/2", 2)],
                      [("training hist: epoch 1/2", 1)])  # an early stop ends it sooner
    assert "loss" in calls[1][0] and "validation" in calls[1][0]
    assert calls[-1] == ("done", 0, 0)
    assert result.files == [str(tmp_path / "hist_trained.html")]
    page = (tmp_path / "hist_trained.html").read_text(encoding="utf-8")
    assert 'on [&quot;a&quot;, &quot;b&quot;, &quot;b&quot;, &quot;a&quot;]' in page  # the running example
    assert result.to_json()["files"] == result.files
    assert "trained hist" in result._repr_html_() and "rasp-trained-head" in result._repr_html_()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.slow  # trains twice (jit compiles): seconds on a CPU
@pytest.mark.parametrize("as_json", [False, True])
def test_cli_progress_on_a_terminal_and_quiet_with_json(tmp_path, monkeypatch, capsys, as_json):
    needs_jax()
    program = tmp_path / "hist.rasp"
    program.write_text(HIST + "\n")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    code = main([str(program), *(["--json"] if as_json else []), "--train", f"hist {SMALL}"])
    assert code == 0
    shown = terminal.getvalue()
    if as_json:
        assert "training hist" not in shown and "epoch" not in shown
        assert json.loads(capsys.readouterr().out.splitlines()[-1])["kind"] == "trained"
    else:
        assert "training hist: epoch 1/2, loss " in shown and shown.endswith("\r\x1b[K")
        assert "trained hist: layers=1" in capsys.readouterr().out


# ------------------------------------------------------------- completion, help


@pytest.mark.parametrize("before, expected, absent", [
    ("train hist su", ["supervise"], []),
    ("train hist bos e", ["epochs", "examples"], ["bos"]),
    ("x = 1; train hist epochs 3 ", ["draw", "seed"], ["epochs"]),
    ("train hist variant ", ["fewer_heads", "predicted"], ["epochs"]),
    ("train h", [], ["heads"]),  # still the expression
    ("compile hist ", [], ["epochs"]),
])
def test_completion_offers_train_options(before, expected, absent):
    words = [word for word, _ in train_option_words(before)]
    assert all(w in words for w in expected) and not any(w in words for w in absent)


def test_help_lists_train_and_explains_it():
    session = Session()
    overview = help_text(session)
    for command in ("train EXPR", "causal on|off", "raspl EXPR", "compile EXPR"):
        assert command in overview
    text = help_text(session, "train")
    for option in ("layers N", "supervise", "draw", "variant NAME", "save \"FILE\"", 'pip install "rasp[train]"'):
        assert option in text


# ------------------------------------------------------------------ errors


@pytest.fixture(scope="module")
def hist_session():
    session = rasp.Session()
    session.run(HIST + " sel = select(tokens, tokens, ==); f = 10 / tokens_int;")
    return session


@pytest.mark.parametrize("value, options, argument, words", [
    ("sel", {"vocab": "ab"}, "value=a selector", "needs an s-op"),
    ("f", {"vocab": [0, 1, 2], "examples": 20, "epochs": 1}, "vocab=[0, 1, 2]", "fails on a generated input"),
    ("hist", {"vocab": []}, "vocab=[]", "non-empty vocabulary"),
    ("hist", {"vocab": [1, "a"]}, "vocab=[1, 'a']", "mixes"),
    ("hist", {"vocab": "aab"}, "vocab='aab'", 'repeated token: "a"'),
    ("hist", {"vocab": "ab", "min_len": 5, "max_len": 2}, "min_len=5", "min_len <= max_len"),
    ("hist", {"vocab": "ab", "epochs": 0}, "epochs=0", "at least 1"),
    ("hist", {"vocab": "ab", "layers": 0}, "layers=0", "between 1 and 64"),
    ("hist", {"vocab": "ab", "d_model": 1}, "d_model=1", "at least 2"),
    ("hist", {"vocab": "ab", "max_len": 1000}, "max_len=1000", "at most 512"),
    ("hist", {"vocab": "ab", "variant": "huge"}, "variant='huge'", "unknown variant"),
    ("hist", {"vocab": "ab", "variant": "fewer_layers"}, "variant='fewer_layers'", "at least one of each"),
    ("hist", {"vocab": "ab", "epochs": "3"}, "epochs='3'", "must be a whole number"),
    ("hist", {"vocab": "ab", "examples": 2.5}, "examples=2.5", "must be a whole number"),
    ("hist", {"vocab": "ab", "bos": "yes"}, "bos='yes'", "True or False"),
    ("hist", {"vocab": "ab", "lr": 2.0}, "lr=2.0", "lr must be in (0, 1)"),
    ("hist", {"vocab": "ab", "epoch": 3}, "epoch=3", "no option 'epoch'"),
])
def test_python_errors_name_the_argument(hist_session, value, options, argument, words):
    needs_jax()
    with pytest.raises(RaspError) as raised:
        rasp.train(hist_session[value], **options)
    assert raised.value.message.startswith(f"rasp.train({argument}): ")
    assert words in raised.value.message


def test_a_misspelt_option_gets_a_suggestion(hist_session):
    needs_jax()
    with pytest.raises(RaspError) as raised:
        rasp.train(hist_session["hist"], vocab="ab", epoch=3)
    assert raised.value.hint == "did you mean epochs?"


@pytest.mark.parametrize("statement, column, words", [
    ('train sel vocab "ab"', 7, "needs an s-op"),
    ('train f vocab [0, 1, 2] examples 20 epochs 1', 7, "fails on a generated input"),
    ('train hist vocab "aab"', 12, "repeated token"),
    ('train hist vocab [1, "a"]', 12, "mixes"),
    ('train hist min_len 5 max_len 2', 12, "min_len <= max_len"),
    ('train hist epochs 0', 19, "between 1 and 10000"),
    ('train hist variant fewer_layers', 12, "at least one of each"),
])
def test_statement_errors_are_at_their_position(hist_session, statement, column, words):
    needs_jax()
    with pytest.raises(RaspError, match=words) as raised:
        hist_session.run(statement)
    assert raised.value.span is not None and raised.value.span.column == column


@pytest.fixture
def without_jax(monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)  # `import jax` now raises ImportError


def test_a_missing_extra_in_python(hist_session, without_jax):
    with pytest.raises(RaspError, match="needs JAX and optax") as raised:
        rasp.train(hist_session["hist"], vocab="ab")
    assert raised.value.hint == 'pip install "rasp[train]"'


def test_a_missing_extra_in_the_statement(hist_session, without_jax):
    with pytest.raises(RaspError, match="needs JAX and optax") as raised:
        hist_session.run("train hist;")
    assert raised.value.span is not None and raised.value.span.column == 7


def test_a_missing_extra_from_the_command_line(tmp_path, capsys, without_jax):
    program = tmp_path / "hist.rasp"
    program.write_text(HIST + "\n")
    code = main([str(program), "--train", "hist"])
    err = capsys.readouterr().err
    assert code != 0 and "needs JAX and optax" in err and 'pip install "rasp[train]"' in err
    assert "Traceback" not in err


@pytest.mark.parametrize("options, column, words", [
    ('sel vocab "ab"', 7, "needs an s-op"),
    ("f vocab [0, 1, 2]", 7, "fails on a generated input"),
    ('hist vocab [1, "a"]', 12, "mixes"),
    ("hist epochs 0", 19, "between 1 and 10000"),
    ("hist variant fewer_layers", 12, "at least one of each"),
])
def test_command_line_errors_are_json_records_at_their_position(tmp_path, capsys, options, column, words):
    needs_jax()
    program = tmp_path / "p.rasp"
    program.write_text(HIST + " sel = select(tokens, tokens, ==); f = 10 / tokens_int;\n")
    code = main([str(program), "--json", "--example", "[1, 2]", "--train", options])
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    (error,) = [r for r in records if r["kind"] == "error"]
    assert code != 0 and words in error["message"]
    assert (error["file"], error["line"], error["column"]) == ("--train", 1, column)
