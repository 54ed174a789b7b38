"""The compiler's fast paths against obviously-correct slow ones: a head's predicate table (built by
array indexing over each comparison's distinct operand values) against comparing every pair of
(joint) values, the forward pass's sparse products against the dense ones, and joint keys and
queries allowed more values than a single node's one-hot."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest

import rasp.api
from rasp.compiler import construct
from rasp.compiler.construct import CompileError, Group, compile_sop
from rasp.compiler.transformer import MLP, Head, product, project, sparse_plan
from rasp.compiler.valueset import COMPARE
from rasp.compiler.verify import verify
from rasp.values import Lazy, Select, SelectorCombination, SOp

# ------------------------------------------------------------ predicate tables


def slow_truth(tree: tuple, key_of: dict[int, Any], query_of: dict[int, Any]) -> bool:
    """A negation-normal-form tree at one (key, query) pair, as the interpreter decides it: a
    comparison the interpreter refuses (a string with a number) selects nothing, negated or not."""
    if tree[0] == "leaf":
        select, negated = tree[1], tree[2]
        key = key_of[id(select.key)] if isinstance(select.key, Lazy) else select.key
        query = query_of[id(select.query)] if isinstance(select.query, Lazy) else select.query
        try:
            outcome = bool(COMPARE[select.op](key, query))
        except TypeError:
            return False
        return outcome != negated
    results = [slow_truth(sub, key_of, query_of) for sub in tree[1]]
    return all(results) if tree[0] == "and" else any(results)


def slow_table(group: Group) -> np.ndarray:
    table = np.zeros((len(group.query_values), len(group.key_values)))
    for a, query in enumerate(group.query_values):
        for b, key in enumerate(group.key_values):
            key_of = dict(zip(map(id, group.keys), key, strict=True))
            query_of = dict(zip(map(id, group.queries), query, strict=True))
            table[a, b] = all(slow_truth(tree, key_of, query_of) for tree in group.trees)
    return table


def sops(count: int) -> list[SOp]:
    session = rasp.api.Session()
    session.run("".join(f'v{j} = tokens + "{j}";' for j in range(count)))
    return [session[f"v{j}"].node for j in range(count)]


def random_selector(rng: random.Random, nodes: list[SOp], depth: int) -> Lazy:
    if depth == 0 or rng.random() < 0.3:
        key = rng.choice(nodes + [1, "a"])
        query = rng.choice(nodes + [2, "b"])
        return Select(key, query, rng.choice(list(COMPARE)))
    op = rng.choice(["and", "or", "not"])
    if op == "not":
        return SelectorCombination("not", (random_selector(rng, nodes, depth - 1),))
    return SelectorCombination(op, (random_selector(rng, nodes, depth - 1), random_selector(rng, nodes, depth - 1)))


MIXED_VALUES = [0, 1, 2, 2.5, -1, "a", "b", True, False]  # numbers, strings (refused against numbers), bools


@pytest.mark.parametrize("seed", range(40))
def test_predicate_table_is_every_pair_compared(seed):
    rng = random.Random(seed)
    nodes = sops(3)
    selector = random_selector(rng, nodes, 3)
    trees = construct._conjuncts(construct._negation_normal_form(selector, False))
    leaves = [select for tree in trees for select, _ in construct._leaves(tree)]
    keys, queries = construct._distinct(s.key for s in leaves), construct._distinct(s.query for s in leaves)
    group = Group(tuple(keys), tuple(queries), trees)
    group.key_values = [tuple(rng.choice(MIXED_VALUES) for _ in group.keys) for _ in range(rng.randint(1, 12))]
    group.query_values = [tuple(rng.choice(MIXED_VALUES) for _ in group.queries) for _ in range(rng.randint(1, 12))]
    fast = construct._Compiler._predicate_table(None, group)
    assert fast.shape == (len(group.query_values), len(group.key_values))
    assert np.array_equal(fast, slow_table(group)), selector.name


# ------------------------------------------------------------ sparse products


@pytest.mark.parametrize("density", [0.0, 0.01, 0.04, 0.3, 1.0])
def test_sparse_product_is_the_dense_product(density):
    rng = np.random.default_rng(int(density * 100))
    weights = rng.normal(size=(60, 90)) * (rng.random((60, 90)) < density)
    weights[10:30] = 0.0  # rows nothing reads
    flat = rng.normal(size=(70, 60))
    plan = sparse_plan(weights)
    assert (plan[1] is None) == (np.count_nonzero(weights) > construct_sparse_share() * weights.size)
    assert np.allclose(product(flat, weights, plan), flat @ weights, rtol=0, atol=1e-12)


def construct_sparse_share() -> float:
    from rasp.compiler import transformer

    return transformer.SPARSE


def test_mlp_and_head_projections_are_the_dense_ones():
    rng = np.random.default_rng(5)
    W1 = rng.normal(size=(40, 300)) * (rng.random((40, 300)) < 0.2)
    W2 = np.zeros((300, 40))
    W2[np.arange(300), rng.integers(0, 40, 300)] = rng.normal(size=300)  # each unit writes one dimension
    b1, b2 = rng.normal(size=300), rng.normal(size=40)
    mlp = MLP(W1, b1, W2, b2)
    for rows in (3, 100):  # few rows are multiplied densely, many by the plan
        x = rng.normal(size=(rows, 2, 40))
        assert np.allclose(mlp(x), np.maximum(x @ W1 + b1, 0.0) @ W2 + b2, rtol=0, atol=1e-10)
    head = Head(W_Q=W1[:, :7], W_K=W1[:, 7:14], W_V=W2.T[:, :5], W_O=np.eye(5, 40), selector="", computes=[])
    x = rng.normal(size=(4, 9, 40))
    for name in ("W_Q", "W_K", "W_V", "W_O"):
        given = x if name != "W_O" else x[..., :5]
        assert np.allclose(project(given, head, name), given @ getattr(head, name), rtol=0, atol=1e-10)
    head.W_Q = head.W_Q * 2.0  # a new array: the cached plan is not reused
    assert np.allclose(project(x, head, "W_Q"), x @ head.W_Q, rtol=0, atol=1e-10)


# ------------------------------------------------------------ joint keys and queries


def test_a_joint_may_have_more_values_than_a_single_one_hot(monkeypatch):
    """sort's tie-break (key, indices) is a joint; at max_len 32 it has 1,056 values, over the 1,024
    of a single node. Here the single limit is lowered to 8: the joint (tokens, indices) of 4 x 3
    values still compiles, exactly; a single node of 9 values compared by a select is refused."""
    monkeypatch.setattr(construct, "CATEGORICAL_LIMIT", 8)
    session = rasp.api.Session()
    session.run('x = sort(tokens, tokens);'
                'pair = indices + 3 * indicator(tokens == "a") + 6 * indicator(tokens == "b");'
                'y = selector_width(select(pair, pair, ==));')
    model = compile_sop(session["x"].node, max_len=3, vocab=["a", "b", "c", "d"])
    joint = [d for d in model.dims() if d["node"] == "(tokens_str, indices)"]
    assert len(joint) == 12
    result = verify(model, session["x"].node, random_inputs=0)
    assert result.exhaustive_up_to == 3 and result.mismatches == 0
    assert result.attention_error <= model.attention_tolerance
    with pytest.raises(CompileError, match="at most 8"):
        compile_sop(session["y"].node, max_len=3, vocab=["a", "b", "c", "d"])


def test_weights_changed_in_place_after_a_run_are_used_by_the_next_run():
    """The sparse plans kept on a model follow in-place edits of its weights (an ablation, noise)."""
    import rasp

    session = rasp.Session()
    session.run('load "paper"; r = reverse(tokens);')
    model = rasp.compile(session["r"], max_len=5, vocab="abc")
    batch = [["a", "b", "c", "a", "b"]] * 80  # enough rows for the planned (sparse) products
    assert model.run(batch)[0] == ["b", "a", "c", "b", "a"]
    model.blocks[1].heads[0].W_K *= 0.0  # the flip head now attends uniformly
    assert model.run(batch)[0] != ["b", "a", "c", "b", "a"]
