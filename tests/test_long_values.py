"""The REPL elides huge values (--json keeps them whole); selectors are numbered;
HTML sets its text colours (docs/reference.md, 'The REPL')."""

from __future__ import annotations

import itertools
import json
import re

import numpy as np

from rasp import html as rasp_html
from rasp.cli import result_to_json
from rasp.display import DisplayOptions, format_result, format_selector
from rasp.interpreter import Session
from rasp.results import EvaluatedSelector, ExampleShown

REPL = DisplayOptions(max_rows=64, max_values=100)


def _long_session() -> Session:
    s = Session()
    s.run('set example "ab" * 6000;')
    return s


def test_a_long_sop_is_elided_in_the_repl_with_a_note():
    s = _long_session()
    (result,) = s.run("indices + 0;")
    text = format_result(result, REPL)
    assert len(text) < 1200
    assert "12,000 values" in text and "--json" in text
    assert "0, 1, 2" in text and "11999" in text


def test_a_long_sop_is_whole_outside_the_repl_and_in_json():
    s = _long_session()
    (result,) = s.run("indices + 0;")
    assert "11998, 11999" in format_result(result, DisplayOptions())
    assert len(json.loads(json.dumps(result_to_json(result)))["value"]) == 12000


def test_show_example_prints_a_shared_example_once_and_elided():
    example = "ab" * 6000
    text = format_result(ExampleShown(example, example, None), REPL)
    assert len(text.splitlines()) == 1 and len(text) < 400
    assert "12,000 tokens" in text
    assert format_result(ExampleShown("ab", "ab", None), DisplayOptions()) == 'example (s-ops and selectors): "ab"'


def test_selector_rows_and_columns_are_numbered():
    tokens = list("abbc bdd")
    matrix = np.array([[a == b for b in tokens] for a in tokens])
    lines = format_selector(EvaluatedSelector("same", "abbc bdd", tokens, matrix), DisplayOptions()).splitlines()
    assert lines[1].split() == [str(k) for k in range(8)]
    assert re.match(r"\s+4\s+·", lines[3 + 4])  # the space token's row: number, blank token, cells


def test_html_cells_set_their_text_colour():
    tokens = list("ab")
    value = EvaluatedSelector("s", "ab", tokens, np.eye(2, dtype=bool))
    markup = rasp_html.selector_html(value)
    for style in re.findall(r'<t[hd] [^>]*style="([^"]*)"', markup):
        assert "color:" in style and "background:" in style, style


def test_full_seq_display_cuts_rows_into_aligned_blocks_on_a_narrow_terminal():
    s = Session()
    s.run('set example "abcdefghijklmnopqrstuvwxyz";')
    (result,) = s.run("indices * 100;")
    lines = format_result(result, DisplayOptions(full_seq=True, width=40)).splitlines()
    assert all(len(line) <= 40 for line in lines)
    pairs = [(a, b) for a, b in itertools.pairwise(lines) if a.startswith("   input:")]
    assert len(pairs) >= 3
    for row_in, row_out in pairs:  # each input token sits over its value
        assert len(row_in) == len(row_out)
        assert [m.end() for m in re.finditer(r"\S+", row_in)][1:] == [m.end() for m in re.finditer(r"\S+", row_out)][1:]
