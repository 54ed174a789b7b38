"""The Pygments lexer: token streams, the library without Error tokens, the plugin entry point."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

import pytest
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Comment, Error, Keyword, Name, Number, Operator, Punctuation, String, Whitespace

from rasp.lexer import BUILTINS, KEYWORDS, PRIMITIVES, WORD_OPERATORS, RaspLexer
from rasp.parser import KEYWORDS as PARSER_KEYWORDS
from rasp.resources import stdlib_dir
from rasp.values import PRIMITIVES as VALUE_PRIMITIVES


def significant(source: str) -> list[tuple]:
    """(token type, text) pairs without whitespace."""
    return [(kind, text) for kind, text in RaspLexer().get_tokens(source) if kind not in Whitespace]


def test_select_statement() -> None:
    assert significant("same = select(tokens, indices, ==);") == [
        (Name, "same"),
        (Operator, "="),
        (Name.Builtin, "select"),
        (Punctuation, "("),
        (Name.Builtin.Pseudo, "tokens"),
        (Punctuation, ","),
        (Name.Builtin.Pseudo, "indices"),
        (Punctuation, ","),
        (Operator, "=="),
        (Punctuation, ")"),
        (Punctuation, ";"),
    ]


@pytest.mark.parametrize("op", ["==", "!=", "<", ">", "<=", ">="])
def test_every_comparison_of_select_is_one_operator_token(op: str) -> None:
    tokens = significant(f"select(indices, indices, {op})")
    assert tokens[-2:] == [(Operator, op), (Punctuation, ")")]


def test_function_definition_numbers_strings_comments() -> None:
    source = 'def f(a) { return a * 2.5 if a > 1 else "x"; } # done'
    assert significant(source) == [
        (Keyword, "def"),
        (Name.Function, "f"),
        (Punctuation, "("),
        (Name, "a"),
        (Punctuation, ")"),
        (Punctuation, "{"),
        (Keyword, "return"),
        (Name, "a"),
        (Operator, "*"),
        (Number.Float, "2.5"),
        (Keyword, "if"),
        (Name, "a"),
        (Operator, ">"),
        (Number.Integer, "1"),
        (Keyword, "else"),
        (String.Double, '"x"'),
        (Punctuation, ";"),
        (Punctuation, "}"),
        (Comment.Single, "# done"),
    ]


def test_words_that_only_start_like_keywords_are_names() -> None:
    assert significant("format indices_2 tokens_x selects") == [
        (Name, "format"),
        (Name, "indices_2"),
        (Name, "tokens_x"),
        (Name, "selects"),
    ]


def test_word_operators_constants_and_loops() -> None:
    assert significant("for x in [True] { y = not x and False or x; }") == [
        (Keyword, "for"),
        (Name, "x"),
        (Keyword, "in"),
        (Punctuation, "["),
        (Keyword.Constant, "True"),
        (Punctuation, "]"),
        (Punctuation, "{"),
        (Name, "y"),
        (Operator, "="),
        (Operator.Word, "not"),
        (Name, "x"),
        (Operator.Word, "and"),
        (Keyword.Constant, "False"),
        (Operator.Word, "or"),
        (Name, "x"),
        (Punctuation, ";"),
        (Punctuation, "}"),
    ]


def test_load_and_builtins() -> None:
    assert significant('load "lib"; n = len(zip(range(3), [round(1.5)]));')[:3] == [
        (Keyword, "load"),
        (String.Double, '"lib"'),
        (Punctuation, ";"),
    ]
    names = [text for kind, text in significant("aggregate selector_width indicator draw length")]
    kinds = {kind for kind, text in significant("aggregate selector_width indicator draw")}
    assert names == ["aggregate", "selector_width", "indicator", "draw", "length"]
    assert kinds == {Name.Builtin}


@pytest.mark.parametrize(
    ("line", "command_words"),
    [
        ('set example "abc"', ["set", "example"]),
        ("set selector example [1, 2]", ["set", "selector", "example"]),
        ("show s-op example", ["show", "s-op", "example"]),
        ("examples off", ["examples", "off"]),
        ("selector examples on", ["selector", "examples", "on"]),
        ("full seq display on", ["full", "seq", "display", "on"]),
        ("exit", ["exit"]),
        ("quit()", ["quit"]),
        ("analyse hist", ["analyse"]),
        ("  analyze hist # indented, American spelling", ["analyze"]),
    ],
)
def test_line_commands(line: str, command_words: list[str]) -> None:
    tokens = significant(line + "\n")
    assert [text for kind, text in tokens if kind is Keyword.Pseudo] == command_words
    assert not [text for kind, text in tokens if kind in Error]


def test_command_words_inside_code_are_names() -> None:
    tokens = significant("x = exit + set;\nquit = 2; examples = 3;\n")
    assert (Name, "exit") in tokens and (Name, "set") in tokens
    assert (Name, "quit") in tokens and (Name, "examples") in tokens


def test_a_command_may_follow_a_statement_on_its_line() -> None:
    assert significant("y = 1; exit\n")[-1] == (Keyword.Pseudo, "exit")  # as rasp.parser reads it
    assert significant('def f(a) { return a; } set example "ab"\n')[-3:] == [
        (Keyword.Pseudo, "set"),
        (Keyword.Pseudo, "example"),
        (String.Double, '"ab"'),
    ]


def test_a_stray_character_is_an_error_token() -> None:
    assert (Error, "$") in significant("x = $;")


def test_lexer_covers_the_parser_keywords_and_primitives() -> None:
    lexed_words = set(KEYWORDS) | set(WORD_OPERATORS) | set(BUILTINS)
    assert PARSER_KEYWORDS <= lexed_words
    assert set(VALUE_PRIMITIVES) <= set(PRIMITIVES)


def library_files() -> list:
    files = sorted(stdlib_dir().glob("*.rasp"))
    assert files, "no library files found"
    return files


@pytest.mark.parametrize("path", library_files(), ids=lambda p: p.name)
def test_no_error_tokens_in_the_library(path) -> None:
    tokens = list(RaspLexer().get_tokens(path.read_text(encoding="utf-8")))
    errors = [text for kind, text in tokens if kind in Error]
    assert errors == []
    assert "".join(text for kind, text in tokens) == path.read_text(encoding="utf-8")


@pytest.mark.slow
def test_registered_as_a_pygments_plugin() -> None:
    (entry,) = [e for e in entry_points(group="pygments.lexers") if e.name == "rasp"]
    assert entry.load() is RaspLexer
    assert isinstance(get_lexer_by_name("rasp"), RaspLexer)
    assert isinstance(get_lexer_for_filename("program.rasp"), RaspLexer)


@pytest.mark.slow
def test_pygmentize_highlights_a_file(tmp_path) -> None:
    program = tmp_path / "hist.rasp"
    program.write_text("hist = selector_width(select(tokens, tokens, ==)); # how often\n", encoding="utf-8")
    command = [sys.executable, "-m", "pygments", "-l", "rasp", "-f", "html", str(program)]
    html = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    assert '<span class="nb">selector_width</span>' in html
    assert '<span class="bp">tokens</span>' in html
    assert '<span class="c1"># how often</span>' in html
    assert 'class="err"' not in html
