"""How big a transformer a RASP program needs: layers, attention heads, MLP nodes.

The rules are docs/reference.md, 'Analysis: layers and heads' (the paper's and the reference's analysis):

* primitives and constants have depth 0;
* an elementwise (MLP) node has the depth of its deepest parent;
* a `select` has depth max(depth(keys), depth(queries)) + 1, and an and/or/not
  of selectors the depth of its deepest component selector;
* `aggregate(sel, s)` has depth max(depth(s) + 1, depth(sel));
* `selector_width(sel)` has depth depth(sel).

The number of layers is the greatest depth in the ancestry. The heads of layer d
are the distinct selector nodes (by identity) used by the aggregates and selector
widths of depth d: a selector used by two aggregates of one layer is one head, and
a selector used in two layers is a head in each.

Elementwise nodes of depth d >= 1 are the MLP nodes of layer d (`mlps[d-1]`).
Elementwise nodes of depth 0 (maps over primitives and constants, such as
`indices == 0`) add no layer and are not counted in `mlps`: they depend only on
the token and position, so they fold into the embedding. They are listed in
`Analysis.embedding`. A selector_width counts as one head and adds no MLP node.

Analysing a selector (rather than an s-op) counts the selector itself as a head
of its own layer, the attention pattern it would be used in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeGuard

from .values import Aggregate, Lazy, Map, Select, Selector, SelectorCombination, SelectorWidth, ancestry


@dataclass
class Head:
    """One attention head: a selector node and the aggregates/selector widths using it in one layer."""

    name: str  # the selector's name (its label, or its description)
    description: str  # what it selects, e.g. "select(indices, indices, <)"
    used_by: list[str]  # the aggregates and selector widths it computes in this layer
    selector: Lazy = field(repr=False, compare=False)
    users: list[Lazy] = field(repr=False, compare=False, default_factory=list)

    def to_json(self) -> dict:
        return {"name": self.name, "description": self.description, "used_by": list(self.used_by)}


@dataclass
class Layer:
    """What one layer computes: its attention heads, then its MLP nodes."""

    number: int  # 1-based
    heads: list[Head]
    mlps: list[str]  # names of the elementwise nodes of this layer
    mlp_nodes: list[Lazy] = field(repr=False, compare=False, default_factory=list)

    def to_json(self) -> dict:
        return {"layer": self.number, "heads": [h.to_json() for h in self.heads], "mlps": list(self.mlps)}


@dataclass
class Analysis:
    """The cost of an s-op (or selector): layers, heads and MLP nodes per layer.

    heads[i] and mlps[i] count layer i + 1; detail[i] describes layer i + 1.
    embedding lists the elementwise nodes of depth 0 (not counted in mlps).
    """

    name: str
    layers: int
    heads: list[int]
    mlps: list[int]
    detail: list[Layer]
    embedding: list[str] = field(default_factory=list)
    depth: dict[int, int] = field(repr=False, compare=False, default_factory=dict)  # id(node) -> depth

    @property
    def total_heads(self) -> int:
        return sum(self.heads)

    def to_json(self) -> dict:
        return {
            "kind": "analysis",
            "name": self.name,
            "layers": self.layers,
            "heads": list(self.heads),
            "mlps": list(self.mlps),
            "detail": [layer.to_json() for layer in self.detail],
        }


def node_depth(node: Lazy, depth: dict[int, int]) -> int:
    """The depth of `node` by docs/reference.md, 'Analysis: layers and heads', given the depths of its parents."""

    def of(value: Any) -> int:
        return depth[id(value)] if isinstance(value, Lazy) else 0

    if isinstance(node, Select):
        return max(of(node.key), of(node.query)) + 1
    if isinstance(node, SelectorCombination):
        return max(of(a) for a in node.args)
    if isinstance(node, Aggregate):
        return max(of(node.sop) + 1, of(node.selector))
    if isinstance(node, SelectorWidth):
        return of(node.selector)
    return max((of(p) for p in node.parents()), default=0)  # primitives (no parents) and maps


def depths(node: Lazy) -> tuple[list[Lazy], dict[int, int]]:
    """The ancestry of `node` in dependency order and the depth of each of its nodes (by id)."""
    order = ancestry(node)
    depth: dict[int, int] = {}
    for current in order:
        depth[id(current)] = node_depth(current, depth)
    return order, depth


def is_attention(node: Lazy) -> TypeGuard[Aggregate | SelectorWidth]:
    """Aggregates and selector widths: the nodes an attention head computes."""
    return isinstance(node, (Aggregate, SelectorWidth))


def analyse(node: Lazy, name: str | None = None) -> Analysis:
    """Layers, heads and MLP nodes per layer of an s-op or selector.

    The rules: docs/reference.md, 'Analysis: layers and heads'.
    """
    order, depth = depths(node)
    layers = depth[id(node)]
    detail = [Layer(d, [], []) for d in range(1, layers + 1)]
    heads_by_key: dict[tuple[int, int], Head] = {}
    embedding: list[str] = []
    for current in order:
        d = depth[id(current)]
        if is_attention(current):
            _add_head(heads_by_key, detail, d, current.selector, current)
        elif isinstance(current, Map):
            if d == 0:
                embedding.append(current.name)
            else:
                detail[d - 1].mlps.append(current.name)
                detail[d - 1].mlp_nodes.append(current)
    if isinstance(node, Selector) and layers > 0:
        _add_head(heads_by_key, detail, layers, node, None)
    return Analysis(
        name=name or node.name,
        layers=layers,
        heads=[len(layer.heads) for layer in detail],
        mlps=[len(layer.mlps) for layer in detail],
        detail=detail,
        embedding=embedding,
        depth=depth,
    )


def _add_head(
    heads: dict[tuple[int, int], Head], detail: list[Layer], d: int, selector: Lazy, user: Lazy | None
) -> None:
    key = (d, id(selector))
    head = heads.get(key)
    if head is None:
        head = Head(selector.name, selector.describe(), [], selector)
        heads[key] = head
        detail[d - 1].heads.append(head)
    if user is not None:
        head.used_by.append(user.name)
        head.users.append(user)


def cost_line(analysis: Analysis) -> str:
    """`layers=L heads=H1,H2,...` (`heads=-` with no layers), as in the library's cost comments."""
    heads = ",".join(str(h) for h in analysis.heads) or "-"
    return f"layers={analysis.layers} heads={heads}"
