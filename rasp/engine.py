"""Evaluate s-op and selector graphs on inputs — one input or a batch — with NumPy.

Values carry a leading batch axis. An s-op's value on B inputs of length n is a
`Seq`: a (B, n) array plus its RASP type ("ints", "floats", "strings", "bools");
a value that is the same for every input of the batch (`indices`, constants and
everything computed from them alone) keeps a batch axis of size 1 and is shared.
A selector's value is a bool array M[b, q, k] (row = query position, column = key
position) of shape (1 or B, 1 or n, 1 or n): an axis along which the matrix is
constant stays of size 1 (`select(1, 1, ==)` is a 1×1×1 array), so such
selectors cost nothing and the aggregates over them are cheap.

Every built-in operation is a handful of array operations, chosen by measurement:
`select` is one broadcast comparison (of ints narrowed to the smallest type that
holds them: int16 compares twice as fast as int64); a numeric aggregate is an
exact masked sum (einsum in float32/float64 where every partial sum is an exact
integer, running sums for select(indices, indices, <=), only the non-zero keys of
a mostly-zero s-op), computed in cache-sized row blocks — never a float64 copy of
the selector; a categorical aggregate compares each row with its first selected
value; selector width is a row count. Each evaluation memoises node -> value, so
shared sub-graphs are computed once, and once no node needs a selector any more
its array is written over by the next one. Python-only cases (mixed-type
arithmetic, big ints) use NumPy's object arrays, which apply the Python operator
element by element in C loops.

The walk of a graph is worked out once per root and kept (a _Plan: the nodes in
dependency order, when each selector array can be dropped, the memory estimate's
figures). Short inputs (n <= SMALL_LENGTH, where the fixed cost of each operation
dominates) take lean paths (aggregate_one, direct select comparisons), and the nodes
computed from indices and constants alone keep their values between evaluations of
the same length, as read-only arrays: `length` and select(indices, length - 1 - indices, ==)
are computed once for all inputs of length 16.

A batch is evaluated as one: when the inputs of a batch disagree on something
that decides a result's type (an aggregate that averages on one input and picks
on another, tokens_asis of ints beside floats) the batch splits into groups that
agree, and an error in a batch is narrowed down to the inputs that cause it.
Before computing, the memory the selectors will need is estimated and an input
that would not fit the budget (RASP_MEMORY_LIMIT) is refused with a RaspValueError.
"""

from __future__ import annotations

import contextvars
import copy
import math
import os
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import RaspError, RaspTypeError, RaspValueError
from .values import (
    PYTHON_BINARY,
    Aggregate,
    ExtremeAggregate,
    Lazy,
    Map,
    Primitive,
    Select,
    SelectorCombination,
    SelectorWidth,
    ancestry,
    exact_text,
    is_atom,
    type_name,
)

INT64_SAFE = 2**62
MAX_POWER_BITS = 1_000_000  # refuse integer powers whose result would be enormous
BLOCK_ELEMENTS = 1 << 18  # matrix elements per block of an aggregate's temporaries (cache-sized)
REUSE_BYTES = 1 << 20  # a selector array this big is written over by a later one once unused
SMALL_ELEMENTS = 64  # arrays up to this size take the paths with the fewest NumPy calls (fixed costs dominate)
KNOWN_LENGTHS = 8  # lengths for which a plan keeps the values of its input-free nodes
SMALL_LENGTH = 32  # one input up to this length: aggregates and selects skip the steps that pay off on long ones
BATCH_SELECTOR_ELEMENTS = 1 << 22  # inputs per batch chunk: one selector of the chunk has about this many elements


@dataclass
class Seq:
    """The value of an s-op: values of shape (n,) for one input, (1 or B, n) inside a batch."""

    values: np.ndarray
    type: str  # "ints", "floats", "strings" or "bools"

    def to_list(self) -> list:
        """Plain Python atoms (big ints stay exact)."""
        if self.values.dtype != object:
            return self.values.tolist()  # NumPy gives Python atoms
        return [_python_atom(v) for v in self.values.tolist()]

    def __len__(self) -> int:
        return self.values.shape[-1]


def _python_atom(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


class _Split(Exception):
    """The rows of a batch must be evaluated in separate groups (row positions of each)."""

    def __init__(self, groups: list[np.ndarray]):
        super().__init__("split")
        self.groups = groups


def _uniform(keys: list) -> Any:
    """The key shared by every row of a batch; rows with different keys split the batch.

    A key None means "this row fails": such rows are evaluated one by one, so that
    each gets its own error.
    """
    first = keys[0]
    if all(key == first for key in keys):
        return first
    groups: dict[Any, list[int]] = {}
    singles = []
    for row, key in enumerate(keys):
        if key is None:
            singles.append([row])
        else:
            groups.setdefault(key, []).append(row)
    raise _Split([np.array(rows) for rows in [*groups.values(), *singles]])


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
            f"an input must be a string, a list or a dict, not {type_name(value)} {exact_text(value)}"
        )
    if not items:
        raise RaspValueError("the input is empty: an input needs at least one token")
    if isinstance(value, str) and "\x00" not in value:
        return items  # one-character strings: atoms
    kinds = set(map(type, items))
    if kinds <= _ATOM_KINDS and not (str in kinds and _holds_nul(items, kinds)):
        return items
    for i, item in enumerate(items):
        if isinstance(item, str) and "\x00" in item:
            raise RaspValueError(f"input token at position {i} contains the NUL character, which rasp does not support")
        if not is_atom(item):
            raise RaspTypeError(
                f"input tokens must be atoms (int, float, string, bool); position {i} holds {type_name(item)}"
            )
    return items


_ATOM_KINDS = {str, int, float, bool}
_STR_ONLY = frozenset((str,))
_LENGTH_ONE = frozenset((1,))


def _holds_nul(items: list, kinds: set) -> bool:
    """Does a string among the items hold the NUL character?"""
    if kinds == _STR_ONLY:
        return "\x00" in "".join(items)  # one pass in C
    return any("\x00" in v for v in items if type(v) is str)


# ------------------------------------------------------------ memory budget

DEFAULT_MEMORY_LIMIT = 2 * 1024**3
MEMORY_LIMIT_VARIABLE = "RASP_MEMORY_LIMIT"
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2, "mib": 1024**2,
          "g": 1000**3, "gb": 1000**3, "gib": 1024**3, "t": 1000**4, "tb": 1000**4, "tib": 1024**4}


def parse_size(text: str) -> int | None:
    """A memory size such as "4G", "512MiB", "1.5GB" or "2000000" in bytes; None for "none"/"off"."""
    cleaned = text.strip().lower().replace(" ", "")
    if cleaned in ("none", "off", "unlimited"):
        return None
    number = cleaned.rstrip("kmgtib")
    unit = cleaned[len(number):]
    try:
        amount = float(number)
    except ValueError:
        raise ValueError(f'not a memory size: "{text}" (write e.g. 4G, 512M or none)') from None
    if unit not in _UNITS or not math.isfinite(amount) or amount <= 0:
        raise ValueError(f'not a memory size: "{text}" (write e.g. 4G, 512M or none)')
    return int(amount * _UNITS[unit])


def format_size(size: float) -> str:
    for unit, scale in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{int(size)} bytes"


_available_memory: list[int | None] = []


def _memory_available() -> int | None:
    """The memory the operating system says is available, read once (Linux: /proc/meminfo)."""
    if not _available_memory:
        found = None
        try:
            with open("/proc/meminfo") as meminfo:
                for line in meminfo:
                    if line.startswith("MemAvailable:"):
                        found = int(line.split()[1]) * 1024
                        break
        except (OSError, ValueError, IndexError):
            pass
        _available_memory.append(found)
    return _available_memory[0]


def memory_budget() -> int | None:
    """Bytes the selectors of one evaluation may use: RASP_MEMORY_LIMIT, else the smaller of
    2 GiB and half the available memory. None: no limit."""
    text = os.environ.get(MEMORY_LIMIT_VARIABLE)
    if text:
        try:
            return parse_size(text)
        except ValueError as error:
            raise RaspValueError(f"{MEMORY_LIMIT_VARIABLE}: {error}") from None
    available = _memory_available()
    return DEFAULT_MEMORY_LIMIT if available is None else min(DEFAULT_MEMORY_LIMIT, available // 2)


def _too_much_memory(n: int, batch: int, estimate: int, budget: int) -> RaspValueError:
    what = f"an input of length {n}" if batch == 1 else f"a batch of {batch} inputs of length {n}"
    return RaspValueError(
        f"{what} needs about {format_size(estimate)} for its selectors ({n}×{n} matrices), "
        f"more than the memory budget of {format_size(budget)}",
        hint=f"use a shorter input, or raise the budget with the environment variable {MEMORY_LIMIT_VARIABLE} "
        "(e.g. RASP_MEMORY_LIMIT=8G, or none) or `rasp --memory-limit 8G`",
    )


# --------------------------------------------------------------- sequences

_CATEGORY = {bool: "bools", np.bool_: "bools", int: "ints", np.int64: "ints", float: "floats",
             np.float64: "floats", str: "strings", np.str_: "strings"}


def make_seq(array: np.ndarray) -> Seq:
    """Give an array its RASP type by docs/reference.md, 'Sequence types', converting where the rule says so."""
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


def _row_type(items: list) -> str | None:
    """The type (docs/reference.md, 'Sequence types') of one sequence of Python atoms; None when it breaks the rule."""
    categories = {_CATEGORY.get(type(v)) or _category_of(v) for v in items}
    if len(categories) == 1:
        only = next(iter(categories))
        return None if only == "other" else only
    if categories <= {"ints", "bools"}:
        return "ints"
    if categories <= {"ints", "floats", "bools"}:  # a bool counts as a number (docs/reference.md, 'Sequence types')
        return "floats"
    return None


def _seq_from_objects(array: np.ndarray) -> Seq:
    """An object array (one sequence per batch row) as a typed Seq."""
    shape = array.shape
    rows = array.reshape(-1, shape[-1]).tolist()
    kinds = [_row_type(row) for row in rows]
    if len(rows) > 1:
        _uniform(kinds)
    kind = kinds[0]
    items = [v for row in rows for v in row]
    if kind is None:
        raise RaspTypeError(_mixed_types_message(items))
    if kind == "strings":
        return Seq(np.array(items, dtype=str).reshape(shape), "strings")
    if kind == "bools":
        return Seq(np.array(items, dtype=bool).reshape(shape), "bools")
    if kind == "ints":
        return Seq(_int_array([int(v) for v in items]).reshape(shape), "ints")
    try:
        return Seq(np.array([float(v) for v in items], dtype=np.float64).reshape(shape), "floats")
    except OverflowError:
        raise RaspValueError("an int in the sequence is too large to mix with floats") from None


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
    """Name a pair of values that cannot share a sequence: a string beside a number (bools,
    ints and floats all mix with each other)."""
    first: dict[str, int] = {}
    for i, v in enumerate(items):
        first.setdefault(_category_of(v), i)
    if "other" in first:
        i = first["other"]
        return f"a sequence holds {type_name(items[i])} at position {i}; s-op values must be atoms"
    numbers = sorted((i, kind) for kind, i in first.items() if kind != "strings")
    (i, a), (j, b) = sorted([(first["strings"], "strings"), numbers[0]])
    return (
        f"a sequence mixes {a} and {b}: {exact_text(items[i])} at position {i}, "
        f"{exact_text(items[j])} at position {j}"
    )


def _int_array(values: list[int]) -> np.ndarray:
    if all(-INT64_SAFE < v < INT64_SAFE for v in values):
        return np.array(values, dtype=np.int64)
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _seq_of_atom(value: Any, n: int = 1) -> Seq:
    """An atom as a (1, n) sequence (n = 1 broadcasts against any length)."""
    if isinstance(value, bool):
        return Seq(np.full((1, n), value, dtype=bool), "bools")
    if isinstance(value, int):
        return make_seq(_int_array([value] * n).reshape(1, n))
    if isinstance(value, float):
        return Seq(np.full((1, n), value, dtype=np.float64), "floats")
    return Seq(np.full((1, n), value, dtype=f"<U{max(1, len(value))}"), "strings")


_OPERAND_ATOMS: dict[tuple, Seq] = {}


def _operand_atom(value: Any) -> Seq:
    """_seq_of_atom(value) for an atom operand, made once: its array is read-only and shared
    (floats are not cached: 0.0 and -0.0 are equal keys)."""
    if isinstance(value, float) or (isinstance(value, int) and not -INT64_SAFE < value < INT64_SAFE):
        return _seq_of_atom(value)
    key = (type(value), value)
    seq = _OPERAND_ATOMS.get(key)
    if seq is None:
        seq = _seq_of_atom(value)
        seq.values.flags.writeable = False
        if len(_OPERAND_ATOMS) < 4096:
            _OPERAND_ATOMS[key] = seq
    return seq


def _full_length(seq: Seq, n: int) -> Seq:
    """seq with its position axis spread to n (a view)."""
    if seq.values.shape[-1] == n:
        return seq
    return Seq(np.broadcast_to(seq.values, (seq.values.shape[0], n)), seq.type)


def _flat(array: np.ndarray) -> np.ndarray:
    return np.asarray(array).reshape(-1)


def _first_true(mask: np.ndarray) -> int:
    """The first True position of a mask (for messages: with one input, the position in it)."""
    return int(np.flatnonzero(_flat(mask))[0])


# ---------------------------------------------------------------- causal mode

# `causal on` (docs/raspl.md, 'Causal mode'): every selector is restricted to the keys at or
# before its query, as in a decoder-only transformer's attention mask.
_CAUSAL = contextvars.ContextVar("rasp_causal", default=False)


class causal_mode:  # noqa: N801 - used as a function: `with causal_mode(on):`
    """Evaluations started inside this block are causal (on) or not (off). A class rather than a
    generator-based context manager: it is entered once per evaluation, and this is cheaper."""

    __slots__ = ("on", "_tokens")

    def __init__(self, on: bool = True):
        self.on = on
        self._tokens: list[contextvars.Token] = []

    def __enter__(self) -> None:
        self._tokens.append(_CAUSAL.set(self.on))

    def __exit__(self, *exc_info: object) -> None:
        _CAUSAL.reset(self._tokens.pop())


def is_causal() -> bool:
    """Are evaluations started now causal?"""
    return _CAUSAL.get()


def causal_mask(matrix: np.ndarray, n: int) -> np.ndarray:
    """A selector's M[b, q, k] on inputs of length n with every key after its query (k > q) unselected."""
    full = np.broadcast_to(matrix, (matrix.shape[0], n, n))
    return np.logical_and(full, np.tri(n, dtype=bool))


# ---------------------------------------------------------------- evaluator

try:  # NumPy 2's state of floating-point error handling is a context variable; np.errstate makes it anew each time
    from numpy._core._multiarray_umath import _make_extobj
    from numpy._core._ufunc_config import _extobj_contextvar

    _IGNORE_ALL: Any = _make_extobj(all="ignore")
except (ImportError, AttributeError, TypeError):  # another NumPy: np.errstate itself
    _IGNORE_ALL = None


class _FloatErrorsIgnored:
    """`with np.errstate(all="ignore")` for one short evaluation, at a fifth of its cost (measured
    with cachegrind: about 5,000 instructions against 24,000 with NumPy 2.4): the "ignore" state
    is made once."""

    __slots__ = ("_token", "_errstate")

    def __enter__(self) -> None:
        if _IGNORE_ALL is None:
            self._errstate = np.errstate(all="ignore")
            self._errstate.__enter__()
        else:
            self._token = _extobj_contextvar.set(_IGNORE_ALL)

    def __exit__(self, *exc_info: object) -> None:
        if _IGNORE_ALL is None:
            self._errstate.__exit__(*exc_info)
        else:
            _extobj_contextvar.reset(self._token)


def _selector_bytes(batch: int, n: int) -> int:
    return batch * n * n


class _Batch:
    """Evaluates graph nodes on B inputs of one length n, memoising every node it computes."""

    def __init__(self, rows: list[list], n: int, memo: dict[int, Any] | None = None,
                 plans: dict[tuple, _Plan] | None = None):
        self.rows = rows
        self.size = len(rows)
        self.n = n
        self.memo: dict[int, Any] = {} if memo is None else memo
        self.plans = plans  # (root, the memo's nodes) -> plan of what is left: shared by a split's groups
        self.alive: dict[int, Lazy] = {}  # the memo's nodes: kept alive so that their ids are not reused
        self.reusable: set[int] = set()  # selectors computed here whose one user may overwrite them
        self.owned: set[int] = set()  # selectors whose arrays this batch made and no other node shares
        self.spare: list[np.ndarray] = []  # arrays of selectors no longer needed, to write new ones into
        self.causal = is_causal()

    def compute(self, root: Lazy) -> Any:
        """Seq for an s-op, bool array for a selector (batch axis first); may raise _Split."""
        if self.memo:  # some nodes known already (a split batch, a second root): walk what is left
            plan = self._plan_past_memo(root)
        else:
            plan = plan_of(root)
        if self.plans is None:  # a group of a split batch needs less than the batch, which was checked
            self.check_memory(plan)
        if self.size == 1 and self.n <= SMALL_LENGTH and not self.memo:
            return self._compute_short(plan, root)
        self.reusable, self.owned = set(plan.reusable), set()  # about this call's nodes only
        memo = self.memo
        # short inputs: nodes computed from indices and constants alone keep their values between
        # evaluations of the same length (read-only arrays, never written over)
        known = plan.known_values(self.n, self.causal) if self.n <= SMALL_LENGTH and any(plan.input_free) else None
        try:
            with np.errstate(all="ignore"):  # failures are checked and reported as RASP errors
                for current, is_selector, released, free in zip(
                        plan.order, plan.selectors, plan.releases, plan.input_free, strict=True):
                    if free and known is not None:
                        self._known_into_memo(current, known)
                    else:
                        self._compute_into_memo(current)
                        if is_selector:
                            self.owned.add(id(current))
                    for key in released:
                        array = memo.pop(key, None)
                        if key in self.owned and array is not None and _worth_reusing(array):
                            self.spare.append(array)
                        self.owned.discard(key)
        finally:
            self.spare.clear()
        return memo[id(root)]

    def _compute_short(self, plan: _Plan, root: Lazy) -> Any:
        """compute() for one short input: every node's value stays in the memo (none is dropped or
        written over: the arrays are small), and once the input-free nodes' values at this length
        are all known, they go into the memo at once and only the other nodes are computed."""
        memo = self.memo
        known = plan.known_values(self.n, self.causal) if plan.free_nodes else None
        with _FloatErrorsIgnored():  # failures are checked and reported as RASP errors
            if known is not None and len(known) == len(plan.free_nodes):
                memo.update(known)
                self.alive.update(plan.free_nodes)
                self._compute_steps(plan.bound_steps)
            else:
                for node, free in zip(plan.order, plan.input_free, strict=True):
                    if free and known is not None:
                        self._known_into_memo(node, known)
                    else:
                        self._compute_into_memo(node)
        return memo[id(root)]

    def _compute_steps(self, steps: list[tuple[Lazy, Any]]) -> None:
        """_compute_into_memo of each (node, its compute method) in turn, for one input (no
        batch to split) with the dispatch on the node's type done beforehand."""
        memo, alive, causal = self.memo, self.alive, self.causal
        node = None
        try:
            for node, compute in steps:
                value = compute(self, node)
                if causal and isinstance(node, (Select, SelectorCombination)):
                    value = causal_mask(value, self.n)
                memo[id(node)] = value
                alive[id(node)] = node
        except (RaspValueError, RaspTypeError) as error:
            if node is not None and node.origin is not None and not error.context:
                error.add_context(node.origin, f"while computing `{node.name}`")
            raise

    def _known_into_memo(self, node: Lazy, known: dict[int, Any]) -> None:
        """An input-free node's value: the one computed before at this length, else computed now and kept."""
        key = id(node)
        value = known.get(key)
        if value is None:
            self._compute_into_memo(node)
            value = known[key] = self.memo[key]
            (value.values if isinstance(value, Seq) else value).flags.writeable = False
        else:
            self.memo[key] = value
            self.alive[key] = node

    def _compute_into_memo(self, node: Lazy) -> None:
        try:
            value = self._compute(node)
            if self.causal and isinstance(node, (Select, SelectorCombination)):
                value = causal_mask(value, self.n)
            self.memo[id(node)] = value
            self.alive[id(node)] = node
        except (RaspValueError, RaspTypeError) as error:
            if node.origin is not None and not error.context:
                error.add_context(node.origin, f"while computing `{node.name}`")
            if self.size > 1 and not self._shared_by_all_rows(node):
                half = self.size // 2
                raise _Split([np.arange(half), np.arange(half, self.size)]) from error
            raise

    def _plan_past_memo(self, root: Lazy) -> _Plan:
        """The plan of the nodes not in the memo. The groups of a split batch, and their groups, mostly
        have memos of the same nodes (a batch of many failing inputs is halved down to one group per
        failing input, each failing at the same node), so each such plan is made once."""
        if self.plans is None:
            return _Plan(ancestry(root, skip=self.memo), root)
        key = (id(root), frozenset(self.memo))
        plan = self.plans.get(key)
        if plan is None:
            plan = self.plans[key] = _Plan(ancestry(root, skip=self.memo), root)
        return plan

    def check_memory(self, plan: _Plan) -> None:
        estimate = self.memory_estimate(plan)
        budget = memory_budget()
        if budget is not None and estimate > budget:
            raise _too_much_memory(self.n, self.size, estimate, budget)

    def memory_estimate(self, plan: _Plan) -> int:
        """Peak bytes of the selectors alive at once while computing the plan, plus the s-ops and
        a block of temporaries (an upper bound: constant selectors take less)."""
        selector = _selector_bytes(self.size, self.n)
        temporaries = min(selector, BLOCK_ELEMENTS) * 8 * 2  # an aggregate's block: numbers and a mask
        return plan.selector_peak * selector + plan.sops * self.size * self.n * 8 + temporaries

    def _spare_array(self, shape: tuple) -> np.ndarray | None:
        for i, array in enumerate(self.spare):
            if array.shape == shape:
                return self.spare.pop(i)
        return None

    def _shared_by_all_rows(self, node: Lazy) -> bool:
        """Is the node's value the same for every input (its failure then is every input's)?"""
        if isinstance(node, Primitive):
            return node.primitive == "indices"
        return all(_batch_size(self.memo[id(p)]) == 1 for p in node.parents())

    def _operand(self, value: Any) -> Seq:
        return self.memo[id(value)] if isinstance(value, Lazy) else _operand_atom(value)

    def _compute(self, node: Lazy) -> Any:
        return _compute_method(node)(self, node)

    def _primitive(self, node: Primitive) -> Seq:
        return primitive_value(node.primitive, self.rows, self.n)

    def _map(self, node: Map) -> Seq:
        return _full_length(map_value(node, self._map_operands(node)), self.n)

    def _select(self, node: Select) -> np.ndarray:
        key, query = self._operand(node.key), self._operand(node.query)
        out = None
        if self.spare:
            shape = (max(key.values.shape[0], query.values.shape[0]), query.values.shape[-1], key.values.shape[-1])
            out = self._spare_array(shape)
        return select_matrix(key, query, node.op, out=out)

    def _aggregate(self, node: Aggregate) -> Seq:
        matrix, seq = self.memo[id(node.selector)], self._operand(node.sop)
        if self.size == 1 and self.n <= SMALL_LENGTH and seq.values.dtype != object:
            return aggregate_one(matrix, seq, node.default, self.n, _prefix_of(node.selector))
        return aggregate_value(matrix, seq, node.default, self.n, _prefix_of(node.selector))

    def _extreme_aggregate(self, node: ExtremeAggregate) -> Seq:
        return extreme_value(self.memo[id(node.selector)], self._operand(node.sop), node.default, self.n,
                             node.reduction)

    def _selector_width(self, node: SelectorWidth) -> Seq:
        return selector_width(self.memo[id(node.selector)], self.n)

    def _combine(self, node: SelectorCombination) -> np.ndarray:
        """and / or / not of selectors, written over an operand that nothing else needs."""
        matrices = [self.memo[id(a)] for a in node.args]
        if node.op == "not":
            return np.logical_not(matrices[0], out=self._reusable(node, matrices[0].shape))
        combine = np.logical_and if node.op == "and" else np.logical_or
        shape = _broadcast_shape(matrices[0].shape, matrices[1].shape)
        out = self._reusable(node, shape)
        return combine(matrices[0], matrices[1], out=self._spare_array(shape) if out is None else out)

    def _reusable(self, node: SelectorCombination, shape: tuple) -> np.ndarray | None:
        """A parent's array of this shape that this batch computed and only `node` uses, if any."""
        for parent in node.args:
            array = self.memo[id(parent)]
            if id(parent) in self.reusable and id(parent) in self.owned and array.shape == shape \
                    and sum(a is parent for a in node.args) == 1:
                self.reusable.discard(id(parent))
                self.owned.discard(id(parent))  # the array now holds `node`'s value
                return array
        return None

    def _map_operands(self, node: Map) -> list:
        if node.op == "lookup":  # (container, s-op)
            return [node.args[0], self._operand(node.args[1])]
        if node.op == "in":  # (s-op, tuple of atoms)
            return [self._operand(node.args[0]), node.args[1]]
        return [self._operand(a) for a in node.args]


_COMPUTE_BY_TYPE: dict[type, Any] = {
    Primitive: _Batch._primitive, Map: _Batch._map, Select: _Batch._select,
    SelectorCombination: _Batch._combine, Aggregate: _Batch._aggregate, SelectorWidth: _Batch._selector_width,
    ExtremeAggregate: _Batch._extreme_aggregate,
}


def _broadcast_shape(first: tuple, second: tuple) -> tuple:
    """np.broadcast_shapes of two selector shapes (each axis B or 1, n or 1), in plain Python:
    NumPy's makes arrays of the shapes to find it."""
    if first == second:
        return first
    if len(first) != len(second) or any(a != b and 1 not in (a, b) for a, b in zip(first, second, strict=True)):
        return np.broadcast_shapes(first, second)  # NumPy's error for shapes that do not broadcast
    return tuple(b if a == 1 else a for a, b in zip(first, second, strict=True))


def _compute_method(node: Lazy) -> Any:
    """The _Batch method that computes a node of this type."""
    compute = _COMPUTE_BY_TYPE.get(type(node))  # one look-up instead of a chain of isinstance
    if compute is None:
        compute = next((f for kind, f in _COMPUTE_BY_TYPE.items() if isinstance(node, kind)), None)
        if compute is None:
            raise TypeError(f"unknown node {node!r}")
    return compute


def _prefix_of(selector: Lazy) -> str | None:
    """"<" or "<=" for select(indices, indices, < or <=) (each query sees the keys before it), else None."""
    if not (isinstance(selector, Select) and selector.op in ("<", "<=")):
        return None
    on_indices = all(isinstance(p, Primitive) and p.primitive == "indices" for p in (selector.key, selector.query))
    return selector.op if on_indices else None


def _worth_reusing(array: np.ndarray) -> bool:
    return array.nbytes >= REUSE_BYTES and array.flags.c_contiguous and array.flags.writeable


def _batch_size(value: Any) -> int:
    return (value.values if isinstance(value, Seq) else value).shape[0]


def _count_users(order: list[Lazy]) -> dict[int, int]:
    """For each node of `order`, how many nodes of `order` use it."""
    users = {id(node): 0 for node in order}
    for node in order:
        for parent in set(node.parents()):
            if id(parent) in users:
                users[id(parent)] += 1
    return users


class _Plan:
    """How to compute a root from scratch, worked out once per graph (graphs never change):
    its nodes in dependency order, which are selectors, the selectors each step leaves
    unused (their arrays are dropped or written over), the selectors only one node uses,
    and the figures of the memory estimate."""

    __slots__ = ("order", "selectors", "releases", "reusable", "selector_peak", "sops", "input_free", "known",
                 "free_nodes", "bound_steps")

    def __init__(self, order: list[Lazy], root: Lazy):
        self.order = order
        self.selectors = [isinstance(node, (Select, SelectorCombination)) for node in order]
        users = _count_users(order)
        self.reusable = frozenset(id(node) for node, is_selector in zip(order, self.selectors, strict=True)
                                  if is_selector and users[id(node)] == 1 and node is not root)
        self.releases: list[tuple[int, ...]] = []
        live = peak = 0
        remaining = dict(users)
        for node, is_selector in zip(order, self.selectors, strict=True):
            live += is_selector
            peak = max(peak, live)
            released = []
            for parent in set(node.parents()):
                key = id(parent)
                if key in remaining:
                    remaining[key] -= 1
                    if remaining[key] == 0 and isinstance(parent, (Select, SelectorCombination)):
                        live -= 1
                        if parent is not root:
                            released.append(key)
            self.releases.append(tuple(released))
        self.selector_peak = peak
        self.sops = len(order) - sum(self.selectors)
        # nodes computed from indices and constants alone: their values depend on the length only
        free: set[int] = set()
        for node in order:
            if (isinstance(node, Primitive) and node.primitive == "indices") or (
                    not isinstance(node, Primitive) and all(id(p) in free for p in node.parents())):
                free.add(id(node))
        self.input_free = [id(node) in free for node in order]
        self.free_nodes = {id(node): node for node in order if id(node) in free}
        # the other nodes with their compute methods (_Batch._compute's dispatch, done once)
        self.bound_steps = [(node, _compute_method(node)) for node in order if id(node) not in free]
        # (length, causal) -> node id -> value of the input-free nodes
        self.known: dict[tuple[int, bool], dict[int, Any]] = {}

    def known_values(self, n: int, causal: bool) -> dict[int, Any]:
        """The input-free nodes' values at length n (in causal mode or not) computed so far,
        kept for a few lengths: a causal selector is another value than the full one."""
        values = self.known.get((n, causal))
        if values is None:
            if len(self.known) >= KNOWN_LENGTHS:
                del self.known[next(iter(self.known))]
            values = self.known[n, causal] = {}
        return values


_PLANS: weakref.WeakKeyDictionary[Lazy, _Plan] = weakref.WeakKeyDictionary()


def plan_of(root: Lazy) -> _Plan:
    """The cached plan of a root's whole graph."""
    plan = _PLANS.get(root)
    if plan is None:
        plan = _PLANS[root] = _Plan(ancestry(root), root)
    return plan


class Evaluation:
    """Evaluates graph nodes on one input, memoising every node it computes."""

    def __init__(self, items: list):
        self.items = items
        self.n = len(items)
        self._batch = _Batch([items], self.n)

    @property
    def memo(self) -> dict[int, Any]:
        return self._batch.memo

    def value(self, node: Lazy) -> Any:
        """Seq (values of shape (n,)) for an s-op, n×n bool matrix for a selector."""
        return _row_value(self._batch.compute(node), 0, self.n)


def _row_value(value: Any, row: int, n: int) -> Any:
    """One input's value out of a batch value."""
    if isinstance(value, Seq):
        values = value.values[row if value.values.shape[0] > 1 else 0]
        return Seq(values if values.shape == (n,) else np.broadcast_to(values, (n,)), value.type)
    matrix = value[row if value.shape[0] > 1 else 0]
    return matrix if matrix.shape == (n, n) else np.broadcast_to(matrix, (n, n))


def evaluate(node: Lazy, value: Any) -> Any:
    """Evaluate `node` on a RASP input value (string, list or dict)."""
    return Evaluation(input_items(value)).value(node)


# ------------------------------------------------------------------ batches


def evaluate_batch(node: Lazy, inputs: list) -> list:
    """Evaluate `node` on many inputs at once.

    Returns one entry per input, in order: (items, value) where value is a Seq
    (shape (n,)) or an n×n bool matrix, or (items or None, RaspError) for an input
    that fails; the error's message starts with "input i:" (i counts from 0).
    Inputs of equal length are stacked and evaluated together; an error in one
    input does not stop the others.
    """
    results: list = [None] * len(inputs)
    by_length: dict[int, list[int]] = {}
    validated: list = [None] * len(inputs)
    for index, value in enumerate(inputs):
        try:
            validated[index] = input_items(value)
        except RaspError as error:
            results[index] = (None, _for_input(error, index))
            continue
        by_length.setdefault(len(validated[index]), []).append(index)
    for n, indices in by_length.items():
        for chunk in _chunks(indices, _chunk_size(node, n, len(indices))):
            rows = [validated[i] for i in chunk]
            for positions, outcome in _evaluate_rows(node, rows, n, {}):
                for row, position in enumerate(positions.tolist()):  # row: in the outcome's batch
                    index = chunk[position]
                    if isinstance(outcome, RaspError):
                        results[index] = (rows[position], _for_input(copy.copy(outcome), index))
                    else:
                        results[index] = (rows[position], _row_value(outcome, row, n))
    return results


def _for_input(error: RaspError, index: int) -> RaspError:
    error.message = f"input {index}: {error.message}"
    return error


def _chunks(items: list, size: int) -> list[list]:
    return [items[start:start + size] for start in range(0, len(items), size)]


def _chunk_size(node: Lazy, n: int, count: int | None = None) -> int:
    """Inputs of length n per batch: selectors of about BATCH_SELECTOR_ELEMENTS, within the budget;
    no more than `count` (the inputs there are) when given."""
    size = max(1, BATCH_SELECTOR_ELEMENTS // (n * n))
    if count is not None:
        size = max(1, min(size, count))
    if size > 1:
        plan = plan_of(node)
        budget = memory_budget()
        while size > 1 and budget is not None and _Batch([[]] * size, n).memory_estimate(plan) > budget:
            size //= 2
    return size


def evaluate_given(node: Lazy, given: dict[Lazy, Seq], batch: int, n: int = 1) -> list[tuple[np.ndarray, Any]]:
    """Evaluate `node` where the nodes in `given` already have values, on `batch` rows of length n.

    Each given Seq has shape (batch, n) (or (1, n): the same for every row); nodes between
    them and `node` are computed from them, and no primitive may be needed. Returns
    [(row positions, Seq or RaspError)]: rows that fail apart from the others come apart.
    The compiler's value-set inference evaluates a map on points of its sources' values so.
    """
    memo: dict[int, Any] = {id(source): value for source, value in given.items()}
    return _evaluate_rows(node, [[None] * n for _ in range(batch)], n, memo)


def _evaluate_rows(node: Lazy, rows: list[list], n: int, memo: dict[int, Any],
                   plans: dict[tuple, _Plan] | None = None) -> list[tuple[np.ndarray, Any]]:
    """[(row positions, value or RaspError)] for a batch of rows, splitting it where needed.

    A value's batch axis follows its row positions (or has size 1: the same for all). `plans` (given
    to the groups of a split) keeps the plans of what is left past their memos.
    """
    batch = _Batch(rows, n, memo, plans)
    try:
        return [(np.arange(len(rows)), batch.compute(node))]
    except RaspError as error:
        return [(np.arange(len(rows)), error)]
    except _Split as split:
        pieces = []
        plans = {} if plans is None else plans
        for group in split.groups:
            sub_memo = {key: _take_rows(value, group) for key, value in batch.memo.items()}
            for positions, outcome in _evaluate_rows(node, [rows[i] for i in group], n, sub_memo, plans):
                pieces.append((group[positions], outcome))
        return pieces


def _take_rows(value: Any, rows: np.ndarray) -> Any:
    if isinstance(value, Seq):
        return Seq(value.values[rows], value.type) if value.values.shape[0] > 1 else value
    return value[rows] if value.shape[0] > 1 else value


# --------------------------------------------------------------- primitives


def primitive_value(primitive: str, rows: list[list], n: int) -> Seq:
    """A primitive s-op on a batch of inputs (rows of items, all of length n)."""
    if primitive == "indices":
        return Seq(np.arange(n, dtype=np.int64)[None, :], "ints")
    if primitive == "tokens_str":
        if len(rows) == 1 and set(map(type, rows[0])) == _STR_ONLY and set(map(len, rows[0])) == _LENGTH_ONE:
            return Seq(_characters(rows[0]), "strings")  # a string input: one character per token
        if all(set(map(type, row)) <= _STR_ONLY for row in rows):  # str subclasses take the path below
            return Seq(np.array(rows, dtype=str).reshape(len(rows), n), "strings")
        return Seq(np.array([_strings(row) for row in rows], dtype=str).reshape(len(rows), n), "strings")
    if primitive == "tokens_asis":
        array = np.empty((len(rows), n), dtype=object)
        for b, row in enumerate(rows):
            array[b, :] = row
        return make_seq(array)
    if primitive == "tokens_bool":
        return Seq(np.array([list(map(bool, row)) for row in rows], dtype=bool).reshape(len(rows), n), "bools")
    convert = int if primitive == "tokens_int" else float
    failures = [_conversion_failure(primitive, convert, row) for row in rows]
    if len(rows) > 1:
        _uniform([None if failure else "ok" for failure in failures])
    if failures[0]:
        raise failures[0]
    converted = [convert(v) for row in rows for v in row]
    if convert is int:
        return Seq(_int_array(converted).reshape(len(rows), n), "ints")
    return Seq(np.array(converted, dtype=np.float64).reshape(len(rows), n), "floats")


def _characters(row: list[str]) -> np.ndarray:
    """One row of one-character strings as a (1, n) "<U1" array: its UTF-32 code units, one buffer
    (several times faster than np.array on the list)."""
    return np.frombuffer(bytearray("".join(row).encode("utf-32-le", "surrogatepass")), dtype="<U1").reshape(1, len(row))


def _strings(row: list) -> list[str]:
    try:
        return list(map(str, row))
    except ValueError:  # an int over Python's limit on int digits
        i = next(i for i, v in enumerate(row) if isinstance(v, int) and v.bit_length() > 10_000)
        raise RaspValueError(
            f"tokens_str: token {exact_text(row[i])} at position {i} is an int too long to turn into a string"
        ) from None


def _conversion_failure(primitive: str, convert, row: list) -> RaspValueError | None:
    try:
        list(map(convert, row))
        return None
    except (ValueError, OverflowError, TypeError):
        pass
    for i, v in enumerate(row):
        try:
            convert(v)
        except (ValueError, OverflowError, TypeError):
            return RaspValueError(
                f"{primitive}: token {exact_text(v)} at position {i} is not "
                f"{'an int' if convert is int else 'a number'}",
            )
    return None


# ----------------------------------------------------------- elementwise ops

_NP_COMPARE = {"==": np.equal, "!=": np.not_equal, "<": np.less, ">": np.greater,
               "<=": np.less_equal, ">=": np.greater_equal}
_NUMERIC = ("ints", "floats", "bools")


def map_value(node: Map, args: list) -> Seq:
    op = node.op
    if op in PYTHON_BINARY:
        try:
            return binary_op(op, args[0], args[1])
        except RaspTypeError as error:
            error.every_input = no_input_works(node, error)  # read by the interpreter's warning
            raise
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
        return np.array([bool(v) for v in _flat(values).tolist()], dtype=bool).reshape(values.shape)
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


def compare(op: str, a: Seq, b: Seq, out: np.ndarray | None = None) -> np.ndarray:
    """Python's comparison semantics, elementwise and broadcasting (into `out` if given and possible)."""
    a_str, b_str = a.type == "strings", b.type == "strings"
    if a_str != b_str:
        if op in ("==", "!="):
            shape = np.broadcast_shapes(a.values.shape, b.values.shape)
            return np.full(shape, op == "!=", dtype=bool)
        raise RaspTypeError(
            f"cannot compare {a.type} with {b.type} using `{op}`: "
            f"{exact_text(a.values.flat[0])} {op} {exact_text(b.values.flat[0])}"
        )
    if _mixes_big_ints_with_floats(a.values, b.values):  # float64 would round the ints
        return _NP_COMPARE[op](a.values.astype(object), b.values.astype(object)).astype(bool)
    return _NP_COMPARE[op](a.values, b.values, out=out)


def _mixes_big_ints_with_floats(a: np.ndarray, b: np.ndarray) -> bool:
    kinds = {a.dtype.kind, b.dtype.kind}
    if "f" not in kinds or not kinds & {"i", "O"}:
        return False
    ints = a if a.dtype.kind in "iO" else b
    return _max_abs(ints) > 2**53


def numeric_op(op: str, a: np.ndarray, b: np.ndarray) -> Seq:
    if a.dtype == object or b.dtype == object or _may_overflow(op, a, b):
        return object_op(op, a.astype(object), b.astype(object))
    if op in ("/", "%") and _has_zero(b):
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
        return make_seq(np.remainder(a, b))
    return power(a, b)


def _has_zero(array: np.ndarray) -> bool:
    """Does the (int, float or bool) array hold a zero?"""
    if array.size <= SMALL_ELEMENTS:
        return 0 in array.ravel().tolist()  # Python atoms: cheaper than an array reduction when short
    return not np.asarray(array).all()


def _max_abs(array: np.ndarray) -> float:
    """The largest magnitude in the array (exact for ints)."""
    if array.size == 0:
        return 0
    if array.dtype == object:
        return max(abs(v) for v in _flat(array).tolist())
    if array.size <= SMALL_ELEMENTS and array.dtype.kind in "iu":
        return max(map(abs, array.ravel().tolist()))  # Python ints: faster than two array passes when short
    if array.dtype.kind in "iub":
        return int(np.max(np.abs(array.astype(np.int64))))
    return float(np.max(np.abs(array)))


def _may_overflow(op: str, a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype.kind != "i" or b.dtype.kind != "i" or op not in _OVERFLOWING:
        return False
    ma, mb = _max_abs(a), _max_abs(b)
    if op in ("+", "-"):
        return ma + mb >= INT64_SAFE
    if op == "*":
        return ma * mb >= INT64_SAFE
    if op == "^":
        return ma >= 2 and mb * math.log2(ma) >= 62
    return False


_OVERFLOWING = frozenset(("+", "-", "*", "^"))  # the int operations whose result may leave int64


def _division_by_zero(op: str, a: np.ndarray, b: np.ndarray) -> RaspValueError:
    a, b = (_flat(x) for x in np.broadcast_arrays(a, b))
    i = _first_true(b == 0)
    word = "division" if op == "/" else "modulo"
    return RaspValueError(
        f"{word} by zero at position {i}: {exact_text(a[i])} {op} {exact_text(b[i])}"
    )


def power(a: np.ndarray, b: np.ndarray) -> Seq:
    a_b, b_b = np.broadcast_arrays(a, b)
    if a.dtype.kind == "i" and b.dtype.kind == "i":
        exponents_natural = _uniform((b_b >= 0).reshape(b_b.shape[0], -1).all(axis=1).tolist())
        if exponents_natural:
            return make_seq(np.power(a, b))
    af, bf = a_b.astype(np.float64), b_b.astype(np.float64)
    _refuse_at(
        (af == 0) & (bf < 0), a_b, b_b,
        lambda i, x, y: f"0 cannot be raised to a negative power (position {i}: {x} ^ {y})",
    )
    _refuse_at(
        (af < 0) & np.isfinite(af) & np.isfinite(bf) & (bf != np.floor(bf)), a_b, b_b,
        lambda i, x, y: f"a negative number to a fractional power has no real value (position {i}: {x} ^ {y})",
    )
    result = np.power(af, bf)
    _refuse_at(
        ~np.isfinite(result) & np.isfinite(af) & np.isfinite(bf), a_b, b_b,
        lambda i, x, y: f"power too large at position {i}: {x} ^ {y}",
    )
    return Seq(result, "floats")


def _refuse_at(bad: np.ndarray, a: np.ndarray, b: np.ndarray, message) -> None:
    if np.any(bad):
        i = _first_true(bad)
        raise RaspValueError(message(i, exact_text(_flat(a)[i]), exact_text(_flat(b)[i])))


def object_op(op: str, a: np.ndarray, b: np.ndarray) -> Seq:
    """Python's own operator per element (exotic cases: mixed types, big ints)."""
    function = PYTHON_BINARY[op]
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
    for i, (x, y) in enumerate(zip(_flat(a).tolist(), _flat(b).tolist(), strict=True)):
        if power_too_large(x, y):
            raise RaspValueError(f"power too large at position {i}: {exact_text(x)} ^ {exact_text(y)}")


def _first_failure(op: str, function, a: np.ndarray, b: np.ndarray) -> RaspValueError:
    for i, (x, y) in enumerate(zip(_flat(a).tolist(), _flat(b).tolist(), strict=True)):
        try:
            function(x, y)
        except ZeroDivisionError:
            word = "division" if op == "/" else ("modulo" if op == "%" else "power")
            return RaspValueError(f"{word} by zero at position {i}: {exact_text(x)} {op} {exact_text(y)}")
        except TypeError:
            return RaspTypeError(  # worded in RASP's types (docs/reference.md, 'Sequence types'), not Python's
                f"`{op}` cannot combine {_type_word(x)} with {_type_word(y)}: "
                f"{exact_text(x)} {op} {exact_text(y)} at position {i}"
            )
        except (ValueError, OverflowError) as error:
            return RaspValueError(
                f"cannot compute {exact_text(x)} {op} {exact_text(y)} at position {i} "
                f"({type_name(x)} and {type_name(y)}: {error})"
            )
    return RaspValueError(f"cannot compute `{op}` on these values")


def _type_word(value: Any) -> str:
    """RASP's name of an atom's type: strings, ints, floats, bools."""
    return _category_of(value) if _category_of(value) != "other" else type_name(value)


# s-ops whose type is the same on every input (the others, tokens_asis and what is computed
# from it, take their type from the input)
_FIXED_TYPES = {"tokens_str": "strings", "tokens_int": "ints", "tokens_float": "floats", "tokens_bool": "bools",
                "indices": "ints"}


def fixed_type(value: Any) -> str | None:
    """The type an operand has on every input, if that is known without an input (None: it
    depends on the input). For telling "no input works" from "this input fails"."""
    if is_atom(value):
        return _category_of(value)
    if isinstance(value, Primitive):
        return _FIXED_TYPES.get(value.primitive)
    if isinstance(value, SelectorWidth):
        return "ints"
    if isinstance(value, Map) and value.op in (*_NP_COMPARE, "not", "and", "or", "in"):
        return "bools"
    if isinstance(value, Map) and value.op in PYTHON_BINARY:
        a, b = (fixed_type(arg) for arg in value.args)
        if a == b == "strings" and value.op == "+":
            return "strings"
        if a in _NUMERIC and b in _NUMERIC and value.op != "/":
            return "floats" if "floats" in (a, b) else "ints"
    return None


def no_input_works(node: Map, error: RaspError) -> bool:
    """Does a binary operation fail on its operands' types whatever the input (`tokens + 1`)?"""
    return (isinstance(error, RaspTypeError) and node.op in PYTHON_BINARY
            and all(fixed_type(arg) is not None for arg in node.args))


def unary_sign(op: str, seq: Seq) -> Seq:
    if seq.type == "strings":
        raise RaspTypeError(
            f"cannot apply unary `{'-' if op == 'neg' else '+'}` to strings (e.g. {exact_text(seq.values.flat[0])})"
        )
    values = _arith_array(seq)
    return make_seq(-values if op == "neg" else +values)


def round_seq(seq: Seq) -> Seq:
    if seq.type == "strings":
        raise RaspTypeError(f"cannot round strings (e.g. {exact_text(seq.values.flat[0])})")
    if seq.type != "floats":
        return make_seq(_arith_array(seq))
    values = seq.values
    if values.size and _int64_sized(values):
        return Seq(np.rint(values).astype(np.int64), "ints")  # half to even, as Python's round
    if not np.isfinite(values).all():
        i = _first_true(~np.isfinite(values))
        raise RaspValueError(f"cannot round {exact_text(_flat(values)[i])} (position {i}) to an int")
    rounded = np.rint(values)  # half to even, as Python's round
    if np.max(np.abs(rounded), initial=0) < INT64_SAFE:
        return Seq(rounded.astype(np.int64), "ints")
    return Seq(_int_array([round(v) for v in _flat(values).tolist()]).reshape(values.shape), "ints")


def _int64_sized(values: np.ndarray) -> bool:
    """Are the (non-empty) floats finite and of magnitude below INT64_SAFE?"""
    if values.size <= SMALL_ELEMENTS:  # Python floats: cheaper than array reductions when short
        floats = values.ravel().tolist()
        # a NaN or an infinity makes the sum NaN or infinite (as does a sum too large: then False, to be safe)
        return math.isfinite(sum(floats)) and -INT64_SAFE < min(floats) and max(floats) < INT64_SAFE
    return bool(np.abs(values).max() < INT64_SAFE)  # one check: NaN fails it


def ternary(cond: Seq, then: Seq, otherwise: Seq) -> Seq:
    choose = truthiness(cond)
    if then.type == otherwise.type and then.values.dtype != object and otherwise.values.dtype != object:
        return make_seq(np.where(choose, then.values, otherwise.values))
    a, b = np.broadcast_arrays(then.values.astype(object), otherwise.values.astype(object))
    return make_seq(np.where(choose, a, b))


def _equal_to_atom(seq: Seq, atom: Any) -> np.ndarray:
    return compare("==", seq, _seq_of_atom(atom))


def membership(seq: Seq, container: tuple) -> Seq:
    result = np.zeros(seq.values.shape, dtype=bool)
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
    return make_seq(array[inverse.reshape(seq.values.shape)])


def _lookup_one(container: Any, key: Any, seq: Seq) -> Any:
    values = _flat(seq.values)
    matches = np.flatnonzero(values == key) if values.dtype != object else np.zeros(0)
    position = int(matches[0]) if matches.size else 0
    if isinstance(container, dict):
        if key not in container:
            raise RaspValueError(f"key {exact_text(key)} (position {position}) is not in the dict")
        value = container[key]
    else:
        if isinstance(key, float) and key.is_integer():
            key = int(key)  # a whole-number float indexes like that int (docs/reference.md, 'Sequence types')
        if not isinstance(key, int):
            raise RaspTypeError(
                f"a list or string index must be an int, got {exact_text(key)} (position {position})"
            )
        if not -len(container) <= key < len(container):
            what = "string" if isinstance(container, str) else "list"
            raise RaspValueError(
                f"index {exact_text(key)} (position {position}) is out of range for a {what} "
                f"of length {len(container)}"
            )
        value = container[key]
    if not is_atom(value):
        raise RaspTypeError(f"looking up {exact_text(key)} gives {type_name(value)}; s-op values must be atoms")
    return value


# ---------------------------------------------------------------- selectors


def select_matrix(key: Seq, query: Seq, op: str, out: np.ndarray | None = None) -> np.ndarray:
    """M[b, q, k] = key[b, k] op query[b, q]; axes along which M is constant keep size 1.

    out: an array of the result's shape to write into, if the comparison allows.
    """
    k, q = key, query
    if (k.type == "strings") != (q.type == "strings") and op in ("==", "!="):
        return np.full((1, 1, 1), op == "!=", dtype=bool)  # strings never equal numbers
    if max(k.values.shape[-1], q.values.shape[-1]) <= SMALL_LENGTH and k.values.dtype != object \
            and q.values.dtype != object:  # short: compare directly (strings in code-point order, as Python)
        return compare(op, Seq(k.values[:, None, :], k.type), Seq(q.values[:, :, None], q.type), out)
    if k.type == "strings" and q.type == "strings":
        codes_k, codes_q = _shared_codes(k.values, q.values)
        k, q = Seq(codes_k, "ints"), Seq(codes_q, "ints")
    if k.values.dtype.kind == "i" and q.values.dtype.kind == "i":
        k, q = _narrowed(k, q)
    return compare(op, Seq(k.values[:, None, :], k.type), Seq(q.values[:, :, None], q.type), out)


def _narrowed(a: Seq, b: Seq) -> tuple[Seq, Seq]:
    """Int sequences in the smallest int type that holds both (an n×n comparison of int16 takes
    less than half the time of int64)."""
    low = min(int(a.values.min()), int(b.values.min()))
    high = max(int(a.values.max()), int(b.values.max()))
    for kind in (np.int8, np.int16, np.int32):
        limits = np.iinfo(kind)
        if limits.min <= low and high <= limits.max:
            return Seq(a.values.astype(kind), a.type), Seq(b.values.astype(kind), b.type)
    return a, b


def _shared_codes(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes with the same order as the strings of both arrays."""
    _, inverse = np.unique(np.concatenate([_flat(a), _flat(b)]), return_inverse=True)
    inverse = inverse.reshape(-1)
    return inverse[: a.size].reshape(a.shape), inverse[a.size:].reshape(b.shape)


def _count_rows(matrix: np.ndarray) -> np.ndarray:
    """The number of True per row (last axis) of a bool array, as int64."""
    counter = np.uint16 if matrix.shape[-1] < 2**16 else np.int64
    return matrix.view(np.uint8).sum(axis=-1, dtype=counter).astype(np.int64)


def selector_width(matrix: np.ndarray, n: int) -> Seq:
    """The number of selected keys of each query row."""
    if matrix.shape[2] == 1:  # each row selects every key or none
        width = matrix[:, :, 0].astype(np.int64) * n
    else:
        width = _count_rows(matrix)
    return Seq(np.broadcast_to(width, (width.shape[0], n)), "ints")


# ---------------------------------------------------------------- aggregate

_TYPE_OF_DEFAULT = {bool: "bools", int: "ints", float: "floats", str: "strings"}


def _combined_type(a: str, b: str) -> str | None:
    """docs/reference.md, 'Sequence types', for a sequence holding values of two types; None if they cannot mix."""
    if a == b:
        return a
    pair = {a, b}
    if pair == {"ints", "bools"}:
        return "ints"
    if pair in ({"ints", "floats"}, {"bools", "floats"}):
        return "floats"
    return None


def aggregate_value(matrix: np.ndarray, seq: Seq, default: Any, n: int, prefix: str | None = None) -> Seq:
    """docs/reference.md, '`aggregate(sel, s [, default])`':
    none selected -> default; one -> that value; several -> mean or the shared value.

    prefix "<" or "<=": the selector is select(indices, indices, prefix), whose row sums
    are running sums.
    """
    values = _full_length(seq, n).values
    batch = max(matrix.shape[0], values.shape[0])
    rows = matrix.shape[1]
    if matrix.shape[2] == 1:  # each query row selects every key or none
        width = matrix[:, :, 0].astype(np.int64) * n
        first = np.zeros(width.shape, dtype=np.int64)
    else:
        width = _count_rows(matrix)
        first = matrix.argmax(axis=-1)
    width = np.broadcast_to(width, (batch, rows))
    picked = np.take_along_axis(np.broadcast_to(values, (batch, n)), np.broadcast_to(first, (batch, rows)), axis=-1)
    many, none = width >= 2, width == 0
    numeric = seq.type in ("ints", "floats")
    result_type = _uniform(_aggregate_types(seq.type, numeric, default, many, none))
    if result_type is None:
        _refuse_mixed_default(seq.type, default, none)
    if np.all(none):
        return _seq_of_atom(default, n)
    if np.any(many):
        if numeric:
            picked = _numeric_mean(matrix, values, width, picked, many, batch, prefix)
        else:
            _check_all_equal(matrix, values, first, many, seq.type, batch)
    if np.any(none):
        picked = _with_default(picked, none, default)
    return make_seq(np.broadcast_to(picked, (batch, n)) if rows == 1 else picked)


def aggregate_one(matrix: np.ndarray, seq: Seq, default: Any, n: int, prefix: str | None = None) -> Seq:
    """aggregate_value for one short input (batch size 1): the same rules in fewer array operations."""
    values = seq.values[0] if seq.values.shape[-1] == n else np.broadcast_to(seq.values[0], (n,))
    if matrix.shape == (1, 1, 1):  # every row selects every key, or none does (e.g. `length`)
        return _aggregate_all_or_none(bool(matrix[0, 0, 0]), values, seq.type, default, n)
    full = matrix[0] if matrix.shape[1:] == (n, n) else np.broadcast_to(matrix[0], (n, n))
    width = np.dot(full, _ones(n))  # the row counts, int64: a short dot costs less than a sum along an axis
    widths = width.tolist()
    fewest, most = min(widths), max(widths)
    default_type = _TYPE_OF_DEFAULT[type(default)]
    if most == 0:
        return _seq_of_atom(default, n)
    numeric = seq.type in ("ints", "floats")
    picked_type = "floats" if most >= 2 and numeric else seq.type
    none = width == 0
    if fewest == 0 and _combined_type(picked_type, default_type) is None:
        _refuse_mixed_default(seq.type, default, none)
    if most >= 2 and numeric and values.dtype.kind == "i" and prefix is None and _max_abs(values) * n < 2**53:
        # exact int64 sums; a row of one key gives that key's value (as a float, like the means)
        picked = np.dot(full, values) / (width if fewest else np.maximum(width, 1))
    else:
        first = full.argmax(axis=1)
        picked = values[first]
        if most >= 2:
            many = width >= 2
            if numeric:
                picked = _numeric_mean(full[None], values[None], width[None], picked[None], many[None], 1, prefix)[0]
            else:
                _check_all_equal(full[None], values[None], first[None], many[None], seq.type, 1)
    if fewest == 0:
        picked = _with_default(picked, none, default)
    return make_seq(picked.reshape(1, n))


_ONES: dict[int, np.ndarray] = {}


def _ones(n: int) -> np.ndarray:
    """A read-only int64 vector of n ones (kept for the short lengths)."""
    ones = _ONES.get(n)
    if ones is None:
        ones = np.ones(n, dtype=np.int64)
        ones.flags.writeable = False
        if n <= SMALL_LENGTH:
            _ONES[n] = ones
    return ones


def _aggregate_all_or_none(selected: bool, values: np.ndarray, seq_type: str, default: Any, n: int) -> Seq:
    """aggregate_one where each row selects all n keys (selected) or none."""
    if not selected:
        return _seq_of_atom(default, n)
    if n == 1:
        return make_seq(values[None])
    if seq_type not in ("ints", "floats"):
        return aggregate_value(np.ones((1, 1, 1), dtype=bool), Seq(values[None], seq_type), default, n)
    try:
        mean = sum(values.tolist()) / n  # in position order, from 0 (as _selected_sums: exact for ints)
    except OverflowError:
        raise RaspValueError("aggregate: the values are too large to average as floats") from None
    return Seq(np.full((1, n), mean + 0.0, dtype=np.float64), "floats")


def _aggregate_types(seq_type: str, numeric: bool, default: Any, many: np.ndarray, none: np.ndarray) -> list:
    """The type of the aggregate's value for each input of the batch (None: a mixed-type error)."""
    default_type = _TYPE_OF_DEFAULT[type(default)]
    types = []
    rows = zip(many.any(-1).tolist(), none.any(-1).tolist(), none.all(-1).tolist(), strict=True)
    for any_many, any_none, all_none in rows:
        if all_none:
            types.append(default_type)
            continue
        picked_type = "floats" if any_many and numeric else seq_type
        types.append(_combined_type(picked_type, default_type) if any_none else picked_type)
    return types


def _refuse_mixed_default(seq_type: str, default: Any, none: np.ndarray) -> None:
    r = _first_true(none)
    if seq_type == "strings":
        raise RaspTypeError(
            f"aggregate of strings: row {r} selects nothing and falls back to the default "
            f"{exact_text(default)}, which mixes strings and numbers",
            hint='pass a string default, e.g. aggregate(sel, s, "-")',
        )
    raise RaspTypeError(
        f"aggregate: row {r} selects nothing and falls back to the default {exact_text(default)}, "
        f"which does not mix with the {seq_type} of the other rows"
    )


def _blocks(batch: int, rows: int, n: int) -> list[tuple[slice, slice]]:
    """(batch slice, row slice) blocks of about BLOCK_ELEMENTS matrix elements each."""
    per_row = max(1, BLOCK_ELEMENTS // n)
    if rows >= per_row or batch == 1:
        step = min(rows, per_row)
        return [(slice(b, b + 1), slice(r, r + step)) for b in range(batch) for r in range(0, rows, step)]
    step = max(1, per_row // rows)
    return [(slice(b, b + step), slice(0, rows)) for b in range(0, batch, step)]


def _block_of(array: np.ndarray, rows_slice: slice) -> np.ndarray:
    """The block's batch rows of an array whose batch axis may be shared (size 1)."""
    return array if array.shape[0] == 1 else array[rows_slice]


def _selected_sums(matrix: np.ndarray, values: np.ndarray, batch: int) -> np.ndarray:
    """sums[b, q] = sum of values[b, k] over the keys k that row q selects, exactly.

    Ints are summed as float32 or float64 where every partial sum is an exactly
    representable integer (einsum: no BLAS threads), else as Python ints; floats
    are summed in position order (as the reference's sum()), block by block.
    """
    if values.dtype.kind == "i":
        nonzero = np.flatnonzero((values != 0).any(axis=0))
        if nonzero.size * 8 < values.shape[-1]:  # mostly zeros (a BOS marker): only those keys count
            matrix, values = matrix[..., nonzero], values[..., nonzero]
    rows, n = matrix.shape[1], max(values.shape[-1], 1)
    dtype: Any = object
    if values.dtype.kind == "f":
        dtype = np.float64
    elif values.dtype.kind == "i":
        bound = _max_abs(values) * n
        dtype = np.float32 if bound < 2**24 else np.float64 if bound < 2**53 else object
    sums = np.empty((batch, rows), dtype=np.float64 if dtype is not object else object)
    source = values.astype(dtype) if dtype is not object else values.astype(object)
    for batch_slice, row_slice in _blocks(batch, rows, n):
        selected = _block_of(matrix, batch_slice)[:, row_slice]
        vals = _block_of(source, batch_slice)
        if values.dtype.kind == "f":
            block = np.cumsum(np.where(selected, vals[:, None, :], 0.0), axis=-1)[..., -1] + 0.0
        elif dtype is object:
            block = np.matmul(selected.astype(object), vals[:, :, None])[..., 0]
        else:
            block = np.einsum("bqk,bk->bq", selected, vals, dtype=dtype, casting="unsafe")
        sums[batch_slice, row_slice] = block
    return sums


def _numeric_mean(matrix, values, width, picked, many, batch: int, prefix: str | None = None) -> np.ndarray:
    """Means of the rows that select several positions; picks elsewhere (as floats)."""
    try:
        result = picked.astype(np.float64)
        if prefix is not None and _exact_running_sums(values):
            sums = _running_sums(values, prefix)
        elif matrix.shape[2] == 1:  # every key of the row: the mean of the whole sequence
            sums = _selected_sums(np.ones((1, 1, values.shape[-1]), dtype=bool), values, values.shape[0])
        else:
            sums = _selected_sums(matrix, values, batch)
        sums = np.broadcast_to(sums, width.shape)
        if sums.dtype == object:
            pairs = zip(_flat(sums).tolist(), _flat(width).tolist(), strict=True)
            means = np.array([s / w if w else 0.0 for s, w in pairs], dtype=np.float64).reshape(width.shape)
        else:
            means = sums / np.maximum(width, 1)
    except OverflowError:
        raise RaspValueError("aggregate: the values are too large to average as floats") from None
    return np.where(many, means, result)


def _exact_running_sums(values: np.ndarray) -> bool:
    """Whether running sums in the array's own dtype give Python's means: floats, or ints whose
    sums stay exact when divided as float64 (below 2**53)."""
    return values.dtype.kind == "f" or (values.dtype.kind == "i" and _max_abs(values) * values.shape[-1] < 2**53)


def _running_sums(values: np.ndarray, prefix: str) -> np.ndarray:
    """Row sums of select(indices, indices, prefix): the sums of the positions up to each query."""
    sums = np.cumsum(values, axis=-1)
    if prefix == "<":
        sums = np.concatenate([np.zeros_like(sums[:, :1]), sums[:, :-1]], axis=-1)
    return sums + 0.0 if sums.dtype.kind == "f" else sums  # + 0.0: Python's sum() starts at 0 (-0.0 -> 0.0)


def _check_all_equal(matrix, values, first, many, seq_type: str, batch: int) -> None:
    """A row that selects several non-numbers must see one value only (that of its first key, `first`)."""
    _, codes = np.unique(values, return_inverse=True)
    codes = codes.reshape(values.shape)
    picked_codes = np.take_along_axis(
        np.broadcast_to(codes, (batch, codes.shape[-1])),
        np.broadcast_to(first, many.shape),
        axis=-1,
    )
    mixed = np.zeros(many.shape, dtype=bool)
    full = np.broadcast_to(matrix, (matrix.shape[0], matrix.shape[1], codes.shape[-1]))
    for batch_slice, row_slice in _blocks(batch, many.shape[1], codes.shape[-1]):
        selected = _block_of(full, batch_slice)[:, row_slice]
        differs = _block_of(codes, batch_slice)[:, None, :] != picked_codes[batch_slice, row_slice, None]
        mixed[batch_slice, row_slice] = (selected & differs).any(axis=-1)
    if np.any(mixed):
        _refuse_mixed_row(full, values, mixed, seq_type)


def _refuse_mixed_row(matrix, values, mixed, seq_type: str) -> None:
    b, r = (int(x[0]) for x in np.nonzero(mixed))
    row_values = values[b if values.shape[0] > 1 else 0]
    selected = np.flatnonzero(matrix[b if matrix.shape[0] > 1 else 0, r if matrix.shape[1] > 1 else 0])
    shown = ", ".join(exact_text(row_values[k]) for k in selected[:6])
    if len(selected) > 6:
        shown += ", …"
    hint = (
        "average bools with indicator(...), e.g. aggregate(sel, indicator(s))"
        if seq_type == "bools"
        else "a row that selects several positions must see equal values, or numbers to average"
    )
    raise RaspValueError(
        f"aggregate: row {r} selects {len(selected)} positions with different values ({shown}); "
        f"only numbers can be averaged",
        hint=hint,
    )


def _with_default(picked: np.ndarray, none: np.ndarray, default: Any) -> np.ndarray:
    filler = _seq_of_atom(default).values
    if picked.dtype == filler.dtype or (picked.dtype.kind == "U" and filler.dtype.kind == "U"):
        return np.where(none, filler, picked)
    return np.where(none, filler.astype(object), picked.astype(object))


def extreme_value(matrix: np.ndarray, seq: Seq, default: Any, n: int, reduction: str) -> Seq:
    """aggregate_max / aggregate_min (docs/raspl.md, 'max and min aggregation'): per query, the
    largest (smallest) value among the selected keys; default where none is selected."""
    if seq.type not in _NUMERIC or seq.values.dtype == object:
        what = "strings" if seq.type == "strings" else "these values"
        raise RaspTypeError(f"aggregate_{reduction} needs numbers (ints, floats or bools), not {what}")
    values = seq.values.astype(np.float64 if seq.type == "floats" else np.int64)
    batch = max(matrix.shape[0], values.shape[0])
    mask = np.broadcast_to(matrix, (batch, n, n))
    keys = np.broadcast_to(values[:, None, :] if values.shape[-1] == n else values[:, None, :1], (batch, n, n))
    if values.dtype == np.float64:
        fill = -np.inf if reduction == "max" else np.inf
    else:
        limits = np.iinfo(np.int64)
        fill = limits.min if reduction == "max" else limits.max
    masked = np.where(mask, keys, fill)
    picked = masked.max(axis=2) if reduction == "max" else masked.min(axis=2)
    none = ~mask.any(axis=2)
    floats = seq.type == "floats" or isinstance(default, float)
    if not none.any():
        out_type = "floats" if seq.type == "floats" else "bools" if seq.type == "bools" else "ints"
    elif seq.type == "bools" and isinstance(default, bool):
        out_type = "bools"
    else:
        out_type = "floats" if floats else "ints"
    if out_type == "bools":
        return Seq(np.where(none, default, picked.astype(bool)), "bools")
    result = np.where(none, default, picked).astype(np.float64 if out_type == "floats" else np.int64)
    return Seq(result, out_type)
