"""The MLP constructions of rasp.compiler.construct, each exact on every input up to a small
max_len against the interpreter: affine maps of numbers read directly by the first layer,
a direction per gate with the fewest steps (sums, differences, lexicographic orders), and
the choice between the fused and the affine construction. Stated outputs, then the same
property on random programs (tests/fuzzing.py) with each construction forced."""

from __future__ import annotations

import random

import numpy as np
import pytest
from fuzzing import ProgramWriter

import rasp.api
from rasp.compiler import construct
from rasp.compiler.construct import CompileError, compile_sop
from rasp.compiler.verify import verify
from rasp.engine import evaluate_batch
from rasp.values import SOp

BRACKETS = ["(", ")", "{", "}"]


def node_of(source: str, name: str = "x") -> SOp:
    session = rasp.api.Session()
    session.run('load "tracr";\nload "dyck";\n' + source)
    return session[name].node


def exact_everywhere(node: SOp, vocab: list, max_len: int) -> construct.Transformer:
    """Compile, check every input up to max_len (attention included), return the model."""
    model = compile_sop(node, max_len=max_len, vocab=vocab)
    result = verify(model, node, random_inputs=0, exhaustive_limit=10**6)
    assert result.exhaustive_up_to == max_len
    assert result.mismatches == 0, result.first_mismatch
    assert result.attention_error <= model.attention_tolerance
    return model


def mlp_widths(model) -> list[int]:
    return [layer.mlp.hidden for layer in model.blocks]


# ------------------------------------------------------------ stated outputs

SHUFFLE_DYCK2 = "x = shuffle_dyck2(tokens);"


def test_shuffle_dyck2_outputs():
    node = node_of(SHUFFLE_DYCK2)
    model = exact_everywhere(node, BRACKETS, 5)
    cases = {"()": True, "({)}": True, "(}": False, ")(": False, "(()": False, "{}()": True}
    for text, balanced in cases.items():
        assert model.run([list(text)])[0] == [balanced] * len(text)


def test_shuffle_dyck2_layer_one_mlp_is_linear_in_the_values():
    """The balances (differences of two means) are read by W1, not enumerated with their four means:
    hundreds of hidden units at max_len 10 where the fused construction took 33,246."""
    node = node_of(SHUFFLE_DYCK2)
    model = compile_sop(node, max_len=10, vocab=BRACKETS)
    assert mlp_widths(model)[0] < 400
    small = compile_sop(node, max_len=5, vocab=BRACKETS)
    assert mlp_widths(small)[0] < mlp_widths(model)[0]  # grows with the number of balance values


CLOSEST = 'load "learned";\nx = closest(select(tokens, tokens, ==), tokens, ["a", "b", "c", "l"], "-");'
LETTERS = ["a", "b", "c", "l"]


def test_closest_is_exact_with_gates_by_classes_of_values():
    """closest's layer-1 MLP reads `before` (a position times 4 plus a token's place) as a number within
    each of its five classes (`before >= 0`, `before % 4`): exact on every input up to length 6."""
    model = exact_everywhere(node_of(CLOSEST), LETTERS, 6)
    assert model.run([list("abca")])[0] == ["a", "b", "c", "a"]


def test_gates_by_classes_make_closests_mlp_small(monkeypatch):
    """At max_len 10 the MLP has 74 hidden units by classes; one gate per value of `before` took 6,100."""
    node = node_of(CLOSEST)
    by_classes = max(mlp_widths(compile_sop(node, max_len=10, vocab=LETTERS)))
    monkeypatch.setattr(construct, "REGROUP_FROM", float("inf"))  # the construction off
    by_values = max(mlp_widths(compile_sop(node, max_len=10, vocab=LETTERS)))
    assert by_classes < 200 < 1000 < by_values


def test_difference_of_two_means_is_read_as_one_number():
    """x = mean(a) - mean(b) < 0: the hidden units weigh the two mean dimensions by w and -w."""
    node = node_of('up = select(indices, indices, <=); d = aggregate(up, indicator(tokens == "(")) '
                   '- aggregate(up, indicator(tokens == ")")); x = d < 0;')
    model = exact_everywhere(node, BRACKETS, 5)
    means = [d["index"] for d in model.dims() if d["encoding"] == "numerical"]
    assert len(means) == 2
    W1 = model.blocks[0].mlp.W1
    assert W1.shape[1] == 2  # one step: two units
    assert np.allclose(W1[means[0]], -W1[means[1]]) and np.abs(W1[means[0]]).min() > 0


def test_threshold_of_a_sum_of_one_hots_of_numbers():
    """depth = count("(") - count(")") of two categorical counts: one number, not |A|·|B| gates."""
    node = node_of("x = dyck1(tokens);")
    model = exact_everywhere(node, ["(", ")", "a"], 5)
    assert model.run([list("(()")])[0] == ["P", "P", "P"]
    assert model.run([list("())")])[0] == ["P", "T", "F"]


def test_or_of_two_thresholds_takes_a_lexicographic_direction():
    """a < 0 or b < 0 of two differences: far fewer units than points (one step per value of the first)."""
    source = ('up = select(indices, indices, <=); f = aggregate(up, indicator(tokens == "(")); '
              'g = aggregate(up, indicator(tokens == ")")); h = aggregate(up, indicator(tokens == "{")); '
              'k = aggregate(up, indicator(tokens == "}")); x = aggregate(full_s, indicator(f - g < 0 or h - k < 0));')
    node = node_of(source)
    model = exact_everywhere(node, BRACKETS, 5)
    assert model.run([list("()}{")])[0] == [0.25] * 4
    assert mlp_widths(compile_sop(node, max_len=8, vocab=BRACKETS))[0] < 200


def test_dyck2_is_exact_up_to_length_5():
    node = node_of("x = dyck2(tokens);")
    model = exact_everywhere(node, BRACKETS, 5)
    assert model.run([list("({})"), list("({)}")]) == [["P", "P", "P", "T"], ["P", "P", "F", "F"]]


def test_affine_map_of_a_scaled_sum():
    """2 * mean - 1 and -(mean) / 4 + 3: multiples and offsets are affine too."""
    node = node_of('m = aggregate(select(indices, indices, <=), indicator(tokens == "(")); '
                   'y = 2 * m - 1; x = round(4 * (-(y) / 4 + 3));')
    exact_everywhere(node, BRACKETS, 5)


# -------------------------------------------- the same on random programs

RANDOM_PROGRAMS = 60


def _random_programs() -> list[tuple[str, str]]:
    rng = random.Random(20)
    programs = []
    while len(programs) < RANDOM_PROGRAMS:
        writer = ProgramWriter(rng)
        source = writer.program()
        session = rasp.api.Session()
        session.run(source, check=False)
        names = [n for n in writer.lazy_names if n in session and isinstance(getattr(session[n], "node", None), SOp)]
        if names:
            programs.append((source, names[-1]))
    return programs


MEAN_TOKENS = ["a", "b", "c"]


def _affine_program(rng: random.Random) -> str:
    """A random program of the shapes the constructions are for: prefix means and counts of tokens,
    sums, differences and multiples of them, thresholds, and/or, a select on one of them."""
    lines = ["up = select(indices, indices, <=);"]
    for j, token in enumerate(MEAN_TOKENS):
        lines.append(f'm{j} = aggregate(up, indicator(tokens == "{token}"));')
        lines.append(f"c{j} = round((indices + 1) * m{j});")

    def term() -> str:
        kind = rng.choice("mc")
        return f"{kind}{rng.randrange(len(MEAN_TOKENS))}"

    def affine() -> str:
        a, b = term(), term()
        return rng.choice([f"{a} - {b}", f"{a} + {b}", f"2 * {a} - 1", f"{a} - {b} + {term()}", f"-{a} / 2"])

    def predicate() -> str:
        return rng.choice([f"{affine()} < 0", f"{affine()} == 0", f"{affine()} > 1", f"{term()} >= 1"])

    def boolean() -> str:
        return rng.choice([predicate(), f"{predicate()} or {predicate()}", f"{predicate()} and not {predicate()}"])

    lines.append(rng.choice([
        f"x = aggregate(full_s, indicator({boolean()}));",
        f"x = {boolean()};",
        f'x = "T" if {boolean()} else "F";',
        f"x = {affine()};",
        f"x = selector_width(select(c0 - c1, indices, ==)) + indicator({boolean()});",
    ]))
    return "\n".join(lines)


@pytest.mark.slow
@pytest.mark.parametrize("affine", [True, False], ids=["affine", "fused"])
def test_random_affine_programs_are_exact_with_either_construction(monkeypatch, affine):
    _prefer(monkeypatch, affine)
    rng = random.Random(31)
    for _ in range(25):
        source = _affine_program(rng)
        session = rasp.api.Session()
        session.run(source)
        node = session["x"].node
        model = compile_sop(node, max_len=4, vocab=MEAN_TOKENS)
        result = verify(model, node, random_inputs=0)
        assert result.mismatches == 0, (source, result.first_mismatch)
        assert result.attention_error <= model.attention_tolerance, source


def _prefer(monkeypatch, affine: bool) -> None:
    """Make the compiler take the affine construction whenever it has one (or never)."""
    cost = construct._Compiler._cost

    def chosen(self, plan, units):
        uses_affine = any(e.kind == "affine" for _, e in plan[0])
        if uses_affine != affine:
            return float("inf")
        return cost(self, plan, units)

    monkeypatch.setattr(construct._Compiler, "_cost", chosen)
    monkeypatch.setattr(construct, "FUSED_MARGIN", float("inf"))


@pytest.mark.slow
@pytest.mark.parametrize("affine", [True, False], ids=["affine", "fused"])
def test_random_programs_are_exact_with_either_construction(monkeypatch, affine):
    _prefer(monkeypatch, affine)
    compiled = 0
    for source, name in _random_programs():
        session = rasp.api.Session()
        session.run(source, check=False)
        node = session[name].node
        try:
            model = compile_sop(node, max_len=4, vocab=["0", "1", "2"])
        except CompileError:
            continue
        compiled += 1
        result = verify(model, node, random_inputs=0)
        assert result.mismatches == 0, (source, name, result.first_mismatch)
        assert result.attention_error <= model.attention_tolerance, (source, name)
    assert compiled >= RANDOM_PROGRAMS * 0.7


@pytest.mark.parametrize("affine", [True, False], ids=["affine", "fused"])
def test_stated_programs_are_exact_with_either_construction(monkeypatch, affine):
    _prefer(monkeypatch, affine)
    node = node_of("x = dyck1(tokens);")
    model = compile_sop(node, max_len=4, vocab=["(", ")", "a"])
    items = [list("(()"), list("())a"), list("a")]
    want = [v.to_list() for _, v in evaluate_batch(node, items)]
    assert model.run(items) == want
