"""Random test inputs in one place: the Hypothesis profiles and strategies, and a Dyck-word generator.

Hypothesis profiles (chosen by the environment variable RASP_HYPOTHESIS_PROFILE):
`dev` (the default) runs a tenth of each property's examples, for everyday work;
`ci` (.ci/run sets it) runs the full counts. A property asks for its count as
`@settings(max_examples=examples(400))`.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Callable

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from rasp.values import (
    COMPARISONS,
    Aggregate,
    Lazy,
    Map,
    Primitive,
    Select,
    SelectorCombination,
    SelectorWidth,
)

# ------------------------------------------------------------ profiles

PROFILE_VARIABLE = "RASP_HYPOTHESIS_PROFILE"
PROFILES = ("dev", "ci")
DEV_FRACTION = 10  # dev runs 1/DEV_FRACTION of a property's examples (at least DEV_MINIMUM)
DEV_MINIMUM = 10

# No deadline in either: a pass/fail test never depends on the machine's speed.
settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=DEV_MINIMUM, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])


def profile_name() -> str:
    name = os.environ.get(PROFILE_VARIABLE, "dev")
    if name not in PROFILES:
        raise ValueError(f"{PROFILE_VARIABLE}={name!r}: the profiles are {', '.join(PROFILES)}")
    return name


def load_profile() -> str:
    """Load the profile the environment names; return its name."""
    name = profile_name()
    settings.load_profile(name)
    return name


def examples(count: int) -> int:
    """A property's number of examples under the loaded profile (`count` in ci)."""
    if profile_name() == "ci":
        return count
    return max(DEV_MINIMUM, count // DEV_FRACTION)


load_profile()

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

IDX, T, TI, B = (PRIMS[name] for name in ("indices", "tokens_str", "tokens_int", "tokens_bool"))

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


# ------------------------------------------------------------ RASP source


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


# ------------------------------------------------------------ batches

ITEMS = st.sampled_from([
    st.integers(-20, 20),
    st.sampled_from([0, 1, 2, True, False]),
    st.sampled_from([0.5, -1.5, 2.0, 3.25]),
    st.one_of(st.integers(-(2**70), 2**70), st.floats(-1e6, 1e6), st.booleans()),
    st.sampled_from([1.5, -2.0, 0.0, math.inf, math.nan]),
])


@st.composite
def input_of_length(draw, n: int):
    """Like test_engine_property.inputs, for a given length."""
    if draw(st.booleans()):
        alphabet = draw(st.sampled_from(["0123456789", "0123", "0123456789" + LETTERS]))
        return draw(st.text(alphabet=alphabet, min_size=n, max_size=n))
    return draw(st.lists(draw(ITEMS), min_size=n, max_size=n))


@st.composite
def batches(draw):
    """2 to 8 inputs, most of one length (so they are stacked), some of others."""
    common = draw(st.integers(1, 6))
    count = draw(st.integers(2, 8))
    lengths = [common if draw(st.integers(0, 9)) < 7 else draw(st.integers(1, 6)) for _ in range(count)]
    return [draw(input_of_length(n)) for n in lengths]


# ------------------------------------------------------------ short inputs (tests/test_stdlib.py)

short_words = st.text(alphabet="abc", min_size=1, max_size=12)
short_numbers = st.lists(st.integers(-5, 5), min_size=1, max_size=12)


# ------------------------------------------------------------ Dyck words


def dyck_words(rng: random.Random, pairs: list[str], count: int, length: Callable[[random.Random], int],
               noise: str = "", wrong_closer: float = 0.1) -> list[str]:
    """Mostly well-nested bracket strings (so that balanced and open prefixes occur), some broken.

    Each word has `length(rng)` characters: a random opener of `pairs` is pushed, or
    (45%) the innermost open bracket is closed -- by a wrong closer with probability
    `wrong_closer`; with `noise`, 10% of the characters are drawn from it instead.
    """
    words = []
    for _ in range(count):
        stack: list[str] = []
        word = ""
        for _ in range(length(rng)):
            if noise and rng.random() < 0.1:
                word += rng.choice(noise)
            elif stack and rng.random() < 0.45:
                word += stack.pop() if rng.random() < 1 - wrong_closer else rng.choice(pairs)[1]
            else:
                pair = rng.choice(pairs)
                word += pair[0]
                stack.append(pair[1])
        words.append(word)
    return words
