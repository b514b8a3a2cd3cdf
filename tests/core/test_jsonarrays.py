"""querylang.jsonarrays: a body parsed array by array gives what the whole parse gives.

The oracle is the whole body's parse as a decoder sees it (``NativeResponse.json``: orjson,
then the standard library), on bodies hypothesis writes: nested objects, arrays of rows
of every shape (numbers of every size and form, nulls, strings, bools, rows of other
lengths), strings holding brackets, odd whitespace, and bodies broken by one edit.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from querylang.frames import Points, series_points
from querylang.jsonarrays import parse
from querylang.wire import NativeResponse

NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70),
    st.integers(-(2**53) - 5, 2**53 + 5),
    st.integers(0, 2_000_000_000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=-1e6, max_value=1e6),
    st.sampled_from([0, -0.0, 0.0, 1e-320, 5e-324, 1.7976931348623157e308, 0.1, 1e22, 2**63]),
)
CELLS = st.one_of(
    NUMBERS,
    NUMBERS,
    NUMBERS,
    st.none(),
    st.booleans(),
    st.sampled_from(["1", "x", "[[1,2]]", "\\", '"', "", " 7 "]),
)
ROW = st.one_of(
    st.tuples(NUMBERS, NUMBERS).map(list),
    st.tuples(NUMBERS, NUMBERS).map(list),
    st.lists(CELLS, max_size=4),
)
ROWS = st.lists(ROW, max_size=8)
STAMPS = st.one_of(st.integers(0, 2**40), st.integers(0, 2**40), NUMBERS)
SERIES = st.lists(st.tuples(STAMPS, NUMBERS).map(list), min_size=1, max_size=8)  # mostly read
TEXT = st.one_of(
    st.text(max_size=8), st.sampled_from(["[[1,2]]", "a [[1, 2], [3, 4]] b", "]]", "[[", "\\["])
)
LEAVES = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT, ROWS, SERIES, SERIES)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=12,
)
BODIES = st.one_of(
    st.dictionaries(TEXT, st.one_of(SERIES, VALUES), min_size=1, max_size=4),
    st.dictionaries(TEXT, st.dictionaries(TEXT, st.one_of(SERIES, VALUES)), max_size=3),
    VALUES,
)


def _dumps(value: Any, style: int, ascii_only: bool) -> bytes:
    """The same value written as a vendor might: compact, spaced, indented, or with tabs."""
    if style == 0:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=ascii_only).encode()
    if style == 1:
        return json.dumps(value, ensure_ascii=ascii_only).encode()
    if style == 2:
        return json.dumps(value, indent=2, ensure_ascii=ascii_only).encode()
    text = json.dumps(value, indent="\t", ensure_ascii=ascii_only)
    return text.replace("\n", "\r\n").encode()


def _whole(body: bytes) -> Any:
    return NativeResponse(status=200, headers={}, content=body).json()


def _same(ours: Any, whole: Any, every: bool = False) -> bool:
    """``ours`` is ``whole`` with some row arrays (``every``: each one the builder reads in
    one step) as the Points the builder makes of them."""
    readable = isinstance(whole, list) and series_points(whole) is not None
    if every and readable and not isinstance(ours, Points):
        return False
    if isinstance(ours, Points):
        if not isinstance(whole, list):
            return False
        expected = series_points(whole)
        return (
            expected is not None
            and ours.times.dtype == np.int64
            and ours.values.dtype == np.float64
            and ours.times.tobytes() == expected.times.tobytes()
            and ours.values.tobytes() == expected.values.tobytes()
        )
    if type(ours) is not type(whole):
        return False
    if isinstance(ours, dict):
        return list(ours) == list(whole) and all(_same(ours[k], whole[k], every) for k in ours)
    if isinstance(ours, list):
        pairs = zip(ours, whole, strict=False)  # the lengths are compared first
        return len(ours) == len(whole) and all(_same(a, b, every) for a, b in pairs)
    if isinstance(ours, float):
        return math.copysign(1, ours) == math.copysign(1, whole) and ours == whole
    return bool(ours == whole)


def _convertible(tree: Any) -> bool:
    if isinstance(tree, list) and series_points(tree) is not None:
        return True
    children = tree.values() if isinstance(tree, dict) else tree if isinstance(tree, list) else ()
    return any(map(_convertible, children))


def _check(body: bytes) -> Any:
    """When parse answers, the whole body parses with orjson to the same tree; and it
    answers, with every array it can read, for a valid body that has one (inside the top)."""
    ours = parse(body, series_points)
    if ours is not None:
        assert _same(ours, orjson.loads(body)), body[:300]
        assert _same(ours, _whole(body))
    try:
        whole = orjson.loads(body)
    except orjson.JSONDecodeError:
        return ours
    top_is_rows = isinstance(whole, list) and series_points(whole) is not None
    if b"\\u0000" not in body and not top_is_rows and _convertible(whole):
        assert ours is not None and _same(ours, whole, every=True), body[:300]
    return ours


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(BODIES, st.integers(0, 3), st.booleans())
def test_a_body_parsed_array_by_array_is_the_whole_parse(
    value: Any, style: int, ascii_only: bool
) -> None:
    _check(_dumps(value, style, ascii_only))


EDITS = st.sampled_from([*b'[]{},:"\\0-.eE+ \na', 0])


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(BODIES, st.integers(0, 3), st.data())
def test_a_body_broken_by_one_edit_parses_exactly_or_not_at_all(
    value: Any, style: int, data: st.DataObject
) -> None:
    body = _dumps(value, style, True)
    at = data.draw(st.integers(0, len(body)))
    edit = data.draw(st.sampled_from(["insert", "delete", "replace"]))
    byte = bytes([data.draw(EDITS)])
    if edit == "insert":
        body = body[:at] + byte + body[at:]
    elif edit == "delete":
        body = body[:at] + body[at + 1 :]
    else:
        body = body[:at] + byte + body[at + 1 :]
    ours = parse(body, series_points)
    if ours is not None:  # then the broken body was still JSON, and this is its parse
        assert _same(ours, orjson.loads(body)), body[:300]


INT64_OR_FLOAT = st.one_of(
    st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False, allow_infinity=False)
)


@given(st.lists(st.tuples(st.integers(0, 2**40), INT64_OR_FLOAT), min_size=1, max_size=50))
def test_rows_of_numbers_are_read_into_numpy(rows: list[tuple[int, Any]]) -> None:
    body = json.dumps({"metrics": {"m": [list(r) for r in rows]}}).encode()
    tree = parse(body, series_points)
    assert tree is not None
    points = tree["metrics"]["m"]
    assert isinstance(points, Points)
    assert points.times.tolist() == [t for t, _ in rows]  # int64, exact
    assert points.values.tolist() == [float(v) for _, v in rows]


def test_what_it_cannot_prove_it_leaves_to_the_whole_parse() -> None:
    rows = b"[[1,2],[3,4]]"
    assert parse(b'{"a":' + rows + b"}", series_points) is not None
    cases = {
        "no array of rows": b'{"a": [1, 2], "b": {}}',
        "a NUL escape anywhere": b'{"a": [[1, 2]], "s": "\\u0000"}',
        "the body is the array": rows,
        "rows inside a string only": b'{"s": "[[1,2]]", "t": "\\"[[1,2]]"}',
        "a string that never ends": b'{"s": "[[1,2]], "a": [[1,2]]}',
        "a row array as a key": b'{"a": 1, [[1,2]]: 2}',
        "broken after the array": b'{"a": [[1,2]],}',
        "NaN elsewhere": b'{"a": [[1,2]], "b": NaN}',
        "a number orjson reads as infinity": b'{"a": [[1,2]], "b": [[1, 1e400]]}',
        "nested deeper than orjson reads": b"[" * 1023 + rows + b"]" * 1023,
        "a key given twice": b'{"a": [[1,2]], "a": [[3,4]]}',
    }
    for name, body in cases.items():
        assert parse(body, series_points) is None, name


def test_rows_that_need_the_point_by_point_path_stay_lists() -> None:
    body = b'{"a": [[null, 1], [2, 3]], "b": [[1, "2"]], "c": [[true, 1]], "d": [[1, 2]]}'
    tree = parse(body, series_points)
    assert tree is not None
    assert tree["a"] == [[None, 1], [2, 3]]  # a missing time: the per-point path's error
    assert tree["b"] == [[1, "2"]]
    assert tree["c"] == [[True, 1]]
    assert isinstance(tree["d"], Points)


def test_a_missing_value_is_read_into_numpy_as_nan() -> None:
    body = b'{"a": [[60, null], [120, 3], [180, 2.5]], "b": [[0, null]]}'
    tree = parse(body, series_points)
    assert tree is not None
    a, b = tree["a"], tree["b"]
    assert isinstance(a, Points) and isinstance(b, Points)
    assert a.times.tolist() == [60, 120, 180] and a.times.dtype == np.int64
    assert math.isnan(a.values[0]) and a.values[1:].tolist() == [3.0, 2.5]
    assert b.times.tolist() == [0] and math.isnan(b.values[0])


def test_brackets_inside_strings_are_left_alone() -> None:
    body = b'{"note": "x [[1,2]] y", "a": [[5, 6]], "k]]": "[[", "b": [ [7 , 8] ,[9,1.5e3]\n]}'
    tree = parse(body, series_points)
    assert tree is not None
    assert tree["note"] == "x [[1,2]] y" and tree["k]]"] == "[["
    assert tree["a"].times.tolist() == [5] and tree["a"].values.tolist() == [6.0]
    assert tree["b"].times.tolist() == [7, 9] and tree["b"].values.tolist() == [8.0, 1500.0]


@pytest.mark.parametrize("gc_paused", [False, True])
def test_a_large_body_parses_with_the_collector_back_on(gc_paused: bool) -> None:
    import gc

    rows = b",".join(b"[%d,%d]" % (i, i * 3) for i in range(200_000 if gc_paused else 10))
    body = b'{"a": {"m": [' + rows + b"]}}"
    tree = parse(body, series_points)
    assert tree is not None and len(tree["a"]["m"]) == (200_000 if gc_paused else 10)
    assert gc.isenabled()
