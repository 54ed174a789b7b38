"""The NumPy engine (rasp.engine) on its own: building blocks, memoisation, depth."""

import numpy as np
import pytest

from rasp import engine
from rasp.engine import Evaluation, Seq, aggregate_value, input_items, select_matrix
from rasp.errors import RaspTypeError, RaspValueError
from rasp.values import Aggregate, Map, Primitive, Select

INDICES = Primitive("indices")
TOKENS = Primitive("tokens_str")


def ints(*values):
    return Seq(np.array(values, dtype=np.int64), "ints")


def test_select_matrix_orientation_and_broadcast():
    key, query = ints(0, 1, 2), ints(0, 1, 2)
    assert select_matrix(key, query, "<").astype(int).tolist() == [[0, 0, 0], [1, 0, 0], [1, 1, 0]]
    assert select_matrix(ints(5), query, "==").shape == (3, 3)  # an atom key is broadcast


def test_select_on_strings_uses_their_order():
    words = Seq(np.array(["b", "a", "c"]), "strings")
    assert select_matrix(words, words, "<").astype(int).tolist() == [[0, 1, 0], [0, 0, 0], [1, 1, 0]]


def test_aggregate_value_cases():
    matrix = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0]], dtype=bool)
    assert aggregate_value(matrix, ints(4, 6, 8), 0).to_list() == [0, 4, 5.0]
    assert aggregate_value(matrix, ints(4, 6, 8), 0).type == "floats"
    single = np.eye(3, dtype=bool)[::-1]
    picked = aggregate_value(single, ints(4, 6, 8), 0)
    assert picked.type == "ints" and picked.to_list() == [8, 6, 4]


def test_float_means_sum_in_position_order():
    n = 10
    full = np.ones((n, n), dtype=bool)
    values = Seq(np.full(n, 0.1), "floats")
    total = 0.0
    for _ in range(n):
        total += 0.1  # left to right, as the reference's sum() on Python < 3.12
    expected = total / n
    assert aggregate_value(full, values, 0).to_list() == [expected] * n


def test_categorical_aggregate_needs_equal_values():
    full = np.ones((2, 2), dtype=bool)
    same = Seq(np.array(["a", "a"]), "strings")
    assert aggregate_value(full, same, 0).to_list() == ["a", "a"]
    with pytest.raises(RaspValueError, match="row 0"):
        aggregate_value(full, Seq(np.array(["a", "b"]), "strings"), 0)


def test_shared_nodes_are_computed_once(monkeypatch):
    calls = []
    original = engine.select_matrix

    def counting(*args):
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(engine, "select_matrix", counting)
    shared = Select(INDICES, INDICES, "<=")
    total = Map("+", (Aggregate(shared, INDICES), Aggregate(shared, Map("*", (INDICES, 2)))))
    Evaluation(input_items("abcd")).value(total)
    assert len(calls) == 1


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
