"""End-to-end tests of the `rasp` command (docs/reference.md, 'The command line'): text and --json output,
several files in one session, -c, --example, --no-stdlib, -i and piped stdin,
exit statuses, `exit`, `load`, and never a Python traceback.

Most cases call `rasp.cli.main` in-process (fast); a handful run the real
command (`python -m rasp` and the `rasp` console script) from a temporary
directory, so the installed package has to find its grammar and stdlib itself.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import rasp
from rasp.cli import main

TRACEBACK = "Traceback (most recent call last)"


# ------------------------------------------------------------------ helpers


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """main(argv) in-process: (exit status, stdout, stderr); never a traceback.

    argparse ends --help, --version and usage errors with SystemExit; the
    status it carries counts as main's return value.
    """
    try:
        status = main(list(argv))
    except SystemExit as stop:
        status = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 2)
    out, err = capsys.readouterr()
    assert TRACEBACK not in out, out
    assert TRACEBACK not in err, err
    return status, out, err


def run_with_stdin(capsys, monkeypatch, stdin: str, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return run(capsys, *argv)


def json_lines(out: str) -> list[dict]:
    """Every stdout line must be one JSON object (nothing else on stdout)."""
    lines = out.splitlines()
    objects = [json.loads(line) for line in lines]
    assert all(isinstance(o, dict) for o in objects), objects
    return objects


def only(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def pick(obj: dict, *keys: str) -> dict:
    return {k: obj.get(k) for k in keys}


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def rasp_script() -> str:
    found = shutil.which("rasp") or shutil.which("rasp", path=str(Path(sys.executable).parent))
    assert found, "the `rasp` console script is not installed next to this Python"
    return found


def clean_env() -> dict:
    """The environment for subprocesses: no PYTHONPATH pointing at the checkout."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def run_process(command: list[str], cwd: Path, stdin: str = "") -> subprocess.CompletedProcess:
    done = subprocess.run(
        command, check=False, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=60, env=clean_env()
    )
    assert TRACEBACK not in done.stdout, done.stdout
    assert TRACEBACK not in done.stderr, done.stderr
    return done


PROGRAM = """\
# a small program
x = indices * 3;
m = select(indices, indices, <);
a = 3;
def f(a, b) {
    return a + b;
}
"""


# ------------------------------------------------------------- in-process


def test_in_process_output_goes_to_the_current_sys_stdout(capsys):
    # main() must write to sys.stdout / sys.stderr as they are when it runs
    # (capsys, notebooks and embedding replace them after rasp is imported).
    status, out, err = run(capsys, "-c", "a = 1; b = nope;")
    assert status == 1
    assert "a = 1" in out
    assert "nope" in err


def test_file_in_text_mode(capsys, tmp_path):
    prog = write(tmp_path, "prog.rasp", PROGRAM)
    status, out, err = run(capsys, str(prog))
    assert status == 0
    assert err == ""
    lines = out.splitlines()
    assert 'x("hello") = [0, 3, 6, 9, 12]  ints' in lines
    assert "a = 3" in lines
    assert "f = function f(a, b)" in lines
    # the selector: a header naming it, then one row per query position
    head = next(i for i, line in enumerate(lines) if line.startswith('m("hello")'))
    assert "selector" in lines[head]
    rows = lines[head + 3 : head + 8]
    assert [row.split()[1] for row in rows] == list("hello")
    assert [row.split()[2:].count("1") for row in rows] == [0, 1, 2, 3, 4]
    # results come in program order
    assert out.index('x("hello")') < out.index('m("hello")') < out.index("a = 3") < out.index("f = function")


def test_text_mode_types(capsys):
    status, out, _ = run(capsys, "-c", 'b = tokens == "l"; c = tokens; h = indices / 2; same = indices * 0;')
    assert status == 0
    lines = out.splitlines()
    assert 'b("hello") = [F, F, T, T, F]  bools' in lines
    assert 'c("hello") = ["h", "e", "l", "l", "o"]  strings' in lines
    assert 'h("hello") = [0.0, 0.5, 1.0, 1.5, 2.0]  floats' in lines
    assert 'same("hello") = [0]*5  ints' in lines


def test_several_files_share_one_session(capsys, tmp_path):
    first = write(tmp_path, "first.rasp", "base = indices + 1;\ndef double(s) { return s * 2; }\n")
    second = write(tmp_path, "second.rasp", "y = double(base);\n")
    status, out, err = run(capsys, str(first), str(second))
    assert status == 0, err
    assert 'y("hello") = [2, 4, 6, 8, 10]  ints' in out.splitlines()
    assert out.index('base("hello")') < out.index('y("hello")')


def test_dash_c_runs_after_the_files(capsys, tmp_path):
    first = write(tmp_path, "first.rasp", "x = indices;\n")
    second = write(tmp_path, "second.rasp", "y = x + 1;\n")
    # -c written first on the command line still runs after both files
    status, out, err = run(capsys, "-c", "z = y * 10;", str(first), str(second))
    assert status == 0, err
    lines = out.splitlines()
    assert lines == [
        'x("hello") = [0, 1, 2, 3, 4]  ints',
        'y("hello") = [1, 2, 3, 4, 5]  ints',
        'z("hello") = [10, 20, 30, 40, 50]  ints',
    ]


def test_example_string(capsys):
    status, out, _ = run(capsys, "--example", '"hey"', "-c", "x = indices; t = tokens;")
    assert status == 0
    assert out.splitlines() == ['x("hey") = [0, 1, 2]  ints', 't("hey") = ["h", "e", "y"]  strings']


def test_example_list(capsys):
    status, out, _ = run(capsys, "--example", "[1,2,3]", "-c", "x = indices * 2; y = tokens_asis + 1;")
    assert status == 0
    assert out.splitlines() == ["x([1, 2, 3]) = [0, 2, 4]  ints", "y([1, 2, 3]) = [2, 3, 4]  ints"]


def test_example_list_json(capsys):
    status, out, _ = run(capsys, "--json", "--example", "[1,2,3]", "-c", "y = tokens_asis;")
    assert status == 0
    assert json_lines(out) == [{"kind": "sop", "name": "y", "input": [1, 2, 3], "value": [1, 2, 3], "type": "ints"}]


# ------------------------------------------------------------------ --json


def test_json_sop(capsys):
    status, out, err = run(capsys, "--json", "-c", 'x = indices; f = indices / 2; b = tokens == "l"; s = tokens;')
    assert status == 0, err
    assert json_lines(out) == [
        {"kind": "sop", "name": "x", "input": "hello", "value": [0, 1, 2, 3, 4], "type": "ints"},
        {"kind": "sop", "name": "f", "input": "hello", "value": [0.0, 0.5, 1.0, 1.5, 2.0], "type": "floats"},
        {"kind": "sop", "name": "b", "input": "hello", "value": [False, False, True, True, False], "type": "bools"},
        {"kind": "sop", "name": "s", "input": "hello", "value": ["h", "e", "l", "l", "o"], "type": "strings"},
    ]


def test_json_selector_rows_are_queries(capsys):
    source = "m = select(indices, indices, <); k = select(indices, 1, ==); q = select(1, indices, ==);"
    status, out, err = run(capsys, "--json", "--example", '"hey"', "-c", source)
    assert status == 0, err
    assert json_lines(out) == [
        # M[q][k] = key[k] < query[q]: query q sees every earlier position
        {"kind": "selector", "name": "m", "input": "hey", "matrix": [[0, 0, 0], [1, 0, 0], [1, 1, 0]]},
        # keys == 1: every query row selects key position 1
        {"kind": "selector", "name": "k", "input": "hey", "matrix": [[0, 1, 0], [0, 1, 0], [0, 1, 0]]},
        # query == 1: only query row 1 selects anything (all keys)
        {"kind": "selector", "name": "q", "input": "hey", "matrix": [[0, 0, 0], [1, 1, 1], [0, 0, 0]]},
    ]


def test_json_values_lists_dicts_functions(capsys):
    source = (
        'a = 3; s = "str"; r = 2.5; t = True;'
        ' b = [1, "a", True, 2.5, [2, 3]]; d = {"a": 1, "b": [2]};'
        " def f(a, b) { return a + b; } def g() { return 1; }"
    )
    status, out, err = run(capsys, "--json", "-c", source)
    assert status == 0, err
    assert json_lines(out) == [
        {"kind": "value", "name": "a", "value": 3},
        {"kind": "value", "name": "s", "value": "str"},
        {"kind": "value", "name": "r", "value": 2.5},
        {"kind": "value", "name": "t", "value": True},
        {"kind": "list", "name": "b", "value": [1, "a", True, 2.5, [2, 3]]},
        {"kind": "dict", "name": "d", "value": {"a": 1, "b": [2]}},
        {"kind": "function", "name": "f", "params": ["a", "b"]},
        {"kind": "function", "name": "g", "params": []},
    ]


def test_json_lazy_values_nest_in_lists_and_dicts(capsys):
    status, out, err = run(
        capsys,
        "--json",
        "--example",
        '"ab"',
        "-c",
        'l = [1, indices, select(indices, indices, ==)]; d = {"k": tokens};',
    )
    assert status == 0, err
    listed, mapped = json_lines(out)
    assert listed["kind"] == "list" and listed["name"] == "l"
    one, sop, sel = listed["value"]
    assert one == 1
    assert pick(sop, "kind", "input", "value", "type") == {
        "kind": "sop",
        "input": "ab",
        "value": [0, 1],
        "type": "ints",
    }
    assert pick(sel, "kind", "input", "matrix") == {"kind": "selector", "input": "ab", "matrix": [[1, 0], [0, 1]]}
    assert mapped["kind"] == "dict" and mapped["name"] == "d"
    assert pick(mapped["value"]["k"], "kind", "input", "value", "type") == {
        "kind": "sop",
        "input": "ab",
        "value": ["a", "b"],
        "type": "strings",
    }


def test_json_applied_sop_and_selector(capsys):
    source = 'indices("abc"); m = select(indices, indices, ==); m("ab");'
    status, out, err = run(capsys, "--json", "-c", source)
    assert status == 0, err
    objects = json_lines(out)
    # an applied s-op is shown under its own name (docs/reference.md, 'Names of results')
    assert objects[0] == {"kind": "sop", "name": "indices", "input": "abc", "value": [0, 1, 2], "type": "ints"}
    assert objects[-1] == {"kind": "selector", "name": "m", "input": "ab", "matrix": [[1, 0], [0, 1]]}


def test_json_error_with_file_line_column(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "prog.rasp", "a = 1;\nb = nope + 1;\nc = 2;\n")
    status, out, _ = run(capsys, "--json", "prog.rasp")
    assert status == 1
    objects = json_lines(out)
    assert [o["kind"] for o in objects] == ["value", "error", "value"]
    error = objects[1]
    assert pick(error, "kind", "file", "line", "column") == {
        "kind": "error",
        "file": "prog.rasp",
        "line": 2,
        "column": 5,
    }
    assert "`nope` is not defined" in error["message"]
    assert objects[2] == {"kind": "value", "name": "c", "value": 2}


def test_json_syntax_error(capsys):
    status, out, _ = run(capsys, "--json", "-c", "x = (1 + 2;\ny = 3;")
    assert status == 1
    error, value = json_lines(out)
    assert pick(error, "kind", "file", "line", "column") == {
        "kind": "error",
        "file": "<command>",
        "line": 1,
        "column": 11,
    }
    assert "expected `)`" in error["message"]
    assert value == {"kind": "value", "name": "y", "value": 3}


def test_json_warning_does_not_fail(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "w.rasp", "n = 1;\n  y = tokens_int;\nz = y + 1;\n")
    status, out, _ = run(capsys, "--json", "w.rasp")
    assert status == 0  # a warning is not a failed statement
    objects = json_lines(out)
    warnings = only(objects, "warning")
    assert len(warnings) == 2  # y and z cannot be evaluated on "hello"
    assert pick(warnings[0], "kind", "file", "line", "column") == {
        "kind": "warning",
        "file": "w.rasp",
        "line": 2,
        "column": 3,
    }
    assert "tokens_int" in warnings[0]["message"] and '"h"' in warnings[0]["message"]
    assert only(objects, "error") == []


def test_json_error_of_an_application(capsys):
    status, out, _ = run(capsys, "--json", "-c", 'x = tokens_int;\nset example "12"\nx;\nx("1a");')
    assert status == 1
    objects = json_lines(out)
    assert objects[1] == {"kind": "sop", "name": "x", "input": "12", "value": [1, 2], "type": "ints"}
    error = objects[-1]
    assert pick(error, "kind", "line", "column") == {"kind": "error", "line": 4, "column": 1}
    assert '"a"' in error["message"]


# ----------------------------------------------------------- --no-stdlib


def test_no_stdlib(capsys):
    source = (
        "a = length;\n"
        "b = indices + 1;\n"
        "c = aggregate(select(indices, indices, ==), tokens);\n"
        "d = tokens_str;\n"
        "e = shift(indices, 1, 0);\n"
        "f = full_s;\n"
        "g = selector_width(select(indices, indices, ==));\n"  # a built-in, not a library def
    )
    status, out, _ = run(capsys, "--json", "--no-stdlib", "-c", source)
    assert status == 1
    objects = json_lines(out)
    errors = only(objects, "error")
    assert [e["line"] for e in errors] == [1, 5, 6]
    assert "`length` is not defined" in errors[0]["message"]
    assert "`shift` is not defined" in errors[1]["message"]
    assert "`full_s` is not defined" in errors[2]["message"]
    values = {o["name"]: o["value"] for o in objects if o["kind"] == "sop"}
    assert values == {"b": [1, 2, 3, 4, 5], "c": list("hello"), "d": list("hello"), "g": [1] * 5}


def test_stdlib_is_loaded_by_default(capsys):
    status, out, _ = run(capsys, "--json", "-c", "a = length; w = selector_width(select(indices, indices, <));")
    assert status == 0
    assert [o["value"] for o in json_lines(out)] == [[5] * 5, [0, 1, 2, 3, 4]]


# ------------------------------------------------ --version, --help, status


def test_version(capsys):
    status, out, err = run(capsys, "--version")
    assert status == 0
    assert rasp.__version__ in out + err
    assert "rasp" in out + err


def test_help(capsys):
    status, out, _ = run(capsys, "--help")
    assert status == 0
    for option in ("-c", "-i", "--example", "--json", "--no-stdlib", "--version", "FILE"):
        assert option in out
    assert "exit status" in out


def test_failing_statement_exit_1_later_statements_still_run(capsys, tmp_path):
    first = write(tmp_path, "first.rasp", "a = 1;\nb = nope;\nc = 2;\n")
    second = write(tmp_path, "second.rasp", "d = a + c;\n")
    status, out, err = run(capsys, str(first), str(second))
    assert status == 1
    assert out.splitlines() == ["a = 1", "c = 2", "d = 3"]
    assert "`nope` is not defined" in err


def test_all_statements_succeed_exit_0(capsys):
    status, out, err = run(capsys, "-c", "a = 1;")
    assert (status, out, err) == (0, "a = 1\n", "")


@pytest.mark.parametrize(
    "argv", [["--bogus"], ["-c"], ["--example"]], ids=["unknown-option", "c-without-source", "example-without-value"]
)
def test_usage_error_exit_2(capsys, argv):
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert "usage:" in err or "error" in err


def test_missing_file_exit_2(capsys, tmp_path):
    other = write(tmp_path, "other.rasp", "a = 1;\n")
    missing = tmp_path / "missing.rasp"
    status, out, err = run(capsys, str(other), str(missing))
    assert status == 2
    assert out == ""  # nothing runs when a file cannot be read
    assert "missing.rasp" in err


@pytest.mark.parametrize(
    "example, words",
    [
        ('"', ["string"]),  # does not parse
        ('""', ["empty"]),  # empty input
        ("[]", ["empty"]),
        ("3", ["int"]),  # not a string, list or dict
        ("nope", ["nope"]),  # undefined
        ("[[1]]", ["list"]),  # tokens must be atoms
    ],
    ids=["unterminated", "empty-string", "empty-list", "int", "undefined", "nested-list"],
)
def test_bad_example_exit_2(capsys, example, words):
    status, out, err = run(capsys, "--example", example, "-c", "x = indices;")
    assert status == 2
    assert out == ""
    assert "--example" in err
    for word in words:
        assert word in err


# ------------------------------------------------------ stdin and the REPL


def test_plain_rasp_reads_piped_stdin(capsys, monkeypatch):
    status, out, err = run_with_stdin(capsys, monkeypatch, "x = indices;\n")
    assert status == 0, err
    assert out == 'x("hello") = [0, 1, 2, 3, 4]  ints\n'


def test_dash_i_continues_after_files_and_c(capsys, monkeypatch, tmp_path):
    prog = write(tmp_path, "prog.rasp", "x = indices;\n")
    status, out, err = run_with_stdin(capsys, monkeypatch, "z = y + x;\n", "-i", str(prog), "-c", "y = x + 1;")
    assert status == 0, err
    assert out.splitlines() == [
        'x("hello") = [0, 1, 2, 3, 4]  ints',
        'y("hello") = [1, 2, 3, 4, 5]  ints',
        'z("hello") = [1, 3, 5, 7, 9]  ints',
    ]


def test_without_dash_i_stdin_is_not_read_after_files(capsys, monkeypatch):
    status, out, _ = run_with_stdin(capsys, monkeypatch, "z = 5;\n", "-c", "y = 1;")
    assert status == 0
    assert out == "y = 1\n"


def test_multi_line_statements_over_stdin(capsys, monkeypatch):
    stdin = (
        "x = indices +   # a comment inside the statement\n"
        "    1;\n"
        "def double(s) {\n"
        "    # twice\n"
        "    return s * 2;\n"
        "}\n"
        "y = double(\n"
        "  x\n"
        ");  z = [1,\n"
        "2];\n"
        "m = select(indices,\n"
        "           indices, ==);\n"
    )
    status, out, err = run_with_stdin(capsys, monkeypatch, stdin, "--json")
    assert status == 0, err
    objects = json_lines(out)
    assert [o["name"] for o in objects] == ["x", "double", "y", "z", "m"]
    assert objects[2]["value"] == [2, 4, 6, 8, 10]
    assert objects[3] == {"kind": "list", "name": "z", "value": [1, 2]}


def test_stdin_errors_are_reported_and_the_session_goes_on(capsys, monkeypatch):
    status, out, err = run_with_stdin(capsys, monkeypatch, "q = nope;\nz = 1;\nw = (1 +\n")
    assert status == 1
    assert out == "z = 1\n"
    assert "<stdin>:1:5: name error: `nope` is not defined" in err.splitlines()
    assert "syntax error" in err  # the unfinished statement at end of input


def test_piped_stdin_errors_count_lines_from_the_start_of_the_input(capsys, monkeypatch):
    # piped (not a terminal) stdin is a script: an error on its third line is at line 3
    status, _, err = run_with_stdin(capsys, monkeypatch, "a = 1;\nb = 2;\nbad = nope;\n")
    assert status == 1
    assert "<stdin>:3:7: name error: `nope` is not defined" in err.splitlines()
    assert "    bad = nope;" in err.splitlines()


def test_exit_stops_stdin(capsys, monkeypatch):
    status, out, _ = run_with_stdin(capsys, monkeypatch, "a = 1;\nexit\nz = 1;\n")
    assert status == 0
    assert out == "a = 1\n"


# ------------------------------------------------------------- exit, load


@pytest.mark.parametrize("command", ["exit", "quit", "quit()"])
def test_exit_stops_a_file(capsys, tmp_path, command):
    prog = write(tmp_path, "prog.rasp", f"a = 1;\n{command}\nb = 2;\n")
    status, out, err = run(capsys, str(prog))
    assert status == 0, err
    assert out == "a = 1\n"


def test_exit_after_a_failure_keeps_status_1(capsys, tmp_path):
    prog = write(tmp_path, "prog.rasp", "a = nope;\nexit\nb = 2;\n")
    status, out, _ = run(capsys, str(prog))
    assert status == 1
    assert out == ""


def test_load_sibling_file_relative_to_the_loading_file(capsys, tmp_path, monkeypatch):
    sub = tmp_path / "sub"
    write(sub, "helper.rasp", "h = 41;\n_private = 1;\ndef inc(s) { return s + 1; }\n")
    main_file = write(sub, "main.rasp", 'load "helper";\ny = h + 1;\nz = inc(indices);\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the helper is not in the current directory
    status, out, err = run(capsys, str(main_file), "-c", "_private;")
    assert status == 1  # `_private` stays private to helper.rasp
    assert out.splitlines()[:2] == ["y = 42", 'z("hello") = [1, 2, 3, 4, 5]  ints']
    assert "`_private` is not defined" in err


def test_load_from_a_loaded_file_in_another_directory(capsys, tmp_path, monkeypatch):
    write(tmp_path / "lib", "outer.rasp", 'load "inner";\nouter_v = inner_v + 1;\n')
    write(tmp_path / "lib", "inner.rasp", "inner_v = 10;\n")
    prog = write(tmp_path, "prog.rasp", 'load "lib/outer.rasp";\nouter_v;\n')
    monkeypatch.chdir(tmp_path / "lib")
    status, out, err = run(capsys, str(prog))
    assert status == 0, err
    assert out == "outer_v = 11\n"


def test_load_cycle_is_an_error_not_a_hang(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "a.rasp", 'load "b";\na_v = 1;\n')
    write(tmp_path, "b.rasp", 'load "a";\nb_v = 2;\n')
    status, out, _ = run(capsys, "--json", "-c", 'load "a";\nafter = 3;')
    assert status == 1
    objects = json_lines(out)
    errors = only(objects, "error")
    assert errors and "load cycle" in errors[0]["message"]
    assert objects[-1] == {"kind": "value", "name": "after", "value": 3}


# ------------------------------------------------------------ text errors


def test_text_errors_go_to_stderr_with_source_and_caret(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "prog.rasp", "a = 1;\nb = indices + nope;\n")
    status, out, err = run(capsys, "prog.rasp")
    assert status == 1
    assert out == "a = 1\n"
    lines = err.splitlines()
    assert lines[0] == "prog.rasp:2:15: name error: `nope` is not defined"
    assert lines[1].strip() == "b = indices + nope;"
    column = lines[1].index("nope")
    assert lines[2].rstrip() == " " * column + "^^^^"


def test_text_warning_goes_to_stderr(capsys):
    status, out, err = run(capsys, "-c", "y = tokens_int; z = 1;")
    assert status == 0
    assert out == "z = 1\n"
    assert err.startswith("<command>:1:1: warning: ")


# ------------------------------------------------------- real processes


@pytest.fixture
def workdir(tmp_path) -> Path:
    """An empty directory far from the checkout, to run the command in."""
    directory = tmp_path / "work"
    directory.mkdir()
    return directory


@pytest.mark.slow
def test_python_dash_m_rasp_json(workdir):
    write(workdir, "prog.rasp", PROGRAM + "bad = nope;\nw = length;\n")
    done = run_process([sys.executable, "-m", "rasp", "--json", "--example", '"hey"', "prog.rasp"], workdir)
    assert done.returncode == 1, done.stderr
    objects = json_lines(done.stdout)
    assert objects[0] == {"kind": "sop", "name": "x", "input": "hey", "value": [0, 3, 6], "type": "ints"}
    assert objects[1] == {"kind": "selector", "name": "m", "input": "hey", "matrix": [[0, 0, 0], [1, 0, 0], [1, 1, 0]]}
    error = only(objects, "error")[0]
    assert pick(error, "file", "line", "column") == {"file": "prog.rasp", "line": 8, "column": 7}
    assert objects[-1] == {"kind": "sop", "name": "w", "input": "hey", "value": [3, 3, 3], "type": "ints"}


@pytest.mark.slow
def test_console_script_runs_a_file_from_any_directory(workdir):
    write(workdir, "prog.rasp", PROGRAM + "n = length;\n")
    done = run_process([rasp_script(), "prog.rasp"], workdir)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert 'x("hello") = [0, 3, 6, 9, 12]  ints' in lines
    assert 'n("hello") = [5]*5  ints' in lines


@pytest.mark.slow
def test_console_script_reads_piped_stdin(workdir):
    done = run_process([rasp_script()], workdir, stdin="x = indices;\ny = x +\n  1;\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == 'x("hello") = [0, 1, 2, 3, 4]  ints\ny("hello") = [1, 2, 3, 4, 5]  ints\n'


@pytest.mark.slow
def test_console_script_dash_i_with_piped_stdin(workdir):
    write(workdir, "prog.rasp", "x = indices;\n")
    done = run_process([rasp_script(), "-i", "prog.rasp"], workdir, stdin="y = x * 2;\nbad = nope;\n")
    assert done.returncode == 1
    assert done.stdout == 'x("hello") = [0, 1, 2, 3, 4]  ints\ny("hello") = [0, 2, 4, 6, 8]  ints\n'
    assert "name error: `nope` is not defined" in done.stderr


@pytest.mark.slow
def test_console_script_usage_errors_and_version(workdir):
    done = run_process([rasp_script(), "--bogus"], workdir)
    assert done.returncode == 2
    assert done.stdout == ""
    done = run_process([rasp_script(), "missing.rasp"], workdir)
    assert done.returncode == 2
    assert "missing.rasp" in done.stderr
    done = run_process([rasp_script(), "--version"], workdir)
    assert done.returncode == 0
    assert rasp.__version__ in done.stdout


@pytest.mark.slow
def test_console_script_bad_input_never_shows_a_traceback(workdir):
    # a mix of mistakes; run_process asserts there is no traceback anywhere
    source = """\
x = (1 +;
y = nope;
length = 6;
def f(a, b) { return a; } f(1);
t = tokens_asis; t([1, "a"]);
a = aggregate(full_s, tokens); a("abc");
d = {"a": 1}; d["b"];
[1, 2][5];
q = 1 / indices; q("ab");
set example ""
load "nothere";
def r(x) { return r(x); } r(1);
3(1);
x = 1.5e3;
draw(indices);
ok = 1;
"""
    done = run_process([rasp_script(), "-c", source], workdir)
    assert done.returncode == 1
    assert done.stdout.splitlines()[-1] == "ok = 1"


def test_source_and_example_may_start_with_a_minus(capsys):
    status, out, _ = run(capsys, "-c", "-indices;", "--example", "-[1]")
    assert status == 2  # -[1] is no input; the point is that argparse took both as values
    status, out, err = run(capsys, "--example", '["-", "x"]', "-c", "-indices;")
    assert (status, err) == (0, "")
    assert out == 'out(["-", "x"]) = [0, -1]  ints\n'


def test_a_bug_outside_any_statement_is_an_internal_error_without_traceback(monkeypatch, capsys):
    import rasp.cli

    def broken(argv=None):
        raise RuntimeError("boom")

    monkeypatch.setattr(rasp.cli, "main", broken)
    monkeypatch.setattr(sys, "argv", ["rasp", "-c", "1;"])
    with pytest.raises(SystemExit) as exit_info:
        rasp.cli.main_entry()
    err = capsys.readouterr().err
    assert exit_info.value.code == 1
    assert err.startswith("rasp: internal error: RuntimeError: boom\n")
    assert "Traceback" not in err
    monkeypatch.setattr(sys, "argv", ["rasp", "--debug"])
    with pytest.raises(SystemExit):
        rasp.cli.main_entry()
    assert "Traceback" in capsys.readouterr().err


def test_analyse_and_eval_do_not_combine(capsys):
    status, _, err = run(capsys, "-c", "x = indices;", "--analyse", "x", "--eval", "x", "--inputs", "-")
    assert status == 2
    assert "--analyse and --eval are separate runs" in err
