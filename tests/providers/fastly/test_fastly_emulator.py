"""The Fastly emulator: paths, validation (vendor-shaped errors), retention, data shapes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from querylang.timegrid import parse_ts
from querylang_providers.fastly.catalog import REGIONS
from querylang_providers.fastly.emulator import SERVICES, FastlyEmulator

NOW = parse_ts("2026-11-20T00:00:00Z")
DAY, HOUR = 86400, 3600
A = "6ElZZvtumbwtLBDJvFwepx"


def get(path: str, *, token: str | None = "t", emulator: FastlyEmulator | None = None, **params):
    emu = emulator or FastlyEmulator(lambda: NOW + 30)
    headers = {"Fastly-Key": token} if token is not None else {}
    request = httpx.Request("GET", f"https://api.fastly.com{path}", params=params, headers=headers)
    return emu.handle(request)


def ok(path: str, **params: Any) -> Any:
    response = get(path, **params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success" and body["msg"] is None
    return body


def bad(path: str, status: int = 400, **params: Any) -> str:
    response = get(path, **params)
    assert response.status_code == status, response.text
    body = response.json()
    if status == 400:
        assert body["status"] == "error" and body["data"] is None
    return body["msg"]


@pytest.mark.parametrize("token", [None, "", "invalid"])
def test_missing_or_revoked_token_is_401(token: str | None) -> None:
    response = get("/stats/aggregate", token=token)
    assert response.status_code == 401
    assert response.json() == {"msg": "Provided credentials are missing or invalid"}


def test_unknown_path_and_service_are_404() -> None:
    assert bad("/stats/nothing", 404) == "Record not found"
    response = get(f"/stats/service/nope?from={NOW - DAY}&to={NOW}&by=hour")
    assert response.status_code == 404
    assert response.json()["detail"] == "Cannot find service 'nope'"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "1 day ago"}, "UNIX timestamps only"),
        ({"from": str(NOW - DAY), "to": "now"}, "UNIX timestamps only"),
        ({"by": "week"}, "Invalid 'by' value 'week'"),
        ({"region": "mars"}, "Invalid region 'mars'"),
        ({"from": str(NOW), "to": str(NOW - HOUR), "by": "hour"}, "'to' must be later"),
        ({"from": str(NOW - 36 * DAY), "to": str(NOW - 35 * DAY), "by": "minute"}, "35 days"),
        ({"from": str(NOW - 376 * DAY), "to": str(NOW - 370 * DAY), "by": "hour"}, "375 days"),
        ({"from": str(NOW - DAY - 60), "to": str(NOW), "by": "minute"}, "exceedingly large"),
        ({"from": str(NOW - 32 * DAY), "to": str(NOW), "by": "hour"}, "exceedingly large"),
        ({"from": str(NOW - 367 * DAY), "to": str(NOW), "by": "day"}, "exceedingly large"),
    ],
)
def test_bad_parameters_get_the_error_envelope(params: dict[str, str], message: str) -> None:
    assert message in bad("/stats/aggregate", **params)


def test_unknown_field_is_refused() -> None:
    assert "Unknown field 'nope'" in bad("/stats/field/nope", by="hour")


def test_limits_are_inclusive_and_old_day_data_is_kept() -> None:
    ok("/stats/aggregate", **{"from": str(NOW - DAY), "to": str(NOW), "by": "minute"})
    ok("/stats/aggregate", **{"from": str(NOW - 31 * DAY), "to": str(NOW), "by": "hour"})
    ok("/stats/aggregate", **{"from": str(NOW - 5 * 365 * DAY), "to": str(NOW - 4 * 365 * DAY)})


def test_from_inclusive_to_exclusive_and_only_finished_buckets() -> None:
    body = ok("/stats/aggregate", **{"from": str(NOW - 3 * HOUR), "to": str(NOW), "by": "hour"})
    starts = [int(r["start_time"]) for r in body["data"]]
    assert starts == [NOW - 3 * HOUR, NOW - 2 * HOUR, NOW - HOUR]
    body = ok("/stats/aggregate", **{"from": str(NOW - 3 * HOUR + 1), "to": str(NOW + DAY)})
    assert body["data"] == []  # by day: today's bucket is not finished
    body = ok(
        "/stats/aggregate", **{"from": str(NOW - 2 * HOUR + 1), "to": str(NOW + HOUR), "by": "hour"}
    )
    assert [int(r["start_time"]) for r in body["data"]] == [NOW - HOUR]


def test_defaults_follow_the_document() -> None:
    body = ok("/stats/aggregate")
    assert body["meta"]["by"] == "day" and body["meta"]["region"] == "all"
    # now is 30 s past midnight: "from" is 30 s into the first bucket, which is skipped
    assert len(body["data"]) == 29
    assert body["meta"]["to"] == "Fri Nov 20 00:00:30 UTC 2026"
    assert body["meta"]["from"] == "Wed Oct 21 00:00:30 UTC 2026"
    assert len(ok("/stats/aggregate", by="hour")["data"]) == 23
    assert len(ok("/stats/aggregate", by="minute")["data"]) == 29


def test_full_records_are_strings_with_the_examples_spellings() -> None:
    body = ok("/stats", **{"from": str(NOW - DAY), "to": str(NOW), "by": "day"})
    assert set(body["data"]) == set(SERVICES)
    record = body["data"][A][0]
    assert record["service_id"] == A and record["start_time"] == str(NOW - DAY)
    assert {"logging", "img_opto", "edge_requests"} <= set(record)
    assert not {"log", "imgopto"} & set(record)
    assert all(isinstance(v, str) for v in record.values())
    hits, miss = int(record["hits"]), int(record["miss"])
    assert record["hit_ratio"] == f"{hits / (hits + miss):.4f}"
    parts = ("hits", "miss", "pass", "errors")
    assert int(record["requests"]) == sum(int(record[p]) for p in parts)
    assert float(record["hits_time"]) > 0


def test_field_endpoints_answer_one_field() -> None:
    window = {"from": str(NOW - 2 * HOUR), "to": str(NOW), "by": "hour"}
    body = ok("/stats/field/log", **window)
    assert set(body["data"][A][0]) == {"service_id", "start_time", "log"}
    body = ok(f"/stats/service/{A}/field/logging", **window)
    assert set(body["data"][0]) == {"service_id", "start_time", "logging"}


def test_regions_and_usage() -> None:
    assert ok("/stats/regions")["data"] == list(REGIONS)
    usage = ok("/stats/usage", **{"from": str(NOW - 2 * DAY), "to": str(NOW)})["data"]
    assert set(usage) == set(REGIONS)
    assert set(usage["usa"]) == {"requests", "bandwidth"}
    assert int(usage["usa"]["requests"]) > 0


def _total(path: str, field: str, **params: Any) -> int:
    data = ok(path, **params)["data"]
    records = [r for rs in data.values() for r in rs] if isinstance(data, dict) else data
    return sum(int(r[field]) for r in records)


def test_data_adds_up_across_grains_regions_and_services() -> None:
    start = NOW - DAY
    day = _total("/stats/aggregate", "requests", **{"from": str(start), "to": str(NOW)})
    hours = _total(
        "/stats/aggregate", "requests", **{"from": str(start), "to": str(NOW), "by": "hour"}
    )
    minutes = _total(
        "/stats/aggregate", "requests", **{"from": str(start), "to": str(NOW), "by": "minute"}
    )
    assert day == hours == minutes > 0
    window = {"from": str(start), "to": str(NOW), "by": "hour"}
    per_region = sum(_total("/stats/aggregate", "bandwidth", region=r, **window) for r in REGIONS)
    assert per_region == _total("/stats/aggregate", "bandwidth", **window)
    assert _total("/stats/field/bandwidth", "bandwidth", **window) == per_region
    per_service = sum(_total(f"/stats/service/{s}", "bandwidth", **window) for s in SERVICES)
    assert per_service == per_region


def test_rate_limit_headers_and_429() -> None:
    emulator = FastlyEmulator(lambda: NOW + 30, rate_limit=2)
    first = get("/stats/regions", emulator=emulator)
    assert first.headers["Fastly-RateLimit-Remaining"] == "1"
    assert first.headers["Fastly-RateLimit-Reset"] == str(NOW + HOUR)
    assert get("/stats/regions", emulator=emulator).headers["Fastly-RateLimit-Remaining"] == "0"
    third = get("/stats/regions", emulator=emulator)
    assert third.status_code == 429
    assert third.headers["Retry-After"] == str(HOUR - 30)


# -- expected(): the emulator's own data agrees with its HTTP answers -------------------------
@pytest.mark.parametrize(
    ("by", "step", "start", "end"),
    [
        ("minute", 60, NOW - 3600, NOW + 600),  # runs past now: unfinished buckets absent
        ("hour", HOUR, NOW - 2 * DAY, NOW),
        ("day", DAY, NOW - 10 * DAY, NOW),
    ],
)
@pytest.mark.parametrize("field", ["requests", "resp_body_bytes", "hits_time", "log"])
def test_expected_matches_the_http_answer(by, step, start, end, field) -> None:
    emulator = FastlyEmulator(lambda: NOW + 30)
    window = {"by": by, "from": str(start), "to": str(end)}
    everything = ok("/stats/aggregate", **window)["data"]
    spelt = {"log": "logging"}.get(field, field)  # full records use the old spelling
    answered = {int(r["start_time"]): float(r[spelt]) for r in everything}
    assert emulator.expected("stats", field, start, end, step) == answered
    region = REGIONS[1]
    one = ok(f"/stats/service/{A}/field/{field}", region=region, **window)["data"]
    answered = {int(r["start_time"]): float(r[field]) for r in one}
    where = {"service": [A], "region": [region]}
    truth = emulator.expected("stats", field, start, end, step, where)
    assert truth == answered and len(truth) >= 3
    assert all(t + step <= NOW + 30 for t in truth)


def test_expected_refuses_what_it_cannot_answer() -> None:
    with pytest.raises(ValueError, match="not a counter"):
        FastlyEmulator(lambda: NOW).expected("stats", "hit_ratio", NOW - DAY, NOW, HOUR)
