"""Decompiling a learned Program into RASP (rasp/learning/decompile.py), simplifying it
(rasp/learning/simplify.py) and the library the RASP loads (stdlib/learned.rasp), all against
`run`, the reference semantics (docs/learning.md, 'Decompiling into RASP')."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from learned_programs import (
    histogram_program,
    program_from_json,
    random_inputs,
    random_program,
    repeated_token_program,
)

from rasp.api import Session, analyse
from rasp.api import compile as compile_sop
from rasp.cli import main
from rasp.learning import LearnError
from rasp.learning.decompile import agreement, decompile, literal, select_text
from rasp.learning.program import (
    CategoricalHead,
    CategoricalMLP,
    Program,
    Readout,
    Variable,
    output_values,
    run,
    run_one,
)
from rasp.learning.simplify import program_size, reachable_values, simplify
from rasp.results import Problem

INT_VOCAB = (0, 1, 2)


def _loaded(source: str) -> Session:
    session = Session()
    session.run("examples off\n" + source, "<decompiled>")
    return session


# ------------------------------------------------------------------ decompiled = run

@pytest.mark.parametrize("seed", range(6))
def test_the_decompiled_program_agrees_with_run_on_random_programs(seed) -> None:
    program = random_program(seed, layers=2)
    inputs = random_inputs(program.vocab, program.max_len, 40, seed)
    assert agreement(program, decompile(program), inputs) == 1.0


@pytest.mark.parametrize("seed", range(3))
def test_the_decompiled_program_agrees_on_an_int_vocabulary(seed) -> None:
    program = random_program(100 + seed, vocab=INT_VOCAB, max_len=4, classes=(0, 1, 2, 3))
    source = decompile(program)
    assert "tokens_int" in source
    assert agreement(program, source, random_inputs(INT_VOCAB, 4, 40, seed)) == 1.0


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6, 30))
def test_the_decompiled_program_agrees_on_more_random_programs(seed) -> None:
    program = random_program(seed, layers=3, heads=2, counting=2, mlps=2)
    inputs = random_inputs(program.vocab, program.max_len, 100, seed)
    assert agreement(program, decompile(program), inputs) == 1.0
    simpler = simplify(program)
    assert agreement(simpler, decompile(simpler), inputs) == 1.0


def test_agreement_counts_the_inputs_that_differ() -> None:
    program = histogram_program(max_len=4)
    wrong = decompile(program).replace("learned = count_0_0;", "learned = count_0_0 + (indices == 0);")
    inputs = [["a"], ["a", "b"], ["b", "b", "a"], ["c", "c"]]
    assert agreement(program, wrong, inputs) == 0.0
    wrong_later = decompile(program).replace("learned = count_0_0;", "learned = count_0_0 + (indices == 2);")
    assert agreement(program, wrong_later, inputs) == 0.75


# ------------------------------------------------------------------ the hand-set histogram

def test_a_hand_set_histogram_decompiles_into_the_librarys_histogram() -> None:
    program = histogram_program(vocab=("a", "b", "c"), max_len=6)
    source = decompile(simplify(program))
    assert "count_0_0 = selector_width(select(tokens, tokens, ==));" in source
    assert "learned = count_0_0;" in source
    session = _loaded(source)
    session.run('load "histogram"; library = histogram(tokens);')
    inputs = [list(w) for n in range(1, 7) for w in itertools.product("abc", repeat=n)]
    assert len(inputs) == 1092
    ours = session.evaluate("learned", inputs)
    theirs = session.evaluate("library", inputs)
    assert [r.values for r in ours] == [r.values for r in theirs] == run(program, inputs)


def test_the_program_explained_in_the_docs_is_the_decompilers_text() -> None:
    program = repeated_token_program()
    simpler = simplify(program)
    source = decompile(simpler)
    page = (Path(__file__).resolve().parent.parent / "docs" / "learning.md").read_text(encoding="utf-8")
    assert "# file: repeats.rasp\n" + source in page
    assert (program_size(program), program_size(simpler)) == (
        {"lines": 7, "heads": 3, "mlps": 1}, {"lines": 5, "heads": 1, "mlps": 1})
    inputs = [list(w) for n in range(1, 6) for w in itertools.product("abc", repeat=n)]
    assert agreement(program, decompile(program), inputs) == agreement(simpler, source, inputs) == 1.0


def test_a_decompiled_program_compiles_and_verifies() -> None:
    session = _loaded(decompile(simplify(histogram_program(max_len=4))))
    model = compile_sop(session["learned"], max_len=4, vocab="abc", check=100)
    assert model.verification.mismatches == 0 and model.verification.checked > 100


@pytest.mark.slow
def test_a_decompiled_program_with_closest_heads_and_a_float_readout_compiles_and_verifies() -> None:
    program = simplify(random_program(5, max_len=4, layers=1))
    source = decompile(program)
    assert "closest(" in source and "best_class(" in source
    model = compile_sop(_loaded(source)["learned"], max_len=4, vocab=list(program.vocab), check=200)
    assert model.verification.mismatches == 0


# ------------------------------------------------------------------ the file's form

def test_the_file_has_a_header_names_and_comments() -> None:
    program = random_program(3)
    source = decompile(program, name="guess")
    assert source.startswith("# A transformer program learned from examples, decompiled into RASP")
    assert "--eval guess --inputs" in source and 'load "learned";' in source
    for module in program.modules:
        assert f"\n{module.output} = " in source
    assert "# layer 0, head 0:" in source and "# layer 0, counting head 0:" in source
    assert "# layer 0, MLP 0:" in source and "# the read-out" in source
    assert "\nguess = " in source
    assert _loaded(source)["guess"](["a", "b"]).values == run(program, [["a", "b"]])[0]


def test_the_file_runs_from_the_command_line_analyses_and_draws(tmp_path, monkeypatch, capsys) -> None:
    program = random_program(5, layers=1)
    (tmp_path / "prog.rasp").write_text(decompile(program), encoding="utf-8")
    (tmp_path / "in.jsonl").write_text('"abc"\n["b", "a"]\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RASP_DRAW_DIR", str(tmp_path / "drawings"))
    assert main(["prog.rasp", "--eval", "learned", "--inputs", "in.jsonl"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [r["value"] for r in lines[-2:]] == run(program, [list("abc"), ["b", "a"]])
    session = _loaded(decompile(program))
    assert analyse(session["learned"]).layers == 1
    drawn = session.run('draw(learned, "abc");')
    assert not [r for r in drawn if isinstance(r, Problem)]
    assert list((tmp_path / "drawings").glob("*.html"))


def test_a_bad_name_is_an_error() -> None:
    with pytest.raises(LearnError):
        decompile(histogram_program(), name="2x")


# ------------------------------------------------------------------ predicates and tables

@pytest.mark.parametrize(("predicate", "expected"), [
    ((0, 1, 2, 3), "select(k, q, ==)"),
    ((None, 0, 1, 2), "select(k, q - 1, ==)"),
    ((3, 2, 1, 0), "select(k, 3 - q, ==)"),
    ((2, 2, 2, 2), "select(k, 2, ==)"),
    ((2, 0, None, 1), "select(k, {0: 2, 1: 0, 2: -1, 3: 1}[q], ==)"),
])
def test_a_predicate_is_the_comparison_it_is(predicate, expected) -> None:
    assert select_text("k", (0, 1, 2, 3), "q", (0, 1, 2, 3), predicate) == expected


def test_a_predicate_that_is_an_ordering_is_written_as_one() -> None:
    # keys 0 and 5: the one key below the query is 0 for q = 3 and 5, none for q = 0 (no offset of q is it)
    assert select_text("k", (0, 5), "q", (0, 3, 5), (None, 0, 0)) == "select(k, q, <)"
    assert select_text("k", ("a", "b"), "q", ("a", "b"), ("a", "b")) == "select(k, q, ==)"
    assert select_text("k", ("a", "b"), "q", ("x", "y"), ("b", None)) == 'select(k, {"x": "b", "y": "none"}[q], ==)'


def _mlp_program(table: dict, inputs: tuple[str, str], size: int, vocab=INT_VOCAB, max_len: int = 3) -> Program:
    """One MLP over the inputs, read out as its value (classes 0 … size-1)."""
    variables = Program.input_variables(vocab, max_len)
    mlp = CategoricalMLP("mlp_0_0", 0, 0, inputs, table, size)
    variables["mlp_0_0"] = Variable("mlp_0_0", output_values(mlp, variables, max_len))
    readout = Readout(tuple(range(size)), np.zeros(size), {"mlp_0_0": np.eye(size)})
    return Program(tuple(vocab), max_len, (mlp,), readout, 1, variables)


@pytest.mark.parametrize(("function", "expected"), [
    (lambda t, i: t + i, "mlp_0_0 = tokens_int + indices;"),
    (lambda t, i: int(t == i), "mlp_0_0 = indicator(tokens_int == indices);"),
    (lambda t, i: int(t < i), "mlp_0_0 = indicator(tokens_int < indices);"),
    (lambda t, i: t + 1, "mlp_0_0 = tokens_int + 1;"),
    (lambda t, i: 2 - i, "mlp_0_0 = 2 - indices;"),
    (lambda t, i: int(i >= 1), "mlp_0_0 = indicator(indices > 0);"),
    (lambda t, i: (t * i) % 3, "mlp_0_0 = lookup2({0: {0: 0, 1: 0, 2: 0}, 1: {0: 0, 1: 1, 2: 2}, "
                               "2: {0: 0, 1: 2, 2: 1}}, tokens_int, indices);"),
])
def test_a_table_is_the_expression_it_is(function, expected) -> None:
    table = {(t, i): function(t, i) for t in INT_VOCAB for i in range(3)}
    program = _mlp_program(table, ("tokens", "indices"), 5)
    source = decompile(program)
    assert expected in source
    inputs = [list(w) for n in range(1, 4) for w in itertools.product(INT_VOCAB, repeat=n)]
    assert agreement(program, source, inputs) == 1.0


def test_a_readout_of_strings_is_a_table() -> None:
    variables = Program.input_variables(("a", "b"), 3)
    weights = {"tokens": np.array([[1.0, 0.0], [0.0, 1.0]])}
    program = Program(("a", "b"), 3, (), Readout(("x", "y"), np.zeros(2), weights), 0, variables)
    assert 'learned = {"a": "x", "b": "y"}[tokens];' in decompile(program)


# ------------------------------------------------------------------ exact values

@pytest.mark.parametrize("value", [1e-7, 1.5e20, -0.0, -2.5, float(np.float32(0.1)), 3.0, 123456789.125, 1e-300])
def test_a_float_is_printed_exactly(value) -> None:
    text = literal(value)
    assert "e" not in text.lower()
    session = Session()
    session.run(f"x = {text};")
    assert session["x"] == value and str(session["x"]) == str(value)


def test_values_rasp_cannot_write_are_errors() -> None:
    for value in (float("inf"), float("nan"), 'say "hi"', [1]):
        with pytest.raises(LearnError):
            literal(value)


def test_readout_weights_are_the_models_exactly() -> None:
    """Near-ties: the scores must be summed in run's order with run's floats for the argmax to agree."""
    variables = Program.input_variables(("a", "b"), 3)
    third = float(np.float32(1 / 3))
    weights = {"tokens": np.array([[0.1, 0.3], [0.3, 0.1]], dtype=np.float32),
               "indices": np.array([[0.2, 0.0], [0.0, 0.2], [third, third]], dtype=np.float32)}
    program = Program(("a", "b"), 3, (), Readout(("x", "y"), np.array([0.0, 0.0], dtype=np.float32), weights),
                      0, variables)
    inputs = [list(w) for n in range(1, 4) for w in itertools.product("ab", repeat=n)]
    assert agreement(program, decompile(program), inputs) == 1.0


# ------------------------------------------------------------------ simplify

@pytest.mark.parametrize("seed", range(12))
def test_simplify_never_changes_an_output(seed) -> None:
    program = random_program(seed, layers=3)
    inputs = random_inputs(program.vocab, program.max_len, 60, seed)
    simpler = simplify(program)
    assert run(simpler, inputs) == run(program, inputs)
    assert len(simpler.modules) <= len(program.modules)


def _two_heads_program(read: dict, same: bool = True) -> Program:
    vocab, max_len = ("a", "b"), 3
    variables = Program.input_variables(vocab, max_len)
    modules = []
    for h in range(2):
        predicate = ("a", "b") if same or h == 0 else ("b", "a")
        head = CategoricalHead(f"attn_0_{h}", 0, h, "tokens", "tokens", "indices", predicate, -1)
        variables[head.output] = Variable(head.output, output_values(head, variables, max_len))
        modules.append(head)
    weights = {name: np.asarray(block, dtype=np.float32) for name, block in read.items()}
    readout = Readout(("x", "y"), np.zeros(2, dtype=np.float32), weights)
    return Program(vocab, max_len, tuple(modules), readout, 1, variables)


def test_simplify_drops_what_nothing_reads_and_zero_blocks() -> None:
    ones = [[1, 0], [0, 1], [1, 0], [0, 1]]
    program = _two_heads_program({"attn_0_0": ones, "attn_0_1": np.zeros((4, 2))}, same=False)
    simpler = simplify(program)
    assert [m.output for m in simpler.modules] == ["attn_0_0"] and list(simpler.readout.weights) == ["attn_0_0"]
    assert "attn_0_1" not in simpler.variables
    assert program_size(program)["heads"] == 2 and program_size(simpler)["heads"] == 1


def test_simplify_merges_identical_heads_unless_the_readout_reads_both() -> None:
    ones = [[1, 0], [0, 1], [1, 0], [0, 1]]
    only_second = simplify(_two_heads_program({"attn_0_1": ones}))
    assert [m.output for m in only_second.modules] == ["attn_0_0"]
    assert list(only_second.readout.weights) == ["attn_0_0"]
    both = _two_heads_program({"attn_0_0": ones, "attn_0_1": [[0, 1.5], [0, 0], [0, 1.5], [0, 0]]})
    assert len(simplify(both).modules) == 2


def test_simplify_drops_a_block_proved_unable_to_change_the_argmax() -> None:
    strong = [[5, 0], [0, 5], [5, 0], [0, 5]]
    weak = [[0.1, 0.2], [0.3, 0.0], [0.0, 0.1], [0.2, 0.2]]
    program = _two_heads_program({"attn_0_0": strong, "attn_0_1": weak}, same=False)
    simpler = simplify(program)
    assert list(simpler.readout.weights) == ["attn_0_0"]
    flips = [[0, 2], [0, 0], [0, 0], [0, 0]]  # the value 0 of attn_0_1 turns attn_0_0's "x" rows into "y"
    close = _two_heads_program({"attn_0_0": [[1, 0], [0, 1], [1, 0], [0, 1]], "attn_0_1": flips}, same=False)
    assert list(simplify(close).readout.weights) == ["attn_0_0", "attn_0_1"]


def test_program_size_of_a_program_and_of_its_text_agree() -> None:
    program = random_program(7)
    source = decompile(program)
    assert program_size(source) == program_size(program)
    assert program_size(source)["lines"] == len([line for line in source.splitlines()
                                                 if line and not line.startswith("#")])


# ------------------------------------------------------------------ the library

def test_closest_is_the_value_at_the_nearest_selected_key() -> None:
    session = Session()
    session.run('load "learned"; near = closest(select(tokens, tokens, ==), indices, [0, 1, 2, 3, 4, 5], -1);'
                'near_a = closest(select(tokens, "a", ==), tokens, ["a", "b", "c"], "-");')
    for n in range(1, 6):
        for word in itertools.product("abc", repeat=n):
            expected, expected_a = [], []
            for i in range(n):
                same = [j for j in range(n) if word[j] == word[i]]
                expected.append(min(same, key=lambda j: (abs(i - j), j)))
                expected_a.append("a" if "a" in word else "-")
            assert session["near"](list(word)).values == expected
            assert session["near_a"](list(word)).values == expected_a


# ------------------------------------------------------------------ the values that can occur

@pytest.mark.parametrize("seed", range(8))
def test_every_value_a_variable_takes_is_among_its_reachable_values(seed) -> None:
    program = random_program(seed, layers=3, counting=2)
    found = reachable_values(program)
    for tokens in random_inputs(program.vocab, program.max_len, 60, seed):
        _, state = run_one(program, tokens)
        for name, column in state.items():
            assert set(column) <= set(found[name]), (name, column, found[name])


def test_a_head_that_can_match_nothing_holds_only_its_default() -> None:
    vocab, max_len = ("a", "b"), 3
    variables = Program.input_variables(vocab, max_len)
    never = CategoricalHead("attn_0_0", 0, 0, "tokens", "tokens", "indices", ("z", None), -1)  # no key is "z"
    variables["attn_0_0"] = Variable("attn_0_0", output_values(never, variables, max_len))
    mlp = CategoricalMLP("mlp_0_0", 0, 0, ("tokens", "attn_0_0"),
                         {(t, v): int(t == "a") + (v == 2) for t in vocab for v in (0, 1, 2, -1)}, 3)
    variables["mlp_0_0"] = Variable("mlp_0_0", output_values(mlp, variables, max_len))
    readout = Readout((0, 1, 2), np.zeros(3), {"mlp_0_0": np.eye(3)})
    program = Program(vocab, max_len, (never, mlp), readout, 1, variables)
    assert reachable_values(program)["attn_0_0"] == (-1,)
    simpler = simplify(program)  # the MLP, given attn_0_0 is always -1, reads tokens only; the head goes
    assert [m.output for m in simpler.modules] == ["mlp_0_0"] and simpler.modules[0].inputs == ("tokens", "tokens")
    source = decompile(simpler)
    assert "mlp_0_0 = indicator(tokens == \"a\");" in source
    inputs = [list(w) for n in range(1, 4) for w in itertools.product(vocab, repeat=n)]
    assert run(simpler, inputs) == run(program, inputs)
    assert agreement(simpler, source, inputs) == agreement(program, decompile(program), inputs) == 1.0


# ------------------------------------------------------------------ programs the model learned

PROGRAMS = Path(__file__).resolve().parent / "programs"


def _learned(name: str) -> tuple[Program, list]:
    data = json.loads((PROGRAMS / name).read_text(encoding="utf-8"))
    return program_from_json(data), data["test_inputs"]


def test_a_learned_histogram_simplifies_into_the_histogram() -> None:
    program, tests = _learned("learned_histogram.json")
    simpler = simplify(program)
    source = decompile(simpler)
    assert (program_size(program), program_size(simpler)) == (
        {"lines": 12, "heads": 3, "mlps": 1}, {"lines": 4, "heads": 1, "mlps": 0})
    assert "count_0_0 = selector_width(select(tokens, tokens, ==));" in source and "learned = count_0_0;" in source
    inputs = [list(w) for n in range(1, 6) for w in itertools.product("abc", repeat=n)]
    assert run(simpler, inputs) == run(program, inputs) == [[w.count(x) for x in w] for w in inputs]
    assert agreement(program, source, tests) == agreement(program, decompile(program), tests) == 1.0


def test_the_learned_histogram_of_the_docs_is_the_decompilers_text() -> None:
    program, _ = _learned("learned_histogram.json")
    page = (Path(__file__).resolve().parent.parent / "docs" / "learning.md").read_text(encoding="utf-8")
    assert "# file: hist_full.rasp\n" + decompile(program) in page
    assert "# file: hist_simple.rasp\n" + decompile(simplify(program)) in page


def test_a_learned_program_with_every_kind_of_module_decompiles_exactly() -> None:
    program, tests = _learned("learned_repeats.json")
    source = decompile(simplify(program))
    assert "closest(" in source and "best_class(" in source and "selector_width(" in source
    inputs = [list(w) for n in range(1, 6) for w in itertools.product("abc", repeat=n)]
    assert agreement(program, source, inputs) == agreement(program, decompile(program), tests) == 1.0


def test_a_count_of_a_query_that_matches_itself_is_never_zero() -> None:
    program = histogram_program(max_len=4)
    assert reachable_values(program)["count_0_0"] == (1, 2, 3, 4)
    head = CategoricalHead("attn_0_0", 0, 0, "tokens", "tokens", "indices", ("a", "b", "c"), -1)
    variables = dict(program.variables, attn_0_0=Variable("attn_0_0", output_values(head, program.variables, 4)))
    with_head = replace(program, modules=(*program.modules, head), variables=variables)
    assert reachable_values(with_head)["attn_0_0"] == (0, 1, 2, 3)  # never the default
    almost = replace(head, predicate=("a", "b", "a"))
    with_almost = replace(with_head, modules=(*program.modules, almost))
    assert reachable_values(with_almost)["attn_0_0"] == (0, 1, 2, 3, -1)
