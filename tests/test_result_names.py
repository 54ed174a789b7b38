"""A result of a call the user wrote is named after that call, never after a local of the
function's body (docs/reference.md, 'Names of results')."""

from __future__ import annotations

import rasp
from rasp.interpreter import Session
from rasp.results import Drawn, Shown


def _shown(session: Session, source: str) -> list:
    return [r for r in session.run(source) if isinstance(r, Shown)]


def test_an_expression_statement_of_a_call_is_shown_under_the_call():
    s = Session()
    s.run('load "sort";')
    shown = _shown(s, 'sort_by_frequency(tokens, "-");')
    assert [r.name for r in shown] == ['sort_by_frequency(tokens, "-")']
    assert shown[0].value.name == 'sort_by_frequency(tokens, "-")'


def test_applying_an_sop_is_shown_under_its_name_not_out():
    s = Session()
    s.run('is_a = tokens == "a";')
    shown = _shown(s, 'is_a("aab");')
    assert shown[0].name == "is_a"


def test_a_call_result_is_not_named_after_a_local_of_the_body():
    s = Session()
    s.run('def f(s) { inner = s + 1; return inner; } x = f(indices);')
    assert s["x"].name == "f(indices)"
    s.run('load "sort";')
    assert s.run('y = sort_by_frequency(tokens, "-");') and s["y"].name == 'sort_by_frequency(tokens, "-")'


def test_an_argument_returned_unchanged_keeps_its_name():
    s = Session()
    s.run("def same(s) { return s; } a = indices + 1; b = same(a);")
    assert s["b"].name == "a"


def test_drawing_a_library_call_names_the_file_and_title_after_the_call(tmp_path, monkeypatch):
    monkeypatch.setenv("RASP_DRAW_DIR", str(tmp_path / "rasp_draw"))
    s = Session()
    s.run('load "dyck"; load "sort";')
    drawn = [r for r in s.run('draw(sort_by_frequency(tokens, "-")); draw(dyck2(tokens));') if isinstance(r, Drawn)]
    names = [r.name for r in drawn]
    assert names == ['sort_by_frequency(tokens, "-")', "dyck2(tokens)"]
    files = sorted(p.name for p in (tmp_path / "rasp_draw").glob("*.html"))
    assert any(f.startswith("sort_by_frequency_tokens") for f in files), files
    assert any(f.startswith("dyck2_tokens") for f in files), files
    page = (tmp_path / "rasp_draw" / next(f for f in files if f.startswith("dyck2"))).read_text()
    assert "dyck2(tokens)" in page and "dyck_tokens" not in page


def test_analyse_and_the_python_api_use_the_call_name():
    s = Session()
    s.run('load "sort";')
    analysis = [r for r in s.run('analyse sort_by_frequency(tokens, "-");')]
    assert 'sort_by_frequency(tokens, "-")' in str(analysis[0].__dict__)
    api = rasp.Session()
    api.run('load "sort";')
    result = api["sort_by_frequency"](api["tokens"], "-")
    assert repr(result) == '<s-op sort_by_frequency(tokens, "-")>'
    assert 'sort_by_frequency(tokens, "-")' in repr(result.analyse())
