"""RASP-L (docs/raspl.md): causal mode, the checker, the library and the task programs."""

from __future__ import annotations

import json
import math
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fuzzing import ProgramWriter
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import examples

import rasp
from rasp.interpreter import Session
from rasp.raspl import RaspLReport, check_raspl, is_causal_selector
from rasp.resources import stdlib_dir
from rasp.results import Problem

ROOT = Path(__file__).resolve().parent.parent
MAX_LEN = 64
SEED = 20261202


def loaded(causal: bool = False) -> Session:
    session = Session(causal=causal)
    problems = [r for r in session.run('examples off\nload "raspl_tasks";', "t.rasp") if isinstance(r, Problem)]
    assert not problems, [str(p.error) for p in problems]
    return session


SESSION = loaded()


def values(expression: str, example, session: Session = SESSION) -> list:
    session.run(f"_value = {expression};", "t.rasp")
    return session.apply(session["_value"], example).values


def report(source: str, name: str, causal: bool = False, example="hello") -> RaspLReport:
    session = Session(causal=causal)
    session.set_example(example)
    results = session.run(source + f"\nraspl {name}\n", "prog.rasp")
    reports = [r for r in results if isinstance(r, RaspLReport)]
    assert len(reports) == 1, results
    return reports[0]


# ---------------------------------------------------------------- causal mode


def test_causal_mode_makes_every_selector_lower_triangular():
    session = Session()
    session.run('set example "abcab"\ncausal on', "t.rasp")
    for source in ("select(tokens, tokens, ==)", "select(indices, indices, >)", "not select(1, 1, ==)",
                   "select(indices, length - indices - 1, ==) or select(tokens, \"a\", ==)"):
        (shown,) = session.run(f"{source};", "t.rasp")
        matrix = shown.value.matrix
        assert not np.triu(matrix, 1).any(), source
        assert (matrix == np.tril(matrix)).all()


def test_causal_mode_changes_values_and_can_be_switched_off():
    session = Session()
    session.run('set example "abcd"', "t.rasp")
    assert session.run("selector_width(select(1, 1, ==));")[0].value.values == [4, 4, 4, 4]
    session.run("causal on")
    assert session.causal
    assert session.run("selector_width(select(1, 1, ==));")[0].value.values == [1, 2, 3, 4]
    assert session.run("aggregate(select(1, 1, ==), indices);")[0].value.values == [0, 0.5, 1, 1.5]
    session.run("causal off")
    assert session.run("selector_width(select(1, 1, ==));")[0].value.values == [4, 4, 4, 4]


def test_causal_session_batches_and_python_api():
    session = rasp.Session(causal=True)
    session.run("w = selector_width(select(tokens, tokens, ==));")
    assert session["w"]("aaa").values == [1, 2, 3]
    assert [r.values for r in session.evaluate("w", ["ab", "bbb"])] == [[1, 1], [1, 2, 3]]


@pytest.mark.slow
def test_causal_command_line_flag():
    out = subprocess.run([sys.executable, "-m", "rasp", "--causal", "-c", "w = selector_width(select(1, 1, ==));"],
                         capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert "[1, 2, 3, 4, 5]" in out


def test_prompt_shows_causal_mode():
    from rasp.prompt import PROMPT, causal_prompt

    assert causal_prompt(Session(stdlib=False)) == PROMPT
    assert causal_prompt(Session(stdlib=False, causal=True)).startswith("causal")


@pytest.mark.slow
@pytest.mark.parametrize("program", [
    "selector_width(select(tokens, tokens, ==))",
    "aggregate(select(tokens, tokens, ==), indices)",
    "aggregate(select(1, 1, ==), indicator(tokens == \"a\"))",
    "aggregate(select(indices, indices, >), tokens, \"-\")",
])
def test_a_causal_compiled_model_agrees_with_the_interpreter_on_prefixes(program):
    session = Session(causal=True)
    session.set_example("abcab")
    (compiled,) = session.run(f"compile {program} max_len 8 random 50\n", "t.rasp")
    assert not isinstance(compiled, Problem), compiled
    model = compiled.model
    assert model.causal and compiled.agrees and model.description()["causal"] is True
    rng = _rng()
    words = ["".join(rng.choice("abc") for _ in range(8)) for _ in range(20)]
    session.run(f"_p = {program};", "t.rasp")
    for word in words:
        whole = model.run([list(word)])[0]
        for m in range(1, len(word) + 1):
            interpreted = session.apply(session["_p"], word[:m]).values
            assert _close(model.run([list(word[:m])])[0], interpreted)
            assert _close(whole[:m], interpreted)  # causal: a prefix's outputs are the whole's


def test_the_same_program_compiled_without_causal_mode_is_not_causal():
    session = Session()
    session.set_example("abcab")
    (compiled,) = session.run("compile selector_width(select(tokens, tokens, ==)) max_len 5 random 10\n", "t.rasp")
    assert not compiled.model.causal
    assert compiled.model.run([list("aab")])[0] == [2, 2, 1]
    (causal,) = Session(causal=True).run('compile selector_width(select(tokens, tokens, ==)) max_len 5 vocab "abc"\n')
    assert causal.model.run([list("aab")])[0] == [1, 2, 1]


def _close(got: list, want: list) -> bool:
    return len(got) == len(want) and all(
        abs(float(g) - float(w)) < 1e-6 if isinstance(w, (int, float)) and not isinstance(w, bool) else g == w
        for g, w in zip(got, want, strict=True))


def _prefix_values(session: Session, name: str, items: list, extra: list):
    node = session[name]
    short, long = session.evaluate(node, [items, items + extra])
    return short, long


@pytest.mark.slow
@settings(max_examples=examples(40))
@given(st.integers(0, 10**6), st.lists(st.integers(0, 9), min_size=1, max_size=8),
       st.lists(st.integers(0, 9), min_size=1, max_size=5))
def test_a_causal_program_does_not_change_when_tokens_are_appended(seed, items, extra):
    session = Session(causal=True)
    session.run("examples off\n" + ProgramWriter(random.Random(seed)).program(), "random.rasp")
    for name, value in list(session.globals.vars.items()):
        if not isinstance(value, rasp.interpreter.SOp) or name == "out":
            continue
        short, long = _prefix_values(session, name, items, extra)
        if isinstance(short, Problem) or isinstance(long, Problem):
            continue
        assert _same(short.values, long.values[: len(items)]), (name, short.values, long.values)


def _same(a: list, b: list) -> bool:
    return all(x == y or (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y))
               for x, y in zip(a, b, strict=True))


# ---------------------------------------------------------------- the checker


REVERSE = "opp = length - indices - 1;\nflip = select(indices, opp, ==);\nreverse = aggregate(flip, tokens);"


def test_the_checker_flags_reverse_with_positions():
    found = report(REVERSE, "reverse")
    assert not found.ok
    messages = [(v.span.line, v.span.column, v.message) for v in found.violations]
    assert any(line == 1 and "`length`" in m for line, _, m in messages)
    assert any(line == 1 and "index arithmetic" in m for line, _, m in messages)
    assert any(line == 2 and col == 8 and "non-causal select" in m for line, col, m in messages)
    assert all(v.span is not None and v.span.file == "prog.rasp" for v in found.violations)
    assert found.prefix_consistent is False


def test_in_causal_mode_selects_are_causal_but_length_still_is_not():
    found = report(REVERSE, "reverse", causal=True)
    assert not any("non-causal" in v.message for v in found.violations)
    assert any("`length`" in v.message for v in found.violations)
    assert found.prefix_consistent is True  # the mask makes every program prefix-consistent


@pytest.mark.parametrize("source, rule", [
    ("x = aggregate(select(indices * 2, indices, ==), tokens);", "index arithmetic"),
    ("x = indices + tokens_int;", "index arithmetic"),
    ("x = aggregate(select(indices, indices, <=), tokens_int) * 1.5;", "float values"),
    ("x = tokens_float + 1;", "float tokens"),
    ("x = selector_width(select(tokens, tokens, ==));", "non-causal select"),
    ("x = aggregate(select(indices, indices + 1, ==), tokens);", "non-causal select"),
    ("x = selector_width(select(indices, indices, <=) or select(tokens, tokens, ==));", "non-causal select"),
    ("x = length;", "`length`"),
])
def test_each_rule_is_reported_at_a_position(source, rule):
    found = report(source, "x", example=[1, 2, 3])
    assert [v for v in found.violations if rule in v.message], found.violations
    assert all(v.span is not None and v.span.line >= 1 and v.span.column >= 1 for v in found.violations)


def test_the_checker_accepts_a_non_raspl_but_prefix_consistent_program_as_such():
    found = report("x = selector_width(select(tokens, tokens, ==) and select(indices, indices, <=)) * 0.5;", "x")
    assert not found.ok and found.prefix_consistent is True


@pytest.mark.parametrize("source, causal", [
    ("select(indices, indices, <=)", True), ("select(indices, indices, <)", True),
    ("select(indices + 1, indices, ==)", True), ("select(indices, indices - 1, <)", True),
    ("select(indices, indices + 1, <)", True), ("select(indices, indices + 2, <)", False),
    ("select(indices, indices + 1, ==)", False), ("select(indices, indices, >=)", False),
    ("select(tokens, tokens, ==) and select(indices, indices, <)", True),
    ("not select(indices, indices, >)", False),
])
def test_which_selectors_are_causal(source, causal):
    session = Session()
    session.run(f"_s = {source};")
    node = session["_s"]
    assert is_causal_selector(node) is causal
    if causal:  # and they really are, on inputs
        for n in (1, 4, 9):
            matrix = session.apply(node, "x" * n).matrix
            assert not np.triu(matrix, 1).any()


@pytest.mark.slow
def test_json_output_of_raspl(tmp_path):
    path = tmp_path / "rev.rasp"
    path.write_text(REVERSE + "\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "rasp", str(path), "--json", "--raspl", "reverse"],
                         capture_output=True, text=True, cwd=ROOT, check=False)
    assert run.returncode == 1  # not RASP-L: the check failed
    shown = json.loads(run.stdout.splitlines()[-1])
    assert shown["kind"] == "raspl" and shown["name"] == "reverse" and shown["ok"] is False
    assert shown["prefix_consistent"] is False
    for violation in shown["violations"]:
        assert set(violation) == {"message", "file", "line", "column"}
        assert violation["file"] == str(path) and violation["line"] >= 1


def test_check_raspl_from_python():
    session = rasp.Session()
    session.run('load "raspl";\nc = cumsum(tokens == "l");')
    assert rasp.check_raspl(session["c"]).ok
    session.run("r = aggregate(select(indices, length - indices - 1, ==), tokens);")
    found = rasp.check_raspl(session["r"])
    assert not found.ok and len(found.violations) == 3
    assert check_raspl(session["r"].node).to_json()["kind"] == "raspl"


def test_raspl_in_a_loaded_file_shows_nothing(tmp_path):
    path = tmp_path / "lib.rasp"
    path.write_text("x = selector_width(select(tokens, tokens, ==));\nraspl x\n", encoding="utf-8")
    assert Session().run(f'load "{path.as_posix()}";') == []


# ----------------------------------------------------- the library and programs


COST_LINE = re.compile(r"^# cost of (?P<call>.+): layers=")


def _documented_calls(name: str) -> list[str]:
    text = (stdlib_dir() / f"{name}.rasp").read_text(encoding="utf-8").splitlines()
    return [m["call"] for m in map(COST_LINE.match, text) if m]


@pytest.mark.slow
@pytest.mark.parametrize("call", _documented_calls("raspl") + _documented_calls("raspl_tasks"))
def test_the_checker_accepts_the_library_and_the_programs(call):
    example = "hello" if "tokens_int" not in call else [3, 1, 4, 1, 5]
    session = loaded()
    session.set_example(example)
    (found,) = session.run(f"raspl {call}\n", "t.rasp")
    assert isinstance(found, RaspLReport), found
    assert found.ok, [(str(v.span), v.message) for v in found.violations]


def _rng() -> random.Random:
    return random.Random(SEED)


def prefix_oracle(function, items):
    return [function(items[: i + 1]) for i in range(len(items))]


@pytest.mark.slow
def test_library_prefix_functions_match_python():
    rng = _rng()
    for _ in range(25):
        xs = [rng.randint(-3, 6) for _ in range(rng.randint(1, MAX_LEN))]
        assert values("maximum(tokens_int)", xs) == prefix_oracle(max, xs)
        assert values("minimum(tokens_int)", xs) == prefix_oracle(min, xs)
        assert values("argmax(tokens_int)", xs) == prefix_oracle(lambda p: p.index(max(p)), xs)
        assert values("argmin(tokens_int)", xs) == prefix_oracle(lambda p: p.index(min(p)), xs)
        assert values("cumsum(tokens_int > 0)", xs) == prefix_oracle(lambda p: sum(v > 0 for v in p), xs)
        assert values("num_prev(tokens_int, tokens_int)", xs) == [xs[: i + 1].count(v) for i, v in enumerate(xs)]
        assert values("has_seen(tokens_int, 2)", xs) == prefix_oracle(lambda p: 2 in p, xs)
        assert values("firsts(tokens_int, 2, -1)", xs) == prefix_oracle(lambda p: p.index(2) if 2 in p else -1, xs)
        assert values("lasts(tokens_int, tokens_int, -1)", xs) == list(range(len(xs)))
        assert values("first_true(tokens_int == 0, -1)", xs) == prefix_oracle(
            lambda p: p.index(0) if 0 in p else -1, xs)
        assert values("shift_right(tokens_int, 2, 9)", xs) == [9, 9, *xs][: len(xs)]
        assert values("index_select(tokens_int, indices - 3, 9)", xs) == [9, 9, 9, *xs][: len(xs)]
        assert values("where(tokens_int > 0, tokens_int, 0)", xs) == [max(v, 0) for v in xs]
        assert values("mask(tokens_int, tokens_int > 0, 7)", xs) == [v if v > 0 else 7 for v in xs]
        bits = [v % 2 for v in xs]
        assert values("binary_mode(tokens_int)", bits) == prefix_oracle(lambda p: int(p.count(1) > p.count(0)), bits)


def test_kqv_reductions_match_python():
    rng = _rng()
    for _ in range(20):
        xs = [rng.randint(0, 4) for _ in range(rng.randint(1, 30))]
        n = len(xs)
        chosen = [[k for k in range(q + 1) if xs[k] == xs[q]] for q in range(n)]
        assert values("kqv(select(tokens_int, tokens_int, ==), indices, -1)", xs) == [
            sum(c) / len(c) for c in chosen]
        assert values("kqv_max(select(tokens_int, tokens_int, <), indices, -1)", xs) == [
            max([k for k in range(q + 1) if xs[k] < xs[q]], default=-1) for q in range(n)]
        assert values("kqv_min(select(tokens_int, tokens_int, >), tokens_int, -1)", xs) == [
            min([xs[k] for k in range(q + 1) if xs[k] > xs[q]], default=-1) for q in range(n)]


def _first_occurrence_after(k: list, q_value, offset: int, limit: int):
    for p in range(offset, limit + 1):
        if k[p - offset] == q_value:
            return p
    return None


def test_induct_matches_python():
    rng = _rng()
    for _ in range(20):
        xs = [rng.randint(0, 5) for _ in range(rng.randint(1, MAX_LEN))]
        want, want_prev = [], []
        for q, value in enumerate(xs):
            p = _first_occurrence_after(xs, value, 1, q)
            want.append(xs[p] if p is not None else -1)
            first = xs.index(value)
            want_prev.append(xs[first - 1] if first >= 1 else -1)
        assert values("induct(tokens_int, tokens_int, 1, -1, -999)", xs) == want
        assert values("induct_prev(tokens_int, tokens_int, -1, -1, -999)", xs) == want_prev


def test_mode_matches_python():
    rng = _rng()
    for _ in range(25):
        xs = [rng.randint(0, 4) for _ in range(rng.randint(1, MAX_LEN))]
        counts: dict[int, int] = {}
        best, mode, want = 0, None, []
        for v in xs:
            counts[v] = counts.get(v, 0) + 1
            if counts[v] > best:
                best, mode = counts[v], v
            want.append(mode)
        assert values("mode_task(tokens_int)", xs) == want
    assert values("mode(tokens)", "abbaccc") == list("aabbbbc")


def check_next_tokens(program: str, full: list, first_predicted: int, rng: random.Random) -> None:
    """program's value at each position from first_predicted on is the next token of full
    (on a random prefix of full, as a decoder sees it while generating)."""
    length = rng.randint(first_predicted + 1, len(full) - 1)
    got = values(program, full[:length])
    assert got[first_predicted:length] == full[first_predicted + 1: length + 1], (program, full[:length], got)


def test_count_task():
    rng = _rng()
    for _ in range(40):
        start = rng.randint(0, 50)
        end = rng.randint(start, start + MAX_LEN - 3)
        full = [start, end, *range(start, end + 1), -1]
        check_next_tokens("count_task(tokens_int)", full[:MAX_LEN + 1], 1, rng)


def test_copy_unique_task():
    rng = _rng()
    for _ in range(40):
        xs = rng.sample(range(2, 100), rng.randint(1, 31))
        full = [0, *xs, 1, *xs, 1]
        check_next_tokens("copy_unique_task(tokens_int)", full, len(xs) + 1, rng)


def test_sort_task():
    rng = _rng()
    for _ in range(40):
        xs = rng.sample(range(2, 100), rng.randint(1, 31))
        full = [*xs, 1, *sorted(xs), 1]
        check_next_tokens("sort_task(tokens_int)", full, len(xs), rng)


def _digits(number: int, count: int) -> list[int]:
    return [(number // 10**i) % 10 for i in range(count)]  # least significant first


def addition(a: int, b: int, m: int, forward: bool) -> list[int]:
    order = (lambda places: list(reversed(places))) if forward else (lambda places: places)
    part_a = [t for i in order(list(range(m))) for t in (100 + i, _digits(a, m)[i])]
    part_b = [t for i in order(list(range(m))) for t in (200 + i, _digits(b, m)[i])]
    total = _digits(a + b, m + 1)
    part_s = [t for i in order(list(range(m + 1))) for t in (300 + i, total[i])]
    return [*part_a, 10, *part_b, 11, *part_s, 12]


@pytest.mark.slow
@pytest.mark.parametrize("forward", [False, True], ids=["reversed", "forward"])
def test_addition_with_index_hints(forward):
    program = "add_forward_task(tokens_int)" if forward else "add_reversed_task(tokens_int)"
    rng = _rng()
    cases = [(999, 1, 3), (0, 0, 1), (5, 5, 1), (99999999, 99999999, 9), (19, 81, 2)]
    cases += [(rng.randrange(10**m), rng.randrange(10**m), m) for m in [rng.randint(1, 9) for _ in range(40)]]
    for a, b, m in cases:
        full = addition(a, b, m, forward)
        assert len(full) <= MAX_LEN + 1
        start = full.index(11)
        got = values(program, full[:-1])
        assert got[start:] == full[start + 1:], (a, b, m, got[start:], full[start + 1:])
    check_next_tokens(program, addition(123, 989, 3, forward), addition(123, 989, 3, forward).index(11), rng)


def test_tasks_evaluate_the_same_in_causal_mode():
    causal = loaded(causal=True)
    full = addition(456, 789, 3, forward=False)
    assert values("add_reversed_task(tokens_int)", full, causal) == values("add_reversed_task(tokens_int)", full)
    xs = [5, 3, 9, 1, 1, 5, 3, 9]
    assert values("sort_task(tokens_int)", xs, causal) == values("sort_task(tokens_int)", xs)


def test_aggregate_max_and_min_builtins():
    session = Session()
    session.set_example([3, 1, 4, 1, 5])
    got = session.run("aggregate_max(select(indices, indices, <=), tokens_int, 0);\n"
                      "aggregate_min(select(tokens_int, tokens_int, <), tokens_int, -1);\n"
                      "aggregate_max(select(tokens, tokens, <), tokens_str, 0);")
    assert got[0].value.values == [3, 3, 4, 4, 5]
    assert got[1].value.values == [1, -1, 1, -1, 1]
    assert isinstance(got[2], Problem) and "numbers" in got[2].error.message
    (analysed,) = session.run("analyse aggregate_max(select(indices, indices, <=), tokens_int, 0)\n")
    assert analysed.analysis.layers == 1
    compile_max = "compile aggregate_max(select(indices, indices, <=), tokens_int, 0) max_len 3 vocab [1, 2]\n"
    (compiled,) = session.run(compile_max)
    assert not isinstance(compiled, Problem), compiled
    assert compiled.verification.mismatches == 0 and compiled.verification.checked == 2 + 4 + 8



def test_draw_follows_causal_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("RASP_DRAW_DIR", str(tmp_path))
    pages = []
    for causal in (False, True):
        session = Session(causal=causal)
        session.set_example("abc")
        (drawn,) = session.run("w = selector_width(select(1, 1, ==));\ndraw(w);", "t.rasp")[-1:]
        pages.append(Path(drawn.path).read_text(encoding="utf-8"))
    assert pages[0] != pages[1]  # the causal widths are 1, 2, 3; the full ones 3, 3, 3
