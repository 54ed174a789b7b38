"""Simplifying a learned `Program` without changing a single output.

docs/learning.md, 'Decompiling into RASP'. `simplify` repeats, until nothing changes:
* read-out blocks that cannot change the argmax are dropped: a block of zeros always (adding
  0.0 changes no score), any other block only when the read-out's class is proved the same
  without it on every combination of its variables' values (enumerated, with the same float
  additions in the same order as `run`; not tried when there are more than PROOF_LIMIT);
* a module identical to an earlier one (the same kind, inputs and table or predicate) is
  merged into it: its readers read the earlier one (not done when the read-out reads both,
  which would change the read-out's sums);
* modules whose output nothing reads (no live module, no read-out block) are dropped, and
  their variables with them.
Tables that are a comparison or an arithmetic function are written as that expression by
the decompiler (rasp/learning/decompile.py). `program_size` measures a program before and after.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from typing import Any

import numpy as np

from .program import CategoricalHead, CategoricalMLP, CountingHead, Program, Readout

PROOF_LIMIT = 1 << 18  # the most read-out value combinations enumerated to prove a block droppable


def simplify(program: Program) -> Program:
    """`program` with what cannot change its outputs removed (see the module docstring)."""
    while True:
        simpler = _drop_unread(_merge_identical(_prune_readout(_one_input_mlps(program))))
        if _size_key(simpler) == _size_key(program):
            return simpler
        program = simpler


def _size_key(program: Program) -> tuple:
    return len(program.modules), tuple(program.readout.weights)


# ------------------------------------------------------------------ the values that can occur

def reachable_values(program: Program) -> dict[str, tuple]:
    """Per variable, the values it can hold on some input (a superset, in the variable's order): the
    vocabulary and indices; a head's default and, when some query value it can see matches a key value
    that can occur, what it can read (the matched key values when the value is the key); a count's 0 and,
    when it can match, 1 … max_len (only 1 when the key is `indices`); an MLP's table on the values of its
    inputs that can occur. Tables, predicates and the read-out need only these (decompile writes only them)."""
    found: dict[str, tuple] = {"tokens": tuple(program.vocab), "indices": tuple(range(program.max_len))}
    for module in program.modules:
        declared = program.variables[module.output].values
        found[module.output] = _keep(declared, _module_values(module, program, found))
    return found


def _module_values(module: Any, program: Program, found: dict[str, tuple]) -> list:
    if isinstance(module, CategoricalMLP):
        a, b = module.inputs
        if a == b:
            return [module.table[(x, x)] for x in found[a]]
        return [module.table[(x, y)] for x in found[a] for y in found[b]]
    queries = program.variables[module.query].values
    keys = found[module.key]
    wanted = [p for q, p in zip(queries, module.predicate, strict=True)
              if p is not None and q in found[module.query] and any(k == p for k in keys)]
    always = _matches_itself(module, program, found)  # some key always matches: never the default, never 0
    if isinstance(module, CountingHead):
        if not wanted:
            return [0]
        if module.key == "indices":
            return [1] if always else [0, 1]
        return list(range(1 if always else 0, program.max_len + 1))
    if not wanted:
        return [module.default]
    default = [] if always else [module.default]
    if module.key == module.value:
        return [k for k in keys if any(k == p for p in wanted)] + default
    return list(found[module.value]) + default


def _matches_itself(module: Any, program: Program, found: dict[str, tuple]) -> bool:
    """Whether every query position selects at least itself: the key is the query variable and the predicate
    maps every value it can hold to itself."""
    if module.key != module.query:
        return False
    pairs = zip(program.variables[module.query].values, module.predicate, strict=True)
    return all(p is not None and type(p) is type(q) and p == q for q, p in pairs if q in found[module.query])


def _keep(declared: tuple, occurring: list) -> tuple:
    return tuple(v for v in declared if any(v == o for o in occurring))


def _one_input_mlps(program: Program) -> Program:
    """An MLP whose table, on the values that can occur, does not depend on one of its inputs reads the other twice."""
    found = reachable_values(program)
    modules = []
    for module in program.modules:
        if isinstance(module, CategoricalMLP) and module.inputs[0] != module.inputs[1]:
            module = _without_unused_input(module, program, found)
        modules.append(module)
    if all(m is n for m, n in zip(modules, program.modules, strict=True)):
        return program
    return replace(program, modules=tuple(modules))


def _without_unused_input(mlp: CategoricalMLP, program: Program, found: dict[str, tuple]) -> CategoricalMLP:
    a, b = mlp.inputs
    for kept, other, first in ((a, b, True), (b, a, False)):
        def value(x: Any, y: Any, first: bool = first) -> Any:
            return mlp.table[(x, y) if first else (y, x)]

        if all(len({value(x, y) for y in found[other]}) == 1 for x in found[kept]):
            anyone = found[other][0]
            table = {(x, x): value(x, anyone) for x in program.variables[kept].values}
            return replace(mlp, inputs=(kept, kept), table=table)
    return mlp


# ------------------------------------------------------------------ the read-out

def _prune_readout(program: Program) -> Program:
    readout = program.readout
    weights = {name: block for name, block in readout.weights.items() if np.any(np.asarray(block) != 0)}
    weights = _provably_needed(program, weights)
    if list(weights) == list(readout.weights):
        return program
    return replace(program, readout=Readout(readout.classes, readout.bias, weights))


def _provably_needed(program: Program, weights: dict) -> dict:
    """`weights` without each block whose removal leaves the class the same on every combination of values
    the read variables can hold (an MLP of enumerated variables computed from them, not enumerated apart)."""
    names = list(weights)
    if not names:
        return weights
    found = reachable_values(program)
    free = _enumerated(program, names, found)
    if math.prod(len(found[name]) for name in free) > PROOF_LIMIT:
        return weights
    grids = np.meshgrid(*[np.arange(len(found[name])) for name in free], indexing="ij")
    columns = {name: np.array(found[name], dtype=object)[grid.ravel()] for name, grid in zip(free, grids, strict=True)}
    for module in program.modules:  # the MLPs computed from the enumerated variables, in layer order
        if isinstance(module, CategoricalMLP) and module.output not in columns and set(module.inputs) <= set(columns):
            a, b = (columns[n] for n in module.inputs)
            columns[module.output] = np.array([module.table[(x, y)] for x, y in zip(a, b, strict=True)], dtype=object)
    rows = {}
    for name in names:
        place = {v: i for i, v in enumerate(program.variables[name].values)}
        rows[name] = np.array([place[v] for v in columns[name]], dtype=int)
    bias = np.asarray(program.readout.bias, dtype=float)
    count = len(next(iter(columns.values()))) if columns else 1

    def classes(kept: list[str]) -> np.ndarray:
        scores = np.broadcast_to(bias, (count, len(bias)))
        for name in kept:  # the order of `run`'s additions
            scores = scores + np.asarray(weights[name])[rows[name]]
        return np.argmax(scores, axis=1)

    reference = classes(names)
    kept = list(names)
    for name in names:
        trial = [n for n in kept if n != name]
        if np.array_equal(classes(trial), reference):
            kept = trial
    return {name: weights[name] for name in kept}


def _enumerated(program: Program, names: list[str], found: dict[str, tuple]) -> list[str]:
    """The variables to enumerate for the read variables `names`: each MLP among them replaced by its inputs
    (recursively) when that enumerates no more combinations, so that it is computed, not enumerated apart."""
    mlps = {m.output: m for m in program.modules if isinstance(m, CategoricalMLP)}
    chosen = list(dict.fromkeys(names))
    changed = True
    while changed:
        changed = False
        for name in list(chosen):
            if name not in mlps:
                continue
            new = [n for n in dict.fromkeys(mlps[name].inputs) if n not in chosen]
            if math.prod(len(found[n]) for n in new) <= len(found[name]):
                chosen = [n for n in chosen if n != name] + new
                changed = True
    return chosen


# ------------------------------------------------------------------ identical modules

def _merge_identical(program: Program) -> Program:
    alias: dict[str, str] = {}
    seen: dict[tuple, str] = {}
    modules = []
    read_out = set(program.readout.weights)
    for module in program.modules:
        module = _renamed(module, alias)
        signature = _signature(module)
        earlier = seen.get(signature)
        if earlier is not None and not (module.output in read_out and earlier in read_out):
            alias[module.output] = earlier
            continue
        seen.setdefault(signature, module.output)
        modules.append(module)
    if not alias:
        return program
    weights = {alias.get(name, name): block for name, block in program.readout.weights.items()}
    readout = Readout(program.readout.classes, program.readout.bias, weights)
    variables = {name: v for name, v in program.variables.items() if name not in alias}
    return replace(program, modules=tuple(modules), readout=readout, variables=variables)


def _renamed(module: Any, alias: dict[str, str]) -> Any:
    if isinstance(module, CategoricalMLP):
        first, second = module.inputs
        return replace(module, inputs=(alias.get(first, first), alias.get(second, second)))
    fields = {"query": alias.get(module.query, module.query), "key": alias.get(module.key, module.key)}
    if isinstance(module, CategoricalHead):
        fields["value"] = alias.get(module.value, module.value)
    return replace(module, **fields)


def _signature(module: Any) -> tuple:
    """What a module computes, without its name and place."""
    if isinstance(module, CategoricalMLP):
        return ("mlp", module.inputs, module.size, tuple(sorted(module.table.items(), key=repr)))
    if isinstance(module, CountingHead):
        return ("count", module.query, module.key, module.predicate)
    return ("attn", module.query, module.key, module.value, module.predicate, repr(module.default))


# ------------------------------------------------------------------ what nothing reads

def _inputs(module: Any) -> tuple[str, ...]:
    if isinstance(module, CategoricalMLP):
        return module.inputs
    if isinstance(module, CountingHead):
        return module.query, module.key
    return module.query, module.key, module.value


def _drop_unread(program: Program) -> Program:
    live = set(program.readout.weights)
    kept = []
    for module in reversed(program.modules):
        if module.output in live:
            kept.append(module)
            live |= set(_inputs(module))
    kept.reverse()
    if len(kept) == len(program.modules):
        return program
    outputs = {m.output for m in kept}
    variables = {name: v for name, v in program.variables.items() if name in ("tokens", "indices") or name in outputs}
    layers = max((m.layer for m in kept), default=-1) + 1
    return replace(program, modules=tuple(kept), variables=variables, layers=layers)


# ------------------------------------------------------------------ size

def program_size(program_or_source: Program | str) -> dict:
    """{"lines": RASP statement lines (not comments or blank lines) of the decompiled text, "heads": attention
    heads (categorical and counting), "mlps": MLPs}; of a Program (decompiled first) or of decompiled text
    (heads and MLPs counted from the comments the decompiler writes above each statement)."""
    if isinstance(program_or_source, Program):
        from .decompile import decompile

        program = program_or_source
        heads = sum(isinstance(m, (CategoricalHead, CountingHead)) for m in program.modules)
        return {"lines": _statement_lines(decompile(program)), "heads": heads,
                "mlps": len(program.modules) - heads}
    text = program_or_source
    comments = re.findall(r"^# layer \d+, (counting head|head|MLP) \d+:", text, flags=re.MULTILINE)
    return {"lines": _statement_lines(text), "heads": sum(c != "MLP" for c in comments),
            "mlps": comments.count("MLP")}


def _statement_lines(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))
