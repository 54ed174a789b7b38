"""From examples to a RASP program that runs: learn, simplify, decompile, check, analyse.

docs/learning.md. `learn` joins the parts: the model's training and hardening
(rasp/learning/trainer.py), simplification (simplify.py), decompilation into RASP and the
agreement check in a fresh session (decompile.py), and the analysis of the decompiled
program (rasp/analysis.py). `learn_from` is the one entry point of the three faces (the
`learn` statement, `rasp --learn`, `rasp.learn`): examples from a file or a program and the
options by name, a LearnedProgram out. JAX is imported only when learning starts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import RaspError
from . import LearnError
from .examples import Examples, check_fits, list_examples, program_examples, read_examples

# The options of the faces (the `learn` statement's words) -> LearnSettings's fields.
SETTING_NAMES = {"layers": "layers", "heads": "categorical_heads", "counting": "counting_heads", "mlps": "mlps",
                 "var_size": "var_size", "epochs": "epochs", "seed": "seed", "restarts": "restarts"}
DEFAULT_EXAMPLES = 2000  # drawn from a program when `examples` is not given
DEFAULT_MAX_LEN = 8


@dataclass
class LearnedProgram:
    """A learned program as RASP: the source, the model it came from, and how it was checked."""

    name: str  # the name the result is bound to in `source`
    source: str  # the .rasp file's text
    learned: Any  # rasp.learning.trainer.Learned: the hard program, accuracies, test inputs
    agreement: float  # fraction of the test inputs on which the RASP program gives the hard model's output
    size_before: dict  # program_size of the hard program: {"lines", "heads"}
    size_after: dict  # program_size of the simplified, decompiled program
    analysis: Any  # rasp.analysis.Analysis of the decompiled program
    origin: str = ""  # where the examples came from: a file, or a program's name
    examples: int = 0
    node: Any = field(default=None, repr=False)  # the decompiled program's s-op (bound by the `learn` statement)
    files: list[str] = field(default_factory=list)

    @property
    def token_accuracy(self) -> float:
        return self.learned.token_accuracy

    @property
    def sequence_accuracy(self) -> float:
        return self.learned.sequence_accuracy

    def save(self, path: str) -> str:
        """Write the RASP program to `path` (.rasp added when it has no extension); returns the path."""
        from pathlib import Path

        target = Path(path) if Path(path).suffix else Path(path + ".rasp")
        try:
            target.write_text(self.source, encoding="utf-8")
        except OSError as error:
            raise LearnError(f"cannot write {target}: {error.strerror or error}") from None
        return str(target)

    def to_json(self) -> dict:
        """{"kind": "learned", "program", "token_accuracy", "sequence_accuracy", "agreement", "layers",
        "heads", "lines", ...}: layers and heads are the decompiled program's analysed ones."""
        settings = self.learned.settings
        return {
            "kind": "learned", "name": self.name, "program": self.source,
            "token_accuracy": float(self.token_accuracy), "sequence_accuracy": float(self.sequence_accuracy),
            "train_accuracy": float(self.learned.train_accuracy), "agreement": float(self.agreement),
            "layers": self.analysis.layers, "heads": list(self.analysis.heads), "lines": self.size_after["lines"],
            "size_before": dict(self.size_before), "size_after": dict(self.size_after),
            "trained": {"layers": settings.layers, "categorical_heads": settings.categorical_heads,
                        "counting_heads": settings.counting_heads, "mlps": settings.mlps},
            "examples": self.examples, "test_inputs": len(self.learned.test_inputs), "origin": self.origin,
            "seconds": float(self.learned.seconds), "files": list(self.files),
        }

    def __repr__(self) -> str:
        from .report import learned_text

        return learned_text(self.to_json())

    def _repr_html_(self) -> str:
        from .report import learned_html

        return learned_html(self.to_json())


def learn(inputs: list[list], outputs: list[list], settings: Any, name: str = "learned",
          progress: Callable | None = None) -> LearnedProgram:
    """Learn a program from examples, decompile it into RASP bound to `name`, check and analyse it.

    settings is a rasp.learning.trainer.LearnSettings. The RASP program is loaded in a fresh
    session and compared with the hard model on the held-out test inputs (`agreement`; below
    1.0 is a bug of the decompiler, never of the data)."""
    from ..training import require_jax

    require_jax()
    from .decompile import agreement, decompile
    from .simplify import program_size, simplify
    from .trainer import learn_examples

    learned = learn_examples(inputs, outputs, settings, progress)
    source = decompile(simplify(learned.program), name)
    agreed = agreement(learned.program, source, learned.test_inputs, name)
    node, analysis = analyse_source(source, name)
    return LearnedProgram(name, source, learned, agreed, program_size(learned.program), program_size(source),
                          analysis, examples=len(inputs), node=node)


def analyse_source(source: str, name: str) -> tuple[Any, Any]:
    """The s-op `name` of a decompiled program (run in a fresh session) and its analysis."""
    from ..analysis import analyse
    from ..interpreter import Session

    session = Session()
    try:
        session.run(source, f"<learned {name}>")
        node = session[name]
    except (RaspError, KeyError) as error:
        message = error.message if isinstance(error, RaspError) else f"it binds no `{name}`"
        raise LearnError(f"the decompiled program does not run: {message}",
                         hint="this is a bug in rasp's decompiler; please report it") from None
    return node, analyse(node, name)


def settings_for(options: dict) -> Any:
    """A LearnSettings from the faces' option names (layers, heads, counting, ...)."""
    from ..training import require_jax

    require_jax()  # before the trainer's `import jax`: a missing extra is a clear error
    from .trainer import LearnSettings

    fields = {f.name for f in dataclasses.fields(LearnSettings)}
    chosen = {}
    for word, value in options.items():
        target = SETTING_NAMES.get(word, word)
        if target not in fields:
            raise LearnError(f"learn has no option {word!r}",
                             hint="options: " + ", ".join(sorted(SETTING_NAMES)))
        chosen[target] = value
    return LearnSettings(**chosen)


def examples_for(data: Any, name: str | None, *, vocab: Any = None, min_len: int = 1, max_len: int | None = None,
                 examples: int | None = None, seed: int = 0, text: str | None = None) -> Examples:
    """The examples of `data`: a JSON Lines file's path (its `text`, if read already), or an s-op whose
    outputs on drawn inputs are learned (vocab needed; max_len, examples have defaults)."""
    if isinstance(data, str):
        if examples is not None or min_len != 1:
            given = "examples" if examples is not None else "min_len"
            raise LearnError(f"`{given}` is for examples drawn from a program; a file's examples are its lines")
        found = read_examples(data, text)
        check_fits(found, None if vocab is None else tuple(vocab), max_len)
        return found
    if vocab is None:
        raise LearnError("learning from a program needs vocab", hint='e.g. vocab "abc"')
    found = program_examples(data, name or "program", tuple(vocab), min_len=min_len,
                             max_len=DEFAULT_MAX_LEN if max_len is None else max_len,
                             examples=DEFAULT_EXAMPLES if examples is None else examples, seed=seed)
    check_fits(found)
    return found


def learn_from(data: Any, *, name: str = "learned", program_name: str | None = None, vocab: Any = None,
               min_len: int = 1, max_len: int | None = None, examples: int | None = None, save: str | None = None,
               progress: Callable | None = None, text: str | None = None, **options: Any) -> LearnedProgram:
    """The faces' entry point: examples of `data` (see examples_for), options by the statement's names
    (layers, heads, counting, mlps, var_size, epochs, seed, restarts); save="FILE.rasp" writes the program."""
    found = examples_for(data, program_name, vocab=vocab, min_len=min_len, max_len=max_len, examples=examples,
                         seed=options.get("seed", 0), text=text)
    return _learned(found, name, save, progress, options)


def _learned(found: Examples, name: str, save: str | None, progress: Callable | None, options: dict) -> LearnedProgram:
    if save is not None:
        _check_writable(save)  # before the training, not after it
    result = learn(found.inputs, found.outputs, settings_for(options), name, progress)
    result.origin = found.origin
    if save is not None:
        result.files = [result.save(save)]
    return result


def learn_lists(inputs: list, outputs: list, *, name: str = "learned", save: str | None = None,
                progress: Callable | None = None, vocab: Any = None, max_len: int | None = None,
                **options: Any) -> LearnedProgram:
    """learn_from for examples given as Python lists (rasp.learn(inputs, outputs)), checked as a file's are."""
    found = list_examples(list(inputs), list(outputs))
    check_fits(found, None if vocab is None else tuple(vocab), max_len)
    return _learned(found, name, save, progress, options)


def _check_writable(path: str) -> None:
    from pathlib import Path

    folder = Path(path).expanduser().parent
    if not folder.is_dir():
        raise LearnError(f"cannot save to {path}: the folder {folder} does not exist")
