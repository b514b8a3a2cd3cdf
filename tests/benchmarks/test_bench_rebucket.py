"""Benchmark (issue #14, row 8): re-bucket a year of 5-minute data for 200 series to days.

Not part of the default test run. Run with:
    pytest tests/benchmarks/test_bench_rebucket.py -p no:cacheprovider -o addopts="" -s

querylang's side is the chain of post-steps the planner emits for ``SELECT bytes BY
resource ... EVERY 1d`` over native 5-minute buckets, run by ``aggregation.finish`` on the
merged frame exactly as a run does: Combine (merge the pieces), Rebucket (sum each day,
null where a part is missing), Fill (every series gets every day), Shape (columns and
order). The frame is built the way decoding builds it (``FrameBuilder.add_series``, one
call per series), so its resource column is categorical: codes plus a label table. The
baseline is what a user would write with pandas on the same data: a DataFrame of the three
columns (the resource labels as the object array a user holds) and
``groupby([resource, day])["bytes"].sum()``. The goal is a ratio <= 1.0 (querylang no
slower than pandas); the median of paired, interleaved runs is printed.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import pytest

from querylang.frames import Frame, FrameBuilder
from querylang.steps import Combine, Fill, Rebucket, Shape
from querylang.timegrid import Granularity, TimeWindow

pd = pytest.importorskip("pandas")

SERIES = 200
BUCKETS = 365 * 24 * 12
START = 1_735_689_600  # 2025-01-01T00:00:00Z
WINDOW = TimeWindow(START, START + 365 * 86400)
ROUNDS = 5


@pytest.fixture(scope="module")
def year() -> Frame:
    times = START + 300 * np.arange(BUCKETS, dtype=np.int64)
    values = np.random.default_rng(7).integers(0, 10**9, (SERIES, BUCKETS))
    builder = FrameBuilder(("resource",), ("bytes",))
    for i in range(SERIES):  # as a decoder adds them: [[unix_ts, value], ...] per series
        points = np.column_stack((times, values[i])).tolist()
        builder.add_series((f"resource-{i}",), "bytes", points)
    frame = builder.build()
    assert len(frame.dims["resource"]) == SERIES * BUCKETS  # the labels pandas is given
    return frame


STEPS = (
    Combine(dims=("resource",), rules={"bytes": "sum"}, provider="bench", reason="merge"),
    Rebucket(
        grain=Granularity(5, "m"),
        every=Granularity(1, "d"),
        window=WINDOW,
        by=("resource",),
        reducers={"bytes": "sum"},
    ),
    Fill(mode="NULL", grid=Granularity(1, "d"), window=WINDOW, by=("resource",)),
    Shape(by=("resource",), outputs=(("bytes", "bytes"),)),
)


def _querylang(frame: Frame) -> tuple[Frame, float]:
    started = time.perf_counter()
    for step in STEPS:
        frame = step.apply(frame)
    return frame, time.perf_counter() - started


def _pandas(frame: Frame) -> tuple[object, float]:
    started = time.perf_counter()
    df = pd.DataFrame(
        {"time": frame.time, "resource": frame.dims["resource"], "bytes": frame.metrics["bytes"]}
    )
    df["day"] = df["time"] // 86400 * 86400
    out = df.groupby(["resource", "day"], sort=True)["bytes"].sum()
    return out, time.perf_counter() - started


def test_rebucket_a_year_to_days(year: Frame) -> None:
    ratios = []
    for i in range(ROUNDS):  # interleaved: each side goes first in every other round
        if i % 2 == 0:
            ours, took = _querylang(year)
            theirs, baseline = _pandas(year)
        else:
            theirs, baseline = _pandas(year)
            ours, took = _querylang(year)
        ratios.append(took / baseline)
    assert len(ours) == SERIES * 365
    # the same sums, derived independently: day totals of the raw values
    by_day = year.metrics["bytes"].reshape(SERIES, 365, 288).sum(axis=2)
    got = ours.metrics["bytes"].reshape(365, SERIES)  # sorted by time, then resource
    order = np.argsort([f"resource-{i}" for i in range(SERIES)])
    np.testing.assert_allclose(got, by_day[order].T)
    assert np.allclose(np.asarray(theirs.values).reshape(SERIES, 365), by_day[order])
    ratio = statistics.median(ratios)
    print(f"\nre-bucket a year of 5-minute data, 200 series, to days: {ratio:.2f}x pandas groupby "
          f"(goal <= 1.0x; runs {', '.join(f'{r:.2f}' for r in ratios)}; last "
          f"{took:.2f} s against {baseline:.2f} s)")  # fmt: skip
