"""A compiled transformer: explicit NumPy weights and the forward pass that runs them.

The model reads [BOS] + tokens. Position 0 holds BOS; the input's position p sits at
model position p + 1. Each layer adds its attention heads' outputs to the residual
stream (all heads read the same stream), then its MLP's output:

    x = token_embedding[ids] + position_embedding[0..n]
    (x += mlp(x)                          the embedding MLP, when there is one)
    for each layer:  x += sum over heads of softmax(x W_Q (x W_K)^T) (x W_V) W_O
                     x += relu(x W1 + b1) W2 + b2
    output = x[1:] @ unembedding          (argmax for a categorical output)

There is no 1/sqrt(d) factor: the attention scale is part of W_K. Rasp.compiler builds
these weights; this module only holds and runs them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .valueset import value_key

BATCH_ELEMENTS = 1 << 22  # numbers in the widest activation of one batch of the forward pass


@dataclass
class Head:
    W_Q: np.ndarray  # (d_model, d_head)
    W_K: np.ndarray  # (d_model, d_head)
    W_V: np.ndarray  # (d_model, d_value)
    W_O: np.ndarray  # (d_value, d_model)
    selector: str  # what it attends to
    computes: list[str]  # the aggregates / selector widths it computes
    node: Any = field(default=None, repr=False)  # the selector node (for verification; not saved)
    with_bos: bool = False  # a selector-width head: BOS is attended along with the selected keys


@dataclass
class MLP:
    W1: np.ndarray  # (d_model, d_hidden)
    b1: np.ndarray  # (d_hidden,)
    W2: np.ndarray  # (d_hidden, d_model)
    b2: np.ndarray  # (d_model,)
    computes: list[str] = field(default_factory=list)

    @property
    def hidden(self) -> int:
        return self.W1.shape[1]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        flat = x.reshape(-1, x.shape[-1])  # one 2-D product (BLAS) rather than one per batch row
        if flat.shape[0] < FEW_ROWS:
            return (np.maximum(flat @ self.W1 + self.b1, 0.0) @ self.W2 + self.b2).reshape(x.shape)
        # rows only, no entry-by-entry sums: an output sums many units, and summed in another order
        # than BLAS's its one-hots are off by 1e-16, which attention's scale turns into 1e-12
        hidden = np.maximum(product(flat, self.W1, _cached_plan(self, "W1", entries=False)) + self.b1, 0.0)
        return (product(hidden, self.W2, _cached_plan(self, "W2", entries=False)) + self.b2).reshape(x.shape)


@dataclass
class Layer:
    heads: list[Head]
    mlp: MLP


@dataclass
class Output:
    kind: str  # "categorical" (argmax over values) or "numerical" (one number)
    values: list  # categorical: the value of each unembedding column


class Transformer:
    """A transformer whose weights compute one RASP s-op for inputs over `vocab` up to `max_len`."""

    def __init__(self, *, name: str, vocab: list, max_len: int, token_embedding: np.ndarray,
                 position_embedding: np.ndarray, embedding_mlp: MLP | None, layers: list[Layer],
                 unembedding: np.ndarray, output: Output, dims: list[dict], tolerance: float,
                 causal: bool = False):
        self.name = name
        self.causal = causal  # a causal attention mask: no position attends to a later one (docs/raspl.md)
        self.vocab = vocab
        self.max_len = max_len
        self.token_embedding = token_embedding
        self.position_embedding = position_embedding
        self.mlp0 = embedding_mlp
        self.blocks = layers
        self.unembedding = unembedding
        self.output = output
        self.dim_info = dims
        self.attention_tolerance = tolerance
        self._token_ids = {value_key(v): i for i, v in enumerate(vocab)}

    # ------------------------------------------------------------- shown in Python and notebooks

    def __repr__(self) -> str:
        """`<Transformer NAME: L layers, heads per layer ..., d_model ..., ...; verified: ...>`."""
        mlp = ",".join(str(m) for m in self.d_mlp) or "-"
        sizes = (f"{self.layers} layer{'' if self.layers == 1 else 's'}, heads per layer "
                 f"{','.join(map(str, self.heads)) or '-'}, d_model {self.d_model}, MLP hidden sizes {mlp}"
                 f"{f' and {self.mlp0.hidden} before layer 1' if self.embedding_mlp else ''}, "
                 f"{self.params:,} parameters; vocabulary of {len(self.vocab)}, max_len {self.max_len}")
        return f"<Transformer {self.name}: {sizes}; {self._verification_text()}>"

    def _verification_text(self) -> str:
        check = getattr(self, "verification", None)  # set by rasp.compiler.compile_program
        if check is None:
            return "not verified"
        verdict = "all agree" if check.mismatches == 0 else f"{check.mismatches:,} disagree"
        return f"verified on {check.checked:,} inputs: {verdict} with the interpreter"

    def _repr_html_(self) -> str:
        """The table of `compile` in a notebook (rasp.html.compiled_html): sizes and verification."""
        from ..html import compiled_html, escape
        from ..results import Compiled

        if getattr(self, "verification", None) is None:
            return f"<pre>{escape(repr(self))}</pre>"
        return compiled_html(Compiled(self.name, self, self.verification, list(getattr(self, "files", []))))

    # ------------------------------------------------------------- sizes

    @property
    def layers(self) -> int:
        return len(self.blocks)

    @property
    def heads(self) -> list[int]:
        return [len(layer.heads) for layer in self.blocks]

    @property
    def d_model(self) -> int:
        return self.token_embedding.shape[1]

    @property
    def d_mlp(self) -> list[int]:
        return [layer.mlp.hidden for layer in self.blocks]

    @property
    def embedding_mlp(self) -> bool:
        return self.mlp0 is not None

    @property
    def bos(self) -> int:
        return len(self.vocab)

    def arrays(self) -> dict[str, np.ndarray]:
        """Every weight array, by name (the contents of the .npz file)."""
        arrays = {"token_embedding": self.token_embedding, "position_embedding": self.position_embedding}
        if self.mlp0 is not None:
            arrays.update(_mlp_arrays("embedding_mlp", self.mlp0))
        for number, layer in enumerate(self.blocks, start=1):
            for h, head in enumerate(layer.heads):
                for part in ("W_Q", "W_K", "W_V", "W_O"):
                    arrays[f"layer{number}_head{h}_{part}"] = getattr(head, part)
            arrays.update(_mlp_arrays(f"layer{number}_mlp", layer.mlp))
        arrays["unembedding"] = self.unembedding
        return arrays

    @property
    def params(self) -> int:
        return sum(int(a.size) for a in self.arrays().values())

    def summary_json(self) -> dict:
        return {
            "layers": self.layers, "heads": self.heads, "d_model": self.d_model, "d_mlp": self.d_mlp,
            "params": self.params, "embedding_mlp": self.embedding_mlp,
            "embedding_mlp_hidden": self.mlp0.hidden if self.mlp0 is not None else 0,
            "max_len": self.max_len, "vocab": list(self.vocab), "output": self.output.kind,
        }

    def dims(self) -> list[dict]:
        """What each residual dimension holds (JSON-ready)."""
        return [dict(d) for d in self.dim_info]

    def description(self) -> dict:
        """The JSON description saved beside the weights."""
        layers = []
        for number, layer in enumerate(self.blocks, start=1):
            layers.append({
                "layer": number,
                "heads": [{"selector": h.selector, "computes": h.computes, "d_head": h.W_Q.shape[1],
                           "d_value": h.W_V.shape[1], "with_bos": h.with_bos} for h in layer.heads],
                "mlp": {"hidden": layer.mlp.hidden, "computes": layer.mlp.computes},
            })
        return {
            "name": self.name, **self.summary_json(),
            "bos": "token id len(vocab); model position 0; input position p is model position p + 1",
            "attention": "softmax(x W_Q (x W_K)^T) without a 1/sqrt(d) factor; heads read the same residual",
            "mlp": "relu(x W1 + b1) W2 + b2, added to the residual",
            "output_values": [_text(v) for v in self.output.values],
            "embedding_mlp_computes": self.mlp0.computes if self.mlp0 is not None else [],
            "layer_detail": layers, "residual": self.dims(), "attention_tolerance": self.attention_tolerance,
            "causal": bool(getattr(self, "causal", False)),
        }

    def save(self, path: str) -> list[str]:
        """Write the model in the format PATH's extension names (rasp/compiler/export.py, docs/export.md):
        .safetensors, .onnx, or PATH.npz with PATH.json (no extension, .npz or .json). Returns the paths
        written; raises export.ExportError for an unknown extension, OSError for a path that cannot be written."""
        from .export import save_model  # onnx and safetensors are imported only when asked for

        return save_model(self, path)

    def save_npz(self, path: str) -> list[str]:
        """Write PATH.npz (the weights) and PATH.json (what every dimension and array means);
        a .npz or .json extension given on PATH is dropped. Returns the paths written."""
        stem = path.removesuffix(".npz").removesuffix(".json")
        np.savez(stem + ".npz", **self.arrays())
        with open(stem + ".json", "w", encoding="utf-8") as file:
            json.dump(self.description(), file, indent=1, ensure_ascii=False)
            file.write("\n")
        return [stem + ".npz", stem + ".json"]

    # ------------------------------------------------------------ running

    def token_ids(self, items: list) -> list[int]:
        ids = []
        for item in items:
            key = value_key(item)
            if key not in self._token_ids:
                raise ValueError(f"{item!r} is not in the vocabulary {self.vocab}")
            ids.append(self._token_ids[key])
        return [self.bos] + ids

    def residual(self, ids: np.ndarray, attention: list | None = None) -> np.ndarray:
        """The residual stream after the last layer, for token ids of shape (B, T) starting with BOS.

        With a list `attention`, the attention weights of every head (B, T, T) are appended to it.
        """
        length = ids.shape[1]
        x = self.token_embedding[ids] + self.position_embedding[:length][None, :, :]
        if self.mlp0 is not None:
            x = x + self.mlp0(x)
        for layer in self.blocks:
            update = np.zeros_like(x)
            for head in layer.heads:
                weights = attention_weights(x, head, self.causal)
                if attention is not None:
                    attention.append(weights)
                update += project(weights @ project(x, head, "W_V"), head, "W_O")
            x = x + update
            x = x + layer.mlp(x)
        return x

    def logits(self, ids: np.ndarray) -> np.ndarray:
        return self.residual(ids)[:, 1:, :] @ self.unembedding

    def decode(self, logits: np.ndarray) -> list[list]:
        if self.output.kind == "numerical":
            return [[float(v) for v in row] for row in logits[:, :, 0]]
        chosen = logits.argmax(axis=-1)
        return [[self.output.values[c] for c in row] for row in chosen.tolist()]

    def run(self, inputs: list[list]) -> list[list]:
        """The model's output for each input (a list of vocabulary items, 1..max_len long)."""
        results: list[Any] = [None] * len(inputs)
        by_length: dict[int, list[int]] = {}
        for index, items in enumerate(inputs):
            if not 1 <= len(items) <= self.max_len:
                raise ValueError(f"input {index} has length {len(items)}; this model takes 1 to {self.max_len}")
            by_length.setdefault(len(items), []).append(index)
        for members in (batch for group in by_length.values() for batch in self.batches(group)):
            ids = np.array([self.token_ids(inputs[m]) for m in members])
            for m, row in zip(members, self.decode(self.logits(ids)), strict=True):
                results[m] = row
        return results

    def batches(self, members: list) -> list[list]:
        """Inputs (of one length) in batches whose widest activation holds about BATCH_ELEMENTS numbers."""
        widest = max([self.d_model, *self.d_mlp, self.mlp0.hidden if self.mlp0 is not None else 0])
        size = max(1, BATCH_ELEMENTS // (widest * (self.max_len + 1)))
        return [members[start:start + size] for start in range(0, len(members), size)]


def attention_weights(x: np.ndarray, head: Head, causal: bool = False) -> np.ndarray:
    """softmax over keys of (x W_Q)(x W_K)^T: shape (B, T, T), rows are queries; causal: each query
    attends to its own and earlier positions only (BOS, at 0, is always visible)."""
    scores = project(x, head, "W_Q") @ np.swapaxes(project(x, head, "W_K"), -1, -2)
    if causal:
        length = scores.shape[-1]
        scores = np.where(np.tri(length, dtype=bool), scores, -np.inf)
    scores -= scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    return weights / weights.sum(axis=-1, keepdims=True)


def project(x: np.ndarray, head: Head, name: str) -> np.ndarray:
    """x @ head.<name> for x of shape (..., d) as one 2-D product: NumPy's batched product of a 3-D
    array by a matrix is several times slower."""
    weights = getattr(head, name)
    flat = x.reshape(-1, x.shape[-1])
    return product(flat, weights, _cached_plan(head, name)).reshape(*x.shape[:-1], weights.shape[1])


FEW_ROWS = 64  # fewer rows than this (the compiler's BOS residual) are multiplied densely, without a plan
SPARSE = 0.05  # a matrix with at most this share of non-zero entries is multiplied entry by entry


def product(flat: np.ndarray, weights: np.ndarray, plan: tuple) -> np.ndarray:
    """flat @ weights by a plan of sparse_plan: only the rows of `weights` that are not all zero, and
    for a sparse matrix only its non-zero entries (gathered, scaled and summed per column)."""
    rows, entries = plan
    if entries is None:
        return flat[:, rows] @ weights[rows]
    inputs, starts, columns, values = entries
    out = np.zeros((flat.shape[0], weights.shape[1]))
    if len(inputs):
        out[:, columns] = np.add.reduceat(flat[:, inputs] * values, starts, axis=1)
    return out


def sparse_plan(weights: np.ndarray, entries: bool = True) -> tuple:
    """(the rows that are not all zero, the non-zero entries grouped by column or None for a dense
    matrix, or where `entries` is false). Compiled weights are mostly zeros: an MLP reads a few
    dimensions, a head's query reads one-hots one column each; a head's columns sum one or two
    terms, so the order of their sums does not matter."""
    rows = np.flatnonzero(np.any(weights != 0, axis=1))
    if not entries or np.count_nonzero(weights) > SPARSE * max(1, weights.size):
        return rows, None
    columns, inputs = np.nonzero(weights.T)  # by column, then row
    starts = np.flatnonzero(np.r_[True, columns[1:] != columns[:-1]]) if len(columns) else columns
    return rows, (inputs, starts, columns[starts], weights[inputs, columns])


def _cached_plan(owner: Any, name: str, entries: bool = True) -> tuple:
    """sparse_plan of owner.<name>, kept on the owner while that attribute holds the same array with
    the same entries: weights changed in place (`head.W_K *= 0.5`, noise added for an ablation) make
    a new plan. The comparison with the kept copy costs one pass over the matrix, against the
    product's one pass per batch row."""
    weights = getattr(owner, name)
    cache = owner.__dict__.setdefault("_plans", {})
    kept = cache.get(name)
    if kept is None or kept[0] is not weights or not np.array_equal(kept[1], weights):
        kept = cache[name] = (weights, weights.copy(), sparse_plan(weights, entries))
    return kept[2]


def _mlp_arrays(prefix: str, mlp: MLP) -> dict[str, np.ndarray]:
    return {f"{prefix}_W1": mlp.W1, f"{prefix}_b1": mlp.b1, f"{prefix}_W2": mlp.W2, f"{prefix}_b2": mlp.b2}


def _text(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_text(v) for v in value]
    if isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)
