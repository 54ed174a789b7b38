"""Value-set inference (rasp.compiler.valueset): the sets contain every value a program takes.

The compiler builds its lookup tables from these sets, so a value missing from a set is a
wrong model. The oracle is the engine itself: every input over a small vocabulary up to a
small length is evaluated, and each value it produces at position (n, i) must be in the
node's set there (selectors: every selected cell is `possible`, every `certain` cell is
selected). Hand cases check the sets that are exact, not only large enough.
"""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from fuzzing import ProgramWriter
from support import fresh_session, node_of

from rasp.compiler.valueset import MAX_VALUES, ValueSets, python_value, value_key
from rasp.engine import evaluate_batch
from rasp.errors import RaspError
from rasp.values import Lazy, Selector, SOp

DIGITS = ["0", "1", "2"]
MAX_LEN = 3


def all_inputs(vocab: list, max_len: int) -> list[str]:
    return ["".join(tokens) for n in range(1, max_len + 1) for tokens in itertools.product(vocab, repeat=n)]


def escapes(node: Lazy, vocab: list, max_len: int) -> list[tuple]:
    """(input, position, value) wherever the engine produces what the value sets leave out."""
    sets = ValueSets(vocab, max_len)
    found = []
    for items, value in evaluate_batch(node, all_inputs(vocab, max_len)):
        if isinstance(value, RaspError):
            continue  # a failing input constrains nothing
        n = len(items)
        if isinstance(node, SOp):
            at = sets.at(node)
            for i, v in enumerate(value.values.tolist()):
                allowed = at[(n, i)]
                if allowed is not None and value_key(python_value(v)) not in allowed:
                    found.append((items, i, v))
        else:
            possible, certain = sets.pattern(node, n)
            if np.any(value & ~possible) or np.any(certain & ~value):
                found.append((items, "pattern", value.astype(int).tolist()))
    return found


def produced(node: Lazy, vocab: list, max_len: int) -> dict[tuple[int, int], set]:
    """The keys of the values the engine produces at each position, over every input."""
    seen: dict[tuple[int, int], set] = {}
    for items, value in evaluate_batch(node, all_inputs(vocab, max_len)):
        for i, v in enumerate(value.values.tolist()):
            seen.setdefault((len(items), i), set()).add(value_key(v))
    return seen


# ------------------------------------------------------------------ random programs


def random_nodes(count: int, seed: int) -> list[tuple[str, Lazy]]:
    """(source, node) for the s-ops and selectors that random programs bind."""
    rng = random.Random(seed)
    nodes: list[tuple[str, Lazy]] = []
    while len(nodes) < count:
        writer = ProgramWriter(rng)
        source = writer.program()
        session = fresh_session()
        session.run(source, "random.rasp")
        for name in writer.lazy_names:
            try:
                value = session[name]
            except KeyError:
                continue
            if isinstance(value, (SOp, Selector)):
                nodes.append((source, value))
    return nodes[:count]


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(4))
def test_random_programs_take_only_values_in_their_sets(seed):
    wrong = []
    for source, node in random_nodes(30, seed):
        found = escapes(node, DIGITS, MAX_LEN)
        if found:
            wrong.append((source, node.name, found[:3]))
    assert not wrong


# ------------------------------------------------------------------ hand cases


def test_primitives_have_exactly_their_values():
    session = fresh_session()
    sets = ValueSets(DIGITS, MAX_LEN)
    for name in ("indices", "tokens_int", "tokens_str", "length"):
        node = node_of(session, name)
        at = sets.at(node)
        assert {p: set(s) for p, s in at.items()} == produced(node, DIGITS, MAX_LEN), name
    assert sets.at(node_of(session, "indices"))[(3, 2)] == {value_key(2): 2}
    assert set(sets.at(node_of(session, "length"))[(3, 0)].values()) == {3}


def test_an_elementwise_map_has_exactly_the_values_of_its_inputs_combinations():
    session = fresh_session()
    node = node_of(session, "tokens_int * 10 + indices")
    at = ValueSets(DIGITS, MAX_LEN).at(node)
    assert set(at[(2, 1)].values()) == {1, 11, 21}
    assert {p: set(s) for p, s in at.items()} == produced(node, DIGITS, MAX_LEN)


def test_true_and_one_are_different_values_and_one_and_one_point_zero_are_one():
    assert value_key(True) != value_key(1)
    assert value_key(1) == value_key(1.0)
    assert value_key(1.6041666666666665) == value_key(1.6041666666666667)  # a mean summed in another order


def test_a_known_selector_pattern_is_certain():
    session = fresh_session()
    sets = ValueSets(DIGITS, MAX_LEN)
    possible, certain = sets.pattern(node_of(session, "select(indices, indices, <=)"), 3)
    lower = np.tril(np.ones((3, 3), dtype=bool))
    assert (possible == lower).all() and (certain == lower).all()
    possible, certain = sets.pattern(node_of(session, "select(tokens, tokens, ==)"), 3)
    assert possible.all()  # any two positions may hold the same token
    assert not (certain & ~np.eye(3, dtype=bool)).any()  # and no two other positions surely do


def test_a_prefix_mean_at_position_i_is_a_multiple_of_one_over_i_plus_one():
    session = fresh_session()
    node = node_of(session, 'aggregate(select(indices, indices, <=), indicator(tokens == "1"), 0)')
    at = ValueSets(DIGITS, MAX_LEN).at(node)
    assert {round(v * 3, 9) for v in at[(3, 2)].values()} == {0, 1, 2, 3}
    assert set(at[(3, 0)].values()) == {0, 1}
    assert not escapes(node, DIGITS, MAX_LEN)


def test_selector_width_is_between_the_certain_and_the_possible_count():
    session = fresh_session()
    node = node_of(session, "selector_width(select(tokens, tokens, ==))")
    at = ValueSets(DIGITS, MAX_LEN).at(node)
    assert {1, 2, 3} <= set(at[(3, 1)].values()) <= {0, 1, 2, 3}
    assert set(at[(1, 0)].values()) <= {0, 1}
    assert not escapes(node, DIGITS, MAX_LEN)


def test_a_shifted_token_includes_the_default():
    session = fresh_session()
    node = node_of(session, 'shift(tokens, 1, "#")')
    at = ValueSets(DIGITS, MAX_LEN).at(node)
    assert set(at[(3, 0)].values()) == {"#"}
    assert set(at[(3, 2)].values()) >= set(DIGITS)
    assert not escapes(node, DIGITS, MAX_LEN)


@pytest.mark.slow
def test_a_set_too_large_to_enumerate_is_none():
    session = fresh_session()
    vocab = [str(v) for v in range(100)]
    node = node_of(session, "tokens_int * 1000 + aggregate(select(indices, 0, ==), tokens_int, 0)")
    sets = ValueSets(vocab, 2)
    assert len(sets.at(node_of(session, "tokens_int"))[(2, 1)]) == 100
    assert 100 * 100 > MAX_VALUES
    assert all(s is None for s in sets.at(node).values())  # 100 × 100 combinations
    assert sets.union(node) is None


def test_an_operation_that_fails_contributes_no_value():
    session = fresh_session()
    node = node_of(session, "6 / tokens_int")
    values = set(ValueSets(DIGITS, 2).at(node)[(1, 0)].values())
    assert values == {3.0, 6.0}  # 6 / 0 fails on that input, so no value comes from it
