"""Property tests: the NumPy engine agrees with a naive per-position evaluator.

Random s-op / selector graphs (built directly from rasp.values nodes, and built by
the interpreter from random RASP source) are evaluated on random inputs by
rasp.engine and by tests/naive_evaluator.py. Either both fail, or both give the
same values with the same sequence type (floats compared with a relative
tolerance; nan equals nan). The engine must fail with a RaspError, never a raw
Python exception (DESIGN: no Python traceback reaches a user).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, reject, settings
from naive_evaluator import NaiveError, Unsupported, naive_value, typed
from strategies import DIGIT_TO_STR, IDX, TI, B, T, examples, graphs, inputs, source_sops

from rasp.engine import Evaluation, input_items
from rasp.errors import RaspError
from rasp.interpreter import Session  # imported early: it raises the recursion limit once
from rasp.values import (
    Aggregate,
    Lazy,
    Map,
    Primitive,
    Select,
    SelectorCombination,
    SelectorWidth,
    SOp,
)

# ------------------------------------------------------------ comparison


def same_atom(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        if math.isinf(a) or math.isinf(b):
            return a == b
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def engine_result(node: Lazy, items: list):
    """("ok", value) or ("error", exception) from the engine."""
    try:
        value = Evaluation(list(items)).value(node)
    except Exception as error:  # noqa: BLE001 - any failure is a result here
        return "error", error
    if isinstance(node, SOp):
        return "ok", (value.to_list(), value.type)
    return "ok", np.asarray(value).tolist()


def naive_result(node: Lazy, items: list):
    try:
        return "ok", naive_value(node, items)
    except Unsupported:
        raise
    except Exception as error:  # noqa: BLE001
        return "error", error


def check_agreement(node: Lazy, inp) -> None:
    items = input_items(inp)
    try:
        naive_status, expected = naive_result(node, items)
    except Unsupported:
        reject()
    engine_status, got = engine_result(node, items)
    context = f"\nnode: {node.describe()}\ninput: {inp!r}"
    if engine_status == "error" and not isinstance(got, RaspError):
        raise AssertionError(f"the engine raised a non-RASP exception {got!r}{context}") from got
    if naive_status == "error" or engine_status == "error":
        assert naive_status == engine_status, (
            f"naive: {naive_status} {expected!r}\nengine: {engine_status} {got!r}{context}"
        )
        return
    if isinstance(node, SOp):
        (values, type_name), (want, want_type) = got, expected
        assert type_name == want_type and len(values) == len(want) and all(
            same_atom(a, b) for a, b in zip(values, want, strict=True)
        ), f"engine {values!r} ({type_name}) != naive {want!r} ({want_type}){context}"
    else:
        assert got == expected, f"engine selector {got!r} != naive {expected!r}{context}"




# ------------------------------------------------------------ properties


@settings(max_examples=examples(1200))
@given(node=graphs(), inp=inputs())
def test_engine_agrees_with_naive_evaluator(node, inp):
    check_agreement(node, inp)


# Random RASP source through the interpreter (which also brings the stdlib:
# length, shift, count, has_focus, ...).

_SESSION = None


def session():
    global _SESSION
    if _SESSION is None:
        _SESSION = Session()
        _SESSION.sop_examples_on = False
        _SESSION.selector_examples_on = False
    return _SESSION




@settings(max_examples=examples(400))
@given(text=source_sops(), inp=inputs())
def test_interpreter_graphs_agree_with_naive_evaluator(text, inp):
    s = session()
    results = s.run(f"x = {text};")
    node = s["x"] if any(getattr(r, "name", None) == "x" for r in results) else None
    if not isinstance(node, Lazy):
        reject()  # a construction-time error (e.g. a selector where an s-op belongs): nothing lazy to test
    check_agreement(node, inp)


# ------------------------------------------------------------ edge cases found by the properties
# Each is a (node, input) pair the random search reaches only rarely; the expected
# behaviour is Python's per-element operation (docs/reference.md, 'Elementwise (MLP) operations')
# or the type rule (docs/reference.md, 'Sequence types').

BIG_INT = 2**53 + 1  # not representable as a float: Python compares it with floats exactly
ASIS = Primitive("tokens_asis")

EDGE_CASES = {
    # 'Sequence types': an aggregate whose rows all fall back to the default is all defaults.
    "string aggregate, every row empty": (
        Aggregate(Select(IDX, Map("-", (IDX, 1)), "=="), Aggregate(Select(IDX, IDX, "=="), T)), "0"
    ),
    # 'Elementwise (MLP) operations': Python: (-inf) ** 0.5 == inf, (-2.0) ** nan is nan (no error).
    "negative infinity to a fractional power": (Map("^", (ASIS, 0.5)), [-math.inf, 4.0]),
    "negative number to the power nan": (Map("^", (-2.0, ASIS)), [math.nan, 2.0]),
    # 'Elementwise (MLP) operations': Python compares ints with floats exactly: 2**53 + 1 != 2.0**53.
    "int vs float ==": (Map("==", (ASIS, float(2**53))), [BIG_INT, 1]),
    "int vs float select": (Select(ASIS, float(2**53), "=="), [BIG_INT, 1]),
    "int vs float in": (Map("in", (ASIS, (float(2**53),))), [BIG_INT, 1]),
    # An aggregate mean too large for a float is a RASP error, not an internal OverflowError.
    "mean of ints too large for a float": (Aggregate(Select(1, 1, "=="), Map("^", (TI, 2000))), "23"),
    # A missing key is a RASP error naming the value; nan (nan != nan) made the engine crash.
    "nan as a lookup key": (Map("lookup", (DIGIT_TO_STR, ASIS)), [math.nan]),
}


def test_nul_characters_are_refused_not_silently_dropped():
    # NumPy's fixed-width strings would drop a trailing NUL, so rasp refuses such input.
    with pytest.raises(RaspError, match="NUL"):
        Evaluation(input_items("a\x00")).value(T)


@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_engine_agrees_on_edge_cases(case):
    node, inp = EDGE_CASES[case]
    check_agreement(node, inp)


# ------------------------------------------------------------ the oracle itself

def test_naive_type_rules():
    assert typed([True, 2]) == ([1, 2], "ints")
    assert typed([1, 2.5]) == ([1.0, 2.5], "floats")
    assert typed([True, 1.5]) == ([1.0, 1.5], "floats")
    assert typed([True, False]) == ([True, False], "bools")
    for bad in ([1, "a"], [True, "a"], [[1]]):
        with pytest.raises(NaiveError):
            typed(bad)


def test_naive_elementwise_by_hand():
    items = list("3017")
    # tokens_int: [3, 0, 1, 7]; indices: [0, 1, 2, 3]
    assert naive_value(Map("+", (TI, IDX)), items) == ([3, 1, 3, 10], "ints")
    assert naive_value(Map("/", (TI, 2)), items) == ([1.5, 0.0, 0.5, 3.5], "floats")
    assert naive_value(Map("^", (IDX, 2)), items) == ([0, 1, 4, 9], "ints")
    assert naive_value(Map("+", (B, B)), items) == ([2, 2, 2, 2], "ints")  # True + True == 2
    assert naive_value(Map("and", (TI, IDX)), items) == ([False, False, True, True], "bools")
    assert naive_value(Map("ternary", (Map(">", (TI, 2)), T, "-")), items) == (["3", "-", "-", "7"], "strings")
    # a ternary choosing bools and ints gives ints (bools as 0/1)
    assert naive_value(Map("ternary", (Map("==", (IDX, 0)), True, IDX)), items) == ([1, 1, 2, 3], "ints")
    assert naive_value(Map("in", (TI, (0, 7))), items) == ([False, True, False, True], "bools")
    assert naive_value(Map("lookup", ([10, 20, 30], Map("-", (IDX, 1)))), items) == ([30, 10, 20, 30], "ints")
    assert naive_value(Map("round", (Map("/", (TI, 2)),)), items) == ([2, 0, 0, 4], "ints")  # half to even
    with pytest.raises(NaiveError):
        naive_value(Map("ternary", (Map("==", (IDX, 0)), "a", IDX)), items)  # strings mixed with ints


def test_naive_select_aggregate_by_hand():
    items = list("abca")
    prefix = Select(IDX, IDX, "<")  # query q sees every key k < q
    assert naive_value(prefix, items) == [
        [False, False, False, False],
        [True, False, False, False],
        [True, True, False, False],
        [True, True, True, False],
    ]
    assert naive_value(SelectorWidth(prefix), items) == ([0, 1, 2, 3], "ints")
    # row 0: nothing -> default 0; row 1: one value, an int, unchanged; rows 2, 3: means
    assert naive_value(Aggregate(prefix, IDX), items) == ([0.0, 0.0, 0.5, 1.0], "floats")
    assert naive_value(Aggregate(Select(IDX, IDX, "=="), IDX), items) == ([0, 1, 2, 3], "ints")
    # categorical: each row sees positions holding its own token
    same = Select(T, T, "==")
    assert naive_value(Aggregate(same, T, "-"), items) == (["a", "b", "c", "a"], "strings")
    assert naive_value(SelectorWidth(same), items) == ([2, 1, 1, 2], "ints")
    with pytest.raises(NaiveError):
        naive_value(Aggregate(prefix, T, "-"), items)  # row 2 mixes "a" and "b"
    with pytest.raises(NaiveError):
        naive_value(Aggregate(prefix, T), items)  # row 0 falls back to 0 among strings
    # the selector complement and the key/query orientation
    later = SelectorCombination("not", (Select(IDX, IDX, "<="),))
    assert naive_value(SelectorWidth(later), items) == ([3, 2, 1, 0], "ints")
    assert naive_value(Aggregate(Select(IDX, 1, "=="), T, "-"), items) == (["b", "b", "b", "b"], "strings")


def test_naive_bool_aggregate_and_defaults():
    items = [1, 0, 1]
    prev = Select(IDX, Map("-", (IDX, 1)), "==")
    # tokens_bool: [True, False, True]; row 0 empty -> default 0 turns bools into ints
    assert naive_value(Aggregate(prev, B), items) == ([0, 1, 0], "ints")
    assert naive_value(Aggregate(prev, B, False), items) == ([False, True, False], "bools")
    # a float default beside bools makes floats (a bool counts as a number)
    assert naive_value(Aggregate(prev, B, 0.5), items) == ([0.5, 1.0, 0.0], "floats")
    everything = Select(1, 1, "==")
    with pytest.raises(NaiveError):
        naive_value(Aggregate(everything, B), items)  # True and False: bools cannot be averaged
    assert naive_value(Aggregate(everything, Map("indicator", (B,))), items) == ([2 / 3] * 3, "floats")
