"""Which program selector does a trained head implement? (docs/training.md, 'Matching heads to selectors').

For every head of the trained model and every selector of the program, the difference on the
test inputs: per query row, half the L1 distance between the head's attention row and the
selector's target row (rasp/training/data.py, selector_targets) -- 0 identical, 1 disjoint --
averaged over the rows of all test inputs. Each head reports its closest selector. With BOS, a
selector is tried both as an aggregate's target and as a selector_width's (every query also on BOS).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..values import Selector, SOp, ancestry
from .data import Dataset, query_mask, selector_targets
from .model import forward, sinusoids


def program_selectors(node: SOp) -> list:
    """The selectors in the program's graph, in dependency order."""
    return [n for n in ancestry(node) if isinstance(n, Selector)]


def attention_of(trained, ids: np.ndarray) -> np.ndarray:
    """(layers, N, heads, W, W) the trained model's attention on token ids (N, W)."""
    positions = jnp.asarray(sinusoids(ids.shape[1], trained.shape.d_model))
    return np.asarray(forward(trained.params, jnp.asarray(ids), positions)[1])


def row_difference(attention: np.ndarray, target: np.ndarray, rows: np.ndarray) -> float:
    """Mean over scored rows of half the L1 distance: attention, target (N, W, W); rows (N, W)."""
    per_row = 0.5 * np.abs(attention - target).sum(axis=-1)
    return float((per_row * rows).sum() / max(rows.sum(), 1.0))


def match_heads(node: SOp, trained, data: Dataset, limit: int = 200) -> list[dict]:
    """[{"layer", "head", "selector", "difference"}] (layer and head from 1), each head's best match
    among the program's selectors, on the first `limit` inputs of `data`."""
    selectors = program_selectors(node)
    if not selectors:
        return []
    inputs, ids, lengths = data.inputs[:limit], data.ids[:limit], data.lengths[:limit]
    bos = trained.distribution.bos
    width = ids.shape[1]
    # with BOS, each selector twice: as an aggregate's head sees it, and as a selector_width's (BOS always)
    variants = [False, True] if bos else [False]
    candidates = [(sel, selector_targets(sel, inputs, width, bos, always)) for sel in selectors for always in variants]
    rows = query_mask(lengths, width, bos)
    attention = attention_of(trained, ids)
    matched = []
    for layer in range(attention.shape[0]):
        for head in range(attention.shape[2]):
            scores = [row_difference(attention[layer, :, head], target, rows) for _, target in candidates]
            best = int(np.argmin(scores))
            selector = candidates[best][0]
            matched.append({"layer": layer + 1, "head": head + 1, "selector": selector.name,
                            "difference": round(scores[best], 4)})
    return matched
