"""Which file of the standard library defines which name, and what each file is.

For messages and `help`: "`histogram` is defined in histogram.rasp: load "histogram";".
Read from the library's source text (its top-level `def NAME(` and `NAME =` lines and the
first comment line of each file), never by running it.
"""

from __future__ import annotations

import re
from functools import cache

from .resources import stdlib_dir

_DEFINITION = re.compile(r"^(?:def\s+([A-Za-z_]\w*)\s*\(|([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*=[^=])")
START_UP_FILE = "rasplib"  # loaded at start-up: nothing to load


@cache
def library_files() -> dict[str, tuple[str, list[str]]]:
    """file stem -> (its one-line summary, the names it defines at top level)."""
    files: dict[str, tuple[str, list[str]]] = {}
    for path in sorted(stdlib_dir().glob("*.rasp")):
        text = path.read_text(encoding="utf-8")
        files[path.stem] = (_summary(text), _defined_names(text))
    return files


def _summary(text: str) -> str:
    """The first sentence of the file's opening comment, without its `(load "...";)`."""
    lines = []
    for line in text.split("\n"):
        if not line.startswith("#"):
            break
        body = line[1:].strip()
        if not body:
            break
        lines.append(body)
    summary = " ".join(lines)
    summary = re.sub(r"\s*\(load \"\w+\";\)", "", summary)
    first = re.split(r"(?<=[a-z)\"]\.)\s", summary, maxsplit=1)[0].rstrip(".:")
    return first if len(first) <= 76 else first[:75] + "…"


def _defined_names(text: str) -> list[str]:
    names = []
    for line in text.split("\n"):
        match = _DEFINITION.match(line)
        if match:
            found = match.group(1) or match.group(2)
            names += [n.strip() for n in found.split(",")]
    return names


def defining_file(name: str) -> str | None:
    """The stem of a loadable library file that defines `name` (not the start-up file)."""
    for stem, (_summary_text, names) in library_files().items():
        if stem != START_UP_FILE and name in names:
            return stem
    return None


def loadable_files_text() -> str:
    """One line per loadable library file, for `help`."""
    files = {stem: info for stem, info in library_files().items() if stem != START_UP_FILE}
    width = max((len(stem) for stem in files), default=0) + len('load "";')
    lines = ["Library files (load one to use its names; help NAME says which file has NAME)"]
    for stem, (summary, _names) in files.items():
        command = 'load "' + stem + '";'
        lines.append(f"  {command.ljust(width)}  {summary}")
    return "\n".join(lines)
