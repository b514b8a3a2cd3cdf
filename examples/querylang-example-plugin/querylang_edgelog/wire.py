"""The edgelog wire format: ``GET /v1/series`` compiled from a planned piece and decoded."""

from __future__ import annotations

from querylang.frames import Frame, FrameBuilder
from querylang.provider import Wire
from querylang.wire import NativeQuery, NativeRequest, NativeResponse, ProviderContext, build_url
from querylang_edgelog.catalog import DATASET, NAME, PATH, TOKEN

__all__ = ["SeriesWire"]


class SeriesWire(Wire):
    """``/v1/series``: one series of ``[ts, value]`` points per site."""

    dataset = DATASET

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
                    provider=NAME,
                    method="GET",
                    url=build_url(context.base_url, PATH, params),
                    headers=(("Authorization", f"Bearer {context.credentials[TOKEN.env]}"),),
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
