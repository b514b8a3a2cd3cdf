"""Emulates ``GET /cdn/statistics/series`` for a small synthetic account.

The account has three CDN resources served from seven regions, two countries each, over
HTTP and HTTPS. Validation follows the document: required parameters, known metrics and
groupings, the 365-day history, ``1m`` only for the last 31 days, the two time metrics
requested apart. Like the real API it answers 204 when there is no data. The ``to``
bound is treated as inclusive (the pessimistic reading), so clients must trim.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import httpx
import numpy as np

from querylang.emulation import json_response, synthetic_totals
from querylang.timegrid import Granularity
from querylang_providers.gcore.catalog import CDN_METRICS as METRICS
from querylang_providers.gcore.catalog import CDN_PATH as PATH
from querylang_providers.gcore.catalog import REGIONS, SEPARATE

__all__ = ["LEAVES", "PATH", "expected", "handle"]

DAY = 86400
RESOURCES = {1: "cdn.example.com", 2: "static.example.com", 4777: "video.example.com"}
COUNTRIES = {
    "na": ("United States", "Canada"),
    "eu": ("Germany", "France"),
    "asia": ("Japan", "Singapore"),
    "cis": ("Kazakhstan", "Armenia"),
    "latam": ("Brazil", "Mexico"),
    "me": ("United Arab Emirates", "Israel"),
    "au": ("Australia", "New Zealand"),
}
GROUPS = ("resource", "region", "country", "vhost", "client_country", "protocol")
SCALES = {
    "sent_bytes": 2_000_000,
    "upstream_bytes": 80_000,
    "shield_bytes": 150_000,
    "backblaze_bytes": 5_000,
    "responses_hit": 400,
    "responses_miss": 40,
    "responses_2xx": 380,
    "responses_3xx": 30,
    "responses_4xx": 25,
    "responses_5xx": 5,
    "image_processed": 10,
    "response_types": 300,
    "request_time": 120,
    "upstream_response_time": 60,
}
KNOWN = {m.name for m in METRICS}
COUNTERS = {m.name for m in METRICS if m.kind == "counter"}


def _leaves() -> list[dict[str, Any]]:
    out = []
    for (rid, vhost), (region, countries), proto in itertools.product(
        RESOURCES.items(), COUNTRIES.items(), ("HTTP", "HTTPS")
    ):
        for country in countries:
            out.append(
                {
                    "resource": rid,
                    "vhost": vhost,
                    "region": region,
                    "country": country,
                    "client_country": country,
                    "protocol": proto,
                }
            )
    return out


LEAVES = _leaves()


def _bad(message: str) -> httpx.Response:
    return json_response(400, {"message": message})


def _time(value: str | None, name: str) -> int:
    if not value:
        raise ValueError(f"{name} is required")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} must be ISO 8601 / RFC 3339, got {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp())


def _leaf_values(leaf: dict[str, Any], metric: str, starts: np.ndarray, ends: np.ndarray):
    key = f"{leaf['resource']}|{leaf['region']}|{leaf['country']}|{leaf['protocol']}"

    def s(name: str) -> np.ndarray:
        return synthetic_totals(f"gcore|{key}|{name}", starts, ends, SCALES[name]).astype(float)

    if metric == "requests":
        return s("responses_hit") + s("responses_miss")
    if metric == "total_bytes":
        return s("sent_bytes") + s("shield_bytes") + s("upstream_bytes")
    if metric == "cdn_bytes":
        return s("sent_bytes") + s("shield_bytes")
    if metric in SEPARATE:
        return s(metric) / ((ends - starts) / 60.0)  # a per-bucket average, in ms
    return s(metric)


def _group_values(
    leaves: list[dict[str, Any]], metric: str, starts: np.ndarray, ends: np.ndarray
) -> np.ndarray:
    parts = {
        "cache_hit_traffic_ratio": (("sent_bytes", 1), ("upstream_bytes", -1)),
        "cache_hit_requests_ratio": (("responses_hit", 1),),
        "shield_traffic_ratio": (("shield_bytes", 1), ("upstream_bytes", -1)),
    }
    denominators = {
        "cache_hit_traffic_ratio": "sent_bytes",
        "cache_hit_requests_ratio": "requests",
        "shield_traffic_ratio": "shield_bytes",
    }
    if metric in parts:
        num = sum(c * _group_values(leaves, m, starts, ends) for m, c in parts[metric])
        den = _group_values(leaves, denominators[metric], starts, ends)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.round(num / den, 4)
    total = sum(_leaf_values(leaf, metric, starts, ends) for leaf in leaves)
    if metric in SEPARATE:
        return np.round(total / len(leaves), 2)  # "the average of this amount is calculated"
    return total


def _nest(
    groups: dict[tuple[Any, ...], dict[str, list[list[Any]]]], group_by: list[str]
) -> dict[str, Any]:
    if not group_by:
        return {"metrics": groups.get((), {})}
    root: dict[str, Any] = {}
    for key, metrics in groups.items():
        node = root
        for level, value in zip(group_by, key, strict=True):
            node = node.setdefault(level, {}).setdefault(str(value), {})
        node["metrics"] = metrics
    return root


def _values_of(params: httpx.QueryParams, name: str) -> list[str]:
    return [v for v in params.get_list(name) if v != ""]


def handle(request: httpx.Request, now: int) -> httpx.Response:
    """Answer one statistics request."""
    params = request.url.params
    if params.get("service") != "CDN":
        return _bad("service is required and must be CDN")
    try:
        start = _time(params.get("from"), "from")
        end = _time(params.get("to"), "to")
    except ValueError as exc:
        return _bad(str(exc))
    if end <= start:
        return _bad("to must be later than from")
    grain_text = params.get("granularity")
    if grain_text not in ("1m", "5m", "15m", "1h", "1d"):
        return _bad("granularity must be one of 1m, 5m, 15m, 1h, 1d")
    if start < now - 365 * DAY:
        return _bad("statistics are available for up to 365 days starting today")
    if grain_text == "1m" and start < now - 31 * DAY:
        return _bad("1m granularity is available only for up to 1 month in the past")
    metrics = _values_of(params, "metrics")
    if not metrics:
        return _bad("metrics is required")
    unknown = [m for m in metrics if m not in KNOWN]
    if unknown:
        return _bad(f"unknown metrics: {', '.join(unknown)}")
    if any(m in SEPARATE for m in metrics) and len(metrics) > 1:
        return _bad("upstream_response_time and request_time must be requested separately")
    group_by = _values_of(params, "group_by")
    bad_groups = [g for g in group_by if g not in GROUPS]
    if bad_groups:
        return _bad(f"unknown group_by: {', '.join(bad_groups)}")
    regions = _values_of(params, "regions")
    if any(r not in REGIONS for r in regions):
        return _bad(f"unknown region in {regions}")
    try:
        resources = {int(r) for r in _values_of(params, "resource")}
    except ValueError:
        return _bad("resource must be an integer ID")
    countries = {c.lower() for c in _values_of(params, "countries")}

    leaves = [
        leaf
        for leaf in LEAVES
        if (not resources or leaf["resource"] in resources)
        and (not regions or leaf["region"] in regions)
        and (not countries or leaf["country"].lower() in countries)
    ]
    grain = Granularity.parse(grain_text)
    first = grain.floor(start)
    starts = np.array(
        [t for t in grain.boundaries(first, end + 1) if grain.add(t) <= now], dtype=np.int64
    )
    if not leaves or len(starts) == 0:
        return httpx.Response(204)
    ends = np.array([grain.add(int(t)) for t in starts], dtype=np.int64)

    by_group: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for leaf in leaves:
        by_group.setdefault(tuple(leaf[g] for g in group_by), []).append(leaf)
    out: dict[tuple[Any, ...], dict[str, list[list[Any]]]] = {}
    for key, members in by_group.items():
        out[key] = {m: _points(starts, _group_values(members, m, starts, ends)) for m in metrics}
    return json_response(200, _nest(out, group_by))


def _points(starts: Iterable[int], values: np.ndarray) -> list[list[Any]]:
    out = []
    for t, v in zip(starts, values.tolist(), strict=True):
        if v != v:  # NaN: a ratio over nothing
            out.append([int(t), 0])
        else:
            out.append([int(t), int(v) if float(v).is_integer() else v])
    return out


def _matches(leaf: dict[str, Any], where: Mapping[str, Sequence[str]]) -> bool:
    for name, values in where.items():
        if name not in leaf:
            raise ValueError(f"the Gcore CDN emulator has no dimension {name!r}")
        wanted = {str(v).lower() for v in values}
        if str(leaf[name]).lower() not in wanted:
            return False
    return True


def expected(
    metric: str,
    start: int,
    end: int,
    step: int,
    now: int,
    where: Mapping[str, Sequence[str]] | None = None,
) -> dict[int, float]:
    """The emulator's own totals of counter ``metric`` per bucket [t, t + step).

    Summed over every leaf matching ``where``; a bucket ending after ``now`` is absent,
    as the API answers only complete buckets.
    """
    if metric not in COUNTERS:
        raise ValueError(f"{metric!r} is not a counter of the Gcore CDN emulator")
    leaves = [leaf for leaf in LEAVES if _matches(leaf, where or {})]
    starts = np.array([t for t in range(start, end, step) if t + step <= now], dtype=np.int64)
    if len(starts) == 0:
        return {}
    ends = starts + step
    total = sum(
        (_leaf_values(leaf, metric, starts, ends) for leaf in leaves), np.zeros(len(starts))
    )
    return {int(t): float(v) for t, v in zip(starts.tolist(), total.tolist(), strict=True)}
