"""HTML rendering for notebooks: parsed with html.parser, cell by cell."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np

from rasp import html as rasp_html
from rasp.api import Session, analyse
from rasp.errors import RaspError
from rasp.results import Analysed, Drawn, EvaluatedSelector, EvaluatedSOp, Problem, Shown


class Page(HTMLParser):
    """Titles (div.rasp-title) and tables as rows of (tag, text, style) cells; `<pre>` texts."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.titles: list[str] = []
        self.tables: list[list[list[tuple[str, str, str]]]] = []
        self.pres: list[str] = []
        self.frames: list[str] = []  # srcdoc of iframes
        self.blocks: list[str] = []  # the rasp-* classes of the outer divs
        self._cell: list | None = None
        self._title: list[str] | None = None
        self._pre: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        css = attributes.get("class") or ""
        if tag == "div" and css == "rasp-title":
            self._title = []
        elif tag == "div" and css.startswith("rasp-"):
            self.blocks.append(css)
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = [tag, [], attributes.get("style") or ""]
        elif tag == "pre":
            self._pre = []
        elif tag == "iframe":
            self.frames.append(attributes.get("srcdoc") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            kind, text, style = self._cell
            self.tables[-1][-1].append((kind, "".join(text), style))
            self._cell = None
        elif tag == "div" and self._title is not None:
            self.titles.append("".join(self._title))
            self._title = None
        elif tag == "pre" and self._pre is not None:
            self.pres.append("".join(self._pre))
            self._pre = None

    def handle_data(self, data: str) -> None:
        for target in (self._cell[1] if self._cell else None, self._title, self._pre):
            if target is not None:
                target.append(data)


def texts(row: list[tuple[str, str, str]]) -> list[str]:
    return [text for kind, text, style in row]


def test_sop_table_has_the_input_row_the_output_row_and_the_type() -> None:
    value = EvaluatedSOp("frac", "hello", list("hello"), [0.0, 0.0, 1 / 3, 0.5, 0.4], "floats")
    page = Page(value._repr_html_())
    assert page.blocks == ["rasp-sop"]
    assert page.titles == ['frac("hello") floats']
    (table,) = page.tables
    assert texts(table[0]) == ["input", "h", "e", "l", "l", "o"]
    assert texts(table[1]) == ["output", "0.0", "0.0", "0.333", "0.5", "0.4"]
    assert [kind for kind, text, style in table[1]] == ["th"] + ["td"] * 5


def test_tokens_and_values_are_escaped() -> None:
    value = EvaluatedSOp("echo", "<&\">", ["<", "&", '"', ">"], ["<b>", "&amp;", "x", "'"], "strings")
    markup = rasp_html.sop_html(value)
    assert "<b>" not in markup and "&amp;amp;" in markup
    page = Page(markup)
    assert page.titles == ['echo("<&">") strings']
    assert texts(page.tables[0][0]) == ["input", "<", "&", '"', ">"]
    assert texts(page.tables[0][1]) == ["output", "<b>", "&amp;", "x", "'"]


def test_bools_show_as_t_and_f() -> None:
    page = Page(rasp_html.sop_html(EvaluatedSOp("b", [1, 2], [1, 2], [True, False], "bools")))
    assert texts(page.tables[0][1]) == ["output", "T", "F"]


def test_selector_heat_map_has_token_headers_and_marks_selected_cells() -> None:
    matrix = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1]], dtype=bool)
    page = Page(EvaluatedSelector("sel", "a<&", ["a", "<", "&"], matrix)._repr_html_())
    assert page.blocks == ["rasp-selector"]
    assert page.titles[0].startswith('sel("a<&") selector')
    header, *rows = page.tables[0]
    # rows and columns are numbered before their token (repeated or blank tokens stay apart)
    assert texts(header) == ["q \\ k", "0a", "1<", "2&"]
    assert [row[0][:2] for row in rows] == [("th", "0 a"), ("th", "1 <"), ("th", "2 &")]
    marks = [[text == "1" for kind, text, style in row[1:]] for row in rows]
    assert marks == matrix.tolist()
    fills = {style for row in rows for kind, text, style in row[1:] if text == "1"}
    blanks = {style for row in rows for kind, text, style in row[1:] if text == ""}
    assert len(fills) == 1 and len(blanks) == 1 and fills != blanks


def test_long_inputs_are_cut_with_a_note() -> None:
    n = rasp_html.MAX_TOKENS + 5
    value = EvaluatedSelector("big", "x" * n, ["x"] * n, np.eye(n, dtype=bool))
    markup = rasp_html.selector_html(value)
    page = Page(markup)
    assert len(page.tables[0]) == rasp_html.MAX_TOKENS + 1
    assert len(page.tables[0][0]) == rasp_html.MAX_TOKENS + 1
    assert "(5 more rows and columns not shown)" in markup


def test_analysis_table_has_a_row_per_layer() -> None:
    session = Session()
    session.run("flip = select(indices, length - indices - 1, ==); reverse_it = aggregate(flip, tokens);")
    page = Page(analyse(session["reverse_it"])._repr_html_())
    assert page.blocks == ["rasp-analysis"]
    assert page.titles == ["reverse_it: 2 layers, heads 1 / 1"]
    header, first, second = page.tables[0]
    assert texts(header) == ["layer", "heads", "attention", "MLPs"]
    assert texts(first)[:2] == ["1", "1"] and texts(second)[:2] == ["2", "1"]
    assert texts(first)[2] == "full_s = select(1, 1, ==) → aggregate(full_s, indicator(indices == 0))"
    assert texts(second)[2].startswith("flip = select(indices, ")
    assert texts(second)[2].endswith("→ reverse_it")
    assert "length" in texts(first)[3]  # `length` and `length - indices - 1` are layer 1's MLP nodes


def test_results_render_in_order_with_text_for_plain_values_and_problems() -> None:
    session = Session()
    results = session.run('n = 3; s = indices + 1; m = select(indices, indices, <); x = tokens_int;', check=False)
    page = Page(results._repr_html_())
    assert page.blocks == ["rasp-results", "rasp-sop", "rasp-selector"]
    assert page.pres[0] == "n = 3"
    assert texts(page.tables[0][1]) == ["output", "1", "2", "3", "4", "5"]
    assert 'warning: x cannot be evaluated on the example "hello"' in page.pres[1]


def test_plain_values_and_problems_are_escaped_text() -> None:
    markup = rasp_html.result_html(Shown("v", [1, "<a>"])) + rasp_html.result_html(
        Problem(RaspError("bad <x> & y"), warning=True)
    )
    assert "<a>" not in markup and "<x>" not in markup
    assert Page(markup).pres == ['v = [1, "<a>"]', "warning: bad <x> & y"]


def test_plain_repr_is_the_repl_text() -> None:
    value = EvaluatedSOp("hist", "hello", list("hello"), [1, 1, 2, 2, 1], "ints")
    assert repr(value) == 'hist("hello") = [1, 1, 2, 2, 1]  ints'
    selector = EvaluatedSelector("same", "ab", ["a", "b"], np.eye(2, dtype=bool))
    assert repr(selector).splitlines()[1:] == ["      0 1", "      a b", "  0 a 1 ·", "  1 b · 1"]


def test_the_analyse_command_renders_as_the_per_layer_table() -> None:
    session = Session()
    results = session.run("hist = selector_width(select(tokens, tokens, ==));\nanalyse hist")
    assert isinstance(results[-1], Analysed)
    page = Page(results._repr_html_())
    assert page.blocks == ["rasp-results", "rasp-sop", "rasp-analysis"]
    assert texts(page.tables[1][1]) == ["1", "1", "select(tokens_str, tokens_str, ==) → hist", "-"]
    assert repr(results[-1]).startswith("hist: 1 layer")


def test_a_drawing_is_shown_inline(tmp_path) -> None:
    picture = tmp_path / "hist.html"
    picture.write_text('<!DOCTYPE html><p title="a">x & y</p>', encoding="utf-8")
    page = Page(Drawn("hist", str(picture), "hello", 1)._repr_html_())
    assert page.blocks == ["rasp-drawing"]
    assert page.titles[0].startswith('drew hist on "hello"')
    assert page.frames == ['<!DOCTYPE html><p title="a">x & y</p>']
    missing = Page(rasp_html.drawing_html(Drawn("hist", str(tmp_path / "gone.html"), "hello", 1)))
    assert missing.frames == [] and len(missing.titles) == 1
