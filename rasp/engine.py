"""Evaluate s-op and selector graphs on inputs with NumPy.

An s-op's value on an input of length n is a `Seq`: a 1-D array plus its RASP
type ("ints", "floats", "strings", "bools"). A selector's value is an n×n bool
matrix, M[q][k] (row = query position, column = key position).

Every built-in operation is a handful of array operations: `select` is one
broadcast comparison, a numeric aggregate a masked matrix product, a categorical
aggregate a per-row min/max over integer codes, selector width a row sum.
Each evaluation memoises node -> value, so shared sub-graphs are computed once.
Python-only cases (mixed-type arithmetic, big ints) use NumPy's object arrays,
which apply the Python operator element by element in C loops.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import RaspTypeError, RaspValueError
from .values import (
    Aggregate,
    Lazy,
    Map,
    Primitive,
    Select,
    SelectorCombination,
    SelectorWidth,
    is_atom,
    type_name,
)

INT64_SAFE = 2**62
MAX_POWER_BITS = 1_000_000  # refuse integer powers whose result would be enormous


@dataclass
class Seq:
    """The value of an s-op on one input."""

    values: np.ndarray
    type: str  # "ints", "floats", "strings" or "bools"

    def to_list(self) -> list:
        """Plain Python atoms (big ints stay exact)."""
        return [_python_atom(v) for v in self.values.tolist()]

    def __len__(self) -> int:
        return len(self.values)


def _python_atom(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


# ------------------------------------------------------------------- inputs


def input_items(value: Any) -> list:
    """Validate a RASP input (non-empty string, list of atoms, or dict) -> its items."""
    if isinstance(value, str):
        items = list(value)
    elif isinstance(value, dict):
        items = list(value.keys())
    elif isinstance(value, list):
        items = value
    else:
        raise RaspTypeError(
            f"an input must be a string, a list or a dict, not {type_name(value)} {format_atom(value)}"
        )
    if not items:
        raise RaspValueError("the input is empty: an input needs at least one token")
    for i, item in enumerate(items):
        if isinstance(item, str) and "\x00" in item:
            raise RaspValueError(f"input token at position {i} contains the NUL character, which rasp does not support")
        if not is_atom(item):
            raise RaspTypeError(
                f"input tokens must be atoms (int, float, string, bool); position {i} holds {type_name(item)}"
            )
    return items


def format_atom(value: Any) -> str:
    value = _python_atom(value)
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float):
        return repr(value)
    return str(value)


# --------------------------------------------------------------- sequences

_CATEGORY = {bool: "bools", np.bool_: "bools", int: "ints", np.int64: "ints", float: "floats",
             np.float64: "floats", str: "strings", np.str_: "strings"}


def make_seq(array: np.ndarray) -> Seq:
    """Give an array its RASP type by SPEC §1.1, converting where the rule says so."""
    kind = array.dtype.kind
    if kind == "b":
        return Seq(array, "bools")
    if kind in "iu":
        return Seq(array.astype(np.int64, copy=False), "ints")
    if kind == "f":
        return Seq(array, "floats")
    if kind == "U":
        return Seq(array, "strings")
    return _seq_from_objects(array)


def _seq_from_objects(array: np.ndarray) -> Seq:
    items = array.tolist()
    categories = {_CATEGORY.get(type(v)) or _category_of(v) for v in items}
    if categories == {"strings"}:
        return Seq(np.array(items, dtype=str), "strings")
    if categories == {"bools"}:
        return Seq(np.array(items, dtype=bool), "bools")
    if categories <= {"ints", "bools"}:
        return Seq(_int_array([int(v) for v in items]), "ints")
    if categories <= {"ints", "floats"}:
        try:
            return Seq(np.array([float(v) for v in items], dtype=np.float64), "floats")
        except OverflowError:
            raise RaspValueError("an int in the sequence is too large to mix with floats") from None
    raise RaspTypeError(_mixed_types_message(items))


def _category_of(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "bools"
    if isinstance(value, (int, np.integer)):
        return "ints"
    if isinstance(value, (float, np.floating)):
        return "floats"
    if isinstance(value, (str, np.str_)):
        return "strings"
    return "other"


def _mixed_types_message(items: list) -> str:
    first: dict[str, int] = {}
    for i, v in enumerate(items):
        first.setdefault(_category_of(v), i)
    if "other" in first:
        i = first["other"]
        return f"a sequence holds {type_name(items[i])} at position {i}; s-op values must be atoms"
    (a, i), (b, j) = sorted(first.items(), key=lambda kv: kv[1])[:2]
    return (
        f"a sequence mixes {a} and {b}: {format_atom(items[i])} at position {i}, "
        f"{format_atom(items[j])} at position {j}"
    )


def _int_array(values: list[int]) -> np.ndarray:
    if all(-INT64_SAFE < v < INT64_SAFE for v in values):
        return np.array(values, dtype=np.int64)
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _seq_of_atom(value: Any, n: int) -> Seq:
    if isinstance(value, bool):
        return Seq(np.full(n, value, dtype=bool), "bools")
    if isinstance(value, int):
        return make_seq(_int_array([value] * n))
    if isinstance(value, float):
        return Seq(np.full(n, value, dtype=np.float64), "floats")
    return Seq(np.full(n, value, dtype=f"<U{max(1, len(value))}"), "strings")


# ---------------------------------------------------------------- evaluator


class Evaluation:
    """Evaluates graph nodes on one input, memoising every node it computes."""

    def __init__(self, items: list):
        self.items = items
        self.n = len(items)
        self.memo: dict[int, Any] = {}

    def value(self, node: Lazy) -> Any:
        """Seq for an s-op, bool matrix for a selector."""
        for current in _postorder(node, self.memo):
            try:
                with np.errstate(all="ignore"):  # failures are checked and reported as RASP errors
                    self.memo[id(current)] = self._compute(current)
            except (RaspValueError, RaspTypeError) as error:
                if current.origin is not None and not error.context:
                    error.add_context(current.origin, f"while computing `{current.name}`")
                raise
        return self.memo[id(node)]

    def _operand(self, value: Any) -> Seq:
        return self.memo[id(value)] if isinstance(value, Lazy) else _seq_of_atom(value, self.n)

    def _compute(self, node: Lazy) -> Any:
        if isinstance(node, Primitive):
            return primitive_value(node.primitive, self.items)
        if isinstance(node, Map):
            return map_value(node, self._map_operands(node))
        if isinstance(node, Select):
            return select_matrix(self._operand(node.key), self._operand(node.query), node.op)
        if isinstance(node, SelectorCombination):
            matrices = [self.memo[id(a)] for a in node.args]
            if node.op == "not":
                return ~matrices[0]
            return (matrices[0] & matrices[1]) if node.op == "and" else (matrices[0] | matrices[1])
        if isinstance(node, Aggregate):
            return aggregate_value(self.memo[id(node.selector)], self._operand(node.sop), node.default)
        if isinstance(node, SelectorWidth):
            return Seq(self.memo[id(node.selector)].sum(axis=1, dtype=np.int64), "ints")
        raise TypeError(f"unknown node {node!r}")


    def _map_operands(self, node: Map) -> list:
        if node.op == "lookup":  # (container, s-op)
            return [node.args[0], self._operand(node.args[1])]
        if node.op == "in":  # (s-op, tuple of atoms)
            return [self._operand(node.args[0]), node.args[1]]
        return [self._operand(a) for a in node.args]


def _postorder(root: Lazy, done: dict[int, Any]) -> list[Lazy]:
    """Nodes not yet in `done`, each after its parents (iterative: graphs may be deep)."""
    order: list[Lazy] = []
    seen: set[int] = set()
    stack: list[tuple[Lazy, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in done:
            continue
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for parent in reversed(node.parents()):
            if id(parent) not in done and id(parent) not in seen:
                stack.append((parent, False))
    return order


def evaluate(node: Lazy, value: Any) -> Any:
    """Evaluate `node` on a RASP input value (string, list or dict)."""
    return Evaluation(input_items(value)).value(node)


# --------------------------------------------------------------- primitives


def primitive_value(primitive: str, items: list) -> Seq:
    n = len(items)
    if primitive == "indices":
        return Seq(np.arange(n, dtype=np.int64), "ints")
    if primitive == "tokens_str":
        if all(isinstance(v, str) for v in items):
            return Seq(np.array(items, dtype=str), "strings")
        return Seq(np.array(list(map(str, items)), dtype=str), "strings")
    if primitive == "tokens_asis":
        array = np.empty(n, dtype=object)
        array[:] = items
        return make_seq(array)
    if primitive == "tokens_bool":
        return Seq(np.array(list(map(bool, items)), dtype=bool), "bools")
    convert = int if primitive == "tokens_int" else float
    try:
        converted = list(map(convert, items))
    except (ValueError, OverflowError, TypeError):
        for i, v in enumerate(items):
            try:
                convert(v)
            except (ValueError, OverflowError, TypeError):
                raise RaspValueError(
                    f"{primitive}: token {format_atom(v)} at position {i} is not {'an int' if convert is int else 'a number'}",
                ) from None
        raise
    if convert is int:
        return Seq(_int_array(converted), "ints")
    return Seq(np.array(converted, dtype=np.float64), "floats")


# ----------------------------------------------------------- elementwise ops

_PY_BINARY = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "%": operator.mod, "^": operator.pow, "==": operator.eq, "!=": operator.ne,
    "<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge,
}
_NP_COMPARE = {"==": np.equal, "!=": np.not_equal, "<": np.less, ">": np.greater,
               "<=": np.less_equal, ">=": np.greater_equal}
_NUMERIC = ("ints", "floats", "bools")


def map_value(node: Map, args: list) -> Seq:
    op = node.op
    if op in _PY_BINARY:
        return binary_op(op, args[0], args[1])
    if op in ("neg", "pos"):
        return unary_sign(op, args[0])
    if op == "not":
        return Seq(~truthiness(args[0]), "bools")
    if op == "indicator":
        return Seq(truthiness(args[0]).astype(np.int64), "ints")
    if op == "round":
        return round_seq(args[0])
    if op in ("and", "or"):
        a, b = truthiness(args[0]), truthiness(args[1])
        return Seq(a & b if op == "and" else a | b, "bools")
    if op == "ternary":
        return ternary(*args)
    if op == "in":
        return membership(args[0], args[1])
    if op == "lookup":
        return lookup(args[0], args[1])
    raise TypeError(f"unknown elementwise operation {op}")


def truthiness(seq: Seq) -> np.ndarray:
    values = seq.values
    if seq.type == "bools":
        return values
    if seq.type == "strings":
        return np.char.str_len(values) > 0
    if values.dtype == object:
        return np.array([bool(v) for v in values], dtype=bool)
    return values != 0


def _arith_array(seq: Seq) -> np.ndarray:
    """Numbers for arithmetic: bools count as ints (True + True == 2)."""
    return seq.values.astype(np.int64) if seq.type == "bools" else seq.values


def binary_op(op: str, a: Seq, b: Seq) -> Seq:
    if op in _NP_COMPARE:
        return Seq(compare(op, a, b), "bools")
    if a.type in _NUMERIC and b.type in _NUMERIC:
        return numeric_op(op, _arith_array(a), _arith_array(b))
    if a.type == "strings" and b.type == "strings" and op == "+":
        return Seq(np.strings.add(a.values, b.values), "strings")
    return object_op(op, a.values, b.values)


def compare(op: str, a: Seq, b: Seq) -> np.ndarray:
    """Python's comparison semantics, elementwise and broadcasting."""
    a_str, b_str = a.type == "strings", b.type == "strings"
    if a_str != b_str:
        if op in ("==", "!="):
            shape = np.broadcast_shapes(a.values.shape, b.values.shape)
            return np.full(shape, op == "!=", dtype=bool)
        raise RaspTypeError(
            f"cannot compare {a.type} with {b.type} using `{op}`: "
            f"{format_atom(a.values.flat[0])} {op} {format_atom(b.values.flat[0])}"
        )
    if _mixes_big_ints_with_floats(a.values, b.values):  # float64 would round the ints
        return _NP_COMPARE[op](a.values.astype(object), b.values.astype(object)).astype(bool)
    return _NP_COMPARE[op](a.values, b.values)


def _mixes_big_ints_with_floats(a: np.ndarray, b: np.ndarray) -> bool:
    kinds = {a.dtype.kind, b.dtype.kind}
    if "f" not in kinds or not kinds & {"i", "O"}:
        return False
    ints = a if a.dtype.kind in "iO" else b
    return _max_abs(ints) > 2**53


def numeric_op(op: str, a: np.ndarray, b: np.ndarray) -> Seq:
    if a.dtype == object or b.dtype == object or _may_overflow(op, a, b):
        return object_op(op, a.astype(object), b.astype(object))
    if op in ("/", "%") and not np.all(b != 0):
        raise _division_by_zero(op, a, b)
    if op == "+":
        return make_seq(a + b)
    if op == "-":
        return make_seq(a - b)
    if op == "*":
        return make_seq(a * b)
    if op == "/":
        return make_seq(np.true_divide(a, b, dtype=np.float64))
    if op == "%":
        with np.errstate(all="ignore"):
            return make_seq(np.remainder(a, b))
    return power(a, b)


def _max_abs(array: np.ndarray) -> float:
    """The largest magnitude in the array (exact for ints)."""
    if array.size == 0:
        return 0
    if array.dtype == object:
        return max(abs(v) for v in array.ravel().tolist())
    if array.dtype.kind in "iub":
        return int(np.max(np.abs(array.astype(np.int64))))
    return float(np.max(np.abs(array)))


def _may_overflow(op: str, a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype.kind != "i" or b.dtype.kind != "i":
        return False
    ma, mb = _max_abs(a), _max_abs(b)
    if op in ("+", "-"):
        return ma + mb >= INT64_SAFE
    if op == "*":
        return ma * mb >= INT64_SAFE
    if op == "^":
        return ma >= 2 and mb * math.log2(ma) >= 62
    return False


def _division_by_zero(op: str, a: np.ndarray, b: np.ndarray) -> RaspValueError:
    a, b = np.broadcast_arrays(a, b)
    i = int(np.flatnonzero(b == 0)[0])
    word = "division" if op == "/" else "modulo"
    return RaspValueError(
        f"{word} by zero at position {i}: {format_atom(a[i])} {op} {format_atom(b[i])}"
    )


def power(a: np.ndarray, b: np.ndarray) -> Seq:
    a_b, b_b = np.broadcast_arrays(a, b)
    if a.dtype.kind == "i" and b.dtype.kind == "i" and np.all(b >= 0):
        return make_seq(np.power(a, b))
    af, bf = a_b.astype(np.float64), b_b.astype(np.float64)
    bad = (af == 0) & (bf < 0)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise RaspValueError(f"0 cannot be raised to a negative power (position {i}: {format_atom(a_b[i])} ^ {format_atom(b_b[i])})")
    bad = (af < 0) & np.isfinite(af) & np.isfinite(bf) & (bf != np.floor(bf))
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise RaspValueError(
            f"a negative number to a fractional power has no real value (position {i}: "
            f"{format_atom(a_b[i])} ^ {format_atom(b_b[i])})"
        )
    with np.errstate(all="ignore"):
        result = np.power(af, bf)
    bad = ~np.isfinite(result) & np.isfinite(af) & np.isfinite(bf)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise RaspValueError(f"power too large at position {i}: {format_atom(a_b[i])} ^ {format_atom(b_b[i])}")
    return Seq(result, "floats")


def object_op(op: str, a: np.ndarray, b: np.ndarray) -> Seq:
    """Python's own operator per element (exotic cases: mixed types, big ints)."""
    function = _PY_BINARY[op]
    a, b = np.broadcast_arrays(a.astype(object), b.astype(object))
    if op == "^":
        _check_power_size(a, b)
    try:
        result = np.frompyfunc(function, 2, 1)(a, b)
    except Exception:  # noqa: BLE001 - whatever Python's operator raises, name the values
        raise _first_failure(op, function, a, b) from None
    return make_seq(np.asarray(result, dtype=object))


def power_too_large(base: Any, exponent: Any) -> bool:
    """Would the integer power base ^ exponent have more than MAX_POWER_BITS bits?"""
    if not (isinstance(base, int) and isinstance(exponent, int)) or exponent <= 0 or abs(base) < 2:
        return False
    return exponent * math.log2(abs(base)) > MAX_POWER_BITS


def _check_power_size(a: np.ndarray, b: np.ndarray) -> None:
    for i, (x, y) in enumerate(zip(a.tolist(), b.tolist())):
        if power_too_large(x, y):
            raise RaspValueError(f"power too large at position {i}: {format_atom(x)} ^ {format_atom(y)}")


def _first_failure(op: str, function, a: np.ndarray, b: np.ndarray) -> RaspValueError:
    for i, (x, y) in enumerate(zip(a.tolist(), b.tolist())):
        try:
            function(x, y)
        except ZeroDivisionError:
            word = "division" if op == "/" else ("modulo" if op == "%" else "power")
            return RaspValueError(f"{word} by zero at position {i}: {format_atom(x)} {op} {format_atom(y)}")
        except (TypeError, ValueError, OverflowError) as error:
            return RaspValueError(
                f"cannot compute {format_atom(x)} {op} {format_atom(y)} at position {i} "
                f"({type_name(x)} and {type_name(y)}: {error})"
            )
    return RaspValueError(f"cannot compute `{op}` on these values")


def unary_sign(op: str, seq: Seq) -> Seq:
    if seq.type == "strings":
        raise RaspTypeError(
            f"cannot apply unary `{'-' if op == 'neg' else '+'}` to strings (e.g. {format_atom(seq.values[0])})"
        )
    values = _arith_array(seq)
    return make_seq(-values if op == "neg" else +values)


def round_seq(seq: Seq) -> Seq:
    if seq.type == "strings":
        raise RaspTypeError(f"cannot round strings (e.g. {format_atom(seq.values[0])})")
    if seq.type != "floats":
        return make_seq(_arith_array(seq))
    values = seq.values
    if not np.all(np.isfinite(values)):
        i = int(np.flatnonzero(~np.isfinite(values))[0])
        raise RaspValueError(f"cannot round {format_atom(values[i])} (position {i}) to an int")
    rounded = np.rint(values)  # half to even, as Python's round
    if np.max(np.abs(rounded), initial=0) < INT64_SAFE:
        return Seq(rounded.astype(np.int64), "ints")
    return Seq(_int_array([round(v) for v in values.tolist()]), "ints")


def ternary(cond: Seq, then: Seq, otherwise: Seq) -> Seq:
    choose = truthiness(cond)
    if then.type == otherwise.type and then.values.dtype != object and otherwise.values.dtype != object:
        return make_seq(np.where(choose, then.values, otherwise.values))
    a, b = np.broadcast_arrays(then.values.astype(object), otherwise.values.astype(object))
    return make_seq(np.where(choose, a, b))


def _equal_to_atom(seq: Seq, atom: Any) -> np.ndarray:
    return compare("==", seq, _seq_of_atom(atom, 1))


def membership(seq: Seq, container: tuple) -> Seq:
    result = np.zeros(len(seq), dtype=bool)
    for atom in dict.fromkeys(container):
        result |= _equal_to_atom(seq, atom)
    return Seq(result, "bools")


def lookup(container: Any, seq: Seq) -> Seq:
    """container[s] elementwise, for a list, string or dict container."""
    uniques, inverse = np.unique(seq.values, return_inverse=True)
    found = []
    for key in uniques.tolist():
        found.append(_lookup_one(container, key, seq))
    array = np.empty(len(found), dtype=object)
    array[:] = found
    return make_seq(array[inverse.reshape(-1)])


def _lookup_one(container: Any, key: Any, seq: Seq) -> Any:
    matches = np.flatnonzero(seq.values == key) if seq.values.dtype != object else np.zeros(0)
    position = int(matches[0]) if matches.size else 0
    if isinstance(container, dict):
        if key not in container:
            raise RaspValueError(f"key {format_atom(key)} (position {position}) is not in the dict")
        value = container[key]
    else:
        if not isinstance(key, int):
            raise RaspTypeError(
                f"a list or string index must be an int, got {format_atom(key)} (position {position})"
            )
        if not -len(container) <= key < len(container):
            what = "string" if isinstance(container, str) else "list"
            raise RaspValueError(
                f"index {key} (position {position}) is out of range for a {what} of length {len(container)}"
            )
        value = container[key]
    if not is_atom(value):
        raise RaspTypeError(f"looking up {format_atom(key)} gives {type_name(value)}; s-op values must be atoms")
    return value


# ---------------------------------------------------------------- selectors


def select_matrix(key: Seq, query: Seq, op: str) -> np.ndarray:
    """M[q][k] = key[k] op query[q]."""
    n = max(len(key), len(query))
    k, q = key, query
    if k.type == "strings" and q.type == "strings":
        codes_k, codes_q = _shared_codes(k.values, q.values)
        k, q = Seq(codes_k, "ints"), Seq(codes_q, "ints")
    matrix = compare(op, Seq(k.values[None, :], k.type), Seq(q.values[:, None], q.type))
    return np.broadcast_to(matrix, (n, n))


def _shared_codes(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes with the same order as the strings of both arrays."""
    _, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    inverse = inverse.reshape(-1)
    return inverse[: len(a)], inverse[len(a):]


# ---------------------------------------------------------------- aggregate


def aggregate_value(matrix: np.ndarray, seq: Seq, default: Any) -> Seq:
    """SPEC §3.3: none selected -> default; one -> that value; several -> mean or the shared value."""
    n = matrix.shape[0]
    width = matrix.sum(axis=1)
    first = matrix.argmax(axis=1)
    picked = seq.values[first]
    many = width >= 2
    if np.any(many):
        if seq.type in ("ints", "floats"):
            picked = _numeric_mean(matrix, seq, width, picked, many)
        else:
            _check_all_equal(matrix, seq, many)
    none = width == 0
    if not np.any(none):
        return make_seq(picked)
    return _with_default(picked, none, default, seq.type, n)


def _numeric_mean(matrix, seq: Seq, width, picked, many) -> np.ndarray:
    """Means of the rows that select several positions; picks elsewhere.

    Sums run in position order, as Python's sum() does, so float means equal the
    reference's to the last bit (integer sums are exact either way).
    """
    rows = np.flatnonzero(many)
    sub = matrix[rows]
    try:
        result = picked.astype(np.float64)
        if seq.values.dtype == object or (seq.type == "ints" and _max_abs(seq.values) * len(seq) >= 2**53):
            exact = seq.values.astype(object)  # Python ints: exact sums, correctly rounded means
            means = [s / w for s, w in zip((sub.astype(object) @ exact).tolist(), width[rows].tolist())]
        elif seq.type == "floats":
            means = np.cumsum(np.where(sub, seq.values[None, :], 0.0), axis=1)[:, -1] / width[rows]
        else:
            means = (sub.astype(np.float64) @ seq.values.astype(np.float64)) / width[rows]
    except OverflowError:
        raise RaspValueError("aggregate: the values are too large to average as floats") from None
    result[rows] = means
    return result


def _check_all_equal(matrix, seq: Seq, many) -> None:
    _, codes = np.unique(seq.values, return_inverse=True)
    codes = codes.reshape(-1)
    rows = np.flatnonzero(many)
    sub = matrix[rows]
    big = np.iinfo(np.int64).max
    low = np.where(sub, codes[None, :], big).min(axis=1)
    high = np.where(sub, codes[None, :], -1).max(axis=1)
    mixed = low != high
    if np.any(mixed):
        r = int(rows[np.flatnonzero(mixed)[0]])
        selected = np.flatnonzero(matrix[r])
        shown = ", ".join(format_atom(seq.values[k]) for k in selected[:6])
        if len(selected) > 6:
            shown += ", …"
        hint = (
            "average bools with indicator(...), e.g. aggregate(sel, indicator(s))"
            if seq.type == "bools"
            else "a row that selects several positions must see equal values, or numbers to average"
        )
        raise RaspValueError(
            f"aggregate: row {r} selects {len(selected)} positions with different values ({shown}); "
            f"only numbers can be averaged",
            hint=hint,
        )


def _with_default(picked: np.ndarray, none: np.ndarray, default: Any, seq_type: str, n: int) -> Seq:
    if np.all(none):
        return _seq_of_atom(default, n)
    if seq_type == "strings" and not isinstance(default, str):
        r = int(np.flatnonzero(none)[0])
        raise RaspTypeError(
            f"aggregate of strings: row {r} selects nothing and falls back to the default "
            f"{format_atom(default)}, which mixes strings and numbers",
            hint='pass a string default, e.g. aggregate(sel, s, "-")',
        )
    filler = _seq_of_atom(default, n).values
    if picked.dtype == filler.dtype or (picked.dtype.kind == "U" and filler.dtype.kind == "U"):
        return make_seq(np.where(none, filler, picked))
    a, b = picked.astype(object), filler.astype(object)
    return make_seq(np.where(none, b, a))
