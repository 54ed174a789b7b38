"""The compile pipeline: RASP s-op -> transformer weights -> verification -> files.

Stages, each a module of its own (like tracr's staged compiler):

* valueset.py: the values every node can take at every (length, position);
* construct.py: residual layout, attention heads and MLPs from those sets;
* transformer.py: the weights, the forward pass, saving;
* verify.py: the model against the interpreter on every short input and random long ones.

This module is the orchestration the interpreter, the CLI and the Python API call:
compile_program (compile, verify, save) and compile_vocabulary. Stages are imported
on first use, so that a session that never compiles does not load them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import RaspError, RaspTypeError, RaspValueError
from ..results import Result
from ..syntax import Span
from ..values import SOp, is_atom, short_text, type_name

DEFAULT_RANDOM_CHECKS = 1000  # random inputs `compile` verifies a model on

Progress = Callable[[str, int, int], None]  # (what is being done, how much is done, of how much; 0: unknown)


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def compile_program(node: SOp, name: str | None = None, *, max_len: int, vocab: Any, check: int | None = None,
                    save: str | None = None, spans: dict[str, Span] | None = None,
                    verify_with: str | None = None, progress: Progress | None = None) -> Result:
    """Compile `node` into a transformer (rasp.compiler.construct), verify it against the interpreter, save it if asked.

    vocab is a list of atoms or a string (compile_vocabulary); check is the number of random
    inputs to verify on (default 1000); save is a path whose extension picks the format
    (none or .npz: PATH.npz and PATH.json; .safetensors; .onnx -- rasp/compiler/export.py).
    verify_with "onnx" also runs the ONNX graph (the saved .onnx file, else one built in
    memory) in ONNX Runtime against the interpreter (docs/export.md). spans (optional) place
    errors: "expr" for a refusal of the compiler, "save" for a file that cannot be written,
    "verify" for a missing ONNX Runtime. progress (optional) is told what is being done:
    progress(stage, done, total), total 0 when unknown, stage "done" at the end (the faces
    draw it; nothing here prints). Returns a results.Compiled.
    """
    from ..analysis import analyse  # imported here: only `compile` needs these
    from ..results import Compiled
    from .construct import compile_sop
    from .verify import verify

    spans = spans or {}
    name = name or node.name
    if isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 1:
        raise RaspValueError(f"max_len must be a whole number of at least 1, not {short_text(max_len)}")
    if check is not None and (isinstance(check, bool) or not isinstance(check, int) or check < 0):
        raise RaspValueError(f"the number of random inputs must be a whole number >= 0, not {short_text(check)}")
    if save is not None:
        _check_format(save, spans.get("save"))
    report = progress or _no_progress
    try:
        report(f"compiling {name} (max_len {max_len}): building the weights", 0, 0)
        model = compile_sop(node, max_len=max_len, vocab=compile_vocabulary(vocab), name=name, progress=report)
        verification = verify(model, node, random_inputs=DEFAULT_RANDOM_CHECKS if check is None else check,
                              progress=report)
    except RaspError as error:
        error.at(spans.get("expr"))
        raise
    finally:
        report("done", 0, 0)
    model.verification = verification
    files = _save_model(model, save, spans.get("save")) if save is not None else []
    onnx_check = _verify_onnx(model, node, files, check, spans.get("verify")) if verify_with == "onnx" else None
    return Compiled(name, model, verification, files, analyse(node, name), onnx_check)


def compile_vocabulary(value: Any) -> list:
    """A vocabulary for `compile`: a string's characters or a list's atoms, duplicates removed (first kept)."""
    items = list(value) if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(is_atom(item) for item in items):
        raise RaspTypeError(
            "vocab must be a non-empty list of atoms or a non-empty string, "
            f"not {type_name(value)} {short_text(value)}",
            hint='e.g. vocab "abc" or vocab [1, 2, 3]',
        )
    seen: set = set()
    distinct = []
    for item in items:
        key = (isinstance(item, bool), isinstance(item, str), item)  # True and 1 differ; 1 and 1.0 do not
        if key not in seen:
            seen.add(key)
            distinct.append(item)
    return distinct


def _save_model(model: Any, path: str, span: Span | None) -> list[str]:
    """Transformer.save, its failure a RASP error at the `save` option."""
    try:
        return [str(written) for written in model.save(path)]
    except RaspError as error:  # an unknown extension, a missing optional package (rasp/compiler/export.py)
        error.at(span)
        raise
    except OSError as error:
        raise RaspValueError(f"cannot save the model to {path}: {error.strerror or error}", span) from None


def _check_format(path: str, span: Span | None) -> None:
    """An unknown extension is refused before the (possibly long) compile."""
    from .export import format_of

    try:
        format_of(path)
    except RaspError as error:
        error.at(span)
        raise


def _verify_onnx(model: Any, node: SOp, files: list[str], check: int | None, span: Span | None) -> Any:
    """rasp.compiler.export.verify_onnx on the .onnx file just saved (or a graph built in memory)."""
    from .export import verify_onnx

    saved = [f for f in files if f.lower().endswith(".onnx")]
    try:
        return verify_onnx(model, node, file=saved[0] if saved else None,
                           random_inputs=DEFAULT_RANDOM_CHECKS if check is None else check)
    except RaspError as error:
        error.at(span)
        raise
