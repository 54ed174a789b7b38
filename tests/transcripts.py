"""Transcripts in the docs: fenced blocks that start with `$ rasp ...`, followed by what it printed.

A block is one or more commands, each a line `$ rasp ARGS` (a quoted argument may span
lines) followed by its output (stdout and stderr, in order). A ```rasp block whose first
line is `# file: NAME.rasp` is written to NAME.rasp before the later commands of that page run.
Commands run in-process (rasp.cli.main), so checking a page is quick.

`python tests/transcripts.py docs/reference.md ...` re-runs every transcript and writes the
real output into the page (review the diff); tests/test_docs.py checks that they still match.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
FILE_HEADER = re.compile(r"# file: (\S+)\n")


@dataclass
class Command:
    text: str  # the command line(s) after "$ "
    output: str  # the lines printed, as the page has them


def commands(block: str) -> list[Command] | None:
    """The commands of a transcript block, or None if it is not one."""
    if not block.startswith(("$ rasp", "$ printf")):
        return None
    found: list[Command] = []
    lines = block.splitlines()
    i = 0
    while i < len(lines):
        text = lines[i][2:]
        i += 1
        while not _complete(text) and i < len(lines):
            text += "\n" + lines[i]
            i += 1
        output = []
        while i < len(lines) and not lines[i].startswith(("$ rasp", "$ printf")):
            output.append(lines[i])
            i += 1
        found.append(Command(text, "\n".join(output)))
    return found


def _complete(text: str) -> bool:
    try:
        shlex.split(text)
    except ValueError:
        return False
    return True


def run(command: str) -> str:
    """What `command` (`rasp ARGS`, or `printf 'TEXT' | rasp ARGS`) prints, stdout and stderr interleaved."""
    from rasp.cli import main

    args = shlex.split(command)
    stdin = ""
    if args[0] == "printf":
        assert args[2:4] == ["|", "rasp"], command
        stdin = args[1].replace("\\n", "\n")
        args = args[3:]
    assert args[0] == "rasp", command
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer), _stdin(stdin):
        try:
            main(args[1:])
        except SystemExit:  # --help, --version
            pass
    return buffer.getvalue().rstrip("\n")


@contextlib.contextmanager
def _stdin(text: str):
    saved = sys.stdin
    sys.stdin = io.StringIO(text)
    try:
        yield
    finally:
        sys.stdin = saved


def page_blocks(text: str) -> list[tuple[str, str, int, int]]:
    """(info string, body, start, end) of every fenced block of a Markdown page."""
    return [(m.group(1).strip(), m.group(2), m.start(2), m.end(2)) for m in FENCE.finditer(text)]


def write_file_block(body: str) -> bool:
    header = FILE_HEADER.match(body)
    if header:
        Path(header.group(1)).write_text(body, encoding="utf-8")
    return bool(header)


def update(path: Path) -> None:
    """Re-run the transcripts of `path` and write their real output into it (in the current directory)."""
    text = path.read_text(encoding="utf-8")
    pieces, last = [], 0
    for info, body, start, end in page_blocks(text):
        if info.startswith("rasp") and write_file_block(body):
            continue
        found = commands(body)
        if found is None:
            continue
        outputs = [run(c.text) for c in found]
        new = "".join(f"$ {c.text}\n" + (out + "\n" if out else "") for c, out in zip(found, outputs, strict=True))
        pieces += [text[last:start], new]
        last = end
    pieces.append(text[last:])
    path.write_text("".join(pieces), encoding="utf-8")


if __name__ == "__main__":
    import os
    import tempfile

    pages = [Path(p).resolve() for p in sys.argv[1:]]
    os.environ["RASP_HISTORY"] = ""
    os.environ["COLUMNS"] = "80"  # argparse wraps --help to the terminal's width
    with tempfile.TemporaryDirectory() as scratch:
        os.environ.pop("RASP_DRAW_DIR", None)
        os.chdir(scratch)
        for page in pages:
            update(page)
