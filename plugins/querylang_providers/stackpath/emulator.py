"""An emulator of StackPath's gateway: the OAuth2 token endpoint and the CDN metrics endpoint.

Tokens: any non-empty client ID and secret get a token except the value ``invalid``
(401, gRPC 16). Tokens live ``ttl`` seconds on the emulator's clock; :meth:`revoke`
invalidates every token issued so far, and the token ``invalid`` is always refused.
``token_calls`` counts token requests so tests can check a run fetched exactly one;
``revoke_on_call = n`` revokes every token just before the n-th metrics call (counted
from 1 in ``metric_calls``), to test one refresh in the middle of a run.
Stacks: every stack ID or slug has data, except ``forbidden`` (403, gRPC 7) and
``missing`` (404, gRPC 5).

Metrics (``GET /cdn/v1/stacks/{stack}/metrics``): three sites served from seven POPs (four
billing regions) on six platforms with traffic. Every bucket is computed from five-minute
cells of integer MB and requests, so a coarse bucket's totals equal the sum of the finer
ones and the Min/Max/Mean columns are exact over the cells. Only complete cells before now
have data (a bucket in progress is answered with what it has so far). ``end_date`` is
treated as inclusive (a bucket starting at it is returned), so clients must trim; a date in
the future is refused, as is any unknown parameter.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote

import httpx
import numpy as np

from querylang.emulation import (
    BadRequest,
    BucketCells,
    Counters,
    EmulatorBase,
    Finality,
    RouteTable,
    TimeFormat,
    TokenIssuer,
    TokenRefused,
    fail,
    grouped,
    json_response,
    known,
    one_of,
    ratio,
    scope,
    select,
)
from querylang.timegrid import Granularity
from querylang_providers.stackpath.catalog import (
    DEFAULT_PLATFORM,
    GRPC_HTTP_STATUS,
    METRIC_NAMES,
    PLATFORMS,
    TIME_COLUMN,
    TIME_METRICS,
    TOKEN_PATH,
)

__all__ = ["LEAVES", "SITES", "StackPathEmulator", "rpc_error"]

FIVE = 300
FINALITY = Finality(partial=True, align=FIVE)
SITES = (
    "4a9a7c2e-3f51-4c5e-9b8e-1d2c3b4a5f60",
    "8d1f0b6a-72c4-4e19-a0d3-5e6f7a8b9c01",
    "c3e5a7b9-1d2f-4a6b-8c0e-2f4a6c8e0b13",
)
POPS = {
    "JFK": "NORTH_AMERICA",
    "LAX": "NORTH_AMERICA",
    "AMS": "EUROPE",
    "FRA": "EUROPE",
    "NRT": "ASIA_PACIFIC",
    "SIN": "ASIA_PACIFIC",
    "GRU": "LATIN_AMERICA",
}
SCALES = {"CDE": 40, "SDS": 25, "CDS": 15, "CDO": 4, "CDI": 2, "SDI": 2}  # MB per minute
LEAVES = [
    {"SITE": s, "POP": p, "REGION": POPS[p], "PLATFORM": f}
    for s, p, f in itertools.product(SITES, POPS, SCALES)
]
GRAINS = {"PT5M": "5m", "PT1H": "1h", "P1D": "1d", "P1M": "1mo"}
GROUPS = ("NONE", "ACCOUNT", "SITE", "PLATFORM", "POP", "REGION")
SITE_TYPES = ("ALL", "CDN", "WAF", "API", "EDGE_ENGINE", "SERVERLESS_EDGE_ENGINE")
LISTS = {"platforms": "PLATFORM", "sites": "SITE", "pops": "POP", "billing_regions": "REGION"}
KNOWN_PARAMS = frozenset(
    {"start_date", "end_date", "granularity", "group_by", "site_type_filter", *LISTS}
)
COUNTERS = ("xferUsedTotalMB", "xferAttemptedTotalMB", "durationTotal", "requestsCountTotal")
_LEAF_FIELDS = {"site": "SITE", "pop": "POP", "billing_region": "REGION", "platform": "PLATFORM"}
Filters = dict[str, list[str] | None]  # leaf field → the values asked (None: any)
REFUSAL_CODES = {"invalid_request": 3, "unsupported_grant_type": 3, "invalid_client": 16}
DATE = TimeFormat(
    ("%Y-%m-%dT%H:%M:%SZ",),
    missing=None,
    shape=re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"),
    malformed="must be formatted as YYYY-MM-DDTHH:MM:SSZ",
    invalid="is not a valid date",
)


def rpc_error(code: int, message: str, violations: dict[str, str] | None = None) -> httpx.Response:
    """A gRPC-style error body with the HTTP status the gateway pairs with ``code``."""
    details: list[dict[str, Any]] = []
    if violations:
        fields = [{"field": f, "description": d} for f, d in violations.items()]
        details.append({"@type": "stackpath.rpc.BadRequest", "fieldViolations": fields})
    body = {"code": code, "message": message, "details": details}
    return json_response(GRPC_HTTP_STATUS.get(code, 500), body)


# -- parameters ---------------------------------------------------------------------------------
def _list(params: httpx.QueryParams, name: str) -> list[str] | None:
    text = params.get(name)
    if text is None:
        return None
    items = [v.strip() for v in text.split(",")]
    if not all(items):
        fail(name, text, "must be a comma-separated list without empty items")
    return items


def _parse(params: httpx.QueryParams, now: int) -> tuple[int, int, Granularity, Filters, str]:
    """Start, end, grain, leaf filters and grouping; a parameter the API refuses (gRPC 3) is a
    BadRequest naming its field."""
    unknown = sorted(set(params.keys()) - KNOWN_PARAMS)
    if unknown:
        fail(unknown[0], None, "unknown query parameter")
    end = DATE.read("end_date", params.get("end_date"), default=now)
    start = DATE.read("start_date", params.get("start_date"), default=end - 86400)
    if end > now + 60:
        fail("end_date", end, "must not be in the future")
    if end <= start:
        fail("end_date", end, "must be after start_date")
    granularity = params.get("granularity", "AUTO")
    if granularity == "AUTO":
        granularity = (
            "PT5M" if end - start <= 86400 else "PT1H" if end - start <= 31 * 86400 else "P1D"
        )
    one_of("granularity", granularity, GRAINS, "must be one of AUTO, PT5M, PT1H, P1D, P1M")
    platforms = _list(params, "platforms")
    known("platforms", platforms or [], PLATFORMS, "unknown platform {first!r}")
    group_by = one_of(
        "group_by", params.get("group_by", "NONE"), GROUPS, "must be one of {choices}"
    )
    site_type = params.get("site_type_filter", "ALL")
    one_of("site_type_filter", site_type, SITE_TYPES, "must be one of {choices}")
    lists = {field: _list(params, name) for name, field in LISTS.items() if name != "platforms"}
    filters = {"PLATFORM": platforms, **lists}
    return start, end, Granularity.parse(GRAINS[granularity]), filters, group_by


# -- data ---------------------------------------------------------------------------------------
def _leaf(counters: Counters, name: str, leaf: dict[str, Any]) -> np.ndarray:
    """One leaf's five-minute MB (``mb``) or request counts (``req``), integers."""
    scale = SCALES[leaf["PLATFORM"]] * (40 if name == "req" else 1)
    key = f"stackpath|{leaf['SITE']}|{leaf['POP']}|{leaf['PLATFORM']}|{name}"
    return counters.series(key, scale)


def _columns(
    leaves: Sequence[dict[str, Any]], starts: np.ndarray, ends: np.ndarray, now: int
) -> dict[str, np.ndarray]:
    """Every metric column per bucket of ``leaves`` together, from their five-minute cells."""
    cells = np.arange(int(starts[0]), min(int(ends[-1]), FINALITY.horizon(now)), FIVE)
    counters = Counters(cells, cells + FIVE, _leaf)
    mb, req = counters.total("mb", leaves), counters.total("req", leaves)
    buckets = BucketCells(cells, starts, ends)
    total, requests = buckets.total(mb), buckets.total(req)
    # retries counted per leaf, so a group's attempted MB is the sum of its leaves'
    retried = sum((np.floor(_leaf(counters, "mb", leaf) / 50) for leaf in leaves), 0 * mb)
    attempted = total + buckets.total(retried)
    duration = requests / 4.0
    completed_of = requests + buckets.total(np.floor(req / 100))
    seconds = (ends - starts).astype(float)
    rate, rps5 = mb * 8 / FIVE, req / FIVE
    rate_max, rps_max = buckets.peak(rate), buckets.peak(rps5)
    rate_mean, rps_mean = total * 8 / (FIVE * buckets.counts), requests / (FIVE * buckets.counts)
    return {
        TIME_COLUMN: starts.astype(float),
        "xferUsedTotalMB": total,
        "xferUsedMinMB": buckets.low(mb),
        "xferUsedMaxMB": buckets.peak(mb),
        "xferUsedMeanMB": total / buckets.counts,
        "xferAttemptedTotalMB": attempted,
        "durationTotal": duration,
        "xferRateMaxMbps": rate_max,
        "xferRateMaxUsageTime": buckets.peak_at(rate).astype(float),
        "xferRateMinMbps": buckets.low(rate),
        "xferRateMinUsageTime": buckets.low_at(rate).astype(float),
        "xferRateMeanMbps": rate_mean,
        "requestsCountTotal": requests,
        "requestsCountMin": buckets.low(req),
        "requestsCountMax": buckets.peak(req),
        "requestsCountMean": requests / buckets.counts,
        "rpsMax": rps_max,
        "rpsMaxUsageTime": buckets.peak_at(rps5).astype(float),
        "rpsMin": buckets.low(rps5),
        "rpsMinUsageTime": buckets.low_at(rps5).astype(float),
        "rpsMean": rps_mean,
        "lastUpdatedTime": FINALITY.clip(ends, now).astype(float),
        "xferRateMbps": total * 8 / seconds,
        "rps": requests / seconds,
        # StackPath writes 0 for a ratio over nothing
        "userXferRateMbps": np.nan_to_num(ratio(total * 8, duration)),
        "completionRatio": np.nan_to_num(ratio(requests, completed_of)),
        "responseSizeMeanMB": np.nan_to_num(ratio(total, requests)),
        "peakToMeanMBRatio": np.nan_to_num(ratio(rate_max, rate_mean)),
        "peakToMeanRequestsRatio": np.nan_to_num(ratio(rps_max, rps_mean)),
    }


def _number(name: str, value: float, millis: bool) -> int | float:
    if name == TIME_COLUMN or name in TIME_METRICS:
        return int(value) * 1000 if millis else int(value)
    rounded = float(f"{value:.10g}")  # ten significant digits, like a JSON API would send
    return int(rounded) if rounded.is_integer() else rounded


def _metrics(request: httpx.Request, stack: str, now: int, millis: bool) -> httpx.Response:
    """Answer one metrics request for ``stack``."""
    start, end, grain, filters, group_by = _parse(request.url.params, now)
    starts, ends = FINALITY.spanning(grain, start, end, now)
    leaves = select(LEAVES, filters)
    if len(starts) == 0 or not leaves:
        return json_response(200, {"series": []})
    one = {"NONE": stack, "ACCOUNT": "emulated-account"}.get(group_by)  # a single group
    names = [TIME_COLUMN, *METRIC_NAMES]
    series = []
    for key, members in grouped(leaves, lambda leaf: one or leaf[group_by]).items():
        columns = _columns(members, starts, ends, now)
        rows = np.column_stack([columns[n] for n in names]).tolist()
        samples = [
            {"values": [_number(n, v, millis) for n, v in zip(names, row, strict=True)]}
            for row in rows
        ]
        series.append({"type": "SERIES", "key": key, "metrics": names, "samples": samples})
    return json_response(200, {"series": series})


def _expected(
    metric: str, start: int, end: int, step: int, now: int, where: Mapping[str, Sequence[str]]
) -> dict[int, float]:
    """Totals of counter ``metric`` of one stack (every stack has the same data), the leaves
    matching ``where`` taken as one group (``group_by=NONE``); no ``platform`` is the
    provider's default scope, ``platforms=CDE``. As the API does, a bucket is present once its
    first five-minute cell is complete, holding the complete cells before now."""
    if metric not in COUNTERS:
        raise ValueError(f"{metric!r} is not a counter of the StackPath emulator")
    if step % FIVE:
        raise ValueError(f"step {step} is not a whole number of five-minute sub-buckets")
    filters = {
        "platform": (DEFAULT_PLATFORM,),
        **scope(where, [*_LEAF_FIELDS, "stack"], "StackPath"),
    }
    filters.pop("stack", None)
    leaves = select(LEAVES, {_LEAF_FIELDS[name]: values for name, values in filters.items()})
    return FINALITY.totals(
        start, end, step, now, lambda t: _columns(leaves, t, t + step, now)[metric]
    )


# -- the gateway --------------------------------------------------------------------------------
class StackPathEmulator(EmulatorBase):
    """Answers StackPath gateway requests like the vendor (paths, validation, errors)."""

    label = "StackPath"

    def __init__(self, now: Callable[[], float], *, ttl: int = 3600, millis: bool = False) -> None:
        self.now = now
        self.datasets = {"cdn": _expected}
        self.millis = millis  # answer timestamps in milliseconds instead of seconds
        self.issuer = TokenIssuer(now, ttl=ttl)
        self.metric_calls = 0  # metrics requests received (authorized or not)
        self.revoke_on_call: int | None = None
        self._lock = threading.Lock()
        self.routes = (  # gRPC 3 (400) for another method on the token path, else 5 (404)
            RouteTable(lambda status, message: rpc_error(3 if status == 400 else 5, message))
            .add("POST", TOKEN_PATH, self._token, wrong_method_status=400)
            .add("GET", "/cdn/v1/stacks/{stack}/metrics", self._stack, wrong_method_status=404)
        )

    # -- tokens -------------------------------------------------------------------------
    @property
    def ttl(self) -> int:
        return self.issuer.ttl

    @property
    def token_calls(self) -> int:
        """Token requests received, granted or not."""
        return self.issuer.calls

    @property
    def tokens(self) -> dict[str, float]:
        """Token → expiry on the emulator's clock."""
        return self.issuer.tokens

    def revoke(self) -> None:
        """Invalidate every token issued so far (as an expiry or a revocation would)."""
        self.issuer.revoke()

    def _token(self, request: httpx.Request) -> httpx.Response:
        try:
            return json_response(200, self.issuer.grant(request))
        except TokenRefused as exc:
            return rpc_error(REFUSAL_CODES[exc.error], exc.message, exc.fields or None)

    # -- routing ------------------------------------------------------------------------
    def _stack(self, request: httpx.Request, stack: str) -> httpx.Response:
        with self._lock:
            self.metric_calls += 1
            if self.metric_calls == self.revoke_on_call:
                self.issuer.revoke()
        if not self.issuer.valid(request):
            return rpc_error(16, "the access token is missing, invalid or expired")
        stack = unquote(stack)
        if stack == "forbidden":
            return rpc_error(7, f"the API client may not read stack {stack!r}")
        if stack == "missing":
            return rpc_error(5, f"stack {stack!r} not found")
        try:
            return _metrics(request, stack, int(self.now()), self.millis)
        except BadRequest as error:
            return rpc_error(3, "invalid request", {str(error.field): error.message})

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        # stack IDs are matched on the raw path, so an encoded %2F stays inside the ID
        raw = path if path == TOKEN_PATH else request.url.raw_path.decode("ascii").split("?")[0]
        return self.routes.dispatch(request, raw, shown=path)
