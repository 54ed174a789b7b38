"""HTML rendering of results, for Jupyter (`_repr_html_`) and other rich front ends.

* an s-op's value: a small table, the input row over the output row, with the type;
* a selector's matrix: a heat-map table with the input's tokens as row (query)
  and column (key) headers;
* an analysis: one row per layer with its heads and MLP nodes;
* a drawing: the page `draw` wrote, inline in an iframe;
* a compiled transformer: its sizes and its verification, one row each;
* anything else: the text of rasp.display in a <pre>.

Every piece of text from a program or an input is escaped. Styles are inline
(notebook front ends drop <style> elements of untrusted output).
Knows nothing of evaluation: it renders rasp.results objects.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from .display import DisplayOptions, format_element, format_result, format_value
from .results import Compiled, Drawn, EvaluatedSelector, EvaluatedSOp, Shown

MAX_TOKENS = 128  # rows and columns of a table beyond this are left out, with a note

_TABLE = "border-collapse:collapse;font-family:monospace;font-size:13px;margin:4px 0"
_TITLE = "font-family:monospace;font-size:13px;padding:2px 0"
# cells set their text colour with their background: readable on a light and a dark notebook theme
_CELL = "border:1px solid #d0d0d0;padding:2px 6px;text-align:center;color:#1a1a1a;background:#ffffff"
_HEADER = _CELL + ";background:#f3f3f3;font-weight:bold"
_NUMBER = "font-weight:normal;font-size:10px;color:#666"
_SELECTED = "border:1px solid #d0d0d0;width:18px;height:18px;text-align:center;background:#1f6f3f;color:#fff"
_UNSELECTED = "border:1px solid #d0d0d0;width:18px;height:18px;text-align:center;background:#fafafa;color:#bbb"
_TYPE = "color:#2b8cab"  # a middle blue: legible on white and on a dark background
_NOTE = "font-family:monospace;font-size:12px;color:#888"
_FRAME = "width:100%;height:560px;border:1px solid #d0d0d0;resize:vertical"


def escape(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _title(name: str, shown_input: Any, kind: str) -> str:
    head = escape(f"{name}({format_value(shown_input)})")
    return f'<div class="rasp-title" style="{_TITLE}">{head} <span style="{_TYPE}">{escape(kind)}</span></div>'


def _block(kind: str, title: str, rows: list[str], note: str = "") -> str:
    """A titled table: <div class="rasp-KIND"><div>title</div><table>rows</table>note</div>."""
    return f'<div class="rasp-{kind}">{title}<table style="{_TABLE}">' + "".join(rows) + f"</table>{note}</div>"


def _cut_note(total: int, what: str) -> str:
    if total <= MAX_TOKENS:
        return ""
    return f'<div style="{_NOTE}">({total - MAX_TOKENS} more {what} not shown)</div>'


def sop_html(value: EvaluatedSOp, name: str | None = None) -> str:
    """The input row over the output row, with the name, the input and the type in the caption."""
    tokens = value.tokens[:MAX_TOKENS]
    cells = [format_element(v, value.type) for v in value.values[:MAX_TOKENS]]
    rows = [
        f'<tr><th scope="row" style="{_HEADER}">input</th>'
        + "".join(f'<td style="{_CELL}">{escape(t)}</td>' for t in tokens) + "</tr>",
        f'<tr><th scope="row" style="{_HEADER}">output</th>'
        + "".join(f'<td style="{_CELL}">{escape(c)}</td>' for c in cells) + "</tr>",
    ]
    title = _title(name or value.name, value.input, value.type)
    return _block("sop", title, rows, _cut_note(len(value.values), "positions"))


def selector_html(value: EvaluatedSelector, name: str | None = None) -> str:
    """The matrix as a heat map: rows are queries, columns keys, selected cells filled and marked 1."""
    tokens = [escape(t) for t in value.tokens[:MAX_TOKENS]]
    header = f'<tr><th style="{_HEADER}">q \\ k</th>' + "".join(
        f'<th scope="col" style="{_HEADER}">{_numbered(k, t)}</th>' for k, t in enumerate(tokens)
    ) + "</tr>"
    rows = [header]
    for q, query in enumerate(tokens):
        cells = "".join(_selector_cell(bool(value.matrix[q][k])) for k in range(len(tokens)))
        rows.append(f'<tr><th scope="row" style="{_HEADER}">{_numbered(q, query, across=True)}</th>{cells}</tr>')
    title = _title(name or value.name, value.input, "selector, rows are queries, columns keys")
    return _block("selector", title, rows, _cut_note(len(value.tokens), "rows and columns"))


def _numbered(position: int, token: str, across: bool = False) -> str:
    """A header cell's position number over (or before) its escaped token: repeated or blank
    tokens stay distinguishable."""
    separator = " " if across else "<br>"
    return f'<span style="{_NUMBER}">{position}</span>{separator}{token}'


def _selector_cell(selected: bool) -> str:
    if selected:
        return f'<td style="{_SELECTED}">1</td>'
    return f'<td style="{_UNSELECTED}"></td>'


def analysis_html(analysis: Any) -> str:
    """One row per layer: its attention heads (what they select, what they compute) and MLP nodes.

    `analysis` is a rasp.analysis.Analysis (anything with its to_json()).
    """
    data = analysis.to_json()
    heads = " / ".join(str(h) for h in data["heads"]) or "-"
    summary = f"{data['name']}: {data['layers']} layer{'s' if data['layers'] != 1 else ''}, heads {heads}"
    header = "".join(f'<th scope="col" style="{_HEADER}">{h}</th>' for h in ("layer", "heads", "attention", "MLPs"))
    rows = [f"<tr>{header}</tr>"]
    for layer in data["detail"]:
        rows.append(
            f'<tr><th scope="row" style="{_HEADER}">{escape(layer["layer"])}</th>'
            f'<td style="{_CELL}">{len(layer["heads"])}</td>'
            f'<td style="{_CELL};text-align:left">{_heads_html(layer["heads"])}</td>'
            f'<td style="{_CELL};text-align:left">{_list_html(layer["mlps"])}</td></tr>'
        )
    return _block("analysis", f'<div class="rasp-title" style="{_TITLE}">{escape(summary)}</div>', rows)


def _heads_html(heads: list[dict]) -> str:
    items = []
    for head in heads:
        used_by = ", ".join(head.get("used_by", []))
        text = escape(head["name"])
        if head.get("description") and head["description"] != head["name"]:
            text += f' <span style="color:#777">= {escape(head["description"])}</span>'
        if used_by:
            text += f" → {escape(used_by)}"
        items.append(text)
    return "<br>".join(items) or "-"


def _list_html(names: list[str]) -> str:
    return "<br>".join(escape(n) for n in names) or "-"


def drawing_html(drawn: Any) -> str:
    """A drawing (results.Drawn): where it was written, and the page itself in an iframe."""
    title = f'<div class="rasp-title" style="{_TITLE}">{escape(format_result(drawn, DisplayOptions()))}</div>'
    try:
        page = Path(drawn.path).read_text(encoding="utf-8")
    except OSError:
        return f'<div class="rasp-drawing">{title}</div>'
    frame = f'<iframe srcdoc="{escape(page)}" style="{_FRAME}"></iframe>'
    return f'<div class="rasp-drawing">{title}{frame}</div>'


def compiled_html(compiled: Any) -> str:
    """A compiled transformer (results.Compiled): one row per size and per verification figure."""
    model, check = compiled.model, compiled.verification
    verdict = "all agree" if check.mismatches == 0 else f"{check.mismatches:,} disagree"
    rows = [
        ("layers", model.layers),
        ("heads per layer", ",".join(str(h) for h in model.heads) or "-"),
        ("d_model", model.d_model),
        ("MLP hidden sizes", ",".join(str(m) for m in model.d_mlp) or "-"),
        ("MLP before layer 1", "yes" if model.embedding_mlp else "no"),
        ("parameters", f"{model.params:,}"),
        ("vocabulary", " ".join(str(v) for v in model.vocab)),
        ("max_len", model.max_len),
        ("inputs checked", f"{check.checked:,} (every input up to length {check.exhaustive_up_to}, "
                           + f"{check.random:,} random)"),
        ("against the interpreter", verdict),
        ("attention error", f"{check.attention_error:.2g} (tolerance {check.attention_tolerance:.2g})"),
    ]
    if check.first_mismatch:
        rows.append(("first mismatch", format_value(check.first_mismatch)))
    if compiled.files:
        rows.append(("saved", ", ".join(compiled.files)))
    cells = [f'<tr><th scope="row" style="{_HEADER};text-align:left">{escape(label)}</th>'
             f'<td style="{_CELL};text-align:left">{escape(value)}</td></tr>' for label, value in rows]
    title = f'<div class="rasp-title" style="{_TITLE}">{escape(compiled.name)}: a compiled transformer</div>'
    return _block("compiled", title, cells)


def text_html(text: str) -> str:
    return f'<pre style="margin:2px 0">{escape(text)}</pre>'


def result_html(result: Any) -> str:
    """Any result of Session.run (or a value it shows) as HTML."""
    if isinstance(result, Shown):
        if isinstance(result.value, EvaluatedSOp):
            return sop_html(result.value, result.name)
        if isinstance(result.value, EvaluatedSelector):
            return selector_html(result.value, result.name)
    if isinstance(result, EvaluatedSOp):
        return sop_html(result)
    if isinstance(result, EvaluatedSelector):
        return selector_html(result)
    if isinstance(result, Drawn):
        return drawing_html(result)
    if isinstance(result, Compiled):
        return compiled_html(result)
    analysis = getattr(result, "analysis", None)
    if analysis is not None and hasattr(analysis, "to_json"):
        return analysis_html(analysis)
    return text_html(format_result(result, DisplayOptions()))


def results_html(results: list) -> str:
    """Several results, one after the other."""
    return '<div class="rasp-results">' + "".join(result_html(r) for r in results) + "</div>"
