"""Differential test: values the original RASP computes from mixed bool/int/float sequences.

A small random generator writes RASP programs over bools, ints and floats mixed in one
sequence (ternaries, aggregates with defaults, list lookups, `s[i]`), whole-number float
indices (`["p", "q"][v]` with v a float s-op) and single values selected back out of a
mixed sequence. Each program is run by the interpreter and, independently, by `expected`
below: a per-position Python evaluation of the generator's own expression tree, written
from the rules of docs/reference.md, 'Sequence types' (tests/naive_evaluator.py gives the
type rule `typed` and Python's operators):

* a bool counts as a number: bools with ints are ints, bools (and ints) with floats floats;
* a float that is a whole number indexes a list or string like that int;
* a single value selected out of a mixed sequence has the sequence's type (the original
  keeps each element's own type: docs/differences.md, 'Element types').

Both sides must fail, or give the same values of the same type.
"""

from __future__ import annotations

import math
import random

import pytest
from naive_evaluator import NaiveError, binary, mean, typed

from rasp.engine import Evaluation
from rasp.errors import RaspError
from rasp.interpreter import Session

ALPHABET = "ab"

# leaves: (RASP text, per-position value function of (tokens, i, n))
LEAVES = [
    ('(tokens == "a")', lambda w, i, n: w[i] == "a"),
    ("(indices < 2)", lambda w, i, n: i < 2),
    ("indices", lambda w, i, n: i),
    ("length", lambda w, i, n: n),
    ("(indices / 2)", lambda w, i, n: i / 2),
    ("(indices * 1.0)", lambda w, i, n: i * 1.0),
]
ATOMS = ["0.5", "1.5", "2.0", "True", "False", "0", "1", "2"]
CONTAINERS = ['["p", "q", "r"]', '"xyz"', "[1, 0.5, True]", "[True, 2, False]", "[0.5, 1.5, 2.5]"]


class Program:
    """A random expression tree: `text` in RASP, `tree` for the independent evaluator."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def sop(self, depth: int) -> tuple[str, tuple]:
        rng = self.rng
        if depth <= 0 or rng.random() < 0.25:
            text, _ = LEAVES[rng.randrange(len(LEAVES))]
            return text, ("leaf", text)
        form = rng.choice(["ternary", "ternary", "aggregate", "lookup", "lookup", "at", "arith", "compare"])
        if form == "ternary":
            cond, c = self.sop(depth - 1)
            then, t = self.operand(depth - 1)
            other, o = self.operand(depth - 1)
            return f"({then} if {cond} else {other})", ("ternary", c, t, o)
        if form == "aggregate":
            key, k = self.sop(depth - 1)
            op = rng.choice(["==", "<", ">", "<="])
            value, v = self.sop(depth - 1)
            default = rng.choice(ATOMS)
            return (f"aggregate(select({key}, indices, {op}), {value}, {default})",
                    ("aggregate", k, op, v, _atom(default)))
        if form == "lookup":
            container = rng.choice(CONTAINERS)
            index, x = self.sop(depth - 1)
            # `% 3` keeps indices in range; floats stay floats (1.0 % 3 == 1.0: a whole-number float)
            return f"{container}[({index}) % 3]", ("lookup", _atom(container), x)
        if form == "at":
            value, v = self.sop(depth - 1)
            position = rng.randrange(-3, 4)
            return f"({value})[{position}]", ("at", v, position)
        left, a = self.sop(depth - 1)
        right, b = self.operand(depth - 1)
        op = rng.choice(["+", "-", "*"] if form == "arith" else ["==", "<", ">="])
        return f"({left} {op} {right})", ("binary", op, a, b)

    def operand(self, depth: int) -> tuple[str, tuple]:
        if self.rng.random() < 0.35:
            text = self.rng.choice(ATOMS)
            return text, ("atom", _atom(text))
        return self.sop(depth)


def _atom(text: str):
    return eval(text, {"True": True, "False": False})  # the generator's own literals only


# ------------------------------------------------------------- the independent evaluator


def expected(tree: tuple, w: str) -> tuple[list, str]:
    """(values, type) of the tree on input w, position by position."""
    return _typed_values(tree, w)


def _typed_values(tree: tuple, w: str) -> tuple[list, str]:
    n = len(w)
    kind = tree[0]
    if kind == "leaf":
        function = dict(LEAVES)[tree[1]]
        return typed([function(w, i, n) for i in range(n)])
    if kind == "atom":
        return [tree[1]] * n, "atom"
    if kind == "ternary":
        c, t, o = (_typed_values(t, w)[0] for t in tree[1:])
        return typed([t[i] if c[i] else o[i] for i in range(n)])
    if kind == "binary":
        op, a, b = tree[1], _typed_values(tree[2], w)[0], _typed_values(tree[3], w)[0]
        return typed([binary(op, a[i], b[i]) for i in range(n)])
    if kind == "lookup":
        container, indices = tree[1], _typed_values(tree[2], w)[0]
        return typed([_index(container, binary("%", x, 3)) for x in indices])
    if kind == "at":
        values, position = _typed_values(tree[1], w)[0], tree[2]
        position = position + n if position < 0 else position
        return typed([values[position] if 0 <= position < n else 0] * n)
    _, key_tree, op, value_tree, default = tree
    keys, values = _typed_values(key_tree, w)[0], _typed_values(value_tree, w)[0]
    out = []
    for q in range(n):
        selected = [values[k] for k in range(n) if binary(op, keys[k], q)]
        if not selected:
            out.append(default)
        elif len(selected) == 1:
            out.append(selected[0])
        elif all(type(v) in (int, float) for v in selected):
            out.append(mean(selected))
        elif all(v == selected[0] for v in selected):
            out.append(selected[0])
        else:
            raise ValueError("bools that differ cannot be averaged")
    return typed(out)


def _index(container, key):
    if isinstance(key, float) and key.is_integer():
        key = int(key)
    if type(key) is not int:
        raise TypeError(f"index {key!r}")
    return container[key]


# ------------------------------------------------------------------ the comparison


def _same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def _interpreted(session: Session, text: str, w: str):
    session.run(f"x = {text};")
    try:
        value = Evaluation(list(w)).value(session["x"])
    except RaspError as error:
        return "error", error
    return "ok", (value.to_list(), value.type)


def _oracle(tree: tuple, w: str):
    try:
        return "ok", expected(tree, w)
    except (NaiveError, ValueError, TypeError, ZeroDivisionError, IndexError) as error:
        return "error", error


@pytest.fixture
def session(session: Session) -> Session:
    """The conftest session with the running examples off."""
    session.sop_examples_on = False
    session.selector_examples_on = False
    return session


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(40))
def test_random_mixed_programs_agree_with_the_rules(session, seed):
    rng = random.Random(seed)
    for _ in range(15):
        text, tree = Program(rng).sop(depth=3)
        w = "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(1, 6)))
        status, want = _oracle(tree, w)
        got_status, got = _interpreted(session, text, w)
        context = f"program: x = {text};  input: {w!r}  expected: {want!r}  got: {got!r}"
        assert got_status == status, context
        if status == "ok":
            (values, kind), (want_values, want_kind) = got, want
            assert kind == want_kind, context
            assert len(values) == len(want_values) and all(map(_same, values, want_values)), context


def test_the_generator_reaches_the_cases_it_is_for(session):
    """The random programs do mix bools with floats, index with whole-number floats and
    select single values out of mixed sequences (else the test above proves little)."""
    reached = {"bools+floats": 0, "float index": 0, "at": 0}
    rng = random.Random(0)
    for _ in range(600):
        text, tree = Program(rng).sop(depth=3)
        if _oracle(tree, "aab")[0] != "ok":
            continue
        reached["at"] += " )[" in text or ")[" in text
        reached["float index"] += "/ 2)) % 3]" in text or "* 1.0)) % 3]" in text
        reached["bools+floats"] += ("True" in text or "==" in text) and ("0.5" in text or "1.5" in text)
    assert all(count >= 10 for count in reached.values()), reached


# ------------------------------------------------------------------ the cases, by hand


@pytest.mark.parametrize("source, values", [
    # bools mixed with floats make floats
    ('x = aggregate(select(indices, indices + 1, ==), tokens == "a", 0.5);', [1.0, 0.0, 0.5]),
    ('x = (tokens == "a") if indices < 2 else 1.5;', [1.0, 1.0, 1.5]),
    ('x = max(tokens == "a", 0.5);', [1.0, 1.0, 0.5]),
    ("x = [1, 0.5, True][indices];", [1.0, 0.5, 1.0]),
    # a whole-number float indexes like that int
    ('v = [1, 0.5][indices % 2]; x = ["p", "q"][v[0]];', ["q", "q", "q"]),
    # a value selected out of a mixed sequence has the sequence's type (docs/differences.md)
    ("v = indices if indices == 0 else 0.5; x = v[0];", [0.0, 0.0, 0.0]),
])
def test_values_the_original_computes(session, source, values):
    session.run(source)
    got = Evaluation(list("aab")).value(session["x"])
    assert got.to_list() == values
    assert all(type(a) is type(b) for a, b in zip(got.to_list(), values, strict=True))


def test_an_invalid_mix_names_the_values_that_do_not_mix(session):
    session.run('x = [1, 0.5, "a"][indices];')
    with pytest.raises(RaspError) as caught:
        Evaluation(list("aab")).value(session["x"])
    assert "mixes ints and strings" in str(caught.value)
    assert '"a" at position 2' in str(caught.value)


def test_a_whole_number_float_indexes_an_atom_list_too(session):
    results = session.run('y = "abc"[2.0];')
    assert session["y"] == "c", results


def test_atom_in_string_is_the_documented_substring_test(session):
    session.run('y = "a" in "abc"; z = "ab" in "xaby"; u = "d" in "abc";')
    assert (session["y"], session["z"], session["u"]) == (True, True, False)


@pytest.mark.slow
@pytest.mark.parametrize("json_mode", [False, True])
def test_a_complex_result_is_refused_at_its_position(json_mode):
    import json
    import subprocess
    import sys

    command = [sys.executable, "-m", "rasp", *(["--json"] if json_mode else []), "-c", "x = -2 ^ 0.5;"]
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=60)
    output = done.stdout + done.stderr
    assert "internal error" not in output and "j)" not in output
    assert "has no real value" in output
    if json_mode:
        record = json.loads(done.stdout.splitlines()[0])
        assert (record["kind"], record["line"], record["column"]) == ("error", 1, 5)
    else:
        assert "<command>:1:5" in output
