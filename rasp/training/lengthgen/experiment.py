"""One length-generalisation run: train a causal transformer on a task's lengths 1..train_length, then score
it at every test length (docs/lengthgen.md, 'The experiment').

The model is rasp/training/model.py's with the causal mask (forward(..., causal=True)), pre-norm blocks,
and positions "none" (no position encoding: a causal model can still tell positions apart, by counting
with attention) or "sinusoidal" (absolute, for comparison). Training: Adam with cosine decay, mini-batches
drawn from a pool of examples with lengths uniform in 1..train_length, cross-entropy on the answer only.
Evaluation is teacher-forced: a sequence counts as right when every answer token is predicted right,
which is exactly when greedy decoding from the prompt would produce the whole answer.
A run is a pure function of its settings; progress goes to a callback, the library never prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ...errors import RaspValueError
from ..model import Shape, count_params, forward, init_params, sinusoids
from ..trainer import predictions, sequence_accuracy, token_accuracy
from .data import NextTokenData, encoding_of, make_data, sequence_width
from .tasks import make_task

POSITIONS = ("none", "sinusoidal")


@dataclass(frozen=True)
class RunSettings:
    """Everything a run depends on."""

    task: str
    train_length: int = 8  # L: training lengths are 1..L
    test_lengths: tuple[int, ...] = tuple(range(1, 17))
    layers: int = 4
    heads: int = 4
    d_model: int = 64
    d_ff: int = 256
    positions: str = "none"
    examples: int = 5000
    test_per_length: int = 100
    steps: int = 2000
    batch: int = 32
    lr: float = 1e-3
    seed: int = 0


def check_run_settings(settings: RunSettings) -> None:
    if settings.positions not in POSITIONS:
        raise RaspValueError(f"unknown positions {settings.positions!r}", hint="one of " + ", ".join(POSITIONS))
    for name in ("train_length", "layers", "heads", "d_model", "examples", "test_per_length", "steps", "batch"):
        if getattr(settings, name) < 1:
            raise RaspValueError(f"{name} must be at least 1, got {getattr(settings, name)}")
    if settings.d_model % settings.heads:
        raise RaspValueError(f"d_model {settings.d_model} is not a multiple of heads {settings.heads}")
    if not settings.test_lengths or min(settings.test_lengths) < 1:
        raise RaspValueError("test lengths must be at least 1")


def position_table(kind: str, width: int, d_model: int) -> np.ndarray:
    """(width, d_model): zeros for "none", else the sinusoids."""
    return np.zeros((width, d_model), np.float32) if kind == "none" else sinusoids(width, d_model)


def run(settings: RunSettings, progress: Callable[[int, float], None] | None = None) -> dict:
    """Train, then evaluate at every test length: the settings and the figures, as JSON-ready data."""
    check_run_settings(settings)
    started = time.perf_counter()
    task = make_task(settings.task, max(max(settings.test_lengths), settings.train_length))
    encoding = encoding_of(task)
    rng = np.random.default_rng(settings.seed)
    train_lengths = rng.integers(1, settings.train_length + 1, size=settings.examples).tolist()
    train = make_data(task, train_lengths, settings.seed)
    test_width = max(sequence_width(task, n) for n in settings.test_lengths)
    width = max(test_width, train.ids.shape[1])
    positions = jnp.asarray(position_table(settings.positions, width, settings.d_model))
    shape = Shape(settings.layers, settings.heads, settings.d_model, settings.d_ff)
    params = init_params(shape, encoding.vocab_size, len(encoding.classes), settings.seed)
    params, losses = _train(params, train, positions, settings, rng, progress)
    trained_at = time.perf_counter()
    predict = jax.jit(lambda p, ids: forward(p, ids, positions, causal=True)[0].argmax(-1))
    per_length = [_score(predict, params, task, n, settings, test_width) for n in settings.test_lengths]
    return {"settings": {**asdict(settings), "test_lengths": list(settings.test_lengths)},
            "program": task.program, "params": count_params(params), "final_loss": losses[-1],
            "loss_curve": losses[:: max(len(losses) // 20, 1)], "train_seconds": trained_at - started,
            "seconds": time.perf_counter() - started, "per_length": per_length}


CHUNK = 50  # steps per jitted call (a lax.scan), and per point of the loss curve


def _train(params: dict, train: NextTokenData, positions, settings: RunSettings, rng: np.random.Generator,
           progress: Callable[[int, float], None] | None) -> tuple[dict, list[float]]:
    """Adam with cosine decay on the answer's cross-entropy; the mean loss of every CHUNK steps."""
    width = train.ids.shape[1]
    optimiser = optax.adam(optax.cosine_decay_schedule(settings.lr, settings.steps, alpha=0.05))
    state = optimiser.init(params)

    def loss_fn(p, ids, labels):
        logits = forward(p, ids, positions[:width], causal=True)[0]
        scored = labels >= 0
        ce = optax.softmax_cross_entropy_with_integer_labels(logits, jnp.where(scored, labels, 0))
        return (ce * scored).sum() / jnp.maximum(scored.sum(), 1)

    def step(carry, batch):
        p, s = carry
        loss, grads = jax.value_and_grad(loss_fn)(p, *batch)
        updates, s = optimiser.update(grads, s, p)
        return (optax.apply_updates(p, updates), s), loss

    steps = jax.jit(lambda p, s, ids, labels: jax.lax.scan(step, (p, s), (ids, labels)))
    losses: list[float] = []
    done = 0
    while done < settings.steps:
        count = min(CHUNK, settings.steps - done)
        pick = rng.integers(0, len(train), size=(count, settings.batch))
        (params, state), chunk_losses = steps(params, state, train.ids[pick], train.labels[pick])
        done += count
        losses.append(float(np.mean(chunk_losses)))
        if progress is not None:
            progress(done, losses[-1])
    return params, losses


def _score(predict: Callable, params: dict, task, length: int, settings: RunSettings, width: int) -> dict:
    """Token and whole-answer accuracy on test_per_length fresh examples of one length."""
    seed = settings.seed + 7_000_003 + 1009 * length
    data = make_data(task, [length] * settings.test_per_length, seed, width)
    guessed = predictions(predict, params, data.ids, min(settings.batch * 2, settings.test_per_length))
    return {"length": length, "in_training": length <= settings.train_length,
            "token_accuracy": token_accuracy(guessed, data.labels),
            "sequence_accuracy": sequence_accuracy(guessed, data.labels)}
