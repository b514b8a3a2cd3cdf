"""Syntax errors in words: what was expected, where, and a likely fix; per-statement parsing."""

from __future__ import annotations

import pytest

from querylang import ir
from querylang.errors import QueryError
from querylang.syntax import parse, parse_each, scan

CASES = [
    # (text, code, text pointed at, words in the message, words in the hint)
    ("SELECT a FORM gcore LAST 1d", "E100", "FORM", "expected ALIGN, AS, BETWEEN, BY", "did you mean FROM?"),
    ("SELECT a FROM x WHERE r = 'eu LAST 1d", "E100", "'", "this string is not closed", "'it''s'"),
    ("SELECT a FROM x WHERE r = #", "E100", "#", "expected '(', a $parameter", "comments start with --"),
    ("SELECT a FROM x WHERE r < 1", "E100", "<", "expected IN, NOT, '!=' or '='", "= or != only"),
    ("SELECT * FROM x", "E100", "*", "expected a name", "there is no *"),
    ("SELECT a FROM x WHERE r = 1 OR s = 2", "E100", "OR", "unexpected 'OR'", "joined with AND"),
    ("SELECT a FROM x WHERE r = 'a' OR s = 2", "E100", "OR", "unexpected 'OR'", "joined with AND"),
    ("SELECT a, FROM x", "E100", "FROM", "unexpected keyword FROM", "must not end with a comma"),
    ("SELECT a; FROM x", "E100", "FROM", "expected PARAM, QUERY, SELECT", "a statement starts with"),
    ("PARAM x = 1", "E100", "x", "expected a $parameter", "start with $"),
    ("QUERY q SELECT a FROM x", "E100", "SELECT", "expected AS", "QUERY name AS SELECT"),
    ("SELECT a FROM x LAST 1d SELECT b FROM x", "E100", "SELECT", "unexpected keyword SELECT", "separated by ';'"),
    ("SELECT a FROM x WHERE r IN 'eu'", "E100", "'eu'", "unexpected string 'eu'", "parenthesised list"),
    ("SELECT a FROM x LAST", "E101", "", "ends too early; expected a $parameter or a duration", "LAST needs"),
    ("SELECT a FROM x LAST 1d FILL 0", "E100", "0", "unexpected '0'", "write FILL ZERO, not FILL 0"),
    ("SELECT a FROM x LAST 1d FILL(0)", "E100", "(", "unexpected '('", "write FILL ZERO, not FILL 0"),
    ("SELECT a FROM x LAST 1d FILL", "E101", "", "ends too early; expected a name", "FILL takes NULL, ZERO"),
    ("SELECT a FROM x WHERE;", "E101", ";", "ends too early; expected a name", "finish the statement"),
    ("SELECT a FROM x LAST 1d LAST 2d", "E102", "LAST 2d", "given twice", "at most once"),
    ("SELECT a FROM x LAST 0d", "E103", "0d", "not positive", "at least one unit"),
    ("SELECT a FROM x LAST 99999999999d", "E103", "99999999999d", "longer than 1000 years", "365d"),
    ("SELECT a FROM x WHERE r = 1" + "0" * 5000, "E103", "1" + "0" * 5000, "too large", "digits"),
    ("SELECT a FROM x WHERE r = 1" + "0" * 400 + ".5", "E103", "1" + "0" * 400 + ".5", "too large", "digits"),
    ("SELECT a LAST 1d", "E104", "SELECT a LAST 1d", "no FROM clause", "FROM gcore"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "code", "pointed", "message", "hint"), CASES)
def test_syntax_errors(text: str, code: str, pointed: str, message: str, hint: str) -> None:
    with pytest.raises(QueryError) as info:
        parse(text, "q.qry")
    error = info.value
    assert error.code == code
    assert text[error.span.start : error.span.end] == pointed
    assert message in error.message
    assert hint in (error.hint or "")
    rendered = error.render()
    assert rendered.startswith(f"q.qry:{error.span.line}:{error.span.column}: error[{code}]")
    assert "^" in rendered


def test_a_statement_ending_early_points_after_its_last_token_not_a_comment() -> None:
    text = "SELECT a\nFROM x\nLAST -- how long?\n\n"
    with pytest.raises(QueryError) as info:
        parse(text)
    assert (info.value.span.line, info.value.span.column) == (3, 5)


def test_parse_each_reports_every_broken_statement_with_file_positions() -> None:
    text = "SELECT a FROM x LAST 1d;\nSELECT b FORM y;\n-- note; not a separator\nSELECT 'c';\nPARAM $p = 1;\n@"
    items = parse_each(text, "f.qry")
    kinds = [type(i).__name__ if not isinstance(i, QueryError) else i.code for i in items]
    assert kinds == ["Query", "E100", "E100", "ParamDecl", "E100"]
    positions = [(i.span.line, i.span.column) for i in items if isinstance(i, QueryError)]
    assert positions == [(2, 10), (4, 8), (6, 1)]
    assert all(i.render().startswith("f.qry:") for i in items if isinstance(i, QueryError))


def test_parse_each_gives_the_same_ir_and_spans_as_parse() -> None:
    text = (
        "PARAM $w = 7d;\nQUERY q AS SELECT a, b AS c BY d FROM x.y\n  WHERE e IN (1, 'f') LAST $w;;"
    )
    whole = parse(text)
    each = parse_each(text)
    assert tuple(each) == whole.statements
    assert [s.span for s in each] == [s.span for s in whole.statements]
    assert each[1].where[0].value.items[1].span == whole.queries[0].where[0].value.items[1].span


def test_scan_finds_comments_and_stray_characters() -> None:
    text = "SELECT a -- one; two\nFROM x # three\nLAST 1d; -- four"
    result = scan(text)
    assert [str(c) for c in result.comments] == ["-- one; two", "-- four"]
    assert [text[i] for i in result.stray] == ["#"]
    assert [t.type for t in result.tokens].count("_SEMI") == 1


def test_semicolons_inside_strings_do_not_split() -> None:
    text = "SELECT a FROM x WHERE r = 'a;b' LAST 1d; SELECT b FROM x LAST 1d"
    items = parse_each(text)
    assert len(items) == 2
    assert items[0].where[0].value == ir.Literal(value="a;b")
