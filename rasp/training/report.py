"""A trained model's figures as text and HTML (the `train` statement's output, docs/training.md)."""

from __future__ import annotations

import html


def trained_text(info: dict) -> str:
    """Shape, data, time, test accuracy, and which selector each head matches."""
    heads = ",".join(str(h) for h in info["heads"])
    lines = [
        f"trained {info['name']}: layers={info['layers']} heads={heads} d_model={info['d_model']} "
        f"params={info['params']}" + (" (attention supervised)" if info["supervised"] else ""),
        f"  {info['examples']} training examples, {info['epochs']} epochs, {info['seconds']:.1f} s",
        f"  test accuracy: {100 * info['token_accuracy']:.1f}% of positions, "
        f"{100 * info['sequence_accuracy']:.1f}% of sequences",
    ]
    for match in info["heads_matched"]:
        lines.append(f"  layer {match['layer']} head {match['head']}: closest to {match['selector']} "
                     f"(difference {match['difference']:.3f})")
    return "\n".join(lines)


def trained_html(info: dict) -> str:
    rows = "".join(f"<tr><td>{m['layer']}</td><td>{m['head']}</td><td><code>{html.escape(m['selector'])}</code></td>"
                   f"<td>{m['difference']:.3f}</td></tr>" for m in info["heads_matched"])
    summary = html.escape(trained_text({**info, "heads_matched": []}))
    return (f"<div class='rasp-trained'><pre>{summary}</pre><table><tr><th>layer</th><th>head</th>"
            f"<th>closest selector</th><th>difference</th></tr>{rows}</table></div>")
