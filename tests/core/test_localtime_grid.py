"""Local and start-aligned grids (querylang.localtime), against instants written by hand."""

from __future__ import annotations

import pytest

from querylang.localtime import Grid, format_local, parse_local, parse_zone, shift_local, tiles
from querylang.timegrid import Granularity, parse_ts

G = Granularity.parse
BERLIN = parse_zone("Europe/Berlin")
NY = parse_zone("America/New_York")
KOLKATA = parse_zone("+05:30")


def test_zones_by_name_and_offset() -> None:
    assert str(BERLIN) == "Europe/Berlin" and str(KOLKATA) == "+05:30"
    assert str(parse_zone("-0300")) == "-03:00"
    assert parse_zone("utc").is_utc
    for bad in ("Mars/Olympus", "+25:00", "", "../etc/passwd"):
        with pytest.raises(ValueError):
            parse_zone(bad)


def test_dates_are_read_in_the_zone_and_printed_with_the_offset() -> None:
    assert parse_local("2026-03-29", BERLIN) == parse_ts("2026-03-28T23:00:00Z")
    assert parse_local("2026-07-01 12:00", BERLIN) == parse_ts("2026-07-01T10:00:00Z")
    assert parse_local("2026-07-01T12:00:00Z", BERLIN) == parse_ts("2026-07-01T12:00:00Z")
    assert parse_local("2026-11-10", KOLKATA) == parse_ts("2026-11-09T18:30:00Z")
    assert format_local(parse_ts("2026-11-01T04:00:00Z"), NY) == "2026-11-01T00:00:00-04:00"
    assert format_local(parse_ts("2026-11-02T05:00:00Z"), NY) == "2026-11-02T00:00:00-05:00"


@pytest.mark.parametrize(
    ("zone", "every", "inside", "floor", "next_"),
    [
        (BERLIN, "1d", "2026-03-29T12:00:00Z", "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"),
        (BERLIN, "1w", "2026-11-04T12:00:00Z", "2026-11-01T23:00:00Z", "2026-11-08T23:00:00Z"),
        (BERLIN, "1mo", "2026-10-15T00:00:00Z", "2026-09-30T22:00:00Z", "2026-10-31T23:00:00Z"),
        (NY, "1d", "2026-11-01T12:00:00Z", "2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z"),
        (KOLKATA, "1d", "2026-11-10T00:00:00Z", "2026-11-09T18:30:00Z", "2026-11-10T18:30:00Z"),
    ],
)
def test_local_buckets(zone, every: str, inside: str, floor: str, next_: str) -> None:
    grid = Grid(G(every), zone)
    assert grid.floor(parse_ts(inside)) == parse_ts(floor)
    assert grid.add(parse_ts(floor)) == parse_ts(next_)
    assert grid.is_aligned(parse_ts(floor)) and not grid.is_aligned(parse_ts(inside))


def test_hours_stay_on_the_epoch_grid_in_a_zone() -> None:
    grid = Grid(G("6h"), KOLKATA)
    assert grid.floor(parse_ts("2026-11-10T07:00:00Z")) == parse_ts("2026-11-10T06:00:00Z")


def test_start_aligned_buckets() -> None:
    grid = Grid(G("2d"), None, origin=parse_ts("2021-09-27"))
    assert grid.floor(parse_ts("2021-09-28T12:00:00Z")) == parse_ts("2021-09-27")
    assert grid.is_aligned(parse_ts("2021-09-29")) and not G("2d").is_aligned(
        parse_ts("2021-09-27")
    )
    local = Grid(G("2d"), BERLIN, origin=parse_local("2026-03-28", BERLIN))
    assert local.add(parse_local("2026-03-28", BERLIN)) == parse_ts("2026-03-29T22:00:00Z")


def test_shifting_by_local_days_keeps_the_wall_clock() -> None:
    # seven local days before 2026-11-02 00:00 New York (EST) is 2026-10-26 00:00 (EDT)
    assert shift_local(parse_ts("2026-11-02T05:00:00Z"), -7, "d", NY) == parse_ts(
        "2026-10-26T04:00:00Z"
    )
    assert shift_local(parse_ts("2026-11-02T05:00:00Z"), -2, "h", NY) == parse_ts(
        "2026-11-02T03:00:00Z"
    )


def test_which_native_grains_tile_local_days() -> None:
    start, end = parse_local("2026-11-01", KOLKATA), parse_local("2026-11-03", KOLKATA)
    day = Grid(G("1d"), KOLKATA)
    assert [g for g in ("1m", "5m", "15m", "30m", "1h") if tiles(G(g), day, start, end)] == [
        "1m", "5m", "15m", "30m",
    ]  # fmt: skip
    start, end = parse_local("2026-03-28", BERLIN), parse_local("2026-03-31", BERLIN)
    assert tiles(G("1h"), Grid(G("1d"), BERLIN), start, end)
    assert not tiles(G("1d"), Grid(G("1d"), BERLIN), start, end)
