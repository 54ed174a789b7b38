"""Compiled transformers as .safetensors and .onnx (rasp/compiler/export.py, docs/export.md).

The ONNX graph runs in ONNX Runtime and must give the interpreter's output on every checked
input and the NumPy forward pass's numbers to 1e-9; every file reads back bit for bit; the
metadata alone (JSON and NumPy, no rasp code) is enough to run and decode the model.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import random

import numpy as np
import pytest
from fuzzing import ProgramWriter

import rasp
import rasp.api
from rasp.cli import compiled_to_json
from rasp.compiler import export
from rasp.compiler.construct import CompileError, compile_sop
from rasp.compiler.verify import verify
from rasp.display import format_result
from rasp.engine import evaluate_batch
from rasp.errors import RaspError
from rasp.values import SOp

onnx = pytest.importorskip("onnx")
onnxruntime = pytest.importorskip("onnxruntime")
safetensors_numpy = pytest.importorskip("safetensors.numpy")

PROGRAMS = {  # name: (source binding x, vocabulary, max_len)
    "sort": ("x = sort(tokens, tokens);", "abc", 4),
    "histogram": ("x = histogram(tokens);", "abc", 4),
    "reverse": ("x = reverse(tokens);", "abc", 4),
    "dyck2": ("x = dyck2(tokens);", "(){}", 4),
    "mean": ('x = aggregate(select(indices, indices, <=), indicator(tokens == "a"), 0);', "ab", 4),
}


@functools.cache
def compiled(name: str):
    source, vocab, max_len = PROGRAMS[name]
    session = rasp.api.Session()
    session.run('load "paper";\n' + source)
    node = session["x"].node
    return node, compile_sop(node, max_len=max_len, vocab=list(vocab), name=name)


def every_input(vocab: list, max_len: int) -> list[list]:
    return [list(items) for n in range(1, max_len + 1) for items in itertools.product(vocab, repeat=n)]


def interpreter_outputs(node: SOp, inputs: list[list]) -> list:
    return [value.to_list() for _, value in evaluate_batch(node, inputs)]


def same_output(got: list, want: list, kind: str) -> bool:
    if kind == "numerical":
        return len(got) == len(want) and all(abs(g - w) <= 1e-6 * max(1.0, abs(w))
                                             for g, w in zip(got, want, strict=True))
    return [json.dumps(g) for g in got] == [json.dumps(w) for w in want]  # True is not 1


# ------------------------------------------------------------------ ONNX Runtime against the interpreter


@pytest.mark.parametrize("name", ["sort", "histogram", "reverse", "dyck2", "mean"])
def test_onnx_graph_agrees_with_the_interpreter_and_the_numpy_forward_pass(name, tmp_path):
    node, model = compiled(name)
    files = model.save(str(tmp_path / f"{name}.onnx"))
    assert files == [str(tmp_path / f"{name}.onnx")]
    onnx.checker.check_model(files[0])
    check = export.verify_onnx(model, node, file=files[0], random_inputs=0)
    assert check.checked == sum(len(model.vocab) ** n for n in range(1, model.max_len + 1))
    assert check.mismatches == 0, check.first_mismatch
    assert check.numpy_difference <= 1e-9


def test_onnx_contract_alone_decodes_the_outputs(tmp_path):
    """Only ONNX Runtime, the `rasp` metadata property and NumPy: the contract of docs/export.md."""
    for name in ("sort", "dyck2", "mean"):
        node, model = compiled(name)
        path = model.save(str(tmp_path / f"{name}.onnx"))[0]
        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        assert [i.name for i in session.get_inputs()] == ["token_ids"]
        assert [o.name for o in session.get_outputs()] == ["output"]
        contract = json.loads(session.get_modelmeta().custom_metadata_map["rasp"])
        assert set(contract) == {"vocab", "bos_id", "max_len", "output"}
        inputs = every_input(contract["vocab"], min(contract["max_len"], 3))
        for items, want in zip(inputs, interpreter_outputs(node, inputs), strict=True):
            ids = np.array([[contract["bos_id"]] + [contract["vocab"].index(t) for t in items]], dtype=np.int64)
            output = session.run(["output"], {"token_ids": ids})[0]
            assert output.shape == (1, len(items) + 1, 1 if contract["output"]["kind"] == "numerical"
                                    else len(contract["output"]["values"]))
            if contract["output"]["kind"] == "numerical":
                got = output[0, 1:, 0].tolist()
            else:
                got = [contract["output"]["values"][c] for c in output[0, 1:].argmax(axis=-1)]
            assert same_output(got, want, contract["output"]["kind"]), (name, items, got, want)


def test_onnx_runs_a_batch_of_several_inputs_of_one_length():
    node, model = compiled("sort")
    session = export.onnx_session(export.onnx_model(model))
    inputs = every_input(model.vocab, 3)[-27:]  # the 27 inputs of length 3
    ids = np.array([model.token_ids(items) for items in inputs], dtype=np.int64)
    output = session.run(["output"], {"token_ids": ids})[0]
    assert output.dtype == np.float64 and output.shape[:2] == (27, 4)
    assert model.decode(output[:, 1:]) == interpreter_outputs(node, inputs)


RANDOM_SAMPLE = 12


@pytest.mark.slow
def test_onnx_graph_of_random_programs_agrees_with_the_interpreter():
    rng = random.Random(19)
    done = refused = 0
    while done < RANDOM_SAMPLE:
        writer = ProgramWriter(rng)
        session = rasp.api.Session()
        session.run(writer.program(), check=False)
        names = [n for n in writer.lazy_names if n in session and isinstance(getattr(session[n], "node", None), SOp)]
        if not names:
            continue
        node = session[names[-1]].node
        try:
            model = compile_sop(node, max_len=4, vocab=["0", "1", "2"], name=names[-1])
        except CompileError:
            refused += 1
            continue
        check = export.verify_onnx(model, node, random_inputs=0)
        numpy_check = verify(model, node, random_inputs=0)
        assert check.checked == numpy_check.checked
        assert check.mismatches == numpy_check.mismatches == 0, check.first_mismatch
        assert check.numpy_difference <= 1e-9
        done += 1
    assert refused < 10 * RANDOM_SAMPLE  # the sample is of compiled programs, not of refusals


# ------------------------------------------------------------------ reading back


@pytest.mark.parametrize("suffix", [".npz", ".safetensors", ".onnx"])
def test_every_format_reads_back_bit_for_bit(suffix, tmp_path):
    for name in ("sort", "mean"):
        node, model = compiled(name)
        path = model.save(str(tmp_path / f"{name}{suffix}"))[0]
        loaded = rasp.load_model(path)
        original, back = model.arrays(), loaded.arrays()
        assert list(back) == list(original)
        for key, array in original.items():
            assert back[key].dtype == array.dtype and back[key].shape == array.shape, key
            assert back[key].tobytes() == array.tobytes(), key
        assert loaded.description() == model.description()
        assert loaded.vocab == model.vocab and loaded.output.values == model.output.values
        inputs = every_input(model.vocab, 3)
        assert loaded.run(inputs) == model.run(inputs)
        check = verify(loaded, node, random_inputs=20)
        assert check.mismatches == 0 and check.checked > 0


def safetensors_parts(path: str) -> tuple[dict, bytes]:
    """(the JSON header, the tensor bytes) of a .safetensors file: 8 bytes of header length, header, data."""
    with open(path, "rb") as file:
        content = file.read()
    size = int.from_bytes(content[:8], "little")
    return json.loads(content[8:8 + size]), content[8 + size:]


def test_safetensors_file_is_the_same_when_saved_again(tmp_path):
    _, model = compiled("dyck2")
    first = model.save(str(tmp_path / "a.safetensors"))[0]
    second = rasp.load_model(first).save(str(tmp_path / "b.safetensors"))[0]
    header, data = safetensors_parts(first)
    assert safetensors_parts(second) == (header, data)  # the header's key order is the library's (not fixed)
    assert {v["dtype"] for k, v in header.items() if k != "__metadata__"} == {"F64"}


# ------------------------------------------------------------------ safetensors: TransformerLens names


def test_safetensors_names_and_shapes_are_transformer_lens(tmp_path):
    _, model = compiled("sort")  # it has an embedding MLP, heads of different d_head, an empty MLP
    path = model.save(str(tmp_path / "sort.safetensors"))[0]
    tensors = safetensors_numpy.load_file(path)
    from safetensors import safe_open

    with safe_open(path, framework="np") as file:
        metadata = file.metadata()
    config = json.loads(metadata["config"])
    d_model, n_heads, d_head, d_mlp = config["d_model"], config["n_heads"], config["d_head"], config["d_mlp"]
    assert config["normalization_type"] is None and config["attention_dir"] == "bidirectional"
    assert config["act_fn"] == "relu" and config["use_attn_scale"] is False
    assert config["n_layers"] == model.layers + 1  # block 0 is the embedding MLP
    expected = {"embed.W_E": (config["d_vocab"], d_model), "pos_embed.W_pos": (config["n_ctx"], d_model),
                "unembed.W_U": (d_model, config["d_vocab_out"]), "unembed.b_U": (config["d_vocab_out"],)}
    for b in range(config["n_layers"]):
        for part in ("W_Q", "W_K", "W_V"):
            expected[f"blocks.{b}.attn.{part}"] = (n_heads, d_model, d_head)
        expected[f"blocks.{b}.attn.W_O"] = (n_heads, d_head, d_model)
        for bias in ("b_Q", "b_K", "b_V"):
            expected[f"blocks.{b}.attn.{bias}"] = (n_heads, d_head)
        expected[f"blocks.{b}.attn.b_O"] = (d_model,)
        expected.update({f"blocks.{b}.mlp.W_in": (d_model, d_mlp), f"blocks.{b}.mlp.b_in": (d_mlp,),
                         f"blocks.{b}.mlp.W_out": (d_mlp, d_model), f"blocks.{b}.mlp.b_out": (d_model,)})
    assert {name: tensor.shape for name, tensor in tensors.items()} == expected
    assert config["d_vocab"] == len(model.vocab) + 1 and config["n_ctx"] == model.max_len + 1
    assert not tensors["blocks.0.attn.W_Q"].any() and not tensors["blocks.0.attn.W_V"].any()
    residual = json.loads(metadata["residual"])
    assert len(residual) == d_model and all({"node", "encoding", "value"} <= set(d) for d in residual)


def transformer_lens_forward(tensors: dict, config: dict, ids: list[int]) -> np.ndarray:
    """HookedTransformer's forward pass (no layer norm, ReLU, no attention scale) from the state dict."""
    x = tensors["embed.W_E"][ids] + tensors["pos_embed.W_pos"][: len(ids)]
    for b in range(config["n_layers"]):
        attn = {k.split(".")[-1]: v for k, v in tensors.items() if k.startswith(f"blocks.{b}.attn.")}
        q = np.einsum("pd,hde->hpe", x, attn["W_Q"]) + attn["b_Q"][:, None, :]
        k = np.einsum("pd,hde->hpe", x, attn["W_K"]) + attn["b_K"][:, None, :]
        v = np.einsum("pd,hde->hpe", x, attn["W_V"]) + attn["b_V"][:, None, :]
        scores = q @ k.transpose(0, 2, 1)
        if config["attention_dir"] == "causal":
            scores = scores + np.triu(np.full(scores.shape[1:], -np.inf), 1)
        pattern = np.exp(scores - scores.max(axis=-1, keepdims=True))
        pattern /= pattern.sum(axis=-1, keepdims=True)
        x = x + np.einsum("hpe,hed->pd", pattern @ v, attn["W_O"]) + attn["b_O"]
        hidden = np.maximum(x @ tensors[f"blocks.{b}.mlp.W_in"] + tensors[f"blocks.{b}.mlp.b_in"], 0.0)
        x = x + hidden @ tensors[f"blocks.{b}.mlp.W_out"] + tensors[f"blocks.{b}.mlp.b_out"]
    return x @ tensors["unembed.W_U"] + tensors["unembed.b_U"]


@pytest.mark.parametrize("name", ["sort", "histogram", "dyck2", "mean"])
def test_safetensors_metadata_alone_runs_and_decodes_the_model(name, tmp_path):
    """No rasp code between the file and the decoded outputs: safetensors' NumPy API, JSON, NumPy."""
    node, model = compiled(name)
    path = model.save(str(tmp_path / f"{name}.safetensors"))[0]
    tensors = safetensors_numpy.load_file(path)
    from safetensors import safe_open

    with safe_open(path, framework="np") as file:
        metadata = file.metadata()
    contract, config = json.loads(metadata["rasp"]), json.loads(metadata["config"])
    inputs = every_input(contract["vocab"], 3)
    for items, want in zip(inputs, interpreter_outputs(node, inputs), strict=True):
        ids = [contract["bos_id"]] + [contract["vocab"].index(t) for t in items]
        logits = transformer_lens_forward(tensors, config, ids)
        reference = model.residual(np.array([ids])) @ model.unembedding
        assert np.abs(logits - reference[0]).max() <= 1e-9
        if contract["output"]["kind"] == "numerical":
            got = logits[1:, 0].tolist()
        else:
            got = [contract["output"]["values"][c] for c in logits[1:].argmax(axis=-1)]
        assert same_output(got, want, contract["output"]["kind"]), (items, got, want)


# ------------------------------------------------------------------ the compile command and the API


def run_session(source: str):
    session = rasp.api.Session()
    return session, session.run('load "paper";\n' + source)


def test_compile_command_saves_onnx_and_verifies_it(tmp_path):
    path = tmp_path / "rev.onnx"
    _, results = run_session(f'x = reverse(tokens);\ncompile x max_len 4 vocab "ab" save "{path}" verify onnx')
    compiled_result = results[-1]
    check = compiled_result.onnx_verification
    assert check.file == str(path) and check.checked == 30 and check.mismatches == 0
    assert compiled_result.files == [str(path)] and compiled_result.agrees
    text = format_result(compiled_result)
    assert f"ONNX Runtime ({path}): the same 30 inputs: all agree with the interpreter" in text
    assert compiled_to_json(compiled_result)["onnx"]["mismatches"] == 0
    assert rasp.load_model(str(path)).run([["a", "b"]]) == [["b", "a"]]


def test_verify_onnx_without_an_onnx_file_builds_the_graph_in_memory():
    _, results = run_session('compile reverse(tokens) max_len 3 vocab "ab" verify onnx')
    assert results[-1].onnx_verification.file is None and results[-1].onnx_verification.mismatches == 0
    assert "ONNX Runtime (the exported graph)" in format_result(results[-1])


def test_api_compile_with_verify_onnx_and_save(tmp_path):
    session, _ = run_session("x = histogram(tokens);")
    model = rasp.compile(session["x"], max_len=3, vocab="ab", save=str(tmp_path / "h.safetensors"), verify="onnx")
    assert model.files == [str(tmp_path / "h.safetensors")] and model.onnx_verification.mismatches == 0


def test_onnx_verification_catches_a_corrupted_file(tmp_path):
    node, model = compiled("reverse")
    proto = export.onnx_model(model)
    for tensor in proto.graph.initializer:
        if tensor.name == "unembedding":
            array = onnx.numpy_helper.to_array(tensor)[:, ::-1].copy()  # output values permuted
            tensor.CopyFrom(onnx.numpy_helper.from_array(array, "unembedding"))
    path = str(tmp_path / "bad.onnx")
    onnx.save_model(proto, path)
    check = export.verify_onnx(model, node, file=path, random_inputs=0)
    assert check.mismatches > 0 and check.first_mismatch is not None and check.numpy_difference >= 1


# ------------------------------------------------------------------ bad input


def error_of(source: str) -> RaspError:
    session = rasp.api.Session()
    with pytest.raises(RaspError) as caught:
        session.run('load "paper";\n' + source)
    return caught.value


def test_unknown_extension_is_refused_at_the_save_option():
    error = error_of('compile reverse(tokens) max_len 3 vocab "ab" save "m.pt"')
    assert "cannot save a model as '.pt'" in error.message and ".safetensors" in error.message
    assert error.span is not None and error.span.line == 2 and error.span.column == 46


@pytest.mark.parametrize("name", ["m.onnx", "m.safetensors", "m.npz"])
def test_unwritable_paths_are_clear_errors(name, tmp_path):
    missing = tmp_path / "no" / "such" / name
    error = error_of(f'compile reverse(tokens) max_len 3 vocab "ab" save "{missing}"')
    assert error.message.startswith(f"cannot save the model to {missing}") and error.span.line == 2
    folder = tmp_path / name
    folder.mkdir()
    error = error_of(f'compile reverse(tokens) max_len 3 vocab "ab" save "{folder}"')
    assert error.message.startswith(f"cannot save the model to {folder}") and "directory" in error.message.lower()


def test_verify_needs_onnx_as_its_value():
    error = error_of('compile reverse(tokens) max_len 3 vocab "ab" verify numpy')
    assert "bad value for `verify`" in error.message and error.category == "syntax error"


def test_a_model_beyond_the_protobuf_limit_keeps_its_weights_beside_the_graph(tmp_path, monkeypatch):
    node, model = compiled("reverse")
    monkeypatch.setattr(export, "ONNX_PROTOBUF_LIMIT", 1000)
    path = str(tmp_path / "big.onnx")
    files = model.save(path)
    assert files == [path, path + ".data"]
    graph = onnx.load(path, load_external_data=False).graph
    outside = [t for t in graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    assert outside and all(t.raw_data == b"" for t in outside)
    assert os.path.getsize(path + ".data") >= sum(np.prod(t.dims) * 8 for t in outside)
    assert export.verify_onnx(model, node, file=path, random_inputs=0).mismatches == 0
    assert rasp.load_model(path).arrays().keys() == model.arrays().keys()
    assert export.verify_onnx(model, node, random_inputs=0).mismatches == 0  # in memory: through a temporary file


def test_missing_packages_name_the_extra(monkeypatch, tmp_path):
    import importlib

    real = importlib.import_module

    def without_onnx(name, *args):
        if name.startswith(("onnx", "safetensors")):
            raise ImportError(name)
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", without_onnx)
    _, model = compiled("reverse")
    for suffix in (".onnx", ".safetensors"):
        with pytest.raises(export.ExportError) as caught:
            model.save(str(tmp_path / f"m{suffix}"))
        assert caught.value.hint == 'pip install "rasp[export]"'
    assert model.save(str(tmp_path / "m"))[0].endswith("m.npz")  # .npz needs nothing more


def test_load_model_errors(tmp_path):
    with pytest.raises(export.ExportError, match="no such file"):
        rasp.load_model(str(tmp_path / "absent.onnx"))
    with pytest.raises(export.ExportError, match="the formats are"):
        rasp.load_model(str(tmp_path / "model.pt"))
    plain = str(tmp_path / "plain.safetensors")
    safetensors_numpy.save_file({"w": np.zeros(3)}, plain)
    with pytest.raises(export.ExportError, match="not a rasp model"):
        rasp.load_model(plain)
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a model")
    with pytest.raises(RaspError):
        rasp.load_model(str(garbage))


def test_a_causal_model_masks_later_keys_in_the_onnx_graph_and_the_config(tmp_path):
    """A model whose `causal` attribute is true: ONNX Runtime and the TransformerLens-style pass
    (attention_dir "causal") agree, and the mask changes the output (keys after the query are not seen)."""
    import copy

    _, plain = compiled("reverse")
    model = copy.copy(plain)
    model.causal = True
    path = model.save(str(tmp_path / "causal.safetensors"))[0]
    tensors = safetensors_numpy.load_file(path)
    from safetensors import safe_open

    with safe_open(path, framework="np") as file:
        config = json.loads(file.metadata()["config"])
    assert config["attention_dir"] == "causal"
    session = export.onnx_session(export.onnx_model(model))
    changed = False
    for items in every_input(model.vocab, 3):
        ids = model.token_ids(items)
        output = session.run(["output"], {"token_ids": np.array([ids], dtype=np.int64)})[0][0]
        assert np.abs(output - transformer_lens_forward(tensors, config, ids)).max() <= 1e-9
        changed |= bool(np.abs(output - (plain.residual(np.array([ids])) @ plain.unembedding)[0]).max() > 1e-6)
    assert changed
    assert rasp.load_model(path).causal is True


def test_command_line_compile_saves_onnx_and_reports_json(capsys, tmp_path):
    from rasp.cli import main

    path = tmp_path / "rev.onnx"
    status = main(["-c", 'load "paper";\nrev = reverse(tokens);\n', "--compile",
                   f'rev max_len 3 vocab "ab" save "{path}" verify onnx', "--json"])
    out, err = capsys.readouterr()
    assert status == 0, err
    shown = [json.loads(line) for line in out.splitlines() if '"compiled"' in line][-1]
    assert shown["files"] == [str(path)] and shown["onnx"]["file"] == str(path)
    assert shown["onnx"]["checked"] == 14 and shown["onnx"]["mismatches"] == 0
    status = main(["-c", "rev = tokens;\n", "--compile", 'rev max_len 3 vocab "ab" save "rev.pt"'])
    out, err = capsys.readouterr()
    assert status != 0 and "export error: cannot save a model as '.pt'" in out + err and "Traceback" not in out + err
