"""Text rendering of results: s-op values with their type, selector matrices,
values, functions, and errors with the source line and a caret.

Shared by the command line's text mode and the REPL. Knows nothing of
evaluation: it renders rasp.results objects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

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
    TrainedResult,
    Unevaluated,
)
from .values import int_text


@dataclass
class DisplayOptions:
    full_seq: bool = False  # `full seq display on`: input and output aligned
    width: int = 100  # columns available for selector matrices
    sources: dict[str, str] = field(default_factory=dict)  # file name -> text, for carets
    color: bool = False  # ANSI colours (a terminal without NO_COLOR)
    max_rows: int | None = None  # rows of a selector matrix shown (the REPL limits them); None: all
    max_values: int | None = None  # values of an s-op or example shown (the REPL limits them); None: all


# ANSI styles used when DisplayOptions.color is on
_STYLES = {
    "selected": "\x1b[1;30;42m",  # a selected selector cell: dark on green
    "unselected": "\x1b[2m",
    "name": "\x1b[1m",
    "type": "\x1b[36m",
    "error": "\x1b[1;31m",
    "warning": "\x1b[1;33m",
    "caret": "\x1b[1;31m",
    "hint": "\x1b[32m",
}
_RESET = "\x1b[0m"


def styled(text: str, style: str, options: DisplayOptions) -> str:
    """text wrapped in the ANSI codes of `style` when colours are on."""
    return f"{_STYLES[style]}{text}{_RESET}" if options.color and text else text


def format_result(result: Any, options: DisplayOptions | None = None) -> str:
    options = options or DisplayOptions()
    if isinstance(result, Shown):
        return format_shown(result.name, result.value, options)
    if isinstance(result, Problem):
        return format_error(result.error, options.sources, warning=result.warning, color=options.color)
    if isinstance(result, ExampleShown):
        return _examples_text(result, options)
    if isinstance(result, ExitRequest):
        return ""
    if isinstance(result, Analysed):
        return format_analysis(result.analysis)
    if isinstance(result, Compiled):
        return format_compiled(result, options)
    if isinstance(result, TrainedResult):
        from .training.report import trained_text

        return trained_text(result.to_json()) + ("\nsaved " + ", ".join(result.files) if result.files else "")
    if type(result).__name__ == "LearnedProgram":  # rasp.learning, imported only by `learn`
        from .learning.report import learned_text

        return learned_text(result.to_json())
    if type(result).__name__ == "RaspLReport":  # rasp.raspl, imported only by `raspl`
        return format_raspl(result)
    if isinstance(result, Drawn):
        layers = f"{result.layers} layer{'' if result.layers == 1 else 's'}"
        return f"drew {result.name} on {format_value(result.input)} ({layers}): {result.path}" + (
            f" (Graphviz DOT: {result.dot_path})" if result.dot_path else ""
        )
    raise TypeError(f"cannot display {result!r}")


def _examples_text(result: ExampleShown, options: DisplayOptions) -> str:
    """`show example`: one line when the s-op and selector examples are the same."""
    if result.subset is None and result.sop_example == result.selector_example:
        return f"example (s-ops and selectors): {_example_text(result.sop_example, options)}"
    lines = []
    if result.subset in (None, "s-op"):
        lines.append(f"s-op example: {_example_text(result.sop_example, options)}")
    if result.subset in (None, "selector"):
        lines.append(f"selector example: {_example_text(result.selector_example, options)}")
    return "\n".join(lines)


def _example_text(example: Any, options: DisplayOptions) -> str:
    limit = options.max_values
    if limit is None or not isinstance(example, (str, list)) or len(example) <= limit:
        return format_value(example)
    half = limit // 2
    head, tail = format_value(example[:half]), format_value(example[-half:])
    return f"{head[:-1]} … {tail[1:]}  ({len(example):,} tokens; {_ELIDED_NOTE})"


def _input_text(example: Any, options: DisplayOptions) -> str:
    """The input in a result's head: cut to its first and last 10 tokens where the REPL limits values."""
    if options.max_values is None or not isinstance(example, (str, list)) or len(example) <= 2 * 10:
        return format_value(example)
    head, tail = format_value(example[:10]), format_value(example[-10:])
    return f"{head[:-1]}…{tail[1:]}"


_ELIDED_NOTE = "the first and last shown: --json, or a file run with `python -m rasp FILE`, shows all"


def format_shown(name: str, value: Any, options: DisplayOptions) -> str:
    if isinstance(value, EvaluatedSOp):
        return format_sop(value, options, name)
    if isinstance(value, EvaluatedSelector):
        return format_selector(value, options, name)
    return f"{name} = {format_value(value)}"


# ------------------------------------------------------------------ values


def format_atom(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, int):
        return int_text(value)
    return str(value)


def _float(value: float) -> str:
    """Floats to 3 decimals (full precision is in --json output)."""
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if abs(value) >= 1e15 or (value != 0 and abs(value) < 1e-3):
        return f"{value:.3g}"
    text = f"{value:.3f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def format_value(value: Any) -> str:
    """A readable one-line text of any shown value."""
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{format_value(k)}: {format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, FunctionInfo):
        kind = "built-in function" if value.builtin else "function"
        return f"{kind} {value.name}({', '.join(value.params)})"
    if isinstance(value, EvaluatedSOp):
        return f"s-op {value.name} = {format_sequence(value.values, value.type)} {value.type}"
    if isinstance(value, EvaluatedSelector):
        return f"selector {value.name}"
    if isinstance(value, Unevaluated):
        return f"{value.kind} {value.name}"
    return format_atom(value)


def format_element(value: Any, type_: str) -> str:
    if type_ == "bools":
        return "T" if value else "F"
    if type_ == "strings":
        return str(value)
    if type_ == "floats":
        return _float(float(value))
    if type_ == "ints":
        return int_text(int(value))
    return str(value)


def format_sequence(values: list, type_: str) -> str:
    """[0, 3, 6]; identical values compressed as [0.333]*3; bools as T/F."""
    shown = [format_element(v, type_) for v in values]
    if type_ == "strings":
        shown = [f'"{s}"' for s in shown]
    if len(values) > 1 and all(v == values[0] for v in values):
        return f"[{shown[0]}]*{len(values)}"
    return "[" + ", ".join(shown) + "]"


def format_sop(value: EvaluatedSOp, options: DisplayOptions, name: str | None = None) -> str:
    name = name or value.name
    head = f"{styled(name, 'name', options)}({_input_text(value.input, options)})"
    type_ = styled(value.type, "type", options)
    limit = options.max_values
    if limit is not None and len(value.values) > limit:
        return _elided_sop(value, head, type_, limit)
    if not options.full_seq:
        return f"{head} = {format_sequence(value.values, value.type)}  {type_}"
    tokens = [str(t) for t in value.tokens]
    cells = [format_element(v, value.type) for v in value.values]
    widths = [max(len(a), len(b)) for a, b in zip(tokens, cells, strict=True)]
    lines = [f"{head}  {type_}"]
    for block in _blocks_of_width(widths, options.width - len("  output: ")):
        if len(lines) > 1:
            lines.append("")  # a narrow terminal: the rows are cut into aligned blocks, not wrapped
        lines.append("   input: " + " ".join(tokens[i].rjust(widths[i]) for i in block))
        lines.append("  output: " + " ".join(cells[i].rjust(widths[i]) for i in block))
    return "\n".join(lines)


def _blocks_of_width(widths: list[int], room: int) -> list[list[int]]:
    """Positions in consecutive blocks whose cells (and a space between) fit in `room` columns."""
    blocks: list[list[int]] = [[]]
    used = 0
    for i, width in enumerate(widths):
        if blocks[-1] and used + 1 + width > room:
            blocks.append([])
            used = 0
        used += width + (1 if blocks[-1] else 0)
        blocks[-1].append(i)
    return blocks


def _elided_sop(value: EvaluatedSOp, head: str, type_: str, limit: int) -> str:
    """A long s-op value: its first and last limit/2 values and a note (the REPL; --json has all)."""
    values = value.values
    if all(v == values[0] for v in values):
        return f"{head} = {format_sequence(values, value.type)}  {type_}"
    half = limit // 2
    first, last = format_sequence(values[:half], value.type), format_sequence(values[-half:], value.type)
    if first.startswith("[") and first.endswith("]"):
        text = f"{first[:-1]}, …, {last[1:]}" if last.startswith("[") else f"{first[:-1]}, …] + {last}"
    else:
        text = f"{first} + […] + {last}"
    return f"{head} = {text}  {type_}\n  ({len(values):,} values; {_ELIDED_NOTE})"


def format_selector(value: EvaluatedSelector, options: DisplayOptions, name: str | None = None) -> str:
    """The matrix with the input's tokens as column headers and row labels.

    Columns beyond options.width, and rows beyond options.max_rows, are left out,
    with a note saying how many.
    """
    name = name or value.name
    tokens = [str(t) for t in value.tokens]
    n = len(tokens)
    rows = n if options.max_rows is None else min(n, options.max_rows)
    number_width = len(str(n - 1))
    token_width = max(len(t) for t in tokens)
    label_width = number_width + 1 + token_width  # rows are numbered: `3 l` (docs/reference.md, 'Selectors')
    cell_width = max(token_width, number_width)
    columns = max(1, (options.width - label_width - 4) // (cell_width + 1))
    shown = min(n, columns)
    head = f"{styled(name, 'name', options)}({_input_text(value.input, options)})"
    lines = [f"{head} =  {styled('selector', 'type', options)}, rows are queries, columns keys"]
    numbers = " " * (label_width + 3) + " ".join(str(k).center(cell_width) for k in range(shown))
    header = " " * (label_width + 3) + " ".join(t.center(cell_width) for t in tokens[:shown])
    lines += [numbers.rstrip(), header.rstrip()]
    for q in range(rows):
        cells = [_selector_cell(bool(value.matrix[q][k]), cell_width, options) for k in range(shown)]
        label = f"{str(q).rjust(number_width)} {tokens[q].ljust(token_width)}"
        lines.append(f"  {label} " + " ".join(cells).rstrip())
    left_out = [f"{count} more {what}" for count, what in ((n - rows, "rows"), (n - shown, "columns")) if count]
    if left_out:
        lines.append(f"  ({' and '.join(left_out)} not shown; the full matrix is in --json output)")
    return "\n".join(lines)


def _selector_cell(selected: bool, width: int, options: DisplayOptions) -> str:
    if not options.color:
        return ("1" if selected else "·").center(width)
    if selected:
        return styled("1".center(width), "selected", options)
    return styled("·".center(width), "unselected", options)


# ---------------------------------------------------------------- analysis


def format_analysis(analysis) -> str:
    """A compact text table: one line per attention head, with the layer's head and MLP counts."""
    heads = ",".join(str(h) for h in analysis.heads) or "-"
    mlps = ",".join(str(m) for m in analysis.mlps) or "-"
    plural = "" if analysis.layers == 1 else "s"
    summary = f"{analysis.layers} layer{plural}; heads per layer {heads} (total {analysis.total_heads})"
    lines = [f"{analysis.name}: {summary}; MLP nodes per layer {mlps}"]
    if analysis.layers:
        lines.append("  layer  heads  MLPs  attention heads (selectors)")
    for layer in analysis.detail:
        first = f"  {layer.number:>5}  {len(layer.heads):>5}  {len(layer.mlps):>4}  "
        for i, head in enumerate(layer.heads):
            lines.append((first if i == 0 else " " * len(first)) + _head_text(head))
        if not layer.heads:
            lines.append(first + "-")
    if analysis.embedding:
        count = len(analysis.embedding)
        lines.append(f"  embedding (depth 0, adds no layer): {count} elementwise node{'s' if count != 1 else ''}")
    return "\n".join(lines)


def _head_text(head) -> str:
    text = head.name if head.name == head.description else f"{head.name} = {head.description}"
    if len(head.used_by) > 1:
        text += f"  (used by {len(head.used_by)})"
    return text if len(text) <= 90 else text[:89] + "…"


# ---------------------------------------------------------------- compiled

MAX_VOCABULARY_SHOWN = 24  # tokens of a compiled model's vocabulary listed; the rest are counted


def format_compiled(compiled: Compiled, options: DisplayOptions | None = None) -> str:
    """The compiled transformer's sizes, how its verification went, and the files written."""
    options = options or DisplayOptions()
    model, check = compiled.model, compiled.verification
    lines = [f"{styled(compiled.name, 'name', options)}: {_model_sizes(compiled)} {_model_inputs(model)}"]
    lines += _verification_lines(check, model.max_len, sum(model.heads), options)
    if compiled.onnx_verification is not None:
        lines += _onnx_lines(compiled.onnx_verification, options)
    if compiled.from_example:
        lines.append(styled(_defaults_note(compiled), "warning", options))
    if compiled.files:
        lines.append("saved " + ", ".join(compiled.files))
    return "\n".join(lines)


def _defaults_note(compiled: Compiled) -> str:
    """Which options came from the running example: the model reads no other tokens (or lengths)."""
    model, options = compiled.model, compiled.from_example
    taken = " and ".join("the vocabulary" if o == "vocab" else "max_len" for o in options)
    verb = "were" if len(options) > 1 else "was"
    reads = []
    if "vocab" in options:
        reads.append("the tokens " + " ".join(_vocabulary_item(v) for v in model.vocab[:MAX_VOCABULARY_SHOWN]))
    if "max_len" in options:
        reads.append(f"inputs up to length {model.max_len}")
    give = " and ".join(f"{o} ..." for o in options)
    word = "warning" if "vocab" in options else "note"
    return (f"{word}: {taken} {verb} taken from the running example {format_value(compiled.example)}: "
            f"the model reads only {' and '.join(reads)} (give {give} to choose)")


def _model_sizes(compiled: Compiled) -> str:
    model = compiled.model
    heads = ",".join(str(h) for h in model.heads) or "-"
    analysis = compiled.analysis
    if analysis is not None:
        same = analysis.layers == model.layers and list(analysis.heads) == list(model.heads)
        heads += " (as analysed)" if same else f" (the analysis says {','.join(map(str, analysis.heads)) or '-'})"
    plural = "" if model.layers == 1 else "s"
    if model.layers == 0:
        mlp = (f"one MLP of {model.mlp0.hidden} hidden units on the embeddings" if model.embedding_mlp
               else "no MLP")
        analysed = heads.split(" ", 1)[1].strip("()") if " " in heads else ""
        return (f"a transformer of 0 layers (no attention{'; ' + analysed if analysed else ''})\n"
                f"  d_model {model.d_model}, {mlp}, {model.params:,} parameters\n ")
    mlp = ",".join(str(m) for m in model.d_mlp)
    before = f" and {model.mlp0.hidden} before layer 1" if model.embedding_mlp else ""
    return (f"a transformer of {model.layers} layer{plural}, heads per layer {heads}\n"
            f"  d_model {model.d_model}, MLP hidden sizes {mlp}{before}, {model.params:,} parameters\n ")


def _model_inputs(model) -> str:
    vocab = [_vocabulary_item(v) for v in model.vocab[:MAX_VOCABULARY_SHOWN]]
    more = f" … ({len(model.vocab)} tokens)" if len(model.vocab) > MAX_VOCABULARY_SHOWN else ""
    return f"vocabulary {' '.join(vocab)}{more}, max_len {model.max_len}, BOS at position 0"


def _vocabulary_item(value: Any) -> str:
    if isinstance(value, str) and (not value or value != value.strip() or " " in value or '"' in value):
        return f'"{value}"'
    return value if isinstance(value, str) else format_atom(value)


def _verification_lines(check, max_len: int, heads: int, options: DisplayOptions) -> list[str]:
    """`checked N inputs (...): all agree ...`, or the mismatches in the warning colour."""
    if check.exhaustive_up_to and check.random:
        how = (f"every input up to length {check.exhaustive_up_to}, "
               f"and {check.random:,} random ones up to length {max_len}")
    elif check.exhaustive_up_to:
        how = f"every input up to length {check.exhaustive_up_to}"
    else:
        how = f"random ones up to length {max_len}"
    noun = "input" if check.checked == 1 else "inputs"
    head = f"checked {check.checked:,} {noun} ({how})"
    skipped = (f"; {check.skipped:,} more skipped (the program fails on them in the interpreter)"
               if check.skipped else "")
    if check.mismatches == 0:
        agree = "all agree with the interpreter" if check.checked else "nothing to compare"
        lines = [f"{head}: {agree}{skipped}"]
    else:
        lines = [styled(f"{head}: {check.mismatches:,} disagree with the interpreter{skipped}", "warning", options)]
        first = check.first_mismatch
        if first:
            detail = (f"  first: input {format_value(first.get('input'))}, position {first.get('position')}: "
                      f"expected {first.get('expected')}, got {first.get('got')}")
            lines.append(styled(detail, "warning", options))
    if heads:
        lines.append(f"attention within {check.attention_error:.2g} of hard attention"
                     f" (tolerance {check.attention_tolerance:.2g})")
    if check.numeric_error:
        lines.append(f"numerical outputs within {check.numeric_error:.2g} of the interpreter's")
    return lines


def _onnx_lines(check, options: DisplayOptions) -> list[str]:
    """`ONNX Runtime (m.onnx): the same N inputs: all agree ...` (docs/export.md, 'Verifying the ONNX file')."""
    graph = check.file or "the exported graph"
    head = f"ONNX Runtime ({graph}): the same {check.checked:,} inputs"
    if check.mismatches:
        lines = [styled(f"{head}: {check.mismatches:,} disagree with the interpreter", "warning", options)]
        first = check.first_mismatch
        if first:
            lines.append(styled(f"  first: input {format_value(first.get('input'))}, position {first.get('position')}:"
                                f" expected {first.get('expected')}, got {first.get('got')}", "warning", options))
    else:
        lines = [f"{head}: all agree with the interpreter"]
    lines.append(f"  ONNX Runtime's outputs within {check.numpy_difference:.2g} of the NumPy forward pass's")
    return lines


# ------------------------------------------------------------------ errors


def format_error(error: RaspError, sources: dict[str, str] | None = None, warning: bool = False,
                 color: bool = False) -> str:
    """`file:line:col: error: message`, the source line with a caret, hint and context."""
    sources = sources or {}
    options = DisplayOptions(color=color)
    kind = styled("warning" if warning else error.category, "warning" if warning else "error", options)
    lines = []
    where = f"{error.span}: " if error.span else ""
    lines.append(f"{where}{kind}: {error.message}")
    if error.span is not None:
        lines += _caret_lines(error.span, sources, options)
    if error.hint:
        lines.append(f"  {styled('hint', 'hint', options)}: {error.hint}")
    for span, note in error.context:
        lines.append(f"  {span}: note: {note}")
    if error.omitted_context:
        lines.append(f"  … and {error.omitted_context} more notes like these")
    return "\n".join(lines)


def _caret_lines(span, sources: dict[str, str], options: DisplayOptions) -> list[str]:
    source = sources.get(span.file)
    if source is None:
        return []
    source_lines = source.split("\n")
    if not 1 <= span.line <= len(source_lines):
        return []
    text = source_lines[span.line - 1].replace("\t", " ")
    text = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)  # undecodable bytes
    if len(text) > 200:
        return []
    start = max(span.column - 1, 0)
    end = span.end_column - 1 if span.end_line == span.line else len(text)
    width = max(1, min(end, len(text)) - start)
    return [f"    {text}", "    " + " " * start + styled("^" * width, "caret", options)]


def format_raspl(report: Any) -> str:
    """A rasp.raspl.RaspLReport: the verdict, then each violation at its position (docs/raspl.md)."""
    mode = " (causal mode)" if report.causal else ""
    if report.ok:
        return f"{report.name} is RASP-L{mode}"
    count = len(report.violations)
    lines = [f"{report.name} is not RASP-L{mode}: {count} violation{'s' if count != 1 else ''}"]
    for violation in report.violations:
        where = str(violation.span) if violation.span is not None else "(no position)"
        lines.append(f"  {where}: {violation.message}")
    if report.prefix_consistent is True:
        lines.append("  it is prefix-consistent on random inputs (each position's value depends only on the prefix)")
    elif report.prefix_consistent is False:
        lines.append(f"  it is not prefix-consistent: on {format_value(report.prefix_counterexample)} a prefix "
                     "gives other values at its positions")
    return "\n".join(lines)
