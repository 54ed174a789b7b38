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

from . import lalr, parse_tables, parser, resources
from . import syntax as ast
from .parser import parse_program

_PARSED_STDLIB: dict[tuple[str, str], list[ast.Stmt]] = {}
Where = str | os.PathLike  # a library file (paths are strings at start-up: no pathlib, resources.py)
_FORMAT = 2  # the layout of a cache file: (key, statements)


def stdlib_statements(path: Where, source: str) -> list[ast.Stmt]:
    """A standard-library file's statements: parsed once per process, and cached on disk
    (a pickle in the user's cache directory) so that start-up skips the parser."""
    key = (os.fspath(path), source)
    if key not in _PARSED_STDLIB:
        _PARSED_STDLIB[key] = load_or_parse(path, source)
    return _PARSED_STDLIB[key]


def cache_file(path: Where, source: str) -> str:
    """Where the file's parse is cached: one file per installation (each virtual environment, each
    checkout keeps its own and replaces only its own) and library file."""
    home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    text = os.fspath(path)
    stem = os.path.splitext(os.path.basename(text))[0]
    return os.path.join(home, "rasp", f"{stem}-{zlib.crc32(text.encode('utf-8', 'surrogatepass')):08x}.pickle")


def cache_key(path: Where, source: str) -> tuple:
    """Everything the parse depends on: the source itself (compared whole), and the Python version
    and the parser's code and grammar by length and two checksums (zlib's: hashlib's import of
    OpenSSL would cost start-up about 3 ms)."""
    code = [_read(module.__file__ or "") for module in (ast, parser, lalr, parse_tables)]
    code.append(_read(resources.grammar_file()))
    code.append(sys.version.encode())
    return _FORMAT, source, tuple((len(part), zlib.crc32(part), zlib.adler32(part)) for part in code)


def _read(name: str) -> bytes:
    with open(name, "rb") as file:
        return file.read()


def load_or_parse(path: Where, source: str) -> list[ast.Stmt]:
    """The file's statements from the disk cache if it is current, else parsed (and cached)."""
    try:
        cache, key = cache_file(path, source), cache_key(path, source)
    except OSError:  # the parser's files cannot be read: no cache
        return parse_program(source, os.fspath(path))
    try:
        if os.path.isfile(cache):
            stored_key, statements = pickle.loads(_read(cache))
            if stored_key == key:
                return statements
    except Exception:  # noqa: BLE001 - an unreadable or stale cache: parse instead
        pass
    statements = parse_program(source, os.fspath(path))
    _write_cache(cache, key, statements)
    return statements


def _write_cache(cache: str, key: tuple, statements: list[ast.Stmt]) -> None:
    try:
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        partial = f"{os.path.splitext(cache)[0]}.{os.getpid()}.partial"
        with open(partial, "wb") as file:
            file.write(pickle.dumps((key, statements), protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(partial, cache)
    except (OSError, pickle.PicklingError, RecursionError):
        pass
