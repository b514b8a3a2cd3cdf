"""Chunk merging, as a property: random windows and EVERY values against the Fastly emulator.

Fastly caps one call at 1,440 minutes, 744 hours or 366 days, so longer windows are cut
into chunks and merged. Whatever the window, every bucket comes back exactly once with
the total the emulator's formula (``synthetic.Account``) gives for that bucket: zero
lost, zero duplicated, exact sums. ``pytest -m long`` runs many more examples.
"""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import querylang
from querylang_providers.fastly import FastlyProvider
from querylang_providers.fastly.catalog import REGIONS
from querylang_providers.fastly.emulator import SERVICES, Account

NOW = 1_795_150_800  # 2026-11-20T05:00:00Z
GRAINS = {"1m": (60, 4 * 1440), "1h": (3600, 3 * 744), "1d": (86400, 400)}  # step, most buckets


def _iso(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@st.composite
def windows(draw: st.DrawFn) -> tuple[str, int, int]:
    every = draw(st.sampled_from(sorted(GRAINS)))
    step, most = GRAINS[every]
    history = {"1m": 30 * 86400, "1h": 360 * 86400, "1d": 700 * 86400}[every]
    last = (NOW - 86400) // step * step  # whole buckets, clear of the partial current day
    count = draw(st.integers(1, most))
    end = last - draw(st.integers(0, max(0, (history - count * step) // step))) * step
    return every, end - count * step, end


def _check(every: str, start: int, end: int) -> None:
    emulator = FastlyProvider().emulator(lambda: float(NOW))
    text = f"SELECT requests FROM fastly EVERY {every} BETWEEN '{_iso(start)}' AND '{_iso(end)}'"
    (result,) = querylang.run(
        text,
        now=_iso(NOW),
        env={"FASTLY_API_TOKEN": "fastly-token"},
        transport=httpx.MockTransport(emulator.handle),
    )
    step = GRAINS[every][0]
    starts = list(range(start, end, step))
    expected = Account(starts, [s + step for s in starts]).totals(
        "requests", list(SERVICES), REGIONS
    )
    rows = list(result.frame.rows())
    assert [r[0] for r in rows] == starts  # every bucket once, in order: none lost or doubled
    assert [r[1] for r in rows] == expected.tolist()  # exact sums


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(windows())
def test_chunked_windows_merge_exactly(window: tuple[str, int, int]) -> None:
    _check(*window)


@pytest.mark.long
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(windows())
def test_chunked_windows_merge_exactly_long(window: tuple[str, int, int]) -> None:
    _check(*window)
