"""Gcore object-storage usage: ``POST /storage/stats/v1/storage/usage/series`` (seed 001).

``FROM gcore.storage``. Same host, ``Authorization: APIKey <token>`` header and
``GCORE_API_KEY`` credential as the CDN dataset. Decisions where the document is silent:

- Dates. The body takes ``from``/``to`` as ``YYYY-MM-DD`` (the document's ``2006-01-02`` is
  Go's layout string). Whether ``to`` is inclusive is not documented, so the request asks
  from the day of the window start to the first midnight at or after the window end:
  ``from = date(start)``, ``to = date(ceil_to_day(end))``. That covers the window under
  either reading; rows outside the half-open window are dropped here (and by the engine).
- Timestamps are taken as UTC bucket starts, as sent; 12h and 24h buckets are taken to
  start at 00:00 / 12:00 UTC. ``ts_string`` is never sent, but RFC 3339 strings (any
  offset) and numeric strings decode too.
- Grains: ``1h``, ``12h``, ``24h`` (24h, not ``1d``, on the wire). No retention and no
  window limit are documented: ``history`` is unbounded (the API answers what it has) and
  one request spans at most 31 days at 1h, 93 at 12h and 366 at 24h to keep answers small.
- Grouping. The answer always nests ``data.clients → locations → storages`` (no group_by
  parameter). Levels the query does not group by are added up here, per timestamp.
- Peak metrics are never summed. ``size_max`` is the maximum of one storage's size, and the
  maximum of a sum is not the sum of maxima: it needs ``BY storage`` or a filter on one
  storage (a storage name, which Gcore prefixes with the client ID, lives in one location).
  ``bucket_files`` is a per-bucket maximum from ``buckets_series``: it needs ``BY bucket``
  and is requested alone; the ``bucket`` dimension exists only for it. Without those,
  compile answers Unsupported. If the same storage (or bucket) name shows up twice in one
  answer while the level that tells them apart is not grouped, the larger value is kept.
- ``size_mean`` means add up across storages (mean of a sum is the sum of the means) and
  re-bucket as a duration-weighted mean; ``size_bytes_hour`` is a counter in byte-hours.
- Totals: the ``*_sum`` / ``*_max`` whole-period fields are not read; a query without EVERY
  is one bucket over the window, re-bucketed from the series with each metric's rollup.
- Filters: ``location`` and ``storage`` map to the body lists ``locations``/``storages``;
  ``client`` and ``bucket`` have no body field and are filtered by the engine.
- Errors: ``400 {"error": "…"}``. :meth:`StorageWire.failure` turns it (or a 2xx carrying
  one) into a P400 naming the vendor's words; :meth:`StorageWire.decode` rejects a body
  with ``error`` and no ``data`` too.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from querylang.failures import Failure, FailureKind
from querylang.frames import Frame, FrameBuilder, to_number
from querylang.provider import HttpProvider, Wire
from querylang.timegrid import Granularity, parse_ts
from querylang.wire import (
    NativeQuery,
    NativeRequest,
    NativeResponse,
    ProviderContext,
    Unsupported,
    build_url,
)
from querylang_providers.gcore.catalog import (
    PEAKS,
    SERIES_FIELD,
    STORAGE_DATASET,
    STORAGE_GRANULARITIES,
    STORAGE_PATH,
)

__all__ = ["StorageWire", "error_message", "request_body", "wire_granularity"]

DAY = 86400
_BODY_LISTS = {"location": "locations", "storage": "storages"}


def _date(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d")


def wire_granularity(granularity: Granularity) -> str | None:
    """``1h`` / ``12h`` / ``24h`` for a native grain; None for anything else."""
    seconds = granularity.seconds
    return STORAGE_GRANULARITIES.get(seconds) if seconds is not None else None


def _unsupported(query: NativeQuery) -> Unsupported | None:
    """Why this piece cannot be asked of the API, if it cannot."""
    grouped = set(query.group_by)
    others = [m for m in query.metrics if m != "bucket_files"]
    if ("bucket" in grouped or query.filter("bucket")) and others:
        return Unsupported(
            reason="bucket is a dimension of bucket_files only; it cannot split "
            + ", ".join(others),
            hint="query bucket_files alone BY bucket, and the other metrics without bucket",
        )
    if "bucket_files" in query.metrics and "bucket" not in grouped:
        return Unsupported(
            reason="bucket_files is each bucket's maximum file count in a period; maxima of "
            "different buckets cannot be added up",
            hint="add BY bucket (and BY storage to tell apart same-named buckets)",
        )
    one = query.filter("storage")
    single = one is not None and one.op == "in" and len(one.values) == 1
    if "size_max" in query.metrics and "storage" not in grouped and not single:
        return Unsupported(
            reason="size_max is each storage's maximum size in a period; maxima of different "
            "storages cannot be added up",
            hint="add BY storage (or filter on one storage), or use size_mean or size_bytes_hour, "
            "which add up",
        )
    for f in query.filters:
        if f.dimension not in _BODY_LISTS or f.op != "in":
            return Unsupported(
                reason=f"the storage API cannot filter {f.dimension} with {f.op}",
                hint="filter on location or storage with = or IN",
            )
    if wire_granularity(query.granularity) is None:
        return Unsupported(
            reason=f"the storage API has no {query.granularity} granularity",
            hint="use EVERY 1h, 12h or a multiple of 1d",
        )
    return None


def request_body(query: NativeQuery) -> dict[str, Any]:
    """The JSON body for one piece: dates covering the window, grain, filter lists."""
    end_day = query.window.end + (-query.window.end % DAY)
    body: dict[str, Any] = {
        "from": _date(query.window.start),
        "to": _date(end_day),
        "granularity": wire_granularity(query.granularity),
    }
    for dimension, key in _BODY_LISTS.items():
        f = query.filter(dimension)
        if f is not None:
            body[key] = [str(v) for v in f.values]
    return body


# -- decode ---------------------------------------------------------------------------------
def _timestamp(value: Any) -> int:
    """UNIX seconds from a number, a numeric string or an RFC 3339 string."""
    if isinstance(value, bool):
        raise ValueError(f"expected a timestamp, got {value!r}")
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(float(text))
        except ValueError:
            return parse_ts(text)
    raise ValueError(f"expected a timestamp, got {type(value).__name__} {value!r}")


def _objects(node: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    children = node.get(key)
    if children is None:
        return {}
    if not isinstance(children, dict):
        raise ValueError(f"{where}.{key} is not an object")
    return children


def _client_id(key: str, node: Mapping[str, Any]) -> int:
    try:
        return int(key)
    except ValueError:
        if isinstance(node.get("id"), int):
            return int(node["id"])
        raise ValueError(f"client key {key!r} is not a client ID") from None


class _Series:
    """Points per (group key, metric), adding up (or taking the max of) merged levels."""

    def __init__(self, query: NativeQuery) -> None:
        self.query = query
        self.points: dict[tuple[tuple[Any, ...], str], dict[int, float]] = {}

    def add(self, labels: Mapping[str, Any], metric: str, points: Any, where: str) -> None:
        if not isinstance(points, list):
            raise ValueError(f"{where} is not a list of [timestamp, value]")
        key = tuple(labels[d] for d in self.query.group_by)
        slot = self.points.setdefault((key, metric), {})
        peak = metric in PEAKS
        seen: set[int] = set()
        window = self.query.window
        for point in points:
            if not isinstance(point, list | tuple) or len(point) < 2:
                raise ValueError(f"{where}: expected [timestamp, value], got {point!r}")
            ts, value = _timestamp(point[0]), to_number(point[1])
            if ts in seen:
                raise ValueError(f"{where} repeats the timestamp {point[0]!r}")
            seen.add(ts)
            if not window.start <= ts < window.end:
                continue
            old = slot.get(ts)
            if old is None or math.isnan(old):
                slot[ts] = value
            elif not math.isnan(value):
                slot[ts] = max(old, value) if peak else old + value

    def build(self, metrics: tuple[str, ...]) -> Frame:
        builder = FrameBuilder(self.query.group_by, metrics)
        for (key, metric), slot in self.points.items():
            builder.add_series(key, metric, sorted(slot.items()))
        return builder.build()


def _storage_series(
    series: _Series,
    labels: dict[str, Any],
    node: Mapping[str, Any],
    metrics: tuple[str, ...],
    at: str,
) -> None:
    for metric in metrics:
        field = SERIES_FIELD[metric]
        if metric == "bucket_files":
            for bucket, points in _objects(node, field, at).items():
                where = f"{at}.{field}.{bucket}"
                series.add({**labels, "bucket": bucket}, metric, points, where)
        elif node.get(field) is not None:
            series.add(labels, metric, node[field], f"{at}.{field}")


# -- errors ---------------------------------------------------------------------------------
def error_message(response: NativeResponse) -> str | None:
    """The vendor's words from ``{"error": "…"}``, if the body has them."""
    try:
        body = response.json()
    except ValueError:
        return None
    said = body.get("error") if isinstance(body, dict) else None
    return said.strip() if isinstance(said, str) and said.strip() else None


class StorageWire(Wire):
    """``FROM gcore.storage``: one ``POST …/usage/series`` per piece, with its error envelope."""

    dataset = STORAGE_DATASET

    def compile(
        self, query: NativeQuery, context: ProviderContext
    ) -> list[NativeRequest] | Unsupported:
        """One POST per piece: every metric of every storage comes back in one answer."""
        problem = _unsupported(query)
        if problem is not None:
            return problem
        token = context.credentials.get("GCORE_API_KEY", "")
        return [
            NativeRequest(
                provider="gcore",
                method="POST",
                url=build_url(context.base_url, STORAGE_PATH),
                headers=(
                    ("Authorization", f"APIKey {token}"),
                    ("Content-Type", "application/json"),
                    ("Accept", "application/json"),
                ),
                body=NativeRequest.json_body(request_body(query)),
                metrics=tuple(query.metrics),
                secret_headers=("Authorization",),
                tag={"dataset": "storage"},
            )
        ]

    def decode(self, query: NativeQuery, request: NativeRequest, response: NativeResponse) -> Frame:
        """``data.clients → locations → storages → *_series`` → a row per (time, BY values)."""
        series = _Series(query)
        if not response.content.strip():
            # the document gives no empty answer: no data is "clients": {}, never an empty body
            raise ValueError(f"an empty body with HTTP {response.status}")
        body = response.json()
        if not isinstance(body, dict):
            raise ValueError("the answer is not a JSON object")
        if body.get("error") and not body.get("data"):
            raise ValueError(f"the API answered with an error: {body['error']}")
        data = body.get("data")
        if not isinstance(data, dict):
            raise ValueError("the answer has no 'data' object")
        if "clients" not in data:
            raise ValueError("the answer has no 'data.clients' object")
        for client_key, client in _objects(data, "clients", "data").items():
            where = f"data.clients.{client_key}"
            if not isinstance(client, dict):
                raise ValueError(f"{where} is not an object")
            client_id = _client_id(client_key, client)
            for location, loc in _objects(client, "locations", where).items():
                if not isinstance(loc, dict):
                    raise ValueError(f"{where}.locations.{location} is not an object")
                here = f"{where}.locations.{location}"
                for storage, node in _objects(loc, "storages", here).items():
                    at = f"{here}.storages.{storage}"
                    if not isinstance(node, dict):
                        raise ValueError(f"{at} is not an object")
                    labels = {"client": client_id, "location": location, "storage": storage}
                    _storage_series(series, labels, node, request.metrics, at)
        return series.build(request.metrics)

    def failure(
        self, provider: HttpProvider, request: NativeRequest, response: NativeResponse
    ) -> Failure | None:
        """``400 {"error"}`` (or a 200 carrying one) → a bad request in the vendor's words."""
        said = error_message(response)
        if response.status == 400 or (200 <= response.status < 300 and said):
            return Failure(
                kind=FailureKind.BAD_REQUEST,
                api="Gcore object storage",
                said=said or "no reason given",
                hint="the body is built from the query: check the WHERE location/storage "
                "values (names such as s-region-1 or 123-myStorage) and the time window",
            )
        return HttpProvider.failure(provider, request, response)
