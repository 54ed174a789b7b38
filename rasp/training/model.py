"""The encoder-only transformer (docs/training.md, 'The model').

Plain pytrees of jax arrays (a dict per layer): the model is small, and a library of
modules would be one more dependency for a few lines. Pre-norm blocks (PyTorch's
TransformerEncoderLayer with norm_first=True; the paper used the post-norm default, which
trained markedly worse here on small data): x = x + attention(LN(x)); x = x + MLP(LN(x)),
a final LN before the classifier,
bidirectional attention (padding keys masked), sinusoidal positions, a ReLU MLP and a
per-position linear classifier. forward(..., causal=True) is the same model as a decoder
(docs/lengthgen.md, 'The model'); the default stays bidirectional.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np


@dataclass(frozen=True)
class Shape:
    """layers, heads per layer (one number: every layer), d_model, feed-forward width."""

    layers: int
    heads: int
    d_model: int
    d_ff: int

    @property
    def d_head(self) -> int:
        return self.d_model // self.heads


def sinusoids(width: int, d_model: int) -> np.ndarray:
    """The sinusoidal position encoding of "Attention is all you need", (width, d_model)."""
    positions = np.arange(width)[:, None]
    rates = 1.0 / (10000 ** (np.arange(0, d_model, 2) / d_model))
    table = np.zeros((width, d_model), dtype=np.float32)
    table[:, 0::2] = np.sin(positions * rates)
    table[:, 1::2] = np.cos(positions * rates)[:, : d_model // 2]
    return table


def init_params(shape: Shape, vocab_size: int, classes: int, seed: int) -> dict:
    """Random parameters (scaled normal weights, zero biases, unit layer-norm gains)."""
    key = jax.random.PRNGKey(seed)
    d, h, dh, f = shape.d_model, shape.heads, shape.d_head, shape.d_ff

    def normal(k, dims, fan_in):
        return jax.random.normal(k, dims, dtype=jnp.float32) / np.sqrt(fan_in)

    keys = iter(jax.random.split(key, 2 + 6 * shape.layers))
    layers = []
    for _ in range(shape.layers):
        layers.append({
            "wq": normal(next(keys), (d, h, dh), d), "wk": normal(next(keys), (d, h, dh), d),
            "wv": normal(next(keys), (d, h, dh), d), "wo": normal(next(keys), (h, dh, d), h * dh),
            "bo": jnp.zeros(d), "ln1_g": jnp.ones(d), "ln1_b": jnp.zeros(d),
            "w1": normal(next(keys), (d, f), d), "b1": jnp.zeros(f),
            "w2": normal(next(keys), (f, d), f), "b2": jnp.zeros(d), "ln2_g": jnp.ones(d), "ln2_b": jnp.zeros(d),
        })
    return {"embed": normal(next(keys), (vocab_size, d), 1.0), "layers": layers,
            "out_w": normal(next(keys), (d, classes), d), "out_b": jnp.zeros(classes),
            "ln_g": jnp.ones(d), "ln_b": jnp.zeros(d)}


def layer_norm(x, g, b, eps: float = 1e-5):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / jnp.sqrt(var + eps) * g + b


def forward(params: dict, ids, positions, causal: bool = False) -> tuple:
    """(logits (B, W, classes), attention (layers, B, heads, W, W)) for token ids (B, W), 0 = padding.
    `positions` is the (W, d_model) position table. With `causal`, a decoder: each query attends to
    its own and earlier positions only (a lower-triangular mask; docs/lengthgen.md, 'The model')."""
    x = params["embed"][ids] + positions[None, : ids.shape[1]]
    keep = (ids != 0)[:, None, None, :]
    if causal:
        keep = keep & jnp.tril(jnp.ones((ids.shape[1], ids.shape[1]), dtype=bool))[None, None]
    attentions = []
    for layer in params["layers"]:
        y = layer_norm(x, layer["ln1_g"], layer["ln1_b"])
        q = jnp.einsum("bwd,dhe->bhwe", y, layer["wq"])
        k = jnp.einsum("bwd,dhe->bhwe", y, layer["wk"])
        v = jnp.einsum("bwd,dhe->bhwe", y, layer["wv"])
        scores = jnp.einsum("bhqe,bhke->bhqk", q, k) / np.sqrt(q.shape[-1])
        weights = jax.nn.softmax(jnp.where(keep, scores, -1e9), axis=-1)
        attentions.append(weights)
        mixed = jnp.einsum("bhqk,bhke->bhqe", weights, v)
        attended = jnp.einsum("bhqe,hed->bqd", mixed, layer["wo"]) + layer["bo"]
        x = x + attended
        hidden = jax.nn.relu(layer_norm(x, layer["ln2_g"], layer["ln2_b"]) @ layer["w1"] + layer["b1"])
        x = x + hidden @ layer["w2"] + layer["b2"]
    logits = layer_norm(x, params["ln_g"], params["ln_b"]) @ params["out_w"] + params["out_b"]
    return logits, jnp.stack(attentions)


def count_params(params: dict) -> int:
    return int(sum(np.prod(leaf.shape) for leaf in jax.tree_util.tree_leaves(params)))
