"""Benchmarks for issue #14 rows 1-3: decoding a 50 MB Gcore series body into a frame.

Not part of the default test run. Run with:
    pytest tests/benchmarks/test_bench_decode.py -p no:cacheprovider -o addopts="" -s
The measured path is the one a run uses: the response BYTES through ``NativeResponse`` and
the gcore plugin's ``decode`` into the frame (each series read alone into numpy by
``querylang.jsonarrays``, the small rest of the body by orjson; the peak of row 3 is then
the frame's arrays and the per-series arrays they are joined from, not a parsed tree). Each ratio is the median of paired,
interleaved runs against a baseline on the same bytes in the same process.
"""

from __future__ import annotations

import gc
import json
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson
import pytest

from querylang.frames import Frame, series_points
from querylang.jsonarrays import parse
from querylang.plugins import registry
from querylang.timegrid import Granularity, TimeWindow
from querylang.wire import NativeQuery, NativeRequest, NativeResponse

RESOURCES = 240
BUCKETS = 30 * 24 * 12  # a month of 5-minute buckets: 240 x 8,640 = 2,073,600 values
START = 1_735_689_600  # 2025-01-01
METRIC = "sent_bytes"
ROUNDS = 5

QUERY = NativeQuery(
    dataset="cdn",
    metrics=(METRIC,),
    group_by=("resource",),
    filters=(),
    granularity=Granularity(5, "m"),
    window=TimeWindow(START, START + 300 * BUCKETS),
)
REQUEST = NativeRequest(
    provider="gcore",
    method="GET",
    url="https://api.gcore.com/cdn/statistics/series?service=CDN",
    metrics=(METRIC,),
    headers=(("Authorization", "APIKey k"),),
    secret_headers=("Authorization",),
)


@pytest.fixture(scope="module")
def body() -> bytes:
    """The seed's documented shape: resource -> metrics -> [[unix_ts, value], ...]."""
    rng = np.random.default_rng(14)
    times = (START + 300 * np.arange(BUCKETS)).tolist()
    tree = {
        "resource": {
            str(1000 + r): {
                "metrics": {METRIC: [list(p) for p in zip(times, values.tolist(), strict=True)]}
            }
            for r, values in enumerate(rng.integers(10**9, 10**11, (RESOURCES, BUCKETS)))
        }
    }
    data = json.dumps(tree, separators=(",", ":")).encode()
    assert len(data) > 50e6
    return data


def _decode(body: bytes) -> Frame:
    response = NativeResponse(status=200, headers={}, content=body)
    return registry().get("gcore").decode(QUERY, REQUEST, response)


def _hand_flatten(body: bytes) -> list[dict[str, Any]]:
    """What a user writes without querylang: parse, then one dict per point."""
    rows = []
    for resource, node in json.loads(body)["resource"].items():
        for ts, value in node["metrics"][METRIC]:
            rows.append({"time": ts, "resource": resource, METRIC: value})
    return rows


def _timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _paired(ours: Callable[[], Any], baseline: Callable[[], Any]) -> tuple[float, float, float]:
    """Median ratio ours/baseline over interleaved pairs, and the two medians (s)."""
    ratios, a, b = [], [], []
    for i in range(ROUNDS):
        first, second = (ours, baseline) if i % 2 == 0 else (baseline, ours)
        t1, t2 = _timed(first), _timed(second)
        t_ours, t_base = (t1, t2) if i % 2 == 0 else (t2, t1)
        ratios.append(t_ours / t_base)
        a.append(t_ours)
        b.append(t_base)
    return statistics.median(ratios), statistics.median(a), statistics.median(b)


def test_decode_is_correct(body: bytes) -> None:
    frame = _decode(body)
    assert len(frame) == RESOURCES * BUCKETS
    rows = _hand_flatten(body)
    assert frame.metrics[METRIC].sum() == pytest.approx(sum(r[METRIC] for r in rows), rel=1e-12)
    # row by row, exactly: the series come in the body's order, each in time order
    assert frame.time.dtype == np.int64 and frame.time.tolist() == [r["time"] for r in rows]
    assert frame.metrics[METRIC].tolist() == [float(r[METRIC]) for r in rows]
    assert frame.dims["resource"].tolist() == [int(r["resource"]) for r in rows]
    # the measured path is the array-by-array one (querylang.jsonarrays), not the fallback
    assert parse(body, series_points) is not None


def test_row1_decode_vs_json_and_orjson(body: bytes) -> None:
    ratio, ours, base = _paired(lambda: _decode(body), lambda: json.loads(body))
    print(
        f"\nrow 1: decode {len(body) / 1e6:.0f} MB Gcore body: {ours:.2f} s; "
        f"json.loads {base:.2f} s; measured {ratio:.2f}x / goal <= 0.75x"
    )
    ratio, ours, base = _paired(lambda: _decode(body), lambda: orjson.loads(body))
    print(f"row 1: vs orjson.loads {base:.2f} s: measured {ratio:.2f}x / goal <= 1.3x")


def test_row2_decode_vs_hand_flatten(body: bytes) -> None:
    ratio, ours, base = _paired(lambda: _decode(body), lambda: _hand_flatten(body))
    print(
        f"\nrow 2: decode {ours:.2f} s; hand flatten to dict rows {base:.2f} s; "
        f"measured {1 / ratio:.2f}x faster / goal >= 1.7x faster"
    )


def test_row3_memory(body: bytes) -> None:
    gc.collect()
    tracemalloc.start()
    frame = _decode(body)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    values = sum(len(m) for m in frame.metrics.values())
    held = frame.nbytes  # time, the dimension codes (runs) and label tables, the metrics
    assert held >= frame.time.nbytes + sum(m.nbytes for m in frame.metrics.values())
    print(
        f"\nrow 3: frame holds {held / values:.1f} B per metric value / goal <= 16 B; "
        f"peak while decoding {peak / (held + len(body)):.2f}x (final frame + raw body) "
        f"/ goal <= 2x ({peak / values:.0f} B per value)"
    )
