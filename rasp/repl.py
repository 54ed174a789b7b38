"""The interactive session (line-based; a prompt only when stdin is a terminal).

Reads lines until they form complete statements (ending in `;` with balanced
brackets, or a command line), runs them, and shows the results.
"""

from __future__ import annotations

import sys

from . import __version__
from .display import format_value
from .parser import is_complete
from .results import ExitRequest

PROMPT = ">> "
CONTINUATION = ".. "


def run_repl(session, printer, stdin=None) -> None:
    stdin = stdin or sys.stdin
    interactive = stdin.isatty()
    if interactive:
        example = session.sop_example
        printer.out.write(f"rasp {__version__} · running example {format_value(example)} · Ctrl-D to exit\n")
    pending: list[str] = []
    next_line = 1  # positions count from the start of the whole session's input
    while True:
        line = _read_line(stdin, interactive, CONTINUATION if pending else PROMPT)
        if line is None:  # end of input
            if pending:
                _run(session, printer, "\n".join(pending), next_line)
            return
        if line is KeyboardInterrupt:
            pending = []
            continue
        pending.append(line)
        source = "\n".join(pending)
        if not is_complete(source):
            continue
        first_line, next_line = next_line, next_line + len(pending)
        pending = []
        if _run(session, printer, source, first_line):
            return


def _read_line(stdin, interactive: bool, prompt: str):
    try:
        if interactive:
            return input(prompt)
        line = stdin.readline()
        return None if line == "" else line.rstrip("\n")
    except EOFError:
        return None
    except KeyboardInterrupt:
        sys.stdout.write("\n")
        return KeyboardInterrupt


def _run(session, printer, source: str, first_line: int) -> bool:
    """Run source; True when it asked to exit."""
    try:
        for result in session.run_iter(source, "<stdin>", first_line):
            printer.emit(result)
            if isinstance(result, ExitRequest):
                return True
    except KeyboardInterrupt:
        printer.err.write("interrupted\n")
    return False
