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
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from naive_evaluator import NaiveError, Unsupported, naive_value, typed

from rasp.engine import Evaluation, input_items
from rasp.errors import RaspError
from rasp.interpreter import Session  # imported early: it raises the recursion limit once
from rasp.values import (
    COMPARISONS,
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
            same_atom(a, b) for a, b in zip(values, want)
        ), f"engine {values!r} ({type_name}) != naive {want!r} ({want_type}){context}"
    else:
        assert got == expected, f"engine selector {got!r} != naive {expected!r}{context}"


# ------------------------------------------------------------ inputs

DIGITS = "0123456789"
LETTERS = "abcxyz"


@st.composite
def inputs(draw):
    """A non-empty input of length 1..8 (the length drawn first, so long inputs are common)."""
    n = draw(st.integers(1, 8))
    text = st.text(alphabet=draw(st.sampled_from([DIGITS, DIGITS, "0123", DIGITS + LETTERS])), min_size=n, max_size=n)
    items = draw(st.sampled_from([
        st.integers(-20, 20),
        st.sampled_from([0, 1, 2, True, False]),  # tokens_asis: ints (bools as 0/1)
        st.sampled_from([0.5, -1.5, 2.0, 3.25]),
        st.one_of(st.integers(-(2**70), 2**70), st.floats(-1e6, 1e6), st.booleans()),  # often ill-typed
        st.sampled_from([1.5, -2.0, 0.0, math.inf, -math.inf, math.nan]),
    ]))
    return draw(st.one_of(text, text, st.lists(items, min_size=n, max_size=n)))


# ------------------------------------------------------------ graphs

PRIMS = {name: Primitive(name) for name in
         ("indices", "tokens_str", "tokens_int", "tokens_float", "tokens_bool", "tokens_asis")}

I, T, TI, B = (PRIMS[name] for name in ("indices", "tokens_str", "tokens_int", "tokens_bool"))

NUM_ATOMS = st.one_of(
    st.integers(-3, 9),
    st.sampled_from([0.5, 1.5, 2.0, -1.25, 0.1]),
    st.sampled_from([2**64, -(2**70), 1e300, -0.0]),  # big ints (object arrays), float overflow
)
STR_ATOMS = st.sampled_from(["a", "b", "x", "1", "3", "", "ab"])
BOOL_ATOMS = st.booleans()
KINDS = ("num", "str", "bool")
ARITH = ("+", "-", "*", "/", "%", "^")
# Total maps from every digit, so tokens_str lookups succeed on digit inputs.
DIGIT_TO_INT = {d: (int(d) * 7) % 5 for d in DIGITS}
DIGIT_TO_STR = {d: "pqrst"[int(d) % 5] for d in DIGITS}


class Builder:
    """Draws a random, mostly well-typed graph. `kind` is what a node should give:
    "num" (ints or floats), "str", "bool" or "sel" (a selector)."""

    def __init__(self, draw):
        self.draw = draw
        self.pool: dict[str, list[Lazy]] = {k: [] for k in (*KINDS, "sel")}

    def choice(self, options):
        return self.draw(st.sampled_from(options))

    def chance(self, p: float) -> bool:
        return self.draw(st.integers(0, 999)) < p * 1000

    def atom(self, kind: str):
        return self.draw({"num": NUM_ATOMS, "str": STR_ATOMS, "bool": BOOL_ATOMS}[kind])

    def sop_or_atom(self, kind: str, depth: int, p_atom: float = 0.3):
        if self.chance(p_atom):
            return self.atom(kind)
        return self.sop(kind, depth)

    def sometimes_other(self, kind: str) -> str:
        """Mostly the asked kind; now and then another, for ill-typed graphs."""
        return self.choice(KINDS) if self.chance(0.06) else kind

    def leaf(self, kind: str) -> Lazy:
        if kind == "num":
            return PRIMS[self.choice(["indices", "indices", "tokens_int", "tokens_float", "tokens_asis"])]
        if kind == "str":
            return PRIMS[self.choice(["tokens_str", "tokens_str", "tokens_asis"])]
        return PRIMS["tokens_bool"]

    def sop(self, kind: str, depth: int) -> Lazy:
        if kind == "sel":
            return self.selector(depth)
        if self.pool[kind] and self.chance(0.15):  # share sub-graphs: a DAG, not a tree
            return self.choice(self.pool[kind])
        if depth <= 0 or self.chance(0.2):
            node = self.leaf(kind)
        else:
            node = getattr(self, "make_" + kind)(depth - 1)
        self.pool[kind].append(node)
        return node

    # ----------------------------------------------------------- numbers

    def make_num(self, d: int) -> Lazy:
        form = self.choice([
            "arith", "arith", "power", "sign", "round", "indicator", "width", "width", "mean", "mean",
            "ternary", "lookup_list", "lookup_dict", "bool_arith",
        ])
        k = self.sometimes_other("num")
        if form == "arith":
            op = self.choice(ARITH[:-1])
            left, right = self.sop_or_atom(k, d), self.sop_or_atom("num", d)
            if not isinstance(left, Lazy) and not isinstance(right, Lazy):
                left = self.sop(k, d)
            return Map(op, (left, right))
        if form == "power":
            if self.chance(0.7):
                return Map("^", (self.sop(k, d), self.draw(st.sampled_from([0, 1, 2, 3, -1, 0.5, 30, 70]))))
            return Map("^", (self.sop_or_atom("num", d), self.sop("num", d)))
        if form == "sign":
            return Map(self.choice(["neg", "pos"]), (self.sop(self.choice(["num", "num", "bool"]), d),))
        if form == "round":
            return Map("round", (self.sop(k, d),))
        if form == "indicator":
            return Map("indicator", (self.sop(self.choice(KINDS), d),))
        if form == "width":
            return SelectorWidth(self.selector(d))
        if form == "mean":
            default = self.atom("num") if self.chance(0.5) else 0
            return Aggregate(self.selector(d), self.sop_or_atom(k, d, 0.1), default)
        if form == "ternary":
            return Map("ternary", (self.sop("bool", d), self.sop_or_atom(k, d), self.sop_or_atom("num", d)))
        if form == "lookup_list":
            container = self.draw(st.lists(NUM_ATOMS, min_size=1, max_size=5))
            index = Map("%", (Map("round", (self.sop(k, d),)), len(container)))
            if self.chance(0.2):
                index = Map("-", (index, len(container)))  # negative indices count from the end
            return Map("lookup", (container, index))
        if form == "lookup_dict":
            return Map("lookup", (DIGIT_TO_INT, self.sop(self.sometimes_other("str"), d)))
        # bool_arith: bools count as ints
        op = self.choice(["+", "-", "*"])
        return Map(op, (self.sop("bool", d), self.sop_or_atom(self.choice(["bool", "num"]), d)))

    # ----------------------------------------------------------- strings

    def make_str(self, d: int) -> Lazy:
        form = self.choice(["concat", "concat", "repeat", "ternary", "lookup_str", "lookup_dict",
                            "categorical", "single", "aggregate"])
        k = self.sometimes_other("str")
        if form == "concat":
            left, right = self.sop_or_atom(k, d), self.sop_or_atom("str", d)
            if not isinstance(left, Lazy) and not isinstance(right, Lazy):
                right = self.sop("str", d)
            return Map("+", (left, right))
        if form == "repeat":
            times = self.draw(st.integers(0, 3)) if self.chance(0.6) else Map("%", (PRIMS["indices"], 3))
            return Map("*", (self.sop(k, d), times) if self.chance(0.5) else (times, self.sop(k, d)))
        if form == "ternary":
            return Map("ternary", (self.sop("bool", d), self.sop_or_atom(k, d), self.sop_or_atom("str", d)))
        if form == "lookup_str":
            container = self.draw(st.text(alphabet="pqrs", min_size=1, max_size=5))
            index = Map("%", (self.sop(self.choice(["num", "bool"]), d), len(container)))
            return Map("lookup", (container, Map("round", (index,))))
        if form == "lookup_dict":
            return Map("lookup", (DIGIT_TO_STR, self.sop(k, d)))
        if form == "categorical":  # rows see only equal values: a categorical aggregate
            s = self.sop(k, d)
            return Aggregate(Select(s, s, "=="), s, self.default_for("str"))
        if form == "single":  # at most one selected position per row
            offset = self.draw(st.integers(-2, 2))
            sel = Select(PRIMS["indices"], Map("+", (PRIMS["indices"], offset)), "==")
            return Aggregate(sel, self.sop(k, d), self.default_for("str"))
        return Aggregate(self.selector(d), self.sop_or_atom(k, d, 0.1), self.default_for("str"))

    def default_for(self, kind: str):
        if self.chance(0.2):
            return 0  # the omitted default: a type error for strings when a row is empty
        return self.atom(kind)

    # ----------------------------------------------------------- bools

    def make_bool(self, d: int) -> Lazy:
        form = self.choice(["compare_num", "compare_num", "compare_str", "logic", "not", "in",
                            "atom_in", "categorical", "single", "ternary"])
        if form == "compare_num":
            op = self.choice(COMPARISONS)
            k = self.sometimes_other("num")
            return Map(op, (self.sop(k, d), self.sop_or_atom("num", d)))
        if form == "compare_str":
            op = self.choice(["==", "!=", "==", "<", ">="])
            left, right = self.sop(self.sometimes_other("str"), d), self.sop_or_atom("str", d)
            return Map(op, (right, left) if self.chance(0.3) else (left, right))
        if form == "logic":
            left = self.sop(self.choice(["bool", "bool", "num", "str"]), d)
            right = self.sop_or_atom(self.choice(["bool", "bool", "num", "str"]), d)
            return Map(self.choice(["and", "or"]), (left, right) if self.chance(0.7) else (right, left))
        if form == "not":
            return Map("not", (self.sop(self.choice(KINDS), d),))
        if form == "in":
            k = self.choice(KINDS)
            atoms = self.draw(st.lists(st.one_of(NUM_ATOMS, STR_ATOMS, BOOL_ATOMS), max_size=4))
            return Map("in", (self.sop(k, d), tuple(atoms)))
        if form == "atom_in":  # how the interpreter builds `atom in s`
            k = self.choice(KINDS)
            everything = Select(1, 1, "==")
            found = Map("indicator", (Map("==", (self.sop(k, d), self.atom(k))),))
            return Map(">", (Aggregate(everything, found, 0), 0))
        if form == "categorical":
            s = self.sop("bool", d)
            sel = Select(s, s, "==") if self.chance(0.7) else self.selector(d)
            return Aggregate(sel, s, self.default_for("bool"))
        if form == "single":
            sel = Select(PRIMS["indices"], Map("-", (PRIMS["indices"], 1)), "==")
            return Aggregate(sel, self.sop("bool", d), self.default_for("bool"))
        return Map("ternary", (self.sop("bool", d), self.sop_or_atom("bool", d), self.sop_or_atom("bool", d)))

    # ----------------------------------------------------------- selectors

    def selector(self, depth: int) -> Lazy:
        if self.pool["sel"] and self.chance(0.15):
            return self.choice(self.pool["sel"])
        d = depth - 1
        if depth > 1 and self.chance(0.25):
            op = self.choice(["and", "or", "not"])
            if op == "not":
                node = SelectorCombination("not", (self.selector(d),))
            else:
                node = SelectorCombination(op, (self.selector(d), self.selector(d)))
        elif self.chance(0.3):  # the paper's usual patterns: wide rows, equal tokens
            key, query = self.choice([("indices", "indices"), ("tokens_str", "tokens_str"),
                                      ("tokens_int", "tokens_int"), ("indices", "tokens_int")])
            node = Select(PRIMS[key], PRIMS[query], self.choice(COMPARISONS))
            if self.chance(0.15):
                node = Select(1, 1, "==")  # full_s
        else:
            k = self.choice(["num", "num", "str", "bool"])
            op = self.choice(COMPARISONS) if k == "num" else self.choice(["==", "!=", "==", "<"])
            key = self.sop_or_atom(self.sometimes_other(k), max(d, 0), 0.1)
            query = self.sop_or_atom(k, max(d, 0), 0.2)
            node = Select(key, query, op)
        self.pool["sel"].append(node)
        return node


@st.composite
def graphs(draw, kinds=(*KINDS, "sel")):
    builder = Builder(draw)
    kind, depth = draw(st.sampled_from(kinds)), draw(st.integers(1, 5))
    if kind == "sel":
        return builder.selector(depth)
    return getattr(builder, "make_" + kind)(depth - 1)  # the root is never a bare primitive


# ------------------------------------------------------------ properties


@settings(max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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


def _paren(text: str) -> str:
    return f"({text})"


@st.composite
def source_sops(draw, depth=3):
    """Text of a RASP expression that is (mostly) an s-op."""
    leaves = ["indices", "tokens_int", "tokens_str", "tokens_bool", "tokens_float", "tokens", "length"]
    if depth <= 0 or draw(st.integers(0, 9)) < 2:
        return draw(st.sampled_from(leaves))
    sub = source_sops(depth=depth - 1)
    num = st.one_of(st.integers(0, 9).map(str), st.sampled_from(["0.5", "2.0", "-1", "True"]))
    atom = st.one_of(num, st.sampled_from(['"a"', '"3"', '""']))
    operand = st.one_of(sub, sub, atom)
    form = draw(st.sampled_from([
        "binary", "binary", "unary", "round", "indicator", "ternary", "in", "atom_in", "aggregate",
        "width", "index", "stdlib", "lookup",
    ]))
    if form == "binary":
        op = draw(st.sampled_from(["+", "-", "*", "/", "%", "^", "==", "!=", "<", ">", "<=", ">=",
                                   "and", "or"]))
        left, right = draw(sub), draw(operand)
        if draw(st.booleans()):
            left, right = right, left
        return f"{_paren(left)} {op} {_paren(right)}"
    if form == "unary":
        return f"{draw(st.sampled_from(['-', '+', 'not ']))}{_paren(draw(sub))}"
    if form in ("round", "indicator"):
        return f"{form}({draw(sub)})"
    if form == "ternary":
        return f"{_paren(draw(operand))} if {_paren(draw(sub))} else {_paren(draw(operand))}"
    if form == "in":
        items = draw(st.lists(atom, max_size=3))
        return f"{_paren(draw(sub))} in [{', '.join(items)}]"
    if form == "atom_in":
        return f"{draw(atom)} in {_paren(draw(sub))}"
    if form in ("aggregate", "width"):
        op = draw(st.sampled_from(["==", "!=", "<", ">", "<=", ">="]))
        sel = f"select({draw(operand)}, {draw(operand)}, {op})"
        if draw(st.integers(0, 3)) == 0:
            sel = f"{sel} {draw(st.sampled_from(['and', 'or']))} select({draw(sub)}, {draw(sub)}, ==)"
        if form == "width":
            return f"selector_width({sel})"
        default = draw(st.one_of(st.just(""), atom.map(lambda a: ", " + a)))
        return f"aggregate({sel}, {draw(operand)}{default})"
    if form == "index":
        return f"{_paren(draw(sub))}[{draw(st.integers(-3, 3))}]"
    if form == "lookup":
        container = draw(st.sampled_from(['[5, 6, 7]', '"pqr"', '{"1": 10, "2": 20, 3: 30}']))
        return f"{container}[{draw(sub)}]"
    call = draw(st.sampled_from([
        "shift({s}, 1, 0)", 'shift({s}, 2, "-")', "count({s}, 1)", 'count({s}, "1")', "contains({s}, 2)",
        "has_focus(select({s}, {s}, <))", "max({s}, {t})", "min({s}, {t})", "average({s})",
        "load_from_location({s}, 0)", "mark_last_instance({s}, 1)", "mark_first_instance({s}, \"1\")",
        "sort({s}, {t})", "shift({s}, 0, 0)",
    ]))
    return call.format(s=draw(sub), t=draw(sub))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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
        Aggregate(Select(I, Map("-", (I, 1)), "=="), Aggregate(Select(I, I, "=="), T)), "0"
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
    assert naive_value(Map("+", (TI, I)), items) == ([3, 1, 3, 10], "ints")
    assert naive_value(Map("/", (TI, 2)), items) == ([1.5, 0.0, 0.5, 3.5], "floats")
    assert naive_value(Map("^", (I, 2)), items) == ([0, 1, 4, 9], "ints")
    assert naive_value(Map("+", (B, B)), items) == ([2, 2, 2, 2], "ints")  # True + True == 2
    assert naive_value(Map("and", (TI, I)), items) == ([False, False, True, True], "bools")
    assert naive_value(Map("ternary", (Map(">", (TI, 2)), T, "-")), items) == (["3", "-", "-", "7"], "strings")
    # a ternary choosing bools and ints gives ints (bools as 0/1)
    assert naive_value(Map("ternary", (Map("==", (I, 0)), True, I)), items) == ([1, 1, 2, 3], "ints")
    assert naive_value(Map("in", (TI, (0, 7))), items) == ([False, True, False, True], "bools")
    assert naive_value(Map("lookup", ([10, 20, 30], Map("-", (I, 1)))), items) == ([30, 10, 20, 30], "ints")
    assert naive_value(Map("round", (Map("/", (TI, 2)),)), items) == ([2, 0, 0, 4], "ints")  # half to even
    with pytest.raises(NaiveError):
        naive_value(Map("ternary", (Map("==", (I, 0)), "a", I)), items)  # strings mixed with ints


def test_naive_select_aggregate_by_hand():
    items = list("abca")
    prefix = Select(I, I, "<")  # query q sees every key k < q
    assert naive_value(prefix, items) == [
        [False, False, False, False],
        [True, False, False, False],
        [True, True, False, False],
        [True, True, True, False],
    ]
    assert naive_value(SelectorWidth(prefix), items) == ([0, 1, 2, 3], "ints")
    # row 0: nothing -> default 0; row 1: one value, an int, unchanged; rows 2, 3: means
    assert naive_value(Aggregate(prefix, I), items) == ([0.0, 0.0, 0.5, 1.0], "floats")
    assert naive_value(Aggregate(Select(I, I, "=="), I), items) == ([0, 1, 2, 3], "ints")
    # categorical: each row sees positions holding its own token
    same = Select(T, T, "==")
    assert naive_value(Aggregate(same, T, "-"), items) == (["a", "b", "c", "a"], "strings")
    assert naive_value(SelectorWidth(same), items) == ([2, 1, 1, 2], "ints")
    with pytest.raises(NaiveError):
        naive_value(Aggregate(prefix, T, "-"), items)  # row 2 mixes "a" and "b"
    with pytest.raises(NaiveError):
        naive_value(Aggregate(prefix, T), items)  # row 0 falls back to 0 among strings
    # the selector complement and the key/query orientation
    later = SelectorCombination("not", (Select(I, I, "<="),))
    assert naive_value(SelectorWidth(later), items) == ([3, 2, 1, 0], "ints")
    assert naive_value(Aggregate(Select(I, 1, "=="), T, "-"), items) == (["b", "b", "b", "b"], "strings")


def test_naive_bool_aggregate_and_defaults():
    items = [1, 0, 1]
    prev = Select(I, Map("-", (I, 1)), "==")
    # tokens_bool: [True, False, True]; row 0 empty -> default 0 turns bools into ints
    assert naive_value(Aggregate(prev, B), items) == ([0, 1, 0], "ints")
    assert naive_value(Aggregate(prev, B, False), items) == ([False, True, False], "bools")
    # a float default beside bools makes floats (a bool counts as a number)
    assert naive_value(Aggregate(prev, B, 0.5), items) == ([0.5, 1.0, 0.0], "floats")
    everything = Select(1, 1, "==")
    with pytest.raises(NaiveError):
        naive_value(Aggregate(everything, B), items)  # True and False: bools cannot be averaged
    assert naive_value(Aggregate(everything, Map("indicator", (B,))), items) == ([2 / 3] * 3, "floats")
