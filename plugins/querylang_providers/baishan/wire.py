"""BaishanCloud ``GET /v2/stat/bandwidth`` and ``…/eachDomain`` (seed 004 + providers.md).

Decisions where the vendor document is silent or wrong:

- Time strings. ``start_time``/``end_time`` are sent as ``YYYY-mm-dd HH:ii`` in the
  provider's time zone, setting ``QUERYLANG_BAISHAN_TIMEZONE`` (default ``+08:00``, i.e.
  Asia/Shanghai: the sample's day-grain timestamps fall on 16:00 UTC, which is local
  midnight in UTC+8). The timestamps in answers are UNIX seconds (UTC) and need no zone.
- Inclusive end. The API's end is inclusive and floored to the bucket grid ("10:17 at 5
  minutes ends with the 10:15 point"); the engine's is exclusive. We send the window's
  last minute (``end - 60 s``): it selects exactly the last bucket, keeps ``end_time``
  strictly after ``start_time`` even for a one-bucket window (the API requires that;
  the last bucket's start would equal ``start_time`` there), and is how the vendor itself
  reads a date-only end ("2017-04-26" ends at 23:59).
- Grids. Buckets are on the provider zone's local grid, so a grain is native only where
  the zone's UTC offset is a multiple of it: ``minute5`` needs a 5-minute offset,
  ``hour`` a whole-hour offset, ``day`` offset 0. When the zone is not UTC (the
  default), ``EVERY 1d`` is fetched with ``grad=hour`` and decode adds the hours up
  into UTC days (traffic summed; bandwidth averaged over the day's 24 hours, an omitted
  hour counting as 0). A zone whose offset is not on the grid gets an Unsupported.
- One request per ``data_type`` (bandwidth, traffic) and per ``ip_protocol``. Without a
  filter or BY the protocol is ``all``; ``BY ip_protocol`` or ``WHERE ip_protocol IN
  (…)`` sends one request per protocol (``tag["ip_protocol"]``) and, when not grouped,
  the engine adds them up — ``IN ('ipv4','ipv6')`` is two calls, not ``all``.
- ``domains`` is the filter's comma-joined list (the engine splits lists longer than 10
  and adds the pieces up) or ``all``. ``BY domain`` uses ``/eachDomain``, which answers
  one series per domain; a domain it names with ``"data": []`` is reported as zeros over
  the whole window, so it still appears in the result.
- Timestamps are bucket starts (``stat_is_forward=0``, the API's default, not sent).
  Points come in any order; zero points are omitted (the engine fills them), so
  ``"data": []`` is zero over the whole window. A ``null`` value is missing, not 0, and
  ``"data": null`` (undocumented) is an error.
- ``ip_protocol=all`` is sent explicitly rather than relying on the default.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from querylang.frames import Frame, FrameBuilder, to_number
from querylang.provider import Wire
from querylang.timegrid import Granularity, TimeWindow
from querylang.wire import (
    NativeQuery,
    NativeRequest,
    NativeResponse,
    ProviderContext,
    Unsupported,
    build_url,
)
from querylang_providers.baishan.catalog import (
    DATASET,
    DEFAULT_TIMEZONE,
    EACH_DOMAIN_PATH,
    GRADS,
    IP_PROTOCOLS,
    PATH,
    TIMEZONE_ENV,
    TOKEN,
    TOKEN_ENV,
    parse_timezone,
)

__all__ = ["CdnWire", "local_time"]

DAY = 86400
PROVIDER = "baishan"


def local_time(ts: int, zone: dt.tzinfo) -> str:
    """UNIX seconds → ``YYYY-mm-dd HH:ii`` in ``zone``."""
    return dt.datetime.fromtimestamp(ts, zone).strftime("%Y-%m-%d %H:%M")


def _offsets(window: TimeWindow, zone: dt.tzinfo) -> set[int]:
    """The zone's UTC offsets (seconds) seen across the window, sampled daily and at its end."""
    points = [*range(window.start, window.end, DAY), window.end]
    out = set()
    for t in points:
        offset = dt.datetime.fromtimestamp(t, zone).utcoffset()
        out.add(int(offset.total_seconds()) if offset is not None else 0)
    return out


def _grad(granularity: Granularity, window: TimeWindow, zone: dt.tzinfo) -> int | Unsupported:
    """The API bucket (seconds) to fetch for ``granularity``, or why there is none."""
    size = granularity.seconds
    if size not in GRADS:
        return Unsupported(reason=f"there is no native {granularity} granularity (5m, 1h, 1d only)")
    offsets = _offsets(window, zone)
    if size == DAY and offsets == {0}:
        return DAY
    step = 3600 if size == DAY else size
    if all(o % step == 0 for o in offsets):
        return step
    shown = ", ".join(
        f"UTC{'-' if o < 0 else '+'}{abs(o) // 3600:02d}:{abs(o) % 3600 // 60:02d}"
        for o in sorted(offsets)
    )
    return Unsupported(
        reason=f"the API's {GRADS[step]} buckets follow its local time ({shown}), which is not "
        f"on the UTC {granularity} grid",
        hint=f"use EVERY 5m, or set {TIMEZONE_ENV} to a zone with a whole-hour offset",
    )


def _protocols(query: NativeQuery) -> tuple[str, ...] | Unsupported:
    """The ``ip_protocol`` value of each request: a fan-out when grouped or filtered."""
    f = query.filter("ip_protocol")
    values: tuple[str, ...] = ()
    if f is not None:
        if f.op != "in":
            return Unsupported(reason="ip_protocol can only be filtered with IN")
        values = tuple(dict.fromkeys(str(v).lower() for v in f.values))
        unknown = [v for v in values if v not in IP_PROTOCOLS]
        if unknown:
            return Unsupported(
                reason=f"unknown ip_protocol {', '.join(unknown)}", hint="use 'ipv4' or 'ipv6'"
            )
    if "ip_protocol" in query.group_by:
        return values or IP_PROTOCOLS
    return values or ("all",)


def _domains(query: NativeQuery) -> str | Unsupported:
    """The ``domains`` parameter: the filter's list joined by commas, else ``all``."""
    f = query.filter("domain")
    if f is None:
        return "all"
    if f.op != "in":
        return Unsupported(reason="domain can only be filtered with IN")
    return ",".join(str(v) for v in f.values)


def _rebucket(
    points: Sequence[Any], granularity: Granularity, step: int, metric: str
) -> list[list[Any]]:
    """Add ``step``-second points up into ``granularity`` buckets (bandwidth: their mean)."""
    size = granularity.seconds or step
    totals: dict[int, float] = {}
    for point in points:
        if not isinstance(point, list | tuple) or len(point) < 2:
            raise ValueError(f"expected [timestamp, value], got {point!r}")
        bucket = granularity.floor(int(to_number(point[0])))
        totals[bucket] = totals.get(bucket, 0.0) + to_number(point[1])
    per_bucket = size // step if metric == "bandwidth" else 1
    return [[t, v / per_bucket] for t, v in sorted(totals.items())]


def _series(
    builder: FrameBuilder,
    query: NativeQuery,
    request: NativeRequest,
    key: tuple[Any, ...],
    points: Any,
) -> None:
    metric = request.metrics[0]
    if not isinstance(points, list):
        raise ValueError(f"'data' of {key!r} is not a list of [timestamp, value]")
    step = int(request.tag.get("step") or query.granularity.seconds or 0)
    if step != query.granularity.seconds:
        points = _rebucket(points, query.granularity, step, metric)
    builder.add_series(key, metric, points)


class CdnWire(Wire):
    """``FROM baishan``: ``GET /v2/stat/bandwidth`` (or ``…/eachDomain``) per metric and IP."""

    dataset = DATASET

    def compile(
        self, query: NativeQuery, context: ProviderContext
    ) -> list[NativeRequest] | Unsupported:
        """One request per metric (data_type) and per ip_protocol value."""
        setting = context.settings.get(TIMEZONE_ENV) or DEFAULT_TIMEZONE
        try:
            zone = parse_timezone(setting)
        except ValueError as exc:
            return Unsupported(
                reason=f"{TIMEZONE_ENV}: {exc}",
                hint="set it to e.g. Asia/Shanghai or +08:00 (the default)",
            )
        step = _grad(query.granularity, query.window, zone)
        protocols = _protocols(query)
        domains = _domains(query)
        for answer in (step, protocols, domains):
            if isinstance(answer, Unsupported):
                return answer
        assert isinstance(step, int) and isinstance(protocols, tuple) and isinstance(domains, str)
        path = EACH_DOMAIN_PATH if "domain" in query.group_by else PATH
        token = context.credentials.get(TOKEN_ENV, "")
        requests = []
        for metric in query.metrics:
            for protocol in protocols:
                params: list[tuple[str, Any]] = [
                    (TOKEN, token),
                    ("domains", domains),
                    ("start_time", local_time(query.window.start, zone)),
                    ("end_time", local_time(query.window.end - 60, zone)),
                    ("grad", GRADS[step]),
                    ("data_type", metric),
                    ("ip_protocol", protocol),
                ]
                requests.append(
                    NativeRequest(
                        provider=PROVIDER,
                        method="GET",
                        url=build_url(context.base_url, path, params),
                        headers=(("Accept", "application/json"),),
                        metrics=(metric,),
                        secret_params=(TOKEN,),
                        tag={"ip_protocol": protocol, "step": step},
                    )
                )
        return requests

    def decode(self, query: NativeQuery, request: NativeRequest, response: NativeResponse) -> Frame:
        """``{"code":0,"data":[[ts,v],…]}`` or ``{"data":{domain:{"data":[…]}}}`` → a frame."""
        builder = FrameBuilder(query.group_by, request.metrics)
        body = response.json()
        if not isinstance(body, dict) or "data" not in body:
            raise ValueError("expected an object with 'code' and 'data'")
        data = body["data"]
        if data is None:
            raise ValueError("'data' is null (no data is documented as an empty list)")
        protocol = request.tag.get("ip_protocol")

        def key(domain: str | None) -> tuple[Any, ...]:
            values = {"domain": domain, "ip_protocol": protocol}
            return tuple(values[d] for d in query.group_by)

        zeros = [[t, 0] for t in query.granularity.boundaries(query.window.start, query.window.end)]
        if "domain" not in query.group_by:
            # zero points are omitted: "data": [] is zero over the whole window, not no data
            _series(builder, query, request, key(None), data if data != [] else zeros)
            return builder.build()
        if data == []:
            return builder.build()  # no domain named: no series
        if not isinstance(data, dict):
            raise ValueError("'data' of a per-domain answer is not an object keyed by domain")
        for name, entry in data.items():
            if not isinstance(entry, dict):
                raise ValueError(f"the entry for domain {name!r} is not an object")
            points = entry.get("data")
            domain = str(entry.get("domain") or name)
            _series(builder, query, request, key(domain), points if points else zeros)
        return builder.build()
