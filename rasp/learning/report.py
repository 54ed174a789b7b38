"""A learned program's figures as text and HTML (the `learn` statement's answer, docs/learning.md)."""

from __future__ import annotations

import html


def _percent(fraction: float) -> str:
    return f"{100 * fraction:.1f}%"


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}{'' if number == 1 else 's'}"


def _heads(heads: list) -> str:
    return "[" + ", ".join(str(h) for h in heads) + "]"


def learned_summary(info: dict) -> list[str]:
    """The lines of the summary: what was learned from what, accuracy, agreement, size, analysis, files."""
    trained = info["trained"]
    before, after = info["size_before"], info["size_after"]
    layers = info["layers"]
    lines = [
        f"learned {info['name']} from {info['origin'] or 'examples'} ({info['examples']} examples): "
        f"{_count(trained['layers'], 'layer')} of {trained['categorical_heads']} categorical + "
        f"{trained['counting_heads']} counting heads and {_count(trained['mlps'], 'MLP')}, {info['seconds']:.1f} s",
        f"  test accuracy: {_percent(info['token_accuracy'])} of positions, "
        f"{_percent(info['sequence_accuracy'])} of sequences (training: {_percent(info['train_accuracy'])})",
        f"  the RASP program agrees with the learned model on {_percent(info['agreement'])} of "
        f"{info['test_inputs']} test inputs",
        f"  size: {_count(before['lines'], 'line')}, {_count(before['heads'], 'head')} as learned; "
        f"{_count(after['lines'], 'line')}, {_count(after['heads'], 'head')} simplified",
        f"  analysed: {_count(layers, 'layer')}, heads per layer {_heads(info['heads'])}",
    ]
    if info["agreement"] < 1:
        lines.append("  the RASP program disagrees with the model: a bug in rasp's decompiler; please report it")
    return lines


def learned_text(info: dict) -> str:
    """The summary, then the saved file's name or, when nothing was saved, the program itself."""
    lines = learned_summary(info)
    if info["files"]:
        lines.append("saved " + ", ".join(info["files"]))
    else:
        lines += ["", info["program"].rstrip("\n")]
    return "\n".join(lines)


def learned_html(info: dict) -> str:
    summary = html.escape("\n".join(learned_summary(info)))
    program = html.escape(info["program"])
    return (f"<div class='rasp-learned'><pre>{summary}</pre>"
            f"<details><summary>the RASP program</summary><pre>{program}</pre></details></div>")
