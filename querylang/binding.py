"""IR → BoundQuery: names checked against the catalog, parameters bound, window resolved."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from attrs import frozen

from querylang import ir
from querylang.catalog import Dataset, Dimension, Metric
from querylang.errors import BindingError, LimitError, ParamError, SourceText, did_you_mean
from querylang.hookspecs import Provider
from querylang.localtime import Grid, Zone, format_local, parse_local, parse_zone, shift_local
from querylang.parameters import ParamValue
from querylang.timegrid import Granularity, TimeWindow, format_ts

if TYPE_CHECKING:
    from querylang.config import Connection

__all__ = [
    "RESERVED_COLUMNS",
    "BoundFilter",
    "BoundMetric",
    "BoundQuery",
    "bind",
    "refuse_reserved",
]

#: The columns every result has besides its dimensions and metrics: the bucket's start and
#: the row's state (complete / provisional). No metric, alias or dimension may take them.
RESERVED_COLUMNS = ("time", "state")


def refuse_reserved(name: str, span: ir.Span) -> None:
    """E208 for a metric or alias named like a column every result has."""
    if name not in RESERVED_COLUMNS:
        return
    what = "each bucket's start" if name == "time" else "each row's state, complete or provisional"
    raise BindingError(
        "E208",
        f"a result column cannot be named {name!r}: every result has a {name} column ({what})",
        span=span,
        hint="give the metric another name with AS",
    )


DAY = 86400
_LATEST = 221_845_392_000  # 9000-01-01: later instants overflow calendar arithmetic


@frozen(kw_only=True)
class BoundMetric:
    metric: Metric
    output: str
    span: ir.Span = ir.NO_SPAN


@frozen(kw_only=True)
class BoundFilter:
    dimension: Dimension
    op: Literal["in", "not_in"]
    values: tuple[Any, ...]
    span: ir.Span = ir.NO_SPAN


@frozen(kw_only=True)
class BoundQuery:
    """A query whose every name, value and bound is known to be valid for its dataset."""

    query: ir.Query
    provider: Provider
    dataset: Dataset
    metrics: tuple[BoundMetric, ...]
    by: tuple[Dimension, ...]
    filters: tuple[BoundFilter, ...]
    every: Granularity | Grid | None  # a Grid under TZ (days, weeks, months) or ALIGN TO START
    window: TimeWindow
    now: int
    account: str = ""  # the ``account`` dimension: the connection's or the provider's name
    connection: Connection | None = None  # None: credentials from the environment
    zone: Zone | None = None  # TZ: local days, weeks and months; times printed in it
    fill: str | None = None  # FILL NULL / ZERO / PREVIOUS / NONE, or None: the default

    @property
    def name(self) -> str | None:
        return self.query.name.value if self.query.name else None

    @property
    def source_label(self) -> str:
        if self.dataset.name == self.provider.default_dataset:
            return self.provider.name
        return f"{self.provider.name}.{self.dataset.name}"


def _duration_text(value: ir.Value) -> str:
    if isinstance(value, ir.Duration):
        return str(value)
    if isinstance(value, ir.Literal):
        return repr(value.value)
    if isinstance(value, ir.ListValue):
        return "a list"
    return "a parameter"


class _Binder:
    def __init__(
        self,
        query: ir.Query,
        providers: Mapping[str, Provider],
        params: Mapping[str, ParamValue],
        now: int,
    ) -> None:
        self.query = query
        self.providers = providers
        self.params = params
        self.now = now
        self.zone: Zone | None = None

    # -- parameters ---------------------------------------------------------------------
    def resolve(self, value: ir.Value) -> tuple[ir.Value, ParamValue | None, ir.Span]:
        """Replace a $param by its value; keeps the use site's span for errors."""
        if isinstance(value, ir.Param):
            bound = self.params.get(value.name)
            if bound is None:
                raise ParamError(
                    "E300",
                    f"the parameter ${value.name} has no value",
                    span=value.span,
                    hint=f"pass --param {value.name}=VALUE, or give a default in the file with "
                    f"PARAM ${value.name} = VALUE",
                )
            if isinstance(bound.value, ir.Param):
                raise ParamError(
                    "E301",
                    f"${value.name} is bound to another parameter",
                    span=value.span,
                    hint=f"give ${value.name} a literal value",
                )
            return bound.value, bound, value.span
        return value, None, value.span

    def ill_typed(self, param: ParamValue | None, span: ir.Span, want: str, got: str) -> Exception:
        if param is None:
            return BindingError(
                "E207", f"expected {want}, got {got}", span=span, hint=f"write {want} here"
            )
        name = next((k for k, v in self.params.items() if v is param), "?")
        return ParamError(
            "E301",
            f"the parameter ${name} must be {want}, but {param.origin} gives {got}",
            span=span,
            hint=f"pass --param {name}=VALUE with {want}",
        )

    def duration(self, value: ir.Value) -> Granularity:
        resolved, param, span = self.resolve(value)
        if isinstance(resolved, ir.Duration):
            return Granularity(resolved.amount, resolved.unit)
        if isinstance(resolved, ir.Literal) and isinstance(resolved.value, str):
            try:
                return Granularity.parse(resolved.value)
            except ValueError:
                pass
        raise self.ill_typed(param, span, "a duration such as 1h or 7d", _duration_text(resolved))

    def timestamp(self, value: ir.Value) -> int:
        resolved, param, span = self.resolve(value)
        if isinstance(resolved, ir.Literal) and isinstance(resolved.value, str):
            try:
                ts = parse_local(resolved.value, self.zone)
            except BindingError as exc:  # out of range: point at the timestamp
                raise BindingError(exc.code, exc.message, span=span, hint=exc.hint) from None
            except ValueError:
                ts = None
            if ts is not None and not 0 <= ts < _LATEST:
                raise BindingError(
                    "E103",
                    f"{resolved.value!r} is outside the years 1970 to 8999",
                    span=span,
                    hint="statistics start in 1970 at the earliest",
                )
            if ts is not None:
                return ts
            if param is None:
                raise BindingError(
                    "E103",
                    f"{resolved.value!r} is not an ISO 8601 timestamp",
                    span=span,
                    hint="write '2026-11-01' (midnight UTC) or '2026-11-01T12:00:00Z'",
                )
        raise self.ill_typed(
            param, span, "an ISO 8601 timestamp such as '2026-11-01'", _duration_text(resolved)
        )

    def scalars(
        self, value: ir.Value, *, as_list: bool, at: ir.Span | None = None
    ) -> list[tuple[Any, ir.Span]]:
        """Literal values with the span to blame: a parameter's use site, or the literal."""
        resolved, param, span = self.resolve(value)
        site = at or (span if param else None)
        if isinstance(resolved, ir.ListValue):
            if not as_list:
                raise self.ill_typed(
                    param, site or span, "a single value (use IN for a list)", "a list"
                )
            out = []
            for item in resolved.items:
                out.extend(self.scalars(item, as_list=False, at=site))
            return out
        if isinstance(resolved, ir.Literal):
            return [(resolved.value, site or resolved.span)]
        raise self.ill_typed(param, site or span, "a string or number", _duration_text(resolved))

    # -- catalog ------------------------------------------------------------------------
    def source(self) -> tuple[Provider, Dataset]:
        src = self.query.source
        provider = self.providers.get(src.provider.value)
        if provider is None:
            guess = did_you_mean(src.provider.value, self.providers)
            known = ", ".join(sorted(self.providers)) or "none installed"
            raise BindingError(
                "E200",
                f"unknown provider {src.provider.value!r} (installed: {known})",
                span=src.provider.span,
                hint=f"did you mean {guess!r}?" if guess else "run `querylang providers`",
            )
        name = src.dataset.value if src.dataset else provider.default_dataset
        dataset = provider.datasets.get(name)
        if dataset is None:
            assert src.dataset is not None
            guess = did_you_mean(name, provider.datasets)
            names = ", ".join(f"{provider.name}.{d}" for d in provider.datasets)
            raise BindingError(
                "E201",
                f"{provider.name} has no dataset {name!r} (it has {names})",
                span=src.dataset.span,
                hint=f"did you mean {provider.name}.{guess}?"
                if guess
                else f"write FROM {provider.name} or one of the datasets listed",
            )
        return provider, dataset

    def metrics(self, dataset: Dataset, label: str) -> tuple[BoundMetric, ...]:
        out: list[BoundMetric] = []
        seen: dict[str, ir.Span] = {}
        for ref in self.query.select:
            metric = dataset.metric(ref.name.value)
            if metric is None:
                guess = did_you_mean(ref.name.value, [m.name for m in dataset.metrics])
                raise BindingError(
                    "E202",
                    f"{label} has no metric {ref.name.value!r}",
                    span=ref.name.span,
                    hint=f"did you mean {guess!r}?" if guess
                    else f"run `querylang describe {label}` for the list",
                )  # fmt: skip
            refuse_reserved(ref.output_name, ref.span)
            if ref.output_name in seen:
                raise BindingError(
                    "E208",
                    f"two result columns would be named {ref.output_name!r}",
                    span=ref.span,
                    hint="give one of them another name with AS",
                )
            seen[ref.output_name] = ref.span
            out.append(BoundMetric(metric=metric, output=ref.output_name, span=ref.span))
        return tuple(out)

    def dimension(self, dataset: Dataset, label: str, name: ir.Name) -> Dimension:
        dim = dataset.dimension(name.value)
        if dim is None:
            guess = did_you_mean(name.value, [d.name for d in dataset.dimensions])
            names = ", ".join(d.name for d in dataset.dimensions) or "none"
            raise BindingError(
                "E203",
                f"{label} has no dimension {name.value!r} (it has {names})",
                span=name.span,
                hint=f"did you mean {guess!r}?"
                if guess
                else f"use one of the dimensions listed (`querylang describe {label}`)",
            )
        return dim

    def by(self, dataset: Dataset, label: str, outputs: set[str]) -> tuple[Dimension, ...]:
        out: list[Dimension] = []
        for name in self.query.by:
            dim = self.dimension(dataset, label, name)
            if not dim.groupable:
                raise BindingError(
                    "E204",
                    f"{label} cannot group by {dim.name!r}",
                    span=name.span,
                    hint=f"{dim.name} can only be used in WHERE",
                )
            if dim.name in outputs:
                raise BindingError(
                    "E208", f"two result columns would be named {dim.name!r}: a metric and "
                    "the BY dimension", span=name.span,
                    hint=f"give the metric another name with AS (e.g. AS {dim.name}_total)",
                )  # fmt: skip
            if dim in out:
                raise BindingError(
                    "E209", f"{dim.name!r} is listed twice", span=name.span,
                    hint="list each column once",
                )  # fmt: skip
            out.append(dim)
        return tuple(out)

    def filters(self, dataset: Dataset, label: str) -> tuple[BoundFilter, ...]:
        merged: dict[str, BoundFilter] = {}
        for pred in self.query.where:
            dim = self.dimension(dataset, label, pred.dimension)
            if not dim.filterable:
                raise BindingError(
                    "E205",
                    f"{label} cannot filter on {dim.name!r}",
                    span=pred.dimension.span,
                    hint=f"group BY {dim.name} instead"
                    if dim.groupable
                    else f"`querylang describe {label}` shows which dimensions filter",
                )
            as_list = pred.op in ("IN", "NOT IN")
            values = tuple(
                self.value(dim, v, span) for v, span in self.scalars(pred.value, as_list=as_list)
            )
            op: Literal["in", "not_in"] = "in" if pred.op in ("=", "IN") else "not_in"
            new = BoundFilter(
                dimension=dim, op=op, values=tuple(dict.fromkeys(values)), span=pred.span
            )
            merged[dim.name] = _merge(merged.get(dim.name), new)
        for f in merged.values():
            if f.op == "in" and not f.values:
                raise BindingError(
                    "E207",
                    f"the conditions on {f.dimension.name!r} exclude every value",
                    span=f.span,
                    hint="the query could only return an empty result; check the WHERE clause",
                )
        return tuple(merged.values())

    def value(self, dim: Dimension, value: Any, span: ir.Span) -> Any:
        if dim.type == "integer":
            if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
                return int(value)
            raise BindingError(
                "E207",
                f"{dim.name} takes whole numbers, got {value!r}",
                span=span,
                hint=f"write {dim.name} IN (1, 2) without quotes",
            )
        text = str(value)
        if dim.values is not None and text not in dim.values:
            guess = did_you_mean(text, dim.values)
            raise BindingError(
                "E207",
                f"{text!r} is not a {dim.name} (one of {', '.join(dim.values)})",
                span=span,
                hint=f"did you mean {guess!r}?"
                if guess
                else f"use one of the listed values, e.g. {dim.name} = '{dim.values[0]}'"
                if dim.values
                else None,
            )
        return text

    # -- time ---------------------------------------------------------------------------
    def window(self, every: Granularity | Grid | None, dataset: Dataset, label: str) -> TimeWindow:
        q = self.query
        win = q.window
        zone = self.zone
        align = q.align is not None
        if win is None:
            raise BindingError(
                "E210",
                "the query has no time window",
                span=q.span,
                hint="add LAST 7d, SINCE '2026-11-01' or BETWEEN '2026-11-01' AND '2026-11-08'",
            )
        if isinstance(win, ir.Last):
            length = self.duration(win.duration)
            grid = every or local_grid(Granularity(1, length.unit), zone)
            end = grid.floor(self.now)
            start = shift_local(end, -length.amount, length.unit, zone)
            if every is not None and not align:
                start = every.floor(start)
            if every is not None and align:
                aligned = Grid(_base(every), zone, origin=start)
                if not aligned.is_aligned(end):
                    raise LimitError(
                        "E403",
                        f"LAST {length} is not a whole number of EVERY {every} buckets, so the "
                        "last bucket aligned to the start would be partial",
                        span=win.span,
                        hint=f"make LAST a multiple of {every}, or drop ALIGN TO START",
                    )
        elif isinstance(win, ir.Since):
            start = self.timestamp(win.start)
            if every is not None and align:
                end = Grid(_base(every), zone, origin=start).floor(self.now)
            else:
                end = (every or Granularity(1, "h")).floor(self.now)
            if every is not None and not align and not every.is_aligned(start):
                raise self.misaligned(win.start.span, start, every)
        else:
            start = self.timestamp(win.start)
            end = self.timestamp(win.end)
            if every is not None:
                grid = Grid(_base(every), zone, origin=start) if align else every
                for ts, node in ((start, win.start), (end, win.end)):
                    if not grid.is_aligned(ts):
                        raise self.misaligned(node.span, ts, grid)
        if end <= start:
            raise LimitError(
                "E404",
                f"the window [{format_ts(start)}, {format_ts(end)}) is empty",
                span=win.span,
                hint="the end must be later than the start (and SINCE must be in the past)",
            )
        if dataset.history is not None and start < self.now - dataset.history:
            days = dataset.history // DAY
            earliest = format_ts(self.now - dataset.history)
            raise LimitError(
                "E401",
                f"the window starts {format_ts(start)}, but {label} keeps only {days} days of "
                "history",
                span=win.span,
                hint=f"start at {earliest} or later",
            )
        return TimeWindow(start, end)

    def misaligned(self, span: ir.Span, ts: int, every: Granularity | Grid) -> LimitError:
        lo, hi = every.floor(ts), every.ceil(ts)
        zone = self.zone
        where = " aligned to the start" if isinstance(every, Grid) and every.origin else ""
        return LimitError(
            "E403",
            f"{format_local(ts, zone)} is not on the EVERY {every} grid{where}, so the first "
            "or last bucket would be partial",
            span=span,
            hint=f"use {format_local(lo, zone)} or {format_local(hi, zone)}",
        )

    def time_zone(self) -> Zone | None:
        tz = self.query.tz
        if tz is None:
            return None
        resolved, param, span = self.resolve(tz.zone)
        if not isinstance(resolved, ir.Literal) or not isinstance(resolved.value, str):
            raise self.ill_typed(
                param, span, "a time zone such as 'Europe/Berlin' or '+05:30'",
                _duration_text(resolved),
            )  # fmt: skip
        try:
            zone = parse_zone(resolved.value)
        except ValueError:
            raise BindingError(
                "E220",
                f"{resolved.value!r} is not a time zone",
                span=span,
                hint="write an IANA name such as 'Europe/Berlin' or 'America/New_York', or an "
                "offset such as '+05:30'",
            ) from None
        return None if zone.is_utc else zone

    def check_fill(self, metrics: tuple[BoundMetric, ...]) -> str | None:
        fill = self.query.fill
        if fill is None:
            return None
        if fill.mode == "PREVIOUS":
            for bm in metrics:
                if bm.metric.kind != "gauge":
                    raise BindingError(
                        "E221",
                        f"FILL PREVIOUS would carry {bm.metric.name} forward, but it is a "
                        f"{bm.metric.kind}: a bucket without a point did not repeat the last one",
                        span=fill.span,
                        hint="use FILL NULL or FILL ZERO for counters and ratios; PREVIOUS is "
                        "for levels such as stored bytes",
                    )
        return fill.mode

    def bind(self) -> BoundQuery:
        provider, dataset = self.source()
        label = provider.name if dataset.name == provider.default_dataset else (
            f"{provider.name}.{dataset.name}")  # fmt: skip
        metrics = self.metrics(dataset, label)
        by = self.by(dataset, label, {m.output for m in metrics})
        filters = self.filters(dataset, label)
        fill = self.check_fill(metrics)
        self.zone = self.time_zone()
        every: Granularity | Grid | None = None
        if self.query.every is not None:
            every = local_grid(self.duration(self.query.every), self.zone)
        elif self.query.align is not None:
            raise BindingError(
                "E222",
                "ALIGN TO START aligns EVERY buckets, and the query has no EVERY",
                span=self.query.align.span,
                hint="add EVERY (e.g. EVERY 2d), or drop ALIGN TO START",
            )
        window = self.window(every, dataset, label)
        if every is not None and self.query.align is not None:
            every = Grid(_base(every), self.zone, origin=window.start)
        return BoundQuery(
            query=self.query,
            provider=provider,
            dataset=dataset,
            metrics=metrics,
            by=by,
            filters=filters,
            every=every,
            window=window,
            now=self.now,
            zone=self.zone,
            fill=fill,
        )


def _base(every: Granularity | Grid) -> Granularity:
    return every.every if isinstance(every, Grid) else every


def local_grid(every: Granularity, zone: Zone | None) -> Granularity | Grid:
    """EVERY's grid: local for days, weeks and months under TZ, else the UTC one."""
    if zone is not None and every.unit in ("d", "w", "mo"):
        return Grid(every, zone)
    return every


def _merge(old: BoundFilter | None, new: BoundFilter) -> BoundFilter:
    """AND of two conditions on one dimension."""
    if old is None:
        return new
    if old.op == "in" and new.op == "in":
        values = tuple(v for v in old.values if v in new.values)
        return BoundFilter(dimension=new.dimension, op="in", values=values, span=new.span)
    if old.op == "not_in" and new.op == "not_in":
        values = tuple(dict.fromkeys(old.values + new.values))
        return BoundFilter(dimension=new.dimension, op="not_in", values=values, span=new.span)
    inc, exc = (old, new) if old.op == "in" else (new, old)
    values = tuple(v for v in inc.values if v not in exc.values)
    return BoundFilter(dimension=new.dimension, op="in", values=values, span=new.span)


def bind(
    query: ir.Query,
    providers: Mapping[str, Provider],
    *,
    now: int,
    params: Mapping[str, ParamValue] | None = None,
    source: SourceText | None = None,
) -> BoundQuery:
    """Check ``query`` against the installed providers' catalogs and resolve its window."""
    try:
        return _Binder(query, providers, params or {}, now).bind()
    except (BindingError, ParamError, LimitError) as exc:
        if source is not None:
            exc.with_source(source)
        raise
