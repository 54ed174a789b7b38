"""Every ```python block of README.md and of the docs pages with Python examples runs (in order, one
namespace per page), so the examples stay true.

A line `print(...)  # text` promises that it prints `text`: the printed lines
are compared with those comments, in order.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, ROOT / "docs" / "reference.md", ROOT / "docs" / "tutorial.md"]
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)
PROMISED_OUTPUT = re.compile(r"^\s*print\(.*\)\s+# (.*)$")


def python_blocks(page: Path = README) -> list[str]:
    return PYTHON_BLOCK.findall(page.read_text(encoding="utf-8")) if page.exists() else []


def promised_output(block: str) -> list[str]:
    return [m.group(1) for m in map(PROMISED_OUTPUT.match, block.splitlines()) if m]


def test_the_readme_has_python_examples_that_promise_output() -> None:
    blocks = python_blocks()
    assert blocks, "README.md has no ```python blocks"
    assert any("rasp.Session()" in block for block in blocks)
    assert promised_output("x = 1\nprint(x)  # 1\nprint(y)\n") == ["1"]
    assert sum(len(promised_output(block)) for block in blocks) >= 3


EXAMPLES = [(page, number) for page in PAGES for number in range(1, len(python_blocks(page)) + 1)]


@pytest.mark.slow
@pytest.mark.parametrize(("page", "number"), EXAMPLES, ids=[f"{p.name}-{n}" for p, n in EXAMPLES])
def test_a_python_example_runs_and_prints_what_it_says(page, number, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)  # anything an example writes (drawings, saved models) lands here
    namespace: dict = {"__name__": "readme"}
    blocks = python_blocks(page)
    for block in blocks[: number - 1]:  # the blocks before this one set the scene, quietly
        exec(compile(block, page.name, "exec"), namespace)  # noqa: S102 - running the docs is the point
    capsys.readouterr()
    block = blocks[number - 1]
    exec(compile(block, f"{page.name} python block {number}", "exec"), namespace)  # noqa: S102
    printed = capsys.readouterr().out.splitlines()
    assert printed == promised_output(block)
