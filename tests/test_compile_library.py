"""Issue 9's acceptance: every standard-library program compiles into a transformer that agrees
with the interpreter on every input of length <= 5 over a vocabulary of 4 and on 1,000 random
longer inputs up to its max length, with the layers and heads of the analysis (the library's
documented cost lines)."""

from __future__ import annotations

import pytest
from support import family, library_vocabulary
from test_analysis import DOCUMENTED_COSTS

from rasp.analysis import analyse, cost_line
from rasp.api import Session
from rasp.compiler.construct import compile_sop
from rasp.compiler.verify import verify

EXHAUSTIVE_UP_TO_5 = 4 + 4**2 + 4**3 + 4**4 + 4**5  # every input of length 1..5 over 4 tokens
RANDOM_INPUTS = 1000

MAX_LEN = {"add": 6, "shuffle_dyck": 6}  # their one-hot tables grow fast with the length
DEFAULT_MAX_LEN = 8


def _library_node(path, call: str):
    """The s-op of a documented library call, with its file loaded."""
    session = Session()
    if path.name != "rasplib.rasp":
        session.run(f'load "{path.as_posix()}";')
    session.run(f"compiled_program = {call};")
    return session["compiled_program"].node


def _settings(call: str) -> tuple[list, int]:
    name = call.split("(")[0]
    max_len = next((n for prefix, n in MAX_LEN.items() if family(name, prefix)), DEFAULT_MAX_LEN)
    return library_vocabulary(call), max_len


@pytest.mark.slow
@pytest.mark.parametrize("path, call, cost", DOCUMENTED_COSTS, ids=[f"{p.stem}:{c}" for p, c, _ in DOCUMENTED_COSTS])
def test_library_program_compiles_and_agrees_with_the_interpreter(path, call, cost):
    node = _library_node(path, call)
    vocab, max_len = _settings(call)
    model = compile_sop(node, max_len=max_len, vocab=vocab, name=call)
    analysis = analyse(node)
    assert (model.layers, model.heads) == (analysis.layers, analysis.heads)
    assert cost_line(analysis) == cost
    result = verify(model, node, random_inputs=RANDOM_INPUTS, exhaustive_limit=EXHAUSTIVE_UP_TO_5)
    assert result.exhaustive_up_to == 5 and result.random == RANDOM_INPUTS
    assert result.checked + result.skipped == EXHAUSTIVE_UP_TO_5 + RANDOM_INPUTS
    assert result.checked > 0.9 * (EXHAUSTIVE_UP_TO_5 + RANDOM_INPUTS)
    assert result.mismatches == 0, result.first_mismatch
    assert result.attention_error <= model.attention_tolerance


def test_the_library_compiles_more_than_a_few_programs():
    assert len(DOCUMENTED_COSTS) >= 40


# ------------------------------------------------------ the library at max_len 32

LONG_MAX_LEN = 32
LONG_EXHAUSTIVE_UP_TO_4 = 4 + 4**2 + 4**3 + 4**4  # every input of length 1..4 over 4 tokens
LONG_RANDOM_INPUTS = 100  # random inputs of length 5..32
# the targets of docs/compiler-sizes.md and a few more of the library, compiled for max_len 32 (sampled
# verification); the sorts by count have a joint (key, indices) of 1,056 values there
LONG_CALLS = ["shuffle_dyck2(tokens)", "dyck2(tokens)", "dyck1(tokens)", 'pair_balance(tokens, "(", ")")',
              "reverse(tokens)", "histogram(tokens)", "sort(tokens, tokens)", "count_less_freq(tokens, 2)",
              "mode(tokens)", 'sort_by_frequency(tokens, "_")', "sort_by_count(tokens)",
              'closest(select(tokens, tokens, ==), tokens, ["a", "b", "c", "l"], "-")', "add(tokens)"]


def _long_case(call: str) -> tuple:
    return next(case for case in DOCUMENTED_COSTS if case[1] == call)


@pytest.mark.slow
@pytest.mark.parametrize("call", LONG_CALLS)
def test_library_program_compiles_at_max_len_32(call):
    path, _, _ = _long_case(call)
    node = _library_node(path, call)
    vocab, _ = _settings(call)
    model = compile_sop(node, max_len=LONG_MAX_LEN, vocab=vocab, name=call)
    result = verify(model, node, random_inputs=LONG_RANDOM_INPUTS, exhaustive_limit=LONG_EXHAUSTIVE_UP_TO_4)
    assert result.exhaustive_up_to == 4 and result.random == LONG_RANDOM_INPUTS
    assert result.checked > 0.9 * (LONG_EXHAUSTIVE_UP_TO_4 + LONG_RANDOM_INPUTS)
    assert result.mismatches == 0, result.first_mismatch
    assert result.attention_error <= model.attention_tolerance

