"""TZ and ALIGN TO START end to end in the sandbox.

Local-day totals are checked against the emulator's raw hourly (or 15-minute) answer,
summed by hand between local midnights written out here in UTC.
"""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from querylang.engine import explain, run
from querylang.errors import BindingError, LimitError
from querylang.plugins import registry
from querylang.timegrid import parse_ts
from tests.conftest import NOW, NOW_TEXT

H = 3600


def _raw_gcore(start: str, end: str, grain: str) -> dict[int, float]:
    url = (
        f"https://api.gcore.com/cdn/statistics/series?service=CDN&from={start}&to={end}"
        f"&granularity={grain}&metrics=sent_bytes"
    )
    emulator = registry().get("gcore").emulator(lambda: float(NOW))
    response = emulator.handle(httpx.Request("GET", url, headers={"Authorization": "APIKey x"}))
    assert response.status_code == 200, response.text
    return {int(t): float(v) for t, v in json.loads(response.content)["metrics"]["sent_bytes"]}


def _sum(raw: dict[int, float], start: str, end: str, step: int) -> float:
    lo, hi = parse_ts(start), parse_ts(end)
    assert all(t in raw for t in range(lo, hi, step)), "the raw answer lacks a part"
    return sum(raw[t] for t in range(lo, hi, step))


def _days(text: str) -> list[tuple[str, float]]:
    (result,) = run(text, now=NOW_TEXT, sandbox=True)
    from querylang.conversion import row_records

    return [(r["time"], r["sent_bytes"]) for r in row_records(result)]


# Local midnights in UTC, by hand: CET is UTC+1, CEST UTC+2; EST UTC-5, EDT UTC-4.
BERLIN = [
    # spring forward on 2026-03-29: a 23-hour day
    ("2026-03-29T00:00:00+01:00", "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z", 23),
    # fall back on 2026-10-25: a 25-hour day
    ("2026-10-25T00:00:00+02:00", "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", 25),
]
NEW_YORK = [
    ("2026-03-08T00:00:00-05:00", "2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z", 23),
    ("2026-11-01T00:00:00-04:00", "2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z", 25),
]


@pytest.mark.parametrize(
    ("zone", "local", "lo", "hi", "hours"),
    [("Europe/Berlin", *c) for c in BERLIN] + [("America/New_York", *c) for c in NEW_YORK],
)
def test_a_dst_day_is_the_sum_of_its_23_or_25_hours(
    zone: str, local: str, lo: str, hi: str, hours: int
) -> None:
    assert (parse_ts(hi) - parse_ts(lo)) // H == hours
    raw = _raw_gcore(lo, hi, "1h")
    day = local[:10]
    got = _days(
        f"SELECT sent_bytes FROM gcore EVERY 1d BETWEEN '{day}' AND '{_next(day)}' TZ '{zone}'"
    )
    assert got == [(local, _sum(raw, lo, hi, H))]


def _next(day: str) -> str:
    import datetime as dt

    return (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()


def test_days_around_the_change_follow_each_other() -> None:
    got = _days(
        "SELECT sent_bytes FROM gcore EVERY 1d BETWEEN '2026-03-28' AND '2026-03-31' TZ 'Europe/Berlin'"
    )
    assert [t for t, _ in got] == [
        "2026-03-28T00:00:00+01:00",
        "2026-03-29T00:00:00+01:00",
        "2026-03-30T00:00:00+02:00",
    ]
    (plan,) = explain(
        "SELECT sent_bytes FROM gcore EVERY 1d BETWEEN '2026-03-28' AND '2026-03-31' TZ 'Europe/Berlin'",
        now=NOW_TEXT,
    )
    assert str(plan.grain) == "1h"  # UTC days would be fetched at 1d
    assert "re-bucket 1h → 1d buckets in Europe/Berlin" in " ".join(plan.steps)


def test_a_half_hour_zone_is_built_from_15_minute_data() -> None:
    # +05:30: local midnight on 2026-11-10 is 2026-11-09T18:30:00Z
    lo, hi = "2026-11-09T18:30:00Z", "2026-11-10T18:30:00Z"
    raw = _raw_gcore("2026-11-09T18:00:00Z", "2026-11-10T19:00:00Z", "15m")
    text = "SELECT sent_bytes FROM gcore EVERY 1d BETWEEN '2026-11-10' AND '2026-11-11' TZ '+05:30'"
    (plan,) = explain(text, now=NOW_TEXT)
    assert str(plan.grain) == "15m"  # the coarsest Gcore grain that tiles +05:30 midnights
    assert _days(text) == [("2026-11-10T00:00:00+05:30", _sum(raw, lo, hi, 15 * 60))]


def test_last_7d_is_seven_local_days() -> None:
    (result,) = run("SELECT sent_bytes FROM gcore EVERY 1d LAST 7d TZ 'America/New_York'",
                    now=NOW_TEXT, sandbox=True)  # fmt: skip
    # 2026-11-20T05:00Z is 00:00 EST on the 20th: the seven days before are the 13th … 19th
    assert result.frame.time.tolist() == [parse_ts(f"2026-11-{d}T05:00:00Z") for d in range(13, 20)]
    assert result.zone == "America/New_York"


def test_explicit_offsets_in_timestamps_still_win() -> None:
    (plan,) = explain(
        "SELECT sent_bytes FROM gcore EVERY 1d BETWEEN '2026-11-09T23:00:00Z' AND "
        "'2026-11-10T23:00:00Z' TZ 'Europe/Berlin'",
        now=NOW_TEXT,
    )
    assert plan.bound.window.start == parse_ts("2026-11-09T23:00:00Z")


def test_an_unknown_zone_is_e220() -> None:
    with pytest.raises(BindingError) as info:
        explain("SELECT sent_bytes FROM gcore EVERY 1d LAST 7d TZ 'Mars/Olympus'", now=NOW_TEXT)
    assert info.value.code == "E220"


def test_a_zone_the_native_grains_cannot_tile_is_e420() -> None:
    with pytest.raises(LimitError) as info:
        explain("SELECT size_mean FROM gcore.storage EVERY 1d LAST 7d TZ '+05:30'", now=NOW_TEXT)
    assert info.value.code == "E420"
    assert "1h, 12h, 24h" in info.value.message
    explain("SELECT size_mean FROM gcore.storage EVERY 1d LAST 7d TZ 'Europe/Berlin'", now=NOW_TEXT)


def test_a_window_where_the_tiling_grain_is_not_kept_is_e402() -> None:
    # Fastly tiles +05:30 days only with minutes, kept 35 days
    text = "SELECT requests FROM fastly EVERY 1d BETWEEN '2026-09-01' AND '2026-09-03' TZ '+05:30'"
    with pytest.raises(LimitError) as info:
        explain(text, now=NOW_TEXT)
    assert info.value.code == "E402"
    assert "+05:30" in info.value.message and "1m" in info.value.message
    explain(text.replace("+05:30", "Europe/Berlin"), now=NOW_TEXT)  # hours are kept


def test_check_finds_both_before_anything_is_sent() -> None:
    from querylang.checking import check_text

    text = (
        "SELECT size_mean FROM gcore.storage EVERY 1d LAST 7d TZ '+05:30';\n"
        "SELECT requests FROM fastly EVERY 1d BETWEEN '2026-09-01' AND '2026-09-03' TZ '+05:30';\n"
    )
    codes = [e.code for e in check_text(text, "q.qry", registry().providers, now=NOW, env={})]
    assert codes == ["E420", "E402"]


# ---- ALIGN TO START -------------------------------------------------------------------


def test_align_to_start_makes_one_two_day_bucket() -> None:
    text = "SELECT sent_bytes FROM gcore EVERY 2d BETWEEN '2021-09-27' AND '2021-09-29'"
    with pytest.raises(LimitError) as info:  # epoch-aligned 2-day buckets start on the 26th
        explain(text, now="2021-10-05T00:00:00Z")
    assert info.value.code == "E403"
    (result,) = run(text + " ALIGN TO START", now="2021-10-05T00:00:00Z", sandbox=True)
    assert result.frame.time.tolist() == [parse_ts("2021-09-27")]
    (daily,) = run(text.replace("2d", "1d"), now="2021-10-05T00:00:00Z", sandbox=True)
    assert len(daily.frame) == 2
    assert result.frame.metrics["sent_bytes"].tolist() == [daily.frame.metrics["sent_bytes"].sum()]


def test_align_to_start_for_hours_and_a_partial_last_bucket() -> None:
    text = "SELECT sent_bytes FROM gcore EVERY 6h BETWEEN '2026-11-19T03:00:00Z' AND '2026-11-19T15:00:00Z'"
    (result,) = run(text + " ALIGN TO START", now=NOW_TEXT, sandbox=True)
    assert result.frame.time.tolist() == [
        parse_ts("2026-11-19T03:00:00Z"),
        parse_ts("2026-11-19T09:00:00Z"),
    ]
    with pytest.raises(LimitError) as info:
        explain(text.replace("15:00", "16:00") + " ALIGN TO START", now=NOW_TEXT)
    assert info.value.code == "E403" and "aligned to the start" in info.value.message


def test_align_to_start_needs_every() -> None:
    with pytest.raises(BindingError) as info:
        explain("SELECT sent_bytes FROM gcore LAST 2d ALIGN TO START", now=NOW_TEXT)
    assert info.value.code == "E222"


def test_since_is_read_in_the_zone_and_explain_names_it() -> None:
    (plan,) = explain("SELECT sent_bytes FROM gcore EVERY 1d SINCE '2026-11-15' TZ 'Europe/Berlin'",
                      now=NOW_TEXT)  # fmt: skip
    # 2026-11-20T05:00Z is 06:00 in Berlin: the last whole local day ends at 23:00Z on the 19th
    assert (plan.bound.window.start, plan.bound.window.end) == (
        parse_ts("2026-11-14T23:00:00Z"), parse_ts("2026-11-19T23:00:00Z"),
    )  # fmt: skip
    from io import StringIO

    from querylang.output import write_explain

    out = StringIO()
    write_explain([plan], "text", out)
    assert ", EVERY 1d, TZ Europe/Berlin (native 1h)" in out.getvalue()


def test_a_default_zone_applies_to_queries_without_tz() -> None:
    from querylang.errors import UsageError

    text = "SELECT sent_bytes FROM gcore EVERY 1d LAST 2d;\nSELECT sent_bytes FROM gcore EVERY 1d LAST 2d TZ '+05:30'"
    berlin, kolkata = explain(text, now=NOW_TEXT, tz="Europe/Berlin")
    assert str(berlin.bound.zone) == "Europe/Berlin" and str(kolkata.bound.zone) == "+05:30"
    with pytest.raises(UsageError) as info:
        explain(text, now=NOW_TEXT, tz="Nowhere/Land")
    assert "--tz 'Nowhere/Land' is not a time zone" in info.value.message
    out = subprocess.run(
        [sys.executable, "-m", "querylang.cli", "run", "--sandbox", "--now", NOW_TEXT, "--tz",
         "America/New_York", "-f", "csv", "-e", "SELECT sent_bytes FROM gcore EVERY 1d LAST 1d"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[1].startswith("2026-11-19T00:00:00-05:00,")


def test_across_providers_local_days_are_summed_and_printed_with_their_offset() -> None:
    from querylang.conversion import row_records

    day = "EVERY 1d BETWEEN '2026-10-25' AND '2026-10-26' TZ 'Europe/Berlin'"
    (cross,) = run(f"SELECT sent_bytes FROM gcore, fastly {day}", now=NOW_TEXT, sandbox=True)
    (gcore,) = run(f"SELECT sent_bytes FROM gcore {day}", now=NOW_TEXT, sandbox=True)
    (fastly,) = run(f"SELECT sent_bytes FROM fastly {day}", now=NOW_TEXT, sandbox=True)
    (row,) = row_records(cross)
    assert row["time"] == "2026-10-25T00:00:00+02:00"
    raw = _raw_gcore("2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", "1h")
    assert gcore.frame.metrics["sent_bytes"].tolist() == [
        _sum(raw, "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", H)
    ]
    assert (
        row["sent_bytes"]
        == gcore.frame.metrics["sent_bytes"][0] + fastly.frame.metrics["sent_bytes"][0]
    )


def test_local_months_and_weeks_from_hours() -> None:
    # October 2026 in New York: 2026-10-01T04:00Z (EDT) to 2026-11-01T04:00Z (still EDT)
    text = "SELECT sent_bytes FROM gcore EVERY 1mo BETWEEN '2026-10-01' AND '2026-11-01' TZ 'America/New_York'"
    (plan,) = explain(text, now=NOW_TEXT)
    assert str(plan.grain) == "1h"
    raw = _raw_gcore("2026-10-01T04:00:00Z", "2026-11-01T04:00:00Z", "1h")
    assert _days(text) == [
        ("2026-10-01T00:00:00-04:00", _sum(raw, "2026-10-01T04:00:00Z", "2026-11-01T04:00:00Z", H))
    ]
    # the Berlin week of Monday 2026-10-19 ends on Monday 2026-10-26 00:00 CET (after the change)
    week = "SELECT sent_bytes FROM gcore EVERY 1w BETWEEN '2026-10-19' AND '2026-10-26' TZ 'Europe/Berlin'"
    raw = _raw_gcore("2026-10-18T22:00:00Z", "2026-10-25T23:00:00Z", "1h")
    assert _days(week) == [
        ("2026-10-19T00:00:00+02:00", _sum(raw, "2026-10-18T22:00:00Z", "2026-10-25T23:00:00Z", H))
    ]
