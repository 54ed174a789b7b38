"""Learning a transformer program from examples (docs/learning.md, 'The model').

The examples are split once (seeded): a held-out share `validation` (at least one example; all
of them when there is only one) on which the HARD program is measured, the rest for training.
Outputs are encoded as classes, the distinct output values of the training examples, sorted:
a value that appears only in held-out outputs has no class, so the program can never produce
it and those positions count as wrong. Training: Adam (lr 5e-2), mini-batches of `batch`
(smaller data: one batch of all of it), `epochs` epochs, the Gumbel temperature annealed
geometrically per step from 3.0 to 0.01; `restarts` independent seeds (seed, seed+1, …),
the one with the best hard-program accuracy on the training examples kept. Progress goes to a
callback once per epoch (epochs numbered across restarts); the library never prints.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..training.data import class_values
from . import LearnError
from .program import Program

START_TEMPERATURE, END_TEMPERATURE = 3.0, 0.01
MAX_VALUES = 64  # the most tokens, input length and var_size (a count has max_len + 1 values): the model grows as D^2
MAX_MODULES = 64


@dataclass(frozen=True)
class LearnSettings:
    layers: int = 2
    categorical_heads: int = 2  # per layer
    counting_heads: int = 1  # per layer
    mlps: int = 1  # per layer
    var_size: int | None = None  # values of an MLP's output variable; None: max(len(vocab), max_len)
    epochs: int = 250
    batch: int = 512
    lr: float = 5e-2
    seed: int = 0
    restarts: int = 3  # independent seeds (seed, seed+1, ...), the best chosen on training accuracy
    validation: float = 0.1  # the share of examples held out to measure the hard program
    hidden: int = 64  # an MLP's hidden width


@dataclass
class Learned:
    program: Program  # the hard model
    settings: LearnSettings
    token_accuracy: float  # of the hard program on the held-out examples
    sequence_accuracy: float
    train_accuracy: float  # token accuracy of the hard program on the training examples
    seconds: float
    test_inputs: list[list]
    test_outputs: list[list]
    restart: int = 0  # which restart was kept
    history: list = field(default_factory=list)  # Progress per epoch


def check_settings(settings: LearnSettings) -> None:
    """A LearnError for settings no model can have."""
    for name, least in (("layers", 1), ("categorical_heads", 0), ("counting_heads", 0), ("mlps", 0),
                        ("epochs", 1), ("batch", 1), ("restarts", 1), ("hidden", 1)):
        value = getattr(settings, name)
        if not isinstance(value, int) or value < least:
            raise LearnError(f"{name} must be an integer of at least {least}, got {value!r}")
    if settings.layers * (settings.categorical_heads + settings.counting_heads + settings.mlps) > MAX_MODULES:
        raise LearnError(f"at most {MAX_MODULES} heads and MLPs in all", hint="fewer layers, heads or MLPs")
    if settings.categorical_heads + settings.counting_heads + settings.mlps == 0:
        raise LearnError("a layer needs at least one head or MLP")
    if settings.var_size is not None and not 2 <= settings.var_size <= MAX_VALUES:
        raise LearnError(f"var_size must be between 2 and {MAX_VALUES}, got {settings.var_size}")
    if not 0 < settings.lr < 1:
        raise LearnError(f"lr must be in (0, 1), got {settings.lr}")
    if not 0 <= settings.validation < 1:
        raise LearnError(f"validation (the held-out share) must be in [0, 1), got {settings.validation}")


def check_examples(inputs: list[list], outputs: list[list]) -> None:
    if not inputs:
        raise LearnError("there are no examples to learn from")
    if len(inputs) != len(outputs):
        raise LearnError(f"{len(inputs)} inputs but {len(outputs)} outputs")
    for number, (items, out) in enumerate(zip(inputs, outputs, strict=True), start=1):
        if not items:
            raise LearnError(f"example {number} has an empty input", hint="every input needs at least one token")
        if len(items) != len(out):
            raise LearnError(f"example {number}: the input has {len(items)} tokens but the output {len(out)}",
                             hint="a learned program gives one output per input position")


def model_shape(settings: LearnSettings, vocab: tuple, max_len: int, classes: int):
    from .model import Shape

    var_size = settings.var_size if settings.var_size is not None else max(len(vocab), max_len)
    if len(vocab) > MAX_VALUES:
        raise LearnError(f"the vocabulary has {len(vocab)} tokens: at most {MAX_VALUES}",
                         hint="a variable is one-hot over its values; map the tokens to fewer")
    if max_len > MAX_VALUES:
        raise LearnError(f"inputs of up to {max_len} tokens: at most {MAX_VALUES}", hint="shorter examples")
    if classes > 4 * MAX_VALUES:
        raise LearnError(f"the outputs have {classes} distinct values: at most {4 * MAX_VALUES}")
    return Shape(len(vocab), max_len, settings.layers, settings.categorical_heads, settings.counting_heads,
                 settings.mlps, max(var_size, 2), classes, settings.hidden)


def split(n: int, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, held-out rows): a seeded permutation, round(share * n) held out (at least one when share
    > 0; one example is both)."""
    if n == 1:
        return np.array([0]), np.array([0])
    order = np.random.default_rng(seed).permutation(n)
    held = min(max(int(round(share * n)), 1 if share > 0 else 0), n - 1)
    return np.sort(order[held:]), np.sort(order[:held])


def labels_of(outputs: list[list], classes: list, max_len: int) -> np.ndarray:
    """(N, max_len + 1) class ids, -1 at BOS, padding and a value with no class."""
    index = {(type(v).__name__, v): c for c, v in enumerate(classes)}
    labels = np.full((len(outputs), max_len + 1), -1, dtype=np.int32)
    for row, out in enumerate(outputs):
        labels[row, 1:len(out) + 1] = [index.get((type(v).__name__, v), -1) for v in out]
    return labels


def learn_examples(inputs: list[list], outputs: list[list], settings: LearnSettings,
                   progress: Callable | None = None) -> Learned:
    """Learn a transformer program mapping each input to its output (lists of equal length), harden it, and
    measure the hard program on held-out examples (the module docstring)."""
    check_settings(settings)
    check_examples(inputs, outputs)
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    from .model import encode, harden

    started = time.perf_counter()
    inputs, outputs = [list(x) for x in inputs], [list(y) for y in outputs]
    vocab = tuple(class_values(inputs))
    max_len = max(len(x) for x in inputs)
    train_rows, test_rows = split(len(inputs), settings.validation, settings.seed)
    train_outputs = [outputs[r] for r in train_rows]
    classes = class_values(train_outputs)
    shape = model_shape(settings, vocab, max_len, len(classes))
    ids, lengths = encode(inputs, vocab, max_len)
    labels = labels_of(outputs, classes, max_len)
    train = (ids[train_rows], lengths[train_rows], labels[train_rows])
    test = (ids[test_rows], lengths[test_rows], labels[test_rows])
    best: tuple | None = None
    history: list = []
    for restart in range(settings.restarts):
        params, accuracy = _train_once(shape, train, test, settings, settings.seed + restart, restart, started,
                                       history, progress)
        if best is None or accuracy > best[1]:
            best = (params, accuracy, restart)
    assert best is not None  # settings.restarts >= 1
    params, train_accuracy, restart = best
    program = harden(params, shape, vocab, tuple(classes))
    guessed = _hard_predictions(params, shape, test[0], test[1])
    token, sequence = accuracies(guessed, test[2], test[1])
    return Learned(program=program, settings=settings, token_accuracy=token, sequence_accuracy=sequence,
                   train_accuracy=train_accuracy, seconds=time.perf_counter() - started,
                   test_inputs=[inputs[r] for r in test_rows], test_outputs=[outputs[r] for r in test_rows],
                   restart=restart, history=history)


def temperatures(steps: int) -> np.ndarray:
    """The Gumbel temperature at each step: geometric from START_TEMPERATURE to END_TEMPERATURE."""
    if steps == 1:
        return np.array([END_TEMPERATURE], dtype=np.float32)
    ratio = (END_TEMPERATURE / START_TEMPERATURE) ** (np.arange(steps) / (steps - 1))
    return (START_TEMPERATURE * ratio).astype(np.float32)


def _train_once(shape, train: tuple, test: tuple, settings: LearnSettings, seed: int, restart: int, started: float,
                history: list, progress: Callable | None) -> tuple[dict, float]:
    """Train one model from `seed`; (its parameters, the hard program's token accuracy on the training data)."""
    import jax
    import optax

    from ..training.trainer import Progress
    from .model import init_params

    params = init_params(shape, seed)
    state = optax.adam(settings.lr).init(params)
    ids, lengths, labels = train
    batch = min(settings.batch, len(ids))
    steps_per_epoch = max(len(ids) // batch, 1)
    schedule = temperatures(steps_per_epoch * settings.epochs)
    step = _step_function(shape, settings.lr)
    rng = np.random.default_rng(seed)
    key = jax.random.PRNGKey(seed)
    for epoch in range(settings.epochs):
        order = rng.permutation(len(ids))
        losses = []
        for s in range(steps_per_epoch):
            pick = order[s * batch:(s + 1) * batch]
            t = epoch * steps_per_epoch + s
            params, state, loss = step(params, state, ids[pick], lengths[pick], labels[pick], schedule[t],
                                       jax.random.fold_in(key, t))
            losses.append(loss)
        if progress is not None or epoch == settings.epochs - 1:
            held = accuracies(_hard_predictions(params, shape, test[0], test[1]), test[2], test[1])[0]
            record = Progress(restart * settings.epochs + epoch + 1, float(np.mean(jax.device_get(losses))), held,
                              time.perf_counter() - started, float(schedule[(epoch + 1) * steps_per_epoch - 1]))
            history.append(record)
            if progress is not None:
                progress(record)
    train_accuracy = accuracies(_hard_predictions(params, shape, ids, lengths), labels, lengths)[0]
    return jax.device_get(params), train_accuracy


_STEP_CACHE: dict = {}


def _step_function(shape, lr: float):
    """The jitted training step for `shape` (one per shape and learning rate, so that restarts compile once)."""
    if (shape, lr) not in _STEP_CACHE:
        _STEP_CACHE[(shape, lr)] = _new_step_function(shape, lr)
    return _STEP_CACHE[(shape, lr)]


def _new_step_function(shape, lr: float):
    import jax
    import jax.numpy as jnp
    import optax

    from .model import forward

    optimiser = optax.adam(lr)

    def loss_fn(params, ids, lengths, labels, temperature, key):
        logits = forward(params, shape, ids, lengths, temperature, key)
        scored = labels >= 0
        ce = optax.softmax_cross_entropy_with_integer_labels(logits, jnp.where(scored, labels, 0))
        return (ce * scored).sum() / jnp.maximum(scored.sum(), 1)

    @jax.jit
    def step(params, state, ids, lengths, labels, temperature, key):
        loss, grads = jax.value_and_grad(loss_fn)(params, ids, lengths, labels, temperature, key)
        updates, state = optimiser.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss

    return step


_HARD_CACHE: dict = {}


def hard_forward(shape):
    """A jitted forward pass of the hard model for `shape`: (params, ids, lengths) -> class ids (B, W)."""
    if shape not in _HARD_CACHE:
        import jax

        from .model import forward

        _HARD_CACHE[shape] = jax.jit(lambda p, ids, lengths: forward(p, shape, ids, lengths, hard=True).argmax(-1))
    return _HARD_CACHE[shape]


def _hard_predictions(params, shape, ids: np.ndarray, lengths: np.ndarray, chunk: int = 512) -> np.ndarray:
    """Class ids (N, W) of the hard model, in chunks of one size (the last padded) so that jit compiles once."""
    predict = hard_forward(shape)
    size = min(chunk, len(ids))
    out = []
    for start in range(0, len(ids), size):
        part_ids = np.full((size, ids.shape[1]), -1, dtype=ids.dtype)
        part_lengths = np.ones(size, dtype=lengths.dtype)
        n = len(ids[start:start + size])
        part_ids[:n], part_lengths[:n] = ids[start:start + size], lengths[start:start + size]
        out.append(np.asarray(predict(params, part_ids, part_lengths))[:n])
    return np.concatenate(out)


def accuracies(guessed: np.ndarray, labels: np.ndarray, lengths: np.ndarray) -> tuple[float, float]:
    """(token accuracy, sequence accuracy) over the input positions; a label -1 there (no class) is wrong."""
    positions = np.arange(labels.shape[1])[None, :]
    scored = (positions >= 1) & (positions <= lengths[:, None])
    right = (guessed == labels) & (labels >= 0)
    token = float((right & scored).sum() / max(scored.sum(), 1))
    sequence = float((right | ~scored).all(axis=1).mean())
    return token, sequence
