"""Decode tests on the Fastly document's own example responses (fixtures/*.json)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from querylang.timegrid import Granularity, TimeWindow
from querylang.wire import NativeQuery, NativeRequest, NativeResponse
from querylang_providers.fastly import FastlyProvider

FIXTURES = Path(__file__).parent / "fixtures"
A, B, C = "6ElZZvtumbwtLBDJvFwepx", "5oYej0l0heMydtjaVPOq4z", "1jlmtMz1ncwA0KC3TBGD0X"


def body(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def decode(
    content: bytes,
    metrics: tuple[str, ...],
    group_by: tuple[str, ...] = (),
    tag: dict[str, str] | None = None,
    grain: str = "1d",
) -> list[tuple[Any, ...]]:
    """Decode ``content`` as the answer to a request for ``metrics``; rows sorted."""
    query = NativeQuery(
        dataset="stats",
        metrics=metrics,
        group_by=group_by,
        filters=(),
        granularity=Granularity.parse(grain),
        window=TimeWindow(1368000000, 1369000000),
    )
    request = NativeRequest(
        provider="fastly",
        method="GET",
        url="https://api.fastly.com/stats",
        metrics=metrics,
        tag=tag or {},
    )
    response = NativeResponse(status=200, headers={}, content=content)
    frame = FastlyProvider().decode(query, request, response)
    assert list(frame.dims) == list(group_by) and list(frame.metrics) == list(metrics)
    return sorted(frame.rows(), key=lambda r: tuple(str(x) for x in r[: 1 + len(group_by)]))


def same(rows: list[tuple[Any, ...]], expected: list[tuple[Any, ...]]) -> None:
    """Rows equal, NaN matching NaN."""
    assert len(rows) == len(expected)
    for got, want in zip(rows, expected, strict=True):
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            assert (isinstance(g, float) and math.isnan(g) and w is None) or g == w, (got, want)


def test_all_services_example_keyed_by_service_with_old_spellings() -> None:
    rows = decode(
        body("stats_all.json"),
        ("requests", "hit_ratio", "log", "imgopto", "miss_time", "tls_v13"),
        ("service",),
    )
    same(
        rows,
        [
            (1368662400, B, 751.0, 0.9893, 2088120.0, 1404.0, 1.198163271, None),
            (1368662400, A, 1925645.0, 0.9956, 2088120.0, 1404.0, 55.153864891000005, None),
        ],
    )


def test_field_example_hit_ratio_per_service() -> None:
    rows = decode(body("stats_field_hit_ratio.json"), ("hit_ratio",), ("service",), grain="1h")
    same(
        rows,
        [
            (1368716400, B, 0.9857),
            (1368716400, A, 0.0),
            (1368720000, B, 1.0),
            (1368720000, A, 0.9769),
            (1368723600, B, 1.0),
            (1368723600, A, 0.9944),
        ],
    )


def test_aggregate_example() -> None:
    rows = decode(
        body("stats_aggregate.json"), ("requests", "hits", "miss", "hits_time", "bandwidth")
    )
    same(
        rows,
        [
            (1368576000, 7022557.0, 1851903.0, 74773.0, 284.90881923000006, 33656143431.0),
            (1368662400, 7908607.0, 3455867.0, 114580.0, 751.2703607920007, 201478840738.0),
        ],
    )


def test_service_example_by_minute_with_null_hit_ratio() -> None:
    rows = decode(
        body("stats_service_minute.json"),
        ("requests", "pass", "hit_ratio", "status_3xx"),
        ("service",),
        tag={"service": C},
        grain="1m",
    )
    same(
        rows,
        [(1368734160, C, 21.0, 19.0, None, 2.0), (1368734220, C, 20.0, 17.0, None, 3.0)],
    )


def test_service_field_example_fills_region_from_the_request() -> None:
    rows = decode(
        body("stats_service_field_bandwidth.json"),
        ("bandwidth",),
        ("service", "region"),
        tag={"service": C, "region": "usa"},
    )
    same(rows, [(1368576000, C, "usa", 376983356.0), (1368662400, C, "usa", 322029360.0)])


def test_json_numbers_decode_like_strings() -> None:
    doc = json.loads(body("stats_aggregate.json"))
    for record in doc["data"]:
        for key, value in record.items():
            if isinstance(value, str):
                record[key] = float(value) if "." in value else int(value)
    as_numbers = decode(json.dumps(doc).encode(), ("requests", "hits_time", "hit_ratio"))
    as_strings = decode(body("stats_aggregate.json"), ("requests", "hits_time", "hit_ratio"))
    assert as_numbers == as_strings


def test_documented_spelling_wins_over_the_old_one_and_unknown_fields_are_ignored() -> None:
    doc = {
        "status": "success",
        "data": [
            {"start_time": 1368576000, "log": "5", "logging": "7", "img_opto": 3, "new_x": "1"}
        ],
    }
    rows = decode(json.dumps(doc).encode(), ("log", "imgopto"))
    assert rows == [(1368576000, 5.0, 3.0)]


def test_empty_data_is_an_empty_frame() -> None:
    for data in ([], {}):
        content = json.dumps({"status": "success", "msg": None, "data": data}).encode()
        assert decode(content, ("requests",), ("service",)) == []


@pytest.mark.parametrize(
    "content", [b"", b'{"status": "success", "msg": null, "data": null}', b'{"status": "success"}']
)
def test_missing_data_is_an_error_not_an_empty_frame(content: bytes) -> None:
    # Issue 19: an undocumented empty or data-less answer must not lose the piece silently.
    with pytest.raises(ValueError, match=r"empty body|no 'data'"):
        decode(content, ("requests",), ("service",))


@pytest.mark.parametrize(
    ("content", "group_by", "message"),
    [
        (b"<html>oops</html>", (), "Expecting value"),
        (b"[1, 2]", (), "not a JSON object"),
        (b'{"status": "success", "data": "x"}', (), "neither an object nor a list"),
        (b'{"status": "success", "data": {"a": 1}}', ("service",), "not a list of records"),
        (b'{"status": "success", "data": [{"requests": "1"}]}', (), "no start_time"),
        (b'{"status": "success", "data": [3]}', (), "expected a record object"),
        (b'{"status": "success", "data": [{"start_time": 1, "requests": "x"}]}', (), "x"),
        (b'{"status": "error", "msg": "bad", "data": null}', (), "bad"),
        (b'{"status": "success", "data": [{"start_time": 1}]}', ("region",), "which region"),
    ],
)
def test_malformed_answers_raise_value_error(
    content: bytes, group_by: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        decode(content, ("requests",), group_by)


@pytest.mark.parametrize(
    ("fixture", "metrics", "group_by", "tag"),
    [
        ("stats_all.json", ("requests", "log", "imgopto", "tls_v13"), ("service",), None),
        ("stats_aggregate.json", ("requests", "bandwidth"), (), None),
        ("stats_service_minute.json", ("requests", "hit_ratio"), ("service",), {"service": A}),
        ("stats_field_hit_ratio.json", ("hit_ratio",), ("service",), None),
    ],
)
def test_the_partial_decode_and_the_whole_tree_agree(
    monkeypatch: pytest.MonkeyPatch,
    fixture: str,
    metrics: tuple[str, ...],
    group_by: tuple[str, ...],
    tag: dict[str, str] | None,
) -> None:
    """Documented answers take the decoder that builds only the fields asked for; the
    general path (the whole tree, kept for answers of another shape) gives the same rows."""
    from querylang_providers.fastly import wire as stats

    taken: list[bool] = []
    real = stats._typed_rows

    def spy(*args: Any) -> Any:
        rows = real(*args)
        taken.append(rows is not None)
        return rows

    monkeypatch.setattr(stats, "_typed_rows", spy)
    fast = decode(body(fixture), metrics, group_by, tag)
    assert taken == [True]
    monkeypatch.setattr(stats, "_typed_rows", lambda *args: None)
    whole = decode(body(fixture), metrics, group_by, tag)
    assert len(fast) == len(whole) > 0
    same(
        fast,
        [tuple(None if isinstance(v, float) and math.isnan(v) else v for v in r) for r in whole],
    )
