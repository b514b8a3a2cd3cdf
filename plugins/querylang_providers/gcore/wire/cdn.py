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

from querylang.frames import Frame, FrameBuilder, Points, series_points
from querylang.jsonarrays import parse
from querylang.provider import Wire
from querylang.timegrid import format_ts
from querylang.wire import (
    NativeQuery,
    NativeRequest,
    NativeResponse,
    ProviderContext,
    build_url,
)
from querylang_providers.gcore.catalog import CDN_DATASET, CDN_PATH, SEPARATE

__all__ = ["CdnWire"]

_FILTER_PARAMS = {"resource": "resource", "region": "regions", "country": "countries"}


def _metric_groups(metrics: Sequence[str]) -> list[tuple[str, ...]]:
    """Regular metrics together; each of the time metrics alone."""
    regular = tuple(m for m in metrics if m not in SEPARATE)
    groups = [regular] if regular else []
    groups += [(m,) for m in metrics if m in SEPARATE]
    return groups


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
            if not isinstance(points, list | Points):
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


class CdnWire(Wire):
    """``FROM gcore``: ``GET /cdn/statistics/series``, one request per metric group."""

    dataset = CDN_DATASET

    def compile(self, query: NativeQuery, context: ProviderContext) -> list[NativeRequest]:
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
                    url=build_url(context.base_url, CDN_PATH, params),
                    headers=(("Authorization", f"APIKey {token}"), ("Accept", "application/json")),
                    metrics=group,
                    secret_headers=("Authorization",),
                )
            )
        return requests

    def decode(self, query: NativeQuery, request: NativeRequest, response: NativeResponse) -> Frame:
        """Nested ``group_by`` levels → one row per (time, group values); 204 → empty."""
        builder = FrameBuilder(query.group_by, request.metrics)
        if response.status == 204:
            return builder.build()  # documented: "There is no data for the requested time period"
        if not response.content.strip():
            raise ValueError(f"an empty body with HTTP {response.status} (no data is 204)")
        # Each series is read into numpy as it is found, never the whole parsed body at once
        # (querylang.jsonarrays); a body it cannot read exactly is parsed whole, as before.
        body = parse(response.content, series_points)
        if body is None:
            body = response.json()
        if not isinstance(body, dict):
            raise ValueError("the answer is not a JSON object")
        top = query.group_by[0] if query.group_by else "metrics"
        if top not in body:
            raise ValueError(f"the answer has no {top!r} key (keys: {sorted(body)[:5]})")
        _walk(body, query.group_by, (), builder, request.metrics)
        return builder.build()
