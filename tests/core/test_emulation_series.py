"""The emulation kit's series: gauges, views over cells, ratios from parts, finality, points.

Expected values are worked out by hand (small arrays written out) or from the documented
property of the synthetic source (a per-minute rate constant within each UTC hour).
"""

from __future__ import annotations

import json
import math
from typing import Any

import httpx
import numpy as np
import pytest

from querylang.catalog import RateLimit
from querylang.emulation import (
    BucketCells,
    Counters,
    Finality,
    FixedWindowLimiter,
    account_data,
    per_bucket,
    points,
    ratio,
    scope,
    synthetic_levels,
    synthetic_totals,
)
from querylang.timegrid import Granularity, parse_ts

H = 3600
DAY0 = parse_ts("2026-11-19T00:00:00Z")  # midnight UTC: hours and days line up


# -- counters: the property every other series is built on ---------------------------------------
def test_a_counter_within_one_hour_grows_by_the_same_amount_every_minute() -> None:
    minute = int(synthetic_totals("kit|c", np.array([DAY0]), np.array([DAY0 + 60]))[0])
    assert minute > 0
    starts = np.array([DAY0, DAY0, DAY0 + 600])
    ends = np.array([DAY0 + H, DAY0 + 1800, DAY0 + 660])
    assert synthetic_totals("kit|c", starts, ends).tolist() == [60 * minute, 30 * minute, minute]


# -- gauges and the views a vendor reports of them -----------------------------------------------
def test_bucket_cells_views_worked_by_hand() -> None:
    cells = np.arange(0, 1800, 300)  # six five-minute cells
    buckets = BucketCells(cells, np.array([0, 900]), np.array([900, 1800]))
    values = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0])
    assert buckets.counts.tolist() == [3, 3]
    assert buckets.total(values).tolist() == [8.0, 15.0]
    assert buckets.mean(values).tolist() == [8.0 / 3.0, 5.0]
    assert buckets.peak(values).tolist() == [4.0, 9.0]
    assert buckets.low(values).tolist() == [1.0, 1.0]
    assert buckets.peak_at(values).tolist() == [600, 1500]
    assert buckets.low_at(values).tolist() == [300, 900]


def test_bucket_cells_name_the_first_cell_of_a_tie_and_allow_uneven_buckets() -> None:
    cells = np.arange(0, 1500, 300)
    buckets = BucketCells(cells, np.array([0, 600]), np.array([600, 1500]))  # 2 cells, then 3
    values = np.array([2.0, 2.0, 7.0, 1.0, 7.0])
    assert buckets.counts.tolist() == [2, 3]
    assert buckets.peak_at(values).tolist() == [0, 600]
    assert buckets.low_at(values).tolist() == [0, 900]
    assert buckets.mean(values).tolist() == [2.0, 5.0]


def test_a_gauge_is_a_level_per_cell_the_same_in_every_grain() -> None:
    hours = np.arange(DAY0, DAY0 + 24 * H, H)
    levels = synthetic_levels("kit|size", hours, H, base=5e9, scale=10.0)
    again = synthetic_levels("kit|size", hours[6:8], H, base=5e9, scale=10.0)
    assert levels[6:8].tolist() == again.tolist()  # deterministic, whatever else is asked
    # a level moves by the counter of its own hour on top of the base: 60 minutes of one rate
    first_minute = synthetic_totals("kit|size", hours[:1], hours[:1] + 60, 10.0)[0]
    assert levels[0] == 5e9 + 60 * first_minute
    halves = BucketCells(hours, hours[::12], hours[::12] + 12 * H)
    day = BucketCells(hours, hours[:1], hours[:1] + 24 * H)
    assert halves.peak(levels).tolist() == [max(levels[:12]), max(levels[12:])]
    assert day.peak(levels)[0] == max(halves.peak(levels))  # the day's peak is its halves' peak
    assert day.mean(levels)[0] == sum(halves.total(levels)) / 24
    assert day.peak_at(levels)[0] == hours[int(np.argmax(levels))]


# -- ratios from their parts ---------------------------------------------------------------------
def test_a_ratio_over_nothing_is_missing_never_zero() -> None:
    out = ratio(np.array([1.0, 0.0, 3.0, 0.0]), np.array([4.0, 0.0, 0.0, 5.0]))
    assert out[0] == 0.25 and out[3] == 0.0
    assert math.isnan(out[1]) and math.isnan(out[2])


def _hand_base(counters: Counters, name: str, entity: str) -> np.ndarray:
    table = {
        ("a", "hits"): [1.0, 2.0, 0.0],
        ("a", "miss"): [3.0, 4.0, 0.0],
        ("b", "hits"): [10.0, 20.0, 0.0],
        ("b", "miss"): [30.0, 40.0, 0.0],
    }
    return np.array(table[entity, name])


def test_counters_sum_their_parts_and_build_ratios_from_them() -> None:
    counters = Counters([0, 60, 120], [60, 120, 180], _hand_base, {"requests": ("hits", "miss")})
    assert counters.total("hits", ["a", "b"]).tolist() == [11.0, 22.0, 0.0]
    assert counters.total("requests", ["a", "b"]).tolist() == [44.0, 66.0, 0.0]
    assert counters.total("requests", []).tolist() == [0.0, 0.0, 0.0]
    hit_ratio = counters.ratio("hits", "requests", ["a"])
    assert hit_ratio[:2].tolist() == [0.25, 2.0 / 6.0] and math.isnan(hit_ratio[2])


def test_counters_draw_each_series_once_and_per_account() -> None:
    def base(counters: Counters, name: str, entity: str) -> np.ndarray:
        return counters.series(f"kit|{entity}|{name}", 100.0)

    hours = [DAY0, DAY0 + H]
    counters = Counters(hours, [t + H for t in hours], base)
    first = counters.series("kit|a|x", 100.0)
    assert counters.series("kit|a|x", 100.0) is first  # cached
    assert counters.total("x", ["a", "a"]).tolist() == (2 * first).tolist()
    minute = synthetic_totals("kit|a|x", np.array(hours), np.array(hours) + 60, 100.0)
    assert first.tolist() == (60.0 * minute).tolist()
    with account_data("other"):
        other = Counters(hours, [t + H for t in hours], base).total("x", ["a"])
    assert other.tolist() != first.tolist()


# -- finality ------------------------------------------------------------------------------------
def test_complete_buckets_only() -> None:
    final = Finality()
    starts = np.array([0, 300, 600, 900])
    answered = final.answered(starts, starts + 300, now=1000)
    assert answered.tolist() == [True, True, True, False]  # [900, 1200) is not over at 1000
    assert final.answered(starts, starts + 300, now=1200).tolist() == [True] * 4


def test_data_in_whole_cells_and_a_bucket_in_progress_answered_so_far() -> None:
    final = Finality(partial=True, align=300)
    assert final.horizon(1000) == 900
    starts, ends = np.array([0, 600, 900]), np.array([600, 1200, 1500])
    assert final.answered(starts, ends, now=1000).tolist() == [True, True, False]
    assert final.clip(ends, now=1000).tolist() == [600, 900, 900]
    # the bucket in progress grows: half the hour at 00:30, the whole hour at 01:00
    hour = np.array([DAY0])
    half = synthetic_totals("kit|g", hour, final.clip(hour + H, now=DAY0 + 1830))
    whole = synthetic_totals("kit|g", hour, final.clip(hour + H, now=DAY0 + H))
    assert whole[0] == 2 * half[0] > 0


def test_a_documented_delay_holds_back_the_last_minutes() -> None:
    # Fastly: minute data "delayed by roughly 10 to 15 minutes"; at 12:20 with 15 minutes of
    # delay the data reaches 12:05, so the minute 12:04 is final and 12:05 is not there yet.
    noon = DAY0 + 12 * H
    final = Finality(lag=15 * 60)
    assert final.horizon(noon + 20 * 60) == noon + 5 * 60
    starts = np.array([noon + 4 * 60, noon + 5 * 60])
    assert final.answered(starts, starts + 60, now=noon + 20 * 60).tolist() == [True, False]


def test_the_buckets_of_a_window_answered_at_now() -> None:
    # buckets [t, t + 300) from 0 before 1000: 0, 300, 600, 900; at 1000 the last is not over
    assert Finality().buckets(0, 1000, 300, now=1000).tolist() == [0, 300, 600]
    # answered with its data so far once it has begun before the horizon (900 at 1000)
    assert Finality(partial=True, align=300).buckets(0, 1000, 300, now=1000).tolist() == [
        0,
        300,
        600,
    ]
    assert Finality(partial=True, align=300).buckets(0, 1000, 300, now=1200).tolist() == [
        0,
        300,
        600,
        900,
    ]
    empty = Finality().buckets(600, 600, 300, now=10_000)  # an empty or reversed window
    assert empty.tolist() == [] and empty.dtype == np.int64
    assert Finality().buckets(600, 0, 300, now=10_000).tolist() == []


def test_calendar_buckets_through_an_inclusive_end() -> None:
    hour = Granularity.parse("1h")
    # 00:30 to 03:00 inclusive: the hours starting 00:00, 01:00, 02:00 and 03:00
    starts, ends = Finality().spanning(hour, DAY0 + 1800, DAY0 + 3 * H, now=DAY0 + 10 * H)
    assert (starts - DAY0).tolist() == [0, H, 2 * H, 3 * H]
    assert (ends - starts).tolist() == [H] * 4
    # at 02:10 the complete hours only; with partial data also the hour in progress
    starts, _ = Finality().spanning(hour, DAY0, DAY0 + 3 * H, now=DAY0 + 2 * H + 600)
    assert (starts - DAY0).tolist() == [0, H]
    starts, ends = Finality(partial=True).spanning(hour, DAY0, DAY0 + 3 * H, now=DAY0 + 2 * H + 1)
    assert (starts - DAY0).tolist() == [0, H, 2 * H] and ends[-1] == DAY0 + 3 * H
    # months are calendar months: November 2026 has 30 days, December 31
    month = Granularity.parse("1mo")
    nov = parse_ts("2026-11-01T00:00:00Z")
    dec = parse_ts("2026-12-01T00:00:00Z")
    starts, ends = Finality().spanning(month, nov + 5 * 86400, dec, now=dec + 40 * 86400)
    assert starts.tolist() == [nov, dec]
    assert ends.tolist() == [dec, dec + 31 * 86400]


def test_scope_is_where_or_everything_and_names_an_unknown_dimension() -> None:
    assert scope(None, ("site",), "edgelog") == {}
    assert scope({"site": ["ams"]}, ("site", "pop"), "edgelog") == {"site": ["ams"]}
    with pytest.raises(ValueError, match="the edgelog emulator has no dimension 'country'"):
        scope({"site": ["ams"], "region": ["x"], "country": ["y"]}, ("site",), "edgelog")


def test_per_bucket_is_the_mapping_expected_answers() -> None:
    got = per_bucket(np.array([0, 300], np.int64), np.array([5, 2.5]))
    assert got == {0: 5.0, 300: 2.5}
    assert all(type(k) is int and type(v) is float for k, v in got.items())
    with pytest.raises(ValueError):
        per_bucket(np.array([0, 300]), np.array([1.0]))


# -- omitted zeros -------------------------------------------------------------------------------
def test_points_as_vendors_write_them_with_and_without_empty_buckets() -> None:
    starts, values = np.array([0, 60, 120, 180]), np.array([5.0, 0.0, 2.5, np.nan])
    assert points(starts, values) == [[0, 5], [60, 0], [120, 2.5], [180, None]]
    assert points(starts, values, omit_zeros=True) == [[0, 5], [120, 2.5], [180, None]]
    assert points(starts, values, empty=0) == [[0, 5], [60, 0], [120, 2.5], [180, 0]]
    assert json.dumps(points(starts[:2], values[:2])) == "[[0, 5], [60, 0]]"


# -- the limiter, at the emulator's own reading of its clock -------------------------------------
def test_an_hourly_limit_admits_at_the_time_given() -> None:
    limiter = FixedWindowLimiter([RateLimit(calls=2, per_seconds=3600)], clock=lambda: 0.0)
    first, second, third = limiter.admit(7300), limiter.admit(7400), limiter.admit(7500)
    assert first.admitted and second.admitted and second.used == (2,)
    assert not third.admitted and third.reset_after == 3 * 3600 - 7500  # the hour ends at 10800
    assert limiter.admit(10800).used == (1,)  # a new clock hour
    assert limiter.admit().used == (1,)  # the clock's own time (0): yet another window


# -- the ported emulators use them ---------------------------------------------------------------
def _fastly_aggregate(now: int, **params: Any) -> list[dict[str, Any]]:
    from querylang_providers.fastly.emulator import FastlyEmulator

    request = httpx.Request(
        "GET", "https://api.fastly.com/stats/aggregate", params=params, headers={"Fastly-Key": "k"}
    )
    response = FastlyEmulator(lambda: float(now)).handle(request)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def test_fastly_hit_ratio_and_requests_come_from_their_parts() -> None:
    now = DAY0 + 5 * H
    records = _fastly_aggregate(now, by="hour", **{"from": str(DAY0), "to": str(now + H)})
    assert [int(r["start_time"]) for r in records] == [DAY0 + i * H for i in range(5)]
    for r in records:
        hits, miss = int(r["hits"]), int(r["miss"])
        assert r["hit_ratio"] == f"{hits / (hits + miss):.4f}"
        parts = ("hits", "miss", "pass", "errors")
        assert int(r["requests"]) == sum(int(r[p]) for p in parts)


@pytest.mark.parametrize("offset", [30, 150, 299, 300])
def test_stackpath_answers_the_bucket_in_progress_with_its_complete_cells(offset: int) -> None:
    from querylang_providers.stackpath.emulator import StackPathEmulator

    now = DAY0 + H + offset
    emulator = StackPathEmulator(lambda: float(now))
    token = emulator.handle(
        httpx.Request(
            "POST",
            "https://gw.test/identity/v1/oauth2/token",
            json={"grant_type": "client_credentials", "client_id": "a", "client_secret": "b"},
        )
    ).json()["access_token"]
    params = {"start_date": "2026-11-19T00:00:00Z", "end_date": "2026-11-19T01:00:00Z"}
    response = emulator.handle(
        httpx.Request(
            "GET",
            "https://gw.test/cdn/v1/stacks/s/metrics",
            params={**params, "granularity": "PT1H"},
            headers={"Authorization": f"Bearer {token}"},
        )
    )
    (series,) = response.json()["series"]
    names = series["metrics"]
    rows = [dict(zip(names, s["values"], strict=True)) for s in series["samples"]]
    horizon = now - now % 300
    assert [r["usageTime"] for r in rows] == ([DAY0, DAY0 + H] if horizon > DAY0 + H else [DAY0])
    assert rows[0]["lastUpdatedTime"] == DAY0 + H  # final
    if len(rows) == 2:  # in progress: one five-minute cell so far
        assert rows[1]["lastUpdatedTime"] == horizon
        assert rows[1]["xferUsedMaxMB"] == rows[1]["xferUsedMinMB"] == rows[1]["xferUsedTotalMB"]
