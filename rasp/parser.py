"""Source text -> AST.

Parsing happens in two steps:

1. `split_statements` cuts the source into top-level statements with a small
   bracket-aware scanner, and recognises the line-based REPL commands
   (`set example ...`, `exit`, ...). Each statement is parsed on its own, so a
   syntax error in one statement is reported at its place and the others still run.
2. Each statement is parsed with the LALR tables of grammar/rasp.lark (rasp.lalr; Lark
   itself is imported only when those cannot decide, and to explain a syntax error)
   and turned into AST nodes (rasp.syntax) carrying source spans.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from . import lalr, parse_tables
from . import syntax as ast
from .errors import RaspError, RaspInternalError, RaspNameError, RaspSyntaxError
from .resources import grammar_path
from .syntax import Span

if TYPE_CHECKING:
    from lark import Lark, Token
    from lark.exceptions import UnexpectedInput

KEYWORDS = frozenset(parse_tables.KEYWORDS)  # the grammar's words: statement words, builtins, not/and/or


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """Lark's LALR parser (it caches the built tables on disk between runs): the parser of
    record, asked when rasp.lalr cannot decide, and the one that explains syntax errors."""
    # Lark imports the optional `regex` module when it is installed (about 8 ms);
    # rasp's grammar needs only `re`, so Lark is imported with `regex` hidden, unless it is loaded already.
    hide_regex = "regex" not in sys.modules
    if hide_regex:
        sys.modules["regex"] = None  # type: ignore[assignment]  # `import regex` raises ImportError
    try:
        from lark import Lark
    finally:
        if hide_regex:
            del sys.modules["regex"]
    grammar = grammar_path().read_text(encoding="utf-8")
    return Lark(
        grammar,
        parser="lalr",
        start=["program", "expression"],
        propagate_positions=True,
        maybe_placeholders=True,
        cache=True,
    )


# ------------------------------------------------------------------ scanning

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"[^"\n]*"?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>[0-9]+(?:\.[0-9]+)?)
  | (?P<open>[(\[{])
  | (?P<close>[)\]}])
  | (?P<semi>;)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

def _subset(group: str) -> str:
    return rf"(?:(?P<{group}>s-op|selector)\s+)?"


_COMMAND_RE = re.compile(
    r"(?:"
    rf"(?P<set>set)\s+{_subset('set_subset')}example(?![A-Za-z0-9_])(?P<set_expr>.*)"
    rf"|(?P<show>show)\s+{_subset('show_subset')}example\s*;?"
    rf"|{_subset('toggle_subset')}(?P<toggle>examples)\s+(?P<toggle_on>on|off)\s*;?"
    r"|(?P<full>full)\s+seq\s+display\s+(?P<full_on>on|off)\s*;?"
    r"|(?P<causal>causal)\s+(?P<causal_on>on|off)\s*;?"
    r"|(?P<exit>exit|quit)(?:\s*\(\s*\))?\s*;?"
    r"|(?P<analyse>analy[sz]e)(?![A-Za-z0-9_])(?P<analyse_expr>.*)"
    r"|(?P<raspl>raspl)(?![A-Za-z0-9_])(?!\s*=(?!=))(?P<raspl_expr>.*)"  # `raspl = ...;` assigns
    r"|(?P<compile>compile)(?![A-Za-z0-9_])(?!\s*=(?!=))(?P<compile_expr>.*)"  # `compile = ...;` assigns
    r"|(?P<train>train)(?![A-Za-z0-9_])(?!\s*=(?!=))(?P<train_expr>.*)"  # `train = ...;` assigns
    r"|(?P<learn>learn)(?![A-Za-z0-9_])(?!\s*=(?!=))(?P<learn_expr>.*)"  # `learn = ...;` assigns
    r")\s*(?:\#.*)?$"
)

_STATEMENT_WORDS = frozenset({"def", "load", "draw", "return"})


@dataclass
class Chunk:
    """One top-level statement's text: code for the grammar, or a command line."""

    start: int  # offset into the source
    end: int
    command: re.Match | None = None
    complete: bool = True


def _tokens(source: str):
    for m in _TOKEN_RE.finditer(source):
        kind = m.lastgroup
        if kind not in ("ws", "comment"):
            yield kind, m.group(), m.start(), m.end()


def _is_expression_end(kind: str, text: str) -> bool:
    if kind == "word":
        return text not in KEYWORDS
    return kind in ("number", "string") or (kind == "close")


def split_statements(source: str) -> list[Chunk]:
    """Cut `source` into top-level statements and command lines."""
    chunks: list[Chunk] = []
    tokens = list(_tokens(source))
    i = 0
    while i < len(tokens):
        start = tokens[i][2]
        line_end = source.find("\n", start)
        line_end = len(source) if line_end < 0 else line_end
        command = _COMMAND_RE.match(source, start, line_end)
        if command:
            chunks.append(Chunk(start, line_end, command))
            while i < len(tokens) and tokens[i][2] < line_end:
                i += 1
            continue
        i, chunk = _scan_statement(tokens, i)
        chunks.append(chunk)
    return chunks


def _scan_statement(tokens, i: int) -> tuple[int, Chunk]:
    """Scan one statement starting at tokens[i]; return the next index and the chunk."""
    first_kind, first_text, start, _ = tokens[i]
    is_block = first_kind == "word" and first_text in ("def", "for")
    body_open = False
    stack: list[str] = []
    previous = None
    while i < len(tokens):
        kind, text, _, end = tokens[i]
        if previous is not None and kind == "word" and text in _STATEMENT_WORDS and not stack:
            # `def`/`load`/... only start statements: the previous one lacks its `;`
            return i, Chunk(start, tokens[i - 1][3], complete=False)
        i += 1
        if kind == "open":
            if is_block and not stack and not body_open and text == "{":
                body_open = first_text == "def" or (
                    previous is not None and _is_expression_end(*previous)
                )
            stack.append(text)
        elif kind == "close":
            _pop_to_match(stack, "([{"[")]}".index(text)])
            if is_block and body_open and not stack:
                return i, Chunk(start, end)
        elif kind == "semi":
            if not is_block or not body_open:
                return i, Chunk(start, end)
            while stack and stack[-1] != "{":
                stack.pop()  # an unclosed ( or [ cannot survive a `;`
        previous = (kind, text)
    return i, Chunk(start, tokens[-1][3], complete=False)


def _pop_to_match(stack: list[str], opener: str) -> None:
    if opener in stack:
        while stack and stack.pop() != opener:
            pass


def is_complete(source: str) -> bool:
    """True when `source` ends at a statement boundary (the REPL may run it)."""
    return all(chunk.complete for chunk in split_statements(source))


# ------------------------------------------------------------------- parsing


def parse_program(source: str, filename: str = "<input>", first_line: int = 1) -> list[ast.Stmt]:
    """Parse a whole source; a statement that fails to parse becomes a SyntaxErrorStmt.

    first_line numbers the source's first line (for input read piece by piece).
    """
    statements: list[ast.Stmt] = []
    for chunk in split_statements(source):
        line = source.count("\n", 0, chunk.start) + first_line
        column = chunk.start - (source.rfind("\n", 0, chunk.start) + 1) + 1
        origin = _Origin(filename, line, column)
        try:
            if chunk.command:
                statements.append(_command(chunk.command, source, origin))
            else:
                statements.extend(_parse(source[chunk.start : chunk.end], "program", origin))
        except RaspError as error:
            statements.append(ast.SyntaxErrorStmt(error.span or origin.span(1, 1, 1, 1), error))
    return statements


def parse_expression(text: str, filename: str = "<input>", line: int = 1, column: int = 1) -> ast.Expr:
    """Parse a single expression (used by commands and the CLI's --example)."""
    return _parse(text, "expression", _Origin(filename, line, column))


@dataclass
class _Origin:
    """Where a parsed piece of text starts in its file, to make absolute spans."""

    file: str
    line: int
    column: int

    def span(self, line: int, column: int, end_line: int, end_column: int) -> Span:
        def shift(ln: int, col: int) -> tuple[int, int]:
            return ln + self.line - 1, col + (self.column - 1 if ln == 1 else 0)

        return Span(self.file, *shift(line, column), *shift(end_line, end_column))


def _parse(text: str, start: str, origin: _Origin):
    try:
        tree = lalr.parse(text, start)
        if tree is None:
            tree = _lark_parse(text, start, origin)
        return _ToAst(origin).transform(tree)
    except RaspError:
        raise
    except RecursionError:
        raise RaspSyntaxError(
            "statement too long or nested too deeply to parse", origin.span(1, 1, 1, 2),
            hint="split it into several statements, naming the parts",
        ) from None
    except Exception as error:  # noqa: BLE001 - a bug in building the AST, reported with its input
        internal = RaspInternalError(
            f"{type(error).__name__} while parsing: {error}", origin.span(1, 1, 1, 2),
            hint="this is a bug in rasp; please report it with the input that caused it",
        )
        raise internal from error


def _lark_parse(text: str, start: str, origin: _Origin):
    """Lark's parse tree of `text`; its syntax errors become RaspSyntaxErrors."""
    parser = lark_parser()
    from lark.exceptions import UnexpectedInput

    try:
        return parser.parse(text, start=start)
    except UnexpectedInput as error:
        raise _syntax_error(error, text, origin) from None


_LINE_COMMAND_EXPRS = ("set_expr", "analyse_expr", "raspl_expr", "compile_expr", "train_expr", "learn_expr")


def _no_statement_after(match: re.Match, origin: _Origin) -> None:
    """A line command takes the rest of its line: a `;` followed by more is an error at that `;`
    (docs/reference.md, 'REPL and script commands'), not a bad option or expression."""
    group = next((g for g in _LINE_COMMAND_EXPRS if match.group(g) is not None), None)
    if group is None:
        return
    significant = list(_tokens(match.group(group)))
    semi = next((n for n, token in enumerate(significant) if token[0] == "semi"), None)
    if semi is None or semi == len(significant) - 1:
        return
    offset = match.start(group) - match.start()
    start, end = significant[semi][2], significant[-1][3]
    command = match.group().split()[0]
    raise RaspSyntaxError(f"`{command}` takes the rest of its line, so a statement after it on the same line "
                          "cannot run", origin.span(1, 1 + offset + start, 1, 1 + offset + end),
                          hint=f"end the line after `{command} ...;` and start the next statement on a new line")


def _command(match: re.Match, source: str, origin: _Origin) -> ast.Stmt:
    span = origin.span(1, 1, 1, 1 + match.end() - match.start())
    _no_statement_after(match, origin)
    subset = next(
        (match.group(g) for g in ("set_subset", "show_subset", "toggle_subset") if match.group(g)), None
    )
    if match.group("set"):
        return ast.SetExample(span, subset, _command_expr(match, "set_expr", origin))
    if match.group("show"):
        return ast.ShowExample(span, subset)
    if match.group("toggle"):
        return ast.ToggleExamples(span, subset, match.group("toggle_on") == "on")
    if match.group("full"):
        return ast.FullSeqDisplay(span, match.group("full_on") == "on")
    if match.group("causal"):
        return ast.CausalMode(span, match.group("causal_on") == "on")
    if match.group("exit"):
        return ast.Exit(span)
    if match.group("compile"):
        return _compile_command(match, span, origin)
    if match.group("train"):
        return _train_command(match, span, origin)
    if match.group("learn"):
        return _learn_command(match, span, origin)
    if match.group("raspl"):
        return ast.CheckRaspL(span, _command_expr(match, "raspl_expr", origin))
    return ast.Analyse(span, _command_expr(match, "analyse_expr", origin))


def _command_expr(match: re.Match, group: str, origin: _Origin) -> ast.Expr:
    text = match.group(group)
    offset = match.start(group) - match.start()
    significant = list(_tokens(text))
    if significant and significant[-1][0] == "semi":
        text = text[: significant[-1][2]]  # a trailing `;` is tolerated
    if not significant:
        span = origin.span(1, 1 + offset, 1, 1 + offset)
        raise RaspSyntaxError(f"`{match.group().split()[0]}` needs an expression", span)
    return _parse(text, "expression", _Origin(origin.file, origin.line, origin.column + offset))


# ------------------------------------------------------------ compile EXPR ...

COMPILE_OPTIONS = ("max_len", "vocab", "random", "save", "verify")


def _compile_command(match: re.Match, span: Span, origin: _Origin) -> ast.Compile:
    """`compile EXPR [max_len N] [vocab E] [random N] [save "FILE"]`: options are taken from the end, any order."""
    expr, options = _expression_and_options(match, "compile_expr", origin, COMPILE_OPTIONS, _option_value,
                                            "`compile` needs an expression (an s-op), e.g. compile length max_len 5")

    def given(word: str):
        return options[word][0] if word in options else None

    spans = {word: value_span for word, (_, value_span) in options.items()}
    return ast.Compile(span, expr, given("max_len"), given("vocab"), given("random"), given("save"), spans,
                       verify=given("verify"))


def _expression_and_options(match: re.Match, group: str, origin: _Origin, words: tuple, option_value: Callable,
                            missing: str) -> tuple[ast.Expr, dict[str, tuple[object, Span]]]:
    """A command's expression and its options, taken from the end in any order (`compile`, `train`).

    option_value(word, value tokens, text, value span, origin, opens=...) parses one option's
    value, or returns None when the word is a name of the expression after all
    (`compile random + 1`); `missing` is the message when no expression is left.
    """
    offset = match.start(group) - match.start()
    text = match.group(group)
    tokens = list(_tokens(text))
    if tokens and tokens[-1][0] == "semi":
        tokens.pop()  # a trailing `;` is tolerated
    origin_here = _Origin(origin.file, origin.line, origin.column + offset)

    def span_of(first: int, last: int) -> Span:
        return origin_here.span(1, 1 + tokens[first][2], 1, 1 + tokens[last][3])

    options: dict[str, tuple[object, Span]] = {}
    while (found := _last_option(tokens, words)) is not None:
        word = tokens[found][1]
        value_span = span_of(found + 1, len(tokens) - 1) if found + 1 < len(tokens) else span_of(found, found)
        value = option_value(word, tokens[found + 1:], text, value_span, origin_here, opens=found == 0)
        if value is None:
            break
        if word in options:
            raise RaspSyntaxError(f"`{word}` is given twice", options[word][1])
        options[word] = (value, span_of(found, len(tokens) - 1))
        tokens = tokens[:found]
    if not tokens:
        where = origin_here.span(1, 1 + (len(text) - len(text.lstrip())), 1, 2 + len(text) - len(text.lstrip()))
        raise RaspSyntaxError(missing, where)
    expr = _parse(text[tokens[0][2]:tokens[-1][3]], "expression",
                  _Origin(origin.file, origin.line, origin.column + offset + tokens[0][2]))
    return expr, options


def _last_option(tokens: list, words: tuple = COMPILE_OPTIONS) -> int | None:
    """Index of the last top-level option word that can start an option (the value is checked later)."""
    depth, found = 0, None
    for i, (kind, text, _, _) in enumerate(tokens):
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth = max(depth - 1, 0)
        elif depth == 0 and kind == "word" and text in words and (
            i == 0 or _is_expression_end(*tokens[i - 1][:2])
        ):
            found = i
    return found


def _option_value(word: str, value: list, text: str, span: Span, origin: _Origin, opens: bool = False):
    """The value of option `word` from its tokens. When they cannot be one: None if `word` opens the
    command (then it is a name, as in `compile random + 1`), otherwise a syntax error at the value."""
    kinds = [kind for kind, *_ in value]
    if word in ("max_len", "random"):
        if kinds == ["number"] and value[0][1].isdigit():
            number = int(value[0][1])
            if word == "max_len" and number < 1:
                raise RaspSyntaxError("`max_len` must be at least 1", span)
            return number
        expected = ("a whole number, e.g. max_len 5" if word == "max_len"
                    else "a whole number of inputs, e.g. random 500")
    elif word == "save":
        if kinds == ["string"] and len(value[0][1]) >= 2 and value[0][1].endswith('"'):
            path = value[0][1][1:-1]
            if path.strip():
                return path
            raise RaspSyntaxError("`save` needs a file name, not an empty string", span)
        expected = 'a file name in quotes, e.g. save "sort"'
    elif word == "verify":  # docs/export.md, 'Verifying the ONNX file'
        if kinds == ["word"] and value[0][1] == "onnx":
            return "onnx"
        expected = "onnx (verify onnx runs the exported graph in ONNX Runtime)"
    else:
        if (kinds == ["string"] and value[0][1].endswith('"') and len(value[0][1]) >= 2) or _is_bracketed(value):
            start = value[0][2]
            origin_of_value = _Origin(origin.file, origin.line, origin.column + start)
            return _parse(text[start:value[-1][3]], "expression", origin_of_value)
        expected = 'a list or a string, e.g. vocab ["a", "b"] or vocab "ab"'
    if opens:
        return None
    if not value:
        raise RaspSyntaxError(f"`{word}` needs a value: {expected}", span)
    raise RaspSyntaxError(f"bad value for `{word}`: expected {expected}", span)


# ------------------------------------------------------------ train EXPR ... (docs/training.md)

TRAIN_NUMBERS = {"layers": (1, 64), "heads": (1, 64), "d_model": (2, 4096), "epochs": (1, 10_000),
                 "examples": (1, 10_000_000), "min_len": (1, 512), "max_len": (1, 512), "seed": (0, 2**31 - 1)}
TRAIN_FLAGS = ("bos", "supervise", "draw")
TRAIN_VARIANTS = ("predicted", "fewer_heads", "fewer_layers", "fewer_layers_wider")
TRAIN_OPTIONS = (*TRAIN_NUMBERS, *TRAIN_FLAGS, "vocab", "variant", "save")


def _train_command(match: re.Match, span: Span, origin: _Origin) -> ast.Train:
    """`train EXPR [layers N] ... [bos] [supervise] [draw] [variant NAME] [save "FILE"]`: options from the end,
    any order."""
    expr, options = _expression_and_options(match, "train_expr", origin, TRAIN_OPTIONS, _train_option_value,
                                            "`train` needs an expression (an s-op), e.g. train hist vocab \"abc\" bos")
    return ast.Train(span, expr, {word: value for word, (value, _) in options.items()},
                     {word: where for word, (_, where) in options.items()})


def _train_option_value(word: str, value: list, text: str, span: Span, origin: _Origin, opens: bool = False):
    """The value of a `train` option (None: `word` opens the command, so it is a name)."""
    kinds = [kind for kind, *_ in value]
    if word in TRAIN_FLAGS:
        if not value:
            return True
        if opens:
            return None
        raise RaspSyntaxError(f"`{word}` takes no value", span)
    if word in TRAIN_NUMBERS:
        return _whole_number(word, TRAIN_NUMBERS[word], value, span, opens)
    if word == "variant":
        if kinds == ["word"] and value[0][1] in TRAIN_VARIANTS:
            return value[0][1]
        if opens:
            return None
        raise RaspSyntaxError("`variant` needs one of " + ", ".join(TRAIN_VARIANTS), span)
    return _option_value(word, value, text, span, origin, opens)


def _whole_number(word: str, limits: tuple[int, int], value: list, span: Span, opens: bool) -> int | None:
    """A whole-number option's value within limits (None: `word` opens the command, so it is a name)."""
    low, high = limits
    if [kind for kind, *_ in value] == ["number"] and value[0][1].isdigit():
        number = int(value[0][1])
        if not low <= number <= high:
            raise RaspSyntaxError(f"`{word}` must be between {low} and {high}, got {number}", span)
        return number
    if opens:
        return None
    raise RaspSyntaxError(f"`{word}` needs a whole number, e.g. {word} {max(low, 2)}", span)


# ------------------------------------------------------------ learn EXPR|"FILE.jsonl" ... (docs/learning.md)

LEARN_NUMBERS = {"layers": (1, 8), "heads": (0, 16), "counting": (0, 16), "mlps": (0, 16), "var_size": (2, 64),
                 "epochs": (1, 100_000), "restarts": (1, 100), "examples": (1, 1_000_000), "min_len": (1, 64),
                 "max_len": (1, 64), "seed": (0, 2**31 - 1)}
LEARN_OPTIONS = (*LEARN_NUMBERS, "vocab", "save", "name")


def _learn_command(match: re.Match, span: Span, origin: _Origin) -> ast.Learn:
    """`learn EXPR|"DATA.jsonl" [layers N] [heads N] ... [vocab LIST] [save "FILE"] [name NAME]`: options
    from the end, any order."""
    expr, options = _expression_and_options(match, "learn_expr", origin, LEARN_OPTIONS, _learn_option_value,
                                            '`learn` needs an s-op or a data file, e.g. learn "hist.jsonl" '
                                            'or learn hist vocab "abc" max_len 5')
    return ast.Learn(span, expr, {word: value for word, (value, _) in options.items()},
                     {word: where for word, (_, where) in options.items()})


def _learn_option_value(word: str, value: list, text: str, span: Span, origin: _Origin, opens: bool = False):
    """The value of a `learn` option (None: `word` opens the command, so it is a name)."""
    if word in LEARN_NUMBERS:
        return _whole_number(word, LEARN_NUMBERS[word], value, span, opens)
    if word == "name":
        if [kind for kind, *_ in value] == ["word"] and value[0][1] not in KEYWORDS:
            return value[0][1]
        if opens:
            return None
        raise RaspSyntaxError("`name` needs a name to bind the learned program to, e.g. name hist", span)
    return _option_value(word, value, text, span, origin, opens)


def _is_bracketed(tokens: list) -> bool:
    """tokens are one `[ ... ]` group, its brackets balanced."""
    if len(tokens) < 2 or tokens[0][1] != "[" or tokens[-1][1] != "]":
        return False
    depth = 0
    for i, (kind, *_) in enumerate(tokens):
        depth += 1 if kind == "open" else -1 if kind == "close" else 0
        if depth == 0 and i < len(tokens) - 1:
            return False
    return depth == 0


# --------------------------------------------------------- syntax error text

_TERMINAL_NAMES = {
    "NAME": "a name",
    "INT": "a number",
    "FLOAT": "a number",
    "STRING": "a string",
    "COMP_OP": "a comparison",
    "ADD_OP": "`+` or `-`",
    "MUL_OP": "`*` or `/`",
    "$END": "end of input",
}


def _describe_terminal(name: str) -> str:
    if name in _TERMINAL_NAMES:
        return _TERMINAL_NAMES[name]
    try:
        pattern = lark_parser().get_terminal(name).pattern
    except KeyError:
        return name
    return f"`{pattern.value}`"


def _describe_expected(expected: set[str]) -> str:
    if "SEMICOLON" in expected:
        return "expected `;`"
    if "RETURN" in expected:
        return "expected `return` (a function body ends with `return ...;`)"
    if {"NAME", "INT", "STRING"} <= expected:
        return "expected an expression"
    names = sorted({_describe_terminal(name) for name in expected})
    if len(names) == 1:
        return f"expected {names[0]}"
    if len(names) <= 6:
        return "expected one of " + ", ".join(names)
    return "this does not continue the statement"


def _syntax_error(error: UnexpectedInput, text: str, origin: _Origin) -> RaspSyntaxError | RaspNameError:
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    if isinstance(error, UnexpectedCharacters):
        char = text[error.pos_in_stream] if error.pos_in_stream < len(text) else ""
        span = origin.span(error.line, error.column, error.line, error.column + 1)
        if char == '"':
            return RaspSyntaxError("unterminated string (strings end on the same line)", span)
        if _SURROGATE_RE.match(char):
            return RaspSyntaxError("unexpected bytes that are not valid UTF-8", span)
        return RaspSyntaxError(f'unexpected character "{char}"', span)  # double quotes, like every other output
    if isinstance(error, UnexpectedEOF) or (
        isinstance(error, UnexpectedToken) and error.token.type == "$END"
    ):
        lines = text.rstrip().split("\n")
        line, column = len(lines), len(lines[-1]) + 1
        expected = set(getattr(error, "expected", None) or ())
        if "SEMICOLON" in expected:
            message = "missing `;` at the end of the statement"
        else:
            message = "unexpected end of input: the statement is incomplete"
            if 0 < len(expected) <= 3:
                message += "; " + _describe_expected(expected)
        return RaspSyntaxError(message, origin.span(line, column, line, column + 1))
    assert isinstance(error, UnexpectedToken)
    token = error.token
    span = origin.span(token.line, token.column, token.end_line or token.line, (token.end_column or token.column + 1))
    shown = f"`{token.value}`" if token.value else _describe_terminal(token.type)
    if "SEMICOLON" in error.expected:
        previous_end = _end_of_previous_token(text, token.start_pos)
        if previous_end is not None and previous_end[0] < token.line:
            line, column = previous_end  # the statement ended on an earlier line
            return RaspSyntaxError(
                f"missing `;` at the end of the statement (the next line starts with {shown})",
                origin.span(line, column, line, column + 1),
            )
        return RaspSyntaxError(f"expected `;` before {shown}", span)
    misspelt = _misspelt_select(text, token.start_pos, token.value, origin)
    if misspelt is not None:
        return misspelt
    return RaspSyntaxError(f"unexpected {shown}; {_describe_expected(set(error.expected))}", span)


_SELECT_OPS = ("==", "!=", "<", ">", "<=", ">=")


def _misspelt_select(text: str, offset: int, value: str, origin: _Origin) -> RaspError | None:
    """A bare comparison operator as an argument of a call that is not `select`: most often
    a misspelt `select` (`selct(tokens, tokens, ==)`), said so at the name."""
    if value not in _SELECT_OPS:
        return None
    import difflib  # only for this message: not at start-up

    opened: list[tuple[str, int, int] | None] = []
    previous: tuple[str, str, int, int] | None = None
    for kind, word, start, stop in _tokens(text):
        if start >= offset:
            break
        if word == "(":
            is_call = previous is not None and previous[0] == "word"
            opened.append((previous[1], previous[2], previous[3]) if is_call and previous else None)
        elif word == ")" and opened:
            opened.pop()
        previous = (kind, word, start, stop)
    if not opened or opened[-1] is None or opened[-1][0] == "select":
        return None
    name, start, stop = opened[-1]
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    span = origin.span(line, column, line, column + stop - start)
    if difflib.get_close_matches(name, ["select"], n=1, cutoff=0.6):
        return RaspNameError(f"`{name}` is not defined; did you mean `select`?", span,
                               hint=f"select(keys, queries, {value}) is the call that takes a comparison")
    return RaspSyntaxError(f"`{value}` alone is an argument of `select` only, not of `{name}`", span,
                           hint=f"select(keys, queries, {value})")


def _end_of_previous_token(text: str, offset: int) -> tuple[int, int] | None:
    """(line, column) just after the last significant token before offset."""
    end = None
    for _, _, start, stop in _tokens(text):
        if start >= offset:
            break
        end = stop
    if end is None:
        return None
    line = text.count("\n", 0, end) + 1
    return line, end - (text.rfind("\n", 0, end) + 1) + 1


# --------------------------------------------------------- tree -> AST nodes


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _whole(method):
    """Mark a _ToAst method that takes its node's children as one list (the others take them as arguments)."""
    method.whole_children = True
    return method


class _ToAst:
    """A parse tree (rasp.lalr's or Lark's: both have .data, .children and .meta) -> AST nodes."""

    def __init__(self, origin: _Origin):
        self.origin = origin

    def transform(self, tree):
        children = [child if child is None or isinstance(child, str) else self.transform(child)
                    for child in tree.children]
        method = getattr(self, tree.data)
        if getattr(method, "whole_children", False):
            return method(tree.meta, children)
        return method(tree.meta, *children)

    def _span(self, meta) -> Span:
        return self.origin.span(meta.line, meta.column, meta.end_line, meta.end_column)

    def _token_span(self, token: Token) -> Span:
        return self.origin.span(token.line, token.column, token.end_line, token.end_column)

    def _name(self, token: Token) -> str:
        if token in KEYWORDS:
            raise RaspSyntaxError(f"`{token}` is a keyword and cannot be used as a name", self._token_span(token))
        return str(token)

    # lists -----------------------------------------------------------------
    @_whole
    def program(self, meta, statements):
        return statements

    def expression(self, meta, expr):
        return expr

    @_whole
    def names(self, meta, tokens):
        return [self._name(t) for t in tokens]

    @_whole
    def exprs(self, meta, items):
        return list(items)

    @_whole
    def pairs(self, meta, items):
        return list(items)

    def pair(self, meta, key, value):
        return (key, value)

    # statements --------------------------------------------------------------
    def expr_stmt(self, meta, expr):
        return ast.ExprStmt(self._span(meta), expr)

    def assign(self, meta, names, values):
        return ast.Assign(self._span(meta), names, values)

    @_whole
    def def_stmt(self, meta, children):
        name, params, *body, (returns, return_span) = children
        return ast.Def(self._span(meta), self._name(name), params or [], body, returns, return_span)

    def return_stmt(self, meta, exprs):
        return (exprs, self._span(meta))

    @_whole
    def for_stmt(self, meta, children):
        names, iterable, *body = children
        return ast.For(self._span(meta), names, iterable, body)

    def load_stmt(self, meta, path):
        return ast.Load(self._span(meta), path[1:-1])

    def draw_stmt(self, meta, expr, input_expr):
        return ast.Draw(self._span(meta), expr, input_expr)

    # expressions -------------------------------------------------------------
    def name(self, meta, token):
        return ast.Name(self._span(meta), self._name(token))

    def int_lit(self, meta, token):
        try:
            return ast.Literal(self._span(meta), int(token))
        except ValueError:  # beyond Python's limit on int digits (sys.get_int_max_str_digits)
            raise RaspSyntaxError(
                f"this number has {len(token)} digits, too many for a literal", self._span(meta),
                hint="compute large numbers instead, e.g. 10^5000",
            ) from None

    def float_lit(self, meta, token):
        return ast.Literal(self._span(meta), float(token))

    def string_lit(self, meta, token):
        if "\x00" in token:  # NumPy's fixed-width strings would silently drop it
            raise RaspSyntaxError("strings cannot contain the NUL character", self._span(meta))
        if _SURROGATE_RE.search(token):  # undecodable bytes (e.g. of a command-line argument) cannot be printed
            raise RaspSyntaxError("this string contains bytes that are not valid UTF-8", self._span(meta))
        return ast.Literal(self._span(meta), str(token)[1:-1])

    def list_lit(self, meta, items):
        return ast.ListLit(self._span(meta), items or [])

    def dict_lit(self, meta, pairs):
        return ast.DictLit(self._span(meta), pairs or [])

    def list_comp(self, meta, value, names, iterable):
        return ast.ListComp(self._span(meta), value, names, iterable)

    def dict_comp(self, meta, key, value, names, iterable):
        return ast.DictComp(self._span(meta), key, value, names, iterable)

    def unary(self, meta, op, operand):
        return ast.Unary(self._span(meta), str(op), operand)

    def binary(self, meta, left, op, right):
        return ast.Binary(self._span(meta), str(op), left, right)

    def logical(self, meta, left, op, right):
        return ast.Logical(self._span(meta), str(op), left, right)

    def ternary(self, meta, then, cond, otherwise):
        return ast.Ternary(self._span(meta), then, cond, otherwise)

    def contains(self, meta, item, container):
        return ast.Contains(self._span(meta), item, container)

    def index(self, meta, target, index):
        return ast.Index(self._span(meta), target, index)

    def call(self, meta, func, args):
        return ast.Call(self._span(meta), func, args or [])

    def select(self, meta, key, query, op):
        return ast.Select(self._span(meta), key, query, str(op))

    def aggregate(self, meta, selector, sop, default):
        return ast.Aggregate(self._span(meta), selector, sop, default)

    def builtin(self, meta, name, args):
        return ast.Builtin(self._span(meta), str(name), args or [])
