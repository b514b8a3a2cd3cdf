"""Categorical dimension columns: codes into a label table, and what frames do with them.

Every expected value here is written out by hand from the rows each test builds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from querylang.categorical import Categorical, code_dtype
from querylang.frames import Frame, FrameBuilder
from querylang.steps import Filter, Standardize


def _built(series: dict[str, list[list[float]]], dim: str = "d") -> Frame:
    b = FrameBuilder((dim,), ("m",))
    for label, points in series.items():
        b.add_series((label,), "m", points)
    return b.build()


def test_a_decoded_frame_codes_each_series_once_and_gives_its_labels_back() -> None:
    frame = _built({"b": [[0, 1], [60, 2]], "a": [[0, 3]], "c": [[0, 4], [60, 5], [120, 6]]})
    col = frame.dims.column("d")
    assert col.labels.tolist() == ["b", "a", "c"]  # first seen first
    assert col.codes.tolist() == [0, 0, 1, 2, 2, 2]
    assert col.codes.dtype == np.uint8
    assert frame.dims["d"].tolist() == ["b", "b", "a", "c", "c", "c"]
    assert frame.dims["d"].dtype == object
    assert list(frame.rows())[2] == (0, "a", 3.0)


def test_labels_given_as_objects_round_trip() -> None:
    values = np.array(["x", None, "x", 7, None], dtype=object)
    col = Categorical.from_values(values)
    assert col.values is values  # kept as given, not rebuilt
    assert col.labels.tolist() == ["x", None, 7]
    assert col.codes.tolist() == [0, 1, 0, 2, 1]
    assert col.labels[col.codes].tolist() == ["x", None, "x", 7, None]
    b = FrameBuilder(("pair",), ("m",))  # a label that is itself a tuple stays one label
    b.add_series((("a", 1),), "m", [[0, 1]])
    b.add_series((("b", 2),), "m", [[0, 2]])
    assert b.build().dims["pair"].tolist() == [("a", 1), ("b", 2)]


def test_concat_merges_label_tables_and_remaps_codes() -> None:
    one = _built({"x": [[0, 1]], "y": [[0, 2], [60, 3]]})
    two = _built({"z": [[60, 4]], "y": [[120, 5]]})
    both = Frame.concat([one, two], ["d"], ["m"])
    col = both.dims.column("d")
    assert col.labels.tolist() == ["x", "y", "z"]
    assert col.codes.tolist() == [0, 1, 1, 2, 1]
    assert both.dims["d"].tolist() == ["x", "y", "y", "z", "y"]
    assert both.time.tolist() == [0, 0, 60, 60, 120]
    assert both.metrics["m"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]


def test_concat_of_codes_runs_and_objects_together() -> None:
    runs = _built({"p": [[0, 1]], "q": [[0, 2]]})
    coded = runs.take(np.array([1, 0]))  # per-row codes now
    objects = Frame(np.array([60]), {"d": np.array(["r"], object)}, {"m": np.array([3.0])})
    both = Frame.concat([runs, coded, objects], ["d"], ["m"])
    assert both.dims["d"].tolist() == ["p", "q", "q", "p", "r"]
    assert both.dims.column("d").labels.tolist() == ["p", "q", "r"]


def test_grouping_uses_label_order_not_code_order() -> None:
    frame = _built({"b": [[0, 1], [60, 2]], "a": [[0, 10], [60, 20]], "c": [[0, 100]]})
    by_label = frame.aggregate(["d"], {"m": "sum"}, time=np.zeros(len(frame), np.int64))
    assert by_label.dims["d"].tolist() == ["a", "b", "c"]
    assert by_label.metrics["m"].tolist() == [30.0, 3.0, 100.0]
    rows = frame.sort()
    assert [(t, d) for t, d, _ in rows.rows()] == [
        (0, "a"),
        (0, "b"),
        (0, "c"),
        (60, "a"),
        (60, "b"),
    ]


def test_a_label_missing_in_one_piece() -> None:
    one = _built({"x": [[0, 1], [60, 2]], "y": [[0, 5]]})
    two = _built({"x": [[120, 3]]})  # y has no rows here; its table has only x
    both = Frame.concat([one, two], ["d"], ["m"])
    out = both.aggregate(["d"], {"m": "sum"}, time=np.zeros(len(both), np.int64))
    assert out.dims["d"].tolist() == ["x", "y"]
    assert out.metrics["m"].tolist() == [6.0, 5.0]


def test_unused_labels_are_not_groups() -> None:
    frame = _built({"x": [[0, 1]], "y": [[0, 2]], "z": [[0, 4]]})
    kept = Filter(dimension="d", op="not_in", values=("y",)).apply(frame)
    assert kept.dims.column("d").labels.tolist() == ["x", "y", "z"]  # the table is shared
    assert kept.dims["d"].tolist() == ["x", "z"]
    out = kept.aggregate(["d"], {"m": "sum"})
    assert out.dims["d"].tolist() == ["x", "z"] and out.metrics["m"].tolist() == [1.0, 4.0]


def test_empty_frames() -> None:
    empty = FrameBuilder(("d",), ("m",)).build()
    assert len(empty) == 0 and list(empty.dims) == ["d"] and empty.dims["d"].tolist() == []
    assert empty.aggregate(["d"], {"m": "sum"}).dims["d"].tolist() == []
    full = _built({"x": [[0, 1]]})
    both = Frame.concat([empty, full, Frame.empty(["d"], ["m"])], ["d"], ["m"])
    assert both.dims["d"].tolist() == ["x"] and both.metrics["m"].tolist() == [1.0]
    none = full.take(np.zeros(1, dtype=bool))
    assert len(none) == 0 and none.dims["d"].tolist() == []


def test_a_series_without_points_keeps_its_label_but_no_rows() -> None:
    frame = _built({"x": [[0, 1]], "gone": [], "y": [[0, 2]]})
    assert frame.dims.column("d").labels.tolist() == ["x", "gone", "y"]
    assert frame.dims["d"].tolist() == ["x", "y"]


def test_a_mask_keeps_runs_and_the_labels_stay_right() -> None:
    frame = _built({"x": [[0, 1], [60, 2], [120, 3]], "y": [[0, 4], [60, 5]]})
    kept = frame.take(np.array([False, True, True, True, False]))
    assert kept.dims["d"].tolist() == ["x", "x", "y"]
    assert kept.time.tolist() == [60, 120, 0]
    with pytest.raises(IndexError):
        frame.dims.column("d").take(np.array([True, False]))


def test_a_decoded_frame_holds_time_and_values_and_a_run_per_series() -> None:
    frame = _built({"x": [[t, 1] for t in range(0, 6000, 60)], "y": [[0, 2]]})
    arrays = frame.time.nbytes + frame.metrics["m"].nbytes  # 101 rows x (8 + 8) bytes
    runs = 2 * (1 + 8)  # two runs: a uint8 code and an int64 length each
    assert frame.nbytes == arrays + runs + 2 * 8  # plus the two-label table
    frame.dims["d"]  # the labels row by row, made on request, are then held too
    assert frame.nbytes == arrays + runs + 2 * 8 + 101 * 8


def test_tags_are_one_label_each() -> None:
    frame = _built({"x": [[0, 1]], "y": [[0, 2]]})
    step = Standardize(provider="gcore", columns=(("m", (("m", 2.0),)),), account="prod")
    out = step.apply(frame)
    assert list(out.dims) == ["provider", "account", "d"]
    assert out.dims["provider"].tolist() == ["gcore", "gcore"]
    assert out.dims["account"].tolist() == ["prod", "prod"]
    assert out.dims.column("provider").labels.tolist() == ["gcore"]
    assert out.metrics["m"].tolist() == [2.0, 4.0]


def test_filter_tests_labels_by_equality() -> None:
    frame = Frame(
        np.array([0, 0, 0, 0]),
        {"d": np.array([1, "1", None, 2], dtype=object)},
        {"m": np.array([1.0, 2.0, 3.0, math.nan])},
    )
    assert Filter(dimension="d", op="in", values=(1, 2)).apply(frame).dims["d"].tolist() == [1, 2]
    kept = Filter(dimension="d", op="not_in", values=("1",)).apply(frame)
    assert kept.dims["d"].tolist() == [1, None, 2]


def test_a_sorted_frame_is_not_copied() -> None:
    frame = _built({"a": [[0, 1]], "b": [[0, 2]]})
    assert frame.sort() is frame
    unsorted = _built({"b": [[0, 2]], "a": [[0, 1]]})
    assert unsorted.sort().dims["d"].tolist() == ["a", "b"]


def test_code_width_follows_the_label_count() -> None:
    assert code_dtype(256) == np.uint8 and code_dtype(257) == np.uint16
    assert code_dtype(1 << 16) == np.uint16 and code_dtype((1 << 16) + 1) == np.uint32
    many = Categorical.from_values(np.array([f"r{i}" for i in range(300)] * 2, dtype=object))
    assert many.codes.dtype == np.uint16 and many.codes[300:].tolist() == list(range(300))
