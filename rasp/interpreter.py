"""Statements and expressions -> values; scopes, functions, `load`.

The interpreter never prints: `Session.run` returns `Result`s (rasp.results)
for the REPL, the command line, notebooks and tests to show as they like.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import syntax as ast
from .builtins import BuiltinFunction, base_bindings
from .compiler import compile_program, compile_vocabulary
from .engine import Evaluation, Seq, causal_mode, evaluate_batch, input_items, power_too_large
from .errors import (
    RaspError,
    RaspInternalError,
    RaspLoadError,
    RaspNameError,
    RaspRecursionError,
    RaspTypeError,
    RaspValueError,
)
from .parser import KEYWORDS, parse_expression, parse_program
from .resources import stdlib_dir, stdlib_file
from .results import (
    EvaluatedSelector,
    EvaluatedSOp,
    ExampleShown,
    ExitRequest,
    FunctionInfo,
    Problem,
    Result,
    Shown,
    Unevaluated,
)
from .stdlib_cache import stdlib_statements
from .syntax import Span
from .values import (
    PRIMITIVES,
    PYTHON_BINARY,
    Aggregate,
    Lazy,
    Map,
    Select,
    Selector,
    SelectorCombination,
    SOp,
    exact_text,
    is_atom,
    next_serial,
    short_text,
    type_name,
)

if TYPE_CHECKING:
    from pathlib import Path

MAX_CALL_DEPTH = 200
DEFAULT_EXAMPLE = "hello"
STDLIB_FILES = ("rasplib.rasp",)
RESERVED = frozenset(PRIMITIVES) | {"True", "False", "out"} | KEYWORDS

_COMMANDS = (ast.SetExample, ast.ShowExample, ast.ToggleExamples, ast.FullSeqDisplay, ast.CausalMode, ast.Exit)

# Deep programs recurse (parser, interpreter). Python 3.11+ keeps Python frames off the C
# stack, so a deep limit is safe there; 3.10 overflows its C stack (a crash, not a
# RecursionError) at about 17,000 frames of the parser, hence a limit well below that.
RECURSION_LIMIT = 20000 if sys.version_info >= (3, 11) else 8000
sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))


class Env:
    """A scope: names bound here, then the enclosing (defining) scope."""

    def __init__(self, parent: Env | None, name: str):
        self.parent = parent
        self.name = name
        self.vars: dict[str, Any] = {}

    def lookup(self, name: str) -> Any:
        env: Env | None = self
        while env is not None:
            if name in env.vars:
                return env.vars[name]
            env = env.parent
        raise KeyError(name)

    def visible_names(self) -> set[str]:
        names: set[str] = set()
        env: Env | None = self
        while env is not None:
            names |= env.vars.keys()
            env = env.parent
        return names


@dataclass(eq=False)
class Function:
    """A RASP `def`: a closure over the scope it was defined in."""

    name: str
    params: list[str]
    body: list[ast.Stmt]
    returns: list[ast.Expr]
    env: Env
    span: Span


@dataclass(eq=False)
class Applied:
    """The value of applying an s-op or selector to an input: `s("abc")`."""

    shown: EvaluatedSOp | EvaluatedSelector

    @property
    def type_text(self) -> str:
        """How messages name it (values.type_name): `an applied s-op length("abc")`."""
        kind = "s-op" if isinstance(self.shown, EvaluatedSOp) else "selector"
        return f"an applied {kind} {self.shown.name}({short_text(self.shown.input)})"

    def __repr__(self) -> str:  # in messages (values.short_text): the values, or the matrix's size
        if isinstance(self.shown, EvaluatedSOp):
            return "[" + ", ".join(exact_text(v) for v in self.shown.values) + "]"
        return f"a {len(self.shown.tokens)}x{len(self.shown.tokens)} matrix"


class _Exit(Exception):
    pass


class Session:
    """A RASP session: the standard library, user bindings, the running example."""

    def __init__(self, stdlib: bool = True, causal: bool = False):
        self.causal = causal  # `causal on` (docs/raspl.md): every selector sees keys at or before its query
        self.base = Env(None, "base")
        self.base.vars.update(base_bindings())
        self.sources: dict[str, str] = {}
        self._loading: list[Path | str] = []  # the files being run (the library's by name: no pathlib)
        self._depth = 0
        if stdlib:
            for name in STDLIB_FILES:
                self._run_stdlib(stdlib_file(name))
        self.library_names = frozenset(self.base.vars) - {"tokens"}
        self.globals = Env(self.base, "top level")
        self.sop_example: Any = DEFAULT_EXAMPLE
        self.train_progress: Callable | None = None  # `learn` calls it with each epoch's figures (docs/learning.md)
        self.selector_example: Any = DEFAULT_EXAMPLE
        self.progress: Callable[[str, int, int], None] | None = None  # a face's (cli, repl) view of long work
        self.sop_examples_on = True
        self.selector_examples_on = True
        self.full_seq_display = False

    # ----------------------------------------------------------- entry points

    def run(self, source: str, filename: str = "<input>") -> list[Result]:
        """Run every statement of `source`; return what they show, in order."""
        return list(self.run_iter(source, filename))

    def run_iter(self, source: str, filename: str = "<input>", first_line: int = 1) -> Iterator[Result]:
        """Like run, yielding each statement's results as soon as it has run.

        first_line numbers the source's first line, for input read in pieces
        (the REPL), so that positions count from the start of the whole input.
        """
        self.sources[filename] = _continued(self.sources.get(filename, ""), source, first_line)
        for statement in parse_program(source, filename, first_line):
            results = self.run_statement(statement)
            yield from results
            if any(isinstance(r, ExitRequest) for r in results):
                return

    def run_statement(self, statement: ast.Stmt, env: Env | None = None) -> list[Result]:
        """Run one top-level statement (in `env`, by default the top level); errors become Problem results."""
        self._depth = 0
        try:
            with causal_mode(self.causal):
                return self._execute_top(statement, env or self.globals)
        except _Exit:
            return [ExitRequest()]
        except RaspError as error:
            return [Problem(error.at(statement.span))]
        except RecursionError:
            return [Problem(RaspRecursionError("nesting too deep (recursion limit reached)", statement.span))]
        except MemoryError:
            too_big = RaspValueError(
                "out of memory: this computation is too large for this machine", statement.span,
                hint="try a shorter input (selectors take n×n cells for an input of length n)",
            )
            return [Problem(too_big)]
        except Exception as error:  # noqa: BLE001 - a bug in rasp: report it, never crash the session
            internal = RaspInternalError(
                f"{type(error).__name__}: {error}",
                statement.span,
                hint="this is a bug in rasp; please report it with the input that caused it",
            )
            internal.__cause__ = error
            return [Problem(internal)]

    def preview(self, source: str, filename: str = "<preview>") -> list[Result] | None:
        """What `source` would show, for one expression statement or assignment, without running it.

        It runs as a statement would, in a scratch scope over the top level that is then
        dropped: nothing is bound, `out` keeps its value, nothing is loaded. None when the
        source is anything else (incomplete, several statements, a def, load or command).
        A missing final `;` is supplied, so text being typed can be previewed.
        """
        text = source.rstrip()
        if not text.endswith(";"):
            text += ";"
        statements = parse_program(text, filename)
        if len(statements) != 1 or not isinstance(statements[0], (ast.ExprStmt, ast.Assign)):
            return None
        self.sources[filename] = text
        return self.run_statement(statements[0], env=Env(self.globals, "preview"))

    def set_example(self, value: Any, subset: str | None = None) -> None:
        """Set the running example (docs/reference.md, 'REPL and script commands') after validating it."""
        input_items(value)
        if subset in (None, "s-op"):
            self.sop_example = value
        if subset in (None, "selector"):
            self.selector_example = value

    def parse_example(self, text: str) -> Any:
        """Evaluate a RASP expression given as text (the CLI's --example)."""
        return self.eval(parse_expression(text, "--example"), self.globals)

    def __getitem__(self, name: str) -> Any:
        return self.globals.lookup(name)

    # ---------------------------------------------------- top-level statements

    def _execute_top(self, stmt: ast.Stmt, env: Env) -> list[Result]:
        """Run a top-level statement; return what it shows."""
        return self._run(stmt, env, top_level=True)

    def _run(self, stmt: ast.Stmt, env: Env, top_level: bool) -> list[Result]:
        """The one statement dispatch: at the top level a statement shows its results;
        inside a function, loop or loaded file the same statement runs and shows nothing."""
        handler = _STATEMENTS.get(type(stmt))
        if handler is None:
            raise RaspError("this statement can only be used at the top level", stmt.span)
        return handler(self, stmt, env, top_level)

    def _run_expression(self, stmt: ast.ExprStmt, env: Env, top_level: bool) -> list[Result]:
        value = self.eval(stmt.expr, env)
        env.vars["out"] = value
        if not top_level:
            return []
        name = _shown_name(stmt.expr, value)
        if isinstance(value, Lazy) and isinstance(stmt.expr, ast.Call):
            name = self._source_text(stmt.expr.span) or name  # the call as written
        return self._show(name, value, stmt.span)

    def _run_assign(self, stmt: ast.Assign, env: Env, top_level: bool) -> list[Result]:
        bound = self._assign(stmt, env, top_level)
        if not top_level:
            return []
        results: list[Result] = []
        for name, value in bound:
            results += self._show(name, value, stmt.span)
        return results

    def _run_def(self, stmt: ast.Def, env: Env, top_level: bool) -> list[Result]:
        function = self._define(stmt, env, top_level)
        return [Shown(stmt.name, FunctionInfo(function.name, function.params))] if top_level else []

    def _run_for(self, stmt: ast.For, env: Env, top_level: bool) -> list[Result]:
        self._for(stmt, env)
        return []

    def _run_load(self, stmt: ast.Load, env: Env, top_level: bool) -> list[Result]:
        """At the top level the loaded file's errors are shown; elsewhere the first is raised."""
        problems = self._load(stmt, env)
        if top_level or not problems:
            return problems
        first = problems[0].error
        if len(problems) > 1:
            first.add_context(stmt.span, f"and {len(problems) - 1} more errors in that file")
        raise first

    def _run_syntax_error(self, stmt: ast.SyntaxErrorStmt, env: Env, top_level: bool) -> list[Result]:
        raise stmt.error

    def _run_analyse_or_draw(self, stmt: ast.Analyse | ast.Draw, env: Env, top_level: bool) -> list[Result]:
        result = self._analyse_or_draw(stmt, env)  # a drawing is written even where nothing is shown
        return [result] if top_level else []

    def _run_compile(self, stmt: ast.Compile, env: Env, top_level: bool) -> list[Result]:
        result = self._compile(stmt, env)  # as analyse: it runs (and saves, if asked) everywhere
        return [result] if top_level else []

    def _run_train(self, stmt: ast.Train, env: Env, top_level: bool) -> list[Result]:
        result = self._train(stmt, env)  # as compile: it runs (and saves, if asked) everywhere
        return [result] if top_level else []

    def _train(self, stmt: ast.Train, env: Env) -> Result:
        """`train EXPR [options]`: a transformer trained on EXPR's outputs (docs/training.md)."""
        from .results import TrainedResult
        from .training.run import default_vocab, train

        value = self.eval(stmt.expr, env)
        name = stmt.expr.name if isinstance(stmt.expr, ast.Name) else self._source_text(stmt.expr.span) or value.name
        options = dict(stmt.options)
        spans = stmt.option_spans
        vocab = default_vocab(self.sop_example)
        if "vocab" in options:
            vocab = self.eval(options.pop("vocab"), env)
            vocab = vocab if isinstance(vocab, (str, list, tuple)) else [vocab]
        if "max_len" not in options and isinstance(self.sop_example, (str, list)):
            options["max_len"] = max(len(self.sop_example), options.get("min_len", 1))
        if options.get("draw"):  # the page shows the running example when the model can read it
            options["draw"] = self.sop_example if _fits(self.sop_example, vocab, options.get("max_len")) else True
        try:
            trained = train(value, name, vocab=vocab, stage=self.progress, **options)  # docs/training.md, 'Progress'
        except RaspError as error:
            raise error.at(_option_span(error, spans) or stmt.expr.span) from None
        return TrainedResult(name, trained, getattr(trained, "files", []))

    def _run_learn(self, stmt: ast.Learn, env: Env, top_level: bool) -> list[Result]:
        result = self._learn(stmt, env)  # as train: it runs (and saves, if asked) everywhere
        return [result] if top_level else []

    def _learn(self, stmt: ast.Learn, env: Env) -> Any:
        """`learn EXPR|"DATA.jsonl" [options]`: a program learned from examples, decompiled into RASP and
        bound to `name` (default `learned`) (docs/learning.md)."""
        from .learning.pipeline import learn_from

        options = dict(stmt.options)
        name = options.pop("name", "learned")
        self._check_bindable(name, stmt.option_spans.get("name", stmt.span), top_level=env is self.globals)
        if "vocab" in options:
            vocab = self.eval(options.pop("vocab"), env)
            options["vocab"] = tuple(vocab) if isinstance(vocab, (str, list, tuple)) else (vocab,)
        try:
            data, more = self._learn_data(stmt, env, options)
            learned = learn_from(data, name=name, progress=self.train_progress, **more, **options)
        except RaspError as error:
            error = error.at(_option_span(error, stmt.option_spans) or stmt.expr.span)
            if error.span is not None and error.span.file != stmt.span.file:
                error.add_context(stmt.span, "in the examples of this `learn`")  # a line of the data file
            raise error from None
        finally:
            getattr(self.train_progress, "finish", lambda: None)()  # the face's progress line is wiped
        _bind(env, name, learned.node)
        return learned

    def _learn_data(self, stmt: ast.Learn, env: Env, options: dict) -> tuple[Any, dict]:
        """`learn`'s data: a file's path and text (kept for carets under a bad line), or an s-op, its name,
        and the running example's tokens and length as the default vocab and max_len."""
        from .learning.examples import read_text
        from .training.run import default_vocab

        value = self.eval(stmt.expr, env)
        if isinstance(value, str):
            text = read_text(value)
            self.sources[value] = text
            return value, {"text": text}
        if not isinstance(value, SOp):
            raise RaspTypeError(f"learn needs an s-op or a data file's name, got {type_name(value)}", stmt.expr.span,
                                hint='e.g. learn "examples.jsonl", or learn hist vocab "abc" max_len 5')
        options.setdefault("vocab", default_vocab(self.sop_example))
        if "max_len" not in options and isinstance(self.sop_example, (str, list)):
            options["max_len"] = max(len(self.sop_example), options.get("min_len", 1))
        name = stmt.expr.name if isinstance(stmt.expr, ast.Name) else self._source_text(stmt.expr.span) or value.name
        return value, {"program_name": name}

    def _run_raspl(self, stmt: ast.CheckRaspL, env: Env, top_level: bool) -> list[Result]:
        result = self._check_raspl(stmt, env)  # as analyse: nothing is shown below the top level
        return [result] if top_level else []

    def _run_command(self, stmt: ast.Stmt, env: Env, top_level: bool) -> list[Result]:
        results = self._command(stmt, env)  # settings made in a loaded file hold for the session
        return results if top_level else []

    def _command(self, stmt: ast.Stmt, env: Env) -> list[Result]:
        if isinstance(stmt, ast.SetExample):
            value = self.eval(stmt.expr, env)
            try:
                self.set_example(value, stmt.subset)
            except RaspError as error:
                error.at(stmt.expr.span)
                raise
            return []
        if isinstance(stmt, ast.ShowExample):
            return [ExampleShown(self.sop_example, self.selector_example, stmt.subset)]
        if isinstance(stmt, ast.ToggleExamples):
            if stmt.subset in (None, "s-op"):
                self.sop_examples_on = stmt.on
            if stmt.subset in (None, "selector"):
                self.selector_examples_on = stmt.on
            return []
        if isinstance(stmt, ast.FullSeqDisplay):
            self.full_seq_display = stmt.on
            return []
        if isinstance(stmt, ast.CausalMode):
            self.causal = stmt.on
            return []
        raise _Exit()

    def _show(self, name: str, value: Any, span: Span) -> list[Result]:
        """The results that show `value` under `name` (evaluated on the example).

        A lazy value that fails on the running example shows only the warning.
        """
        warnings: list[Result] = []
        shown = self._shown_value(name, value, span, warnings)
        if isinstance(value, Lazy) and warnings:
            return warnings
        return [Shown(name, shown), *warnings]

    def _shown_value(self, name: str | None, value: Any, span: Span, warnings: list) -> Any:
        """value made showable; `name` is its binding's name (None inside lists and dicts)."""
        if isinstance(value, Lazy):
            label = name or value.name
            on = self.sop_examples_on if isinstance(value, SOp) else self.selector_examples_on
            example = self.sop_example if isinstance(value, SOp) else self.selector_example
            if not on:
                return Unevaluated(value.kind, label)
            try:
                return self.apply(value, example, label)
            except RaspError as error:
                _word_evaluation_warning(error, label, example)
                warnings.append(Problem(error.at(span), warning=True))
                return Unevaluated(value.kind, label)
        if isinstance(value, Applied):
            return value.shown
        if isinstance(value, list):
            return [self._shown_value(None, v, span, warnings) for v in value]
        if isinstance(value, dict):
            return {k: self._shown_value(None, v, span, warnings) for k, v in value.items()}
        if isinstance(value, Function):
            return FunctionInfo(value.name, value.params)
        if isinstance(value, BuiltinFunction):
            return FunctionInfo(value.name, value.params, builtin=True)
        return value

    def apply(self, node: Lazy, example: Any, name: str | None = None) -> EvaluatedSOp | EvaluatedSelector:
        """Evaluate an s-op or selector on an input."""
        items = input_items(example)
        with causal_mode(self.causal):
            value = Evaluation(items).value(node)
        label = name or node.name
        if isinstance(value, Seq):
            return EvaluatedSOp(label, example, items, value.to_list(), value.type)
        return EvaluatedSelector(label, example, items, np.array(value, dtype=bool))

    def evaluate(self, target: str | Lazy, inputs: list) -> list[EvaluatedSOp | EvaluatedSelector | Problem]:
        """Evaluate a bound name or an s-op/selector on many inputs at once (batched by length).

        One result per input, in order: an EvaluatedSOp/EvaluatedSelector as `apply`
        gives, or a Problem whose message names the input ("input 3: ...") for an
        input that fails; the other inputs still get their values.
        """
        node, label = self._evaluation_target(target)
        results: list[EvaluatedSOp | EvaluatedSelector | Problem] = []
        with causal_mode(self.causal):
            evaluated = evaluate_batch(node, list(inputs))
        for example, (items, value) in zip(inputs, evaluated, strict=True):
            if isinstance(value, RaspError):
                results.append(Problem(value))
            elif isinstance(value, Seq):
                results.append(EvaluatedSOp(label, example, items, value.to_list(), value.type))
            else:
                results.append(EvaluatedSelector(label, example, items, np.array(value, dtype=bool)))
        return results

    def _evaluation_target(self, target: str | Lazy) -> tuple[Lazy, str]:
        if isinstance(target, Lazy):
            return target, target.name
        try:
            value = self.globals.lookup(target)
        except KeyError:
            raise RaspNameError(f"`{target}` is not defined") from None
        if not isinstance(value, Lazy):
            raise RaspTypeError(
                f"`{target}` is {type_name(value)}, not an s-op or selector: there is nothing to evaluate"
            )
        return value, target

    def _analyse_or_draw(self, stmt: ast.Analyse | ast.Draw, env: Env) -> Result:
        """`analyse EXPR` (layers and heads) or `draw(e [, input]);` (a picture under rasp_draw/).

        docs/reference.md, 'Analysis: layers and heads' and 'draw'.
        """
        from .analysis import analyse  # imported here: only these statements need them
        from .draw import draw
        from .results import Analysed, Drawn

        value = self.eval(stmt.expr, env)
        what = "analyse" if isinstance(stmt, ast.Analyse) else "draw"
        if not isinstance(value, Lazy):
            raise RaspTypeError(f"{what} needs an s-op or a selector, got {type_name(value)}", stmt.expr.span)
        name = stmt.expr.name if isinstance(stmt.expr, ast.Name) else value.name
        if isinstance(stmt, ast.Analyse):
            return Analysed(name, analyse(value, name))
        if stmt.input is not None:
            example = self.eval(stmt.input, env)
        else:
            example = self.sop_example if isinstance(value, SOp) else self.selector_example
        try:
            input_items(example)
        except RaspError as error:
            error.at(stmt.input.span if stmt.input is not None else stmt.span)
            raise
        drawing = draw(value, example, name)
        return Drawn(name, str(drawing.path), example, drawing.layers, str(drawing.dot_path))

    def _check_raspl(self, stmt: ast.CheckRaspL, env: Env) -> Result:
        """`raspl EXPR` (docs/raspl.md, 'The checker'): the RASP-L rules EXPR breaks, with their positions."""
        from .raspl import check_raspl  # imported here: only this statement needs it

        value = self.eval(stmt.expr, env)
        if not isinstance(value, SOp):
            raise RaspTypeError(f"raspl needs an s-op, got {type_name(value)}", stmt.expr.span)
        name = stmt.expr.name if isinstance(stmt.expr, ast.Name) else self._source_text(stmt.expr.span) or value.name
        return check_raspl(value, name, causal=self.causal, example=self.sop_example)

    def _compile(self, stmt: ast.Compile, env: Env) -> Result:
        """`compile EXPR [max_len N] [vocab E] [random N] [save "FILE"]`: a transformer, verified.

        docs/reference.md, 'compile'.
        """
        value = self.eval(stmt.expr, env)
        if not isinstance(value, SOp):
            raise RaspTypeError(f"compile needs an s-op, got {type_name(value)}", stmt.expr.span)
        name = stmt.expr.name if isinstance(stmt.expr, ast.Name) else self._source_text(stmt.expr.span) or value.name
        vocab = None
        if stmt.vocab is not None:
            try:
                vocab = compile_vocabulary(self.eval(stmt.vocab, env))
            except RaspError as error:
                error.at(stmt.vocab.span)
                raise
        spans = {"expr": stmt.expr.span, **stmt.option_spans}
        return self.compile_model(value, name, max_len=stmt.max_len, vocab=vocab, check=stmt.check,
                                  save=stmt.save, spans=spans, verify_with=stmt.verify)

    def _source_text(self, span: Span) -> str | None:
        """The text of a one-line span of a source this session ran (None if it is not at hand)."""
        source = self.sources.get(span.file)
        if source is None or span.line != span.end_line:
            return None
        lines = source.splitlines()
        if span.line > len(lines):
            return None
        text = lines[span.line - 1][span.column - 1:span.end_column - 1].strip()
        return text if 0 < len(text) <= 60 else None

    def compile_model(self, node: SOp, name: str | None = None, *, max_len: int | None = None,
                      vocab: list | None = None, check: int | None = None, save: str | None = None,
                      spans: dict[str, Span] | None = None, verify_with: str | None = None) -> Result:
        """compile_program with max_len and vocab defaulting to the running s-op example's
        length and distinct tokens (in order of first appearance). In causal mode the model has a
        causal attention mask (docs/raspl.md, 'Causal mode')."""
        example = input_items(self.sop_example)
        with causal_mode(self.causal):
            compiled = compile_program(node, name, max_len=len(example) if max_len is None else max_len,
                                       vocab=example if vocab is None else vocab, check=check, save=save,
                                       spans=spans, verify_with=verify_with, progress=self.progress)
        compiled.from_example = [option for option, given in (("vocab", vocab), ("max_len", max_len)) if given is None]
        compiled.example = self.sop_example
        return compiled

    # -------------------------------------------------------------- statements

    def execute(self, stmt: ast.Stmt, env: Env) -> None:
        """Run a statement inside a function, loop or loaded file (shows nothing)."""
        self._run(stmt, env, top_level=False)

    def _check_bindable(self, name: str, span: Span, top_level: bool) -> None:
        if name in KEYWORDS:
            raise RaspNameError(f"`{name}` is a keyword and cannot be assigned", span)
        if name in RESERVED or (top_level and name in self.library_names):
            what = "the name of a library function or value" if name in self.library_names else "built in"
            raise RaspNameError(
                f"`{name}` is reserved ({what}) and cannot be assigned at the top level",
                span,
                hint=f"choose another name, e.g. `my_{name}`",
            )

    def _assign(self, stmt: ast.Assign, env: Env, top_level: bool) -> list[tuple[str, Any]]:
        values = [self.eval(e, env) for e in stmt.values]
        names = stmt.names
        if len(values) == 1 and len(names) > 1:
            values = self._destructure(values[0], len(names), stmt.values[0].span)
        elif len(values) > 1 and len(names) == 1:
            values = [values]
        elif len(values) != len(names):
            raise RaspValueError(
                f"{len(names)} names but {len(values)} values in the assignment", stmt.span
            )
        for name in names:
            self._check_bindable(name, stmt.span, top_level)
        for name, value in zip(names, values, strict=True):
            _bind(env, name, value)
        return list(zip(names, values, strict=True))

    def _destructure(self, value: Any, count: int, span: Span) -> list:
        if isinstance(value, (list, str)):
            items = list(value)
        elif isinstance(value, dict):
            items = list(value.keys())
        else:
            raise RaspTypeError(f"cannot unpack {type_name(value)} into {count} names", span)
        if len(items) != count:
            raise RaspValueError(f"cannot unpack {len(items)} values into {count} names", span)
        return items

    def _define(self, stmt: ast.Def, env: Env, top_level: bool) -> Function:
        self._check_bindable(stmt.name, stmt.span, top_level)
        if len(set(stmt.params)) != len(stmt.params):
            raise RaspNameError(f"`{stmt.name}` has a repeated parameter name", stmt.span)
        function = Function(stmt.name, stmt.params, stmt.body, stmt.returns, env, stmt.span)
        env.vars[stmt.name] = function
        return function

    def _for(self, stmt: ast.For, env: Env) -> None:
        iterable = self.eval(stmt.iterable, env)
        for item in self._iterate(iterable, stmt.iterable.span, "for"):
            self._bind_iteration(env, stmt.names, item, stmt.span)
            for inner in stmt.body:
                self.execute(inner, env)

    def _iterate(self, value: Any, span: Span, what: str) -> list:
        if isinstance(value, list):
            return list(value)
        if isinstance(value, dict):
            return list(value.keys())
        raise RaspTypeError(f"a {what} loop needs a list or dict to iterate over, got {type_name(value)}", span)

    def _bind_iteration(self, env: Env, names: list[str], item: Any, span: Span) -> None:
        if len(names) == 1:
            env.vars[names[0]] = item
            return
        for name, value in zip(names, self._destructure(item, len(names), span), strict=True):
            env.vars[name] = value

    # ------------------------------------------------------------------- load

    def _load(self, stmt: ast.Load, env: Env) -> list[Result]:
        path = self._find_file(stmt.path, stmt.span)
        if path in self._loading:
            chain = " -> ".join(os.path.basename(p) for p in [*self._loading, path])
            raise RaspLoadError(f"load cycle: {chain}", stmt.span)
        try:
            source = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise RaspLoadError(
                f"{path} is not a UTF-8 text file (byte {error.object[error.start]:#04x} at offset {error.start})",
                stmt.span,
            ) from None
        except OSError as error:
            raise RaspLoadError(f"cannot read {path}: {error.strerror or error}", stmt.span) from None
        file_env = Env(self.base, str(path))
        problems = self._run_file(path, source, file_env)
        for name, value in file_env.vars.items():
            if not name.startswith("_"):
                env.vars[name] = value
        for problem in problems:
            problem.error.add_context(stmt.span, f'in the file loaded by `load "{stmt.path}"`')
        return problems

    def _run_file(self, path: Path | str, source: str, env: Env, statements: list | None = None) -> list[Problem]:
        """Run a file's statements in `env`; return the errors (the rest still runs)."""
        filename = str(path)
        self.sources[filename] = source
        self._loading.append(path)
        problems: list[Problem] = []
        try:
            for statement in parse_program(source, filename) if statements is None else statements:
                try:
                    self.execute(statement, env)
                except RaspError as error:
                    problems.append(Problem(error.at(statement.span)))
                except RecursionError:
                    problems.append(Problem(RaspRecursionError("nesting too deep", statement.span)))
        finally:
            self._loading.pop()
        return problems

    def _run_stdlib(self, path: str) -> None:
        with open(path, encoding="utf-8") as file:
            source = file.read()
        problems = self._run_file(path, source, self.base, stdlib_statements(path, source))
        if problems:
            raise RaspInternalError(f"the standard library failed to load: {problems[0].error}")

    def _find_file(self, name: str, span: Span) -> Path:
        from pathlib import Path  # not at start-up (resources.py)

        filename = name if name.endswith(".rasp") else name + ".rasp"
        directories = []
        if self._loading:
            directories.append(Path(self._loading[-1]).parent)
        elif Path(span.file).is_file():  # the file being run (not `-c` or stdin)
            directories.append(Path(span.file).resolve().parent)
        directories += [Path.cwd(), stdlib_dir()]
        for directory in dict.fromkeys(directories):
            candidate = (directory / filename).resolve()
            if candidate.is_file():
                return candidate
        looked = ", ".join(str(d) for d in dict.fromkeys(directories))
        raise RaspLoadError(f'cannot find "{filename}"; looked in: {looked}', span)

    # ------------------------------------------------------------ expressions

    def eval(self, expr: ast.Expr, env: Env) -> Any:
        method = getattr(self, "_eval_" + type(expr).__name__)
        try:
            return method(expr, env)
        except RaspError as error:
            error.at(expr.span)
            raise

    def _eval_Literal(self, expr: ast.Literal, env: Env) -> Any:
        return expr.value

    def _eval_Name(self, expr: ast.Name, env: Env) -> Any:
        try:
            return env.lookup(expr.name)
        except KeyError:
            pass
        import difflib  # only for this hint: not at start-up

        from .library_index import defining_file

        library_file = defining_file(expr.name)
        if library_file is not None:
            raise RaspNameError(
                f"`{expr.name}` is not defined; the library file {library_file}.rasp defines it",
                expr.span, hint=f'load "{library_file}"; first',
            )
        close = difflib.get_close_matches(expr.name, sorted(env.visible_names() | KEYWORDS), n=1)
        hint = f"did you mean `{close[0]}`?" if close else None
        raise RaspNameError(f"`{expr.name}` is not defined", expr.span, hint=hint)

    def _eval_ListLit(self, expr: ast.ListLit, env: Env) -> list:
        return [self.eval(item, env) for item in expr.items]

    def _eval_DictLit(self, expr: ast.DictLit, env: Env) -> dict:
        return {self._dict_key(k, env): self.eval(v, env) for k, v in expr.pairs}

    def _dict_key(self, expr: ast.Expr, env: Env) -> Any:
        key = self.eval(expr, env)
        if not is_atom(key):
            raise RaspTypeError(f"dict keys must be atoms, got {type_name(key)}", expr.span)
        return key

    def _comprehension(self, expr, env: Env):
        iterable = self.eval(expr.iterable, env)
        for item in self._iterate(iterable, expr.iterable.span, "comprehension's"):
            scope = Env(env, "comprehension")
            self._bind_iteration(scope, expr.names, item, expr.span)
            yield scope

    def _eval_ListComp(self, expr: ast.ListComp, env: Env) -> list:
        return [self.eval(expr.value, scope) for scope in self._comprehension(expr, env)]

    def _eval_DictComp(self, expr: ast.DictComp, env: Env) -> dict:
        return {
            self._dict_key(expr.key, scope): self.eval(expr.value, scope)
            for scope in self._comprehension(expr, env)
        }

    def _eval_Unary(self, expr: ast.Unary, env: Env) -> Any:
        operand = self.eval(expr.operand, env)
        if isinstance(operand, Selector):
            if expr.op == "not":
                return SelectorCombination("not", (operand,), origin=expr.span)
            raise RaspTypeError(f"cannot apply unary `{expr.op}` to a selector", expr.span)
        if isinstance(operand, SOp):
            op = {"not": "not", "-": "neg", "+": "pos"}[expr.op]
            return Map(op, (operand,), origin=expr.span)
        if expr.op == "not":
            return not _truthy(operand, expr.span)
        return _python_op(expr.op, [operand], expr.span)

    def _eval_Binary(self, expr: ast.Binary, env: Env) -> Any:
        left, right = self.eval(expr.left, env), self.eval(expr.right, env)
        if isinstance(left, Selector) or isinstance(right, Selector):
            raise RaspTypeError(
                f"cannot apply `{expr.op}` to a selector",
                expr.span,
                hint="selectors combine with `and`, `or` and `not`",
            )
        if isinstance(left, SOp) or isinstance(right, SOp):
            _check_sop_operands(expr.op, [left, right], expr.span)
            return Map(expr.op, (left, right), origin=expr.span)
        return _python_op(expr.op, [left, right], expr.span)

    def _eval_Logical(self, expr: ast.Logical, env: Env) -> Any:
        left, right = self.eval(expr.left, env), self.eval(expr.right, env)
        lazy_sop = isinstance(left, SOp) or isinstance(right, SOp)
        selectors = isinstance(left, Selector), isinstance(right, Selector)
        if any(selectors):
            if all(selectors):
                return SelectorCombination(expr.op, (left, right), origin=expr.span)
            other = right if selectors[0] else left
            raise RaspTypeError(
                f"cannot combine a selector with {type_name(other)} using `{expr.op}`", expr.span
            )
        if lazy_sop:
            _check_sop_operands(expr.op, [left, right], expr.span)
            return Map(expr.op, (left, right), origin=expr.span)
        if expr.op == "and":
            return right if _truthy(left, expr.span) else left
        return left if _truthy(left, expr.span) else right

    def _eval_Ternary(self, expr: ast.Ternary, env: Env) -> Any:
        cond = self.eval(expr.cond, env)
        if isinstance(cond, Selector):
            raise RaspTypeError("the condition of `if` cannot be a selector", expr.cond.span)
        if isinstance(cond, SOp):
            then, otherwise = self.eval(expr.then, env), self.eval(expr.otherwise, env)
            _check_sop_operands("if", [then, otherwise], expr.span)
            return Map("ternary", (cond, then, otherwise), origin=expr.span)
        return self.eval(expr.then if _truthy(cond, expr.cond.span) else expr.otherwise, env)

    def _eval_Contains(self, expr: ast.Contains, env: Env) -> Any:
        item, container = self.eval(expr.item, env), self.eval(expr.container, env)
        if isinstance(item, SOp):
            if not isinstance(container, list) or not all(is_atom(v) for v in container):
                raise RaspTypeError(
                    f"`s-op in X` needs X to be a list of atoms, got {type_name(container)}", expr.container.span
                )
            return Map("in", (item, tuple(container)), origin=expr.span)
        if not is_atom(item):
            raise RaspTypeError(f"`X in ...` needs X to be an s-op or an atom, got {type_name(item)}", expr.item.span)
        if isinstance(container, SOp):
            return self._atom_in_sop(item, container, expr.span)
        if isinstance(container, (list, dict)):
            return any(_same_atom(item, v) for v in container)
        if isinstance(container, str) and isinstance(item, str):
            return item in container
        raise RaspTypeError(
            f"`atom in X` needs X to be a list, dict or s-op, got {type_name(container)}", expr.container.span
        )

    def _atom_in_sop(self, atom: Any, sop: SOp, span: Span) -> SOp:
        """atom in s: does any position hold the atom (one attention layer)."""
        everything = Select(1, 1, "==", origin=span)
        found = Map("indicator", (Map("==", (sop, atom), origin=span),), origin=span)
        return Map(">", (Aggregate(everything, found, 0, origin=span), 0), origin=span)

    def _eval_Index(self, expr: ast.Index, env: Env) -> Any:
        target, index = self.eval(expr.target, env), self.eval(expr.index, env)
        if isinstance(target, SOp):
            return self._index_sop(target, index, expr)
        if isinstance(target, Applied) and isinstance(target.shown, EvaluatedSOp):
            target = target.shown.values
        if isinstance(target, (list, str, dict)):
            if isinstance(index, SOp):
                if isinstance(target, list) and not all(is_atom(v) for v in target):
                    raise RaspTypeError("looking up an s-op in a list needs a list of atoms", expr.target.span)
                return Map("lookup", (target, index), origin=expr.span)
            return _index_value(target, index, expr)
        raise RaspTypeError(f"cannot index into {type_name(target)}", expr.target.span)

    def _index_sop(self, sop: SOp, index: Any, expr: ast.Index) -> SOp:
        if isinstance(index, bool) or not isinstance(index, int):
            raise RaspTypeError(
                f"an s-op index must be an int, got {type_name(index)}", expr.index.span,
                hint="to move values between positions by an s-op, use aggregate(select(...), s)",
            )
        indices = self.base.lookup("indices")
        position: Any = index
        if index < 0:
            position = Map("+", (self._length(expr.span), index), origin=expr.span)
        selector = Select(indices, position, "==", origin=expr.span)
        return Aggregate(selector, sop, 0, origin=expr.span)

    def _length(self, span: Span) -> SOp:
        try:
            length = self.base.lookup("length")
            if isinstance(length, SOp):
                return length
        except KeyError:
            pass
        everything = Select(1, 1, "==", origin=span)
        first = Map("indicator", (Map("==", (self.base.lookup("indices"), 0)),))
        return Map("round", (Map("/", (1, Aggregate(everything, first, 0, origin=span))),), origin=span)

    def _eval_Call(self, expr: ast.Call, env: Env) -> Any:
        func = self.eval(expr.func, env)
        args = [self.eval(a, env) for a in expr.args]
        if isinstance(func, Lazy):
            if len(args) != 1:
                raise RaspTypeError(
                    f"applying {func.kind} `{func.name}` takes exactly one input, got {len(args)}", expr.span
                )
            name = expr.func.name if isinstance(expr.func, ast.Name) else None
            try:
                return Applied(self.apply(func, args[0], name))
            except RaspError as error:
                error.at(expr.span)
                raise
        if isinstance(func, Function):
            return self._call(func, args, expr)
        if isinstance(func, BuiltinFunction):
            if len(args) != len(func.params):
                raise _arity_error(func.name, func.params, args, expr.span)
            return func.implementation(args, expr.span)
        raise RaspTypeError(f"{type_name(func)} cannot be called", expr.func.span)

    def _call(self, func: Function, args: list, expr: ast.Call) -> Any:
        if len(args) != len(func.params):
            raise _arity_error(func.name, func.params, args, expr.span)
        if self._depth >= MAX_CALL_DEPTH:
            raise RaspRecursionError(
                f"recursion too deep: more than {MAX_CALL_DEPTH} nested function calls (in `{func.name}`)",
                expr.span,
            )
        scope = Env(func.env, func.name)
        scope.vars.update(zip(func.params, args, strict=True))
        first_new = next_serial()
        self._depth += 1
        try:
            for stmt in func.body:
                self.execute(stmt, scope)
            results = [self.eval(e, scope) for e in func.returns]
        except RaspError as error:
            error.add_context(expr.span, f"in the call of `{func.name}`")
            raise
        finally:
            self._depth -= 1
        result = results[0] if len(results) == 1 else results
        if isinstance(result, Lazy):
            written = ", ".join(_written_arg(e, a) for e, a in zip(expr.args, args, strict=True))
            _name_call_result(result, f"{func.name}({written})", first_new)
        return result

    def _eval_Select(self, expr: ast.Select, env: Env) -> Selector:
        key, query = self.eval(expr.key, env), self.eval(expr.query, env)
        for value, part in ((key, expr.key), (query, expr.query)):
            if not (isinstance(value, SOp) or is_atom(value)):
                raise RaspTypeError(
                    f"select needs s-ops or atoms as keys and queries, got {type_name(value)}", part.span
                )
        return Select(key, query, expr.op, origin=expr.span)

    def _eval_Aggregate(self, expr: ast.Aggregate, env: Env) -> SOp:
        selector = self.eval(expr.selector, env)
        sop = self.eval(expr.sop, env)
        default = self.eval(expr.default, env) if expr.default is not None else 0
        if not isinstance(selector, Selector):
            raise RaspTypeError(f"aggregate needs a selector first, got {type_name(selector)}", expr.selector.span)
        if not (isinstance(sop, SOp) or is_atom(sop)):
            raise RaspTypeError(f"aggregate needs an s-op (or atom) second, got {type_name(sop)}", expr.sop.span)
        if not is_atom(default):
            raise RaspTypeError(
                f"the default of aggregate must be an atom, got {type_name(default)}", expr.default.span
            )
        return Aggregate(selector, sop, default, origin=expr.span)

    def _eval_Builtin(self, expr: ast.Builtin, env: Env) -> Any:
        args = [self.eval(a, env) for a in expr.args]
        return getattr(self, "_builtin_" + expr.name)(args, expr)

    def _builtin_range(self, args: list, expr: ast.Builtin) -> list:
        if not 1 <= len(args) <= 3:
            raise RaspTypeError(f"range takes 1 to 3 ints, got {len(args)} arguments", expr.span)
        for a in args:
            if isinstance(a, bool) or not isinstance(a, int):
                raise RaspTypeError(f"range takes ints, got {type_name(a)} {short_text(a)}", expr.span)
        if len(args) == 3 and args[2] == 0:
            raise RaspValueError("range step cannot be 0", expr.span)
        result = range(*args)
        if len(result) > 10_000_000:
            raise RaspValueError(f"range of {len(result)} elements is too large", expr.span)
        return list(result)

    def _builtin_zip(self, args: list, expr: ast.Builtin) -> list:
        if not args:
            raise RaspTypeError("zip needs at least one list", expr.span)
        for i, a in enumerate(args):
            if not isinstance(a, list):
                raise RaspTypeError(f"zip takes lists; argument {i + 1} is {type_name(a)}", expr.args[i].span)
        if len({len(a) for a in args}) > 1:
            lengths = ", ".join(str(len(a)) for a in args)
            raise RaspValueError(f"zip needs lists of equal length, got lengths {lengths}", expr.span)
        return [list(t) for t in zip(*args, strict=True)]

    def _builtin_len(self, args: list, expr: ast.Builtin) -> int:
        _expect_one("len", args, expr)
        value = args[0]
        if isinstance(value, Applied):
            return len(value.shown.tokens)
        if isinstance(value, (list, dict, str)):
            return len(value)
        raise RaspTypeError(
            f"len takes a list, dict or string, got {type_name(value)}", expr.span,
            hint="the length of the input as an s-op is `length`" if isinstance(value, SOp) else None,
        )

    def _builtin_round(self, args: list, expr: ast.Builtin) -> Any:
        _expect_one("round", args, expr)
        value = args[0]
        if isinstance(value, SOp):
            return Map("round", (value,), origin=expr.span)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                return round(value)
            except (OverflowError, ValueError) as error:
                raise RaspValueError(f"cannot round {value}: {error}", expr.span) from None
        if isinstance(value, bool):
            return int(value)
        raise RaspTypeError(f"round takes a number or an s-op, got {type_name(value)}", expr.span)

    def _builtin_indicator(self, args: list, expr: ast.Builtin) -> Any:
        _expect_one("indicator", args, expr)
        value = args[0]
        if isinstance(value, SOp):
            return Map("indicator", (value,), origin=expr.span)
        if is_atom(value):
            return 1 if value else 0
        raise RaspTypeError(f"indicator takes an s-op, got {type_name(value)}", expr.span)


# Statement type -> its handler (Session._run): the one place statements are dispatched.
_STATEMENTS: dict[type, Callable[[Session, Any, Env, bool], list[Result]]] = {
    ast.ExprStmt: Session._run_expression,
    ast.Assign: Session._run_assign,
    ast.Def: Session._run_def,
    ast.For: Session._run_for,
    ast.Load: Session._run_load,
    ast.SyntaxErrorStmt: Session._run_syntax_error,
    ast.Analyse: Session._run_analyse_or_draw,
    ast.Draw: Session._run_analyse_or_draw,
    ast.Compile: Session._run_compile,
    ast.Train: Session._run_train,
    ast.Learn: Session._run_learn,
    ast.CheckRaspL: Session._run_raspl,
    **dict.fromkeys(_COMMANDS, Session._run_command),
}


# ------------------------------------------------------------------ helpers


def _continued(earlier: str, source: str, first_line: int) -> str:
    """A source's text placed at line `first_line` after the lines before it that earlier input gave
    (the REPL runs each statement on its own: `help NAME` reads the comment typed above a def)."""
    kept = earlier.split("\n")[: first_line - 1] if earlier and first_line > 1 else []
    return "\n".join(kept + [""] * (first_line - 1 - len(kept)) + [source])


def _fits(example: Any, vocab: Any, max_len: int | None) -> bool:
    """The running example is a non-empty input of the vocabulary's tokens, at most max_len long."""
    if not isinstance(example, (str, list)) or not example or not isinstance(vocab, (str, list, tuple)):
        return False
    tokens = {(type(v), v) for v in vocab}
    return (max_len is None or len(example) <= max_len) and all((type(v), v) in tokens for v in example)


def _option_span(error: RaspError, spans: dict) -> Span | None:
    """The span of the `train` or `learn` option an error's message names first (docs/training.md, docs/learning.md)."""
    named = [(error.message.find(word), where) for word, where in spans.items() if word in error.message]
    return min(named, key=lambda pair: pair[0])[1] if named else None


def _word_evaluation_warning(error: RaspError, label: str, example: Any) -> None:
    """A definition that fails on the running example: say whether any input could work."""
    if getattr(error, "every_input", False):  # rasp.engine.no_input_works: `tokens + 1`
        error.message = f"{label} fails on every input: {error.message}"
        if error.hint is None:
            error.hint = ("its operands have these types whatever the input (tokens are strings); convert one, "
                          "e.g. tokens_int for number tokens; the definition stands")
        return
    error.message = f"{label} cannot be evaluated on the example {short_text(example)}: {error.message}"
    if error.hint is None:
        error.hint = "set example ... to an input it accepts; the definition stands"


def _shown_name(expr: ast.Expr, value: Any) -> str:
    """The name an expression statement's value is shown under: a variable's name, a call's
    text (`sort_by_frequency(tokens, "-")`, `is_max_so_far("31425")`), else `out`."""
    if isinstance(expr, ast.Name):
        return expr.name
    if isinstance(value, Applied) and isinstance(expr, ast.Call):
        return value.shown.name
    if isinstance(value, Lazy) and isinstance(expr, ast.Call):
        return value.name
    return "out"


def _bind(env: Env, name: str, value: Any) -> None:
    if isinstance(value, Lazy):
        value.set_label(name)
    env.vars[name] = value


def _name_call_result(result: Lazy, call: str, first_new: int) -> None:
    """A node the call made is named after the call as its caller wrote it, not after a local
    or an inner call of the function's body (docs/reference.md, 'Names of results'); a node
    that existed before the call (an argument returned unchanged) keeps its name."""
    if result.serial >= first_new:
        result.label = None
    result.set_label(call)


def _written_arg(expr: ast.Expr, value: Any) -> str:
    """An argument as the caller wrote it when it is a name (`tokens`, not `tokens_str`)."""
    return expr.name if isinstance(expr, ast.Name) else _describe_arg(value)


def _describe_arg(value: Any) -> str:
    if isinstance(value, Lazy):
        return value.name
    try:
        text = exact_text(value) if is_atom(value) else type_name(value)
    except ValueError:  # an int beyond Python's str() limit of digits
        text = "a huge int"
    return text if len(text) <= 20 else text[:17] + "…"


def _expect_one(name: str, args: list, expr: ast.Builtin) -> None:
    if len(args) != 1:
        raise RaspTypeError(f"{name} takes exactly one argument, got {len(args)}", expr.span)


def _arity_error(name: str, params: list[str], args: list, span: Span) -> RaspTypeError:
    expected = f"{len(params)} argument{'s' if len(params) != 1 else ''}"
    signature = f"{name}({', '.join(params)})"
    return RaspTypeError(f"`{signature}` takes {expected}, got {len(args)}", span)


def _applied_hint(value: Applied, op: str) -> str:
    """What to write instead of computing with `s("abc")` (docs/reference.md, 'Values': nothing lazy
    runs until it is applied)."""
    name = value.shown.name
    if isinstance(value.shown, EvaluatedSelector):
        return f"combine the selector itself (e.g. `{name} and ...`), then apply the result to an input"
    return (f"compute with the s-op itself (e.g. `{name} {op} ...`), then apply the result to the input; "
            "indexing the applied value (`v[0]`) gives one of its values")


def _truthy(value: Any, span: Span) -> bool:
    if isinstance(value, (Lazy, Function, BuiltinFunction, Applied)):
        raise RaspTypeError(f"{type_name(value)} has no truth value here", span)
    return bool(value)


def _same_atom(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - incomparable values are not equal
        return False


def _check_sop_operands(op: str, operands: list, span: Span) -> None:
    for value in operands:
        if not (isinstance(value, SOp) or is_atom(value)):
            raise RaspTypeError(
                f"`{op}` combines s-ops with atoms only, got {type_name(value)}", span
            )


def _python_op(op: str, operands: list, span: Span) -> Any:
    """An operator on atoms, lists and dicts, with Python's semantics."""
    for value in operands:
        if isinstance(value, Applied):
            kind = "an s-op" if isinstance(value.shown, EvaluatedSOp) else "a selector"
            raise RaspTypeError(f"cannot apply `{op}` to {type_name(value)}: it is a value shown on one input, "
                                f"not {kind}", span, hint=_applied_hint(value, op))
        if isinstance(value, (Function, BuiltinFunction)):
            raise RaspTypeError(f"cannot apply `{op}` to {type_name(value)}", span)
    try:
        if len(operands) == 1:
            return -operands[0] if op == "-" else +operands[0]
        left, right = operands
        if op == "^":
            _check_power(left, right, span)
        if op == "*" and isinstance(right, int) and isinstance(left, (str, list)) and len(left) * right > 10**8:
            raise RaspValueError("repetition too large", span)
        if op == "*" and isinstance(left, int) and isinstance(right, (str, list)) and len(right) * left > 10**8:
            raise RaspValueError("repetition too large", span)
        result = PYTHON_BINARY[op](left, right)
        if isinstance(result, complex):  # Python's negative ** fractional; RASP values are real
            raise RaspValueError(
                f"{_describe_operands(op, operands)} has no real value (a negative number to a fractional power)",
                span,
            )
        return result
    except ZeroDivisionError:
        raise RaspValueError(f"division by zero: {_describe_operands(op, operands)}", span) from None
    except (TypeError, ValueError, OverflowError) as error:
        raise RaspTypeError(f"cannot compute {_describe_operands(op, operands)} ({error})", span) from None


def _check_power(base: Any, exponent: Any, span: Span) -> None:
    if power_too_large(base, exponent):
        raise RaspValueError(f"{base} ^ {exponent} is too large to compute", span)


def _describe_operands(op: str, operands: list) -> str:
    parts = [short_text(v) if is_atom(v) else type_name(v) for v in operands]
    return f"{op}{parts[0]}" if len(parts) == 1 else f"{parts[0]} {op} {parts[1]}"


def _index_value(target: Any, index: Any, expr: ast.Index) -> Any:
    if isinstance(target, dict):
        if not is_atom(index):
            raise RaspTypeError(f"dict keys are atoms; cannot index with {type_name(index)}", expr.index.span)
        if index not in target:
            raise RaspValueError(f"key {short_text(index)} is not in the dict", expr.index.span)
        return target[index]
    what = "list" if isinstance(target, list) else "string"
    if isinstance(index, float) and index.is_integer():
        index = int(index)  # a whole-number float indexes like that int (docs/reference.md, 'Sequence types')
    if not isinstance(index, int):
        raise RaspTypeError(f"a {what} index must be an int, got {type_name(index)}", expr.index.span)
    if not -len(target) <= index < len(target):
        raise RaspValueError(f"index {index} is out of range for a {what} of length {len(target)}", expr.index.span)
    return target[index]
