"""The prompt_toolkit side of the REPL: key bindings, completion, history, live preview.

rasp.repl runs the loop; this module builds the PromptSession it reads from.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ctypes
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.application import get_app
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.output import ColorDepth
from prompt_toolkit.styles import Style

from .display import DisplayOptions, format_result, format_selector, format_sop
from .parser import KEYWORDS, LEARN_OPTIONS, is_complete
from .results import EvaluatedSelector, EvaluatedSOp, Problem, Shown

PROMPT = ">> "
CONTINUATION = ".. "
INDENT = "    "
HISTORY_VARIABLE = "RASP_HISTORY"
PREVIEW_ROWS = 8  # lines of a selector matrix shown in the preview bar

COMMAND_WORDS = ("set example", "show example", "examples on", "examples off", "full seq display on",
                 "full seq display off", "analyse", "compile", "train", "learn", "causal on", "causal off", "raspl",
                 "help", "vars", "clear", "preview on", "preview off", "exit", "quit")

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_repl_command(text: str) -> bool:
    """help, help NAME, vars, clear, preview on|off (the REPL's own commands: Enter runs them)."""
    from .repl import repl_command  # rasp.repl imports this module only inside a function

    return repl_command(text) is not None


def no_color() -> bool:
    """The NO_COLOR convention: present and not empty means no colours."""
    return bool(os.environ.get("NO_COLOR"))


# ------------------------------------------------------------------- history


def history_path() -> Path | None:
    """Where the history is kept: $RASP_HISTORY, else the user's data directory.

    RASP_HISTORY set to an empty string turns persistence off.
    """
    if HISTORY_VARIABLE in os.environ:
        value = os.environ[HISTORY_VARIABLE]
        return Path(value).expanduser() if value else None
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "rasp" / "history"


def make_history(path: Path | None) -> tuple[History, Path | None]:
    """A FileHistory at path, or an in-memory one when path is None or unwritable."""
    if path is None:
        return InMemoryHistory(), None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError:
        return InMemoryHistory(), None
    return FileHistory(str(path)), path


# ---------------------------------------------------------------- completion


class RaspCompleter(Completer):
    """Names in scope (yours and the library's), keywords and REPL commands."""

    def __init__(self, get_session: Callable):
        self.get_session = get_session

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        word = document.get_word_before_cursor(pattern=_WORD)
        if not word or _inside_string(document.current_line_before_cursor):
            return
        session = self.get_session()
        user = set(session.globals.vars)
        library = session.globals.visible_names() - user
        at_start = document.text_before_cursor.strip() == word
        candidates = [(name, "yours") for name in user] + [(name, _library_label(session, name)) for name in library]
        candidates += [(name, "built-in" if name in BUILTIN_WORDS else "keyword") for name in KEYWORDS]
        if at_start:
            candidates += [(name, "command") for name in COMMAND_WORDS]
        elif re.match(r"\s*learn\s", document.text_before_cursor):  # docs/learning.md, 'The learn statement'
            candidates += [(name, "learn option") for name in LEARN_OPTIONS]
        candidates += train_option_words(document.text_before_cursor)
        seen = set()
        for name, meta in sorted(candidates, key=lambda c: (c[0].lower(), c[0])):
            if name.startswith(word) and name != word and name not in seen:
                seen.add(name)
                yield Completion(name, start_position=-len(word), display_meta=meta)


def train_option_words(before: str) -> list[tuple[str, str]]:
    """After `train EXPR `: the options not given yet, and after `variant` its names (docs/training.md)."""
    from .parser import TRAIN_OPTIONS, TRAIN_VARIANTS

    statement = before.rsplit(";", 1)[-1]
    if not re.match(r"\s*train\s+\S+\s", statement):  # options come after the expression
        return []
    words = _WORD.findall(statement)
    typed = words[:-1] if not statement[-1].isspace() else words  # the word being completed is not typed yet
    if typed and typed[-1] == "variant":
        return [(name, "variant") for name in TRAIN_VARIANTS]
    return [(name, "train option") for name in TRAIN_OPTIONS if name not in typed[1:]]


# grammar words that are built-in operations, labelled like the built-in functions (selector_width)
BUILTIN_WORDS = frozenset({"select", "aggregate", "range", "zip", "len", "round", "indicator", "draw"})


def _library_label(session, name: str) -> str:
    """`built-in` for built-in functions and primitives (selector_width, tokens), else `library`."""
    from .builtins import BuiltinFunction
    from .values import PRIMITIVES

    value = session.base.vars.get(name)
    builtin = isinstance(value, BuiltinFunction) or name in PRIMITIVES or name == "tokens"
    return "built-in" if builtin else "library"


def _inside_string(line: str) -> bool:
    return line.count('"') % 2 == 1 or line.count("'") % 2 == 1


# -------------------------------------------------------------- key bindings


def key_bindings() -> KeyBindings:
    """Enter runs a complete input, else opens an indented new line; `}` dedents."""
    bindings = KeyBindings()

    @bindings.add("enter")
    def _(event) -> None:
        buffer = event.current_buffer
        if buffer.complete_state is not None and buffer.complete_state.current_completion is not None:
            buffer.complete_state = None  # Enter picks the highlighted completion
            return
        text = buffer.text
        if buffer.document.is_cursor_at_the_end and (not text.strip() or is_repl_command(text) or is_complete(text)):
            buffer.validate_and_handle()
            return
        buffer.insert_text("\n" + next_indent(buffer.document.text_before_cursor))

    @bindings.add("escape", "enter")
    def _(event) -> None:
        event.current_buffer.validate_and_handle()

    @bindings.add("}")
    def _(event) -> None:
        buffer = event.current_buffer
        before = buffer.document.current_line_before_cursor
        if before.strip() == "" and before:
            buffer.delete_before_cursor(min(len(before), len(INDENT)))
        buffer.insert_text("}")

    return bindings


def next_indent(text_before_cursor: str) -> str:
    """The indentation of a new line: one level per `{` still open."""
    depth = 0
    for char in _without_strings_and_comments(text_before_cursor):
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(0, depth - 1)
    return INDENT * depth


def _without_strings_and_comments(text: str) -> str:
    return re.sub(r'"[^"\n]*"?|\'[^\'\n]*\'?|#[^\n]*', "", text)


# -------------------------------------------------------------- live preview


class PreviewCancelled(BaseException):
    """Raised inside the preview thread to stop an evaluation that took too long."""


class LivePreview:
    """Evaluates what is being typed on the running example, for the bottom bar.

    Debounced (waits `delay` seconds after the last key) and time-boxed: an evaluation
    running longer than `time_limit` is stopped and the bar says so. The evaluation runs
    in a thread; the REPL calls stop() before it runs input, so the session is never
    used by two threads at once.
    """

    def __init__(self, get_session: Callable, delay: float = 0.15, time_limit: float = 2.0,
                 width: Callable[[], int] = lambda: 100):
        self.get_session = get_session
        self.delay = delay
        self.time_limit = time_limit
        self.width = width
        self.enabled = True
        self.text = ""
        self.prompt_session: PromptSession | None = None  # whose bottom bar shows the text
        self._generation = 0
        self._thread: threading.Thread | None = None

    def show(self, text: str) -> None:
        """Put text in the bottom bar; the bar is hidden while there is none."""
        self.text = text
        if self.prompt_session is not None:
            self.prompt_session.bottom_toolbar = text or None

    def on_text_changed(self, buffer) -> None:
        self._generation += 1
        if not self.enabled or not buffer.text.strip():
            self.show("")
            return
        app = get_app()
        app.create_background_task(self._update(buffer.text, self._generation, app))

    async def _update(self, source: str, generation: int, app) -> None:
        await asyncio.sleep(self.delay)
        if generation != self._generation or (self._thread is not None and self._thread.is_alive()):
            return
        future = self._start(source)
        try:
            text = await asyncio.wait_for(asyncio.wrap_future(future), self.time_limit)
        except asyncio.TimeoutError:
            self.stop(wait=False)  # the prompt stays responsive; no new preview starts until it ends
            text = f"(no preview: the evaluation took over {self.time_limit:g} s)"
        if generation == self._generation:
            self.show(text)
            app.invalidate()

    def _start(self, source: str) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()

        def work() -> None:
            try:
                try:
                    text = self.render(source)
                except PreviewCancelled:
                    return
                except BaseException as error:  # noqa: BLE001 - a preview must never break the prompt
                    text = f"(no preview: {type(error).__name__})"
                if not future.done():  # cancelled when the prompt stopped waiting
                    future.set_result(text)
            except (PreviewCancelled, concurrent.futures.InvalidStateError):
                pass

        self._thread = threading.Thread(target=work, name="rasp-preview", daemon=True)
        self._thread.start()
        return future

    def stop(self, wait: bool = True) -> None:
        """Stop a running preview evaluation; afterwards the session is the caller's alone.

        The exception is delivered at the thread's next Python instruction, so a long
        NumPy operation finishes first.
        """
        thread = self._thread
        if thread is not None and thread.is_alive() and thread.ident is not None:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(PreviewCancelled))
            if wait:
                thread.join()

    def render(self, source: str) -> str:
        """The bar's text for `source`: its value on the example, a message, or nothing."""
        results = self.get_session().preview(source)
        if not results:
            return ""
        return "\n".join(self._render_result(result) for result in results)

    def _render_result(self, result) -> str:
        options = DisplayOptions(width=self.width())
        if isinstance(result, Problem):
            kind = "warning" if result.warning else result.error.category
            return f"{kind}: {result.error.message}"
        if isinstance(result, Shown) and isinstance(result.value, EvaluatedSOp):
            return format_sop(result.value, options, result.name)
        if isinstance(result, Shown) and isinstance(result.value, EvaluatedSelector):
            return format_selector(result.value, replace(options, max_rows=PREVIEW_ROWS), result.name)
        text = format_result(result, options)
        return text if len(text) <= 4 * options.width else text[: 4 * options.width] + "…"


# ------------------------------------------------------------------- session


STYLE = Style.from_dict({
    "bottom-toolbar": "noreverse bg:#262626 #d0d0d0",
    "continuation": "#808080",
})


def causal_prompt(session) -> str:
    """The prompt: `causal>> ` while `causal on` holds (docs/raspl.md, 'Causal mode'), else PROMPT."""
    return "causal" + PROMPT if getattr(session, "causal", False) else PROMPT


def build_prompt_session(get_session: Callable, preview: LivePreview, history: History,
                         input=None, output=None) -> PromptSession:
    """The PromptSession of the REPL (input/output may be given for tests)."""
    session: PromptSession = PromptSession(
        lambda: causal_prompt(get_session()),
        multiline=True,
        key_bindings=key_bindings(),
        prompt_continuation=lambda width, line_number, wrap_count: [("class:continuation", CONTINUATION)],
        history=history,
        completer=RaspCompleter(get_session),
        complete_while_typing=True,
        lexer=_lexer(),
        bottom_toolbar=None,
        style=STYLE,
        color_depth=ColorDepth.DEPTH_1_BIT if no_color() else None,
        enable_history_search=False,
        input=input,
        output=output,
    )
    session.default_buffer.on_text_changed += preview.on_text_changed
    preview.prompt_session = session
    return session


def _lexer():
    """The Pygments lexer of rasp.lexer, when Pygments is installed; else no highlighting."""
    if no_color():
        return None
    try:
        from prompt_toolkit.lexers import PygmentsLexer

        from .lexer import RaspLexer
    except ImportError:
        return None
    return PygmentsLexer(RaspLexer)
