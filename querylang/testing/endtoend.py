"""The end-to-end check: queries run by the engine against the emulator give its own data.

Per dataset and grain (calendar months included), one query of every metric the emulator's
``expected()`` can answer (native counters always; a gauge or native ratio only if it
answers one; a derived ratio from its parts' truth). At the dataset's first fixed-length
grain: every native counter grouped BY each dimension and filtered to one known value of
each (one query per dimension, or one per counter where the planner refuses them together),
every group and bucket compared with ``expected()`` for that value; and every standard
counter the catalog maps, compared with its native terms' ``expected()`` scaled as their
units say (:mod:`querylang.testing.standard`); and every standard metric the engine
computes from those counters (the hit ratio and the mean rate at that grain, the peak and
95th percentile of the 5-minute rates over days), compared with its rule worked out from
the same truth.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

import numpy as np

import querylang
from querylang.catalog import Dataset, Dimension, Metric
from querylang.emulation import serve
from querylang.errors import LimitError
from querylang.frames import Frame
from querylang.hookspecs import Provider
from querylang.plugins import Registry
from querylang.standard import BURST_GRAIN_SECONDS, STANDARD, StandardMetric, answerable, mapping
from querylang.testing.sandbox import NOW, between, env_for, fail, registry, source, window
from querylang.testing.standard import combine, counter, formula, scale_fix, terms
from querylang.timegrid import Granularity, format_ts

Series = dict[int, float]
_DAY = Granularity(1, "d")  # the scope of peak and p95: many 5-minute samples a bucket
Where = Mapping[str, Sequence[str]] | None


class TruthEmulator(Protocol):
    """The emulator-truth contract (docs/conformance.md)."""

    def expected(
        self,
        dataset: str,
        metric: str,
        start: int,
        end: int,
        step: int,
        where: Mapping[str, Sequence[str]] | None = None,
    ) -> dict[int, float]: ...


def truth(
    emulator: TruthEmulator,
    dataset: str,
    metric: str,
    grain: Granularity,
    start: int,
    end: int,
    where: Where = None,
) -> Series:
    """``expected()`` over [start, end) on ``grain``: a call per bucket for calendar months."""
    if grain.seconds is not None:
        return dict(emulator.expected(dataset, metric, start, end, grain.seconds, where))
    out: Series = {}
    for t in grain.boundaries(start, end):
        stop = grain.add(t)
        out.update(emulator.expected(dataset, metric, t, stop, stop - t, where))
    return out


def from_parts(m: Metric, parts: Mapping[str, Series]) -> Series:
    """A derived ratio bucket by bucket from its parts' truth; a zero denominator is absent."""
    assert m.ratio is not None
    out: Series = {}
    for t in sorted(set.intersection(*(set(parts[n]) for n in m.ratio.parts))):
        num = sum(c * parts[n][t] for n, c in m.ratio.numerator)
        den = sum(c * parts[n][t] for n, c in m.ratio.denominator)
        if den != 0:
            out[t] = num / den
    return out


def _show(series: Series, keys: Sequence[int]) -> str:
    shown = ", ".join(f"{format_ts(t)}: {series[t]!r}" for t in keys[:3] if t in series)
    return "{" + shown + (", …" if len(keys) > 3 else "") + f"}} ({len(series)} buckets)"


def compare(
    p: Provider,
    text: str,
    got: Series,
    want: Series,
    label: str = "",
    *,
    fix: str = "make compile ask what the query says and decode return the vendor's value per "
    "bucket and group",
    data: str = "the emulator's data",
) -> None:
    wrong = sorted(
        t
        for t in set(got) | set(want)
        if t not in got
        or t not in want
        or not math.isclose(got[t], want[t], rel_tol=1e-9, abs_tol=1e-9)
    )
    if wrong:
        fail(
            p,
            "end_to_end",
            f"{text!r}{label} answered {_show(got, wrong)} but {data} are {_show(want, wrong)}",
            fix,
        )


def column(p: Provider, text: str, frame: Frame, metric: str, rows: Any = None) -> Series:
    """One metric's present values by bucket start (rows: a mask of one group)."""
    times, values = frame.time, frame.metrics[metric]
    if rows is not None:
        times, values = times[rows], values[rows]
    out: Series = {}
    for t, v in zip(times.tolist(), values.tolist(), strict=True):
        if int(t) in out:
            fail(
                p, "end_to_end", f"{text!r} has two rows for {format_ts(int(t))}", "one per bucket"
            )
        if not math.isnan(v):
            out[int(t)] = float(v)
    return out


class Scope:
    """One dataset at one grain over a small window, queried through the engine.

    The emulator serves on a loopback port; ``truth`` asks its ``expected()``.
    """

    def __init__(self, p: Provider, emulator: Any, url: str, dataset: str, grain: Granularity):
        self.p, self.emulator, self.url = p, emulator, url
        self.dataset, self.grain = dataset, grain
        self.start, self.end = window(grain, 2 if grain.is_calendar else 3)
        self.registry: Registry = registry(p)
        self._truth: dict[tuple[str, str, str], Series | None] = {}

    def text(self, select: str, *, by: str = "", where: str = "") -> str:
        return (
            f"SELECT {select}{f' BY {by}' if by else ''} FROM {source(self.p, self.dataset)}"
            f"{f' WHERE {where}' if where else ''} EVERY {self.grain} "
            f"{between(self.start, self.end)}"
        )

    def run(self, text: str) -> Frame | None:
        """The query's frame; None when the planner refuses it (the compile check's concern)."""
        try:
            (result,) = querylang.run(
                text, now=NOW, env=env_for(self.p, self.url), providers=self.registry
            )
        except LimitError:
            return None
        except Exception as exc:  # a crash is reported with its query, not as a traceback
            fail(
                self.p,
                "end_to_end",
                f"{text!r} failed against the emulator: {exc!r}",
                "compile what the emulator (the vendor) accepts and decode what it answers",
            )
        frame: Frame = result.frame
        return frame

    def answer(self, metric: str, dim: str = "", value: str = "") -> Series | None:
        """The emulator's data; None when its ``expected()`` cannot answer this."""
        key = (metric, dim, value)
        if key not in self._truth:
            where = {dim: [value]} if dim else None
            try:
                self._truth[key] = truth(
                    self.emulator, self.dataset, metric, self.grain, self.start, self.end, where
                )
            except ValueError:
                self._truth[key] = None
        return self._truth[key]

    def truth(self, metric: str, dim: str = "", value: str = "") -> Series:
        """The emulator's data; ValueError when its ``expected()`` cannot answer this."""
        found = self.answer(metric, dim, value)
        if found is None:
            raise ValueError(f"expected() cannot answer {self.dataset}.{metric}")
        return found

    def each(
        self, metrics: Sequence[str], text: Callable[[Sequence[str]], str]
    ) -> Iterator[tuple[str, Frame, list[str]]]:
        """(query, frame, its metrics): one query of them all, else, where the planner
        refuses that, one per metric (a refusal alone is the compile check's concern)."""
        if not metrics:
            return
        together = text(metrics)
        frame = self.run(together)
        if frame is not None:
            yield together, frame, list(metrics)
            return
        for name in metrics if len(metrics) > 1 else ():
            alone = text([name])
            frame = self.run(alone)
            if frame is not None:
                yield alone, frame, [name]

    def want(self, m: Metric) -> Series | None:
        """The truth of ``m`` (a derived ratio from its parts'); None if it has none."""
        if not m.native and m.ratio is not None:
            parts = {n: self.answer(n) for n in m.ratio.parts}
            if any(v is None for v in parts.values()):
                return None
            return from_parts(m, {n: v for n, v in parts.items() if v is not None})
        return self.answer(m.name)


def _metrics(s: Scope, ds: Dataset) -> None:
    """Every metric the truth answers, in one query, bucket by bucket."""
    wants = {m.name: s.want(m) for m in ds.metrics}
    for m in ds.metrics:
        if wants[m.name] is None and m.kind == "counter" and m.native:
            fail(
                s.p,
                "end_to_end",
                f"the emulator's expected() cannot answer counter {s.dataset}.{m.name}",
                "answer every native counter in expected()",
            )
    picked = [name for name, want in wants.items() if want is not None]
    for text, frame, names in s.each(picked, lambda ns: s.text(", ".join(ns))):
        for name in names:
            compare(s.p, text, column(s.p, text, frame, name), wants[name] or {}, f" for {name}")


def _groups(s: Scope, text: str, frame: Frame, metric: str, d: Dimension, names: list[str]) -> None:
    """One metric's groups (``names``: each row's) each equal to the truth filtered to it,
    summing to the total."""
    total: Series = {}
    for value in sorted(set(names)):
        want = s.answer(metric, d.name, value)
        if want is None:
            return  # the emulator's truth cannot split by this dimension
        got = column(s.p, text, frame, metric, np.array([n == value for n in names]))
        compare(s.p, text, got, want, f" for {metric} of {d.name} {value!r}")
        for t, v in got.items():
            total[t] = total.get(t, 0.0) + v
    compare(s.p, text, total, s.truth(metric), f" for {metric} summed over its groups")


def _grouped(s: Scope, metrics: Sequence[str], d: Dimension) -> list[str]:
    """``metrics BY d`` (one query, else one per metric): each metric's groups checked."""
    seen: set[str] = set()
    for text, frame, names in s.each(metrics, lambda ns: s.text(", ".join(ns), by=d.name)):
        labels = frame.dims.get(d.name)
        if labels is None or not len(labels):
            fail(s.p, "end_to_end", f"{text!r} answered no group", f"decode each series' {d.name}")
        groups = [str(v) for v in labels.tolist()]
        seen.update(groups)
        for name in names:
            _groups(s, text, frame, name, d, groups)
    return sorted(seen)


def _filter_value(
    s: Scope, metrics: Sequence[str], d: Dimension, seen: Sequence[str]
) -> tuple[str, list[str]] | None:
    """A known value of ``d`` (not a default, preferring one with data) and the metrics
    whose truth can be filtered by it; None when there is no such value or metric."""
    default = set(d.default or ())
    known = [v for v in (*seen, *(d.values or ())) if v not in default] + sorted(default)
    if d.type == "integer":
        known = [v for v in known if v.lstrip("-").isdigit()]
    chosen: tuple[str, list[str]] | None = None
    for value in dict.fromkeys(known):  # the first with data, else the first
        wants = {m: s.answer(m, d.name, value) for m in metrics}
        names = [m for m, want in wants.items() if want is not None]
        if not names:
            return None  # the emulator's truth cannot filter by this dimension
        chosen = chosen or (value, names)
        if any(any(want.values()) for want in wants.values() if want is not None):
            return value, names
    return chosen


def _filtered(s: Scope, metrics: Sequence[str], d: Dimension, seen: Sequence[str]) -> None:
    """``metrics WHERE d IN (one known value)`` equal the truth filtered to that value."""
    chosen = _filter_value(s, metrics, d, seen)
    if chosen is None:
        return  # no value of this dimension is known without asking the vendor
    value, names = chosen
    literal = value if d.type == "integer" else "'" + value.replace("'", "''") + "'"
    where = f"{d.name} IN ({literal})"
    for text, frame, got in s.each(names, lambda ns: s.text(", ".join(ns), where=where)):
        for name in got:
            want = s.truth(name, d.name, value)
            compare(s.p, text, column(s.p, text, frame, name), want, f" for {name}")


def check_standard(s: Scope, ds: Dataset) -> None:
    """``SELECT <standard counters> FROM <provider>`` equals each mapping's terms' truth,
    scaled as the units say (querylang.testing.standard)."""
    own: Mapping[str, str] = getattr(s.p, "units", {})
    mapped = {std.name: (std, terms(ds, std, own)) for std in ds.standard if counter(std)}
    wants = {n: w for n in mapped if (w := _standard_truth(s, ds, n)) is not None}
    for query, frame, names in s.each(list(wants), _standard_text(s, ds)):
        for name in names:
            std, parts = mapped[name]
            compare(
                s.p,
                query,
                column(s.p, query, frame, name),
                wants[name],
                f" for standard {name} = {std.explain()}",
                fix=scale_fix(std, parts)
                or "make compile ask for, and decode return, the native counters the mapping names",
                data=f"the emulator's data worked out as {formula(parts)}",
            )


def _standard_text(s: Scope, ds: Dataset) -> Callable[[Sequence[str]], str]:
    """The query of some standard metrics: a standard name that is also a native metric's
    is read as the native one unless the query takes the cross-provider path, which
    BY provider makes it take."""

    def text(names: Sequence[str]) -> str:
        by = "" if any(ds.metric(n) is None for n in names) else "provider"
        return s.text(", ".join(names), by=by)

    return text


def _standard_truth(s: Scope, ds: Dataset, name: str, step: int | None = None) -> Series | None:
    """The standard counter ``name`` worked out from its mapping's native truth over the
    scope's window, in the scope's buckets (the truth the scope keeps) or in ``step``-second
    ones; None when the dataset does not map it or the truth cannot answer a term."""
    std = mapping(ds, name)
    if std is None:
        return None
    parts = terms(ds, std, getattr(s.p, "units", {}))
    truths: dict[str, Series] = {}
    for t in parts:
        if step is None:
            found = s.answer(t.native)
        else:
            try:
                found = dict(s.emulator.expected(s.dataset, t.native, s.start, s.end, step))
            except ValueError:
                found = None
        if found is None:
            return None
        truths[t.native] = found
    return combine(parts, truths)


def _p95(samples: Sequence[float]) -> float:
    """Burstable billing: ascending, the sample at rank ceil(0.95 * n) (1-based)."""
    ranked = sorted(samples)
    return ranked[math.ceil(len(ranked) * 95 / 100) - 1]


def engine_truth(s: Scope, ds: Dataset, metric: StandardMetric) -> Series | None:
    """What an engine-computed standard metric should be over the scope's buckets, worked
    out from the emulator's truth by its rule (None: the truth cannot answer its parts).

    ``ratio``: the summed parts' ratio (a zero denominator is absent); ``rate``: the
    counter * 8 / the bucket's seconds; ``peak`` and ``p95``: of the 5-minute mean rates
    (the counter's truth in 300-second buckets, * 8 / 300) that fall in each bucket.
    """
    seconds = s.grain.seconds
    if seconds is None:
        return None
    if metric.rule == "ratio":
        hits, misses = (_standard_truth(s, ds, part) for part in metric.parts)
        if hits is None or misses is None:
            return None
        both = sorted(set(hits) & set(misses))
        return {t: hits[t] / (hits[t] + misses[t]) for t in both if hits[t] + misses[t] != 0}
    (part,) = metric.parts
    if metric.rule == "rate":
        total = _standard_truth(s, ds, part)
        return None if total is None else {t: v * 8 / seconds for t, v in total.items()}
    five = _standard_truth(s, ds, part, BURST_GRAIN_SECONDS)
    if five is None:
        return None
    buckets: dict[int, list[float]] = {}
    for t, v in five.items():
        buckets.setdefault(t - (t - s.start) % seconds, []).append(v * 8 / BURST_GRAIN_SECONDS)
    pick = max if metric.rule == "peak" else _p95
    return {t: pick(rates) for t, rates in sorted(buckets.items())}


def check_engine_standard(s: Scope, ds: Dataset) -> None:
    """The standard metrics the engine computes from the provider's standard counters
    (``cache_hit_ratio``, ``bandwidth_bps``; ``peak_bandwidth_bps`` and
    ``p95_bandwidth_bps`` where the scope's buckets hold several 5-minute samples), each
    equal to its rule applied to the emulator's truth (:func:`engine_truth`): one query of
    them all, else one per metric."""
    wants: dict[str, Series] = {}
    rules: dict[str, StandardMetric] = {}
    for metric in STANDARD:
        if not metric.engine or not answerable(ds, metric.name):
            continue
        if metric.rule in ("peak", "p95") and (s.grain.seconds or 0) <= BURST_GRAIN_SECONDS:
            continue  # one sample a bucket at most: the day scope checks these
        want = engine_truth(s, ds, metric)
        if want is not None:
            wants[metric.name], rules[metric.name] = want, metric

    for query, frame, names in s.each(list(wants), _standard_text(s, ds)):
        for name in names:
            metric = rules[name]
            parts = " and ".join(metric.parts)
            compare(
                s.p,
                query,
                column(s.p, query, frame, name),
                wants[name],
                f" for {name} ({metric.description})",
                fix=f"the engine computes it from the standard {parts}: map "
                f"{'them' if len(metric.parts) > 1 else 'it'} as the units say and decode the "
                "native series exactly at every grain the dataset declares",
                data=f"the emulator's data worked out by that rule from {parts}",
            )


def check_end_to_end(p: Provider) -> None:
    """Queries through the engine against the emulator equal the emulator's own data."""
    emulator = p.emulator(lambda: float(NOW))
    if not hasattr(emulator, "expected"):
        fail(p, "end_to_end", "the emulator has no expected()", "implement expected()")
    with serve(emulator) as server:
        for name, ds in p.datasets.items():
            for g in ds.grains:
                _metrics(Scope(p, emulator, server.url, name, g.granularity), ds)
            fixed = [g.granularity for g in ds.grains if not g.granularity.is_calendar]
            if not fixed:
                continue
            s = Scope(p, emulator, server.url, name, fixed[0])
            counters = [m.name for m in ds.metrics if m.kind == "counter" and m.native]
            for d in ds.dimensions if counters else ():
                seen = _grouped(s, counters, d) if d.groupable else []
                if d.filterable:
                    _filtered(s, counters, d, seen)
            check_standard(s, ds)
            check_engine_standard(s, ds)
            if any(answerable(ds, m.name) for m in STANDARD if m.rule in ("peak", "p95")):
                check_engine_standard(Scope(p, emulator, server.url, name, _DAY), ds)
