"""Random and hand-set learned `Program`s for the decompiler's tests (tests/test_decompile.py)."""

from __future__ import annotations

import random

import numpy as np

from rasp.learning.program import (
    CategoricalHead,
    CategoricalMLP,
    CountingHead,
    Program,
    Readout,
    Variable,
    output_values,
)


def _predicate(rng: random.Random, query_values: tuple, key_values: tuple) -> tuple:
    """A predicate row per query value: random, the identity, or an offset (the forms the decompiler names)."""
    form = rng.choice(["random", "identity", "offset", "constant"])
    ints = all(isinstance(v, int) for v in query_values + key_values)
    if form == "identity":
        return tuple(q if q in key_values else None for q in query_values)
    if form == "offset" and ints:
        c = rng.choice([-2, -1, 1, 2])
        return tuple(q + c if q + c in key_values else None for q in query_values)
    if form == "constant":
        value = rng.choice(key_values)
        return tuple(value for _ in query_values)
    return tuple(rng.choice(list(key_values) + [None]) for _ in query_values)


def _default(rng: random.Random, values: tuple):
    if rng.random() < 0.3:
        return rng.choice(values)
    if all(isinstance(v, str) for v in values):
        return "" if "" not in values else "_"
    return min(v for v in values) - 1


def _table(rng: random.Random, a_values: tuple, b_values: tuple, size: int) -> dict:
    form = rng.choice(["random", "random", "first", "sum", "equal"])
    ints = all(isinstance(v, int) for v in a_values + b_values)
    table = {}
    for x in a_values:
        for y in b_values:
            if form == "first" and isinstance(x, int):
                value = x % size
            elif form == "sum" and ints:
                value = (x + y) % size
            elif form == "equal":
                value = int(x == y)
            else:
                value = rng.randrange(size)
            table[(x, y)] = value
    return table


def random_program(seed: int, vocab: tuple = ("a", "b", "c"), max_len: int = 5, layers: int = 2,
                   heads: int = 2, counting: int = 1, mlps: int = 1, classes: tuple | None = None) -> Program:
    """A random program: heads and MLPs reading random earlier variables, a random float32 read-out."""
    rng = random.Random(seed)
    variables = Program.input_variables(vocab, max_len)
    modules: list = []

    def add(module) -> None:
        modules.append(module)
        variables[module.output] = Variable(module.output, output_values(module, variables, max_len))

    for layer in range(layers):
        readable = list(variables)
        for h in range(heads):
            q, k, v = (rng.choice(readable) for _ in range(3))
            if rng.random() < 0.2:
                v = k
            predicate = _predicate(rng, variables[q].values, variables[k].values)
            add(CategoricalHead(f"attn_{layer}_{h}", layer, h, q, k, v, predicate, _default(rng, variables[v].values)))
        for h in range(counting):
            q, k = rng.choice(readable), rng.choice(readable)
            add(CountingHead(f"count_{layer}_{h}", layer, h, q, k, _predicate(rng, variables[q].values,
                                                                                   variables[k].values)))
        readable = list(variables)
        for m in range(mlps):
            a, b = rng.choice(readable), rng.choice(readable)
            size = rng.randint(2, 4)
            add(CategoricalMLP(f"mlp_{layer}_{m}", layer, m, (a, b),
                               _table(rng, variables[a].values, variables[b].values, size), size))
    classes = classes or tuple(vocab)
    numbers = np.random.default_rng(seed)
    read = [name for name in variables if rng.random() < 0.7] or ["tokens"]
    weights = {}
    for name in read:
        block = numbers.normal(size=(len(variables[name].values), len(classes))).astype(np.float32)
        if rng.random() < 0.2:
            block[:] = 0.0
        weights[name] = block
    bias = numbers.normal(size=len(classes)).astype(np.float32)
    return Program(tuple(vocab), max_len, tuple(modules), Readout(tuple(classes), bias, weights), layers, variables)


def histogram_program(vocab: tuple = ("a", "b", "c"), max_len: int = 6) -> Program:
    """Weights chosen by hand to implement histogram: one counting head of tokens == tokens, read out as the count."""
    variables = Program.input_variables(vocab, max_len)
    head = CountingHead("count_0_0", 0, 0, "tokens", "tokens", tuple(vocab))
    variables["count_0_0"] = Variable("count_0_0", output_values(head, variables, max_len))
    classes = tuple(range(max_len + 1))
    counts = np.eye(max_len + 1, dtype=np.float32)  # the count c scores 1 for class c
    readout = Readout(classes, np.zeros(len(classes), dtype=np.float32),
                      {"count_0_0": counts, "tokens": np.zeros((len(vocab), len(classes)), dtype=np.float32)})
    return Program(tuple(vocab), max_len, (head,), readout, 1, variables)


def random_inputs(vocab: tuple, max_len: int, count: int, seed: int = 0) -> list[list]:
    rng = random.Random(seed)
    return [[rng.choice(vocab) for _ in range(rng.randint(1, max_len))] for _ in range(count)]


def repeated_token_program(vocab: tuple = ("a", "b", "c"), max_len: int = 6) -> Program:
    """Hand-set, for docs/learning.md: 1 where a token repeats the one before it, else 0. A head reads the
    previous token, an MLP compares it with the token; an extra head, a counting head and a read-out block of
    zeros are left in for simplify to remove."""
    variables = Program.input_variables(vocab, max_len)
    modules: list = []

    def add(module) -> None:
        modules.append(module)
        variables[module.output] = Variable(module.output, output_values(module, variables, max_len))

    add(CategoricalHead("attn_0_0", 0, 0, "indices", "indices", "tokens",
                        (None,) + tuple(range(max_len - 1)), ""))
    add(CategoricalHead("attn_0_1", 0, 1, "tokens", "tokens", "indices", tuple("a" for _ in vocab), -1))
    add(CountingHead("count_0_0", 0, 0, "tokens", "tokens", tuple(vocab)))
    table = {(t, p): int(t == p) for t in vocab for p in variables["attn_0_0"].values}
    add(CategoricalMLP("mlp_0_0", 0, 0, ("tokens", "attn_0_0"), table, 2))
    same = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)  # mlp_0_0 = c scores 1 for class c
    readout = Readout((0, 1), np.zeros(2, dtype=np.float32),
                      {"mlp_0_0": same, "count_0_0": np.zeros((max_len + 1, 2), dtype=np.float32)})
    return Program(tuple(vocab), max_len, tuple(modules), readout, 1, variables)


def program_to_json(program: Program) -> dict:
    """A Program as plain JSON (for fixtures of programs learned by the model, e.g. tests/programs/)."""
    def module_json(module) -> dict:
        fields = dict(module.__dict__)
        if isinstance(module, CategoricalMLP):
            fields["table"] = [[a, b, out] for (a, b), out in module.table.items()]
        return {"kind": type(module).__name__, **fields}

    readout = program.readout
    return {"vocab": list(program.vocab), "max_len": program.max_len, "layers": program.layers,
            "variables": {name: list(v.values) for name, v in program.variables.items()},
            "modules": [module_json(m) for m in program.modules],
            "readout": {"classes": list(readout.classes), "bias": [float(b) for b in readout.bias],
                        "dtypes": [str(np.asarray(readout.bias).dtype),
                                   str(np.asarray(next(iter(readout.weights.values()), readout.bias)).dtype)],
                        "weights": {name: np.asarray(w, dtype=float).tolist() for name, w in readout.weights.items()}}}


def program_from_json(data: dict) -> Program:
    """`program_to_json`'s inverse (the bias and weights with the model's dtypes)."""
    kinds = {"CategoricalHead": CategoricalHead, "CountingHead": CountingHead, "CategoricalMLP": CategoricalMLP}
    modules = []
    for item in data["modules"]:
        fields = {k: v for k, v in item.items() if k != "kind"}
        for name in ("predicate", "inputs"):
            if name in fields:
                fields[name] = tuple(fields[name])
        if "table" in fields:
            fields["table"] = {(a, b): out for a, b, out in fields["table"]}
        modules.append(kinds[item["kind"]](**fields))
    readout = data["readout"]
    bias_type, weight_type = readout["dtypes"]
    weights = {name: np.array(w, dtype=weight_type) for name, w in readout["weights"].items()}
    return Program(tuple(data["vocab"]), data["max_len"], tuple(modules),
                   Readout(tuple(readout["classes"]), np.array(readout["bias"], dtype=bias_type), weights),
                   data["layers"], {name: Variable(name, tuple(v)) for name, v in data["variables"].items()})
