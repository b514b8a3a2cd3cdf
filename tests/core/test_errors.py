"""Every query-error class: its code, where the caret points, and the fix it suggests."""

from __future__ import annotations

import pytest

from querylang.engine import explain
from querylang.errors import CredentialsError, QueryError, UsageError
from tests.conftest import NOW_TEXT

CASES = [
    # (query, code, text pointed at, words in message or hint)
    ("SELEC sent_bytes FROM gcore LAST 1d", "E100", "SELEC", "did you mean SELECT"),
    ("SELECT sent_bytes FROM gcore LAST", "E101", "", "LAST needs a duration"),
    ("SELECT a FROM gcore LAST 1d LAST 2d", "E102", "LAST 2d", "at most once"),
    ("SELECT a FROM gcore EVERY 0h LAST 1d", "E103", "0h", "not positive"),
    ("SELECT a BY region LAST 1d", "E104", "SELECT a BY region LAST 1d", "FROM gcore"),
    ("SELECT sent_bytes FROM gcorr LAST 1d", "E200", "gcorr", "did you mean 'gcore'"),
    ("SELECT sent_bytes FROM gcore.storag LAST 1d", "E201", "storag", "gcore.storage"),
    ("SELECT sent_byte FROM gcore LAST 1d", "E202", "sent_byte", "did you mean 'sent_bytes'"),
    ("SELECT sent_bytes BY regon FROM gcore LAST 1d", "E203", "regon", "did you mean 'region'"),
    ("SELECT sent_bytes FROM gcore WHERE vhost = 'a' LAST 1d", "E205", "vhost", "BY vhost"),
    ("SELECT sent_bytes FROM gcore WHERE region = 'europe' LAST 1d", "E207", "'europe'", "one of"),
    ("SELECT sent_bytes FROM gcore WHERE resource = 'abc' LAST 1d", "E207", "'abc'", "whole numbers"),
    ("SELECT sent_bytes, requests AS sent_bytes FROM gcore LAST 1d", "E208", "requests AS sent_bytes", "AS"),
    ("SELECT requests AS state FROM gcore LAST 1d", "E208", "requests AS state", "every result has a state column"),
    ("SELECT requests AS time BY provider FROM gcore, fastly LAST 1d", "E208", "requests AS time", "every result has a time column"),
    ("SELECT sent_bytes AS region BY region FROM gcore LAST 1d", "E208", "region", "a metric and the BY dimension"),
    ("SELECT sent_bytes BY region, region FROM gcore LAST 1d", "E209", "region", "twice"),
    ("SELECT sent_bytes FROM gcore EVERY 1h", "E210", "SELECT sent_bytes FROM gcore EVERY 1h", "LAST 7d"),
    ("SELECT sent_bytes FROM gcore WHERE resource = $res LAST 1d", "E300", "$res", "--param res="),
    ("SELECT sent_bytes FROM gcore EVERY 90s LAST 1d", "E400", "90s", "multiple of"),
    ("SELECT sent_bytes FROM gcore LAST 400d", "E401", "LAST 400d", "start at"),
    ("SELECT sent_bytes FROM gcore EVERY 1m LAST 90d", "E402", "1m", "EVERY 5m"),
    ("SELECT sent_bytes FROM gcore EVERY 1h BETWEEN '2026-11-01T00:30:00Z' AND '2026-11-02'",
     "E403", "'2026-11-01T00:30:00Z'", "2026-11-01T00:00:00Z"),
    ("SELECT sent_bytes FROM gcore BETWEEN '2026-11-02' AND '2026-11-01'", "E404", "BETWEEN '2026-11-02' AND '2026-11-01'", "later"),
    ("SELECT sent_bytes FROM gcore BETWEEN 'yesterday' AND '2026-11-01'", "E103", "'yesterday'", "ISO 8601"),
    ("SELECT request_time FROM gcore WHERE region != 'cis' EVERY 1h LAST 1d", None, None, None),
    ("SELECT request_time FROM gcore WHERE resource NOT IN (1) EVERY 1h LAST 1d", "E406", "request_time", "BY resource"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "code", "pointed", "words"), CASES, ids=[c[1] or "ok" for c in CASES]
)
def test_query_errors(query: str, code: str | None, pointed: str | None, words: str | None) -> None:
    if code is None:
        explain(query, now=NOW_TEXT, env={})
        return
    with pytest.raises(QueryError) as info:
        explain(query, now=NOW_TEXT, env={}, path="q.qry")
    err = info.value
    assert err.code == code
    assert err.exit_code == 2
    text = err.render()
    assert text.startswith(f"q.qry:{err.span.line}:{err.span.column}: error[{code}]")
    if pointed:
        assert query[err.span.start : err.span.end] == pointed
        assert "^" * len(pointed.splitlines()[0]) in text
    assert words in text


def test_ill_typed_parameter_points_at_the_parameter() -> None:
    with pytest.raises(QueryError) as info:
        explain("SELECT sent_bytes FROM gcore EVERY $e LAST 1d", now=NOW_TEXT, env={},
                params={"e": "'often'"})  # fmt: skip
    err = info.value
    assert err.code == "E301"
    assert "$e" in err.message and "--param" in err.message and "duration" in err.message


def test_unknown_param_name() -> None:
    with pytest.raises(QueryError) as info:
        explain("SELECT sent_bytes FROM gcore WHERE resource = $res LAST 1d", now=NOW_TEXT,
                env={}, params={"rse": "1"})  # fmt: skip
    assert info.value.code == "E302"
    assert "did you mean 'res'" in info.value.render()


def test_param_defaults_and_overrides() -> None:
    text = "PARAM $w = 2d;\nSELECT sent_bytes FROM gcore WHERE resource IN $r EVERY 1d LAST $w"
    plan = explain(text, now=NOW_TEXT, env={}, params={"r": "(1, 2)"})[0]
    assert plan.bound.window.seconds == 2 * 86400
    assert plan.bound.filters[0].values == (1, 2)
    plan = explain(text, now=NOW_TEXT, env={}, params={"r": "1,2", "w": "3d"})[0]
    assert plan.bound.window.seconds == 3 * 86400


def test_credentials_error_is_exit_2() -> None:
    from querylang.engine import run

    with pytest.raises(CredentialsError) as info:
        run("SELECT sent_bytes FROM gcore LAST 1d", now=NOW_TEXT, env={})
    assert info.value.exit_code == 2
    assert "GCORE_API_KEY" in info.value.render()


def test_unknown_named_query() -> None:
    with pytest.raises(UsageError) as info:
        explain("QUERY a AS SELECT sent_bytes FROM gcore LAST 1d", now=NOW_TEXT, env={}, query="b")
    assert info.value.code == "E502"
