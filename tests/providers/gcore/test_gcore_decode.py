"""Gcore CDN: decoding the document's example, empty answers, and error statuses."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from querylang.errors import ProviderError
from querylang.plugins import registry
from querylang.timegrid import Granularity, TimeWindow
from querylang.wire import NativeQuery, NativeRequest, NativeResponse

FIXTURES = Path(__file__).parent / "fixtures"
PROVIDER = registry().get("gcore")
METRICS = ("sent_bytes", "total_bytes", "backblaze_bytes", "upstream_bytes")


def _query(group_by: tuple[str, ...]) -> NativeQuery:
    return NativeQuery(
        dataset="cdn",
        metrics=METRICS,
        group_by=group_by,
        filters=(),
        granularity=Granularity(1, "d"),
        window=TimeWindow(1543622400, 1543708800),
    )


def _request(metrics: tuple[str, ...] = METRICS) -> NativeRequest:
    return NativeRequest(
        provider="gcore",
        method="GET",
        url="https://api.gcore.com/cdn/statistics/series?service=CDN",
        metrics=metrics,
        headers=(("Authorization", "APIKey k"),),
        secret_headers=("Authorization",),
    )


def _response(status: int, body: bytes = b"") -> NativeResponse:
    return NativeResponse(status=status, headers={}, content=body)


def test_decodes_the_documents_example() -> None:
    body = (FIXTURES / "series_example.json").read_bytes()
    frame = PROVIDER.decode(_query(("resource", "region")), _request(), _response(200, body))
    rows = {(r[1], r[2]): r for r in frame.rows()}
    assert len(frame) == 7
    assert rows[(1, "asia")] == (1543622400, 1, "asia", 17329220573.0, 17384617989.0,
                                 17384617989.0, 55397416.0)  # fmt: skip
    assert rows[(1, "na")][3] == 234004049506.0
    resource_4777 = rows[(4777, "au")]
    assert resource_4777[3] == 490800672.0
    assert all(math.isnan(v) for v in resource_4777[4:])  # metrics the answer does not hold


def test_ungrouped_answer_is_just_metrics() -> None:
    body = json.dumps({"metrics": {"sent_bytes": [[1543622400, 5], [1543626000, 7]]}}).encode()
    frame = PROVIDER.decode(_query(()), _request(("sent_bytes",)), _response(200, body))
    assert list(frame.rows()) == [(1543622400, 5.0), (1543626000, 7.0)]


def test_three_levels_of_grouping() -> None:
    body = {
        "resource": {"7": {"region": {"eu": {"country": {"France": {"metrics": {
            "sent_bytes": [[1543622400, 11]]}}}}}}}
    }  # fmt: skip
    frame = PROVIDER.decode(
        _query(("resource", "region", "country")),
        _request(("sent_bytes",)),
        _response(200, json.dumps(body).encode()),
    )
    assert list(frame.rows()) == [(1543622400, 7, "eu", "France", 11.0)]


def test_204_is_an_empty_frame() -> None:
    frame = PROVIDER.decode(_query(("region",)), _request(), _response(204))
    assert len(frame) == 0
    assert frame.columns == ["time", "region", *METRICS]


@pytest.mark.parametrize(
    "body",
    [b"[1, 2]", b'{"metrics": {"sent_bytes": 5}}', b'{"region": []}', b"not json"],
)
def test_malformed_bodies_raise_value_errors(body: bytes) -> None:
    with pytest.raises(ValueError):
        PROVIDER.decode(_query(("region",)), _request(), _response(200, body))


@pytest.mark.parametrize(
    ("status", "kind", "code", "words"),
    [
        (400, "fail", "P400", "refused the request"),
        (401, "reauth", "P401", "GCORE_API_KEY"),
        (403, "fail", "P403", "access denied"),
        (429, "retry", "P429", "rate limited"),
        (500, "retry", "P500", "HTTP 500"),
        (503, "retry", "P500", "HTTP 503"),
    ],
)
def test_error_statuses(status: int, kind: str, code: str, words: str) -> None:
    body = json.dumps({"message": "Required parameter is missing."}).encode()
    verdict = PROVIDER.check(_request(), _response(status, body))
    assert verdict.kind == kind
    assert isinstance(verdict.error, ProviderError)
    assert verdict.error.code == code
    text = verdict.error.render()
    assert words in text
    assert "APIKey k" not in text
    assert "gcore" in text


def test_retry_after_is_honoured() -> None:
    verdict = PROVIDER.check(
        _request(), NativeResponse(status=429, headers={"Retry-After": "7"}, content=b"")
    )
    assert verdict.kind == "retry"
    assert verdict.delay == 7.0
