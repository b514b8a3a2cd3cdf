"""Gcore CDN: each compile rule gives its exact wire request."""

from __future__ import annotations

import json

import querylang
from querylang.testing import golden
from tests.conftest import NOW_TEXT
from tests.providers.kit import golden_file

ENV = {"GCORE_API_KEY": "secret-token-xyz"}

test_compile_golden = golden.golden_test(golden_file("gcore"))


def test_auth_header_is_sent_but_never_shown() -> None:
    plan = querylang.explain("SELECT sent_bytes FROM gcore LAST 1d", now=NOW_TEXT, env=ENV)[0]
    request = plan.requests[0]
    assert ("Authorization", "APIKey secret-token-xyz") in request.headers
    assert "secret-token-xyz" not in json.dumps(request.to_json())
    assert "secret-token-xyz" not in request.describe()


def test_explain_needs_no_credentials() -> None:
    plan = querylang.explain("SELECT sent_bytes FROM gcore LAST 1d", now=NOW_TEXT, env={})[0]
    assert plan.requests[0].to_json()["headers"]["Authorization"] == "***"
