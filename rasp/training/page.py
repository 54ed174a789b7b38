"""A trained model's heads beside the program selectors they match, on one input (docs/training.md,
'The page: heads beside their selectors').

For every layer and head: the head's attention on the input as a heat map, the target of the
selector the head matched on the test inputs (rasp/training/matching.py; rows normalised as
rasp/training/data.py, selector_targets, builds them) and their difference, with the matching's
figure (half the L1 distance per row, averaged) on the test inputs and on this input.

The fragment (`heads_html`) has inline styles only, so that it shows in a notebook
(`Trained._repr_html_`); `page_html` wraps it in a page of its own, `write_page` writes it where
`draw` writes (rasp/draw.py, draw_directory). Every text from a program or an input is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..display import format_value
from ..draw import draw_directory, file_stem, token_text
from ..errors import RaspLoadError, RaspValueError
from ..html import escape
from .data import query_mask, sample_inputs, selector_targets
from .matching import program_selectors, row_difference

NUMBERS_UP_TO = 20  # cells show their value up to this width; beyond it, only the tooltip does

_TABLE = "border-collapse:collapse;font-family:monospace;font-size:11px;margin:2px 0"
_HEADER = "border:1px solid #d0d0d0;padding:1px 4px;background:#f3f3f3;color:#1a1a1a;font-weight:bold"
_NUMBER = "font-weight:normal;font-size:9px;color:#666"
_CELL = "border:1px solid #d0d0d0;width:26px;height:20px;text-align:center;font-size:10px"
_CAPTION = "font-family:monospace;font-size:12px;color:#334155;padding:2px 0"
_HEAD_TITLE = "font-family:monospace;font-size:13px;font-weight:bold;margin:10px 0 2px 0;color:#0f172a"
_NOTE = "font-family:monospace;font-size:12px;color:#64748b;margin:2px 0"
_ROW = "display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start"


@dataclass
class HeadView:
    """One head on one input: its attention, the matched selector's target (None without the
    program or when no selector matched) and the figures."""

    layer: int  # from 1
    head: int  # from 1
    attention: np.ndarray  # (W, W)
    selector: str | None = None
    target: np.ndarray | None = None
    test_difference: float | None = None
    input_difference: float | None = None
    counts_bos: bool = False  # the target is a selector_width head's (every query also on BOS)
    scored: np.ndarray | None = None  # (W,) 1.0 at the query rows the matching scores (not BOS)


def shown_input(trained: Any, items: Any = None) -> list:
    """The input the page shows: `items` (a string: its characters), else one of the training
    distribution's inputs of the longest length, drawn with the run's seed."""
    if items is None:
        dist = trained.distribution
        rng = np.random.default_rng(trained.settings.seed)
        return sample_inputs(replace(dist, min_len=dist.max_len), 1, rng)[0]
    if not isinstance(items, (str, list, tuple)) or len(items) == 0:
        raise RaspValueError("the page needs a non-empty input (a list of tokens or a string)",
                             hint='e.g. model.page("abca")')
    return list(items)


def head_views(trained: Any, items: list) -> list[HeadView]:
    """Every head of the model on `items`, each beside the selector it matched on the test inputs."""
    bos = trained.distribution.bos
    attention = trained.attention(items)  # (layers, heads, W, W)
    width = attention.shape[-1]
    rows = query_mask(np.array([len(items)]), width, bos)
    matched = {(m["layer"], m["head"]): m for m in trained.heads_matched}
    selectors = program_selectors(trained.program) if trained.program is not None else []
    views = []
    for layer in range(attention.shape[0]):
        for head in range(attention.shape[1]):
            view = HeadView(layer + 1, head + 1, attention[layer, head], scored=rows[0])
            match = matched.get((layer + 1, head + 1))
            if match is not None:
                view.selector, view.test_difference = match["selector"], match["difference"]
                _add_target(view, [s for s in selectors if s.name == match["selector"]], items, width, bos, rows)
            views.append(view)
    return views


def _add_target(view: HeadView, candidates: list, items: list, width: int, bos: bool, rows: np.ndarray) -> None:
    """The closest, on this input, of the matched selector's targets (with BOS: as an aggregate's
    head and as a selector_width's, as the matching tries them)."""
    best = None
    for selector in candidates:
        for counts_bos in ([False, True] if bos else [False]):
            target = selector_targets(selector, [items], width, bos, counts_bos)[0]
            difference = row_difference(view.attention[None], target[None], rows)
            if best is None or difference < best[0]:
                best = (difference, target, counts_bos)
    if best is not None:
        view.input_difference, view.target, view.counts_bos = best


def _labels(trained: Any, items: list) -> list[str]:
    return (["BOS"] if trained.distribution.bos else []) + [token_text(t) for t in items]


def _blue(t: float) -> str:
    """White (t=0) to blue (t=1): draw's selected colour (rasp/draw.py, _STYLE)."""
    start, end = (0xFF, 0xFF, 0xFF), (0x25, 0x63, 0xEB)
    return "#" + "".join(f"{round(a + (b - a) * t):02x}" for a, b in zip(start, end, strict=True))


def _signed(value: float) -> str:
    """A difference: white (0) to orange (+1: more attention than the target) or violet (-1: less)."""
    start, end = (0xFF, 0xFF, 0xFF), (0xEA, 0x58, 0x0C) if value > 0 else (0x7C, 0x3A, 0xED)
    t = min(abs(value), 1.0)
    return "#" + "".join(f"{round(a + (b - a) * t):02x}" for a, b in zip(start, end, strict=True))


_UNSCORED = "#eef0f3"  # a query row the matching does not score (BOS)


def _cell_number(value: float) -> str:
    text = f"{value:.2f}"
    return "0" if text in ("0.00", "-0.00") else "1" if text == "1.00" else text.replace("0.", ".", 1)


def matrix_html(matrix: np.ndarray, labels: list[str], caption: str, signed: bool = False,
                scored: np.ndarray | None = None) -> str:
    """A heat map: rows are queries, columns keys; the value in blue, or with `signed` in orange
    (positive) or violet (negative). Rows where `scored` is 0 are greyed and left empty."""
    numbers = len(labels) <= NUMBERS_UP_TO
    header = f'<tr><th style="{_HEADER}">q \\ k</th>' + "".join(
        f'<th scope="col" style="{_HEADER}"><span style="{_NUMBER}">{k}</span><br>{escape(t)}</th>'
        for k, t in enumerate(labels)) + "</tr>"
    rows = [header]
    for q, query in enumerate(labels):
        cells = []
        if scored is not None and not scored[q]:
            tip = escape(f"query {q} ({query}): not scored (the BOS row)")
            cells = [f'<td style="{_CELL};background:{_UNSCORED}" title="{tip}"></td>' for _ in labels]
            rows.append(f'<tr><th scope="row" style="{_HEADER}"><span style="{_NUMBER}">{q}</span> {escape(query)}'
                        f'</th>{"".join(cells)}</tr>')
            continue
        for k, key in enumerate(labels):
            value = float(matrix[q, k])
            size = min(abs(value), 1.0)
            fill = _signed(value) if signed else _blue(size)
            ink = "#ffffff" if size > 0.55 else "#1a1a1a"
            tip = f"query {q} ({query}), key {k} ({key}): {value:+.3f}" if signed else \
                f"query {q} ({query}), key {k} ({key}): {value:.3f}"
            text = _cell_number(value) if numbers and abs(value) >= 0.005 else ""
            cells.append(f'<td style="{_CELL};background:{fill};color:{ink}" title="{escape(tip)}">{text}</td>')
        rows.append(f'<tr><th scope="row" style="{_HEADER}"><span style="{_NUMBER}">{q}</span> {escape(query)}'
                    f'</th>{"".join(cells)}</tr>')
    return (f'<div><div style="{_CAPTION}">{escape(caption)}</div>'
            f'<table style="{_TABLE}">{"".join(rows)}</table></div>')


def head_html(view: HeadView, labels: list[str]) -> str:
    """One head: its title, its attention, the matched selector's target and the difference."""
    where = f"layer {view.layer} head {view.head}"
    attention = matrix_html(view.attention, labels, "attention of the trained head")
    if view.selector is None:
        return (f'<div class="rasp-trained-head"><div style="{_HEAD_TITLE}">{where}</div>'
                f'<div style="{_ROW}">{attention}</div></div>')
    title = f"{where}: closest to {view.selector} (difference {view.test_difference:.3f} on the test inputs"
    title += f", {view.input_difference:.3f} on this input)" if view.input_difference is not None else ")"
    if view.target is None:
        note = f'<div style="{_NOTE}">the program is not known (a loaded model): its selector cannot be shown</div>'
        return (f'<div class="rasp-trained-head"><div style="{_HEAD_TITLE}">{escape(title)}</div>{note}'
                f'<div style="{_ROW}">{attention}</div></div>')
    kind = "selector_width head: + BOS" if view.counts_bos else "rows normalised"
    target = matrix_html(view.target, labels, f"selector's target ({kind})", scored=view.scored)
    difference = matrix_html(view.attention - view.target, labels, "attention minus target", signed=True,
                             scored=view.scored)
    return (f'<div class="rasp-trained-head"><div style="{_HEAD_TITLE}">{escape(title)}</div>'
            f'<div style="{_ROW}">{attention}{target}{difference}</div></div>')


def heads_html(trained: Any, items: Any = None) -> str:
    """Every head beside its selector on one input (default: shown_input), as an HTML fragment."""
    items = shown_input(trained, items)
    labels = _labels(trained, items)
    predicted = trained.predict([items])[0]
    rows = [("input", [token_text(t) for t in items]), ("model", [token_text(v) for v in predicted])]
    if trained.program is not None:
        from ..engine import evaluate_batch

        ((_, value),) = evaluate_batch(trained.program, [items])
        if not isinstance(value, Exception):
            rows.append(("program", [token_text(v) for v in value.to_list()]))
    bos = trained.distribution.bos
    table = "".join(f'<tr><th scope="row" style="{_HEADER}">{label}</th>'
                    + "".join(f'<td style="{_CELL}">{escape(v)}</td>'
                              for v in (["BOS" if label == "input" else ""] if bos else []) + values) + "</tr>"
                    for label, values in rows)
    outputs = f'<table style="{_TABLE}">{table}</table>'
    heads = "".join(head_html(view, labels) for view in head_views(trained, items))
    return (f'<div class="rasp-trained-heads"><div style="{_CAPTION}">on {escape(format_value(items))}'
            f"</div>{outputs}{heads}</div>")


def page_html(trained: Any, items: Any = None) -> str:
    """A self-contained HTML page: the model's figures and every head beside its selector."""
    from .report import trained_text

    info = trained.to_json()
    shown = shown_input(trained, items)
    summary = escape(trained_text({**info, "heads_matched": []}))
    explain = ("For every layer and head: its attention on the input (rows are queries, columns keys; "
               "blue = weight), the target of the program selector it is closest to on the test inputs "
               "(each query's weight spread evenly over the keys it selects; a query that selects nothing "
               "on BOS), and attention minus target (orange: more weight than the target, violet: less; "
               "the BOS row is not scored). Hover a cell for its value. The difference is half the L1 "
               "distance per query row, averaged over the rows: 0 identical, 1 disjoint.")
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{escape(info['name'])} — rasp train</title>\n</head>\n"
            '<body style="font-family:system-ui,sans-serif;margin:12px 18px;background:#ffffff;color:#0f172a">\n'
            f'<h1 style="font-size:18px;margin:0 0 4px 0">{escape(info["name"])}: a trained transformer</h1>\n'
            f'<pre style="margin:4px 0;font-size:12px">{summary}</pre>\n'
            f'<p style="font-size:13px;color:#334155;max-width:70em">{escape(explain)}</p>\n'
            f"{heads_html(trained, shown)}\n</body>\n</html>\n")


def write_page(trained: Any, items: Any = None, directory: Path | str | None = None) -> str:
    """Write page_html to DIRECTORY/NAME_trained.html (default directory: where `draw` writes)."""
    directory = Path(directory) if directory is not None else draw_directory()
    path = directory / f"{file_stem(trained.name)}_trained.html"
    page = page_html(trained, items)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path.write_text(page, encoding="utf-8")
    except OSError as error:
        raise RaspLoadError(f"cannot write the page to {path}: {error.strerror or error}") from None
    return str(path)
