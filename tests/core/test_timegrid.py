"""UTC grids: epoch-aligned fixed units, Monday weeks, calendar months, window splits."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from querylang.timegrid import Granularity, TimeWindow, format_ts, parse_ts

G = Granularity.parse


@pytest.mark.parametrize(
    ("grain", "ts", "floor"),
    [
        ("5m", "2026-11-20T05:07:13Z", "2026-11-20T05:05:00Z"),
        ("1h", "2026-11-20T05:59:59Z", "2026-11-20T05:00:00Z"),
        ("1d", "2026-11-20T23:00:00Z", "2026-11-20T00:00:00Z"),
        ("1w", "2026-11-22T10:00:00Z", "2026-11-16T00:00:00Z"),  # Sunday → Monday
        ("1w", "2026-11-16T00:00:00Z", "2026-11-16T00:00:00Z"),
        ("1mo", "2026-02-28T10:00:00Z", "2026-02-01T00:00:00Z"),
        ("3mo", "2026-05-10T00:00:00Z", "2026-04-01T00:00:00Z"),
    ],
)
def test_floor(grain: str, ts: str, floor: str) -> None:
    assert format_ts(G(grain).floor(parse_ts(ts))) == floor


def test_month_arithmetic() -> None:
    jan = parse_ts("2026-01-01")
    assert format_ts(G("1mo").add(jan)) == "2026-02-01T00:00:00Z"
    assert format_ts(G("1mo").add(jan, 14)) == "2027-03-01T00:00:00Z"
    assert format_ts(G("1mo").add(jan, -1)) == "2025-12-01T00:00:00Z"
    assert len(G("1mo").boundaries(jan, parse_ts("2027-01-01"))) == 12


@pytest.mark.parametrize(
    ("fine", "coarse", "ok"),
    [("1m", "7m", True), ("5m", "15m", True), ("15m", "1h", True), ("1h", "1d", True),
     ("1d", "1w", True), ("1d", "1mo", True), ("1h", "1mo", True), ("1w", "1mo", False),
     ("5m", "7m", False), ("12h", "1w", True), ("24h", "1d", True), ("1mo", "3mo", True),
     ("2d", "1w", False)],
)  # fmt: skip
def test_divides(fine: str, coarse: str, ok: bool) -> None:
    assert G(fine).divides(G(coarse)) is ok


@given(st.integers(min_value=0, max_value=4_000_000_000),
       st.sampled_from(["1m", "5m", "1h", "6h", "1d", "1w", "1mo"]))  # fmt: skip
def test_floor_is_a_bucket_start(ts: int, grain: str) -> None:
    g = G(grain)
    start = g.floor(ts)
    assert start <= ts < g.add(start)
    assert g.floor(start) == start


@given(st.integers(1, 200), st.integers(1, 50))
def test_split_tiles_the_window(hours: int, max_hours: int) -> None:
    start = parse_ts("2026-01-01")
    window = TimeWindow(start, start + hours * 3600)
    parts = window.split(G("1h"), max_hours * 3600)
    assert parts[0].start == window.start and parts[-1].end == window.end
    assert all(a.end == b.start for a, b in itertools.pairwise(parts))
    assert all(p.seconds <= max_hours * 3600 for p in parts)


@pytest.mark.parametrize(
    ("text", "ts"),
    [("2026-11-01", "2026-11-01T00:00:00Z"), ("2026-11-01T12:30", "2026-11-01T12:30:00Z"),
     ("2026-11-01T12:30:00+02:00", "2026-11-01T10:30:00Z"), ("2026-11-01 08:00:00Z", "2026-11-01T08:00:00Z")],
)  # fmt: skip
def test_parse_ts(text: str, ts: str) -> None:
    assert format_ts(parse_ts(text)) == ts


def test_parse_ts_rejects_junk() -> None:
    with pytest.raises(ValueError):
        parse_ts("last tuesday")
