"""Every ```python block of README.md runs (in order, sharing one namespace), so the examples stay true.

A line `print(...)  # text` promises that it prints `text`: the printed lines
are compared with those comments, in order.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)
PROMISED_OUTPUT = re.compile(r"^\s*print\(.*\)\s+# (.*)$")


def python_blocks() -> list[str]:
    return PYTHON_BLOCK.findall(README.read_text(encoding="utf-8"))


def promised_output(block: str) -> list[str]:
    return [m.group(1) for m in map(PROMISED_OUTPUT.match, block.splitlines()) if m]


def test_the_readme_has_python_examples_that_promise_output() -> None:
    blocks = python_blocks()
    assert blocks, "README.md has no ```python blocks"
    assert any("rasp.Session()" in block for block in blocks)
    assert promised_output("x = 1\nprint(x)  # 1\nprint(y)\n") == ["1"]
    assert sum(len(promised_output(block)) for block in blocks) >= 3


@pytest.mark.parametrize("number", range(1, len(python_blocks()) + 1))
def test_a_readme_python_example_runs_and_prints_what_it_says(number, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)  # anything an example writes (drawings) lands here
    namespace: dict = {"__name__": "readme"}
    blocks = python_blocks()
    for block in blocks[: number - 1]:  # the blocks before this one set the scene, quietly
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - running the README is the point
    capsys.readouterr()
    block = blocks[number - 1]
    exec(compile(block, f"README.md python block {number}", "exec"), namespace)  # noqa: S102
    printed = capsys.readouterr().out.splitlines()
    assert printed == promised_output(block)
