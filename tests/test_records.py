"""rasp.records.record behaves as dataclasses.dataclass for what the AST and the results use:
each case is built both ways and compared."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from rasp import records, results, syntax


def _both(body: dict, bases: tuple = (), **options):
    """The same class made by dataclasses and by records."""
    made = []
    for decorator, make_field in ((dataclasses.dataclass, dataclasses.field), (records.record, records.field)):
        namespace = {k: (make_field(**v) if isinstance(v, dict) else v) for k, v in body.items()}
        namespace["__annotations__"] = {k: "object" for k in body}
        cls = type("Example", tuple(b[len(made)] for b in bases), namespace)
        made.append(decorator(**options)(cls) if options else decorator(cls))
    return made


def test_fields_defaults_and_factories_match_dataclasses():
    pair = _both({"a": dataclasses.MISSING, "b": 2, "c": {"default_factory": list}, "d": {"default": 4, "repr": False}})
    for cls in pair:
        if "a" in cls.__dict__:
            delattr(cls, "a")
    real, light = (cls(1) for cls in pair)
    assert repr(real) == repr(light) == "Example(a=1, b=2, c=[])"
    assert (real.a, real.b, real.c, real.d) == (light.a, light.b, light.c, light.d)
    assert light.c is not pair[1](1).c  # a fresh list each time
    assert pair[1](1, 2) == pair[1](a=1, b=2) and pair[1](1) != pair[1](2)
    assert pair[1].__hash__ is None and pair[0].__hash__ is None


def test_compare_false_fields_and_inheritance_order():
    base = _both({"span": {"repr": False, "compare": False}})
    child = _both({"name": dataclasses.MISSING}, bases=(base,))
    real, light = child[0]("here", "x"), child[1]("here", "x")
    assert repr(real) == repr(light) == "Example(name='x')"
    assert light == child[1]("elsewhere", "x")
    assert [f.name for f in records.fields(light)] == [f.name for f in dataclasses.fields(real)] == ["span", "name"]


def test_a_redefined_field_keeps_its_place():
    base = _both({"a": 1, "b": 2})
    child = _both({"a": 3}, bases=(base,))
    real, light = child[0](), child[1]()
    assert [f.name for f in records.fields(light)] == [f.name for f in dataclasses.fields(real)] == ["a", "b"]
    assert repr(real) == repr(light) == "Example(a=3, b=2)"


@pytest.mark.parametrize("call", [lambda cls: cls(), lambda cls: cls(1, 2, 3), lambda cls: cls(1, a=1),
                                  lambda cls: cls(1, z=3)])
def test_wrong_arguments_are_type_errors_as_with_dataclasses(call):
    real, light = _both({"a": dataclasses.MISSING, "b": 2})
    for cls in (real, light):
        if "a" in cls.__dict__:
            delattr(cls, "a")
        with pytest.raises(TypeError):
            call(cls)


def test_a_class_keeps_its_own_repr_and_eq():
    @records.record
    class Own:
        x: int

        def __repr__(self) -> str:
            return "own"

    assert repr(Own(1)) == "own" and Own(1) == Own(1)


def test_the_ast_and_results_behave_as_before():
    span = syntax.Span("f", 1, 1, 1, 2)
    name = syntax.Name(span, "x")
    assert repr(name) == "Name(name='x')"
    assert name == syntax.Name(syntax.Span("g", 2, 2, 2, 3), "x") and name != syntax.Name(span, "y")
    assert pickle.loads(pickle.dumps(name)) == name and pickle.loads(pickle.dumps(name)).span == span
    compiled = syntax.Compile(span, name)
    assert compiled.option_spans == {} and compiled.option_spans is not syntax.Compile(span, name).option_spans
    problem = results.Problem(error=ValueError("x"))
    assert problem.warning is False and "Problem(" in repr(problem)
