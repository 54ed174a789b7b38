"""The base environment: primitives, constants and built-in functions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import RaspTypeError
from .syntax import Span
from .values import PRIMITIVES, ExtremeAggregate, Primitive, Selector, SelectorWidth, SOp, is_atom, type_name


@dataclass(eq=False)
class BuiltinFunction:
    """A function implemented in Python, callable from RASP like a `def`."""

    name: str
    params: list[str]
    implementation: Callable[[list, Span], Any]
    doc: str


def _selector_width(args: list, span: Span) -> Any:
    (selector,) = args
    if not isinstance(selector, Selector):
        raise RaspTypeError(f"selector_width expects a selector, got {type_name(selector)}", span)
    return SelectorWidth(selector, origin=span)


def _extreme(reduction: str) -> Callable[[list, Span], Any]:
    def build(args: list, span: Span) -> Any:
        selector, sop, default = args
        name = f"aggregate_{reduction}"
        if not isinstance(selector, Selector):
            raise RaspTypeError(f"{name} expects a selector first, got {type_name(selector)}", span)
        if not isinstance(sop, SOp):
            raise RaspTypeError(f"{name} expects an s-op second, got {type_name(sop)}", span)
        if isinstance(default, str) or not is_atom(default):
            raise RaspTypeError(f"the default of {name} must be a number, got {type_name(default)}", span)
        return ExtremeAggregate(selector, sop, default, reduction, origin=span)

    return build


BUILTIN_FUNCTIONS = [
    BuiltinFunction(
        "selector_width",
        ["sel"],
        _selector_width,
        "The number of keys each query position selects (0 for none); one attention head.",
    ),
    BuiltinFunction(
        "aggregate_max",
        ["sel", "sop", "default"],
        _extreme("max"),
        "The largest value of sop among the keys sel selects, default where none; one attention head.",
    ),
    BuiltinFunction(
        "aggregate_min",
        ["sel", "sop", "default"],
        _extreme("min"),
        "The smallest value of sop among the keys sel selects, default where none; one attention head.",
    ),
]


def base_bindings() -> dict[str, Any]:
    """Fresh primitives and built-ins (each session gets its own nodes)."""
    bindings: dict[str, Any] = {name: Primitive(name) for name in PRIMITIVES}
    bindings["True"] = True
    bindings["False"] = False
    bindings["tokens"] = bindings["tokens_str"]
    for function in BUILTIN_FUNCTIONS:
        bindings[function.name] = function
    return bindings
