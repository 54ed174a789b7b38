"""The grammar and parser: precedences, statements, lexing (docs/reference.md, 'Expressions, tightest
binding first', 'Statements', 'Lexical')."""

import pytest
from support import fresh_session, value_of

from rasp import syntax as ast
from rasp.errors import RaspSyntaxError
from rasp.parser import is_complete, parse_expression, parse_program, split_statements


@pytest.mark.parametrize(
    "source, expected",
    [
        ("-2^2;", 4),  # prefix binds tighter than ^
        ("2^3^2;", 64),  # ^ is left-associative
        ("2*3%4;", 2),  # % is looser than *
        ("10-4%3;", 9),  # % tighter than -
        ("1+2*3;", 7),
        ("2^-1;", 0.5),
        ("True or False and False;", False),  # and/or share one level, left-assoc
        ("2==2==2;", False),  # (2==2)==2
        ("not 1 == 0;", True),  # (not 1) == 0
        ("1+1 in [2];", True),  # in is loosest
        ("1 if False else 2 if True else 3;", 2),  # (1 if False else 2) if True else 3
        ("3 if True else 4 in [4];", False),  # (3 if True else 4) in [4]
        ("0 if 1 in [1] else 5;", 0),  # a full expression as condition
        ("[1, 2][0] + [3][0];", 4),
        ("-[1, 2][1];", -2),  # postfix binds tighter than prefix
        ("(1 + 2) * 3;", 9),
        ("1 != 2;", True),
        ("5/2;", 2.5),
        ("-7%3;", 2),
        ('"ab"+"cd";', "abcd"),
        ("[1]+[2];", [1, 2]),
        ("1 < 2 and 2 <= 2;", True),
        ("0.5 + 1;", 1.5),
    ],
)
def test_precedence_and_atoms(session, source, expected):
    result = value_of(session, source)
    assert result == expected and type(result) is type(expected)


def test_several_statements_per_line_and_comments():
    session = fresh_session(stdlib=False)
    value = value_of(session, "a = 1; b = 2; # a comment\nc = a +  # comment inside a statement\n b; c;")
    assert value == 3


def test_space_allowed_before_parenthesis():
    session = fresh_session(stdlib=False)
    assert value_of(session, "range (3);") == [0, 1, 2]
    assert value_of(session, "len ([1]);") == 1
    assert value_of(session, "zip ([1], [2]);") == [[1, 2]]
    assert value_of(session, "aggregate (select (indices, 0, ==), indices);") == ([0] * 5, "ints")


def test_chained_postfix():
    session = fresh_session(stdlib=False)
    assert value_of(session, "def f(a) { def g(b) { return a + b; } return g; } f(1)(2);") == 3
    assert value_of(session, "[[1, 2], [3, 4]][1][0];") == 3


def test_ast_spans_are_absolute():
    statements = parse_program("x = 1;\n  y = x +\n    zz;", "f.rasp")
    assign = statements[1]
    assert isinstance(assign, ast.Assign)
    assert (assign.span.line, assign.span.column) == (2, 3)
    name = assign.values[0].right
    assert isinstance(name, ast.Name) and name.name == "zz"
    assert (name.span.file, name.span.line, name.span.column, name.span.end_column) == ("f.rasp", 3, 5, 7)


def test_def_and_for_blocks():
    (definition,) = parse_program("def f(a, b) { c = a; return c, b; }")
    assert isinstance(definition, ast.Def)
    assert definition.params == ["a", "b"] and len(definition.body) == 1 and len(definition.returns) == 2
    (loop,) = parse_program("for k, v in {1: 2} { x = k; }")
    assert isinstance(loop, ast.For) and loop.names == ["k", "v"] and isinstance(loop.iterable, ast.DictLit)


def test_commands_are_line_based():
    statements = parse_program(
        'set example "hey"\nset s-op example [1, 2]\nshow selector example\n'
        "selector examples off\nfull seq display on\nexamples on\nquit()\nanalyze x\n"
    )
    kinds = [type(s).__name__ for s in statements]
    assert kinds == ["SetExample", "SetExample", "ShowExample", "ToggleExamples", "FullSeqDisplay",
                     "ToggleExamples", "Exit", "Analyse"]
    assert statements[1].subset == "s-op" and statements[2].subset == "selector"
    assert statements[3].subset == "selector" and statements[3].on is False


def test_command_words_are_still_names_elsewhere():
    session = fresh_session(stdlib=False)
    assert value_of(session, "example = 3; examples = example + 1; examples;") == 4


@pytest.mark.parametrize(
    "source, line, column, fragment",
    [
        ("x = 1\ny = 2;", 1, 6, "missing `;`"),
        ("x = 1 y = 2;", 1, 7, "expected `;` before `y`"),
        ("x = (1;", 1, 7, "expected"),
        ("x = 1 +;", 1, 8, "unexpected `;`"),
        ('x = "abc;', 1, 5, "unterminated string"),
        ("x = 1 $ 2;", 1, 7, 'unexpected character "$"'),
        ("tokens", 1, 7, "missing `;`"),
        ("def f() { x = 1; }", 1, 18, "expected `return`"),
        ("and = 3;", 1, 1, "keyword"),
        ("def select(a) { return a; }", 1, 5, "keyword"),
    ],
)
def test_syntax_errors_have_positions(source, line, column, fragment):
    statements = parse_program(source, "bad.rasp")
    errors = [s.error for s in statements if isinstance(s, ast.SyntaxErrorStmt)]
    assert errors, statements
    error = errors[0]
    assert isinstance(error, RaspSyntaxError)
    assert (error.span.line, error.span.column) == (line, column), str(error)
    assert fragment in error.message


def test_a_syntax_error_does_not_swallow_later_statements():
    statements = parse_program("a = 1;\nb = (2;\nc = 3;\n")
    assert [type(s).__name__ for s in statements] == ["Assign", "SyntaxErrorStmt", "Assign"]


def test_missing_semicolon_before_def_is_reported_at_the_statement_end():
    statements = parse_program("x = 1\ndef f() { return 1; }\n")
    assert isinstance(statements[0], ast.SyntaxErrorStmt)
    assert (statements[0].error.span.line, statements[0].error.span.column) == (1, 6)
    assert isinstance(statements[1], ast.Def)


def test_is_complete():
    assert is_complete("x = 1;")
    assert is_complete("# only a comment")
    assert is_complete("set example [1,")  # a command is one line
    assert not is_complete("x = (1,\n2")
    assert not is_complete("def f() {\n x = 1;")
    assert is_complete("def f() {\n x = 1; return x;\n}")
    assert not is_complete("for x in {1: 2} {")
    assert not is_complete("x = 1")


def test_split_statements_handles_dict_before_for_body():
    source = "for x in {1: 2} { y = x; } z = 1;"
    chunks = split_statements(source)
    assert [source[c.start:c.end] for c in chunks] == ["for x in {1: 2} { y = x; }", "z = 1;"]


def test_parse_expression_with_offset():
    expr = parse_expression("a + b", "cmd", line=3, column=10)
    assert isinstance(expr, ast.Binary)
    assert (expr.right.span.line, expr.right.span.column) == (3, 14)


def test_deep_nesting_parses():
    source = "(" * 300 + "1" + ")" * 300 + ";"
    assert value_of(fresh_session(stdlib=False), source) == 1
