"""The examples a program is learned from: a JSON Lines file, or a RASP program's outputs.

docs/learning.md, 'The data'. A file has one example per line, `{"input": [...], "output":
[...]}` (a string stands for the list of its characters), blank lines ignored. Every
problem is a LearnError at the file and line it is on: a file with no examples, a line that
is not JSON or not such an object, a value that is not an atom, an output whose length is
not the input's, two lines with the same input and different outputs (both named), types
mixed across examples, and a vocabulary or length beyond what the options allow.
From a program, the inputs are drawn as `train` draws them (rasp.training.data) and the
outputs are the program's. NumPy only: no JAX here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import RaspError
from ..syntax import Span
from ..values import exact_text, is_atom, type_name
from . import LearnError

MAX_VOCAB = 64  # distinct tokens (the model's tables grow with the square of it)
MAX_LENGTH = 64  # positions of an input


@dataclass(frozen=True)
class Examples:
    """Inputs and their outputs, where they came from, and their vocabulary and longest input."""

    inputs: list[list]
    outputs: list[list]
    origin: str  # the file's path, or the program's name
    vocab: tuple  # the distinct tokens, in order of first appearance (or as given)
    max_len: int
    lines: tuple = ()  # per example, its line in the file (empty for a program's examples)

    def __len__(self) -> int:
        return len(self.inputs)

    def line_span(self, index: int) -> Span | None:
        """The span of example `index`'s line in the file, if it came from one."""
        line = self.lines[index] if self.lines else None
        return None if line is None else Span(self.origin, line, 1, line + 1, 1)  # the whole line


# ----------------------------------------------------------------------------- JSON Lines


def read_text(path: str) -> str:
    """The text of a data file, or a LearnError saying why it cannot be read."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except UnicodeDecodeError:
        raise LearnError(f"{path} is not a UTF-8 text file",
                         hint="examples are JSON Lines: one JSON object a line") from None
    except OSError as error:
        raise LearnError(f"cannot read the examples {path}: {error.strerror or error}") from None


def read_examples(path: str, text: str | None = None) -> Examples:
    """The examples of the JSON Lines file `path` (its `text`, if already read)."""
    text = read_text(path) if text is None else text
    inputs: list[list] = []
    outputs: list[list] = []
    numbers: list[int] = []
    seen: dict[tuple, int] = {}  # an input's key -> the index of its first example
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        span = Span(path, number, 1, number, len(line) + 1)
        items, output = _example(line, span)
        key = tuple(_keyed(items))
        if key in seen and outputs[seen[key]] != output:
            first = seen[key]
            error = LearnError(f"inconsistent examples: line {numbers[first]} and line {number} have the same input "
                               f"{_shown(items)} but different outputs {_shown(outputs[first])} and {_shown(output)}",
                               span, hint="a program gives one output per input: fix or drop one of the lines")
            error.add_context(Span(path, numbers[first], 1, numbers[first], 2), "the first example of this input")
            raise error
        seen.setdefault(key, len(inputs))
        inputs.append(items)
        outputs.append(output)
        numbers.append(number)
    if not inputs:
        raise LearnError(f"{path} has no examples", Span(path, 1, 1, 1, 1),
                         hint='one JSON object a line: {"input": ["a", "b"], "output": [1, 1]}')
    examples = Examples(inputs, outputs, path, _vocabulary(inputs), max(len(i) for i in inputs), tuple(numbers))
    _check_types(examples)
    return examples


def list_examples(inputs: list, outputs: list) -> Examples:
    """Examples given as Python lists (or strings): checked as a file's lines are, example N as line N
    of `<examples>`."""
    if len(inputs) != len(outputs):
        raise LearnError(f"{len(inputs)} inputs but {len(outputs)} outputs", hint="one output per input")
    lines = []
    for number, (items, output) in enumerate(zip(inputs, outputs, strict=True), 1):
        try:
            lines.append(json.dumps({"input": _plain(items), "output": _plain(output)}))
        except (TypeError, ValueError):
            raise LearnError(f"example {number} is not a list of atoms: {items!r} -> {output!r}") from None
    return read_examples("<examples>", "\n".join(lines))


def _plain(value: Any) -> Any:
    return value if isinstance(value, str) else [v.item() if hasattr(v, "item") else v for v in value]


def _example(line: str, span: Span) -> tuple[list, list]:
    """One line's input and output, or a LearnError at the line."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        where = Span(span.file, span.line, error.colno, span.line, error.colno + 1)
        raise LearnError(f"line {span.line} is not valid JSON: {error.msg} (column {error.colno})", where,
                         hint='one JSON object a line: {"input": ["a", "b"], "output": [1, 1]}') from None
    if not isinstance(record, dict):
        raise LearnError(f"line {span.line} is a JSON {_json_kind(record)}, not an object with \"input\" and "
                         '"output"', span, hint='e.g. {"input": ["a", "b"], "output": [1, 1]}')
    missing = [key for key in ("input", "output") if key not in record]
    if missing:
        raise LearnError(f"line {span.line} has no {' and no '.join(repr(k) for k in missing)}", span,
                         hint='each line needs both: {"input": ["a", "b"], "output": [1, 1]}')
    items = _sequence(record["input"], "input", span)
    output = _sequence(record["output"], "output", span)
    if not items:
        raise LearnError(f"line {span.line}: the input is empty", span, hint="every input has at least one token")
    if len(output) != len(items):
        raise LearnError(f"line {span.line}: the output has {len(output)} values but the input has {len(items)} "
                         "tokens", span, hint="a RASP program gives one output value per input position")
    return items, output


def _sequence(value: Any, key: str, span: Span) -> list:
    """A JSON list of atoms, or a string (its characters)."""
    if isinstance(value, str):
        return list(value)
    if not isinstance(value, list):
        raise LearnError(f"line {span.line}: the {key} is a JSON {_json_kind(value)}, not a list or a string", span)
    for position, item in enumerate(value):
        if not is_atom(item):
            raise LearnError(f"line {span.line}: the {key}'s value at position {position} is a JSON "
                             f"{_json_kind(item)}; values are strings, numbers or booleans", span)
    return value


def _json_kind(value: Any) -> str:
    kinds = {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}
    return kinds.get(type(value), "number")


def _keyed(items: list) -> list:
    return [(type(v).__name__, v) for v in items]  # 1 and True and 1.0 are different tokens


def _shown(items: list) -> str:
    return "[" + ", ".join(exact_text(v) for v in items) + "]"


def _vocabulary(inputs: list[list]) -> tuple:
    return tuple(v for _, v in dict.fromkeys(k for items in inputs for k in _keyed(items)))


def _check_types(examples: Examples) -> None:
    """One type of token and one type of output value (an s-op has one type)."""
    for what, rows in (("input", examples.inputs), ("output", examples.outputs)):
        first: dict[str, int] = {}
        for index, row in enumerate(rows):
            for value in row:
                first.setdefault(type_name(value), index)
        if len(first) > 1:
            (kind, _), (other, index) = sorted(first.items(), key=lambda pair: pair[1])[:2]
            raise LearnError(f"line {examples.lines[index]}: {what} values of two types, {kind} (line "
                             f"{examples.lines[first[kind]]}) and {other}", examples.line_span(index),
                             hint=f"every {what} value is of one type: strings, ints, floats or booleans")


# ----------------------------------------------------------------------------- the options


def check_fits(examples: Examples, vocab: tuple | None = None, max_len: int | None = None) -> None:
    """A LearnError when the examples do not fit: more than MAX_VOCAB tokens or MAX_LENGTH positions,
    or (when given) a token outside `vocab` or an input longer than `max_len`."""
    allowed = None if vocab is None else set(_keyed(list(vocab)))
    for index, items in enumerate(examples.inputs):
        where = f"line {examples.lines[index]}: " if examples.lines else ""
        if max_len is not None and len(items) > max_len:
            raise LearnError(f"{where}an input of {len(items)} tokens is longer than max_len {max_len}",
                             examples.line_span(index), hint=f"raise max_len to {examples.max_len}, or drop it")
        if allowed is not None:
            outside = [v for v, k in zip(items, _keyed(items), strict=True) if k not in allowed]
            if outside:
                raise LearnError(f"{where}the token {exact_text(outside[0])} is not in the vocabulary "
                                 f"{_shown(list(vocab or ()))}", examples.line_span(index),
                                 hint="add it to vocab, or leave vocab out (then it is the examples' tokens)")
    if len(examples.vocab) > MAX_VOCAB:
        raise LearnError(f"the examples have {len(examples.vocab)} distinct tokens; at most {MAX_VOCAB} can be "
                         "learned", hint="a learned program's tables grow with the square of the vocabulary")
    if examples.max_len > MAX_LENGTH:
        longest = examples.inputs.index(max(examples.inputs, key=len))
        raise LearnError(f"an input of {examples.max_len} tokens is longer than the {MAX_LENGTH} positions that "
                         "can be learned", examples.line_span(longest))


# ----------------------------------------------------------------------------- from a program


def program_examples(node: Any, name: str, vocab: tuple, *, min_len: int = 1, max_len: int = 8,
                     examples: int = 2000, seed: int = 0, dyck: tuple | None = None) -> Examples:
    """`examples` inputs drawn as `train` draws them (rasp.training.data: uniform tokens and lengths,
    the Dyck mixture for a program named dyck...), and the program's outputs on them."""
    from ..training.data import Distribution, check_distribution, program_outputs, sample_inputs

    vocab = tuple(vocab)
    if dyck is None and "dyck" in name.lower() and {"(", ")"} <= set(vocab):
        dyck = tuple(p for p in ("()", "{}", "[]") if p[0] in vocab and p[1] in vocab)
    distribution = Distribution(vocab=vocab, min_len=min_len, max_len=max_len, dyck=dyck)
    try:
        check_distribution(distribution)
        inputs = sample_inputs(distribution, examples, np.random.default_rng(seed))
        outputs = program_outputs(node, inputs)
    except LearnError:
        raise
    except RaspError as error:
        raise LearnError(error.message.replace("train needs", "learn needs"), error.span, error.hint) from None
    found = Examples(inputs, outputs, name, vocab, max_len)
    _check_program_types(found)
    return found


def _check_program_types(examples: Examples) -> None:
    kinds = {type_name(v) for row in examples.outputs for v in row}
    if len(kinds) > 1:
        raise LearnError(f"{examples.origin}'s outputs are of two types, {' and '.join(sorted(kinds))}",
                         hint="a learned program outputs one type of value")
