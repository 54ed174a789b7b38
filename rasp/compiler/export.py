"""Compiled transformers in the formats other tools read: .npz + .json, .safetensors and .onnx.

docs/export.md is the user's page: the names and shapes, the metadata schema, how to load
each format in ONNX Runtime and TransformerLens. In short:

* .npz (+ .json beside it): Transformer.arrays() and Transformer.description(), as ever;
* .safetensors: TransformerLens HookedTransformer state-dict names and shapes (embed.W_E,
  pos_embed.W_pos, blocks.{b}.attn.W_Q [n_heads, d_model, d_head], ..., unembed.W_U), every
  head zero-padded to one d_head, every layer to one n_heads and d_mlp; the embedding MLP (an
  MLP before layer 1, which TransformerLens lacks) is block 0 with all-zero attention weights.
  The header's metadata holds JSON strings: "rasp" (the contract below), "config" (a
  HookedTransformerConfig's fields), "blocks" (which block is which layer, the real sizes) and
  "description" (Transformer.description(): residual layout and all);
* .onnx: the forward pass as an ONNX graph (float64, opset 17), input token_ids int64
  [batch, length + 1] with BOS first, output `output` [batch, length + 1, k]; metadata
  property "rasp" holds the contract {"vocab", "bos_id", "max_len", "output"}, and
  "rasp_description" the description.

load_model reads any of the three back into a Transformer. verify_onnx runs the exported
graph in ONNX Runtime against the interpreter. onnx, onnxruntime and safetensors are the
optional extra rasp[export], imported inside the functions that need them.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import RaspError
from .transformer import MLP, Head, Layer, Output, Transformer

FORMATS = (".npz", ".safetensors", ".onnx")
INSTALL_HINT = 'pip install "rasp[export]"'
OPSET = 17
ONNX_PROTOBUF_LIMIT = 2_000_000_000  # bytes of weights above which the .onnx keeps them in FILE.onnx.data
# (a protobuf message cannot exceed 2 GiB; the margin leaves room for the graph itself)
ONNX_CONTRACT_KEY = "rasp"
ONNX_DESCRIPTION_KEY = "rasp_description"


class ExportError(RaspError):
    """A model that cannot be written or read in the format asked for; the message says why."""

    category = "export error"


# ------------------------------------------------------------------ choosing the format


def format_of(path: str) -> str:
    """'.npz', '.safetensors' or '.onnx' from the path's extension (none, or .json: .npz as before)."""
    suffix = Path(path).suffix.lower()
    if suffix in ("", ".json"):
        return ".npz"
    if suffix not in FORMATS:
        raise ExportError(f"cannot save a model as {suffix!r}: the formats are .npz (with .json), .safetensors "
                          "and .onnx", hint='e.g. save "model.onnx"')
    return suffix


def save_model(model: Transformer, path: str) -> list[str]:
    """Write `model` in the format the extension of `path` names; returns the paths written.

    Raises ExportError for an unknown extension or a missing optional package, OSError for a
    path that cannot be written."""
    kind = format_of(path)
    if kind == ".npz":
        return model.save_npz(path)
    _check_directory(path)
    if kind == ".safetensors":
        return save_safetensors(model, path)
    return save_onnx(model, path)


def load_model(path: str) -> Transformer:
    """A Transformer from a .npz (with its .json), .safetensors or .onnx file written by save_model."""
    kind = Path(path).suffix.lower()
    if kind not in FORMATS + (".json",):
        raise ExportError(f"cannot load a model from {path}: the formats are .npz, .safetensors and .onnx")
    if not os.path.exists(path if kind != ".json" else path[:-5] + ".npz"):
        raise ExportError(f"cannot load a model from {path}: no such file")
    try:
        if kind in (".npz", ".json"):
            return _load_npz(path)
        if kind == ".safetensors":
            return load_safetensors(path)
        return load_onnx(path)
    except ExportError:
        raise
    except (KeyError, ValueError, TypeError, IndexError, OSError) as error:
        raise ExportError(f"cannot load a model from {path}: {error}",
                          hint="the file must be one rasp wrote with `save`") from None


def _check_directory(path: str) -> None:
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise FileNotFoundError(2, "No such directory", folder)


def _require(module: str) -> Any:
    """Import an optional package of rasp[export], or say how to install it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ExportError(f"this needs the Python package {module.split('.')[0]}, which is not installed",
                          hint=INSTALL_HINT) from None


# ------------------------------------------------------------------ from arrays and a description


def from_description(arrays: dict[str, np.ndarray], description: dict) -> Transformer:
    """The Transformer whose arrays() and description() these are (the inverse of saving)."""

    def mlp(prefix: str, computes: list) -> MLP:
        return MLP(arrays[prefix + "_W1"], arrays[prefix + "_b1"], arrays[prefix + "_W2"], arrays[prefix + "_b2"],
                   list(computes))

    layers = []
    for detail in description["layer_detail"]:
        number = detail["layer"]
        heads = [Head(arrays[f"layer{number}_head{h}_W_Q"], arrays[f"layer{number}_head{h}_W_K"],
                      arrays[f"layer{number}_head{h}_W_V"], arrays[f"layer{number}_head{h}_W_O"],
                      selector=head["selector"], computes=list(head["computes"]), with_bos=head.get("with_bos", False))
                 for h, head in enumerate(detail["heads"])]
        layers.append(Layer(heads, mlp(f"layer{number}_mlp", detail["mlp"]["computes"])))
    embedding_mlp = (mlp("embedding_mlp", description.get("embedding_mlp_computes", []))
                     if description["embedding_mlp"] else None)
    model = Transformer(
        name=description["name"], vocab=[_atom(v) for v in description["vocab"]], max_len=description["max_len"],
        token_embedding=arrays["token_embedding"], position_embedding=arrays["position_embedding"],
        embedding_mlp=embedding_mlp, layers=layers, unembedding=arrays["unembedding"],
        output=Output(description["output"], [_atom(v) for v in description["output_values"]]),
        dims=description["residual"], tolerance=description.get("attention_tolerance", 1e-12),
    )
    if description.get("causal"):
        model.causal = True  # type: ignore[attr-defined]  # an attribute of causal models (docs/raspl.md)
    return model


def _atom(value: Any) -> Any:
    """A value read back from JSON: lists were tuples."""
    return tuple(_atom(v) for v in value) if isinstance(value, list) else value


def contract(model: Transformer) -> dict:
    """What anyone needs to run the exported model without our code: tokens, BOS, length, decoding."""
    output: dict = {"kind": model.output.kind}
    if model.output.kind == "categorical":
        output["values"] = [_json_value(v) for v in model.output.values]
    return {"vocab": [_json_value(v) for v in model.vocab], "bos_id": model.bos, "max_len": model.max_len,
            "output": output}


def _json_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    return value if isinstance(value, (bool, int, float, str)) else repr(value)


def _load_npz(path: str) -> Transformer:
    stem = path.removesuffix(".npz").removesuffix(".json")
    with np.load(stem + ".npz") as loaded:
        arrays = {name: loaded[name] for name in loaded.files}
    with open(stem + ".json", encoding="utf-8") as file:
        return from_description(arrays, json.load(file))


# ------------------------------------------------------------------ safetensors (TransformerLens names)


def transformer_lens_config(model: Transformer) -> dict:
    """HookedTransformerConfig fields for the state dict of transformer_lens_state_dict."""
    blocks = _blocks(model)
    return {
        "n_layers": len(blocks), "d_model": model.d_model, "n_ctx": model.max_len + 1,
        "d_head": _d_head(model), "n_heads": _n_heads(model), "d_mlp": _d_mlp(model),
        "d_vocab": len(model.vocab) + 1, "d_vocab_out": model.unembedding.shape[1],
        "act_fn": "relu", "normalization_type": None,
        "attention_dir": "causal" if getattr(model, "causal", False) else "bidirectional",
        "use_attn_scale": False,  # our scores are x W_Q (x W_K)^T: no 1/sqrt(d_head)
        "positional_embedding_type": "standard", "original_architecture": "rasp", "model_name": model.name,
        "dtype": "float64", "default_prepend_bos": False,
    }


def _blocks(model: Transformer) -> list[tuple[int, list[Head], MLP]]:
    """(rasp layer, heads, MLP) per TransformerLens block: the embedding MLP (layer 0) is a block of its own."""
    blocks: list[tuple[int, list[Head], MLP]] = [(0, [], model.mlp0)] if model.mlp0 is not None else []
    return blocks + [(number, layer.heads, layer.mlp) for number, layer in enumerate(model.blocks, start=1)]


def _n_heads(model: Transformer) -> int:
    return max([1, *model.heads])


def _d_head(model: Transformer) -> int:
    return max([1] + [max(h.W_Q.shape[1], h.W_V.shape[1]) for layer in model.blocks for h in layer.heads])


def _d_mlp(model: Transformer) -> int:
    return max([1] + [mlp.hidden for _, _, mlp in _blocks(model)])


def transformer_lens_state_dict(model: Transformer) -> dict[str, np.ndarray]:
    """The weights under HookedTransformer's names and shapes, zero-padded to common sizes (docs/export.md)."""
    d_model, n_heads, d_head, d_mlp = model.d_model, _n_heads(model), _d_head(model), _d_mlp(model)
    dtype = model.token_embedding.dtype
    tensors = {"embed.W_E": model.token_embedding, "pos_embed.W_pos": model.position_embedding}
    for b, (_, heads, mlp) in enumerate(_blocks(model)):
        parts = {name: np.zeros((n_heads, d_model, d_head), dtype) for name in ("W_Q", "W_K", "W_V")}
        parts["W_O"] = np.zeros((n_heads, d_head, d_model), dtype)
        for h, head in enumerate(heads):
            parts["W_Q"][h, :, :head.W_Q.shape[1]] = head.W_Q
            parts["W_K"][h, :, :head.W_K.shape[1]] = head.W_K
            parts["W_V"][h, :, :head.W_V.shape[1]] = head.W_V
            parts["W_O"][h, :head.W_O.shape[0], :] = head.W_O
        for name, array in parts.items():
            tensors[f"blocks.{b}.attn.{name}"] = array
        for bias in ("b_Q", "b_K", "b_V"):
            tensors[f"blocks.{b}.attn.{bias}"] = np.zeros((n_heads, d_head), dtype)
        tensors[f"blocks.{b}.attn.b_O"] = np.zeros(d_model, dtype)
        W_in, b_in, W_out = np.zeros((d_model, d_mlp), dtype), np.zeros(d_mlp, dtype), np.zeros((d_mlp, d_model), dtype)
        W_in[:, :mlp.hidden], b_in[:mlp.hidden], W_out[:mlp.hidden] = mlp.W1, mlp.b1, mlp.W2
        tensors.update({f"blocks.{b}.mlp.W_in": W_in, f"blocks.{b}.mlp.b_in": b_in,
                        f"blocks.{b}.mlp.W_out": W_out, f"blocks.{b}.mlp.b_out": mlp.b2})
    tensors["unembed.W_U"] = model.unembedding
    tensors["unembed.b_U"] = np.zeros(model.unembedding.shape[1], dtype)
    return {name: np.ascontiguousarray(array) for name, array in tensors.items()}


def blocks_metadata(model: Transformer) -> list[dict]:
    """Which block is which layer, and the real (unpadded) sizes of its heads and MLP."""
    shown = []
    for b, (number, heads, mlp) in enumerate(_blocks(model)):
        shown.append({
            "block": b, "rasp_layer": number,
            "role": "the embedding MLP (attention weights all zero)" if number == 0 else f"layer {number}",
            "heads": [{"head": h, "d_head": head.W_Q.shape[1], "d_value": head.W_V.shape[1],
                       "selector": head.selector, "computes": head.computes, "with_bos": head.with_bos}
                      for h, head in enumerate(heads)],
            "d_mlp": mlp.hidden, "mlp_computes": mlp.computes,
        })
    return shown


def safetensors_metadata(model: Transformer) -> dict[str, str]:
    return {"format": "rasp-transformer-lens", "rasp": json.dumps(contract(model), ensure_ascii=False),
            "config": json.dumps(transformer_lens_config(model)),
            "blocks": json.dumps(blocks_metadata(model), ensure_ascii=False),
            "residual": json.dumps(model.dims(), ensure_ascii=False),
            "description": json.dumps(model.description(), ensure_ascii=False)}


def save_safetensors(model: Transformer, path: str) -> list[str]:
    numpy_api = _require("safetensors.numpy")
    from safetensors import SafetensorError

    try:
        numpy_api.save_file(transformer_lens_state_dict(model), path, metadata=safetensors_metadata(model))
    except SafetensorError as error:  # it wraps the I/O error (a directory, no permission)
        raise OSError(str(error).removeprefix("Error while serializing: ")) from None
    return [path]


def load_safetensors(path: str) -> Transformer:
    safetensors = _require("safetensors")
    with safetensors.safe_open(path, framework="np") as file:
        metadata = file.metadata() or {}
        if "description" not in metadata or "blocks" not in metadata:
            raise ExportError(f"{path} is a safetensors file, but not a rasp model (its metadata has no description)")
        tensors = {name: file.get_tensor(name) for name in file.keys()}  # noqa: SIM118 - not a dict
    description, blocks = json.loads(metadata["description"]), json.loads(metadata["blocks"])
    arrays = {"token_embedding": tensors["embed.W_E"], "position_embedding": tensors["pos_embed.W_pos"],
              "unembedding": tensors["unembed.W_U"]}
    for block in blocks:
        b, number = block["block"], block["rasp_layer"]
        prefix = "embedding_mlp" if number == 0 else f"layer{number}_mlp"
        hidden = block["d_mlp"]
        arrays[prefix + "_W1"] = tensors[f"blocks.{b}.mlp.W_in"][:, :hidden]
        arrays[prefix + "_b1"] = tensors[f"blocks.{b}.mlp.b_in"][:hidden]
        arrays[prefix + "_W2"] = tensors[f"blocks.{b}.mlp.W_out"][:hidden]
        arrays[prefix + "_b2"] = tensors[f"blocks.{b}.mlp.b_out"]
        for head in block["heads"]:
            h, d_head, d_value = head["head"], head["d_head"], head["d_value"]
            name = f"layer{number}_head{h}_"
            arrays[name + "W_Q"] = tensors[f"blocks.{b}.attn.W_Q"][h, :, :d_head]
            arrays[name + "W_K"] = tensors[f"blocks.{b}.attn.W_K"][h, :, :d_head]
            arrays[name + "W_V"] = tensors[f"blocks.{b}.attn.W_V"][h, :, :d_value]
            arrays[name + "W_O"] = tensors[f"blocks.{b}.attn.W_O"][h, :d_value, :]
    return from_description({k: np.ascontiguousarray(v) for k, v in arrays.items()}, description)


# ------------------------------------------------------------------ ONNX


def onnx_model(model: Transformer) -> Any:
    """The forward pass of rasp/compiler/transformer.py as an ONNX ModelProto (float64, opset 17)."""
    _require("onnx")
    from onnx import TensorProto, helper, numpy_helper

    graph = _Graph()
    x = graph.node("Gather", ["token_embedding", "token_ids"], axis=0)
    length = graph.node("Slice", [graph.node("Shape", ["token_ids"]), graph.const("one", [1]), graph.const("two", [2])])
    position = graph.node("Slice", ["position_embedding", graph.const("zero", [0]), length, graph.const("zero", [0])])
    x = graph.node("Add", [x, position])
    if model.mlp0 is not None:
        x = graph.node("Add", [x, _mlp(graph, x, "embedding_mlp", model.mlp0.hidden)])
    causal = getattr(model, "causal", False)
    mask = None
    if causal:  # a model with a true `causal` attribute: scores of keys after the query are -inf
        graph.initializers["causal_mask"] = np.triu(np.full((model.max_len + 1,) * 2, -np.inf), 1)
        both = graph.const("both_axes", [0, 1])
        ends = graph.node("Concat", [length, length], axis=0)
        mask = graph.node("Slice", ["causal_mask", graph.const("zeros2", [0, 0]), ends, both])
    for number, layer in enumerate(model.blocks, start=1):
        update = None
        for h in range(len(layer.heads)):
            name = f"layer{number}_head{h}_"
            query = graph.node("MatMul", [x, name + "W_Q"])
            key = graph.node("MatMul", [x, name + "W_K"])
            # scores[b, q, k] = query[b, q] . key[b, k] as an Einsum: a Transpose feeding a MatMul is
            # fused by ONNX Runtime 1.23's optimiser into FusedMatMul, which has no double kernel
            scores = graph.node("Einsum", [query, key], equation="bqd,bkd->bqk")
            if mask is not None:
                scores = graph.node("Add", [scores, mask])
            weights = graph.node("Softmax", [scores], axis=-1)
            value = graph.node("MatMul", [x, name + "W_V"])
            head = graph.node("MatMul", [graph.node("MatMul", [weights, value]), name + "W_O"])
            update = head if update is None else graph.node("Add", [update, head])
        if update is not None:
            x = graph.node("Add", [x, update])
        x = graph.node("Add", [x, _mlp(graph, x, f"layer{number}_mlp", layer.mlp.hidden)])
    graph.node("MatMul", [x, "unembedding"], output="output")
    # an empty MLP's arrays hold no numbers and no node reads them (ONNX Runtime would warn); load_onnx remakes them
    unread = {f"layer{n}_mlp_{part}" for n, layer in enumerate(model.blocks, start=1) if layer.mlp.hidden == 0
              for part in ("W1", "b1", "W2")}
    graph.initializers.update({name: array for name, array in model.arrays().items() if name not in unread})
    initializers = [numpy_helper.from_array(np.asarray(array), name) for name, array in graph.initializers.items()]
    inputs = [helper.make_tensor_value_info("token_ids", TensorProto.INT64, ["batch", "positions"])]
    outputs = [helper.make_tensor_value_info("output", TensorProto.DOUBLE,
                                             ["batch", "positions", model.unembedding.shape[1]])]
    proto = helper.make_model(helper.make_graph(graph.nodes, model.name or "rasp", inputs, outputs, initializers),
                              opset_imports=[helper.make_opsetid("", OPSET)], producer_name="rasp",
                              doc_string="A RASP program compiled to a transformer (docs/export.md)")
    proto.ir_version = min(proto.ir_version, 9)  # ONNX Runtime releases read IR 9 (onnx 1.15 and later)
    helper.set_model_props(proto, {ONNX_CONTRACT_KEY: json.dumps(contract(model), ensure_ascii=False),
                                   ONNX_DESCRIPTION_KEY: json.dumps(model.description(), ensure_ascii=False)})
    return proto


def _mlp(graph: _Graph, x: str, prefix: str, hidden: int) -> str:
    """relu(x W1 + b1) W2 + b2 of the MLP whose arrays are named prefix_W1, ... (an empty one is its b2)."""
    if hidden == 0:
        return prefix + "_b2"
    inner = graph.node("Relu", [graph.node("Add", [graph.node("MatMul", [x, prefix + "_W1"]), prefix + "_b1"])])
    return graph.node("Add", [graph.node("MatMul", [inner, prefix + "_W2"]), prefix + "_b2"])


class _Graph:
    """Nodes appended in order; each node's output is named after its position."""

    def __init__(self) -> None:
        self.nodes: list = []
        self.initializers: dict[str, np.ndarray] = {}

    def node(self, op: str, inputs: list[str], output: str | None = None, **attributes: Any) -> str:
        from onnx import helper

        output = output or f"{op.lower()}_{len(self.nodes)}"
        self.nodes.append(helper.make_node(op, inputs, [output], **attributes))
        return output

    def const(self, name: str, values: list[int]) -> str:
        self.initializers[name] = np.array(values, dtype=np.int64)
        return name


def save_onnx(model: Transformer, path: str) -> list[str]:
    """Write FILE.onnx; weights beyond ONNX_PROTOBUF_LIMIT bytes go to FILE.onnx.data beside it."""
    onnx = _require("onnx")
    proto = onnx_model(model)
    if _weight_bytes(model) <= ONNX_PROTOBUF_LIMIT:
        onnx.save_model(proto, path)
        return [path]
    data = os.path.basename(path) + ".data"
    if os.path.exists(os.path.join(os.path.dirname(path), data)):
        os.remove(os.path.join(os.path.dirname(path), data))  # onnx appends to an existing data file
    onnx.save_model(proto, path, save_as_external_data=True, all_tensors_to_one_file=True, location=data,
                    size_threshold=1024)
    return [path, os.path.join(os.path.dirname(path), data)]


def _weight_bytes(model: Transformer) -> int:
    return sum(int(array.nbytes) for array in model.arrays().values())


def load_onnx(path: str) -> Transformer:
    onnx = _require("onnx")
    from google.protobuf.message import DecodeError  # onnx's own dependency
    from onnx import numpy_helper

    try:
        proto = onnx.load(path)
    except DecodeError:
        raise ExportError(f"{path} is not an ONNX model (it does not decode)") from None
    properties = {p.key: p.value for p in proto.metadata_props}
    if ONNX_DESCRIPTION_KEY not in properties:
        raise ExportError(f"{path} is an ONNX model, but not a rasp model (no {ONNX_DESCRIPTION_KEY} metadata)")
    arrays = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
    description = json.loads(properties[ONNX_DESCRIPTION_KEY])
    d_model = arrays["token_embedding"].shape[1]
    for detail in description["layer_detail"]:
        if detail["mlp"]["hidden"] == 0:  # left out of the graph (onnx_model)
            prefix = f"layer{detail['layer']}_mlp"
            arrays.update({prefix + "_W1": np.zeros((d_model, 0)), prefix + "_b1": np.zeros(0),
                           prefix + "_W2": np.zeros((0, d_model))})
    return from_description(arrays, description)


def onnx_session(source: Any) -> Any:
    """An ONNX Runtime session (CPU) for a path or a ModelProto (a large one through a temporary file)."""
    onnxruntime = _require("onnxruntime")
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: no warnings on standard error
    if isinstance(source, (str, os.PathLike)):
        return onnxruntime.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
    if source.ByteSize() < ONNX_PROTOBUF_LIMIT:
        return onnxruntime.InferenceSession(source.SerializeToString(), options, providers=["CPUExecutionProvider"])
    onnx = _require("onnx")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.onnx")
        onnx.save_model(source, path, save_as_external_data=True, location="model.onnx.data")
        return onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])


# ------------------------------------------------------------------ verification on ONNX Runtime


@dataclass
class OnnxVerification:
    """The exported graph, run in ONNX Runtime, against the interpreter (and the NumPy forward pass)."""

    file: str | None  # the .onnx file run (None: the graph built in memory)
    checked: int
    mismatches: int
    first_mismatch: dict | None
    numpy_difference: float  # the largest |ONNX Runtime - NumPy| over every output number checked

    def to_json(self) -> dict:
        return asdict(self)


def verify_onnx(model: Transformer, node: Any, *, file: str | None = None, random_inputs: int = 1000,
                seed: int = 0) -> OnnxVerification:
    """Run the ONNX graph (the file, or one built from `model`) on verify's inputs; compare with the interpreter."""
    from ..engine import evaluate_batch
    from ..values import exact_text
    from .verify import _compare, test_inputs

    session = onnx_session(file if file is not None else onnx_model(model))
    inputs, _, _ = test_inputs(model.vocab, model.max_len, random_inputs, seed)
    expected = evaluate_batch(node, inputs)
    good = [i for i, (_, value) in enumerate(expected) if not isinstance(value, RaspError)]
    by_length: dict[int, list[int]] = {}
    for i in good:
        by_length.setdefault(len(inputs[i]), []).append(i)
    mismatches, first, difference = 0, None, 0.0
    for members in (batch for group in by_length.values() for batch in model.batches(group)):
        ids = np.array([model.token_ids(inputs[m]) for m in members], dtype=np.int64)
        output = session.run(["output"], {"token_ids": ids})[0]
        reference = model.residual(ids) @ model.unembedding
        difference = max(difference, float(np.abs(output - reference).max()))
        got = model.decode(output[:, 1:, :])
        for row, m in enumerate(members):
            wanted = expected[m][1].to_list()
            position, _ = _compare(wanted, got[row], model.output.kind)
            if position is not None:
                mismatches += 1
                if first is None:
                    first = {"input": [exact_text(v) for v in inputs[m]], "position": position,
                             "expected": exact_text(wanted[position]), "got": exact_text(got[row][position])}
    return OnnxVerification(file, len(good), mismatches, first, difference)
