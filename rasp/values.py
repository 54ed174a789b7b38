"""The lazy computation graph: s-op and selector nodes.

Nodes are immutable in structure and compared by identity; the only mutable
field is `label`, set once when the node is first bound to a name
(docs/reference.md, 'Names and scopes').
Nothing here evaluates: rasp.engine does that.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Container
from typing import Any

from .syntax import Span

ATOM_TYPES = (bool, int, float, str)

PRIMITIVES = ("tokens_str", "tokens_int", "tokens_float", "tokens_bool", "tokens_asis", "indices")

BINARY_OPS = ("+", "-", "*", "/", "%", "^", "==", "!=", "<", ">", "<=", ">=")
COMPARISONS = ("==", "!=", "<", ">", "<=", ">=")

# The one table of the binary operators as Python computes them: the interpreter applies
# them to atoms, lists and dicts; the engine per element where NumPy cannot (mixed types,
# big ints); the compiler's value-set inference for comparisons.
PYTHON_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "%": operator.mod, "^": operator.pow, "==": operator.eq, "!=": operator.ne,
    "<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge,
}


def is_atom(value: Any) -> bool:
    return isinstance(value, ATOM_TYPES)


def describe_value(value: Any) -> str:
    """A short readable text of an operand (for node names)."""
    if isinstance(value, Lazy):
        return value.name
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, tuple)):
        text = "[" + ", ".join(describe_value(v) for v in value) + "]"
        return text if len(text) <= 30 else "[…]"
    if isinstance(value, dict):
        text = "{" + ", ".join(f"{describe_value(k)}: {describe_value(v)}" for k, v in value.items()) + "}"
        return text if len(text) <= 30 else "{…}"
    if isinstance(value, int) and not isinstance(value, bool):
        return int_text(value)
    return str(value)


def int_text(value: int) -> str:
    """An int in full, except beyond Python's str() limit (4300 digits by default): then its
    first and last six digits and its length, `100000…000001 (5001 digits)`."""
    try:
        return str(value)
    except ValueError:
        magnitude = abs(value)
        digits = int(magnitude.bit_length() * 0.30102999566398120) + 1
        if magnitude < 10 ** (digits - 1):
            digits -= 1
        head, tail = magnitude // 10 ** (digits - 6), magnitude % 10**6
        return f"{'-' if value < 0 else ''}{head}…{tail:06d} ({digits} digits)"


def exact_text(value: Any) -> str:
    """An atom's exact text (floats in full, strings quoted), for messages and drawings;
    rasp.display.format_atom is the rounded text of results."""
    if hasattr(value, "item") and not isinstance(value, (int, float, str)):
        value = value.item()  # a NumPy scalar
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int_text(value)
    return str(value)


def short_text(value: Any) -> str:
    """A value's text for a message, cut to 40 characters."""
    if isinstance(value, list) and len(value) > 40:
        value = value[:40]  # the text is cut to 40 characters anyway
    try:
        text = exact_text(value) if is_atom(value) else _container_text(value)
    except ValueError:  # an int beyond Python's str() limit of digits
        text = "a huge int" if is_atom(value) else type_name(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _container_text(value: Any) -> str:
    """A list or dict in RASP's notation: strings in double quotes, like every other output."""
    if isinstance(value, list):
        return "[" + ", ".join(_container_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_container_text(k)}: {_container_text(v)}" for k, v in value.items()) + "}"
    return exact_text(value) if is_atom(value) else repr(value)


def type_name(value: Any) -> str:
    """'an int', 'a list', 'an s-op', ... for messages."""
    for kind, name in _TYPE_NAMES:
        if isinstance(value, kind):
            return name
    described = getattr(value, "type_text", None)  # a kind that names itself (interpreter.Applied)
    if isinstance(described, str):
        return described
    return "a " + type(value).__name__.lower()


class Lazy:
    """A node of the computation graph (an s-op or a selector)."""

    kind = "lazy"
    made = 0  # nodes made so far

    def __init__(self, origin: Span | None = None, label: str | None = None):
        self.origin = origin
        self.label = label
        Lazy.made += 1
        self.serial = Lazy.made  # creation order: tells which nodes a function call made

    def parents(self) -> tuple[Lazy, ...]:
        return ()

    def describe(self) -> str:
        return self.kind

    @property
    def name(self) -> str:
        if self.label is not None:
            return self.label
        text = self.describe()
        return text if len(text) <= 60 else text[:57] + "…"

    def set_label(self, label: str) -> None:
        """Name the node after its first binding; later bindings do not rename it."""
        if self.label is None:
            self.label = label

    def __repr__(self) -> str:
        return f"<{self.kind} {self.name}>"


def next_serial() -> int:
    """The serial the next node will get: nodes with a serial at least this were made later."""
    return Lazy.made + 1


class SOp(Lazy):
    kind = "s-op"


class Selector(Lazy):
    kind = "selector"


# --------------------------------------------------------------------- s-ops


class Primitive(SOp):
    """tokens_str, tokens_int, tokens_float, tokens_bool, tokens_asis or indices."""

    def __init__(self, primitive: str):
        assert primitive in PRIMITIVES
        super().__init__(label=primitive)
        self.primitive = primitive

    def describe(self) -> str:
        return self.primitive


class Map(SOp):
    """An elementwise (MLP) operation over s-ops and broadcast atoms.

    op is a binary operator of BINARY_OPS, or one of: "neg", "pos", "not",
    "round", "indicator", "and", "or", "ternary" (args: cond, then, else),
    "in" (args: s-op, tuple of atoms), "lookup" (args: container, s-op).
    """

    def __init__(self, op: str, args: tuple, origin: Span | None = None):
        super().__init__(origin)
        self.op = op
        self.args = args

    def parents(self) -> tuple[Lazy, ...]:
        return tuple(a for a in self.args if isinstance(a, Lazy))

    def describe(self) -> str:
        a = [describe_value(x) for x in self.args]
        if self.op in ("round", "indicator"):
            return f"{self.op}({a[0]})"
        if self.op == "lookup":
            return f"{a[0]}[{a[1]}]"
        level = _LEVELS.get(self.op, 0)
        b = [_bracketed(text, x, level, right=i > 0) for i, (text, x) in enumerate(zip(a, self.args, strict=True))]
        if self.op in BINARY_OPS or self.op in ("and", "or"):
            return f"{b[0]} {self.op} {b[1]}"
        if self.op in ("neg", "pos", "not"):
            sign = {"neg": "-", "pos": "+", "not": "not "}[self.op]
            return f"{sign}{b[0]}"
        if self.op == "ternary":
            return f"{b[1]} if {b[0]} else {b[2]}"
        if self.op == "in":
            return f"{b[0]} in {a[1]}"
        return self.op


# binding levels (lower binds tighter) of docs/reference.md, 'Expressions, tightest binding first',
# for brackets in descriptions
_LEVELS = {"neg": 0, "pos": 0, "not": 0, "^": 1, "*": 2, "/": 2, "%": 3, "+": 4, "-": 4,
           "==": 5, "!=": 5, "<": 5, ">": 5, "<=": 5, ">=": 5, "and": 6, "or": 6, "ternary": 7, "in": 8}


def _bracketed(text: str, value: Any, level: int, right: bool) -> str:
    """An operand's text inside an operator of binding `level`: `(a + 1) * b`, `a - b - 1`."""
    if not isinstance(value, Map) or value.label is not None or value.op not in _LEVELS:
        return text
    inner = _LEVELS[value.op]
    if inner > level or (inner == level and (right or level == 0)) or level == 0 and inner > 0:
        return f"({text})"
    return text


class Aggregate(SOp):
    def __init__(self, selector: Selector, sop: Any, default: Any = 0, origin: Span | None = None):
        super().__init__(origin)
        self.selector = selector
        self.sop = sop  # an SOp or an atom broadcast to every position
        self.default = default

    def parents(self) -> tuple[Lazy, ...]:
        return (self.selector, self.sop) if isinstance(self.sop, Lazy) else (self.selector,)

    def describe(self) -> str:
        return f"aggregate({self.selector.name}, {describe_value(self.sop)})"


class ExtremeAggregate(Aggregate):
    """aggregate_max / aggregate_min: the largest (smallest) selected value, default where none
    is selected (RASP-L's kqv reductions; docs/raspl.md, 'max and min aggregation')."""

    def __init__(self, selector: Selector, sop: Any, default: Any = 0, reduction: str = "max",
                 origin: Span | None = None):
        super().__init__(selector, sop, default, origin)
        assert reduction in ("max", "min")
        self.reduction = reduction

    def describe(self) -> str:
        # the default is a required argument here (docs/raspl.md, 'max and min aggregation'): always shown
        return (f"aggregate_{self.reduction}({self.selector.name}, {describe_value(self.sop)}, "
                f"{describe_value(self.default)})")


class SelectorWidth(SOp):
    def __init__(self, selector: Selector, origin: Span | None = None):
        super().__init__(origin)
        self.selector = selector

    def parents(self) -> tuple[Lazy, ...]:
        return (self.selector,)

    def describe(self) -> str:
        return f"selector_width({self.selector.name})"


# ----------------------------------------------------------------- selectors


class Select(Selector):
    """M[q][k] = key[k] op query[q]; key and query are s-ops or broadcast atoms."""

    def __init__(self, key: Any, query: Any, op: str, origin: Span | None = None):
        super().__init__(origin)
        assert op in COMPARISONS
        self.key = key
        self.query = query
        self.op = op

    def parents(self) -> tuple[Lazy, ...]:
        return tuple(a for a in (self.key, self.query) if isinstance(a, Lazy))

    def describe(self) -> str:
        return f"select({describe_value(self.key)}, {describe_value(self.query)}, {self.op})"


class SelectorCombination(Selector):
    """`and`, `or` of two selectors or `not` of one, elementwise on the matrices."""

    def __init__(self, op: str, args: tuple[Selector, ...], origin: Span | None = None):
        super().__init__(origin)
        assert op in ("and", "or", "not")
        self.op = op
        self.args = args

    def parents(self) -> tuple[Lazy, ...]:
        return self.args

    def describe(self) -> str:
        if self.op == "not":
            return f"not {self.args[0].name}"
        return f"{self.args[0].name} {self.op} {self.args[1].name}"


_TYPE_NAMES = (
    (bool, "a bool"), (int, "an int"), (float, "a float"), (str, "a string"), (list, "a list"),
    (dict, "a dict"), (SOp, "an s-op"), (Selector, "a selector"),
)


def ancestry(root: Lazy, skip: Container[int] = ()) -> list[Lazy]:
    """`root` and every node it depends on, each after its parents; nodes whose id is in
    `skip` (e.g. already evaluated) are left out. Iterative: graphs may be very deep."""
    order: list[Lazy] = []
    seen: set[int] = set()
    stack: list[tuple[Lazy, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in skip:
            continue
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for parent in reversed(node.parents()):
            if id(parent) not in skip and id(parent) not in seen:
                stack.append((parent, False))
    return order
