"""Value-set inference: which values each node can take at each position.

For a vocabulary and a maximum length N, `ValueSets.at(node)` maps every position
(n, i) -- input length n in 1..N, position i in 0..n-1 -- to the set of values the node
can take there (a dict from `value_key` to a representative value), or to None when the
set is too large to enumerate. The sets over-approximate: every value that occurs on a
real input is in its position's set.

Positions matter: `indices` is {i} at position i, and a selector whose keys and queries
are known at every position (`select(indices, indices, <=)`, reverse's flip) has a
known pattern, so an aggregate over it has the values of exactly the positions it
selects. This keeps the compiler's lookup tables small (a prefix mean at position i
is a multiple of 1/(i+1), not any fraction up to 1/N).

Selectors get two n×n matrices per length: `possible` (the key may be selected) and
`certain` (it always is).

Grids. A mean of integers that takes more than MAX_VALUES values (add's `plus_position`,
any fraction p/q with q <= n, at max_len 24 and up) has no set. It gets a `Grid` instead:
its values lie in [low, high] and are integers or at least 1/max_len away from every
integer. Sums and differences with integers keep a grid; a comparison with integers is
the same everywhere strictly between two integers, so evaluating it at a grid's
*representatives* (the integers and the numbers 1/max_len on either side of them) gives
its exact set. Any other operation on a grid has no set, as before. A function computed
from a grid this way may be built from the representatives alone (rasp.compiler.construct
reads such a number as the only number of its MLP function; docs/compiler-sizes.md).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..engine import Seq, evaluate_given, is_causal, make_seq, primitive_value
from ..values import (
    COMPARISONS,
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
)

MAX_VALUES = 4096  # a set larger than this is "unbounded" (None)
MAX_POINTS = 200_000  # argument combinations evaluated for one map at most

ValueSet = dict  # value_key(v) -> v
Position = tuple[int, int]  # (length n, position i)

COMPARE: dict[str, Callable[[Any, Any], bool]] = {op: PYTHON_BINARY[op] for op in COMPARISONS}  # the engine's


@dataclass(frozen=True)
class Grid:
    """Numbers in [low, high] (integers) that are integers or at least 1/max_len from every integer."""

    low: int
    high: int

    def shifted(self, low: int, high: int) -> Grid:
        """The grid of this plus an integer between low and high."""
        return Grid(self.low + low, self.high + high)

    def negated(self) -> Grid:
        return Grid(-self.high, -self.low)


def value_key(value: Any) -> tuple:
    """A hashable key that tells True from 1 but not 1 from 1.0 (as RASP's == does for numbers).

    Floats are keyed to 12 significant digits (and below 1e-12 to 0): a mean computed in another
    order (1.6041666666666665 and 1.6041666666666667) is the same value, not two values a rounding
    error apart.
    """
    if isinstance(value, (bool, np.bool_)):
        return ("b", bool(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return ("n", 0.0 if abs(value) < 1e-12 else float(f"{value:.12g}"))  # 3 - 3.0000000000000004 is 0
    if isinstance(value, (int, np.integer)):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    if isinstance(value, tuple):
        return ("t", tuple(value_key(v) for v in value))
    return ("o", repr(value))


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def sort_values(values: list) -> list:
    """Numbers ascending, then bools, then strings, then anything else (a stable, readable order)."""
    def order(v: Any) -> tuple:
        if is_number(v):
            return (0, v, "")
        if isinstance(v, bool):
            return (1, int(v), "")
        if isinstance(v, str):
            return (2, 0, v)
        return (3, 0, repr(v))

    return sorted(values, key=order)


def positions(max_len: int) -> list[Position]:
    return [(n, i) for n in range(1, max_len + 1) for i in range(n)]


def python_value(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def evaluate_points(target: Lazy, sources: list[Lazy], points: list[tuple]) -> list[Any]:
    """The value of `target` when `sources` take the values of each point (None where it fails).

    Evaluated by the interpreter's engine, with the sources' values given, so every
    elementwise operation means exactly what it means when a program runs.
    """
    if target in sources:
        where = sources.index(target)
        return [point[where] for point in points]
    skip = {id(s) for s in sources}
    stray = [n for n in ancestry(target, skip=skip) if isinstance(n, Primitive)]
    if stray:
        raise AssertionError(f"{target.name} depends on {stray[0].name}, which is not among its sources")
    results: list[Any] = [None] * len(points)
    groups: dict[tuple, list[int]] = {}
    for index, point in enumerate(points):
        groups.setdefault(tuple(type(_whole(python_value(v))).__name__ for v in point), []).append(index)
    for members in groups.values():
        given: dict[Lazy, Seq] = {}
        for column, source in enumerate(sources):
            array = np.empty((len(members), 1), dtype=object)
            array[:, 0] = [_whole(points[m][column]) for m in members]
            given[source] = make_seq(array)
        for rows, outcome in evaluate_given(target, given, len(members)):
            if isinstance(outcome, Seq):
                single = outcome.values.shape[0] == 1
                for r, row in enumerate(rows.tolist()):
                    results[members[row]] = python_value(outcome.values[0 if single else r, 0])
    return results


def _whole(value: Any) -> Any:
    """A whole float (to the 12 digits of value_key: 1.9999999999999998 too) as an int. A number's
    one value set entry stands for all of them (2, 2.0 and 1.9999999999999998 are one key); where
    they behave differently (`"abc"[2.0]` fails) the int is the case that does not fail, and a
    program's failure on an input leaves the model free there."""
    if isinstance(value, float) and abs(value) < 2**53:
        rounded = value_key(value)[1]
        if rounded.is_integer():
            return int(rounded)
    return value


class ValueSets:
    """Per-position value sets of the nodes of one program, for inputs over `vocab` of length <= max_len."""

    def __init__(self, vocab: list, max_len: int, causal: bool | None = None):
        self.vocab = vocab
        self.max_len = max_len
        # causal mode (docs/raspl.md, 'Causal mode'): no selector selects a key after its query
        self.causal = is_causal() if causal is None else causal
        self.positions = positions(max_len)
        self._sets: dict[int, dict[Position, ValueSet | None]] = {}
        self._patterns: dict[int, dict[int, tuple[np.ndarray, np.ndarray]]] = {}
        self._alive: list[Lazy] = []  # keeps the nodes whose ids key the caches alive
        self._mean_cache: dict[tuple, ValueSet | None] = {}
        self._atoms: dict[tuple, dict[Position, ValueSet]] = {}  # a broadcast atom's sets, by value_key
        self._aggregate_cache: dict[tuple, tuple] = {}  # (ids of the selected sets, ...) -> (those sets, result)
        self._uniform: dict[int, bool] = {}  # id(node) -> one value at every position of an input
        self._grids: dict[int, dict[Position, Grid]] = {}  # id(node) -> grids where it has no set
        self._representatives: dict[Grid, ValueSet] = {}

    # ------------------------------------------------------------- queries

    def at(self, node: Any) -> dict[Position, ValueSet | None]:
        """The value set of an s-op (or a broadcast atom) at every position."""
        if not isinstance(node, Lazy):
            key = value_key(node)
            if key not in self._atoms:
                single = {key: node}
                self._atoms[key] = {p: single for p in self.positions}
            return self._atoms[key]
        if id(node) not in self._sets:
            for current in ancestry(node, skip=self._computed()):
                self._compute(current)
        return self._sets[id(node)]

    def union(self, node: Any) -> ValueSet | None:
        """Every value the node can take anywhere (None: too many)."""
        result: ValueSet = {}
        for values in self.at(node).values():
            if values is None:
                return None
            result.update(values)
        return result

    def grids(self, node: Any) -> dict[Position, Grid]:
        """The grids of the positions where the node has no set but a grid (see the module's docstring)."""
        if not isinstance(node, Lazy):
            return {}
        self.at(node)
        return self._grids.get(id(node), {})

    def representatives(self, grid: Grid) -> ValueSet:
        """The integers of the grid and the numbers 1/max_len on either side of each (one dict per grid)."""
        if grid not in self._representatives:
            step = 1.0 / self.max_len
            values: list[float | int] = []
            for k in range(grid.low, grid.high + 1):
                values.extend(([k - step] if k > grid.low else []) + [k] + ([k + step] if k < grid.high else []))
            self._representatives[grid] = {value_key(v): v for v in values}
        return self._representatives[grid]

    def at_representatives(self, node: Any) -> dict[Position, ValueSet | None]:
        """The node's sets, with a grid's representatives where it has a grid instead of a set."""
        sets, grids = self.at(node), self.grids(node)
        if not grids:
            return sets
        return {p: self.representatives(grids[p]) if s is None and p in grids else s for p, s in sets.items()}

    def pattern(self, selector: Lazy, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(possible, certain): n×n bool matrices, rows queries, columns keys."""
        if id(selector) not in self._patterns:
            for current in ancestry(selector, skip=self._computed()):
                self._compute(current)
        return self._patterns[id(selector)][n]

    def uniform(self, node: Any) -> bool:
        """Does the node hold one value at every position of an input (`length`, where a "+" is)?
        Atoms do; so does an aggregate or selector width whose selector's rows are all alike (its
        queries are uniform), and a map of uniform nodes. Causal masks make rows differ."""
        if not isinstance(node, Lazy):
            return True
        if id(node) not in self._uniform:
            self._alive.append(node)
            if isinstance(node, Map):
                self._uniform[id(node)] = all(self.uniform(p) for p in node.parents())
            elif isinstance(node, (Aggregate, ExtremeAggregate, SelectorWidth)):
                self._uniform[id(node)] = self._rows_alike(node.selector)
            else:
                self._uniform[id(node)] = False
        return self._uniform[id(node)]

    def _rows_alike(self, selector: Lazy) -> bool:
        if self.causal:
            return False
        if isinstance(selector, SelectorCombination):
            return all(self._rows_alike(a) for a in selector.args)
        return self.uniform(selector.query)

    def at_most_one(self, selector: Lazy) -> bool:
        """Does the selector select at most one key per query on every input? So when some conjunct
        compares with == keys that differ at every position: `indices`, or `indices` plus or minus a
        uniform node (add's `indices + length - plus_position`). Its aggregates are then a selected
        value or the default, never a mean."""
        if isinstance(selector, SelectorCombination):
            return selector.op == "and" and any(self.at_most_one(a) for a in selector.args)
        return isinstance(selector, Select) and selector.op == "==" and self._distinct_keys(selector.key)

    def _distinct_keys(self, key: Any) -> bool:
        if isinstance(key, Primitive):
            return key.primitive == "indices"
        if not isinstance(key, Map) or key.op not in ("+", "-") or len(key.args) != 2:
            return False
        left, right = key.args
        return any(self._distinct_keys(a) and self.uniform(b) for a, b in ((left, right), (right, left)))

    def _computed(self) -> set[int]:
        return set(self._sets) | set(self._patterns)

    # --------------------------------------------------------- computation

    def _compute(self, node: Lazy) -> None:
        self._alive.append(node)
        if isinstance(node, (Select, SelectorCombination)):
            self._patterns[id(node)] = {
                n: self._masked(self._selector_pattern(node, n)) for n in range(1, self.max_len + 1)
            }
        elif isinstance(node, Primitive):
            self._sets[id(node)] = self._primitive(node)
        elif isinstance(node, Map):
            self._sets[id(node)] = self._map(node)
        elif isinstance(node, ExtremeAggregate):
            self._sets[id(node)] = {p: self._extreme(node, p) for p in self.positions}
        elif isinstance(node, Aggregate):
            sets = self._sets[id(node)] = {p: self._aggregate(node, p) for p in self.positions}
            grids = {p: grid for p in self.positions if sets[p] is None
                     if (grid := self._mean_grid(node, p)) is not None}
            if grids:
                self._grids[id(node)] = grids
        elif isinstance(node, SelectorWidth):
            self._sets[id(node)] = {p: self._width(node, p) for p in self.positions}
        else:
            raise TypeError(f"unknown node {node!r}")

    def primitive_value(self, node: Primitive, item: Any) -> Any:
        """The primitive's value for a token (for `indices`, `item` is the position)."""
        if node.primitive == "indices":
            return item
        return python_value(primitive_value(node.primitive, [[item]], 1).values[0, 0])

    def _primitive(self, node: Primitive) -> dict[Position, ValueSet | None]:
        if node.primitive == "indices":
            return {(n, i): {value_key(i): i} for n, i in self.positions}
        values: ValueSet = {}
        for token in self.vocab:
            value = self.primitive_value(node, token)
            values[value_key(value)] = value
        return {p: values for p in self.positions}

    def _map(self, node: Map) -> dict[Position, ValueSet | None]:
        """Positions whose parents have the same sets (the same dict objects) share one computation."""
        parents = list(dict.fromkeys(node.parents()))
        parent_sets = [self.at(p) for p in parents]
        shared: dict[tuple, tuple | None] = {}  # ids of the parents' sets -> (their sets, combos)
        per_position: dict[Position, tuple] = {}
        wanted: dict[tuple, tuple] = {}
        for p in self.positions:
            sets = [s[p] for s in parent_sets]
            signature = tuple(map(id, sets))
            per_position[p] = signature
            if signature in shared:
                continue
            combos = None if any(s is None for s in sets) else _product([list(s) for s in sets])  # of keys
            shared[signature] = (sets, combos)  # sets kept: their ids stay theirs
            if combos is not None:  # each combination of keys, with the values of its first occurrence
                keep = wanted.setdefault
                for key, combo in zip(combos, itertools.product(*(list(s.values()) for s in sets)), strict=True):
                    keep(key, combo)
        keys = list(wanted)
        results = evaluate_points(node, parents, [wanted[k] for k in keys])
        keyed = {k: (value_key(v), v) for k, v in zip(keys, results, strict=True) if v is not None}
        outcomes: dict[tuple, ValueSet | None] = {}
        for signature, (_, combos) in shared.items():
            values = None if combos is None else dict(keyed[k] for k in combos if k in keyed)
            outcomes[signature] = values if values is not None and len(values) <= MAX_VALUES else None
        result = {p: outcomes[signature] for p, signature in per_position.items()}
        if any(values is None for values in result.values()):
            self._map_on_grid(node, parents, result)
        return result

    def _map_on_grid(self, node: Map, parents: list[Lazy], result: dict[Position, ValueSet | None]) -> None:
        """Where `result` has no set and one argument of the map has a grid: a grid for a sum or difference
        with integers (kept in self._grids), a set for a comparison with integers (filled into `result`)."""
        grids: dict[Position, Grid] = {}
        computed: dict[tuple, ValueSet | None] = {}
        per_parent = [(self.at(q), self.grids(q)) for q in parents]
        for p, values in result.items():
            if values is not None:
                continue
            on_grid = [k for k, (sets, _) in enumerate(per_parent) if sets[p] is None]
            if len(on_grid) != 1 or p not in per_parent[on_grid[0]][1]:
                continue
            where = on_grid[0]
            grid = per_parent[where][1][p]
            others = [per_parent[k][0][p] for k in range(len(parents)) if k != where]
            constants = [a for a in node.args if not isinstance(a, Lazy)]
            once = sum(a is parents[where] for a in node.args) == 1
            if not once or not all(_integral(v) for s in others for v in s.values() if s is not None) or not all(
                    _integral(c) for c in constants):
                continue
            if node.op in COMPARE:
                sets = [self.representatives(grid) if k == where else per_parent[k][0][p] for k in range(len(parents))]
                signature = tuple(map(id, sets))
                if signature not in computed:
                    computed[signature] = self._evaluated(node, parents, sets)
                result[p] = computed[signature]
            elif (shifted := _arithmetic_on_grid(node, parents[where], grid, per_parent, parents, p)) is not None:
                grids[p] = shifted
        if grids:
            self._grids[id(node)] = grids

    def _evaluated(self, node: Map, parents: list[Lazy], sets: list[ValueSet]) -> ValueSet | None:
        combos = _product([list(s.values()) for s in sets])
        if combos is None:
            return None
        values = {value_key(v): v for v in evaluate_points(node, parents, combos) if v is not None}
        return values if len(values) <= MAX_VALUES else None

    def _mean_grid(self, node: Aggregate, p: Position) -> Grid | None:
        """The grid of a mean of integers at a position where it has too many values for a set: a mean of
        q integers is an integer or at least 1/q from every integer, and q <= n <= max_len."""
        if not isinstance(node.sop, Lazy) or isinstance(node, ExtremeAggregate):
            return None
        sets, always = self._selected_sets(node, p)
        if sets is None:
            return None
        numbers = [v for s in sets for v in s.values()] + ([] if always else [node.default])
        if not numbers or not all(_integral(v) for v in numbers):
            return None
        return Grid(int(min(numbers)), int(max(numbers)))

    def _masked(self, pattern: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """A selector's (possible, certain) pattern without the keys after each query, in causal mode."""
        if not self.causal:
            return pattern
        below = np.tri(pattern[0].shape[0], dtype=bool)
        return pattern[0] & below, pattern[1] & below

    def _selector_pattern(self, node: Lazy, n: int) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(node, SelectorCombination):
            parts = [self._patterns[id(a)][n] for a in node.args]
            if node.op == "not":
                possible, certain = parts[0]
                return ~certain, ~possible
            combine = np.logical_and if node.op == "and" else np.logical_or
            return combine(parts[0][0], parts[1][0]), combine(parts[0][1], parts[1][1])
        key_sets, query_sets = self.at(node.key), self.at(node.query)
        if _integral_everywhere(query_sets):  # a grid compared with integers: its representatives suffice
            key_sets = self.at_representatives(node.key)
        if _integral_everywhere(key_sets):
            query_sets = self.at_representatives(node.query)
        keys = [key_sets[(n, k)] for k in range(n)]
        queries = [query_sets[(n, q)] for q in range(n)]
        return predicate_pattern(keys, queries, COMPARE[node.op])

    def _aggregate(self, node: Aggregate, p: Position) -> ValueSet | None:
        n, i = p
        possible, certain = self.pattern(node.selector, n)
        chosen = np.flatnonzero(possible[i]).tolist()
        sure = np.flatnonzero(certain[i]).tolist()
        sop = self.at(node.sop)
        sets = [sop[(n, k)] for k in chosen]
        if any(s is None for s in sets):
            return None
        default = {value_key(node.default): node.default}
        single = self.at_most_one(node.selector)
        signature = (tuple(map(id, sets)), tuple(default), chosen == sure, len(sure), single)
        if signature not in self._aggregate_cache:  # positions selecting sets alike share the result
            if chosen == sure:
                result = self._exact_aggregate(sets, default)
            elif single:
                result = self._single_aggregate(sets, default, len(sure))
            else:
                result = self._possible_aggregate(sets, default, len(sure))
            self._aggregate_cache[signature] = (sets, result)  # sets kept: their ids stay theirs
        return self._aggregate_cache[signature][1]

    def _extreme(self, node: ExtremeAggregate, p: Position) -> ValueSet | None:
        """aggregate_max / aggregate_min pick one of the selected values (the default where
        none is selected): the union of the selected positions' sets, with the default unless
        some position is always selected. A selected bool is an int too when the default is a
        number (the engine's type for an input where some query selects nothing)."""
        sets, always = self._selected_sets(node, p)
        if sets is None:
            return None
        result: ValueSet = {} if always else {value_key(node.default): node.default}
        as_number = not isinstance(node.default, bool)
        for s in sets:
            result.update(s)
            if as_number:
                result.update((value_key(int(v)), int(v)) for v in s.values() if isinstance(v, bool))
        return result if len(result) <= MAX_VALUES else None

    def _selected_sets(self, node: Aggregate, p: Position) -> tuple[list[ValueSet] | None, bool]:
        """The sets of the positions the aggregate at p may select (None: one is unknown), and whether
        some position is always selected."""
        n, i = p
        possible, certain = self.pattern(node.selector, n)
        sop = self.at(node.sop)
        sets = [sop[(n, k)] for k in np.flatnonzero(possible[i]).tolist()]
        return (None if any(s is None for s in sets) else sets), bool(certain[i].any())

    def _single_aggregate(self, sets: list[ValueSet], default: ValueSet, sure: int) -> ValueSet | None:
        """At most one of these positions is selected: its value, or the default where none is."""
        result: ValueSet = dict(default) if not sure else {}
        for s in sets:
            result.update(s)
        return result if len(result) <= MAX_VALUES else None

    def _possible_aggregate(self, sets: list[ValueSet], default: ValueSet, sure: int) -> ValueSet | None:
        """Some of these positions are selected, at least `sure` of them."""
        union: ValueSet = {}
        for s in sets:
            union.update(s)
        result: ValueSet = dict(default) if not sure else {}
        if not sets:
            return result
        result.update(union)
        means = self._means(union, max(2, sure), len(sets))
        if means is None:
            return None
        result.update(means)
        return result if len(result) <= MAX_VALUES else None

    def _exact_aggregate(self, sets: list[ValueSet], default: ValueSet) -> ValueSet | None:
        """Exactly these positions are selected."""
        if not sets:
            return default
        if len(sets) == 1:
            return sets[0]
        if all(is_number(v) for s in sets for v in s.values()):
            totals = _exact_sums(sets)
            if totals is None:
                return None
            means = [total / len(sets) for total in totals]
            return {value_key(m): m for m in means}
        common = set(sets[0])
        for s in sets[1:]:
            common &= set(s)
        return {k: sets[0][k] for k in common}  # several selected values: only a shared one is a result

    def _means(self, union: ValueSet, low: int, high: int) -> ValueSet | None:
        """Means of multisets of `low`..`high` numbers drawn from the union (its other values are not averaged)."""
        numbers = sorted({v for v in union.values() if is_number(v)})
        if len(numbers) < 2 or high < 2:
            return {}
        key = (tuple(numbers), low, high)
        if key not in self._mean_cache:
            self._mean_cache[key] = _multiset_means(numbers, low, high)
        return self._mean_cache[key]

    def define(self, node: Lazy, sets: dict[Position, ValueSet | None]) -> None:
        """Give a node made outside the program (rasp.compiler.construct's scaled sums) its value sets."""
        self._alive.append(node)
        self._sets[id(node)] = sets

    def scaled_sums(self, node: Aggregate) -> dict[Position, ValueSet | None]:
        """The values of sum(selected values) / (w + 1), w the number selected: what a head that also
        attends to BOS (with value 0) computes for the aggregate `node` of numbers."""
        sop = self.at(node.sop)
        result: dict[Position, ValueSet | None] = {}
        for n, i in self.positions:
            possible, certain = self.pattern(node.selector, n)
            chosen = np.flatnonzero(possible[i]).tolist()
            sets = [sop[(n, k)] for k in chosen]
            if any(s is None for s in sets):
                result[(n, i)] = None
                continue
            if chosen == np.flatnonzero(certain[i]).tolist():
                totals = _exact_sums(sets)
                values = None if totals is None else [t / (len(sets) + 1) for t in totals]
            else:
                values = self._scaled_possible(sets, int(certain[i].sum()))
            result[(n, i)] = None if values is None else {value_key(v): v for v in values}
        return result

    def _scaled_possible(self, sets: list[ValueSet], sure: int) -> list | None:
        union = sorted({v for s in sets for v in s.values() if is_number(v)})
        values, totals = ([0.0] if sure == 0 else []), {0: None}
        for size in range(1, len(sets) + 1):
            totals = {t + v: None for t in totals for v in union}
            if len(totals) > MAX_VALUES:
                return None
            if size >= sure:
                values.extend(t / (size + 1) for t in totals)
        return values if len(values) <= MAX_VALUES * 4 else None

    def _width(self, node: SelectorWidth, p: Position) -> ValueSet:
        n, i = p
        possible, certain = self.pattern(node.selector, n)
        low, high = int(certain[i].sum()), int(possible[i].sum())
        return {value_key(w): w for w in range(low, high + 1)}


def predicate_pattern(keys: list, queries: list, compare: Callable) -> tuple[np.ndarray, np.ndarray]:
    """possible/certain matrices of a comparison, from the key and query value sets at each position."""
    n = len(keys)
    everything = [s is None for s in keys] + [s is None for s in queries]
    key_values: ValueSet = {}
    query_values: ValueSet = {}
    for s in keys:
        key_values.update(s or {})
    for s in queries:
        query_values.update(s or {})
    key_list, query_list = list(key_values), list(query_values)
    truth = np.zeros((len(query_list), len(key_list)), dtype=bool)
    falsity = np.zeros_like(truth)
    for a, qk in enumerate(query_list):
        for b, kk in enumerate(key_list):
            outcome = _compare(compare, key_values[kk], query_values[qk])
            truth[a, b] = outcome is True
            falsity[a, b] = outcome is not True
    key_index = {k: b for b, k in enumerate(key_list)}
    query_index = {k: a for a, k in enumerate(query_list)}
    key_masks = _masks(keys, key_index, len(key_list))
    query_masks = _masks(queries, query_index, len(query_list))
    possible = (query_masks.astype(int) @ truth.astype(int) @ key_masks.T.astype(int)) > 0
    certain = (query_masks.astype(int) @ falsity.astype(int) @ key_masks.T.astype(int)) == 0
    if any(everything):
        unknown_keys = np.array([s is None for s in keys])
        unknown_queries = np.array([s is None for s in queries])
        possible[:, unknown_keys] = True
        possible[unknown_queries, :] = True
        certain[:, unknown_keys] = False
        certain[unknown_queries, :] = False
    certain &= possible
    return possible, certain.reshape(n, n)


def _compare(compare: Callable, key: Any, query: Any) -> bool | None:
    try:
        return bool(compare(key, query))
    except TypeError:
        return None


def _masks(sets: list, index: dict, size: int) -> np.ndarray:
    masks = np.zeros((len(sets), size), dtype=bool)
    for row, s in enumerate(sets):
        for k in s or {}:
            masks[row, index[k]] = True
    return masks


def _product(lists: list[list]) -> list[tuple] | None:
    total = 1
    for values in lists:
        total *= len(values)
    if total > MAX_POINTS:
        return None
    return list(itertools.product(*lists))


def _exact_sums(sets: list[ValueSet]) -> list | None:
    """Every sum of one number from each set."""
    totals: dict = {0: None}
    for s in sets:
        totals = {t + v: None for t in totals for v in s.values() if is_number(v)}
        if len(totals) > MAX_VALUES:
            return None
    return list(totals)


def _multiset_means(numbers: list, low: int, high: int) -> ValueSet | None:
    sums = {v: None for v in numbers}
    means: ValueSet = {}
    for size in range(2, high + 1):
        sums = {total + v: None for total in sums for v in numbers}
        if len(sums) > MAX_VALUES:
            return None
        if size >= low:
            for total in sums:
                mean = total / size
                means[value_key(mean)] = mean
        if len(means) > MAX_VALUES:
            return None
    return means


def _integral(value: Any) -> bool:
    return is_number(value) and float(value).is_integer()


def _integral_everywhere(sets: dict[Position, ValueSet | None]) -> bool:
    return all(s is not None and all(_integral(v) for v in s.values()) for s in sets.values())


def _arithmetic_on_grid(node: Map, source: Lazy, grid: Grid, per_parent: list, parents: list[Lazy],
                        p: Position) -> Grid | None:
    """The grid of `node` (+, - or a sign of the grid `source` and integers) at position p, else None."""
    if node.op == "pos":
        return grid
    if node.op == "neg":
        return grid.negated()
    if node.op not in ("+", "-") or len(node.args) != 2:
        return None
    other = node.args[1] if node.args[0] is source else node.args[0]
    if isinstance(other, Lazy):
        numbers = list(next(sets for q, (sets, _) in zip(parents, per_parent, strict=True) if q is other)[p].values())
    else:
        numbers = [other]
    low, high = int(min(numbers)), int(max(numbers))
    if node.op == "+":
        return grid.shifted(low, high)
    if node.args[0] is source:
        return grid.shifted(-high, -low)
    return grid.negated().shifted(low, high)
