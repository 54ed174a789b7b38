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
        simpler = _drop_unread(_merge_identical(_prune_readout(program)))
        if _size_key(simpler) == _size_key(program):
            return simpler
        program = simpler


def _size_key(program: Program) -> tuple:
    return len(program.modules), tuple(program.readout.weights)


# ------------------------------------------------------------------ the read-out

def _prune_readout(program: Program) -> Program:
    readout = program.readout
    weights = {name: block for name, block in readout.weights.items() if np.any(np.asarray(block) != 0)}
    weights = _provably_needed(program, weights)
    if list(weights) == list(readout.weights):
        return program
    return replace(program, readout=Readout(readout.classes, readout.bias, weights))


def _provably_needed(program: Program, weights: dict) -> dict:
    """`weights` without each block whose removal leaves the class the same on every value combination."""
    names = list(weights)
    sizes = [len(program.variables[name].values) for name in names]
    if not names or math.prod(sizes) > PROOF_LIMIT:
        return weights
    grids = np.meshgrid(*[np.arange(s) for s in sizes], indexing="ij")
    indices = {name: grid.ravel() for name, grid in zip(names, grids, strict=True)}
    bias = np.asarray(program.readout.bias, dtype=float)

    def classes(kept: list[str]) -> np.ndarray:
        scores = np.broadcast_to(bias, (len(indices[names[0]]), len(bias)))
        for name in kept:  # the order of `run`'s additions
            scores = scores + np.asarray(weights[name])[indices[name]]
        return np.argmax(scores, axis=1)

    reference = classes(names)
    kept = list(names)
    for name in names:
        trial = [n for n in kept if n != name]
        if np.array_equal(classes(trial), reference):
            kept = trial
    return {name: weights[name] for name in kept}


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
        return replace(module, inputs=tuple(alias.get(n, n) for n in module.inputs))
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
