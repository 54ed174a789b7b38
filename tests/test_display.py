"""Text rendering of results (rasp.display)."""

import numpy as np

from rasp.display import DisplayOptions, format_error, format_result, format_selector, format_sequence, format_value
from rasp.errors import RaspNameError
from rasp.results import EvaluatedSelector, EvaluatedSOp, ExampleShown, FunctionInfo, Problem, Shown, Unevaluated
from rasp.syntax import Span


def sop(values, type_, tokens="hello"):
    return EvaluatedSOp("x", tokens, list(tokens), values, type_)


def test_sequences_by_type():
    assert format_sequence([0, 3, 6], "ints") == "[0, 3, 6]"
    assert format_sequence([True, False], "bools") == "[T, F]"
    assert format_sequence(["a", "b"], "strings") == '["a", "b"]'
    assert format_sequence([0.5, 1 / 3, 2.0], "floats") == "[0.5, 0.333, 2.0]"


def test_identical_values_are_compressed():
    assert format_sequence([1 / 3] * 3, "floats") == "[0.333]*3"
    assert format_sequence(["a"] * 4, "strings") == '["a"]*4'
    assert format_sequence([7], "ints") == "[7]"


def test_sop_line():
    text = format_result(Shown("x", sop([0, 3, 6, 9, 12], "ints")))
    assert text == 'x("hello") = [0, 3, 6, 9, 12]  ints'


def test_full_seq_display_aligns_input_and_output():
    text = format_result(Shown("x", sop([10, 0], "ints", "ab")), DisplayOptions(full_seq=True))
    assert text.split("\n") == ['x("ab")  ints', "   input:  a b", "  output: 10 0"]  # columns line up


def test_selector_matrix_has_token_headers_and_marks():
    matrix = np.array([[False, False], [True, False]])
    text = format_result(Shown("s", EvaluatedSelector("s", "ab", ["a", "b"], matrix)))
    lines = text.split("\n")
    assert lines[0].startswith('s("ab") =')
    assert lines[1].split() == ["0", "1"]  # column numbers, then the tokens
    assert lines[2].split() == ["a", "b"]
    assert lines[3].split() == ["0", "a", "·", "·"]
    assert lines[4].split() == ["1", "b", "1", "·"]


def test_wide_selector_is_elided_with_a_note():
    n = 80
    matrix = np.eye(n, dtype=bool)
    tokens = [str(i) for i in range(n)]
    text = format_result(Shown("s", EvaluatedSelector("s", tokens, tokens, matrix)), DisplayOptions(width=60))
    assert "more columns not shown" in text
    assert max(len(line) for line in text.split("\n")[1:-1]) <= 60


def test_values_lists_dicts_functions():
    assert format_value([1, "a", [True, 2.5]]) == '[1, "a", [True, 2.5]]'
    assert format_value({"a": 1}) == '{"a": 1}'
    assert format_value(FunctionInfo("f", ["a", "b"])) == "function f(a, b)"
    assert format_result(Shown("y", Unevaluated("s-op", "y"))) == "y = s-op y"
    assert format_result(ExampleShown("hey", [1, 2], None)) == 's-op example: "hey"\nselector example: [1, 2]'


def test_error_with_caret_hint_and_context():
    error = RaspNameError("`nope` is not defined", Span("f.rasp", 2, 5, 2, 9), hint="did you mean `note`?")
    error.add_context(Span("main.rasp", 1, 1, 1, 10), "in the file loaded by `load \"f\"`")
    text = format_error(error, {"f.rasp": "a = 1;\nb = nope + 1;\n"})
    assert text.split("\n") == [
        "f.rasp:2:5: name error: `nope` is not defined",
        "    b = nope + 1;",
        "        ^^^^",
        "  hint: did you mean `note`?",
        '  main.rasp:1:1: note: in the file loaded by `load "f"`',
    ]


def test_warning_is_labelled_as_such():
    error = RaspNameError("x cannot be evaluated", Span("f", 1, 1, 1, 2))
    assert format_result(Problem(error, warning=True)).startswith("f:1:1: warning: ")


def test_selector_rows_beyond_max_rows_are_left_out_with_a_note():
    matrix = np.eye(30, dtype=bool)
    value = EvaluatedSelector("eye", "x" * 30, list("x" * 30), matrix)
    text = format_selector(value, DisplayOptions(max_rows=4))
    lines = text.splitlines()
    assert len(lines) == 3 + 4 + 1
    assert lines[-1] == "  (26 more rows not shown; the full matrix is in --json output)"
    narrow = format_selector(value, DisplayOptions(max_rows=4, width=20)).splitlines()[-1]
    assert narrow.startswith("  (26 more rows and ")
    assert narrow.endswith(" more columns not shown; the full matrix is in --json output)")
