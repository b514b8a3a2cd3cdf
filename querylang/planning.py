"""BoundQuery → Plan: native grain, native vs client-side work, pieces, compiled requests."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from attrs import field, frozen

from querylang.binding import BoundFilter, BoundQuery
from querylang.catalog import Dimension, GrainSpec
from querylang.errors import BindingError, LimitError
from querylang.finality import final_after
from querylang.localtime import Grid, tiles
from querylang.steps import (
    Combine,
    Derive,
    Fill,
    FillZeros,
    MarkState,
    PieceStep,
    Rebucket,
    Shape,
    Step,
    TrimToWindow,
)
from querylang.steps import (
    Filter as KeepRows,
)
from querylang.timegrid import Granularity, TimeWindow, format_ts
from querylang.wire import Filter, NativeQuery, NativeRequest, ProviderContext, Unsupported

if TYPE_CHECKING:
    from querylang.store import StoreUse

__all__ = ["Piece", "Plan", "check_budget", "choose_grain", "cut_pieces", "mark_state", "plan"]

DAY = 86400


@frozen(kw_only=True)
class Piece:
    """One native query and the requests the provider compiled for it."""

    native: NativeQuery
    requests: tuple[NativeRequest, ...]


@frozen(kw_only=True)
class Plan:
    """Everything the executor and the post-steps need for one query."""

    bound: BoundQuery
    grain: Granularity
    fetch: tuple[str, ...]  # metrics fetched from the vendor
    group_by: tuple[str, ...]  # native grouping: BY, plus dimensions filtered client-side
    pieces: tuple[Piece, ...]
    context: ProviderContext
    piece_steps: tuple[PieceStep, ...]  # run on each piece's decoded frames
    post_steps: tuple[Step, ...]  # run once on all pieces merged
    store: StoreUse | None = field(default=None, eq=False)  # buckets the result store answers

    @property
    def steps(self) -> tuple[str, ...]:
        """explain's account of the plan: the fetch, then every step's own description."""
        n = len(self.requests)
        windows = len({(p.native.window.start, p.native.window.end) for p in self.pieces})
        fetch = f"fetch {', '.join(self.fetch)} at {self.grain} in {n} request(s)" + (
            f" over {windows} time piece(s)" if windows > 1 else ""
        )
        return (
            *((self.store.describe(),) if self.store and self.store.worth_saying else ()),
            fetch,
            *(s.describe() for s in self.piece_steps),
            *(s.describe() for s in self.post_steps),
        )

    @property
    def requests(self) -> tuple[NativeRequest, ...]:
        return tuple(r for p in self.pieces for r in p.requests)

    @property
    def min_seconds(self) -> float:
        """The least time the dataset's rate limits allow for all of this plan's requests."""
        n = len(self.requests)
        return max(
            (
                (math.ceil(n / rl.calls) - 1) * rl.per_seconds
                for rl in self.bound.dataset.rate_limits
            ),
            default=0.0,
        )


def _label(bound: BoundQuery) -> str:
    return bound.source_label


def choose_grain(bound: BoundQuery) -> GrainSpec:
    """The coarsest native grain that tiles EVERY and the window and still holds the data."""
    ds, every, win, now = bound.dataset, bound.every, bound.window, bound.now
    label = _label(bound)
    natives = ", ".join(str(s.granularity) for s in ds.grains)
    fits = [
        s
        for s in ds.grains
        if (every is None or tiles(s.granularity, every, win.start, win.end))
        and s.granularity.is_aligned(win.start)
        and s.granularity.is_aligned(win.end)
    ]
    fits.sort(key=lambda s: s.granularity.nominal_seconds, reverse=True)
    span = bound.query.every.span if bound.query.every is not None else bound.query.span
    zone = bound.zone
    if not fits and zone is not None and bound.query.tz is not None:
        raise LimitError(
            "E420",
            f"{label} cannot build {every or 'the window'} in {zone}: local midnights there do "
            f"not fall on any of its native granularities ({natives})",
            span=bound.query.tz.span,
            hint="choose a zone whose offset is a whole number of the native granularity (or "
            "TZ 'UTC'), or EVERY in hours",
        )
    if not fits:
        if every is not None:
            raise LimitError(
                "E400",
                f"{label} cannot answer EVERY {every}: its native granularities are {natives} "
                f"and none of them tiles {every}",
                span=span,
                hint=f"choose EVERY as a multiple of one of {natives}",
            )
        raise LimitError(
            "E403",
            f"the window {win} does not fall on any of {label}'s granularities ({natives})",
            span=bound.query.window.span if bound.query.window else span,
            hint="add EVERY, or start and end the window on whole hours or days",
        )
    for spec in fits:
        retention = spec.retention
        if retention is None or win.start >= now - retention:
            return spec
    finest = fits[-1]
    days = (finest.retention or 0) / DAY
    if zone is not None and bound.query.tz is not None and isinstance(every, Grid):
        raise LimitError(
            "E402",
            f"{label} builds {every} buckets in {zone} from {finest.granularity} data, and keeps "
            f"that for only {days:g} days; the window starts {format_ts(win.start)}",
            span=bound.query.tz.span,
            hint=f"start the window after {format_ts(now - (finest.retention or 0))}, or drop "
            "TZ for UTC days",
        )
    usable = [s for s in ds.grains if s.retention is None or win.start >= now - s.retention]
    suggestion = (
        f"use EVERY {min(usable, key=lambda s: s.granularity.nominal_seconds).granularity} or "
        f"coarser, or a window starting after {format_ts(now - (finest.retention or 0))}"
        if usable
        else "use a more recent window"
    )
    raise LimitError(
        "E402",
        f"{label} keeps {finest.granularity} data for only {days:g} days, and the window starts "
        f"{format_ts(win.start)}",
        span=span,
        hint=suggestion,
    )


def _split_filters(
    bound: BoundQuery,
) -> tuple[list[Filter], list[BoundFilter], dict[str, Dimension]]:
    """Which conditions the vendor applies, and which the engine applies after decoding."""
    native: list[Filter] = []
    client: list[BoundFilter] = []
    dims: dict[str, Dimension] = {}
    label = _label(bound)
    for f in bound.filters:
        dim = f.dimension
        dims[dim.name] = dim
        if f.op in dim.native_ops:
            native.append(Filter(dimension=dim.name, op=f.op, values=f.values))
            continue
        if f.op == "not_in" and dim.values is not None and "in" in dim.native_ops:
            keep = tuple(v for v in dim.values if v not in f.values)
            if not keep:
                raise BindingError(
                    "E207",
                    f"the conditions on {dim.name!r} exclude every value",
                    span=f.span,
                    hint="the query could only return an empty result",
                )
            native.append(Filter(dimension=dim.name, op="in", values=keep))
            continue
        if not dim.groupable:
            op = "NOT IN" if f.op == "not_in" else "IN"
            raise LimitError(
                "E205",
                f"{label} cannot filter {dim.name} with {op}, and cannot group by it to filter "
                "here",
                span=f.span,
                hint=f"use {dim.name} IN (…) instead" if f.op == "not_in" else None,
            )
        client.append(f)
    return native, client, dims


def _list_chunks(filters: Sequence[Filter], dims: dict[str, Dimension]) -> list[tuple[Filter, ...]]:
    """Split value lists longer than the vendor takes per request."""
    options: list[list[Filter]] = []
    for f in filters:
        limit = dims[f.dimension].max_list
        if f.op == "in" and limit and len(f.values) > limit:
            options.append(
                [
                    Filter(dimension=f.dimension, op="in", values=f.values[i : i + limit])
                    for i in range(0, len(f.values), limit)
                ]
            )
        else:
            options.append([f])
    return [tuple(combo) for combo in itertools.product(*options)] or [()]


def _fetch_list(
    bound: BoundQuery, grain: Granularity, rebucket: bool, combines: bool, reason: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The metrics to ask the vendor for, and the ratios to recompute here from parts."""
    ds = bound.dataset
    label = _label(bound)
    fetch: list[str] = []
    derived: list[str] = []
    for bm in bound.metrics:
        m = bm.metric
        if m.ratio is not None and (rebucket or combines or not m.native):
            derived.append(m.name)
            fetch.extend(m.ratio.parts)
            continue
        if not m.native:
            raise BindingError("E202", f"{label} cannot compute {m.name}", span=bm.span)
        if rebucket and m.rollup is None:
            target = f"EVERY {bound.every}" if bound.every else "one whole-window value"
            raise LimitError(
                "E405",
                f"{m.name} cannot be re-aggregated from {grain} buckets into {target}: the "
                "vendor's "
                "value is not a sum, mean, minimum or maximum",
                span=bm.span,
                hint=f"use EVERY {grain} (or another native granularity: "
                f"{', '.join(str(s.granularity) for s in ds.grains)})",
            )
        if combines and m.combine is None:
            raise LimitError(
                "E406",
                f"{m.name} cannot be combined across several {reason} values",
                span=bm.span,
                hint=f"add BY {reason} so each series is reported on its own",
            )
        fetch.append(m.name)
        if rebucket and m.rollup and m.rollup.startswith(("at_max:", "at_min:")):
            fetch.append(m.rollup.split(":", 1)[1])  # the metric whose peak picks the value
    return tuple(dict.fromkeys(fetch)), tuple(derived)


def cut_pieces(
    bound: BoundQuery,
    spec: GrainSpec,
    fetch: tuple[str, ...],
    group_by: tuple[str, ...],
    chunks: Sequence[tuple[Filter, ...]],
    context: ProviderContext,
) -> tuple[Piece, ...]:
    """Split the window by the vendor's per-request limit and compile every piece."""
    grain = spec.granularity
    limit = spec.max_window
    windows = bound.window.split(grain, limit) if limit else [bound.window]
    pieces: list[Piece] = []
    total = 0
    for window, filters in itertools.product(windows, chunks):
        native = NativeQuery(
            dataset=bound.dataset.name,
            metrics=fetch,
            group_by=group_by,
            filters=filters,
            granularity=grain,
            window=TimeWindow(window.start, window.end),
        )
        compiled = bound.provider.compile(native, context)
        if isinstance(compiled, Unsupported):
            raise LimitError(
                "E408",
                f"{_label(bound)} cannot answer this query: {compiled.reason}",
                span=bound.query.span,
                hint=compiled.hint,
            )
        pieces.append(Piece(native=native, requests=tuple(compiled)))
        total += len(pieces[-1].requests)
        check_budget(bound, total)
    return tuple(pieces)


def check_budget(bound: BoundQuery, calls: int) -> None:
    """Refuse a plan that needs more requests than the dataset allows per query."""
    ds = bound.dataset
    if calls > ds.max_requests:
        raise LimitError(
            "E407",
            f"this query needs more than {ds.max_requests} requests to {_label(bound)}",
            span=bound.query.span,
            hint="narrow the window, use a coarser EVERY, or group by fewer dimensions",
        )


def _combine_rules(bound: BoundQuery, fetch: Sequence[str]) -> dict[str, str]:
    rules = {}
    for name in fetch:
        metric = bound.dataset.metric(name)
        combine = metric.combine if metric is not None else None
        rules[name] = combine if combine in ("sum", "max", "min") else "only"
    return rules


def _rollup_reducer(bound: BoundQuery, fetch: Sequence[str], name: str) -> str:
    metric = bound.dataset.metric(name)
    assert metric is not None
    if name in fetch and metric.kind == "counter":
        return "sum"
    rollup = metric.rollup
    if rollup is None or rollup == "ratio":
        return "max"  # only reached when every target bucket holds one native bucket
    return rollup


def mark_state(bound: BoundQuery, grain: Granularity) -> MarkState:
    """The step that marks each row complete or provisional, from the native grain's delay."""
    delay = final_after(bound.dataset, grain)
    return MarkState(
        every=bound.every if bound.every is not None else None,
        window=bound.window,
        now=bound.now,
        delay=delay,
        sources=(f"{_label(bound)} {grain}: {_delay(delay)}",),
        zone=bound.zone,
    )


def _delay(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"


def plan(bound: BoundQuery, context: ProviderContext) -> Plan:
    """Decide what to ask the vendor and what to do here; compile every request."""
    ds = bound.dataset
    spec = choose_grain(bound)
    grain = spec.granularity
    rebucket = bound.every != grain
    native_filters, client_filters, dims = _split_filters(bound)
    by = tuple(d.name for d in bound.by)
    extra = tuple(
        dict.fromkeys(f.dimension.name for f in client_filters if f.dimension.name not in by)
    )
    group_by = by + extra
    chunks = _list_chunks(native_filters, dims)
    combines = (
        bool(extra)
        or len(chunks) > 1
        or any(
            dims[f.dimension].fan_out and (len(f.values) > 1 or f.op == "not_in")
            for f in native_filters
            if f.dimension not in by
        )
    )
    reason = ", ".join(extra or tuple(f.dimension for f in native_filters))
    fetch, derived = _fetch_list(bound, grain, rebucket, combines, reason)
    pieces = cut_pieces(bound, spec, fetch, group_by, chunks, context)

    provider = bound.provider.name
    rules = _combine_rules(bound, fetch)
    piece_steps: list[PieceStep] = [TrimToWindow(grain=grain, window=bound.window)]
    if ds.omits_zeros:
        piece_steps.append(
            FillZeros(grain=grain, group_by=group_by, provider=provider, rules=rules)
        )
    steps: list[Step] = [
        Combine(
            dims=group_by,
            rules=rules,
            provider=provider,
            reason="parts" if len(chunks) > 1 or combines else "merge",
        )
    ]
    steps += [
        KeepRows(dimension=f.dimension.name, op=f.op, values=f.values) for f in client_filters
    ]
    if group_by != by:
        steps.append(Combine(dims=by, rules=rules, provider=provider, reason="away", dropped=extra))
    # Default: missing is null. Where the vendor documents omitted points as zero, the piece
    # step FillZeros has already made them 0 (over each answered piece's window), so what
    # is still missing is a null the vendor sent: it stays missing.
    fill = bound.fill or "NULL"
    if rebucket and fill in ("ZERO", "PREVIOUS"):
        steps.append(Fill(mode=fill, grid=grain, window=bound.window, by=by, native=True))
    if rebucket:
        steps.append(
            Rebucket(
                grain=grain,
                every=bound.every,
                window=bound.window,
                by=by,
                reducers={name: _rollup_reducer(bound, fetch, name) for name in fetch},
            )
        )
    steps.append(Fill(mode=fill, grid=bound.every, window=bound.window, by=by))
    for name in derived:
        metric = ds.metric(name)
        ratio = metric.ratio if metric is not None else None
        assert ratio is not None
        steps.append(Derive(name=name, numerator=ratio.numerator, denominator=ratio.denominator))
    steps.append(Shape(by=by, outputs=tuple((bm.output, bm.metric.name) for bm in bound.metrics)))
    steps.append(mark_state(bound, grain))
    return Plan(
        bound=bound,
        grain=grain,
        fetch=fetch,
        group_by=group_by,
        pieces=pieces,
        context=context,
        piece_steps=tuple(piece_steps),
        post_steps=tuple(steps),
    )
