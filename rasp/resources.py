"""Locate the data files (grammar, standard library) in a wheel or a checkout."""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def data_dir(name: str) -> Path:
    """The directory `name` ("grammar" or "stdlib") shipped with the package.

    An installed wheel carries them in `rasp/_data/`; a source checkout has them
    at the top of the repository, next to the `rasp/` package.
    """
    package = Path(__file__).resolve().parent
    for candidate in (package / "_data" / name, package.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"rasp installation is incomplete: no '{name}' directory found")


def grammar_path() -> Path:
    return data_dir("grammar") / "rasp.lark"


def stdlib_dir() -> Path:
    return data_dir("stdlib")
