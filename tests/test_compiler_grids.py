"""Grids (rasp.compiler.valueset, 'Grids'): a mean of integers with too many values for a set, read
by the compiler at its representatives, and `length` read linearly from an all-selecting head.

The grid path starts where a mean's set grows past MAX_VALUES (max_len 24 for add's
`plus_position`); here MAX_VALUES is lowered so that it starts at a max_len small enough to check
every input, and the models are compared with the interpreter on all of them."""

from __future__ import annotations

import itertools
import random
from fractions import Fraction

import pytest
from support import fresh_session

from rasp.compiler import valueset
from rasp.compiler.construct import CompileError, compile_sop
from rasp.compiler.valueset import Grid, ValueSets, value_key
from rasp.compiler.verify import verify

VOCAB = ["0", "1", "9", "+"]
PLUS = 'plus_position = aggregate(select(tokens, "+", ==), indices);\n'


def nodes(source: str, *names: str) -> list:
    session = fresh_session()
    session.run('load "add";\n' + source)
    return [session[name] for name in names]


def true_means(n: int) -> set[Fraction]:
    """Every value plus_position takes on an input of length n: a mean of some positions, or 0."""
    found = {Fraction(0)}
    for size in range(1, n + 1):
        found |= {Fraction(sum(chosen), size) for chosen in itertools.combinations(range(n), size)}
    return found


def test_a_mean_with_too_many_values_has_a_grid_holding_its_values(monkeypatch):
    monkeypatch.setattr(valueset, "MAX_VALUES", 20)
    max_len = 9
    (plus,) = nodes(PLUS, "plus_position")
    sets = ValueSets(VOCAB, max_len)
    grids = sets.grids(plus)
    assert grids, "no position past 20 values"
    for (n, i), grid in grids.items():
        assert sets.at(plus)[(n, i)] is None
        for mean in true_means(n):
            assert grid.low <= mean <= grid.high
            assert mean.denominator == 1 or min(mean % 1, 1 - mean % 1) >= Fraction(1, max_len)
    for (n, _), values in sets.at(plus).items():
        if values is not None:
            assert {value_key(float(m)) for m in true_means(n)} <= set(values)


def test_representatives_are_the_integers_and_their_neighbours_at_one_over_max_len():
    sets = ValueSets(VOCAB, 4)
    assert sorted(sets.representatives(Grid(0, 2)).values()) == [0, 0.25, 0.75, 1, 1.25, 1.75, 2]
    assert sets.representatives(Grid(0, 2)) is sets.representatives(Grid(0, 2))


def test_sums_and_differences_with_integers_keep_a_grid_and_comparisons_make_a_set(monkeypatch):
    monkeypatch.setattr(valueset, "MAX_VALUES", 20)
    max_len = 9
    source = PLUS + ("key = indices + length - plus_position;\nnegated = -plus_position;\n"
                     "after = indices > plus_position;\nequal = plus_position == 3;\n"
                     "doubled = plus_position * 2;\nrounded = round(plus_position);\n")
    key, negated, after, equal, doubled, rounded, plus = nodes(
        source, "key", "negated", "after", "equal", "doubled", "rounded", "plus_position")
    sets = ValueSets(VOCAB, max_len)
    on_grid = sets.grids(plus)
    for (n, i), grid in on_grid.items():
        assert sets.grids(key)[(n, i)] == Grid(i + n - grid.high, i + n - grid.low)
        assert sets.grids(negated)[(n, i)] == Grid(-grid.high, -grid.low)
        means = true_means(n)
        assert set(sets.at(after)[(n, i)].values()) == {i > m for m in means}
        assert set(sets.at(equal)[(n, i)].values()) == {m == 3 for m in means}
        for other in (doubled, rounded):  # not the same between integers: no set, no grid
            assert sets.at(other)[(n, i)] is None and (n, i) not in sets.grids(other)


def test_the_pattern_of_a_select_on_a_grid_holds_every_real_match(monkeypatch):
    monkeypatch.setattr(valueset, "MAX_VALUES", 20)
    max_len = 8
    (selector,) = nodes(PLUS + "s = select(indices + length - plus_position, indices, ==);", "s")
    sets = ValueSets(VOCAB, max_len)
    for n in range(1, max_len + 1):
        possible, _ = sets.pattern(selector, n)
        for key, query in itertools.product(range(n), repeat=2):
            real = any(key + n - m == query for m in true_means(n))
            assert possible[query, key] or not real


def _add(max_len: int):
    (node,) = nodes("x = add(tokens);", "x")
    return node, compile_sop(node, max_len=max_len, vocab=VOCAB)


@pytest.mark.slow
def test_add_on_a_grid_is_exact_on_every_input(monkeypatch):
    monkeypatch.setattr(valueset, "MAX_VALUES", 24)
    node, model = _add(7)
    assert any(d["node"] == "aggregate(full_s, indices)" for d in model.dims()), "length not read linearly"
    result = verify(model, node, random_inputs=0, exhaustive_limit=10**6)
    assert result.exhaustive_up_to == 7 and result.checked == sum(4**n for n in range(1, 8))
    assert result.mismatches == 0, result.first_mismatch
    assert result.attention_error <= model.attention_tolerance


def test_without_a_grid_the_model_is_what_it_was(monkeypatch):
    """Only refused plans are tried again with `length` read linearly: at max_len 8 with every set
    enumerable, add has no mean of indices."""
    _, model = _add(8)
    assert not any(d["node"] == "aggregate(full_s, indices)" for d in model.dims())


def structured_sums(count: int, shortest: int, longest: int, seed: int = 0) -> list[list[str]]:
    """Inputs like add's: digits with one "+" (usually) or a few (the means are then fractions)."""
    rng = random.Random(seed)
    inputs = []
    for _ in range(count):
        n = rng.randint(shortest, longest)
        tokens = [rng.choice("019") for _ in range(n)]
        for where in rng.sample(range(n), min(n, rng.choice([1, 1, 1, 2, 3, 5]))):
            tokens[where] = "+"
        inputs.append(tokens)
    return inputs


@pytest.mark.slow
def test_add_at_max_len_32_is_exact_on_sums_with_one_or_several_pluses(monkeypatch):
    node, model = _add(32)
    inputs = structured_sums(400, 20, 32)
    monkeypatch.setattr("rasp.compiler.verify.test_inputs", lambda *args, **kwargs: (inputs, 0, len(inputs)))
    result = verify(model, node)
    assert result.checked == len(inputs)
    assert result.mismatches == 0, result.first_mismatch
    assert result.attention_error <= model.attention_tolerance
    assert model.params < 1_000_000  # 513,874 when written; enumerating the means took 10.7M


def test_a_grid_mixed_with_another_number_is_refused_with_a_reason(monkeypatch):
    monkeypatch.setattr(valueset, "MAX_VALUES", 40)  # share's 23 values have a set, plus_position's do not
    source = PLUS + ('share = aggregate(select(tokens, "1", ==), indicator(tokens == "9"));\n'
                     "x = indices > plus_position and share > 0.5;")
    (node,) = nodes(source, "x")
    with pytest.raises(CompileError, match="one MLP reads such a mean only as its one number"):
        compile_sop(node, max_len=8, vocab=VOCAB)


def test_a_number_computed_from_a_grid_is_refused_not_approximated(monkeypatch):
    """plus_position + 1 is not the same between integers: reading its grid at representatives
    would be wrong in between, so it is refused as before."""
    monkeypatch.setattr(valueset, "MAX_VALUES", 20)
    (node,) = nodes(PLUS + "x = plus_position + 1;", "x")
    with pytest.raises(CompileError, match="too many to enumerate"):
        compile_sop(node, max_len=8, vocab=VOCAB)



def test_a_key_that_is_not_the_same_between_integers_is_refused(monkeypatch):
    """round(plus_position) changes at the halves: its classes cannot be read at representatives."""
    monkeypatch.setattr(valueset, "MAX_VALUES", 20)
    (node,) = nodes(PLUS + "x = aggregate(select(round(plus_position), indices, ==), indices, 0);", "x")
    with pytest.raises(CompileError, match="too many"):
        compile_sop(node, max_len=8, vocab=VOCAB)
