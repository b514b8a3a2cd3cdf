"""Mutated queries: whatever the text, only QueryError (or a result) comes out."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings

import querylang_providers.gcore
from querylang.checking import check_paths, check_text
from querylang.errors import QueryError
from querylang.formatting import fmt
from querylang.plugins import registry_of
from querylang.syntax import parse, parse_each
from tests.conftest import NOW
from tests.language.strategies import gcore_files, mutants, query_files

GCORE = registry_of(querylang_providers.gcore).providers
FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))


def _parse_or_error(text: str) -> object:
    try:
        return parse(text)
    except QueryError as exc:
        assert exc.code.startswith("E1"), exc.code
        assert exc.render()
        return exc


@FUZZ
@given(mutants(query_files(), 8))
def test_mutated_text_gives_only_query_errors(texts: list[str]) -> None:
    for text in texts:
        result = _parse_or_error(text)
        items = parse_each(text)
        if isinstance(result, QueryError):
            assert any(isinstance(i, QueryError) for i in items)
            continue
        assert not any(isinstance(i, QueryError) for i in items)
        assert parse(fmt(text)).queries == result.queries


@FUZZ
@given(mutants(gcore_files(), 4))
def test_mutated_gcore_files_check_without_crashing(texts: list[str]) -> None:
    for text in texts:
        for error in check_text(text, "f.qry", GCORE, now=NOW):
            assert error.code[0] == "E"
            assert error.render().startswith("f.qry")


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutants(gcore_files(), 3))
def test_check_paths_reports_and_never_raises(texts: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for i, text in enumerate(texts):
            Path(tmp, f"q{i}.qry").write_text(text, encoding="utf-8")
        for fmt_name in ("text", "json"):
            out = io.StringIO()
            code = check_paths([tmp], fmt=fmt_name, out=out, now=NOW, registry=GCORE)
            assert code in (0, 1)
            assert out.getvalue()


def test_far_future_timestamps_are_query_errors() -> None:
    text = "SELECT requests FROM gcore EVERY 1mo BETWEEN '9999-12-15' AND '9999-12-20';"
    assert [e.code for e in check_text(text, "f.qry", GCORE, now=NOW)] == ["E103"]
