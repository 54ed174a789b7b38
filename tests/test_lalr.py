"""rasp.lalr, the parser that runs the generated LALR tables without Lark, against Lark itself:
on every text it parses, its tree is Lark's, node for node and position for position; where
Lark refuses a text, it declines (returns None) and Lark reports the error."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fuzzing import mutate, random_program, random_tokens, stdlib_files

from rasp import lalr
from rasp.parser import lark_parser, split_statements

ROOT = Path(__file__).resolve().parent.parent
POSITIONS = ("line", "column", "start_pos", "end_line", "end_column", "end_pos")


def _shape(node):
    """A tree as plain data: names, token types and texts, and every position."""
    if node is None:
        return None
    if isinstance(node, str):
        return ("token", node.type, str(node), tuple(getattr(node, p) for p in POSITIONS))
    meta = node.meta
    where = None if meta.empty else tuple(getattr(meta, p) for p in POSITIONS)
    return (node.data, where, [_shape(child) for child in node.children])


def _lark_shape(text: str, start: str):
    from lark.exceptions import UnexpectedInput

    try:
        return _shape(lark_parser().parse(text, start=start))
    except UnexpectedInput:
        return "refused"


def _agrees(text: str, start: str = "program") -> bool:
    """Lark's verdict on `text` is ours; returns whether rasp.lalr parsed it itself."""
    ours = lalr.parse(text, start)
    theirs = _lark_shape(text, start)
    if ours is None:
        return False
    assert theirs != "refused", f"rasp.lalr parsed what Lark refuses: {text!r}"
    assert _shape(ours) == theirs, f"trees differ on {text!r}"
    return True


def _statements(source: str) -> list[str]:
    return [source[c.start : c.end] for c in split_statements(source) if c.command is None]


def _rasp_blocks(path: Path) -> list[str]:
    return re.findall(r"```rasp\n(.*?)```", path.read_text(encoding="utf-8"), re.DOTALL)


def _library_statements() -> list[str]:
    sources = [path.read_text(encoding="utf-8") for path in stdlib_files()]
    sources += [path.read_text(encoding="utf-8") for path in sorted((ROOT / "tests" / "programs").glob("*.rasp"))]
    sources += [block for path in sorted((ROOT / "docs").glob("*.md")) for block in _rasp_blocks(path)]
    return [text for source in sources for text in _statements(source)]


def test_the_tables_are_those_of_the_grammar() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_parse_tables.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_library_and_example_statement_parses_here_as_lark_parses_it() -> None:
    statements = _library_statements()
    assert len(statements) > 100
    parsed_here = [text for text in statements if _agrees(text)]
    assert len(parsed_here) > 0.95 * len(statements)  # hardly any needs Lark (the docs show errors too)


def test_whole_files_and_the_empty_program_parse_as_lark_parses_them() -> None:
    for path in stdlib_files():
        source = "\n".join(_statements(path.read_text(encoding="utf-8")))
        assert _agrees(source)
    assert _agrees("")
    assert _agrees("   # only a comment\n")


@pytest.mark.parametrize("text", [
    "length - indices - 1", "a if b else c if d else e", "x in y in z", "not - + 1 ^ 2 ^ 3",
    "f(1)(2)[3]", "[x for x in range(3)]", '{"a": 1, "b": 2}', "{k: v for k, v in zip(a, b)}",
    "select(indices, indices, <=)", "aggregate(s, tokens)", "aggregate(s, tokens, 0)", "round(1.5)",
    "1.5 + 2 * 3 % 4", "len([])", "indicator(tokens == \"a\")", "( (((1))) )",
])
def test_expressions_parse_as_lark_parses_them(text: str) -> None:
    assert _agrees(text, "expression")


def test_random_programs_token_soup_and_mutants_get_lark_s_verdict() -> None:
    rng = random.Random(20261203)
    library = [path.read_text(encoding="utf-8") for path in stdlib_files()]
    parsed_here = 0
    cases = 0
    for _ in range(300):
        texts = [random_program(rng), random_tokens(rng), mutate(rng, rng.choice(library))]
        for text in texts:
            for statement in _statements(text):
                cases += 1
                parsed_here += _agrees(statement)
    assert parsed_here > cases // 4  # the fast path is the common one


@pytest.mark.parametrize("text", [
    "y = else + 1;",  # Lark lexes `else` as a name where `else` cannot come; so does rasp.parser's error
    "x = 1 $ 2;", 'x = "open', "def f( { return 1; }", "x = 1 2;",
])
def test_syntax_errors_and_keywords_lexed_by_context_are_left_to_lark(text: str) -> None:
    assert lalr.parse(text, "program") is None


def test_start_up_and_running_statements_do_not_import_lark(tmp_path) -> None:
    """With a cold standard-library cache too: the library parses here."""
    code = ("import sys\nfrom rasp.cli import main_entry\nsys.argv = ['rasp', '-c', 'x = tokens; x;']\n"
            "try:\n    main_entry()\nexcept SystemExit:\n    pass\n"
            "from rasp import Session\nSession().run('y = length + 1;')\nprint('lark' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "XDG_CACHE_HOME": str(tmp_path)})
    assert done.stdout.strip().splitlines()[-1] == "False", done.stdout + done.stderr
