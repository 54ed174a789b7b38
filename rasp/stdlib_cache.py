"""The standard library's parsed statements: parsed once per process and cached on disk.

Start-up runs the standard library; parsing it is most of that time, so the parsed
statements are kept (a pickle in the user's cache directory, one per installation and
library file) with the key of everything the parse depends on, and the parser is skipped
when the key is current.
"""

from __future__ import annotations

import os
import pickle
import sys
import zlib
from pathlib import Path

from . import lalr, parse_tables, parser, resources
from . import syntax as ast
from .parser import parse_program

_PARSED_STDLIB: dict[tuple[str, str], list[ast.Stmt]] = {}
_FORMAT = 2  # the layout of a cache file: (key, statements)


def stdlib_statements(path: Path, source: str) -> list[ast.Stmt]:
    """A standard-library file's statements: parsed once per process, and cached on disk
    (a pickle in the user's cache directory) so that start-up skips the parser."""
    key = (str(path), source)
    if key not in _PARSED_STDLIB:
        _PARSED_STDLIB[key] = load_or_parse(path, source)
    return _PARSED_STDLIB[key]


def cache_file(path: Path, source: str) -> Path:
    """Where the file's parse is cached: one file per installation (each virtual environment, each
    checkout keeps its own and replaces only its own) and library file."""
    home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    where = zlib.crc32(str(path).encode("utf-8", "surrogatepass"))
    return Path(home) / "rasp" / f"{path.stem}-{where:08x}.pickle"


def cache_key(path: Path, source: str) -> tuple:
    """Everything the parse depends on: the source itself (compared whole), and the Python version
    and the parser's code and grammar by length and two checksums (zlib's: hashlib's import of
    OpenSSL would cost start-up about 3 ms)."""
    code = [Path(module.__file__ or "").read_bytes() for module in (ast, parser, lalr, parse_tables)]
    code.append(resources.grammar_path().read_bytes())
    code.append(sys.version.encode())
    return _FORMAT, source, tuple((len(part), zlib.crc32(part), zlib.adler32(part)) for part in code)


def load_or_parse(path: Path, source: str) -> list[ast.Stmt]:
    """The file's statements from the disk cache if it is current, else parsed (and cached)."""
    try:
        cache, key = cache_file(path, source), cache_key(path, source)
    except OSError:  # the parser's files cannot be read: no cache
        return parse_program(source, str(path))
    try:
        if cache.is_file():
            stored_key, statements = pickle.loads(cache.read_bytes())
            if stored_key == key:
                return statements
    except Exception:  # noqa: BLE001 - an unreadable or stale cache: parse instead
        pass
    statements = parse_program(source, str(path))
    _write_cache(cache, key, statements)
    return statements


def _write_cache(cache: Path, key: tuple, statements: list[ast.Stmt]) -> None:
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(pickle.dumps((key, statements), protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(partial, cache)
    except (OSError, pickle.PicklingError, RecursionError):
        pass
