"""The standard library's parsed statements: parsed once per process and cached on disk.

Start-up runs the standard library; parsing it is most of that time, so the parsed
statements are kept (a pickle in the user's cache directory, named by everything the
parse depends on) and the parser is skipped when the cache is current.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from pathlib import Path

from . import lalr, parse_tables, parser, resources
from . import syntax as ast
from .parser import parse_program

_PARSED_STDLIB: dict[tuple[str, str], list[ast.Stmt]] = {}


def stdlib_statements(path: Path, source: str) -> list[ast.Stmt]:
    """A standard-library file's statements: parsed once per process, and cached on disk
    (a pickle in the user's cache directory) so that start-up skips the parser."""
    key = (str(path), source)
    if key not in _PARSED_STDLIB:
        _PARSED_STDLIB[key] = load_or_parse(path, source)
    return _PARSED_STDLIB[key]


def cache_file(path: Path, source: str) -> Path:
    """Where the parsed file is cached: named by everything the parse depends on."""
    fingerprint = hashlib.sha256()
    for part in (sys.version, str(path), source, Path(ast.__file__).read_text(encoding="utf-8"),
                 Path(parser.__file__).read_text(encoding="utf-8"), Path(lalr.__file__).read_text(encoding="utf-8"),
                 Path(parse_tables.__file__).read_text(encoding="utf-8"),
                 resources.grammar_path().read_text(encoding="utf-8")):
        fingerprint.update(part.encode("utf-8", "surrogatepass") + b"\0")
    home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(home) / "rasp" / f"{_cache_stem(path)}-{fingerprint.hexdigest()[:24]}.pickle"


def _cache_stem(path: Path) -> str:
    """The file's name and a hash of where it is: each installation (each virtual environment, each
    checkout) keeps its own cache and replaces only its own stale versions."""
    return f"{path.stem}-{hashlib.sha256(str(path).encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def load_or_parse(path: Path, source: str) -> list[ast.Stmt]:
    """The file's statements from the disk cache if it is current, else parsed (and cached)."""
    try:
        cache: Path | None = cache_file(path, source)
        if cache is not None and cache.is_file():
            statements: list[ast.Stmt] = pickle.loads(cache.read_bytes())
            return statements
    except Exception:  # noqa: BLE001 - an unreadable or stale cache: parse instead
        cache = None
    statements = parse_program(source, str(path))
    if cache is not None:
        _write_cache(cache, path, statements)
    return statements


def _write_cache(cache: Path, path: Path, statements: list[ast.Stmt]) -> None:
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(pickle.dumps(statements, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(partial, cache)
        for stale in cache.parent.glob(f"{_cache_stem(path)}-*.pickle"):  # earlier versions of this file
            if stale != cache:
                stale.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError, RecursionError):
        pass
