"""The library programs in stdlib/ (the paper's programs, tracr ports, RASP-L helpers)
against plain-Python oracles.

Every program runs on seeded random inputs of lengths 1..64 plus edge cases (length 1,
all equal, all distinct, length 64), on string inputs and, where it makes sense, on
lists of ints (through `tokens_asis`). Each s-op is built once and applied to every input.
"""

from __future__ import annotations

import random
import re
import string
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from strategies import dyck_words
from support import dyck_prefixes

from rasp.interpreter import Session
from rasp.resources import stdlib_dir
from rasp.results import Problem

SEED = 20260428
MAX_LEN = 64
DISTINCT_CHARS = string.ascii_letters + string.digits + "!?#$%&*"  # more than 64
PAPER_FILES = ["reverse", "histogram", "sort", "dyck", "add"]
LIBRARY_FILES = [*PAPER_FILES, "tracr", "raspl", "raspl_tasks"]
RASPL_NAMES = {  # tests/test_raspl.py tests them
    "causal", "kqv", "kqv_max", "kqv_min", "shift_right", "cumsum", "where", "mask", "maximum", "minimum", "argmax",
    "argmin", "num_prev", "has_seen", "firsts", "lasts", "index_select", "first_true", "mode", "binary_mode",
    "induct_kqv", "induct", "induct_prev",
}
RASPL_TASKS = {"count_task", "mode_task", "copy_unique_task", "sort_task", "add_reversed_task", "add_forward_task"}
PUBLIC_NAMES = {
    "reverse": {"reverse"},
    "histogram": {"histogram", "double_histogram"},
    "sort": {"sort_unique", "sort_by_frequency"},
    "dyck": {"dyck", "dyck1", "dyck2"},
    "add": {"add"},
    "tracr": {
        "frac_prevs",
        "pair_balance",
        "shuffle_dyck",
        "shuffle_dyck2",
        "count_less_freq",
        "sort_by_count",
        "detect_pattern",
    },
    "raspl": RASPL_NAMES,
    "raspl_tasks": RASPL_NAMES | RASPL_TASKS,  # it loads "raspl"
}


def _loaded_session() -> Session:
    session = Session()
    results = session.run('examples off\nload "paper"; load "tracr"; load "raspl";', "test_library.rasp")
    assert not [r for r in results if isinstance(r, Problem)], [str(r.error) for r in results]
    return session


SESSION = _loaded_session()
_NODES: dict[str, Any] = {}


def evaluate(expression: str, example: Any) -> tuple[list, str]:
    """The values and type of a RASP expression on one input (the s-op is built once)."""
    if expression not in _NODES:
        name = f"_expr{len(_NODES)}"
        results = SESSION.run(f"{name} = {expression};", "test_library.rasp")
        assert not [r for r in results if isinstance(r, Problem)], [str(r.error) for r in results]
        _NODES[expression] = SESSION[name]
    evaluated = SESSION.apply(_NODES[expression], example)
    return evaluated.values, evaluated.type


def check(expression: str, oracle: Callable[[Any], list], type_: str | Callable[[Any], str], inputs: list) -> None:
    """expression on every input equals the oracle's values, with type_ (or type_(input))."""
    for example in inputs:
        expected_type = type_ if isinstance(type_, str) else type_(example)
        assert evaluate(expression, example) == (oracle(example), expected_type), (expression, example)


def means_type(example) -> str:
    """A mean over the prefix up to each position: the one-position mean at position 0 keeps
    its int, so the sequence is ints on a one-position input and floats otherwise."""
    return "ints" if len(example) == 1 else "floats"


# ---------------------------------------------------------------- inputs


def _random_length(rng: random.Random) -> int:
    return rng.choice([rng.randint(1, 8), rng.randint(1, 20), rng.randint(1, MAX_LEN)])


def words(alphabet: str = "abcde", count: int = 30, seed: int = 0) -> list[str]:
    """Random strings plus the edge cases: length 1, all equal, all distinct, length 64."""
    rng = random.Random(SEED + seed)
    cases = [
        alphabet[0],
        alphabet[0] * rng.randint(2, MAX_LEN),
        alphabet[-1] * MAX_LEN,
        "".join(rng.sample(DISTINCT_CHARS, MAX_LEN)),
        "".join(rng.sample(DISTINCT_CHARS, 7)),
        "".join(rng.choice(alphabet) for _ in range(MAX_LEN)),
    ]
    cases += ["".join(rng.choice(alphabet) for _ in range(_random_length(rng))) for _ in range(count)]
    return cases


def numbers(low: int = -4, high: int = 4, count: int = 30, seed: int = 0) -> list[list[int]]:
    """Random int lists plus the edge cases: length 1, all equal, all distinct, length 64."""
    rng = random.Random(SEED + 1000 + seed)
    cases = [
        [rng.randint(low, high)],
        [high] * rng.randint(2, MAX_LEN),
        [low] * MAX_LEN,
        rng.sample(range(-100, 100), MAX_LEN),
        rng.sample(range(-100, 100), 5),
        [rng.randint(low, high) for _ in range(MAX_LEN)],
    ]
    cases += [[rng.randint(low, high) for _ in range(_random_length(rng))] for _ in range(count)]
    return cases


def bracket_words(pairs: list[str], count: int = 40, noise: str = "", seed: int = 0) -> list[str]:
    """Mostly well-nested bracket strings (so that T and P occur), some broken ones, a few
    with other characters mixed in."""
    rng = random.Random(SEED + 2000 + seed)
    every = "".join(pairs) + noise
    cases = [
        pairs[0][0],
        pairs[0][1],
        pairs[0][0] * MAX_LEN,
        pairs[-1][1] + pairs[-1][0],
        pairs[0] * (MAX_LEN // 2),
        every,
    ]
    cases += dyck_words(rng, pairs, count, _random_length, noise=noise, wrong_closer=0.07)
    cases += ["".join(rng.choice(every) for _ in range(_random_length(rng))) for _ in range(count // 4)]
    return cases


# ---------------------------------------------------------------- oracles


def histogram(w) -> list[int]:
    counts = Counter(w)
    return [counts[x] for x in w]


def double_histogram(w) -> list[int]:
    counts = Counter(w)
    return [sum(1 for v in counts if counts[v] == counts[x]) for x in w]


def sort_by_frequency(w, filler) -> list:
    counts = Counter(w)
    distinct = sorted(dict.fromkeys(w), key=lambda v: -counts[v])  # stable: first appearance
    return distinct + [filler] * (len(w) - len(distinct))


def sort_by_count(w) -> list:
    counts = Counter(w)
    return sorted(w, key=lambda v: -counts[v])


def add(w: str) -> list[int]:
    a, b = w.split("+")
    return [int(d) for d in str(int(a) + int(b)).zfill(len(w))]


def shuffle_dyck(w, pairs: list[str]) -> list[bool]:
    def balanced(opener: str, closer: str) -> bool:
        depth = 0
        for c in w:
            depth += (c == opener) - (c == closer)
            if depth < 0:
                return False
        return depth == 0

    return [all(balanced(p[0], p[1]) for p in pairs)] * len(w)


def detect_pattern(w, pattern) -> list[bool]:
    m = len(pattern)
    return [q >= m - 1 and list(w[q - m + 1 : q + 1]) == list(pattern) for q in range(len(w))]


# ---------------------------------------------------------------- the paper's programs


def test_reverse():
    check("reverse(tokens)", lambda w: list(reversed(w)), "strings", words())
    check("reverse(tokens_asis)", lambda w: list(reversed(w)), "ints", numbers())


def test_histogram():
    check("histogram(tokens)", histogram, "ints", words("aab c"))
    check("histogram(tokens_asis)", histogram, "ints", numbers(-2, 2))


def test_double_histogram():
    check("double_histogram(tokens)", double_histogram, "ints", words("aaabbcdef", count=40))
    check("double_histogram(tokens_asis)", double_histogram, "ints", numbers(0, 6, count=40))
    assert evaluate("double_histogram(tokens)", "aaabbccdef") == ([1, 1, 1, 2, 2, 2, 2, 3, 3, 3], "ints")


def test_sort_is_stable_by_key():
    check("sort(tokens, tokens)", sorted, "strings", words())
    check("sort(indices, tokens_asis)", lambda w: sorted(range(len(w)), key=lambda i: w[i]), "ints", numbers())


def test_sort_unique():
    distinct_words = [w for w in words(seed=1) if len(set(w)) == len(w)]
    distinct_words += ["".join(random.Random(SEED + n).sample(DISTINCT_CHARS, n)) for n in range(1, MAX_LEN + 1)]
    check("sort_unique(tokens, tokens)", sorted, "strings", distinct_words)
    check("sort_unique(indices, tokens)", lambda w: sorted(range(len(w)), key=lambda i: w[i]), "ints", distinct_words)
    rng = random.Random(SEED)
    permutations = [rng.sample(range(-80, 80), rng.randint(1, MAX_LEN)) for _ in range(40)] + [[5], list(range(64))]
    check("sort_unique(tokens_asis, tokens_asis)", sorted, "ints", permutations)
    check("sort_unique(tokens_asis, -tokens_asis)", lambda w: sorted(w, reverse=True), "ints", permutations)


def test_sort_by_frequency():
    check('sort_by_frequency(tokens, "_")', lambda w: sort_by_frequency(w, "_"), "strings", words("aabbbcdd e"))
    check("sort_by_frequency(tokens_asis, -100)", lambda w: sort_by_frequency(w, -100), "ints", numbers(0, 5))
    assert evaluate('sort_by_frequency(tokens, "_")', "abbcbdd") == (list("bdac___"), "strings")


def test_dyck1():
    cases = bracket_words(["()"]) + bracket_words(["()"], noise="ab", seed=1)
    check("dyck1(tokens)", lambda w: dyck_prefixes(w, ["()"]), "strings", cases)


def test_dyck2():
    cases = bracket_words(["()", "{}"]) + bracket_words(["()", "{}"], noise="x", seed=1)
    check("dyck2(tokens)", lambda w: dyck_prefixes(w, ["()", "{}"]), "strings", cases)


def test_dyck_with_any_pairs():
    three = ["()", "{}", "[]"]
    check(
        'dyck(tokens, ["()", "{}", "[]"])',
        lambda w: dyck_prefixes(w, three),
        "strings",
        bracket_words(three) + bracket_words(three, noise="ab", seed=2),
    )
    check('dyck(tokens, ["()"])', lambda w: dyck_prefixes(w, ["()"]), "strings", bracket_words(["()"], seed=3))
    check(
        'dyck(tokens, ["ab", "<>"])',
        lambda w: dyck_prefixes(w, ["ab", "<>"]),
        "strings",
        bracket_words(["ab", "<>"], noise="c", seed=4),
    )


def test_dyck_matches_the_reference_transcripts():
    # RASP 0.1's printed values for paper_examples (tests/test_reference_programs.py)
    expected = "PPPPPPPPPPPPPPPPPPPPPTPPPPPPPPPPPTPTPTPTPPPPPPPPPPPPPTPFFFF"
    assert evaluate("dyck2(tokens)", "{{({(){}()})}({}){}{}}{(({}(){}))}{}(){}({}(){()(){}}){)()}") == (
        list(expected),
        "strings",
    )
    three = "()[](){{}(){}[]}[[]]([]){}()(])[[]]{{}}()[]"
    assert evaluate('dyck(tokens, ["()", "{}", "[]"])', three) == (
        list("PTPTPTPPPPPPPPPTPPPTPPPTPTPTPFFFFFFFFFFFFFF"),
        "strings",
    )


def addition_inputs() -> list[str]:
    rng = random.Random(SEED + 3000)
    cases = [
        "0+0",
        "1+2",
        "9+9",
        "999+1",
        "1+999",
        "12+345",
        "007+5",
        "5+007",
        "9" * 31 + "+" + "9" * 32,
        "1" + "0" * 61 + "+1",
        "4999+5001",
        "123456789+987654321",
    ]
    for _ in range(60):
        length_a = rng.randint(1, rng.choice([3, 10, 31]))
        length_b = rng.randint(1, min(MAX_LEN - 1 - length_a, rng.choice([3, 10, 32])))
        digits = rng.choice(["0123456789", "9", "09", "189"])
        a = "".join(rng.choice(digits) for _ in range(length_a))
        b = "".join(rng.choice(digits) for _ in range(length_b))
        cases.append(f"{a}+{b}")
    return cases


def test_add():
    cases = addition_inputs()
    assert max(len(w) for w in cases) == MAX_LEN
    check("add(tokens)", add, "ints", cases)
    assert evaluate("add(tokens)", "12+345") == ([0, 0, 0, 3, 5, 7], "ints")
    assert evaluate("add(tokens)", list("9+9")) == ([0, 1, 8], "ints")


# ---------------------------------------------------------------- tracr ports


def test_frac_prevs_and_pair_balance():
    def frac(w, v):
        return [w[: q + 1].count(v) / (q + 1) for q in range(len(w))]

    check('frac_prevs(tokens == "a")', lambda w: frac(w, "a"), means_type, words("ab"))
    check("frac_prevs(tokens_asis > 0)", lambda w: frac([v > 0 for v in w], True), means_type, numbers())

    def balance(w):
        return [o - c for o, c in zip(frac(w, "("), frac(w, ")"), strict=True)]

    check('pair_balance(tokens, "(", ")")', balance, means_type, bracket_words(["()"], noise="ab", seed=5))
    assert evaluate('pair_balance(tokens, "(", ")")', "a()b(c))")[0] == pytest.approx(
        [0, 1 / 2, 0, 0, 1 / 5, 1 / 6, 0, -1 / 8]
    )


def test_shuffle_dyck():
    two = ["()", "{}"]
    rng = random.Random(SEED + 4000)
    shuffled = ["".join(rng.sample(w, len(w))) for w in bracket_words(two, seed=6)]  # interleaved, often balanced
    cases = bracket_words(two, noise="x", seed=7) + shuffled + ["({)}", "(){)}", "x", ")(", "(" * 64]
    check("shuffle_dyck2(tokens)", lambda w: shuffle_dyck(w, two), "bools", cases)
    three = ["()", "{}", "[]"]
    check(
        'shuffle_dyck(tokens, ["()", "{}", "[]"])',
        lambda w: shuffle_dyck(w, three),
        "bools",
        bracket_words(three, seed=8) + ["([)]", "([)]]"],
    )
    assert any(shuffle_dyck(w, two)[0] for w in cases) and not all(shuffle_dyck(w, two)[0] for w in cases)


def test_count_less_freq():
    def oracle(n):
        return lambda w: [sum(1 for x in w if Counter(w)[x] <= n)] * len(w)

    check("count_less_freq(tokens, 2)", oracle(2), "ints", words("aabbbcdd"))
    check("count_less_freq(tokens_asis, 3)", oracle(3), "ints", numbers(0, 8))
    assert evaluate("count_less_freq(tokens, 2)", "aaabbc") == ([3] * 6, "ints")


def test_sort_by_count():
    check("sort_by_count(tokens)", sort_by_count, "strings", words("aabbbcdd e"))
    check("sort_by_count(tokens_asis)", sort_by_count, "ints", numbers(0, 5))


def test_detect_pattern():
    check('detect_pattern(tokens, "abc")', lambda w: detect_pattern(w, "abc"), "bools", words("abc", count=40))
    check('detect_pattern(tokens, "aa")', lambda w: detect_pattern(w, "aa"), "bools", words("ab"))
    check('detect_pattern(tokens, "b")', lambda w: detect_pattern(w, "b"), "bools", words("ab"))
    check(
        "detect_pattern(tokens_asis, [1, 0, 1])",
        lambda w: detect_pattern(w, [1, 0, 1]),
        "bools",
        numbers(0, 1, count=40),
    )
    assert evaluate('detect_pattern(tokens, "abc")', "abcabc")[0] == [False, False, True, False, False, True]


# ---------------------------------------------------------------- RASP-L helpers


# ---------------------------------------------------------------- the files themselves


@pytest.mark.parametrize("name", LIBRARY_FILES)
def test_each_file_loads_alone_and_exports_only_its_names(name):
    session = Session()
    results = session.run(f'load "{name}";', "test_library.rasp")
    assert not [r for r in results if isinstance(r, Problem)], [str(r.error) for r in results]
    loaded = set(session.globals.vars)
    assert loaded == PUBLIC_NAMES[name]
    assert not loaded & session.library_names  # no start-up library name is replaced


def test_paper_loads_every_paper_program():
    session = Session()
    assert not [r for r in session.run('load "paper";', "t") if isinstance(r, Problem)]
    assert set(session.globals.vars) == set().union(*(PUBLIC_NAMES[f] for f in PAPER_FILES))


def test_library_names_stay_reserved_and_unchanged():
    fresh = Session()
    for name in fresh.library_names:
        assert SESSION[name] is SESSION.base.vars[name], name
    assert evaluate("sort(tokens, tokens)", "hello") == (list("ehllo"), "strings")


COST_LINE = re.compile(r"^# cost of (?P<call>.+): layers=(?P<layers>\d+) heads=(?P<heads>-|\d+(,\d+)*)$")


def _definitions(path: Path) -> list[tuple[str, list[str]]]:
    """(public name, the comment block directly above its def or assignment) per definition."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for i, line in enumerate(lines):
        match = re.match(r"(?:def\s+)?([A-Za-z][A-Za-z0-9_]*)\s*(?:\(.*\)\s*\{|=[^=])", line)
        if not match or line.startswith(" ") or match.group(1) == "tokens":
            continue
        block = []
        j = i - 1
        while j >= 0 and lines[j].startswith("#"):
            block.insert(0, lines[j])
            j -= 1
        found.append((match.group(1), block))
    return found


@pytest.mark.parametrize("path", sorted(stdlib_dir().glob("*.rasp")), ids=lambda p: p.name)
def test_every_definition_is_documented_with_its_cost(path):
    for name, block in _definitions(path):
        costs = [COST_LINE.match(line) for line in block if line.startswith("# cost of")]
        assert len(costs) == 1 and costs[0], (path.name, name, block)
        cost = costs[0]
        assert re.search(rf"\b{name}\b", cost["call"]), (name, cost["call"])
        heads = [] if cost["heads"] == "-" else cost["heads"].split(",")
        assert len(heads) == int(cost["layers"]), (name, cost.group(0))
        assert len(block) >= 2, f"{name}: say what it computes above the cost line"


def test_the_documentation_lists_every_function():
    root = Path(__file__).resolve().parent.parent
    text = "\n".join(p.read_text(encoding="utf-8") for p in [root / "README.md", *sorted((root / "docs").glob("*.md"))])
    for names in PUBLIC_NAMES.values():
        for name in names:
            assert f"`{name}" in text, name
