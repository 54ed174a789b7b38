"""The RASP-L checker: is a computation RASP-L, and if not, why (docs/raspl.md, 'The rules').

RASP-L (Zhou et al., "What Algorithms can Transformers Learn?", ICLR 2024) is RASP
restricted to what a causal, decoder-only transformer runs at every length. The
checker walks the computation graph of an s-op and reports each rule it breaks at
the node (and so the source position) that breaks it:

* non-causal selector: a selector that an aggregate or selector_width uses must see
  only keys at or before its query, provably (docs/raspl.md, 'Which selectors are
  causal'); in causal mode every selector is, by the mask;
* `length`: a causal model does not know the input's length;
* index arithmetic: index values (indices, offsets of them, aggregates of them) may
  be compared and offset by a constant, nothing else;
* float maps: RASP-L's maps return integers (or booleans); found by evaluating the
  program on random inputs;
* float tokens: RASP-L's tokens are small integers (strings and bools are labels for them).

For a program that is not RASP-L it also tests prefix consistency: whether its value
at each position depends only on the input up to that position, on random inputs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from .engine import Evaluation, Seq, causal_mode, evaluate_batch, input_items
from .errors import RaspError
from .syntax import Span
from .values import (
    COMPARISONS,
    Aggregate,
    Lazy,
    Map,
    Primitive,
    Select,
    SelectorCombination,
    SelectorWidth,
    SOp,
)

RANDOM_INPUTS = 60  # random inputs the dynamic rules and the prefix test look at
MAX_RANDOM_LENGTH = 12
_INDEX_PRESERVING = ("+", "-")  # with a constant: an offset, as shift_right uses
_ALLOWED_ON_INDICES = COMPARISONS + ("in", "ternary")


@dataclass
class Violation:
    """One broken rule: why, and the node (its origin span) that broke it."""

    message: str
    span: Span | None
    node: str  # the node's name

    def to_json(self) -> dict:
        span = self.span
        return {"message": self.message, "file": span.file if span else None,
                "line": span.line if span else None, "column": span.column if span else None}


@dataclass
class RaspLReport:
    """The answer of `raspl EXPR`: ok when no rule is broken; prefix_consistent (tested on
    random inputs) is None when the program is RASP-L or could not be tested."""

    name: str
    violations: list[Violation] = field(default_factory=list)
    prefix_consistent: bool | None = None
    prefix_counterexample: Any = None  # an input whose prefix changes an earlier position's value
    causal: bool = False  # checked as in causal mode

    @property
    def ok(self) -> bool:
        return not self.violations

    def to_json(self) -> dict:
        return {"kind": "raspl", "name": self.name, "ok": self.ok,
                "violations": [v.to_json() for v in self.violations],
                "prefix_consistent": self.prefix_consistent, "causal": self.causal}

    def __repr__(self) -> str:  # the text the REPL shows (rasp.display)
        from .display import format_raspl

        return format_raspl(self)


def check_raspl(node: SOp, name: str | None = None, *, causal: bool = False, example: Any = "hello",
                seed: int = 0) -> RaspLReport:
    """Check that `node`'s computation is RASP-L; `causal`: as evaluated in causal mode.

    example: an input whose tokens make the alphabet of the random inputs (the dynamic
    rules and the prefix test evaluate the program on them).
    """
    report = RaspLReport(name or node.name, causal=causal)
    order = _graph(node)
    indexy: set[int] = set()
    if _is_length(node):
        report.violations.append(_violation(node, "is `length`, which a causal model does not know"))
    for current in order:
        report.violations += _static_violations(current, indexy, causal)
    inputs = _random_inputs(example, seed)
    report.violations += _float_maps(node, order, inputs, causal)
    if not report.ok:
        report.prefix_consistent, report.prefix_counterexample = prefix_consistency(node, inputs, causal)
    return report


def _graph(root: Lazy) -> list[Lazy]:
    """root and its ancestry, parents first; `length` is a leaf (its own violation, not its parts')."""
    order: list[Lazy] = []
    seen: set[int] = set()
    stack: list[tuple[Lazy, bool]] = [(root, False)]
    while stack:
        current, expanded = stack.pop()
        if expanded:
            order.append(current)
            continue
        if id(current) in seen:
            continue
        seen.add(id(current))
        stack.append((current, True))
        if not _is_length(current):
            stack.extend((parent, False) for parent in reversed(current.parents()) if id(parent) not in seen)
    return order


def _is_length(node: Lazy) -> bool:
    return isinstance(node, SOp) and node.label == "length"


def _static_violations(node: Lazy, indexy: set[int], causal: bool) -> list[Violation]:
    """The rules read from the graph; marks index-valued nodes in `indexy` (parents come first)."""
    found = []
    if any(_is_length(parent) for parent in node.parents()):  # reported where it is used
        found.append(_violation(node, "uses `length`, which a causal model does not know (it sees only a prefix)"))
    if any(isinstance(p, Primitive) and p.primitive == "tokens_float" for p in node.parents()):
        found.append(_violation(node, "uses float tokens: RASP-L's tokens are small integers"))
    if isinstance(node, Primitive) and node.primitive == "indices":
        indexy.add(id(node))
    elif isinstance(node, Map):
        found += _index_arithmetic(node, indexy)
    elif isinstance(node, Aggregate) and isinstance(node.sop, Lazy) and id(node.sop) in indexy:
        indexy.add(id(node))  # the index of a selected position: still an index
    if isinstance(node, (Aggregate, SelectorWidth)) and not causal and not is_causal_selector(node.selector):
        what = "aggregate" if isinstance(node, Aggregate) else "selector_width"
        found.append(_violation(
            node.selector,
            f"non-causal select (used by {what}): a query can see keys after it, so its result at a position "
            "depends on later positions; restrict it with `and select(indices, indices, <=)` or use `causal on`",
        ))
    return found


def _index_arithmetic(node: Map, indexy: set[int]) -> list[Violation]:
    lazy_args = [a for a in node.args if isinstance(a, Lazy)]
    index_args = [a for a in lazy_args if id(a) in indexy]
    if not index_args:
        return []
    if node.op in _INDEX_PRESERVING and len(lazy_args) == 1 and _constant_int(node):
        indexy.add(id(node))  # an offset by a constant
        return []
    if node.op == "ternary" and id(node.args[0]) not in indexy:
        indexy.add(id(node))  # picks an index value: not arithmetic
        return []
    if node.op in _ALLOWED_ON_INDICES:
        return []
    return [_violation(node, f"index arithmetic `{node.describe()}`: RASP-L compares index values and offsets "
                             "them by constants, nothing else")]


def _constant_int(node: Map) -> bool:
    return any(isinstance(a, int) and not isinstance(a, bool) for a in node.args)


def index_offset(value: Any) -> int | None:
    """c when value is `indices + c` (or indices, or indices - c) for a constant int c, else None."""
    if isinstance(value, Primitive) and value.primitive == "indices":
        return 0
    if isinstance(value, Map) and value.op in ("+", "-") and len(value.args) == 2:
        left, right = value.args
        if isinstance(right, int) and not isinstance(right, bool):
            inner = index_offset(left)
            return None if inner is None else inner + (right if value.op == "+" else -right)
        if value.op == "+" and isinstance(left, int) and not isinstance(left, bool):
            inner = index_offset(right)
            return None if inner is None else inner + left
    return None


def is_causal_selector(selector: Lazy) -> bool:
    """Does the selector provably select no key after its query (docs/raspl.md, 'Which selectors are causal')?

    select(indices + a, indices + b, op) selects k at query q when k + a op q + b: causal for
    `<=` and `==` when b <= a, for `<` when b <= a + 1. `and` is causal when either side is,
    `or` when both are, `not` never.
    """
    if isinstance(selector, SelectorCombination):
        if selector.op == "and":
            return any(is_causal_selector(a) for a in selector.args)
        if selector.op == "or":
            return all(is_causal_selector(a) for a in selector.args)
        return False
    if isinstance(selector, Select):
        key, query = index_offset(selector.key), index_offset(selector.query)
        if key is None or query is None:
            return False
        slack = query - key
        return {"<=": slack <= 0, "==": slack <= 0, "<": slack <= 1}.get(selector.op, False)
    return False


def _violation(node: Lazy, message: str) -> Violation:
    return Violation(message, node.origin, node.name)


# ------------------------------------------------------------- dynamic rules


def _random_inputs(example: Any, seed: int) -> list:
    """Random inputs over the example's tokens, lengths 1..MAX_RANDOM_LENGTH."""
    items = input_items(example)
    alphabet = list(dict.fromkeys(items)) or [0]
    rng = random.Random(seed)
    inputs = []
    for _ in range(RANDOM_INPUTS):
        row = [rng.choice(alphabet) for _ in range(rng.randint(1, MAX_RANDOM_LENGTH))]
        inputs.append("".join(row) if isinstance(example, str) else row)
    return inputs


def _float_maps(root: Lazy, order: list[Lazy], inputs: list, causal: bool) -> list[Violation]:
    """Maps whose values are floats on some random input."""
    maps = [n for n in order if isinstance(n, Map) and not _is_length(n)]
    flagged: dict[int, Violation] = {}
    for value in inputs[:10]:
        try:
            with causal_mode(causal):
                evaluation = Evaluation(input_items(value))
                evaluation.value(root)
        except RaspError:
            continue
        for node in maps:
            seq = evaluation.memo.get(id(node))
            if isinstance(seq, Seq) and seq.type == "floats" and id(node) not in flagged:
                flagged[id(node)] = _violation(
                    node, f"`{node.name}` has float values: RASP-L's maps return integers (or booleans)")
    return list(flagged.values())


def prefix_consistency(node: Lazy, inputs: list, causal: bool = False) -> tuple[bool | None, Any]:
    """(consistent, counterexample): does every prefix of each input give the same values at its
    positions? None when no input could be evaluated."""
    prefixes = [value[:m] for value in inputs for m in range(1, len(value))]
    with causal_mode(causal):
        whole = evaluate_batch(node, inputs)
        parts = iter(evaluate_batch(node, prefixes))
    tested = False
    for value, (_, full) in zip(inputs, whole, strict=True):
        shorter = [next(parts)[1] for _ in range(1, len(value))]
        if isinstance(full, RaspError):
            continue
        full_values = full.to_list() if isinstance(full, Seq) else full.tolist()
        for m, part in enumerate(shorter, start=1):
            if isinstance(part, RaspError):
                continue
            tested = True
            part_values = part.to_list() if isinstance(part, Seq) else part.tolist()
            if part_values != full_values[:m]:
                return False, value
    return (True, None) if tested else (None, None)
