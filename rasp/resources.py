"""Locate the data files (grammar, standard library) in a wheel or a checkout.

Start-up reads the library through the string-valued functions (`stdlib_file`,
`grammar_file`): importing pathlib, with urllib.parse and ipaddress, is about 7 ms of it.
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


@cache
def data_dir_name(name: str) -> str:
    """The directory `name` ("grammar" or "stdlib") shipped with the package.

    An installed wheel carries them in `rasp/_data/`; a source checkout has them
    at the top of the repository, next to the `rasp/` package.
    """
    package = os.path.dirname(os.path.realpath(__file__))
    for candidate in (os.path.join(package, "_data", name), os.path.join(os.path.dirname(package), name)):
        if os.path.isdir(candidate):
            return candidate
    raise FileNotFoundError(f"rasp installation is incomplete: no '{name}' directory found")


def data_dir(name: str) -> Path:
    from pathlib import Path

    return Path(data_dir_name(name))


def grammar_path() -> Path:
    from pathlib import Path

    return Path(grammar_file())


def grammar_file() -> str:
    return os.path.join(data_dir_name("grammar"), "rasp.lark")


def stdlib_dir() -> Path:
    return data_dir("stdlib")


def stdlib_file(name: str) -> str:
    return os.path.join(data_dir_name("stdlib"), name)
