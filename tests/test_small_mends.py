"""Small things a new user met: plurals, 0-layer models, completion labels, dir(rasp),
a compiled model's repr in Python and notebooks."""

from __future__ import annotations

from prompt_toolkit.document import Document

import rasp
from rasp.display import format_result
from rasp.interpreter import Session
from rasp.prompt import RaspCompleter
from rasp.results import Compiled, Drawn


def test_one_layer_is_singular_in_the_draw_message():
    text = format_result(Drawn("x", "rasp_draw/x.html", "ab", 1, ""))
    assert "(1 layer)" in text


def test_a_zero_layer_model_says_so_without_a_dash():
    s = Session()
    results = s.run('compile indices max_len 3 vocab "ab"\n')
    text = format_result(next(r for r in results if isinstance(r, Compiled)))
    assert "0 layers (no attention" in text and "sizes -" not in text and "before layer 1" not in text


def test_completion_labels_built_ins_alike():
    s = Session()
    completer = RaspCompleter(lambda: s)
    labels = {c.text: c.display_meta_text for c in completer.get_completions(Document("sel"), None)}
    assert labels["select"] == labels["selector_width"] == "built-in"
    assert labels["select_from_first"] == "library"


def test_dir_of_rasp_lists_the_lazy_api():
    assert {"Session", "analyse", "compile", "RaspError"} <= set(dir(rasp))


def test_a_compiled_model_has_a_text_repr_and_html():
    s = rasp.Session()
    s.run("hist = selector_width(select(tokens, tokens, ==));")
    model = rasp.compile(s["hist"], max_len=4, vocab="ab")
    text = repr(model)
    assert text.startswith("<Transformer hist: 1 layer, heads per layer 1, d_model ")
    assert "verified on 30 inputs: all agree" in text and "object at 0x" not in text
    page = model._repr_html_()
    assert "hist: a compiled transformer" in page and "all agree" in page


def test_compile_warns_when_the_vocabulary_comes_from_the_example():
    s = Session()
    (result,) = s.run('compile length max_len 3\n')
    text = format_result(result)
    assert 'warning: the vocabulary was taken from the running example "hello"' in text
    assert "the tokens h e l o" in text
    (given,) = s.run('compile length max_len 3 vocab "ab"\n')
    assert "taken from the running example" not in format_result(given)
    assert result.from_example == ["vocab"] and given.from_example == []
