"""Code cites the documentation, never SPEC section numbers or issue numbers.

Comments and docstrings say where a rule is written down as `docs/reference.md, 'Heading'`
(a section heading of the reference). "SPEC §N" and "(issue N)" point at files the
repository does not have, so this test fails wherever one (re)appears.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("rasp", "tests", "scripts", "grammar", "stdlib")
SUFFIXES = {".py", ".rasp", ".lark"}
FORBIDDEN = re.compile(r"SPEC ?§|\(issues? #?\d+[^)]*\)|§\d")


def offending_lines() -> list[str]:
    found = []
    for top in CHECKED:
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix not in SUFFIXES or not path.is_file() or path == Path(__file__).resolve():
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if FORBIDDEN.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


def test_no_spec_section_numbers_or_issue_numbers():
    assert offending_lines() == [], "cite docs/reference.md, 'Section heading' instead"


def test_the_pattern_catches_what_it_should():
    for bad in ("# SPEC §3.1: rule", "see SPEC§6", "(issue 9)", "(issue 2, \"Bad input\")", "the §1.1 type"):
        assert FORBIDDEN.search(bad), bad
    for fine in ("docs/reference.md, 'Sequence types'", '_sort_by_freq_bos("§", 300)', "§§§", "an issue"):
        assert not FORBIDDEN.search(fine), fine
