"""Layers, heads and MLP nodes: rasp.analysis, the `analyse` command and `rasp --analyse`.

The rules: docs/reference.md, 'Analysis: layers and heads'.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from support import error_of, shown

from rasp.analysis import analyse, cost_line, depths
from rasp.cli import main, result_to_json
from rasp.display import format_analysis, format_result
from rasp.interpreter import Session
from rasp.resources import stdlib_dir
from rasp.results import Analysed, Problem
from rasp.values import Aggregate, Map, Primitive, Select, SelectorCombination

# The paper's programs in the reference's style (tests/programs/paper_examples.rasp, shared with
# tests/test_reference_programs.py and scripts/bench.py): BOS selector width from one aggregate,
# the BOS sort, hist2, sort by most frequent token, Dyck-1 and Dyck-k "pairs balanced so far".
PAPER_EXAMPLES = Path(__file__).resolve().parent / "programs" / "paper_examples.rasp"

# docs/reference.md, 'Analysis: layers and heads': (layers; heads per layer) of the paper's programs.
PAPER_FIGURES = [
    ("reverse", 2, [1, 1]),
    ("hist_bos", 1, [1]),
    ("hist_nobos", 1, [1]),
    ("hist2_bos", 2, [2, 1]),
    ("sort_bos", 2, [1, 1]),
    ("sort_by_most_freq", 3, [2, 1, 1]),
    ("dyck1_ptf", 2, [1, 1]),
    ("dyck2_ptf", 4, [1, 1, 1, 1]),
]


@pytest.fixture(scope="module")
def paper() -> Session:
    session = Session()
    results = session.run(PAPER_EXAMPLES.read_text(encoding="utf-8"), PAPER_EXAMPLES.name)
    assert not [r for r in results if isinstance(r, Problem)], results
    return session


def analysis_of(session: Session, source: str, name: str = "x"):
    """Run source (which binds `name`) and analyse the node bound to `name`."""
    shown(session, source)
    return analyse(session[name], name)


# ------------------------------------------------------------ paper figures


@pytest.mark.parametrize("name, layers, heads", PAPER_FIGURES, ids=[f[0] for f in PAPER_FIGURES])
def test_paper_programs_have_the_figures_of_spec_section_6(paper, name, layers, heads):
    analysis = analyse(paper[name], name)
    assert (analysis.layers, analysis.heads) == (layers, heads)
    assert len(analysis.mlps) == len(analysis.detail) == layers


def test_paper_programs_still_compute_their_values(paper):
    """The programs analysed above are the working ones (so the figures are about real programs)."""
    assert paper.apply(paper["reverse"], "abc").values == ["c", "b", "a"]
    assert paper.apply(paper["hist_nobos"], "abca").values == [2, 1, 1, 2]
    assert paper.apply(paper["sort_bos"], "§cab").values == ["§", "a", "b", "c"]
    assert paper.apply(paper["dyck1_ptf"], "(()").values == ["P", "P", "P"]
    assert paper.apply(paper["dyck2_ptf"], "({})}").values == ["P", "P", "P", "T", "F"]


def test_reverse_in_detail(paper):
    """reverse: layer 1 is `length` (head full_s), layer 2 the flip head; the maps over indices are embedding."""
    analysis = analyse(paper["reverse"], "reverse")
    first, second = analysis.detail
    assert [h.name for h in first.heads] == ["full_s"]
    assert first.heads[0].description == "select(1, 1, ==)"
    assert first.mlps == [
        "1 / aggregate(full_s, indicator(indices == 0))",
        "length",
        "length - 1",
        "length - 1 - indices",
    ]
    assert [h.name for h in second.heads] == ["_flip_s"]
    assert second.heads[0].used_by == ["reverse"]
    assert second.mlps == []
    assert analysis.mlps == [4, 0]
    assert analysis.embedding == ["indices == 0", "indicator(indices == 0)"]


def test_dyck1_uses_one_selector_in_two_layers(paper):
    """up_to_self feeds two aggregates at depth 1 (one head) and one at depth 2 (a head of layer 2)."""
    analysis = analyse(paper["dyck1_ptf"])
    assert [[h.name for h in layer.heads] for layer in analysis.detail] == [["up_to_self"], ["up_to_self"]]
    assert len(analysis.detail[0].heads[0].used_by) == 2
    assert len(analysis.detail[1].heads[0].used_by) == 1


# ------------------------------------------------------- hand-checked graphs


def test_a_selector_used_by_two_aggregates_is_one_head(session):
    analysis = analysis_of(
        session,
        """
        s = select(indices, indices, <);
        a = aggregate(s, indices);
        b = aggregate(s, indicator(tokens == "l"));
        x = a + b;
    """,
    )
    assert (analysis.layers, analysis.heads, analysis.mlps) == (1, [1], [1])
    head = analysis.detail[0].heads[0]
    assert (head.name, head.used_by) == ("s", ["a", "b"])
    assert analysis.detail[0].mlps == ["x"]


def test_two_select_calls_with_the_same_arguments_are_two_heads(session):
    analysis = analysis_of(
        session,
        """
        x = aggregate(select(indices, indices, <), indices) + aggregate(select(indices, indices, <), indices);
    """,
    )
    assert (analysis.layers, analysis.heads) == (1, [2])


def test_an_elementwise_op_adds_no_layer(session):
    analysis = analysis_of(session, "a = aggregate(select(indices, indices, ==), indices); x = (a + 1) * 2 - a;")
    assert (analysis.layers, analysis.heads, analysis.mlps) == (1, [1], [3])
    assert analysis.embedding == []


def test_elementwise_nodes_over_primitives_are_the_embedding(session):
    analysis = analysis_of(session, 'x = indicator(tokens == "a") + indices * 2;')
    assert (analysis.layers, analysis.heads, analysis.mlps, analysis.detail) == (0, [], [], [])
    assert analysis.embedding == ['tokens_str == "a"', 'indicator(tokens_str == "a")', "indices * 2", "x"]
    assert cost_line(analysis) == "layers=0 heads=-"


def test_a_primitive_has_no_layers(session):
    analysis = analyse(session["indices"])
    assert (analysis.name, analysis.layers, analysis.heads, analysis.embedding) == ("indices", 0, [], [])


def test_aggregate_depth_is_one_more_than_its_values(session):
    """aggregate(sel, s) sits one layer after s even when sel is shallower."""
    analysis = analysis_of(
        session,
        """
        a = aggregate(select(indices, indices, ==), indices);
        b = aggregate(select(indices, indices, ==), a);
        x = aggregate(select(1, 1, ==), b);
    """,
    )
    assert (analysis.layers, analysis.heads) == (3, [1, 1, 1])


def test_select_over_a_computed_sop_adds_a_layer(session):
    analysis = analysis_of(
        session,
        """
        a = aggregate(select(indices, indices, ==), indices);
        x = aggregate(select(a, indices, ==), tokens);
    """,
    )
    assert (analysis.layers, analysis.heads) == (2, [1, 1])


def test_selector_and_or_not_is_one_head_at_its_deepest_part(session):
    analysis = analysis_of(
        session,
        """
        deep = aggregate(select(indices, indices, ==), indices);
        both = select(indices, indices, <) and select(tokens, tokens, ==);
        either = select(deep, indices, <=) or select(indices, 0, ==);
        x = aggregate(both, indices) + aggregate(not either, indices) + aggregate(not both, indices);
    """,
    )
    assert (analysis.layers, analysis.heads) == (2, [3, 1])
    assert [h.name for h in analysis.detail[1].heads] == ["not either"]
    descriptions = {h.name: h.description for h in analysis.detail[0].heads}
    assert descriptions == {
        "select(indices, indices, ==)": "select(indices, indices, ==)",
        "both": "select(indices, indices, <) and select(tokens_str, tokens_str, ==)",
        "not both": "not both",
    }


def test_selector_width_is_one_head_at_its_selectors_depth(session):
    analysis = analysis_of(session, "x = selector_width(select(tokens, tokens, ==));")
    assert (analysis.layers, analysis.heads, analysis.mlps) == (1, [1], [0])
    analysis = analysis_of(session, "s = select(tokens, tokens, ==); x = selector_width(s) + aggregate(s, indices);")
    assert (analysis.layers, analysis.heads, analysis.mlps) == (1, [1], [1])
    assert analysis.detail[0].heads[0].used_by == ["selector_width(s)", "aggregate(s, indices)"]


def test_atom_in_sop_and_sop_index_cost_one_layer(session):
    assert analysis_of(session, 'x = "l" in tokens;').heads == [1]
    assert analysis_of(session, "x = tokens[0];").heads == [1]
    assert analysis_of(session, "x = tokens[-1];").heads == [1, 1]  # the position needs `length` first


def test_analysing_a_selector_counts_it_as_a_head(session):
    analysis = analysis_of(session, "a = aggregate(select(indices, indices, ==), indices); x = select(a, a, <);")
    assert (analysis.layers, analysis.heads) == (2, [1, 1])
    assert analysis.detail[1].heads[0].name == "x"
    assert analysis.detail[1].heads[0].used_by == []


def test_depth_rules_node_by_node(session):
    shown(session, "k = aggregate(select(indices, indices, ==), indices); s = select(k, indices, <); x = k + 1;")
    order, depth = depths(session["x"])
    kinds = {type(n): depth[id(n)] for n in order}
    assert kinds[Primitive] == 0 and kinds[Aggregate] == 1 and kinds[Map] == 1
    _, depth = depths(session["s"])
    assert depth[id(session["s"])] == 2
    assert isinstance(session["s"], Select)


def test_selector_combination_depth_is_its_deepest_component(session):
    shown(session, "k = aggregate(select(indices, indices, ==), indices); s = select(k, indices, <) or full_s;")
    node = session["s"]
    assert isinstance(node, SelectorCombination)
    _, depth = depths(node)
    assert depth[id(node)] == 2


def test_very_deep_graphs_do_not_hit_the_recursion_limit(session):
    shown(session, "x = indices; for i in range(5000) { x = x + 1; }")
    assert analyse(session["x"]).layers == 0
    shown(session, "y = indices; for i in range(60) { y = aggregate(select(indices, indices, ==), y); }")
    analysis = analyse(session["y"])
    assert (analysis.layers, analysis.heads) == (60, [1] * 60)


# ------------------------------------------------------------- JSON and text


def test_to_json_has_exactly_the_documented_shape(paper):
    encoded = analyse(paper["reverse"], "reverse").to_json()
    assert list(encoded) == ["kind", "name", "layers", "heads", "mlps", "detail"]
    assert encoded["kind"] == "analysis" and encoded["name"] == "reverse"
    assert (encoded["layers"], encoded["heads"], encoded["mlps"]) == (2, [1, 1], [4, 0])
    assert encoded["detail"][1] == {
        "layer": 2,
        "heads": [
            {"name": "_flip_s", "description": "select(indices, length - 1 - indices, ==)", "used_by": ["reverse"]}
        ],
        "mlps": [],
    }
    assert json.loads(json.dumps(encoded)) == encoded


def test_text_table(paper):
    text = format_analysis(analyse(paper["hist2_bos"], "hist2_bos"))
    lines = text.splitlines()
    assert lines[0] == "hist2_bos: 2 layers; heads per layer 2,1 (total 3); MLP nodes per layer 7,3"
    assert lines[1].split() == ["layer", "heads", "MLPs", "attention", "heads", "(selectors)"]
    assert lines[2].split()[:3] == ["1", "2", "7"]
    assert lines[3].startswith(" " * 22) and "earlier_copy or select(indices, 0, ==)" in lines[3]
    assert lines[4].split()[:3] == ["2", "1", "3"]
    assert lines[5] == "  embedding (depth 0, adds no layer): 6 elementwise nodes"


# ------------------------------------------------------------ the command


def test_analyse_command_returns_the_analysis(paper):
    results = paper.run("analyse dyck2_ptf\nanalyze sort_by_most_freq\n")
    assert [type(r) for r in results] == [Analysed, Analysed]
    assert (results[0].name, results[0].analysis.heads) == ("dyck2_ptf", [1, 1, 1, 1])
    assert (results[1].name, results[1].analysis.heads) == ("sort_by_most_freq", [2, 1, 1])
    assert format_result(results[0]).startswith("dyck2_ptf: 4 layers; heads per layer 1,1,1,1")
    assert result_to_json(results[1])["heads"] == [2, 1, 1]


def test_analyse_an_expression(session):
    [result] = session.run("analyse aggregate(select(indices, indices, <), indices) + 1   # a comment\n")
    assert isinstance(result, Analysed)
    assert result.name == "aggregate(select(indices, indices, <), indices) + 1"
    assert (result.analysis.layers, result.analysis.heads, result.analysis.mlps) == (1, [1], [1])


def test_analyse_needs_a_lazy_value(session):
    error = error_of(session, "analyse 3")
    assert error.message == "analyse needs an s-op or a selector, got an int"
    assert error_of(session, "analyse nope").category == "name error"


def test_analyse_inside_a_loaded_file_shows_nothing(session, tmp_path, monkeypatch):
    (tmp_path / "lib.rasp").write_text("y = indices + 1;\nanalyse y\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert session.run('load "lib";') == []


def test_command_line_analyse(tmp_path, monkeypatch, capsys):
    (tmp_path / "prog.rasp").write_text(
        "flip = select(indices, length - indices - 1, ==);\nrev = aggregate(flip, tokens);\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    assert main(["prog.rasp", "--analyse", "rev", "--json"]) == 0
    last = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (last["kind"], last["name"], last["layers"], last["heads"]) == ("analysis", "rev", 2, [1, 1])
    assert main(["prog.rasp", "--analyze", "rev"]) == 0
    assert "rev: 2 layers; heads per layer 1,1" in capsys.readouterr().out
    assert main(["prog.rasp", "--analyse", "missing"]) == 1
    assert "`missing` is not defined" in capsys.readouterr().err


# --------------------------------------------------- the library's cost lines

COST_LINE = re.compile(r"^#\s*cost of (?P<call>.+): (?P<cost>layers=\d+ heads=(?:-|\d+(?:,\d+)*))\s*$")


def _documented_costs() -> list[tuple[Path, str, str]]:
    found = []
    for path in sorted(stdlib_dir().glob("*.rasp")):
        for line in path.read_text(encoding="utf-8").splitlines():
            match = COST_LINE.match(line)
            if match:
                found.append((path, match["call"], match["cost"]))
    return found


DOCUMENTED_COSTS = _documented_costs()


def test_the_library_documents_costs():
    assert len(DOCUMENTED_COSTS) >= 10  # rasplib.rasp alone documents more


@pytest.mark.slow
@pytest.mark.parametrize("path, call, cost", DOCUMENTED_COSTS, ids=[f"{p.stem}:{c}" for p, c, _ in DOCUMENTED_COSTS])
def test_library_cost_line_matches_the_analysis(path, call, cost):
    session = Session()
    if path.name != "rasplib.rasp":  # the start-up library is already loaded
        loaded = session.run(f'load "{path.as_posix()}";', "costs.rasp")
        assert not [r for r in loaded if isinstance(r, Problem)], loaded
    results = session.run(f"analyse {call}\n", "costs.rasp")
    assert len(results) == 1 and isinstance(results[0], Analysed), results
    assert cost_line(results[0].analysis) == cost, f"{path.name}: cost of {call}"
