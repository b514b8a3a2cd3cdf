"""FILL modes and re-bucketing with a missing part, through the toy provider.

The toy emulator leaves out the hours whose epoch hour is a multiple of 3 (00:00 and
03:00 UTC in these windows) when asked to; expected values are read from its raw answer
without that omission, and combined by hand here.
"""

from __future__ import annotations

import math

import httpx
import pytest

from querylang.engine import run
from querylang.errors import BindingError
from querylang.execution import ExecutionSettings
from querylang.plugins import registry_of
from querylang.timegrid import parse_ts
from tests.core.toy import ToyEmulator, ToyPlugin, ToyProvider, toy_dataset

NOW = "2026-11-20T05:00:00Z"
ENV = {"TOY_TOKEN": "tok"}
FAST = ExecutionSettings(backoff=0.001)
H = 3600
T = {h: parse_ts("2026-11-20T00:00:00Z") + h * H for h in range(-2, 5)}  # -2 = 22:00 on the 19th
MISSING = {T[0], T[3]}  # left out by ToyEmulator(omit_zero_hours=True)


def _run(text: str, emulator: ToyEmulator, provider: ToyProvider | None = None):
    reg = registry_of(ToyPlugin(provider or ToyProvider()))
    transport = httpx.MockTransport(emulator.handle)
    (result,) = run(text, now=NOW, env=ENV, providers=reg, transport=transport, settings=FAST)
    return result


def _raw_hits() -> dict[int, float]:
    """Every hour's hits over all series, from the emulator's raw answer (nothing left out)."""
    url = f"http://toy.test/series?from={T[-2]}&to={T[4] + H}&grain=1h&metrics=hits&group="
    rows = ToyEmulator().handle(httpx.Request("GET", url, headers={"X-Token": "t"})).json()
    return {row["t"]: row["hits"] for row in rows["rows"]}


def _values(result, metric: str = "hits") -> dict[int, float | None]:
    col = result.frame.metrics[metric].tolist()
    return {
        t: (None if math.isnan(v) else v)
        for t, v in zip(result.frame.time.tolist(), col, strict=True)
    }


def test_the_emulator_really_leaves_the_hours_out() -> None:
    url = f"http://toy.test/series?from={T[-1]}&to={T[4] + H}&grain=1h&metrics=hits&group="
    answer = ToyEmulator(omit_zero_hours=True).handle(
        httpx.Request("GET", url, headers={"X-Token": "t"})
    )
    assert {row["t"] for row in answer.json()["rows"]} == {T[h] for h in (-1, 1, 2, 4)}


@pytest.mark.parametrize("clause", ["", "FILL NULL"])
def test_by_default_a_bucket_without_a_point_is_null_not_zero(clause: str) -> None:
    raw = _raw_hits()
    result = _run(
        f"SELECT hits FROM toy EVERY 1h LAST 6h {clause}", ToyEmulator(omit_zero_hours=True)
    )
    got = _values(result)
    assert list(got) == [T[h] for h in (-1, 0, 1, 2, 3, 4)]  # every bucket of the window
    assert got == {t: (None if t in MISSING else raw[t]) for t in got}


def test_fill_zero_fills_with_zero() -> None:
    raw = _raw_hits()
    result = _run(
        "SELECT hits FROM toy EVERY 1h LAST 6h FILL ZERO", ToyEmulator(omit_zero_hours=True)
    )
    got = _values(result)
    assert got == {t: (0.0 if t in MISSING else raw[t]) for t in got} and len(got) == 6


def test_fill_none_drops_empty_buckets() -> None:
    result = _run(
        "SELECT hits FROM toy EVERY 1h LAST 6h FILL NONE", ToyEmulator(omit_zero_hours=True)
    )
    assert list(_values(result)) == [T[h] for h in (-1, 1, 2, 4)]


def test_fill_is_per_series_over_the_whole_window() -> None:
    result = _run(
        "SELECT hits BY host FROM toy EVERY 1h LAST 6h", ToyEmulator(omit_zero_hours=True)
    )
    assert len(result.frame) == 4 * 6  # four hosts, six hours each
    nulls = [math.isnan(v) for v in result.frame.metrics["hits"]]
    assert nulls.count(True) == 4 * 2


def test_fill_previous_carries_a_gauge_forward() -> None:
    emu = ToyEmulator(omit_zero_hours=True)
    emu.mutate = lambda row: {**row, "level": float(row["t"] // H % 24)}  # level = the hour
    result = _run("SELECT level FROM toy EVERY 1h LAST 6h FILL PREVIOUS", emu)
    # 23 → 23, 00 (missing) → 23, 01, 02, 03 (missing) → 2, 04
    assert list(_values(result, "level").values()) == [23.0, 23.0, 1.0, 2.0, 2.0, 4.0]


def test_fill_previous_leaves_a_leading_gap_null() -> None:
    emu = ToyEmulator(omit_zero_hours=True)
    emu.mutate = lambda row: {**row, "level": 7.0}
    result = _run(
        "SELECT level FROM toy EVERY 1h BETWEEN '2026-11-20T00:00:00Z' AND '2026-11-20T02:00:00Z' "
        "FILL PREVIOUS",
        emu,
    )
    assert list(_values(result, "level").values()) == [None, 7.0]


@pytest.mark.parametrize("metric", ["hits", "ratio"])
def test_fill_previous_is_refused_for_counters_and_ratios(metric: str) -> None:
    with pytest.raises(BindingError) as info:
        _run(f"SELECT {metric} FROM toy EVERY 1h LAST 6h FILL PREVIOUS", ToyEmulator())
    assert info.value.code == "E221"
    assert "FILL NULL or FILL ZERO" in (info.value.hint or "")


def test_rebucketing_never_turns_a_missing_part_into_zero() -> None:
    raw = _raw_hits()
    # LAST 6h EVERY 2h at 05:00: [22:00, 04:00) in 2-hour buckets; 00:00 and 03:00 missing
    result = _run("SELECT hits FROM toy EVERY 2h LAST 6h", ToyEmulator(omit_zero_hours=True))
    assert _values(result) == {T[-2]: raw[T[-2]] + raw[T[-1]], T[0]: None, T[2]: None}
    zero = _run(
        "SELECT hits FROM toy EVERY 2h LAST 6h FILL ZERO", ToyEmulator(omit_zero_hours=True)
    )
    assert _values(zero) == {T[-2]: raw[T[-2]] + raw[T[-1]], T[0]: raw[T[1]], T[2]: raw[T[2]]}


def test_a_derived_ratio_over_a_missing_part_is_null() -> None:
    result = _run("SELECT ratio FROM toy EVERY 2h LAST 6h", ToyEmulator(omit_zero_hours=True))
    got = _values(result, "ratio")
    assert got[T[0]] is None and got[T[2]] is None and got[T[-2]] is not None


def test_where_the_vendor_documents_omitted_as_zero_rebucketing_sums_them() -> None:
    raw = _raw_hits()
    provider = ToyProvider(toy_dataset(omits_zeros=True))
    result = _run(
        "SELECT hits FROM toy EVERY 2h LAST 6h", ToyEmulator(omit_zero_hours=True), provider
    )
    assert _values(result) == {T[-2]: raw[T[-2]] + raw[T[-1]], T[0]: raw[T[1]], T[2]: raw[T[2]]}


def test_explain_lists_the_fill_steps() -> None:
    from querylang.engine import explain

    reg = registry_of(ToyPlugin(ToyProvider()))
    (plan,) = explain(
        "SELECT hits FROM toy EVERY 2h LAST 6h FILL ZERO", now=NOW, env=ENV, providers=reg
    )
    steps = list(plan.steps)
    assert "FILL ZERO: every series gets all 1h parts; an empty one is 0" in steps
    assert "FILL ZERO: every series gets all 2h buckets; an empty one is 0" in steps
    assert steps.index("FILL ZERO: every series gets all 1h parts; an empty one is 0") < next(
        i for i, s in enumerate(steps) if s.startswith("re-bucket")
    )


def test_a_documented_zero_vendor_defaults_to_zero_even_for_a_silent_window() -> None:
    provider = ToyProvider(toy_dataset(omits_zeros=True))
    emu = ToyEmulator()
    emu.handle = lambda request: httpx.Response(200, json={"rows": []})  # type: ignore[method-assign]
    result = _run("SELECT hits FROM toy EVERY 1h LAST 3h", emu, provider)
    assert result.frame.metrics["hits"].tolist() == [0.0, 0.0, 0.0]
    silent = _run("SELECT hits FROM toy EVERY 1h LAST 3h", emu)  # undocumented: missing
    assert [math.isnan(v) for v in silent.frame.metrics["hits"]] == [True, True, True]
