"""check(): Fastly's envelope, error bodies, rate-limit headers → the right Verdict."""

from __future__ import annotations

import json

import pytest

from querylang.errors import ProviderError
from querylang.wire import NativeRequest, NativeResponse
from querylang_providers.fastly import FastlyProvider

NOW = 1_795_132_800.0
REQUEST = NativeRequest(
    provider="fastly",
    method="GET",
    url="https://api.fastly.com/stats/aggregate?from=1&to=2&by=hour",
    headers=(("Fastly-Key", "s3cr3t"), ("Accept", "application/json")),
    secret_headers=("Fastly-Key",),
)
OK_BODY = {"status": "success", "meta": {}, "msg": None, "data": []}


def check(status: int, payload: object, headers: dict[str, str] | None = None):
    content = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    response = NativeResponse(status=status, headers=headers or {}, content=content)
    return FastlyProvider(clock=lambda: NOW).check(REQUEST, response)


def error_of(verdict) -> ProviderError:
    assert isinstance(verdict.error, ProviderError)
    text = verdict.error.render()
    assert "s3cr3t" not in text
    assert "fastly" in text
    return verdict.error


def test_success_envelope_is_ok_without_pause() -> None:
    verdict = check(200, OK_BODY, {"Fastly-RateLimit-Remaining": "999"})
    assert verdict.kind == "ok" and verdict.pause is None


def test_error_envelope_in_a_200_fails_with_msg() -> None:
    verdict = check(200, {"status": "error", "meta": None, "msg": "Invalid region 'mars'"})
    assert verdict.kind == "fail"
    error = error_of(verdict)
    assert error.code == "P400"
    assert "status 'error'" in error.message and "Invalid region 'mars'" in error.message
    assert "usa" in (error.hint or "")


def test_400_envelope_fails_with_msg_and_detail() -> None:
    verdict = check(400, {"status": "error", "msg": "Bad request", "detail": "'to' too early"})
    assert verdict.kind == "fail"
    error = error_of(verdict)
    assert error.code == "P400" and error.status == 400
    assert "Bad request: 'to' too early" in error.message


def test_401_reauthorises_then_names_the_token() -> None:
    verdict = check(401, {"msg": "Provided credentials are missing or invalid"})
    assert verdict.kind == "reauth"
    error = error_of(verdict)
    assert error.code == "P401"
    assert "Provided credentials are missing or invalid" in error.message
    assert "FASTLY_API_TOKEN" in (error.hint or "") and "global:read" in (error.hint or "")


def test_403_fails() -> None:
    verdict = check(403, {"msg": "Forbidden", "detail": "token lacks global:read"})
    assert verdict.kind == "fail" and error_of(verdict).code == "P403"
    assert "Forbidden: token lacks global:read" in verdict.error.message


def test_404_unknown_service_hints_at_the_ids() -> None:
    verdict = check(404, {"msg": "Record not found", "detail": "Cannot find service 'x'"})
    assert verdict.kind == "fail"
    error = error_of(verdict)
    assert "Cannot find service 'x'" in error.message and "service IDs" in (error.hint or "")


def test_429_retries_after_retry_after() -> None:
    verdict = check(429, {"msg": "Too many requests"}, {"Retry-After": "17"})
    assert verdict.kind == "retry" and verdict.delay == 17.0
    assert error_of(verdict).code == "P429"


def test_429_without_retry_after_waits_for_the_reset() -> None:
    headers = {"Fastly-RateLimit-Remaining": "0", "Fastly-RateLimit-Reset": str(int(NOW) + 42)}
    verdict = check(429, {"msg": "Too many requests"}, headers)
    assert verdict.kind == "retry" and verdict.delay == 42.0


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retried(status: int) -> None:
    verdict = check(status, {"msg": "Internal Server Error"})
    assert verdict.kind == "retry" and error_of(verdict).code == "P500"


def test_remaining_zero_pauses_until_reset() -> None:
    headers = {"Fastly-RateLimit-Remaining": "0", "Fastly-RateLimit-Reset": str(int(NOW) + 300)}
    verdict = check(200, OK_BODY, headers)
    assert verdict.kind == "ok" and verdict.pause == 300.0


@pytest.mark.parametrize(
    ("reset", "pause"), [(str(int(NOW) - 5), 0.0), (str(int(NOW) + 99999), 3600.0), ("soon", None)]
)
def test_pause_is_clamped_and_tolerates_bad_headers(reset: str, pause: float | None) -> None:
    headers = {"Fastly-RateLimit-Remaining": "0", "Fastly-RateLimit-Reset": reset}
    assert check(200, OK_BODY, headers).pause == pause


def test_non_json_2xx_is_left_to_decode() -> None:
    assert check(200, b"<html>").kind == "ok"


def test_non_json_error_body_is_quoted() -> None:
    verdict = check(502, b"Bad Gateway")
    assert "Bad Gateway" in error_of(verdict).message
