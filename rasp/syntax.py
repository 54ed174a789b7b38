"""AST of RASP: statements and expressions, each carrying its source span."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING


@dataclasses.dataclass(frozen=True)
class Span:
    """A region of a source file; lines and columns count from 1."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


if TYPE_CHECKING:  # type checkers read the classes as the dataclasses they behave as
    from dataclasses import dataclass, field
else:
    from .records import field
    from .records import record as dataclass


@dataclass
class Node:
    """An AST node, and each of the classes below: a dataclass (a light one, rasp.records: start-up
    creates them all). `Name(name='x')`; equal when of one class with equal fields, spans not
    compared; not hashable."""

    span: Span = field(repr=False, compare=False)


# ---------------------------------------------------------------- expressions


@dataclass
class Expr(Node):
    pass


@dataclass
class Name(Expr):
    name: str


@dataclass
class Literal(Expr):
    value: int | float | str


@dataclass
class ListLit(Expr):
    items: list[Expr]


@dataclass
class DictLit(Expr):
    pairs: list[tuple[Expr, Expr]]


@dataclass
class ListComp(Expr):
    value: Expr
    names: list[str]
    iterable: Expr


@dataclass
class DictComp(Expr):
    key: Expr
    value: Expr
    names: list[str]
    iterable: Expr


@dataclass
class Unary(Expr):
    op: str  # "not", "-", "+"
    operand: Expr


@dataclass
class Binary(Expr):
    op: str  # arithmetic or comparison operator
    left: Expr
    right: Expr


@dataclass
class Logical(Expr):
    op: str  # "and" / "or"
    left: Expr
    right: Expr


@dataclass
class Ternary(Expr):
    then: Expr
    cond: Expr
    otherwise: Expr


@dataclass
class Contains(Expr):
    item: Expr
    container: Expr


@dataclass
class Index(Expr):
    target: Expr
    index: Expr


@dataclass
class Call(Expr):
    func: Expr
    args: list[Expr]


@dataclass
class Select(Expr):
    key: Expr
    query: Expr
    op: str


@dataclass
class Aggregate(Expr):
    selector: Expr
    sop: Expr
    default: Expr | None


@dataclass
class Builtin(Expr):
    """range(...), zip(...), len(...), round(...), indicator(...)."""

    name: str
    args: list[Expr]


# ----------------------------------------------------------------- statements


@dataclass
class Stmt(Node):
    pass


@dataclass
class ExprStmt(Stmt):
    expr: Expr


@dataclass
class Assign(Stmt):
    names: list[str]
    values: list[Expr]


@dataclass
class Def(Stmt):
    name: str
    params: list[str]
    body: list[Stmt]
    returns: list[Expr]
    return_span: Span = field(repr=False, compare=False)


@dataclass
class For(Stmt):
    names: list[str]
    iterable: Expr
    body: list[Stmt]


@dataclass
class Load(Stmt):
    path: str


@dataclass
class Draw(Stmt):
    expr: Expr
    input: Expr | None


# Commands: line-based, no `;` (docs/reference.md, 'Statements').


@dataclass
class SetExample(Stmt):
    subset: str | None  # None (both), "s-op" or "selector"
    expr: Expr


@dataclass
class ShowExample(Stmt):
    subset: str | None


@dataclass
class ToggleExamples(Stmt):
    subset: str | None
    on: bool


@dataclass
class FullSeqDisplay(Stmt):
    on: bool


@dataclass
class CausalMode(Stmt):
    """`causal on|off` (docs/raspl.md, 'Causal mode')."""

    on: bool


@dataclass
class Exit(Stmt):
    pass


@dataclass
class Analyse(Stmt):
    expr: Expr


@dataclass
class CheckRaspL(Stmt):
    """`raspl EXPR`: is EXPR's computation RASP-L (docs/raspl.md, 'The checker')?"""

    expr: Expr


@dataclass
class Train(Stmt):
    """`train EXPR [layers N] [heads N] ... [bos] [supervise] [variant NAME] [seed N] [save "FILE"]`
    (docs/training.md). options maps each given option to its value (numbers, True for flags,
    an Expr for vocab, a string for variant and save); option_spans to its span."""

    expr: Expr
    options: dict = field(default_factory=dict)
    option_spans: dict[str, Span] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class Learn(Stmt):
    """`learn EXPR|"DATA.jsonl" [layers N] [heads N] [counting N] [mlps N] ... [save "FILE"] [name NAME]`
    (docs/learning.md). options maps each given option to its value (numbers, an Expr for vocab,
    a string for save and name); option_spans to its span."""

    expr: Expr
    options: dict = field(default_factory=dict)
    option_spans: dict[str, Span] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class Compile(Stmt):
    """`compile EXPR [max_len N] [vocab E] [random N] [save "FILE"] [verify onnx]`: EXPR as a transformer.

    Options left out are None (the interpreter's defaults: from the running example,
    1000 random inputs, nothing saved). option_spans maps each given option's name
    (max_len, vocab, random, save) to its span, the word and its value.
    """

    expr: Expr
    max_len: int | None = None
    vocab: Expr | None = None
    check: int | None = None  # random inputs to verify on
    save: str | None = None  # the path the weights are written to (its extension picks the format)
    option_spans: dict[str, Span] = field(default_factory=dict, repr=False, compare=False)
    verify: str | None = None  # "onnx": also verify the exported ONNX graph in ONNX Runtime


@dataclass
class SyntaxErrorStmt(Stmt):
    """A statement that failed to parse; running it reports the error."""

    error: Exception
