"""The lazy graph's nodes (rasp.values): parents, names and labels."""

from rasp.values import Aggregate, Map, Primitive, Select, SelectorCombination, SelectorWidth, type_name


def test_parents_are_the_lazy_operands():
    indices = Primitive("indices")
    plus = Map("+", (indices, 1))
    select = Select(indices, plus, "<")
    both = SelectorCombination("and", (select, select))
    aggregate = Aggregate(both, plus, 0)
    assert plus.parents() == (indices,)
    assert select.parents() == (indices, plus)
    assert both.parents() == (select, select)
    assert aggregate.parents() == (both, plus)
    assert Aggregate(select, 1).parents() == (select,)
    assert SelectorWidth(select).parents() == (select,)


def test_descriptions_read_like_source():
    indices = Primitive("indices")
    assert Map("+", (indices, 1)).name == "indices + 1"
    assert Map("ternary", (indices, "a", "b")).name == '"a" if indices else "b"'
    assert Select(indices, 0, "==").name == "select(indices, 0, ==)"


def test_a_label_is_set_once():
    node = Map("neg", (Primitive("indices"),))
    node.set_label("first")
    node.set_label("second")
    assert node.name == "first"
    primitive = Primitive("tokens_str")
    primitive.set_label("tokens")
    assert primitive.name == "tokens_str"


def test_long_descriptions_are_shortened():
    node = Primitive("indices")
    for _ in range(30):
        node = Map("+", (node, 1))
    assert len(node.name) <= 60


def test_type_names():
    assert [type_name(v) for v in (True, 1, 1.5, "a", [], {}, Primitive("indices"))] == [
        "a bool", "an int", "a float", "a string", "a list", "a dict", "an s-op"]


def test_the_operator_table_has_every_binary_operator():
    from rasp.values import BINARY_OPS, COMPARISONS, PYTHON_BINARY

    assert set(PYTHON_BINARY) == set(BINARY_OPS) and set(COMPARISONS) <= set(BINARY_OPS)
    assert PYTHON_BINARY["^"](2, 10) == 1024 and PYTHON_BINARY["%"](-7, 3) == 2 and PYTHON_BINARY["<="](1, 1)
