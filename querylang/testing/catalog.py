"""The catalog check: units, rules and references of every dataset are consistent."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

from querylang.accounts import ACCOUNT
from querylang.binding import RESERVED_COLUMNS
from querylang.catalog import Dataset, Metric
from querylang.federation import PROVIDER
from querylang.hookspecs import Provider
from querylang.standard import standard_metric
from querylang.testing.sandbox import fail
from querylang.units import KNOWN_UNITS

ROLLUPS = frozenset({"sum", "mean", "min", "max", "last", "ratio", None})
COMBINES = frozenset({"sum", "ratio", None})


def _unit_problem(where: str, m: Metric, known: frozenset[str]) -> tuple[str, str] | None:
    if m.unit in known:
        return None
    near = sorted(u for u in known if u.lower() == m.unit.strip().lower())
    if not m.unit.strip():
        return f"{where} has no unit", "give every metric a unit"
    fix = f"spell it {near[0]!r}" if near else f"use one of {sorted(known)}"
    return (
        f"{where} has unit {m.unit!r}, which querylang.units does not know",
        f"{fix} (querylang.units.UNITS; a unit of your own goes in the provider's `units`, "
        "mapped to what it measures)",
    )


def _metric_problems(
    ds: Dataset, names: set[str], known: frozenset[str]
) -> Iterator[tuple[str, str]]:
    for m in ds.metrics:
        where = f"dataset {ds.name!r} metric {m.name!r}"
        unit = _unit_problem(where, m, known)
        if unit is not None:
            yield unit
        rollup = m.rollup
        if rollup is not None and rollup.startswith(("at_max:", "at_min:")):
            ref = rollup.split(":", 1)[1]
            if ref not in names:
                yield f"{where} rolls up {rollup!r} but {ref!r} is not a metric", "name a metric"
        elif rollup not in ROLLUPS:
            yield f"{where} has rollup {rollup!r}", f"use one of {sorted(map(str, ROLLUPS))}"
        if m.combine not in COMBINES:
            yield f"{where} has combine {m.combine!r}", "use 'sum', 'ratio' or None"
        if m.kind == "ratio" and m.rollup == "ratio" and m.ratio is None:
            yield f"{where} rolls up as a ratio without parts", "declare ratio=Ratio(...)"
        if m.ratio is not None:
            for part in m.ratio.parts:
                if part not in names:
                    yield f"{where} is a ratio of {part!r}, not a metric", "declare the part"
        if not m.native and m.ratio is None:
            yield f"{where} is not native and has no ratio", "declare ratio= or native=True"


def _standard_problems(ds: Dataset) -> Iterator[tuple[str, str]]:
    for std in ds.standard:
        if standard_metric(std.name) is None:
            yield (
                f"dataset {ds.name!r} maps unknown standard {std.name!r}",
                "see querylang.standard",
            )
        for native, coef in std.terms:
            metric = ds.metric(native)
            if metric is None or metric.kind != "counter":
                yield (
                    f"dataset {ds.name!r} standard {std.name!r} uses {native!r}, not a counter",
                    "map standard counters onto the dataset's counters",
                )
            if not (coef > 0 and math.isfinite(coef)):
                yield f"dataset {ds.name!r} standard {std.name!r} has scale {coef}", "scale > 0"


def _grain_problems(ds: Dataset) -> Iterator[tuple[str, str]]:
    if not ds.grains:
        yield f"dataset {ds.name!r} has no grain", "declare at least one GrainSpec"
    for g in ds.grains:
        for label, value in (("retention", g.retention), ("max_window", g.max_window)):
            if value is not None and value <= 0:
                yield f"dataset {ds.name!r} grain {g.granularity} has {label} {value}", "> 0"
        seconds = g.granularity.seconds
        if g.max_window is not None and seconds is not None and g.max_window < seconds:
            yield f"dataset {ds.name!r} grain {g.granularity} window < one bucket", "widen it"


def problems(ds: Dataset, units: Mapping[str, str] | None = None) -> Iterator[tuple[str, str]]:
    """Each inconsistency of one dataset, as (what is wrong, the fix)."""
    names = {m.name for m in ds.metrics}
    if len(names) != len(ds.metrics):
        yield "two metrics share a name", "give every metric a unique name"
    yield from _metric_problems(ds, names, KNOWN_UNITS | frozenset(units or {}))
    dims = [d.name for d in ds.dimensions]
    if len(set(dims)) != len(dims):
        yield f"dataset {ds.name!r} has two dimensions with one name", "rename one"
    for name in sorted(set(dims) | names):
        if name in RESERVED_COLUMNS:
            yield (
                f"dataset {ds.name!r} has a metric or dimension named {name!r}, a column every "
                "result has",
                f"rename it (results have {' and '.join(RESERVED_COLUMNS)} columns of their own)",
            )
        elif name in (PROVIDER, ACCOUNT):
            yield (
                f"dataset {ds.name!r} has a metric or dimension named {name!r}, which the "
                f"engine adds to every query (BY {name} splits by the {name} in FROM)",
                "rename it (the vendor's own, e.g. origin_provider or customer_account)",
            )
    yield from _standard_problems(ds)
    yield from _grain_problems(ds)
    if ds.max_concurrency < 1 or ds.max_requests < 1:
        yield f"dataset {ds.name!r} has a limit below 1", "max_concurrency, max_requests >= 1"
    for r in ds.rate_limits:
        if r.calls < 1 or r.per_seconds <= 0:
            yield f"dataset {ds.name!r} rate limit {r} is not positive", "calls >= 1, per > 0"


def check_catalog(p: Provider) -> None:
    """The catalog is consistent: units, rules, references, grains and limits."""
    if p.default_dataset not in p.datasets:
        fail(p, "catalog", f"default_dataset {p.default_dataset!r} is not a dataset", "name one")
    units: Mapping[str, str] = getattr(p, "units", None) or {}
    for unit, meaning in units.items():
        if not (isinstance(meaning, str) and meaning.strip()):
            fail(p, "catalog", f"units[{unit!r}] does not say what it measures", "describe it")
    for name, ds in p.datasets.items():
        for problem, fix in problems(ds, units):
            fail(p, "catalog", problem, fix)
        if ds.name != name:
            fail(p, "catalog", f"dataset {name!r} is named {ds.name!r}", "use the same name")
