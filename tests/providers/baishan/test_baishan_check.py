"""check(): the code envelope, HTTP statuses and rate-limit headers → verdicts."""

from __future__ import annotations

import pytest

from querylang.errors import ProviderError
from tests.providers.kit import BAISHAN as kit
from tests.providers.kit import response

SPEC = {"metrics": ["bandwidth"], "granularity": "5m",
        "window": ["2026-11-19T00:00:00Z", "2026-11-20T00:00:00Z"]}  # fmt: skip
OK = {"code": 0, "data": []}
LIMITS = {"X-Ratelimit-Grad": "minute", "X-Ratelimit-Limit": "300"}


def _request():
    (request,) = kit.provider().compile(kit.native_query(SPEC), kit.context())
    return request


def _check(body, status: int = 200, **headers: str):
    return kit.provider().check(_request(), response(body, status, headers))


def _error(verdict) -> ProviderError:
    assert isinstance(verdict.error, ProviderError)
    text = verdict.error.render()
    assert kit.token not in text
    return verdict.error


def test_success_with_quota_left_is_plain_ok() -> None:
    verdict = _check(OK, **LIMITS, **{"X-Ratelimit-Remaining": "99", "X-Retry-After": "21"})
    assert (verdict.kind, verdict.pause) == ("ok", None)


def test_success_without_rate_headers_is_ok() -> None:
    assert _check(OK).kind == "ok"


@pytest.mark.parametrize("remaining", ["0", "3"])
def test_exhausted_quota_pauses_until_the_reset(remaining: str) -> None:
    verdict = _check(OK, **{"X-Ratelimit-Remaining": remaining, "X-Retry-After": "21"})
    assert (verdict.kind, verdict.pause) == ("ok", 21)


def test_exhausted_quota_without_retry_after_waits_for_the_next_minute() -> None:
    headers = {"X-Ratelimit-Remaining": "0", "Date": "Fri, 20 Nov 2026 00:00:45 GMT"}
    assert _check(OK, **headers).pause == 15
    assert _check(OK, **{"X-Ratelimit-Remaining": "0"}).pause == 60


def test_quota_above_the_reserve_does_not_pause() -> None:
    assert _check(OK, **{"X-Ratelimit-Remaining": "4", "X-Retry-After": "21"}).pause is None


def test_http_429_is_retried_after_x_retry_after() -> None:
    verdict = _check({"code": 429, "message": "too many requests"}, 429, **{"X-Retry-After": "7"})
    assert (verdict.kind, verdict.delay) == ("retry", 7.0)
    error = _error(verdict)
    assert error.code == "P429" and "too many requests" in error.message


def test_code_429_inside_a_200_is_retried_too() -> None:
    verdict = _check({"code": 429, "msg": "slow down"}, 200, **{"X-Retry-After": "2"})
    assert (verdict.kind, verdict.delay) == ("retry", 2.0)
    error = _error(verdict)
    assert error.code == "P429"
    assert "(code 429 in an HTTP 200 answer)" in error.message
    assert error.message.endswith(": slow down")


@pytest.mark.parametrize(
    ("status", "body", "kind", "code", "words"),
    [
        (401, {"code": 401, "msg": "invalid token"}, "fail", "P401", "rejected the token"),
        (200, {"code": 401, "message": "invalid token"}, "fail", "P401", "rejected the token"),
        (403, {"code": 403, "message": "no access"}, "fail", "P403", "access denied"),
        (400, {"code": 400, "message": "bad domains"}, "fail", "P400", "refused the request"),
        (200, {"code": 400, "message": "bad domains"}, "fail", "P400", "refused the request"),
        (404, {"code": 404, "message": "not found"}, "fail", "P400", "does not know this URL"),
        (500, {"code": 500, "message": "boom"}, "retry", "P500", "failed"),
        (502, b"<html>bad gateway</html>", "retry", "P500", "failed"),
        (200, {"code": 503, "msg": "busy"}, "retry", "P500", "failed"),
        (200, {"code": "400", "message": "as a string"}, "fail", "P400", "refused"),
    ],
)
def test_errors(status: int, body, kind: str, code: str, words: str) -> None:
    verdict = _check(body, status)
    assert verdict.kind == kind
    error = _error(verdict)
    assert error.code == code
    assert words in error.message
    assert error.request is not None and "token=***" in error.request


def test_vendor_message_is_quoted_from_message_or_msg() -> None:
    assert "bad domains" in _error(_check({"code": 400, "message": "bad domains"}, 400)).message
    assert "bad time" in _error(_check({"code": 400, "msg": "bad time"}, 400)).message


def test_404_hint_names_the_base_url_setting() -> None:
    error = _error(_check({"code": 404, "message": "nope"}, 404))
    assert error.hint is not None and "QUERYLANG_BAISHAN_BASE_URL" in error.hint


def test_401_hint_names_the_credential() -> None:
    error = _error(_check({"code": 401, "msg": "invalid token"}, 401))
    assert error.hint is not None and "BAISHAN_API_TOKEN" in error.hint


def test_token_echoed_by_the_vendor_is_scrubbed() -> None:
    body = {"code": 401, "msg": f"token {kit.token} is not valid"}
    error = _error(_check(body, 401))
    assert "token *** is not valid" in error.message


def test_success_body_that_is_not_json_is_left_to_decode() -> None:
    assert _check(b"not json").kind == "ok"


@pytest.mark.parametrize("status", [500, 503])
def test_a_5xx_is_retried_with_back_off_not_after_the_minute_reset(status: int) -> None:
    # X-Retry-After is the rate-limit minute reset; waiting 45 s before each 5xx retry made
    # a 503 burst take over a minute (issue 19).
    verdict = _check({"code": status, "message": "busy"}, status, **{"X-Retry-After": "45"})
    assert verdict.kind == "retry"
    assert verdict.delay is None
    assert _error(verdict).code == "P500"
