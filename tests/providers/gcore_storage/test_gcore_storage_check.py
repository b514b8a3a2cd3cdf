"""check() tests (through the provider and the core failure table): the storage API's statuses and its ``{"error": …}`` body."""

from __future__ import annotations

import pytest

from querylang.errors import ProviderError
from querylang.hookspecs import Verdict
from querylang.wire import NativeRequest
from querylang_providers.gcore.wire import storage
from tests.providers.kit import GCORE_STORAGE as kit
from tests.providers.kit import response

QUERY = {"metrics": ["traffic"], "window": ["2026-11-19T00:00:00Z", "2026-11-20T00:00:00Z"]}


def request() -> NativeRequest:
    (req,) = kit.provider().compile(kit.native_query(QUERY), kit.context())
    return req


def error_of(verdict: Verdict) -> ProviderError:
    assert isinstance(verdict.error, ProviderError)
    assert kit.token not in verdict.error.render()
    return verdict.error


def test_storage_check_turns_the_error_body_into_a_p400() -> None:
    verdict = kit.provider().check(request(), response(kit.fixture("seed_error.json"), 400))
    assert verdict.kind == "fail"
    error = error_of(verdict)
    assert error.code == "P400"
    assert error.status == 400
    assert "Gcore object storage refused the request (HTTP 400): invalid granularity: 2h" in (
        error.message
    )
    assert "location/storage" in (error.hint or "")
    assert error.request == "POST https://api.gcore.com/storage/stats/v1/storage/usage/series"


def test_storage_check_rejects_an_error_body_inside_a_200() -> None:
    verdict = kit.provider().check(request(), response({"error": "internal mismatch"}))
    assert verdict.kind == "fail"
    assert "internal mismatch" in error_of(verdict).message


@pytest.mark.parametrize(
    ("status", "kind", "code"),
    [
        (200, "ok", None),
        (401, "reauth", "P401"),
        (403, "fail", "P403"),
        (429, "retry", "P429"),
        (500, "retry", "P500"),
        (503, "retry", "P500"),
    ],
)
def test_storage_check_keeps_the_default_for_other_statuses(
    status: int, kind: str, code: str | None
) -> None:
    body = kit.fixture("seed_empty.json") if status == 200 else b'{"message": "nope"}'
    verdict = kit.provider().check(request(), response(body, status))
    assert verdict.kind == kind
    if code:
        assert error_of(verdict).code == code


def test_the_provider_reports_the_vendor_words_of_a_400() -> None:
    verdict = kit.provider().check(request(), response(kit.fixture("seed_error.json"), 400))
    assert verdict.kind == "fail"
    error = error_of(verdict)
    assert error.code == "P400"
    assert "invalid granularity: 2h" in error.message


def test_error_message_reads_only_the_error_field() -> None:
    assert storage.error_message(response({"error": " bad dates "}, 400)) == "bad dates"
    assert storage.error_message(response(b"not json", 400)) is None
    assert storage.error_message(response({"data": {}})) is None
