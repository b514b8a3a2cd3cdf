"""Post-steps as data: what the engine does after decoding, for every provider alike.

The planner emits these frozen step objects; ``explain`` prints each one's
``describe()`` and the engine runs each one's ``apply``. One object per decision, so
what explain says and what runs cannot drift apart. A new behaviour is a new step
class here plus one line in the planner.

Two kinds:

- **piece steps** run on the decoded frames of one piece (one native query): they get
  the piece's window (``apply(frame, window)``);
- **query steps** run once on all pieces merged (``apply(frame)``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from attrs import field, frozen

from querylang.errors import ProviderError
from querylang.localtime import Grid, Zone, format_local
from querylang.records import Record
from querylang.timegrid import Granularity, TimeWindow

if TYPE_CHECKING:  # numpy and frames load only when a step runs (check needs neither)
    import numpy as np

    from querylang.categorical import Categorical
    from querylang.frames import Frame

__all__ = [
    "Burst",
    "Combine",
    "Derive",
    "Fill",
    "FillZeros",
    "Filter",
    "KeepFinal",
    "MarkState",
    "MeanRate",
    "PieceStep",
    "Rebucket",
    "Shape",
    "Standardize",
    "Step",
    "TrimToWindow",
    "floor_times",
]


@runtime_checkable
class Step(Protocol):
    """A query step: applied once, to all pieces merged."""

    def describe(self) -> str: ...

    def apply(self, frame: Frame) -> Frame: ...


@runtime_checkable
class PieceStep(Protocol):
    """A piece step: applied to one piece's frame, knowing the piece's window."""

    def describe(self) -> str: ...

    def apply(self, frame: Frame, window: TimeWindow) -> Frame: ...


def floor_times(grain: Granularity | Grid, times: np.ndarray) -> np.ndarray:
    """Bucket starts of ``times`` on ``grain``'s grid, vectorised (``times`` itself when
    every time is a bucket start already)."""
    import numpy as np

    times = np.asarray(times, np.int64)
    if len(times) == 0:
        return times
    if grain.seconds is not None:
        offset = grain.floor(0)  # the grid's phase (weeks start on Monday)
        past = times - offset
        np.remainder(past, grain.seconds, out=past)  # seconds past each bucket start
        if not past.any():
            return times
        floored: np.ndarray = np.subtract(times, past, out=past)
        return floored
    uniques, inverse = np.unique(times, return_inverse=True)
    floors = np.array([grain.floor(int(t)) for t in uniques], dtype=np.int64)
    return floors[inverse]


def _tuple(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(values)


def _values(values: Sequence[object]) -> tuple[object, ...]:
    return tuple(values)


def _terms(terms: Sequence[tuple[str, float]]) -> tuple[tuple[str, float], ...]:
    return tuple(terms)


def _pairs(pairs: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple(pairs)


def _rules(rules: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(rules.items()) if isinstance(rules, Mapping) else tuple(rules)


# ---- piece steps ---------------------------------------------------------------------


@frozen(kw_only=True, repr=False)
class TrimToWindow(Record):
    """Drop rows outside the piece's window and snap times to the native grid.

    Vendor bounds that are inclusive would otherwise duplicate the boundary bucket when
    two pieces meet.
    """

    grain: Granularity
    window: TimeWindow  # the query's window, for explain; pieces trim to their own

    def describe(self) -> str:
        return f"keep rows within {self.window}"

    def apply(self, frame: Frame, window: TimeWindow) -> Frame:
        from querylang.frames import Frame

        inside = (frame.time >= window.start) & (frame.time < window.end)
        if not inside.all():  # else keep the rows as they are: no copy of the frame
            frame = frame.take(inside)
        time = floor_times(self.grain, frame.time)
        if time is frame.time:  # on the grid already
            return frame
        return Frame(time, frame.dims, frame.metrics, frame.state)


SEEN = "\0seen:"  # a piece column's prefix: 1 where a request for the metric answered


@frozen(kw_only=True, repr=False)
class FillZeros(Record):
    """Every series seen gets every bucket of the piece's window; a missing one is 0.

    Only emitted for vendors that document omitted points as zero. The piece's series
    are combined first (one request per metric or per fan-out value share buckets), so
    that afterwards a missing value really is a point the vendor left out.
    """

    grain: Granularity
    group_by: tuple[str, ...] = field(converter=_tuple)
    provider: str
    rules: tuple[tuple[str, str], ...] = field(converter=_rules)

    def describe(self) -> str:
        return "fill buckets the vendor left out with 0"

    def apply(self, frame: Frame, window: TimeWindow) -> Frame:
        """Fill left-out buckets; a ``SEEN + metric`` column marks the rows a request for
        that metric answered, so that a vendor's explicit null stays missing (NaN)."""
        import numpy as np

        from querylang.frames import Frame

        seen = {m[len(SEEN) :] for m in frame.metrics if m.startswith(SEEN)}
        rules = (*self.rules, *((SEEN + m, "sum") for m in seen))
        frame = _combine(frame, self.group_by, rules, self.provider)
        buckets = np.array(self.grain.boundaries(window.start, window.end), np.int64)
        if len(frame) == 0:
            metrics = {k: v for k, v in frame.metrics.items() if not k.startswith(SEEN)}
            if self.group_by:  # no series seen: none to fill
                return Frame(frame.time, frame.dims, metrics)
            # The one series of an answer without points: every bucket a left-out zero.
            return Frame(buckets, {}, {k: np.zeros(len(buckets)) for k in metrics})
        # Group by the dimensions alone: every row gets the same "time".
        ids, first = frame.group_ids(self.group_by, np.zeros(len(frame), dtype=np.int64))
        n_series, n_buckets = len(first), len(buckets)
        slot = np.searchsorted(buckets, frame.time)
        full_time = np.tile(buckets, n_series)
        full_dims = {d: frame.dims.column(d).take(first).repeat(n_buckets) for d in self.group_by}
        full_metrics = {}
        position = ids * n_buckets + slot
        for name, col in frame.metrics.items():
            if name.startswith(SEEN):
                continue
            out = np.zeros(n_series * n_buckets)
            if name in seen:  # answered null: missing; not answered: a left-out zero
                answered = frame.metrics[SEEN + name] > 0
                out[position] = np.where(answered, col, 0.0)
            else:
                out[position] = np.nan_to_num(col, nan=0.0)
            full_metrics[name] = out
        return Frame(full_time, full_dims, full_metrics)


# ---- query steps ---------------------------------------------------------------------


def _combine(
    frame: Frame, dims: Sequence[str], rules: Sequence[tuple[str, str]], provider: str
) -> Frame:
    """Collapse rows sharing (time, *dims) by each metric's combine rule."""
    import numpy as np

    if tuple(dims) == tuple(frame.dims) and frame.unique_keys(dims):
        return frame  # nothing to collapse
    ids, first = frame.group_ids(dims)
    for name, rule in rules:
        if rule == "only":
            present = ~np.isnan(frame.metrics[name])
            counts = np.bincount(ids, weights=present, minlength=len(first))
            if (counts > 1).any():
                raise ProviderError(
                    provider,
                    f"the answer holds {name} twice for one bucket and series, and {name} "
                    "values cannot be added up",
                    code="P601",
                    hint=f"group BY the dimension that tells the series apart; {name} is reported "
                    "per series only",
                )
    reducers = {name: ("max" if rule == "only" else rule) for name, rule in rules}
    return frame.aggregate(dims, reducers, groups=(ids, first))


@frozen(kw_only=True, repr=False)
class Combine(Record):
    """One row per bucket and series: rows sharing (time, *dims) are combined.

    ``rules`` maps each fetched metric to ``sum``, ``max``, ``min`` or ``only`` (a value
    that must not occur twice: P601 if it does). ``reason`` says why, for explain:
    ``merge`` (pieces merged: a no-op unless requests overlap), ``parts`` (series the
    vendor answered in separate requests), ``away`` (dimensions fetched only to filter).
    """

    dims: tuple[str, ...] = field(converter=_tuple)
    rules: tuple[tuple[str, str], ...] = field(converter=_rules)
    provider: str
    reason: str = "merge"
    dropped: tuple[str, ...] = field(default=(), converter=_tuple)

    def describe(self) -> str:
        if self.reason == "parts":
            return "add up series that the vendor reported in separate requests"
        if self.reason == "providers":
            return "add up the providers' series, bucket by bucket (null where one is missing)"
        if self.reason == "accounts":
            return "add up each provider's accounts, bucket by bucket (null where one is missing)"
        if self.reason == "away":
            return f"combine over {', '.join(self.dropped)}" if self.dropped else "combine"
        return "merge pieces into one row per bucket and series"

    def apply(self, frame: Frame) -> Frame:
        out = _combine(frame, self.dims, self.rules, self.provider)
        if self.reason != "providers" or len(frame) == 0:
            return out
        # A total with a provider's value missing is not the others' sum: it is missing.
        import numpy as np

        ids, first = frame.group_ids(self.dims)
        metrics = {}
        for name, col in out.metrics.items():
            gaps = np.bincount(ids, weights=np.isnan(frame.metrics[name]), minlength=len(first))
            metrics[name] = np.where(gaps > 0, np.nan, col)
        return out.with_columns(metrics=metrics)


@frozen(kw_only=True, repr=False)
class Filter(Record):
    """Keep rows whose dimension value is (or is not) in a list: a filter the vendor lacks."""

    dimension: str
    op: str  # "in" or "not_in"
    values: tuple[object, ...] = field(converter=_values)

    def describe(self) -> str:
        op = "IN" if self.op == "in" else "NOT IN"
        return f"keep rows where {self.dimension} {op} {self.values!r}"

    def apply(self, frame: Frame) -> Frame:
        hit = frame.dims.column(self.dimension).isin(self.values)  # label by label, not by row
        return frame.take(hit if self.op == "in" else ~hit)


def _every_text(every: Granularity | Grid | None) -> str:
    if every is None:
        return "one bucket for the whole window"
    if isinstance(every, Grid):
        where = f" in {every.zone}" if every.local and every.zone is not None else ""
        aligned = " aligned to the window's start" if every.origin is not None else ""
        return f"{every} buckets{where}{aligned}"
    return f"{every} buckets"


def _bucket_ends(
    times: np.ndarray, every: Granularity | Grid | None, window: TimeWindow
) -> np.ndarray:
    """Each bucket's end (the window's end when there is one bucket), vectorised."""
    import numpy as np

    times = np.asarray(times, np.int64)
    if every is None:
        return np.full(len(times), window.end, dtype=np.int64)
    if every.seconds is not None:
        clipped: np.ndarray = np.minimum(times + every.seconds, window.end)
        return clipped
    uniques, inverse = np.unique(times, return_inverse=True)
    ends = np.array([min(every.add(int(t)), window.end) for t in uniques], dtype=np.int64)
    return ends[inverse] if len(times) else times


def _parts(grain: Granularity, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """How many ``grain`` buckets start in each [start, end) (from ``start``, by steps)."""
    import numpy as np

    if grain.seconds is not None:  # ceil((end - start) / seconds), at least 0
        counts = np.maximum(-((starts - ends) // grain.seconds), 0)
        return np.asarray(counts, dtype=np.float64)
    pairs = zip(starts.tolist(), ends.tolist(), strict=True)
    return np.array([len(grain.boundaries(t, e)) for t, e in pairs], dtype=np.float64)


@frozen(kw_only=True, repr=False)
class Rebucket(Record):
    """Native buckets → EVERY buckets (or one whole-window bucket), by each metric's rule.

    ``reducers`` maps each fetched metric to ``sum``, ``mean`` (duration-weighted),
    ``min``, ``max`` or ``at_max:<metric>`` / ``at_min:<metric>``. A bucket missing any of
    its native parts is null, never the sum of the parts that are there (missing is not
    zero); FILL ZERO or PREVIOUS fills the parts first when the user says so.
    """

    grain: Granularity
    every: Granularity | Grid | None
    window: TimeWindow
    by: tuple[str, ...] = field(converter=_tuple)
    reducers: tuple[tuple[str, str], ...] = field(converter=_rules)

    def describe(self) -> str:
        return (
            f"re-bucket {self.grain} → {_every_text(self.every)} (a bucket missing a "
            f"{self.grain} part is null)"
        )

    def apply(self, frame: Frame) -> Frame:
        import numpy as np

        if self.every is None:
            target = np.full(len(frame), self.window.start, dtype=np.int64)
        else:
            target = floor_times(self.every, frame.time)
        weights = None
        if self.grain.seconds is None:
            weights = np.array([self.grain.add(int(t)) - int(t) for t in frame.time], np.float64)
        groups = frame.group_ids(self.by, target)
        out = frame.aggregate(
            self.by, dict(self.reducers), time=target, weights=weights, groups=groups
        )
        # How many native parts each target bucket has, and how many each series holds.
        ids, first = groups
        starts = target[first]
        uniques, inverse = np.unique(starts, return_inverse=True)
        ends = _bucket_ends(uniques, self.every, self.window)
        expected = _parts(self.grain, np.maximum(uniques, self.window.start), ends)[inverse]
        metrics = {}
        for name, col in out.metrics.items():
            present = ~np.isnan(frame.metrics[name])
            counts = np.bincount(ids, weights=present, minlength=len(first))
            metrics[name] = np.where(counts < expected, np.nan, col)
        return out.with_columns(metrics=metrics)


@frozen(kw_only=True, repr=False)
class Fill(Record):
    """Every series gets every bucket of the query's window; an empty one per ``mode``.

    ``NULL``: missing stays missing (null); ``ZERO``: 0; ``PREVIOUS``: the series' last
    value carried forward (gauges only); ``NONE``: buckets without any value are dropped.
    ``grid`` is EVERY's grid (None: one bucket for the whole window), or the native grain
    when parts are filled before re-bucketing.
    """

    mode: str
    grid: Granularity | Grid | None
    window: TimeWindow
    by: tuple[str, ...] = field(converter=_tuple)
    native: bool = False  # filling native parts before re-bucketing

    def describe(self) -> str:
        what = {
            "NULL": "null (missing, not zero)",
            "ZERO": "0",
            "PREVIOUS": "the series' previous value",
            "NONE": "nothing: drop buckets without a value",
        }[self.mode]
        if self.mode == "NONE":
            return f"FILL NONE: {what}"
        buckets = f"{self.grid} parts" if self.native else _every_text(self.grid)
        return f"FILL {self.mode}: every series gets all {buckets}; an empty one is {what}"

    def apply(self, frame: Frame) -> Frame:
        import numpy as np

        from querylang.frames import Frame

        names = list(frame.metrics)
        if self.mode == "NONE":
            if not names:
                return frame
            empty = np.all([np.isnan(frame.metrics[m]) for m in names], axis=0)
            return frame.take(~empty)
        if self.grid is None:
            buckets = np.array([self.window.start], np.int64)
        else:
            buckets = np.array(self.grid.boundaries(self.window.start, self.window.end), np.int64)
        dims = [d for d in frame.dims if d in self.by]
        if len(frame) == 0:
            if dims:
                return frame  # no series seen: nothing to fill
            ids, first = np.empty(0, np.int64), np.zeros(1, np.int64)
            n_series = 1
            dim_values: dict[str, Categorical] = {}
        else:
            ids, first = frame.group_ids(dims, np.zeros(len(frame), dtype=np.int64))
            n_series = len(first)
            dim_values = {d: frame.dims.column(d).take(first) for d in dims}
        n_buckets = len(buckets)
        slot = np.searchsorted(buckets, frame.time)
        inside = (slot < n_buckets) & (buckets[np.minimum(slot, n_buckets - 1)] == frame.time)
        position = (ids * n_buckets + slot)[inside]
        full_time = np.tile(buckets, n_series)
        full_dims = {d: v.repeat(n_buckets) for d, v in dim_values.items()}
        full_metrics = {}
        for name in names:
            out = np.full(n_series * n_buckets, np.nan)
            out[position] = frame.metrics[name][inside]
            if self.mode == "ZERO":
                out = np.nan_to_num(out, nan=0.0)
            elif self.mode == "PREVIOUS":
                out = _carry_forward(out.reshape(n_series, n_buckets)).reshape(-1)
            full_metrics[name] = out
        return Frame(full_time, full_dims, full_metrics)


def _carry_forward(values: np.ndarray) -> np.ndarray:
    """Per row: each NaN takes the last non-NaN value before it (leading NaNs stay)."""
    import numpy as np

    n = values.shape[1]
    index = np.where(~np.isnan(values), np.arange(n), 0)
    np.maximum.accumulate(index, axis=1, out=index)
    out = np.take_along_axis(values, index, axis=1)
    return out


def _delay_text(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


@frozen(kw_only=True, repr=False)
class MarkState(Record):
    """Each row's ``state``: ``complete`` once its bucket is final, else ``provisional``.

    A bucket is final when every native part of it is: ``delay`` seconds (the vendor's
    finality delay at the native grain, the longest over providers) after the bucket ends,
    as of ``now`` (see :mod:`querylang.finality`).
    """

    every: Granularity | Grid | None
    window: TimeWindow
    now: int
    delay: int
    sources: tuple[str, ...] = field(converter=_tuple)  # "fastly 1h: 15 min", for explain
    zone: Zone | None = None

    def describe(self) -> str:
        cutoff = format_local(self.now - self.delay, self.zone)
        return (
            f"mark rows complete when their bucket ended by {cutoff} (final "
            f"{_delay_text(self.delay)} after a bucket ends: {'; '.join(self.sources)}), "
            "else provisional"
        )

    def apply(self, frame: Frame) -> Frame:
        import numpy as np

        ends = _bucket_ends(frame.time, self.every, self.window)
        from querylang.frames import Frame

        state = np.where(ends + self.delay <= self.now, "complete", "provisional").astype(object)
        return Frame(frame.time, frame.dims, frame.metrics, state)


@frozen(kw_only=True, repr=False)
class KeepFinal(Record):
    """--final-only: drop the provisional rows."""

    def describe(self) -> str:
        return "--final-only: drop provisional rows"

    def apply(self, frame: Frame) -> Frame:
        if frame.state is None:
            return frame
        return frame.take(frame.state == "complete")


@frozen(kw_only=True, repr=False)
class Derive(Record):
    """A ratio recomputed from its summed parts: num / den, null where den is 0."""

    name: str
    numerator: tuple[tuple[str, float], ...] = field(converter=_terms)
    denominator: tuple[tuple[str, float], ...] = field(converter=_terms)

    def describe(self) -> str:
        parts = dict.fromkeys(m for m, _ in (*self.numerator, *self.denominator))
        return f"derive {self.name} from {', '.join(parts)}"

    def apply(self, frame: Frame) -> Frame:
        import numpy as np

        num = sum(c * frame.metrics[m] for m, c in self.numerator)
        den = sum(c * frame.metrics[m] for m, c in self.denominator)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(den == 0, np.nan, np.asarray(num) / np.asarray(den))
        return frame.with_columns(metrics={self.name: value})


@frozen(kw_only=True, repr=False)
class Shape(Record):
    """The result's layout: time, the BY dimensions, the metrics in SELECT order, sorted."""

    by: tuple[str, ...] = field(converter=_tuple)
    outputs: tuple[tuple[str, str], ...] = field(converter=_pairs)  # (output name, metric)

    def describe(self) -> str:
        return "order columns as selected and sort rows by time and series"

    def apply(self, frame: Frame) -> Frame:
        return frame.project(self.by, list(self.outputs)).sort()


# ---- cross-provider steps (querylang.federation) --------------------------------------


def _columns(
    columns: Sequence[tuple[str, Sequence[tuple[str, float]]]],
) -> tuple[tuple[str, tuple[tuple[str, float], ...]], ...]:
    return tuple((name, tuple(terms)) for name, terms in columns)


def _formula(terms: Sequence[tuple[str, float]]) -> str:
    out = []
    for native, coef in terms:
        out.append(native if coef == 1 else f"{native} * {coef:g}")
    return " + ".join(out)


@frozen(kw_only=True, repr=False)
class Standardize(Record):
    """One account's native columns → standard columns in base units, tagged with its
    ``provider`` and ``account``.

    Each column is a linear combination of native counters (a unit scale, or a sum); a
    missing native value leaves the standard value missing, never zero.
    """

    provider: str
    columns: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = field(converter=_columns)
    account: str = ""  # "" : the provider's default account, named like the provider

    def describe(self) -> str:
        cols = ", ".join(
            name if terms == ((name, 1.0),) else f"{name} = {_formula(terms)}"
            for name, terms in self.columns
        )
        account = self.account or self.provider.partition(".")[0]
        tags = f"provider = {self.provider!r}"
        who = self.provider
        if account != self.provider.partition(".")[0]:
            tags += f", account = {account!r}"
            who = f"{account} ({self.provider})"
        return f"{who}: {cols}; tag rows {tags}"

    def apply(self, frame: Frame) -> Frame:
        import numpy as np

        from querylang.categorical import Categorical
        from querylang.frames import Frame

        metrics = {
            name: sum(
                (coef * frame.metrics[native] for native, coef in terms), np.zeros(len(frame))
            )
            for name, terms in self.columns
        }
        tag = Categorical.constant(self.provider, len(frame))
        account = Categorical.constant(self.account or self.provider.partition(".")[0], len(frame))
        dims = {"provider": tag, "account": account, **frame.dims.columns()}
        return Frame(frame.time, dims, metrics)


def _bucket_seconds(
    times: np.ndarray, every: Granularity | Grid | None, window: TimeWindow
) -> np.ndarray:
    """Each bucket's length in seconds (calendar months differ; no EVERY: the window)."""
    import numpy as np

    if every is None:
        return np.full(len(times), float(window.end - window.start))
    if every.seconds is not None:
        return np.full(len(times), float(every.seconds))
    uniques, inverse = np.unique(times, return_inverse=True)
    lengths = np.array([every.add(int(t)) - int(t) for t in uniques], dtype=np.float64)
    return lengths[inverse]


@frozen(kw_only=True, repr=False)
class Burst(Record):
    """5-minute rows → EVERY buckets: counters summed, and the peak and the 95th
    percentile of the 5-minute mean rates (``source`` * 8 / 300 s).

    The percentile is the burstable-billing one: the n present samples of a bucket in
    ascending order, the value at rank ceil(0.95 * n). It runs after the providers are
    added up, so it is the percentile of the combined series.
    """

    grain: Granularity | Grid
    every: Granularity | Grid | None
    window: TimeWindow
    by: tuple[str, ...] = field(converter=_tuple)
    sums: tuple[str, ...] = field(converter=_tuple)
    source: str
    peak: str | None = None
    p95: str | None = None

    def describe(self) -> str:
        target = f"{self.every} buckets" if self.every else "one bucket for the whole window"
        what = " and ".join(
            w for w, on in (("peak", self.peak), ("95th percentile", self.p95)) if on
        )
        return (
            f"re-bucket {self.grain} → {target}: counters summed, {what} of the "
            f"{self.grain} rates {self.source} * 8 / {self.grain.seconds} s"
        )

    def apply(self, frame: Frame) -> Frame:
        import numpy as np

        if self.every is None:
            target = np.full(len(frame), self.window.start, dtype=np.int64)
        else:
            target = floor_times(self.every, frame.time)
        rate = frame.metrics[self.source] * 8.0 / float(self.grain.seconds or 1)
        ids, first = frame.group_ids(self.by, target)
        out = frame.aggregate(self.by, {m: "sum" for m in self.sums}, time=target,
                              groups=(ids, first))  # fmt: skip
        extra: dict[str, np.ndarray] = {}
        if self.peak:
            peak = np.full(len(first), np.nan)
            np.fmax.at(peak, ids, rate)
            extra[self.peak] = peak
        if self.p95:
            extra[self.p95] = _percentile95(rate, ids, len(first))
        return out.with_columns(metrics=extra)


def _percentile95(values: np.ndarray, ids: np.ndarray, n: int) -> np.ndarray:
    """Per group, the value at rank ceil(0.95 * count) of its present values, ascending."""
    import numpy as np

    present = np.nonzero(~np.isnan(values))[0]
    order = present[np.lexsort((values[present], ids[present]))]
    counts = np.bincount(ids[present], minlength=n)
    starts = np.cumsum(counts) - counts
    out = np.full(n, np.nan)
    has = counts > 0
    rank = (95 * counts[has] + 99) // 100  # ceil(0.95 * n) in integers: 1-based
    out[has] = values[order[starts[has] + rank - 1]]
    return out


@frozen(kw_only=True, repr=False)
class MeanRate(Record):
    """A mean rate over each bucket: ``source`` * 8 / the bucket's seconds (bit/s)."""

    name: str
    source: str
    every: Granularity | Grid | None
    window: TimeWindow

    def describe(self) -> str:
        return f"derive {self.name} = {self.source} * 8 / bucket seconds"

    def apply(self, frame: Frame) -> Frame:
        seconds = _bucket_seconds(frame.time, self.every, self.window)
        return frame.with_columns(metrics={self.name: frame.metrics[self.source] * 8.0 / seconds})


#: Every step type, for the test that proves each has both ``describe`` and ``apply``.
PIECE_STEPS: tuple[type, ...] = (TrimToWindow, FillZeros)
QUERY_STEPS: tuple[type, ...] = (
    Combine,
    Filter,
    Rebucket,
    Fill,
    MarkState,
    KeepFinal,
    Derive,
    Shape,
    Standardize,
    Burst,
    MeanRate,
)
