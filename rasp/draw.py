"""Pictures of a RASP computation: `draw(e [, input]);`.

The picture is one self-contained HTML page with an inline SVG (no external
resources, no scripts from elsewhere), written under ./rasp_draw/, plus the same
graph as Graphviz DOT text beside it. The page has one horizontal band per stage:

* input: the primitives used and the elementwise nodes of depth 0 (the embedding);
* layer d, attention: one box per head (rasp.analysis), with the selector's matrix
  as a heat map over the input's tokens (rows are queries, columns keys), the values
  each aggregate reads above the matrix (one row per aggregate, aligned with the
  key columns) and the values it produces on the right (one column per aggregate,
  aligned with the query rows);
* layer d, MLP: one box per elementwise node, its values under the input's tokens.

Arrows run from each box to the boxes that read its values; hovering over a box
highlights its arrows. Every node is evaluated with one engine.Evaluation, so the
values shown are the ones the program computes.
"""

from __future__ import annotations

import math
import os
import re
import zlib
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from .analysis import Analysis, Head, analyse, depths
from .display import format_value
from .engine import Evaluation, Seq, input_items
from .errors import RaspLoadError, RaspValueError
from .values import (
    Aggregate,
    Lazy,
    Map,
    Primitive,
    Select,
    Selector,
    SelectorCombination,
    SelectorWidth,
    SOp,
    exact_text,
)

DRAW_DIRECTORY = "rasp_draw"  # relative to the current directory; RASP_DRAW_DIR overrides it
MAX_TOKENS = 100  # longer inputs make matrices nobody can read
MAX_CELLS = 100_000  # value cells and matrix cells in one picture (about 250 bytes each)

FONT = 11  # px, monospace
CHAR = FONT * 0.62  # approximate advance of one monospace character
ROW = 16  # height of a value row / matrix row
PAD = 8  # inner padding of a box
GAP = 22  # space between boxes
BAND_LABEL = 150  # width of the band labels on the left
MAX_WIDTH = 1500  # boxes wrap onto a new row beyond this width
MAX_CELL_CHARS = 6  # a value cell shows at most this many characters (the full value is its tooltip)


@dataclass
class Drawing:
    """Where a drawing was written."""

    path: Path
    dot_path: Path
    layers: int


def draw_directory() -> Path:
    """Where `draw` writes: $RASP_DRAW_DIR if set, else ./rasp_draw/."""
    return Path(os.environ.get("RASP_DRAW_DIR") or DRAW_DIRECTORY)


def draw(node: Lazy, example: Any, name: str, directory: Path | str | None = None) -> Drawing:
    """Evaluate `node` on `example` and write its picture (HTML) and graph (DOT) under `directory`
    (default: draw_directory())."""
    directory = Path(directory) if directory is not None else draw_directory()
    page, analysis = _page(node, example, name)
    stem = file_stem(name)
    path, dot_path = directory / f"{stem}.html", directory / f"{stem}.dot"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path.write_text(page, encoding="utf-8")
        dot_path.write_text(to_dot(node, name), encoding="utf-8")
    except OSError as error:
        raise RaspLoadError(f"cannot write the drawing to {path}: {error.strerror or error}") from None
    return Drawing(path, dot_path, analysis.layers)


def file_stem(name: str) -> str:
    """A file name made from an s-op's name: letters, digits, `_`, `-` and `.` only."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._")
    return stem[:60] or "drawing"


# ===================================================================== values


def cell_text(value: Any, type_: str) -> str:
    """A value shortened for a cell of the picture."""
    if type_ == "bools":
        return "T" if value else "F"
    if type_ == "floats":
        value = float(value)
        if not math.isfinite(value):
            return str(value)
        if value == int(value) and abs(value) < 1e5:
            return str(int(value))
        text = f"{value:.2f}".rstrip("0").rstrip(".")
        return text if len(text) <= MAX_CELL_CHARS else f"{value:.1e}"
    text = _visible(str(value)) if type_ == "strings" else str(value)
    if type_ == "ints" and len(text) > MAX_CELL_CHARS:
        return f"{float(value):.0e}"
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"


def cell_colours(values: list, type_: str, strings: StringColours | None = None) -> list[str]:
    """Fill colours of value cells: a heat scale for numbers, green/red for bools, a colour per string."""
    if type_ == "bools":
        return ["#bbf7d0" if v else "#fecaca" for v in values]
    if type_ == "strings":
        strings = strings or StringColours()
        return [strings.colour(str(v)) for v in values]
    numbers = [float(v) for v in values]
    finite = [v for v in numbers if math.isfinite(v)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 0.0)
    return [_heat((v - low) / (high - low) if high > low and math.isfinite(v) else 0.0) for v in numbers]


def _heat(t: float) -> str:
    """White-ish (t=0) to orange (t=1)."""
    start, end = (0xF8, 0xFA, 0xFC), (0xFB, 0x92, 0x3C)
    return "#" + "".join(f"{round(a + (b - a) * t):02x}" for a, b in zip(start, end, strict=True))


_PALETTE = (
    "#bfdbfe",
    "#fde68a",
    "#bbf7d0",
    "#fbcfe8",
    "#ddd6fe",
    "#fed7aa",
    "#a5f3fc",
    "#d9f99d",
    "#fecdd3",
    "#c7d2fe",
    "#99f6e4",
    "#f5d0fe",
)


class StringColours:
    """One colour per distinct string across a whole picture, so equal values look alike everywhere.

    The first strings met get the palette's distinct colours; later ones a hue from their hash.
    """

    def __init__(self) -> None:
        self.assigned: dict[str, str] = {}

    def colour(self, text: str) -> str:
        if text not in self.assigned:
            if len(self.assigned) < len(_PALETTE):
                self.assigned[text] = _PALETTE[len(self.assigned)]
            else:
                self.assigned[text] = f"hsl({zlib.crc32(text.encode('utf-8')) % 360}, 70%, 86%)"
        return self.assigned[text]


def token_text(token: Any) -> str:
    text = _visible(str(token))
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"


_VISIBLE = str.maketrans({" ": "␣", "\t": "⇥", "\n": "⏎", "\r": "␍"})


def _visible(text: str) -> str:
    """Blank characters made visible (a space token would otherwise be an empty label)."""
    return text.translate(_VISIBLE) if text else '""'


def _text_width(text: str) -> float:
    return len(text) * CHAR


def _cell_width(texts: list[str]) -> float:
    return max(18.0, max((_text_width(t) for t in texts), default=0.0) + 8)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ====================================================================== model


@dataclass
class Values:
    """An s-op's values on the input, ready to draw."""

    name: str
    seq: Seq | None  # None for an atom broadcast to every position
    atom: Any = None
    strings: StringColours | None = field(default=None, repr=False)

    def texts(self, n: int) -> list[str]:
        if self.seq is None:
            return [cell_text(self.atom, _atom_type(self.atom))] * n
        return [cell_text(v, self.seq.type) for v in self.seq.to_list()]

    def colours(self, n: int) -> list[str]:
        if self.seq is None:
            return ["#e2e8f0"] * n
        return cell_colours(self.seq.to_list(), self.seq.type, self.strings)

    def full(self, n: int) -> list[str]:
        """The exact values (the cells' tooltips)."""
        if self.seq is None:
            return [exact_text(self.atom)] * n
        return [exact_text(v) for v in self.seq.to_list()]


def _atom_type(atom: Any) -> str:
    if isinstance(atom, bool):
        return "bools"
    if isinstance(atom, int):
        return "ints"
    if isinstance(atom, float):
        return "floats"
    return "strings"


@dataclass
class Box:
    """Something drawn in a band: an s-op with its values, or an attention head."""

    key: str
    title: str
    subtitle: str
    inputs: list[str]  # keys of the boxes whose values this one reads
    width: float = 0.0
    height: float = 0.0
    x: float = 0.0
    y: float = 0.0
    is_output: bool = False  # drawn with a heavy frame
    marks_output: bool = True  # "◀ output" after the title (heads say it beside the aggregate instead)

    def measure(self) -> None:
        raise NotImplementedError

    def render(self) -> list[str]:
        raise NotImplementedError

    def _frame(self, fill: str, stroke: str) -> list[str]:
        width = 2.5 if self.is_output else 1
        stroke = "#0f172a" if self.is_output else stroke
        title = self.title + ("  ◀ output" if self.is_output and self.marks_output else "")
        return [
            (
                f'<rect x="{self.x:.1f}" y="{self.y:.1f}" width="{self.width:.1f}" height="{self.height:.1f}" '
                f'rx="6" fill="{fill}" stroke="{stroke}" stroke-width="{width}"/>'
            ),
            _text(self.x + PAD, self.y + PAD + FONT, title, "title"),
            _text(self.x + PAD, self.y + PAD + FONT + ROW, self.subtitle, "subtitle"),
        ]

    def _header_width(self) -> float:
        return max(_text_width(self.title + "  ◀ output"), _text_width(self.subtitle))


@dataclass
class SOpBox(Box):
    """A primitive or elementwise node: its values under the input's tokens."""

    values: Values | None = None
    tokens: list[str] = field(default_factory=list)
    cell: float = 0.0

    def measure(self) -> None:
        self.cell = _cell_width(self.values.texts(len(self.tokens)) + self.tokens)
        self.width = max(self._header_width(), len(self.tokens) * self.cell) + 2 * PAD
        self.height = 2 * PAD + 2 * ROW + 2 * ROW + 4

    def render(self) -> list[str]:
        out = self._frame("#ffffff", "#94a3b8")
        top = self.y + PAD + 2 * ROW + 4
        left = self.x + PAD
        out += _token_row(left, top, self.cell, self.tokens)
        out += _value_row(left, top + ROW, self.cell, self.values, len(self.tokens))
        return out


@dataclass
class HeadBox(Box):
    """An attention head: the selector matrix, the values read (top) and produced (right)."""

    matrix: np.ndarray | None = None
    selector_name: str = ""
    reads: list[Values] = field(default_factory=list)  # one per aggregate; selector widths read nothing
    produces: list[Values] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # "out 1 = name ← in 1 = source", one per aggregate
    tokens: list[str] = field(default_factory=list)
    cell: float = 0.0
    gutter: float = 0.0
    out_widths: list[float] = field(default_factory=list)

    def measure(self) -> None:
        n = len(self.tokens)
        read_texts = [t for values in self.reads if values is not None for t in values.texts(n)]
        self.cell = _cell_width([*self.tokens, *read_texts, str(n - 1)])
        labels = self._query_labels() + [f"in {i + 1}" for i in range(len(self.reads))]
        self.gutter = max(_text_width(t) for t in labels) + 10
        self.out_widths = [
            max(_cell_width(v.texts(n)), _text_width(f"out {i + 1}") + 6) for i, v in enumerate(self.produces)
        ]
        grid = self.gutter + n * self.cell + 6 + sum(self.out_widths)
        notes = max((_text_width(t) for t in self.notes), default=0.0)
        self.width = max(self._header_width(), grid, notes) + 2 * PAD
        self.height = 2 * PAD + 2 * ROW + (len(self._read_rows()) + 2 + n) * ROW + 6 + len(self.notes) * ROW + 4

    def _query_labels(self) -> list[str]:
        """Each query row's position and token (`3 l`): repeated and blank tokens stay apart."""
        width = len(str(len(self.tokens) - 1))
        return [f"{str(q).rjust(width)} {t}" for q, t in enumerate(self.tokens)]

    def _read_rows(self) -> list[tuple[int, Values]]:
        return [(i, v) for i, v in enumerate(self.reads) if v is not None]

    def render(self) -> list[str]:
        n = len(self.tokens)
        out = self._frame("#ffffff", "#60a5fa")
        left = self.x + PAD + self.gutter
        top = self.y + PAD + 2 * ROW + 4
        for row, (i, values) in enumerate(self._read_rows()):
            y = top + row * ROW
            out.append(_text(self.x + PAD, y + ROW - 4, f"in {i + 1}", "label"))
            out += _value_row(left, y, self.cell, values, n, css="in")
        top += len(self._read_rows()) * ROW
        out += _token_row(left, top, self.cell, [str(k) for k in range(n)], css="position")  # key positions
        top += ROW
        out += _token_row(left, top, self.cell, self.tokens, css="key")
        grid_top = top + ROW
        out += self._matrix(left, grid_top)
        out += self._produced(left + n * self.cell + 6, top)
        y = grid_top + n * ROW + 6
        for note in self.notes:
            out.append(_text(self.x + PAD, y + ROW - 4, note, "note"))
            y += ROW
        return out

    def _matrix(self, left: float, top: float) -> list[str]:
        """The selector as a heat map: a patterned grid of unselected cells, a rect per selected cell."""
        n = len(self.tokens)
        pattern = f"grid-{self.key}"
        out = [
            f'<g class="matrix" data-name="{escape(self.selector_name)}">',
            (
                f'<pattern id="{pattern}" x="{left:.1f}" y="{top:.1f}" width="{self.cell:.1f}" height="{ROW}" '
                f'patternUnits="userSpaceOnUse"><rect class="off" width="{self.cell - 1:.1f}" height="{ROW - 1}"/>'
                "</pattern>"
            ),
            f'<rect x="{left:.1f}" y="{top:.1f}" width="{n * self.cell:.1f}" height="{n * ROW}" '
            f'fill="url(#{pattern})"/>',
        ]
        labels = self._query_labels()
        for q in range(n):
            y = top + q * ROW
            out.append(_text(left - 5, y + ROW - 4, labels[q], "query", anchor="end"))
            for k in np.flatnonzero(self.matrix[q]).tolist():
                out.append(
                    f'<rect class="on" x="{left + k * self.cell:.1f}" y="{y:.1f}" '
                    f'width="{self.cell - 1:.1f}" height="{ROW - 1}"/>'
                )
        out.append("</g>")
        return out

    def _produced(self, left: float, top: float) -> list[str]:
        out = []
        for i, values in enumerate(self.produces):
            width = self.out_widths[i]
            out.append(_text(left + width / 2, top + ROW - 4, f"out {i + 1}", "label", anchor="middle"))
            n = len(self.tokens)
            texts, colours, full = values.texts(n), values.colours(n), values.full(n)
            out.append(f'<g class="out" data-name="{escape(values.name)}">')
            for q, text in enumerate(texts):
                y = top + (q + 1) * ROW
                out.append(_cell(left, y, width, text, colours[q], full[q]))
            out.append("</g>")
            left += width
        return out


def _text(x: float, y: float, text: str, css: str, anchor: str | None = None) -> str:
    anchor_attr = f' text-anchor="{anchor}"' if anchor else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" class="{css}"{anchor_attr}>{escape(text)}</text>'


def _cell(x: float, y: float, width: float, text: str, fill: str, tooltip: str) -> str:
    return (
        f"<g><title>{escape(tooltip)}</title>"
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width - 1:.1f}" height="{ROW - 1}" fill="{fill}"/>'
        + _text(x + (width - 1) / 2, y + ROW - 4, text, "value", anchor="middle")
        + "</g>"
    )


def _token_row(left: float, top: float, cell: float, tokens: list[str], css: str = "token") -> list[str]:
    return [_text(left + (k + 0.5) * cell, top + ROW - 4, t, css, anchor="middle") for k, t in enumerate(tokens)]


def _value_row(left: float, top: float, cell: float, values: Values, n: int, css: str = "values") -> list[str]:
    """One row of value cells, in a group `<g class="values|in" data-name=...>`."""
    texts, colours, full = values.texts(n), values.colours(n), values.full(n)
    cells = [_cell(left + k * cell, top, cell, texts[k], colours[k], full[k]) for k in range(n)]
    return [f'<g class="{css}" data-name="{escape(values.name)}">', *cells, "</g>"]


# ===================================================================== bands


@dataclass
class Band:
    label: str
    sublabel: str
    kind: str  # "input", "attention" or "mlp"
    boxes: list[Box]
    layer: int = 0  # 0 for the input band
    y: float = 0.0
    height: float = 0.0


class _Builder:
    """Turns an analysed, evaluated graph into bands of boxes."""

    def __init__(self, node: Lazy, items: list, name: str):
        self.node = node
        self.items = items
        self.tokens = [token_text(t) for t in items]
        self.analysis: Analysis = analyse(node, name)
        self.order, self.depth = depths(node)
        cells = len(self.order) * len(items) + self.analysis.total_heads * len(items) ** 2
        if cells > MAX_CELLS:
            raise RaspValueError(
                f"the picture would have about {cells} cells ({len(self.order)} nodes, "
                f"{self.analysis.total_heads} heads, {len(items)} tokens); draw shows up to {MAX_CELLS}",
                hint="draw a part of the program, or on a shorter input",
            )
        self.evaluation = Evaluation(items)
        self.evaluation.value(node)
        self.box_of: dict[int, str] = {}  # id(s-op node) -> key of the box showing it
        self.strings = StringColours()
        self._keys = 0

    def _key(self) -> str:
        self._keys += 1
        return f"b{self._keys}"

    def values(self, value: Any, name: str | None = None) -> Values:
        if isinstance(value, Lazy):
            return Values(name or value.name, self.evaluation.value(value), strings=self.strings)
        return Values(str(value), None, value, strings=self.strings)

    def bands(self) -> list[Band]:
        bands = [self._input_band()]
        for layer in self.analysis.detail:
            heads = [self._head_box(layer.number, head) for head in layer.heads]
            word = "head" if len(heads) == 1 else "heads"
            sublabel = f"attention · {len(heads)} {word}"
            bands.append(Band(f"layer {layer.number}", sublabel, "attention", heads, layer.number))
            if layer.mlp_nodes:
                boxes = [self._sop_box(m) for m in layer.mlp_nodes]
                word = "node" if len(boxes) == 1 else "nodes"
                bands.append(Band(f"layer {layer.number}", f"MLP · {len(boxes)} {word}", "mlp", boxes, layer.number))
        for band in bands:
            for box in band.boxes:
                box.measure()
        return bands

    def _input_band(self) -> Band:
        nodes = [n for n in self.order if isinstance(n, Primitive)]
        nodes += [n for n in self.order if isinstance(n, Map) and self.depth[id(n)] == 0]
        boxes = [self._sop_box(n) for n in nodes]
        return Band("input", "depth 0 (embedding)", "input", boxes)

    def _sop_box(self, node: Lazy) -> SOpBox:
        key = self._key()
        self.box_of[id(node)] = key
        subtitle = node.describe() if node.label is not None and node.describe() != node.name else ""
        seq = self.evaluation.value(node)
        box = SOpBox(
            key,
            _clip(node.name, 70),
            _clip(f"{subtitle}  ({seq.type})".strip(), 90),
            self._producers(node.parents()),
            values=self.values(node),
            tokens=self.tokens,
        )
        box.is_output = node is self.node
        return box

    def _head_box(self, layer: int, head: Head) -> HeadBox:
        key = self._key()
        reads, produces, notes = [], [], []
        for i, user in enumerate(head.users):
            self.box_of[id(user)] = key
            produces.append(self.values(user))
            out = f"out {i + 1} = {_clip(user.name, 40)}" if user.label is not None else f"out {i + 1}"
            if isinstance(user, Aggregate):
                reads.append(self.values(user.sop))
                source = user.sop.name if isinstance(user.sop, Lazy) else exact_text(user.sop)
                plain_default = type(user.default) is int and user.default == 0
                default = "" if plain_default else f", default {exact_text(user.default)}"
                notes.append(f"{out} ← in {i + 1} = {_clip(source, 40)}{default}")
            else:
                reads.append(None)
                notes.append(f"{out}: selector width (keys selected per query)")
            if user is self.node:
                notes[-1] += "   ◀ output"
        inputs = self._producers(_selector_sops(head.selector))
        inputs += self._producers([u.sop for u in head.users if isinstance(u, Aggregate)])
        subtitle = head.description if head.description != head.name else "rows: queries · columns: keys"
        box = HeadBox(
            key,
            _clip(f"head {head.name}", 70),
            _clip(subtitle, 90),
            list(dict.fromkeys(inputs)),
            matrix=np.asarray(self.evaluation.value(head.selector), dtype=bool),
            selector_name=head.name,
            reads=reads,
            produces=produces,
            notes=notes,
            tokens=self.tokens,
        )
        if not head.users:
            box.notes = ["the selector drawn (no aggregate uses it here)"]
        box.is_output = head.selector is self.node or any(u is self.node for u in head.users)
        box.marks_output = head.selector is self.node
        return box

    def _producers(self, nodes) -> list[str]:
        return [self.box_of[id(n)] for n in nodes if isinstance(n, Lazy) and id(n) in self.box_of]


def _selector_sops(selector: Lazy) -> list[Lazy]:
    """The s-ops a selector compares (keys and queries of all its selects)."""
    found: list[Lazy] = []
    stack = [selector]
    while stack:
        current = stack.pop()
        if isinstance(current, Select):
            found += [v for v in (current.key, current.query) if isinstance(v, Lazy)]
        elif isinstance(current, SelectorCombination):
            stack += list(current.args)
    return found


# ===================================================================== layout


def _layout(bands: list[Band], top: float) -> float:
    """Place the boxes of each band in rows (wrapping at MAX_WIDTH); return the total height."""
    y = top
    for band in bands:
        band.y = y
        x, row_top, row_height = BAND_LABEL + GAP, y + GAP, 0.0
        for box in band.boxes:
            if x + box.width > MAX_WIDTH and x > BAND_LABEL + GAP:
                x, row_top, row_height = BAND_LABEL + GAP, row_top + row_height + GAP, 0.0
            box.x, box.y = x, row_top
            x += box.width + GAP
            row_height = max(row_height, box.height)
        band.height = max(row_top + row_height + GAP - y, 60)
        y += band.height
    return y


_BAND_FILL = {"input": "#f1f5f9", "attention": "#eff6ff", "mlp": "#fffbeb"}


def _edges(bands: list[Band]) -> tuple[list[str], dict[str, list[str]]]:
    boxes = {box.key: box for band in bands for box in band.boxes}
    out, edges_of = [], {key: [] for key in boxes}
    for box in boxes.values():
        for source_key in box.inputs:
            source = boxes[source_key]
            edge = f"e{len(out) + 1}"
            edges_of[box.key].append(edge)
            edges_of[source_key].append(edge)
            out.append(f'<path id="{edge}" class="edge" d="{_edge_path(source, box)}" marker-end="url(#arrow)"/>')
    return out, edges_of


def _edges_over(edges: list[str]) -> list[str]:
    """The same edges dashed, drawn over the boxes: an edge that passes behind a box (indices to
    length - indices behind a head) is seen to go on, not to leave that box."""
    over = []
    for path in edges:
        path = path.replace('class="edge"', 'class="edge-over"').replace(' marker-end="url(#arrow)"', "")
        over.append(path.replace('id="e', 'id="o', 1))
    return over


def _edge_path(source: Box, target: Box) -> str:
    """A curve from the bottom of source to the top of target, or an arc over both when they sit side by side."""
    x1, x2, y2 = source.x + source.width / 2, target.x + target.width / 2, target.y - 2
    if target.y < source.y + source.height:  # the same row: arc above the boxes
        y1 = source.y
        lift = min(source.y, target.y) - 14 - min(abs(x2 - x1) / 40, 8)
        return f"M{x1:.1f},{y1:.1f} C{x1:.1f},{lift:.1f} {x2:.1f},{lift:.1f} {x2:.1f},{y2:.1f}"
    y1 = source.y + source.height
    bend = max(30.0, (y2 - y1) / 3)
    return f"M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + bend:.1f} {x2:.1f},{y2 - bend:.1f} {x2:.1f},{y2:.1f}"


def render_svg(node: Lazy, example: Any, name: str) -> tuple[str, Analysis]:
    """The picture as an SVG document (a string) and the analysis it shows."""
    items = input_items(example)
    if len(items) > MAX_TOKENS:
        raise RaspValueError(
            f"the input has {len(items)} tokens; draw shows inputs of up to {MAX_TOKENS}",
            hint="give a shorter input: draw(e, input)",
        )
    builder = _Builder(node, items, name)
    bands = builder.bands()
    height = _layout(bands, 0.0)
    width = max([MAX_WIDTH] + [box.x + box.width + GAP for band in bands for box in band.boxes])
    edges, edges_of = _edges(bands)
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="monospace" font-size="{FONT}">'
        ),
        (
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#64748b"/>'
            "</marker></defs>"
        ),
    ]
    for band in bands:
        parts.append(
            f'<g class="band {band.kind}"><rect x="0" y="{band.y:.1f}" width="{width:.0f}" '
            f'height="{band.height:.1f}" fill="{_BAND_FILL[band.kind]}" stroke="#cbd5e1" stroke-width="0.5"/>'
            + _text(12, band.y + 24, band.label, "band")
            + _text(12, band.y + 24 + ROW + 2, band.sublabel, "bandsub")
            + "</g>"
        )
    parts.append('<g class="edges">' + "".join(edges) + "</g>")
    for layer in range(builder.analysis.layers + 1):
        parts.append(f'<g class="layer" data-layer="{layer}">')
        for band in (b for b in bands if b.layer == layer):
            parts.append(f'<g class="stage" data-kind="{band.kind}">')
            for box in band.boxes:
                kind = "head" if isinstance(box, HeadBox) else "sop"
                data = " ".join(edges_of[box.key])
                parts.append(f'<g id="{box.key}" class="box {kind}" data-edges="{data}">')
                parts += box.render()
                parts.append("</g>")
            parts.append("</g>")
        parts.append("</g>")
    parts.append('<g class="edges-over">' + "".join(_edges_over(edges)) + "</g>")
    parts.append("</svg>")
    return "\n".join(parts), builder.analysis


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; background: #ffffff; color: #0f172a; }
header { padding: 12px 18px; border-bottom: 1px solid #cbd5e1; }
header h1 { font-size: 18px; margin: 0 0 4px 0; }
header p { margin: 2px 0; font-size: 13px; color: #334155; }
header code { background: #f1f5f9; padding: 0 4px; border-radius: 3px; }
.picture { overflow: auto; }
svg text { fill: #0f172a; dominant-baseline: auto; }
svg .title { font-weight: bold; font-size: 12px; }
svg .subtitle { fill: #475569; }
svg .band { font-weight: bold; font-size: 14px; font-family: system-ui, sans-serif; }
svg .bandsub { fill: #475569; font-size: 12px; font-family: system-ui, sans-serif; }
svg .token, svg .key, svg .query { fill: #64748b; }
svg .position { fill: #94a3b8; font-size: 9px; }
svg .edge-over { fill: none; stroke: #94a3b8; stroke-width: 1; stroke-dasharray: 3 3; opacity: 0.8; }
svg .edge-over.hl { stroke: #e11d48; opacity: 1; }
svg .label, svg .note { fill: #475569; }
svg .value { font-size: 10px; }
svg rect.on { fill: #2563eb; }
svg rect.off { fill: #e2e8f0; }
svg .edge { fill: none; stroke: #94a3b8; stroke-width: 1.2; opacity: 0.55; }
svg .edge.hl { stroke: #e11d48; opacity: 1; stroke-width: 2.2; }
svg .box:hover > rect:first-child { stroke: #e11d48; }
"""

_SCRIPT = """
document.querySelectorAll('g.box').forEach(function (box) {
  var ids = (box.getAttribute('data-edges') || '').split(' ').filter(Boolean);
  function mark(on) { ids.forEach(function (id) {
    [id, 'o' + id.slice(1)].forEach(function (one) {  // the edge and its dashed copy over the boxes
      var e = document.getElementById(one); if (e) { e.classList.toggle('hl', on); } }); }); }
  box.addEventListener('mouseenter', function () { mark(true); });
  box.addEventListener('mouseleave', function () { mark(false); });
});
"""


def render_html(node: Lazy, example: Any, name: str) -> str:
    """A self-contained HTML page: a short summary and the inline SVG picture."""
    return _page(node, example, name)[0]


def _page(node: Lazy, example: Any, name: str) -> tuple[str, Analysis]:
    svg, analysis = render_svg(node, example, name)
    heads = ",".join(str(h) for h in analysis.heads) or "-"
    mlps = ",".join(str(m) for m in analysis.mlps) or "-"
    shown_input = _clip(format_value(example), 80)
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(name)} — rasp draw</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<header><h1>{escape(name)} on {escape(shown_input)}</h1>\n"
        f"<p>{analysis.layers} layer{'s' if analysis.layers != 1 else ''} · heads per layer {heads} · "
        f"MLP nodes per layer {mlps} (+{len(analysis.embedding)} in the embedding)</p>\n"
        "<p>Bands top to bottom: the input, then each layer's attention heads and MLP nodes. "
        "A head shows its selector (<code>rows = queries</code>, <code>columns = keys</code>, blue = selected), "
        "the values it reads above the matrix (<code>in</code>) and produces on the right (<code>out</code>). "
        "Hover over a box to highlight its arrows, over a value for its exact value.</p></header>\n"
        f'<div class="picture">\n{svg}\n</div>\n<script>{_SCRIPT}</script>\n</body>\n</html>\n'
    )
    return page, analysis


# ======================================================================= DOT


def to_dot(node: Lazy, name: str) -> str:
    """The graph as Graphviz DOT text: one cluster per layer, selectors as ellipses."""
    order, depth = depths(node)
    ids = {id(n): f"n{i}" for i, n in enumerate(order)}
    lines = [f"digraph {_dot_string(name)} {{", "  rankdir=TB;", '  node [fontname="monospace", fontsize=10];']
    for d in range(max(depth.values()) + 1):
        label = "input / embedding" if d == 0 else f"layer {d}"
        lines.append(f"  subgraph cluster_{d} {{")
        lines.append(f"    label={_dot_string(label)};")
        for current in order:
            if depth[id(current)] == d:
                lines.append(f"    {ids[id(current)]} [{_dot_node_style(current)}, label={_dot_string(current.name)}];")
        lines.append("  }")
    for current in order:
        for parent in current.parents():
            lines.append(f"  {ids[id(parent)]} -> {ids[id(current)]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_node_style(node: Lazy) -> str:
    if isinstance(node, Selector):
        return 'shape=ellipse, style=filled, fillcolor="#dbeafe"'
    if isinstance(node, (Aggregate, SelectorWidth)):
        return 'shape=box, style="rounded,filled", fillcolor="#bfdbfe"'
    if isinstance(node, Primitive):
        return 'shape=box, style=filled, fillcolor="#e2e8f0"'
    return 'shape=box, style="rounded,filled", fillcolor="#fef3c7"' if isinstance(node, SOp) else "shape=box"


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'
