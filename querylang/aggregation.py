"""Post-steps: what the engine does after decoding, for every provider alike.

Per piece: trim to the piece's window, snap to the native grid, fill left-out zeros.
Then: combine series answered by several requests, apply client-side filters, combine
away the dimensions only fetched for filtering, re-bucket to EVERY, derive ratios, and
shape the result (time, BY dimensions, metrics in SELECT order, sorted).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from querylang.errors import ProviderError
from querylang.frames import Frame
from querylang.planning import Piece, Plan
from querylang.timegrid import Granularity

__all__ = ["finish", "finish_piece", "floor_times"]


def floor_times(grain: Granularity, times: np.ndarray) -> np.ndarray:
    """Bucket starts of ``times`` on ``grain``'s grid, vectorised."""
    times = np.asarray(times, np.int64)
    if len(times) == 0:
        return times
    if grain.seconds is not None:
        offset = grain.floor(0)  # the grid's phase (weeks start on Monday)
        return times - (times - offset) % grain.seconds
    uniques, inverse = np.unique(times, return_inverse=True)
    floors = np.array([grain.floor(int(t)) for t in uniques], dtype=np.int64)
    return floors[inverse]


def _fill_zeros(frame: Frame, plan: Plan, piece: Piece) -> Frame:
    """Every series seen gets every bucket of the piece's window; missing ones are 0."""
    if len(frame) == 0:
        return frame
    buckets = np.array(
        plan.grain.boundaries(piece.native.window.start, piece.native.window.end), np.int64
    )
    # Group by the dimensions alone: every row gets the same "time".
    ids, first = frame.group_ids(plan.group_by, np.zeros(len(frame), dtype=np.int64))
    n_series, n_buckets = len(first), len(buckets)
    slot = np.searchsorted(buckets, frame.time)
    full_time = np.tile(buckets, n_series)
    full_dims = {d: np.repeat(frame.dims[d][first], n_buckets) for d in plan.group_by}
    full_metrics = {}
    position = ids * n_buckets + slot
    for name, col in frame.metrics.items():
        out = np.zeros(n_series * n_buckets)
        out[position] = np.nan_to_num(col, nan=0.0)
        full_metrics[name] = out
    return Frame(full_time, full_dims, full_metrics)


def finish_piece(plan: Plan, piece: Piece, frames: Sequence[Frame]) -> Frame:
    """The decoded frames of one piece as one frame on the native grid, inside its window."""
    frame = Frame.concat(frames, plan.group_by, plan.fetch)
    window = piece.native.window
    frame = frame.take((frame.time >= window.start) & (frame.time < window.end))
    frame = Frame(floor_times(plan.grain, frame.time), frame.dims, frame.metrics)
    if plan.bound.dataset.omits_zeros:
        # Combine first (one request per metric or per fan-out value share buckets), so
        # that after it a missing value really is a point the vendor left out.
        frame = _fill_zeros(_combine(plan, frame, plan.group_by), plan, piece)
    return frame


def _combine_rules(plan: Plan) -> dict[str, str]:
    ds = plan.bound.dataset
    rules = {}
    for name in plan.fetch:
        metric = ds.metric(name)
        combine = metric.combine if metric is not None else None
        rules[name] = combine if combine in ("sum", "max", "min") else "only"
    return rules


def _combine(plan: Plan, frame: Frame, dims: Sequence[str]) -> Frame:
    """Collapse rows sharing (time, *dims) by each metric's combine rule."""
    ids, first = frame.group_ids(dims)
    if tuple(dims) == tuple(frame.dims) and len(first) == len(frame):
        return frame  # nothing to collapse
    rules = _combine_rules(plan)
    for name, rule in rules.items():
        if rule == "only":
            present = ~np.isnan(frame.metrics[name])
            counts = np.bincount(ids, weights=present, minlength=len(first))
            if (counts > 1).any():
                raise ProviderError(
                    plan.bound.provider.name,
                    f"the answer holds {name} twice for one bucket and series, and {name} "
                    "values cannot be added up",
                    code="P601",
                    hint=f"group BY the dimension that tells the series apart; {name} is reported "
                    "per series only",
                )
    reducers = {name: ("max" if rule == "only" else rule) for name, rule in rules.items()}
    return frame.aggregate(dims, reducers, groups=(ids, first))


def _rollup_reducer(plan: Plan, name: str) -> str:
    metric = plan.bound.dataset.metric(name)
    assert metric is not None
    if name in plan.fetch and metric.kind == "counter":
        return "sum"
    rollup = metric.rollup
    if rollup is None or rollup == "ratio":
        return "max"  # only reached when every target bucket holds one native bucket
    return rollup


def finish(plan: Plan, pieces: Sequence[Frame]) -> Frame:
    """All pieces' frames → the query's result frame."""
    bound = plan.bound
    by = tuple(d.name for d in bound.by)
    frame = Frame.concat(pieces, plan.group_by, plan.fetch)
    frame = _combine(plan, frame, plan.group_by)
    for f in plan.client_filters:
        hit = np.isin(frame.dims[f.dimension.name], np.array(f.values, dtype=object))
        frame = frame.take(hit if f.op == "in" else ~hit)
    if plan.group_by != by:
        frame = _combine(plan, frame, by)
    if plan.rebucket:
        if bound.every is None:
            target = np.full(len(frame), bound.window.start, dtype=np.int64)
        else:
            target = floor_times(bound.every, frame.time)
        weights = None
        if plan.grain.seconds is None:
            weights = np.array([plan.grain.add(int(t)) - int(t) for t in frame.time], np.float64)
        reducers = {name: _rollup_reducer(plan, name) for name in plan.fetch}
        frame = frame.aggregate(by, reducers, time=target, weights=weights)
    derived = {}
    for name in plan.derived:
        ratio = bound.dataset.metric(name).ratio  # type: ignore[union-attr]
        assert ratio is not None
        num = sum(c * frame.metrics[m] for m, c in ratio.numerator)
        den = sum(c * frame.metrics[m] for m, c in ratio.denominator)
        with np.errstate(invalid="ignore", divide="ignore"):
            derived[name] = np.where(den == 0, np.nan, np.asarray(num) / np.asarray(den))
    frame = frame.with_columns(metrics=derived)
    out = frame.project(by, [(bm.output, bm.metric.name) for bm in bound.metrics])
    return out.sort()
