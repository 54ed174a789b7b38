"""The Transformer Programs model in JAX (docs/learning.md, 'The model'), and its hardening into a `Program`.

Plain pytrees of jax arrays, as in rasp/training/model.py. The residual stream is disentangled:
a stack of categorical variables, each a one-hot vector padded to a common width D —
`tokens` (one-hot over the vocabulary), `indices` (one-hot over 0 … max_len-1), then one
variable per module, in layer order. The model's input has BOS at position 0, whose one-hot is
zero in every variable, so attending to it adds nothing: that zero vector is a head's
`default` once hard. Per layer:

* categorical heads: query, key and value variables each chosen by a Gumbel-softmax over the
  variables of earlier layers; a predicate, per query value a Gumbel-softmax over key values
  (a padding dim of the key is a predicate that matches nothing). The match of query i and
  key j is m_ij = q_i P k_j; the attention logit is log(m_ij) plus a fixed relative-position
  bias that prefers the closest key (smallest |i-j|, then smaller j); BOS has the fixed logit
  BOS_LOGIT, above every non-match and below every match, so it wins only when nothing matches.
  The attention is a softmax at the Gumbel temperature (an argmax once hard).
* counting heads: query and key chosen the same way; the output is the number of matching
  non-BOS keys, sum_j m_ij, written as a one-hot over 0 … max_len by triangular bumps
  relu(1 - |count - c|), exact at integers.
* categorical MLPs: two input variables (the layer's heads' outputs too) chosen by
  Gumbel-softmax, a hidden ReLU layer, an output one-hot over var_size values (Gumbel-softmax).
* a linear read-out of every variable.

`forward(..., hard=True)` makes every choice an argmax: it is the temperature → 0 limit, and
`harden` turns the same parameters into a `Program` whose `run` gives the same outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from .program import CategoricalHead, CategoricalMLP, CountingHead, Module, Program, Readout, Variable, output_values

BOS_LOGIT = -8.0  # below a match (logit in [-1, 0]), above a non-match (log 1e-12 - 1 = -28.6)
MATCH_FLOOR = 1e-12
PADDING_LOGIT = -1e9


@dataclass(frozen=True)
class Shape:
    """The model's sizes: vocabulary size, max_len, layers, per layer categorical heads, counting
    heads and MLPs, the MLPs' output values (var_size), read-out classes, MLP hidden width."""

    vocab_size: int
    max_len: int
    layers: int
    categorical_heads: int
    counting_heads: int
    mlps: int
    var_size: int
    classes: int
    hidden: int = 64

    @property
    def width(self) -> int:
        """D, the padded width of every variable."""
        return max(self.vocab_size, self.max_len + 1, self.var_size)

    @property
    def per_layer(self) -> int:
        return self.categorical_heads + self.counting_heads + self.mlps

    def heads_read(self, layer: int) -> int:
        """How many variables the heads of `layer` (from 0) choose from."""
        return 2 + layer * self.per_layer

    def mlps_read(self, layer: int) -> int:
        return self.heads_read(layer) + self.categorical_heads + self.counting_heads

    @property
    def variables(self) -> int:
        return 2 + self.layers * self.per_layer


def init_params(shape: Shape, seed: int) -> dict:
    """Random parameters: choice logits and predicates normal / sqrt(options), MLPs He-scaled."""
    keys = iter(jax.random.split(jax.random.PRNGKey(seed), 16 * shape.layers + 2))
    d, h = shape.width, shape.hidden

    def normal(dims, fan_in):
        return jax.random.normal(next(keys), dims, dtype=jnp.float32) / np.sqrt(fan_in)

    layers = []
    for layer in range(shape.layers):
        n, m = shape.heads_read(layer), shape.mlps_read(layer)
        entry: dict = {}
        if shape.categorical_heads:
            c = shape.categorical_heads
            entry["categorical"] = {"query": normal((c, n), n), "key": normal((c, n), n), "value": normal((c, n), n),
                                    "predicate": normal((c, d, d), d)}
        if shape.counting_heads:
            c = shape.counting_heads
            entry["counting"] = {"query": normal((c, n), n), "key": normal((c, n), n),
                                 "predicate": normal((c, d, d), d)}
        if shape.mlps:
            c = shape.mlps
            entry["mlp"] = {"first": normal((c, m), m), "second": normal((c, m), m),
                            "w1": normal((c, 2 * d, h), d), "b1": jnp.zeros((c, h)),
                            "w2": normal((c, h, shape.var_size), h / 2), "b2": jnp.zeros((c, shape.var_size))}
        layers.append(entry)
    readout = {"weights": normal((shape.variables, d, shape.classes), shape.variables),
               "bias": jnp.zeros(shape.classes)}
    return {"layers": layers, "readout": readout}


class _Noise:
    """Gumbel noise for each choice in turn (None: no noise)."""

    def __init__(self, key):
        self.key, self.count = key, 0

    def __call__(self, shape: tuple):
        if self.key is None:
            return 0.0
        self.count += 1
        return jax.random.gumbel(jax.random.fold_in(self.key, self.count), shape)


def choose(logits, temperature, noise: _Noise, hard: bool):
    """A one-hot along the last axis: the argmax when hard, else a Gumbel-softmax at `temperature`."""
    if hard:
        return jax.nn.one_hot(jnp.argmax(logits, -1), logits.shape[-1], dtype=jnp.float32)
    return jax.nn.softmax((logits + noise(logits.shape)) / temperature, axis=-1)


def tie_bias(width: int) -> np.ndarray:
    """(W, W) in [-1, 0]: -(2|i-j| + [j > i]) / (2W + 1), larger for the closer key, the smaller j on ties."""
    i, j = np.arange(width)[:, None], np.arange(width)[None, :]
    return (-(2 * np.abs(i - j) + (j > i)) / (2 * width + 1)).astype(np.float32)


def embed(ids, lengths, width: int):
    """(B, W, 2, D) the input variables. ids (B, W): vocabulary indices, -1 at BOS (position 0) and padding."""
    positions = jnp.arange(ids.shape[1])[None, :]
    real = (positions >= 1) & (positions <= lengths[:, None])
    tokens = jax.nn.one_hot(jnp.where(real, ids, -1), width, dtype=jnp.float32)
    indices = jax.nn.one_hot(jnp.where(real, positions - 1, -1), width, dtype=jnp.float32)
    return jnp.stack([tokens, indices], axis=2), real


def _read(choice, stream):
    """choice (K, V) over the stream's variables; stream (B, W, V, D) -> (B, K, W, D)."""
    return jnp.einsum("kv,bwvd->bkwd", choice, stream[:, :, : choice.shape[1]])


def _matches(p: dict, stream, temperature, noise: _Noise, hard: bool):
    """(B, K, W, W) the soft match m_ij of every head's query i and key j."""
    query = _read(choose(p["query"], temperature, noise, hard), stream)
    key = _read(choose(p["key"], temperature, noise, hard), stream)
    predicate = choose(p["predicate"], temperature, noise, hard)
    return jnp.einsum("bkqd,kde,bkje->bkqj", query, predicate, key)


def categorical_heads(p: dict, stream, real, temperature, noise: _Noise, hard: bool):
    """(B, K, W, D) every categorical head's output."""
    match = _matches(p, stream, temperature, noise, hard)
    width = stream.shape[1]
    logits = jnp.log(match + MATCH_FLOOR) + tie_bias(width)[None, None]
    is_bos = (jnp.arange(width) == 0)[None, None, None, :]
    logits = jnp.where(is_bos, BOS_LOGIT, logits)
    logits = jnp.where(real[:, None, None, :] | is_bos, logits, PADDING_LOGIT)
    if hard:
        attention = jax.nn.one_hot(jnp.argmax(logits, -1), width, dtype=jnp.float32)
    else:
        attention = jax.nn.softmax(logits / temperature, axis=-1)
    value = _read(choose(p["value"], temperature, noise, hard), stream)
    return jnp.einsum("bkqj,bkjd->bkqd", attention, value)


def counting_heads(p: dict, stream, real, temperature, noise: _Noise, hard: bool, max_len: int):
    """(B, K, W, D) every counting head's count of matching non-BOS keys, as triangular bumps over 0 … max_len."""
    match = _matches(p, stream, temperature, noise, hard)
    count = jnp.einsum("bkqj,bj->bkq", match, real.astype(jnp.float32))
    levels = jnp.arange(stream.shape[-1], dtype=jnp.float32)
    bumps = jax.nn.relu(1.0 - jnp.abs(count[..., None] - levels))
    return bumps * (levels <= max_len)


def mlp_values(p: dict, first, second):
    """(..., K, var_size) output logits of the K MLPs on inputs first, second (..., K, D)."""
    hidden = jax.nn.relu(jnp.einsum("...ki,kih->...kh", jnp.concatenate([first, second], -1), p["w1"]) + p["b1"])
    return jnp.einsum("...kh,kho->...ko", hidden, p["w2"]) + p["b2"]


def mlps(p: dict, stream, temperature, noise: _Noise, hard: bool):
    """(B, K, W, D) every MLP's output one-hot (padded to D)."""
    first = _read(choose(p["first"], temperature, noise, hard), stream)
    second = _read(choose(p["second"], temperature, noise, hard), stream)
    logits = mlp_values(p, jnp.moveaxis(first, 1, 2), jnp.moveaxis(second, 1, 2))  # (B, W, K, S)
    out = choose(logits, temperature, noise, hard)
    out = jnp.pad(out, [(0, 0)] * 3 + [(0, stream.shape[-1] - out.shape[-1])])
    return jnp.moveaxis(out, 2, 1)


def residual(params: dict, shape: Shape, ids, lengths, temperature=1.0, key=None, hard: bool = False):
    """(B, W, variables, D): every variable at every position (BOS at 0)."""
    stream, real = embed(ids, lengths, shape.width)
    noise = _Noise(key)
    zero_at_bos = real[:, :, None, None].astype(jnp.float32)  # every variable is the zero vector at BOS (and padding)

    def add(stream, written):
        return jnp.concatenate([stream, jnp.moveaxis(written, 1, 2) * zero_at_bos], axis=2)

    for layer in params["layers"]:
        before = stream
        if "categorical" in layer:
            stream = add(stream, categorical_heads(layer["categorical"], before, real, temperature, noise, hard))
        if "counting" in layer:
            stream = add(stream, counting_heads(layer["counting"], before, real, temperature, noise, hard,
                                                shape.max_len))
        if "mlp" in layer:
            stream = add(stream, mlps(layer["mlp"], stream, temperature, noise, hard))
    return stream


def forward(params: dict, shape: Shape, ids, lengths, temperature=1.0, key=None, hard: bool = False):
    """(B, W, classes) read-out logits. ids (B, max_len + 1) vocabulary indices with BOS at 0 (-1 at BOS and
    padding), lengths (B,); temperature: the Gumbel-softmax's; key: a PRNG key for Gumbel noise (None: none);
    hard: every choice an argmax (the limit temperature → 0, what `harden` computes)."""
    stream = residual(params, shape, ids, lengths, temperature, key, hard)
    readout = params["readout"]
    return jnp.einsum("bwvd,vdc->bwc", stream, readout["weights"]) + readout["bias"]


def encode(inputs: list[list], vocab: tuple, max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids (N, max_len + 1), lengths (N,)) for inputs without BOS."""
    index = {_key(v): i for i, v in enumerate(vocab)}
    ids = np.full((len(inputs), max_len + 1), -1, dtype=np.int32)
    for row, items in enumerate(inputs):
        ids[row, 1:len(items) + 1] = [index[_key(v)] for v in items]
    return ids, np.array([len(items) for items in inputs], dtype=np.int32)


def _key(value) -> tuple:
    return (type(value).__name__, value)


# --- hardening -----------------------------------------------------------------------------------------------


@dataclass
class _Slot:
    """A variable of the residual as the hard program sees it: dims[d] is the value of one-hot dim d;
    `default` (when not None) is the value of the zero vector."""

    variable: Variable
    dims: tuple
    default: object = None

    def dim(self, value) -> int | None:
        """The one-hot dim of `value` (None: the default, the zero vector)."""
        if self.default is not None and _same(value, self.default):
            return None
        return self.dims.index(value)

    def one_hot(self, value, width: int) -> np.ndarray:
        vector = np.zeros(width, dtype=np.float32)
        dim = self.dim(value)
        if dim is not None:
            vector[dim] = 1.0
        return vector


def _same(a, b) -> bool:
    return type(a) is type(b) and a == b


def fresh_default(values: tuple):
    """A value not among `values` for a head that matches nothing: "" (then "_", …) for strings, else -1, -2, …"""
    if values and all(isinstance(v, str) for v in values):
        candidate = ""
        while candidate in values:
            candidate += "_"
        return candidate
    number = -1
    while any(_same(v, number) for v in values):
        number -= 1
    return number


def _predicate(predicate: np.ndarray, query: _Slot, key: _Slot) -> tuple:
    """Per query value, the key value its predicate row picks (None: a padding dim, or the query's default)."""
    rows: list = []
    for value in query.variable.values:
        dim = query.dim(value)
        if dim is None:
            rows.append(None)
            continue
        picked = int(np.argmax(predicate[dim]))
        rows.append(key.dims[picked] if picked < len(key.dims) else None)
    return tuple(rows)


def _head_slot(name: str, value: _Slot, max_len: int, module) -> _Slot:
    variables = {value.variable.name: value.variable}
    return _Slot(Variable(name, output_values(module, variables, max_len)), value.dims, module.default)


def harden(params: dict, shape: Shape, vocab: tuple, classes: tuple) -> Program:
    """The `Program` the parameters are once every choice is an argmax (docs/learning.md, 'The model'):
    choices and predicate rows by argmax, each MLP's table by running every pair of its input values
    through it, the read-out weights copied."""
    params = jax.device_get(params)
    width = shape.width
    slots = [_Slot(Variable("tokens", tuple(vocab)), tuple(vocab)),
             _Slot(Variable("indices", tuple(range(shape.max_len))), tuple(range(shape.max_len)))]
    modules: list = []
    for number, layer in enumerate(params["layers"]):
        readable = list(slots)
        if "categorical" in layer:
            p = layer["categorical"]
            for h in range(shape.categorical_heads):
                query, key, value = (readable[int(np.argmax(p[part][h]))] for part in ("query", "key", "value"))
                default = value.default if value.default is not None else fresh_default(value.variable.values)
                module: Module = CategoricalHead(
                    f"attn_{number}_{h}", number, h, query.variable.name, key.variable.name, value.variable.name,
                    _predicate(p["predicate"][h], query, key), default)
                modules.append(module)
                slots.append(_head_slot(module.output, value, shape.max_len, module))
        if "counting" in layer:
            p = layer["counting"]
            for h in range(shape.counting_heads):
                query, key = (readable[int(np.argmax(p[part][h]))] for part in ("query", "key"))
                module = CountingHead(f"count_{number}_{h}", number, h, query.variable.name, key.variable.name,
                                      _predicate(p["predicate"][h], query, key))
                modules.append(module)
                counts = tuple(range(shape.max_len + 1))
                slots.append(_Slot(Variable(module.output, counts), counts))
        if "mlp" in layer:
            p = layer["mlp"]
            readable = list(slots)
            for m in range(shape.mlps):
                first, second = (readable[int(np.argmax(p[part][m]))] for part in ("first", "second"))
                table = _mlp_table(p, m, first, second, width)
                module = CategoricalMLP(f"mlp_{number}_{m}", number, m, (first.variable.name, second.variable.name),
                                        table, shape.var_size)
                modules.append(module)
                sizes = tuple(range(shape.var_size))
                slots.append(_Slot(Variable(module.output, sizes), sizes))
    readout = _readout(params["readout"], slots, classes)
    variables = {slot.variable.name: slot.variable for slot in slots}
    return Program(tuple(vocab), shape.max_len, tuple(modules), readout, shape.layers, variables)


def _mlp_table(p: dict, m: int, first: _Slot, second: _Slot, width: int) -> dict:
    """Every pair of input values through MLP m (the same computation as `mlps`), argmax."""
    pairs = [(a, b) for a in first.variable.values for b in second.variable.values]
    left = np.stack([first.one_hot(a, width) for a, _ in pairs])
    right = np.stack([second.one_hot(b, width) for _, b in pairs])
    single = {name: value[m:m + 1] for name, value in p.items() if name in ("w1", "b1", "w2", "b2")}
    logits = np.asarray(mlp_values(single, jnp.asarray(left)[:, None], jnp.asarray(right)[:, None]))[:, 0]
    return {pair: int(out) for pair, out in zip(pairs, np.argmax(logits, -1), strict=True)}


def _readout(p: dict, slots: list, classes: tuple) -> Readout:
    weights = np.asarray(p["weights"], dtype=np.float64)
    table = {}
    for v, slot in enumerate(slots):
        rows = np.zeros((len(slot.variable.values), len(classes)))
        for r, value in enumerate(slot.variable.values):
            dim = slot.dim(value)
            if dim is not None:
                rows[r] = weights[v, dim]
        table[slot.variable.name] = rows
    return Readout(tuple(classes), np.asarray(p["bias"], dtype=np.float64), table)
