"""Small mends: an applied s-op used as a value is named as such, aggregate_max's name shows its
default, and `help NAME` reads the comment typed above a def earlier in a piped session."""

from __future__ import annotations

import io

import pytest
from prompt_toolkit.document import Document

from rasp.cli import Printer
from rasp.errors import RaspTypeError
from rasp.interpreter import Session
from rasp.prompt import RaspCompleter
from rasp.repl import run_repl
from rasp.results import Problem


def error_of(source: str) -> RaspTypeError:
    (problem,) = [r for r in Session().run(source) if isinstance(r, Problem)]
    assert isinstance(problem.error, RaspTypeError)
    return problem.error


@pytest.mark.parametrize("source, words, hint", [
    ('x = length("abc"); y = x - 1;', 'cannot apply `-` to an applied s-op length("abc"): it is a value shown on '
     "one input, not an s-op", "`length - ...`"),
    ('x = length("abc"); y = 1 + x;', "cannot apply `+` to an applied s-op length", "`length + ...`"),
    ('s = select(indices, indices, ==)("ab"); t = -s;', "cannot apply `-` to an applied selector", "combine the "
     "selector itself"),
])
def test_an_applied_value_in_arithmetic_is_named_so(source, words, hint):
    error = error_of(source)
    assert words in error.message and "a applied" not in error.message
    assert hint in error.hint


def test_an_applied_value_elsewhere_shows_its_values():
    message = error_of('x = length("abc"); r = range(x);').message
    assert message == 'range takes ints, got an applied s-op length("abc") [3, 3, 3]'


def test_aggregate_max_and_min_names_show_their_default():
    session = Session()
    session.run("m = aggregate_max(select(indices, indices, <), indices, -1); "
                'n = aggregate_min(select(indices, indices, >), indices, 9);')
    assert session.globals.lookup("m").describe() == "aggregate_max(select(indices, indices, <), indices, -1)"
    assert session.globals.lookup("n").describe() == 'aggregate_min(select(indices, indices, >), indices, 9)'


def piped(text: str) -> str:
    session = Session()
    out = io.StringIO()
    run_repl(session, Printer(session, as_json=False, debug=False, out=out, err=io.StringIO()), io.StringIO(text))
    return out.getvalue()


def test_help_reads_the_comment_above_a_def_typed_earlier_in_a_pipe():
    shown = piped("# doubles each value\n# (a second line)\ndef twice(x) {\n  return x * 2;\n}\nhelp twice\n")
    assert "twice(x)  function\n  doubles each value\n  (a second line)\n  defined at <stdin>:3" in shown


def test_a_later_statement_does_not_take_an_earlier_comment():
    shown = piped("# about f\ndef f(x) { return x; }\ny = 1;\ndef g(x) { return x; }\nhelp g\nhelp f\n")
    assert "g(x)  function\n  defined at <stdin>:4" in shown
    assert "f(x)  function\n  about f\n  defined at <stdin>:2" in shown


def test_train_is_completed_as_a_command():
    session = Session()
    completions = RaspCompleter(lambda: session).get_completions(Document("trai"), None)
    assert ("train", "command") in [(c.text, c.display_meta_text) for c in completions]


@pytest.mark.parametrize("source, command, column", [
    ('analyse tokens; x = 1;', "analyse", 15),
    ('compile tokens max_len 3; x = 1;', "compile", 25),
    ('train tokens epochs 2; x = 1;', "train", 22),
    ('set example "a;b"; x = 1;', "set", 18),
])
def test_a_statement_after_a_line_command_on_its_line_is_named_at_its_semicolon(source, command, column):
    (problem,) = [r for r in Session().run(source) if isinstance(r, Problem)]
    assert f"`{command}` takes the rest of its line" in problem.error.message
    assert problem.error.span.column == column
    assert "new line" in problem.error.hint


def test_a_line_command_may_still_end_with_a_semicolon_and_a_comment():
    results = Session().run('analyse tokens;  # layers\nx = 1;')
    assert not [r for r in results if isinstance(r, Problem)]
