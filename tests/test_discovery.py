"""A new user finds the library and is told about typos (docs/reference.md, 'help')."""

from __future__ import annotations

from rasp.errors import RaspNameError
from rasp.help import help_text
from rasp.interpreter import Session
from rasp.library_index import defining_file, library_files
from rasp.results import Problem


def _errors(session: Session, source: str) -> list:
    return [r.error for r in session.run(source) if isinstance(r, Problem)]


def test_a_library_name_not_loaded_says_which_file_to_load():
    errors = _errors(Session(), "histogram(tokens);")
    assert isinstance(errors[0], RaspNameError)
    assert "histogram.rasp" in errors[0].message
    assert errors[0].hint == 'load "histogram"; first'


def test_help_of_a_library_name_not_loaded_says_which_file_to_load():
    assert 'load "histogram";' in help_text(Session(), "histogram")
    assert 'load "dyck";' in help_text(Session(), "dyck2")


def test_help_lists_every_loadable_file_with_one_line():
    text = help_text(Session())
    for stem in library_files():
        if stem != "rasplib":  # loaded at start-up
            assert f'load "{stem}";' in text
    line = next(line for line in text.split("\n") if 'load "dyck";' in line)
    assert "Dyck" in line


def test_help_names_tokens_asis():
    assert "tokens_asis" in help_text(Session())


def test_every_loadable_name_is_found_in_its_file():
    for name, stem in [("histogram", "histogram"), ("dyck2", "dyck"), ("sort_by_frequency", "sort"),
                       ("reverse", "reverse")]:
        assert defining_file(name) == stem


def test_a_misspelt_select_is_a_name_error_not_a_syntax_error():
    errors = _errors(Session(), "selct(tokens, tokens, ==);")
    assert isinstance(errors[0], RaspNameError)
    assert errors[0].message == "`selct` is not defined; did you mean `select`?"
    assert (errors[0].span.column, errors[0].span.end_column) == (1, 6)


def test_a_comparison_given_to_another_call_says_only_select_takes_it():
    errors = _errors(Session(), "aggregate(tokens, tokens, ==);")
    assert "argument of `select` only" in errors[0].message
    assert not _errors(Session(), "x = select(indices, (indices), <);")
