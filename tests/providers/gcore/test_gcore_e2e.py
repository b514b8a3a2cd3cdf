"""Gcore CDN end to end through a loopback server: every combination of groupings."""

from __future__ import annotations

import itertools

import pytest

import querylang
from tests.conftest import NOW_TEXT

GROUPS = ("resource", "region", "country", "vhost", "client_country", "protocol")
COMBOS = [c for n in range(4) for c in itertools.combinations(GROUPS, n)]


@pytest.fixture(scope="module")
def server():
    from querylang.emulation import serve
    from querylang.plugins import registry
    from querylang.timegrid import parse_ts

    provider = registry().get("gcore")
    with serve(provider.emulator(lambda: float(parse_ts(NOW_TEXT)))) as srv:
        yield srv


def _run(server, text: str):
    env = {"GCORE_API_KEY": "k", "QUERYLANG_GCORE_BASE_URL": server.url}
    return querylang.run(text, now=NOW_TEXT, env=env)[0]


@pytest.mark.parametrize("groups", COMBOS, ids=["-".join(c) or "none" for c in COMBOS])
def test_any_grouping_decodes_and_adds_up(server, groups: tuple[str, ...]) -> None:
    by = f"BY {', '.join(groups)} " if groups else ""
    result = _run(server, f"SELECT sent_bytes, requests {by}FROM gcore EVERY 1d LAST 2d")
    total = _run(server, "SELECT sent_bytes, requests FROM gcore EVERY 1d LAST 2d")
    assert result.frame.columns == ["time", *groups, "sent_bytes", "requests"]
    assert result.frame.duplicate_keys(list(groups)) == 0
    for metric in ("sent_bytes", "requests"):
        assert result.frame.metrics[metric].sum() == total.frame.metrics[metric].sum()


def test_rebucketed_days_equal_native_days(server) -> None:
    hourly = _run(server, "SELECT sent_bytes, cache_hit_requests_ratio AS r BY region FROM gcore "
                          "EVERY 1d BETWEEN '2026-11-10' AND '2026-11-12'")  # fmt: skip
    via_hours = _run(server, "SELECT sent_bytes, requests, responses_hit BY region FROM gcore "
                             "EVERY 1h BETWEEN '2026-11-10' AND '2026-11-12'")  # fmt: skip
    assert len(hourly.frame) == 2 * 7 and len(via_hours.frame) == 48 * 7
    assert hourly.frame.metrics["sent_bytes"].sum() == via_hours.frame.metrics["sent_bytes"].sum()
    weekly = _run(server, "SELECT sent_bytes, cache_hit_requests_ratio AS r FROM gcore "
                          "EVERY 1w BETWEEN '2026-11-02' AND '2026-11-16'")  # fmt: skip
    daily = _run(server, "SELECT sent_bytes, responses_hit, requests FROM gcore "
                         "EVERY 1d BETWEEN '2026-11-02' AND '2026-11-16'")  # fmt: skip
    first_week = daily.frame.take(daily.frame.time < daily.frame.time[0] + 7 * 86400)
    assert weekly.frame.metrics["sent_bytes"][0] == first_week.metrics["sent_bytes"].sum()
    hits, reqs = first_week.metrics["responses_hit"].sum(), first_week.metrics["requests"].sum()
    assert weekly.frame.metrics["r"][0] == pytest.approx(hits / reqs)


def test_request_time_is_merged_back_from_its_own_request(server) -> None:
    result = _run(server, "SELECT sent_bytes, request_time, upstream_response_time BY resource "
                          "FROM gcore EVERY 1h LAST 3h")  # fmt: skip
    assert len(result.plan.requests) == 3
    assert len(result.frame) == 3 * 3
    assert not any(v != v for col in result.frame.metrics.values() for v in col)  # no NaN


def test_one_minute_data_inside_the_last_month(server) -> None:
    result = _run(server, "SELECT requests FROM gcore EVERY 1m LAST 30m")
    assert len(result.frame) == 30
    assert result.plan.grain == querylang_grain("1m")


def querylang_grain(text: str):
    from querylang.timegrid import Granularity

    return Granularity.parse(text)
