"""Fuzzing RASP: input generators and the robustness property.

Shared by tests/test_fuzz.py (a short, seeded CI run) and scripts/fuzz.py (long runs).

Categories of generated input:

* ``tokens``   random token sequences from RASP's vocabulary;
* ``mutants``  random mutations of every stdlib/*.rasp file (tokens deleted, duplicated,
  swapped or replaced; truncation), globbed when asked, so new library files join in;
* ``programs`` random well-typed programs (s-ops, selectors, functions, loops,
  comprehensions) run on random inputs; their applied values are also compared with
  the naive per-position evaluator of tests/naive_evaluator.py;
* ``hostile``  deep nesting, huge literals, very long lines, binary garbage, recursion,
  a 10^6-token example (see `hostile_cases`).

The property (`check_source`): running the source yields results, and every problem is
a RaspError that is not an internal error, whose span points inside the source it names;
nothing else is raised, nothing hangs (each case is time-boxed), every result can be
shown as text and as JSON, and the session still evaluates a known statement correctly
afterwards.
"""

from __future__ import annotations

import json
import math
import random
import re
import signal
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rasp.cli import result_to_json
from rasp.display import DisplayOptions, format_result
from rasp.errors import RaspError, RaspInternalError
from rasp.interpreter import Session
from rasp.resources import stdlib_dir
from rasp.results import EvaluatedSOp, ExitRequest, Problem, Shown
from rasp.values import SOp

# ------------------------------------------------------------------ time box


class CaseTimeout(BaseException):
    """A case ran past its time box (a BaseException, so the interpreter cannot swallow it)."""


@contextmanager
def time_box(seconds: float) -> Iterator[None]:
    """Raise CaseTimeout in the main thread after `seconds` of wall time."""

    def expire(signum, frame):
        raise CaseTimeout(f"no answer within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ------------------------------------------------------------------ property


@dataclass
class Outcome:
    """What running one case gave: counts of results and the property's failures."""

    results: int = 0
    errors: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def span_problem(error: RaspError, sources: dict[str, str]) -> str | None:
    """Why the error's span does not point inside its source (None when it does)."""
    span = error.span
    if span is None:
        return "the error has no position"
    source = sources.get(span.file)
    if source is None:
        return f"the error names {span.file!r}, a source the session does not know"
    lines = source.split("\n")
    if not 1 <= span.line <= len(lines):
        return f"line {span.line} is outside the source ({len(lines)} lines)"
    if not 1 <= span.column <= len(lines[span.line - 1]) + 1:
        return f"column {span.column} is outside line {span.line} ({len(lines[span.line - 1])} characters)"
    if (span.end_line, span.end_column) < (span.line, span.column):
        return f"the span ends ({span.end_line}:{span.end_column}) before it starts"
    return None


def check_result(result: Any, session: Session) -> list[str]:
    """Failures of one result: a bad error, a bad position, or a result that cannot be shown."""
    failures = []
    if isinstance(result, Problem):
        error = result.error
        if not isinstance(error, RaspError):
            return [f"a problem that is not a RaspError: {error!r}"]
        if isinstance(error, RaspInternalError):
            failures.append(f"internal error: {error}")
        where = span_problem(error, session.sources)
        if where:
            failures.append(f"bad position of `{error}`: {where}")
        for span, note in error.context:
            if span_problem(RaspError(note, span), session.sources):
                failures.append(f"bad position of the note `{note}` at {span}")
    try:
        text = format_result(result, DisplayOptions(full_seq=session.full_seq_display, sources=session.sources))
        text.encode("utf-8")  # what the terminal gets
    except Exception as error:  # noqa: BLE001 - any exception is a finding
        failures.append(f"cannot be shown as text: {type(error).__name__}: {error}")
    if isinstance(result, ExitRequest):
        return failures  # the command line stops there and shows nothing
    try:
        json.dumps(result_to_json(result), ensure_ascii=False).encode("utf-8")
    except Exception as error:  # noqa: BLE001
        failures.append(f"cannot be shown as JSON: {type(error).__name__}: {error}")
    return failures


SANITY_SOURCE = "_fuzz_sanity = indices * 2 + 1;"
SANITY_INPUT = "abc"
SANITY_VALUES = [1, 3, 5]


def sanity_failure(session: Session) -> str | None:
    """None when the session still runs a known statement with the right value."""
    results = session.run(SANITY_SOURCE, "<sanity>")
    problems = [r.error for r in results if isinstance(r, Problem) and not r.warning]
    if problems:
        return f"the session is broken afterwards: {problems[0]}"
    value = session.apply(session["_fuzz_sanity"], SANITY_INPUT)
    if value.values != SANITY_VALUES:
        return f"the session is broken afterwards: {SANITY_SOURCE} gave {value.values}"
    return None


def check_source(
    source: str,
    filename: str = "fuzz.rasp",
    session: Session | None = None,
    seconds: float = 10.0,
    extra: Callable[[Session, Any], list[str]] | None = None,
) -> Outcome:
    """Run `source` in a session under the robustness property; return what happened.

    `extra(session, result)` adds checks of each result, made right after it is produced.
    """
    session = session or Session()
    outcome = Outcome()
    results: list = []
    try:
        with time_box(seconds):
            for result in session.run_iter(source, filename):
                results.append(result)
                outcome.failures += check_result(result, session)
                if extra is not None:
                    outcome.failures += extra(session, result)
            broken = sanity_failure(session)
            if broken:
                outcome.failures.append(broken)
    except CaseTimeout as timeout:
        outcome.failures.append(f"hang: {timeout}")
    except Exception as error:  # noqa: BLE001 - the property: nothing but results
        outcome.failures.append(f"raised {type(error).__name__}: {str(error)[:300]}")
    outcome.results = len(results)
    outcome.errors = sum(isinstance(r, Problem) and not r.warning for r in results)
    return outcome


# ------------------------------------------------------------------ vocabulary

NAMES = [
    "indices", "tokens", "tokens_str", "tokens_int", "tokens_float", "tokens_bool", "tokens_asis", "length",
    "full_s", "selector_width", "sort", "shift", "count", "has_focus", "average", "max", "min", "out",
    "True", "False", "x", "y", "f", "g", "a", "b", "s", "sel",
]
KEYWORD_TOKENS = [
    "def", "for", "in", "if", "else", "return", "load", "draw", "select", "aggregate", "range", "zip",
    "len", "round", "indicator", "not", "and", "or",
]
PUNCTUATION = [
    "(", ")", "[", "]", "{", "}", ",", ";", ":", "=", "+", "-", "*", "/", "%", "^",
    "==", "!=", "<", ">", "<=", ">=", ".", "!", "@", "$", "'",
]
LITERALS = [
    "0", "1", "2", "3", "7", "10", "0.5", "2.0", "1e3", '"a"', '"abc"', '""', '"1"', '"',
    "123456789012345678901234567890",
]
LINE_PIECES = [
    "\n", "\n", "# a comment\n", "\nset example \"abc\"\n", "\nset example [1, 2, 3]\n", "\nshow example\n",
    "\nexamples off\n", "\nexamples on\n", "\nfull seq display on\n", "\nset example \"\"\n",
    "\nanalyse x\n", "\nselector examples off\n", "\ncompile x max_len 3 random 5\n",
    "\ncompile x vocab \"ab\" max_len\n",
]
VOCABULARY = NAMES + KEYWORD_TOKENS + PUNCTUATION * 2 + LITERALS


EXPRESSION_TOKENS = [
    "indices", "tokens", "length", "1", "2", "0.5", '"a"', "True", "+", "-", "*", "/", "%", "==", "<", "and",
    "not", "(", ")", "[", "]", ",", "x", "y", "select(indices, tokens, ==)", "full_s", "aggregate(",
]


def random_tokens(rng: random.Random, max_tokens: int = 40) -> str:
    """A random sequence of RASP tokens: pure nonsense, or short statements of random expression tokens."""
    if rng.random() < 0.4:
        return "".join(_random_statement(rng) for _ in range(rng.randint(1, 5)))
    pieces = []
    for _ in range(rng.randint(1, max_tokens)):
        if rng.random() < 0.06:
            pieces.append(rng.choice(LINE_PIECES))
        else:
            pieces.append(rng.choice(VOCABULARY))
            pieces.append(rng.choice([" ", " ", "", "\n"]))
    return "".join(pieces)


def _random_statement(rng: random.Random) -> str:
    """`name = <1 to 5 random expression tokens>;`, sometimes a valid assignment."""
    tokens = [rng.choice(EXPRESSION_TOKENS) for _ in range(rng.randint(1, 5))]
    return f"{rng.choice(['x', 'y', 'z'])} = {' '.join(tokens)};{rng.choice([' ', chr(10)])}"


# ------------------------------------------------------------------ mutants

_PIECE_RE = re.compile(r'\s+|#[^\n]*|"[^"\n]*"?|[A-Za-z_][A-Za-z0-9_]*|[0-9]+(?:\.[0-9]+)?|[=!<>]=|.', re.DOTALL)


def stdlib_files() -> list[Path]:
    """Every stdlib/*.rasp file, found now (new library files join the fuzzing)."""
    return sorted(stdlib_dir().glob("*.rasp"))


def split_pieces(source: str) -> list[str]:
    """The source cut into tokens and the whitespace between them (joined back, the source)."""
    return _PIECE_RE.findall(source)


def mutate(rng: random.Random, source: str, count: int | None = None) -> str:
    """`source` with a few random token deletions, duplications, swaps, replacements, or a truncation."""
    pieces = split_pieces(source)
    significant = [i for i, p in enumerate(pieces) if not p.isspace()]
    for _ in range(count or rng.randint(1, 4)):
        if not significant:
            break
        kind = rng.choice(["delete", "delete", "duplicate", "swap", "replace", "insert", "truncate"])
        i = rng.choice(significant)
        if kind == "delete":
            pieces[i] = ""
        elif kind == "duplicate":
            pieces[i] = pieces[i] + " " + pieces[i]
        elif kind == "swap":
            j = rng.choice(significant)
            pieces[i], pieces[j] = pieces[j], pieces[i]
        elif kind == "replace":
            pieces[i] = rng.choice(VOCABULARY)
        elif kind == "insert":
            pieces[i] = pieces[i] + " " + rng.choice(VOCABULARY)
        else:
            text = "".join(pieces)
            return text[: rng.randint(0, len(text))]
    return "".join(pieces)


# ------------------------------------------------------------------ well-typed programs


def random_input(rng: random.Random) -> str:
    """The text of a random non-empty input: a digit string, a word, or a list of numbers."""
    n = rng.randint(1, 7)
    form = rng.choice(["digits", "digits", "letters", "ints", "floats"])
    if form == "digits":
        return '"' + "".join(rng.choice("0123456789") for _ in range(n)) + '"'
    if form == "letters":
        return '"' + "".join(rng.choice("abcab") for _ in range(n)) + '"'
    if form == "ints":
        return "[" + ", ".join(str(rng.randint(0, 9)) for _ in range(n)) + "]"
    return "[" + ", ".join(rng.choice(["0.5", "1.0", "2.5", "3"]) for _ in range(n)) + "]"


_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ProgramWriter:
    """Writes a random well-typed RASP program, one statement at a time.

    Numeric s-ops are built from indices and tokens_int (inputs are digit strings or
    numbers, so tokens_int is defined), string s-ops from tokens_str; selectors from
    comparisons of numeric s-ops. Statements use the names bound before them.
    """

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.nums = ["indices", "indices", "tokens_int", "length"]
        self.strs = ["tokens_str"]
        self.bools: list[str] = []
        self.sels = ["full_s"]
        self.functions: list[str] = []
        self.lazy_names: list[str] = []
        self.counter = 0

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def num(self, depth: int = 2) -> str:
        rng = self.rng
        if depth <= 0 or rng.random() < 0.3:
            return rng.choice(self.nums) if rng.random() < 0.8 else str(rng.randint(0, 5))
        form = rng.choice(["arith", "arith", "width", "mean", "round", "ternary", "call", "index", "lib"])
        a, b = self.num(depth - 1), self.num(depth - 1)
        if form == "arith":
            op = rng.choice(["+", "-", "*", "%"])
            return f"({a} {op} {rng.randint(1, 4) if op == '%' else b})"
        if form == "width":
            return f"selector_width({self.sel(depth - 1)})"
        if form == "mean":
            return f"aggregate({self.sel(depth - 1)}, {a}, {rng.randint(0, 3)})"
        if form == "round":
            return f"round({a} / {rng.randint(1, 3)})"
        if form == "ternary":
            return f"({a} if {self.boolean(depth - 1)} else {b})"
        if form == "call" and self.functions:
            return f"{rng.choice(self.functions)}({a}, {b})"
        if form == "index":
            return f"(indices + {a})[{rng.randint(-2, 2)}]"
        if form == "lib":
            return rng.choice([f"shift({a}, 1, 0)", f"count({a}, 1)", f"max({a}, {b})", f"min({a}, {b})",
                               f"sort({a}, {b})", f"indicator({self.boolean(depth - 1)})"])
        return f"({a} + {b})"

    def string(self, depth: int = 2) -> str:
        rng = self.rng
        if depth <= 0 or rng.random() < 0.4:
            return rng.choice(self.strs)
        form = rng.choice(["concat", "categorical", "ternary", "lookup", "shift"])
        if form == "concat":
            return f'({self.string(depth - 1)} + "{rng.choice("xyz")}")'
        if form == "categorical":
            s = self.string(depth - 1)
            return f'aggregate(select({s}, {s}, ==), {s}, "-")'
        if form == "ternary":
            return f'({self.string(depth - 1)} if {self.boolean(depth - 1)} else "_")'
        if form == "lookup":
            return f'"pqrstuvwxy"[{self.num(depth - 1)} % 10]'
        return f'shift({self.string(depth - 1)}, {rng.randint(0, 2)}, "#")'

    def boolean(self, depth: int = 2) -> str:
        rng = self.rng
        if self.bools and rng.random() < 0.3:
            return rng.choice(self.bools)
        form = rng.choice(["compare", "compare", "not", "logic", "in", "str"])
        if form == "compare" or depth <= 0:
            return f"({self.num(depth - 1)} {rng.choice(['==', '!=', '<', '>', '<=', '>='])} {self.num(depth - 1)})"
        if form == "not":
            return f"not {self.boolean(depth - 1)}"
        if form == "logic":
            return f"({self.boolean(depth - 1)} {rng.choice(['and', 'or'])} {self.boolean(depth - 1)})"
        if form == "in":
            return f"({self.num(depth - 1)} in [{rng.randint(0, 3)}, {rng.randint(0, 9)}])"
        return f'({self.string(depth - 1)} == "{rng.choice("0123abc")}")'

    def sel(self, depth: int = 2) -> str:
        rng = self.rng
        if rng.random() < 0.35:
            return rng.choice(self.sels)
        if depth > 0 and rng.random() < 0.2:
            return f"({self.sel(depth - 1)} {rng.choice(['and', 'or'])} {self.sel(depth - 1)})"
        op = rng.choice(["==", "!=", "<", ">", "<=", ">="])
        return f"select({self.num(depth - 1)}, {self.num(depth - 1)}, {op})"

    def statement(self) -> str:
        rng = self.rng
        kind = rng.choice(["num", "num", "str", "bool", "sel", "def", "apply", "values", "for", "example"])
        if kind in ("num", "str", "bool", "sel"):
            name = self.fresh(kind[0])
            expr = {"num": self.num, "str": self.string, "bool": self.boolean, "sel": self.sel}[kind]()
            if kind != "sel" and not any(n in _NAME_RE.findall(expr) for n in self.nums + self.strs + self.bools):
                # make it an s-op, to apply to inputs
                expr = {"num": "({}) + indices * 0", "str": "({}) + tokens_str * 0", "bool": "({}) and indices >= 0"}[
                    kind
                ].format(expr)
            {"num": self.nums, "str": self.strs, "bool": self.bools, "sel": self.sels}[kind].append(name)
            self.lazy_names.append(name)
            return f"{name} = {expr};"
        if kind == "def":
            name = self.fresh("f")
            body = self.num(2).replace("indices", "a").replace("tokens_int", "b")
            self.functions.append(name)
            return f"def {name}(a, b) {{\n    c = a + b;\n    return {body} + c;\n}}"
        if kind == "apply" and self.lazy_names:
            return f"{rng.choice(self.lazy_names)}({random_input(rng)});"
        if kind == "values":
            return rng.choice([
                f"v = [i * {rng.randint(1, 3)} for i in range({rng.randint(0, 5)})];",
                f'd = {{k: len(k) for k in ["a", "bb", "ccc"]}}; d["{rng.choice(["a", "bb"])}"];',
                "z = zip(range(3), [1, 2, 3]); [p[0] + p[1] for p in z];",
                f"round({rng.randint(0, 9)} / {rng.randint(1, 4)}) ^ 2;",
            ])
        if kind == "for":
            name = self.fresh("n")
            self.nums.append(name)
            self.lazy_names.append(name)
            return f"{name} = indices;\nfor i in range({rng.randint(0, 3)}) {{ {name} = {name} + i; }}"
        return f"set example {random_input(rng)}"

    def program(self, statements: int | None = None) -> str:
        count = statements or self.rng.randint(3, 10)
        return "\n".join(self.statement() for _ in range(count)) + "\n"


def random_program(rng: random.Random) -> str:
    return ProgramWriter(rng).program()


def check_against_oracle(session: Session, result: Any) -> list[str]:
    """An s-op a well-typed program binds and shows agrees with the naive evaluator."""
    from naive_evaluator import naive_value  # tests/ is on sys.path in pytest and scripts/fuzz.py

    if not (isinstance(result, Shown) and isinstance(result.value, EvaluatedSOp)) or result.name == "out":
        return []
    node = session.globals.vars.get(result.name)
    if not isinstance(node, SOp):
        return []
    shown = result.value
    try:
        want_values, want_type = naive_value(node, list(shown.tokens))
    except Exception:  # noqa: BLE001 - the engine gave a value where the oracle fails
        return [f"{result.name}: the engine gave {shown.values} but the naive evaluator fails"]
    if want_type != shown.type or not _close(shown.values, want_values):
        return [f"{result.name}: engine {shown.values} {shown.type} != naive {want_values} {want_type}"]
    return []


def _close(got: list, want: list) -> bool:
    if len(got) != len(want):
        return False
    for a, b in zip(got, want, strict=True):
        if isinstance(a, float) or isinstance(b, float):
            if not (a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))):
                return False
        elif a != b:
            return False
    return True


# ------------------------------------------------------------------ hostile inputs


def hostile_cases(slow: bool = True) -> dict[str, str]:
    """name -> source of inputs that have crashed or hung interpreters (slow: with the
    ones that take seconds, left to scripts/fuzz.py; tests/test_fuzz.py has a quick one)."""
    nested = 1000
    cases = {
        "1000 nested parentheses": "x = " + "(" * nested + "1" + ")" * nested + ";",
        "1000 nested lists": "x = " + "[" * nested + "1" + "]" * nested + ";",
        "1000 nested selects": "x = " + "select(" * 300 + "indices" + ", indices, ==)" * 300 + ";",
        "1000 open parentheses": "x = " + "(" * nested + ";",
        "1000 closing brackets": ")]}" * 333 + ";",
        "1000 open braces": "{" * nested,
        "1000 unary minus": "x = " + "-" * nested + "1;",
        "1000 nots on an s-op": "x = " + "not " * nested + "tokens_bool;",
        "1000 index operations": "x = indices" + "[0]" * nested + ";",
        "1000 calls": "def f(a) { return a; }\nx = f" + "(1)" * nested + ";",
        "1000 nested function calls": "def f(a) { return a; }\nx = " + "f(" * nested + "1" + ")" * nested + ";",
        "1000 nested ternaries": "x = " + "1 if True else " * nested + "0;",
        "10^100000": "x = 10^100000; y = x + 1; z = indices + x; z;",
        "a 100000-digit literal": "x = " + "9" * 100_000 + ";",
        "a 5000-digit literal in an s-op": "x = indices + " + "7" * 5000 + ";",
        "1e400": "x = 1e400;",
        "a 400-digit float literal": "x = 1" + "0" * 400 + ".5; y = x * x;",
        "float overflow": "x = 10.0 ^ 400; y = 2.0 ^ 2000; z = indices * 1.0e308;",
        "a huge power": "x = 2 ^ 10000000; y = indices ^ 100000000;",
        "a huge repetition": 'x = "ab" * 100000000000; y = [1] * 100000000000;',
        "a huge range": "x = range(100000000000);",
        "a very long line": "x = " + " + ".join(["indices"] * 3000) + ";",
        "a very long flat sum": "x = " + " + ".join(["1"] * 20_000) + ";",
        "a very long string": 'x = "' + "a" * 1_000_000 + '"; x == x;',
        "a very long name": "x" * 100_000 + " = 1;",
        "many statements on one line": "x = 1; " * 5000,
        "binary garbage": bytes(range(256)).decode("latin-1"),
        "random bytes": random.Random(7).randbytes(4000).decode("latin-1"),
        "NUL characters": "x = 1;\x00\ny = \"a\x00b\";\nz = 2;",
        "a lone surrogate": 'x = "\udcff";\n# \udcff\ny = 1 +; # \udcff',
        "a lone surrogate in a comment": "# \udcff\nx = nope; # \udcff\ny = 1;",
        "unicode names and strings": 'x = "ñ€😀"; y = tokens + x; αβ = 1;',
        "infinite recursion": "def f(a) { return f(a + 1); }\nf(1);",
        "mutual recursion": "def f(a) { return g(a); }\ndef g(a) { return f(a); }\nf(1);",
        "recursion building s-ops": "def f(s) { return f(s + 1); }\nx = f(indices);",
        "recursion in a comprehension": "def f(a) { return [f(a) for i in range(2)]; }\nf(1);",
        "an empty example": 'set example ""\nset example []\nset example {}\nx = indices("");',
        "a bad example": "set example 3\nset example [[1], [2]]\nx = tokens_asis([1, \"a\"]);",
        "a load of nothing": 'load "";\nload "/";\nload "no/such/file";',
        "loading the stdlib again": 'load "rasplib";\nx = length;',
        "draw and analyse": "draw(indices);\nanalyse indices\ndraw(select(indices, indices, <), \"ab\");",
        "exit in the middle": "x = 1;\nexit\ny = 2;",
        "compile oddities": (
            'compile indices max_len 3 vocab "ab" random 3\ncompile full_s\ncompile 1 max_len 2\n'
            'compile tokens vocab [[1]]\ncompile tokens max_len 99999999999999999999 vocab "a" random 0\n'
            'compile indices vocab "" max_len 2\ncompile length max_len 2 vocab [1, True, 1.0, "1"] random 2'
        ),
    }
    if slow:
        cases["a 10^6-token example"] = (
            "set example range(1000000)\nx = indices + 1;\nsel = select(indices, indices, <);"
        )
        cases["a 10^6-token example, width"] = (
            "set example range(1000000)\nw = selector_width(select(indices, indices, ==));"
        )
        cases["a 10^6-character string input"] = (
            's = "' + "ab" * 500_000 + '";\nx = tokens_str == "a";\ny = x(s);\n'
            "z = select(indices, indices, ==)(s);\nw = (indices + 1)(range(1000000));"
        )
    return cases


# ------------------------------------------------------------------ categories


@dataclass
class Case:
    category: str
    name: str
    source: str


def token_cases(rng: random.Random, count: int) -> Iterator[Case]:
    for i in range(count):
        yield Case("tokens", f"tokens #{i}", random_tokens(rng))


def mutant_cases(rng: random.Random, count: int) -> Iterator[Case]:
    files = stdlib_files()
    for i in range(count):
        path = files[i % len(files)]
        yield Case("mutants", f"mutant #{i} of {path.name}", mutate(rng, path.read_text(encoding="utf-8")))


def program_cases(rng: random.Random, count: int) -> Iterator[Case]:
    for i in range(count):
        yield Case("programs", f"program #{i}", random_program(rng))


def hostile_case_list() -> list[Case]:
    return [Case("hostile", name, source) for name, source in hostile_cases().items()]


def check_case(case: Case, seconds: float = 10.0) -> Outcome:
    """Check one case; a mutant of a library file is written to a file and loaded, as the library is."""
    if case.category == "mutants":
        return check_loaded(case.source, seconds)
    extra = check_against_oracle if case.category == "programs" else None
    return check_source(case.source, f"{case.category}.rasp", seconds=seconds, extra=extra)


_SCRATCH: Path | None = None


def check_loaded(text: str, seconds: float = 10.0, name: str = "mutant.rasp") -> Outcome:
    """Write `text` to a scratch file, `load` it, and check that under the property."""
    global _SCRATCH
    if _SCRATCH is None:
        _SCRATCH = Path(tempfile.mkdtemp(prefix="rasp-fuzz-"))
    path = _SCRATCH / name
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    return check_source(f'load "{path}";\n', "loader.rasp", seconds=seconds)
