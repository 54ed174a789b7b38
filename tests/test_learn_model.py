"""The Transformer Programs model (rasp/learning/model.py) and its training (rasp/learning/trainer.py):
the soft model at temperature -> 0 is exactly its hardened Program, a hand-set model is histogram,
a small learning run learns histogram. docs/learning.md, 'The model'."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

pytest.importorskip("jax")
pytest.importorskip("optax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import rasp  # noqa: E402
from rasp.learning import LearnError  # noqa: E402
from rasp.learning.model import Shape, encode, forward, fresh_default, harden, init_params, tie_bias  # noqa: E402
from rasp.learning.program import CategoricalHead, CountingHead, run  # noqa: E402
from rasp.learning.trainer import LearnSettings, learn_examples, split, temperatures  # noqa: E402
from rasp.training.data import program_outputs  # noqa: E402

VOCAB = ("a", "b", "c")


def _random_inputs(rng: np.random.Generator, n: int, max_len: int, vocab: tuple = VOCAB) -> list[list]:
    return [[vocab[i] for i in rng.integers(0, len(vocab), size=int(rng.integers(1, max_len + 1)))]
            for _ in range(n)]


def _model_outputs(params, shape: Shape, inputs: list[list], classes: tuple, vocab: tuple = VOCAB, **options):
    ids, lengths = encode(inputs, vocab, shape.max_len)
    run_forward = jax.jit(lambda p, i, n: forward(p, shape, i, n, **options).argmax(-1))
    guessed = np.asarray(run_forward(params, ids, lengths))
    return [[classes[c] for c in guessed[r, 1:len(x) + 1]] for r, x in enumerate(inputs)]


def _library_node(source: str):
    session = rasp.Session()
    session.run(f'load "paper"; program = {source};')
    return session["program"].node


def _with_random_biases(params: dict, seed: int) -> dict:
    """Random MLP biases: with the initial zeros an MLP whose inputs are both defaults (zero vectors) has
    all-equal output logits, an exact tie the soft model splits evenly and the hard one gives to value 0."""
    rng = np.random.default_rng(seed)
    for layer in params["layers"]:
        if "mlp" in layer:
            for name in ("b1", "b2"):
                layer["mlp"][name] = jnp.asarray(rng.normal(size=layer["mlp"][name].shape), dtype=jnp.float32)
    return params


@pytest.mark.slow
@pytest.mark.parametrize("seed, layers, heads, counts, mlps", [(0, 3, 2, 2, 1), (1, 2, 1, 1, 2), (2, 2, 2, 0, 1)])
def test_soft_model_at_zero_temperature_is_its_hardened_program(seed, layers, heads, counts, mlps):
    classes = (0, 1, 2, "x", "y")
    shape = Shape(len(VOCAB), 5, layers, heads, counts, mlps, 4, len(classes))
    params = _with_random_biases(init_params(shape, seed), seed)
    inputs = _random_inputs(np.random.default_rng(seed), 150, shape.max_len)
    program = harden(params, shape, VOCAB, classes)
    expected = run(program, inputs)
    assert _model_outputs(params, shape, inputs, classes, hard=True) == expected
    assert _model_outputs(params, shape, inputs, classes, temperature=1e-6) == expected
    # the random model is not trivial: its outputs vary
    assert len({v for row in expected for v in row}) > 1


def _histogram_params(shape: Shape) -> dict:
    """One counting head, query tokens, key tokens, predicate identity; read-out: class = the count."""
    params = jax.tree_util.tree_map(jnp.zeros_like, init_params(shape, 0))
    width = shape.width
    counting = params["layers"][0]["counting"]
    counting["query"] = counting["query"].at[0, 0].set(10.0)  # variable 0: tokens
    counting["key"] = counting["key"].at[0, 0].set(10.0)
    counting["predicate"] = 10.0 * jnp.eye(width)[None]
    weights = np.zeros((shape.variables, width, shape.classes), dtype=np.float32)
    for count in range(1, shape.max_len + 1):
        weights[2, count, count - 1] = 1.0  # variable 2: the count; class count - 1 is the value count
    params["readout"] = {"weights": jnp.asarray(weights), "bias": jnp.zeros(shape.classes)}
    return params


def test_hand_set_model_hardens_into_histogram():
    max_len = 6
    classes = tuple(range(1, max_len + 1))
    shape = Shape(len(VOCAB), max_len, 1, 0, 1, 0, 4, len(classes))
    program = harden(_histogram_params(shape), shape, VOCAB, classes)
    (head,) = program.modules
    assert isinstance(head, CountingHead)
    assert (head.query, head.key, head.predicate) == ("tokens", "tokens", VOCAB)
    inputs = [list(word) for n in range(1, max_len + 1) for word in itertools.product(VOCAB, repeat=n)]
    assert run(program, inputs) == program_outputs(_library_node("histogram(tokens)"), inputs)


@pytest.mark.slow
def test_hand_set_histogram_model_runs_as_its_program():
    max_len = 6
    classes = tuple(range(1, max_len + 1))
    shape = Shape(len(VOCAB), max_len, 1, 0, 1, 0, 4, len(classes))
    params = _histogram_params(shape)
    inputs = _random_inputs(np.random.default_rng(3), 200, max_len)
    expected = program_outputs(_library_node("histogram(tokens)"), inputs)
    assert _model_outputs(params, shape, inputs, classes, hard=True) == expected
    assert _model_outputs(params, shape, inputs, classes, temperature=1e-6) == expected


def test_a_head_that_matches_nothing_gives_a_fresh_default():
    classes = (0, 1)
    shape = Shape(len(VOCAB), 4, 2, 2, 0, 0, 4, len(classes))
    program = harden(init_params(shape, 5), shape, VOCAB, classes)
    for module in program.modules:
        assert isinstance(module, CategoricalHead)
        values = program.variables[module.value].values
        value_default = next((m.default for m in program.modules if m.output == module.value), None)
        assert module.default == value_default if value_default is not None else module.default not in values
    assert fresh_default(("a", "")) == "_" and fresh_default((0, 1, -1)) == -2 and fresh_default(()) == -1


def test_tie_bias_prefers_the_closest_key_then_the_smaller_position():
    bias = tie_bias(7)
    for i in range(7):
        order = sorted(range(7), key=lambda j: -bias[i, j])
        assert order == sorted(range(7), key=lambda j: (abs(i - j), j))
    assert bias.max() <= 0 and bias.min() >= -1


def test_temperature_anneals_geometrically_from_3_to_0_01():
    schedule = temperatures(50)
    assert schedule[0] == pytest.approx(3.0) and schedule[-1] == pytest.approx(0.01)
    ratios = schedule[1:] / schedule[:-1]
    assert np.allclose(ratios, ratios[0], rtol=1e-4) and ratios[0] < 1


def test_split_is_seeded_and_disjoint():
    train, held = split(100, 0.1, seed=4)
    assert len(held) == 10 and len(train) == 90 and not set(train) & set(held)
    assert [a.tolist() for a in split(100, 0.1, seed=4)] == [train.tolist(), held.tolist()]
    assert [a.tolist() for a in split(1, 0.1, seed=0)] == [[0], [0]]


@pytest.mark.parametrize("inputs, outputs, settings, message", [
    ([], [], LearnSettings(), "no examples"),
    ([["a", "b"]], [[1]], LearnSettings(), "the input has 2 tokens but the output 1"),
    ([[]], [[]], LearnSettings(), "empty input"),
    ([[f"t{i}" for i in range(65)]], [[0] * 65], LearnSettings(), "the vocabulary has 65 tokens"),
    ([["a"]], [[1]], LearnSettings(layers=0), "layers must be"),
    ([["a"]], [[1]], LearnSettings(categorical_heads=0, counting_heads=0, mlps=0), "at least one head"),
    ([["a"]], [[1]], LearnSettings(validation=1.0), "validation"),
])
def test_bad_examples_and_settings_are_learn_errors(inputs, outputs, settings, message):
    with pytest.raises(LearnError, match=message):
        learn_examples(inputs, outputs, settings)


@pytest.mark.slow
def test_learning_histogram_reaches_every_held_out_example():
    node = _library_node("histogram(tokens)")
    inputs = _random_inputs(np.random.default_rng(0), 800, 5)
    outputs = program_outputs(node, inputs)
    seen = []
    settings = LearnSettings(layers=1, epochs=250, seed=0, restarts=1)
    learned = learn_examples(inputs, outputs, settings, progress=seen.append)
    assert learned.token_accuracy == 1.0 and learned.sequence_accuracy == 1.0
    assert run(learned.program, learned.test_inputs) == learned.test_outputs
    assert [p.epoch for p in seen] == list(range(1, 251))
    assert seen[0].temperature > seen[-1].temperature
