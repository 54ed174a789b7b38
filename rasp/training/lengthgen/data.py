"""Next-token data for a length-generalisation task (docs/lengthgen.md, 'The data').

The model reads BOS and the sequence but its last token, and at each position predicts the next token.
Only the answer is scored: the positions from the prompt's last token (which predicts the answer's first
token) to the answer's last but one (which predicts its last). For a task with a RASP-L program the
targets there are the program's values (the batch engine, rasp/engine.py), checked against the task's
oracle; for the others, the oracle's answer. Token ids and classes are rasp.training.data.Encoding's,
with the task's tokens as the classes. NumPy only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from ...errors import RaspValueError
from ..data import IGNORED, Encoding, program_outputs
from .tasks import Example, Task, canonical, uncanonical


@dataclass
class NextTokenData:
    """examples; ids (N, W): BOS then each sequence but its last token; labels (N, W): the next token's class at
    the answer's positions, IGNORED elsewhere; lengths (N,): each example's task length."""

    examples: list[Example]
    ids: np.ndarray
    labels: np.ndarray
    lengths: np.ndarray

    def __len__(self) -> int:
        return len(self.examples)


def encoding_of(task: Task) -> Encoding:
    """Token ids 2.. for the task's tokens (0 padding, 1 BOS); the classes are the same tokens."""
    return Encoding(task.vocab, list(task.vocab))


@cache
def program_node(call: str):
    """The s-op of a RASP-L task program, e.g. "count_task(tokens_int)" (load "raspl_tasks")."""
    from ...api import Session

    session = Session()
    session.run(f'load "raspl_tasks"; lengthgen_program = {call};')
    return session["lengthgen_program"].node


def answer_start(example: Example) -> int:
    """The position (in the sequence) whose next token is the answer's first: the prompt's last."""
    return len(example.prompt) - 1


def program_targets(task: Task, examples: list[Example]) -> list[list[int]]:
    """The RASP-L program's prediction at each answer position of each example (hints moved to the
    program's numbering and back), on the sequence but its last token, as a decoder reads it."""
    inputs = [canonical(e.sequence[:-1], e.hint_offset) for e in examples]
    outputs = program_outputs(program_node(task.program), inputs)
    return [uncanonical(out[answer_start(e):], e.hint_offset) for e, out in zip(examples, outputs, strict=True)]


def targets(task: Task, examples: list[Example]) -> list[list[int]]:
    """The next token at each answer position: the program's where the task has one (a RaspValueError if
    it ever differs from the oracle's answer), else the oracle's."""
    if task.program is None:
        return [list(e.answer) for e in examples]
    predicted = program_targets(task, examples)
    for example, got in zip(examples, predicted, strict=True):
        if got != example.answer:
            raise RaspValueError(f"the RASP-L program {task.program} predicts {got} on {example.prompt}, "
                                 f"the task's oracle {example.answer}")
    return predicted


def sample_examples(task: Task, lengths: list[int], rng: np.random.Generator) -> list[Example]:
    return [task.sample(int(n), rng) for n in lengths]


def next_token_data(task: Task, examples: list[Example], lengths: list[int], width: int | None = None) -> NextTokenData:
    """Encode the examples (padded to `width`, default the longest) with their answer targets."""
    answers = targets(task, examples)
    inputs = [e.sequence[:-1] for e in examples]
    shown = [e.prompt[1:] + t for e, t in zip(examples, answers, strict=True)]  # the next token at every position
    width = max(len(items) for items in inputs) + 1 if width is None else width
    ids, labels = encoding_of(task).encode(inputs, shown, width, bos=True)
    prompt_ends = np.array([answer_start(e) for e in examples])
    positions = np.arange(width)[None, :] - 1  # column 0 is BOS
    labels[positions < prompt_ends[:, None]] = IGNORED
    return NextTokenData(examples, ids, labels, np.array(lengths, dtype=np.int32))


def make_data(task: Task, lengths: list[int], seed: int, width: int | None = None) -> NextTokenData:
    """Examples of the given lengths (one each) drawn with `seed`, encoded. (The stream is seeded with
    (seed, 1), so that it is independent of a default_rng(seed) that drew the lengths.)"""
    examples = sample_examples(task, lengths, np.random.default_rng((seed, 1)))
    return next_token_data(task, examples, lengths, width)


def sequence_width(task: Task, length: int) -> int:
    """The model width an example of `length` needs (BOS + sequence - 1), the largest of a few draws."""
    rng = np.random.default_rng(0)
    return max(len(task.sample(length, rng).sequence) for _ in range(8))
