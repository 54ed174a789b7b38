"""The reference library (stdlib/rasplib.rasp) against plain-Python oracles.

docs/reference.md, 'Standard library (stdlib/*.rasp), loaded at start-up'.
"""

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import examples, short_numbers, short_words
from support import node_of

from rasp.interpreter import Session

SESSION = Session()

FAST = settings(max_examples=examples(60))


def run(expression: str, example):
    result = SESSION.apply(node_of(SESSION, expression), example)
    if hasattr(result, "values"):
        return result.values, result.type
    return result.matrix.astype(bool).tolist()


def python_aggregate(rows, values, default=0):
    """docs/reference.md, '`aggregate(sel, s [, default])`', for numeric values, per row."""
    out = []
    for row in rows:
        chosen = [v for v, on in zip(values, row, strict=True) if on]
        if not chosen:
            out.append(default)
        elif len(chosen) == 1:
            out.append(chosen[0])
        else:
            out.append(sum(chosen) / len(chosen))
    return out


def seq_type(values):
    if all(isinstance(v, bool) for v in values):
        return "bools"
    if all(isinstance(v, str) for v in values):
        return "strings"
    return "floats" if any(isinstance(v, float) for v in values) else "ints"


@FAST
@given(short_words)
def test_length(word):
    assert run("length", word) == ([len(word)] * len(word), "ints")


@FAST
@given(short_words)
def test_full_s_and_selector_width(word):
    n = len(word)
    assert run("full_s", word) == [[True] * n] * n
    assert run("selector_width(select(tokens, tokens, ==))", word) == ([word.count(c) for c in word], "ints")


@FAST
@given(short_words)
def test_has_focus(word):
    expected = [any(k < q for k in word) for q in word]
    assert run("has_focus(select(tokens, tokens, <))", word) == (expected, "bools")


@FAST
@given(short_words)
def test_count_and_contains(word):
    n = len(word)
    assert run('count(tokens, "a")', word) == ([word.count("a")] * n, "ints")
    assert run('contains(tokens, "b")', word) == ([("b" in word)] * n, "bools")


@FAST
@given(short_numbers)
def test_max_min(values):
    a, b = values, [2 - i for i in range(len(values))]
    assert run("max(tokens_asis, 2 - indices)", values) == ([max(x, y) for x, y in zip(a, b, strict=True)], "ints")
    assert run("min(tokens_asis, 2 - indices)", values) == ([min(x, y) for x, y in zip(a, b, strict=True)], "ints")


def test_max_min_on_atoms():
    SESSION.run("_a = max(3, 5); _b = min(3, 5);", "t")
    assert (SESSION["_a"], SESSION["_b"]) == (5, 3)


@FAST
@given(short_numbers)
def test_average(values):
    n = len(values)
    expected = python_aggregate([[True] * n] * n, values)
    assert run("average(tokens_asis)", values) == (expected, seq_type(expected))


@FAST
@given(short_words, st.integers(0, 14))
def test_load_from_location(word, location):
    n = len(word)
    if location < n:
        assert run(f"load_from_location(tokens, {location})", word) == ([word[location]] * n, "strings")
    else:  # no row selects anything: every position holds the default 0
        assert run(f"load_from_location(tokens, {location})", word) == ([0] * n, "ints")


@FAST
@given(short_words, st.integers(0, 3))
def test_shift(word, n):
    expected = [word[q - n] if q - n >= 0 else "_" for q in range(len(word))]
    assert run(f'shift(tokens, {n}, "_")', word) == (expected, "strings")


@FAST
@given(short_words)
def test_mark_instances(word):
    last = word.rfind("a")
    first = word.find("a")
    assert run('mark_last_instance(tokens, "a")', word) == ([i == last for i in range(len(word))], "bools")
    assert run('mark_first_instance(tokens, "a")', word) == ([i == first for i in range(len(word))], "bools")


@FAST
@given(short_words)
def test_select_from_first_and_last(word):
    n = len(word)
    last, first = word.rfind("a"), word.find("a")
    assert run('select_from_last(tokens, "a")', word) == [[k == last for k in range(n)]] * n
    assert run('select_from_first(tokens, "a")', word) == [[k == first for k in range(n)]] * n


@FAST
@given(short_words)
def test_sort_is_stable_by_key(word):
    assert run("sort(tokens, tokens)", word) == (sorted(word), "strings")
    order = sorted(range(len(word)), key=lambda i: (word[i] != "b", i))  # "b"s first, stable
    assert run('sort(indices, indices if tokens == "b" else 100)', word) == (order, "ints")


@FAST
@given(short_numbers)
def test_sort_numbers_descending(values):
    assert run("sort(tokens_asis, -tokens_asis)", values) == (sorted(values, reverse=True), "ints")


@FAST
@given(short_words)
def test_select_next_identical(word):
    n = len(word)
    expected = [[k == next((j for j in range(q + 1, n) if word[j] == word[q]), None) for k in range(n)]
                for q in range(n)]
    assert run("select_next_identical(tokens)", word) == expected
