"""Post-steps are data: the planner emits step objects; explain and the engine both read them."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from querylang import steps as steps_module
from querylang.engine import explain
from querylang.errors import ProviderError
from querylang.frames import Frame
from querylang.plugins import registry_of
from querylang.steps import (
    PIECE_STEPS,
    QUERY_STEPS,
    Combine,
    Derive,
    Fill,
    FillZeros,
    Filter,
    MarkState,
    PieceStep,
    Rebucket,
    Shape,
    Step,
    TrimToWindow,
)
from querylang.timegrid import Granularity, TimeWindow, parse_ts
from tests.core.toy import ToyPlugin, ToyProvider, toy_dataset

NOW = "2026-11-20T05:00:00Z"
ENV = {"TOY_TOKEN": "tok"}
H = 3600
T0 = parse_ts("2026-11-19T00:00:00Z")


def _plan(text: str, **dataset_changes):
    provider = ToyProvider(toy_dataset(**dataset_changes)) if dataset_changes else ToyProvider()
    reg = registry_of(ToyPlugin(provider))
    return explain(text, now=NOW, env=ENV, providers=reg)[0]


def test_every_step_type_has_describe_and_apply() -> None:
    classes = {
        obj
        for _, obj in inspect.getmembers(steps_module, inspect.isclass)
        if obj.__module__ == steps_module.__name__ and obj not in (Step, PieceStep)
    }
    assert classes == set(PIECE_STEPS) | set(QUERY_STEPS)
    for cls in PIECE_STEPS:
        assert list(inspect.signature(cls.apply).parameters) == ["self", "frame", "window"]
        assert callable(cls.describe)
    for cls in QUERY_STEPS:
        assert list(inspect.signature(cls.apply).parameters) == ["self", "frame"]
        assert callable(cls.describe)


def test_explain_text_is_the_steps_own_descriptions_in_the_order_they_run() -> None:
    plan = _plan(
        "SELECT hits, ratio BY host FROM toy WHERE kind != 'x' EVERY 6h "
        "BETWEEN '2026-11-19T00:00:00Z' AND '2026-11-19T12:00:00Z'"
    )
    kinds = [type(s) for s in plan.piece_steps] + [type(s) for s in plan.post_steps]
    assert kinds == [
        TrimToWindow, Combine, Filter, Combine, Rebucket, Fill, Derive, Shape, MarkState,
    ]  # fmt: skip
    described = [s.describe() for s in (*plan.piece_steps, *plan.post_steps)]
    assert list(plan.steps[1:]) == described
    assert plan.steps[0].startswith("fetch hits, miss at 1h in ")
    assert "keep rows where kind NOT IN ('x',)" in plan.steps
    assert "combine over kind" in plan.steps
    assert "re-bucket 1h → 6h buckets (a bucket missing a 1h part is null)" in plan.steps
    assert "derive ratio from hits, miss" in plan.steps


def test_a_native_query_has_no_rebucket_or_derive_step() -> None:
    plan = _plan("SELECT hits BY host FROM toy EVERY 1h LAST 2h")
    assert [type(s) for s in plan.post_steps] == [Combine, Fill, Shape, MarkState]


def test_zero_fill_step_only_for_vendors_that_omit_zeros() -> None:
    assert not any(
        isinstance(s, FillZeros) for s in _plan("SELECT hits FROM toy EVERY 1h LAST 2h").piece_steps
    )
    plan = _plan("SELECT hits FROM toy EVERY 1h LAST 2h", omits_zeros=True)
    assert [type(s) for s in plan.piece_steps] == [TrimToWindow, FillZeros]
    assert "fill buckets the vendor left out with 0" in plan.steps


# ---- each step's apply, on small frames computed by hand ------------------------------


def _frame(times, hosts, **metrics) -> Frame:
    return Frame(
        np.array(times, np.int64),
        {"host": np.array(hosts, dtype=object)},
        {k: np.array(v, np.float64) for k, v in metrics.items()},
    )


def test_trim_drops_rows_outside_the_piece_window_and_snaps_to_the_grid() -> None:
    step = TrimToWindow(grain=Granularity.parse("1h"), window=TimeWindow(T0, T0 + 3 * H))
    frame = _frame([T0 - H, T0 + 10, T0 + H, T0 + 2 * H], ["a"] * 4, hits=[1, 2, 3, 4])
    out = step.apply(frame, TimeWindow(T0, T0 + 2 * H))  # the piece's own window
    assert out.time.tolist() == [T0, T0 + H]
    assert out.metrics["hits"].tolist() == [2, 3]


def test_fill_zeros_gives_every_series_every_bucket() -> None:
    step = FillZeros(
        grain=Granularity.parse("1h"), group_by=("host",), provider="toy", rules={"hits": "sum"}
    )
    frame = _frame([T0, T0 + 2 * H, T0 + H], ["a", "a", "b"], hits=[5, 7, 1])
    out = step.apply(frame, TimeWindow(T0, T0 + 3 * H)).sort()
    assert sorted(zip(out.dims["host"].tolist(), out.time.tolist(), out.metrics["hits"].tolist(), strict=True)) == [
        ("a", T0, 5), ("a", T0 + H, 0), ("a", T0 + 2 * H, 7),
        ("b", T0, 0), ("b", T0 + H, 1), ("b", T0 + 2 * H, 0),
    ]  # fmt: skip


def test_combine_sums_counters_and_refuses_a_duplicated_only_value() -> None:
    frame = _frame([T0, T0, T0 + H], ["a", "a", "a"], hits=[1, 2, 4], peak=[3, 9, 1])
    out = Combine(dims=("host",), rules={"hits": "sum", "peak": "max"}, provider="toy").apply(frame)
    assert out.sort().metrics["hits"].tolist() == [3, 4]
    assert out.sort().metrics["peak"].tolist() == [9, 1]
    with pytest.raises(ProviderError, match="twice for one bucket"):
        Combine(dims=("host",), rules={"hits": "only", "peak": "max"}, provider="toy").apply(frame)


def test_filter_keeps_or_drops_listed_values() -> None:
    frame = _frame([T0, T0, T0], ["a", "b", "c"], hits=[1, 2, 3])
    assert Filter(dimension="host", op="in", values=["a", "c"]).apply(frame).metrics[
        "hits"
    ].tolist() == [1, 3]
    assert Filter(dimension="host", op="not_in", values=["a"]).apply(frame).metrics[
        "hits"
    ].tolist() == [2, 3]


def test_rebucket_sums_counters_and_averages_levels() -> None:
    step = Rebucket(
        grain=Granularity.parse("1h"),
        every=Granularity.parse("2h"),
        window=TimeWindow(T0, T0 + 4 * H),
        by=("host",),
        reducers={"hits": "sum", "level": "mean"},
    )
    frame = _frame(
        [T0, T0 + H, T0 + 2 * H, T0 + 3 * H], ["a"] * 4, hits=[1, 2, 3, 4], level=[10, 20, 30, 50]
    )
    out = step.apply(frame).sort()
    assert out.time.tolist() == [T0, T0 + 2 * H]
    assert out.metrics["hits"].tolist() == [3, 7]
    assert out.metrics["level"].tolist() == [15, 40]


def test_derive_recomputes_a_ratio_from_parts_and_is_null_without_parts() -> None:
    frame = _frame([T0, T0 + H], ["a", "a"], hits=[3, 0], miss=[1, 0])
    step = Derive(
        name="ratio", numerator=[("hits", 1.0)], denominator=[("hits", 1.0), ("miss", 1.0)]
    )
    ratio = step.apply(frame).metrics["ratio"]
    assert ratio[0] == 0.75 and np.isnan(ratio[1])


def test_shape_orders_columns_as_selected_and_sorts() -> None:
    frame = _frame([T0 + H, T0], ["a", "a"], hits=[1, 2], miss=[5, 6])
    out = Shape(by=("host",), outputs=[("m", "miss"), ("h", "hits")]).apply(frame)
    assert out.columns == ["time", "host", "m", "h"]
    assert out.time.tolist() == [T0, T0 + H]
    assert out.metrics["h"].tolist() == [2, 1]
