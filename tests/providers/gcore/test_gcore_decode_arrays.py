"""Gcore CDN decode reads each series into numpy as it is found (querylang.jsonarrays).

Differential: the same bytes decoded with the whole body parsed first (the path every
answer took before) give the same frame, bit for bit and dtype for dtype, or the same
error with the same message: on hypothesis' answers of the documented shape with nulls,
numeric strings, floats, repeated or unsorted timestamps, rows of other shapes, odd
whitespace, and on those answers broken by one edit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import querylang_providers.gcore.wire.cdn as cdn
from querylang.frames import Frame, series_points
from querylang.jsonarrays import parse
from querylang.plugins import registry
from querylang.timegrid import Granularity, TimeWindow
from querylang.wire import NativeQuery, NativeRequest, NativeResponse

FIXTURES = Path(__file__).parent / "fixtures"
PROVIDER = registry().get("gcore")
METRICS = ("sent_bytes", "requests")


def _query(group_by: tuple[str, ...]) -> NativeQuery:
    return NativeQuery(
        dataset="cdn",
        metrics=METRICS,
        group_by=group_by,
        filters=(),
        granularity=Granularity(5, "m"),
        window=TimeWindow(1_735_689_600, 1_735_776_000),
    )


REQUEST = NativeRequest(
    provider="gcore",
    method="GET",
    url="https://api.gcore.com/cdn/statistics/series?service=CDN",
    metrics=METRICS,
    headers=(("Authorization", "APIKey k"),),
    secret_headers=("Authorization",),
)


def _decode(group_by: tuple[str, ...], body: bytes) -> Frame | str:
    try:
        response = NativeResponse(status=200, headers={}, content=body)
        return PROVIDER.decode(_query(group_by), REQUEST, response)
    except Exception as exc:  # the same failure, whatever it is, is what is compared
        return f"{type(exc).__name__}: {exc}"


def _decode_whole(group_by: tuple[str, ...], body: bytes) -> Frame | str:
    with pytest.MonkeyPatch.context() as m:
        m.setattr(cdn, "parse", lambda content, convert: None)  # the whole body, as before
        return _decode(group_by, body)


def _same(a: Frame | str, b: Frame | str) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    columns = [(a.time, b.time), *((a.metrics[k], b.metrics[k]) for k in b.metrics)]
    return (
        a.columns == b.columns
        and all(x.dtype == y.dtype and x.tobytes() == y.tobytes() for x, y in columns)
        and all(np.array_equal(a.dims[k], b.dims[k]) for k in b.dims)
        and all(a.dims[k].dtype == b.dims[k].dtype for k in b.dims)
    )


STAMP = st.one_of(
    st.integers(1_735_689_600, 1_735_689_600 + 300 * 20).map(lambda t: t - t % 300),
    st.integers(-(2**63), 2**64),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([None, "1735689600", True]),
)
VALUE = st.one_of(
    st.integers(0, 10**12),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([None, "5", " 7 ", "null", "x", False, 0, -0.0]),
)
ROW = st.one_of(
    st.tuples(STAMP, VALUE).map(list),
    st.tuples(STAMP, VALUE).map(list),
    st.lists(st.one_of(STAMP, VALUE), max_size=3),
    st.sampled_from([5, "x", None]),
)
CLEAN_ROW = st.tuples(STAMP.filter(lambda t: isinstance(t, int)), st.integers(0, 10**12)).map(list)
SERIES = st.one_of(st.lists(CLEAN_ROW, max_size=6), st.lists(ROW, max_size=6), st.just(5))
METRICS_NODE = st.fixed_dictionaries(
    {}, optional={"sent_bytes": SERIES, "requests": SERIES, "total_bytes": SERIES}
).map(lambda m: {"metrics": m})
BY_REGION = st.dictionaries(st.sampled_from(["eu", "asia", "na"]), METRICS_NODE, max_size=3).map(
    lambda d: {"region": d}
)
BY_RESOURCE = st.dictionaries(st.sampled_from(["1", "7", "42"]), BY_REGION, max_size=3).map(
    lambda d: {"resource": d}
)
ANSWERS = st.one_of(
    st.tuples(st.just(()), METRICS_NODE),
    st.tuples(st.just(("region",)), BY_REGION),
    st.tuples(st.just(("resource", "region")), BY_RESOURCE),
)


def _dumps(value: Any, style: int) -> bytes:
    if style == 0:
        return json.dumps(value, separators=(",", ":")).encode()
    if style == 1:
        return json.dumps(value).encode()
    return json.dumps(value, indent=style - 1).encode()


@settings(max_examples=300, suppress_health_check=list(HealthCheck))
@given(ANSWERS, st.integers(0, 3))
def test_an_answer_decodes_as_with_the_whole_body_parsed(
    answer: tuple[tuple[str, ...], Any], style: int
) -> None:
    group_by, tree = answer
    body = _dumps(tree, style)
    assert _same(_decode(group_by, body), _decode_whole(group_by, body)), body


@settings(max_examples=300, suppress_health_check=list(HealthCheck))
@given(ANSWERS, st.data())
def test_a_broken_answer_fails_or_decodes_as_before(
    answer: tuple[tuple[str, ...], Any], data: st.DataObject
) -> None:
    group_by, tree = answer
    body = _dumps(tree, 0)
    at = data.draw(st.integers(0, len(body)))
    byte = bytes([data.draw(st.sampled_from(b'[]{},:"\\0.-e \n'))])
    body = body[:at] + byte + body[at + data.draw(st.integers(0, 1)) :]
    assert _same(_decode(group_by, body), _decode_whole(group_by, body)), body


def test_the_documents_example_and_a_clean_answer_take_the_array_path() -> None:
    example = (FIXTURES / "series_example.json").read_bytes()
    tree = parse(example, series_points)
    assert tree is not None
    clean = json.dumps({"metrics": {"sent_bytes": [[1_735_689_600, 5], [1_735_689_900, 6]]}})
    points = parse(clean.encode(), series_points)["metrics"]["sent_bytes"]
    assert points.times.tolist() == [1_735_689_600, 1_735_689_900]
    assert points.values.tolist() == [5.0, 6.0]
    frame = _decode((), clean.encode())
    assert isinstance(frame, Frame)
    assert list(frame.rows())[1][:2] == (1_735_689_900, 6.0)
