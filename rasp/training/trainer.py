"""Training a transformer on a program's data (docs/training.md, 'Training').

Adam (optax) with exponential learning-rate decay per epoch, mini-batches, early stop after
`patience` epochs of perfect validation accuracy, an optional attention-supervision term
attn_c * MSE(attention, selector target) for the heads the analysis assigns to each layer.
Progress goes to a callback; the library never prints.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..analysis import analyse
from ..errors import RaspValueError
from ..values import SelectorWidth, SOp
from .data import IGNORED, Dataset, Distribution, Encoding, make_dataset, query_mask, selector_targets
from .model import Shape, count_params, forward, init_params, sinusoids

VARIANTS = ("predicted", "fewer_heads", "fewer_layers", "fewer_layers_wider")


@dataclass(frozen=True)
class Settings:
    """Everything a run depends on (a run is a pure function of its Settings and program)."""

    layers: int | None = None  # None: the analysis's
    heads: int | None = None  # None: the analysis's widest layer
    d_model: int = 64
    d_ff: int | None = None  # None: 2 * d_model
    variant: str = "predicted"
    examples: int = 2000
    validation: int = 200
    test: int = 500
    epochs: int = 50
    batch: int = 50
    lr: float = 3e-3
    decay: float = 0.98
    patience: int = 3
    supervise: bool = False
    attn_c: float = 100.0
    seed: int = 0


@dataclass
class Progress:
    epoch: int
    loss: float
    validation_accuracy: float
    seconds: float
    temperature: float | None = None  # a learned program's Gumbel temperature (rasp/learning/trainer.py)


@dataclass
class Trained:
    """What a run produced: the figures, the parameters, and what is needed to use them."""

    name: str
    shape: Shape
    distribution: Distribution
    encoding: Encoding
    params: dict
    settings: Settings
    epochs: int
    seconds: float
    token_accuracy: float
    sequence_accuracy: float
    supervised_heads: list[tuple[int, int, str]] = field(default_factory=list)  # (layer, head, selector name)
    heads_matched: list[dict] = field(default_factory=list)
    history: list[Progress] = field(default_factory=list)
    program: SOp | None = field(default=None, repr=False, compare=False)  # not saved: a loaded model has none

    @property
    def param_count(self) -> int:
        return count_params(self.params)

    def predict(self, inputs: list) -> list[list]:
        """The model's output values for each input (a list of tokens, or a string: its characters)."""
        rows = [list(items) for items in inputs]
        width = max(len(r) for r in rows) + (1 if self.distribution.bos else 0)
        ids, _ = self.encoding.encode(rows, None, width, self.distribution.bos)
        positions = jnp.asarray(sinusoids(width, self.shape.d_model))
        guessed = np.asarray(forward(self.params, jnp.asarray(ids), positions)[0].argmax(-1))
        shift = 1 if self.distribution.bos else 0
        return [[self.encoding.classes[c] for c in guessed[i, shift:shift + len(r)]] for i, r in enumerate(rows)]

    def attention(self, items: list) -> np.ndarray:
        """(layers, heads, W, W) the attention weights on one input (W: its length, + 1 with BOS at 0)."""
        from .matching import attention_of

        width = len(items) + (1 if self.distribution.bos else 0)
        ids, _ = self.encoding.encode([list(items)], None, width, self.distribution.bos)
        return attention_of(self, ids)[:, 0]

    def to_json(self) -> dict:
        return {"kind": "trained", "name": self.name, "layers": self.shape.layers,
                "heads": [self.shape.heads] * self.shape.layers, "d_model": self.shape.d_model,
                "params": self.param_count, "examples": self.settings.examples, "epochs": self.epochs,
                "seconds": round(self.seconds, 2), "token_accuracy": self.token_accuracy,
                "sequence_accuracy": self.sequence_accuracy, "supervised": self.settings.supervise,
                "heads_matched": list(self.heads_matched)}

    def save(self, path: str) -> str:
        """Write the model to PATH.npz (parameters and a JSON description); returns the file's name."""
        from .storage import save_npz

        meta = {**self.to_json(), "d_ff": self.shape.d_ff, "heads_per_layer": self.shape.heads,
                "vocab": self.encoding.vocab, "classes": self.encoding.classes,
                "distribution": {"vocab": list(self.distribution.vocab), "min_len": self.distribution.min_len,
                                 "max_len": self.distribution.max_len, "bos": self.distribution.bos},
                "settings": dataclasses.asdict(self.settings)}
        return save_npz(path, jax.device_get(self.params), meta)

    @classmethod
    def load(cls, path: str) -> Trained:
        """A model `save` wrote."""
        from .storage import load_npz

        params, meta = load_npz(path)
        dist = meta["distribution"]
        return cls(name=meta["name"], shape=Shape(meta["layers"], meta["heads_per_layer"], meta["d_model"],
                                                  meta["d_ff"]),
                   distribution=Distribution(tuple(dist["vocab"]), dist["min_len"], dist["max_len"], dist["bos"]),
                   encoding=Encoding(tuple(meta["vocab"]), meta["classes"]), params=params,
                   settings=Settings(**meta["settings"]), epochs=meta["epochs"], seconds=meta["seconds"],
                   token_accuracy=meta["token_accuracy"], sequence_accuracy=meta["sequence_accuracy"],
                   heads_matched=meta["heads_matched"])

    def page(self, items: list | str | None = None) -> str:
        """An HTML page: every head's attention on one input (default: one drawn from the training
        distribution) beside the program selector it matches (rasp/training/page.py)."""
        from .page import page_html

        return page_html(self, items)

    def draw(self, items: list | str | None = None, directory: str | None = None) -> str:
        """Write `page(items)` to DIRECTORY/NAME_trained.html (default: where `draw` writes); returns its name."""
        from .page import write_page

        return write_page(self, items, directory)

    def __repr__(self) -> str:
        from .report import trained_text

        return trained_text(self.to_json())

    def _repr_html_(self) -> str:
        from .page import heads_html
        from .report import trained_html

        return trained_html(self.to_json()) + heads_html(self)


def choose_shape(node: SOp, settings: Settings) -> Shape:
    """The analysis's layers and widest layer's heads, then the variant, then the overrides."""
    analysis = analyse(node)
    layers = max(analysis.layers, 1)
    heads = max(max(analysis.heads, default=1), 1)
    d_model = settings.d_model
    if settings.variant not in VARIANTS:
        raise RaspValueError(f"unknown variant {settings.variant!r}", hint="one of " + ", ".join(VARIANTS))
    if settings.variant == "fewer_heads":
        heads -= 1
    elif settings.variant == "fewer_layers":
        layers -= 1
    elif settings.variant == "fewer_layers_wider":
        layers, heads, d_model = layers - 1, heads * 2, d_model * 2
    layers = settings.layers if settings.layers is not None else layers
    heads = settings.heads if settings.heads is not None else heads
    if layers < 1 or heads < 1:
        raise RaspValueError(f"variant {settings.variant} leaves {plural(layers, 'layer')} and "
                             f"{plural(heads, 'head')} per layer: a model needs at least one of each",
                             hint=f"this program's predicted shape is {plural(analysis.layers, 'layer')}, "
                             f"heads per layer {analysis.heads}")
    if d_model % heads:
        d_model += heads - d_model % heads  # the heads split d_model evenly
    d_ff = settings.d_ff if settings.d_ff is not None else 2 * d_model
    return Shape(layers, heads, d_model, d_ff)


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def check_settings(settings: Settings) -> None:
    checks = [("d_model", settings.d_model, 2), ("examples", settings.examples, 1), ("epochs", settings.epochs, 1),
              ("batch", settings.batch, 1), ("validation", settings.validation, 1), ("test", settings.test, 1)]
    for name, value, least in checks:
        if value < least:
            raise RaspValueError(f"{name} must be at least {least}, got {value}")
    for name, value in (("layers", settings.layers), ("heads", settings.heads)):
        if value is not None and not 1 <= value <= 64:
            raise RaspValueError(f"{name} must be between 1 and 64, got {value}")
    if settings.d_model > 4096:
        raise RaspValueError(f"d_model must be at most 4096, got {settings.d_model}")
    if not 0 < settings.lr < 1 or not 0 < settings.decay <= 1:
        raise RaspValueError("lr must be in (0, 1) and decay in (0, 1]")


def supervised_heads(node: SOp, shape: Shape) -> list[tuple[int, int, object, bool]]:
    """(layer, head, selector node): head j of layer l learns the analysis's j-th head of layer l
    (docs/training.md, 'Attention supervision'); heads beyond the analysis's are free. The flag:
    the head computes a selector_width (its target always includes BOS)."""
    analysis = analyse(node)
    chosen = []
    for layer in analysis.detail[: shape.layers]:
        for j, head in enumerate(layer.heads[: shape.heads]):
            chosen.append((layer.number - 1, j, head.selector, any(isinstance(u, SelectorWidth) for u in head.users)))
    return chosen


def _targets(chosen: list, data: Dataset, width: int, bos: bool) -> np.ndarray:
    """(supervised heads, N, W, W) the target attention of every supervised head."""
    if not chosen:
        return np.zeros((0, len(data), width, width), dtype=np.float32)
    return np.stack([selector_targets(sel, data.inputs, width, bos, width_head) for _, _, sel, width_head in chosen])


def supervision_loss(attention, targets, queries, keys) -> jnp.ndarray:
    """The mean squared difference over the supervised heads' scored entries (docs/training.md,
    'Attention supervision'): attention and targets (S, B, W, W); queries (B, W) 1.0 at the scored
    query positions (the input's, not BOS or padding); keys (B, W) 1.0 at the real keys (BOS too)."""
    mask = queries[None, :, :, None] * keys[None, :, None, :]
    count = jnp.maximum(mask.sum() * attention.shape[0], 1.0)
    return (((attention - targets) ** 2) * mask).sum() / count


def train_model(node: SOp, dist: Distribution, settings: Settings, name: str = "program",
                progress: Callable[[Progress], None] | None = None) -> Trained:
    """Generate data, build the model, train it, test it, match its heads to the program's selectors."""
    from .matching import match_heads

    check_settings(settings)
    started = time.perf_counter()
    shape = choose_shape(node, settings)
    train, encoding = make_dataset(node, dist, settings.examples, settings.seed)
    valid, _ = make_dataset(node, dist, settings.validation, settings.seed + 1_000_003, encoding)
    test, _ = make_dataset(node, dist, settings.test, settings.seed + 2_000_003, encoding)
    width = train.ids.shape[1]
    positions = jnp.asarray(sinusoids(width, shape.d_model))
    params = init_params(shape, encoding.vocab_size, max(len(encoding.classes), 1), settings.seed)
    chosen = supervised_heads(node, shape) if settings.supervise else []
    targets = _targets(chosen, train, width, dist.bos)
    rows = query_mask(train.lengths, width, dist.bos)
    head_index = (np.array([c[0] for c in chosen], dtype=np.int32), np.array([c[1] for c in chosen], dtype=np.int32))
    steps_per_epoch = max(len(train) // settings.batch, 1)
    schedule = optax.exponential_decay(settings.lr, steps_per_epoch, settings.decay, staircase=True)
    optimiser = optax.adam(schedule)
    state = optimiser.init(params)
    attn_c = settings.attn_c if chosen else 0.0

    def loss_fn(p, ids, labels, target, row):
        logits, attention = forward(p, ids, positions)
        scored = labels >= 0
        safe = jnp.where(scored, labels, 0)
        ce = optax.softmax_cross_entropy_with_integer_labels(logits, safe)
        loss = (ce * scored).sum() / jnp.maximum(scored.sum(), 1)
        if chosen:
            picked = attention[head_index[0], :, head_index[1]]  # (S, B, W, W)
            loss = loss + attn_c * supervision_loss(picked, target, row, (ids != 0).astype(jnp.float32))
        return loss

    @jax.jit
    def step(p, s, ids, labels, target, row):
        loss, grads = jax.value_and_grad(loss_fn)(p, ids, labels, target, row)
        updates, s = optimiser.update(grads, s, p)
        return optax.apply_updates(p, updates), s, loss

    predict = jax.jit(lambda p, ids: forward(p, ids, positions)[0].argmax(-1))
    rng = np.random.default_rng(settings.seed)
    perfect, epochs, history = 0, 0, []
    batch = min(settings.batch, len(train))
    for epoch in range(1, settings.epochs + 1):
        order = rng.permutation(len(train))
        losses = []
        for start in range(0, steps_per_epoch * batch, batch):
            pick = order[start:start + batch]
            params, state, loss = step(params, state, train.ids[pick], train.labels[pick],
                                       targets[:, pick], rows[pick])
            losses.append(float(loss))
        epochs = epoch
        valid_acc = token_accuracy(predictions(predict, params, valid.ids, batch), valid.labels)
        record = Progress(epoch, float(np.mean(losses)), valid_acc, time.perf_counter() - started)
        history.append(record)
        if progress is not None:
            progress(record)
        perfect = perfect + 1 if valid_acc == 1.0 else 0
        if perfect >= settings.patience:
            break
    guessed = predictions(predict, params, test.ids, batch)
    trained = Trained(
        name=name, shape=shape, distribution=dist, encoding=encoding, params=jax.device_get(params),
        settings=settings, epochs=epochs, seconds=0.0, token_accuracy=token_accuracy(guessed, test.labels),
        sequence_accuracy=sequence_accuracy(guessed, test.labels),
        supervised_heads=[(layer, head, sel.name) for layer, head, sel, _ in chosen], history=history,
        program=node,
    )
    trained.heads_matched = match_heads(node, trained, test)
    trained.seconds = time.perf_counter() - started
    return trained


def predictions(predict: Callable, params: dict, ids: np.ndarray, batch: int) -> np.ndarray:
    """Class ids (N, W), in batches of a fixed size (the last one padded) so that jit compiles once."""
    out = []
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]
        padded = np.zeros((batch,) + ids.shape[1:], dtype=ids.dtype)
        padded[: len(chunk)] = chunk
        out.append(np.asarray(predict(params, padded))[: len(chunk)])
    return np.concatenate(out)


def token_accuracy(guessed: np.ndarray, labels: np.ndarray) -> float:
    """The share of scored positions (not padding, not BOS) predicted right; UNSEEN labels count wrong."""
    scored = labels != IGNORED
    return float(((guessed == labels) & scored).sum() / max(scored.sum(), 1))


def sequence_accuracy(guessed: np.ndarray, labels: np.ndarray) -> float:
    """The share of sequences with every scored position right."""
    scored = labels != IGNORED
    right = ((guessed == labels) | ~scored).all(axis=1)
    return float(right.mean())
