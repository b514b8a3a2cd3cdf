"""Gcore CDN: each compile rule gives its exact wire request."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import querylang
from tests.conftest import NOW_TEXT

GOLDEN = Path(__file__).parent / "golden" / "compile.json"
ENV = {"GCORE_API_KEY": "secret-token-xyz"}


def _requests(text: str) -> list[dict]:
    plans = querylang.explain(text, now=NOW_TEXT, env=ENV)
    return [r.to_json() for p in plans for r in p.requests]


CASES = json.loads(GOLDEN.read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_compile_golden(case: dict) -> None:
    got = _requests(case["query"])
    assert [r["url"] for r in got] == case["urls"]
    for r in got:
        assert r["method"] == "GET"
        assert r["headers"]["Authorization"] == "***"
        assert r["body"] is None


def test_auth_header_is_sent_but_never_shown() -> None:
    plan = querylang.explain("SELECT sent_bytes FROM gcore LAST 1d", now=NOW_TEXT, env=ENV)[0]
    request = plan.requests[0]
    assert ("Authorization", "APIKey secret-token-xyz") in request.headers
    assert "secret-token-xyz" not in json.dumps(request.to_json())
    assert "secret-token-xyz" not in request.describe()


def test_explain_needs_no_credentials() -> None:
    plan = querylang.explain("SELECT sent_bytes FROM gcore LAST 1d", now=NOW_TEXT, env={})[0]
    assert plan.requests[0].to_json()["headers"]["Authorization"] == "***"
