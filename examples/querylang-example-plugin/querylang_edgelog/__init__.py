"""edgelog: an example third-party querylang provider for an in-house statistics service.

The service answers ``GET /v1/series?metric=bytes&start=<unix>&end=<unix>&step=<seconds>``
with ``{"series": [{"site": "ams", "points": [[ts, value], …]}]}``, one series per site
(``site=`` filters, repeatable); ``end`` is exclusive, ``step`` is 60, 3600 or 86400, at
most 31 days per call. Errors are ``{"error": {"message": …}}``. Auth: ``Bearer`` token.
"""

from __future__ import annotations

from collections.abc import Callable

from querylang.catalog import Credential, Dataset, Dimension, GrainSpec, Metric, Ratio, Standard
from querylang.frames import Frame, FrameBuilder
from querylang.hookspecs import Emulator, hookimpl
from querylang.provider import HttpProvider
from querylang.wire import NativeQuery, NativeRequest, NativeResponse, ProviderContext, build_url

__all__ = ["EdgelogProvider", "register_providers"]

DAY = 86400
SITES = ("ams", "fra", "sin")

DATASET = Dataset(
    name="series",
    description="edge-log totals per site",
    metrics=(
        Metric(name="bytes", unit="bytes", kind="counter", description="bytes served"),
        Metric(name="requests", unit="requests", kind="counter", description="requests"),
        Metric(name="errors", unit="requests", kind="counter", description="5xx responses"),
        Metric(
            name="error_ratio",
            unit="ratio",
            kind="ratio",
            description="errors / requests",
            ratio=Ratio(numerator=(("errors", 1),), denominator=(("requests", 1),)),
            native=False,
        ),
    ),
    dimensions=(Dimension(name="site", description="edge site", values=SITES),),
    grains=tuple(GrainSpec.of(g, max_window=31 * DAY) for g in ("1m", "1h", "1d")),
    history=90 * DAY,
    final_after=3600,  # the edge-log pipeline settles within an hour of a bucket's end
    # The standard metrics (querylang.standard) it answers: FROM edgelog, gcore works.
    standard=(Standard.of("sent_bytes", "bytes"), Standard.of("requests")),
)


class EdgelogProvider(HttpProvider):
    """The in-house edge-log statistics service."""

    name = "edgelog"
    version = "0.1.0"
    description = "example third-party provider: in-house edge-log statistics"
    base_url = "https://edgelog.example.internal"
    default_dataset = "series"
    credentials = (Credential(env="EDGELOG_TOKEN", description="edgelog API token"),)
    datasets = property(lambda self: {DATASET.name: DATASET})  # until it lists wires

    def compile(self, query: NativeQuery, context: ProviderContext) -> list[NativeRequest]:
        """One request per metric; site filters repeat their key."""
        site = query.filter("site")
        out = []
        for metric in query.metrics:
            params = [
                ("metric", metric),
                ("start", query.window.start),
                ("end", query.window.end),
                ("step", query.granularity.seconds),
            ]
            params += [("site", s) for s in (site.values if site else ())]
            out.append(
                NativeRequest(
                    provider=self.name,
                    method="GET",
                    url=build_url(context.base_url, "/v1/series", params),
                    headers=(("Authorization", f"Bearer {context.credentials['EDGELOG_TOKEN']}"),),
                    secret_headers=("Authorization",),
                    metrics=(metric,),
                )
            )
        return out

    def decode(self, query: NativeQuery, request: NativeRequest, response: NativeResponse) -> Frame:
        """Per-site series, summed here when the query does not group by site."""
        builder = FrameBuilder(query.group_by, request.metrics)
        totals: dict[int, float] = {}
        for series in response.json()["series"]:
            if query.group_by:
                builder.add_series((series["site"],), request.metrics[0], series["points"])
            else:
                for ts, value in series["points"]:
                    totals[int(ts)] = totals.get(int(ts), 0.0) + float(value)
        if not query.group_by:
            builder.add_series((), request.metrics[0], sorted(totals.items()))
        return builder.build()

    def error_message(self, response: NativeResponse) -> str | None:
        try:
            return str(response.json()["error"]["message"])
        except (ValueError, KeyError, TypeError):
            return super().error_message(response)

    def emulator(self, now: Callable[[], float]) -> Emulator:
        from querylang_edgelog.emulator import EdgelogEmulator

        return EdgelogEmulator(now)


@hookimpl
def register_providers(register: Callable[[EdgelogProvider], None]) -> None:
    """Register the edgelog provider."""
    register(EdgelogProvider())
