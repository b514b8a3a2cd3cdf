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
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from querylang.emulation import accepted, account_data, api_key_header, json_response
from querylang.timegrid import Granularity
from querylang_providers.fastly.catalog import ALIASES, MAX_WINDOW, REGIONS, RETENTION
from querylang_providers.fastly.synthetic import NAMES, SERVICES, Account

__all__ = ["FastlyEmulator"]

GRAINS = {"minute": Granularity(1, "m"), "hour": Granularity(1, "h"), "day": Granularity(1, "d")}
DEFAULT_FROM = {"minute": 30 * 60, "hour": 86400, "day": 30 * 86400}
ROUTES = (
    ("regions", re.compile(r"^/stats/regions$")),
    ("usage", re.compile(r"^/stats/usage$")),
    ("aggregate", re.compile(r"^/stats/aggregate$")),
    ("all", re.compile(r"^/stats(?:/field/(?P<field>[^/]+))?$")),
    ("service", re.compile(r"^/stats/service/(?P<service>[^/]+)(?:/field/(?P<field>[^/]+))?$")),
)
_INTEGER = re.compile(r"^-?\d+$")


class BadRequest(ValueError):
    """A parameter the API refuses: answered with the error envelope."""


def _stamp(ts: int) -> str:
    """``Thu May 16 20:08:35 UTC 2013``, as the document's ``meta`` shows times."""
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%a %b %d %H:%M:%S UTC %Y")


def _envelope(data: Any, meta: dict[str, Any]) -> dict[str, Any]:
    return {"status": "success", "meta": meta, "msg": None, "data": data}


def _timestamp(params: httpx.QueryParams, name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not _INTEGER.match(raw.strip()):
        raise BadRequest(
            f"Invalid '{name}' value {raw!r}: the emulator accepts UNIX timestamps only"
        )
    return int(raw)


class Query:
    """The validated ``from``/``to``/``by``/``region`` of one stats call."""

    def __init__(self, params: httpx.QueryParams, now: int) -> None:
        self.by = params.get("by", "day")
        if self.by not in GRAINS:
            raise BadRequest(f"Invalid 'by' value {self.by!r}: use minute, hour or day")
        self.end = _timestamp(params, "to", now)
        self.start = _timestamp(params, "from", now - DEFAULT_FROM[self.by])
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
        self.region = params.get("region")
        if self.region is not None and self.region not in REGIONS:
            raise BadRequest(f"Invalid region {self.region!r}: see GET /stats/regions")
        grain = GRAINS[self.by]
        step = grain.seconds or 0
        first = grain.ceil(self.start)
        starts = [t for t in range(first, self.end, step) if t + step <= now]
        self.account = Account(starts, [t + step for t in starts])

    @property
    def regions(self) -> tuple[str, ...]:
        return (self.region,) if self.region else REGIONS

    @property
    def meta(self) -> dict[str, Any]:
        return {
            "to": _stamp(self.end),
            "from": _stamp(self.start),
            "by": self.by,
            "region": self.region or "all",
        }


class FastlyEmulator:
    """Answers Historical Stats calls for a synthetic three-service account."""

    def __init__(
        self,
        now: Callable[[], float],
        *,
        valid_token: str | None = None,
        rate_limit: int | None = None,
    ) -> None:
        self.now = now
        self.valid_token = valid_token
        self.rate_limit = rate_limit
        self.calls: dict[int, int] = {}  # calls per clock hour, when rate limited
        self._lock = threading.Lock()

    def expected(
        self,
        dataset: str,
        metric: str,
        start: int,
        end: int,
        step: int,
        where: Mapping[str, Sequence[str]] | None = None,
    ) -> dict[int, float]:
        """The emulator's own totals of counter ``metric`` per bucket [t, t + step).

        Summed over the services and regions matching ``where`` (None: all of them, as
        ``/stats/aggregate`` answers); only finished buckets (ending by now) are present.
        """
        if dataset != "stats":
            raise ValueError(f"the Fastly emulator has no dataset {dataset!r}")
        name = ALIASES.get(metric, metric)
        if name not in NAMES or name == "hit_ratio":
            raise ValueError(f"{metric!r} is not a counter of the Fastly emulator")
        where = where or {}
        unknown = sorted(set(where) - {"service", "region"})
        if unknown:
            raise ValueError(f"the Fastly emulator has no dimension {unknown[0]!r}")
        services = [s for s in SERVICES if s in where.get("service", SERVICES)]
        regions = [r for r in REGIONS if r in where.get("region", REGIONS)]
        now = int(self.now())
        starts = [t for t in range(start, end, step) if t + step <= now]
        with account_data(""):
            account = Account(starts, [t + step for t in starts])
            totals = account.totals(name, services, regions)
        return {t: float(v) for t, v in zip(starts, totals.tolist(), strict=True)}

    def _authorized(self, request: httpx.Request) -> bool:
        return accepted(api_key_header(request, "Fastly-Key"), self.valid_token)

    def _limit_headers(self, now: int) -> tuple[dict[str, str], bool]:
        """Rate-limit headers for this call, and whether it is over the limit."""
        if self.rate_limit is None:
            return {}, False
        hour = now // 3600
        with self._lock:
            self.calls[hour] = self.calls.get(hour, 0) + 1
            used = self.calls[hour]
        reset = (hour + 1) * 3600
        remaining = max(self.rate_limit - used, 0)
        headers = {
            "Fastly-RateLimit-Remaining": str(remaining),
            "Fastly-RateLimit-Reset": str(reset),
        }
        if used > self.rate_limit:
            headers["Retry-After"] = str(reset - now)
            return headers, True
        return headers, False

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Route, authenticate, validate, answer."""
        now = int(self.now())
        path = request.url.path.rstrip("/") or "/"
        route = next(((n, m) for n, rx in ROUTES if (m := rx.match(path))), None)
        if request.method != "GET" or route is None:
            return json_response(
                404, {"msg": "Record not found", "detail": f"Cannot {request.method} {path}"}
            )
        if not self._authorized(request):
            return json_response(401, {"msg": "Provided credentials are missing or invalid"})
        headers, limited = self._limit_headers(now)
        if limited:
            return json_response(429, {"msg": "Too many requests"}, headers)
        name, match = route
        try:
            status, payload = self._answer(name, match.groupdict(), request.url.params, now)
        except BadRequest as exc:
            status, payload = 400, {"status": "error", "meta": None, "msg": str(exc), "data": None}
        return json_response(status, payload, headers)

    def _answer(
        self, name: str, groups: dict[str, str | None], params: httpx.QueryParams, now: int
    ) -> tuple[int, dict[str, Any]]:
        if name == "regions":
            meta = {"to": _stamp(now), "from": _stamp(now - 30 * 86400), "by": "day"}
            return 200, _envelope(list(REGIONS), {**meta, "region": "all"})
        query = Query(params, now)
        field = groups.get("field")
        if field is not None and ALIASES.get(field, field) not in NAMES:
            raise BadRequest(f"Unknown field {field!r}")
        fields = None if field is None else [ALIASES.get(field, field)]
        account, regions = query.account, query.regions
        if name == "usage":
            usage = {
                r: {
                    "requests": str(int(account.totals("requests", list(SERVICES), [r]).sum())),
                    "bandwidth": str(int(account.totals("bandwidth", list(SERVICES), [r]).sum())),
                }
                for r in regions
            }
            return 200, _envelope(usage, query.meta)
        if name == "aggregate":
            return 200, _envelope(account.records(None, list(SERVICES), regions), query.meta)
        if name == "all":
            data = {
                sid: _spell(account.records(fields, [sid], regions, service_id=sid), field)
                for sid in SERVICES
            }
            return 200, _envelope(data, query.meta)
        service = str(groups["service"])
        if service not in SERVICES:
            return 404, {"msg": "Record not found", "detail": f"Cannot find service '{service}'"}
        records = account.records(fields, [service], regions, service_id=service)
        return 200, _envelope(_spell(records, field), query.meta)


def _spell(records: list[dict[str, Any]], asked: str | None) -> list[dict[str, Any]]:
    """A field asked under an old spelling comes back under that spelling."""
    canonical = ALIASES.get(asked or "")
    if asked is None or canonical is None:
        return records
    return [{(asked if k == canonical else k): v for k, v in r.items()} for r in records]
