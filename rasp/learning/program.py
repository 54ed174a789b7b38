"""A learned transformer program once every choice is hard: the shared form between the model and the decompiler.

docs/learning.md, 'The discrete program'. The model (rasp/learning/model.py) hardens into a
`Program`; the decompiler turns a `Program` into RASP; `run` is the obviously-correct reference
evaluation of a `Program` (plain loops over positions), against which both are tested.

Semantics, on an input WITHOUT BOS (the model's BOS is a modelling device; here it only
shows as the default of a head that matches nothing):
* Variables are categorical: a name (a RASP identifier) and a tuple of values. `tokens`
  has the vocabulary, `indices` has 0 … max_len-1.
* A `CategoricalHead` at query position i selects the key positions j whose `key` value is
  `predicate[q]`, where q is the query variable's value at i (the predicate maps each query
  value to the one key value it matches, or to None: matches nothing). Of the selected
  positions it reads the value variable at the closest one, smallest |i - j|, ties to the
  smaller j. When none is selected its output is `default` (in the model: attention to BOS).
  Its output variable's values are the value variable's values plus the default.
* A `CountingHead` selects the same way and outputs how many positions it selects
  (0 … max_len): `selector_width` of the select. Its output variable has values 0 … max_len.
* A `CategoricalMLP` reads two variables (possibly the same one twice) and outputs
  `table[(a, b)]`, one of its output values 0 … size-1.
* A `Readout` gives the output: class scores bias[c] + sum over read variables v of
  weights[v][index of v's value][c]; the output is the class of the largest score (ties go
  to the lower class index).
Modules come in layer order; within a layer the heads read only variables of earlier layers
(and tokens, indices), the MLPs also read that layer's heads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Variable:
    name: str
    values: tuple

    def index(self, value: Any) -> int:
        return self.values.index(value)


@dataclass(frozen=True)
class CategoricalHead:
    output: str  # the variable it writes
    layer: int
    head: int
    query: str
    key: str
    value: str
    predicate: tuple  # per query value (in the query variable's order): the key value it matches, or None
    default: Any


@dataclass(frozen=True)
class CountingHead:
    output: str
    layer: int
    head: int
    query: str
    key: str
    predicate: tuple


@dataclass(frozen=True)
class CategoricalMLP:
    output: str
    layer: int
    index: int
    inputs: tuple[str, str]
    table: dict  # (value of inputs[0], value of inputs[1]) -> output value in range(size)
    size: int


@dataclass(frozen=True)
class Readout:
    classes: tuple  # the output values, in class order
    bias: np.ndarray  # (classes,)
    weights: dict  # variable name -> (len(values), classes) array


Module = CategoricalHead | CountingHead | CategoricalMLP


@dataclass(frozen=True)
class Program:
    vocab: tuple
    max_len: int
    modules: tuple  # of Module, in layer order
    readout: Readout
    layers: int
    variables: dict = field(default_factory=dict)  # name -> Variable, inputs and every module output

    @staticmethod
    def input_variables(vocab: Sequence, max_len: int) -> dict:
        return {"tokens": Variable("tokens", tuple(vocab)), "indices": Variable("indices", tuple(range(max_len)))}


def output_values(module: Module, variables: dict, max_len: int) -> tuple:
    """The values of the variable a module writes (see the module docstring)."""
    if isinstance(module, CategoricalHead):
        values = variables[module.value].values
        return values if module.default in values else values + (module.default,)
    if isinstance(module, CountingHead):
        return tuple(range(max_len + 1))
    return tuple(range(module.size))


def _selected(module: CategoricalHead | CountingHead, state: dict, variables: dict, i: int) -> list[int]:
    query = state[module.query][i]
    wanted = module.predicate[variables[module.query].index(query)]
    if wanted is None:
        return []
    return [j for j, key in enumerate(state[module.key]) if key == wanted]


def run_one(program: Program, tokens: Sequence) -> tuple[list, dict]:
    """The output of `program` on one input (no BOS), and every variable's values."""
    if not 1 <= len(tokens) <= program.max_len:
        raise ValueError(f"input length {len(tokens)} outside 1..{program.max_len}")
    variables = program.variables
    state: dict[str, list] = {"tokens": list(tokens), "indices": list(range(len(tokens)))}
    for module in program.modules:
        if isinstance(module, CategoricalMLP):
            a, b = module.inputs
            state[module.output] = [module.table[(x, y)] for x, y in zip(state[a], state[b], strict=True)]
            continue
        column = []
        for i in range(len(tokens)):
            chosen = _selected(module, state, variables, i)
            if isinstance(module, CountingHead):
                column.append(len(chosen))
            elif not chosen:
                column.append(module.default)
            else:
                closest = min(chosen, key=lambda j: (abs(i - j), j))
                column.append(state[module.value][closest])
        state[module.output] = column
    readout = program.readout
    outputs = []
    for i in range(len(tokens)):
        scores = np.array(readout.bias, dtype=float)
        for name, weights in readout.weights.items():
            scores = scores + weights[variables[name].index(state[name][i])]
        outputs.append(readout.classes[int(np.argmax(scores))])
    return outputs, state


def run(program: Program, inputs: Sequence[Sequence]) -> list[list]:
    """`run_one`'s outputs on several inputs."""
    return [run_one(program, tokens)[0] for tokens in inputs]
