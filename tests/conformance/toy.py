"""A toy provider with switchable mistakes, to show the conformance suite catches each.

``ToyPlugin(fault)`` registers provider ``toy``; ``fault`` is one of FAULTS or "" (none).
The service: ``GET /v1/hits?metric=&start=&end=&step=[&site=...][&by=site]`` with a Bearer
token (``step`` in seconds, or ``1mo`` for calendar months), answering
``{"series": [{"site": ..., "points": [[ts, value], ...]}]}``: one series per site asked with
``by=site``, else one summed over the sites asked (default all, ``site`` null).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
from attrs import evolve

from querylang.catalog import (
    Credential,
    Dataset,
    Dimension,
    GrainSpec,
    Metric,
    Ratio,
    Standard,
)
from querylang.failures import Failure, FailureKind
from querylang.frames import Frame, FrameBuilder
from querylang.hookspecs import hookimpl
from querylang.provider import HttpProvider, Wire
from querylang.timegrid import Granularity
from querylang.wire import NativeQuery, NativeRequest, NativeResponse, ProviderContext, build_url

FAULTS = (
    "unit",  # a unit spelled in the wrong case ("Bytes")
    "unknown_unit",  # a unit querylang.units does not know ("widgets")
    "ratio",  # a ratio of a metric that does not exist
    "compile_io",  # compile opens a socket
    "compile_raises",  # compile raises for a filter instead of returning Unsupported
    "wrong_values",  # decode doubles every value
    "filter_ignored",  # compile drops the WHERE on site
    "second_filter_ignored",  # compile drops the WHERE on site for the second counter only
    "standard_scale",  # standard sent_bytes mapped as bytes * 1000 (its unit is bytes)
    "group_mislabelled",  # decode gives each site's series another site's name
    "month_as_30d",  # calendar months asked as 30-day steps
    "impure",  # decode changes the parsed response
    "auth",  # a 401 classified as a bad request
    "no_429_retry",  # a 429 classified as a bad request (not retried)
    "delay_ignored",  # a 429 retried without the vendor's Retry-After delay
    "no_5xx_retry",  # a 503 failed at once instead of retried
    "malformed_as_data",  # an unreadable body decoded as an empty answer
    "malformed_crash",  # an unreadable body crashing decode (an assert on its shape)
    "secret",  # the token in the URL
)
SITES = ("a", "b")
SCALE = {"hits": 1.0, "bytes": 1000.0}
MONTH = Granularity(1, "mo")


def _value(metric: str, site: str, t: int, step: int) -> float:
    return float((t // step) % 7 + 1) * (1 + SITES.index(site)) * SCALE[metric]


def dataset(fault: str) -> Dataset:
    parts = (("misses", 1),) if fault == "ratio" else (("bytes", 1),)
    units = {"unit": "Bytes", "unknown_unit": "widgets"}
    return Dataset(
        name="hits",
        description="toy hits",
        metrics=(
            Metric(name="hits", unit="requests", kind="counter", description="hits"),
            Metric(
                name="bytes", unit=units.get(fault, "bytes"), kind="counter", description="bytes"
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
            GrainSpec.of("1mo"),
        ),
        history=400 * 86400,
        standard=(
            Standard.of("sent_bytes", "bytes", scale=1000.0 if fault == "standard_scale" else 1.0),
            Standard.of("requests", "hits"),
        ),
    )


class ToyEmulator:
    def __init__(self, now: Callable[[], float]) -> None:
        self.now = now

    def _buckets(self, start: int, end: int, step: str) -> list[tuple[int, int]]:
        """(bucket start, its length) of the finished buckets in [start, end)."""
        if step == "1mo":
            spans = [(t, MONTH.add(t) - t) for t in MONTH.boundaries(start, end)]
        else:
            spans = [(t, int(step)) for t in range(start, end, int(step))]
        return [(t, size) for t, size in spans if t + size <= self.now()]

    def handle(self, request: httpx.Request) -> httpx.Response:
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return httpx.Response(401, json={"error": "no token"})
        q = request.url.params
        if request.url.path != "/v1/hits":
            return httpx.Response(404, json={"error": "not found"})
        metric, buckets = q["metric"], self._buckets(int(q["start"]), int(q["end"]), q["step"])
        sites = q.get_list("site") or list(SITES)
        groups = [[s] for s in sites] if q.get("by") == "site" else [sites]
        series = [
            {
                "site": group[0] if q.get("by") == "site" else None,
                "points": [
                    [t, sum(_value(metric, s, t, size) for s in group)] for t, size in buckets
                ],
            }
            for group in groups
        ]
        return httpx.Response(200, json={"series": series})

    def expected(
        self,
        dataset: str,
        metric: str,
        start: int,
        end: int,
        step: int,
        where: Mapping[str, Sequence[str]] | None = None,
    ) -> dict[int, float]:
        if dataset != "hits" or metric not in SCALE:
            raise ValueError(f"the toy emulator has no counter {dataset}.{metric}")
        sites = list((where or {}).get("site", SITES))
        return {
            t: sum(_value(metric, s, t, step) for s in sites)
            for t in range(start, end, step)
            if t + step <= self.now()
        }


class ToyWire(Wire):
    """The one dataset's wire format, with the switched-on mistake."""

    def __init__(self, fault: str) -> None:
        self.fault = fault
        self.dataset = dataset(fault)

    def compile(self, query: NativeQuery, context: ProviderContext) -> list[NativeRequest]:
        if self.fault == "compile_io":
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", 9), timeout=0.1).close()
        site = query.filter("site")
        if self.fault == "compile_raises" and site is not None:
            raise KeyError("site")
        if self.fault == "filter_ignored":
            site = None
        grain = query.granularity
        step = "1mo" if grain.is_calendar else grain.seconds
        if self.fault == "month_as_30d" and grain.is_calendar:
            step = 30 * 86400
        token = context.credentials["TOY_TOKEN"]
        out = []
        for metric in query.metrics:
            params: list[tuple[str, Any]] = [
                ("metric", metric),
                ("start", query.window.start),
                ("end", query.window.end),
                ("step", step),
            ]
            kept = site if metric == "hits" or self.fault != "second_filter_ignored" else None
            params += [("site", s) for s in (kept.values if kept else ())]
            if "site" in query.group_by:
                params.append(("by", "site"))
            if self.fault == "secret":
                params.append(("token", token))
            out.append(
                NativeRequest(
                    provider="toy",
                    method="GET",
                    url=build_url(context.base_url, "/v1/hits", params),
                    headers=(("Authorization", f"Bearer {token}"),),
                    secret_headers=("Authorization",),
                    metrics=(metric,),
                )
            )
        return out

    def _body(self, response: NativeResponse) -> Any:
        if self.fault not in ("malformed_as_data", "malformed_crash"):
            return response.json()
        try:
            return response.json()
        except ValueError:
            assert self.fault == "malformed_as_data", "the body is not JSON"
            return {"series": []}

    def decode(self, query: NativeQuery, request: NativeRequest, response: NativeResponse) -> Frame:
        body = self._body(response)
        factor = 2.0 if self.fault == "wrong_values" else 1.0
        builder = FrameBuilder(query.group_by, request.metrics)
        for series in body["series"]:
            points = series["points"]
            if self.fault == "impure":
                series["points"] = points[1:]
            site = series["site"]
            if self.fault == "group_mislabelled" and site is not None:
                site = SITES[(SITES.index(site) + 1) % len(SITES)]
            key = (site,) if "site" in query.group_by else ()
            builder.add_series(key, request.metrics[0], [(t, v * factor) for t, v in points])
        return builder.build()

    def failure(
        self, provider: HttpProvider, request: NativeRequest, response: NativeResponse
    ) -> Failure | None:
        found = provider.failure(request, response)
        if found is None:
            return None
        mistakes = {
            ("auth", FailureKind.AUTH): evolve(found, kind=FailureKind.BAD_REQUEST),
            ("no_429_retry", FailureKind.RATE_LIMITED): evolve(found, kind=FailureKind.BAD_REQUEST),
            ("delay_ignored", FailureKind.RATE_LIMITED): evolve(found, delay=None),
            ("no_5xx_retry", FailureKind.UNAVAILABLE): evolve(found, final=True),
        }
        return mistakes.get((self.fault, found.kind), found)


class ToyProvider(HttpProvider):
    name = "toy"
    version = "0.0.1"
    description = "a toy provider for the conformance suite's own tests"
    base_url = "https://toy.example.invalid"
    default_dataset = "hits"
    credentials = (Credential(env="TOY_TOKEN", description="toy token"),)

    def __init__(self, fault: str) -> None:
        self.fault = fault
        self.wires = (ToyWire(fault),)

    def emulator(self, now: Callable[[], float]) -> ToyEmulator:
        return ToyEmulator(now)


class ToyPlugin:
    def __init__(self, fault: str = "") -> None:
        assert fault in ("", *FAULTS), fault
        self.fault = fault

    @hookimpl
    def register_providers(self, register: Callable[[ToyProvider], None]) -> None:
        register(ToyProvider(self.fault))
