"""An emulator of Gcore's statistics APIs: same paths, parameters, validation and shapes.

Authentication: any non-empty ``Authorization: APIKey <token>`` is accepted except the
token ``invalid``, which gets the 401 a revoked key gets. An unknown path, or a known one
asked with another method, is a 404. Data is deterministic
(:func:`querylang.emulation.synthetic_totals`), so every granularity agrees with every other.

``GET /cdn/statistics/series``: three CDN resources served from seven regions, two
countries each, over HTTP and HTTPS. Validation follows the document: required parameters,
known metrics and groupings, the 365-day history, ``1m`` only for the last 31 days, the two
time metrics requested apart; errors are ``400 {"message": …}``. Like the real API it
answers 204 when there is no data. ``to`` is read as inclusive (the pessimistic reading).

``POST /storage/stats/v1/storage/usage/series``: two clients, storages in ``s-region-1``
and ``s-region-2``, two or three buckets each. The body must be a JSON object; ``from``/``to``
are required ``YYYY-MM-DD`` dates with ``to`` not before ``from`` (``to`` is the whole day);
``granularity`` is one of 1h, 12h, 24h; ``locations``/``storages`` are lists of strings;
``ts_string`` a boolean; ``source`` (an integer) is deprecated and ignored, as are unknown
fields. Errors are ``400 {"error": …}``. A storage's size and a bucket's file count are
levels constant within each UTC hour, so ``size_max`` and ``bucket_files`` of a coarse
bucket are the max of its hours, ``size_mean`` their mean and ``size_bytes_hour`` their sum.

Both answer only complete buckets, never data after ``now``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

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
    accepted,
    grouped,
    iso_time,
    json_bool,
    json_int,
    json_object,
    json_response,
    json_strings,
    known,
    nest,
    one_of,
    points,
    ratio,
    required,
    scheme_token,
    scope,
    select,
    synthetic_levels,
    synthetic_totals,
)
from querylang.timegrid import Granularity, format_ts
from querylang_providers.gcore.catalog import CDN_METRICS as METRICS
from querylang_providers.gcore.catalog import CDN_PATH, REGIONS, SEPARATE, STORAGE_PATH

__all__ = ["LEAVES", "STORAGES", "GcoreEmulator"]

DAY = 86400
HOUR = 3600


# -- CDN: GET /cdn/statistics/series ---------------------------------------------------------
RESOURCES = {1: "cdn.example.com", 2: "static.example.com", 4777: "video.example.com"}
COUNTRIES = {
    "na": ("United States", "Canada"), "eu": ("Germany", "France"),
    "asia": ("Japan", "Singapore"), "cis": ("Kazakhstan", "Armenia"),
    "latam": ("Brazil", "Mexico"), "me": ("United Arab Emirates", "Israel"),
    "au": ("Australia", "New Zealand"),
}  # fmt: skip
GROUPS = ("resource", "region", "country", "vhost", "client_country", "protocol")
SCALES = {  # per minute, per leaf
    "sent_bytes": 2_000_000, "upstream_bytes": 80_000, "shield_bytes": 150_000,
    "backblaze_bytes": 5_000, "responses_hit": 400, "responses_miss": 40, "responses_2xx": 380,
    "responses_3xx": 30, "responses_4xx": 25, "responses_5xx": 5, "image_processed": 10,
    "response_types": 300, "request_time": 120, "upstream_response_time": 60,
}  # fmt: skip
SUMS = {  # metrics the API sums from others
    "requests": ("responses_hit", "responses_miss"),
    "total_bytes": ("sent_bytes", "shield_bytes", "upstream_bytes"),
    "cdn_bytes": ("sent_bytes", "shield_bytes"),
}
RATIOS = {  # ratio → (numerator terms with their signs, denominator)
    "cache_hit_traffic_ratio": ((("sent_bytes", 1), ("upstream_bytes", -1)), "sent_bytes"),
    "cache_hit_requests_ratio": ((("responses_hit", 1),), "requests"),
    "shield_traffic_ratio": ((("shield_bytes", 1), ("upstream_bytes", -1)), "shield_bytes"),
}
KNOWN = {m.name for m in METRICS}
COUNTERS = {m.name for m in METRICS if m.kind == "counter"}
GRAINS = ("1m", "5m", "15m", "1h", "1d")
LEAVES: list[dict[str, Any]] = [
    {"resource": rid, "vhost": vhost, "region": region, "country": country,
     "client_country": country, "protocol": proto}
    for (rid, vhost), (region, countries), proto in itertools.product(
        RESOURCES.items(), COUNTRIES.items(), ("HTTP", "HTTPS"))
    for country in countries
]  # fmt: skip
TIME = {
    "missing": "{name} is required",
    "invalid": "{name} must be ISO 8601 / RFC 3339, got {value!r}",
}


def _base(counters: Counters, name: str, leaf: dict[str, Any]) -> np.ndarray:
    """Base metric ``name`` of one leaf per bucket (the API sums the others, ``SUMS``)."""
    key = f"gcore|{leaf['resource']}|{leaf['region']}|{leaf['country']}|{leaf['protocol']}"
    values = counters.series(f"{key}|{name}", SCALES[name])
    if name in SEPARATE:
        return values / ((counters.ends - counters.starts) / 60.0)  # a per-bucket average, in ms
    return values


def _group_values(leaves: list[dict[str, Any]], metric: str, counters: Counters) -> Any:
    if metric in RATIOS:
        terms, denominator = RATIOS[metric]
        num = sum(c * _group_values(leaves, m, counters) for m, c in terms)
        return np.round(ratio(num, _group_values(leaves, denominator, counters)), 4)
    total = counters.total(metric, leaves)
    if metric in SEPARATE:
        return np.round(total / len(leaves), 2)  # "the average of this amount is calculated"
    return total


def _values_of(params: httpx.QueryParams, name: str) -> list[str]:
    return [v for v in params.get_list(name) if v != ""]


def _cdn(request: httpx.Request, now: int) -> httpx.Response:
    """Answer one CDN statistics request."""
    p = request.url.params
    one_of("service", p.get("service"), ("CDN",), "service is required and must be CDN")
    start, end = iso_time("from", p.get("from"), **TIME), iso_time("to", p.get("to"), **TIME)
    if end <= start:
        raise BadRequest("to must be later than from")
    grain = one_of(
        "granularity", p.get("granularity"), GRAINS, "granularity must be one of {choices}"
    )
    if start < now - 365 * DAY:
        raise BadRequest("statistics are available for up to 365 days starting today")
    if grain == "1m" and start < now - 31 * DAY:
        raise BadRequest("1m granularity is available only for up to 1 month in the past")
    metrics = required("metrics", _values_of(p, "metrics"))
    known("metrics", metrics, KNOWN, "unknown metrics: {unknown}")
    if any(m in SEPARATE for m in metrics) and len(metrics) > 1:
        raise BadRequest("upstream_response_time and request_time must be requested separately")
    group_by = known("group_by", _values_of(p, "group_by"), GROUPS, "unknown group_by: {unknown}")
    regions = known("regions", _values_of(p, "regions"), REGIONS, "unknown region in {value}")
    try:
        resources = {int(r) for r in _values_of(p, "resource")}
    except ValueError:
        raise BadRequest("resource must be an integer ID") from None
    where = {"resource": resources, "region": regions, "country": _values_of(p, "countries")}
    leaves = select(LEAVES, {k: v for k, v in where.items() if v}, fold_case=True)
    starts, ends = Finality().spanning(Granularity.parse(grain), start, end, now)
    if not leaves or len(starts) == 0:
        return httpx.Response(204)
    counters = Counters(starts, ends, _base, SUMS)
    out = {
        key: {m: points(starts, _group_values(members, m, counters), empty=0) for m in metrics}
        for key, members in grouped(leaves, lambda leaf: tuple(leaf[g] for g in group_by)).items()
    }
    return json_response(200, nest(out, group_by, "metrics"))


def _cdn_expected(
    metric: str, start: int, end: int, step: int, now: int, where: Mapping[str, Sequence[str]]
) -> dict[int, float]:
    """Totals of counter ``metric`` per bucket, over every leaf matching ``where``."""
    if metric not in COUNTERS:
        raise ValueError(f"{metric!r} is not a counter of the Gcore CDN emulator")
    leaves = select(LEAVES, scope(where, GROUPS, "Gcore CDN"), fold_case=True)
    return Finality().totals(
        start, end, step, now, lambda t: Counters(t, t + step, _base, SUMS).total(metric, leaves)
    )


# -- object storage: POST /storage/stats/v1/storage/usage/series ---------------------------
STORAGE_GRAINS = {"1h": HOUR, "12h": 12 * HOUR, "24h": DAY}
# (client, location, storage) → buckets
STORAGES: dict[tuple[int, str, str], tuple[str, ...]] = {
    (123, "s-region-1", "123-myStorage"): ("bucketA", "bucketB"),
    (123, "s-region-1", "123-backups"): ("daily", "weekly"),
    (123, "s-region-2", "123-media"): ("images", "videos", "bucketA"),
    (456, "s-region-2", "456-archive"): ("cold",),
}
STORAGE_COUNTERS = {  # per minute, per storage
    "traffic_in": 400_000, "traffic_out_edges": 1_500_000, "traffic_out_wo_edges": 300_000,
    "requests_in": 40, "requests_out_edges": 150, "requests_out_wo_edges": 30,
}  # fmt: skip
TOTALS = {
    "traffic": ("traffic_in", "traffic_out_edges", "traffic_out_wo_edges"),
    "requests": ("requests_in", "requests_out_edges", "requests_out_wo_edges"),
}
SIZE_BASE = 50_000_000_000  # storages hold 50, 100, … GB, moving a little each hour
FILES_BASE = 10_000
STORAGE_DIMENSIONS = {"client": 0, "location": 1, "storage": 2}
DATE = TimeFormat(
    ("%Y-%m-%d",),
    missing="{name} is required: a date as YYYY-MM-DD",
    invalid="invalid {name} date {value!r}: expected YYYY-MM-DD",
)
GRAIN = "invalid granularity {value!r}: valid values are {choices}"


def _storage_stats(storage: tuple[int, str, str], starts: np.ndarray, grain: int) -> Any:
    """Every series of one storage, one value per bucket at ``starts``."""
    key = f"gcore-storage|{storage[2]}"
    ends = starts + grain
    out: dict[str, Any] = {
        metric: synthetic_totals(f"{key}|{metric}", starts, ends, scale)
        for metric, scale in STORAGE_COUNTERS.items()
    }
    out.update({metric: sum(out[p] for p in parts) for metric, parts in TOTALS.items()})
    hours = BucketCells.grid(starts, grain, HOUR)  # the levels are hourly
    base = SIZE_BASE * (1 + list(STORAGES).index(storage))
    size = synthetic_levels(f"{key}|size", hours.cells, HOUR, base, 10_000)
    out.update(size_max=hours.peak(size), size_mean=hours.mean(size))
    out["size_bytes_hour"] = hours.total(size)
    out["buckets"] = {
        b: hours.peak(synthetic_levels(f"{key}|{b}", hours.cells, HOUR, FILES_BASE * (i + 1), 20))
        for i, b in enumerate(STORAGES[storage])
    }
    return out


def _storage_points(starts: np.ndarray, values: np.ndarray, ts_string: bool) -> list[list[Any]]:
    answer = points(starts, values)
    return [[format_ts(t), v] for t, v in answer] if ts_string else answer


def _sums(stats: list[dict[str, Any]]) -> dict[str, Any]:
    """The whole-period totals a level carries next to its children."""
    if not stats:
        return {}
    out = {f"{m}_sum": int(sum(s[m].sum() for s in stats)) for m in (*STORAGE_COUNTERS, *TOTALS)}
    out["size_sum_bytes_hour"] = int(sum(s["size_bytes_hour"].sum() for s in stats))
    out["size_sum_max"] = int(np.max(sum(s["size_max"] for s in stats)))
    out["size_sum_mean"] = int(np.mean(sum(s["size_mean"] for s in stats)))
    out["file_quantity_sum_max"] = int(np.max(sum(v for s in stats for v in s["buckets"].values())))
    return out


def _storage_node(name: str, stats: dict[str, Any], starts: np.ndarray, ts: bool) -> dict:
    node: dict[str, Any] = {"name": name, **_sums([stats])}
    for metric in (*TOTALS, *STORAGE_COUNTERS, "size_max", "size_mean", "size_bytes_hour"):
        node[f"{metric}_series"] = _storage_points(starts, stats[metric], ts)
    node["buckets_series"] = {
        b: _storage_points(starts, v, ts) for b, v in stats["buckets"].items()
    }
    return node


def _storage(request: httpx.Request, now: int) -> httpx.Response:
    """Answer one usage-series request."""
    body = json_object(request)
    start, last = DATE.read("from", body.get("from")), DATE.read("to", body.get("to"))
    if last < start:
        raise BadRequest("to must not be before from")
    grain = STORAGE_GRAINS[one_of("granularity", body.get("granularity"), STORAGE_GRAINS, GRAIN)]
    ts = json_bool("ts_string", body.get("ts_string", False), "ts_string must be a boolean")
    json_int("source", body.get("source"), "source must be an integer")  # deprecated, ignored
    locations, storages = (
        json_strings(n, body.get(n), "{name} must be a list of strings")
        for n in ("locations", "storages")
    )
    end = min(last + DAY, Finality(align=grain).horizon(now))  # ``to`` is a whole day
    starts = np.arange(start, max(end, start), grain, dtype=np.int64)  # complete buckets only
    stats = {  # (client, location, storage) → its series
        key: _storage_stats(key, starts, grain)
        for key in STORAGES
        if len(starts)
        if (locations is None or key[1] in locations) and (storages is None or key[2] in storages)
    }
    clients = {
        str(client): {
            "id": client,
            **_sums([stats[k] for k in keys]),
            "locations": {
                loc: {
                    "name": loc,
                    **_sums([stats[k] for k in members]),
                    "storages": {k[2]: _storage_node(k[2], stats[k], starts, ts) for k in members},
                }
                for loc, members in grouped(keys, lambda k: k[1]).items()
            },
        }
        for client, keys in grouped(stats, lambda k: k[0]).items()
    }
    return json_response(200, {"data": {"clients": clients}})


def _storage_expected(
    metric: str, start: int, end: int, step: int, now: int, where: Mapping[str, Sequence[str]]
) -> dict[int, float]:
    """Totals of counter ``metric`` per bucket, over every storage matching ``where``.

    The counters are per storage, so ``bucket`` cannot filter them; a bucket ending after
    the last complete one before ``now`` is absent.
    """
    if metric not in (*STORAGE_COUNTERS, *TOTALS, "size_bytes_hour"):
        raise ValueError(f"{metric!r} is not a counter of the Gcore storage emulator")
    if step % HOUR:
        raise ValueError(f"step {step} is not a whole number of hours")
    unknown = sorted(set(where) - set(STORAGE_DIMENSIONS))
    if unknown:
        raise ValueError(f"storage counters cannot be filtered by {unknown[0]!r}")
    wanted = {STORAGE_DIMENSIONS[n]: {str(v) for v in vs} for n, vs in where.items()}
    chosen = [k for k in STORAGES if all(str(k[i]) in w for i, w in wanted.items())]
    return Finality(align=step).totals(
        start, end, step, now, lambda k, t: _storage_stats(k, t, step)[metric], over=chosen
    )


# -- the API -----------------------------------------------------------------------------------
def _message(status: int, message: str) -> httpx.Response:
    return json_response(status, {"message": message})


def _error(status: int, message: str) -> httpx.Response:  # the storage API's 400 body
    return json_response(status, {"error": message})


class GcoreEmulator(EmulatorBase):
    """Answers Gcore's CDN and object-storage statistics APIs (datasets cdn and storage)."""

    label = "Gcore"

    def __init__(self, now: Callable[[], float], *, valid_token: str | None = None) -> None:
        self.now = now
        self.valid_token = valid_token
        self.datasets = {"cdn": _cdn_expected, "storage": _storage_expected}
        self.routes = (
            RouteTable(_message, wrong_method_status=404, guard=self._authorized)
            .add("GET", CDN_PATH, _cdn)
            .add("POST", STORAGE_PATH, _storage, bad_request=_error)
        )

    def _authorized(self, request: httpx.Request, now: int) -> httpx.Response | None:
        if accepted(scheme_token(request, "APIKey"), self.valid_token):
            return None
        return _message(401, "Invalid authentication credentials")
