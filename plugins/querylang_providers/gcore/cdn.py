"""Gcore CDN statistics: ``GET /cdn/statistics/series`` (seed 000 + shared/providers.md).

Decisions where the document is silent or wrong:

- ``from``/``to`` are sent as RFC 3339 UTC (``2026-11-16T00:00:00Z``). Whether ``to`` is
  inclusive is not documented; the engine trims every row outside the query's half-open
  window, so a bucket starting at ``to`` never leaks in.
- Timestamps in the answer are taken as bucket starts (unverified, per providers.md).
- ``request_time`` and ``upstream_response_time`` "should be requested separately from
  other metrics": each goes in a request of its own, merged back by the engine.
- Every list parameter repeats its key (``metrics=a&metrics=b``), never comma-joined.
- The answer nests one level per ``group_by`` in the order asked, ending in
  ``metrics → {name: [[unix_ts, value], …]}``; the schema's "array of integer" is wrong.
- ``request_time`` is taken to be in milliseconds like ``upstream_response_time``
  (the document gives no unit). Both are averages: re-bucketed as an unweighted mean of
  the vendor's buckets and never summed across resources or regions.
- History: 365 days; ``1m`` only within the last 31 days ("up to 1 month in the past").
- No rate limit is documented; the official SDK retries 429/5xx twice honouring
  Retry-After, which the engine's retry policy covers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from querylang.catalog import Dataset, Dimension, GrainSpec, Metric, Ratio, Standard
from querylang.frames import Frame, FrameBuilder
from querylang.timegrid import format_ts
from querylang.wire import (
    NativeQuery,
    NativeRequest,
    NativeResponse,
    ProviderContext,
    build_url,
)

__all__ = ["DATASET", "PATH", "compile", "decode"]

PATH = "/cdn/statistics/series"
DAY = 86400
SEPARATE = ("request_time", "upstream_response_time")
REGIONS = ("na", "eu", "cis", "asia", "au", "latam", "me", "africa", "sa")


def _bytes(name: str, description: str) -> Metric:
    return Metric(name=name, unit="bytes", kind="counter", description=description)


def _count(name: str, description: str, unit: str = "responses") -> Metric:
    return Metric(name=name, unit=unit, kind="counter", description=description)


METRICS = (
    _bytes("upstream_bytes", "traffic from the origin (or shield) to CDN servers"),
    _bytes("sent_bytes", "traffic from CDN servers to clients"),
    _bytes("shield_bytes", "traffic from origin shielding to CDN servers"),
    _bytes("backblaze_bytes", "traffic from a Backblaze origin"),
    _bytes("total_bytes", "shield_bytes + upstream_bytes + sent_bytes"),
    _bytes("cdn_bytes", "sent_bytes + shield_bytes"),
    _count("requests", "requests to edge servers", unit="requests"),
    _count("responses_2xx", "responses with a 2xx status"),
    _count("responses_3xx", "responses with a 3xx status"),
    _count("responses_4xx", "responses with a 4xx status"),
    _count("responses_5xx", "responses with a 5xx status"),
    _count("responses_hit", "responses with Cache: HIT"),
    _count("responses_miss", "responses with Cache: MISS"),
    _count("response_types", "responses counted by content type"),
    Metric(
        name="cache_hit_traffic_ratio",
        unit="ratio",
        kind="ratio",
        description="1 - upstream_bytes / sent_bytes",
        ratio=Ratio(
            numerator=(("sent_bytes", 1.0), ("upstream_bytes", -1.0)),
            denominator=(("sent_bytes", 1.0),),
        ),
    ),
    Metric(
        name="cache_hit_requests_ratio",
        unit="ratio",
        kind="ratio",
        description="responses_hit / requests",
        ratio=Ratio(numerator=(("responses_hit", 1.0),), denominator=(("requests", 1.0),)),
    ),
    Metric(
        name="shield_traffic_ratio",
        unit="ratio",
        kind="ratio",
        description="(shield_bytes - upstream_bytes) / shield_bytes",
        ratio=Ratio(
            numerator=(("shield_bytes", 1.0), ("upstream_bytes", -1.0)),
            denominator=(("shield_bytes", 1.0),),
        ),
    ),
    _count("image_processed", "images transformed by Image optimization", unit="images"),
    Metric(
        name="request_time",
        unit="ms",
        kind="gauge",
        description="time from the first request byte to logging after the last byte sent",
        combine=None,
    ),
    Metric(
        name="upstream_response_time",
        unit="ms",
        kind="gauge",
        description="time to receive a response from the origin (averaged)",
        combine=None,
    ),
)

DIMENSIONS = (
    Dimension(name="resource", description="CDN resource ID", type="integer"),
    Dimension(name="region", description="region of the CDN edge servers", values=REGIONS),
    Dimension(name="country", description="country of the CDN edge servers (ISO 3166 name)"),
    Dimension(name="vhost", description="resource CNAME", filterable=False),
    Dimension(name="client_country", description="country of the end user", filterable=False),
    Dimension(name="protocol", description="request protocol", filterable=False),
)

#: The standard counters (querylang.standard): Gcore's own names already are the standard ones.
STANDARD = (
    Standard.of("sent_bytes", note="traffic from CDN servers to clients, headers included"),
    Standard.of("upstream_bytes", note="traffic from the origin or shield to CDN servers"),
    Standard.of("requests"),
    *(Standard.of(f"responses_{c}xx") for c in "2345"),
    Standard.of("cache_hits", "responses_hit", note="responses with Cache: HIT"),
    Standard.of("cache_misses", "responses_miss", note="responses with Cache: MISS"),
)

DATASET = Dataset(
    name="cdn",
    description="Gcore CDN resource statistics (GET /cdn/statistics/series)",
    metrics=METRICS,
    dimensions=DIMENSIONS,
    standard=STANDARD,
    grains=(
        GrainSpec.of("1m", retention=31 * DAY),
        GrainSpec.of("5m"),
        GrainSpec.of("15m"),
        GrainSpec.of("1h"),
        GrainSpec.of("1d"),
    ),
    history=365 * DAY,
    max_concurrency=4,
    # Seed 000: statistics are "typically available within a 24-hour period" (maintenance
    # may delay them further): every bucket is provisional until a day after it ends.
    final_after=DAY,
)

_FILTER_PARAMS = {"resource": "resource", "region": "regions", "country": "countries"}


def _metric_groups(metrics: Sequence[str]) -> list[tuple[str, ...]]:
    """Regular metrics together; each of the time metrics alone."""
    regular = tuple(m for m in metrics if m not in SEPARATE)
    groups = [regular] if regular else []
    groups += [(m,) for m in metrics if m in SEPARATE]
    return groups


def compile(query: NativeQuery, context: ProviderContext) -> list[NativeRequest]:
    """One request per metric group; every list parameter repeats its key."""
    token = context.credentials.get("GCORE_API_KEY", "")
    requests = []
    for group in _metric_groups(query.metrics):
        params: list[tuple[str, Any]] = [
            ("service", "CDN"),
            ("from", format_ts(query.window.start)),
            ("to", format_ts(query.window.end)),
            ("granularity", str(query.granularity)),
        ]
        params += [("metrics", m) for m in group]
        params += [("group_by", g) for g in query.group_by]
        for f in query.filters:
            params += [(_FILTER_PARAMS[f.dimension], v) for v in f.values]
        requests.append(
            NativeRequest(
                provider="gcore",
                method="GET",
                url=build_url(context.base_url, PATH, params),
                headers=(("Authorization", f"APIKey {token}"), ("Accept", "application/json")),
                metrics=group,
                secret_headers=("Authorization",),
            )
        )
    return requests


def _walk(
    node: Any,
    levels: Sequence[str],
    key: tuple[Any, ...],
    builder: FrameBuilder,
    metrics: Sequence[str],
) -> None:
    if not isinstance(node, dict):
        raise ValueError(f"expected an object at {'/'.join(map(str, key)) or 'top level'}")
    if not levels:
        series = node.get("metrics", {})
        if not isinstance(series, dict):
            raise ValueError("'metrics' is not an object")
        for name in metrics:
            points = series.get(name)
            if points is None:
                continue
            if not isinstance(points, list):
                raise ValueError(f"metric {name!r} is not a list of [timestamp, value]")
            builder.add_series(key, name, points)
        return
    level, rest = levels[0], levels[1:]
    children = node.get(level)
    if children is None:
        if node:  # something else where the grouping level should be
            raise ValueError(f"expected the {level!r} grouping level, got keys {sorted(node)}")
        return  # an empty object: no data
    if not isinstance(children, dict):
        raise ValueError(f"{level!r} is not an object")
    for value, child in children.items():
        label: Any = int(value) if level == "resource" else value
        _walk(child, rest, (*key, label), builder, metrics)


def decode(query: NativeQuery, request: NativeRequest, response: NativeResponse) -> Frame:
    """Nested ``group_by`` levels → one row per (time, group values); 204 → empty."""
    builder = FrameBuilder(query.group_by, request.metrics)
    if response.status == 204:
        return builder.build()  # documented: "There is no data for the requested time period"
    if not response.content.strip():
        raise ValueError(f"an empty body with HTTP {response.status} (no data is 204)")
    body = response.json()
    if not isinstance(body, dict):
        raise ValueError("the answer is not a JSON object")
    top = query.group_by[0] if query.group_by else "metrics"
    if top not in body:
        raise ValueError(f"the answer has no {top!r} key (keys: {sorted(body)[:5]})")
    _walk(body, query.group_by, (), builder, request.metrics)
    return builder.build()
