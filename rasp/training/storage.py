"""Saving a trained model to .npz and reading it back (docs/training.md, 'How to train').

One file: every parameter array under its path ("layers.0.wq", "embed", ...) and a "meta"
entry holding JSON (shape, vocabulary, classes, distribution, figures)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..errors import RaspValueError


def flatten(params: dict) -> dict[str, np.ndarray]:
    arrays = {k: np.asarray(v) for k, v in params.items() if k != "layers"}
    for i, layer in enumerate(params["layers"]):
        arrays.update({f"layers.{i}.{k}": np.asarray(v) for k, v in layer.items()})
    return arrays


def unflatten(arrays: dict[str, np.ndarray]) -> dict:
    params: dict = {"layers": []}
    for key, value in arrays.items():
        if key.startswith("layers."):
            _, index, name = key.split(".", 2)
            while len(params["layers"]) <= int(index):
                params["layers"].append({})
            params["layers"][int(index)][name] = value
        else:
            params[key] = value
    return params


def save_npz(path: str, params: dict, meta: dict) -> str:
    path = path if path.endswith(".npz") else path + ".npz"
    arrays: dict[str, Any] = {"meta": np.array(json.dumps(meta)), **flatten(params)}
    np.savez(path, **arrays)
    return path


def load_npz(path: str) -> tuple[dict, dict]:
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as error:
        raise RaspValueError(f"cannot read the trained model {path}: {error}") from None
    if "meta" not in arrays:
        raise RaspValueError(f"{path} is not a trained model (no meta entry)")
    meta = json.loads(str(arrays.pop("meta")))
    return unflatten(arrays), meta
