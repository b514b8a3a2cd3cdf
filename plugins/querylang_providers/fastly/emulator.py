"""An emulator of Fastly's Historical Stats API: same paths, parameters, limits and shapes.

Paths: ``/stats``, ``/stats/aggregate``, ``/stats/field/{f}``, ``/stats/service/{id}``,
``/stats/service/{id}/field/{f}``, ``/stats/regions``, ``/stats/usage``. Behaviour:

- ``Fastly-Key`` must be present; the token ``invalid`` gets the 401 a revoked token gets.
- ``from``/``to`` must be UNIX seconds (the real API also takes Chronic's human forms; the
  emulator refuses them so a client sending them is caught); ``from <= start_time < to``.
  Omitted, they default as documented (by day: one month ago; hour: one day; minute: 30
  minutes; ``to`` now). ``by`` is ``minute``, ``hour`` (the default is ``day``) or ``day``;
  ``region`` one name of ``/stats/regions``.
- Retention: minute data 35 days, hour data 375 days; a request spanning more than one
  day of minutes, 31 days of hours or 366 days is "exceedingly large" and refused.
- Bad input gets HTTP 400 with the envelope ``{"status": "error", "msg": …}``; an unknown
  service 404 and a bad token 401, with Fastly's ``{"msg", "detail"}`` body.
- Only finished buckets are answered (an unfinished one is absent), never data after now.
- Numbers are strings, as in the document's examples; ``hit_ratio`` is null for 0/0.
- ``rate_limit`` (calls per clock hour, off by default as for real stats reads) adds the
  ``Fastly-RateLimit-Remaining``/``-Reset`` headers and answers 429 with Retry-After.

The account: three services in every region. Every base field of every (service, region)
is an integer multiple of one of a few synthetic driver series, so any bucket is exact and
a day equals the sum of its hours and minutes (the ``*_time`` seconds up to float
rounding); "all regions" is the sum of the regions and ``/stats/aggregate`` the sum of the
services. The fields the document defines from others are sums of their parts
(``requests``, ``bandwidth``, ``status_Nxx``, …) and ``hit_ratio`` is hits / (hits + miss).
"""

from __future__ import annotations

import datetime as dt
import itertools
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
import numpy as np

from querylang.catalog import RateLimit
from querylang.emulation import (
    BadRequest,
    Counters,
    EmulatorBase,
    Finality,
    FixedWindowLimiter,
    RouteTable,
    accepted,
    api_key_header,
    json_response,
    one_of,
    ratio,
    scope,
    unix_time,
)
from querylang.timegrid import Granularity
from querylang_providers.fastly.catalog import ALIASES, FIELDS, MAX_WINDOW, REGIONS, RETENTION

__all__ = ["SERVICES", "Account", "FastlyEmulator"]

GRAINS = {"minute": Granularity(1, "m"), "hour": Granularity(1, "h"), "day": Granularity(1, "d")}
DEFAULT_FROM = {"minute": 30 * 60, "hour": 86400, "day": 30 * 86400}
FINALITY = Finality()  # only finished buckets; the documented 10-15 minute delay is not emulated
UNIX = "Invalid '{name}' value {value!r}: the emulator accepts UNIX timestamps only"

# The service IDs of the document's examples, with their relative traffic.
SERVICES = {
    "6ElZZvtumbwtLBDJvFwepx": 1.0,
    "5oYej0l0heMydtjaVPOq4z": 0.2,
    "1jlmtMz1ncwA0KC3TBGD0X": 0.05,
}
DERIVED: dict[str, tuple[str, ...]] = {
    "requests": ("hits", "miss", "pass", "errors"),
    "bandwidth": ("resp_header_bytes", "resp_body_bytes", "bereq_header_bytes", "bereq_body_bytes"),
    "body_size": ("resp_body_bytes",),
    "header_size": ("resp_header_bytes",),
    "status_2xx": ("status_200", "status_204"),
    "status_3xx": ("status_301", "status_302", "status_304"),
    "status_4xx": ("status_400", "status_401", "status_403", "status_404", "status_416"),
    "status_5xx": tuple(f"status_50{i}" for i in range(6)),
}
# Each base field is an integer multiple of one of a few driver series per (service, region):
# sums stay exact while the emulator computes a handful of series instead of one per field.
DRIVERS = {"hits": 600.0, "miss": 40.0, "pass": 25.0, "errors": 2.0}
SCALES = {**DRIVERS, "bytes": 2_400_000.0, "time": 300.0, "count": 4.0}  # ~20 KB per request
# The document's examples spell two fields the old way; full records do too, so decode's
# aliasing is exercised end to end. One field the document does not list is added.
SPELLING = {"log": "logging", "imgopto": "img_opto"}
UNDOCUMENTED = "edge_requests"
NAMES = tuple(name for name, _ in FIELDS)


def _base(counters: Counters, field: str, entity: tuple[str, str]) -> np.ndarray:
    """Base field ``field`` of one (service, region): an integer multiple of a driver series."""
    service, region = entity
    driver, weight = field, 1
    if field not in DRIVERS:
        weight = 1 + zlib.crc32(field.encode()) % 5
        driver = "bytes" if field.endswith("_bytes") else "count"
        driver = "time" if field.endswith("_time") else driver  # ms per minute, sent in seconds
    values = counters.series(
        f"fastly|{service}|{region}|{driver}", SCALES[driver] * SERVICES[service]
    )
    return values * weight / 1000.0 if driver == "time" else values * weight


def _text(field: str, value: float) -> str:
    """Numbers as the document's examples show them: strings."""
    return repr(float(value)) if field.endswith("_time") else str(int(value))


class Account(Counters):
    """The account's fields over a list of buckets, each driver series drawn once."""

    def __init__(self, starts: Sequence[int] | np.ndarray, ends: Sequence[int] | np.ndarray):
        super().__init__(starts, ends, _base, DERIVED)

    def totals(self, field: str, services: Sequence[str], regions: Sequence[str]) -> np.ndarray:
        """One total per bucket of ``field`` (not hit_ratio) over the services and regions."""
        return self.total(field, itertools.product(services, regions))

    def values(self, field: str, services: Sequence[str], regions: Sequence[str]) -> list[Any]:
        """Per bucket, ``field`` as the API writes it (a string, or null for 0/0 hit_ratio)."""
        if field == "hit_ratio":
            hits = self.totals("hits", services, regions)
            hit_ratio = ratio(hits, hits + self.totals("miss", services, regions))
            return [None if r != r else f"{r:.4f}" for r in hit_ratio]
        return [_text(field, v) for v in self.totals(field, services, regions)]

    def records(
        self,
        fields: Sequence[str] | None,
        services: Sequence[str],
        regions: Sequence[str] = REGIONS,
        *,
        service_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """One record per bucket: every field (``fields`` None) or just the ones asked."""
        names = NAMES if fields is None else fields
        columns = {name: self.values(name, services, regions) for name in names}
        if fields is None:  # full records: the old spellings, and the undocumented field
            columns = {SPELLING.get(n, n): c for n, c in columns.items()}
            columns[UNDOCUMENTED] = columns["requests"]
        head = {} if service_id is None else {"service_id": service_id}
        rows = zip(self.starts.tolist(), *columns.values(), strict=True)
        return [
            {"start_time": str(t), **head, **dict(zip(columns, row, strict=True))}
            for t, *row in rows
        ]


def _stamp(ts: int) -> str:
    """``Thu May 16 20:08:35 UTC 2013``, as the document's ``meta`` shows times."""
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%a %b %d %H:%M:%S UTC %Y")


def _envelope(data: Any, meta: dict[str, Any]) -> dict[str, Any]:
    return {"status": "success", "meta": meta, "msg": None, "data": data}


class Query:
    """The validated ``from``/``to``/``by``/``region`` of one stats call."""

    def __init__(self, params: httpx.QueryParams, now: int) -> None:
        by = "Invalid 'by' value {value!r}: use minute, hour or day"
        self.by = one_of("by", params.get("by", "day"), GRAINS, by)
        self.end = unix_time("to", params.get("to"), UNIX, default=now)
        self.start = unix_time(
            "from", params.get("from"), UNIX, default=now - DEFAULT_FROM[self.by]
        )
        if self.end <= self.start:
            raise BadRequest("'to' must be later than 'from'")
        retention = RETENTION[self.by]
        if retention is not None and self.start < now - retention:
            raise BadRequest(
                f"by={self.by} data is kept for {retention // 86400} days: 'from' is too old"
            )
        if self.end - self.start > MAX_WINDOW[self.by]:
            raise BadRequest(
                "We will not process exceedingly large queries: at most "
                f"{MAX_WINDOW[self.by] // 86400} days per request with by={self.by}"
            )
        region = "Invalid region {value!r}: see GET /stats/regions"
        self.region = one_of("region", params.get("region"), (None, *REGIONS), region)
        self.regions = (self.region,) if self.region else REGIONS
        step = GRAINS[self.by].seconds or 0
        starts = FINALITY.buckets(GRAINS[self.by].ceil(self.start), self.end, step, now)
        self.account = Account(starts, starts + step)
        self.meta = {
            "to": _stamp(self.end),
            "from": _stamp(self.start),
            "by": self.by,
            "region": self.region or "all",
        }


def _error(status: int, message: str) -> httpx.Response:
    """Fastly's error bodies: the 400 envelope, else ``{"msg", "detail"}``."""
    if status == 400:
        body = {"status": "error", "meta": None, "msg": message, "data": None}
        return json_response(400, body)
    return json_response(status, {"msg": "Record not found", "detail": message})


def _field(field: str | None) -> list[str] | None:
    """The one field a ``/field/{f}`` path asks (in its canonical spelling), else None."""
    if field is None:
        return None
    if ALIASES.get(field, field) not in NAMES:
        raise BadRequest(f"Unknown field {field!r}")
    return [ALIASES.get(field, field)]


def _spell(records: list[dict[str, Any]], asked: str | None) -> list[dict[str, Any]]:
    """A field asked under an old spelling comes back under that spelling."""
    canonical = ALIASES.get(asked or "")
    if asked is None or canonical is None:
        return records
    return [{(asked if k == canonical else k): v for k, v in r.items()} for r in records]


def _regions(request: httpx.Request, now: int) -> httpx.Response:
    meta = {"to": _stamp(now), "from": _stamp(now - 30 * 86400), "by": "day", "region": "all"}
    return json_response(200, _envelope(list(REGIONS), meta))


def _usage(request: httpx.Request, now: int) -> httpx.Response:
    query = Query(request.url.params, now)
    account, services = query.account, list(SERVICES)
    usage = {
        r: {
            "requests": str(int(account.totals("requests", services, [r]).sum())),
            "bandwidth": str(int(account.totals("bandwidth", services, [r]).sum())),
        }
        for r in query.regions
    }
    return json_response(200, _envelope(usage, query.meta))


def _aggregate(request: httpx.Request, now: int) -> httpx.Response:
    query = Query(request.url.params, now)
    records = query.account.records(None, list(SERVICES), query.regions)
    return json_response(200, _envelope(records, query.meta))


def _services(
    request: httpx.Request, now: int, service: str | None = None, field: str | None = None
) -> httpx.Response:
    """Every service's records (``/stats``), or one service's; all fields or the one asked."""
    query = Query(request.url.params, now)
    fields = _field(field)
    if service is not None and service not in SERVICES:
        raise BadRequest(f"Cannot find service '{service}'", status=404)

    def records(sid: str) -> list[dict[str, Any]]:
        return _spell(query.account.records(fields, [sid], query.regions, service_id=sid), field)

    data = {sid: records(sid) for sid in SERVICES} if service is None else records(service)
    return json_response(200, _envelope(data, query.meta))


def _expected(
    metric: str, start: int, end: int, step: int, now: int, where: Mapping[str, Sequence[str]]
) -> dict[int, float]:
    """Totals of counter ``metric`` over the services and regions matching ``where`` (none:
    all of them, as ``/stats/aggregate`` answers); only finished buckets are present."""
    name = ALIASES.get(metric, metric)
    if name not in NAMES or name == "hit_ratio":
        raise ValueError(f"{metric!r} is not a counter of the Fastly emulator")
    where = scope(where, ("service", "region"), "Fastly")
    services = [s for s in SERVICES if s in where.get("service", SERVICES)]
    regions = [r for r in REGIONS if r in where.get("region", REGIONS)]
    return FINALITY.totals(
        start, end, step, now, lambda t: Account(t, t + step).totals(name, services, regions)
    )


class FastlyEmulator(EmulatorBase):
    """Answers Historical Stats calls for a synthetic three-service account."""

    label = "Fastly"

    def __init__(
        self,
        now: Callable[[], float],
        *,
        valid_token: str | None = None,
        rate_limit: int | None = None,
    ) -> None:
        self.now = now
        self.valid_token = valid_token
        self.datasets = {"stats": _expected}
        self.rate_limit = rate_limit
        hourly = [RateLimit(calls=rate_limit or 0, per_seconds=3600)]
        self.limiter = None if rate_limit is None else FixedWindowLimiter(hourly, now)
        self.routes = (
            RouteTable(
                _error,
                wrong_method_status=404,
                not_found="Cannot {method} {path}",
                guard=self._admit,
            )
            .add("GET", "/stats/regions", _regions)
            .add("GET", "/stats/usage", _usage)
            .add("GET", "/stats/aggregate", _aggregate)
            .add("GET", "/stats", _services)
            .add("GET", "/stats/field/{field}", _services)
            .add("GET", "/stats/service/{service}", _services)
            .add("GET", "/stats/service/{service}/field/{field}", _services)
        )

    def _admit(self, request: httpx.Request, now: int) -> httpx.Response | dict[str, str]:
        """The key, then the hourly limit: the admitted answer carries the limit headers."""
        if not accepted(api_key_header(request, "Fastly-Key"), self.valid_token):
            return json_response(401, {"msg": "Provided credentials are missing or invalid"})
        if self.limiter is None:
            return {}
        admission = self.limiter.admit(now)
        calls = self.limiter.limits[0].calls
        headers = {
            "Fastly-RateLimit-Remaining": str(max(calls - admission.used[0], 0)),
            "Fastly-RateLimit-Reset": str(now + admission.reset_after),
        }
        if admission.admitted:
            return headers
        return json_response(
            429,
            {"msg": "Too many requests"},
            {**headers, "Retry-After": str(admission.reset_after)},
        )

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Route, authenticate, validate, answer."""
        path = request.url.path.rstrip("/") or "/"
        return self.routes.dispatch(request, path, now=int(self.now()))
