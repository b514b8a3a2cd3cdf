"""Frames: typed columns, the builder decoders use, and the reducers the engine uses."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from querylang.frames import Frame, FrameBuilder, to_number


def test_columns_are_typed_arrays() -> None:
    b = FrameBuilder(("region",), ("bytes",))
    b.add_series(("eu",), "bytes", [[0, "5"], [60, 7]])
    frame = b.build()
    assert frame.time.dtype == np.int64
    assert frame.metrics["bytes"].dtype == np.float64
    assert frame.dims["region"].dtype == object


def test_builder_joins_metrics_of_one_series() -> None:
    b = FrameBuilder(("host",), ("a", "b"))
    b.add_series(("x",), "a", [[0, 1], [60, 2]])
    b.add_series(("x",), "b", [[60, 20], [120, 30]])
    rows = list(b.build().rows())
    assert rows[0] == (0, "x", 1.0, rows[0][3]) and math.isnan(rows[0][3])
    assert rows[1] == (60, "x", 2.0, 20.0)
    assert rows[2][:3] == (120, "x", 30.0) or math.isnan(rows[2][2])


def test_builder_rejects_repeats_and_junk() -> None:
    b = FrameBuilder((), ("a",))
    b.add_point((), 0, {"a": 1})
    b.add_point((), 0, {"a": 2})
    with pytest.raises(ValueError, match="repeats"):
        b.build()
    with pytest.raises(ValueError):
        FrameBuilder((), ("a",)).add_series((), "a", [[0]])
    with pytest.raises(ValueError):
        to_number({"x": 1})
    assert math.isnan(to_number(None)) and to_number("0.5") == 0.5


def _frame() -> Frame:
    return Frame(
        np.array([0, 60, 120, 0, 60, 120]),
        {"h": np.array(["a", "a", "a", "b", "b", "b"], dtype=object)},
        {
            "n": np.array([1.0, 2.0, np.nan, 10.0, 20.0, 30.0]),
            "peak": np.array([5.0, 1.0, 3.0, 2.0, 9.0, 1.0]),
            "at": np.array([100.0, 200.0, 300.0, 400.0, 500.0, 600.0]),
        },
    )


def test_aggregate_reducers() -> None:
    f = _frame()
    target = np.zeros(6, dtype=np.int64)
    out = f.aggregate(
        ["h"],
        {"n": "sum", "peak": "max", "at": "at_max:peak"},
        time=target,
    )
    rows = list(out.rows())
    assert rows == [(0, "a", 3.0, 5.0, 100.0), (0, "b", 60.0, 9.0, 500.0)]
    means = f.aggregate(["h"], {"n": "mean", "peak": "min", "at": "last"}, time=target)
    assert list(means.rows()) == [(0, "a", 1.5, 1.0, 300.0), (0, "b", 20.0, 1.0, 600.0)]


def test_all_null_group_stays_null() -> None:
    f = Frame(np.array([0, 0]), {}, {"n": np.array([np.nan, np.nan])})
    out = f.aggregate([], {"n": "sum"})
    assert math.isnan(out.metrics["n"][0])


def test_sort_and_duplicates() -> None:
    f = _frame().take(np.array([5, 0, 3, 1]))
    s = f.sort()
    assert s.time.tolist() == [0, 0, 60, 120]
    assert s.dims["h"].tolist() == ["a", "b", "a", "b"]
    assert f.duplicate_keys(["h"]) == 0
    assert Frame.concat([f, f], ["h"], ["n"]).duplicate_keys(["h"]) == 4


def test_to_pandas() -> None:
    pd = pytest.importorskip("pandas")
    df = _frame().to_pandas()
    assert list(df.columns) == ["time", "h", "n", "peak", "at"]
    assert str(df["time"].dt.tz) == "UTC"
    assert df["n"].isna().sum() == 1
    assert df.loc[4, "peak"] == 9.0
    assert isinstance(df, pd.DataFrame)


def test_to_arrow() -> None:
    pa = pytest.importorskip("pyarrow")
    table = _frame().to_arrow()
    assert table.column_names == ["time", "h", "n", "peak", "at"]
    assert table.schema.field("time").type == pa.timestamp("s", tz="UTC")
    assert table.column("n").null_count == 1


@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.sampled_from(["a", "b", "c"]), st.integers(-3, 3)),
        min_size=1,
        max_size=60,
    ),
    st.sampled_from([1, 60, 3600, 10**9]),
)
def test_grouping_matches_a_sort_based_reference(rows: list, scale: int) -> None:
    time = np.array([t * scale for t, _, _ in rows], dtype=np.int64)
    frame = Frame(
        time,
        {"d": np.array([d for _, d, _ in rows], dtype=object)},
        {"v": np.array([v for _, _, v in rows], dtype=np.float64)},
    )
    out = frame.aggregate(["d"], {"v": "sum"})
    expected: dict[tuple, float] = {}
    for t, d, v in rows:
        expected[(t * scale, d)] = expected.get((t * scale, d), 0.0) + v
    assert [(r[0], r[1]) for r in out.rows()] == sorted(expected)
    assert [r[2] for r in out.rows()] == [expected[k] for k in sorted(expected)]


def test_a_response_body_is_parsed_once_and_reads_what_the_stdlib_reads() -> None:
    import json

    from querylang.wire import NativeResponse

    body = b'{"series": [[1, 2.5], [2, null]], "odd": NaN, "big": 123456789012345678901234567890}'
    response = NativeResponse(status=200, headers={}, content=body)
    first = response.json()
    assert first is response.json()  # check and decode share one tree
    assert json.dumps(first) == json.dumps(json.loads(body))  # NaN and big ints as before
    with pytest.raises(ValueError):
        NativeResponse(status=200, headers={}, content=b'{"truncated": [1, 2').json()


def _by_hand(points: list) -> tuple[list[int], list[float]]:
    """What a series should hold, point by point, as the builder documents it."""
    times = [int(to_number(t)) for t, *_ in points]
    return times, [to_number(v) for _, v, *_ in points]


@pytest.mark.parametrize(
    "points",
    [
        [[0, 1], [60, 2]],  # ints: the numpy path
        [[0, 1.5], [60.9, -2.25]],  # float times truncate like int()
        [[0, 1, "extra"], [60, 2, None]],  # extra fields are ignored
        [(0, 3), (60, 4)],  # tuples (decoders pass sorted dict items)
        [[0, None], [60, "7"], [120, " null "]],  # nulls and numeric strings
        [[0, None], [60, 2], [120, None]],  # nulls among numbers: the numpy path, NaN
        [[0, None, 5], [60, 2, None]],  # and in the ignored extra fields
        [["60", 1], [0, 2.0]],  # a numeric-string time
        [[2**62, 1.0], [0, 2.5]],  # a time a float64 does not hold exactly
        [[0, 2**70], [60, 1]],  # a value past int64
        [[60, 1], [0, 2], [120, 3]],  # out of order
        [],
    ],
)
def test_series_paths_hold_the_same_values(points: list) -> None:
    b = FrameBuilder(("k",), ("m",))
    b.add_series(("x",), "m", points)
    frame = b.build()
    times, values = _by_hand(points)
    order = np.argsort(times, kind="stable")
    assert frame.time.tolist() == [times[i] for i in order]
    expected = [values[i] for i in order]
    got = frame.metrics["m"].tolist()
    assert [math.isnan(v) for v in got] == [math.isnan(v) for v in expected]
    assert [v for v in got if not math.isnan(v)] == [v for v in expected if not math.isnan(v)]
    assert frame.dims["k"].tolist() == ["x"] * len(points)


@pytest.mark.parametrize(
    "points",
    [
        [[0, True]],  # a bool is not a number (numpy would read it as 1)
        [[False, 1]],
        [[0, 1], [60]],  # a short point among good ones
        [[0, 1], 5],
        ["ab"],
        [[None, 1]],  # a missing time
        [[math.inf, 1]],
        [[0, {"v": 1}]],
        [[0, [1]]],
    ],
)
def test_malformed_series_raise_value_error(points: list) -> None:
    b = FrameBuilder((), ("m",))
    with pytest.raises((ValueError, OverflowError)):
        b.add_series((), "m", points)
        b.build()


@given(
    st.lists(
        st.tuples(
            st.integers(0, 10**6),
            st.one_of(st.integers(-(10**12), 10**12), st.floats(allow_nan=False), st.none()),
        ),
        max_size=30,
        unique_by=lambda p: p[0],
    )
)
def test_series_values_match_a_point_by_point_reading(pairs: list) -> None:
    points = [list(p) for p in pairs]
    b = FrameBuilder(("k",), ("m",))
    b.add_series(("x",), "m", points)
    frame = b.build()
    expected = dict(zip(*_by_hand(points), strict=True))
    got = dict(zip(frame.time.tolist(), frame.metrics["m"].tolist(), strict=True))
    assert got.keys() == expected.keys()
    for t, v in expected.items():
        assert (math.isnan(v) and math.isnan(got[t])) or got[t] == v


def test_series_keys_become_one_label_per_row() -> None:
    b = FrameBuilder(("a", "b"), ("m",))
    b.add_series(("x", None), "m", [[0, 1], [60, 2]])
    b.add_series(("y", "z"), "m", [[0, 3]])
    b.add_point(("y", "z"), 60, {"m": "4"})
    frame = b.build()
    assert list(frame.rows()) == [
        (0, "x", None, 1.0),
        (60, "x", None, 2.0),
        (0, "y", "z", 3.0),
        (60, "y", "z", 4.0),
    ]


def test_a_large_body_parses_with_the_collector_restored_after() -> None:
    import gc
    import json

    from querylang.wire import NativeResponse

    tree = {"data": [[i, i / 2] for i in range(200_000)]}
    content = json.dumps(tree).encode()
    assert len(content) > 1 << 20  # large enough for the paused path
    assert gc.isenabled()
    assert NativeResponse(status=200, headers={}, content=content).json() == tree
    assert gc.isenabled()
    gc.disable()
    try:  # a caller that paused the collector itself keeps it paused
        NativeResponse(status=200, headers={}, content=content).json()
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(ValueError):
        NativeResponse(status=200, headers={}, content=content[:-1] + b"]" * 2).json()
    assert gc.isenabled()


def test_a_series_may_be_any_iterable_of_points() -> None:
    b = FrameBuilder((), ("m",))
    b.add_series((), "m", iter([[0, 1], [60, 2]]))  # type: ignore[arg-type]
    assert b.build().metrics["m"].tolist() == [1.0, 2.0]
