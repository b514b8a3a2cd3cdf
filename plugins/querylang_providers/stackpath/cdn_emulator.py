"""Emulates ``GET /cdn/v1/stacks/{stack}/metrics`` for a small synthetic stack.

Three sites served from seven POPs (four billing regions) on six platforms with traffic.
Every bucket is computed from five-minute sub-buckets of integer MB and requests, so a
coarse bucket's totals equal the sum of the finer ones and the Min/Max/Mean columns are
exact over the five-minute sub-buckets. Only complete five-minute sub-buckets before now
have data. ``end_date`` is treated as inclusive (a bucket starting at it is returned),
so clients must trim; a date in the future is refused, as is any unknown parameter.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import numpy as np

from querylang.emulation import json_response, synthetic_totals
from querylang.timegrid import Granularity
from querylang_providers.stackpath.catalog import (
    DEFAULT_PLATFORM,
    GRPC_HTTP_STATUS,
    METRIC_NAMES,
    PLATFORMS,
    TIME_COLUMN,
    TIME_METRICS,
)

__all__ = ["LEAVES", "SITES", "expected", "handle", "rpc_error"]

FIVE = 300
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
KNOWN_PARAMS = frozenset(
    {
        "start_date",
        "end_date",
        "granularity",
        "platforms",
        "pops",
        "billing_regions",
        "sites",
        "group_by",
        "site_type_filter",
    }
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


class _Invalid(ValueError):
    """A parameter the API would refuse (gRPC 3)."""

    def __init__(self, field: str, description: str) -> None:
        super().__init__(f"{field}: {description}")
        self.field = field
        self.description = description


def rpc_error(code: int, message: str, violations: dict[str, str] | None = None) -> httpx.Response:
    """A gRPC-style error body with the HTTP status the gateway pairs with ``code``."""
    details: list[dict[str, Any]] = []
    if violations:
        fields = [{"field": f, "description": d} for f, d in violations.items()]
        details.append({"@type": "stackpath.rpc.BadRequest", "fieldViolations": fields})
    body = {"code": code, "message": message, "details": details}
    return json_response(GRPC_HTTP_STATUS.get(code, 500), body)


def _bad(error: _Invalid) -> httpx.Response:
    return rpc_error(3, "invalid request", {error.field: error.description})


def _date(params: httpx.QueryParams, name: str, default: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    if not _DATE.match(text):
        raise _Invalid(name, "must be formatted as YYYY-MM-DDTHH:MM:SSZ")
    try:
        return int(
            dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC).timestamp()
        )
    except ValueError:
        raise _Invalid(name, "is not a valid date") from None


def _list(params: httpx.QueryParams, name: str) -> list[str] | None:
    text = params.get(name)
    if text is None:
        return None
    items = [v.strip() for v in text.split(",")]
    if not all(items):
        raise _Invalid(name, "must be a comma-separated list without empty items")
    return items


def _parse(params: httpx.QueryParams, now: int) -> dict[str, Any]:
    unknown = sorted(set(params.keys()) - KNOWN_PARAMS)
    if unknown:
        raise _Invalid(unknown[0], "unknown query parameter")
    end = _date(params, "end_date", now)
    start = _date(params, "start_date", end - 86400)
    if end > now + 60:
        raise _Invalid("end_date", "must not be in the future")
    if end <= start:
        raise _Invalid("end_date", "must be after start_date")
    granularity = params.get("granularity", "AUTO")
    if granularity == "AUTO":
        granularity = (
            "PT5M" if end - start <= 86400 else "PT1H" if end - start <= 31 * 86400 else "P1D"
        )
    if granularity not in GRAINS:
        raise _Invalid("granularity", "must be one of AUTO, PT5M, PT1H, P1D, P1M")
    platforms = _list(params, "platforms")
    bad = [p for p in platforms or () if p not in PLATFORMS]
    if bad:
        raise _Invalid("platforms", f"unknown platform {bad[0]!r}")
    group_by = params.get("group_by", "NONE")
    if group_by not in GROUPS:
        raise _Invalid("group_by", f"must be one of {', '.join(GROUPS)}")
    if params.get("site_type_filter", "ALL") not in SITE_TYPES:
        raise _Invalid("site_type_filter", f"must be one of {', '.join(SITE_TYPES)}")
    return {
        "start": start,
        "end": end,
        "grain": Granularity.parse(GRAINS[granularity]),
        "filters": {
            "PLATFORM": platforms,
            "SITE": _list(params, "sites"),
            "POP": _list(params, "pops"),
            "REGION": _list(params, "billing_regions"),
        },
        "group_by": group_by,
    }


def _leaf_five(leaf: dict[str, Any], starts: np.ndarray) -> dict[str, np.ndarray]:
    """One leaf's five-minute MB and request counts (integers)."""
    key = f"stackpath|{leaf['SITE']}|{leaf['POP']}|{leaf['PLATFORM']}"
    scale = SCALES[leaf["PLATFORM"]]
    mb = synthetic_totals(f"{key}|mb", starts, starts + FIVE, scale)
    req = synthetic_totals(f"{key}|req", starts, starts + FIVE, scale * 40)
    return {"mb": mb, "req": req}


def _extreme(
    values: np.ndarray, bounds: np.ndarray, *, use_max: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Per segment [bounds[i], bounds[i+1]): the extreme value and the first index of it."""
    reduce = np.maximum if use_max else np.minimum
    extreme = reduce.reduceat(values, bounds[:-1])
    lengths = np.diff(bounds)
    hit = values == np.repeat(extreme, lengths)
    index = np.where(hit, np.arange(len(values)), len(values))
    return extreme, np.minimum.reduceat(index, bounds[:-1])


def _bucket_rows(
    five: dict[str, np.ndarray],
    subs: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    horizon: int,
) -> list[dict[str, float]]:
    """Bucket values from the group's five-minute sub-buckets (``subs``: their starts)."""
    # Every bucket starts on the five-minute grid before the horizon: no segment is empty.
    seg = np.searchsorted(subs, np.concatenate([starts, ends[-1:]]))
    mb, req = five["mb"].astype(float), five["req"].astype(float)
    lengths = np.diff(seg)
    total = np.add.reduceat(mb, seg[:-1])
    requests = np.add.reduceat(req, seg[:-1])
    attempted = total + np.add.reduceat(np.floor(mb / 50), seg[:-1])
    duration = requests / 4.0
    completed_of = requests + np.add.reduceat(np.floor(req / 100), seg[:-1])
    seconds = (ends - starts).astype(float)
    rate, rps5 = mb * 8 / FIVE, req / FIVE
    rate_max, rate_max_at = _extreme(rate, seg, use_max=True)
    rate_min, rate_min_at = _extreme(rate, seg, use_max=False)
    rps_max, rps_max_at = _extreme(rps5, seg, use_max=True)
    rps_min, rps_min_at = _extreme(rps5, seg, use_max=False)
    mb_max, _ = _extreme(mb, seg, use_max=True)
    mb_min, _ = _extreme(mb, seg, use_max=False)
    req_max, _ = _extreme(req, seg, use_max=True)
    req_min, _ = _extreme(req, seg, use_max=False)
    rate_mean, rps_mean = total * 8 / (FIVE * lengths), requests / (FIVE * lengths)
    with np.errstate(invalid="ignore", divide="ignore"):
        columns = {
            TIME_COLUMN: starts.astype(float),
            "xferUsedTotalMB": total,
            "xferUsedMinMB": mb_min,
            "xferUsedMaxMB": mb_max,
            "xferUsedMeanMB": total / lengths,
            "xferAttemptedTotalMB": attempted,
            "durationTotal": duration,
            "xferRateMaxMbps": rate_max,
            "xferRateMaxUsageTime": subs[rate_max_at].astype(float),
            "xferRateMinMbps": rate_min,
            "xferRateMinUsageTime": subs[rate_min_at].astype(float),
            "xferRateMeanMbps": rate_mean,
            "requestsCountTotal": requests,
            "requestsCountMin": req_min,
            "requestsCountMax": req_max,
            "requestsCountMean": requests / lengths,
            "rpsMax": rps_max,
            "rpsMaxUsageTime": subs[rps_max_at].astype(float),
            "rpsMin": rps_min,
            "rpsMinUsageTime": subs[rps_min_at].astype(float),
            "rpsMean": rps_mean,
            "lastUpdatedTime": np.minimum(ends, horizon).astype(float),
            "xferRateMbps": total * 8 / seconds,
            "userXferRateMbps": np.where(duration > 0, total * 8 / duration, 0.0),
            "rps": requests / seconds,
            "completionRatio": np.where(completed_of > 0, requests / completed_of, 0.0),
            "responseSizeMeanMB": np.where(requests > 0, total / requests, 0.0),
            "peakToMeanMBRatio": np.where(rate_mean > 0, rate_max / rate_mean, 0.0),
            "peakToMeanRequestsRatio": np.where(rps_mean > 0, rps_max / rps_mean, 0.0),
        }
    names = [TIME_COLUMN, *METRIC_NAMES]
    return [{n: float(columns[n][i]) for n in names} for i in range(len(starts))]


def _number(name: str, value: float, millis: bool) -> int | float:
    if name == TIME_COLUMN or name in TIME_METRICS:
        return int(value) * 1000 if millis else int(value)
    rounded = float(f"{value:.10g}")  # ten significant digits, like a JSON API would send
    return int(rounded) if rounded.is_integer() else rounded


def handle(request: httpx.Request, stack: str, now: int, *, millis: bool = False) -> httpx.Response:
    """Answer one metrics request for ``stack``."""
    try:
        query = _parse(request.url.params, now)
    except _Invalid as error:
        return _bad(error)
    grain: Granularity = query["grain"]
    horizon = now - now % FIVE  # only complete five-minute sub-buckets have data
    first = grain.floor(query["start"])
    starts = np.array(
        [t for t in grain.boundaries(first, query["end"] + 1) if t < horizon], dtype=np.int64
    )
    filters = query["filters"]
    leaves = [
        leaf
        for leaf in LEAVES
        if all(values is None or leaf[field] in values for field, values in filters.items())
    ]
    if len(starts) == 0 or not leaves:
        return json_response(200, {"series": []})
    ends = np.array([grain.add(int(t)) for t in starts], dtype=np.int64)
    subs = np.arange(int(starts[0]), min(int(ends[-1]), horizon), FIVE, dtype=np.int64)
    group_by = query["group_by"]
    groups: dict[str, dict[str, np.ndarray]] = {}
    for leaf in leaves:
        key = {"NONE": stack, "ACCOUNT": "emulated-account"}.get(group_by) or leaf[group_by]
        five = _leaf_five(leaf, subs)
        acc = groups.setdefault(key, {k: np.zeros(len(subs), np.int64) for k in five})
        for name, values in five.items():
            acc[name] += values
    names = [TIME_COLUMN, *METRIC_NAMES]
    series = []
    for key, five in groups.items():
        rows = _bucket_rows(five, subs, starts, ends, horizon)
        samples = [{"values": [_number(n, row[n], millis) for n in names]} for row in rows]
        series.append({"type": "SERIES", "key": key, "metrics": names, "samples": samples})
    return json_response(200, {"series": series})


COUNTERS = ("xferUsedTotalMB", "xferAttemptedTotalMB", "durationTotal", "requestsCountTotal")
_LEAF_FIELDS = {"site": "SITE", "pop": "POP", "billing_region": "REGION", "platform": "PLATFORM"}


def expected(
    metric: str,
    start: int,
    end: int,
    step: int,
    now: int,
    where: Mapping[str, Sequence[str]] | None = None,
) -> dict[int, float]:
    """The emulator's own totals of counter ``metric`` per bucket [t, t + step).

    One stack (every stack has the same data), the leaves matching ``where`` taken as one
    group (``group_by=NONE``); None is the provider's default scope, ``platforms=CDE``.
    As the API does, a bucket is present once its first five-minute sub-bucket is complete,
    holding the complete sub-buckets before now; later buckets are absent.
    """
    if metric not in COUNTERS:
        raise ValueError(f"{metric!r} is not a counter of the StackPath emulator")
    if step % FIVE:
        raise ValueError(f"step {step} is not a whole number of five-minute sub-buckets")
    filters = {"platform": (DEFAULT_PLATFORM,), **(where or {})}
    filters.pop("stack", None)
    unknown = sorted(set(filters) - set(_LEAF_FIELDS))
    if unknown:
        raise ValueError(f"the StackPath emulator has no dimension {unknown[0]!r}")
    leaves = [
        leaf
        for leaf in LEAVES
        if all(leaf[_LEAF_FIELDS[name]] in values for name, values in filters.items())
    ]
    horizon = now - now % FIVE
    starts = np.array([t for t in range(start, end, step) if t < horizon], np.int64)
    if len(starts) == 0:
        return {}
    subs = np.arange(int(starts[0]), min(int(starts[-1]) + step, horizon), FIVE, dtype=np.int64)
    mb = np.zeros(len(subs), np.int64)
    req = np.zeros(len(subs), np.int64)
    for leaf in leaves:
        five = _leaf_five(leaf, subs)
        mb, req = mb + five["mb"], req + five["req"]
    out: dict[int, float] = {}
    for t in starts.tolist():
        inside = (subs >= t) & (subs < t + step)
        m, r = mb[inside].astype(float), req[inside].astype(float)
        values = {
            "xferUsedTotalMB": m.sum(),
            "xferAttemptedTotalMB": m.sum() + np.floor(m / 50).sum(),
            "durationTotal": r.sum() / 4.0,
            "requestsCountTotal": r.sum(),
        }
        out[int(t)] = float(values[metric])
    return out
