"""The `rasp` command: run files and sources, print results as text or JSON Lines."""

from __future__ import annotations

import argparse
import io
import math
import os
import sys
from typing import Any, TextIO

from . import __version__
from .display import DisplayOptions, format_result
from .errors import RaspError
from .results import (
    Analysed,
    Compiled,
    Drawn,
    EvaluatedSelector,
    EvaluatedSOp,
    ExampleShown,
    ExitRequest,
    FunctionInfo,
    Problem,
    Shown,
    Unevaluated,
)
from .values import int_text

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

DESCRIPTION = """\
RASP: the Restricted Access Sequence Processing language of "Thinking Like
Transformers". Runs RASP files and sources, showing each result evaluated on the
running example, or starts an interactive session."""

EPILOG = """\
exit status: 0 all statements succeeded, 1 some statement failed, 2 usage error

examples:
  rasp                                   start the interactive session
  rasp prog.rasp                         run a file
  rasp -c 'x = indices * 2;' --example '[1,2,3]'
  rasp prog.rasp --json                  one JSON object per result
  rasp prog.rasp --eval f --inputs in.jsonl   f on every input of in.jsonl, one JSON result per line
  rasp prog.rasp --analyse hist          layers and heads of hist
  rasp prog.rasp --compile 'hist max_len 8'   hist as a transformer, verified against the interpreter
  rasp --learn data.jsonl --out learned.rasp  a RASP program learned from input/output examples
"""


def terminal_columns() -> int:
    """The terminal's width as shutil.get_terminal_size finds it (COLUMNS, else the terminal, else 80),
    without importing shutil: with bz2 and lzma that import is about 6 ms of start-up."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's, told the width (argparse would import shutil to find it, for every parser made)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, terminal_columns() - 2 if width is None else width)


def build_argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rasp", description=DESCRIPTION, epilog=EPILOG, formatter_class=_HelpFormatter,
    )
    parser.add_argument("files", nargs="*", metavar="FILE", help="RASP files to run in order, in one session")
    parser.add_argument("-c", dest="source", metavar="SOURCE", help="run SOURCE (after any files)")
    parser.add_argument("-i", dest="interactive", action="store_true", help="enter the REPL after running files / -c")
    parser.add_argument("--example", metavar="EXPR", help="set the running example first, e.g. '\"hey\"' or '[1,2,3]'")
    parser.add_argument("--json", action="store_true", help="print JSON Lines: one object per shown result")
    parser.add_argument("--no-stdlib", action="store_true", help="start without the standard library")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks of internal errors")
    parser.add_argument("--eval", dest="eval_name", metavar="NAME",
                        help="after running the files, evaluate NAME on every input of --inputs (JSON Lines out)")
    parser.add_argument("--inputs", metavar="FILE.jsonl",
                        help="inputs for --eval: one JSON string or list per line ('-' reads stdin)")
    parser.add_argument("--memory-limit", metavar="SIZE",
                        help="memory budget for selectors, e.g. 4G or none (default: RASP_MEMORY_LIMIT, "
                        "else the smaller of 2 GiB and half the available memory)")
    parser.add_argument("--analyse", "--analyze", metavar="NAME",
                        help="after running the files, analyse NAME: layers and heads (like the `analyse` command)")
    parser.add_argument("--compile", metavar="NAME",
                        help="after running the files, compile NAME to a transformer and verify it"
                             " (like the `compile` command; options may follow: 'NAME max_len 8')")
    parser.add_argument("--train", metavar="NAME",
                        help="after running the files, train a transformer on NAME (like the `train` command;"
                             " options may follow: 'NAME vocab \"abc\" bos'; needs pip install \"rasp[train]\")")
    _add_learn_arguments(parser)
    parser.add_argument("--causal", action="store_true",
                        help="start in causal mode: every selector sees only keys at or before its query")
    parser.add_argument("--raspl", metavar="NAME",
                        help="after running the files, check that NAME is RASP-L (docs/raspl.md); fails if not")
    parser.add_argument("--no-preview", action="store_true", help="REPL: no live preview of the value being typed")
    parser.add_argument("--version", action="version", version=f"rasp {__version__}")
    return parser


# `rasp --learn` / `--learn-from`'s flags and the `learn` options they become (docs/learning.md)
LEARN_FLAGS = (("--layers", "layers"), ("--heads", "heads"), ("--counting", "counting"), ("--mlps", "mlps"),
               ("--var-size", "var_size"), ("--epochs", "epochs"), ("--seed", "seed"), ("--restarts", "restarts"))
_LEARN_FLAG_HELP = {"layers": "layers of the model", "heads": "categorical attention heads per layer",
                    "counting": "counting (numerical) heads per layer", "mlps": "categorical MLPs per layer",
                    "var_size": "values of an MLP's output variable", "epochs": "training epochs",
                    "seed": "the seed of the data and the model", "restarts": "independent runs, the best kept"}


def _add_learn_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("learning a program from examples (docs/learning.md; needs pip install "
                                      '"rasp[train]")')
    group.add_argument("--learn", metavar="DATA.jsonl",
                       help='learn a RASP program from the examples of DATA.jsonl, one {"input": [...], '
                            '"output": [...]} a line (like the `learn` command)')
    group.add_argument("--learn-from", metavar="NAME",
                       help="after running the files, learn a RASP program from NAME's outputs on random inputs"
                            " (options may follow: 'NAME vocab \"abc\" max_len 5 examples 2000')")
    group.add_argument("--out", metavar="PROGRAM.rasp", help="write the learned program to PROGRAM.rasp")
    group.add_argument("--name", metavar="NAME", help="the name of the learned program's result (default: learned)")
    for flag, word in LEARN_FLAGS:
        group.add_argument(flag, type=int, metavar="N", help=f"{_LEARN_FLAG_HELP[word]} (`learn`'s {word})")


def learn_source(args: argparse.Namespace) -> str | None:
    """The `learn` statement that --learn / --learn-from and their flags stand for (None: neither given);
    a ValueError says why the flags do not make one."""
    from .parser import LEARN_NUMBERS

    given = [flag for flag in ("--out", "--name", *(f for f, _ in LEARN_FLAGS))
             if getattr(args, flag[2:].replace("-", "_")) is not None]
    if args.learn is None and args.learn_from is None:
        if given:
            raise ValueError(f"{given[0]} goes with --learn DATA.jsonl or --learn-from NAME")
        return None
    if args.learn is not None and args.learn_from is not None:
        raise ValueError("--learn and --learn-from are two sources of examples: give one")
    for path in (args.learn, args.out):
        if path is not None and ('"' in path or "\n" in path):
            raise ValueError(f"a file name with a quote or a line break cannot be used: {path!r}")
    words = [f'learn "{args.learn}"' if args.learn is not None else "learn " + " ".join(args.learn_from.splitlines())]
    for flag, word in LEARN_FLAGS:
        value = getattr(args, flag[2:].replace("-", "_"))
        if value is not None:
            low, high = LEARN_NUMBERS[word]
            if not low <= value <= high:
                raise ValueError(f"{flag} must be between {low} and {high}, got {value}")
            words.append(f"{word} {value}")
    if args.out is not None:
        words.append(f'save "{args.out}"')
    if args.name is not None:
        words.append(f"name {args.name}")
    return " ".join(words) + "\n"


class Printer:
    """Writes results as text (values to stdout, problems to stderr) or JSON Lines."""

    def __init__(self, session, as_json: bool, debug: bool, out: TextIO | None = None, err: TextIO | None = None):
        self.session = session
        self.as_json = as_json
        self.debug = debug
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.failed = False
        self.color = False  # ANSI colours in text mode
        self.width = 100  # columns for selector matrices
        self.max_rows: int | None = None  # rows of selector matrices (None: all)
        self.max_values: int | None = None  # values of an s-op or example (None: all)

    def emit(self, result: Any) -> None:
        if isinstance(result, Problem) and not result.warning:
            self.failed = True
        if isinstance(result, Compiled) and not result.agrees:
            self.failed = True  # the model disagrees with the interpreter: the statement failed
        if type(result).__name__ == "RaspLReport" and not result.ok:
            self.failed = True  # `raspl`: the program is not RASP-L
        if type(result).__name__ == "LearnedProgram" and result.agreement < 1:
            self.failed = True  # `learn`: the decompiled RASP disagrees with the learned model
        if isinstance(result, ExitRequest):
            return
        if self.as_json:
            self.out.write(_json_line(result_to_json(result)))
            self.out.flush()
            return
        options = DisplayOptions(full_seq=self.session.full_seq_display, sources=self.session.sources,
                                 color=self.color, width=self.width, max_rows=self.max_rows,
                                 max_values=self.max_values)
        text = format_result(result, options)
        stream = self.err if isinstance(result, Problem) else self.out
        stream.write(text + "\n")
        if self.debug and isinstance(result, Problem) and result.error.__cause__ is not None:
            cause = result.error.__cause__
            import traceback  # only with --debug: it is not needed at start-up

            stream.write("".join(traceback.format_exception(type(cause), cause, cause.__traceback__)))
        stream.flush()


    def emit_text(self, kind: str, text: str, error: bool = False) -> None:
        """A message of the REPL (help, vars, ...): text, or {"kind": kind, "text": text} in JSON."""
        if self.as_json:
            self.out.write(_json_line({"kind": kind, "text": text}))
            self.out.flush()
            return
        stream = self.err if error else self.out
        stream.write(text + "\n")
        stream.flush()


# -------------------------------------------------------------------- JSON


def _json_atom(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > _SHORT_INT_BITS:
        text = int_text(value)  # beyond Python's int->str limit JSON cannot write it: the shortened text
        return value if text.isdigit() or text[1:].isdigit() else text
    return value


_SHORT_INT_BITS = 4096  # shorter ints are always within Python's int->str limit


def _json_input(value: Any) -> Any:
    if isinstance(value, dict):
        return [_json_atom(k) for k in value]
    if isinstance(value, list):
        return [_json_atom(v) for v in value]
    return value


def _json_value(value: Any, name: str | None = None) -> Any:
    """A shown value as JSON; lazy values (and functions) become objects."""
    if isinstance(value, EvaluatedSOp):
        return {"kind": "sop", "name": name or value.name, "input": _json_input(value.input),
                "value": [_json_atom(v) for v in value.values], "type": value.type}
    if isinstance(value, EvaluatedSelector):
        return {"kind": "selector", "name": name or value.name, "input": _json_input(value.input),
                "matrix": value.matrix.astype(int).tolist()}
    if isinstance(value, Unevaluated):
        kind = "sop" if value.kind == "s-op" else "selector"
        return {"kind": kind, "name": name or value.name, "input": None, "value": None}
    if isinstance(value, FunctionInfo):
        return {"kind": "function", "name": name or value.name, "params": value.params}
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return _json_atom(value)


def result_to_json(result: Any) -> dict:
    if isinstance(result, Shown):
        value = result.value
        if isinstance(value, (EvaluatedSOp, EvaluatedSelector, Unevaluated, FunctionInfo)):
            return _json_value(value, result.name)
        kind = "list" if isinstance(value, list) else "dict" if isinstance(value, dict) else "value"
        return {"kind": kind, "name": result.name, "value": _json_value(value)}
    if isinstance(result, Problem):
        return error_to_json(result.error, "warning" if result.warning else "error")
    if isinstance(result, ExampleShown):
        shown = {"kind": "example"}
        if result.subset in (None, "s-op"):
            shown["sop"] = _json_input(result.sop_example)
        if result.subset in (None, "selector"):
            shown["selector"] = _json_input(result.selector_example)
        return shown
    if isinstance(result, Analysed):
        return result.analysis.to_json()
    if isinstance(result, Compiled):
        return compiled_to_json(result)
    if type(result).__name__ == "TrainedResult":  # rasp/training (docs/training.md)
        return _finite(result.to_json())
    if type(result).__name__ == "RaspLReport":  # rasp.raspl (docs/raspl.md, 'The checker')
        return result.to_json()
    if type(result).__name__ == "LearnedProgram":  # rasp.learning (docs/learning.md)
        return _finite(result.to_json())
    if isinstance(result, Drawn):
        return {"kind": "drawing", "name": result.name, "path": result.path, "dot": result.dot_path,
                "input": _json_input(result.input), "layers": result.layers}
    raise TypeError(f"cannot encode {result!r}")


def train_progress(stream: TextIO):
    """A `train` progress callback writing one line per epoch to a terminal (None when not a terminal)."""
    if not stream.isatty():
        return None

    def show(record: Any) -> None:
        temperature = getattr(record, "temperature", None)  # `learn`'s Gumbel temperature (docs/learning.md)
        shown = "" if temperature is None else f", temperature {temperature:.3g}"
        stream.write(f"\r  epoch {record.epoch}: loss {record.loss:.4f}{shown}, validation accuracy "
                     f"{100 * record.validation_accuracy:.1f}%, {record.seconds:.0f} s\x1b[K")
        stream.flush()

    def wipe() -> None:  # called when the training is over (`learn`), so that the answer starts on a clean line
        stream.write("\r\x1b[K")
        stream.flush()

    show.finish = wipe  # type: ignore[attr-defined]
    return show


def compiled_to_json(compiled: Compiled) -> dict:
    """{"kind": "compiled", "name", "layers", "heads", "d_model", "params", "checked", "mismatches", ...}:
    the model's summary_json(), the verification's to_json() and the files written."""
    shown = {"kind": "compiled", "name": compiled.name, **compiled.model.summary_json(),
             **compiled.verification.to_json(), "files": list(compiled.files),
             "from_example": list(compiled.from_example)}
    if compiled.analysis is not None:
        shown["analysed_heads"] = list(compiled.analysis.heads)
    if compiled.onnx_verification is not None:
        shown["onnx"] = compiled.onnx_verification.to_json()
    return _finite(shown)


def _finite(value: Any) -> Any:
    """value with NumPy scalars as Python numbers and non-finite floats as text (JSON has neither)."""
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if hasattr(value, "tolist") and callable(value.tolist):  # NumPy arrays and scalars
        return _finite(value.tolist())
    return _json_atom(value)


def error_to_json(error: RaspError, kind: str = "error") -> dict:
    span = error.span
    shown = {
        "kind": kind,
        "message": error.message,
        "category": error.category,
        "file": span.file if span else None,
        "line": span.line if span else None,
        "column": span.column if span else None,
    }
    if span:
        shown["end_line"], shown["end_column"] = span.end_line, span.end_column
    if error.hint:
        shown["hint"] = error.hint
    if error.context:
        shown["context"] = [{"file": s.file, "line": s.line, "column": s.column, "note": note}
                            for s, note in error.context]
    if error.omitted_context:
        shown["context_omitted"] = error.omitted_context
    return shown


# -------------------------------------------------------------------- main


def _usage_error(message: str) -> int:
    sys.stderr.write(f"rasp: error: {message}\n")
    return EXIT_USAGE


def _read_file(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except UnicodeDecodeError:
        sys.stderr.write(f"rasp: error: {path} is not a UTF-8 text file\n")
    except OSError as error:
        sys.stderr.write(f"rasp: error: cannot read {path}: {error.strerror or error}\n")
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_argument_parser().parse_args(_attach_option_values(list(argv)))
    from .interpreter import Session  # imported here so --help and --version stay fast

    sources = []
    for path in args.files:
        text = _read_file(path)
        if text is None:
            return EXIT_USAGE
        sources.append((text, path))
    if args.source is not None:
        sources.append((args.source, "<command>"))
    if args.analyse is not None:
        sources.append(("analyse " + " ".join(args.analyse.splitlines()) + "\n", "--analyse"))
    if args.raspl is not None:
        sources.append(("raspl " + " ".join(args.raspl.splitlines()) + "\n", "--raspl"))
    if args.compile is not None:
        sources.append(("compile " + " ".join(args.compile.splitlines()) + "\n", "--compile"))
    if args.train is not None:
        sources.append(("train " + " ".join(args.train.splitlines()) + "\n", "--train"))

    try:
        learning = learn_source(args)
    except ValueError as error:
        return _usage_error(str(error))
    if learning is not None:
        sources.append((learning, "--learn" if args.learn is not None else "--learn-from"))

    if (args.eval_name is None) != (args.inputs is None):
        return _usage_error("--eval NAME and --inputs FILE go together")
    if args.eval_name is not None and args.analyse is not None:
        return _usage_error("--analyse and --eval are separate runs: --eval prints only the inputs' results")
    if args.eval_name is not None and args.compile is not None:
        return _usage_error("--compile and --eval are separate runs: --eval prints only the inputs' results")
    if args.eval_name is not None and learning is not None:
        return _usage_error("--learn and --eval are separate runs: learn first (--out FILE), then --eval on FILE")
    if args.memory_limit is not None:
        from .engine import MEMORY_LIMIT_VARIABLE, parse_size

        try:
            parse_size(args.memory_limit)
        except ValueError as error:
            return _usage_error(f"--memory-limit: {error}")
        os.environ[MEMORY_LIMIT_VARIABLE] = args.memory_limit

    session = Session(stdlib=not args.no_stdlib, causal=args.causal)
    session.train_progress = train_progress(sys.stderr)
    if sys.stderr.isatty() and not args.json:
        session.progress = StageProgress()
    printer = Printer(session, args.json, args.debug)
    if args.eval_name is not None:  # the files only define: values go to stdout as JSON Lines
        session.sop_examples_on = session.selector_examples_on = False
        printer = Printer(session, False, args.debug, out=io.StringIO())  # problems still go to stderr
    if args.example is not None:
        try:
            session.set_example(session.parse_example(args.example))
        except RaspError as error:
            return _usage_error(f"--example {args.example}: {error.message}")

    for text, filename in sources:
        for result in session.run_iter(text, filename):
            printer.emit(result)
            if isinstance(result, ExitRequest):
                return EXIT_FAILED if printer.failed else EXIT_OK

    if args.eval_name is not None:
        return evaluate_inputs(session, args.eval_name, args.inputs, printer.failed)
    if args.interactive or not sources:
        from .repl import run_repl

        if run_repl(session, printer, preview=not args.no_preview, stdlib=not args.no_stdlib):
            return EXIT_OK  # a person at a terminal left normally: errors were shown already
    return EXIT_FAILED if printer.failed else EXIT_OK


def evaluate_inputs(session, name: str, path: str, failed: bool = False, chunk: int = 4096) -> int:
    """--eval NAME --inputs FILE: one JSON result (or error object) per input line on stdout."""
    from .syntax import Span

    text = sys.stdin.read() if path == "-" else _read_file(path)
    if text is None:
        return EXIT_USAGE
    where = "<stdin>" if path == "-" else path
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    progress = _Progress(len(lines))
    for start in range(0, len(lines), chunk):
        block = lines[start:start + chunk]
        parsed = [_parse_input_line(line) for _, line in block]
        good = [i for i, value in enumerate(parsed) if not isinstance(value, RaspError)]
        try:
            evaluated = dict(zip(good, session.evaluate(name, [parsed[i] for i in good]), strict=True))
        except RaspError as error:
            return _usage_error(f"--eval {name}: {error.message}")
        for i, (number, line) in enumerate(block):
            result = evaluated.get(i, parsed[i])
            if isinstance(result, (RaspError, Problem)):
                error = result if isinstance(result, RaspError) else result.error
                error.message = error.message.split(": ", 1)[1] if error.message.startswith("input ") else error.message
                error.span = Span(where, number, 1, number, len(line) + 1)
                shown = error_to_json(error)
                failed = True
            else:
                shown = _json_value(result, name)
            sys.stdout.write(_json_line(shown))
        progress.advance(len(block))
    progress.finish()
    return EXIT_FAILED if failed else EXIT_OK


def _json_line(value: Any) -> str:
    """One line of JSON Lines output."""
    import json  # here: a run without --json or --eval does not need it (start-up)

    return json.dumps(value, ensure_ascii=False) + "\n"


def _parse_input_line(line: str) -> Any:
    """A JSON string or list of atoms, or the RaspError that says why the line is not one."""
    import json
    try:
        value = json.loads(line)
    except json.JSONDecodeError as error:
        return RaspError(f"not valid JSON: {error.msg} (column {error.colno})")
    if isinstance(value, (str, list)):
        return value
    return RaspError(f"an input must be a JSON string or list, not {type(value).__name__}")


class StageProgress:
    """What a long compile is doing, on one line of a terminal's stderr: `verifying x: the model
    on 5,000 inputs [#####.....] 1,200/5,000`. Given to the interpreter as Session.progress (the
    interpreter never prints); drawn only once the work has taken half a second, wiped when done.
    Training's lines (`training hist: ...`, rasp/training/run.py) are drawn at once: training takes
    seconds at least, and its first line covers the silent data generation and jit compile."""

    AT_ONCE = "training "

    def __init__(self, stream=None, delay: float = 0.5):
        self.stream = stream or sys.stderr
        self.delay = delay
        self.started: float | None = None
        self.drawn = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        import time

        now = time.monotonic()
        if stage == "done":
            if self.drawn:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
            self.started, self.drawn = None, False
            return
        if self.started is None:
            self.started = now
        if now - self.started < self.delay and not stage.startswith(self.AT_ONCE):
            return
        bar = ""
        if total:
            filled = 20 * done // total
            bar = f" [{'#' * filled}{'.' * (20 - filled)}] {done:,}/{total:,}"
        width = terminal_columns() - 1
        self.stream.write("\r\x1b[K" + (stage + bar)[:width])
        self.stream.flush()
        self.drawn = True


class _Progress:
    """A progress bar on stderr for long runs, when stderr is a terminal."""

    def __init__(self, total: int):
        self.total, self.done = total, 0
        self.shown = total >= 2000 and sys.stderr.isatty()

    def advance(self, count: int) -> None:
        self.done += count
        if self.shown:
            filled = 30 * self.done // max(self.total, 1)
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} inputs")
            sys.stderr.flush()

    def finish(self) -> None:
        if self.shown:
            sys.stderr.write("\n")


def main_entry() -> None:
    """Console-script entry point: a bug outside any statement is still an internal error, not a traceback."""
    try:
        status = main()
    except KeyboardInterrupt:
        sys.stderr.write("rasp: interrupted\n")
        status = 130
    except Exception as error:  # noqa: BLE001 - report a bug in rasp without a traceback
        sys.stderr.write(f"rasp: internal error: {type(error).__name__}: {error}\n"
                         "  hint: this is a bug in rasp; please report it with the input that caused it"
                         " (--debug shows the traceback)\n")
        if "--debug" in sys.argv[1:]:
            import traceback

            traceback.print_exc()
        status = EXIT_FAILED
    sys.exit(status)


def _is_option(arg: str) -> bool:
    return arg.startswith("--") or arg in ("-i", "-h", "-c")


def _attach_option_values(argv: list[str]) -> list[str]:
    """`-c SOURCE` and `--example EXPR` whose value starts with `-` (`-c '-indices;'`) become
    `-cSOURCE` / `--example=EXPR`, which argparse reads as values, not options."""
    result: list[str] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        following = argv[index + 1] if index + 1 < len(argv) else ""
        if arg in ("-c", "--example") and following.startswith("-") and not _is_option(following):
            result.append(("-c" if arg == "-c" else "--example=") + argv[index + 1])
            index += 2
            continue
        result.append(arg)
        index += 1
    return result
