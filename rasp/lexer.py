"""A Pygments lexer for RASP, registered as the Pygments plugin `rasp`.

    pygmentize -l rasp program.rasp

Markdown and Sphinx code blocks marked `rasp` use it, and so does the REPL's
highlighting. It imports only Pygments (no Lark, no NumPy), so that loading it
is cheap; tests/test_lexer.py checks its word lists against rasp.parser.KEYWORDS
and rasp.values.PRIMITIVES.
"""

from __future__ import annotations

from typing import ClassVar

from pygments.lexer import RegexLexer, bygroups, include, words
from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Whitespace,
)

__all__ = ["RaspLexer"]

# Statement and expression keywords of grammar/rasp.lark (`select`, `aggregate`,
# `range`, ... are keywords there too, but read as built-in functions).
KEYWORDS = ("def", "return", "for", "in", "if", "else", "load")
WORD_OPERATORS = ("and", "or", "not")
CONSTANTS = ("True", "False")
BUILTINS = ("select", "aggregate", "selector_width", "range", "zip", "len", "round", "indicator", "draw")
PRIMITIVES = (
    "tokens", "indices", "length",
    "tokens_str", "tokens_int", "tokens_float", "tokens_bool", "tokens_asis",
)
COMPARISONS = r"==|!=|<=|>=|<|>"

_END = r"(?![A-Za-z0-9_])"  # the end of a word
_START = r"(?:^|(?<=[;}]))"  # where a statement starts: a line's start, or after `;` or `}`
_SUBSET = r"(?:(s-op|selector)(\s+))?"  # `set selector example ...`


class RaspLexer(RegexLexer):
    """RASP ("Thinking Like Transformers"): statements, expressions and the REPL's line commands."""

    name = "RASP"
    aliases: ClassVar[list[str]] = ["rasp"]
    filenames: ClassVar[list[str]] = ["*.rasp"]
    mimetypes: ClassVar[list[str]] = ["text/x-rasp"]
    url = "https://github.com/tech-srl/RASP"

    tokens: ClassVar[dict] = {
        "root": [
            include("commands"),
            include("code"),
        ],
        # Line commands (the rest of the line), recognised where a statement starts.
        "commands": [
            (rf"{_START}([ \t]*)(set)(\s+){_SUBSET}(example){_END}",
             bygroups(Whitespace, Keyword.Pseudo, Whitespace, Keyword.Pseudo, Whitespace, Keyword.Pseudo)),
            (rf"{_START}([ \t]*)(show)(\s+){_SUBSET}(example){_END}",
             bygroups(Whitespace, Keyword.Pseudo, Whitespace, Keyword.Pseudo, Whitespace, Keyword.Pseudo)),
            (rf"{_START}([ \t]*){_SUBSET}(examples)(\s+)(on|off){_END}",
             bygroups(Whitespace, Keyword.Pseudo, Whitespace, Keyword.Pseudo, Whitespace, Keyword.Pseudo)),
            (rf"{_START}([ \t]*)(full)(\s+)(seq)(\s+)(display)(\s+)(on|off){_END}",
             bygroups(Whitespace, Keyword.Pseudo, Whitespace, Keyword.Pseudo, Whitespace,
                      Keyword.Pseudo, Whitespace, Keyword.Pseudo)),
            (rf"{_START}([ \t]*)(exit|quit){_END}(?=\s*(?:\(\s*\))?\s*;?\s*(?:#.*)?$)",
             bygroups(Whitespace, Keyword.Pseudo)),
            (rf"{_START}([ \t]*)(analy[sz]e){_END}", bygroups(Whitespace, Keyword.Pseudo)),
            (rf"{_START}([ \t]*)(compile){_END}(?!\s*=(?!=))", bygroups(Whitespace, Keyword.Pseudo)),
        ],
        "code": [
            (r"\n", Whitespace),
            (r"[ \t\f\r]+", Whitespace),
            (r"#.*?$", Comment.Single),
            (r'"[^"\n]*"', String.Double),
            (r"[0-9]+\.[0-9]+", Number.Float),
            (r"[0-9]+", Number.Integer),
            (r"(def)(\s+)([A-Za-z_][A-Za-z0-9_]*)", bygroups(Keyword, Whitespace, Name.Function)),
            (words(KEYWORDS, suffix=_END), Keyword),
            (words(WORD_OPERATORS, suffix=_END), Operator.Word),
            (words(CONSTANTS, suffix=_END), Keyword.Constant),
            (words(BUILTINS, suffix=_END), Name.Builtin),
            (words(PRIMITIVES, suffix=_END), Name.Builtin.Pseudo),
            (r"[A-Za-z_][A-Za-z0-9_]*", Name),
            (COMPARISONS, Operator),  # also select's third argument: select(k, q, ==)
            (r"[-+*/%^=]", Operator),
            (r"[()\[\]{},;:]", Punctuation),
        ],
    }
