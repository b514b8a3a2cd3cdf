"""The emulator: vendor-shaped validation and auth errors, and self-consistent data."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest

from querylang.timegrid import format_ts, parse_ts
from querylang_providers.stackpath.catalog import METRIC_NAMES, TIME_COLUMN
from querylang_providers.stackpath.emulator import SITES, StackPathEmulator

NOW = parse_ts("2026-11-20T00:00:00Z")
BASE = "http://sp.test"
DAY_PARAMS = "start_date=2026-11-18T00:00:00Z&end_date=2026-11-19T00:00:00Z"


def _token(emulator: StackPathEmulator) -> str:
    response = emulator.handle(
        httpx.Request(
            "POST",
            f"{BASE}/identity/v1/oauth2/token",
            json={"grant_type": "client_credentials", "client_id": "a", "client_secret": "b"},
        )
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == emulator.ttl
    return body["access_token"]


def _get(emulator: StackPathEmulator, query: str, *, stack: str = "demo", token: str | None = None):
    token = token if token is not None else _token(emulator)
    return emulator.handle(
        httpx.Request(
            "GET",
            f"{BASE}/cdn/v1/stacks/{stack}/metrics?{query}",
            headers={"Authorization": f"Bearer {token}"} if token else {},
        )
    )


def _rows(body: dict[str, Any]) -> dict[str, list[dict[str, float]]]:
    """series key → rows as {column: value}."""
    return {
        s["key"]: [
            dict(zip(s["metrics"], sample["values"], strict=True)) for sample in s["samples"]
        ]
        for s in body["series"]
    }


@pytest.fixture
def emulator() -> StackPathEmulator:
    return StackPathEmulator(lambda: NOW)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (f"{DAY_PARAMS}&platform=CDE", "platform"),  # the document's wrong name
        ("start_date=2026-11-18&end_date=2026-11-19T00:00:00Z", "start_date"),
        ("start_date=2026-11-18T00:00:00Z&end_date=2026-11-19T00:00:00.000Z", "end_date"),
        ("start_date=2026-11-18T00:00:00Z&end_date=2026-11-21T00:00:00Z", "end_date"),  # future
        ("start_date=2026-11-19T00:00:00Z&end_date=2026-11-18T00:00:00Z", "end_date"),
        (f"{DAY_PARAMS}&granularity=PT15M", "granularity"),
        (f"{DAY_PARAMS}&platforms=CDE,XYZ", "platforms"),
        (f"{DAY_PARAMS}&platforms=CDE,", "platforms"),
        (f"{DAY_PARAMS}&group_by=COUNTRY", "group_by"),
        (f"{DAY_PARAMS}&site_type_filter=ANY", "site_type_filter"),
    ],
)
def test_stackpath_emulator_rejects_bad_params_like_the_vendor(emulator, query, field) -> None:
    response = _get(emulator, query)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 3 and body["message"]
    assert body["details"][0]["fieldViolations"][0]["field"] == field


def test_stackpath_emulator_auth_errors(emulator) -> None:
    for token in ("", "invalid", "never-issued"):
        response = _get(emulator, DAY_PARAMS, token=token)
        assert response.status_code == 401 and response.json()["code"] == 16
    token = _token(emulator)
    assert _get(emulator, DAY_PARAMS, token=token).status_code == 200
    emulator.revoke()
    assert _get(emulator, DAY_PARAMS, token=token).status_code == 401


def test_stackpath_emulator_tokens_expire_on_its_clock() -> None:
    clock = [float(NOW)]
    emulator = StackPathEmulator(lambda: clock[0], ttl=60)
    token = _token(emulator)
    assert _get(emulator, DAY_PARAMS, token=token).status_code == 200
    clock[0] += 61
    assert _get(emulator, DAY_PARAMS, token=token).status_code == 401
    assert emulator.token_calls == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"grant_type": "password", "client_id": "a", "client_secret": "b"}, 400, 3),
        ({"grant_type": "client_credentials", "client_id": "a"}, 400, 3),
        (
            {"grant_type": "client_credentials", "client_id": "invalid", "client_secret": "b"},
            401,
            16,
        ),
    ],
)
def test_stackpath_emulator_token_endpoint_errors(emulator, body, status, code) -> None:
    response = emulator.handle(httpx.Request("POST", f"{BASE}/identity/v1/oauth2/token", json=body))
    assert response.status_code == status and response.json()["code"] == code
    assert emulator.token_calls == 1


def test_stackpath_emulator_stack_errors(emulator) -> None:
    forbidden = _get(emulator, DAY_PARAMS, stack="forbidden")
    assert forbidden.status_code == 403 and forbidden.json()["code"] == 7
    missing = _get(emulator, DAY_PARAMS, stack="missing")
    assert missing.status_code == 404 and missing.json()["code"] == 5
    unknown = emulator.handle(httpx.Request("GET", f"{BASE}/cdn/v1/nothing"))
    assert unknown.status_code == 404


def test_stackpath_emulator_coarse_buckets_add_up_from_fine_ones(emulator) -> None:
    token = _token(emulator)
    fine = _rows(_get(emulator, f"{DAY_PARAMS}&granularity=PT5M", token=token).json())["demo"]
    hourly = _rows(_get(emulator, f"{DAY_PARAMS}&granularity=PT1H", token=token).json())["demo"]
    daily = _rows(_get(emulator, f"{DAY_PARAMS}&granularity=P1D", token=token).json())["demo"]
    fine = [r for r in fine if r[TIME_COLUMN] < parse_ts("2026-11-19")]  # end is inclusive
    hourly = [r for r in hourly if r[TIME_COLUMN] < parse_ts("2026-11-19")]
    assert len(fine) == 288 and len(hourly) == 24
    day = daily[0]
    for name in ("xferUsedTotalMB", "requestsCountTotal", "durationTotal", "xferAttemptedTotalMB"):
        assert day[name] == sum(r[name] for r in hourly) == sum(r[name] for r in fine)
    assert day["xferUsedMaxMB"] == max(r["xferUsedTotalMB"] for r in fine)
    assert day["xferUsedMinMB"] == min(r["xferUsedTotalMB"] for r in fine)
    assert day["xferUsedMeanMB"] == pytest.approx(np.mean([r["xferUsedTotalMB"] for r in fine]))
    assert day["rpsMax"] == max(r["rpsMax"] for r in hourly)
    peak = max(hourly, key=lambda r: (r["xferRateMaxMbps"], -r[TIME_COLUMN]))
    assert day["xferRateMaxUsageTime"] == peak["xferRateMaxUsageTime"]
    assert day["rps"] == pytest.approx(day["requestsCountTotal"] / 86400)
    assert day["xferRateMbps"] == pytest.approx(day["xferUsedTotalMB"] * 8 / 86400)
    assert day["userXferRateMbps"] == pytest.approx(
        day["xferUsedTotalMB"] * 8 / day["durationTotal"]
    )
    assert day["responseSizeMeanMB"] == pytest.approx(
        day["xferUsedTotalMB"] / day["requestsCountTotal"]
    )


def test_stackpath_emulator_groups_filters_and_default_platforms(emulator) -> None:
    token = _token(emulator)
    by_site = _rows(
        _get(emulator, f"{DAY_PARAMS}&granularity=P1D&group_by=SITE", token=token).json()
    )
    total = _rows(_get(emulator, f"{DAY_PARAMS}&granularity=P1D", token=token).json())["demo"]
    assert len(by_site) == 3
    assert (
        sum(rows[0]["xferUsedTotalMB"] for rows in by_site.values()) == total[0]["xferUsedTotalMB"]
    )
    regions = _rows(
        _get(
            emulator,
            f"{DAY_PARAMS}&granularity=P1D&group_by=REGION&platforms=CDE,CDO&pops=JFK,AMS",
            token=token,
        ).json()
    )
    assert set(regions) == {"NORTH_AMERICA", "EUROPE"}
    empty = _get(emulator, f"{DAY_PARAMS}&platforms=CWS", token=token).json()
    assert empty == {"series": []}
    body = _get(emulator, f"{DAY_PARAMS}&granularity=P1D", token=token).json()
    assert body["series"][0]["metrics"] == [TIME_COLUMN, *METRIC_NAMES]


def test_stackpath_emulator_never_answers_data_after_now() -> None:
    now = parse_ts("2026-11-19T10:07:00Z")
    emulator = StackPathEmulator(lambda: now)
    query = "start_date=2026-11-19T00:00:00Z&end_date=2026-11-19T10:07:00Z"
    rows = _rows(_get(emulator, f"{query}&granularity=PT5M").json())["demo"]
    assert rows[-1][TIME_COLUMN] == parse_ts("2026-11-19T10:00:00Z")  # last complete 5 minutes
    daily = _rows(_get(emulator, f"{query}&granularity=P1D").json())["demo"]
    assert daily[0]["xferUsedTotalMB"] == sum(r["xferUsedTotalMB"] for r in rows)
    assert daily[0]["lastUpdatedTime"] == parse_ts("2026-11-19T10:05:00Z")


def test_stackpath_emulator_can_answer_in_milliseconds() -> None:
    emulator = StackPathEmulator(lambda: NOW, millis=True)
    rows = _rows(_get(emulator, f"{DAY_PARAMS}&granularity=P1D").json())["demo"]
    assert rows[0][TIME_COLUMN] == parse_ts("2026-11-18") * 1000
    assert rows[0]["rpsMaxUsageTime"] > 1e12


# -- expected(): the emulator's own data agrees with its HTTP answers -------------------------
def _stamp(ts: int) -> str:
    return format_ts(ts).replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("granularity", "step", "start", "extra", "where"),
    [
        ("PT5M", 300, NOW - 7200, "&platforms=CDE", None),  # None: the default platform, CDE
        ("PT1H", 3600, NOW - 86400, "&platforms=SDS,CDO&pops=AMS,NRT",
         {"platform": ["SDS", "CDO"], "pop": ["AMS", "NRT"]}),
        ("P1D", 86400, NOW - 5 * 86400, f"&platforms=CDE&sites={SITES[1]}&billing_regions=EUROPE",
         {"site": [SITES[1]], "billing_region": ["EUROPE"], "stack": ["demo"]}),
    ],
)  # fmt: skip
@pytest.mark.parametrize("metric", ["xferUsedTotalMB", "xferAttemptedTotalMB", "durationTotal",
                                    "requestsCountTotal"])  # fmt: skip
def test_expected_matches_the_http_answer(granularity, step, start, extra, where, metric) -> None:
    now = NOW + 1000  # the bucket at NOW is partial: three complete five-minute sub-buckets
    emulator = StackPathEmulator(lambda: now)
    query = f"start_date={_stamp(start)}&end_date={_stamp(now)}&granularity={granularity}{extra}"
    response = _get(emulator, query)
    assert response.status_code == 200, response.text
    (rows,) = _rows(response.json()).values()
    answered = {int(row[TIME_COLUMN]): float(row[metric]) for row in rows}
    truth = emulator.expected("cdn", metric, start, now, step, where)
    assert truth.keys() == answered.keys() and len(truth) >= 3
    assert truth == pytest.approx(answered, rel=1e-9)  # the API sends ten significant digits
    horizon = now - now % 300  # the last bucket holds what is complete before now
    assert max(truth) < horizon <= max(truth) + step


def test_expected_refuses_what_it_cannot_answer() -> None:
    emulator = StackPathEmulator(lambda: NOW)
    with pytest.raises(ValueError, match="not a counter"):
        emulator.expected("cdn", "rps", NOW - 86400, NOW, 3600)
    with pytest.raises(ValueError, match="no dimension"):
        emulator.expected("cdn", "durationTotal", NOW - 86400, NOW, 3600, {"country": ["DE"]})
