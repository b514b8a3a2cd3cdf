"""``querylang describe``: a provider's catalog, as text or JSON."""

from __future__ import annotations

import json
from typing import Any, TextIO

from querylang.catalog import Dataset
from querylang.errors import UsageError, did_you_mean
from querylang.finality import final_after
from querylang.hookspecs import Provider
from querylang.plugins import registry

__all__ = ["catalog_json", "describe", "describe_standard", "standard_json"]

DAY = 86400


def _seconds(value: int | None) -> str | None:
    if value is None:
        return None
    if value % DAY == 0:
        return f"{value // DAY}d"
    if value % 3600 == 0:
        return f"{value // 3600}h"
    if value % 60 == 0:
        return f"{value // 60}m"
    return f"{value}s"


def catalog_json(provider: Provider, dataset: Dataset) -> dict[str, Any]:
    """A dataset's catalog as JSON-ready data."""
    from querylang.context import env_name

    return {
        "provider": provider.name,
        "dataset": dataset.name,
        "from": provider.name
        if dataset.name == provider.default_dataset
        else f"{provider.name}.{dataset.name}",
        "description": dataset.description,
        "provider_description": provider.description,
        "base_url": provider.base_url,
        "base_url_env": env_name(provider.name, "BASE_URL"),
        "credentials": [{"env": c.env, "description": c.description} for c in provider.credentials],
        "settings": [
            {"env": s.env, "default": s.default, "description": s.description}
            for s in provider.settings
        ],
        "metrics": [
            {
                "name": m.name,
                "unit": m.unit,
                "kind": m.kind,
                "rollup": m.rollup,
                "description": m.description,
            }
            for m in dataset.metrics
        ],
        "dimensions": [
            {
                "name": d.name,
                "groupable": d.groupable,
                "filterable": d.filterable,
                "type": d.type,
                "values": list(d.values) if d.values else None,
                "max_list": d.max_list,
                "description": d.description,
            }
            for d in dataset.dimensions
        ],
        "granularities": [
            {
                "every": str(g.granularity),
                "retention": _seconds(g.retention),
                "max_window_per_request": _seconds(g.max_window),
                "final_after": _seconds(final_after(dataset, g.granularity)),
            }
            for g in dataset.grains
        ],
        "history": _seconds(dataset.history),
        "rate_limits": [
            {"calls": r.calls, "per_seconds": r.per_seconds} for r in dataset.rate_limits
        ],
        "max_concurrency": dataset.max_concurrency,
    }


def _lookup(name: str) -> tuple[Provider, Dataset]:
    reg = registry()
    prov_name, _, ds_name = name.partition(".")
    provider = reg.get(prov_name)
    if provider is None:
        guess = did_you_mean(prov_name, reg.providers)
        raise UsageError(
            f"unknown provider {prov_name!r}",
            code="E200",
            hint=f"did you mean {guess!r}?" if guess else "run `querylang providers`",
        )
    dataset = provider.datasets.get(ds_name or provider.default_dataset)
    if dataset is None:
        names = ", ".join(f"{provider.name}.{d}" for d in provider.datasets)
        raise UsageError(
            f"{provider.name} has no dataset {ds_name!r}", code="E201", hint=f"it has {names}"
        )
    return provider, dataset


def standard_json() -> dict[str, Any]:
    """The standard vocabulary and, per installed dataset, how it answers each metric."""
    from querylang.standard import STANDARD, how, mapping

    reg = registry()
    datasets = [
        (p.name if d == p.default_dataset else f"{p.name}.{d}", ds)
        for p in reg.providers.values()
        for d, ds in p.datasets.items()
    ]
    metrics = []
    for m in STANDARD:
        notes = {}
        for label, ds in datasets:
            std = mapping(ds, m.name)
            if std is not None and std.note:
                notes[label] = std.note
        metrics.append(
            {
                "name": m.name,
                "unit": m.unit,
                "rule": m.rule,
                "description": m.description,
                "providers": {label: how(ds, m.name) for label, ds in datasets},
                "notes": notes,
            }
        )
    return {"providers": [label for label, _ in datasets], "metrics": metrics}


def describe_standard(fmt: str, out: TextIO) -> None:
    """Print the matrix standard metric x provider: how each is obtained, or —."""
    data = standard_json()
    if fmt == "json":
        json.dump(data, out, indent=2)
        out.write("\n")
        return
    labels = data["providers"]
    header = ["standard metric", "unit", *labels]
    rows = [
        [m["name"], m["unit"], *(m["providers"][label] or "—" for label in labels)]
        for m in data["metrics"]
    ]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    for row in (header, ["-" * w for w in widths], *rows):
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")
    out.write("\nrules:\n")
    for m in data["metrics"]:
        out.write(f"  {m['name']}: {m['description']}\n")
    notes = [
        (m["name"], label, note) for m in data["metrics"] for label, note in m["notes"].items()
    ]
    if notes:
        out.write("\nvendor differences:\n")
        for name, label, note in notes:
            out.write(f"  {name} from {label}: {note}\n")
    out.write("\nengine: computed here from the provider's standard counters; — : not answered.\n")


def describe(name: str, fmt: str, out: TextIO) -> None:
    """Print the catalog of ``provider`` or ``provider.dataset`` (``standard``: the vocabulary)."""
    if name == "standard":
        describe_standard(fmt, out)
        return
    provider, dataset = _lookup(name)
    data = catalog_json(provider, dataset)
    if fmt == "json":
        json.dump(data, out, indent=2)
        out.write("\n")
        return
    w = out.write
    w(f"FROM {data['from']} — {dataset.description}\n")
    w(f"  {provider.description}\n")
    w(f"  base URL: {provider.base_url} (override with {data['base_url_env']})\n")
    for c in data["credentials"]:
        w(f"  credential: {c['env']} — {c['description']}\n")
    for s in data["settings"]:
        w(f"  setting: {s['env']} (default {s['default']!r}) — {s['description']}\n")
    grains = ", ".join(
        g["every"]
        + (f" (kept {g['retention']})" if g["retention"] else "")
        + (f" (≤ {g['max_window_per_request']} per call)" if g["max_window_per_request"] else "")
        + (f" (final {g['final_after']} after a bucket ends)" if g.get("final_after") else "")
        for g in data["granularities"]
    )
    w(f"  native EVERY: {grains}; other EVERY values are re-bucketed here\n")
    if data["history"]:
        w(f"  history: {data['history']}\n")
    for r in data["rate_limits"]:
        w(f"  rate limit: {r['calls']} calls per {r['per_seconds']:g} s\n")
    w("\nmetrics:\n")
    width = max(len(m["name"]) for m in data["metrics"])
    for m in data["metrics"]:
        rollup = m["rollup"] or "not re-bucketable"
        w(
            f"  {m['name']:<{width}}  {m['unit']:<10} {m['kind']:<8} {rollup:<10} "
            f"{m['description']}\n"
        )
    w("\ndimensions:\n")
    for d in data["dimensions"]:
        uses = "/".join(u for u, ok in (("BY", d["groupable"]), ("WHERE", d["filterable"])) if ok)
        values = f" — one of {', '.join(d['values'])}" if d["values"] else ""
        w(f"  {d['name']:<{width}}  {uses:<10} {d['description']}{values}\n")
