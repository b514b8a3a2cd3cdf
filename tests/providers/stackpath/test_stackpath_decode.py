"""Decode tests on the document's example shape (fixtures) and malformed answers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from querylang.timegrid import Granularity, TimeWindow, parse_ts
from querylang.wire import NativeQuery, NativeRequest, NativeResponse
from querylang_providers.stackpath import StackPathProvider
from querylang_providers.stackpath.catalog import METRIC_NAMES

FIXTURES = Path(__file__).parent / "fixtures"
PROVIDER = StackPathProvider()


def _decode(body: bytes, metrics: tuple[str, ...], group_by: tuple[str, ...] = (), grain="1d"):
    query = NativeQuery(
        dataset="cdn",
        metrics=metrics,
        group_by=group_by,
        filters=(),
        granularity=Granularity.parse(grain),
        window=TimeWindow(parse_ts("2018-11-01"), parse_ts("2018-12-01")),
    )
    request = NativeRequest(provider="stackpath", method="GET", url="http://x", metrics=metrics)
    response = NativeResponse(status=200, headers={}, content=body)
    return PROVIDER.decode(query, request, response)


def test_stackpath_decode_document_example_every_column() -> None:
    """The seed's example: one series keyed by the stack, daily samples, usageTime first."""
    frame = _decode((FIXTURES / "doc_example_p1d.json").read_bytes(), METRIC_NAMES)
    assert frame.time.tolist() == [1541030400, 1541116800, 1541203200]
    assert frame.dims == {}
    assert frame.metrics["xferUsedTotalMB"].tolist() == [4.6, 5.12, 3.9]
    assert frame.metrics["requestsCountTotal"].tolist() == [1210, 1377, 998]
    assert frame.metrics["xferRateMaxUsageTime"].tolist() == [1541066700, 1541160000, 1541239500]
    assert frame.metrics["rpsMinUsageTime"].tolist() == [1541030400, 1541116800, 1541203200]
    assert frame.metrics["lastUpdatedTime"].tolist() == [1541117100, 1541203500, 1541289900]
    assert frame.metrics["completionRatio"].tolist() == [0.997831, 1.0, 0.987]
    assert frame.metrics["peakToMeanRequestsRatio"].tolist() == [8.806416, 8.574934, 8.657259]
    assert list(frame.metrics) == list(METRIC_NAMES)


def test_stackpath_decode_selects_columns_by_name_and_keys_series_by_group() -> None:
    body = (FIXTURES / "grouped_by_site_pt1h.json").read_bytes()
    frame = _decode(
        body, ("requestsCountTotal", "rpsMaxUsageTime", "completionRatio"), ("site",), "1h"
    )
    rows = sorted(frame.rows(), key=lambda r: (r[0], r[1]))
    a, b = "4a9a7c2e-3f51-4c5e-9b8e-1d2c3b4a5f60", "8d1f0b6a-72c4-4e19-a0d3-5e6f7a8b9c01"
    assert rows[0] == (1795046400, a, 3000.0, 1795048200.0, 0.99)
    assert rows[1] == (1795046400, b, 90.0, 1795046700.0, 1.0)
    assert rows[2][:4] == (1795050000, a, 3100.0, 1795052100.0)
    assert math.isnan(rows[2][4])  # null stays "no value"


def test_stackpath_decode_millisecond_timestamps() -> None:
    body = (FIXTURES / "millis_pt5m.json").read_bytes()
    frame = _decode(body, ("xferUsedTotalMB", "xferRateMaxUsageTime", "lastUpdatedTime"), (), "5m")
    assert list(frame.rows()) == [
        (1795046400, 10.0, 1795046700.0, 1795049700.0),
        (1795046700, 11.0, 1795046700.0, 1795049700.0),
    ]


def test_stackpath_decode_metric_missing_from_answer_is_nan() -> None:
    body = (FIXTURES / "millis_pt5m.json").read_bytes()
    frame = _decode(body, ("xferUsedTotalMB", "rps"), (), "5m")
    assert frame.metrics["xferUsedTotalMB"].tolist() == [10.0, 11.0]
    assert all(math.isnan(v) for v in frame.metrics["rps"])


def test_stackpath_decode_no_data_is_an_empty_frame() -> None:
    frame = _decode(b'{"series": []}', ("xferUsedTotalMB",), ("pop",))
    assert len(frame) == 0 and list(frame.dims) == ["pop"]


@pytest.mark.parametrize("body", [b"", b"{}", b'{"series": null}'])
def test_stackpath_decode_empty_or_series_less_answer_is_an_error(body: bytes) -> None:
    # Issue 19: an undocumented empty answer must not drop the piece's buckets silently.
    with pytest.raises(ValueError, match=r"empty body|no 'series'"):
        _decode(body, ("xferUsedTotalMB",), ("pop",))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], "not a JSON object"),
        ({"series": {}}, "'series' is not a list"),
        ({"series": [{"metrics": ["xferUsedTotalMB"], "samples": []}]}, "no 'usageTime'"),
        (
            {
                "series": [
                    {"metrics": ["usageTime", "xferUsedTotalMB"], "samples": [{"values": [1]}]}
                ]
            },
            "does not match the 2 metrics",
        ),
        ({"series": [{"metrics": "usageTime", "samples": []}]}, "not a list of names"),
        (
            {"series": [{"metrics": ["usageTime", "rps"], "samples": [{"values": [1, "x"]}]}]},
            "could not convert",
        ),
    ],
)
def test_stackpath_decode_malformed_bodies_raise_value_error(payload, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _decode(json.dumps(payload).encode(), ("xferUsedTotalMB", "rps"))


def test_stackpath_decode_grouped_series_without_key_is_malformed() -> None:
    payload = {"series": [{"metrics": ["usageTime", "rps"], "samples": [{"values": [0, 1]}]}]}
    with pytest.raises(ValueError, match="has no key"):
        _decode(json.dumps(payload).encode(), ("rps",), ("site",))
