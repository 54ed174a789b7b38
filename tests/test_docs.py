"""The docs keep up with the code: the language reference covers every keyword, operator,
built-in, command, command-line flag and library definition; its transcripts still print
what they say; code comments cite sections that exist; relative links point to files
(and headings) that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from transcripts import commands, page_blocks, run, write_file_block

from rasp.builtins import BUILTIN_FUNCTIONS
from rasp.cli import build_argument_parser
from rasp.help import BUILTIN_HELP
from rasp.parser import _COMMAND_RE, COMPILE_OPTIONS, KEYWORDS
from rasp.prompt import COMMAND_WORDS
from rasp.values import PRIMITIVES

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "reference.md"
GRAMMAR = ROOT / "grammar" / "rasp.lark"
STDLIB = ROOT / "stdlib"
PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "CHANGELOG.md"]

# The language specification's section titles, which code comments cite as
# "docs/reference.md, '<title>'": the reference has a heading for each.
SPEC_SECTIONS = (
    "Values", "Sequence types", "Inputs", "Syntax", "Lexical", "Statements",
    "Expressions, tightest binding first (binary levels are left-associative)",
    "Semantics of s-ops and selectors", "Elementwise (MLP) operations",
    "`select(key, query, op)`", "`aggregate(sel, s [, default])`", "`selector_width(sel)`",
    "Names and scopes", "Files and `load`", "Analysis: layers and heads",
    "Standard library (stdlib/*.rasp), loaded at start-up",
)


def reference() -> str:
    return REFERENCE.read_text(encoding="utf-8")


def headings(text: str) -> list[str]:
    return [m.group(1).strip() for m in re.finditer(r"^#{1,6} (.+)$", _without_code(text), re.MULTILINE)]


def _without_code(text: str) -> str:
    return re.sub(r"^```.*?^```$", "", text, flags=re.MULTILINE | re.DOTALL)


def code_spans(text: str) -> set[str]:
    """Every `inline code` of a page, and each of its words."""
    spans = set(re.findall(r"`([^`\n]+)`", _without_code(text)))
    return spans | {word for span in spans for word in re.findall(r"[A-Za-z_][A-Za-z0-9_-]*|[^\sA-Za-z0-9_]+", span)}


def documented(name: str, text: str | None = None) -> bool:
    return name in code_spans(reference() if text is None else text)


# ------------------------------------------------------------------ the grammar and the built-ins

def grammar_keywords() -> set[str]:
    """Every word the grammar spells out: statement keywords, built-in forms, operator words."""
    return set(re.findall(r'"([A-Za-z_]+)"', GRAMMAR.read_text(encoding="utf-8")))


def grammar_operators() -> set[str]:
    """The operators of the grammar's terminals (COMP_OP, ADD_OP, ...)."""
    text = GRAMMAR.read_text(encoding="utf-8")
    found: set[str] = set()
    for line in re.findall(r"^[A-Z_]+_OP: (.+)$", text, re.MULTILINE):
        found |= set(re.findall(r'"([^"]+)"', line))
    return found


def builtin_names() -> set[str]:
    return set(PRIMITIVES) | {"tokens", "True", "False"} | {f.name for f in BUILTIN_FUNCTIONS} | set(BUILTIN_HELP)


def command_words() -> set[str]:
    """The line commands the parser recognises (its pattern's command words), the ones the REPL
    completes (set example, full seq display on, ...) and the options of `compile`."""
    pattern = _COMMAND_RE.pattern.replace("analy[sz]e", "analyse|analyze")
    recognised = {word for group in re.findall(r"\(\?P<\w+>([a-z|]+)\)", pattern) for word in group.split("|")}
    recognised -= {"on", "off"}  # the toggles' argument, not commands
    return recognised | set(COMMAND_WORDS) | set(COMPILE_OPTIONS) | {"s-op examples on", "selector examples on"}


def command_line_flags() -> set[str]:
    return {flag for action in build_argument_parser()._actions for flag in action.option_strings}


# Each construct of the grammar (its rule aliases, `-> name`) and the form that documents it in the
# reference. A new construct fails test_every_construct_of_the_grammar_has_a_form until it is added here.
CONSTRUCT_FORMS = {
    "expr_stmt": "| `expr ;` |",
    "assign": "| `a, b = e1, e2 ;` |",
    "def_stmt": "| `def f(a, b) { stmts… return e1, e2; }` |",
    "for_stmt": "| `for x, y in e { stmts… }` |",
    "load_stmt": '| `load "name" ;` |',
    "draw_stmt": "| `draw(e [, input]) ;` |",
    "contains": "`e1 in e2`",
    "ternary": "`e1 if c else e2`",
    "logical": "| 6 | `and` `or`",
    "binary": "| 4 | `+` `-`",
    "unary": "`not e`, `-e`, `+e`",
    "index": "`e[e]` (index)",
    "call": "`e(args)` (call)",
    "name": "name `[A-Za-z_]",
    "int_lit": "int `[0-9]+`",
    "float_lit": "float `[0-9]+.[0-9]+`",
    "string_lit": 'string `"…"`',
    "list_lit": "`[e, …]`",
    "dict_lit": "`{k: v, …}`",
    "list_comp": "`[e for ids in e]`",
    "dict_comp": "`{k: v for ids in e}`",
    "select": "`select(e, e, OP)`",
    "aggregate": "`aggregate(e, e [, e])`",
    "builtin": "`range(…)`, `zip(…)`, `len(e)`",
}


def grammar_constructs() -> set[str]:
    return set(re.findall(r"-> (\w+)", GRAMMAR.read_text(encoding="utf-8")))


def test_every_construct_of_the_grammar_has_a_form() -> None:
    assert grammar_constructs() == set(CONSTRUCT_FORMS), "add the new construct's documented form to CONSTRUCT_FORMS"


@pytest.mark.parametrize("construct", sorted(CONSTRUCT_FORMS))
def test_every_construct_of_the_grammar_is_in_the_reference(construct) -> None:
    assert CONSTRUCT_FORMS[construct] in reference(), f"docs/reference.md lacks the form of `{construct}`"


def test_the_walks_find_what_they_should() -> None:
    """The lists below are the real ones: a walk that found nothing would pass every test."""
    assert {"def", "for", "load", "draw", "select", "aggregate", "indicator", "and", "in"} <= grammar_keywords()
    assert {"==", "<=", "+", "*", "%", "^"} <= grammar_operators()
    assert {"selector_width", "tokens_int", "indices", "range"} <= builtin_names()
    assert {"full seq display on", "set example", "help", "compile", "max_len", "vocab", "save"} <= command_words()
    assert {"set", "show", "examples", "full", "exit", "quit", "analyze"} <= command_words()
    assert {"--json", "--compile", "--memory-limit", "-c"} <= command_line_flags()
    assert len(library_definitions()) > 40


def test_the_check_fails_for_a_missing_entry() -> None:
    assert documented("selector_width")
    assert not documented("selector_width", reference().replace("selector_width", "sw"))
    assert not documented("vocab", "compile EXPR with a vocabulary")  # prose is not an entry: code is


@pytest.mark.parametrize("word", sorted(grammar_keywords() | KEYWORDS))
def test_every_keyword_of_the_grammar_is_in_the_reference(word) -> None:
    assert documented(word), f"docs/reference.md does not mention `{word}`"


@pytest.mark.parametrize("operator", sorted(grammar_operators()))
def test_every_operator_is_in_the_precedence_table(operator) -> None:
    table = reference().split("## Expressions, tightest binding first")[1].split("\n## ")[0]
    assert f"`{operator}`" in table, f"the precedence table does not list `{operator}`"


@pytest.mark.parametrize("name", sorted(builtin_names()))
def test_every_built_in_is_in_the_reference(name) -> None:
    assert documented(name), f"docs/reference.md does not mention `{name}`"


@pytest.mark.parametrize("command", sorted(command_words()))
def test_every_command_is_in_the_reference(command) -> None:
    text = reference()
    spelled = {command, command.replace(" on", " on|off").replace(" off", " on|off")}
    assert any(f"`{form}" in text.replace("on\\|off", "on|off") for form in spelled), f"no entry for `{command}`"


@pytest.mark.parametrize("flag", sorted(command_line_flags()))
def test_every_command_line_flag_is_in_the_reference(flag) -> None:
    assert flag in reference(), f"docs/reference.md does not mention {flag}"


# ------------------------------------------------------------------ the library

def library_definitions() -> dict[str, tuple[str, str]]:
    """Public names defined by stdlib/*.rasp -> (layers, heads) of their cost line."""
    found: dict[str, tuple[str, str]] = {}
    for path in sorted(STDLIB.glob("*.rasp")):
        cost: tuple[str, str] | None = None
        for line in path.read_text(encoding="utf-8").splitlines():
            match = re.match(r"# cost of .*: layers=(\d+) heads=(\S+)", line)
            if match:
                cost = (match.group(1), match.group(2))
            defined = re.match(r"(?:def\s+([A-Za-z]\w*)\s*\(|([A-Za-z]\w*)\s*=[^=])", line)
            if defined:
                name = defined.group(1) or defined.group(2)
                if name != "tokens" and cost is not None:
                    found[name] = cost
                cost = None
    return found


@pytest.mark.parametrize("name", sorted(library_definitions()))
def test_every_library_definition_has_its_entry_and_cost(name) -> None:
    layers, heads = library_definitions()[name]
    rows = [line for line in reference().splitlines() if re.match(rf"\| `{name}\b", line)]
    assert rows, f"docs/reference.md has no table row for `{name}`"
    assert any(f"{layers}; {heads}" in row or f"{layers}; len(pattern)-1" in row for row in rows), (
        f"the row of `{name}` does not give its cost line's {layers}; {heads}")


# ------------------------------------------------------------------ sections, citations, links

@pytest.mark.parametrize("title", SPEC_SECTIONS)
def test_the_reference_has_each_section_of_the_language(title) -> None:
    assert title in headings(reference())


EXPLAINS_CITING = {"test_citations.py"}  # its docstring shows the form with a made-up heading


def cited(section: str, page_headings: list[str]) -> bool:
    """A citation names a heading, or its beginning up to a closing remark (" (...)" or ": ...")."""
    return any(h == section or h.startswith((section + " (", section + ": ")) for h in page_headings)


def cited_sections() -> set[tuple[str, str]]:
    """(file, section) of every "docs/<page>.md, '<section>'" in the code, the tests and the library."""
    found = set()
    for folder in ("rasp", "tests", "stdlib", "scripts"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".rasp", ".lark") and path.is_file() and path.name not in EXPLAINS_CITING:
                text = path.read_text(encoding="utf-8")
                found |= set(re.findall(r"(docs/[\w-]+\.md), '([^'<\n]+)'", text))
    return found


def test_every_cited_section_exists() -> None:
    missing = [(page, section) for page, section in sorted(cited_sections()) if (ROOT / page).exists()
               and not cited(section, headings((ROOT / page).read_text(encoding="utf-8")))]
    assert not missing, f"cited sections that do not exist: {missing}"


OWN_PAGES = {"docs/reference.md", "docs/tutorial.md", "docs/design.md"}  # the pages every citation may rely on


def test_every_cited_page_exists() -> None:
    """A citation of a page still being written (another sub-system's) is reported, not failed."""
    absent = sorted({page for page, _ in cited_sections() if not (ROOT / page).exists()})
    assert not set(absent) & OWN_PAGES, f"cited pages that do not exist: {absent}"
    if absent:
        pytest.skip(f"cited pages not written yet: {', '.join(absent)}")


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to '-'."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def relative_links(text: str) -> list[str]:
    links = re.findall(r"\]\(([^)\s]+)\)", _without_code(text))
    return [link for link in links if not re.match(r"[a-z]+:", link)]


@pytest.mark.parametrize("page", [p for p in PAGES if p.exists()], ids=lambda p: p.name)
def test_every_relative_link_points_to_something_that_exists(page) -> None:
    broken = []
    for link in relative_links(page.read_text(encoding="utf-8")):
        target, _, anchor = link.partition("#")
        path = (page.parent / target).resolve() if target else page
        if not path.exists():
            broken.append(link)
        elif anchor and path.suffix == ".md" and anchor not in {slug(h) for h in headings(path.read_text("utf-8"))}:
            broken.append(link)
    assert not broken, f"{page.name}: broken links {broken}"


def test_the_link_check_catches_a_broken_link() -> None:
    assert relative_links("see [x](nowhere.md) and [y](https://example.com) and [z](#a-b)") == ["nowhere.md", "#a-b"]
    assert slug("Files and `load`") == "files-and-load"
    assert slug("`aggregate(sel, s [, default])`") == "aggregatesel-s--default"


# ------------------------------------------------------------------ transcripts

CHECKED = "<!-- transcripts: checked by tests/test_docs.py -->"


def transcript_pages() -> list[Path]:
    """The pages whose transcripts are re-run: README.md, the reference, the tutorial, the design,
    and any other page that opts in with the comment CHECKED."""
    own = [ROOT / "README.md"] + [ROOT / page for page in sorted(OWN_PAGES)]
    return [p for p in PAGES if p.exists() and (p in own or CHECKED in p.read_text("utf-8"))]


def page_transcripts() -> list:
    """One test case per `$ rasp ...` command of the checked pages; those that compile are slow."""
    cases = []
    for page in transcript_pages():
        text = page.read_text(encoding="utf-8")
        for _info, body, start, _ in page_blocks(text):
            for command in commands(body) or []:
                line = text.count("\n", 0, start) + 1
                marks = [pytest.mark.slow] if re.search(r"^compile |\ncompile |; compile ", command.text) else []
                cases.append(pytest.param(page, command, id=f"{page.name}:{line}", marks=marks))
    return cases


@pytest.mark.parametrize(("page", "command"), page_transcripts())
def test_a_transcript_prints_what_the_page_says(page, command, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # files of the page, drawings and saved models land here
    monkeypatch.delenv("RASP_DRAW_DIR", raising=False)
    monkeypatch.setenv("RASP_HISTORY", "")
    monkeypatch.setenv("COLUMNS", "80")
    for info, body, _, _ in page_blocks(page.read_text(encoding="utf-8")):
        if info.startswith("rasp"):
            write_file_block(body)  # the page's files, e.g. "# file: hist.rasp"
    assert run(command.text) == command.output, (
        f"{page.name}: $ {command.text}\n(if the new output is intended: python tests/transcripts.py "
        f"{page.relative_to(ROOT)}, then review the diff)")


def test_the_transcripts_are_found() -> None:
    cases = page_transcripts()
    assert len(cases) > 40
    assert any(case.marks for case in cases) and not all(case.marks for case in cases)
