"""Gcore CDN emulator: the document's validation rules, and agreement across grains."""

from __future__ import annotations

import httpx
import pytest

from querylang.plugins import registry
from querylang.timegrid import parse_ts
from tests.conftest import NOW

EMULATOR = registry().get("gcore").emulator(lambda: float(NOW))
BASE = "https://api.gcore.com/cdn/statistics/series"
OK = {"service": "CDN", "from": "2026-11-19T00:00:00Z", "to": "2026-11-19T23:00:00Z",
      "granularity": "1h", "metrics": "sent_bytes"}  # fmt: skip


def _get(params: dict | list, token: str = "APIKey k") -> httpx.Response:
    request = httpx.Request("GET", BASE, params=params, headers={"Authorization": token})
    return EMULATOR.handle(request)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"service": "DNS"}, "service"),
        ({"granularity": "2h"}, "granularity"),
        ({"metrics": "sent_byte"}, "unknown metrics"),
        ({"from": "2025-01-01T00:00:00Z"}, "365 days"),
        ({"granularity": "1m", "from": "2026-10-01T00:00:00Z"}, "1 month"),
        ({"from": "yesterday"}, "ISO 8601"),
    ],
)
def test_validation(change: dict, words: str) -> None:
    response = _get({**OK, **change})
    assert response.status_code == 400
    assert words in response.json()["message"]


def test_time_metrics_must_be_requested_apart() -> None:
    response = _get([*OK.items(), ("metrics", "request_time")])
    assert response.status_code == 400


def test_auth() -> None:
    assert _get(OK, token="").status_code == 401
    assert _get(OK, token="Bearer k").status_code == 401
    assert _get(OK, token="APIKey invalid").status_code == 401


def test_no_data_is_204() -> None:
    response = _get({**OK, "resource": "999"})
    assert response.status_code == 204
    assert response.content == b""


def test_coarse_buckets_are_sums_of_fine_ones() -> None:
    day = {**OK, "from": "2026-11-19T00:00:00Z", "to": "2026-11-19T23:59:00Z"}
    hourly = _get({**day, "granularity": "1h"}).json()["metrics"]["sent_bytes"]
    daily = _get({**day, "granularity": "1d"}).json()["metrics"]["sent_bytes"]
    assert len(hourly) == 24
    assert daily[0][1] == sum(v for _, v in hourly)


def test_no_bucket_after_now() -> None:
    response = _get({**OK, "from": "2026-11-20T00:00:00Z", "to": "2026-11-21T00:00:00Z"})
    points = response.json()["metrics"]["sent_bytes"]
    assert max(t for t, _ in points) + 3600 <= NOW


# -- expected(): the emulator's own data agrees with its HTTP answers -------------------------
@pytest.mark.parametrize(
    ("grain", "step", "start", "end", "extra", "where"),
    [
        ("1h", 3600, "2026-11-19T00:00:00Z", "2026-11-19T23:00:00Z", {}, None),
        ("5m", 300, "2026-11-20T03:00:00Z", "2026-11-20T06:00:00Z", {"regions": "eu"},
         {"region": ["eu"]}),  # runs past now: the unfinished buckets are absent
        ("1d", 86400, "2026-11-10T00:00:00Z", "2026-11-19T00:00:00Z",
         {"resource": "2", "countries": "Japan"}, {"resource": ["2"], "country": ["Japan"]}),
    ],
)  # fmt: skip
@pytest.mark.parametrize("metric", ["sent_bytes", "requests", "total_bytes"])
def test_expected_matches_the_http_answer(grain, step, start, end, extra, where, metric) -> None:
    params = {**OK, "from": start, "to": end, "granularity": grain, "metrics": metric, **extra}
    response = _get(params)
    assert response.status_code == 200, response.text
    answered = {t: float(v) for t, v in response.json()["metrics"][metric]}
    first, last = parse_ts(start), parse_ts(end)
    truth = EMULATOR.expected("cdn", metric, first, last + 1, step, where)
    assert truth == answered
    assert all(t + step <= NOW for t in truth)
    assert len(truth) >= 3


def test_expected_refuses_what_it_cannot_answer() -> None:
    with pytest.raises(ValueError, match="not a counter"):
        EMULATOR.expected("cdn", "cache_hit_traffic_ratio", NOW - 7200, NOW, 3600)
    with pytest.raises(ValueError, match="no dataset"):
        EMULATOR.expected("logs", "sent_bytes", NOW - 7200, NOW, 3600)
