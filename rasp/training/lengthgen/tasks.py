"""The tasks of the length-generalisation experiment and their sequence formats (docs/lengthgen.md, 'The tasks').

A task draws one example of a size n (its length: how many numbers are counted, tokens copied, sorted,
or whose mode or parity is asked, digits per operand): a prompt and the answer that follows it, computed
by a Python oracle. Five tasks have RASP-L programs (stdlib/raspl_tasks.rasp; their formats are those
programs', docs/raspl.md, 'The task programs'), three do not. Tokens are small ints. NumPy only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ...errors import RaspValueError

# token codes of the addition formats (stdlib/raspl_tasks.rasp): digits 0-9, then these
PLUS, EQUALS, END = 10, 11, 12
HINT_A, HINT_B, HINT_S = 100, 200, 300


@dataclass(frozen=True)
class Example:
    """One sequence: prompt + answer. hint_offset: the addition hints start at 100 + hint_offset
    (not 100), so that training on short numbers still shows every hint (docs/lengthgen.md, 'The tasks')."""

    prompt: list[int]
    answer: list[int]
    hint_offset: int = 0

    @property
    def sequence(self) -> list[int]:
        return self.prompt + self.answer


@dataclass(frozen=True)
class Task:
    """name; program: the RASP-L call (over tokens_int, in raspl_tasks) whose values are the targets, or None;
    sample(n, rng) draws an example of length n; vocab: every token an example up to max_length can hold."""

    name: str
    program: str | None
    sample: Callable[[int, np.random.Generator], Example]
    vocab: tuple[int, ...]
    max_length: int


def _distinct(n: int, low: int, high: int, rng: np.random.Generator) -> list[int]:
    """n distinct ints of low..high-1 in random order."""
    return [int(v) for v in rng.choice(np.arange(low, high), size=n, replace=False)]


def _count(max_length: int) -> Task:
    """start end start start+1 ... end -1: n numbers counted (end = start + n - 1)."""
    top = max_length + 16  # numbers 0..top-1, so that every start is seen in training

    def sample(n: int, rng: np.random.Generator) -> Example:
        start = int(rng.integers(0, top - n + 1))
        return Example([start, start + n - 1], [*range(start, start + n), -1])

    return Task("count", "count_task(tokens_int)", sample, (-1, *range(top)), max_length)


def _mode(max_length: int, symbols: int = 5) -> Task:
    """x1 ... xn 1 m: m the most frequent of the xi (drawn from 2..symbols+1; only inputs with one mode)."""

    def sample(n: int, rng: np.random.Generator) -> Example:
        while True:
            xs = [int(v) for v in rng.integers(2, 2 + symbols, size=n)]
            (top, c1), *rest = Counter(xs).most_common(2) + [(None, 0)]
            if rest[0][1] < c1:
                return Example([*xs, 1], [top])

    return Task("mode", "mode_task(tokens_int)", sample, tuple(range(1, 2 + symbols)), max_length)


def _copy(max_length: int, unique: bool, symbols: int = 4) -> Task:
    """0 x1 ... xn 1 x1 ... xn 1; unique: distinct xi >= 2 (RASP-L), else xi from a few symbols, repeating."""
    top = 2 + (max_length + 8 if unique else symbols)

    def sample(n: int, rng: np.random.Generator) -> Example:
        xs = _distinct(n, 2, top, rng) if unique else [int(v) for v in rng.integers(2, top, size=n)]
        return Example([0, *xs, 1], [*xs, 1])

    program = "copy_unique_task(tokens_int)" if unique else None
    return Task("copy_unique" if unique else "copy_repeat", program, sample, tuple(range(top)), max_length)


def _sort(max_length: int) -> Task:
    """x1 ... xn 1 sorted(x) 1 (distinct xi >= 2)."""
    top = 2 + max_length + 8

    def sample(n: int, rng: np.random.Generator) -> Example:
        xs = _distinct(n, 2, top, rng)
        return Example([*xs, 1], [*sorted(xs), 1])

    return Task("sort", "sort_task(tokens_int)", sample, tuple(range(1, top)), max_length)


def _parity(max_length: int) -> Task:
    """b1 ... bn 2 p: p = the parity of the bits."""

    def sample(n: int, rng: np.random.Generator) -> Example:
        bits = [int(v) for v in rng.integers(0, 2, size=n)]
        return Example([*bits, 2], [sum(bits) % 2])

    return Task("parity", None, sample, (0, 1, 2), max_length)


def _digits(number: int, count: int) -> list[int]:
    return [(number // 10**i) % 10 for i in range(count)]  # least significant first


def _addition(max_length: int, hints: bool) -> Task:
    """Least significant digit first, n digits per operand (zero-padded), n + 1 in the sum:
    with hints, 100+k a0 101+k a1 ... 10 200+k b0 ... 11 300+k s0 ... 12 (k: a random hint offset);
    without, a0 a1 ... 10 b0 b1 ... 11 s0 s1 ... sn 12."""
    places = max_length + 1  # hint indices 0..places-1 over every offset

    def sample(n: int, rng: np.random.Generator) -> Example:
        a, b = (int(rng.integers(0, 10, size=n) @ (10 ** np.arange(n, dtype=object))) for _ in range(2))
        da, db, ds = _digits(a, n), _digits(b, n), _digits(a + b, n + 1)
        if not hints:
            return Example([*da, PLUS, *db, EQUALS], [*ds, END])
        k = int(rng.integers(0, places - n))
        part_a = [t for i, d in enumerate(da) for t in (HINT_A + k + i, d)]
        part_b = [t for i, d in enumerate(db) for t in (HINT_B + k + i, d)]
        part_s = [t for i, d in enumerate(ds) for t in (HINT_S + k + i, d)]
        return Example([*part_a, PLUS, *part_b, EQUALS], [*part_s, END], hint_offset=k)

    vocab = tuple(range(13))
    if hints:
        vocab += tuple(h + i for h in (HINT_A, HINT_B, HINT_S) for i in range(places))
    return Task("add_hints" if hints else "add_plain", "add_reversed_task(tokens_int)" if hints else None,
                sample, vocab, max_length)


def canonical(tokens: list[int], hint_offset: int) -> list[int]:
    """The sequence with its hints moved to start at 100, 200, 300, as the RASP-L program reads them."""
    return [t - hint_offset if t >= HINT_A else t for t in tokens]


def uncanonical(tokens: list[int], hint_offset: int) -> list[int]:
    """canonical's inverse (on the program's predictions: a predicted hint moves back)."""
    return [t + hint_offset if t >= HINT_A else t for t in tokens]


MAKERS: dict[str, Callable[[int], Task]] = {
    "count": _count,
    "mode": _mode,
    "copy_unique": lambda m: _copy(m, unique=True),
    "sort": _sort,
    "add_hints": lambda m: _addition(m, hints=True),
    "parity": _parity,
    "copy_repeat": lambda m: _copy(m, unique=False),
    "add_plain": lambda m: _addition(m, hints=False),
}
TASK_NAMES = tuple(MAKERS)


def make_task(name: str, max_length: int) -> Task:
    """The task `name` with a vocabulary for examples of lengths up to max_length."""
    if name not in MAKERS:
        raise RaspValueError(f"unknown length-generalisation task {name!r}", hint="one of " + ", ".join(MAKERS))
    if max_length < 1:
        raise RaspValueError(f"max_length must be at least 1, got {max_length}")
    return MAKERS[name](max_length)
