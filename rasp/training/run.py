"""One entry point for the three faces (Python, the `train` statement, --train): options in, a Trained out."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from ..errors import RaspTypeError, RaspValueError
from ..values import SOp, is_atom, short_text, type_name
from . import require_jax

DEFAULT_MAX_LEN = 8

# the type each option must have (Python callers; the statement's parser checks its own words)
WHOLE_NUMBERS = ("layers", "heads", "d_model", "d_ff", "examples", "validation", "test", "epochs", "batch",
                 "patience", "seed", "min_len", "max_len")
NUMBERS = ("lr", "decay", "attn_c")
FLAGS = ("bos", "supervise")


def default_vocab(example: Any) -> tuple:
    """The distinct tokens of a session's running example, in order of first appearance."""
    items = list(example) if isinstance(example, (str, list, tuple)) else []
    return tuple(dict.fromkeys(items))


def train(node: Any, name: str, *, vocab: Any, max_len: int | None = None, min_len: int = 1, bos: bool = False,
          dyck: tuple | None = None, progress: Callable | None = None, save: str | None = None,
          draw: Any = False, stage: Callable | None = None, **settings: Any) -> Any:
    """Train a transformer on the s-op `node` (docs/training.md); settings: rasp.training.trainer.Settings's fields.
    save: write the model to SAVE.npz; draw: write the page of its heads (rasp/training/page.py) on the
    input `draw` (True: one from the distribution). trained.files lists what was written.
    progress: called with each epoch's rasp.training.trainer.Progress; stage: a face's one-line view of
    long work (Session.progress: text, done, total; "done" when it ends), given one line per epoch."""
    require_jax()
    from .data import Distribution

    check_types({"min_len": min_len, "max_len": max_len, "bos": bos, "save": save, **settings})
    from .trainer import Settings, train_model

    if not isinstance(node, SOp):
        raise RaspTypeError(f"train needs an s-op, got {type_name(node)}",
                            hint="a selector has no per-position output to learn; train an s-op built from it")
    vocab = tuple(vocab) if isinstance(vocab, (str, list, tuple)) else vocab
    if not isinstance(vocab, tuple) or not all(is_atom(v) for v in vocab):
        raise RaspTypeError("train's vocab must be a list of atoms or a string", hint='e.g. vocab ["a", "b", "c"]')
    if dyck is None and name is not None and "dyck" in name.lower() and {"(", ")"} <= set(vocab):
        dyck = tuple(p for p in ("()", "{}", "[]") if p[0] in vocab and p[1] in vocab)
    max_len = DEFAULT_MAX_LEN if max_len is None else max_len
    if max_len > 512:
        raise RaspValueError(f"max_len must be at most 512, got {max_len}")
    dist = Distribution(vocab=vocab, min_len=min_len, max_len=max_len, bos=bos, dyck=dyck)
    unknown = set(settings) - set(Settings.__dataclass_fields__)
    if unknown:
        wrong = sorted(unknown)[0]
        close = difflib.get_close_matches(wrong, [*Settings.__dataclass_fields__, "vocab", "min_len", "max_len", "bos"],
                                          n=1)
        raise RaspTypeError(f"train has no option {wrong!r}", hint=f"did you mean {close[0]}?" if close else
                            "the options are rasp.training.trainer.Settings's fields, vocab, min_len, max_len, bos")
    chosen = Settings(**settings)
    if stage is not None:
        progress = epoch_line(stage, name, chosen.epochs, progress)
        stage(f"training {name}: generating the data, compiling the model", 0, 0)
    try:
        trained = train_model(node, dist, chosen, name=name, progress=progress)
    finally:
        if stage is not None:
            stage("done", 0, 0)
    trained.files = [trained.save(save)] if save is not None else []
    if draw is not False and draw is not None:
        trained.files.append(trained.draw(None if draw is True else draw))
    return trained


def epoch_line(stage: Callable, name: str, epochs: int, also: Callable | None = None) -> Callable:
    """A trainer progress callback drawing each epoch on the stage line: `training hist: epoch 3/50,
    loss 0.4127, validation 87.5%, 12 s` (no bar: the line fits 80 columns; the face decides where
    and whether to draw it)."""

    def show(record: Any) -> None:
        stage(f"training {name}: epoch {record.epoch}/{epochs}, loss {record.loss:.4f}, validation "
              f"{100 * record.validation_accuracy:.1f}%, {record.seconds:.0f} s", record.epoch, 0)
        if also is not None:
            also(record)

    return show


def check_types(options: dict[str, Any]) -> None:
    """A RaspTypeError naming the first option whose value has the wrong type."""
    for name, value in options.items():
        if value is None:
            continue
        if name in WHOLE_NUMBERS and (isinstance(value, bool) or not isinstance(value, int)):
            raise RaspTypeError(f"{name} must be a whole number, got {type_name(value)} {short_text(value)}")
        if name in NUMBERS and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise RaspTypeError(f"{name} must be a number, got {type_name(value)} {short_text(value)}")
        if name in FLAGS and not isinstance(value, bool):
            raise RaspTypeError(f"{name} must be True or False, got {type_name(value)} {short_text(value)}")
        if name in ("variant", "save") and not isinstance(value, str):
            raise RaspTypeError(f"{name} must be a string, got {type_name(value)} {short_text(value)}")


def argument_at_fault(error: Any, given: dict[str, Any]) -> str | None:
    """The argument of rasp.train an error is about: the first given option its message names
    ("vocab" for the vocabulary and for a program that fails on generated inputs; "value" for the s-op)."""
    message = error.message
    if "needs an s-op" in message:
        return "value"
    if "fails on a generated input" in message or "vocabulary" in message:
        return "vocab"
    named = [(message.find(word), word) for word in given if word in message]
    return min(named)[1] if named else None
