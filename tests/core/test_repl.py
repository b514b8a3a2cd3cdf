"""REPL completion is a pure function; the session is tested without a terminal."""

from __future__ import annotations

import io

import pytest

from querylang.completion import complete
from querylang.plugins import registry
from querylang.repl import Session
from tests.conftest import NOW_TEXT

PROVIDERS = registry().providers


def texts(before: str, after: str = "") -> list[str]:
    return [s.text for s in complete(before, PROVIDERS, after)]


@pytest.mark.parametrize(
    ("before", "expected"),
    [
        ("", "SELECT"),
        ("sel", "SELECT"),
        ("SELECT sent_b", "sent_bytes"),
        ("SELECT sent_bytes FROM ", "gcore.storage"),
        ("SELECT sent_bytes BY reg", "region"),
        ("SELECT sent_bytes FROM gcore WHERE reg", "region"),
        ("SELECT sent_bytes FROM gcore WHERE region = ", "'eu'"),
        ("SELECT sent_bytes FROM gcore WHERE region IN ('eu', ", "'asia'"),
        ("SELECT sent_bytes FROM gcore EVERY ", "15m"),
        ("SELECT sent_bytes FROM gcore ", "WHERE"),
        ("SELECT a FROM x LAST 1d; SEL", "SELECT"),
    ],
)
def test_completion(before: str, expected: str) -> None:
    assert expected in texts(before)


def test_completion_knows_the_source_after_the_cursor() -> None:
    found = texts("SELECT ", after=" FROM gcore.storage EVERY 1d LAST 2d")
    assert "traffic" in found and "sent_bytes" not in found


def test_completion_replaces_the_partial_word() -> None:
    (s,) = complete("SELECT sent_byt", PROVIDERS)
    assert (s.text, s.replace, s.meta) == ("sent_bytes", 8, "bytes, counter")


def test_used_clauses_are_not_offered_again() -> None:
    found = texts("SELECT sent_bytes BY region FROM gcore LAST 1d ")
    assert "BY" not in found and "LAST" not in found and "EVERY" in found


def test_session_runs_queries_and_commands() -> None:
    session = Session(sandbox=True, now=NOW_TEXT)
    out, err = io.StringIO(), io.StringIO()
    assert session.handle(".format csv", out, err)
    assert session.handle("SELECT requests FROM gcore EVERY 1h LAST 2h", out, err)
    assert "time,requests,state\n2026-11-20T03:00:00Z," in out.getvalue()
    assert session.handle("SELECT nope FROM gcore LAST 1d", out, err)
    assert "E202" in err.getvalue()
    assert not session.handle(".quit", out, err)
