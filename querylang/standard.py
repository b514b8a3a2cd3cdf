"""The standard vocabulary: metrics no vendor owns, in base units, with one rule each.

A provider declares in its catalog which standard metrics it answers and from which of
its native metrics (:class:`~querylang.catalog.Standard`: a native metric times a unit
scale, or a sum of several). The metrics marked ``engine`` below are never declared by a
provider: the engine computes them from a standard counter the provider does answer
(``cache_hit_ratio`` from the summed hits and misses; the bandwidth metrics from
``sent_bytes``, the peak and 95th percentile from its 5-minute series).

This table is the single source of the vocabulary: binding, planning, ``describe
standard`` and the documentation's tables all read it.
"""

from __future__ import annotations

from typing import Literal

from attrs import frozen

from querylang.catalog import Dataset, Standard
from querylang.timegrid import Granularity

__all__ = [
    "BURST_GRAIN_SECONDS",
    "STANDARD",
    "StandardMetric",
    "answerable",
    "burst_grain",
    "how",
    "mapping",
    "standard_metric",
]

#: The sample grain of peak and percentile metrics: 5-minute mean rates.
BURST_GRAIN_SECONDS = 300

Rule = Literal["counter", "ratio", "rate", "peak", "p95"]


@frozen(kw_only=True)
class StandardMetric:
    """One standard metric: its unit, how values combine, and what it is built from."""

    name: str
    unit: str
    rule: Rule
    description: str
    parts: tuple[str, ...] = ()  # the standard counters an engine-computed metric needs

    @property
    def engine(self) -> bool:
        """True when the engine computes it from ``parts`` (a provider never declares it)."""
        return self.rule != "counter"


def _counter(name: str, unit: str, description: str) -> StandardMetric:
    return StandardMetric(name=name, unit=unit, rule="counter", description=description)


STANDARD: tuple[StandardMetric, ...] = (
    _counter("sent_bytes", "bytes", "bytes delivered from the edge to clients"),
    _counter("upstream_bytes", "bytes", "bytes fetched from origin into the CDN"),
    _counter("requests", "count", "requests to the edge"),
    _counter("responses_2xx", "count", "responses with a 2xx status"),
    _counter("responses_3xx", "count", "responses with a 3xx status"),
    _counter("responses_4xx", "count", "responses with a 4xx status"),
    _counter("responses_5xx", "count", "responses with a 5xx status"),
    _counter("cache_hits", "count", "requests answered from the edge cache"),
    _counter("cache_misses", "count", "requests the edge had to fetch from origin"),
    StandardMetric(
        name="cache_hit_ratio",
        unit="ratio",
        rule="ratio",
        description="cache_hits / (cache_hits + cache_misses) over the bucket, from summed parts",
        parts=("cache_hits", "cache_misses"),
    ),
    StandardMetric(
        name="bandwidth_bps",
        unit="bit/s",
        rule="rate",
        description="mean rate over the bucket: sent_bytes * 8 / bucket seconds",
        parts=("sent_bytes",),
    ),
    StandardMetric(
        name="peak_bandwidth_bps",
        unit="bit/s",
        rule="peak",
        description="the highest 5-minute mean rate within the bucket",
        parts=("sent_bytes",),
    ),
    StandardMetric(
        name="p95_bandwidth_bps",
        unit="bit/s",
        rule="p95",
        description="burstable-billing 95th percentile of the bucket's 5-minute mean rates "
        "(ascending order, the value at rank ceil(0.95 * n) of the n samples)",
        parts=("sent_bytes",),
    ),
)

_BY_NAME = {m.name: m for m in STANDARD}


def standard_metric(name: str) -> StandardMetric | None:
    """The standard metric called ``name``, if there is one."""
    return _BY_NAME.get(name)


def mapping(dataset: Dataset, name: str) -> Standard | None:
    """How ``dataset`` answers the standard counter ``name`` (None: it does not)."""
    return next((s for s in dataset.standard if s.name == name), None)


def answerable(dataset: Dataset, name: str) -> bool:
    """Whether ``dataset`` answers the standard metric ``name`` (directly or via parts)."""
    metric = _BY_NAME.get(name)
    if metric is None:
        return False
    if not metric.engine:
        return mapping(dataset, name) is not None
    if metric.rule in ("peak", "p95") and burst_grain(dataset) is None:
        return False
    return all(mapping(dataset, part) is not None for part in metric.parts)


def how(dataset: Dataset, name: str) -> str | None:
    """One line saying how ``dataset`` obtains ``name``; None when it cannot."""
    metric = _BY_NAME[name]
    if not answerable(dataset, name):
        return None
    if not metric.engine:
        std = mapping(dataset, name)
        assert std is not None
        return std.explain()
    if metric.rule == "ratio":
        return "engine, from summed parts"
    if metric.rule == "rate":
        return "engine, from sent_bytes"
    return f"engine, from {burst_grain(dataset)} sent_bytes"


def burst_grain(dataset: Dataset) -> Granularity | None:
    """The coarsest native grain that tiles 5 minutes (None: the dataset has none)."""
    fits = [
        s.granularity
        for s in dataset.grains
        if s.granularity.seconds is not None and BURST_GRAIN_SECONDS % s.granularity.seconds == 0
    ]
    return max(fits, key=lambda g: g.seconds or 0, default=None)
