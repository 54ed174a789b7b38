"""The RaspError hierarchy: every failure a user can meet, with a span and a hint."""

from __future__ import annotations

from .syntax import Span


class RaspError(Exception):
    """An error in a RASP program: a one-line message, where, and an optional hint."""

    category = "error"

    def __init__(self, message: str, span: Span | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.span = span
        self.hint = hint
        # (span, note) pairs that explain how we got here, outermost last,
        # e.g. the `load` statement that ran the file the error is in.
        self.context: list[tuple[Span, str]] = []
        self.omitted_context = 0  # notes left out beyond MAX_CONTEXT (deep recursion)

    MAX_CONTEXT = 6

    def add_context(self, span: Span, note: str) -> None:
        """Add a note on how we got here; repeats and notes beyond MAX_CONTEXT are only counted."""
        if len(self.context) < self.MAX_CONTEXT and (not self.context or self.context[-1] != (span, note)):
            self.context.append((span, note))
        else:
            self.omitted_context += 1

    def at(self, span: Span | None) -> RaspError:
        """Attach a span if the error has none yet; returns self."""
        if self.span is None and span is not None:
            self.span = span
        return self

    def __str__(self) -> str:
        where = f"{self.span}: " if self.span else ""
        return f"{where}{self.message}"


class RaspSyntaxError(RaspError):
    category = "syntax error"


class RaspNameError(RaspError):
    category = "name error"


class RaspTypeError(RaspError):
    category = "type error"


class RaspValueError(RaspError):
    """A failure while evaluating an s-op or selector on an input."""

    category = "evaluation error"


class RaspLoadError(RaspError):
    category = "load error"


class RaspRecursionError(RaspError):
    category = "recursion error"


class RaspInternalError(RaspError):
    """A bug in rasp itself, caught at the top and reported as such."""

    category = "internal error"
