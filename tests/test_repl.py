"""The REPL: the real prompt_toolkit application driven through a pipe input.

Keys are sent as a terminal sends them: "\r" is Enter, "\t" Tab, "\x03" Ctrl-C,
"\x04" Ctrl-D, "\x1b[A" the Up arrow, "\x1b\r" Alt-Enter.
"""

from __future__ import annotations

import io
import re
import threading
import time

import pytest
from prompt_toolkit.data_structures import Size
from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from prompt_toolkit.output.vt100 import Vt100_Output

from rasp.cli import Printer
from rasp.interpreter import Session
from rasp.prompt import LivePreview, RaspCompleter, history_path, is_repl_command, make_history, next_indent
from rasp.repl import run_repl


@pytest.fixture(autouse=True)
def no_user_history(tmp_path, monkeypatch):
    """Never touch the real history file; each test gets its own."""
    monkeypatch.setenv("RASP_HISTORY", str(tmp_path / "history"))


def drive(keys: str | list[str], preview: bool = False) -> tuple[str, str, Session]:
    """Run the REPL on `keys`; return (stdout, stderr, session).

    A list of key strings is typed piece by piece with pauses (as a person types, so
    that asynchronous completion can catch up).
    """
    session = Session()
    out, err = io.StringIO(), io.StringIO()
    printer = Printer(session, as_json=False, debug=False, out=out, err=err)
    with create_pipe_input() as terminal:
        thread = threading.Thread(
            target=run_repl, args=(session, printer),
            kwargs={"preview": preview, "terminal_input": terminal, "terminal_output": DummyOutput()},
        )
        thread.start()
        for piece in [keys] if isinstance(keys, str) else keys:
            terminal.send_text(piece)
            if not isinstance(keys, str):
                time.sleep(0.3)
        thread.join(timeout=20)
        if thread.is_alive():
            terminal.send_text("\x03exit\r")
            thread.join(timeout=5)
            pytest.fail(f"the REPL did not finish on {keys!r}")
    return out.getvalue(), err.getvalue(), printer.session


def test_banner_then_an_sop_value_and_ctrl_d_exits():
    out, err, _ = drive("x = indices * 3;\r\x04")
    assert out.splitlines()[0].startswith("rasp ")
    assert 'running example "hello"' in out.splitlines()[0]
    assert 'x("hello") = [0, 3, 6, 9, 12]  ints' in out
    assert err == ""


def test_selector_matrix_is_shown():
    out, _, _ = drive("sel = select(indices, indices, <);\rexit\r")
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith('sel("hello")'))
    assert lines[start + 1].split() == ["0", "1", "2", "3", "4"]
    assert lines[start + 2].split() == list("hello")
    assert lines[start + 3].split() == ["0", "h", "·", "·", "·", "·", "·"]
    assert lines[start + 6].split() == ["3", "l", "1", "1", "1", "·", "·"]


def test_multi_line_def_waits_for_the_closing_brace():
    out, err, _session = drive("def f(a) {\rreturn a + 1;\r}\rf(indices);\r\x04")
    assert "f = function f(a)" in out
    assert 'f(indices)("hello") = [1, 2, 3, 4, 5]  ints' in out  # named after the call
    assert err == ""


def test_enter_inside_braces_indents_and_closing_brace_dedents():
    source = "def f(a) {\r    return a;\r}\r\x04"
    _, err, session = drive(source)
    assert err == ""
    assert session["f"].params == ["a"]
    assert next_indent("def f(a) {") == "    "
    assert next_indent("def f(a) {\n  x = {1: 2};") == "    "
    assert next_indent('x = "{";') == ""


def test_incomplete_statement_gets_a_continuation_line_not_an_error():
    out, err, _ = drive("x = indices\r+ 1;\r\x04")
    assert 'x("hello") = [1, 2, 3, 4, 5]  ints' in out
    assert err == ""


def test_alt_enter_runs_an_incomplete_input_as_it_is():
    _, err, _ = drive("x = indices\x1b\r\x04")
    assert "missing `;`" in err


def test_errors_show_a_caret_and_the_session_goes_on():
    out, err, _ = drive("y = indices + nope;\rindices;\r\x04")
    assert "name error: `nope` is not defined" in err
    assert "    y = indices + nope;" in err
    assert "                  ^^^^" in err
    assert 'indices("hello") = [0, 1, 2, 3, 4]  ints' in out


def test_syntax_error_and_runaway_recursion_do_not_end_the_session():
    keys = "x = (1;\rdef r(a) { return r(a); }\rr(1);\r1 + 1;\r\x04"
    out, err, _ = drive(keys)
    assert "syntax error" in err
    assert "recursion" in err
    assert "out = 2" in out


def test_ctrl_c_discards_the_current_input():
    _out, err, session = drive("x = indices\x03y = indices;\r\x04")
    assert "x" not in session.globals.vars
    assert "y" in session.globals.vars
    assert err == ""


def test_exit_command_ends_the_session():
    _out, _, session = drive("exit\rx = 1;\r")
    assert "x" not in session.globals.vars


@pytest.mark.slow
def test_tab_completes_a_library_name():
    out, err, _session = drive(["y = select_from_fi", "\t", '(tokens, "l");\r', "\x04"])
    assert err == ""
    assert 'y("hello") =' in out


def test_completer_offers_user_names_library_names_and_keywords():
    session = Session()
    session.run("my_value = indices;")
    completer = RaspCompleter(lambda: session)

    def complete(text):
        return {c.text: c.display_meta_text for c in completer.get_completions(Document(text), None)}

    assert complete("x = my_") == {"my_value": "yours"}
    assert complete("x = sel").items() >= {("select", "built-in"), ("selector_width", "built-in"),
                                           ("select_from_first", "library")}
    assert "show example" in complete("sh")
    assert "show example" not in complete("x = sh")
    assert complete('x = "sel') == {}


@pytest.mark.slow
def test_history_persists_between_sessions(tmp_path, monkeypatch):
    path = tmp_path / "hist"
    monkeypatch.setenv("RASP_HISTORY", str(path))
    drive("x = indices * 3;\r\x04")
    assert "x = indices * 3;" in path.read_text()
    out, _, _ = drive("\x1b[A\r\x04")  # Up, Enter: runs the previous session's input again
    assert 'x("hello") = [0, 3, 6, 9, 12]  ints' in out


def test_history_location_and_opt_out(tmp_path, monkeypatch):
    monkeypatch.setenv("RASP_HISTORY", "")
    assert history_path() is None
    monkeypatch.delenv("RASP_HISTORY")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert history_path() == tmp_path / "rasp" / "history"
    unwritable = tmp_path / "file"
    unwritable.write_text("")
    _, where = make_history(unwritable / "sub" / "history")  # a file where a directory should be
    assert where is None


@pytest.mark.slow
def test_help_vars_and_clear():
    keys = "x = indices;\rdef f(a, b) { return a; }\rvars\rhelp sort\rhelp srot\rclear\rvars\rx;\r\x04"
    out, err, session = drive(keys)
    assert "x        s-op: indices" in out
    assert "f(a, b)  function" in out
    assert "sort(seq, key)  function" in out
    assert "did you mean `sort`?" in out
    assert "cleared" in out
    assert "no bindings yet" in out
    assert "name error: `x` is not defined" in err
    assert "x" not in session.globals.vars


def test_help_lists_commands_and_library():
    out, _, _ = drive("help\r\x04")
    for word in ("set example", "full seq display", "analyse", "vars", "clear", "select(keys, queries, OP)", "sort"):
        assert word in out
    assert is_repl_command("help")
    assert is_repl_command("help sort;")
    assert not is_repl_command("helper = 1;")


def test_full_seq_display_aligns_input_and_output():
    out, _, _ = drive('set example ["a", "bbb", "c"];\rfull seq display on\rx = indices * 100;\r\x04')
    assert "   input: a bbb   c" in out
    assert "  output: 0 100 200" in out


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class _Screen(io.StringIO):
    """What the REPL writes to the terminal; answers cursor-position requests as a terminal does."""

    def __init__(self, terminal):
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if "\x1b[6n" in text:
            self.terminal.send_text("\x1b[1;1R")
        return super().write(text)


def _live_repl(keys_then_wait: list[tuple[str, float]], rows: int = 30):
    """Run the REPL in a thread with a real VT100 output; send keys with pauses."""
    session = Session()
    printer = Printer(session, as_json=False, debug=False, out=io.StringIO(), err=io.StringIO())
    with create_pipe_input() as terminal:
        screen = _Screen(terminal)
        output = Vt100_Output(screen, lambda: Size(rows=rows, columns=100), term="xterm")
        thread = threading.Thread(
            target=run_repl, args=(session, printer),
            kwargs={"preview": True, "terminal_input": terminal, "terminal_output": output},
        )
        thread.start()
        snapshots = []
        for keys, wait in keys_then_wait:
            terminal.send_text(keys)
            time.sleep(wait)
            snapshots.append(_ANSI.sub("", screen.getvalue()))
        terminal.send_text("\x04")
        thread.join(timeout=10)
    assert not thread.is_alive()
    return snapshots, printer


@pytest.mark.slow
def test_live_preview_shows_the_value_while_typing_and_binds_nothing():
    snapshots, printer = _live_repl([("x = indices * 3", 1.0), ("\x03", 0.3)])
    assert 'x("hello") = [0, 3, 6, 9, 12]  ints' in snapshots[0]
    assert "x" not in printer.session.globals.vars
    assert printer.out.getvalue().count("[0, 3, 6, 9, 12]") == 0


@pytest.mark.slow
def test_live_preview_is_silent_on_incomplete_input_and_shows_errors():
    snapshots, _ = _live_repl([("x = select(indices, ", 1.0), ("\x03y = nope", 1.0), ("\x03", 0.2)])
    assert "error" not in snapshots[0]
    assert "name error: `nope` is not defined" in snapshots[1][len(snapshots[0]):]


@pytest.mark.slow
def test_preview_off_command():
    snapshots, _ = _live_repl([("preview off\r", 0.3), ("x = indices * 7", 1.0), ("\x03", 0.2)])
    assert "[0, 7, 14, 21, 28]" not in snapshots[1]


def test_preview_renders_selectors_compactly_and_stops_slow_evaluations():
    session = Session()
    preview = LivePreview(lambda: session, time_limit=0.5)
    text = preview.render("s = select(indices, indices, ==)")
    assert text.splitlines()[0].startswith('s("hello") =')
    assert len(text.splitlines()) == 8
    session.run('set example "abcdefghijklmnopqrstuvwxyz";')
    assert "more rows" in preview.render("select(indices, indices, ==);")
    assert preview.render("def g(a) { return a; }") == ""
    assert preview.render('load "nothing";') == ""
    assert preview.render("x = (1") == ""


def test_a_variable_named_like_a_repl_command_is_shown_with_a_semicolon():
    out, err, _ = drive("x = indices;\rclear = 1;\rclear;\rx;\rvars\r\x04")
    assert err == ""
    assert out.count("clear = 1") == 2
    assert 'x("hello") = [0, 1, 2, 3, 4]  ints' in out
    assert "clear  an int: 1" in out  # `vars` without `;` is still the command


def test_preview_follows_the_rules_of_running_the_statement():
    session = Session()
    preview = LivePreview(lambda: session)
    assert preview.render("length = 3").startswith("name error: `length` is reserved")
    assert preview.render("a, b = [1, 2]") == "a = 1\nb = 2"
    assert "a" not in session.globals.vars and "out" not in session.globals.vars


def test_a_long_examples_selector_is_cut_to_a_screenful_of_rows():
    out, _, _ = drive('set example "' + "ab" * 50 + '"\rselect(indices, indices, ==);\r\x04')
    assert "(36 more rows and " in out  # 100 rows: 64 shown
    assert len(re.findall(r"\n +\d+ [ab] ", out)) == 64
