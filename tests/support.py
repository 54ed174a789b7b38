"""Shared helpers for the test suites: run RASP source and pick out values."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from rasp.interpreter import Session
from rasp.results import EvaluatedSelector, EvaluatedSOp, Problem, Shown

_LIBRARY_SESSION: Session | None = None


def fresh_session(stdlib: bool = True) -> Session:
    return Session(stdlib=stdlib)


def shown(session: Session, source: str) -> list:
    """The shown results of running source; fails the test on any error."""
    results = session.run(source, "test.rasp")
    problems = [r for r in results if isinstance(r, Problem)]
    assert not problems, [str(p.error) for p in problems]
    return [r for r in results if isinstance(r, Shown)]


def value_of(session: Session, source: str) -> Any:
    """The last shown value: plain values as they are, s-ops as (values, type),
    selectors as a list of 0/1 rows."""
    last = shown(session, source)[-1].value
    return plain(last)


def plain(value: Any) -> Any:
    if isinstance(value, EvaluatedSOp):
        return value.values, value.type
    if isinstance(value, EvaluatedSelector):
        return value.matrix.astype(int).tolist()
    return value


def apply(session: Session, name_or_source: str, example: Any) -> Any:
    """Evaluate a bound name (or an expression) on an input: (values, type) or matrix."""
    return plain(session.apply(node_of(session, name_or_source), example))


def node_of(session: Session, name_or_source: str) -> Any:
    """A bound name's value, or the value of an expression (warnings allowed)."""
    try:
        return session[name_or_source]
    except KeyError:
        pass
    results = session.run(f"_tmp = {name_or_source};", "test.rasp")
    errors = [r for r in results if isinstance(r, Problem) and not r.warning]
    assert not errors, [str(p.error) for p in errors]
    return session["_tmp"]


def problems(session: Session, source: str) -> list[Problem]:
    return [r for r in session.run(source, "test.rasp") if isinstance(r, Problem)]


def error_of(session: Session, source: str):
    """The single error (not warning) that running source produces."""
    errors = [p.error for p in problems(session, source) if not p.warning]
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


def dyck_prefixes(w, pairs: list[str]) -> list[str]:
    """The Dyck oracle, per prefix: "T" balanced, "P" could still be balanced, "F" never can be.

    `pairs` are two-character strings, opener then closer; other characters are ignored.
    """
    closer_of = {p[0]: p[1] for p in pairs}
    closers = {p[1] for p in pairs}
    stack: list[str] = []
    failed = False
    out = []
    for c in w:
        if c in closer_of:
            stack.append(closer_of[c])
        elif c in closers:
            failed = failed or not stack or stack.pop() != c
        out.append("F" if failed else "P" if stack else "T")
    return out


# a vocabulary of 4 that exercises each program (its brackets, digits, the atoms of its call)
VOCABULARIES = {
    "add": ["0", "1", "9", "+"],
    "dyck": ["(", ")", "{", "}"],
    "shuffle_dyck": ["(", ")", "{", "}"],
    "pair_balance": ["(", ")", "a", "b"],
    "prefix_sum": ["0", "1", "2", "3"],
    "detect_pattern": ["a", "b", "c", "d"],
}
DEFAULT_VOCABULARY = ["a", "b", "c", "l"]
INT_VOCABULARY = [0, 1, 2, 3]  # for programs of tokens_int (stdlib/raspl.rasp and raspl_tasks.rasp)


def family(name: str, prefix: str) -> bool:
    """dyck, dyck1 and dyck2 are of the family "dyck"; add_reversed_task is not of "add"."""
    return name.startswith(prefix) and name[len(prefix):].isdigit() or name == prefix


def library_vocabulary(call: str) -> list:
    """The vocabulary a documented library call is compiled for (tests/test_compile_library.py,
    scripts/compile_sizes.py)."""
    name = call.split("(")[0]
    default = INT_VOCABULARY if "tokens_int" in call else DEFAULT_VOCABULARY
    return next((v for prefix, v in VOCABULARIES.items() if family(name, prefix)), default)


SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def load_script(name: str) -> Any:
    """scripts/NAME.py as a module (the scripts are not a package), registered in sys.modules so that
    its dataclasses and pickled functions resolve."""
    spec = importlib.util.spec_from_file_location(f"{name}_script", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
