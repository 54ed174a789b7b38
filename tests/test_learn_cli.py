"""The faces of learning (docs/learning.md): examples from JSON Lines and from programs, their errors
at their lines, the `learn` statement's options and their errors at positions, `rasp --learn`,
`rasp.learn`, the JSON record, and end-to-end runs once the model and the decompiler are there."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

import rasp
from rasp.cli import main
from rasp.errors import RaspError
from rasp.learning import LearnError, pipeline
from rasp.learning.examples import MAX_VOCAB, check_fits, list_examples, program_examples, read_examples

HIST = "hist = selector_width(select(tokens, tokens, ==));"


def write(tmp_path, text: str, name: str = "data.jsonl") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def line(items, output) -> str:
    return json.dumps({"input": items, "output": output})


# ----------------------------------------------------------------------------- JSON Lines


def test_a_file_of_examples_is_read_in_order_strings_as_characters(tmp_path):
    path = write(tmp_path, line(["a", "b"], [1, 1]) + "\n\n" + line("aa", [2, 2]) + "\n" + line([3], ["x"]) + "\n")
    with pytest.raises(LearnError, match="two types"):
        read_examples(path)  # tokens "a" and 3
    path = write(tmp_path, line(["b", "a"], "11") + "\n\n" + line("aab", "221") + "\n")
    examples = read_examples(path)
    assert examples.inputs == [["b", "a"], ["a", "a", "b"]]
    assert examples.outputs == [["1", "1"], ["2", "2", "1"]]
    assert examples.lines == (1, 3) and examples.vocab == ("b", "a") and examples.max_len == 3


@pytest.mark.parametrize("text, words, at", [
    ("", "has no examples", 1),
    ("\n  \n", "has no examples", 1),
    (line("ab", [1, 1]) + "\n{\"input\": [1,\n", "line 2 is not valid JSON", 2),
    ("[1, 2]\n", "is a JSON list, not an object", 1),
    (line("ab", [1, 1]) + "\n" + json.dumps({"input": "ab"}) + "\n", "line 2 has no 'output'", 2),
    (json.dumps({"output": [1]}) + "\n", "has no 'input'", 1),
    (line("ab", [1, 1]) + "\n" + line("abc", [1, 1]) + "\n", "the output has 2 values but the input has 3", 2),
    (line("ab", [1, 1]) + "\n" + line("b", [1]) + "\n" + line("ab", [1, 2]) + "\n",
     "line 1 and line 3 have the same input", 3),
    (line([["a"]], [1]) + "\n", "position 0 is a JSON list", 1),
    (line(["a", None], [1, 1]) + "\n", "position 1 is a JSON null", 1),
    (line(["a"], {"x": 1}) + "\n", "the output is a JSON object", 1),
    (line([], []) + "\n", "the input is empty", 1),
    (line("ab", [1, 1]) + "\n" + line("ab", [1, 1]) + "\n" + line("ba", ["1", "1"]) + "\n",
     "output values of two types", 3),
])
def test_each_problem_of_a_file_is_an_error_at_its_line(tmp_path, text, words, at):
    path = write(tmp_path, text)
    with pytest.raises(LearnError, match=words) as raised:
        read_examples(path)
    assert raised.value.span.file == path and raised.value.span.line == at


def test_inconsistent_examples_name_both_lines(tmp_path):
    path = write(tmp_path, line("ab", [1, 1]) + "\n" + line("ab", [2, 2]) + "\n")
    with pytest.raises(LearnError) as raised:
        read_examples(path)
    assert raised.value.span.line == 2 and [s.line for s, _ in raised.value.context] == [1]
    assert "[1, 1] and [2, 2]" in raised.value.message


def test_the_same_example_twice_is_not_inconsistent(tmp_path):
    examples = read_examples(write(tmp_path, (line("ab", [1, 1]) + "\n") * 2))
    assert len(examples) == 2


def test_a_file_that_cannot_be_read(tmp_path):
    with pytest.raises(LearnError, match="cannot read the examples"):
        read_examples(str(tmp_path / "missing.jsonl"))
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(LearnError, match="not a UTF-8 text file"):
        read_examples(str(binary))


def test_vocabulary_and_length_must_fit_the_options(tmp_path):
    path = write(tmp_path, line("ab", [1, 1]) + "\n" + line("abca", [1, 1, 1, 2]) + "\n")
    examples = read_examples(path)
    check_fits(examples, ("a", "b", "c", "d"), 4)  # fits
    with pytest.raises(LearnError, match="line 2: an input of 4 tokens is longer than max_len 3") as raised:
        check_fits(examples, None, 3)
    assert raised.value.span.line == 2
    with pytest.raises(LearnError, match='line 2: the token "c" is not in the vocabulary'):
        check_fits(examples, ("a", "b"), None)
    wide = [[f"t{i}"] for i in range(MAX_VOCAB + 1)]
    with pytest.raises(LearnError, match=f"{MAX_VOCAB + 1} distinct tokens; at most {MAX_VOCAB}"):
        check_fits(list_examples(wide, [[0]] * len(wide)))


def test_examples_as_python_lists_are_checked_as_lines():
    examples = list_examples(["ab", ["b"]], [[1, 1], [1]])
    assert examples.inputs == [["a", "b"], ["b"]]
    with pytest.raises(LearnError, match="line 2: the output has 2 values but the input has 1"):
        list_examples(["ab", "b"], [[1, 1], [1, 1]])
    with pytest.raises(LearnError, match="2 inputs but 1 outputs"):
        list_examples(["ab", "b"], [[1, 1]])


# ----------------------------------------------------------------------------- from a program


def node_of(source: str, name: str):
    session = rasp.Session()
    session.run(source)
    return session[name].node


def test_examples_from_a_program_are_its_outputs_on_drawn_inputs():
    session = rasp.Session()
    session.run(HIST)
    examples = program_examples(session["hist"].node, "hist", ("a", "b", "c"), min_len=2, max_len=5, examples=80,
                                seed=3)
    assert len(examples) == 80 and {len(i) for i in examples.inputs} <= {2, 3, 4, 5}
    for items, output in zip(examples.inputs, examples.outputs, strict=True):
        assert output == session["hist"](items).values
    again = program_examples(session["hist"].node, "hist", ("a", "b", "c"), min_len=2, max_len=5, examples=80, seed=3)
    assert again.inputs == examples.inputs  # the seed decides


def test_a_dyck_program_gets_the_dyck_mixture():
    node = node_of('load "dyck"; d = dyck1(tokens);', "d")
    examples = program_examples(node, "dyck1", ("(", ")", "x"), min_len=4, max_len=10, examples=200, seed=0)
    assert {"T", "P", "F"} <= {row[-1] for row in examples.outputs}


@pytest.mark.parametrize("source, name, vocab, words", [
    ("f = 10 / tokens_int;", "f", (0, 1, 2), "fails on a generated input"),
    (HIST, "hist", (), "non-empty vocabulary"),
    (HIST, "hist", (1, "a"), "mixes"),
])
def test_a_program_that_cannot_give_examples(source, name, vocab, words):
    with pytest.raises(LearnError, match=words):
        program_examples(node_of(source, name), name, vocab, examples=20)


# ----------------------------------------------------------------------------- the `learn` statement


def test_the_statement_parses_its_options_in_any_order():
    from rasp import syntax as ast
    from rasp.parser import parse_program

    (stmt,) = parse_program('learn hist seed 3 vocab "abc" heads 1 max_len 5 name h save "h.rasp" counting 2;')
    assert isinstance(stmt, ast.Learn) and stmt.expr.name == "hist"
    assert set(stmt.options) == {"seed", "vocab", "heads", "max_len", "name", "save", "counting"}
    assert stmt.options["name"] == "h" and stmt.options["save"] == "h.rasp" and stmt.options["counting"] == 2
    (stmt,) = parse_program('learn "data.jsonl" layers 3')
    assert isinstance(stmt, ast.Learn) and stmt.expr.value == "data.jsonl" and stmt.options == {"layers": 3}
    (assign,) = parse_program("learn = 3;")
    assert isinstance(assign, ast.Assign)  # `learn = ...` is an assignment


@pytest.mark.parametrize("source, words, column", [
    ('learn "d.jsonl" layers 0', "`layers` must be between 1 and 8, got 0", 24),
    ('learn "d.jsonl" heads 1 epochs x', "`epochs` needs a whole number", 32),
    ('learn "d.jsonl" name 3', "`name` needs a name", 22),
    ('learn "d.jsonl" save out', "bad value for `save`", 22),
    ('learn "d.jsonl" seed 1 seed 2', "`seed` is given twice", 24),
    ("learn", "`learn` needs an s-op or a data file", 6),
])
def test_option_errors_are_syntax_errors_at_their_position(source, words, column):
    with pytest.raises(RaspError, match=words) as raised:
        rasp.Session().run(source)
    assert raised.value.category == "syntax error" and raised.value.span.column == column


def test_errors_of_the_data_are_at_the_data_and_the_statement(tmp_path):
    path = write(tmp_path, line("ab", [1, 1]) + "\n" + line("abc", [1]) + "\n")
    session = rasp.Session()
    with pytest.raises(LearnError, match="line 2: the output has 1 values") as raised:
        session.run(f'learn "{path}" layers 1')
    assert (raised.value.span.file, raised.value.span.line) == (path, 2)
    assert raised.value.context[-1][0].file == "<input>"  # the note: in the examples of this `learn`
    assert session.sources[path].startswith('{"input"')  # so the error shows the line with a caret


@pytest.mark.parametrize("source, words, category", [
    ('learn "{missing}"', "cannot read the examples", "learn error"),
    ("learn select(tokens, tokens, ==)", "learn needs an s-op or a data file's name, got a selector", "type error"),
    ('learn "{data}" examples 10', "`examples` is for examples drawn from a program", "learn error"),
    ('learn "{data}" max_len 1', "longer than max_len 1", "learn error"),
    ('learn "{data}" vocab "a"', 'the token "b" is not in the vocabulary', "learn error"),
    ('learn "{data}" name length', "`length` is reserved", "name error"),
    ('learn "{data}" save "{missing}/p.rasp"', "the folder .* does not exist", "learn error"),
])
def test_statement_errors_before_learning(tmp_path, source, words, category):
    data = write(tmp_path, line("ab", [1, 1]) + "\n")
    with pytest.raises(RaspError, match=words) as raised:
        rasp.Session().run(source.format(data=data, missing=tmp_path / "missing.jsonl"))
    assert raised.value.category == category and raised.value.span is not None


def test_a_missing_extra_is_a_clear_error(tmp_path, monkeypatch):
    for module in ("jax", "optax"):
        monkeypatch.setitem(__import__("sys").modules, module, None)  # `import jax` now raises ImportError
    data = write(tmp_path, line("ab", [1, 1]) + "\n")
    with pytest.raises(RaspError, match="needs JAX and optax") as raised:
        rasp.Session().run(f'learn "{data}"')
    assert 'pip install "rasp[train]"' in raised.value.hint and raised.value.span.line == 1


# ----------------------------------------------------------------------------- the record, with a stand-in model
# The faces are tested here without training: pipeline.learn is replaced by a function that returns the
# LearnedProgram of a hand-written RASP histogram (the real pipeline is tested end to end below).

HAND_WRITTEN = "learned = selector_width(select(tokens, tokens, ==));\n"


def stand_in(calls: list):
    def learn(inputs, outputs, settings, name="learned", progress=None):
        calls.append({"inputs": inputs, "outputs": outputs, "settings": settings, "name": name})
        source = HAND_WRITTEN.replace("learned", name)
        node, analysis = pipeline.analyse_source(source, name)
        hard = SimpleNamespace(settings=SimpleNamespace(layers=2, categorical_heads=1, counting_heads=1, mlps=1),
                               token_accuracy=1.0, sequence_accuracy=1.0, train_accuracy=1.0, seconds=0.5,
                               test_inputs=inputs[:3])
        return pipeline.LearnedProgram(name, source, hard, 1.0, {"lines": 9, "heads": 4}, {"lines": 1, "heads": 1},
                                       analysis, examples=len(inputs), node=node)
    return learn


@pytest.fixture
def calls(monkeypatch):
    made: list = []
    monkeypatch.setattr(pipeline, "learn", stand_in(made))
    monkeypatch.setattr(pipeline, "settings_for", lambda options: dict(options))
    return made


KEYS = {"kind", "program", "token_accuracy", "sequence_accuracy", "agreement", "layers", "heads", "lines"}


def test_the_statement_learns_saves_and_binds_the_program(tmp_path, calls, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = write(tmp_path, line("aab", [2, 2, 1]) + "\n" + line("b", [1]) + "\n")
    session = rasp.Session()
    (result,) = session.run(f'learn "{data}" heads 1 counting 1 layers 2 save "hist" name h;')
    assert calls[0]["inputs"] == [["a", "a", "b"], ["b"]] and calls[0]["name"] == "h"
    assert calls[0]["settings"] == {"heads": 1, "counting": 1, "layers": 2}
    assert result.files == ["hist.rasp"]
    assert (tmp_path / "hist.rasp").read_text() == HAND_WRITTEN.replace("learned", "h")
    assert session["h"]("abca").values == [2, 1, 1, 2]  # bound in the session
    shown = result.to_json()
    assert KEYS <= set(shown) and shown["kind"] == "learned" and shown["layers"] == 1 and shown["heads"] == [1]
    assert shown["lines"] == 1 and shown["size_before"] == {"lines": 9, "heads": 4}
    text = repr(result)
    assert "learned h from" in text and "agrees with the learned model on 100.0% of 2 test inputs" in text
    assert "saved hist.rasp" in text and "<pre>" in result._repr_html_()


def test_learning_from_a_program_uses_the_running_example(calls):
    session = rasp.Session()
    session.run(HIST + '\nset example "abcab"\nlearn hist examples 30 seed 4;')
    inputs = calls[0]["inputs"]
    assert len(inputs) == 30 and {t for items in inputs for t in items} <= {"a", "b", "c"}
    assert max(len(items) for items in inputs) <= 5  # max_len: the example's length
    assert calls[0]["settings"] == {"seed": 4}


def test_without_save_the_program_is_shown(tmp_path, calls):
    data = write(tmp_path, line("ab", [1, 1]) + "\n")
    (result,) = rasp.Session().run(f'learn "{data}"')
    assert repr(result).endswith(HAND_WRITTEN.rstrip("\n"))


def test_python_learn_from_a_file_a_program_and_lists(tmp_path, calls):
    data = write(tmp_path, line("ab", [1, 1]) + "\n")
    found = rasp.learn(data, layers=1, heads=2)
    assert calls[-1]["inputs"] == [["a", "b"]] and calls[-1]["settings"] == {"layers": 1, "heads": 2}
    assert found.to_json()["kind"] == "learned" and found.origin == data
    rasp.learn(tmp_path / "data.jsonl")  # a Path too
    session = rasp.Session()
    session.run(HIST)
    rasp.learn(session["hist"], vocab="xy", max_len=3, examples=25, seed=1)
    assert len(calls[-1]["inputs"]) == 25 and {t for i in calls[-1]["inputs"] for t in i} <= {"x", "y"}
    assert calls[-1]["settings"] == {"seed": 1}
    rasp.learn(["ab", "b"], [[1, 1], [1]], counting=2)
    assert calls[-1]["inputs"] == [["a", "b"], ["b"]] and calls[-1]["settings"] == {"counting": 2}
    with pytest.raises(LearnError, match="line 2: the output has 2 values"):
        rasp.learn(["ab", "b"], [[1, 1], [1, 1]])
    with pytest.raises(RaspError, match="learn needs a data file's path, an s-op or inputs and outputs"):
        rasp.learn(3)
    assert "learn" in dir(rasp)


def test_cli_learn_json_record_and_the_saved_file_runs(tmp_path, calls, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = write(tmp_path, line("aab", [2, 2, 1]) + "\n" + line("ab", [1, 1]) + "\n")
    code = main(["--learn", data, "--out", "p.rasp", "--layers", "2", "--heads", "1", "--var-size", "4", "--json"])
    assert code == 0
    (record,) = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert KEYS <= set(record) and record["kind"] == "learned" and record["files"] == ["p.rasp"]
    assert record["program"] == HAND_WRITTEN and record["origin"] == data
    assert calls[0]["settings"] == {"layers": 2, "heads": 1, "var_size": 4}
    (tmp_path / "in.jsonl").write_text('"abca"\n')
    assert main(["p.rasp", "--eval", "learned", "--inputs", str(tmp_path / "in.jsonl")]) == 0
    assert json.loads(capsys.readouterr().out)["value"] == [2, 1, 1, 2]


def test_cli_learn_from_a_program(tmp_path, calls, capsys):
    program = write(tmp_path, HIST + "\n", "hist.rasp")
    code = main([program, "--learn-from", 'hist vocab "ab" max_len 4 examples 20', "--seed", "2", "--json"])
    assert code == 0 and len(calls[0]["inputs"]) == 20 and calls[0]["settings"] == {"seed": 2}
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["kind"] == "learned"


def test_cli_data_error_is_json_with_the_line(tmp_path, capsys):
    data = write(tmp_path, line("ab", [1, 1]) + "\nnot json\n")
    assert main(["--learn", data, "--json"]) == 1
    (record,) = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert record["kind"] == "error" and record["file"] == data and record["line"] == 2
    assert "line 2 is not valid JSON" in record["message"]


@pytest.mark.parametrize("args, words", [
    (["--out", "p.rasp"], "--out goes with --learn DATA.jsonl or --learn-from NAME"),
    (["--layers", "2"], "--layers goes with"),
    (["--learn", "d.jsonl", "--learn-from", "hist"], "give one"),
    (["--learn", "d.jsonl", "--layers", "0"], "--layers must be between 1 and 8, got 0"),
    (["--learn", 'a"b.jsonl'], "a file name with a quote"),
    (["--learn", "d.jsonl", "--eval", "f", "--inputs", "i.jsonl"], "--learn and --eval are separate runs"),
])
def test_cli_usage_errors(args, words, capsys):
    assert main(args) == 2
    assert words in capsys.readouterr().err


def test_progress_on_a_terminal_shows_the_temperature_and_is_wiped_at_the_end():
    import io

    from rasp.cli import train_progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    show = train_progress(stream)
    show(SimpleNamespace(epoch=3, loss=0.5, validation_accuracy=0.25, seconds=4.0, temperature=1.5))
    assert "epoch 3: loss 0.5000, temperature 1.5, validation accuracy 25.0%, 4 s" in stream.getvalue()
    show.finish()
    assert stream.getvalue().endswith("\r\x1b[K")
    show(SimpleNamespace(epoch=1, loss=0.5, validation_accuracy=0.25, seconds=4.0))  # train's records: no temperature
    assert "temperature" not in stream.getvalue().rsplit("\r", 2)[-1]
    assert train_progress(io.StringIO()) is None  # not a terminal: no progress


def test_help_and_completion_know_learn():
    from prompt_toolkit.document import Document

    from rasp.help import help_text
    from rasp.prompt import RaspCompleter

    session = rasp.Session()
    assert "learn EXPR|\"DATA\" [OPTIONS]" in help_text(session)
    assert help_text(session, "learn").startswith('learn "DATA.jsonl" [OPTIONS]')
    completer = RaspCompleter(lambda: session)

    def complete(text):
        return {c.text: c.display_meta_text for c in completer.get_completions(Document(text), None)}

    assert complete("lea").get("learn") == "command"
    assert complete('learn "d.jsonl" la') == {"layers": "learn option"}
    assert "restarts" in complete("learn hist re") and "restarts" not in complete("x = re")


# ----------------------------------------------------------------------------- end to end (the real model)
# The CI-sized run of docs/learning.md: histogram, vocabulary 3, inputs of length 1..5 (every one of them, 363
# examples) -> a RASP file -> `rasp FILE --eval learned` agrees with the library's histogram, and the program
# compiles into a transformer that verifies against the interpreter.

CI_OPTIONS = ["layers 1", "heads 0", "counting 1", "mlps 0", "seed 0", "restarts 4"]  # histogram's shape
CI_SETTINGS = [part for option in CI_OPTIONS for part in ("--" + option.split()[0], option.split()[1])]


def all_inputs(vocab: str, longest: int) -> list[list]:
    from itertools import product

    return [list(items) for n in range(1, longest + 1) for items in product(vocab, repeat=n)]


@pytest.fixture
def learned_parts():
    pytest.importorskip("jax")
    pytest.importorskip("optax")
    pytest.importorskip("rasp.learning.trainer")  # the model (rasp/learning/trainer.py)
    pytest.importorskip("rasp.learning.decompile")  # the decompiler (rasp/learning/decompile.py)


@pytest.mark.slow  # trains a model: a minute on a loaded CPU
def test_histogram_learned_from_a_file_runs_agrees_and_compiles(tmp_path, capsys, monkeypatch, learned_parts):
    monkeypatch.chdir(tmp_path)
    session = rasp.Session()
    session.run('load "paper"; h = histogram(tokens);')
    inputs = all_inputs("abc", 5)
    expected = [session["h"](items).values for items in inputs]
    data = write(tmp_path, "\n".join(line(i, o) for i, o in zip(inputs, expected, strict=True)) + "\n")
    assert main(["--learn", data, "--out", "hist.rasp", "--json", *CI_SETTINGS]) == 0
    (record,) = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert record["kind"] == "learned" and record["files"] == ["hist.rasp"]
    assert record["agreement"] == 1.0  # the decompiled RASP is the hard model
    assert record["token_accuracy"] == 1.0 and record["sequence_accuracy"] == 1.0  # which learned the task

    (tmp_path / "in.jsonl").write_text("\n".join(json.dumps(items) for items in inputs) + "\n")
    assert main(["hist.rasp", "--eval", "learned", "--inputs", "in.jsonl"]) == 0
    got = [json.loads(text)["value"] for text in capsys.readouterr().out.splitlines()]
    assert got == expected  # every input of the domain, not only the test split

    learned = rasp.Session()
    learned.run((tmp_path / "hist.rasp").read_text())
    model = rasp.compile(learned["learned"], max_len=5, vocab="abc")
    assert model.verification.mismatches == 0 and model.verification.checked > 0


@pytest.mark.slow  # trains a model
def test_learn_statement_from_a_program_binds_a_working_program(learned_parts):
    session = rasp.Session()
    found = session.run(HIST + '\nlearn hist vocab "abc" max_len 5 examples 1000 ' + " ".join(CI_OPTIONS))[-1]
    assert found.token_accuracy == 1.0 and found.agreement == 1.0
    for items in found.learned.test_inputs:  # (a count the random inputs never showed cannot be learned)
        assert session["learned"](items).values == session["hist"](items).values  # bound in the session

