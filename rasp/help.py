"""Texts of the REPL's `help`, `help NAME` and `vars` commands.

Pure functions of a Session: they return text and never print.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from .builtins import BuiltinFunction
from .values import Lazy, Selector, type_name

COMMANDS_HELP = """\
Statements end with `;`. Enter runs the input once it is complete; otherwise it starts
a new line (Alt-Enter, i.e. Esc then Enter, runs it as it is). Tab completes names;
Up/Down walk the history; Ctrl-C discards the input or interrupts an evaluation;
Ctrl-D (or exit) leaves.

Commands
  set example EXPR             the running example, e.g. set example [1, 2, 3]
  set s-op|selector example E  only for s-ops or only for selectors
  show example                 the running examples
  examples on|off              show new s-ops and selectors evaluated (also s-op/selector examples)
  full seq display on|off      show input and output aligned position by position
  analyse EXPR                 the layers and heads an s-op needs (also: analyze)
  causal on|off                every selector sees only keys at or before its query
  raspl EXPR                   is EXPR RASP-L? each rule it breaks, where and why (docs/raspl.md)
  compile EXPR [OPTIONS]       EXPR as a real transformer, verified (help compile)
  train EXPR [OPTIONS]         train a transformer on EXPR's outputs (help train)
  learn EXPR|"DATA" [OPTIONS]  a RASP program learned from examples (help learn)
  draw(EXPR [, INPUT]);        a picture of the computation, written under ./rasp_draw/
  load "NAME";                 run NAME.rasp from here or the standard library
  help [NAME]                  this text, or what NAME is
  vars                         your bindings and what they are
  clear                        start afresh: forget your bindings, reset the example
  preview on|off               the live value of what you type, in the bottom bar
  exit, quit                   leave

Built-ins
  select(keys, queries, OP)    a selector: query q selects key k when keys[k] OP queries[q];
                               OP is one of == != < > <= >=
  aggregate(sel, s [, default])  per query, the mean of s over the selected keys
                               (one selected key or equal values for non-numbers)
  selector_width(sel)          per query, how many keys it selects
  tokens, indices, length      the input, its positions, its length (tokens_int,
                               tokens_float, tokens_bool, tokens_str: typed views;
                               tokens_asis: the tokens as given)
  range zip len round indicator  as in Python; indicator(b) is 1 for True, else 0
"""

COMPILE_HELP = """\
compile EXPR [max_len N] [vocab LIST] [random N] [save "FILE"] [verify onnx]
  compiles the s-op EXPR into a transformer with NumPy weights: token and position
  embeddings with a BOS position, attention heads and MLPs per layer (the layers and
  heads of `analyse`), an unembedding. Then it runs the model and the interpreter on
  every input up to a small length and on random inputs, and compares them.
options (in any order, after EXPR)
  max_len N       the longest input (default: the running example's length)
  vocab LIST      the input tokens, a list or a string: vocab ["a", "b"], vocab "ab"
                  (default: the running example's distinct tokens)
  random N        random inputs to verify on (default 1000)
  save "FILE"     write the model; the extension picks the format: none or .npz
                  (FILE.npz and FILE.json, a description of every residual
                  dimension), .safetensors (TransformerLens names), .onnx (ONNX
                  Runtime); the last two need pip install "rasp[export]"
  verify onnx     also run the ONNX graph (the saved .onnx file, if any) in ONNX
                  Runtime against the interpreter (docs/export.md)
it prints the layers, heads per layer, d_model, MLP sizes and parameters, how many
inputs were checked and whether all agree (the first mismatch if not), and how close
attention is to hard attention. A program the compiler cannot handle is an error that
names the node and the reason. Example: compile length max_len 6 vocab "abc"
"""

TRAIN_HELP = """\
train EXPR [layers N] [heads N] [d_model N] [epochs N] [examples N] [vocab LIST]
           [min_len N] [max_len N] [bos] [supervise] [draw] [variant NAME] [seed N] [save "FILE"]
  trains a transformer (JAX) on the s-op EXPR's outputs for random inputs, shaped as
  `analyse` predicts, then tests it and says which program selector each head is
  closest to. Needs pip install "rasp[train]". Progress (epoch, loss, validation
  accuracy, time) is drawn on a terminal's stderr.
options (in any order, after EXPR)
  layers N, heads N   override the predicted shape (heads: per layer)
  d_model N           the model's width (default 64)
  epochs N            at most N epochs (default 50; stops after 3 perfect validations)
  examples N          training examples (default 2000)
  vocab LIST          the input tokens (default: the running example's distinct tokens)
  min_len N, max_len N  input lengths (default 1 to the running example's length)
  bos                 a BOS token at position 0
  supervise           also fit each head's attention to its selector (attn_c 100)
  draw                write a page of every head's attention beside the selector it
                      matches, on the running example, under ./rasp_draw/
  variant NAME        predicted, fewer_heads, fewer_layers or fewer_layers_wider
  seed N              the seed of the data and the weights (default 0)
  save "FILE"         write the model to FILE.npz
Example: train hist vocab "abc" max_len 6 bos (docs/training.md)
"""

LEARN_HELP = """\
learn "DATA.jsonl" [OPTIONS]   or   learn EXPR [vocab LIST] [min_len N] [max_len N] [examples N] [OPTIONS]
  learns a transformer program from examples (a JSON Lines file, one {"input": [...],
  "output": [...]} a line, or EXPR's outputs on random inputs), makes every choice hard,
  simplifies it and decompiles it into RASP; checks that the RASP agrees with the model on
  the held-out test inputs and analyses it. Binds the result to `learned` (or NAME).
  Needs pip install "rasp[train]".
options (in any order, after the data)
  layers N, heads N, counting N, mlps N   layers; categorical heads, counting heads and
                  MLPs per layer
  var_size N      values of an MLP's output variable
  epochs N, seed N, restarts N   training length, seed, independent runs (best kept)
  vocab LIST, min_len N, max_len N, examples N   the inputs drawn from EXPR (vocab and
                  max_len default to the running example's tokens and length)
  save "FILE"     write the RASP program to FILE (.rasp added)
  name NAME       the name of the program's result (default learned)
Example: learn hist vocab "abc" max_len 5 save "hist_learned"  (docs/learning.md)
"""

BUILTIN_HELP = {
    "select": "select(keys, queries, OP) -> selector\n"
    "  query position q selects key position k when keys[k] OP queries[q];\n"
    "  OP is one of == != < > <= >=. One attention pattern.",
    "aggregate": "aggregate(sel, s [, default]) -> s-op\n"
    "  per query, the mean of s over the keys sel selects (numbers), or the one\n"
    "  selected value (otherwise); default where nothing is selected. One attention head.",
    "tokens": "tokens: the input's tokens (tokens_str unless reassigned)",
    "indices": "indices: the positions 0, 1, ..., n-1",
    "tokens_str": "tokens_str: the input's tokens as strings",
    "tokens_int": "tokens_int: the input's tokens as ints",
    "tokens_float": "tokens_float: the input's tokens as floats",
    "tokens_bool": "tokens_bool: the input's tokens as bools",
    "tokens_asis": "tokens_asis: the input's tokens as given",
    "range": "range([start,] stop [, step]) -> list of ints, as in Python",
    "zip": "zip(a, b, ...) -> list of lists, as in Python",
    "len": "len(list or dict) -> int",
    "round": "round(x) -> the nearest int (also elementwise on an s-op)",
    "indicator": "indicator(b) -> 1 where b is True, else 0 (also elementwise on an s-op)",
    "load": 'load "NAME"; runs NAME.rasp (the file\'s directory, the current directory, then the library)',
    "draw": "draw(EXPR [, INPUT]); writes a picture of the computation under ./rasp_draw/",
    "analyse": "analyse EXPR: the layers and attention heads an s-op needs",
    "raspl": "raspl EXPR: whether EXPR is RASP-L (causal selects, no length, index values only compared "
             "or offset, integer maps), each violation at its position, and prefix consistency (docs/raspl.md)",
    "causal": "causal on|off: in causal mode every selector sees only keys at or before its query (docs/raspl.md)",
    "aggregate_max": "aggregate_max(sel, s, default): per query, the largest value of s over the selected keys",
    "aggregate_min": "aggregate_min(sel, s, default): per query, the smallest value of s over the selected keys",
    "compile": COMPILE_HELP.rstrip("\n"),
    "train": TRAIN_HELP.rstrip("\n"),
    "learn": LEARN_HELP.rstrip("\n"),
}


def help_text(session, topic: str | None = None) -> str:
    """The `help` command: an overview, or what `topic` is."""
    if topic is None:
        from .library_index import loadable_files_text

        return COMMANDS_HELP + "\n" + _library_overview(session) + "\n\n" + loadable_files_text()
    if topic in BUILTIN_HELP:
        return BUILTIN_HELP[topic]
    try:
        value = session.globals.lookup(topic)
    except KeyError:
        return _unknown(session, topic)
    return describe_binding(session, topic, value)


def _library_overview(session) -> str:
    names = sorted(n for n in session.library_names if n not in BUILTIN_HELP and n not in ("True", "False")
                   and not isinstance(session.base.vars.get(n), BuiltinFunction))
    lines, line = ["Library (help NAME for one of them)"], " "
    for name in names:
        if len(line) + len(name) > 86:
            lines.append(line)
            line = " "
        line += " " + name
    lines.append(line)
    return "\n".join(lines)


def _unknown(session, topic: str) -> str:
    candidates = session.globals.visible_names() | set(BUILTIN_HELP)
    close = difflib.get_close_matches(topic, sorted(candidates), n=1)
    from .library_index import defining_file

    library_file = defining_file(topic)
    if library_file is not None:
        return f'`{topic}` is defined in the library file {library_file}.rasp: load "{library_file}"; to use it'
    text = f"nothing is called `{topic}`"
    return text + (f"; did you mean `{close[0]}`?" if close else "")


def describe_binding(session, name: str, value: Any) -> str:
    """What a bound name is: a signature and its comment, a node's description, a value."""
    lines = [_summary(name, value)]
    comment, where = _documentation(session, name, value)
    if comment:
        lines += ["  " + line for line in comment]
    if where:
        lines.append(f"  defined at {where}")
    return "\n".join(lines)


def _summary(name: str, value: Any) -> str:
    if _is_function(value):
        return f"{name}({', '.join(value.params)})  {_kind(value)}"
    return f"{name}  {_kind(value)}"


def _is_function(value: Any) -> bool:
    from .interpreter import Function  # imported late: the interpreter imports nothing from here

    return isinstance(value, (Function, BuiltinFunction))


def _kind(value: Any) -> str:
    """'function(a, b)', 's-op: indices + 1', 'an int: 3', ..."""
    if _is_function(value):
        kind = "built-in function" if isinstance(value, BuiltinFunction) else "function"
        return kind
    if isinstance(value, Lazy):
        kind = "selector" if isinstance(value, Selector) else "s-op"
        return f"{kind}: {value.describe()}"
    return f"{type_name(value)}: {_short(value)}"


def _documentation(session, name: str, value: Any) -> tuple[list[str], str | None]:
    """The comment block above the definition of `name`, and where that is."""
    if isinstance(value, BuiltinFunction):
        return [value.doc], None
    span = getattr(value, "span", None)
    if span is not None and span.file in session.sources:
        line = span.line
        return _comment_above(session.sources[span.file], line), f"{span.file}:{line}"
    pattern = re.compile(rf"^\s*(?:def\s+{re.escape(name)}\s*\(|{re.escape(name)}\s*=[^=])")
    for file, source in session.sources.items():
        if file.startswith("<"):
            continue
        for number, text in enumerate(source.split("\n"), start=1):
            if pattern.match(text):
                return _comment_above(source, number), f"{file}:{number}"
    return [], None


def _comment_above(source: str, line: int) -> list[str]:
    """The `#` comment lines directly above line `line` (1-based)."""
    lines = source.split("\n")
    block: list[str] = []
    index = line - 2
    while index >= 0 and lines[index].lstrip().startswith("#"):
        block.append(lines[index].lstrip()[1:].strip())
        index -= 1
    return list(reversed(block))


def vars_text(session) -> str:
    """The `vars` command: the user's bindings and their kinds."""
    bindings = list(session.globals.vars.items())
    if not bindings:
        return "no bindings yet (the library's names are listed by help)"
    width = max(len(name) + (len(", ".join(v.params)) + 2 if _is_function(v) else 0) for name, v in bindings)
    lines = []
    for name, value in bindings:
        signature = f"({', '.join(value.params)})" if _is_function(value) else ""
        lines.append(f"{(name + signature).ljust(width)}  {_kind(value)}")
    return "\n".join(lines)


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 60 else text[:57] + "…"
