"""Benchmarks: a year of 5-minute data for hundreds of series, as ratios to baselines.

Not part of the default test run. Run with:
    pytest tests/benchmarks -p no:cacheprovider -o addopts="" -s
Each figure is a ratio against a baseline measured in the same run on the same data, so
the numbers mean the same on a fast or a slow machine.
"""

from __future__ import annotations

import json
import time
import tracemalloc

import numpy as np
import pytest

from querylang.aggregation import floor_times
from querylang.frames import Frame, FrameBuilder
from querylang.timegrid import Granularity

SERIES = 200
BUCKETS = 365 * 24 * 12  # a year of 5-minute buckets
START = 1_735_689_600  # 2025-01-01


def _timed(fn):
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started


@pytest.fixture(scope="module")
def year() -> Frame:
    times = START + 300 * np.arange(BUCKETS, dtype=np.int64)
    labels = [f"resource-{i}" for i in range(SERIES)]
    dims = np.empty(SERIES * BUCKETS, dtype=object)
    for i, label in enumerate(labels):
        dims[i * BUCKETS : (i + 1) * BUCKETS] = label
    rng = np.random.default_rng(7)
    return Frame(
        np.tile(times, SERIES),
        {"resource": dims},
        {"bytes": rng.integers(0, 10**9, SERIES * BUCKETS).astype(np.float64)},
    )


def test_memory_per_row(year: Frame) -> None:
    """Bytes the frame holds per row, against 8 bytes for one float64 value."""
    rows = len(year)
    held = year.time.nbytes + year.dims["resource"].nbytes + year.metrics["bytes"].nbytes
    ratio = held / rows / 8
    print(f"\n{rows:,} rows; {held / 2**20:,.0f} MiB; {ratio:.1f}x one float64 per row")
    assert ratio <= 3.5  # time, a label reference and the value: no per-row objects


def test_rebucket_5m_to_1d(year: Frame) -> None:
    """Re-bucketing a year to days, against a plain numpy sum over the same values."""
    _, baseline = _timed(lambda: year.metrics["bytes"].sum())
    target = floor_times(Granularity(1, "d"), year.time)
    out, took = _timed(lambda: year.aggregate(["resource"], {"bytes": "sum"}, time=target))
    assert len(out) == SERIES * 365
    assert out.metrics["bytes"].sum() == pytest.approx(year.metrics["bytes"].sum())
    print(f"\nre-bucket {len(year):,} rows: {took:.2f} s = {took / baseline:,.0f}x a numpy sum")
    assert took / baseline < 20_000


def test_decode_against_json_parsing() -> None:
    """Building a frame from a decoded answer, against json.loads of that answer."""
    n_series, n_buckets = 50, 24 * 12 * 31  # a month of 5-minute data, 50 series
    points = [[START + 300 * i, i] for i in range(n_buckets)]
    payload = json.dumps({f"s{k}": points for k in range(n_series)})
    body, parse = _timed(lambda: json.loads(payload))

    def build() -> Frame:
        builder = FrameBuilder(("resource",), ("bytes",))
        for key, series in body.items():
            builder.add_series((key,), "bytes", series)
        return builder.build()

    frame, took = _timed(build)
    assert len(frame) == n_series * n_buckets
    print(f"\nframe from {len(frame):,} points: {took / parse:.1f}x json.loads of the body")
    assert took / parse < 25


def test_peak_memory_of_rebucketing(year: Frame) -> None:
    """Peak extra memory while re-bucketing, against the frame's own size."""
    held = year.time.nbytes + year.dims["resource"].nbytes + year.metrics["bytes"].nbytes
    target = floor_times(Granularity(1, "w"), year.time)
    tracemalloc.start()
    year.aggregate(["resource"], {"bytes": "sum"}, time=target)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"\npeak while re-bucketing: {peak / held:.1f}x the frame")
    assert peak / held < 8
