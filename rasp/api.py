"""The Python API: RASP from scripts and notebooks.

    import rasp
    session = rasp.Session()                  # the standard library loaded; Session(stdlib=False)
    session.run('hist = selector_width(select(tokens, tokens, ==));')
    session["hist"]("hello")                  # EvaluatedSOp: .values [1, 1, 2, 2, 1], .type "ints"
    session["count"](session["tokens"], "l")  # RASP functions are callable too
    rasp.analyse(session["hist"])             # layers and heads
    model = rasp.compile(session["hist"])     # a transformer (max_len and vocab from the example)
    model.run(["hello"]), model.verification  # its outputs; how it compared with the interpreter

`rasp.Session` is rasp.interpreter.Session with a Python face: `run` raises the
first error as a RaspError (with its position) unless `check=False`, and
`session[name]` returns s-ops and selectors as `Bound` values that can be
applied to inputs from Python. The raw graph node is `session[name].node`, and
`session.globals.lookup(name)` gives the value exactly as the interpreter holds it.
Results render as text (`repr`) and as HTML in notebooks (`_repr_html_`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import fields
from typing import Any

from . import interpreter
from .analysis import Analysis
from .analysis import analyse as analyse_node
from .builtins import BuiltinFunction
from .compiler import compile_program
from .display import DisplayOptions, format_result
from .errors import RaspError, RaspRecursionError, RaspTypeError
from .parser import parse_expression
from .results import EvaluatedSelector, EvaluatedSOp, Problem, Result
from .values import PRIMITIVES, Lazy, SOp, type_name

__all__ = [
    "Bound", "BoundFunction", "Results", "Session", "ShownAnalysis", "analyse", "check_raspl", "compile", "load_model",
]

_CALL_FILE = "<python>"


class Results(list):
    """The results of Session.run: a list, shown as the REPL would show them (and as HTML in notebooks)."""

    def __init__(self, results: Iterable[Result] = (), sources: dict[str, str] | None = None):
        super().__init__(results)
        self.sources = sources if sources is not None else {}

    def __repr__(self) -> str:
        options = DisplayOptions(sources=self.sources)
        return "\n".join(text for text in (format_result(r, options) for r in self) if text)

    def _repr_html_(self) -> str:
        from .html import results_html

        return results_html(self)

    @property
    def problems(self) -> list[Problem]:
        """The errors and warnings among the results."""
        return [r for r in self if isinstance(r, Problem)]


class Session(interpreter.Session):
    """A RASP session for Python: the standard library (unless stdlib=False), your bindings, the running example."""

    def run(self, source: str, filename: str = "<input>", *, check: bool = True) -> Results:
        """Run every statement of `source` and return what they show.

        With check (the default) the first error is raised as a RaspError, whose
        `.span` is its position, and the statements after it do not run; warnings
        (an s-op that fails on the running example) never raise. With check=False
        every statement runs and errors are returned as Problem results, as in the REPL.
        """
        results = Results(sources=self.sources)
        for result in self.run_iter(source, filename):
            if check and isinstance(result, Problem) and not result.warning:
                raise result.error
            results.append(result)
        return results

    def __getitem__(self, name: str) -> Any:
        """The value bound to `name`, ready for Python: s-ops, selectors and functions are callable."""
        return to_python(super().__getitem__(name), self, name)

    def __contains__(self, name: str) -> bool:
        try:
            super().__getitem__(name)
        except KeyError:
            return False
        return True

    def apply(self, node: Any, example: Any, name: str | None = None) -> EvaluatedSOp | EvaluatedSelector:
        """Evaluate an s-op or selector (a Bound value or a graph node) on one input."""
        if isinstance(node, Bound):
            name = name or node.name
        return super().apply(to_rasp(node), to_rasp(example), name)

    def evaluate(self, target: Any, inputs: Iterable[Any]) -> list:
        """Evaluate `target` (a bound name, a Bound value or a graph node) on every input, as a batch.

        One result per input, in order: an EvaluatedSOp/EvaluatedSelector, or a
        Problem naming the input for an input that fails (the others still get
        their values). See rasp.interpreter.Session.evaluate.
        """
        if isinstance(target, Bound):
            target = target.name if self._binds(target.name, target.node) else target.node
        return super().evaluate(target, [to_rasp(x) for x in inputs])

    def _binds(self, name: str, node: Lazy) -> bool:
        """Whether `name` is bound to `node` (so results can carry the name the user asked for)."""
        try:
            return self.globals.lookup(name) is node
        except KeyError:
            return False


class Bound:
    """An s-op or selector of a session: call it on an input to evaluate it.

    `bound("abc")` returns an EvaluatedSOp (`.values`, Python atoms, and `.type`)
    or an EvaluatedSelector (`.matrix`, an n×n NumPy bool array, rows are queries).
    A failure raises a RaspError positioned at the s-op's definition.
    Other attributes are the graph node's (`.node`).
    """

    def __init__(self, node: Lazy, session: Session, name: str | None = None):
        self.node = node
        self.session = session
        self.name = name or node.name

    def __call__(self, example: Any) -> EvaluatedSOp | EvaluatedSelector:
        try:
            return self.session.apply(self.node, example, self.name)
        except RaspError as error:
            error.at(self.node.origin)
            raise
        except RecursionError:
            raise RaspRecursionError("nesting too deep (recursion limit reached)", self.node.origin) from None

    def evaluate(self, inputs: Iterable[Any]) -> list:
        """The value on each of several inputs, as a batch (Session.evaluate)."""
        return self.session.evaluate(self.node, inputs)

    def analyse(self) -> Any:
        """Layers, attention heads and MLP nodes (rasp.analyse)."""
        return analyse(self)

    @property
    def kind(self) -> str:
        return self.node.kind  # "s-op" or "selector"

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__") or attribute in ("node", "session"):
            raise AttributeError(attribute)
        return getattr(self.node, attribute)

    def __repr__(self) -> str:
        return f"<{self.kind} {self.name}>"

    def _repr_html_(self) -> str | None:
        """Jupyter: the value on the session's running example (None, so the repr, when that fails)."""
        example = self.session.sop_example if self.kind == "s-op" else self.session.selector_example
        try:
            return self(example)._repr_html_()
        except RaspError:
            return None


class BoundFunction:
    """A RASP function (a `def` or a built-in like selector_width) callable from Python.

    Arguments may be Bound values, atoms, lists and dicts; the result comes back
    ready for Python (an s-op result is a Bound value).
    """

    def __init__(self, function: Any, session: Session, name: str | None = None):
        self.function = function
        self.session = session
        self.name = name or function.name

    @property
    def params(self) -> list[str]:
        return list(self.function.params)

    def __call__(self, *args: Any) -> Any:
        names = [_argument_name(a, i) for i, a in enumerate(args)]
        source = f"_function({', '.join(_literal(a) or n for n, a in zip(names, args, strict=True))})"
        scope = interpreter.Env(self.session.globals, f"the Python call of {self.name}")
        scope.vars["_function"] = self.function
        scope.vars.update(zip(names, (to_rasp(a) for a in args), strict=True))
        self.session.sources[_CALL_FILE] = source
        try:
            value = self.session.eval(parse_expression(source, _CALL_FILE), scope)
        except RecursionError:
            raise RaspRecursionError(f"nesting too deep in the call of `{self.name}`") from None
        return to_python(value, self.session)

    def __repr__(self) -> str:
        return f"<function {self.name}({', '.join(self.params)})>"


def _argument_name(arg: Any, position: int) -> str:
    """The name an argument has in the call's source: a session value's own name where it is
    a plain name (`sort_by_frequency(tokens, "-")` names its result so), else `_arg0`, ..."""
    name = getattr(arg, "name", None) if isinstance(arg, Bound) else None
    if name and name.isidentifier() and (name not in interpreter.RESERVED or name in PRIMITIVES):
        return name
    return f"_arg{position}"


def _literal(arg: Any) -> str | None:
    """A number, bool or plain string argument as RASP source text (None for other values)."""
    if isinstance(arg, bool):
        return str(arg)
    if isinstance(arg, int) and abs(arg) < 10**18 or isinstance(arg, float) and math.isfinite(arg):
        text = repr(arg)
        return None if "e" in text else text if arg >= 0 else f"({text})"
    if isinstance(arg, str) and arg.isprintable() and '"' not in arg and "\\" not in arg:
        return f'"{arg}"'
    return None


def to_python(value: Any, session: Session, name: str | None = None) -> Any:
    """A RASP value made usable from Python (s-ops, selectors and functions callable)."""
    if isinstance(value, Lazy):
        return Bound(value, session, name)
    if isinstance(value, (interpreter.Function, BuiltinFunction)):
        return BoundFunction(value, session, name)
    if isinstance(value, interpreter.Applied):
        return value.shown
    if isinstance(value, list):
        return [to_python(v, session) for v in value]
    if isinstance(value, dict):
        return {k: to_python(v, session) for k, v in value.items()}
    return value


_PLAIN_ATOMS = frozenset((str, int, float, bool))


def to_rasp(value: Any) -> Any:
    """A Python value as RASP holds it: Bound values unwrapped, tuples and NumPy arrays as lists."""
    if isinstance(value, Bound):
        return value.node
    if isinstance(value, BoundFunction):
        return value.function
    if isinstance(value, (list, tuple)):
        if set(map(type, value)) <= _PLAIN_ATOMS:  # the common input: a list of atoms, nothing to unwrap
            return list(value)
        return [to_rasp(v) for v in value]
    if isinstance(value, dict):
        return {to_rasp(k): to_rasp(v) for k, v in value.items()}
    if hasattr(value, "tolist") and callable(value.tolist):  # NumPy arrays and scalars
        return value.tolist()
    return value


class ShownAnalysis(Analysis):
    """An Analysis (rasp.analysis) that shows itself as a per-layer table: text, and HTML in notebooks."""

    def __repr__(self) -> str:
        from .display import format_analysis

        return format_analysis(self)

    def _repr_html_(self) -> str:
        from .html import analysis_html

        return analysis_html(self)


def analyse(value: Any, name: str | None = None) -> ShownAnalysis:
    """Layers, attention heads and MLP nodes of an s-op or selector (rasp.analysis.analyse).

    `value` is a Bound value (`session["hist"]`) or a graph node. The result is a
    rasp.analysis.Analysis (`.layers`, `.heads`, `.mlps`, `.detail`, `.to_json()`)
    that shows as a per-layer table in notebooks.
    """
    if isinstance(value, Bound):
        name = name or value.name
        value = value.node
    if not isinstance(value, Lazy):
        raise RaspTypeError(f"analyse needs an s-op or a selector, got {type_name(value)}")
    analysis = analyse_node(value, name)
    return ShownAnalysis(**{f.name: getattr(analysis, f.name) for f in fields(analysis) if f.init})


def check_raspl(value: Any, name: str | None = None, causal: bool | None = None) -> Any:
    """Is an s-op's computation RASP-L (docs/raspl.md)? A rasp.raspl.RaspLReport: `.ok`, `.violations`
    (each with `.message` and `.span`), `.prefix_consistent`. causal defaults to the session's mode."""
    from .raspl import check_raspl as check

    node = value.node if isinstance(value, Bound) else value
    if not isinstance(node, SOp):
        raise RaspTypeError(f"check_raspl needs an s-op, got {type_name(node)}")
    if isinstance(value, Bound):
        mode = value.session.causal if causal is None else causal
        return check(node, name or value.name, causal=mode, example=value.session.sop_example)
    return check(node, name, causal=bool(causal))


def compile(value: Any, max_len: int | None = None, vocab: Any = None, check: int = 1000,
            save: str | None = None, verify: str | None = None) -> Any:
    """Compile an s-op into a transformer (rasp.compiler.transformer.Transformer) and verify it.

    `value` is a Bound s-op (`session["sort"]`) or a graph node. max_len and vocab
    (a list of atoms, or a string: its characters) default, for a Bound value, to
    the length and the distinct tokens of its session's running example; for a bare
    node they are required. The model is verified against the interpreter on every
    input up to a small length and on `check` random inputs; the outcome is its
    `.verification` (rasp.compiler.verify.Verification: `.checked`, `.mismatches`, ...).
    save="PATH" writes the model in the format of its extension (none or .npz: PATH.npz and
    PATH.json; .safetensors; .onnx -- docs/export.md); verify="onnx" also runs the ONNX graph in
    ONNX Runtime against the interpreter (the outcome is the model's `.onnx_verification`).
    A program the compiler cannot handle raises a rasp.compiler.construct.CompileError (a
    RaspError) naming the node and the reason.
    """
    node = value.node if isinstance(value, Bound) else value
    if not isinstance(node, SOp):
        raise RaspTypeError(f"compile needs an s-op, got {type_name(node)}")
    vocab = None if vocab is None else to_rasp(vocab)
    if isinstance(value, Bound):
        compiled = value.session.compile_model(node, value.name, max_len=max_len, vocab=vocab, check=check, save=save,
                                               verify_with=verify)
    elif max_len is None or vocab is None:
        raise RaspTypeError("compile needs max_len and vocab for a graph node (a Bound value has defaults)",
                            hint='e.g. rasp.compile(node, max_len=5, vocab="abc"), or pass session["name"]')
    else:
        compiled = compile_program(node, max_len=max_len, vocab=vocab, check=check, save=save, verify_with=verify)
    model = compiled.model
    model.files = compiled.files
    model.onnx_verification = compiled.onnx_verification
    return model


def load_model(path: str) -> Any:
    """A compiled transformer (rasp.compiler.transformer.Transformer) read back from a file `save` wrote:
    .npz (with its .json), .safetensors or .onnx (docs/export.md). It runs (`model.run([...])`) and
    verifies against a program (`rasp.compiler.verify.verify(model, node)`: outputs only, since the
    file holds no selectors). Raises rasp.compiler.export.ExportError (a RaspError) for a file it cannot read."""
    from .compiler.export import load_model as load  # onnx and safetensors only when asked for

    return load(str(path))


def train(value: Any, *, vocab: Any = None, max_len: int | None = None, min_len: int = 1, bos: bool = False,
          progress: Any = None, save: str | None = None, **settings: Any) -> Any:
    """Train a transformer on an s-op (docs/training.md); needs pip install "rasp[train]".

    vocab defaults, for a Bound value, to the distinct tokens of its session's running example;
    settings are rasp.training.trainer.Settings's fields (layers, heads, d_model, epochs, examples,
    supervise, variant, seed, lr, ...). Returns a rasp.training.trainer.Trained: .token_accuracy,
    .sequence_accuracy, .heads_matched, .params, .predict(inputs), .attention(input), .save(path),
    Trained.load(path)."""
    from .training.run import default_vocab
    from .training.run import train as run

    node = value.node if isinstance(value, Bound) else value
    name = value.name if isinstance(value, Bound) else getattr(node, "name", "program")
    if vocab is None:
        if not isinstance(value, Bound):
            raise RaspTypeError("train needs vocab for a graph node (a Bound value has a default)",
                                hint='e.g. rasp.train(node, vocab="abc")')
        vocab = default_vocab(value.session.sop_example)
    vocab = to_rasp(vocab) if not isinstance(vocab, (str, list, tuple)) else vocab
    given = {"vocab": vocab, "max_len": max_len, "min_len": min_len, "bos": bos, "save": save, **settings}
    try:
        return run(node, name, vocab=vocab, max_len=max_len, min_len=min_len, bos=bos, progress=progress, save=save,
                   **settings)
    except RaspError as error:
        raise _naming_argument(error, given, node) from None


def _naming_argument(error: RaspError, given: dict, node: Any) -> RaspError:
    """The error with the argument at fault in front: `rasp.train(epochs=0): epochs must be ...`
    (the statement's errors point at the option's position instead; docs/training.md, 'Errors')."""
    from .training.run import argument_at_fault

    argument = argument_at_fault(error, given)
    if argument == "value":
        error.message = f"rasp.train(value={type_name(node)}): {error.message}"
    elif argument is not None:
        shown = given[argument]
        error.message = f"rasp.train({argument}={shown!r}): {error.message}"
    return error


def learn(data: Any, outputs: Any = None, *, vocab: Any = None, max_len: int | None = None, min_len: int = 1,
          examples: int | None = None, name: str = "learned", save: str | None = None, progress: Any = None,
          **options: Any) -> Any:
    """Learn a program from examples and decompile it into RASP (docs/learning.md); needs pip install "rasp[train]".

    data is a JSON Lines file's path (one {"input": [...], "output": [...]} a line), an s-op (a Bound
    value or a graph node: its outputs on `examples` random inputs of `vocab` and lengths
    min_len..max_len), or a list of inputs with their `outputs`. options are the `learn` statement's:
    layers, heads (categorical, per layer), counting (per layer), mlps, var_size, epochs, seed,
    restarts. Returns a rasp.learning.pipeline.LearnedProgram: .source (the RASP text, its result
    bound to `name`), .agreement, .token_accuracy, .sequence_accuracy, .analysis, .learned (the
    hard model), .save(path), .to_json()."""
    from .learning.pipeline import learn_from, learn_lists

    if outputs is not None:
        return learn_lists(data, outputs, name=name, save=save, progress=progress, vocab=vocab, max_len=max_len,
                           **options)
    if isinstance(data, os.PathLike):
        data = os.fspath(data)
    program_name = None
    if not isinstance(data, str):
        program_name = data.name if isinstance(data, Bound) else getattr(data, "name", "program")
        if vocab is None and isinstance(data, Bound):
            from .training.run import default_vocab

            vocab = default_vocab(data.session.sop_example)
        data = data.node if isinstance(data, Bound) else data
        if not isinstance(data, SOp):
            raise RaspTypeError(f"learn needs a data file's path, an s-op or inputs and outputs, got {type_name(data)}")
    vocab = to_rasp(vocab) if vocab is not None and not isinstance(vocab, (str, list, tuple)) else vocab
    return learn_from(data, name=name, program_name=program_name, vocab=vocab, min_len=min_len, max_len=max_len,
                      examples=examples, save=save, progress=progress, **options)
