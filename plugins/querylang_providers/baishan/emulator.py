"""An emulator of BaishanCloud's ``/v2/stat/bandwidth`` and ``/v2/stat/bandwidth/eachDomain``.

A synthetic account of twelve domains. It enforces what the document states: the token
(``token`` absent → 401; ``invalid`` is a revoked token), at most 10 domains, the time
formats, ``end_time > start_time``, 31 days per call and 10 days at ``minute5``, the
``grad``/``data_type``/``ip_protocol`` values, and the catalog's rate limits (300 calls a minute
and 24 every 2 seconds, fixed windows on the wall clock; both adjustable for tests) with
``X-Ratelimit-*``/``X-Retry-After`` headers and HTTP 429. Where the document is silent:
unknown domains count as idle (like deleted ones) rather than failing; time strings are
read in the emulator's zone (``+08:00`` by default) and buckets follow that zone's grid;
only complete buckets are served; zero points are omitted. Traffic comes from
:func:`querylang.emulation.synthetic_totals` per 5-minute cell, so every grain agrees;
``dl.example.com`` is idle every third UTC hour and ``static.example.com`` has no IPv6,
which exercises zero filling.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
import numpy as np

from querylang.catalog import RateLimit
from querylang.emulation import (
    BadRequest,
    BucketCells,
    EmulatorBase,
    Finality,
    FixedWindowLimiter,
    RouteTable,
    TimeFormat,
    accepted,
    json_response,
    one_of,
    points,
    query_token,
    required,
    scope,
    synthetic_totals,
)
from querylang_providers.baishan.catalog import (
    DATASET,
    DEFAULT_TIMEZONE,
    EACH_DOMAIN_PATH,
    GRADS,
    MAX_DOMAINS,
    PATH,
    parse_timezone,
)

__all__ = ["DOMAINS", "BaishanEmulator", "traffic_cells"]

DAY = 86400
CELL = 300
# domain → (bytes per minute over IPv4, bytes per minute over IPv6)
DOMAINS: dict[str, tuple[float, float]] = {
    "www.example.com": (28e6, 12e6),
    "static.example.com": (25e6, 0.0),
    "video.example.com": (72e6, 18e6),
    "dl.example.com": (7.5e6, 2.5e6),
    **{f"cdn{i:02d}.example.com": (1.8e6, 0.2e6) for i in range(1, 9)},
}
IDLE_EVERY_THIRD_HOUR = "dl.example.com"
STEPS = {name: size for size, name in GRADS.items()}
FINAL = Finality()  # complete buckets only
TIME = TimeFormat(
    ("%Y-%m-%d", "%Y-%m-%d %H:%M"),
    shape=re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2}))?$"),
    malformed="{name} must be YYYY-mm-dd or YYYY-mm-dd HH:ii, got {value!r}",
    invalid="{name} is not a valid time: {value!r}",
    strip=True,
)
DATA_TYPES = ("bandwidth", "traffic")
PROTOCOLS = ("all", "ipv4", "ipv6")


def traffic_cells(domain: str, protocol: str, cells: np.ndarray) -> np.ndarray:
    """Bytes served in each 5-minute cell starting at ``cells`` (``protocol``: ipv4/ipv6/all)."""
    if protocol == "all":
        return traffic_cells(domain, "ipv4", cells) + traffic_cells(domain, "ipv6", cells)
    rates = DOMAINS.get(domain)
    if rates is None:
        return np.zeros(len(cells), np.int64)
    scale = rates[0] if protocol == "ipv4" else rates[1]
    out = synthetic_totals(f"baishan|{domain}|{protocol}", cells, cells + CELL, scale)
    if domain == IDLE_EVERY_THIRD_HOUR:
        out = np.where((cells // 3600) % 3 == 0, 0, out)
    return out


def _error(status: int, message: str, key: str = "message") -> httpx.Response:
    return json_response(status, {"code": status, key: message})


def _traffic(
    domains: Sequence[str], protocols: Sequence[str], starts: np.ndarray, step: int
) -> np.ndarray:
    """Bytes served per bucket [t, t + step) at ``starts``, summed over domains and protocols."""
    cells = BucketCells.grid(starts, step, CELL)
    total = np.zeros(len(cells.cells), np.int64)
    for domain in domains:
        for protocol in protocols:
            total = total + traffic_cells(domain, protocol, cells.cells)
    return cells.total(total)


def _expected(
    metric: str, start: int, end: int, step: int, now: int, where: Mapping[str, Sequence[str]]
) -> dict[int, float]:
    """Bytes served (``traffic``) per bucket, summed over the matching domains and protocols.

    None: every domain over both protocols (``domains=all``, ``ip_protocol=all``). A zero
    bucket the API would omit is present with 0.0.
    """
    if metric != "traffic":
        raise ValueError(f"the BaishanCloud emulator has no counter cdn.{metric}")
    if step % CELL:
        raise ValueError(f"step {step} is not a whole number of 5-minute cells")
    where = scope(where, ("domain", "ip_protocol"), "BaishanCloud")
    domains = list(dict.fromkeys(where.get("domain", DOMAINS)))
    protocols = [p for p in ("ipv4", "ipv6") if p in where.get("ip_protocol", ("ipv4", "ipv6"))]
    return FINAL.totals(start, end, step, now, lambda t: _traffic(domains, protocols, t, step))


class BaishanEmulator(EmulatorBase):
    """Answers BaishanCloud bandwidth requests; counts calls and 429s for tests."""

    label = "BaishanCloud"
    no_dataset = "the {label} emulator has no counter {dataset}.{metric}"

    def __init__(
        self,
        now: Callable[[], float],
        *,
        valid_token: str | None = None,
        timezone: str = DEFAULT_TIMEZONE,
        limits: Sequence[RateLimit | tuple[int, float]] = DATASET.rate_limits,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.now = now
        self.valid_token = valid_token
        self.datasets = {"cdn": _expected}
        self.zone = parse_timezone(timezone)
        # the first limit is the one the X-Ratelimit-* headers report
        self.limiter = FixedWindowLimiter(limits, clock)
        self.routes = (
            RouteTable(
                _error,
                wrong_method_status=404,
                not_found="no such API: {method} {path}",
                guard=self._admit,
            )
            .add("GET", PATH, self._bandwidth)
            .add("GET", EACH_DOMAIN_PATH, self._each_domain)
        )

    @property
    def calls(self) -> int:
        """Calls admitted past the rate limiter."""
        return self.limiter.calls

    @property
    def rejected(self) -> int:
        """Calls answered 429."""
        return self.limiter.rejected

    def _admit(self, request: httpx.Request, now: int) -> httpx.Response | dict[str, str]:
        """The token, then every rate limit; the admitted answer carries the limit headers."""
        token = query_token(request)
        if not token:
            return _error(401, "token is required", key="msg")
        if not accepted(token, self.valid_token):
            return _error(401, "invalid token or no access", key="msg")
        admission = self.limiter.admit()
        head_calls = self.limiter.limits[0].calls
        headers = {
            "Api-Id": "1039",
            "X-Ratelimit-Grad": "minute",
            "X-Ratelimit-Limit": str(head_calls),
            "X-Ratelimit-Remaining": str(max(0, head_calls - admission.used[0])),
            "X-Retry-After": str(admission.reset_after),
        }
        if not admission.admitted:
            return json_response(429, {"code": 429, "message": "too many requests"}, headers)
        return headers

    # -- parameters ---------------------------------------------------------------------
    def _time(self, value: str | None, name: str, *, end: bool) -> int:
        ts = TIME.read(name, value, zone=self.zone)
        return ts + DAY - 60 if end and len(str(value).strip()) == 10 else ts  # a date: to 23:59

    def _params(self, request: httpx.Request) -> dict[str, Any]:
        p = request.url.params
        domains = [d.strip() for d in (p.get("domains") or "").split(",") if d.strip()]
        required("domains", domains)
        if len(domains) > MAX_DOMAINS:
            raise BadRequest(f"at most {MAX_DOMAINS} domains per request, got {len(domains)}")
        if "all" in domains and len(domains) > 1:
            raise BadRequest("domains=all cannot be combined with domain names")
        start = self._time(p.get("start_time"), "start_time", end=False)
        end = self._time(p.get("end_time"), "end_time", end=True)
        grad = one_of("grad", p.get("grad") or "minute5", STEPS, "grad must be one of {choices}")
        data_type = p.get("data_type") or "bandwidth"
        one_of("data_type", data_type, DATA_TYPES, "data_type must be {either}")
        protocol = p.get("ip_protocol") or "all"
        one_of("ip_protocol", protocol, PROTOCOLS, "ip_protocol must be {either}")
        if end <= start:
            raise BadRequest("end_time must be greater than start_time")
        if end - start > 31 * DAY:
            raise BadRequest("the range from start_time to end_time must be within 31 days")
        if grad == "minute5" and end - start > 10 * DAY:
            raise BadRequest("with grad=minute5 the range must not exceed 10 days")
        return {
            "domains": list(DOMAINS) if domains == ["all"] else list(dict.fromkeys(domains)),
            "start": start,
            "end": end,
            "step": STEPS[grad],
            "data_type": data_type,
            "protocols": ("ipv4", "ipv6") if protocol == "all" else (protocol,),
        }

    # -- answers ------------------------------------------------------------------------
    def _series(self, domains: list[str], q: dict[str, Any], now: int) -> list[list[Any]]:
        """The points of ``domains`` summed: complete buckets of the local grid, zeros left out.

        Buckets run from the one holding ``start`` to the one holding ``end``.
        """
        start, end, step = q["start"], q["end"], q["step"]
        utcoffset = dt.datetime.fromtimestamp(start, self.zone).utcoffset()
        offset = int(utcoffset.total_seconds()) if utcoffset is not None else 0
        first = (start + offset) // step * step - offset
        last = (end + offset) // step * step - offset
        starts = FINAL.buckets(first, last + 1, step, now)
        if len(starts) == 0:
            return []
        per_bucket = _traffic(domains, q["protocols"], starts, step)
        if q["data_type"] == "bandwidth":
            return points(starts, np.round(per_bucket * 8 / step, 2), omit_zeros=True)
        return points(starts, per_bucket.astype(np.float64), omit_zeros=True)

    def _bandwidth(self, request: httpx.Request, now: int) -> httpx.Response:
        q = self._params(request)
        return json_response(200, {"code": 0, "data": self._series(q["domains"], q, now)})

    def _each_domain(self, request: httpx.Request, now: int) -> httpx.Response:
        q = self._params(request)
        data = {  # the vendor's example is newest first
            domain: {"domain": domain, "data": self._series([domain], q, now)[::-1]}
            for domain in q["domains"]
        }
        return json_response(200, {"code": 0, "data": data})
