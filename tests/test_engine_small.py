"""The engine's paths for short single inputs against its general paths, on random values.

One input of length <= SMALL_LENGTH takes aggregate_one and a direct select comparison
(rasp/engine.py); every other case takes aggregate_value and select_matrix's coded,
narrowed comparison. Both must give the same values, types and errors.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from rasp import engine
from rasp.engine import Seq, aggregate_one, aggregate_value, make_seq, select_matrix
from rasp.errors import RaspError

DEFAULTS = [0, -1, 2.5, "-", True, False]


def _random_seq(rng: random.Random, kind: str, n: int) -> Seq:
    if kind == "ints":
        items = [rng.randint(-3, 3) for _ in range(n)]
    elif kind == "big ints":
        items = [rng.choice([2**40, -(2**45), 7]) for _ in range(n)]
    elif kind == "floats":
        items = [rng.choice([0.1, -0.0, 1e16, 2.5, 3.0]) for _ in range(n)]
    elif kind == "strings":
        items = [rng.choice(["a", "b", "", "ab"]) for _ in range(n)]
    else:
        items = [rng.random() < 0.5 for _ in range(n)]
    return make_seq(np.array(items)[None, :])


def _random_matrix(rng: random.Random, n: int) -> np.ndarray:
    shape = rng.choice([(1, n, n), (1, n, n), (1, n, n), (1, 1, 1), (1, n, 1), (1, 1, n)])
    density = rng.choice([0.0, 0.1, 0.5, 1.0])
    return np.array([[rng.random() < density for _ in range(shape[2])] for _ in range(shape[1])])[None]


def _outcome(function, *args):
    try:
        value = function(*args)
    except RaspError as error:
        return type(error).__name__, error.message
    return value.type, engine._full_length(value, args[3]).values.reshape(-1).tolist()


def _same(a, b) -> bool:
    if a[0] != b[0] or len(a[1]) != len(b[1]):
        return False
    return all(x == y or (x != x and y != y) for x, y in zip(a[1], b[1], strict=True))


@pytest.mark.parametrize("seed", range(6))
def test_short_aggregates_match_the_general_path(seed):
    rng = random.Random(seed)
    for _ in range(300):
        n = rng.randint(1, 9)
        kind = rng.choice(["ints", "big ints", "floats", "strings", "bools"])
        seq, matrix, default = _random_seq(rng, kind, n), _random_matrix(rng, n), rng.choice(DEFAULTS)
        prefix = rng.choice([None, None, "<", "<="])
        if prefix is not None:  # running sums are for select(indices, indices, <) only: use that matrix
            q, k = np.arange(n)[:, None], np.arange(n)[None, :]
            matrix = (k < q if prefix == "<" else k <= q)[None]
        fast = _outcome(aggregate_one, matrix, seq, default, n, prefix)
        general = _outcome(aggregate_value, matrix, seq, default, n, prefix)
        assert _same(fast, general), (kind, matrix.astype(int).tolist(), seq.values.tolist(), default, prefix)


@pytest.mark.parametrize("seed", range(4))
def test_short_selects_match_the_coded_comparison(seed, monkeypatch):
    rng = random.Random(seed)
    cases = []
    for _ in range(200):
        n = rng.randint(1, 9)
        kinds = rng.choice([("ints", "ints"), ("strings", "strings"), ("floats", "ints"), ("bools", "ints"),
                            ("strings", "ints")])
        cases.append((_random_seq(rng, kinds[0], n), _random_seq(rng, kinds[1], n),
                      rng.choice(["==", "!=", "<", ">", "<=", ">="])))

    def outcomes():
        found = []
        for key, query, op in cases:
            try:
                found.append(select_matrix(key, query, op).tolist())
            except RaspError as error:
                found.append(error.message)
        return found

    short = outcomes()
    monkeypatch.setattr(engine, "SMALL_LENGTH", 0)  # every select takes the path of long inputs
    assert short == outcomes()


def _index_graphs():
    from rasp.values import Aggregate, Map, Primitive, Select, SelectorCombination, SelectorWidth

    indices, tokens = Primitive("indices"), Primitive("tokens_int")
    before = Select(indices, indices, "<")  # input-free
    same = Select(tokens, tokens, "==")
    length = SelectorWidth(Select(1, 1, "=="))
    flip = Select(indices, Map("-", (Map("-", (length, 1)), indices)), "==")
    return [
        Aggregate(flip, tokens),  # reverse: only the last node sees the tokens
        SelectorWidth(SelectorCombination("and", (before, same))),  # a combination with an input-free operand
        SelectorWidth(SelectorCombination("or", (SelectorCombination("not", (before,)), same))),
        SelectorCombination("and", (SelectorCombination("not", (before,)), before)),  # input-free, combined
        Aggregate(before, Map("*", (tokens, indices)), -1),
        Map("+", (Aggregate(Select(indices, 0, "=="), indices), tokens)),
    ]


def _value(node, items):
    value = engine.Evaluation(items).value(node)
    return value.to_list() if isinstance(value, Seq) else value.tolist()


def test_input_free_values_kept_between_evaluations_match_fresh_ones(monkeypatch):
    # Nodes computed from indices and constants alone keep their values between evaluations of a
    # length (rasp/engine.py, _Plan.known_values): later inputs must see exactly what a fresh plan gives.
    rng = random.Random(5)
    graphs = _index_graphs()
    inputs = [[rng.randint(0, 3) for _ in range(n)] for n in (1, 2, 5, 5, 9, 5, 2, 9, 9) for _ in range(3)]
    kept = [[_value(node, items) for node in graphs] for items in inputs]
    fresh = []
    for items in inputs:
        monkeypatch.setattr(engine, "_PLANS", engine.weakref.WeakKeyDictionary())  # no values kept
        fresh.append([_value(node, items) for node in graphs])
    assert kept == fresh
    long_items = [rng.randint(0, 3) for _ in range(engine.SMALL_LENGTH + 1)]  # beyond: nothing kept
    assert [_value(node, long_items) for node in graphs]
    assert all(len(engine.plan_of(node).known) <= engine.KNOWN_LENGTHS for node in graphs)


def test_input_free_values_kept_per_length_are_kept_apart_for_causal_mode():
    """A selector of indices alone is kept between evaluations at one length; its causal
    value is another value, so switching the mode must not reuse the other one."""
    import rasp

    session = rasp.Session()
    session.run("x = aggregate(select(indices, indices, >=), indices);")
    full = session["x"]("abcd").values
    session.run("causal on")
    assert session["x"]("abcd").values == [0, 1, 2, 3]
    session.run("causal off")
    assert session["x"]("abcd").values == full == [1.5, 2.0, 2.5, 3.0]


def test_string_tokens_as_one_buffer_match_numpy_arrays():
    rows = [list("hello"), ["\ud800", "x"], ["😀", "é", "\x01"], ["§"]]
    for row in rows:
        fast = engine._characters(row)
        assert fast.dtype == np.dtype("<U1") and fast.shape == (1, len(row)) and fast.flags.writeable
        assert fast.tolist() == np.array([row], dtype=str).tolist()
    # longer or non-str tokens take np.array's path; both give the same values
    for row in (["ab", "c"], ["", "a"], [1, "a"], [True, 2.5]):
        seq = engine.primitive_value("tokens_str", [row], len(row))
        assert seq.values.tolist() == [[str(v) for v in row]]


@pytest.mark.parametrize("values", [[0.5, 1.5, -2.5], [float("nan"), 1.0], [float("inf")], [-float("inf"), 2.0],
                                    [1e300, 1e300], [2.0**62], [-(2.0**62)], [2.0**61, -(2.0**61)], [0.0]])
def test_int64_bound_check_of_short_floats_agrees_with_the_array_check(values):
    array = np.array(values)[None]
    assert engine._int64_sized(array) == bool(np.abs(array).max() < engine.INT64_SAFE)


@pytest.mark.parametrize("values", [[1, 2], [0, 1], [0.0], [-0.0, 1.0], [float("nan")], [True], [False, True]])
def test_zero_check_of_short_arrays_agrees_with_numpy(values):
    array = np.array(values)[None]
    assert engine._has_zero(array) == (not array.all())


def test_float_errors_are_ignored_inside_and_restored_after():
    import warnings

    before = np.geterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a NumPy warning inside would fail the test
        with engine._FloatErrorsIgnored():
            assert np.geterr() == {"divide": "ignore", "over": "ignore", "under": "ignore", "invalid": "ignore"}
            np.array([1.0]) / np.array([0.0])
    assert np.geterr() == before


def test_selector_shapes_broadcast_as_numpy_broadcasts_them():
    import itertools

    shapes = list(itertools.product([1, 3], [1, 4], [1, 4]))
    for first, second in itertools.product(shapes, shapes):
        assert engine._broadcast_shape(first, second) == np.broadcast_shapes(first, second)
    with pytest.raises(ValueError):
        engine._broadcast_shape((1, 3, 4), (1, 2, 4))
