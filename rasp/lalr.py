"""A table-driven LALR parser for RASP statements that does not import Lark.

The tables (rasp/parse_tables.py) are Lark's own analysis of grammar/rasp.lark, written
down by scripts/gen_parse_tables.py; this module runs them and shapes the tree the way
Lark does with `propagate_positions=True, maybe_placeholders=True`, so that
rasp.parser turns either tree into the same AST. Importing Lark and loading its parser
cost about 40 ms of start-up (docs/design.md, 'Parsing'); a program that parses here pays none of it.

It lexes with Lark's root lexer (every terminal; keywords by whole-word lookup) where
Lark lexes per parser state. Whenever the two could differ, the root lexer's token is
not acceptable in the state, and `parse` returns None: rasp.parser then asks Lark, which
also reports syntax errors. So a text parses here only when Lark would parse it the same way.
"""

from __future__ import annotations

import re
from functools import lru_cache

from . import parse_tables as tables


class Meta:
    """A node's position, as Lark's `propagate_positions` computes it (an attribute is set
    only once known: `hasattr` tells whether it is)."""

    line: int
    column: int
    start_pos: int
    end_line: int
    end_column: int
    end_pos: int
    container_line: int
    container_column: int
    container_start_pos: int
    container_end_line: int
    container_end_column: int
    container_end_pos: int

    def __init__(self) -> None:
        self.empty = True


class Tree:
    """A parse-tree node: the rule (or alias) name, its children, its position."""

    __slots__ = ("data", "children", "meta")

    def __init__(self, data: str, children: list) -> None:
        self.data = data
        self.children = children
        self.meta = Meta()

    def __repr__(self) -> str:
        return f"Tree({self.data!r}, {self.children!r})"


class Token(str):
    """A terminal: its text, with its type and where it is (lines and columns count from 1)."""

    type: str
    start_pos: int
    line: int
    column: int
    end_pos: int
    end_line: int
    end_column: int

    def __new__(cls, type_: str, value: str, start_pos: int, line: int, column: int,
                end_pos: int, end_line: int, end_column: int) -> Token:
        token = super().__new__(cls, value)
        token.type, token.start_pos, token.line, token.column = type_, start_pos, line, column
        token.end_pos, token.end_line, token.end_column = end_pos, end_line, end_column
        return token


@lru_cache(maxsize=1)
def _scanner() -> re.Pattern:
    return re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in tables.TERMINALS))


_IGNORE = frozenset(tables.IGNORE)


def _lex(text: str):
    """The tokens of `text`, then None if some character starts no terminal."""
    match_at = _scanner().match
    keywords = tables.KEYWORDS
    position, line, line_start = 0, 1, 0
    while position < len(text):
        match = match_at(text, position)
        if match is None:
            yield None
            return
        value, kind = match.group(), match.lastgroup or ""
        end = match.end()
        newlines = value.count("\n")
        end_line = line + newlines
        end_line_start = position + value.rindex("\n") + 1 if newlines else line_start
        if kind not in _IGNORE:
            if kind == "NAME":
                kind = keywords.get(value, kind)
            yield Token(kind, value, position, line, position - line_start + 1,
                        end, end_line, end - end_line_start + 1)
        position, line, line_start = end, end_line, end_line_start


def parse(text: str, start: str) -> Tree | Token | None:
    """The parse tree of `text` from the start symbol `start`, or None when this parser
    cannot be sure (then Lark decides, and reports any syntax error)."""
    end_state = tables.END_STATES[start]
    state_stack = [tables.START_STATES[start]]
    value_stack: list = []
    last = None
    for token in _lex(text):
        if token is None:
            return None
        if not _feed(token, state_stack, value_stack, end_state):
            return None
        last = token
    if last is None:
        end = Token("$END", "", 0, 1, 1, 0, 1, 1)
    else:
        end = Token("$END", "", last.start_pos, last.line, last.column, last.end_pos, last.end_line, last.end_column)
    if not _feed(end, state_stack, value_stack, end_state):
        return None
    return value_stack[-1]


def _feed(token: Token, state_stack: list, value_stack: list, end_state: int) -> bool:
    """Shift `token` after the reductions it calls for; at $END, reduce to the end state.
    False when the token is not acceptable."""
    states, rules = tables.STATES, tables.RULES
    is_end = token.type == "$END"
    while True:
        action = states[state_stack[-1]].get(token.type)
        if action is None:
            return False
        if action >= 0:
            if is_end:
                return False
            state_stack.append(action)
            value_stack.append(token)
            return True
        origin, size, name, expand1, include, append_none = rules[-1 - action]
        if size:
            children = value_stack[-size:]
            del state_stack[-size:]
            del value_stack[-size:]
        else:
            children = []
        value_stack.append(_build(name, expand1, include, append_none, children))
        state_stack.append(states[state_stack[-1]][origin])
        if is_end and state_stack[-1] == end_state:
            return True


def _build(name: str, expand1: bool, include, append_none: int, children: list):
    """One reduction's node: Lark's child filter, single-child expansion and positions."""
    kept: list = []
    for index, splice, nones in include:
        kept.extend([None] * nones)
        if splice:
            kept.extend(children[index].children)
        else:
            kept.append(children[index])
    kept.extend([None] * append_none)
    node = kept[0] if expand1 and len(kept) == 1 else Tree(name, kept)
    if isinstance(node, Tree):
        _place(node.meta, children)
    return node


def _first_position(children):
    for child in children:
        if isinstance(child, Tree):
            if not child.meta.empty:
                return child.meta
        elif isinstance(child, Token):
            return child
    return None


def _place(meta: Meta, children: list) -> None:
    """A node starts where its first placed child's container starts and ends where its
    last one's ends (containers: nodes inlined into their parent)."""
    _set_position(meta, _first_position(children), ("line", "column", "start_pos"))
    _set_position(meta, _first_position(reversed(children)), ("end_line", "end_column", "end_pos"))


def _set_position(meta: Meta, source, names: tuple[str, str, str]) -> None:
    if source is None:
        return
    values = [getattr(source, "container_" + name, getattr(source, name)) for name in names]
    if not hasattr(meta, names[0]):
        for name, value in zip(names, values, strict=True):
            setattr(meta, name, value)
        meta.empty = False
    for name, value in zip(names, values, strict=True):
        setattr(meta, "container_" + name, value)
