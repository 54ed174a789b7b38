"""A deliberately naive evaluator of s-op / selector graphs: the test oracle.

One Python value per position, Python's own operators, no NumPy, written
straight from docs/reference.md, 'Sequence types' and 'Semantics of s-ops and selectors'.
It is slow and simple on purpose: tests/test_engine_property.py compares
rasp.engine with it on random graphs and inputs.

An s-op evaluates to (values, type_name) with type_name one of "ints",
"floats", "strings", "bools"; a selector to a list of rows of bools, M[q][k].
Any failure raises an exception (NaiveError for the ones the reference names; a raw
Python exception such as TypeError is just as good: the comparison only asks
"do both sides fail").
"""

from __future__ import annotations

import math
import operator
from typing import Any

from rasp.values import Aggregate, Lazy, Map, Primitive, Select, SelectorCombination, SelectorWidth


class NaiveError(Exception):
    """An evaluation error of the naive evaluator."""


class Unsupported(Exception):
    """A case the oracle refuses to compute (a result too big to build in a test)."""


MAX_INT_BITS = 100_000  # refuse to build ints or strings bigger than this (a test is not a stress test)
MAX_STR_LEN = 100_000

BINARY = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "%": operator.mod, "^": operator.pow, "==": operator.eq, "!=": operator.ne,
    "<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge,
}


def is_atom(value: Any) -> bool:
    return type(value) in (bool, int, float, str)


def typed(values: list) -> tuple[list, str]:
    """The one type of a computed sequence (converting bools/ints where it says).

    docs/reference.md, 'Sequence types'.
    """
    kinds = set()
    for v in values:
        if not is_atom(v):
            raise NaiveError(f"not an atom: {v!r}")
        kinds.add(type(v))
    if kinds == {str}:
        return list(values), "strings"
    if kinds == {bool}:
        return list(values), "bools"
    if kinds <= {int, bool}:
        return [int(v) for v in values], "ints"
    if kinds <= {int, float, bool}:
        return [float(v) for v in values], "floats"  # float(huge int) raises OverflowError: an error
    raise NaiveError(f"mixed sequence types: {sorted(k.__name__ for k in kinds)}")


def truthy(value: Any) -> bool:
    return bool(value)


def _guard_size(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise Unsupported("int too large for the oracle")
    if isinstance(value, str) and len(value) > MAX_STR_LEN:
        raise Unsupported("string too long for the oracle")
    return value


def binary(op: str, x: Any, y: Any) -> Any:
    """One position of a binary elementwise operation: exactly Python's operator."""
    integers = type(x) in (int, bool) and type(y) in (int, bool)
    if op == "^" and integers and abs(x) >= 2 and y > 0 and y * math.log2(abs(x)) > MAX_INT_BITS:
        raise Unsupported("power too large for the oracle")
    if op == "*":
        for s, k in ((x, y), (y, x)):
            if isinstance(s, str) and type(k) in (int, bool) and len(s) * max(k, 0) > MAX_STR_LEN:
                raise Unsupported("string repetition too long for the oracle")
    return _guard_size(BINARY[op](x, y))


def mean(values: list) -> float:
    total = 0
    for v in values:
        total = total + v
    return total / len(values)


class NaiveEvaluation:
    """Evaluates nodes on one input (a list of atoms), position by position."""

    def __init__(self, items: list):
        self.items = list(items)
        self.n = len(self.items)
        if self.n == 0:
            raise NaiveError("empty input")
        self.memo: dict[int, Any] = {}

    # An operand is an s-op (its values) or an atom (broadcast, kept as it is).
    def operand(self, value: Any) -> list:
        if isinstance(value, Lazy):
            values, _type = self.value(value)
            return values
        if not is_atom(value):
            raise NaiveError(f"operand is not an atom or s-op: {value!r}")
        return [value] * self.n

    def value(self, node: Lazy) -> Any:
        key = id(node)
        if key not in self.memo:
            self.memo[key] = (node, self.compute(node))  # keep node alive so ids stay unique
        return self.memo[key][1]

    def compute(self, node: Lazy) -> Any:
        if isinstance(node, Primitive):
            return self.primitive(node.primitive)
        if isinstance(node, Map):
            return typed(self.map(node))
        if isinstance(node, Aggregate):
            return typed(self.aggregate(node))
        if isinstance(node, SelectorWidth):
            matrix = self.value(node.selector)
            return typed([sum(1 for selected in row if selected) for row in matrix])
        if isinstance(node, Select):
            return self.select(node)
        if isinstance(node, SelectorCombination):
            matrices = [self.value(a) for a in node.args]
            n = self.n
            if node.op == "not":
                return [[not matrices[0][q][k] for k in range(n)] for q in range(n)]
            if node.op == "and":
                return [[matrices[0][q][k] and matrices[1][q][k] for k in range(n)] for q in range(n)]
            return [[matrices[0][q][k] or matrices[1][q][k] for k in range(n)] for q in range(n)]
        raise NaiveError(f"unknown node {node!r}")

    # ------------------------------------------------------------ primitives

    def primitive(self, name: str) -> tuple[list, str]:
        w = self.items
        if name == "indices":
            return typed(list(range(self.n)))
        if name == "tokens_str":
            return typed([str(v) for v in w])
        if name == "tokens_int":
            return typed([_guard_size(int(v)) for v in w])
        if name == "tokens_float":
            return typed([float(v) for v in w])
        if name == "tokens_bool":
            return typed([bool(v) for v in w])
        if name == "tokens_asis":
            return typed(list(w))
        raise NaiveError(f"unknown primitive {name}")

    # ---------------------------------------------------------- elementwise

    def map(self, node: Map) -> list:
        op, args, n = node.op, node.args, self.n
        if op in BINARY:
            a, b = self.operand(args[0]), self.operand(args[1])
            return [binary(op, a[i], b[i]) for i in range(n)]
        if op == "neg":
            return [_guard_size(-v) for v in self.operand(args[0])]
        if op == "pos":
            return [+v for v in self.operand(args[0])]
        if op == "not":
            return [not truthy(v) for v in self.operand(args[0])]
        if op == "round":
            return [round(v) for v in self.operand(args[0])]
        if op == "indicator":
            return [1 if truthy(v) else 0 for v in self.operand(args[0])]
        if op == "and":
            a, b = self.operand(args[0]), self.operand(args[1])
            return [truthy(a[i]) and truthy(b[i]) for i in range(n)]
        if op == "or":
            a, b = self.operand(args[0]), self.operand(args[1])
            return [truthy(a[i]) or truthy(b[i]) for i in range(n)]
        if op == "ternary":
            c, t, e = (self.operand(a) for a in args)
            return [t[i] if truthy(c[i]) else e[i] for i in range(n)]
        if op == "in":
            values, container = self.operand(args[0]), args[1]
            return [any(v == atom for atom in container) for v in values]
        if op == "lookup":
            container, keys = args[0], self.operand(args[1])
            return [self.lookup_one(container, k) for k in keys]
        raise NaiveError(f"unknown elementwise operation {op}")

    @staticmethod
    def lookup_one(container: Any, key: Any) -> Any:
        if isinstance(container, dict):
            if key not in container:
                raise NaiveError(f"key {key!r} not in dict")
            value = container[key]
        else:
            if type(key) is bool:
                # Python accepts a bool as an index ([10, 20][True] == 20); the engine refuses
                # it and the reference is silent: an open question, not something to test.
                raise Unsupported("a bool used as a list or string index (ambiguous in the reference)")
            if type(key) is float and key.is_integer():
                key = int(key)  # docs/reference.md, 'Sequence types': a whole-number float indexes like that int
            if type(key) is not int:
                raise NaiveError(f"index {key!r} is not an int")
            if not -len(container) <= key < len(container):
                raise NaiveError(f"index {key} out of range")
            value = container[key]
        if not is_atom(value):
            raise NaiveError("looked-up value is not an atom")
        return value

    # ------------------------------------------------------------- selectors

    def select(self, node: Select) -> list[list[bool]]:
        keys, queries = self.operand(node.key), self.operand(node.query)
        compare = BINARY[node.op]
        matrix = []
        for q in range(self.n):
            row = []
            for k in range(self.n):
                result = compare(keys[k], queries[q])
                if type(result) is not bool:
                    raise NaiveError("comparison did not give a bool")
                row.append(result)
            matrix.append(row)
        return matrix

    # ------------------------------------------------------------- aggregate

    def aggregate(self, node: Aggregate) -> list:
        matrix = self.value(node.selector)
        values = self.operand(node.sop)
        out = []
        for q in range(self.n):
            selected = [values[k] for k in range(self.n) if matrix[q][k]]
            if not selected:
                out.append(node.default)
            elif len(selected) == 1:
                out.append(selected[0])
            elif all(type(v) in (int, float) for v in selected):
                out.append(mean(selected))
            elif all(v == selected[0] and type(v) is type(selected[0]) for v in selected):
                out.append(selected[0])
            else:
                raise NaiveError(f"aggregate: row {q} mixes {selected!r}")
        return out


def naive_value(node: Lazy, items: list) -> Any:
    """(values, type_name) for an s-op, a list of bool rows for a selector."""
    return NaiveEvaluation(items).value(node)
