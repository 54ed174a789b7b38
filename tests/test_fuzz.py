"""Fuzzing: no input breaks the interpreter, every error says where.

A short, seeded run of the generators in tests/fuzzing.py (scripts/fuzz.py runs them
for longer). The property, checked by fuzzing.check_source for every case: each
statement yields results or a RaspError (not an internal error) whose position lies
inside the source it names; nothing else is raised; nothing hangs (each case is
time-boxed); every result can be shown as text and JSON; and afterwards the session
still computes `indices * 2 + 1` on "abc" as [1, 3, 5].

The command line is fuzzed too: `rasp.cli.main` in-process with captured streams, and
a few real processes; no Python traceback may appear without --debug.
"""

from __future__ import annotations

import io
import math
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fuzzing import (
    Case,
    check_case,
    check_loaded,
    check_source,
    hostile_cases,
    mutant_cases,
    mutate,
    program_cases,
    random_tokens,
    stdlib_files,
    token_cases,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import examples, inputs, source_sops

from rasp.cli import main
from rasp.errors import RaspError
from rasp.interpreter import Session
from rasp.results import Problem

TRACEBACK = "Traceback (most recent call last)"
SEED = 20260707


def assert_robust(case: Case, seconds: float = 10.0) -> None:
    outcome = check_case(case, seconds)
    assert outcome.ok, f"{case.name}:\n{case.source[:2000]!r}\n" + "\n".join(outcome.failures[:5])


# ------------------------------------------------------------------ (a) tokens


def test_random_token_sequences():
    for case in token_cases(random.Random(SEED), 120):
        assert_robust(case)


def test_token_sequences_are_mostly_errors_but_not_only():
    # the generator is worth its time: nonsense fails, yet some statements run
    outcomes = [check_case(c) for c in token_cases(random.Random(SEED + 1), 40)]
    assert sum(o.errors for o in outcomes) > 20
    assert sum(o.results - o.errors for o in outcomes) >= 3


# ------------------------------------------------------------------ (b) stdlib mutants


@pytest.mark.slow
@pytest.mark.parametrize("path", stdlib_files(), ids=lambda p: p.name)
def test_mutated_stdlib_files(path: Path):
    source = path.read_text(encoding="utf-8")
    rng = random.Random(f"{SEED}-{path.name}")
    for i in range(25):
        assert_robust(Case("mutants", f"mutant #{i} of {path.name}", mutate(rng, source)))


def test_every_stdlib_file_loads_unmutated():
    # the base line of the mutants (loaded from a scratch file): no errors without mutations
    for path in stdlib_files():
        outcome = check_loaded(path.read_text(encoding="utf-8"))
        assert outcome.ok and outcome.errors == 0, (path.name, outcome.failures)


def test_mutants_cover_every_stdlib_file_in_turn():
    names = [c.name.rsplit(" of ", 1)[1] for c in mutant_cases(random.Random(0), len(stdlib_files()))]
    assert sorted(names) == [p.name for p in stdlib_files()]


# ------------------------------------------------------------------ (c) well-typed programs


@pytest.mark.slow
def test_random_well_typed_programs_agree_with_the_naive_evaluator():
    outcomes = []
    for case in program_cases(random.Random(SEED), 100):
        outcome = check_case(case)
        assert outcome.ok, f"{case.name}:\n{case.source}\n" + "\n".join(outcome.failures[:5])
        outcomes.append(outcome)
    # well-typed: most programs run without an error
    assert sum(o.errors == 0 for o in outcomes) >= 0.8 * len(outcomes)


_SESSION: Session | None = None


def shared_session() -> Session:
    global _SESSION
    if _SESSION is None:
        _SESSION = Session()
    return _SESSION


@settings(max_examples=examples(60))
@given(text=source_sops(), inp=inputs(), show=st.booleans())
def test_engine_property_programs_applied_through_statements(text, inp, show):
    # the engine property's random s-ops, written as statements of one long-lived session
    session = shared_session()
    session.sop_examples_on = session.selector_examples_on = show
    literal = f'"{inp}"' if isinstance(inp, str) else "[" + ", ".join(_literal(v) for v in inp) + "]"
    source = f"x = {text};\nx({literal});\nset example {literal}\nx;\n"
    outcome = check_source(source, "property.rasp", session=session)
    assert outcome.ok, f"{source}\n" + "\n".join(outcome.failures)


def _literal(value) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:f}" if math.isfinite(value) else "0.5"  # RASP floats have no exponent
    return str(value)  # a negative int reads as unary minus applied to its magnitude


# ------------------------------------------------------------------ (d) hostile inputs


@pytest.mark.slow
@pytest.mark.parametrize("name", list(hostile_cases(slow=False)))
def test_hostile_input(name):
    assert_robust(Case("hostile", name, hostile_cases(slow=False)[name]), seconds=20)


# Ints beyond Python's str() limit (4300 digits) inside s-ops: every message and name that
# shows one must shorten it (str() raises ValueError), or the user meets an internal error.
HUGE_INTS = {
    "out of range as a list index": "x = 10^5000; y = [1, 2][indices + x];",
    "missing as a dict key": "x = 10^5000; y = {1: 2}[indices + x];",
    "divided by zero": "x = 10^5000; y = (indices + x) / 0;",
    "added to strings": "x = 10^5000; y = tokens_str + (indices + x);",
    "mixed with strings": 'x = 10^5000; y = x if indices else "a";',
    "raised to a power": "x = 10^5000; y = (indices + x) ^ 1000;",
    "in the running example": "x = 10^5000;\nset example [x, 1]\ny = tokens_str;",
    "applied, the node's name": 'x = 10^5000; y = (indices + x)("ab");',
}
@pytest.mark.parametrize("name", list(HUGE_INTS))
def test_huge_int_in_an_sop(name):
    outcome = check_source(HUGE_INTS[name], "huge.rasp")
    assert not outcome.failures, outcome.failures


def test_huge_ints_are_shown_shortened():
    session = Session()
    results = session.run("x = 10^100000;", "big.rasp")
    from rasp.display import format_result

    (text,) = [format_result(r) for r in results]
    assert text == "x = 100000…000000 (100001 digits)"


def test_a_literal_too_long_is_a_syntax_error_at_its_place():
    session = Session()
    results = session.run("y = 1;\nx = 2 + " + "9" * 5000 + ";\nz = 3;", "long.rasp")
    (problem,) = [r for r in results if isinstance(r, Problem)]
    assert problem.error.category == "syntax error"
    assert "5000 digits" in problem.error.message
    assert (problem.error.span.line, problem.error.span.column) == (2, 9)
    assert session["z"] == 3


def test_select_on_a_million_token_example_is_a_quick_rasp_error():
    session = Session()
    session.run("set example range(1000000)", "big.rasp")
    start = time.perf_counter()
    results = session.run("sel = select(indices, indices, <);\nw = selector_width(sel);", "big.rasp")
    elapsed = time.perf_counter() - start
    problems = [r.error for r in results if isinstance(r, Problem)]
    assert len(problems) == 2 and all(isinstance(e, RaspError) for e in problems)
    assert all(e.category != "internal error" for e in problems), [str(e) for e in problems]
    assert elapsed < 10, elapsed
    # the session goes on with a small example
    assert [r.value.values for r in session.run('set example "ab"\nn = indices + 1;', "big.rasp")] == [[1, 2]]


def test_each_case_is_time_boxed():
    # the time box itself: a statement that takes long is reported as a hang, not waited for
    outcome = check_source("y = [[i * j for i in range(3000)] for j in range(3000)];", seconds=0.3)
    assert any(f.startswith("hang") for f in outcome.failures), outcome.failures


# ------------------------------------------------------------------ files: load, cycles, encodings


@pytest.fixture
def files(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.rasp").write_text('x = 1;\nload "b";\n', encoding="utf-8")
    (tmp_path / "b.rasp").write_text('y = 2;\nload "a";\n', encoding="utf-8")
    (tmp_path / "self.rasp").write_text('load "self";\n', encoding="utf-8")
    (tmp_path / "latin1.rasp").write_bytes('s = "caf\xe9";\n'.encode("latin-1"))
    (tmp_path / "garbage.rasp").write_bytes(random.Random(3).randbytes(3000))
    (tmp_path / "dir.rasp").mkdir()
    (tmp_path / "bad.rasp").write_text("ok = 1;\nbad = 1 +;\nworse = nope;\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("name", ["a", "self", "latin1", "garbage", "dir", "bad", "missing"])
def test_loading_hostile_files(files, name):
    outcome = check_source(f'before = 1;\nload "{name}";\nafter = 2;\n', "main.rasp")
    assert outcome.ok, outcome.failures
    assert outcome.errors >= 1


def test_mutated_files_that_load_each_other(files):
    rng = random.Random(SEED)
    for i in range(20):
        for name in ("a", "b"):
            text = (files / f"{name}.rasp").read_text(encoding="utf-8")
            (files / f"m{name}.rasp").write_text(mutate(rng, text.replace('"a"', '"ma"').replace('"b"', '"mb"')))
        assert_robust(Case("files", f"files #{i}", 'load "ma";\nload "mb";\n'))


# ------------------------------------------------------------------ the command line


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        status = main(list(argv))
    except SystemExit as stop:
        status = stop.code
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_on_fuzz_inputs_never_shows_a_traceback(capsys):
    rng = random.Random(SEED)
    sources = [random_tokens(rng) for _ in range(30)]
    library = stdlib_files()[0].read_text(encoding="utf-8")
    sources += [mutate(rng, library) for _ in range(10)]
    for source in sources:
        for extra in ([], ["--json"]):
            status, out, err = run_cli(capsys, *extra, "-c", source)
            assert status in (0, 1), (source, status, err)
            assert TRACEBACK not in out + err, source
            if status == 1:
                assert "error" in err or '"kind": "error"' in out, source


def test_piped_stdin_and_example_on_fuzz_inputs_never_show_a_traceback(capsys, monkeypatch):
    rng = random.Random(SEED + 2)
    for _ in range(15):
        source = random_tokens(rng)
        monkeypatch.setattr(sys, "stdin", io.StringIO(source))
        status, out, err = run_cli(capsys)
        assert status in (0, 1) and TRACEBACK not in out + err, source
        status, out, err = run_cli(capsys, "--example", source[:60], "-c", "x = indices;")
        assert status in (0, 1, 2) and TRACEBACK not in out + err, source


@pytest.mark.slow
@pytest.mark.parametrize("name", ["binary garbage", "NUL characters", "infinite recursion", "1000 open braces",
                                  "a very long line", "a lone surrogate"])
def test_cli_on_hostile_inputs(capsys, name):
    status, out, err = run_cli(capsys, "-c", hostile_cases()[name])
    assert status in (0, 1)
    assert TRACEBACK not in out + err


def test_cli_json_of_a_huge_int(capsys):
    status, out, err = run_cli(capsys, "--json", "-c", "x = 10^5000;\nok = 1;")
    assert status == 0
    assert TRACEBACK not in out + err
    assert out.splitlines()[0] == '{"kind": "value", "name": "x", "value": "100000…000000 (5001 digits)"}'
    assert out.splitlines()[-1] == '{"kind": "value", "name": "ok", "value": 1}'


def test_cli_non_utf8_file_is_a_usage_error(capsys, files):
    status, out, err = run_cli(capsys, "latin1.rasp")
    assert status == 2
    assert err.startswith("rasp: error: latin1.rasp") and "UTF-8" in err and TRACEBACK not in err
    assert out == ""


def _process(args: list, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rasp", *args], cwd=cwd, capture_output=True, timeout=120, check=False,
    )


@pytest.mark.slow
def test_real_processes_on_garbage_files(files):
    (files / "tokens.rasp").write_text(random_tokens(random.Random(SEED), 300), encoding="utf-8")
    for args, statuses in [
        (["garbage.rasp"], (2,)),
        (["latin1.rasp"], (2,)),
        (["tokens.rasp"], (0, 1)),
        (["-c", 'load "a";\nload "garbage";\nload "self";\nx = ' + "(" * 1000 + "1" + ")" * 1000 + ";"], (1,)),
    ]:
        done = _process(args, files)
        assert done.returncode in statuses, (args, done.returncode, done.stderr)
        output = done.stdout + done.stderr
        assert TRACEBACK.encode() not in output, args


@pytest.mark.slow
def test_real_process_with_undecodable_bytes_in_the_command_line(tmp_path):
    # Python decodes such argv bytes to lone surrogates, which no output stream can encode
    source = b'x = "\xff";\n# \xff\ny = 1 + nope; # \xff\nz = \xff;\nok = 1;'
    for extra in ([], [b"--json"]):
        done = _process([*extra, b"-c", source], tmp_path)
        assert done.returncode == 1, done.stderr
        assert TRACEBACK.encode() not in done.stdout + done.stderr
    text = _process([b"-c", source], tmp_path)
    assert text.stdout == b"ok = 1\n"
    assert text.stderr.decode("utf-8").splitlines() == [
        "<command>:1:5: syntax error: this string contains bytes that are not valid UTF-8",
        '    x = "\ufffd";',
        "        ^^^",
        "<command>:3:9: name error: `nope` is not defined",
        "    y = 1 + nope; # \ufffd",
        "            ^^^^",
        "<command>:4:5: syntax error: unexpected bytes that are not valid UTF-8",
        "    z = \ufffd;",
        "        ^",
    ]
