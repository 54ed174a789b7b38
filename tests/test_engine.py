"""The NumPy engine (rasp.engine) on its own: building blocks, memoisation, depth."""

import numpy as np
import pytest

from rasp import engine
from rasp.engine import Evaluation, Seq, aggregate_value, input_items, select_matrix
from rasp.errors import RaspTypeError, RaspValueError
from rasp.values import Aggregate, Map, Primitive, Select, SelectorCombination, SelectorWidth

INDICES = Primitive("indices")
TOKENS = Primitive("tokens_str")


def ints(*values):
    """An s-op value inside the engine: a batch axis of one input first."""
    return Seq(np.array([values], dtype=np.int64), "ints")


def rows(matrix):
    """A selector of one input as a list of 0/1 rows (the engine's arrays have a batch axis)."""
    return np.broadcast_to(matrix, (1, 3, 3))[0].astype(int).tolist()


def test_select_matrix_orientation_and_broadcast():
    key, query = ints(0, 1, 2), ints(0, 1, 2)
    assert rows(select_matrix(key, query, "<")) == [[0, 0, 0], [1, 0, 0], [1, 1, 0]]
    assert select_matrix(ints(5), query, "==").shape == (1, 3, 1)  # an atom key: constant along the keys
    assert rows(select_matrix(ints(1), query, "==")) == [[0, 0, 0], [1, 1, 1], [0, 0, 0]]


def test_select_on_strings_uses_their_order():
    words = Seq(np.array([["b", "a", "c"]]), "strings")
    assert rows(select_matrix(words, words, "<")) == [[0, 1, 0], [0, 0, 0], [1, 1, 0]]


def test_aggregate_value_cases():
    matrix = np.array([[[0, 0, 0], [1, 0, 0], [1, 1, 0]]], dtype=bool)
    mean = aggregate_value(matrix, ints(4, 6, 8), 0, 3)
    assert mean.values.tolist() == [[0, 4, 5.0]] and mean.type == "floats"
    single = np.eye(3, dtype=bool)[None, ::-1]
    picked = aggregate_value(single, ints(4, 6, 8), 0, 3)
    assert picked.type == "ints" and picked.values.tolist() == [[8, 6, 4]]
    everything = np.ones((1, 1, 1), dtype=bool)  # select(1, 1, ==): constant along both axes
    assert aggregate_value(everything, ints(4, 6, 8), 0, 3).values.tolist() == [[6.0, 6.0, 6.0]]


def test_float_means_sum_in_position_order():
    n = 10
    full = np.ones((1, n, n), dtype=bool)
    values = Seq(np.full((1, n), 0.1), "floats")
    total = 0.0
    for _ in range(n):
        total += 0.1  # left to right, as the reference's sum() on Python < 3.12
    expected = total / n
    assert aggregate_value(full, values, 0, n).values.tolist() == [[expected] * n]


def test_categorical_aggregate_needs_equal_values():
    full = np.ones((1, 2, 2), dtype=bool)
    same = Seq(np.array([["a", "a"]]), "strings")
    assert aggregate_value(full, same, 0, 2).values.tolist() == [["a", "a"]]
    with pytest.raises(RaspValueError, match="row 0"):
        aggregate_value(full, Seq(np.array([["a", "b"]]), "strings"), 0, 2)


def test_shared_nodes_are_computed_once(monkeypatch):
    calls = []
    original = engine.select_matrix

    def counting(*args, **options):
        calls.append(args)
        return original(*args, **options)

    monkeypatch.setattr(engine, "select_matrix", counting)
    shared = Select(INDICES, INDICES, "<=")
    total = Map("+", (Aggregate(shared, INDICES), Aggregate(shared, Map("*", (INDICES, 2)))))
    Evaluation(input_items("abcd")).value(total)
    assert len(calls) == 1


@pytest.mark.slow
def test_deep_graphs_do_not_hit_the_recursion_limit():
    node = INDICES
    for _ in range(20000):
        node = Map("+", (node, 1))
    assert Evaluation(input_items("ab")).value(node).to_list() == [20000, 20001]


def test_input_validation():
    assert input_items({"x": 1, "y": 2}) == ["x", "y"]
    with pytest.raises(RaspValueError, match="empty"):
        input_items("")
    with pytest.raises(RaspTypeError, match="atoms"):
        input_items([[1], 2])
    with pytest.raises(RaspTypeError, match="string, a list or a dict"):
        input_items(5)


def test_big_ints_stay_exact():
    node = Map("*", (Map("+", (INDICES, 2**40)), 2**40))
    values = Evaluation(input_items("ab")).value(node).to_list()
    assert values == [2**80, (2**40 + 1) * 2**40]


@pytest.mark.parametrize("op", ["<", "<="])
def test_prefix_aggregates_use_running_sums_with_the_same_values(op):
    floats = Map("/", (Primitive("tokens_float"), 7))
    prefix = Aggregate(Select(INDICES, INDICES, op), floats, -1)  # recognised: running sums
    general = Aggregate(Select(Map("+", (INDICES, 0)), INDICES, op), floats, -1)  # the same matrix, summed row by row
    items = input_items(list("93170245860317"))
    fast, slow = Evaluation(items).value(prefix), Evaluation(items).value(general)
    assert fast.type == slow.type == "floats" and fast.to_list() == slow.to_list()
    ints = Aggregate(Select(INDICES, INDICES, op), Map("-", (Primitive("tokens_int"), 4)))
    seen = [[9, 3, 1, 7][: q + (op == "<=")] for q in range(1, 4)]
    expected = [sum(v - 4 for v in keys) / len(keys) if len(keys) > 1 else keys[0] - 4 for keys in seen]
    assert Evaluation(input_items("9317")).value(ints).to_list()[1:] == expected


def test_comparisons_of_small_ints_match_wide_ones():
    wide = Map("*", (INDICES, 2**40))  # needs int64
    narrow = Map("*", (INDICES, 3))  # fits int8
    items = input_items("abcdefgh")
    for op in ("<", "==", ">="):
        a = Evaluation(items).value(Select(wide, Map("*", (Map("-", (7, INDICES)), 2**40)), op))
        b = Evaluation(items).value(Select(narrow, Map("*", (Map("-", (7, INDICES)), 3)), op))
        assert np.array_equal(a, b)


def test_an_evaluation_answers_later_questions_about_its_nodes(monkeypatch):
    # draw asks one Evaluation for the root, then for every node; arrays written over
    # once unused (REUSE_BYTES) must never be values handed out or still needed.
    monkeypatch.setattr(engine, "REUSE_BYTES", 0)
    before = Select(INDICES, INDICES, "<")
    same = Select(TOKENS, TOKENS, "==")
    both = SelectorCombination("and", (before, same))
    root = Map("+", (SelectorWidth(both), SelectorWidth(SelectorCombination("or", (before, same)))))
    evaluation = Evaluation(input_items("abab"))
    assert evaluation.value(root).to_list() == [2, 3, 4, 5]
    assert np.asarray(evaluation.value(before)).astype(int).tolist()[1] == [1, 0, 0, 0]
    shared = evaluation.value(both)
    assert evaluation.value(SelectorWidth(SelectorCombination("not", (both,)))).to_list() == [4, 4, 3, 3]
    assert np.asarray(shared).astype(int).tolist()[2] == [1, 0, 0, 0]
    assert evaluation.value(SelectorWidth(before)).to_list() == [0, 1, 2, 3]


def test_running_mean_of_ints_beyond_float_precision_is_pythons_mean():
    # select(indices, indices, <=) takes a running-sum shortcut; past 2**53 it must not round twice
    xs = [435267658383344849, 573829256412392329, 547344334753525572]
    node = Aggregate(Select(Primitive("indices"), Primitive("indices"), "<="), Primitive("tokens_int"), 0)
    assert Evaluation(input_items(xs)).value(node).to_list() == [xs[0] / 1, sum(xs[:2]) / 2, sum(xs) / 3]
