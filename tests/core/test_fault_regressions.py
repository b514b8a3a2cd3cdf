"""Regression tests for robustness faults: each asserts the behaviour a user sees."""

from __future__ import annotations

import gc

import pytest

from querylang import syntax, syntax_errors
from querylang.errors import QueryError, QuerylangError, QuerySyntaxError
from querylang.provider import parse_retry_after
from querylang.timegrid import Granularity, parse_duration, parse_ts

# 2015-10-21T07:28:00Z is 1445412480 UNIX seconds (16729 days * 86400 + 7h28m).
OCT_21_2015 = 1_445_412_480


def test_retry_after_http_date_is_seconds_from_now() -> None:
    header = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert parse_retry_after(header, now=OCT_21_2015 - 120) == 120.0
    assert parse_retry_after(header, now=OCT_21_2015 + 3600) == 0.0  # past: never negative
    assert parse_retry_after(header) == 0.0  # long past by the real clock


def test_retry_after_delta_seconds_and_garbage() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after("-5") is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def _tb_length(exc: BaseException) -> int:
    count, tb = 0, exc.__traceback__
    while tb is not None:
        count, tb = count + 1, tb.tb_next
    return count


def test_syntax_errors_do_not_grow_cached_exceptions() -> None:
    with pytest.raises(QuerySyntaxError) as first:
        syntax.parse("SELECT a, FROM x")
    assert first.value.hint == "a list must not end with a comma"
    cached = list(syntax_errors._example_errors().values())
    assert all(_tb_length(exc) == 0 for exc in cached)
    gc.collect()
    before = len(gc.get_objects())
    for _ in range(2000):
        with pytest.raises(QuerySyntaxError):
            syntax.parse("SELECT a, FROM x")
    gc.collect()
    assert all(_tb_length(exc) == 0 for exc in cached)
    assert all(exc.__context__ is None for exc in cached)
    assert len(gc.get_objects()) - before < 2000  # not one or more objects kept per error


@pytest.mark.parametrize("depth", [33, 5000, 50_000])
def test_deeply_nested_parentheses_are_a_query_error(depth: int) -> None:
    text = "SELECT requests FROM gcore WHERE resource IN " + "(" * depth + "1" + ")" * depth
    with pytest.raises(QuerySyntaxError) as info:
        syntax.parse(text + " LAST 1d")
    assert info.value.code == "E103"
    assert "nested" in info.value.message
    assert info.value.span.line == 1


def test_shallow_nesting_still_parses() -> None:
    (query,) = syntax.parse("SELECT a FROM x WHERE r IN (1, 2) LAST 1d").queries
    assert len(query.where) == 1


@pytest.mark.parametrize("text", ["99999999d", "9999999999999mo", "9" * 40 + "s", "52561w"])
def test_over_long_duration_text_is_e103(text: str) -> None:
    # 1000 years of 366 days are 52285 weeks: 52561w is beyond; so is each other value.
    with pytest.raises(QueryError) as info:
        parse_duration(text)
    assert info.value.code == "E103"
    assert "longer than 1000 years" in info.value.message
    # the same literal in a query gives the same code and wording
    with pytest.raises(QuerySyntaxError) as literal:
        syntax.parse(f"SELECT a FROM x LAST {text}")
    assert literal.value.code == "E103"
    assert "longer than 1000 years" in literal.value.message


def test_durations_within_bound_still_parse() -> None:
    assert parse_duration("365d") == Granularity(365, "d")
    assert parse_duration("007h") == Granularity(7, "h")
    with pytest.raises(ValueError):
        parse_duration("0d")
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_over_long_duration_parameter_via_api() -> None:
    import querylang

    text = "SELECT requests FROM gcore LAST $w"
    with pytest.raises(QueryError) as info:
        querylang.explain(text, now="2026-11-20T00:00:00Z", params={"w": "99999999d"})
    assert info.value.code == "E103"
    assert "longer than 1000 years" in info.value.message


@pytest.mark.parametrize("digits", [400, 309, 310, 4300, 5000])
def test_huge_number_literal_is_e103_with_position(digits: int) -> None:
    text = "SELECT a FROM x WHERE r = " + "9" * digits + " LAST 1d"
    with pytest.raises(QuerySyntaxError) as info:
        syntax.parse(text)
    assert info.value.code == "E103"
    assert "too large" in info.value.message
    assert (info.value.span.line, info.value.span.column) == (1, 27)


def test_large_but_float_sized_number_parses() -> None:
    (query,) = syntax.parse("SELECT a FROM x WHERE r = " + "9" * 300 + " LAST 1d").queries
    assert query.where[0].value.value == int("9" * 300)


@pytest.mark.parametrize(
    "text", ["0001-01-01", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-01:00", "1969-12-31"]
)
def test_out_of_range_timestamp_is_a_project_error(text: str) -> None:
    with pytest.raises(QuerylangError) as info:
        parse_ts(text)
    assert info.value.code == "E103"
    assert "outside the years 1970 to 8999" in info.value.message


def test_in_range_timestamps_still_parse() -> None:
    assert parse_ts("1970-01-01") == 0
    assert parse_ts("2015-10-21T07:28:00Z") == OCT_21_2015
    assert parse_ts("2015-10-21 08:28:00+01:00") == OCT_21_2015
    with pytest.raises(ValueError):
        parse_ts("yesterday")


@pytest.mark.parametrize("now", ["0001-01-01", "9999-12-31T23:59:59Z"])
def test_out_of_range_now_in_cli_is_a_clean_error(now: str, capsys: pytest.CaptureFixture) -> None:
    from querylang.cli import main

    code = main(["run", "--sandbox", "--no-progress", "--now", now, "-e",
                 "SELECT requests FROM gcore LAST 1d"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert "error[E103]" in err and "outside the years 1970 to 8999" in err
    assert "E999" not in err


def test_out_of_range_between_in_cli_is_a_clean_error(capsys: pytest.CaptureFixture) -> None:
    from querylang.cli import main

    code = main(["run", "--sandbox", "--no-progress", "--now", "2026-01-01", "-e",
                 "SELECT requests FROM gcore BETWEEN '0001-01-01' AND '2026-01-01'"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert "error[E103]" in err and "E999" not in err
