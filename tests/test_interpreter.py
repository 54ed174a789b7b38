"""The language's semantics, rule by rule, in the order of docs/reference.md."""

import numpy as np
import pytest
from support import apply, error_of, node_of, shown, value_of

from rasp.errors import RaspLoadError, RaspNameError, RaspRecursionError, RaspTypeError, RaspValueError
from rasp.interpreter import Function, Session
from rasp.results import EvaluatedSOp, ExampleShown, FunctionInfo, Problem, Shown, Unevaluated

# ----------------------------------------------------------------- Values


def test_round_is_half_to_even_and_returns_int(session):
    assert [value_of(session, f"round({x});") for x in ("0.5", "1.5", "2.5", "-0.5", "2.6")] == [0, 2, 2, 0, 3]
    assert type(value_of(session, "round(2.5);")) is int


def test_lists_and_dicts(session):
    assert value_of(session, 'l = [1, "a", [2, [3]]]; l[2][1][0];') == 3
    assert value_of(session, 'd = {"a": 1, 2: "b"}; [k for k in d];') == ["a", 2]
    assert value_of(session, "d[2];") == "b"
    assert value_of(session, "l + [4];") == [1, "a", [2, [3]], 4]
    assert value_of(session, "l;") == [1, "a", [2, [3]]]  # unchanged


def test_closures_see_free_variables_at_call_time(session):
    assert value_of(session, "x = 5; def g() { return x; } x = 6; g();") == 6


def test_closures_capture_their_defining_scope(session):
    source = "def adder(n) { def add(m) { return n + m; } return add; } add2 = adder(2); add2(40);"
    assert value_of(session, source) == 42


def test_several_return_values_come_back_as_a_list(session):
    assert value_of(session, "def f(a) { return a, a + 1; } f(1);") == [1, 2]
    assert value_of(session, "p, q = f(5); q;") == 6


def test_wrong_argument_count_is_an_error(session):
    error = error_of(session, "def f(a, b) { return a; } f(1);")
    assert isinstance(error, RaspTypeError) and "`f(a, b)` takes 2 arguments, got 1" in error.message


def test_recursion_works_and_has_a_depth_limit(session):
    assert value_of(session, "def fact(n) { return 1 if n <= 1 else n * fact(n - 1); } fact(10);") == 3628800
    error = error_of(session, "def forever(n) { return forever(n + 1); } forever(0);")
    assert isinstance(error, RaspRecursionError) and "recursion too deep" in error.message
    assert value_of(session, "1 + 1;") == 2  # the session is still usable


def test_nothing_lazy_runs_until_applied(session):
    # 1/0 at every position fails only when evaluated: binding works, with a warning
    results = session.run("bad = 1 / (indices - indices);", "t.rasp")
    assert [type(r) for r in results] == [Problem]
    assert results[0].warning and "division by zero" in results[0].error.message
    assert session["bad"] is not None
    error = error_of(session, 'bad("ab");')
    assert isinstance(error, RaspValueError)


# ------------------------------------------------------ Sequence types


@pytest.mark.parametrize(
    "expression, example, expected",
    [
        ('tokens_asis;', [1, True, 3], ([1, 1, 3], "ints")),
        ('tokens_asis;', [1, 2.5], ([1.0, 2.5], "floats")),
        ('tokens_asis;', ["a", "b"], (["a", "b"], "strings")),
        ('tokens_asis;', [True, False], ([True, False], "bools")),
        ('indices if indices > 0 else 0.5;', "abc", ([0.5, 1.0, 2.0], "floats")),
        ('indices if indices > 0 else True;', "abc", ([1, 1, 2], "ints")),
        ('indices / 2;', "abc", ([0.0, 0.5, 1.0], "floats")),
        ('indices == 1;', "abc", ([False, True, False], "bools")),
    ],
)
def test_sequence_types(session, expression, example, expected):
    shown(session, f"x = {expression}")
    assert apply(session, "x", example) == expected


def test_mixed_sequence_is_an_error_naming_the_values(session):
    with pytest.raises(RaspTypeError) as caught:
        session.apply(node_of(session, "tokens_asis"), [1, "a"])
    assert "strings" in caught.value.message and '"a"' in caught.value.message and "1" in caught.value.message
    with pytest.raises(RaspTypeError, match="mixes"):
        session.apply(node_of(session, 'indices if indices > 1 else "x"'), "abcd")


# -------------------------------------------------------------- Inputs


@pytest.mark.parametrize(
    "primitive, example, expected",
    [
        ("tokens_str", [1, 2.5, True], (["1", "2.5", "True"], "strings")),
        ("tokens_int", "12", ([1, 2], "ints")),
        ("tokens_int", [3, 4.7, True], ([3, 4, 1], "ints")),
        ("tokens_float", "12", ([1.0, 2.0], "floats")),
        ("tokens_bool", [0, 1, ""], ([False, True, False], "bools")),
        ("tokens_asis", [5, 6], ([5, 6], "ints")),
        ("indices", "hey", ([0, 1, 2], "ints")),
        ("tokens", "hey", (["h", "e", "y"], "strings")),
        ("indices", {"a": 1, "b": 2}, ([0, 1], "ints")),
        ("tokens_str", {"a": 1, "b": 2}, (["a", "b"], "strings")),
    ],
)
def test_primitives(session, primitive, example, expected):
    assert plain_apply(session, primitive, example) == expected


def plain_apply(session, name, example):
    result = session.apply(session[name], example)
    return result.values, result.type


def test_tokens_int_on_letters_is_an_error(session):
    with pytest.raises(RaspValueError, match='"h"'):
        session.apply(session["tokens_int"], "h1")


def test_empty_input_is_an_error(session):
    error = error_of(session, 'set example ""')
    assert "empty" in error.message
    error = error_of(session, 'indices([]);')
    assert "empty" in error.message


def test_true_and_false(session):
    assert value_of(session, "True;") is True and value_of(session, "False;") is False


# ------------------------------------------------------------ Statements


def test_assignment_forms(session):
    assert value_of(session, "a, b = 1, 2; b;") == 2
    assert value_of(session, "c, d = [3, 4]; c;") == 3
    assert value_of(session, "e = 5, 6; e;") == [5, 6]
    error = error_of(session, "f, g = 1, 2, 3;")
    assert "2 names but 3 values" in error.message


def test_expression_statement_names(session):
    results = shown(session, "indices; indices + 1; 3;")
    assert [r.name for r in results] == ["indices", "out", "out"]


def test_out_holds_the_last_expression_statement(session):
    assert value_of(session, "1 + 2; x = (4 * 5) + 1; out;") == 3


def test_def_shows_a_function(session):
    (result,) = shown(session, "def f(a, b) { return a; }")
    assert result.value == FunctionInfo("f", ["a", "b"])


def test_for_loops_run_in_the_current_scope(session):
    assert value_of(session, "total = 0; for x in [1, 2, 3] { total = total + x; } total;") == 6
    assert value_of(session, "x;") == 3  # the loop variable stays
    assert value_of(session, "for k, v in zip([1, 2], [3, 4]) { last = k * v; } last;") == 8
    assert value_of(session, 'keys = []; for k in {"a": 1, "b": 2} { keys = keys + [k]; } keys;') == ["a", "b"]


def test_comprehensions_get_a_fresh_scope(session):
    assert value_of(session, "y = 7; [y * 2 for y in [1, 2]];") == [2, 4]
    assert value_of(session, "y;") == 7
    assert value_of(session, "{k: v for k, v in [[1, 2], [3, 4]]};") == {1: 2, 3: 4}


def test_range_zip_len(session):
    assert value_of(session, "range(2, 8, 3);") == [2, 5]
    assert value_of(session, "zip([1, 2], [3, 4], [5, 6]);") == [[1, 3, 5], [2, 4, 6]]
    assert value_of(session, 'len([1, 2]) + len("abc") + len({1: 2});') == 6


def test_commands(session):
    assert shown(session, 'set example "hey"\nindices;')[0].value.values == [0, 1, 2]
    results = session.run("show example", "t")
    assert results == [ExampleShown("hey", "hey", None)]
    session.run("s-op examples off", "t")
    assert shown(session, "x = indices;")[0].value == Unevaluated("s-op", "x")
    session.run("examples on\nset selector example [1, 2]", "t")
    sel = shown(session, "select(indices, indices, ==);")[0].value
    assert sel.input == [1, 2] and sel.matrix.shape == (2, 2)
    assert session.run("exit\nindices;", "t")[-1].__class__.__name__ == "ExitRequest"


def test_example_evaluation_failure_is_a_warning_and_the_binding_happens(session):
    results = session.run("tokens = tokens_int;", "t")
    assert len(results) == 1 and results[0].warning
    results = session.run('set example "123"\ny = tokens + 1;', "t")
    assert results[0].value.values == [2, 3, 4]


# ------------------------------------------------------ Elementwise (MLP) operations


def test_sop_with_sop_and_atom_keeps_operand_order(session):
    assert apply(session, '"x" + tokens', "ab") == (["xa", "xb"], "strings")
    assert apply(session, 'tokens + "x"', "ab") == (["ax", "bx"], "strings")
    assert apply(session, "tokens * 2", "ab") == (["aa", "bb"], "strings")
    assert apply(session, "10 - indices", "ab") == ([10, 9], "ints")
    assert apply(session, "indices - 10", "ab") == ([-10, -9], "ints")
    assert apply(session, "indices + indices * indices", "abc") == ([0, 2, 6], "ints")
    assert apply(session, "2 ^ indices", "abc") == ([1, 2, 4], "ints")
    assert apply(session, "indices % 2", "abc") == ([0, 1, 0], "ints")
    assert apply(session, "-indices", "ab") == ([0, -1], "ints")
    assert apply(session, "indices + True", "ab") == ([1, 2], "ints")
    assert apply(session, "(indices == 0) + (indices == 0)", "ab") == ([2, 0], "ints")


def test_python_semantics_of_mixed_cases(session):
    assert apply(session, "indices - 7 % 3", "ab") == ([-1, 0], "ints")
    assert apply(session, "(indices - 7) % 3", "ab") == ([2, 0], "ints")
    assert apply(session, "(indices + 1) ^ -1", "ab") == ([1.0, 0.5], "floats")
    assert apply(session, "tokens == 1", "ab") == ([False, False], "bools")  # no error for ==
    big = apply(session, "(indices + 2) ^ 70", "ab")
    assert big == ([2**70, 3**70], "ints")


def test_selector_operand_of_arithmetic_is_an_error(session):
    error = error_of(session, "select(indices, indices, ==) + 1;")
    assert isinstance(error, RaspTypeError) and "selector" in error.message


def test_and_or_not(session):
    assert apply(session, "indices and tokens", ["", "a", "b"]) == ([False, True, True], "bools")
    assert apply(session, "indices or 0", "abc") == ([False, True, True], "bools")
    assert apply(session, "not indices", "ab") == ([True, False], "bools")
    sel = "select(indices, indices, <) or select(indices, indices, ==)"
    assert apply(session, sel, "ab") == [[1, 0], [1, 1]]
    assert apply(session, "not select(indices, indices, <)", "ab") == [[1, 1], [0, 1]]
    assert apply(session, "select(indices, indices, <=) and select(indices, 1, ==)", "abc") == [
        [0, 0, 0], [0, 1, 0], [0, 1, 0]]
    error = error_of(session, "select(indices, indices, <) and indices;")
    assert "selector" in error.message


def test_ternary(session):
    assert apply(session, '"a" if indices == 1 else tokens', "xyz") == (["x", "a", "z"], "strings")
    # a non-lazy condition evaluates only the chosen branch
    assert value_of(session, "1 if True else undefined_name;") == 1


def test_in(session):
    assert apply(session, 'tokens in ["a", "c"]', "abc") == ([True, False, True], "bools")
    assert apply(session, '"b" in tokens', "abc") == ([True] * 3, "bools")
    assert apply(session, '"z" in tokens', "abc") == ([False] * 3, "bools")
    assert value_of(session, "2 in [1, 2];") is True


def test_indexing(session):
    assert apply(session, '"xyz"[indices]', "abc") == (["x", "y", "z"], "strings")
    assert apply(session, "[10, 20, 30][indices]", "abc") == ([10, 20, 30], "ints")
    assert apply(session, '{"a": 1, "b": 2}[tokens]', "ab") == ([1, 2], "ints")
    assert apply(session, "tokens[0]", "abc") == (["a"] * 3, "strings")
    assert apply(session, "tokens[-1]", "abc") == (["c"] * 3, "strings")
    assert apply(session, "indices[5]", "abc") == ([0] * 3, "ints")  # out of range -> default 0
    assert apply(session, "(tokens)[1]", "abc") == (["b"] * 3, "strings")
    assert value_of(session, "b = [1, 2]; (b)[1];") == 2
    with pytest.raises(RaspValueError, match='"c"'):
        apply(session, '{"a": 1}[tokens]', "c")
    with pytest.raises(RaspValueError, match="out of range"):
        apply(session, "[1, 2][indices]", "abc")


# ------------------------------------------------------------------ `select(key, query, op)`


def test_select_orientation(session):
    # M[q][k] = key[k] op query[q]: query q sees every k < q
    assert apply(session, "select(indices, indices, <)", "abc") == [[0, 0, 0], [1, 0, 0], [1, 1, 0]]
    assert apply(session, "select(indices, 1, ==)", "abc") == [[0, 1, 0]] * 3
    assert apply(session, "select(1, indices, ==)", "abc") == [[0] * 3, [1] * 3, [0] * 3]
    assert apply(session, "select(tokens, tokens, >)", "bab") == [[0, 0, 0], [1, 0, 1], [0, 0, 0]]
    assert apply(session, "select(tokens, tokens, !=)", "aab") == [[0, 0, 1], [0, 0, 1], [1, 1, 0]]


def test_select_of_incomparable_values_is_an_error(session):
    with pytest.raises(RaspTypeError, match="compare"):
        session.apply(node_of(session, "select(tokens, indices, <)"), "ab")


# --------------------------------------------------------------- `aggregate(sel, s [, default])`


def test_aggregate_rules(session):
    # one selected: the value unchanged (ints stay ints)
    assert apply(session, "aggregate(select(indices, 2 - indices, ==), indices)", "abc") == ([2, 1, 0], "ints")
    # several: numeric mean (float)
    assert apply(session, "aggregate(select(indices, indices, <=), indices)", "abc") == ([0.0, 0.5, 1.0], "floats")
    # none: the default (0 when omitted)
    assert apply(session, "aggregate(select(indices, indices, <), indices + 1)", "abc") == ([0, 1, 1.5], "floats")
    assert apply(session, "aggregate(select(indices, 5, ==), indices, 7)", "ab") == ([7, 7], "ints")
    # several equal values of any type: that value (categorical extension)
    assert apply(session, "aggregate(select(tokens, tokens, ==), tokens)", "aba") == (["a", "b", "a"], "strings")
    assert apply(session, "aggregate(select(1, 1, ==), tokens == tokens)", "ab") == ([True, True], "bools")
    # an atom is broadcast
    assert apply(session, "aggregate(select(indices, indices, <=), 3)", "ab") == ([3.0, 3.0], "floats")


def test_aggregate_of_different_strings_is_an_error(session):
    with pytest.raises(RaspValueError) as caught:
        session.apply(node_of(session, 'aggregate(select(1, 1, ==), tokens, "-")'), "ab")
    assert "row 0" in caught.value.message and '"a", "b"' in caught.value.message


def test_aggregate_of_mixed_bools_suggests_indicator(session):
    with pytest.raises(RaspValueError) as caught:
        session.apply(node_of(session, "aggregate(select(1, 1, ==), indices == 0)"), "ab")
    assert "indicator" in caught.value.hint


def test_string_aggregate_falling_back_to_default_zero_is_a_mixed_type_error(session):
    with pytest.raises(RaspTypeError) as caught:
        session.apply(node_of(session, "aggregate(select(indices, indices, <), tokens)"), "ab")
    assert "default" in caught.value.hint


# ---------------------------------------------------------- `selector_width(sel)`


def test_selector_width(session):
    assert apply(session, "selector_width(select(tokens, tokens, ==))", "hello") == ([1, 1, 2, 2, 1], "ints")
    assert apply(session, "selector_width(select(indices, indices, <))", "abc") == ([0, 1, 2], "ints")
    assert apply(session, "selector_width(select(indices, 9, ==))", "ab") == ([0, 0], "ints")


# ------------------------------------------------------------ Names and scopes


def test_reserved_names(session):
    for source in ("length = 6;", "indices = 1;", "out = 1;", "True = 1;", "def sort(a) { return a; }"):
        error = error_of(session, source)
        assert isinstance(error, RaspNameError) and "cannot be assigned" in error.message, source
    # functions may shadow library names locally
    assert value_of(session, "def f(length) { sort = length + 1; return sort; } f(1);") == 2


def test_tokens_is_reassignable_without_rewriting_graphs(session):
    shown(session, "a = tokens + tokens;")
    session.run("tokens = tokens_int;", "t")
    shown(session, 'set example "12"\nb = tokens + tokens;')
    assert apply(session, "a", "12") == (["11", "22"], "strings")
    assert apply(session, "b", "12") == ([2, 4], "ints")


def test_reassignment_never_rewrites_graphs(session):
    shown(session, "a = indices; b = a; a = a + 1;")
    assert apply(session, "b", "xy") == ([0, 1], "ints")
    assert apply(session, "a", "xy") == ([1, 2], "ints")


def test_labels_do_not_rename_shared_nodes(session):
    results = shown(session, "vv = indices; indices;")
    assert results[0].value.name == "vv" and results[1].value.name == "indices"
    assert session["indices"].name == "indices"


def test_undefined_name_suggests_a_near_miss(session):
    error = error_of(session, "sortt(tokens, tokens);")
    assert isinstance(error, RaspNameError) and error.hint == "did you mean `sort`?"


# -------------------------------------------------------------------- Files and `load`


def test_load_search_order_privacy_and_scope(tmp_path, monkeypatch):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "helpers.rasp").write_text('load "inner";\npublic = inner_value + 1;\n_private = 5;\n')
    (lib / "inner.rasp").write_text("inner_value = 41;\n")
    (tmp_path / "main.rasp").write_text('secret = 3;\nload "lib/helpers";\nresult = public;\n')
    monkeypatch.chdir(tmp_path)
    session = Session()
    results = session.run((tmp_path / "main.rasp").read_text(), str(tmp_path / "main.rasp"))
    assert not [r for r in results if isinstance(r, Problem)]
    assert session["result"] == 42
    with pytest.raises(KeyError):
        session["_private"]


def test_loaded_file_sees_the_library_not_the_loader(tmp_path, monkeypatch):
    (tmp_path / "peek.rasp").write_text("seen = secret;\nlen_ok = length;\n")
    monkeypatch.chdir(tmp_path)
    session = Session()
    results = session.run('secret = 1;\nload "peek.rasp";', str(tmp_path / "main.rasp"))
    errors = [r.error for r in results if isinstance(r, Problem)]
    assert len(errors) == 1 and "`secret` is not defined" in errors[0].message
    assert errors[0].span.file.endswith("peek.rasp") and errors[0].span.line == 1
    assert any("load" in note for _, note in errors[0].context)
    assert session["len_ok"] is session.base.lookup("length")


def test_load_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.rasp").write_text('load "b";\n')
    (tmp_path / "b.rasp").write_text('load "a";\n')
    session = Session()
    error = error_of(session, 'load "a";')
    assert isinstance(error, RaspLoadError) and "cycle" in error.message
    error = error_of(session, 'load "nowhere";')
    assert isinstance(error, RaspLoadError) and "looked in" in error.message and str(tmp_path) in error.message


def test_load_from_the_standard_library_directory(session):
    shown(session, 'load "rasplib";')  # found in the stdlib directory


def test_session_starts_with_library_tokens_and_example(session):
    assert session.sop_example == "hello"
    results = shown(session, "tokens;")
    assert results[0].value == EvaluatedSOp("tokens", "hello", list("hello"), list("hello"), "strings")
    assert isinstance(session.base.lookup("sort"), Function)


def test_no_stdlib_session():
    session = Session(stdlib=False)
    assert value_of(session, "selector_width(select(indices, indices, <));")[0] == [0, 1, 2, 3, 4]
    assert isinstance(error_of(session, "length;"), RaspNameError)


def test_applying_a_non_function_is_an_error(session):
    error = error_of(session, "x = 3; x(1);")
    assert isinstance(error, RaspTypeError) and "cannot be called" in error.message


def test_selector_matrix_shape_and_dtype(session):
    result = shown(session, "select(indices, indices, ==);")[0].value
    assert result.matrix.dtype == np.bool_ and result.matrix.shape == (5, 5)
    assert isinstance(shown(session, "x = 1;")[0], Shown)


def test_every_statement_type_has_one_handler():
    from rasp import syntax
    from rasp.interpreter import _STATEMENTS

    statement_types = {t for t in vars(syntax).values() if isinstance(t, type) and issubclass(t, syntax.Stmt)}
    assert statement_types - {syntax.Stmt} == set(_STATEMENTS)
