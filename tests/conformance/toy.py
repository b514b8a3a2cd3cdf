"""A toy provider with switchable mistakes, to show the conformance suite catches each.

``ToyPlugin(fault)`` registers provider ``toy``; ``fault`` is one of FAULTS or "" (none).
The service: ``GET /v1/hits?metric=&start=&end=&step=[&site=]`` with a Bearer token,
answering ``{"points": [[ts, value], ...]}`` summed over the sites asked (default all).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from querylang.catalog import Credential, Dataset, Dimension, GrainSpec, Metric, Ratio
from querylang.failures import Verdict
from querylang.frames import Frame, FrameBuilder
from querylang.hookspecs import hookimpl
from querylang.provider import HttpProvider
from querylang.wire import NativeQuery, NativeRequest, NativeResponse, ProviderContext, build_url

FAULTS = ("unit", "ratio", "compile_io", "wrong_values", "impure", "auth", "secret")
SITES = ("a", "b")
SCALE = {"hits": 1.0, "bytes": 1000.0}


def _value(metric: str, site: str, t: int, step: int) -> float:
    return float((t // step) % 7 + 1) * (1 + SITES.index(site)) * SCALE[metric]


def dataset(fault: str) -> Dataset:
    parts = (("misses", 1),) if fault == "ratio" else (("bytes", 1),)
    return Dataset(
        name="hits",
        description="toy hits",
        metrics=(
            Metric(name="hits", unit="requests", kind="counter", description="hits"),
            Metric(
                name="bytes",
                unit="Bytes" if fault == "unit" else "bytes",
                kind="counter",
                description="bytes",
            ),
            Metric(
                name="bytes_per_hit",
                unit="bytes",
                kind="ratio",
                description="bytes / hits",
                ratio=Ratio(numerator=parts, denominator=(("hits", 1),)),
                native=False,
            ),
        ),
        dimensions=(Dimension(name="site", description="site", values=SITES),),
        grains=(
            GrainSpec.of("1h", max_window=31 * 86400),
            GrainSpec.of("1d", max_window=93 * 86400),
        ),
        history=90 * 86400,
    )


class ToyEmulator:
    def __init__(self, now: Callable[[], float]) -> None:
        self.now = now

    def handle(self, request: httpx.Request) -> httpx.Response:
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return httpx.Response(401, json={"error": "no token"})
        q = request.url.params
        if request.url.path != "/v1/hits":
            return httpx.Response(404, json={"error": "not found"})
        metric, step = q["metric"], int(q["step"])
        sites = q.get_list("site") or list(SITES)
        series = self.expected(
            "hits", metric, int(q["start"]), int(q["end"]), step, {"site": sites}
        )
        return httpx.Response(200, json={"points": sorted(series.items())})

    def expected(
        self,
        dataset: str,
        metric: str,
        start: int,
        end: int,
        step: int,
        where: Mapping[str, Sequence[str]] | None = None,
    ) -> dict[int, float]:
        sites = list((where or {}).get("site", SITES))
        return {
            t: sum(_value(metric, s, t, step) for s in sites)
            for t in range(start, end, step)
            if t + step <= self.now()
        }


class ToyProvider(HttpProvider):
    name = "toy"
    version = "0.0.1"
    description = "a toy provider for the conformance suite's own tests"
    base_url = "https://toy.example.invalid"
    default_dataset = "hits"
    credentials = (Credential(env="TOY_TOKEN", description="toy token"),)
    datasets = property(lambda self: {d.name: d for d in self._datasets})  # until it lists wires

    def __init__(self, fault: str) -> None:
        self.fault = fault
        self._datasets = (dataset(fault),)

    def compile(self, query: NativeQuery, context: ProviderContext) -> list[NativeRequest]:
        if self.fault == "compile_io":
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", 9), timeout=0.1).close()
        site = query.filter("site")
        token = context.credentials["TOY_TOKEN"]
        out = []
        for metric in query.metrics:
            params: list[tuple[str, Any]] = [
                ("metric", metric),
                ("start", query.window.start),
                ("end", query.window.end),
                ("step", query.granularity.seconds),
            ]
            params += [("site", s) for s in (site.values if site else ())]
            if self.fault == "secret":
                params.append(("token", token))
            out.append(
                NativeRequest(
                    provider=self.name,
                    method="GET",
                    url=build_url(context.base_url, "/v1/hits", params),
                    headers=(("Authorization", f"Bearer {token}"),),
                    secret_headers=("Authorization",),
                    metrics=(metric,),
                )
            )
        return out

    def decode(self, query: NativeQuery, request: NativeRequest, response: NativeResponse) -> Frame:
        body = response.json()
        points = body["points"]
        if self.fault == "impure":
            body["points"] = points[1:]
        factor = 2.0 if self.fault == "wrong_values" else 1.0
        builder = FrameBuilder((), request.metrics)
        builder.add_series((), request.metrics[0], [(t, v * factor) for t, v in points])
        return builder.build()

    def check(self, request: NativeRequest, response: NativeResponse) -> Verdict:
        if self.fault == "auth" and response.status == 401:
            return super().check(request, NativeResponse(status=400, headers={}, content=b"{}"))
        return super().check(request, response)

    def emulator(self, now: Callable[[], float]) -> ToyEmulator:
        return ToyEmulator(now)


class ToyPlugin:
    def __init__(self, fault: str = "") -> None:
        assert fault in ("", *FAULTS), fault
        self.fault = fault

    @hookimpl
    def register_providers(self, register: Callable[[ToyProvider], None]) -> None:
        register(ToyProvider(self.fault))
