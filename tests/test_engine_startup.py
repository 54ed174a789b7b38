"""Start-up stays cheap: `rasp -c 'tokens;'` loads only what it uses, and the standard
library is parsed once and cached on disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rasp import stdlib_cache
from rasp.resources import stdlib_dir

ROOT = Path(__file__).resolve().parent.parent

# Modules that only some commands need: they must be imported when used, not at start-up.
NOT_AT_STARTUP = ("rasp.analysis", "rasp.draw", "rasp.html", "rasp.repl", "rasp.api", "prompt_toolkit", "pygments",
                  "hashlib",  # the stdlib cache's key uses zlib's checksums: OpenSSL's import is about 3 ms
                  "pathlib", "shutil")  # about 7 ms and 6 ms (rasp/resources.py, rasp/cli.py)

PROBE = """
import sys
already = set(sys.modules)  # what Python's own start-up (site, .pth files) imported
from rasp.cli import main
main(["-c", "tokens;"])
import json
print(json.dumps(sorted(set(sys.modules) - already)))
"""


@pytest.mark.slow
def test_startup_imports_only_what_it_uses(tmp_path):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=False,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    shown, modules = done.stdout.splitlines()[0], json.loads(done.stdout.splitlines()[-1])
    assert shown.startswith('tokens("hello")')
    loaded = [name for name in modules
              if name.split(".")[0] in {"prompt_toolkit", "pygments"} or name in NOT_AT_STARTUP]
    assert loaded == [], f"imported at start-up: {loaded}"


@pytest.fixture
def rasplib(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = stdlib_dir() / "rasplib.rasp"
    return path, path.read_text(encoding="utf-8")


def test_the_parsed_stdlib_is_cached_on_disk(rasplib, tmp_path, monkeypatch):
    path, source = rasplib
    parsed = stdlib_cache.load_or_parse(path, source)
    (cached,) = (tmp_path / "rasp").glob("rasplib-*.pickle")

    def no_parsing(*args):
        raise AssertionError("parsed although the cache holds the statements")

    monkeypatch.setattr(stdlib_cache, "parse_program", no_parsing)
    again = stdlib_cache.load_or_parse(path, source)
    assert [type(s).__name__ for s in again] == [type(s).__name__ for s in parsed] and len(parsed) > 5
    assert again[-1].span == parsed[-1].span
    assert cached.exists()


def test_a_changed_or_broken_cache_is_parsed_again(rasplib, tmp_path):
    path, source = rasplib
    stdlib_cache.load_or_parse(path, source)
    (cached,) = (tmp_path / "rasp").glob("rasplib-*.pickle")
    cached.write_bytes(b"not a pickle")
    assert len(stdlib_cache.load_or_parse(path, source)) > 5  # parsed again, no error
    changed = source + "\nextra_name = indices;\n"
    statements = stdlib_cache.load_or_parse(path, changed)
    assert len(statements) == len(stdlib_cache.load_or_parse(path, source)) + 1
    assert len(list((tmp_path / "rasp").glob("rasplib-*.pickle"))) == 1  # the stale file was replaced


def test_a_cache_written_by_another_parser_is_parsed_again(rasplib, tmp_path, monkeypatch):
    """The key holds the parser's code: a cache from another version of it is not used."""
    path, source = rasplib
    stdlib_cache.load_or_parse(path, source)
    real_key = stdlib_cache.cache_key
    monkeypatch.setattr(stdlib_cache, "cache_key", lambda *args: real_key(*args)[:2] + (("another parser",),))
    parsed = []
    monkeypatch.setattr(stdlib_cache, "parse_program", lambda *args: parsed.append(args) or [])
    assert stdlib_cache.load_or_parse(path, source) == [] and len(parsed) == 1


def test_two_installations_keep_their_own_caches(rasplib, tmp_path):
    """Two virtual environments (or checkouts) running in turn must not replace each other's cache:
    each run would parse the library again."""
    path, source = rasplib
    other = tmp_path / "elsewhere" / "rasplib.rasp"
    stdlib_cache.load_or_parse(path, source)
    stdlib_cache.load_or_parse(other, source)
    assert len(list((tmp_path / "rasp").glob("rasplib-*.pickle"))) == 2
    assert all(os.path.isfile(stdlib_cache.cache_file(where, source)) for where in (path, other))


def test_an_unwritable_cache_directory_is_no_error(rasplib, tmp_path, monkeypatch):
    path, source = rasplib
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file where the directory should be
    assert len(stdlib_cache.load_or_parse(path, source)) > 5
