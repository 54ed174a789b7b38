"""Two constructions that keep a select's keys and values small, each exact on every input up to a
small max_len against the interpreter: a key computed by an MLP is one-hot over its classes under
the select (values the select tells apart), and an aggregate whose select compares `indices` plus a
node that is the same at every position (`length`, where a token is) with == picks one value, never
a mean (rasp/compiler/valueset.py, ValueSets.at_most_one)."""

from __future__ import annotations

import pytest
from test_compiler_mlp import exact_everywhere

import rasp.api
from rasp.compiler.construct import compile_sop
from rasp.compiler.valueset import ValueSets

VOCAB = ["a", "b", "+"]
PLUS = 'plus = aggregate(select(tokens, "+", ==), indices);'  # where the "+" is (a mean of several)
SHIFTED = PLUS + "key = indices + length - plus;"  # add's key: fractional where there are several "+"


def session(source: str) -> rasp.api.Session:
    s = rasp.api.Session()
    s.run('load "add";\n' + source)
    return s


def dims_of(model, name: str) -> list[dict]:
    return [d for d in model.dims() if d["node"] == name]


# ------------------------------------------------------------ uniform nodes, at most one selected


def test_uniform_nodes():
    s = session(SHIFTED + 'per_token = aggregate(select(tokens, tokens, ==), indices);')
    sets = ValueSets(VOCAB, 4)
    for name in ("length", "plus"):
        assert sets.uniform(s[name].node), name
    for name in ("key", "per_token"):
        assert not sets.uniform(s[name].node), name
    assert sets.uniform(3)


@pytest.mark.parametrize("selector, single", [
    ("select(key, indices, ==)", True),
    ("select(indices - plus, indices, ==)", True),
    ("select(plus + indices, indices, ==) and select(tokens, tokens, ==)", True),
    ("select(key, indices, <)", False),  # several keys below a query
    ("select(indices + indicator(tokens == \"a\"), indices, ==)", False),  # two keys can be equal
    ("select(key, indices, ==) or select(tokens, tokens, ==)", False),
])
def test_at_most_one(selector, single):
    s = session(SHIFTED + f"sel = {selector};")
    assert ValueSets(VOCAB, 4).at_most_one(s["sel"].node) == single


def test_aggregate_of_at_most_one_number_has_the_selected_values_and_is_exact():
    """Without the rule its values would be every mean of up to max_len numbers (and every map of it
    a table over thousands of fractions)."""
    s = session(SHIFTED + 'x = aggregate(select(key, indices, ==), indicator(tokens == "a"), 0);'
                "y = x + 2;")
    exact_everywhere(s["y"].node, VOCAB, 5)
    assert ValueSets(VOCAB, 5).union(s["x"].node).keys() == {("n", 0), ("n", 1)}


def test_aggregate_of_several_numbers_is_still_a_mean():
    s = session('x = aggregate(select(indices + indicator(tokens == "a"), indices, ==), indicator(tokens == "b"), 0);')
    model = exact_everywhere(s["x"].node, VOCAB, 4)
    assert [d["encoding"] for d in dims_of(model, "x")] == ["numerical"]
    assert ("n", 0.5) in ValueSets(VOCAB, 4).union(s["x"].node)


# ------------------------------------------------------------ keys by classes


@pytest.mark.parametrize("selector, default", [
    ("select(key, indices, ==)", "_"),
    ("not select(key, indices, ==)", "_"),
    ("select(key, indices, <)", "_"),
    ("select(key, 2, >=)", "_"),
    ("select(plus * 2, indices, ==)", "_"),
])
def test_key_by_classes_is_exact(selector, default):
    s = session(SHIFTED + f'x = aggregate({selector}, tokens, "{default}");')
    key = s["x"].node.selector
    while not hasattr(key, "key"):
        key = key.args[0]
    model = exact_everywhere(s["x"].node, VOCAB, 5)
    classes = [d for d in model.dims() if d["node"] == key.key.name and d["encoding"] == "classes"]
    values = ValueSets(VOCAB, 5).union(key.key)
    assert classes, "the key is encoded by its classes"
    assert len(classes) < len(values)


def test_add_key_has_one_class_per_integer_and_one_for_the_rest():
    """add's `indices + a_offset` at max_len 10: every value that is not one of the integers 0..9
    selects nothing against `indices`, so they are one class (577 one-hot values before)."""
    s = session("x = add(tokens);")
    model = compile_sop(s["x"].node, max_len=10, vocab=["0", "1", "9", "+"])
    classes = [d for d in model.dims() if d["encoding"] == "classes"]
    assert {d["node"] for d in classes} == {"indices + a_offset"}
    assert len(classes) <= 11
    assert model.d_model < 100


def test_add_is_exact_up_to_length_5():
    s = session("x = add(tokens);")
    exact_everywhere(s["x"].node, ["0", "1", "9", "+"], 5)


def test_a_key_used_elsewhere_keeps_its_values():
    """A map reads the key too: it keeps its values (classes would be a second copy)."""
    s = session(SHIFTED + 'x = aggregate(select(key, indices, ==), tokens, "_");'
                'y = x if key > 2 else "big";')
    model = exact_everywhere(s["y"].node, VOCAB, 4)
    assert not [d for d in model.dims() if d["encoding"] == "classes"]
