"""Long compiles report progress through a callback the faces draw (the interpreter never prints)."""

from __future__ import annotations

import io

from rasp.cli import StageProgress
from rasp.interpreter import Session


def test_compile_reports_its_stages_to_the_sessions_callback():
    calls = []
    s = Session()
    s.progress = lambda stage, done, total: calls.append((stage, done, total))
    s.run('compile length max_len 6 vocab "abc"\n')
    stages = [stage for stage, _, _ in calls]
    assert stages[0].startswith("compiling length (max_len 6): building the weights")
    layers = [(done, total) for stage, done, total in calls if "building the weights, layer" in stage]
    assert layers == [(0, 2)]  # length: one layer, then the output
    assert any(stage.endswith("building the weights, the output") for stage in stages)
    assert any(stage.startswith("verifying length: the interpreter on ") for stage in stages)
    model_steps = [(done, total) for stage, done, total in calls if "the model on" in stage]
    assert model_steps and all(0 <= done < total for done, total in model_steps)
    assert stages[-1] == "done"


def test_without_a_callback_nothing_is_reported_and_compile_still_works():
    s = Session()
    (result,) = s.run('compile length max_len 3 vocab "ab"\n')
    assert result.agrees


def test_the_terminal_line_is_drawn_and_wiped():
    stream = io.StringIO()
    progress = StageProgress(stream, delay=0.0)
    progress("verifying x: the model on 100 inputs", 50, 100)
    assert "verifying x: the model on 100 inputs [##########..........] 50/100" in stream.getvalue()
    progress("done", 0, 0)
    assert stream.getvalue().endswith("\r\x1b[K")
