"""A learned `Program` as a RASP file that our REPL runs, analyses, draws and compiles.

docs/learning.md, 'Decompiling into RASP'. One named statement per head and MLP, in layer
order, with a comment saying which layer and head it came from; predicates become `select`
with the comparison they are when they are one (`select(key, query - 1, ==)`), else a mapped
`==` (`select(key, {...}[query], ==)`); MLPs become the expression their table is when it is
one, else a dict literal; the read-out becomes a lookup table when it reads at most two
variables, else a score per class and `best_class`. What the RASP needs beyond the built-ins
is stdlib/learned.rasp (`closest`, `lookup2`, `best_class`). Every value is printed exactly.

`agreement` is the automatic check: the text loaded in a fresh session, evaluated on inputs as
a batch, compared with `run`, the reference semantics.
"""

from __future__ import annotations

import itertools
import math
import operator
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import numpy as np

from . import LearnError
from .program import CategoricalHead, CategoricalMLP, CountingHead, Program, run
from .simplify import reachable_values

TABLE_LIMIT = 4096  # the largest read-out domain (product of its variables' value counts) written as a table
COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge, "!=": operator.ne,
}


# ------------------------------------------------------------------ exact literals

def literal(value: Any) -> str:
    """RASP source for an atom, exactly: floats in full without an exponent (RASP has none), strings quoted."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_literal(value)
    if isinstance(value, str):
        if '"' in value or "\n" in value:
            raise LearnError(f"the value {value!r} cannot be written in RASP (a string holds no quote or newline)")
        return f'"{value}"'
    raise LearnError(f"the value {value!r} cannot be written in RASP (not an atom)")


def _float_literal(value: float) -> str:
    if not math.isfinite(value):
        raise LearnError(f"the weight {value} cannot be written in RASP (not a finite number)")
    text = repr(value)
    if "e" in text or "E" in text:  # shortest round-trip digits, written out in full
        text = format(Decimal(text), "f")
    if "." not in text:
        text += ".0"
    return text


def list_literal(values: Sequence) -> str:
    return "[" + ", ".join(literal(v) for v in values) + "]"


def dict_literal(mapping: dict) -> str:
    return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in mapping.items()) + "}"


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _all_ints(values: Sequence) -> bool:
    return bool(values) and all(_is_int(v) for v in values)


def _offset(text: str, c: int) -> str:
    """`text + c` as RASP source (`text - 1` for c = -1, `text` for 0)."""
    if c == 0:
        return text
    return f"{text} + {c}" if c > 0 else f"{text} - {-c}"


# ------------------------------------------------------------------ predicates

def select_text(key: str, key_values: Sequence, query: str, query_values: Sequence, predicate: Sequence) -> str:
    """`select(...)` selecting, for each query value q, exactly the key values equal to its predicate entry
    (none for None): the comparison it is when it is one (docs/learning.md, 'Decompiling into RASP')."""
    target, op = select_target(key_values, query, query_values, predicate)
    return f"select({key}, {target}, {op})"


def select_target(key_values: Sequence, query: str, query_values: Sequence, predicate: Sequence) -> tuple[str, str]:
    """(what the keys are compared with, as RASP, and the comparison) of the select of a predicate."""
    wanted = [[k for k in key_values if p is not None and k == p] for p in predicate]

    def matches(op: str, target: Callable[[Any], Any]) -> bool:
        compare = COMPARISONS[op]
        pairs = zip(query_values, wanted, strict=True)
        return all([k for k in key_values if compare(k, target(q))] == w for q, w in pairs)

    for op, target, text in _candidate_queries(key_values, query, query_values, predicate):
        try:
            if matches(op, target):
                return text, op
        except TypeError:  # an ordering of values that do not order (strings with ints)
            continue
    return _mapped_query(key_values, query, query_values, predicate), "=="


def _candidate_queries(key_values: Sequence, query: str, query_values: Sequence, predicate: Sequence):
    """(op, target function of the query value, its RASP text), simplest first."""
    yield "==", (lambda q: q), query
    present = [p for p in predicate if p is not None]
    if len(present) == len(predicate) and len(set(map(repr, present))) == 1:
        yield "==", (lambda q: present[0]), literal(present[0])
    if not (_all_ints(key_values) and _all_ints(query_values)):
        return
    offsets = sorted({int(p) - int(q) for q, p in zip(query_values, predicate, strict=True) if p is not None}, key=abs)
    for c in offsets:
        yield "==", (lambda q, c=c: q + c), _offset(query, c)
    for c in sorted({int(p) + int(q) for q, p in zip(query_values, predicate, strict=True) if p is not None}):
        yield "==", (lambda q, c=c: c - q), f"{c} - {query}"
    spread = sorted({int(k) - int(q) for k in key_values for q in query_values}, key=abs)
    for op in ("<", ">", "<=", ">=", "!="):
        for c in spread:
            yield op, (lambda q, c=c: q + c), _offset(query, c)


def _mapped_query(key_values: Sequence, query: str, query_values: Sequence, predicate: Sequence) -> str:
    """`{q: predicate[q]}[query]`, with a value no key holds for a query that matches nothing."""
    filler = _absent_value(key_values, [p for p in predicate if p is not None])
    mapping = {q: (filler if p is None else p) for q, p in zip(query_values, predicate, strict=True)}
    return f"{dict_literal(mapping)}[{query}]"


def _absent_value(key_values: Sequence, present: Sequence) -> Any:
    """A value of the keys' type that equals no key value (the model's 'matches nothing')."""
    sample = list(present) or list(key_values)
    if sample and all(isinstance(v, str) for v in sample):
        candidate = "none"
        while any(candidate == k for k in key_values):
            candidate = "_" + candidate
        return candidate
    number = -1
    while any(number == k for k in key_values):
        number -= 1
    return number


# ------------------------------------------------------------------ tables as expressions

def unary_expression(variable: str, values: Sequence, table: dict) -> str:
    """RASP for table[x] with x the variable's value: an expression when the table is one, else a dict lookup."""
    outputs = [table[v] for v in values]
    if _all_ints(values) and _all_ints(outputs):
        differences = {int(o) - int(v) for v, o in zip(values, outputs, strict=True)}
        if len(differences) == 1:
            return _offset(variable, differences.pop())
        sums = {int(o) + int(v) for v, o in zip(values, outputs, strict=True)}
        if len(sums) == 1:
            return f"{sums.pop()} - {variable}"
    if set(outputs) <= {0, 1} and all(_is_int(o) for o in outputs):
        for op, compare in COMPARISONS.items():
            for c in values:
                try:
                    if all(int(compare(v, c)) == o for v, o in zip(values, outputs, strict=True)):
                        return f"indicator({variable} {op} {literal(c)})"
                except TypeError:
                    break
    return f"{dict_literal({v: table[v] for v in values})}[{variable}]"


_Binary = tuple[str, Callable[[Any, Any], Any]]
_ARITHMETIC: list[_Binary] = [
    ("{a} + {b}", operator.add), ("{a} - {b}", operator.sub), ("{b} - {a}", lambda a, b: b - a),
    ("max({a}, {b})", max), ("min({a}, {b})", min),
]


def _indicator(compare: Callable[[Any, Any], Any]) -> Callable[[Any, Any], int]:
    return lambda a, b: int(compare(a, b))


_INDICATORS: list[_Binary] = [(f"indicator({{a}} {op} {{b}})", _indicator(f)) for op, f in COMPARISONS.items()]
BINARY = _ARITHMETIC + _INDICATORS
EQUALITIES = [(template, f) for template, f in BINARY if " == " in template or " != " in template]  # any values


def binary_expression(a: str, a_values: Sequence, b: str, b_values: Sequence, table: dict) -> str:
    """RASP for table[(x, y)], x and y the values of a and b: one input's table when the other does not
    matter, an arithmetic or comparison expression when it is one, else `lookup2` of a dict of dicts."""
    if all(len({repr(table[(x, y)]) for y in b_values}) == 1 for x in a_values):
        return unary_expression(a, a_values, {x: table[(x, b_values[0])] for x in a_values})
    if all(len({repr(table[(x, y)]) for x in a_values}) == 1 for y in b_values):
        return unary_expression(b, b_values, {y: table[(a_values[0], y)] for y in b_values})
    ints = _all_ints(a_values) and _all_ints(b_values)
    for template, function in BINARY if ints else EQUALITIES:
        if all(function(x, y) == table[(x, y)] for x in a_values for y in b_values):
            return template.format(a=a, b=b)
    rows = {x: {y: table[(x, y)] for y in b_values} for x in a_values}
    inner = ", ".join(f"{literal(x)}: {dict_literal(row)}" for x, row in rows.items())
    return f"lookup2({{{inner}}}, {a}, {b})"


# ------------------------------------------------------------------ the program

def rasp_names(program: Program) -> dict[str, str]:
    """Each variable's name in the RASP text: the input s-op for `tokens` (tokens_int for an int vocabulary),
    the module's own name when it is a fresh identifier, else attn_L_H / count_L_H / mlp_L_I."""
    vocab = program.vocab
    tokens = "tokens" if all(isinstance(v, str) for v in vocab) else "tokens_int" if _all_ints(vocab) else "tokens_asis"
    names = {"tokens": tokens, "indices": "indices"}
    for module in program.modules:
        prefix = {CategoricalHead: "attn", CountingHead: "count", CategoricalMLP: "mlp"}[type(module)]
        number = module.index if isinstance(module, CategoricalMLP) else module.head
        default = f"{prefix}_{module.layer}_{number}"
        own = module.output
        fits = re.fullmatch(r"(attn|count|mlp)_\d+_\d+", own) and own not in names.values()
        names[own] = own if fits else default
    if len(set(names.values())) != len(names):
        raise LearnError("two modules of the program write variables of the same name")
    return names


def _statement(module: Any, program: Program, names: dict[str, str], values: dict[str, tuple]) -> tuple[str, str]:
    """(comment, RASP expression) of one module; `values` are the values each variable can hold."""
    if isinstance(module, CategoricalMLP):
        a, b = module.inputs
        where = f"layer {module.layer}, MLP {module.index}: a table of ({a}, {b}), {module.size} output values"
        unused = _unused_input(module, values)
        if unused:
            where += f" (it does not depend on {unused})"
        if a == b:
            table = {x: module.table[(x, x)] for x in values[a]}
            return where, unary_expression(names[a], values[a], table)
        return where, binary_expression(names[a], values[a], names[b], values[b], module.table)
    queries, predicate = _occurring_predicate(module, program, values)
    sel = select_text(names[module.key], values[module.key], names[module.query], queries, predicate)
    if isinstance(module, CountingHead):
        return f"layer {module.layer}, counting head {module.head}: how many keys the select matches", \
            f"selector_width({sel})"
    where = f"layer {module.layer}, head {module.head}: the {module.value} at the closest matching key"
    default = literal(module.default)
    if module.key == "indices":  # at most one key matches: a plain aggregate
        where = f"layer {module.layer}, head {module.head}: the {module.value} at the one index the select matches"
        return where, f"aggregate({sel}, {names[module.value]}, {default})"
    if module.key == module.value:  # every matching key holds the value it matched
        matched = _matched_value(module, names, values, queries, predicate)
        return where, f"{matched} if selector_width({sel}) > 0 else {default}"
    return where, f"closest({sel}, {names[module.value]}, {list_literal(values[module.value])}, {default})"


def _unused_input(mlp: CategoricalMLP, values: dict[str, tuple]) -> str | None:
    """The input of a two-input MLP its table does not depend on, on the values that can occur (or None)."""
    a, b = mlp.inputs
    if a == b:
        return None
    if all(len({repr(mlp.table[(x, y)]) for y in values[b]}) == 1 for x in values[a]):
        return b
    if all(len({repr(mlp.table[(x, y)]) for x in values[a]}) == 1 for y in values[b]):
        return a
    return None


def _occurring_predicate(module: Any, program: Program, values: dict[str, tuple]) -> tuple[tuple, tuple]:
    """The query values that can occur and their predicate entries."""
    pairs = [(q, p) for q, p in zip(program.variables[module.query].values, module.predicate, strict=True)
             if q in values[module.query]]
    return tuple(q for q, _ in pairs), tuple(p for _, p in pairs)


def _matched_value(module: CategoricalHead, names: dict[str, str], values: dict[str, tuple], queries: tuple,
                   predicate: tuple) -> str:
    """The key value a query matches, as RASP: what the select compares the keys with when it is `==`,
    else the predicate as a table."""
    target, op = select_target(values[module.key], names[module.query], queries, predicate)
    if op == "==":
        return f"({target})" if " " in target and not target.startswith("{") else target
    table = {q: (module.default if p is None else p) for q, p in zip(queries, predicate, strict=True)}
    return f"{dict_literal(table)}[{names[module.query]}]"


def readout_statements(program: Program, names: dict[str, str], name: str, occurring: dict[str, tuple]) -> list[str]:
    """The read-out as RASP lines: a table of the variables it reads when that is small, else a score per class
    (over the values the variables can hold)."""
    readout = program.readout
    read = list(readout.weights)
    values = [occurring[v] for v in read]
    domain = math.prod(len(v) for v in values)
    if len(read) <= 2 and domain <= TABLE_LIMIT:
        table = {combo: readout_class(program, dict(zip(read, combo, strict=True)))
                 for combo in itertools.product(*values)}
        comment = "# the read-out, a linear function of " + (", ".join(read) or "nothing") + " and an argmax, " \
                  "as the table it is"
        if not read:
            (only,) = table.values()
            return [comment, f"{name} = {dict_literal({v: only for v in program.vocab})}[{names['tokens']}];"]
        if len(read) == 1:
            expression = unary_expression(names[read[0]], values[0], {c[0]: out for c, out in table.items()})
        else:
            expression = binary_expression(names[read[0]], values[0], names[read[1]], values[1], table)
        return [comment, f"{name} = {expression};"]
    lines = ["# the read-out: per class, a score (its bias plus one table per variable read), then the class",
             "# of the largest score (ties to the earlier class)"]
    scores = []
    for c, klass in enumerate(readout.classes):
        terms = [literal(float(readout.bias[c]))]
        for variable, vals in zip(read, values, strict=True):
            weights, declared = readout.weights[variable], program.variables[variable]
            row = {v: float(weights[declared.index(v)][c]) for v in vals}
            terms.append(f"{dict_literal(row)}[{names[variable]}]")
        lines.append(f"score_{c} = {' + '.join(terms)};  # class {literal(klass)}")
        scores.append(f"score_{c}")
    lines.append(f"{name} = best_class([{', '.join(scores)}], {list_literal(readout.classes)});")
    return lines


def readout_class(program: Program, state: dict) -> Any:
    """The read-out's class for one value of each variable it reads, computed as `run` computes it."""
    readout = program.readout
    scores = np.array(readout.bias, dtype=float)
    for variable, weights in readout.weights.items():
        scores = scores + weights[program.variables[variable].index(state[variable])]
    return readout.classes[int(np.argmax(scores))]


def decompile(program: Program, name: str = "learned") -> str:
    """The text of a .rasp file computing `program`, its result bound to `name`."""
    if not re.fullmatch(r"[A-Za-z_]\w*", name):
        raise LearnError(f"`{name}` is not a RASP name",
                         hint="a name is letters, digits and _, not starting with a digit")
    names = rasp_names(program)
    heads = sum(not isinstance(m, CategoricalMLP) for m in program.modules)
    mlps = len(program.modules) - heads
    lines = [
        "# A transformer program learned from examples, decompiled into RASP (docs/learning.md).",
        f"# Vocabulary {list_literal(program.vocab)}, inputs of length 1 to {program.max_len}; "
        f"{_count(program.layers, 'layer')}, {_count(heads, 'head')}, {_count(mlps, 'MLP')}.",
        f"# Run it: rasp PROGRAM.rasp --eval {name} --inputs INPUTS.jsonl  (one JSON list or string per line)",
        f'# or, in the REPL: load "PROGRAM"; {name}({list_literal(_example(program))});',
        'load "learned";',
        f"set example {list_literal(_example(program))}",
        "",
    ]
    values = reachable_values(program)
    for module in program.modules:
        comment, expression = _statement(module, program, names, values)
        lines += [f"# {comment}", f"{names[module.output]} = {expression};", ""]
    lines += readout_statements(program, names, name, values)
    return "\n".join(lines) + "\n"


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" + ("" if n == 1 else "s")


def _example(program: Program) -> list:
    """The running example the file sets: the vocabulary in order, cut to the longest input."""
    return list(program.vocab[:program.max_len])


# ------------------------------------------------------------------ the check

def agreement(program: Program, source: str, inputs: list[list], name: str = "learned") -> float:
    """The fraction of inputs on which `name`, loaded from `source` in a fresh session and evaluated as a
    batch, gives `run(program, ...)`'s output (1.0: all agree; anything less is a bug of the decompiler)."""
    from ..api import Session
    from ..results import Problem

    if not inputs:
        return 1.0
    session = Session()
    session.run("examples off\n" + source, "<decompiled>")
    results = session.evaluate(name, [list(x) for x in inputs])
    expected = run(program, inputs)
    same = sum(not isinstance(r, Problem) and list(r.values) == list(e) for r, e in zip(results, expected, strict=True))
    return same / len(inputs)
