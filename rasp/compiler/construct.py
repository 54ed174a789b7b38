"""Compile an s-op into a transformer (rasp.compiler.transformer) with the analysis's layers and heads.

The layer plan is rasp.analysis's: the heads of layer d are its heads, and every
elementwise node of depth d is computed by layer d's MLP (depth-0 ones by the
embedding). Each node the model needs lives in its own residual dimensions:

* categorical: one dimension per value (one-hot), for values enumerated by
  rasp.compiler.valueset over the vocabulary and max_len;
* numerical: one dimension holding the number (means computed by attention);
* width: one dimension holding 1/(w+1), what a selector_width head computes.

Attention. A head's selector is put in negation normal form; its top-level
conjuncts each compare one (possibly joint) key variable with one query variable,
so each is an exact bilinear form: score += s * P[query value][key value]. A key
selected by all G conjuncts scores s*G, any other at most s*(G-1). BOS (position 0)
scores s*(G-1/2) for an aggregate -- it wins only when nothing is selected, and its
value is the default -- and s*G for a selector width, whose head then averages
[1 at BOS, 0 elsewhere] into 1/(w+1); an aggregate of numbers sharing that head gets
sum/(w+1) (BOS's value is 0), and the MLPs that need it compute sum/w. The scale s puts at most LEAKAGE of a row's
weight outside the ideal hard pattern for every input up to max_len (exact inputs);
the stated TOLERANCE leaves room for rounding in inputs. The BOS query attends
only to BOS, so the BOS residual never depends on the input; the compiler computes it
and corrects W_Q/W_K/W_V on the bos dimension so BOS's query, key and value are
exactly what they should be.

MLPs. Every node an MLP must write is a function of its sources: categorical
dimensions, and numbers (numerical or width dimensions) already in the residual.
For each combination of categorical source values (a gate) the function of the
numbers is a step function along one direction t (the number itself when there is
one); the MLP computes base value + sum of steps with two ReLUs per step, each
switched off by a large negative weight unless its gate's one-hots are all on.
Steps sit halfway between neighbouring values of t, so outputs are exact for inputs
within half a gap of their ideal values.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..analysis import Head as AnalysedHead
from ..analysis import analyse
from ..errors import RaspError
from ..values import (
    Aggregate,
    ExtremeAggregate,
    Lazy,
    Map,
    Primitive,
    Select,
    SelectorCombination,
    SelectorWidth,
    SOp,
    ancestry,
    exact_text,
)
from .transformer import MLP, Head, Layer, Output, Transformer
from .valueset import COMPARE, MAX_POINTS, ValueSets, evaluate_points, is_number, sort_values, value_key

MAX_LEN = 128  # the longest input a model is compiled for
CATEGORICAL_LIMIT = 1024  # a node with more values than this is kept as a number (or refused)
JOINT_LIMIT = 2048  # the same for a joint key or query (a select mixing s-ops: sort's (key, indices) at max_len 32)
TOLERANCE = 1e-12  # stated and verified: no attention weight is further than this from hard attention
LEAKAGE = 1e-15  # what the scale allows outside the ideal pattern for exact inputs; the margin up to
# TOLERANCE absorbs the rounding in inputs computed by earlier layers (it shifts scores by scale * error)
FUSED_MARGIN = 4  # the fused construction is tried too when it has at most this many times the points
SAFE_GAP = 1e-8  # a direction is chosen for fewest steps among those whose outputs are this far apart (relatively)
STRICT_GAP = 1e-4  # the same for a node attention reads: steps this steep round to about 1e-14 in its one-hots
REGROUP_FROM = 64  # an MLP of more hidden units than this also tries gates by classes of values
FIT_POINTS = 64  # points of a gate a comparison's direction is fitted on (candidates; every point is checked)
DIRECTIONS = (0.6180339887498949, 0.41421356237309515, 0.7320508075688772, 0.2360679774997898,
              0.3166247903554, 0.8708286933869707, 0.5497004779019703, 0.1826334464143441)


class CompileError(RaspError):
    """A program (or one of its nodes) the compiler cannot turn into weights; the message says why."""

    category = "compile error"


def compile_sop(node: SOp, *, max_len: int, vocab: list, name: str | None = None,
                progress: Callable[[str, int, int], None] | None = None) -> Transformer:
    """A transformer computing the s-op `node` on every input over `vocab` of length 1..max_len;
    progress(stage, done, total), if given, is told which layer is being planned."""
    if not isinstance(node, SOp):
        raise CompileError("compile needs an s-op")
    if not 1 <= max_len <= MAX_LEN:
        raise CompileError(f"max_len must be between 1 and {MAX_LEN}, not {max_len}",
                           hint="value sets and one-hot tables grow with the square of max_len")
    if not vocab:
        raise CompileError("the vocabulary is empty")
    try:
        return _Compiler(node, list(vocab), max_len, name or node.name, progress).compile()
    except CompileError:
        raise
    except RaspError as error:
        raise CompileError(f"cannot compile {name or node.name} for this vocabulary: {error.message}") from None


class Joint:
    """Several s-ops as one categorical variable whose values are tuples (for a selector mixing them)."""

    def __init__(self, parts: tuple[Lazy, ...]):
        self.parts = parts
        self.name = "(" + ", ".join(p.name for p in parts) + ")"


class ScaledSum(SOp):
    """What a head that also attends to BOS (a selector width's head) computes for an aggregate of
    numbers sharing it: sum(selected values) / (w + 1). The aggregate is then a function of this and
    the width, computed by the MLPs that need it: default if w == 0 else sum / w."""

    def __init__(self, aggregate: Aggregate, width: SelectorWidth):
        super().__init__(label=f"sum/(w+1) of {aggregate.name}")
        self.aggregate = aggregate
        self.width = width

    def value(self, scaled: float, width: int, whole: bool) -> Any:
        """The aggregate's value from this node's value and the width's (as the interpreter computes it)."""
        if width == 0:
            return self.aggregate.default
        total = scaled * (width + 1)
        return (round(total) if whole else total) / width


@dataclass
class Encoding:
    """Where and how a node lives in the residual stream."""

    node: Any  # a Lazy node or a Joint
    kind: str  # "categorical", "numerical", "width", "affine" (read by an MLP) or "classes" (a select's key)
    dims: list[int]
    values: list  # categorical: the value of each dimension
    stage: float  # written by: 0 tables, 0.5 embedding MLP, d layer d's attention, d + 0.5 layer d's MLP
    index: dict = field(default_factory=dict)  # value_key -> position in dims
    weights: dict[int, float] = field(default_factory=dict)  # "affine": the number is weights . x + bias
    bias: float = 0.0

    def scalar(self, value: Any) -> float:
        return 1.0 / (value + 1) if self.kind == "width" else float(value)

    def reading(self) -> tuple[dict[int, float], float]:
        """How an MLP reads this number from the residual: (weights by dimension, bias)."""
        if self.kind == "affine":
            return self.weights, self.bias
        return {self.dims[0]: 1.0}, 0.0

    def vector(self, value: Any) -> dict[int, float]:
        """The residual entries of a value of this node."""
        if self.kind in ("categorical", "classes"):
            return {self.dims[self.index[value_key(value)]]: 1.0}
        return {self.dims[0]: self.scalar(value)}


@dataclass
class Target:
    """One function an MLP (or the embedding) computes: node's value from the sources' values."""

    node: Any
    encoding: Encoding
    sources: list[tuple[Lazy, Encoding]]
    points: list[tuple]
    outputs: list
    units: Any = None  # its MLP units, built while choosing the plan, writing to dimensions 0.. of the encoding


@dataclass
class Group:
    """Conjuncts of a selector that compare the same key variable with the same query variable."""

    keys: tuple[Lazy, ...]
    queries: tuple[Lazy, ...]
    trees: list
    key_dims: list[int] = field(default_factory=list)
    key_values: list[tuple] = field(default_factory=list)
    query_dims: list[int] = field(default_factory=list)
    query_values: list[tuple] = field(default_factory=list)


@dataclass
class HeadPlan:
    analysed: AnalysedHead
    groups: list[Group]
    users: list[tuple[Lazy, Encoding, Encoding | None]]  # (aggregate or width, its output, the sop's encoding)
    with_bos: bool  # a selector-width head: BOS always attended
    ranked: tuple[ExtremeAggregate, Encoding] | None = None  # a max/min head: its aggregate and the sop's encoding


class _Units:
    """Hidden units of one MLP, gathered sparsely, then made into matrices."""

    def __init__(self) -> None:
        self.inputs: list[dict[int, float]] = []
        self.biases: list[float] = []
        self.outputs: list[dict[int, float]] = []
        self.constant: dict[int, float] = {}

    def add(self, inputs: dict[int, float], bias: float, outputs: dict[int, float]) -> None:
        self.inputs.append(inputs)
        self.biases.append(bias)
        self.outputs.append(outputs)

    def weights(self) -> int:
        """The non-zero weights and biases of the units (what the sparse forward pass multiplies)."""
        return sum(len(w) for w in self.inputs) + sum(len(w) for w in self.outputs) + len(self.biases)

    def add_constant(self, outputs: dict[int, float]) -> None:
        for dim, weight in outputs.items():
            self.constant[dim] = self.constant.get(dim, 0.0) + weight

    def extend(self, other: _Units, dims: list[int]) -> None:
        """Add `other`'s units, their outputs to dimension k moved to dims[k] (their inputs stay)."""
        self.inputs.extend(other.inputs)
        self.biases.extend(other.biases)
        self.outputs.extend({dims[d]: w for d, w in out.items()} for out in other.outputs)
        self.add_constant({dims[d]: w for d, w in other.constant.items()})

    def mlp(self, d_model: int, computes: list[str]) -> MLP:
        hidden = len(self.inputs)
        W1, W2 = np.zeros((d_model, hidden)), np.zeros((hidden, d_model))
        for unit, (inputs, outputs) in enumerate(zip(self.inputs, self.outputs, strict=True)):
            for dim, weight in inputs.items():
                W1[dim, unit] += weight
            for dim, weight in outputs.items():
                W2[unit, dim] += weight
        b2 = np.zeros(d_model)
        for dim, weight in self.constant.items():
            b2[dim] = weight
        return MLP(W1, np.array(self.biases, dtype=float), W2, b2, computes)


class _Compiler:
    def __init__(self, root: SOp, vocab: list, max_len: int, name: str,
                 progress: Callable[[str, int, int], None] | None = None):
        self.root = root
        self.progress = progress or (lambda stage, done, total: None)
        self.vocab = vocab
        self.max_len = max_len
        self.name = name
        self.analysis = analyse(root, name)
        self.depth = self.analysis.depth
        self.sets = ValueSets(vocab, max_len)
        self.dims: list[dict] = []
        self.one = self._dim("one", "constant", None, "token embedding (every position)")
        self.bos = self._dim("bos", "constant", None, "token embedding (BOS only)")
        self.encodings: dict[int, list[Encoding]] = {}
        self.targets: dict[float, list[Target]] = {}
        self.tables: list[Encoding] = []
        self.heads: dict[int, list[HeadPlan]] = {}
        self.joints: dict[tuple, Joint] = {}
        self.scaled: dict[int, ScaledSum] = {}  # id(aggregate) -> its scaled sum, in a selector width's head
        self.whole: dict[int, bool] = {}  # id(scaled sum) -> its aggregate's values are all ints
        self.alive: list[Any] = []  # nodes made here, kept so that their ids stay unique
        self.scale = 2.0 * (math.log(max_len + 1) + math.log(1.0 / LEAKAGE))
        self.strict = _read_by_attention(root)
        self.read_elsewhere = _read_outside_selects(root)
        self.length_read_linearly = False  # on while a refused target is planned again (_length_reading)
        self.index_means: dict[int, Encoding] = {}  # id(head plan) -> its mean of indices (_length_reading)
        self.refused: set[tuple] = set()  # _refusal_key of what _earlier found refused

    # ================================================================ plan

    def compile(self) -> Transformer:
        stage = f"compiling {self.name} (max_len {self.max_len}): building the weights"
        total = len(self.analysis.detail) + 1
        for done, layer in enumerate(self.analysis.detail):
            self.progress(f"{stage}, layer {layer.number}", done, total)
            self.heads[layer.number] = [self._plan_head(head, layer.number) for head in layer.heads]
        self.progress(f"{stage}, the output", total - 1, total)
        self.output = self.require(self.root, categorical=False)
        return self._build()

    def _dim(self, node: str, encoding: str, value: Any, written_by: str) -> int:
        self.dims.append({"index": len(self.dims), "node": node, "encoding": encoding,
                          "value": None if value is None else _value_text(value), "written_by": written_by})
        return len(self.dims) - 1

    def _encoding(self, node: Any, kind: str, values: list, stage: float) -> Encoding:
        written_by = _stage_text(stage)
        if kind in ("categorical", "classes"):
            dims = [self._dim(node.name, kind, v, written_by) for v in values]
        else:
            dims = [self._dim(node.name, kind, None, written_by)]
        encoding = Encoding(node, kind, dims, values, stage, {value_key(v): i for i, v in enumerate(values)})
        self.encodings.setdefault(id(node), []).append(encoding)
        self.alive.append(node)
        return encoding

    def require(self, node: Any, categorical: bool) -> Encoding:
        """An encoding of `node` in the residual (categorical if asked), made if there is none yet."""
        kinds = ("categorical",) if categorical else ("categorical", "numerical")
        for kind in kinds:
            for encoding in self.encodings.get(id(node), []):
                if encoding.kind == kind:
                    return encoding
        if isinstance(node, (Aggregate, SelectorWidth)):
            return self._target(node, self.depth[id(node)] + 0.5, categorical)  # from the head's output
        depth = self._depth(node)
        if depth > 0:
            return self._target(node, depth + 0.5, categorical)
        origins = self._primitive_kinds(node)
        if len(origins) == 1:
            return self._table(node, categorical)
        return self._target(node, 0.5, categorical)

    def _depth(self, node: Any) -> int:
        if isinstance(node, Joint):
            return max(self.depth[id(p)] for p in node.parts)
        return self.depth[id(node)]

    def _primitive_kinds(self, node: Any) -> set[str]:
        parts = node.parts if isinstance(node, Joint) else (node,)
        return {"index" if p.primitive == "indices" else "token"
                for part in parts for p in ancestry(part) if isinstance(p, Primitive)}

    def _values(self, node: Any) -> dict | None:
        if not isinstance(node, Joint):
            return self.sets.union(node)
        values: dict = {}
        for n, i in self.sets.positions:
            sets = [self.sets.at(p)[(n, i)] for p in node.parts]
            if any(s is None for s in sets):
                return None
            combos: list[tuple] = [()]
            for s in sets:
                combos = [c + (v,) for c in combos for v in s.values()]
                if len(combos) > MAX_POINTS:
                    return None
            values.update((value_key(c), c) for c in combos)
        return values

    def _kind_for(self, node: Any, values: list | None, categorical: bool) -> str:
        limit = JOINT_LIMIT if isinstance(node, Joint) else CATEGORICAL_LIMIT
        if values is not None and len(values) <= limit:
            return "categorical"
        if categorical:
            count = "too many values to enumerate" if values is None else f"{len(values)} values"
            raise CompileError(
                f"`{node.name}` is compared by a select, so it must be one-hot, but it has {count} "
                f"(at most {limit}) for max_len {self.max_len}",
                hint="a smaller max_len or vocabulary keeps it enumerable",
            )
        if values is not None and all(is_number(v) for v in values):
            return "numerical"
        if values is None:
            raise CompileError(f"`{node.name}` takes too many values to enumerate for max_len {self.max_len}")
        raise CompileError(f"`{node.name}` has {len(values)} values, not all numbers: too many for a one-hot")

    def _table(self, node: Any, categorical: bool) -> Encoding:
        """A depth-0 node of the tokens alone or of the positions alone: part of the embedding."""
        found = self._values(node)
        values = sort_values(list(found.values())) if found is not None else None
        encoding = self._encoding(node, self._kind_for(node, values, categorical), values or [], 0)
        self.tables.append(encoding)
        return encoding

    def _target(self, node: Any, stage: float, categorical: bool, classes: Callable | None = None) -> Encoding:
        """A node computed by the MLP of `stage` (or the embedding MLP) from what is already there.

        Two constructions are tried when they differ: the maps between the node and the residual
        fused into one function of the residual nodes, and the same with the affine maps among them
        (sums, differences, multiples of numbers) read as numbers directly by the MLP's first layer
        (they cost no hidden units and enumerate one value set, not the product of their inputs').
        The one with fewer hidden units is kept. With `classes` (a value -> the representative of its
        class), the node is encoded by its classes, for a select's key (see _key_channel). When every
        plan is refused, they are tried again with `length` read linearly (_length_reading).
        """
        try:
            plans = self._plans(node, stage, categorical, classes)
        except CompileError as error:
            if self.length_read_linearly:
                raise
            plans = self._plans_reading_length(node, stage, categorical, classes, error)
        built = [self._trial_units(node, plan, categorical) for plan in plans]
        best = min(range(len(plans)), key=lambda k: self._cost(plans[k], built[k]))
        built[best] = self._regrouped_units(node, plans[best], categorical, built[best])
        sources, points, outputs, values = plans[best]
        kind = "classes" if classes is not None else self._kind_for(node, values, categorical)
        encoding = self._encoding(node, kind, values, stage)
        if encoding.kind == "numerical":
            encoding.values = []
        self.targets.setdefault(stage, []).append(Target(node, encoding, sources, points, outputs, built[best]))
        return encoding

    def _plans(self, node: Any, stage: float, categorical: bool, classes: Callable | None) -> list[tuple]:
        """The plans _target chooses from (the first refusal's error when there is none)."""
        plans = []
        first_error: CompileError | None = None
        affine_sources = self._sources(node, stage, affine=True)
        if any(e.kind == "affine" for _, e in affine_sources[0]):
            try:
                plans.append(self._plan_target(node, stage, categorical, affine_sources, classes))
            except CompileError as error:
                first_error = error
        fused_sources = self._sources(node, stage)
        if not plans or self._point_count(fused_sources[0]) <= FUSED_MARGIN * len(plans[0][1]):
            try:
                plans.append(self._plan_target(node, stage, categorical, fused_sources, classes))
            except CompileError as error:
                first_error = first_error or error
        if self.length_read_linearly and isinstance(node, Map):
            reading = self._affine(node, stage)  # the node itself as one number (add's key `indices + a_offset`)
            if reading is not None and self._enumerable(node):
                itself = ([(node, self._affine_encoding(node, reading))], [])
                try:
                    plans.append(self._plan_target(node, stage, categorical, itself, classes))
                except CompileError as error:
                    first_error = first_error or error
        if not plans:
            assert first_error is not None
            raise first_error
        return plans

    def _plans_reading_length(self, node: Any, stage: float, categorical: bool, classes: Callable | None,
                              refusal: CompileError) -> list[tuple]:
        """The plans again with `length` read linearly (the first refusal stands if they are refused too)."""
        self.length_read_linearly = True
        try:
            return self._plans(node, stage, categorical, classes)
        except CompileError:
            raise refusal from None
        finally:
            self.length_read_linearly = False

    def _point_count(self, sources: list[tuple[Lazy, Encoding]]) -> float:
        """An upper bound on the number of points of a function of `sources` (inf: not enumerable)."""
        per_source = [self.sets.at_representatives(s) for s, _ in sources]
        total, done = 0, set()
        for position in self.sets.positions:
            sets = [s[position] for s in per_source]
            signature = tuple(map(id, sets))
            if signature in done:
                continue
            done.add(signature)
            if any(values is None for values in sets):
                return math.inf
            total += math.prod(len(values) for values in sets)
        return total

    def _plan_target(self, node: Any, stage: float, categorical: bool, found: tuple,
                     classes: Callable | None = None) -> tuple:
        """(sources, points, outputs, values) of `node` computed from `found` (from _sources); with
        `classes`, the outputs and values are the representatives of the outputs' classes."""
        sources, derived = found
        points = self._points(node, sources, on_grid=self._same_between_integers(node, classes))
        self._check_grid_reading(node, sources)
        nodes = [s for s, _ in sources]
        given = self._with_derived(nodes, derived, points)
        nodes_given = nodes + [scaled.aggregate for scaled in derived]
        if isinstance(node, Joint):
            columns = [evaluate_points(part, nodes_given, given) for part in node.parts]
            outputs = [None if any(c is None for c in row) else tuple(row) for row in zip(*columns, strict=True)]
        else:
            outputs = evaluate_points(node, nodes_given, given)
        if classes is not None:
            outputs = [None if v is None else classes(v) for v in outputs]
        found = (self._values(node) or {}) if classes is None else {}
        found.update((value_key(v), v) for v in outputs if v is not None)
        values = sort_values(list(found.values()))
        self._kind_for(node, values, categorical)  # refuses what cannot be encoded
        return sources, points, outputs, values

    def _same_between_integers(self, node: Any, classes: Callable | None) -> bool:
        """Are the node's outputs the same everywhere strictly between two integers of a source with a grid?
        So when its values have sets (only comparisons with integers make a set from a grid), or when it is
        a key with a grid wherever it has no set, encoded by classes of comparisons with integers
        (_key_channel checks the queries)."""
        if self._values(node) is not None:
            return True
        if classes is None or not isinstance(node, Lazy):
            return False
        grids = self.sets.grids(node)
        return all(values is not None or p in grids for p, values in self.sets.at(node).items())

    def _check_grid_reading(self, node: Any, sources: list[tuple[Lazy, Encoding]]) -> None:
        """A source read at its grid's representatives must be the only number of the function: along
        one number, steps fall between neighbouring representatives, where no value lies; along a
        direction mixing numbers, values between representatives could cross one."""
        on_grid = [s for s, _ in sources if self.sets.grids(s)]
        numbers = [s for s, e in sources if e.kind != "categorical"]
        if on_grid and len(numbers) > 1:
            other = next(s for s in numbers if s is not on_grid[0])
            raise CompileError(
                f"`{node.name}` is a function of `{on_grid[0].name}`, a mean of too many values to enumerate, "
                f"and of the number `{other.name}`: one MLP reads such a mean only as its one number",
                hint="a smaller max_len keeps the mean's values enumerable",
            )

    def _trial_units(self, node: Any, plan: tuple, categorical: bool,
                     construction: Callable[[Target, _Units], None] | None = None) -> _Units | None:
        """The MLP units of a plan, writing to dimensions 0.. of the node's encoding (None: it cannot be
        built); their count decides between plans, and the chosen plan's are moved to its real dimensions.
        `construction` builds them (default: _target_units, a gate per combination of one-hot values)."""
        sources, points, outputs, values = plan
        kind = self._kind_for(node, values, categorical)
        dims = list(range(len(values))) if kind == "categorical" else [0]
        trial = Encoding(node, kind, dims, values, 0, {value_key(v): i for i, v in enumerate(values)})
        units = _Units()
        try:
            (construction or self._target_units)(Target(node, trial, sources, points, outputs), units)
        except CompileError:
            return None
        return units

    def _cost(self, plan: tuple, units: _Units | None) -> float:
        """What choosing between plans minimises: hidden units (inf: the plan cannot be built)."""
        return math.inf if units is None else len(units.inputs)

    # ------------------------------------------------------- gates by classes

    def _regrouped_units(self, node: Any, plan: tuple, categorical: bool, units: _Units | None) -> _Units | None:
        """The plan's units, or fewer built with gates by classes of values (_class_units) when a
        one-hot source of numbers is used through a few categories and otherwise affinely:
        closest's `before` (a position times 4 plus a token's place) by its token, read as a number
        for its position (docs/design.md, 'How `compile` builds a transformer')."""
        if units is None or len(units.inputs) <= REGROUP_FROM or not isinstance(node, Lazy):
            return units
        sources = plan[0]
        if any(self.sets.grids(s) for s, _ in sources):
            return units  # classes would add numbers beside the grid's (_check_grid_reading)
        between = ancestry(node, skip={id(s) for s, _ in sources})
        if not all(isinstance(m, Map) for m in between):
            return units  # an aggregate derived from a scaled sum: its values are not the sources'
        uses = _source_uses(between, sources)
        partitions = [self._value_classes(source, encoding, between, uses)
                      for source, encoding in sources]
        if all(p is None for p in partitions):
            return units
        regrouped = self._trial_units(node, plan, categorical,
                                      lambda target, into: self._class_units(target, into, partitions, between, uses))
        smaller = (regrouped is not None and len(regrouped.inputs) < len(units.inputs)
                   and regrouped.weights() <= units.weights())
        return regrouped if smaller else units

    def _value_classes(self, source: Lazy, encoding: Encoding, between: list[Map],
                       uses: dict[int, frozenset]) -> list[tuple[int, ...]] | None:
        """Classes of a one-hot source of numbers (tuples of its dimensions; None: one class per value):
        the values split by what each map of this source alone takes on them, smallest sets first,
        unless the map is affine in the value within every class so far (then the class reads the value
        as a number). closest's `before`: `before >= 0` and `before % 4` split it into five classes, in
        which `(before - before % 4) / 4` is affine."""
        values = encoding.values
        if encoding.kind != "categorical" or len(values) < 3 or not all(is_number(v) for v in values):
            return None
        own = [m for m in between if uses[id(m)] == frozenset({id(source)})]
        tables = [evaluate_points(m, [source], [(v,) for v in values]) for m in own]
        tables.sort(key=lambda outcomes: len({value_key(v) for v in outcomes}))
        classes = [list(range(len(values)))]
        for outcomes in tables:
            if all(_affine_on(values, outcomes, members) for members in classes):
                continue
            classes = [part for members in classes for part in _split_by(outcomes, members)]
        if len(classes) == len(values):
            return None
        return [tuple(encoding.dims[k] for k in members) for members in classes]

    def _class_units(self, target: Target, units: _Units, partitions: list, between: list[Map],
                     uses: dict[int, frozenset]) -> None:
        """A step function per gate, the gates combinations of classes (a source with classes is read as a
        number too), with directions fitted to the comparisons of the fused maps (_fitted_directions)."""
        gates, members, numbers = _class_gates(target, partitions)
        readings = [_number_reading(e) for e in numbers]
        extra = self._fitted_directions(target, gates, members, between, uses)
        directions = self._directions(target, gates, len(numbers), extra)
        _steps_per_gate(units, target, gates, directions, readings, by_classes=True)

    def _fitted_directions(self, target: Target, gates: dict, members: dict, between: list[Map],
                           uses: dict[int, frozenset]) -> list[list[float]]:
        """Directions along which a comparison of the fused maps is a threshold: where both sides are
        affine in the gate's numbers (closest's `before_distance <= after_distance` within a pair of
        tokens), their difference fitted exactly by least squares on up to FIT_POINTS of the gate's points
        (candidates only: _directions counts every point's steps along them)."""
        nodes = [s for s, _ in target.sources]
        samples = {gate: _spread(len(pts), FIT_POINTS) for gate, pts in gates.items()}
        chosen = sorted({members[gate][k] for gate, picks in samples.items() for k in picks})
        row = {index: r for r, index in enumerate(chosen)}
        points = [target.points[index] for index in chosen]
        found: dict[tuple, list[float]] = {}
        for m in between:
            if m.op not in COMPARE or len(uses[id(m)]) < 2:
                continue
            sides = [evaluate_points(a, nodes, points) if isinstance(a, Lazy) else [a] * len(points) for a in m.args]
            difference = np.array([a - b if is_number(a) and is_number(b) else np.nan
                                   for a, b in zip(*sides, strict=True)], dtype=float)
            for gate, picks in samples.items():
                matrix = np.array([gates[gate][k][0] for k in picks], dtype=float).reshape(len(picks), -1)
                weights = _exact_fit(matrix, difference[[row[members[gate][k]] for k in picks]])
                if weights is not None:
                    found.setdefault(tuple(np.round(weights / np.abs(weights).max(), 9)), list(weights))
        return list(found.values())

    def _with_derived(self, nodes: list[Lazy], derived: list[ScaledSum], points: list[tuple]) -> list[tuple]:
        """The points with the values of the aggregates computed from scaled sums and widths appended."""
        if not derived:
            return points
        columns = [(nodes.index(scaled), nodes.index(scaled.width), self.whole[id(scaled)]) for scaled in derived]
        return [point + tuple(scaled.value(point[a], point[w], whole)
                              for scaled, (a, w, whole) in zip(derived, columns, strict=True)) for point in points]

    def _sources(self, node: Any, stage: float,
                 affine: bool = False) -> tuple[list[tuple[Lazy, Encoding]], list[ScaledSum]]:
        """The nodes in the residual before `stage` that `node` is a function of (maps in between fused),
        and the scaled sums among them that stand for aggregates (whose values are computed from them).
        With `affine`, an affine map of numbers in the residual is a source of its own (read linearly)."""
        found: list[tuple[Lazy, Encoding]] = []
        derived: list[ScaledSum] = []
        seen: set[int] = set()
        if isinstance(node, Joint):
            starts = list(node.parts)
        elif isinstance(node, Map):
            starts = list(node.parents())
        else:
            starts = [node]
        stack = list(reversed(starts))
        while stack:
            current = stack.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            encoding = self._available(current, stage) or self._earlier(current, stage)
            if encoding is not None:
                found.append((current, encoding))
            elif id(current) in self.scaled:
                scaled = self.scaled[id(current)]
                derived.append(scaled)
                stack.extend([scaled.width, scaled])
            elif isinstance(current, Map):
                reading = self._affine(current, stage) if affine else None
                if reading is not None and self._enumerable(current):
                    found.append((current, self._affine_encoding(current, reading)))
                else:
                    stack.extend(reversed(current.parents()))
            elif isinstance(current, Primitive):
                found.append((current, self.require(current, categorical=True)))
            else:
                raise CompileError(f"internal: `{current.name}` is not in the residual before {_stage_text(stage)}")
        return found, derived

    def _earlier(self, node: Lazy, stage: float) -> Encoding | None:
        """A map of an earlier layer, computed by that layer's MLP (or the embedding) rather than again here.

        Each MLP then reads its layer's inputs, not everything they were computed from, which
        keeps its tables small. Maps of tokens and positions together are not put into an
        embedding MLP for this (they are fused instead); a map that cannot be stored is fused too.
        """
        if not isinstance(node, Map):
            return None
        depth = self._depth(node)
        if depth + 0.5 >= stage or (depth == 0 and len(self._primitive_kinds(node)) > 1):
            return None
        before = self._refusal_key(node, depth + 0.5)
        if before in self.refused:
            return None  # refused already, and nothing it could read has been added since
        try:
            return self.require(node, categorical=True)  # numbers would make this MLP's steps harder
        except CompileError:
            self.refused |= {before, self._refusal_key(node, depth + 0.5)}
            return None

    def _refusal_key(self, node: Lazy, stage: float) -> tuple:
        """What decides whether a node's plans are refused: the node, and what is in the residual before it."""
        earlier = sum(e.stage < stage for found in self.encodings.values() for e in found)
        return id(node), earlier, self.length_read_linearly

    def _affine(self, node: Any, stage: float) -> tuple[dict[int, float], float] | None:
        """(weights, bias) when `node` is an affine function of numbers in the residual before `stage`
        (numerical dimensions, one-hots of numbers, maps of them by + - * / with constants), else None."""
        if not isinstance(node, Lazy):
            return ({}, float(node)) if is_number(node) else None
        encoding = self._available(node, stage)
        if encoding is None and isinstance(node, Primitive) and node.primitive == "indices":
            encoding = self.require(node, categorical=True)
        if encoding is not None:
            if encoding.kind == "numerical":
                return {encoding.dims[0]: 1.0}, 0.0
            if encoding.kind == "categorical" and encoding.values and all(is_number(v) for v in encoding.values):
                return {dim: float(v) for dim, v in zip(encoding.dims, encoding.values, strict=True)}, 0.0
            return None
        if self.length_read_linearly and (reading := self._length_reading(node, stage)) is not None:
            return reading
        if not isinstance(node, Map) or id(node) in self.scaled:
            return None
        if node.op in ("neg", "pos"):
            inner = self._affine(node.args[0], stage)
            sign = -1.0 if node.op == "neg" else 1.0
            return None if inner is None else _scaled(inner, sign)
        if node.op not in ("+", "-", "*", "/"):
            return None
        left, right = (self._affine(a, stage) for a in node.args)
        if left is None or right is None:
            return None
        if node.op in ("+", "-"):
            sign = 1.0 if node.op == "+" else -1.0
            weights = dict(left[0])
            for dim, w in right[0].items():
                weights[dim] = weights.get(dim, 0.0) + sign * w
            return weights, left[1] + sign * right[1]
        if node.op == "*" and not left[0]:
            return _scaled(right, left[1])
        if node.op == "*" and not right[0]:
            return _scaled(left, right[1])
        if node.op == "/" and not right[0] and right[1] != 0:
            return _scaled(left, 1.0 / right[1])
        return None

    def _length_reading(self, node: Lazy, stage: float) -> tuple[dict[int, float], float] | None:
        """`length` (a node whose value is n at every position of every input of length n) as an affine
        reading: a head that selects every key at every query can also average `indices` into one more
        value column, (n - 1) / 2, and length is twice that plus one. Tried only when a target's plans
        are refused (add's key `indices + length - plus_position` then is one number for its MLP)."""
        sets = self.sets.at(node)
        if not all(s is not None and list(s) == [value_key(n)] for (n, _), s in sets.items()):
            return None
        for layer in sorted(self.heads):
            for plan in self.heads[layer] if layer < stage else []:
                if plan.with_bos or plan.ranked is not None or not self._selects_everything(plan.analysed.selector):
                    continue
                return {self._mean_of_indices(plan, layer).dims[0]: 2.0}, 1.0
        return None

    def _selects_everything(self, selector: Lazy) -> bool:
        return all(self.sets.pattern(selector, n)[1].all() for n in range(1, self.max_len + 1))

    def _mean_of_indices(self, plan: HeadPlan, layer: int) -> Encoding:
        """A value column of the head averaging `indices` (made once per head)."""
        if id(plan) not in self.index_means:
            indices = next((p for p in ancestry(self.root) if isinstance(p, Primitive) and p.primitive == "indices"),
                           None) or Primitive("indices")
            mean = Aggregate(plan.analysed.selector, indices, 0)
            encoding = self._encoding(mean, "numerical", [], layer)
            plan.users.append((mean, encoding, self.require(indices, categorical=True)))
            self.index_means[id(plan)] = encoding
        return self.index_means[id(plan)]

    def _enumerable(self, node: Lazy) -> bool:
        """Are the node's numbers known at every position, as a set or a grid (so that it can stand for
        its inputs)?"""
        sets = self.sets.at_representatives(node)
        return all(s is not None and all(is_number(v) for v in s.values()) for s in sets.values())

    def _affine_encoding(self, node: Lazy, reading: tuple[dict[int, float], float]) -> Encoding:
        weights, bias = reading
        return Encoding(node, "affine", sorted(weights), [], -1.0, {}, dict(weights), bias)

    def _available(self, node: Lazy, stage: float) -> Encoding | None:
        ready = [e for e in self.encodings.get(id(node), []) if e.stage < stage]
        for kind in ("categorical", "numerical", "width"):
            for encoding in ready:
                if encoding.kind == kind:
                    return encoding
        return None

    def _points(self, node: Any, sources: list[tuple[Lazy, Encoding]], on_grid: bool = False) -> list[tuple]:
        """Every combination of source values that can occur together at one position; with `on_grid`,
        a source with a grid takes its representatives (rasp.compiler.valueset, 'Grids')."""
        points: dict[tuple, tuple] = {}
        per_source = [self.sets.at_representatives(s) if on_grid else self.sets.at(s) for s, _ in sources]
        done: set[tuple] = set()
        for position in self.sets.positions:
            sets = [s[position] for s in per_source]
            signature = tuple(map(id, sets))  # positions with the same sets (the same dicts) add nothing new
            if signature in done:
                continue
            done.add(signature)
            for (source, _), values in zip(sources, sets, strict=True):
                if values is None:
                    whose = f"`{source.name}`'s values" if source is node else (
                        f"`{node.name}` depends on `{source.name}`, whose values")
                    raise CompileError(
                        f"{whose} at position {position[1]} (length {position[0]}) are too many to enumerate"
                    )
            if math.prod(len(values) for values in sets) + len(points) > MAX_POINTS:
                raise CompileError(f"`{node.name}` is a function of more than {MAX_POINTS:,} input combinations",
                                   hint="a smaller max_len or vocabulary makes fewer")
            # the keys' and the values' products run in step; a key seen at an earlier position keeps its value
            combos = zip(itertools.product(*map(list, sets)), itertools.product(*(list(v.values()) for v in sets)),
                         strict=True)
            if points:
                keep = points.setdefault
                for key, combo in combos:
                    keep(key, combo)
            else:
                points = dict(combos)
        return list(points.values())

    # --------------------------------------------------------------- heads

    def _plan_head(self, analysed: AnalysedHead, layer: int) -> HeadPlan:
        users = analysed.users
        widths = [u for u in users if isinstance(u, SelectorWidth)]
        groups = self._groups(analysed.selector)
        for group in groups:
            group.query_dims, group.query_values = self._channel(group.queries)
            group.key_dims, group.key_values = self._key_channel(group)
        extremes = [u for u in users if isinstance(u, ExtremeAggregate) and isinstance(u.sop, Lazy)]
        if extremes:
            return self._plan_extreme_head(analysed, groups, extremes[0], layer)
        planned = []
        for user in users:
            if isinstance(user, SelectorWidth):
                planned.append((user, self._encoding(user, "width", [], layer), None))
            elif widths:
                planned.append(self._plan_scaled_aggregate(user, widths[0], layer))
            else:
                planned.append(self._plan_aggregate(user, layer))
        return HeadPlan(analysed, groups, planned, with_bos=bool(widths))

    def _plan_extreme_head(self, analysed: AnalysedHead, groups: list[Group], node: ExtremeAggregate,
                           layer: int) -> HeadPlan:
        """A head for aggregate_max / aggregate_min: every key's score gets a bonus that grows with
        its value's rank (docs/design.md, 'How `compile` builds a transformer'), so that among the
        selected keys those holding the largest (smallest) value win; it writes that value one-hot."""
        if len(analysed.users) > 1:
            others = ", ".join(f"`{u.name}`" for u in analysed.users if u is not node)
            raise CompileError(
                f"`{analysed.selector.name}` is used in layer {layer} by `{node.name}` and by {others}: a head that "
                f"picks the {node.reduction}imum cannot also average or count",
                hint="use two separate select(...) calls (two heads)",
            )
        sop = self.require(node.sop, categorical=True)
        if not all(is_number(v) or isinstance(v, bool) for v in sop.values):
            raise CompileError(f"`{node.name}`: aggregate_{node.reduction} needs numbers, and "
                               f"`{node.sop.name}` can take other values")
        if any(isinstance(v, bool) for v in sop.values) and not isinstance(node.default, bool):
            raise CompileError(
                f"`{node.name}`: bools with the default {_value_text(node.default)} are bools or ints "
                "depending on the whole input (ints where some query selects nothing), which no "
                "position can tell", hint="use a bool default, or numbers (e.g. indicator(...))",
            )
        found = self.sets.union(node) or {}
        found[value_key(node.default)] = node.default
        found.update((value_key(v), v) for v in sop.values)
        values = sort_values(list(found.values()))
        if len(values) > CATEGORICAL_LIMIT:
            raise CompileError(f"`{node.name}` has {len(values)} values: too many for a one-hot")
        out = self._encoding(node, "categorical", values, layer)
        return HeadPlan(analysed, groups, [(node, out, sop)], with_bos=False, ranked=(node, sop))

    def _plan_scaled_aggregate(self, node: Aggregate, width: SelectorWidth,
                               layer: int) -> tuple[Lazy, Encoding, Encoding | None]:
        """An aggregate whose head is also a selector width's: the head writes sum / (w + 1)."""
        values = self.sets.union(node.sop) if isinstance(node.sop, Lazy) else {value_key(node.sop): node.sop}
        if values is None or not all(is_number(v) for v in [*values.values(), node.default]):
            raise CompileError(
                f"`{node.selector.name}` is used in layer {layer} by a selector_width and by `{node.name}`, an "
                "aggregate of values that are not all numbers: one head cannot weigh BOS both ways for it",
                hint="use two separate select(...) calls (two heads)",
            )
        scaled = ScaledSum(node, width)
        self.sets.define(scaled, self.sets.scaled_sums(node))
        self.scaled[id(node)] = scaled
        self.whole[id(scaled)] = all(isinstance(v, int) for v in values.values())
        sop = self.require(node.sop, categorical=False) if isinstance(node.sop, Lazy) else None
        return scaled, self._encoding(scaled, "numerical", [], layer), sop

    def _plan_aggregate(self, node: Aggregate, layer: int) -> tuple[Lazy, Encoding, Encoding | None]:
        numerical = self._is_mean(node)
        sop = None
        if isinstance(node.sop, Lazy):
            sop = self.require(node.sop, categorical=not numerical)
        if numerical:
            return node, self._encoding(node, "numerical", [], layer), sop
        found = self.sets.union(node) or {}
        found[value_key(node.default)] = node.default
        if sop is not None:
            found.update((value_key(v), v) for v in sop.values)
        else:
            found[value_key(node.sop)] = node.sop
        values = sort_values(list(found.values()))
        if len(values) > CATEGORICAL_LIMIT:
            raise CompileError(f"`{node.name}` has {len(values)} values: too many for a one-hot")
        return node, self._encoding(node, "categorical", values, layer), sop

    def _is_mean(self, node: Aggregate) -> bool:
        """Can the aggregate average two different numbers somewhere? Then it is numerical. Not when
        its select picks at most one key and the values fit a one-hot (a number of many values is
        kept as a number: the head copies it exactly either way)."""
        if not is_number(node.default):
            return False
        sop = self.sets.at(node.sop)
        for n in range(1, self.max_len + 1):
            possible, _ = self.sets.pattern(node.selector, n)
            for i in range(n):
                chosen = np.flatnonzero(possible[i]).tolist()
                values: dict = {}
                for k in chosen:
                    if sop[(n, k)] is None:
                        return True
                    values.update(sop[(n, k)])
                if any(not is_number(v) for v in values.values()):
                    return False
                if len(chosen) >= 2 and len(values) >= 2:
                    return True
        return False

    def _groups(self, selector: Lazy) -> list[Group]:
        groups: dict[tuple, Group] = {}
        for tree in _conjuncts(_negation_normal_form(selector, False)):
            leaves = _leaves(tree)
            keys = tuple(_distinct(s.key for s, _ in leaves))
            queries = tuple(_distinct(s.query for s, _ in leaves))
            signature = (tuple(map(id, keys)), tuple(map(id, queries)))
            if signature not in groups:
                groups[signature] = Group(keys, queries, [])
            groups[signature].trees.append(tree)
        return list(groups.values())

    def _key_channel(self, group: Group) -> tuple[list[int], list[tuple]]:
        """The key variable of a group, by classes: a key computed by an MLP and read only by selects
        needs only tell apart values the select tells apart (those selected by
        different query values). add's `indices + length - plus_position` takes hundreds of fractional
        values, which select nothing against the integer `indices`: one class, beside one per integer."""
        node = group.keys[0] if len(group.keys) == 1 else None
        leaf = group.trees[0] if len(group.trees) == 1 and group.trees[0][0] == "leaf" else None
        if (node is None or leaf is None or id(node) in self.read_elsewhere or self._channel_exists(node)
                or not self._computed_by_mlp(node)):
            return self._channel(group.keys)
        compare = _leaf_on_values(leaf, [q[0] for q in group.query_values] if group.queries else [None])
        queries = [q[0] for q in group.query_values] if group.queries else [leaf[1].query]
        if self.sets.grids(node) and not all(is_number(q) and float(q).is_integer() for q in queries):
            return self._channel(group.keys)  # classes of a grid are read at its representatives: integers only
        representatives: dict[tuple, Any] = {}
        encoding = self._target(node, self._stage_of(node), True,
                                classes=lambda v: representatives.setdefault(compare(v), v))
        return encoding.dims, [(v,) for v in encoding.values]

    def _channel_exists(self, node: Lazy) -> bool:
        return any(e.kind in ("categorical", "classes") for e in self.encodings.get(id(node), []))

    def _computed_by_mlp(self, node: Lazy) -> bool:
        """Is the node computed by an MLP (not a row of the embedding tables)?"""
        if isinstance(node, (Aggregate, SelectorWidth)):
            return False  # written by a head
        return self._depth(node) > 0 or len(self._primitive_kinds(node)) > 1

    def _stage_of(self, node: Lazy) -> float:
        return self._depth(node) + 0.5 if self._depth(node) > 0 else 0.5

    def _channel(self, nodes: tuple[Lazy, ...]) -> tuple[list[int], list[tuple]]:
        """The residual dimensions and values (as tuples) of a key or query variable."""
        if not nodes:
            return [self.one], [()]
        if len(nodes) == 1:
            encoding = self.require(nodes[0], categorical=True)
            return encoding.dims, [(v,) for v in encoding.values]
        key = tuple(map(id, nodes))
        if key not in self.joints:
            self.joints[key] = Joint(nodes)
        encoding = self.require(self.joints[key], categorical=True)
        return encoding.dims, list(encoding.values)

    # =============================================================== build

    def _build(self) -> Transformer:
        d_model = len(self.dims)
        token_embedding, position_embedding = self._embeddings(d_model)
        embedding_mlp = self._mlp(0.5, d_model) if self.targets.get(0.5) else None
        layers: list[Layer] = []
        for number in range(1, self.analysis.layers + 1):
            x_bos = _bos_residual(token_embedding, position_embedding, embedding_mlp, layers, len(self.vocab))
            heads = [self._head(plan, x_bos, d_model) for plan in self.heads[number]]
            layers.append(Layer(heads, self._mlp(number + 0.5, d_model)))
        unembedding = np.zeros((d_model, max(1, len(self.output.values))))
        if self.output.kind == "categorical":
            for column, dim in enumerate(self.output.dims):
                unembedding[dim, column] = 1.0
            output = Output("categorical", list(self.output.values))
        else:
            unembedding[self.output.dims[0], 0] = 1.0
            output = Output("numerical", [])
        return Transformer(
            name=self.name, vocab=self.vocab, max_len=self.max_len, token_embedding=token_embedding,
            position_embedding=position_embedding, embedding_mlp=embedding_mlp, layers=layers,
            unembedding=unembedding, output=output, dims=self.dims, tolerance=TOLERANCE,
            causal=self.sets.causal,
        )

    def _embeddings(self, d_model: int) -> tuple[np.ndarray, np.ndarray]:
        tokens = np.zeros((len(self.vocab) + 1, d_model))
        tokens[:, self.one] = 1.0
        tokens[len(self.vocab), self.bos] = 1.0
        positions = np.zeros((self.max_len + 1, d_model))
        for encoding in self.tables:
            by_token = "index" not in self._primitive_kinds(encoding.node)
            table, offset = (tokens, 0) if by_token else (positions, 1)
            inputs = self.vocab if by_token else list(range(self.max_len))
            for row, value in enumerate(self._table_values(encoding.node, inputs)):
                if value is not None and (encoding.kind != "categorical" or value_key(value) in encoding.index):
                    for dim, weight in encoding.vector(value).items():
                        table[row + offset, dim] = weight
        return tokens, positions

    def _table_values(self, node: Any, inputs: list) -> list:
        """The node's value for each token (or position) of `inputs` (None where it fails)."""
        parts = node.parts if isinstance(node, Joint) else (node,)
        columns = []
        for part in parts:
            primitives = [p for p in ancestry(part) if isinstance(p, Primitive)]
            points = [tuple(self.sets.primitive_value(p, item) for p in primitives) for item in inputs]
            columns.append(evaluate_points(part, primitives, points))
        if not isinstance(node, Joint):
            return columns[0]
        return [None if any(c is None for c in row) else tuple(row) for row in zip(*columns, strict=True)]

    def _head(self, plan: HeadPlan, x_bos: np.ndarray, d_model: int) -> Head:
        ranks = _ranks(*plan.ranked) if plan.ranked else None
        # a max/min head: selection must outweigh the largest rank bonus (scale per rank step)
        s = self.scale * (2 * (max(ranks.values()) + 1) if ranks else 1)
        widths = sum(len(g.query_values) for g in plan.groups)
        c_col, b_col = widths, widths + 1
        columns = widths + (3 if ranks else 2)  # the query's table columns, `one`, `bos` (and the rank bonus)
        W_Q, W_K = np.zeros((d_model, columns)), np.zeros((d_model, columns))
        if ranks:
            W_Q[self.one, widths + 2] = 1.0
            for dim, rank in ranks.items():
                W_K[dim, widths + 2] = self.scale * rank
        column = 0
        for group in plan.groups:
            table = self._predicate_table(group)
            own = column + np.arange(len(group.query_dims))  # the group's columns, one per query value
            W_Q[group.query_dims, own] = 1.0
            W_K[np.ix_(group.key_dims, own)] += s * table.T
            column += len(group.query_dims)
        count = len(plan.groups)
        W_Q[self.one, c_col] = 1.0
        W_Q[self.bos, b_col] = 1.0
        q_bos = np.zeros(columns)
        q_bos[b_col] = 1.0
        k_bos = np.zeros(columns)
        k_bos[c_col] = s * (count if plan.with_bos else count - 0.5)
        k_bos[b_col] = s * (count + 1)
        W_Q[self.bos] += q_bos - x_bos @ W_Q
        W_K[self.bos] += k_bos - x_bos @ W_K
        W_V, W_O, v_bos = self._values_of(plan, d_model)
        W_V[self.bos] += v_bos - x_bos @ W_V
        computes = [user.name for user, _, _ in plan.users]
        return Head(W_Q, W_K, W_V, W_O, plan.analysed.description, computes,
                    node=_attended(plan), with_bos=plan.with_bos)

    def _values_of(self, plan: HeadPlan, d_model: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        columns = [1 if out.kind != "categorical" else len(out.dims) for _, out, _ in plan.users]
        total = sum(columns)
        W_V, W_O, v_bos = np.zeros((d_model, total)), np.zeros((total, d_model)), np.zeros(total)
        start = 0
        for (user, out, sop), width in zip(plan.users, columns, strict=True):
            for j, dim in enumerate(out.dims):
                W_O[start + j, dim] = 1.0
            if isinstance(user, SelectorWidth):
                v_bos[start] = 1.0
            elif out.kind == "numerical":
                if isinstance(user, ScaledSum):
                    user = user.aggregate  # BOS's value stays 0: it is one of the w + 1 positions averaged
                else:
                    v_bos[start] = float(user.default)
                if sop is None:
                    W_V[self.one, start] = float(user.sop)
                elif sop.kind == "categorical":
                    for dim, value in zip(sop.dims, sop.values, strict=True):
                        W_V[dim, start] = float(value)
                else:
                    W_V[sop.dims[0], start] = 1.0
            else:
                v_bos[start + out.index[value_key(user.default)]] = 1.0
                if sop is None:
                    W_V[self.one, start + out.index[value_key(user.sop)]] = 1.0
                else:
                    for dim, value in zip(sop.dims, sop.values, strict=True):
                        W_V[dim, start + out.index[value_key(value)]] = 1.0
            start += width
        return W_V, W_O, v_bos

    def _predicate_table(self, group: Group) -> np.ndarray:
        """1 where the query value (row) selects the key value (column) under all of the group's trees.

        Each comparison is evaluated once per pair of its operands' distinct values and spread over
        the (joint) values by indexing, so a joint of a thousand values costs a few array operations."""
        leaves: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for tree in group.trees:
            for select, _ in _leaves(tree):
                if id(select) not in leaves:
                    leaves[id(select)] = _comparison_table(select, group)
        table = np.ones((len(group.query_values), len(group.key_values)), dtype=bool)
        for tree in group.trees:
            table &= _tree_table(tree, leaves)
        return table.astype(float)

    # ---------------------------------------------------------------- MLPs

    def _mlp(self, stage: float, d_model: int) -> MLP:
        units = _Units()
        targets = self.targets.get(stage, [])
        for target in targets:
            if target.units is None:
                self._target_units(target, units)
            else:
                units.extend(target.units, target.encoding.dims)
        return units.mlp(d_model, [t.node.name for t in targets])

    def _target_units(self, target: Target, units: _Units) -> None:
        categorical = [(i, e) for i, (_, e) in enumerate(target.sources) if e.kind == "categorical"]
        numbers = [(i, e) for i, (_, e) in enumerate(target.sources) if e.kind != "categorical"]
        gates: dict[tuple, list[tuple[tuple, Any]]] = {}
        for point, output in zip(target.points, target.outputs, strict=True):
            if output is None:
                continue  # the program fails there: any output will do
            if any(value_key(point[i]) not in e.index for i, e in categorical):
                continue  # a value its source's one-hot never holds (value sets over-approximate)
            gate = tuple(e.dims[e.index[value_key(point[i])]] for i, e in categorical)
            gates.setdefault(gate, []).append((tuple(e.scalar(point[i]) for i, e in numbers), output))
        directions = self._directions(target, gates, len(numbers))
        readings = [e.reading() for _, e in numbers]
        _steps_per_gate(units, target, gates, directions, readings, by_classes=False)

    def _directions(self, target: Target, gates: dict, count: int,
                    extra: list[list[float]] | None = None) -> dict[tuple, list[float]]:
        """For each gate, a direction along which its distinct outputs have distinct, well separated
        positions: of those separated by SAFE_GAP (STRICT_GAP for a node that attention reads, whose
        one-hots must be exact to about 1e-14), the one with the fewest steps; else the best separated."""
        if count == 0:
            return {gate: [] for gate in gates}
        if count == 1:
            if _smallest_gap([1.0], gates) <= 1e-9:
                raise CompileError(f"`{target.node.name}` needs to tell apart values of "
                                   f"`{_numbers(target)}` closer than one part in 10^9")
            return {gate: [1.0] for gate in gates}
        spans = []
        for j in range(count):
            column = [t[j] for pts in gates.values() for t, _ in pts] or [0.0]
            spans.append(max(column) - min(column) or 1.0)
        rng = np.random.default_rng(0)
        candidates = [[phi ** j / spans[j] for j in range(count)] for phi in DIRECTIONS]
        candidates += [list(rng.uniform(0.2, 1.0, count) / np.array(spans)) for _ in range(8)]
        candidates += _signed(spans) + _lexicographic(gates, count) + (extra or [])
        strict = isinstance(target.node, Joint) or id(target.node) in self.strict
        safe_gap = STRICT_GAP if strict else SAFE_GAP
        chosen = {}
        for gate, prepared in zip(gates, _prepared(gates), strict=True):
            scored = [(direction, *_gap_and_steps(direction, [prepared])) for direction in candidates]
            safe = [(steps, index) for index, (_, gap, steps) in enumerate(scored) if gap > safe_gap]
            if safe:
                chosen[gate] = scored[min(safe)[1]][0]  # the fewest steps (units) among well separated ones
                continue
            best, best_gap, _ = max(scored, key=lambda item: item[1])
            if best_gap <= 1e-9:
                raise CompileError(f"`{target.node.name}` combines the numbers `{_numbers(target)}` "
                                   "in a way one MLP layer cannot separate")
            chosen[gate] = best
        return chosen


# ------------------------------------------------------------ MLP pieces


def _attended(plan: HeadPlan) -> Lazy:
    """The keys a head ideally attends to, as a selector (verification compares with it): its
    selector's, or for a max/min head the selected keys that hold the value it picks."""
    if plan.ranked is None:
        return plan.analysed.selector
    node = plan.ranked[0]
    return SelectorCombination("and", (Select(node.sop, node, "=="), node.selector))


def _ranks(node: ExtremeAggregate, sop: Encoding) -> dict[int, int]:
    """The rank bonus of each of the sop's one-hot dimensions: 0 for the value a max (min) head
    prefers least, one more per larger (smaller) distinct number; bools count as 0 and 1."""
    numbers = sorted({float(v) for v in sop.values})
    if node.reduction == "min":
        numbers.reverse()
    rank = {number: r for r, number in enumerate(numbers)}
    return {dim: rank[float(value)] for dim, value in zip(sop.dims, sop.values, strict=True)}


def _scaled(reading: tuple[dict[int, float], float], factor: float) -> tuple[dict[int, float], float]:
    weights, bias = reading
    return {dim: w * factor for dim, w in weights.items()}, bias * factor


def _numbers(target: Target) -> str:
    return "`, `".join(s.name for s, e in target.sources if e.kind != "categorical")


def _along(direction: list[float], pts: list[tuple[tuple, Any]]) -> list[tuple[float, Any]]:
    """The gate's points as (t, output), sorted by t, with duplicates merged."""
    line = sorted(((float(np.dot(direction, t)) if direction else 0.0, out) for t, out in pts),
                  key=lambda item: item[0])
    merged = [line[0]]
    for t, out in line[1:]:
        if t != merged[-1][0]:
            merged.append((t, out))
    return merged


def _smallest_gap(direction: list[float], gates: dict) -> float:
    return _gap_and_steps(direction, _prepared(gates))[0]


def _prepared(gates: dict) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each gate's points as a matrix (one row per point) and its outputs as integer codes."""
    codes: dict = {}
    prepared = []
    for pts in gates.values():
        matrix = np.array([t for t, _ in pts], dtype=float).reshape(len(pts), -1)
        outputs = np.array([codes.setdefault(value_key(out), len(codes)) for _, out in pts])
        prepared.append((matrix, outputs))
    return prepared


def _gap_and_steps(direction: list[float], prepared: list[tuple[np.ndarray, np.ndarray]]) -> tuple[float, int]:
    """The smallest gap (relative to its gate's span) between neighbours along `direction` whose
    outputs differ, and how many such neighbours (steps, two hidden units each) there are."""
    smallest, steps = math.inf, 0
    for matrix, outputs in prepared:
        if len(outputs) < 2:
            continue
        t = matrix @ np.asarray(direction, dtype=float)
        order = np.lexsort((outputs, t))
        t, codes = t[order], outputs[order]
        total = (t[-1] - t[0]) or 1.0
        changes = codes[1:] != codes[:-1]
        if changes.any():
            steps += int(changes.sum())
            smallest = min(smallest, float((np.diff(t)[changes]).min()) / total)
    return smallest, steps


def _signed(spans: list[float]) -> list[list[float]]:
    """Sums and differences of the numbers (up to three): along a - b, a function of the
    difference (`round(3 * a) - round(3 * b)`) has one step per value of the difference."""
    if len(spans) > 3:
        return []
    signs = itertools.product((-1.0, 0.0, 1.0), repeat=len(spans))
    return [list(s) for s in signs if next((x for x in s if x), 0.0) > 0]


def _lexicographic(gates: dict, count: int) -> list[list[float]]:
    """Directions that order points by one number first, the next within it, and so on: along them
    a function that changes with the last numbers only near a few values of the first (a threshold
    of each, as `a < 0 or b < 0`) has few steps. Only for two or three numbers, every order."""
    if count > 3:
        return []
    columns = []
    for j in range(count):
        values = sorted({round(t[j], 12) for pts in gates.values() for t, _ in pts})
        gaps = [b - a for a, b in itertools.pairwise(values) if b - a > 1e-12]
        columns.append((min(gaps) if gaps else 1.0, (values[-1] - values[0]) if values else 0.0))
    directions = []
    for order in itertools.permutations(range(count)):
        weights = [0.0] * count
        span = 0.0
        for j in reversed(order):  # the last of the order moves fastest
            gap, width = columns[j]
            weights[j] = 1.0 if span == 0.0 else 2.0 * span / gap
            span += weights[j] * width
        directions.append(weights)
    return directions


def _steps_per_gate(units: _Units, target: Target, gates: dict, directions: dict, readings: list,
                    by_classes: bool) -> None:
    """For each gate, its first output and a step wherever the output changes along the gate's direction,
    halfway between neighbouring points. A gate is one-hot dimensions, or with by_classes, classes of them."""
    everywhere = np.array([t for pts in gates.values() for t, _ in pts], dtype=float)
    encode = target.encoding.vector
    for gate, pts in gates.items():
        direction = directions[gate]
        along = everywhere @ np.asarray(direction, dtype=float) if direction else np.zeros(1)
        low, high = float(along.min()), float(along.max())
        line = _along(direction, pts)
        classes = gate if by_classes else tuple((dim,) for dim in gate)
        _gate_units(units, classes, encode(line[0][1]))
        for (t_a, out_a), (t_b, out_b) in itertools.pairwise(line):
            if value_key(out_a) == value_key(out_b):
                continue
            delta = dict(encode(out_b))
            for dim, weight in encode(out_a).items():
                delta[dim] = delta.get(dim, 0.0) - weight
            _step_units(units, classes, readings, direction, (t_a, t_b), (low, high), delta)


# ------------------------------------------------------ gates by classes


def _source_uses(between: list[Map], sources: list[tuple[Lazy, Encoding]]) -> dict[int, frozenset]:
    """For each fused map, the ids of the sources it depends on (`between` has parents first)."""
    source_ids = {id(s) for s, _ in sources}
    uses: dict[int, frozenset] = {}
    for m in between:
        found: set[int] = set()
        for parent in m.parents():
            found |= {id(parent)} if id(parent) in source_ids else uses.get(id(parent), frozenset())
        uses[id(m)] = frozenset(found)
    return uses


def _affine_on(values: list, outcomes: list, members: list[int]) -> bool:
    """Is the map (its outcomes on values) constant or an affine function of the value on these members?"""
    if len({value_key(outcomes[k]) for k in members}) <= 1:
        return True
    if not all(is_number(outcomes[k]) for k in members):
        return False
    x = np.array([float(values[k]) for k in members])
    y = np.array([float(outcomes[k]) for k in members])
    return _exact_fit(x.reshape(-1, 1), y) is not None


def _spread(count: int, most: int) -> list[int]:
    """Up to `most` indices spread evenly over range(count), first and last included."""
    if count <= most:
        return list(range(count))
    return sorted({round(k * (count - 1) / (most - 1)) for k in range(most)})


def _split_by(outcomes: list, members: list[int]) -> list[list[int]]:
    parts: dict[tuple, list[int]] = {}
    for k in members:
        parts.setdefault(value_key(outcomes[k]), []).append(k)
    return list(parts.values())


def _exact_fit(matrix: np.ndarray, target: np.ndarray) -> np.ndarray | None:
    """w (not all zero) with matrix @ w + b == target to 1e-9 of its scale, for some b; None if there is none."""
    if len(target) < 2 or not np.isfinite(target).all() or np.ptp(target) == 0:
        return None
    design = np.hstack([matrix, np.ones((len(target), 1))])
    solution, *_ = np.linalg.lstsq(design, target, rcond=None)
    scale = 1.0 + float(np.abs(target).max())
    if float(np.abs(design @ solution - target).max()) > 1e-9 * scale:
        return None
    weights = solution[:-1]
    return weights if np.abs(weights).max() > 1e-12 else None


def _class_gates(target: Target, partitions: list) -> tuple[dict, dict, list[Encoding]]:
    """(gates: classes -> [(numbers, output)], members: classes -> the points' indices, the encodings read
    as numbers). A class of every value of its source is always on and left out of the gates."""
    classes: list[dict[int, tuple[int, ...]] | None] = []
    for (_, encoding), partition in zip(target.sources, partitions, strict=True):
        if partition is None:
            classes.append(None)
        else:
            classes.append({dim: dims for dims in partition if len(dims) < len(encoding.dims) for dim in dims})
    categorical = [(k, e) for k, (_, e) in enumerate(target.sources) if e.kind == "categorical"]
    numbers = [(k, e) for k, (_, e) in enumerate(target.sources)
               if e.kind != "categorical" or partitions[k] is not None]
    gates: dict[tuple, list[tuple[tuple, Any]]] = {}
    members: dict[tuple, list[int]] = {}
    for index, (point, output) in enumerate(zip(target.points, target.outputs, strict=True)):
        if output is None or any(value_key(point[k]) not in e.index for k, e in categorical):
            continue  # the program fails there, or a value its source's one-hot never holds
        gate = []
        for k, e in categorical:
            dim = e.dims[e.index[value_key(point[k])]]
            by_class = classes[k]
            if by_class is None:
                gate.append((dim,))
            elif dim in by_class:
                gate.append(by_class[dim])
        key = tuple(gate)
        numbers_here = tuple(float(point[k]) if e.kind == "categorical" else e.scalar(point[k]) for k, e in numbers)
        gates.setdefault(key, []).append((numbers_here, output))
        members.setdefault(key, []).append(index)
    return gates, members, [e for _, e in numbers]


def _number_reading(encoding: Encoding) -> tuple[dict[int, float], float]:
    """How an MLP reads a number: a one-hot of numbers as the sum of its values' dimensions times the values."""
    if encoding.kind == "categorical":
        return {dim: float(v) for dim, v in zip(encoding.dims, encoding.values, strict=True)}, 0.0
    return encoding.reading()


def _gate_units(units: _Units, gate: tuple, output: dict[int, float]) -> None:
    """Add `output` where each of the gate's classes holds (one of its one-hot dimensions is on; a class of
    one dimension is that dimension), everywhere for an empty gate."""
    if not gate:
        units.add_constant(output)
        return
    inputs = {dim: 2.0 for dims in gate for dim in dims}
    offset = -2.0 * len(gate)
    units.add(inputs, offset + 1.5, output)
    units.add(inputs, offset + 0.5, {dim: -w for dim, w in output.items()})


def _step_units(units: _Units, gate: tuple, readings: list[tuple[dict[int, float], float]], direction: list[float],
                between: tuple[float, float], span: tuple[float, float], delta: dict[int, float]) -> None:
    """Add `delta` where t (the numbers along `direction`) has passed halfway from between[0] to between[1]
    and each of the gate's classes holds."""
    t_a, t_b = between
    half = (t_b - t_a) / 2.0
    middle = (t_a + t_b) / 2.0
    inputs: dict[int, float] = {}
    bias = -middle / half
    for (weights, offset), w in zip(readings, direction, strict=True):
        for dim, weight in weights.items():
            inputs[dim] = inputs.get(dim, 0.0) + weight * w / half
        bias += offset * w / half
    if gate:
        reach = max(abs(span[0] - middle), abs(span[1] - middle)) / half + 1.0
        switch = reach / 0.75 + 1.0
        for dims in gate:
            for dim in dims:
                inputs[dim] = inputs.get(dim, 0.0) + switch
        bias -= switch * len(gate)
    units.add(dict(inputs), bias + 0.5, delta)
    units.add(dict(inputs), bias - 0.5, {dim: -w for dim, w in delta.items()})


def _bos_residual(tokens: np.ndarray, positions: np.ndarray, embedding_mlp: MLP | None,
                  layers: list[Layer], bos: int) -> np.ndarray:
    """The residual at BOS after `layers`: BOS attends only to itself, so it is the same for every input."""
    x = tokens[bos] + positions[0]
    if embedding_mlp is not None:
        x = x + embedding_mlp(x)
    for layer in layers:
        x = x + sum(((x @ h.W_V) @ h.W_O for h in layer.heads), np.zeros_like(x))
        x = x + layer.mlp(x)
    return x


# -------------------------------------------------------------- selectors


def _read_by_attention(root: Lazy) -> set[int]:
    """Ids of the nodes whose one-hots a head's query or key reads, directly or through a categorical
    aggregate (which copies its values' rounding errors): their MLPs must be exact to about 1e-14."""
    nodes = ancestry(root)
    found: set[int] = set()
    for node in nodes:
        if isinstance(node, Select):
            found.update(id(side) for side in (node.key, node.query) if isinstance(side, Lazy))
    changed = True
    while changed:
        changed = False
        for node in nodes:
            if isinstance(node, Aggregate) and id(node) in found and isinstance(node.sop, Lazy):
                if id(node.sop) not in found:
                    found.add(id(node.sop))
                    changed = True
    return found


def _read_outside_selects(root: Lazy) -> set[int]:
    """Ids of the nodes something other than a select reads (a map, an aggregate's values, the
    output): they need their values in the residual, and a key's classes would be a second copy."""
    found = {id(root)}
    for node in ancestry(root):
        if not isinstance(node, Select):
            found.update(id(parent) for parent in node.parents())
    return found


def _negation_normal_form(selector: Lazy, negated: bool) -> tuple:
    if isinstance(selector, Select):
        return ("leaf", selector, negated)
    assert isinstance(selector, SelectorCombination)
    if selector.op == "not":
        return _negation_normal_form(selector.args[0], not negated)
    op = selector.op if not negated else ("or" if selector.op == "and" else "and")
    return (op, [_negation_normal_form(a, negated) for a in selector.args])


def _conjuncts(tree: tuple) -> list[tuple]:
    if tree[0] == "and":
        return [c for sub in tree[1] for c in _conjuncts(sub)]
    return [tree]


def _leaves(tree: tuple) -> list[tuple[Select, bool]]:
    if tree[0] == "leaf":
        return [(tree[1], tree[2])]
    return [leaf for sub in tree[1] for leaf in _leaves(sub)]


def _distinct(operands: Any) -> list[Lazy]:
    seen: dict[int, Lazy] = {}
    for operand in operands:
        if isinstance(operand, Lazy):
            seen.setdefault(id(operand), operand)
    return list(seen.values())


def _leaf_on_values(leaf: tuple, queries: list) -> Callable[[Any], tuple]:
    """For a key value, whether the leaf's select (negated or not) selects it against each query
    value: keys alike here are alike to the head."""
    select, negated = leaf[1], leaf[2]

    def compare(key: Any) -> tuple:
        outcomes = []
        for query in queries:
            query = select.query if not isinstance(select.query, Lazy) else query
            try:
                outcomes.append(bool(COMPARE[select.op](key, query)) != negated)
            except TypeError:
                outcomes.append(False)  # refused: nothing is selected, negated or not
        return tuple(outcomes)

    return compare


def _comparison_table(select: Select, group: Group) -> tuple[np.ndarray, np.ndarray]:
    """select's comparison at every (query value, key value) of the group, and where the interpreter
    refuses to compare the two (nothing is selected there, negated or not)."""
    key_codes, key_distinct = _operand_codes(select.key, group.keys, group.key_values)
    query_codes, query_distinct = _operand_codes(select.query, group.queries, group.query_values)
    true = np.zeros((len(query_distinct), len(key_distinct)), dtype=bool)
    refused = np.zeros_like(true)
    for a, query in enumerate(query_distinct):
        for b, key in enumerate(key_distinct):
            try:
                true[a, b] = bool(COMPARE[select.op](key, query))
            except TypeError:
                refused[a, b] = True
    spread = np.ix_(query_codes, key_codes)
    return true[spread], refused[spread]


def _operand_codes(operand: Any, nodes: tuple[Lazy, ...], values: list[tuple]) -> tuple[np.ndarray, list]:
    """For each (joint) value, the index of the operand's part of it among the operand's distinct values."""
    if not isinstance(operand, Lazy):
        return np.zeros(len(values), dtype=int), [operand]
    where = next(j for j, node in enumerate(nodes) if node is operand)
    index: dict[tuple, int] = {}
    distinct: list = []
    codes = np.empty(len(values), dtype=int)
    for row, value in enumerate(values):
        key = value_key(value[where])
        if key not in index:
            index[key] = len(distinct)
            distinct.append(value[where])
        codes[row] = index[key]
    return codes, distinct


def _tree_table(tree: tuple, leaves: dict[int, tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """A negation-normal-form tree's truth at every (query value, key value), from its leaves' tables."""
    if tree[0] == "leaf":
        true, refused = leaves[id(tree[1])]
        return ~true & ~refused if tree[2] else true
    parts = [_tree_table(sub, leaves) for sub in tree[1]]
    combine = np.logical_and if tree[0] == "and" else np.logical_or
    return combine.reduce(parts)


# ------------------------------------------------------------------ text


def _value_text(value: Any) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_value_text(v) for v in value) + ")"
    return exact_text(value)


def _stage_text(stage: float) -> str:
    if stage == 0:
        return "embedding"
    if stage == 0.5:
        return "embedding MLP"
    if stage == int(stage):
        return f"layer {int(stage)} attention"
    return f"layer {int(stage)} MLP"
