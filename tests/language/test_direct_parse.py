"""The parse that builds IR in the parser's reductions gives what the tree's walk gives.

The tree path (Lark's tree with its position tracking, then ``_ToIR``'s walk) is the
reference: both are run on the same texts and compared field by field, spans included
(spans take no part in the IR's ``==``, so the comparison is of ``attrs.asdict``).
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from querylang import syntax
from querylang.errors import QueryError
from querylang.parser import UnexpectedInput, parser, without_bom
from tests.language.strategies import mutants, query_files

ROOT = Path(__file__).resolve().parents[2]


def _tree_path(text: str) -> list[object]:
    return syntax._ToIR().transform(parser().parse(without_bom(text)))  # type: ignore[no-any-return]


def _direct_path(text: str) -> list[object]:
    return syntax._direct()(without_bom(text)).value  # type: ignore[no-any-return]


def _fields(statements: list[object]) -> list[object]:
    return [attrs.asdict(s, recurse=True) for s in statements]


def _same_or_both_fail(text: str) -> None:
    try:
        expected = _fields(_tree_path(text))
    except (UnexpectedInput, QueryError, RecursionError):
        with pytest.raises((UnexpectedInput, QueryError, RecursionError, syntax._TooDeep)):
            _direct_path(text)
        return
    try:
        got = _fields(_direct_path(text))
    except syntax._TooDeep:  # the tree path has its own check, not run here
        return
    assert got == expected


def _example_texts() -> list[Path]:
    found = sorted(ROOT.glob("examples/**/*.qry")) + sorted(ROOT.glob("tests/**/*.qry"))
    return [p for p in found if p.is_file()]


@pytest.mark.parametrize("path", _example_texts(), ids=lambda p: p.name)
def test_every_example_file_parses_the_same_spans_included(path: Path) -> None:
    _same_or_both_fail(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "text",
    [
        "",
        ";;",
        "SELECT a FROM x",
        "SELECT a AS b, c FROM x.y, z BY r, s WHERE r IN (1, (2, 'x'), $p) AND s != 'a'"
        " EVERY 1h LAST 7d FILL zero TZ 'Europe/Paris' ALIGN TO START;",
        "PARAM $p = (1, 2); QUERY q AS SELECT a FROM x BETWEEN '2024-01-01' AND $e;;",
        "SELECT a FROM x SINCE $s EVERY $e -- a comment\n;\n",
        "\ufeffSELECT a FROM x WHERE r = ((((1))))",
        "SELECT a FROM x WHERE r NOT IN $list",
    ],
)
def test_hand_written_texts_parse_the_same_spans_included(text: str) -> None:
    _same_or_both_fail(text)


@settings(max_examples=150, deadline=None)
@given(query_files())
def test_random_files_parse_the_same_spans_included(text: str) -> None:
    _same_or_both_fail(text)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_random_mistakes_fail_on_both_paths(data: st.DataObject) -> None:
    for text in data.draw(mutants(query_files(), 3)):
        _same_or_both_fail(text)


def test_a_mistake_is_reported_as_the_tree_path_reports_it() -> None:
    """Errors always come from the tree path: a later syntax error wins over a bad FILL."""
    with pytest.raises(QueryError) as caught:
        syntax.parse("SELECT a FROM x FILL bogus EVERY")
    assert caught.value.code == "E101"
    with pytest.raises(QueryError) as caught:
        syntax.parse("SELECT a FROM x WHERE r IN " + "(" * 40 + "1" + ")" * 40)
    assert caught.value.code == "E103"
