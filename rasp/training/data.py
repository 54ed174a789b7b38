"""Training data from a RASP program (docs/training.md, 'The data').

Inputs are drawn from a distribution (uniform random tokens and lengths, or the
paper's Dyck mixture); targets are the program's per-position outputs, computed
by the batch engine (rasp/engine.py, evaluate_batch). Tokens and output values
become integer ids: token ids 0 = padding, 1 = BOS, 2.. the vocabulary; output
classes are the values seen in the training set, sorted. A value that appears only
in validation or test data gets the label UNSEEN (-1): no class predicts it, so that
position counts as wrong.

NumPy only: no JAX here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..engine import evaluate_batch
from ..errors import RaspError, RaspTypeError, RaspValueError
from ..values import SOp, exact_text, is_atom, type_name

PAD, BOS = 0, 1
UNSEEN = -1
NEUTRAL = "x"  # the Dyck mixture's neutral token (docs/training.md, 'The data')


@dataclass(frozen=True)
class Distribution:
    """Where inputs come from: vocab, lengths min_len..max_len (uniform), BOS or not;
    dyck: bracket pairs (e.g. ("()", "{}")) for the paper's Dyck mixture, else None."""

    vocab: tuple
    min_len: int = 1
    max_len: int = 8
    bos: bool = False
    dyck: tuple | None = None
    neutral_rate: float = 0.3


@dataclass
class Dataset:
    """Inputs and targets, padded to one width: ids (N, W) and labels (N, W), W = max_len (+1 with BOS).
    labels are class ids, -2 at padding and at BOS (not scored), UNSEEN for an unknown value."""

    inputs: list[list]
    outputs: list[list]
    ids: np.ndarray
    labels: np.ndarray
    lengths: np.ndarray
    selectors: dict[int, list[np.ndarray]] = field(default_factory=dict)  # id(selector) -> matrix per input

    def __len__(self) -> int:
        return len(self.inputs)


IGNORED = -2


def check_distribution(dist: Distribution) -> None:
    """A RaspError for a vocabulary or length range that cannot produce inputs."""
    if len(dist.vocab) == 0:
        raise RaspValueError("train needs a non-empty vocabulary", hint='e.g. vocab ["a", "b", "c"]')
    if not all(is_atom(v) for v in dist.vocab):
        raise RaspTypeError("the vocabulary must be a list of atoms (ints, floats, strings or bools)")
    kinds = {type_name(v) for v in dist.vocab}
    if len(kinds) > 1:
        raise RaspTypeError(f"the vocabulary mixes {' and '.join(sorted(kinds))}: one type only")
    if len(set(dist.vocab)) != len(dist.vocab):
        repeated = next(v for i, v in enumerate(dist.vocab) if v in dist.vocab[:i])
        raise RaspValueError(f"the vocabulary has a repeated token: {exact_text(repeated)}")
    if not 1 <= dist.min_len <= dist.max_len:
        raise RaspValueError(f"lengths must satisfy 1 <= min_len <= max_len, got {dist.min_len}..{dist.max_len}")
    if dist.dyck is not None:
        brackets = [c for pair in dist.dyck for c in pair]
        missing = [c for c in brackets if c not in dist.vocab]
        if missing:
            raise RaspValueError(f"the Dyck mixture needs the brackets {brackets} in the vocabulary; missing {missing}")


def sample_inputs(dist: Distribution, n: int, rng: np.random.Generator) -> list[list]:
    """n inputs from the distribution."""
    lengths = rng.integers(dist.min_len, dist.max_len + 1, size=n).tolist()
    if dist.dyck is None:
        vocab = list(dist.vocab)
        return [[vocab[i] for i in rng.integers(0, len(vocab), size=length).tolist()] for length in lengths]
    return [_dyck_word(dist, length, rng) for length in lengths]


def _dyck_word(dist: Distribution, length: int, rng: np.random.Generator) -> list:
    """The paper's mixture (docs/training.md, 'The data'): a third balanced words, a third a balanced prefix
    with a random tail, a third random words; each position a neutral token with probability neutral_rate."""
    kind = int(rng.integers(0, 3))
    assert dist.dyck is not None  # only the Dyck mixture comes here
    brackets = [c for pair in dist.dyck for c in pair]
    neutral = [v for v in dist.vocab if v not in brackets]
    if kind == 2:
        return [dist.vocab[i] for i in rng.integers(0, len(dist.vocab), size=length).tolist()]
    prefix = length if kind == 0 else int(rng.integers(0, length + 1))
    word = _balanced(dist, prefix, neutral, rng)
    tail = [dist.vocab[i] for i in rng.integers(0, len(dist.vocab), size=length - len(word)).tolist()]
    return word + tail


def _balanced(dist: Distribution, length: int, neutral: list, rng: np.random.Generator) -> list:
    """A word of at most `length` tokens that is balanced (a random walk that closes what it opened)."""
    assert dist.dyck is not None  # only the Dyck mixture comes here
    word: list = []
    stack: list = []
    while len(word) < length:
        left = length - len(word)
        if neutral and rng.random() < dist.neutral_rate:
            word.append(neutral[int(rng.integers(0, len(neutral)))])
        elif stack and (left <= len(stack) or rng.random() < 0.5):
            word.append(stack.pop())
        elif left - 1 > len(stack):
            pair = dist.dyck[int(rng.integers(0, len(dist.dyck)))]
            word.append(pair[0])
            stack.append(pair[1])
        elif neutral:
            word.append(neutral[int(rng.integers(0, len(neutral)))])
        else:
            break  # odd length left with nothing open: stop short, the tail fills it
    return word


def program_outputs(node: SOp, inputs: list[list]) -> list[list]:
    """The program's value on every input (the batch engine); a RaspError naming the first input it fails on."""
    if not isinstance(node, SOp):
        raise RaspTypeError(f"train needs an s-op, got {type_name(node)}",
                            hint="a selector has no per-position output to learn; train an s-op built from it")
    outputs = []
    for items, value in evaluate_batch(node, inputs):
        if isinstance(value, RaspError):
            shown = "[" + ", ".join(exact_text(v) for v in items or []) + "]"
            reason = re.sub(r"^input \d+: ", "", value.message)  # the batch's index: the input is shown instead
            raise RaspValueError(f"the program fails on a generated input {shown}: {reason}",
                                 hint="choose a vocabulary and lengths on which the program is defined")
        outputs.append(value.to_list())
    return outputs


class Encoding:
    """Tokens and output values to ids and back."""

    def __init__(self, vocab: tuple, classes: list):
        self.vocab = list(vocab)
        self.token_id = {_key(v): i + 2 for i, v in enumerate(self.vocab)}
        self.classes = classes
        self.class_id = {_key(v): i for i, v in enumerate(classes)}

    @property
    def vocab_size(self) -> int:
        return len(self.vocab) + 2

    def encode(self, inputs: list[list], outputs: list[list] | None, width: int, bos: bool) -> tuple:
        n = len(inputs)
        ids = np.full((n, width), PAD, dtype=np.int32)
        labels = np.full((n, width), IGNORED, dtype=np.int32)
        shift = 1 if bos else 0
        for row, items in enumerate(inputs):
            if bos:
                ids[row, 0] = BOS
            try:
                ids[row, shift:shift + len(items)] = [self.token_id[_key(v)] for v in items]
            except KeyError as missing:
                raise RaspValueError(f"token {missing} is not in the training vocabulary") from None
            if outputs is not None:
                labels[row, shift:shift + len(items)] = [self.class_id.get(_key(v), UNSEEN) for v in outputs[row]]
        return ids, labels


def _key(value: Any) -> tuple:
    return (type(value).__name__, value)


def class_values(outputs: list[list]) -> list:
    """The distinct output values, sorted (by their text when types differ)."""
    distinct = {_key(v): v for row in outputs for v in row}
    try:
        return sorted(distinct.values())
    except TypeError:
        return sorted(distinct.values(), key=exact_text)


def make_dataset(node: SOp, dist: Distribution, n: int, seed: int, encoding: Encoding | None = None) -> tuple:
    """(Dataset, Encoding): n inputs from `dist` with seed `seed`, the program's outputs, their ids.
    Without `encoding`, the classes are this data's output values (use it for training data)."""
    check_distribution(dist)
    if n < 1:
        raise RaspValueError(f"the number of examples must be at least 1, got {n}")
    inputs = sample_inputs(dist, n, np.random.default_rng(seed))
    outputs = program_outputs(node, inputs)
    if encoding is None:
        encoding = Encoding(dist.vocab, class_values(outputs))
    width = dist.max_len + (1 if dist.bos else 0)
    ids, labels = encoding.encode(inputs, outputs, width, dist.bos)
    lengths = np.array([len(items) for items in inputs], dtype=np.int32)
    return Dataset(inputs, outputs, ids, labels, lengths), encoding


def selector_targets(selector: Any, inputs: list[list], width: int, bos: bool, always_bos: bool = False) -> np.ndarray:
    """The attention a head implementing `selector` should have, (N, W, W), rows normalised
    (docs/training.md, 'Attention supervision'): each query spreads its weight evenly over the
    keys it selects; a query that selects nothing puts it all on BOS when there is one, else
    spreads it evenly over all the input's positions. With always_bos (a head that computes a
    selector_width, as the compiler builds it) every query also selects BOS. The BOS query row
    (and padding) is zero."""
    shift = 1 if bos else 0
    targets = np.zeros((len(inputs), width, width), dtype=np.float32)
    for row, (_items, matrix) in enumerate(evaluate_batch(selector, inputs)):
        if isinstance(matrix, RaspError):
            raise RaspValueError(f"a selector of the program fails on a generated input: {matrix.message}")
        m = len(inputs[row])
        block = np.asarray(matrix, dtype=np.float32)
        empty = block.sum(axis=1) == 0
        if bos:
            targets[row, 1:m + 1, 0] = 1.0 if always_bos else empty
        else:
            block[empty] = 1.0
        targets[row, shift:shift + m, shift:shift + m] = block
        sums = targets[row].sum(axis=1, keepdims=True)
        targets[row] = np.divide(targets[row], sums, out=np.zeros_like(targets[row]), where=sums > 0)
    return targets


def query_mask(lengths: np.ndarray, width: int, bos: bool) -> np.ndarray:
    """(N, W) 1.0 at the input's positions (not BOS, not padding)."""
    shift = 1 if bos else 0
    positions = np.arange(width)[None, :]
    return ((positions >= shift) & (positions < lengths[:, None] + shift)).astype(np.float32)
