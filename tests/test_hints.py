"""Warnings tell a program that fails on every input from one that fails on this example,
in RASP's type words and double quotes (docs/reference.md, 'Errors')."""

from __future__ import annotations

from rasp.interpreter import Session
from rasp.results import Problem


def _warning(source: str, example: str | None = None):
    s = Session()
    if example is not None:
        s.run(f"set example {example};")
    problems = [r for r in s.run(source) if isinstance(r, Problem)]
    assert len(problems) == 1 and problems[0].warning
    return problems[0].error


def test_strings_plus_an_int_fails_on_every_input_and_says_so():
    error = _warning("w = tokens + 1;")
    assert error.message.startswith("w fails on every input: `+` cannot combine strings with ints")
    assert "set example" not in (error.hint or "")
    assert "concatenate" not in error.message and "str (not" not in error.message


def test_a_comparison_of_strings_with_ints_fails_on_every_input():
    assert "fails on every input" in _warning("u = tokens < 1;").message


def test_an_input_dependent_failure_still_suggests_another_example():
    error = _warning("v = tokens_asis + 1;")  # tokens_asis of numbers would work
    assert "cannot be evaluated on the example" in error.message
    assert "set example" in error.hint
    assert "set example" in _warning("z = 1 / (indices - 1);").hint


def test_warnings_quote_list_examples_with_double_quotes():
    error = _warning("x = tokens_int + 1;", example='["a", "b"]')
    assert 'the example ["a", "b"]' in error.message and "'a'" not in error.message
