"""One failure table: a kind decides the code, the retry and the wording for every provider."""

from __future__ import annotations

import pytest

from querylang.failures import TABLE, Failure, FailureKind, kind_of_status, malformed
from querylang.wire import NativeRequest

REQUEST = NativeRequest(
    provider="acme", method="GET", url="https://api.example.test/stats?x=1", metrics=("hits",)
)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (200, None),
        (204, None),
        (401, FailureKind.AUTH),
        (403, FailureKind.FORBIDDEN),
        (404, FailureKind.NOT_FOUND),
        (400, FailureKind.BAD_REQUEST),
        (422, FailureKind.BAD_REQUEST),
        (429, FailureKind.RATE_LIMITED),
        (500, FailureKind.UNAVAILABLE),
        (503, FailureKind.UNAVAILABLE),
    ],
)
def test_status_alone_names_a_kind(status: int, kind: FailureKind | None) -> None:
    assert kind_of_status(status) is kind


@pytest.mark.parametrize(
    ("kind", "code", "verdict", "retryable"),
    [
        (FailureKind.AUTH, "P401", "reauth", False),
        (FailureKind.FORBIDDEN, "P403", "fail", False),
        (FailureKind.RATE_LIMITED, "P429", "retry", True),
        (FailureKind.UNAVAILABLE, "P500", "retry", True),
        (FailureKind.BAD_REQUEST, "P400", "fail", False),
        (FailureKind.NOT_FOUND, "P400", "fail", False),
        (FailureKind.MALFORMED, "P600", "fail", False),
    ],
)
def test_the_table_decides_code_retry_and_wording(
    kind: FailureKind, code: str, verdict: str, retryable: bool
) -> None:
    status = {FailureKind.AUTH: 401, FailureKind.RATE_LIMITED: 429}.get(kind, 400)
    v = Failure(kind=kind, said="vendor words", delay=1.5).verdict("acme", REQUEST, status)
    assert v.kind == verdict
    assert v.error is not None
    assert v.error.code == code
    assert v.error.retryable is retryable
    assert f"(HTTP {status})" in v.error.message
    assert v.error.message.endswith(": vendor words")
    assert v.error.hint == TABLE[kind].hint  # no hint of the provider's: the table's default
    assert v.delay == (1.5 if verdict == "retry" else None)


def test_a_provider_hint_and_wording_override_the_defaults() -> None:
    f = Failure(
        kind=FailureKind.AUTH,
        credential="token",
        where="code 401 in an HTTP 200 answer",
        hint="set ACME_TOKEN",
    )
    err = f.error("acme", REQUEST, 200)
    assert err.message == "the API rejected the token (code 401 in an HTTP 200 answer)"
    assert err.hint == "set ACME_TOKEN"
    assert err.request == REQUEST.describe()


def test_every_kind_is_in_the_table() -> None:
    assert set(TABLE) == set(FailureKind)


def test_the_one_malformed_error() -> None:
    err = malformed("acme", REQUEST, "no 'data' key", status=200)
    assert (err.code, err.status) == ("P600", 200)
    assert err.message == "the response could not be read: no 'data' key"
