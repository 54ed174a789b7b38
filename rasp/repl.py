"""The interactive session.

On a terminal: a prompt_toolkit prompt (rasp.prompt) with history, multi-line input,
completion, highlighting and a live preview. From a pipe: the same statements and
commands read line by line, with no prompt decoration. Both run input through
`Repl.run`, which also knows the REPL's own commands: help, vars, clear, preview.
"""

from __future__ import annotations

import re
import shutil
import sys
from typing import TYPE_CHECKING, TextIO

from . import __version__
from .display import format_value
from .help import help_text, vars_text
from .parser import is_complete
from .results import ExitRequest

if TYPE_CHECKING:  # prompt_toolkit is imported only for an interactive terminal
    from .prompt import LivePreview

SELECTOR_ROWS = 64  # rows of a selector matrix shown at the prompt (a longer example's are elided)
SOP_VALUES = 100  # values of an s-op (or of the example) shown at the prompt: the first and last 50


class Repl:
    """A session behind a prompt: runs input, handles REPL commands, survives anything."""

    def __init__(self, session, printer, stdlib: bool = True):
        self.session = session
        self.printer = printer
        self.stdlib = stdlib
        self.preview: LivePreview | None = None  # on a terminal
        self.next_line = 1  # positions count from the start of the whole session's input

    def run(self, source: str) -> bool:
        """Run one submitted input; True when it asked to exit."""
        first_line = self.next_line
        self.next_line += source.count("\n") + 1
        if self.preview is not None:
            self.preview.stop()
        command = repl_command(source, self.session)
        if command:
            self._repl_command(command)
            return False
        try:
            for result in self.session.run_iter(source, "<stdin>", first_line):
                self.printer.emit(result)
                if isinstance(result, ExitRequest):
                    return True
        except KeyboardInterrupt:
            self.printer.emit_text("interrupted", "interrupted: the statement was stopped", error=True)
        return False

    def _repl_command(self, match: re.Match) -> None:
        if match["help"]:
            self.printer.emit_text("help", help_text(self.session, match["topic"]))
        elif match["vars"]:
            self.printer.emit_text("vars", vars_text(self.session))
        elif match["clear"]:
            self._clear()
        else:
            on = match["preview_on"] == "on"
            if self.preview is not None:
                self.preview.enabled = on
            self.printer.emit_text("preview", f"live preview {'on' if on else 'off'}")

    def _clear(self) -> None:
        from .interpreter import Session

        progress, train_progress = self.session.progress, self.session.train_progress
        self.session = Session(stdlib=self.stdlib)
        self.session.progress = progress  # the face's progress line stays
        self.session.train_progress = train_progress  # and its epoch line (`train`, `learn`)
        self.printer.session = self.session
        example = format_value(self.session.sop_example)
        self.printer.emit_text("clear", f"cleared: your bindings are gone, the running example is {example}")

    def banner(self) -> str:
        example = format_value(self.session.sop_example)
        return f"rasp {__version__} · running example {example} · type help for help, Ctrl-D to exit"


_REPL_COMMAND = re.compile(
    r"\s*(?:(?P<help>help)(?:\s+(?P<topic>[A-Za-z_][A-Za-z0-9_]*))?|(?P<vars>vars)|(?P<clear>clear)"
    r"|preview\s+(?P<preview_on>on|off))\s*(?P<semicolon>;?)\s*$"
)


def repl_command(text: str, session=None) -> re.Match | None:
    """help, help NAME, vars, clear, preview on|off: commands of the REPL, not of RASP.

    Written with a `;` (`vars;`) and naming one of your variables, it is RASP: the variable.
    """
    match = _REPL_COMMAND.match(text)
    if match is None or session is None or not match["semicolon"]:
        return match
    word = "help" if match["help"] else "vars" if match["vars"] else "clear" if match["clear"] else "preview"
    return None if word in session.globals.vars else match


def run_repl(session, printer, stdin: TextIO | None = None, *, preview: bool = True, stdlib: bool = True,
             terminal_input=None, terminal_output=None) -> bool:
    """Run the REPL until exit, Ctrl-D or the end of the input; True when it was interactive.

    A prompt_toolkit session when stdin and stdout are terminals (or when
    terminal_input/terminal_output are given, for tests); otherwise lines from stdin.
    """
    repl = Repl(session, printer, stdlib)
    stdin = stdin or sys.stdin
    if terminal_input is not None or (_is_terminal(stdin) and _is_terminal(printer.out)):
        _interactive(repl, preview, terminal_input, terminal_output)
        return True
    _piped(repl, stdin)
    return False


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _piped(repl: Repl, stdin: TextIO) -> None:
    """Statements from a pipe: run each input as soon as it is complete."""
    pending: list[str] = []
    while True:
        try:
            line = stdin.readline()
        except KeyboardInterrupt:
            return
        if line == "":
            if pending:
                repl.run("\n".join(pending))
            return
        pending.append(line.rstrip("\n"))
        source = "\n".join(pending)
        if len(pending) == 1 and repl_command(source, repl.session) or is_complete(source):
            pending = []
            if repl.run(source):
                return


def _interactive(repl: Repl, preview_on: bool, terminal_input, terminal_output) -> None:
    from .prompt import LivePreview, build_prompt_session, history_path, make_history, no_color

    printer = repl.printer
    if terminal_output is None:
        printer.color = not no_color()
        printer.width = shutil.get_terminal_size().columns
    printer.max_rows = SELECTOR_ROWS
    printer.max_values = SOP_VALUES
    preview = repl.preview = LivePreview(lambda: repl.session, width=lambda: printer.width)
    preview.enabled = preview_on
    history, _ = make_history(history_path())
    prompt = build_prompt_session(lambda: repl.session, preview, history, terminal_input, terminal_output)
    printer.emit_text("banner", repl.banner())
    while True:
        preview.show("")
        try:
            source = prompt.prompt()
        except KeyboardInterrupt:  # Ctrl-C: discard the input
            continue
        except EOFError:  # Ctrl-D
            return
        if source.strip() and repl.run(source):
            return
