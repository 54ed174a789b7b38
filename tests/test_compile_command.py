"""The `compile` command: parsing, running, display, JSON, `--compile` and rasp.compile.

The compiler core (rasp.compiler, rasp.verify) is the real one, on small programs: reverse
over two or three letters up to length 3 or 4 compiles and verifies in a fraction of a second.
"""

from __future__ import annotations

import io
import json
import sys

import numpy as np
import pytest
from pygments.token import Keyword
from support import error_of, fresh_session

import rasp
from rasp import syntax as ast
from rasp.cli import main
from rasp.display import format_result
from rasp.errors import RaspError
from rasp.help import help_text
from rasp.html import result_html
from rasp.lexer import RaspLexer
from rasp.parser import parse_program
from rasp.prompt import COMMAND_WORDS
from rasp.results import Compiled, Problem

# ------------------------------------------------------------------ parsing


def parse_one(source: str) -> ast.Stmt:
    statements = parse_program(source, "t.rasp")
    assert len(statements) == 1, statements
    return statements[0]


@pytest.mark.parametrize("source", [
    'compile reverse max_len 4 vocab "abc" random 20 save "out/rev"',
    'compile reverse save "out/rev" random 20 vocab "abc" max_len 4',
    'compile reverse random 20 max_len 4 save "out/rev" vocab "abc";',
    'compile reverse vocab "abc" save "out/rev" max_len 4 random 20  # a comment',
])
def test_options_in_any_order(source):
    stmt = parse_one(source)
    assert isinstance(stmt, ast.Compile)
    assert stmt.expr == ast.Name(None, "reverse")
    assert (stmt.max_len, stmt.check, stmt.save) == (4, 20, "out/rev")
    assert stmt.vocab == ast.Literal(None, "abc")
    assert sorted(stmt.option_spans) == ["max_len", "random", "save", "vocab"]


def test_no_options_and_list_vocab():
    stmt = parse_one("compile sort(tokens, indices)")
    assert (stmt.max_len, stmt.vocab, stmt.check, stmt.save) == (None, None, None, None)
    assert isinstance(stmt.expr, ast.Call)
    stmt = parse_one('compile f(x, [1]) vocab [1, [2, 3][0], 4] max_len 3')
    assert isinstance(stmt.vocab, ast.ListLit) and len(stmt.vocab.items) == 3
    assert stmt.option_spans["vocab"].column == 19
    assert len(stmt.expr.args) == 2


def test_option_words_inside_the_expression_are_names():
    assert parse_one("compile random").expr == ast.Name(None, "random")
    stmt = parse_one("compile random + vocab max_len 2")
    assert isinstance(stmt.expr, ast.Binary) and stmt.max_len == 2
    assert parse_one("compile f(save) max_len 2").expr.args == [ast.Name(None, "save")]
    assert isinstance(parse_one("compile = 3;"), ast.Assign)


@pytest.mark.parametrize(("source", "column", "message"), [
    ("compile", 8, "needs an expression"),
    ("compile   ", 11, "needs an expression"),
    ("compile max_len 3", 9, "needs an expression"),
    ("compile x max_len x", 19, "bad value for `max_len`"),
    ("compile x max_len 2.5", 19, "bad value for `max_len`"),
    ("compile x max_len 0", 19, "at least 1"),
    ("compile x random -1", 18, "bad value for `random`"),
    ("compile x save out", 16, "bad value for `save`"),
    ('compile x save ""', 16, "empty string"),
    ("compile x vocab", 11, "`vocab` needs a value"),
    ("compile x vocab 3", 17, "bad value for `vocab`"),
    ('compile x max_len 3 vocab "a" max_len 4', 31, "`max_len` is given twice"),
])
def test_errors_with_positions(source, column, message):
    stmt = parse_one("  " + source)
    assert isinstance(stmt, ast.SyntaxErrorStmt)
    assert message in stmt.error.message
    assert (stmt.error.span.line, stmt.error.span.column) == (1, column + 2)



# ------------------------------------------------------------ the statement

REVERSE = 'load "reverse";\nrev = reverse(tokens);\n'


@pytest.fixture
def session(session):
    """The conftest session with reverse bound."""
    assert not [r for r in session.run(REVERSE, "setup.rasp") if isinstance(r, Problem)]
    return session


def compiled_of(session, source: str) -> Compiled:
    results = session.run(source, "t.rasp")
    assert not [str(r.error) for r in results if isinstance(r, Problem)]
    [compiled] = [r for r in results if isinstance(r, Compiled)]
    return compiled


def test_compile_reverse(session):
    compiled = compiled_of(session, 'compile rev max_len 4 vocab "abc" random 50')
    model = compiled.model
    assert compiled.name == "rev"
    assert (model.max_len, model.vocab, model.layers, model.heads) == (4, ["a", "b", "c"], 2, [1, 1])
    assert model.run([list("abc"), list("cab"), ["b"]]) == [list("cba"), list("bac"), ["b"]]
    check = compiled.verification
    assert check.mismatches == 0 and check.checked > 0
    assert model.verification is check
    assert compiled.files == []
    assert list(compiled.analysis.heads) == [1, 1]


def test_text_display(session):
    compiled = compiled_of(session, 'compile rev max_len 4 vocab "abc" random 50')
    model, check = compiled.model, compiled.verification
    lines = format_result(compiled).split("\n")
    assert lines[0] == "rev: a transformer of 2 layers, heads per layer 1,1 (as analysed)"
    assert lines[1] == (f"  d_model {model.d_model}, MLP hidden sizes {','.join(map(str, model.d_mlp))},"
                        f" {model.params:,} parameters")
    assert lines[2] == "  vocabulary a b c, max_len 4, BOS at position 0"
    assert lines[3].startswith(f"checked {check.checked:,} inputs (")
    assert lines[3].endswith("): all agree with the interpreter")
    assert lines[4] == (f"attention within {check.attention_error:.2g} of hard attention"
                        f" (tolerance {check.attention_tolerance:.2g})")
    assert repr(compiled) == "\n".join(lines)


def test_defaults_come_from_the_running_example(session):
    compiled = compiled_of(session, 'set example "abba"\ncompile rev random 20')
    assert (compiled.model.vocab, compiled.model.max_len) == (["a", "b"], 4)
    compiled = compiled_of(session, 'set example "hello"\ncompile rev max_len 3 random 20')
    assert (compiled.model.vocab, compiled.model.max_len) == (["h", "e", "l", "o"], 3)


@pytest.mark.parametrize(("option", "vocab"), [
    ('vocab "abca"', ["a", "b", "c"]),
    ('vocab ["y", "x", "y"]', ["y", "x"]),
    ('vocab [c for c in "ba"] + ["c"]', None),  # not a bracketed list alone: a syntax error
])
def test_vocab_option(session, option, vocab):
    if vocab is None:
        assert "vocab" in error_of(session, f"compile rev {option}").message
        return
    assert compiled_of(session, f"compile rev max_len 3 random 20 {option}").model.vocab == vocab


@pytest.mark.parametrize(("source", "column", "message"), [
    ("compile select(tokens, tokens, ==)", 9, "compile needs an s-op, got a selector"),
    ("compile 3 max_len 2", 9, "compile needs an s-op, got an int"),
    ("compile rev vocab []", 19, "vocab must be a non-empty list"),
    ('compile rev vocab ""', 19, "vocab must be a non-empty list"),
    ("compile rev vocab [[1]]", 19, "vocab must be a non-empty list"),
    ("compile nothing_here", 9, "`nothing_here` is not defined"),
])
def test_errors_of_the_statement(session, source, column, message):
    error = error_of(session, source)
    assert message in error.message
    assert (error.span.file, error.span.line, error.span.column) == ("test.rasp", 1, column)


def test_save_writes_weights_numpy_reads(session, tmp_path):
    compiled = compiled_of(session, f'compile rev max_len 3 vocab "ab" random 20 save "{tmp_path / "rev"}"')
    assert compiled.files == [str(tmp_path / "rev.npz"), str(tmp_path / "rev.json")]
    with np.load(tmp_path / "rev.npz") as weights:
        assert weights.files and all(weights[name].dtype.kind == "f" for name in weights.files)
    json.loads((tmp_path / "rev.json").read_text())
    assert format_result(compiled).split("\n")[-1] == f"saved {tmp_path / 'rev.npz'}, {tmp_path / 'rev.json'}"
    again = compiled_of(session, f'compile rev max_len 3 vocab "ab" random 20 save "{tmp_path / "again.npz"}"')
    assert again.files == [str(tmp_path / "again.npz"), str(tmp_path / "again.json")]


def test_save_into_a_missing_directory_is_an_error(session, tmp_path):
    error = error_of(session, f'compile rev max_len 3 vocab "ab" random 20 save "{tmp_path / "no" / "rev"}"')
    assert "cannot save" in error.message and error.span.column == 44  # the save option


def test_compile_in_a_loaded_file_shows_nothing_but_saves(session, tmp_path):
    program = tmp_path / "prog.rasp"
    program.write_text(f'{REVERSE}compile rev max_len 3 vocab "ab" random 20 save "{tmp_path / "m"}"\n')
    results = session.run(f'load "{program}";', "t.rasp")
    assert not [r for r in results if isinstance(r, (Problem, Compiled))]
    assert (tmp_path / "m.npz").exists() and (tmp_path / "m.json").exists()


# -------------------------------------------------------------- the command line


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


def test_json(capsys):
    status, out, err = run_cli(capsys, "-c", REVERSE + 'compile rev max_len 3 vocab "ab" random 20', "--json")
    assert status == 0, err
    [shown] = [o for o in map(json.loads, out.splitlines()) if o["kind"] == "compiled"]
    assert {k: shown[k] for k in ("name", "layers", "heads", "mismatches", "vocab", "max_len", "files")} == {
        "name": "rev", "layers": 2, "heads": [1, 1], "mismatches": 0, "vocab": ["a", "b"], "max_len": 3, "files": []}
    assert shown["checked"] > 0 and shown["d_model"] > 0 and shown["params"] > 0
    assert shown["analysed_heads"] == [1, 1]
    for key in ("d_mlp", "embedding_mlp", "exhaustive_up_to", "random", "skipped", "first_mismatch",
                "attention_error", "attention_tolerance", "numeric_error"):
        assert key in shown


def test_compile_option(capsys):
    status, out, err = run_cli(capsys, "-c", REVERSE, "--compile", 'rev max_len 3 vocab "ab" random 20')
    assert status == 0, err
    assert 'rev: a transformer of 2 layers, heads per layer 1,1 (as analysed)' in out
    assert "all agree with the interpreter" in out
    status, _, err = run_cli(capsys, "-c", REVERSE, "--compile", "rev", "--eval", "rev", "--inputs", "-")
    assert status == 2 and "--compile and --eval" in err


def test_the_command_in_the_piped_repl(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(REVERSE + 'compile rev max_len 3 vocab "ab" random 20\n'
                                                  "compile length + \n"))
    status, out, err = run_cli(capsys)
    assert "rev: a transformer of 2 layers" in out
    assert "<stdin>:4:" in err and "syntax error" in err
    assert status == 1


def test_a_refusal_is_an_error_not_a_traceback(capsys):
    status, out, err = run_cli(capsys, "-c", "x = 1;\ncompile tokens_int + 1 max_len 3 vocab \"ab\"")
    assert status == 1 and out == "x = 1\n"
    first = err.split("\n")[0]
    assert first.startswith("<command>:2:9: compile error: cannot compile tokens_int + 1 for this vocabulary: ")
    assert err.split("\n")[2] == "            " + "^" * len("tokens_int + 1")
    assert "internal error" not in err


def test_a_refusal_is_a_compile_error(session):
    from rasp.compiler.construct import CompileError

    error = error_of(session, "compile tokens_int max_len 2")  # the example "hello" is not digits
    assert isinstance(error, CompileError) and "tokens_int" in error.message


def test_mismatches_are_shown_and_fail_the_run(capsys, monkeypatch):
    real_verify = sys.modules["rasp.compiler.verify"].verify

    def verify_with_a_mismatch(model, node, **options):
        check = real_verify(model, node, **options)
        check.mismatches = 2
        check.first_mismatch = {"input": ["a", "b"], "position": 1, "expected": "a", "got": "b"}
        return check

    monkeypatch.setattr(sys.modules["rasp.compiler.verify"], "verify", verify_with_a_mismatch)
    status, out, _ = run_cli(capsys, "-c", REVERSE + 'compile rev max_len 3 vocab "ab" random 20')
    assert status == 1
    assert ": 2 disagree with the interpreter" in out
    assert '  first: input ["a", "b"], position 1: expected a, got b' in out
    status, out, _ = run_cli(capsys, "-c", REVERSE + 'compile rev max_len 3 vocab "ab" random 20', "--json")
    assert status == 1
    assert json.loads(out.splitlines()[-1])["mismatches"] == 2


# -------------------------------------------------------------- Python API


def test_api_defaults_from_the_session_example(tmp_path):
    session = rasp.Session()
    session.run(REVERSE + 'set example "aba"')
    model = rasp.compile(session["rev"], check=20, save=str(tmp_path / "api"))
    assert (model.vocab, model.max_len, model.layers, model.heads) == (["a", "b"], 3, 2, [1, 1])
    assert model.verification.mismatches == 0 and model.verification.checked > 0
    assert model.run([["a", "b", "b"]]) == [["b", "b", "a"]]
    assert model.files == [str(tmp_path / "api.npz"), str(tmp_path / "api.json")]
    assert (tmp_path / "api.npz").exists()


def test_api_on_a_graph_node_needs_max_len_and_vocab():
    session = rasp.Session()
    session.run(REVERSE)
    node = session["rev"].node
    with pytest.raises(RaspError, match="max_len and vocab"):
        rasp.compile(node)
    model = rasp.compile(node, max_len=2, vocab=["x", "y", "x"], check=10)
    assert model.vocab == ["x", "y"] and model.run([["x", "y"]]) == [["y", "x"]]
    with pytest.raises(RaspError, match="random inputs"):
        rasp.compile(node, max_len=2, vocab="xy", check=-1)
    with pytest.raises(RaspError, match="max_len"):
        rasp.compile(node, max_len=0, vocab="xy")
    session.run("s = select(tokens, tokens, ==);")
    with pytest.raises(RaspError, match="needs an s-op, got a selector"):
        rasp.compile(session["s"])
    assert "compile" in rasp.__all__


# --------------------------------------------------------- help, REPL, HTML


def test_help_and_completion_and_highlighting():
    session = fresh_session()
    text = help_text(session, "compile")
    assert text.startswith('compile EXPR [max_len N] [vocab LIST] [random N] [save "FILE"]')
    assert "save \"FILE\"" in text and "random N" in text
    assert "compile EXPR [OPTIONS]" in help_text(session)
    assert "compile" in COMMAND_WORDS
    tokens = list(RaspLexer().get_tokens("compile rev max_len 3\n"))
    assert tokens[0] == (Keyword.Pseudo, "compile")
    assert (Keyword.Pseudo, "compile") not in list(RaspLexer().get_tokens("compile = 3;\n"))


def test_html(session):
    compiled = compiled_of(session, 'compile rev max_len 3 vocab "ab" random 20')
    page = compiled._repr_html_()
    assert page.startswith('<div class="rasp-compiled">') and page == result_html(compiled)
    assert f">{compiled.model.d_model}</td>" in page and ">all agree</td>" in page


@pytest.mark.slow
def test_random_inputs_beyond_the_exhaustive_length(session):
    compiled = compiled_of(session, 'compile rev max_len 6 vocab "abcdefgh" random 30')
    check = compiled.verification
    assert (check.exhaustive_up_to, check.random, check.mismatches) == (4, 30, 0)
    assert check.checked == 8 + 8**2 + 8**3 + 8**4 + 30
    assert format_result(compiled).split("\n")[3] == (
        f"checked {check.checked:,} inputs (every input up to length 4, and 30 random ones up to length 6):"
        " all agree with the interpreter")


def test_skipped_inputs_and_a_model_without_attention(session):
    compiled = compiled_of(session, 'compile aggregate(select(indices, indices, <=), tokens) max_len 2 vocab "ab"')
    assert compiled.verification.skipped == 2  # "ab" and "ba" mix two strings in the second row
    assert format_result(compiled).split("\n")[3] == (
        "checked 4 inputs (every input up to length 2): all agree with the interpreter;"
        " 2 more skipped (the program fails on them in the interpreter)")
    lines = format_result(compiled_of(session, "compile indices * 2 max_len 3")).split("\n")
    assert lines[0].startswith("indices * 2: a transformer of 0 layers (no attention; as analysed)")
    assert not any(line.startswith("attention") for line in lines)
