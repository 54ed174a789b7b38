"""`draw(e [, input]);`: a self-contained HTML page with an inline SVG, and DOT text (rasp.draw)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from support import error_of, shown

from rasp.analysis import analyse, ancestry
from rasp.cli import result_to_json
from rasp.display import format_result
from rasp.draw import cell_text, file_stem, render_html, to_dot, token_text
from rasp.interpreter import Session
from rasp.results import Drawn

SVG = "{http://www.w3.org/2000/svg}"

REVERSE = "flip = select(indices, length - indices - 1, ==);\nrev = aggregate(flip, tokens);\n"


@pytest.fixture
def session(session: Session, tmp_path, monkeypatch) -> Session:
    """The conftest session, run where drawings go as a user has it (./rasp_draw, in tmp_path)."""
    monkeypatch.chdir(tmp_path)  # drawings go to tmp_path/rasp_draw, never into the checkout
    monkeypatch.delenv("RASP_DRAW_DIR", raising=False)  # as a user has it: ./rasp_draw
    return session


class _PageParser(HTMLParser):
    """Collects the tags of an HTML page and the attributes that could load something."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.external: list[tuple[str, str]] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in_title = tag == "title" and not self.title  # the page's title, not the SVG tooltips
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):
                self.external.append((tag, value))

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def parse_page(page: str) -> tuple[_PageParser, ET.Element]:
    """The page parsed as HTML, and its inline SVG parsed as XML."""
    parser = _PageParser()
    parser.feed(page)
    parser.close()
    svg = re.search(r"<svg\b.*</svg>", page, re.DOTALL)
    assert svg is not None
    return parser, ET.fromstring(svg.group(0))


def groups(root: ET.Element, css: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if css in (g.get("class") or "").split()]


def texts(element: ET.Element, css: str) -> list[str]:
    return [t.text or "" for t in element.iter(f"{SVG}text") if t.get("class") == css]


def cell_values(group: ET.Element) -> list[str]:
    return texts(group, "value")


def draw(session: Session, source: str) -> Drawn:
    results = shown_and_drawn(session, source)
    drawn = [r for r in results if isinstance(r, Drawn)]
    assert len(drawn) == 1, results
    return drawn[0]


def shown_and_drawn(session: Session, source: str) -> list:
    results = session.run(source, "test.rasp")
    assert not [r for r in results if type(r).__name__ == "Problem" and not r.warning], results
    return results


# ------------------------------------------------------------- the statement


def test_draw_writes_a_page_and_dot_under_rasp_draw(session, tmp_path):
    drawn = draw(session, REVERSE + "draw(rev);")
    assert (drawn.name, drawn.path, drawn.input, drawn.layers) == ("rev", "rasp_draw/rev.html", "hello", 2)
    assert drawn.dot_path == "rasp_draw/rev.dot"
    page = (tmp_path / "rasp_draw" / "rev.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert (tmp_path / "rasp_draw" / "rev.dot").read_text(encoding="utf-8").startswith('digraph "rev" {')


def test_the_page_is_self_contained_and_has_one_group_per_layer(session, tmp_path):
    draw(session, REVERSE + 'draw(rev, "abcd");')
    page = (tmp_path / "rasp_draw" / "rev.html").read_text(encoding="utf-8")
    parser, svg = parse_page(page)
    assert parser.external == []  # no external scripts, styles, images or fonts
    assert "link" not in parser.tags and "img" not in parser.tags
    assert parser.title == "rev — rasp draw"
    layers = groups(svg, "layer")
    assert [g.get("data-layer") for g in layers] == ["0", "1", "2"]
    heads = [groups(layer, "head") for layer in layers]
    assert [len(h) for h in heads] == [0, 1, 1]  # full_s (for length) in layer 1, flip in layer 2


def test_heads_show_the_selector_matrix_over_the_tokens_and_the_values(session, tmp_path):
    draw(session, REVERSE + 'draw(rev, "abcd");')
    _, svg = parse_page((tmp_path / "rasp_draw" / "rev.html").read_text(encoding="utf-8"))
    [flip] = [h for h in groups(svg, "head") if groups(h, "matrix")[0].get("data-name") == "flip"]
    matrix = groups(flip, "matrix")[0]
    assert texts(flip, "key") == ["a", "b", "c", "d"]  # column labels: the key tokens
    assert texts(flip, "position") == ["0", "1", "2", "3"]  # column numbers over the key tokens
    assert texts(matrix, "query") == ["0 a", "1 b", "2 c", "3 d"]  # row labels: position and query token
    selected = [r for r in matrix.iter(f"{SVG}rect") if r.get("class") == "on"]
    assert len(selected) == 4
    # the anti-diagonal: the selected cell of each row is further left in each later row
    xs = [float(r.get("x")) for r in sorted(selected, key=lambda r: float(r.get("y")))]
    assert xs == sorted(xs, reverse=True)
    [read] = groups(flip, "in")
    [produced] = groups(flip, "out")
    assert (read.get("data-name"), cell_values(read)) == ("tokens_str", ["a", "b", "c", "d"])
    assert (produced.get("data-name"), cell_values(produced)) == ("rev", ["d", "c", "b", "a"])


def test_full_selector_and_mlp_nodes(session, tmp_path):
    draw(session, REVERSE + 'draw(rev, "abcd");')
    _, svg = parse_page((tmp_path / "rasp_draw" / "rev.html").read_text(encoding="utf-8"))
    [full] = [h for h in groups(svg, "head") if groups(h, "matrix")[0].get("data-name") == "full_s"]
    assert len([r for r in full.iter(f"{SVG}rect") if r.get("class") == "on"]) == 16
    assert cell_values(groups(full, "out")[0]) == ["0.25"] * 4
    layer1 = groups(svg, "layer")[1]
    mlp = {g.get("data-name"): cell_values(g) for g in groups(layer1, "values")}
    assert mlp["length"] == ["4"] * 4
    assert mlp["length - indices - 1"] == ["3", "2", "1", "0"]
    inputs = {g.get("data-name"): cell_values(g) for g in groups(groups(svg, "layer")[0], "values")}
    assert inputs["indices"] == ["0", "1", "2", "3"]
    assert inputs["tokens_str"] == ["a", "b", "c", "d"]


def test_arrows_join_each_box_to_the_boxes_it_reads(session, tmp_path):
    draw(session, REVERSE + 'draw(rev, "abcd");')
    _, svg = parse_page((tmp_path / "rasp_draw" / "rev.html").read_text(encoding="utf-8"))
    edges = [p for p in svg.iter(f"{SVG}path") if p.get("class") == "edge"]
    boxes = groups(svg, "box")
    listed = [e for box in boxes for e in box.get("data-edges").split()]
    assert len(listed) == 2 * len(edges)  # every arrow is listed by its two ends
    assert {e.get("id") for e in edges} == set(listed)


def test_default_input_is_the_running_example(session):
    assert draw(session, 'set example "xyz"\n' + REVERSE + "draw(rev);").input == "xyz"
    drawn = draw(session, "draw(select(tokens, tokens, ==));")
    assert (drawn.input, drawn.layers, drawn.path) == ("xyz", 1, "rasp_draw/select_tokens_str_tokens_str.html")


def test_draw_a_list_input_and_an_expression(session, tmp_path):
    drawn = draw(session, "draw(aggregate(select(tokens_int, tokens_int, <), tokens_int), [3, 1, 2]);")
    assert drawn.input == [3, 1, 2]
    assert drawn.name == "aggregate(select(tokens_int, tokens_int, <), tokens_int)"
    page = Path(drawn.path).read_text(encoding="utf-8")
    _, svg = parse_page(page)
    [head] = groups(svg, "head")
    assert cell_values(groups(head, "out")[0]) == ["1.5", "0", "1"]


def test_a_selector_is_drawn_as_its_head(session, tmp_path):
    drawn = draw(session, 's = select(indices, indices, <);\ndraw(s, "abc");')
    _, svg = parse_page(Path(drawn.path).read_text(encoding="utf-8"))
    [head] = groups(svg, "head")
    assert len([r for r in head.iter(f"{SVG}rect") if r.get("class") == "on"]) == 3  # k < q
    assert "no aggregate uses it" in " ".join(texts(head, "note"))


def test_tokens_that_need_escaping(session, tmp_path):
    drawn = draw(session, 'x = aggregate(select(tokens, tokens, ==), indices);\ndraw(x, ["<", "&", "a>b", "<"]);')
    page = Path(drawn.path).read_text(encoding="utf-8")
    _, svg = parse_page(page)  # well-formed XML despite the tokens
    [head] = groups(svg, "head")
    assert texts(head, "key") == ["<", "&", "a>b", "<"]
    assert cell_values(groups(head, "out")[0]) == ["1.5", "1", "2", "1.5"]


def test_draw_inside_a_loaded_file_writes_but_shows_nothing(session, tmp_path):
    (tmp_path / "pic.rasp").write_text("y = indices + 1;\ndraw(y);\n", encoding="utf-8")
    assert session.run('load "pic";') == []
    assert (tmp_path / "rasp_draw" / "y.html").is_file()


# ------------------------------------------------------------------ errors


def test_draw_needs_a_lazy_value(session, tmp_path):
    error = error_of(session, "draw(3);")
    assert error.message == "draw needs an s-op or a selector, got an int"
    assert not (tmp_path / "rasp_draw").exists()


def test_draw_on_an_empty_or_bad_input_is_an_error(session, tmp_path):
    shown(session, REVERSE)
    assert "empty" in error_of(session, 'draw(rev, "");').message
    assert error_of(session, "draw(rev, 5);").category == "type error"
    assert error_of(session, 'draw(tokens_int + 1, "ab");').category == "evaluation error"
    assert not (tmp_path / "rasp_draw").exists()


# ------------------------------------------------------------- legibility


DEEP = """
x = indices;
for i in range(6) { x = aggregate(select(indices, x, ==), tokens_int) + x; }
"""


def test_six_layers_and_24_tokens_stay_legible(session, tmp_path):
    word = "".join(str(i % 10) for i in range(24))
    drawn = draw(session, DEEP + f'draw(x, "{word}");')
    assert drawn.layers == 6
    _, svg = parse_page(Path(drawn.path).read_text(encoding="utf-8"))
    assert len(groups(svg, "layer")) == 7
    assert float(svg.get("width")) <= 1600  # wraps rather than growing sideways
    for head in groups(svg, "head"):
        assert len(texts(head, "key")) == 24
        cells = [r for r in head.iter(f"{SVG}rect") if r.get("class") == "on"]
        assert all(float(r.get("width")) >= 14 and float(r.get("height")) >= 14 for r in cells)
    assert not _overlapping_boxes(svg)


def _overlapping_boxes(svg: ET.Element) -> list:
    frames = []
    for box in groups(svg, "box"):
        rect = next(box.iter(f"{SVG}rect"))
        x, y, w, h = (float(rect.get(a)) for a in ("x", "y", "width", "height"))
        frames.append((x, y, x + w, y + h))
    return [
        (a, b)
        for i, a in enumerate(frames)
        for b in frames[i + 1 :]
        if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
    ]


def test_long_values_are_shortened_in_cells():
    assert cell_text(1 / 3, "floats") == "0.33"
    assert cell_text(2.0, "floats") == "2"
    assert cell_text(True, "bools") == "T"
    assert cell_text("abcdefghij", "strings") == "abcde…"
    assert cell_text(10**12, "ints") == "1e+12"
    assert (cell_text(" ", "strings"), cell_text("", "strings"), token_text("a b")) == ("␣", '""', "a␣b")


# ---------------------------------------------------------------- DOT


def test_dot_has_a_cluster_per_layer_and_an_edge_per_dependency(session):
    shown(session, REVERSE)
    node = session["rev"]
    dot = to_dot(node, "rev")
    assert dot.startswith('digraph "rev" {') and dot.rstrip().endswith("}")
    assert re.findall(r"subgraph (cluster_\d+)", dot) == ["cluster_0", "cluster_1", "cluster_2"]
    links = sum(len(n.parents()) for n in ancestry(node))
    assert len(re.findall(r"^\s+n\d+ -> n\d+;$", dot, re.MULTILINE)) == links
    assert 'label="flip"' in dot and "shape=ellipse" in dot


def test_dot_escapes_quotes():
    session = Session()
    shown(session, 'q = indicator(tokens == "a");')
    assert 'label="tokens_str == \\"a\\""' in to_dot(session["q"], "q")


# ----------------------------------------------------- names, text, JSON


def test_file_stem():
    assert file_stem("rev") == "rev"
    assert file_stem("select(indices, indices, <)") == "select_indices_indices"
    assert file_stem("../../etc/passwd") == "etc_passwd"
    assert file_stem("§§§") == "drawing"


def test_display_and_json_of_a_drawing(session):
    drawn = draw(session, REVERSE + "draw(rev);")
    assert format_result(drawn) == (
        'drew rev on "hello" (2 layers): rasp_draw/rev.html (Graphviz DOT: rasp_draw/rev.dot)'
    )
    encoded = result_to_json(drawn)
    assert encoded == {
        "kind": "drawing",
        "name": "rev",
        "path": "rasp_draw/rev.html",
        "dot": "rasp_draw/rev.dot",
        "input": "hello",
        "layers": 2,
    }
    assert json.loads(json.dumps(encoded)) == encoded


def test_render_html_matches_the_analysis(session):
    shown(session, "s = select(tokens, tokens, ==);\nh = selector_width(s) + aggregate(s, indices);")
    page = render_html(session["h"], "abca", "h")
    assert "1 layer · heads per layer 1 · MLP nodes per layer 1" in page
    _, svg = parse_page(page)
    [head] = groups(svg, "head")
    produced = {g.get("data-name"): cell_values(g) for g in groups(head, "out")}
    assert produced == {"selector_width(s)": ["2", "1", "1", "2"], "aggregate(s, indices)": ["1.5", "1", "2", "1.5"]}
    assert [g.get("data-name") for g in groups(head, "in")] == ["indices"]
    assert analyse(session["h"]).heads == [1]
    matrix = np.array([[1, 0, 0, 1], [0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 1]])
    on = [r for r in groups(head, "matrix")[0].iter(f"{SVG}rect") if r.get("class") == "on"]
    assert len(on) == matrix.sum()


# ------------------------------------------------------------------ limits


def test_rasp_draw_dir_chooses_the_directory(session, tmp_path, monkeypatch):
    monkeypatch.setenv("RASP_DRAW_DIR", str(tmp_path / "pictures"))
    drawn = draw(session, "draw(indices + 1);")
    assert Path(drawn.path) == tmp_path / "pictures" / "indices_1.html"
    assert Path(drawn.path).is_file() and not (tmp_path / "rasp_draw").exists()


def test_inputs_too_long_to_read_are_refused(session, tmp_path):
    error = error_of(session, "draw(indices, range(101));")
    assert error.message == "the input has 101 tokens; draw shows inputs of up to 100"
    assert error.hint == "give a shorter input: draw(e, input)"
    assert draw(session, "draw(indices, range(100));").layers == 0


def test_pictures_too_big_are_refused(session, tmp_path):
    shown(session, "x = indices; for i in range(1200) { x = x + 1; }")
    error = error_of(session, "draw(x, range(100));")
    assert error.message.startswith("the picture would have about 120100 cells (1201 nodes, 0 heads, 100 tokens)")
    assert not (tmp_path / "rasp_draw").exists()


def test_every_arrow_has_a_dashed_copy_over_the_boxes(session, tmp_path):
    # an arrow from indices to length - indices passes behind a head box: its copy over the
    # boxes shows it going on (rather than seeming to leave the box)
    draw(session, 'x = length - indices; y = aggregate(select(tokens, tokens, ==), x); draw(y, "abbc");')
    _, svg = parse_page((tmp_path / "rasp_draw" / "y.html").read_text(encoding="utf-8"))
    paths = list(svg.iter(f"{SVG}path"))
    under = {p.get("id")[1:]: p.get("d") for p in paths if p.get("class") == "edge"}
    over = {p.get("id")[1:]: p.get("d") for p in paths if p.get("class") == "edge-over"}
    assert under and under == over
