"""Post-steps pass columns on instead of copying them, where nothing changes (issue #14).

The values are written out by hand; what is checked beyond them is that the arrays are
the very same objects (``is``), so no copy of the frame was made.
"""

from __future__ import annotations

import numpy as np

from querylang.frames import Frame, FrameBuilder
from querylang.steps import Rebucket, TrimToWindow, floor_times
from querylang.timegrid import Granularity, TimeWindow

FIVE = Granularity(5, "m")


def _decoded() -> Frame:
    b = FrameBuilder(("host",), ("bytes",))
    b.add_series(("a",), "bytes", [[0, 1], [300, 2], [600, 3]])
    b.add_series(("b",), "bytes", [[0, 10], [300, 20]])
    return b.build()


def test_one_frame_is_passed_on_by_concat() -> None:
    frame = _decoded()
    out = Frame.concat([frame], ["host"], ["bytes", "packets"])
    assert out.time is frame.time and out.metrics["bytes"] is frame.metrics["bytes"]
    assert out.dims.column("host") is frame.dims.column("host")
    assert np.isnan(out.metrics["packets"]).all() and len(out) == 5


def test_trim_keeps_a_frame_inside_its_window_and_on_the_grid() -> None:
    frame = _decoded()
    step = TrimToWindow(grain=FIVE, window=TimeWindow(0, 900))
    assert step.apply(frame, TimeWindow(0, 900)) is frame
    trimmed = step.apply(frame, TimeWindow(300, 900))
    assert trimmed.time.tolist() == [300, 600, 300]
    assert trimmed.metrics["bytes"].tolist() == [2.0, 3.0, 20.0]
    assert trimmed.dims["host"].tolist() == ["a", "a", "b"]


def test_snapping_makes_a_time_column_only_when_a_time_is_off_the_grid() -> None:
    on = np.array([0, 300, 600], dtype=np.int64)
    assert floor_times(FIVE, on) is on
    off = np.array([0, 301, 899], dtype=np.int64)
    assert floor_times(FIVE, off).tolist() == [0, 300, 600]
    assert off.tolist() == [0, 301, 899]  # the input is left as it was


def test_rebucket_counts_the_native_parts_of_each_bucket() -> None:
    # 15-minute buckets over [0, 2700) from 5-minute parts; the window starts at 300, so
    # the first bucket has two parts (300, 600), the others three. One part is missing in
    # the last bucket of host a: that bucket is null, never the sum of the two left.
    b = FrameBuilder(("host",), ("bytes",))
    b.add_series(("a",), "bytes", [[t, 1] for t in (300, 600, 900, 1200, 1500, 1800, 2400)])
    step = Rebucket(
        grain=FIVE,
        every=Granularity(15, "m"),
        window=TimeWindow(300, 2700),
        by=("host",),
        reducers={"bytes": "sum"},
    )
    out = step.apply(b.build())
    assert out.time.tolist() == [0, 900, 1800]
    assert out.metrics["bytes"].tolist()[:2] == [2.0, 3.0]
    assert np.isnan(out.metrics["bytes"][2])
