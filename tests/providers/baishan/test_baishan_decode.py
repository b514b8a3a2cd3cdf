"""Decode tests on the vendor document's own examples and on the per-domain shape."""

from __future__ import annotations

import json
import math

import pytest

from querylang.wire import NativeQuery
from tests.providers.kit import BAISHAN as kit
from tests.providers.kit import response


def _decode(spec: dict, body: bytes | dict, settings: dict | None = None):
    query = kit.native_query(spec)
    requests = kit.provider().compile(query, kit.context(settings=settings))
    assert not hasattr(requests, "reason"), requests
    return [kit.provider().decode(query, r, response(body)) for r in requests]


def test_seed_sample_response() -> None:
    spec = {"metrics": ["bandwidth"], "granularity": "5m",
            "window": ["2017-08-20T16:00:00Z", "2017-08-20T17:00:00Z"]}  # fmt: skip
    (frame,) = _decode(spec, kit.fixture("bandwidth_sample.json"))
    assert list(frame.dims) == [] and list(frame.metrics) == ["bandwidth"]
    assert list(frame.rows()) == [(1503244800, 208706182.29)]


def test_empty_data_is_zero_over_the_window() -> None:
    # Issue 19: zero points are omitted, so "data": [] is an all-zero piece, not no data.
    spec = {"metrics": ["traffic"], "group_by": ["ip_protocol"], "granularity": "1h",
            "window": ["2026-11-19T00:00:00Z", "2026-11-20T00:00:00Z"]}  # fmt: skip
    start = 1_795_046_400  # 2026-11-19T00:00:00Z
    for frame, protocol in zip(
        _decode(spec, {"code": 0, "data": []}), ["ipv4", "ipv6"], strict=True
    ):
        assert list(frame.dims) == ["ip_protocol"] and list(frame.metrics) == ["traffic"]
        assert list(frame.rows()) == [(start + 3600 * h, protocol, 0.0) for h in range(24)]


def test_null_data_is_a_malformed_answer() -> None:
    spec = {"metrics": ["traffic"], "granularity": "1h",
            "window": ["2026-11-19T00:00:00Z", "2026-11-20T00:00:00Z"]}  # fmt: skip
    with pytest.raises(ValueError, match="null"):
        _decode(spec, {"code": 0, "data": None})


def test_protocol_fan_out_fills_the_column_from_the_tag() -> None:
    spec = {"metrics": ["traffic"], "group_by": ["ip_protocol"], "granularity": "5m",
            "window": ["2017-08-20T16:00:00Z", "2017-08-20T17:00:00Z"]}  # fmt: skip
    v4, v6 = _decode(spec, kit.fixture("bandwidth_sample.json"))
    assert list(v4.rows()) == [(1503244800, "ipv4", 208706182.29)]
    assert list(v6.rows()) == [(1503244800, "ipv6", 208706182.29)]


def test_each_domain_answer_in_any_order_and_idle_domains_as_zeros() -> None:
    spec = {"metrics": ["traffic"], "group_by": ["domain"], "granularity": "5m",
            "filters": [{"dimension": "domain", "op": "in",
                         "values": ["aa.qingcdn.com", "bb.qingcdn.com"]}],
            "window": ["2018-02-14T16:00:00Z", "2018-02-14T16:15:00Z"]}  # fmt: skip
    (frame,) = _decode(spec, kit.fixture("each_domain_sample.json"))
    rows = sorted(frame.rows())
    assert [r for r in rows if r[1] == "bb.qingcdn.com"] == [
        (1518540900, "bb.qingcdn.com", 16.0),
        (1518585000, "bb.qingcdn.com", 12.0),
        (1518585600, "bb.qingcdn.com", 434121.0),
        (1518623400, "bb.qingcdn.com", 364871.0),
    ]
    # "data": [] for a domain the API names: zeros over the window, so the domain shows up
    assert [r for r in rows if r[1] == "aa.qingcdn.com"] == [
        (1518624000, "aa.qingcdn.com", 0.0),
        (1518624300, "aa.qingcdn.com", 0.0),
        (1518624600, "aa.qingcdn.com", 0.0),
    ]


def test_days_from_hours_in_utc8() -> None:
    window = ["2026-11-20T00:00:00Z", "2026-11-22T00:00:00Z"]
    body = kit.fixture("each_domain_hourly.json")
    bw = {"metrics": ["bandwidth"], "group_by": ["domain"], "granularity": "1d", "window": window}
    (frame,) = _decode(bw, body)
    # bandwidth: the mean over the day's 24 hours, omitted hours counting as 0
    assert list(frame.rows()) == [
        (1795132800, "www.example.com", (2400 + 4800 + 1200) / 24),
        (1795219200, "www.example.com", (9600 + 24) / 24),
    ]
    tr = {"metrics": ["traffic"], "group_by": ["domain"], "granularity": "1d", "window": window}
    (frame,) = _decode(tr, body)
    assert list(frame.rows()) == [
        (1795132800, "www.example.com", 8400.0),
        (1795219200, "www.example.com", 9624.0),
    ]


def test_day_grain_in_utc_is_taken_as_is() -> None:
    window = ["2026-11-20T00:00:00Z", "2026-11-22T00:00:00Z"]
    spec = {"metrics": ["bandwidth"], "granularity": "1d", "window": window}
    body = {"code": 0, "data": [[1795132800, 350.5], [1795219200, "401"]]}
    (frame,) = _decode(spec, body, settings={"QUERYLANG_BAISHAN_TIMEZONE": "UTC"})
    assert list(frame.rows()) == [(1795132800, 350.5), (1795219200, 401.0)]


def test_null_value_is_nan() -> None:
    spec = {"metrics": ["bandwidth"], "granularity": "5m",
            "window": ["2017-08-20T16:00:00Z", "2017-08-20T17:00:00Z"]}  # fmt: skip
    (frame,) = _decode(spec, {"code": 0, "data": [[1503244800, None]]})
    assert math.isnan(frame.metrics["bandwidth"][0])


@pytest.mark.parametrize(
    ("group_by", "body"),
    [
        ((), b"<html>oops</html>"),
        ((), {"code": 0}),
        ((), ["not", "an", "object"]),
        ((), {"code": 0, "data": {"x": 1}}),
        ((), {"code": 0, "data": [[1503244800]]}),
        ((), {"code": 0, "data": [["soon", 1]]}),
        (("domain",), {"code": 0, "data": [[1503244800, 1]]}),
        (("domain",), {"code": 0, "data": {"a.com": [[1503244800, 1]]}}),
        (("domain",), {"code": 0, "data": {"a.com": {"data": {"t": 1}}}}),
    ],
)
def test_malformed_bodies_raise_value_error(group_by: tuple, body: bytes | dict) -> None:
    spec = {"metrics": ["bandwidth"], "group_by": list(group_by), "granularity": "5m",
            "window": ["2017-08-20T16:00:00Z", "2017-08-20T17:00:00Z"]}  # fmt: skip
    query: NativeQuery = kit.native_query(spec)
    (request,) = kit.provider().compile(query, kit.context())
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(ValueError):
        kit.provider().decode(query, request, response(raw))
