"""A test double of a vendor API, to exercise the engine's generic mechanisms.

It is not a provider anyone would use: it exists so engine tests can switch on each
catalog feature (window and list limits, fan-out, client-side filters, omitted zeros)
and see exactly what the engine sends and merges.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
from attrs import evolve

from querylang.catalog import Credential, Dataset, Dimension, GrainSpec, Metric, Ratio
from querylang.emulation import json_response, synthetic_totals
from querylang.frames import Frame, FrameBuilder
from querylang.hookspecs import hookimpl
from querylang.provider import HttpProvider, Wire
from querylang.timegrid import Granularity
from querylang.wire import NativeQuery, NativeRequest, NativeResponse, ProviderContext, build_url

HOSTS = ("h1", "h2", "h3", "h4")
ZONES = ("a", "b", "c")
KINDS = ("x", "y")
DAY = 86400

DATASET = Dataset(
    name="main",
    description="toy statistics",
    metrics=(
        Metric(name="hits", unit="requests", kind="counter", description="hits"),
        Metric(name="miss", unit="requests", kind="counter", description="misses"),
        Metric(
            name="ratio",
            unit="ratio",
            kind="ratio",
            description="hits / (hits + miss)",
            ratio=Ratio(numerator=(("hits", 1),), denominator=(("hits", 1), ("miss", 1))),
        ),
        Metric(name="peak", unit="requests", kind="gauge", rollup="max", description="peak"),
        Metric(name="level", unit="bit/s", kind="gauge", description="mean rate"),
        Metric(name="opaque", unit="ratio", kind="ratio", description="not re-aggregable"),
    ),
    dimensions=(
        Dimension(name="host", description="host", max_list=2),
        Dimension(name="zone", description="zone", values=ZONES, fan_out=True),
        Dimension(name="kind", description="kind", native_ops=frozenset()),
    ),
    grains=(
        GrainSpec.of("1m", retention=2 * DAY, max_window=6 * 3600),
        GrainSpec.of("1h", max_window=2 * DAY),
        GrainSpec.of("1d"),
    ),
    history=30 * DAY,
)


class ToyWire(Wire):
    """The toy's one wire format: ``GET /series``, one call per zone asked for."""

    def __init__(self, dataset: Dataset = DATASET) -> None:
        self.dataset = dataset

    def compile(self, query: NativeQuery, context: ProviderContext) -> list[NativeRequest]:
        params: list[tuple[str, Any]] = [
            ("from", query.window.start),
            ("to", query.window.end),
            ("grain", str(query.granularity)),
            ("metrics", ",".join(query.metrics)),
            ("group", ",".join(query.group_by)),
        ]
        host = query.filter("host")
        if host:
            params.append(("host", ",".join(host.values)))
        zone = query.filter("zone")
        zones = list(zone.values) if zone else [None]
        return [
            NativeRequest(
                provider="toy",
                method="GET",
                url=build_url(context.base_url, "/series", [*params, ("zone", z)]),
                headers=(("X-Token", context.credentials["TOY_TOKEN"]),),
                secret_headers=("X-Token",),
                metrics=query.metrics,
                tag={"zone": z},
            )
            for z in zones
        ]

    def decode(self, query: NativeQuery, request: NativeRequest, response: NativeResponse) -> Frame:
        builder = FrameBuilder(query.group_by, request.metrics)
        for row in response.json()["rows"]:
            key = tuple(row[d] for d in query.group_by)
            builder.add_point(key, row["t"], {m: row.get(m) for m in request.metrics})
        return builder.build()


class ToyProvider(HttpProvider):
    name = "toy"
    version = "0"
    description = "a test double"
    base_url = "http://toy.test"
    default_dataset = "main"
    credentials = (Credential(env="TOY_TOKEN", description="toy token"),)

    def __init__(self, dataset: Dataset = DATASET) -> None:
        self.wires = (ToyWire(dataset),)


class ToyEmulator:
    """Answers /series: sums hits/miss/level over the series asked, max for peak."""

    def __init__(self, *, omit_zero_hours: bool = False, extra_bucket: bool = False) -> None:
        self.omit_zero_hours = omit_zero_hours
        self.extra_bucket = extra_bucket
        self.calls: list[httpx.Request] = []
        self.mutate: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        p = request.url.params
        if request.headers.get("X-Token") in (None, "", "invalid"):
            return json_response(401, {"message": "bad token"})
        grain = Granularity.parse(p["grain"])
        start, end = int(p["from"]), int(p["to"])
        if self.extra_bucket:
            end = grain.add(end)
        starts = np.array(grain.boundaries(start, end), np.int64)
        ends = np.array([grain.add(int(t)) for t in starts], np.int64)
        group = [g for g in p.get("group", "").split(",") if g]
        hosts = p["host"].split(",") if p.get("host") else HOSTS
        zones = [p["zone"]] if p.get("zone") else ZONES
        metrics = p["metrics"].split(",")
        cells: dict[tuple[Any, ...], dict[str, np.ndarray]] = {}
        for host in hosts:
            for zone in zones:
                for kind in KINDS:
                    leaf = {"host": host, "zone": zone, "kind": kind}
                    key = tuple(leaf[g] for g in group)
                    base = f"{host}{zone}{kind}"
                    vals = {
                        "hits": synthetic_totals(base + "h", starts, ends, 10).astype(float),
                        "miss": synthetic_totals(base + "m", starts, ends, 2).astype(float),
                        "peak": synthetic_totals(base + "p", starts, starts + 60, 7).astype(float),
                        "level": np.full(len(starts), 5.0),
                        "opaque": np.full(len(starts), 0.5),
                    }
                    acc = cells.setdefault(key, {})
                    for m in metrics:
                        if m not in acc:
                            acc[m] = vals[m]
                        elif m == "peak":
                            acc[m] = np.maximum(acc[m], vals[m])
                        else:
                            acc[m] = acc[m] + vals[m]
        rows = []
        for key, values in cells.items():
            for i, t in enumerate(starts.tolist()):
                if self.omit_zero_hours and (t // 3600) % 3 == 0:
                    continue  # the vendor leaves these buckets out
                row = {"t": t, **dict(zip(group, key, strict=True))}
                row.update({m: float(values[m][i]) for m in metrics})
                rows.append(self.mutate(row) if self.mutate else row)
        return httpx.Response(200, content=json.dumps({"rows": rows}).encode())


class ToyPlugin:
    """A plugin object registering one ToyProvider."""

    def __init__(self, provider: ToyProvider) -> None:
        self.provider = provider

    @hookimpl
    def register_providers(self, register: Callable[[ToyProvider], None]) -> None:
        register(self.provider)


def toy_dataset(**changes: Any) -> Dataset:
    return evolve(DATASET, **changes)
