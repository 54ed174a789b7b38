"""Check a compiled transformer against the interpreter.

Every input up to some length (all of them while there are at most EXHAUSTIVE_LIMIT),
then random inputs of the longer lengths up to max_len. For each, the model's output
is compared position by position with the interpreter's value (categorical outputs
exactly, numerical ones within NUMERIC_TOLERANCE), and every head's attention weights
with the hard attention the interpreter's selector prescribes.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import numpy as np

from ..engine import evaluate_batch
from ..errors import RaspError
from ..values import SOp, exact_text
from .transformer import Head, Transformer
from .valueset import value_key

EXHAUSTIVE_LIMIT = 20_000
NUMERIC_TOLERANCE = 1e-6


@dataclass
class Verification:
    checked: int
    exhaustive_up_to: int
    random: int
    mismatches: int
    skipped: int
    first_mismatch: dict | None
    attention_error: float
    attention_tolerance: float
    numeric_error: float

    def to_json(self) -> dict:
        return asdict(self)


def exhaustive_length(vocab_size: int, max_len: int, limit: int = EXHAUSTIVE_LIMIT) -> int:
    """The longest length L such that all inputs of lengths 1..L number at most `limit`."""
    total, length = 0, 0
    while length < max_len and total + vocab_size ** (length + 1) <= limit:
        length += 1
        total += vocab_size ** length
    return length


def test_inputs(vocab: list, max_len: int, random_inputs: int, seed: int = 0,
                limit: int = EXHAUSTIVE_LIMIT) -> tuple[list[list], int, int]:
    """(inputs, exhaustive length, number of random inputs)."""
    full = exhaustive_length(len(vocab), max_len, limit)
    inputs = [list(items) for n in range(1, full + 1) for items in itertools.product(vocab, repeat=n)]
    randoms = 0
    if full < max_len and random_inputs > 0:
        rng = np.random.default_rng(seed)
        lengths = rng.integers(full + 1, max_len + 1, size=random_inputs)
        for n in lengths.tolist():
            inputs.append([vocab[i] for i in rng.integers(0, len(vocab), size=n).tolist()])
        randoms = random_inputs
    return inputs, full, randoms


def verify(model: Transformer, node: SOp, *, random_inputs: int = 1000, seed: int = 0,
           exhaustive_limit: int = EXHAUSTIVE_LIMIT, progress=None) -> Verification:
    """Run the model and the interpreter on the same inputs and compare; progress(stage, done,
    total), if given, is told how far it got (rasp.compiler.compile_program)."""
    inputs, full, randoms = test_inputs(model.vocab, model.max_len, random_inputs, seed, exhaustive_limit)
    if getattr(model, "causal", False):
        inputs += causal_prefixes(inputs[len(inputs) - randoms:], full, seed)
    report = progress or (lambda stage, done, total: None)
    report(f"verifying {model.name}: the interpreter on {len(inputs):,} inputs", 0, 0)
    expected = evaluate_batch(node, inputs)
    heads = [head for layer in model.blocks for head in layer.heads]
    good = [i for i, (_, value) in enumerate(expected) if not isinstance(value, RaspError)]
    # the selectors on the inputs the program does not fail on (the others are not compared), by input;
    # a model loaded from a file (rasp.load_model) has no selector nodes: its attention is not checked
    patterns = [None if head.node is None else dict(zip(good, evaluate_batch(head.node, [inputs[i] for i in good]),
                                                        strict=True)) for head in heads]
    mismatches, first, attention_error, numeric_error = 0, None, 0.0, 0.0
    by_length: dict[int, list[int]] = {}
    for i in good:
        by_length.setdefault(len(inputs[i]), []).append(i)
    done = 0
    for members in (batch for group in by_length.values() for batch in model.batches(group)):
        report(f"verifying {model.name}: the model on {len(good):,} inputs", done, len(good))
        done += len(members)
        ids = np.array([model.token_ids(inputs[m]) for m in members])
        weights: list[np.ndarray] = []
        residual = model.residual(ids, attention=weights)
        got = model.decode(residual[:, 1:, :] @ model.unembedding)
        for row, m in enumerate(members):
            wanted = expected[m][1].to_list()
            position, error = _compare(wanted, got[row], model.output.kind)
            numeric_error = max(numeric_error, error)
            if position is not None:
                mismatches += 1
                if first is None:
                    first = {"input": [exact_text(v) for v in inputs[m]], "position": position,
                             "expected": exact_text(wanted[position]), "got": exact_text(got[row][position])}
        for head, pattern, actual in zip(heads, patterns, weights, strict=True):
            if pattern is not None:
                attention_error = max(attention_error, _attention_error(head, pattern, members, actual))
    return Verification(
        checked=len(good), exhaustive_up_to=full, random=randoms, mismatches=mismatches,
        skipped=len(inputs) - len(good), first_mismatch=first, attention_error=attention_error,
        attention_tolerance=model.attention_tolerance, numeric_error=numeric_error,
    )


def causal_prefixes(inputs: list[list], shortest: int, seed: int = 0) -> list[list]:
    """For a causal model: a random prefix (longer than `shortest`, shorter than the input) of each
    input, so that verification also sees the model on the prefixes a decoder reads."""
    rng = np.random.default_rng(seed + 1)
    prefixes = []
    for items in inputs:
        if len(items) - 1 > shortest:
            prefixes.append(items[: int(rng.integers(shortest + 1, len(items)))])
    return prefixes


def _attention_error(head: Head, pattern: dict[int, tuple], members: list[int], actual: np.ndarray) -> float:
    """The largest difference between a head's weights on a batch (B, n+1, n+1) and the hard
    attention its selector prescribes; inputs whose selector failed are left out."""
    rows = [row for row, m in enumerate(members) if not isinstance(pattern[m][1], RaspError)]
    if not rows:
        return 0.0
    ideal = hard_attention(np.stack([pattern[members[row]][1] for row in rows]), head.with_bos)
    return float(np.abs(actual[rows] - ideal).max())


def hard_attention(selected: np.ndarray, with_bos: bool) -> np.ndarray:
    """The ideal weights (..., n+1, n+1) of a head whose selector matrices are `selected` (..., n, n),
    BOS at 0."""
    n = selected.shape[-1]
    ideal = np.zeros((*selected.shape[:-2], n + 1, n + 1))
    ideal[..., 0, 0] = 1.0
    block = selected.astype(float)
    if with_bos:
        ideal[..., 1:, 0] = 1.0
    else:
        ideal[..., 1:, 0] = block.sum(axis=-1) == 0
    ideal[..., 1:, 1:] = block
    return ideal / ideal.sum(axis=-1, keepdims=True)


def _compare(expected: list, got: list, kind: str) -> tuple[int | None, float]:
    """The first position that differs (None: all agree) and the largest numeric difference."""
    worst, first = 0.0, None
    for position, (e, g) in enumerate(zip(expected, got, strict=True)):
        if kind == "numerical":
            difference = abs(float(e) - float(g))
            worst = max(worst, difference)
            same = difference <= NUMERIC_TOLERANCE * max(1.0, abs(float(e)))
        else:
            same = value_key(e) == value_key(g)
        if not same and first is None:
            first = position
    return first, worst
