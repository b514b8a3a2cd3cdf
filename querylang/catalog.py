"""What a provider can answer, declared as data: metrics, dimensions, grains, limits."""

from __future__ import annotations

import math
from typing import Literal

from attrs import field, frozen

from querylang.records import Record
from querylang.timegrid import Granularity

__all__ = [
    "Credential",
    "Dataset",
    "Dimension",
    "GrainSpec",
    "Metric",
    "RateLimit",
    "Ratio",
    "Setting",
    "Standard",
]

Kind = Literal["counter", "gauge", "ratio"]
# How values of one series combine over time when buckets are merged (re-bucketing):
# "sum" for volumes, "mean" (duration-weighted) for rates and levels, "min"/"max" for
# extremes, "last" for levels sampled at bucket end, "at_max:<metric>"/"at_min:<metric>"
# for "time at which <metric> peaked", "ratio" for ratios recomputed from their parts,
# None when the vendor's number cannot be re-aggregated at all.
Rollup = str | None


@frozen(kw_only=True, repr=False)
class Ratio(Record):
    """A ratio as linear combinations of counters: sum(c*m for numerator) / sum(c*m ...)."""

    numerator: tuple[tuple[str, float], ...]
    denominator: tuple[tuple[str, float], ...]

    @property
    def parts(self) -> tuple[str, ...]:
        names = [m for m, _ in self.numerator] + [m for m, _ in self.denominator]
        return tuple(dict.fromkeys(names))


def _default_rollup(kind: Kind) -> Rollup:
    return {"counter": "sum", "gauge": "mean", "ratio": None}[kind]


@frozen(kw_only=True, repr=False)
class Metric(Record):
    """One selectable metric."""

    name: str
    unit: str
    kind: Kind
    description: str
    ratio: Ratio | None = None
    native: bool = True  # False: the vendor has no such field; always derived from ``ratio``
    rollup: Rollup = field()
    combine: str | None = field()

    @rollup.default
    def _rollup_default(self) -> Rollup:
        if self.kind == "ratio" and self.ratio is not None:
            return "ratio"
        return _default_rollup(self.kind)

    @combine.default
    def _combine_default(self) -> str | None:
        # How values of several series combine at one instant when a dimension is
        # aggregated away client-side: volumes and rates add up, extremes do not.
        if self.kind == "ratio":
            return "ratio" if self.ratio is not None else None
        if self.rollup in ("sum", "mean", "last"):
            return "sum"
        return None


@frozen(kw_only=True, repr=False)
class Dimension(Record):
    """A dimension: something to group BY and/or filter on in WHERE."""

    name: str
    description: str
    groupable: bool = True
    filterable: bool = True
    type: Literal["string", "integer"] = "string"
    values: tuple[str, ...] | None = None  # the closed set of values, when the vendor has one
    native_ops: frozenset[str] = frozenset({"in"})  # filter ops the vendor does itself
    max_list: int | None = None  # values per request in one filter; more are split
    default: tuple[str, ...] | None = None  # what the vendor assumes when no filter is sent
    # True when the vendor takes one value per request: the provider sends a request per
    # filter value and the engine adds the answers up (so ratios are derived from parts).
    fan_out: bool = False


@frozen(kw_only=True, repr=False)
class GrainSpec(Record):
    """A native granularity and its limits."""

    granularity: Granularity
    retention: int | None = None  # seconds of history kept at this grain (None: dataset's)
    max_window: int | None = None  # seconds one request may span at this grain
    # seconds after a bucket at this grain ends until the vendor stops revising it
    # (None: the dataset's ``final_after``); see :mod:`querylang.finality`
    final_after: int | None = None

    @classmethod
    def of(
        cls,
        text: str,
        *,
        retention: int | None = None,
        max_window: int | None = None,
        final_after: int | None = None,
    ) -> GrainSpec:
        return cls(
            granularity=Granularity.parse(text),
            retention=retention,
            max_window=max_window,
            final_after=final_after,
        )


@frozen(kw_only=True, repr=False)
class RateLimit(Record):
    """At most ``calls`` requests in any ``per_seconds`` window."""

    calls: int
    per_seconds: float


@frozen(kw_only=True, repr=False)
class Credential(Record):
    """A secret a provider reads from the environment."""

    env: str
    description: str


@frozen(kw_only=True, repr=False)
class Setting(Record):
    """A non-secret provider setting read from the environment."""

    env: str
    default: str
    description: str
    sandbox: str | None = None  # the value under --sandbox (None: as without it)


@frozen(kw_only=True, repr=False)
class Standard(Record):
    """How a dataset answers one standard counter (see :mod:`querylang.standard`).

    ``terms`` is a linear combination of the dataset's native counters: one term with a
    unit scale (``(("xferUsedTotalMB", 1e6),)`` turns MB into bytes), or several summed
    (``(("resp_body_bytes", 1), ("resp_header_bytes", 1))``). ``note`` says where the
    vendor's definition differs from the standard one.
    """

    name: str
    terms: tuple[tuple[str, float], ...]
    note: str = ""

    @classmethod
    def of(cls, name: str, *natives: str, scale: float = 1.0, note: str = "") -> Standard:
        """``name`` = (sum of ``natives``, or the native metric of the same name) * ``scale``."""
        return cls(name=name, terms=tuple((n, scale) for n in natives or (name,)), note=note)

    def explain(self) -> str:
        """The formula, e.g. ``xferUsedTotalMB * 10^6``."""
        parts = []
        for native, coef in self.terms:
            if coef == 1:
                parts.append(native)
            elif coef >= 10 and math.log10(coef).is_integer():
                parts.append(f"{native} * 10^{int(math.log10(coef))}")
            else:
                parts.append(f"{native} * {coef:g}")
        return " + ".join(parts)


@frozen(kw_only=True, repr=False)
class Dataset(Record):
    """One thing to select FROM: ``provider`` or ``provider.dataset``."""

    name: str
    description: str
    metrics: tuple[Metric, ...]
    dimensions: tuple[Dimension, ...]
    grains: tuple[GrainSpec, ...]
    history: int | None = None  # seconds of history kept at all
    rate_limits: tuple[RateLimit, ...] = ()
    max_concurrency: int = 4
    omits_zeros: bool = False  # the vendor leaves out zero points: fill them with 0
    max_requests: int = 5000  # a plan needing more is refused rather than run
    standard: tuple[Standard, ...] = ()  # the standard counters it answers, and how
    # seconds after a bucket ends until its data are final, for grains that do not say
    # (a plugin that declares nothing gets a conservative day); see querylang.finality
    final_after: int = 86400

    def metric(self, name: str) -> Metric | None:
        return next((m for m in self.metrics if m.name == name), None)

    def dimension(self, name: str) -> Dimension | None:
        return next((d for d in self.dimensions if d.name == name), None)

    def grain(self, granularity: Granularity) -> GrainSpec | None:
        return next((g for g in self.grains if g.granularity == granularity), None)
