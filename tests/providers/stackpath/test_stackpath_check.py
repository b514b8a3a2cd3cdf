"""check(): gRPC-style error bodies and HTTP statuses → verdicts with clear messages."""

from __future__ import annotations

import json

import pytest

from querylang.wire import NativeRequest, NativeResponse
from querylang_providers.stackpath import StackPathProvider

PROVIDER = StackPathProvider()
REQUEST = NativeRequest(
    provider="stackpath",
    method="GET",
    url="https://gateway.stackpath.com/cdn/v1/stacks/demo/metrics?granularity=PT1H",
    headers=(("Authorization", "Bearer tok-SECRET"),),
    secret_headers=("Authorization",),
)


def _response(status: int, body: object, headers: dict[str, str] | None = None) -> NativeResponse:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return NativeResponse(status=status, headers=headers or {}, content=content)


def _rpc(code: int, message: str, details: list | None = None) -> dict:
    return {"code": code, "message": message, "details": details or []}


@pytest.mark.parametrize(
    ("status", "code", "kind", "error_code", "words"),
    [
        (400, 3, "fail", "P400", "refused the request"),
        (404, 5, "fail", "P400", "not found"),
        (403, 7, "fail", "P403", "access denied"),
        (429, 8, "retry", "P429", "rate limited"),
        (503, 14, "retry", "P500", "unavailable"),
        (500, 13, "retry", "P500", "unavailable"),
        (401, 16, "reauth", "P401", "rejected the access token"),
    ],
)
def test_stackpath_check_grpc_codes(status, code, kind, error_code, words) -> None:
    verdict = PROVIDER.check(REQUEST, _response(status, _rpc(code, "vendor words")))
    assert verdict.kind == kind
    error = verdict.error
    assert error is not None and error.code == error_code  # type: ignore[attr-defined]
    text = error.render()  # type: ignore[attr-defined]
    assert words in text and "vendor words" in text and f"HTTP {status}" in text
    assert "tok-SECRET" not in text


def test_stackpath_check_grpc_code_decides_over_http_status() -> None:
    """A 200 carrying an error body is an error; code 8 behind a 400 is still a retry."""
    assert PROVIDER.check(REQUEST, _response(200, _rpc(16, "expired"))).kind == "reauth"
    assert PROVIDER.check(REQUEST, _response(400, _rpc(8, "slow down"))).kind == "retry"


def test_stackpath_check_rate_limit_honours_retry_after() -> None:
    verdict = PROVIDER.check(REQUEST, _response(429, _rpc(8, "quota"), {"Retry-After": "7"}))
    assert verdict.kind == "retry" and verdict.delay == 7.0


def test_stackpath_check_bad_request_names_field_violations() -> None:
    details = [
        {
            "@type": "stackpath.rpc.BadRequest",
            "fieldViolations": [{"field": "granularity", "description": "must be PT5M…"}],
        }
    ]
    verdict = PROVIDER.check(REQUEST, _response(400, _rpc(3, "invalid request", details)))
    assert verdict.kind == "fail"
    assert "granularity: must be PT5M" in verdict.error.render()  # type: ignore[union-attr]
    assert "filter values" in verdict.error.render()  # type: ignore[union-attr]


def test_stackpath_check_not_found_points_at_the_stack_setting() -> None:
    verdict = PROVIDER.check(REQUEST, _response(404, _rpc(5, "stack not found")))
    assert "STACKPATH_STACK_ID" in verdict.error.render()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("status", "body", "kind", "error_code"),
    [
        (200, {"series": []}, "ok", None),
        (200, {"series": [{"key": "x", "code": 3}]}, "ok", None),
        (401, b"", "reauth", "P401"),
        (502, b"<html>bad gateway</html>", "retry", "P500"),
        (429, b"", "retry", "P429"),
        (403, {"error": "nope"}, "fail", "P403"),
        (418, _rpc(2, "unknown code"), "fail", "P400"),
        (503, _rpc(2, "unknown code"), "retry", "P500"),
    ],
)
def test_stackpath_check_falls_back_to_http_status(status, body, kind, error_code) -> None:
    verdict = PROVIDER.check(REQUEST, _response(status, body))
    assert verdict.kind == kind
    if error_code:
        assert verdict.error.code == error_code  # type: ignore[union-attr]


def test_stackpath_check_uses_vendor_message_for_plain_statuses() -> None:
    verdict = PROVIDER.check(REQUEST, _response(418, _rpc(2, "teapot says no")))
    assert "teapot says no" in verdict.error.render()  # type: ignore[union-attr]
