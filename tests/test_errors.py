"""Bad input: one test per error category, pinning a
stable part of the message and the position, plus the text rendering
`file:line:col: <category>: message`, the source line and a caret line.

Errors are read from `Session().run(...)`: a failed statement is a
`Problem` (warning=False); a lazy value that cannot be evaluated on the
running example is still bound and gives a `Problem` with warning=True.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import rasp.interpreter
import rasp.parser
from rasp.cli import main
from rasp.display import DisplayOptions, format_result
from rasp.engine import Evaluation
from rasp.interpreter import Session
from rasp.results import EvaluatedSOp, Problem, Shown

FILE = "t.rasp"


# ------------------------------------------------------------------ helpers


def run(source: str, session: Session | None = None) -> list:
    session = session or Session()
    return session.run(source, FILE)


def errors(results: list) -> list[Problem]:
    return [r for r in results if isinstance(r, Problem) and not r.warning]


def warnings(results: list) -> list[Problem]:
    return [r for r in results if isinstance(r, Problem) and r.warning]


def shown(results: list) -> dict:
    """name -> shown value (s-ops as their list of values) for the results that succeeded."""
    values = {}
    for r in results:
        if isinstance(r, Shown):
            values[r.name] = r.value.values if isinstance(r.value, EvaluatedSOp) else r.value
    return values


def the_error(source: str, session: Session | None = None):
    """The one error of `source` (asserting there is exactly one)."""
    found = errors(run(source, session))
    assert len(found) == 1, [p.error.message for p in found]
    return found[0].error


def where(error) -> tuple[int, int]:
    return error.span.line, error.span.column


def column_of(source_line: str, fragment: str) -> int:
    """The 1-based column of `fragment` in `source_line`."""
    return source_line.index(fragment) + 1


# ------------------------------------------------------------ syntax errors


def test_syntax_error_names_the_missing_bracket():
    error = the_error("x = (1 + 2;")
    assert error.category == "syntax error"
    assert "expected `)`" in error.message
    assert where(error) == (1, 11)  # at the `;` where `)` was due


def test_syntax_error_in_select_names_what_was_expected():
    error = the_error("x = select(indices, indices, =);")
    assert "comparison" in error.message
    assert where(error) == (1, 30)


def test_syntax_error_missing_operand_says_an_expression_was_expected():
    error = the_error("x = 1 + ;")
    assert where(error) == (1, 9)
    # "with what was expected": not just "this does not continue the statement"
    assert re.search(r"(?<!un)expected\b.*expression", error.message), error.message


def test_syntax_error_function_without_return():
    error = the_error("def f(x) {\n  y = x;\n}\nz = 1;")
    assert "return" in error.message
    assert where(error) == (3, 1)


def test_syntax_error_unterminated_string():
    error = the_error('x = "abc;')
    assert "unterminated string" in error.message
    assert where(error) == (1, 5)


def test_syntax_error_unexpected_character():
    error = the_error("x = 1 $ 2;")
    assert '"$"' in error.message  # double quotes, like every other output
    assert where(error) == (1, 7)


def test_missing_semicolon_at_end_of_line_is_reported_on_that_line():
    source = "y = 1;\nx = 3\nz = 5;\nw = 6;"
    results = run(source)
    (problem,) = errors(results)
    assert "`;`" in problem.error.message
    # the `;` is missing at the end of line 2 (after `3`), not at line 3
    assert where(problem.error) == (2, 6)
    # the statements that follow the broken one still run
    assert shown(results)["w"] == 6
    assert shown(results)["y"] == 1


def test_missing_semicolon_within_a_line():
    results = run("x = 3 y = 4; w = 6;")
    (problem,) = errors(results)
    assert "`;`" in problem.error.message
    assert problem.error.span.line == 1
    assert problem.error.span.column in (6, 7)  # right after `3`, or at `y`
    assert shown(results)["w"] == 6


def test_missing_semicolon_before_a_def_and_at_end_of_input():
    results = run("x = 3\ndef f() { return 1; }\nz = 5;\nlast = 1")
    first, second = errors(results)
    assert "`;`" in first.error.message and where(first.error) == (1, 6)
    assert "`;`" in second.error.message and where(second.error) == (4, 9)
    assert set(shown(results)) == {"f", "z"}


def test_syntax_error_later_statements_still_run():
    results = run("a = ;\nb = 2;\nc = [1, 2;\nd = 4;")
    assert [where(p.error) for p in errors(results)] == [(1, 5), (3, 10)]
    assert shown(results) == {"b": 2, "d": 4}


# ---------------------------------------------------------- undefined names


def test_undefined_name_with_did_you_mean():
    error = the_error("x = indeces;")
    assert error.category == "name error"
    assert "`indeces` is not defined" in error.message
    assert error.hint is not None and "`indices`" in error.hint
    assert where(error) == (1, 5)


def test_undefined_name_near_a_user_variable():
    error = the_error("counter = 1; y = countr + 1;")
    assert "`countr` is not defined" in error.message
    assert "did you mean" in error.hint and "`counter`" in error.hint
    assert where(error) == (1, 18)


def test_undefined_name_far_from_everything_has_no_suggestion():
    error = the_error("y = zqxjwv;")
    assert "`zqxjwv` is not defined" in error.message
    assert not error.hint or "did you mean" not in error.hint


def test_undefined_name_inside_a_function_body_points_into_the_body():
    error = the_error("def f(x) {\n  return x + nope;\n}\nf(1);")
    assert "`nope` is not defined" in error.message
    assert where(error) == (2, 14)


def test_undefined_function():
    error = the_error("y = 1; z = dobule(y);")
    assert "`dobule` is not defined" in error.message
    assert where(error) == (1, 12)


# ------------------------------------------------------------ reserved names


@pytest.mark.parametrize("name", ["length", "indices", "tokens_str", "True", "out", "shift", "full_s"])
def test_reserved_names_cannot_be_assigned(name):
    results = run(f"{name} = 6;\nok = 1;")
    (problem,) = errors(results)
    assert problem.error.category == "name error"
    assert f"`{name}`" in problem.error.message
    assert "reserved" in problem.error.message  # docs/reference.md, 'Names and scopes'
    assert where(problem.error) == (1, 1)
    assert shown(results) == {"ok": 1}


def test_reserved_name_cannot_be_defined_as_a_function():
    error = the_error("def length(s) { return s; }")
    assert "`length`" in error.message and "reserved" in error.message
    assert where(error) == (1, 1)


def test_reserved_name_in_a_multiple_assignment():
    error = the_error("a, length = 1, 2;")
    assert "`length`" in error.message


def test_keyword_cannot_be_a_name():
    error = the_error("for = 1;")
    assert error.category == "syntax error"
    assert where(error) == (1, 5)


def test_library_names_may_be_shadowed_locally():
    results = run("def f(x) { length = x; return length; } y = f(3);")
    assert errors(results) == []
    assert shown(results)["y"] == 3


def test_a_reserved_name_keeps_its_value():
    session = Session()
    run("length = 6;", session)
    assert shown(run("n = length;", session))["n"] == [5] * 5


# -------------------------------------------------------------- wrong arity


def test_wrong_arity_of_a_user_function():
    error = the_error("def f(a, b) { return a; } f(1);")
    assert error.category == "type error"
    assert "`f(a, b)` takes 2 arguments, got 1" in error.message
    assert where(error) == (1, 27)


def test_wrong_arity_of_a_library_function():
    error = the_error("y = 1;\nz = shift(tokens, 1);")
    assert "takes 3 arguments, got 2" in error.message and "shift" in error.message
    assert where(error) == (2, 5)


def test_wrong_arity_of_a_builtin():
    error = the_error("round(1, 2);")
    assert "round" in error.message and "2" in error.message
    assert where(error) == (1, 1)


def test_applying_an_sop_to_two_inputs():
    error = the_error('x = 1; indices("a", "b");')
    assert "one input" in error.message and "2" in error.message
    assert where(error) == (1, 8)


def test_assignment_count_mismatch():
    error = the_error("a, b = 1, 2, 3;")
    assert "2 names" in error.message and "3 values" in error.message
    assert where(error) == (1, 1)


# ------------------------------------------------- type errors in sequences


def test_tokens_asis_on_mixed_input_names_the_values():
    error = the_error('tokens_asis([1, "a"]);')
    assert error.category == "type error"
    message = error.message
    assert "ints" in message and "strings" in message
    assert "1 at position 0" in message and '"a" at position 1' in message
    assert where(error) == (1, 1)


def test_ternary_mixing_types_names_the_values():
    results = run('y = indices if indices > 2 else "x";\ny("hello");')
    (warning,) = warnings(results)  # still bound, with a warning on "hello"
    assert '"x"' in warning.error.message and "3" in warning.error.message
    (problem,) = errors(results)  # applying it is an error of that statement
    assert "strings" in problem.error.message and "ints" in problem.error.message
    assert '"x" at position 0' in problem.error.message
    assert "3 at position 3" in problem.error.message
    assert where(problem.error) == (2, 1)


def test_tokens_int_on_a_non_number_names_the_token():
    error = the_error('x = 1; tokens_int("1a");')
    assert '"a"' in error.message and "position 1" in error.message
    assert where(error) == (1, 8)


def test_comparing_strings_with_ints_in_select():
    error = the_error('m = 1; select(tokens, indices, <)("ab");')
    assert "strings" in error.message and "ints" in error.message
    assert error.span.line == 1


def test_selector_in_arithmetic():
    error = the_error("x = select(indices, indices, ==) + 1;")
    assert "selector" in error.message
    assert where(error) == (1, 5)


# ------------------------------------------------------- non-numeric mean


def test_mean_of_different_strings():
    results = run('a = aggregate(full_s, tokens);\na("abc");')
    (problem,) = errors(results)
    message = problem.error.message
    assert "row 0" in message
    assert '"a"' in message and '"b"' in message and '"c"' in message
    assert "averaged" in message or "mean" in message
    assert where(problem.error) == (2, 1)
    assert len(warnings(results)) == 1  # `a` itself is bound, with a warning on "hello"


def test_mean_of_bools_suggests_indicator():
    error = the_error('a = aggregate(full_s, tokens == "a");\na("abc");')
    assert "True" in error.message and "False" in error.message
    assert "indicator" in error.hint
    assert where(error) == (2, 1)


def test_mean_of_equal_strings_is_that_string():
    results = run('a = aggregate(full_s, tokens);\na("aaa");')
    assert errors(results) == []
    assert shown(results)["a"] == ["a", "a", "a"]


def test_string_aggregate_with_empty_rows_suggests_a_default():
    error = the_error('a = aggregate(select(indices, indices, <), tokens); a("aa");')
    assert "default" in error.message
    assert "default" in error.hint


# ------------------------------------------------------------ missing keys


def test_missing_dict_key_in_an_sop():
    results = run('d = {"a": 1};\nx = d[tokens];\nx("ab");')
    (problem,) = errors(results)
    assert '"b"' in problem.error.message
    assert "not in the dict" in problem.error.message
    assert where(problem.error) == (3, 1)


def test_missing_dict_key_on_values():
    error = the_error('d = {"a": 1}; d["b"];')
    assert '"b"' in error.message and "not in the dict" in error.message
    assert where(error) == (1, 17)


# ------------------------------------------------------- index out of range


def test_index_out_of_range_in_an_sop():
    error = the_error('l = [1, 2];\nx = l[indices];\nx("abc");')
    assert "index 2" in error.message and "out of range" in error.message
    assert "length 2" in error.message
    assert where(error) == (3, 1)


def test_index_out_of_range_on_values():
    error = the_error("l = [1, 2]; l[5];")
    assert "index 5" in error.message and "out of range" in error.message
    assert where(error) == (1, 15)


def test_sop_index_out_of_range_is_the_default_not_an_error():
    results = run("x = indices[10];")
    assert errors(results) == [] and warnings(results) == []
    assert shown(results)["x"] == [0] * 5


# --------------------------------------------------------- division by zero


def test_division_by_zero_inside_an_sop():
    results = run('x = 6 / (indices - 1);\nx("abc");')
    (warning,) = warnings(results)
    assert "division by zero" in warning.error.message
    (problem,) = errors(results)
    assert problem.error.category == "evaluation error"
    assert "division by zero" in problem.error.message
    assert "position 1" in problem.error.message
    assert where(problem.error) == (2, 1)


def test_modulo_by_zero_inside_an_sop():
    error = the_error('x = indices % 0; y = 1; x("ab");')
    assert "zero" in error.message
    assert where(error) == (1, 25)


def test_division_by_zero_on_values():
    error = the_error("a = 1;\nb = a / 0;")
    assert "division by zero" in error.message
    assert where(error) == (2, 5)


# --------------------------------------------------------------- empty input


def test_set_example_empty_string_is_rejected():
    session = Session()
    error = the_error('set example ""', session)
    assert "empty" in error.message
    assert where(error) == (1, 13)
    # the running example is unchanged
    assert shown(run("x = indices;", session))["x"] == [0, 1, 2, 3, 4]


def test_applying_to_an_empty_string():
    error = the_error('x = indices;\nx("");')
    assert "empty" in error.message
    assert where(error) == (2, 1)


@pytest.mark.parametrize("empty", ["[]", "{}"])
def test_applying_to_an_empty_list_or_dict(empty):
    error = the_error(f"indices({empty});")
    assert "empty" in error.message


# ------------------------------------------------------------------- load


def test_load_not_found_lists_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    results = run('load "nothere";\nok = 1;')
    (problem,) = errors(results)
    error = problem.error
    assert error.category == "load error"
    assert "nothere.rasp" in error.message
    assert str(tmp_path.resolve()) in error.message  # the current directory
    from rasp.resources import stdlib_dir

    assert str(stdlib_dir()) in error.message
    assert where(error) == (1, 1)
    assert shown(results) == {"ok": 1}


def test_load_not_found_from_a_file_looks_next_to_the_file(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    loader = tmp_path / "sub" / "loader.rasp"
    loader.write_text('a = 1;\nload "nothere";\n')
    monkeypatch.chdir(tmp_path)
    session = Session()
    results = session.run(loader.read_text(), str(loader))
    (problem,) = errors(results)
    assert str((tmp_path / "sub").resolve()) in problem.error.message
    assert where(problem.error) == (2, 1)


def test_load_cycle(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.rasp").write_text('load "b";\na_v = 1;\n')
    (tmp_path / "b.rasp").write_text('load "a";\nb_v = 2;\n')
    results = run('load "a";\nok = 1;')
    found = errors(results)
    assert found, "a load cycle must be an error"
    error = found[0].error
    assert error.category == "load error"
    assert "load cycle" in error.message
    assert "a.rasp" in error.message and "b.rasp" in error.message
    assert error.span.line == 1 and error.span.column == 1
    assert shown(results)["ok"] == 1


def test_a_file_loading_itself_is_a_cycle(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "self.rasp").write_text('load "self";\n')
    error = the_error('load "self";')
    assert "load cycle" in error.message and "self.rasp" in error.message


# -------------------------------------------------------- recursion too deep


def test_recursion_too_deep():
    results = run("def f(x) { return f(x); } f(1);\nok = 1;")
    (problem,) = errors(results)
    error = problem.error
    assert error.category == "recursion error"
    assert "recursion too deep" in error.message
    assert "`f`" in error.message
    assert error.span.line == 1
    assert error.span.column in (19, 27)  # the recursive call, or the call that started it
    assert shown(results)["ok"] == 1


def test_mutual_recursion_too_deep():
    error = the_error("def f(a) { return g(a); }\ndef g(a) { return f(a); }\nf(1);")
    assert "recursion too deep" in error.message


def test_deep_but_finite_recursion_works():
    results = run("def g(n) { return 0 if n == 0 else g(n - 1) + 1; } y = g(150);")
    assert errors(results) == []
    assert shown(results)["y"] == 150


def test_recursion_error_text_is_short():
    # 200 identical "in the call of `f`" notes help nobody: the text stays short
    session = Session()
    results = session.run("def f(x) { return f(x); } f(1);", FILE)
    text = format_result(errors(results)[0], DisplayOptions(sources=session.sources))
    assert len(text.splitlines()) <= 12, text


def test_deeply_nested_expression_is_not_a_crash():
    depth = 1000
    results = run("x = " + "(" * depth + "1" + ")" * depth + ";\nok = 1;")
    assert all(p.error.category != "internal error" for p in errors(results))
    assert shown(results)["ok"] == 1


# ---------------------------------------------------- applying a non-function


@pytest.mark.parametrize(
    "source, what, column",
    [("3(1);", "int", 1), ("x = 3; x(1);", "int", 8), ('"abc"(1);', "string", 1), ("[1](0);", "list", 1)],
)
def test_applying_a_non_function(source, what, column):
    error = the_error(source)
    assert error.category == "type error"
    assert what in error.message and "cannot be called" in error.message
    assert where(error) == (1, column)


# ---------------------------------------------------------------- text mode


def text_of(source: str, filename: str = "prog.rasp") -> list[str]:
    """The text rendering of the first error (or warning) of `source`."""
    session = Session()
    results = session.run(source, filename)
    problem = next(r for r in results if isinstance(r, Problem))
    return format_result(problem, DisplayOptions(sources=session.sources)).splitlines()


def assert_caret(lines: list[str], source_line: str, fragment: str) -> None:
    """Line 2 shows the source line, line 3 has carets exactly under `fragment`."""
    assert lines[1].strip() == source_line.strip()
    start = lines[1].index(fragment)
    assert lines[2].rstrip() == " " * start + "^" * len(fragment)


def test_text_name_error_format():
    lines = text_of("a = 1;\nb = indices + nope;\n")
    assert lines[0] == "prog.rasp:2:15: name error: `nope` is not defined"
    assert_caret(lines, "b = indices + nope;", "nope")


def test_text_syntax_error_format():
    lines = text_of("a = 1;\n  b = (1 + 2;\n")
    assert re.fullmatch(r"prog\.rasp:2:13: syntax error: .*expected `\)`.*", lines[0]), lines[0]
    assert_caret(lines, "  b = (1 + 2;", ";")


def test_text_evaluation_error_format_with_hint():
    lines = text_of('a = aggregate(full_s, tokens == "a");\nout_b = a("abc");\n')
    assert re.fullmatch(r"prog\.rasp:2:9: evaluation error: .*", lines[0]), lines[0]
    assert_caret(lines, 'out_b = a("abc");', 'a("abc")')
    assert any(line.strip().startswith("hint:") and "indicator" in line for line in lines)


def test_text_type_error_format():
    lines = text_of("def f(a, b) { return a; }\ny = f(1);\n")
    assert lines[0] == "prog.rasp:2:5: type error: `f(a, b)` takes 2 arguments, got 1"
    assert_caret(lines, "y = f(1);", "f(1)")


def test_text_warning_format():
    lines = text_of("n = 1;\ny = tokens_int;\n")
    assert re.fullmatch(r"prog\.rasp:2:1: warning: .*tokens_int.*", lines[0]), lines[0]
    assert lines[1].strip() == "y = tokens_int;"
    assert "^" in lines[2]


def test_text_error_in_a_loaded_file_shows_that_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lib.rasp").write_text("ok = 1;\nbad = nope;\n")
    session = Session()
    results = session.run('load "lib";', "main.rasp")
    (problem,) = errors(results)
    lines = format_result(problem, DisplayOptions(sources=session.sources)).splitlines()
    assert re.fullmatch(r".*lib\.rasp:2:7: name error: `nope` is not defined", lines[0]), lines[0]
    assert_caret(lines, "bad = nope;", "nope")
    assert any("main.rasp:1:1" in line for line in lines[3:])  # where it was loaded from


# ------------------------------------------------------- near misses


@pytest.mark.parametrize(
    "source, name, suggestion, column",
    [
        ("y = srot(tokens, indices);", "srot", "sort", 5),
        ("y = aggregat(full_s, indices);", "aggregat", "aggregate", 5),
        ("y = selector_widht(full_s);", "selector_widht", "selector_width", 5),
        ("y = indices + lenght;", "lenght", "length", 15),
        ("y = tokens_it + 1;", "tokens_it", "tokens_int", 5),
    ],
)
def test_near_miss_names_suggest_the_right_one(source, name, suggestion, column):
    error = the_error(source)
    assert error.category == "name error"
    assert error.message == f"`{name}` is not defined"
    assert error.hint == f"did you mean `{suggestion}`?"
    assert where(error) == (1, column)


def test_near_miss_of_a_local_name_inside_a_function():
    error = the_error("def f(total) {\n  return totl + 1;\n}\nf(1);")
    assert error.hint == "did you mean `total`?"
    assert where(error) == (2, 10)


# ------------------------------------------------------- errors in loaded files


@pytest.fixture
def library(tmp_path, monkeypatch):
    """main loads outer.rasp, which loads inner.rasp: a name error on line 3 and a function on 4-6."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "outer.rasp").write_text('x = 1;\nload "inner";\n')
    (tmp_path / "inner.rasp").write_text(
        'ok = 2;\n\nbad = indices + nope;\ndef f(s) {\n  return aggregate(full_s, s == "a");\n}\n'
    )
    return tmp_path


def test_error_in_a_nested_load_names_the_file_line_and_every_load(library):
    session = Session()
    results = session.run('load "outer";\nz = ok + x;', "main.rasp")
    (problem,) = errors(results)
    error = problem.error
    inner, outer = str(library / "inner.rasp"), str(library / "outer.rasp")
    assert (error.span.file, error.span.line, error.span.column) == (inner, 3, 17)
    assert [(span.file, span.line, span.column, note) for span, note in error.context] == [
        (outer, 2, 1, 'in the file loaded by `load "inner"`'),
        ("main.rasp", 1, 1, 'in the file loaded by `load "outer"`'),
    ]
    lines = format_result(problem, DisplayOptions(sources=session.sources)).splitlines()
    assert lines[0] == f"{inner}:3:17: name error: `nope` is not defined"
    assert_caret(lines, "bad = indices + nope;", "nope")
    assert lines[3:] == [
        f'  {outer}:2:1: note: in the file loaded by `load "inner"`',
        '  main.rasp:1:1: note: in the file loaded by `load "outer"`',
    ]
    assert shown(results)["z"] == 3  # the rest of both files ran


def test_error_inside_a_function_from_a_loaded_file_points_into_that_file(library):
    session = Session()
    results = session.run('load "outer";\ny = f(tokens);\ny("abc");', "main.rasp")
    _nope, problem = errors(results)  # the first is `nope`, on loading
    error = problem.error
    assert error.category == "evaluation error"
    assert (error.span.file, error.span.line, error.span.column) == ("main.rasp", 3, 1)
    assert "only numbers can be averaged" in error.message
    assert "indicator(" in error.hint
    notes = [(span.file, span.line, span.column) for span, _ in error.context]
    assert (str(library / "inner.rasp"), 5, 10) in notes


def test_loading_a_file_that_is_not_utf8(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "latin.rasp").write_bytes('s = "caf\xe9";\n'.encode("latin-1"))
    error = the_error('ok = 1;\nload "latin";')
    assert error.category == "load error"
    assert error.message == f"{tmp_path.resolve() / 'latin.rasp'} is not a UTF-8 text file (byte 0xe9 at offset 8)"
    assert where(error) == (2, 1)


# ------------------------------------------------------- huge values


def test_literal_with_too_many_digits_is_a_syntax_error():
    error = the_error("x = " + "1" * 5000 + ";")
    assert error.category == "syntax error"
    assert error.message == "this number has 5000 digits, too many for a literal"
    assert "10^" in error.hint
    assert where(error) == (1, 5)


@pytest.mark.slow
def test_statement_too_long_to_parse():
    error = the_error("a = 1;\n  x = " + " + ".join(["indices"] * 30_000) + ";")
    assert error.category == "syntax error"
    assert error.message == "statement too long or nested too deeply to parse"
    assert error.hint == "split it into several statements, naming the parts"
    assert where(error) == (2, 3)


def test_message_naming_a_huge_int_stays_short():
    error = the_error('x = 10^5000;\ny = "a" + x;')
    assert error.category == "type error"
    assert error.message.startswith('cannot compute "a" + 100000…000000 (5001 digits) (')
    assert where(error) == (2, 5)


def test_warning_naming_an_example_holding_a_huge_int_stays_short():
    (warning,) = warnings(run("x = 10^5000;\nset example [x, 1]\ny = tokens_int / 0;"))
    assert warning.error.message == (
        "y cannot be evaluated on the example [100000…000000 (5001 digits), 1]: "
        "division by zero at position 0: 100000…000000 (5001 digits) / 0"
    )
    assert where(warning.error) == (3, 1)


def test_running_out_of_memory_is_an_evaluation_error(monkeypatch):
    def exhausted(self, node):
        raise MemoryError()

    monkeypatch.setattr(Evaluation, "value", exhausted)
    results = run("x = 1;\ny = indices;\nz = 2;")
    (problem,) = errors(results)
    assert problem.error.category == "evaluation error"
    assert problem.error.message == "out of memory: this computation is too large for this machine"
    assert "shorter input" in problem.error.hint
    assert where(problem.error) == (2, 1)
    assert shown(results) == {"x": 1, "z": 2}


# ------------------------------------------------------- internal errors

BUG_HINT = "this is a bug in rasp; please report it with the input that caused it"
TRACEBACK = "Traceback (most recent call last)"


@pytest.fixture
def buggy_len(monkeypatch):
    """Plant a bug: len(...) raises a Python exception."""

    def broken(self, args, expr):
        raise ZeroDivisionError("planted bug")

    monkeypatch.setattr(rasp.interpreter.Session, "_builtin_len", broken)


def test_internal_error_is_caught_and_reported_as_such(buggy_len):
    session = Session()
    results = session.run("a = 1;\nn = 1 + len([1]);\nok = 2;", FILE)
    (problem,) = errors(results)
    error = problem.error
    assert error.category == "internal error"
    assert error.message == "ZeroDivisionError: planted bug"
    assert error.hint == BUG_HINT
    assert where(error) == (2, 1)
    assert isinstance(error.__cause__, ZeroDivisionError)
    assert shown(results) == {"a": 1, "ok": 2}  # the session goes on
    lines = format_result(problem, DisplayOptions(sources=session.sources)).splitlines()
    assert lines[0] == "t.rasp:2:1: internal error: ZeroDivisionError: planted bug"
    assert lines[-1] == f"  hint: {BUG_HINT}"


def test_internal_error_while_parsing_is_caught(monkeypatch):
    def broken(*args):
        raise KeyError("planted")

    monkeypatch.setattr(rasp.parser._ToAst, "float_lit", broken)
    results = run("a = 1;\nb = 2.5;\nc = 3;")
    (problem,) = errors(results)
    assert problem.error.category == "internal error"
    assert problem.error.message == "KeyError while parsing: 'planted'"
    assert problem.error.hint == BUG_HINT
    assert where(problem.error) == (2, 1)
    assert shown(results) == {"a": 1, "c": 3}


def test_cli_hides_the_traceback_of_an_internal_error_without_debug(buggy_len, capsys):
    status = main(["-c", "n = len([1]);\nok = 1;"])
    out, err = capsys.readouterr()
    assert status == 1
    assert out == "ok = 1\n"
    assert err.splitlines()[0] == "<command>:1:1: internal error: ZeroDivisionError: planted bug"
    assert f"hint: {BUG_HINT}" in err
    assert TRACEBACK not in out + err


def test_cli_debug_shows_the_traceback_of_an_internal_error(buggy_len, capsys):
    status = main(["--debug", "-c", "n = len([1]);"])
    out, err = capsys.readouterr()
    assert status == 1
    assert "internal error: ZeroDivisionError: planted bug" in err
    assert TRACEBACK in err
    assert err.rstrip().endswith("ZeroDivisionError: planted bug")
    assert "_builtin_len" not in out


def test_piped_stdin_hides_the_traceback_of_an_internal_error(buggy_len, capsys, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("n = len([1]);\nok = 1;\n"))
    status = main([])
    out, err = capsys.readouterr()
    assert status == 1
    assert "ok = 1" in out
    assert "internal error: ZeroDivisionError: planted bug" in err
    assert TRACEBACK not in out + err


PLANT_BUG = """\
import sys
import rasp.interpreter
def broken(self, args, expr):
    raise ZeroDivisionError("planted bug")
rasp.interpreter.Session._builtin_len = broken
from rasp.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
@pytest.mark.parametrize("debug", [False, True])
def test_real_process_traceback_only_with_debug(tmp_path, debug):
    args = ["--debug"] if debug else []
    done = subprocess.run(
        [sys.executable, "-c", PLANT_BUG, *args, "-c", "n = len([1]);"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 1
    assert "internal error: ZeroDivisionError: planted bug" in done.stderr
    assert (TRACEBACK in done.stderr) is debug
    assert TRACEBACK not in done.stdout
