"""Decode tests on the document's own examples (fixtures/), asserting exact frame values."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from querylang.frames import Frame
from tests.providers.kit import GCORE_STORAGE as kit
from tests.providers.kit import response

T0, T1, T2, T3 = 1632748614, 1632748615, 1632748616, 1632748617  # the document's timestamps
DAY = ["2021-09-27T00:00:00Z", "2021-09-28T00:00:00Z"]
COUNTERS = (
    "traffic",
    "traffic_in",
    "traffic_out_edges",
    "traffic_out_wo_edges",
    "requests",
    "requests_in",
    "requests_out_edges",
    "requests_out_wo_edges",
)


def decode(name: str | bytes | dict, metrics: tuple[str, ...], group_by=(), window=DAY) -> Frame:
    spec = {"metrics": list(metrics), "group_by": list(group_by), "window": window}
    query = kit.native_query(spec)
    p = kit.provider()
    (request,) = p.compile(query, kit.context())
    content = kit.fixture(name) if isinstance(name, str) else name
    frame = p.decode(query, request, response(content))
    assert list(frame.dims) == list(group_by)
    assert list(frame.metrics) == list(metrics)
    return frame


def rows(frame: Frame) -> list[tuple[Any, ...]]:
    out = [
        tuple(None if isinstance(v, float) and math.isnan(v) else v for v in row)
        for row in frame.rows()
    ]
    return sorted(out, key=lambda r: tuple(str(v) for v in r))


def test_requests_in_example_under_one_storage() -> None:
    frame = decode("seed_requests_in.json", ("requests_in",), ("client", "location", "storage"))
    key = (123, "s-region-1", "123-myStorage")
    assert rows(frame) == [(T0, *key, 1.0), (T1, *key, 2.0), (T2, *key, 2.0), (T3, *key, 1.0)]
    assert frame.time.dtype.kind == "i"


def test_every_series_of_the_document() -> None:
    metrics = (*COUNTERS, "size_max", "size_mean", "size_bytes_hour")
    frame = decode("seed_one_storage.json", metrics, ("storage",))
    ex = {T0: 1.0, T1: 2.0, T2: 2.0, T3: 1.0}
    hours = {T0: 10245210.0, T1: 30245210.0, T2: 30245210.0, T3: 35245210.0}
    assert rows(frame) == [
        (t, "123-myStorage", *([ex[t]] * 10), hours[t]) for t in (T0, T1, T2, T3)
    ]


def test_buckets_series_example() -> None:
    frame = decode("seed_one_storage.json", ("bucket_files",), ("bucket",))
    assert rows(frame) == [
        (T0, "bucketA", 1.0),
        (T1, "bucketA", 2.0),
        (T2, "bucketA", 2.0),
        (T3, "bucketA", 1.0),
    ]


def test_ts_string_timestamps_decode_to_the_same_frame() -> None:
    metrics = (*COUNTERS, "size_mean", "size_bytes_hour")
    plain = decode("seed_one_storage.json", metrics, ("client", "storage"))
    strings = decode("seed_ts_string.json", metrics, ("client", "storage"))
    assert rows(strings) == rows(plain)
    buckets = decode("seed_ts_string.json", ("bucket_files",), ("bucket",))
    assert [r[0] for r in rows(buckets)] == [T0, T1, T2, T3]


@pytest.mark.parametrize(
    ("group_by", "expected"),
    [
        ((), [(T0, 102.0), (T1, 204.0), (T2, 304.0), (T3, 402.0)]),
        (
            ("client",),
            [
                (T0, 123, 2.0),
                (T0, 456, 100.0),
                (T1, 123, 4.0),
                (T1, 456, 200.0),
                (T2, 123, 4.0),
                (T2, 456, 300.0),
                (T3, 123, 2.0),
                (T3, 456, 400.0),
            ],
        ),
        (
            ("location",),
            [
                (T0, "s-region-1", 1.0),
                (T0, "s-region-2", 101.0),
                (T1, "s-region-1", 2.0),
                (T1, "s-region-2", 202.0),
                (T2, "s-region-1", 2.0),
                (T2, "s-region-2", 302.0),
                (T3, "s-region-1", 1.0),
                (T3, "s-region-2", 401.0),
            ],
        ),
        (
            ("storage", "client"),
            [
                (T0, "123-media", 123, 1.0),
                (T0, "123-myStorage", 123, 1.0),
                (T0, "456-archive", 456, 100.0),
                (T1, "123-media", 123, 2.0),
                (T1, "123-myStorage", 123, 2.0),
                (T1, "456-archive", 456, 200.0),
                (T2, "123-media", 123, 2.0),
                (T2, "123-myStorage", 123, 2.0),
                (T2, "456-archive", 456, 300.0),
                (T3, "123-media", 123, 1.0),
                (T3, "123-myStorage", 123, 1.0),
                (T3, "456-archive", 456, 400.0),
            ],
        ),
    ],
)
def test_levels_not_grouped_are_added_up(group_by: tuple[str, ...], expected: list) -> None:
    assert rows(decode("seed_many_storages.json", ("traffic",), group_by)) == expected


def test_size_mean_adds_up_and_size_max_stays_per_storage() -> None:
    mean = decode("seed_many_storages.json", ("size_mean",), ("location",))
    assert [r for r in rows(mean) if r[1] == "s-region-2"] == [
        (T0, "s-region-2", 2.0),
        (T1, "s-region-2", 4.0),
        (T2, "s-region-2", 4.0),
        (T3, "s-region-2", 2.0),
    ]
    peak = decode("seed_many_storages.json", ("size_max",), ("storage",))
    assert [r for r in rows(peak) if r[1] == "123-media"] == [
        (T0, "123-media", 4.0),
        (T1, "123-media", 1.0),
        (T2, "123-media", 3.0),
        (T3, "123-media", None),  # null stays "no value"
    ]


def test_same_named_buckets_take_the_max_never_the_sum() -> None:
    frame = decode("seed_many_storages.json", ("bucket_files",), ("bucket",))
    assert rows(frame) == [
        (T0, "bucketA", 1.0),
        (T0, "images", 5.0),
        (T1, "bucketA", 2.0),
        (T1, "images", 7.0),
        (T2, "bucketA", 2.0),
        (T3, "bucketA", 1.0),
    ]
    split = decode("seed_many_storages.json", ("bucket_files",), ("storage", "bucket"))
    assert len(split) == 4 * 3 + 2


def test_same_named_storage_in_two_locations_takes_the_max_size() -> None:
    body = {
        "data": {
            "clients": {
                "123": {
                    "locations": {
                        "s-region-1": {
                            "storages": {"123-x": {"size_max_series": [[T0, 5], [T1, 1]]}}
                        },
                        "s-region-2": {
                            "storages": {"123-x": {"size_max_series": [[T0, 3], [T1, 4]]}}
                        },
                    }
                }
            }
        }
    }
    frame = decode(body, ("size_max",), ("storage",))
    assert rows(frame) == [(T0, "123-x", 5.0), (T1, "123-x", 4.0)]


def test_rows_outside_the_window_are_dropped() -> None:
    window = ["2021-09-27T13:16:55Z", "2021-09-27T13:16:57Z"]
    frame = decode("seed_one_storage.json", ("requests_in",), (), window)
    assert rows(frame) == [(T1, 2.0), (T2, 2.0)]


def test_no_data_is_an_empty_frame() -> None:
    frame = decode(kit.fixture("seed_empty.json"), ("traffic", "size_mean"), ("location",))
    assert len(frame) == 0
    assert frame.columns == ["time", "location", "traffic", "size_mean"]


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"", "empty body"), (b'{"data": null}', "no 'data'"), (b"{}", "no 'data'"),
     (b'{"data": {}}', "no 'data.clients'")],
)  # fmt: skip
def test_empty_or_data_less_answer_is_an_error(content: bytes, words: str) -> None:
    # Issue 19: the document has no empty answer; these lost 216 of 2,448 points silently.
    with pytest.raises(ValueError, match=words):
        decode(content, ("traffic", "size_mean"), ("location",))


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (json.loads(kit.fixture("seed_error.json")), "invalid granularity: 2h"),
        ({"data": {"clients": []}}, "data.clients is not an object"),
        ({"data": {"clients": {"abc": {"locations": {}}}}}, "not a client ID"),
        (
            {
                "data": {
                    "clients": {
                        "1": {"locations": {"l": {"storages": {"s": {"traffic_series": {"a": 1}}}}}}
                    }
                }
            },
            "traffic_series is not a list",
        ),
        (
            {
                "data": {
                    "clients": {
                        "1": {
                            "locations": {
                                "l": {"storages": {"s": {"traffic_series": [[T0, 1], [T0, 2]]}}}
                            }
                        }
                    }
                }
            },
            "repeats the timestamp",
        ),
        ([1, 2], "not a JSON object"),
    ],
)
def test_malformed_answers_raise_value_error(body: Any, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        decode(json.dumps(body).encode(), ("traffic",), ())
