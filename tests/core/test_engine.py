"""The engine's generic mechanisms, through a test-double provider and httpx.MockTransport."""

from __future__ import annotations

import math

import httpx
import numpy as np
import pytest

from querylang.engine import explain, run
from querylang.errors import LimitError, ProviderError
from querylang.execution import ExecutionSettings
from querylang.plugins import registry_of
from querylang.timegrid import parse_ts
from tests.core.toy import ToyEmulator, ToyPlugin, ToyProvider, toy_dataset

NOW = "2026-11-20T05:00:00Z"
ENV = {"TOY_TOKEN": "tok"}
FAST = ExecutionSettings(backoff=0.001)


def _run(text: str, emulator: ToyEmulator | None = None, provider: ToyProvider | None = None):
    emulator = emulator or ToyEmulator()
    reg = registry_of(ToyPlugin(provider or ToyProvider()))
    transport = httpx.MockTransport(emulator.handle)
    results = run(text, now=NOW, env=ENV, providers=reg, transport=transport, settings=FAST)
    return results[0], emulator


def _rows(result) -> list[tuple]:
    return list(result.frame.rows())


def test_window_longer_than_a_request_allows_is_split_and_merged_exactly() -> None:
    result, emu = _run("SELECT hits BY host FROM toy EVERY 1m LAST 13h")
    assert len(emu.calls) == 3  # 1m requests span at most 6 h
    frame = result.frame
    assert len(frame) == 13 * 60 * 4
    times = np.unique(frame.time)
    assert len(times) == 13 * 60 and (np.diff(times) == 60).all()
    assert frame.duplicate_keys(["host"]) == 0
    hourly, _ = _run("SELECT hits BY host FROM toy EVERY 1h LAST 13h")
    assert frame.metrics["hits"].sum() == hourly.frame.metrics["hits"].sum()


def test_long_filter_lists_are_split_and_added_up() -> None:
    result, emu = _run("SELECT hits FROM toy WHERE host IN ('h1', 'h2', 'h3') EVERY 1h LAST 3h")
    assert len(emu.calls) == 2
    assert {c.url.params["host"] for c in emu.calls} == {"h1,h2", "h3"}
    separate = [
        _run(f"SELECT hits FROM toy WHERE host = '{h}' EVERY 1h LAST 3h")[0].frame.metrics["hits"]
        for h in ("h1", "h2", "h3")
    ]
    assert result.frame.metrics["hits"].tolist() == sum(separate).tolist()


def test_fan_out_answers_are_added_and_ratios_derived_from_parts() -> None:
    result, emu = _run("SELECT hits, ratio FROM toy WHERE zone IN ('a', 'b') EVERY 1h LAST 2h")
    assert [c.url.params["zone"] for c in emu.calls] == ["a", "b"]
    assert emu.calls[0].url.params["metrics"] == "hits,miss"
    a, _ = _run("SELECT hits, miss FROM toy WHERE zone = 'a' EVERY 1h LAST 2h")
    b, _ = _run("SELECT hits, miss FROM toy WHERE zone = 'b' EVERY 1h LAST 2h")
    hits = a.frame.metrics["hits"] + b.frame.metrics["hits"]
    miss = a.frame.metrics["miss"] + b.frame.metrics["miss"]
    assert result.frame.metrics["hits"].tolist() == hits.tolist()
    assert result.frame.metrics["ratio"].tolist() == pytest.approx((hits / (hits + miss)).tolist())


def test_not_equal_on_a_closed_set_becomes_the_complement() -> None:
    plan = explain("SELECT hits BY zone FROM toy WHERE zone != 'a' EVERY 1h LAST 1h", now=NOW,
                   env=ENV, providers=registry_of(ToyPlugin(ToyProvider())))[0]  # fmt: skip
    assert [r.tag["zone"] for r in plan.requests] == ["b", "c"]


def test_filters_the_vendor_cannot_do_are_applied_here() -> None:
    result, emu = _run(
        "SELECT hits, ratio, level BY host FROM toy WHERE kind != 'x' EVERY 1h LAST 2h"
    )
    assert emu.calls[0].url.params["group"] == "host,kind"
    assert result.frame.columns == ["time", "host", "hits", "ratio", "level"]
    only_y = ToyEmulator()
    raw, _ = _run("SELECT hits, miss BY host, kind FROM toy EVERY 1h LAST 2h", only_y)
    keep = raw.frame.dims["kind"] == "y"
    assert sorted(result.frame.metrics["hits"].tolist()) == sorted(
        raw.frame.metrics["hits"][keep].tolist()
    )


def test_rebucketing_uses_each_metrics_rollup() -> None:
    window = "BETWEEN '2026-11-19T00:00:00Z' AND '2026-11-19T06:00:00Z'"
    fine, _ = _run(f"SELECT hits, miss, peak, level FROM toy EVERY 1h {window}")
    coarse, emu = _run(f"SELECT hits, peak, level, ratio FROM toy EVERY 6h {window}")
    assert emu.calls[0].url.params["grain"] == "1h"
    assert len(coarse.frame) == 1
    hits = fine.frame.metrics["hits"].sum()
    miss = fine.frame.metrics["miss"].sum()
    row = _rows(coarse)[0]
    assert row[1] == hits
    assert row[2] == fine.frame.metrics["peak"].max()
    assert row[3] == 5.0 * 24  # the mean over time of a rate summed over 24 series
    assert row[4] == pytest.approx(hits / (hits + miss))


def test_no_every_is_one_bucket_for_the_whole_window() -> None:
    result, _ = _run("SELECT hits FROM toy LAST 2d")
    assert len(result.frame) == 1
    assert result.frame.time[0] == parse_ts("2026-11-18")


def test_buckets_outside_the_window_are_trimmed() -> None:
    result, _ = _run("SELECT hits FROM toy EVERY 1h LAST 3h", ToyEmulator(extra_bucket=True))
    assert result.frame.time.tolist() == [parse_ts(NOW) - h * 3600 for h in (3, 2, 1)]


def test_omitted_zero_buckets_are_filled() -> None:
    provider = ToyProvider(toy_dataset(omits_zeros=True))
    result, _ = _run(
        "SELECT hits BY host FROM toy EVERY 1h LAST 6h", ToyEmulator(omit_zero_hours=True), provider
    )
    assert len(result.frame) == 6 * 4
    assert (result.frame.metrics["hits"] == 0).sum() == 2 * 4


def test_a_repeated_bucket_is_an_error_not_a_duplicate_row() -> None:
    emu = ToyEmulator()
    original = emu.handle

    def twice(request: httpx.Request) -> httpx.Response:
        body = original(request).json()
        body["rows"] = body["rows"] + body["rows"][:1]
        return httpx.Response(200, json=body)

    emu.handle = twice  # type: ignore[method-assign]
    with pytest.raises(ProviderError) as info:
        _run("SELECT hits FROM toy EVERY 1h LAST 2h", emu)
    assert info.value.code == "P600"
    assert "repeats a timestamp" in info.value.message


def test_metrics_that_cannot_be_combined_are_refused_before_sending() -> None:
    with pytest.raises(LimitError) as info:
        _run("SELECT peak FROM toy WHERE zone IN ('a', 'b') EVERY 1h LAST 1h")
    assert info.value.code == "E406"
    assert "BY zone" in (info.value.hint or "")


def test_ratios_without_parts_cannot_be_rebucketed() -> None:
    with pytest.raises(LimitError) as info:
        _run("SELECT opaque FROM toy EVERY 2h LAST 2h")
    assert info.value.code == "E405"
    _run("SELECT opaque FROM toy EVERY 1h LAST 2h")  # native grain: fine


def test_null_values_stay_null() -> None:
    emu = ToyEmulator()
    emu.mutate = lambda row: {**row, "hits": None} if row["t"] % 7200 == 0 else row
    result, _ = _run("SELECT hits FROM toy EVERY 1h LAST 4h", emu)
    nulls = [math.isnan(v) for v in result.frame.metrics["hits"]]
    assert nulls.count(True) == 2


def test_explain_counts_calls_and_the_time_the_rate_limit_implies() -> None:
    from querylang.catalog import RateLimit
    from querylang.output import explain_json

    limits = (RateLimit(calls=300, per_seconds=60), RateLimit(calls=24, per_seconds=2))
    provider = ToyProvider(toy_dataset(rate_limits=limits))
    text = "SELECT hits FROM toy WHERE zone IN ('a', 'b', 'c') EVERY 1h LAST 24d"
    plans = explain(text, now=NOW, env=ENV, providers=registry_of(ToyPlugin(provider)))
    data = explain_json(plans)
    (query,) = data["queries"]
    assert query["calls"] == len(data["requests"]) == 12 * 3  # 2-day pieces x 3 zones
    assert query["min_seconds"] == 2.0  # 24 calls fit one 2-second window; 12 more wait
    assert all("tok" not in json_text for json_text in map(str, data["requests"]))
