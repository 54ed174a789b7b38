"""The Python API: rasp.Session, s-ops/selectors/functions callable from Python, rasp.analyse."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import rasp
from rasp import interpreter
from rasp.analysis import Analysis
from rasp.api import Bound, BoundFunction, Results
from rasp.errors import RaspNameError, RaspSyntaxError, RaspTypeError, RaspValueError
from rasp.results import EvaluatedSelector, EvaluatedSOp, Problem, Shown


@pytest.fixture(scope="module")
def session() -> rasp.Session:
    session = rasp.Session()
    session.run(
        "hist = selector_width(select(tokens, tokens, ==));\n"
        "same = select(tokens, tokens, ==);\n"
        "numbers = tokens_int + 1;\n"
        "pair = [indices, 3];\n"
        'applied = indices("abc");\n'
    )
    return session


def test_rasp_session_is_the_interpreter_session_with_a_python_face() -> None:
    assert issubclass(rasp.Session, interpreter.Session)
    assert rasp.RaspError.__module__ == "rasp.errors"


def test_import_rasp_stays_cheap() -> None:
    code = "import rasp, sys; print(sorted(m for m in ('numpy', 'lark', 'rasp.api') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_an_sop_is_callable_on_an_input(session) -> None:
    result = session["hist"]("hello")
    assert isinstance(result, EvaluatedSOp)
    assert result.values == [1, 1, 2, 2, 1] and result.type == "ints"
    assert all(type(v) is int for v in result.values)
    assert result.name == "hist" and result.tokens == list("hello")


def test_a_selector_is_callable_and_gives_a_numpy_matrix(session) -> None:
    result = session["same"]("abca")
    assert isinstance(result, EvaluatedSelector)
    assert result.matrix.dtype == np.bool_
    assert result.matrix.astype(int).tolist() == [[1, 0, 0, 1], [0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 1]]


def test_inputs_may_be_lists_tuples_and_numpy_arrays(session) -> None:
    assert session["hist"]([3, 1, 3]).values == [2, 1, 2]
    assert session["hist"]((3, 1, 3)).values == [2, 1, 2]
    assert session["hist"](np.array([7, 7])).values == [2, 2]


def test_bound_values_know_their_node(session) -> None:
    bound = session["same"]
    assert isinstance(bound, Bound) and bound.kind == "selector" and bound.name == "same"
    assert bound.node is session.globals.lookup("same")
    assert bound.parents() == bound.node.parents()  # other attributes are the node's
    assert repr(bound) == "<selector same>"


def test_in_a_notebook_a_bound_value_shows_on_the_running_example(session) -> None:
    assert session["hist"]._repr_html_() == session["hist"]("hello")._repr_html_()
    assert "same(&quot;hello&quot;)" in session["same"]._repr_html_()
    assert session["numbers"]._repr_html_() is None  # fails on "hello": Jupyter falls back to the repr


def test_plain_values_come_back_as_python_values(session) -> None:
    indices, three = session["pair"]
    assert isinstance(indices, Bound) and three == 3
    assert indices("ab").values == [0, 1]
    assert session["applied"].values == [0, 1, 2]
    assert "hist" in session and "nothing" not in session
    with pytest.raises(KeyError):
        session["nothing"]


def test_an_evaluation_error_is_a_rasp_error_at_the_definition(session) -> None:
    with pytest.raises(RaspValueError) as caught:
        session["numbers"]("h1")
    error = caught.value
    assert isinstance(error, rasp.RaspError)
    assert 'token "h" at position 0 is not an int' in error.message
    assert (error.span.file, error.span.line, error.span.column) == ("<input>", 3, 11)
    assert session["numbers"]("12").values == [2, 3]


def test_an_empty_input_is_an_error(session) -> None:
    with pytest.raises(RaspValueError, match="empty"):
        session["hist"]("")


def test_run_raises_the_first_error_with_its_position() -> None:
    session = rasp.Session()
    with pytest.raises(RaspSyntaxError) as caught:
        session.run("a = 1;\nb = (2 +;\nc = 3;")
    assert (caught.value.span.line, caught.value.span.column) == (2, 9)
    assert str(caught.value).startswith("<input>:2:9: ")
    assert session["a"] == 1 and "c" not in session  # statements after the error do not run
    with pytest.raises(RaspNameError, match="reserved"):
        session.run("length = 6;")


def test_run_with_check_off_returns_problems_and_goes_on() -> None:
    session = rasp.Session()
    results = session.run("b = (2 +;\nc = 3;", check=False)
    assert [type(r) for r in results] == [Problem, Shown]
    assert results.problems == [results[0]] and session["c"] == 3


def test_warnings_do_not_raise_and_results_show_as_text() -> None:
    session = rasp.Session()
    results = session.run("x = tokens_int; y = indices * 3;")
    assert isinstance(results, Results) and isinstance(results, list)
    assert results[0].warning and isinstance(results[1], Shown)
    lines = repr(results).splitlines()
    assert lines[0] == '<input>:1:1: warning: x cannot be evaluated on the example "hello": ' + (
        'tokens_int: token "h" at position 0 is not an int'
    )
    assert lines[-1] == 'y("hello") = [0, 3, 6, 9, 12]  ints'


def test_session_without_the_standard_library() -> None:
    session = rasp.Session(stdlib=False)
    assert "count" not in session and "length" not in session
    session.run("w = selector_width(select(indices, indices, <=));")
    assert session["w"]("abc").values == [1, 2, 3]


def test_rasp_functions_are_callable_from_python(session) -> None:
    count = session["count"]
    assert isinstance(count, BoundFunction) and count.params == ["seq", "atom"]
    counted = count(session["tokens"], "l")
    assert isinstance(counted, Bound)
    assert counted("hello").values == [2, 2, 2, 2, 2]
    assert session["max"](3, 5) == 5  # atoms in, an atom out
    width = session["selector_width"](session["same"])
    assert width("aab").values == [2, 2, 1]


def test_a_wrong_call_from_python_is_a_rasp_error(session) -> None:
    with pytest.raises(RaspTypeError, match=r"`count\(seq, atom\)` takes 2 arguments, got 1"):
        session["count"](session["tokens"])


def test_apply_accepts_bound_values(session) -> None:
    assert session.apply(session["hist"], "aa").values == [2, 2]
    assert session.apply(session["hist"], "aa").name == "hist"


def test_analyse_gives_layers_and_heads(session) -> None:
    analysis = rasp.analyse(session["hist"])
    assert isinstance(analysis, Analysis)
    assert (analysis.name, analysis.layers, analysis.heads) == ("hist", 1, [1])
    assert analysis.to_json()["kind"] == "analysis"
    assert "<table" in analysis._repr_html_()
    session.run("flip = select(indices, length - indices - 1, ==); backwards = aggregate(flip, tokens);")
    assert rasp.analyse(session["backwards"]).heads == [1, 1]
    assert session["backwards"].analyse().layers == 2
    assert rasp.analyse(session.globals.lookup("backwards"), "raw").name == "raw"  # a graph node works too
    with pytest.raises(RaspTypeError, match="needs an s-op or a selector"):
        rasp.analyse(3)


def test_batch_evaluation(session) -> None:
    for target in ("hist", session["hist"]):
        results = session.evaluate(target, ["abc", "aab", "abba"])
        assert [r.values for r in results] == [[1, 1, 1], [2, 2, 1], [2, 2, 2, 2]]
        assert {r.name for r in results} == {"hist"}
    assert [r.values for r in session["hist"].evaluate(["aa", ("a", "b"), np.array([5, 5, 6])])] == [
        [2, 2], [1, 1], [2, 2, 1]
    ]
    assert session["same"].evaluate(["ab"])[0].matrix.tolist() == [[True, False], [False, True]]


def test_a_failing_input_of_a_batch_is_a_problem_in_its_place(session) -> None:
    good, bad, also_good = session["numbers"].evaluate(["12", "1x", "7"])
    assert good.values == [2, 3] and also_good.values == [8]
    assert isinstance(bad, Problem) and isinstance(bad.error, RaspValueError)
    assert "input 1" in bad.error.message


def test_an_analysis_prints_as_its_table():
    session = rasp.Session()
    session.run("hist = selector_width(select(tokens, tokens, ==));")
    assert repr(rasp.analyse(session["hist"])).startswith("hist: 1 layer; heads per layer 1 (total 1)")
