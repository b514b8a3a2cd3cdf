"""Emulates ``POST /storage/stats/v1/storage/usage/series`` for a small synthetic account.

Two clients, storages in ``s-region-1`` and ``s-region-2``, two or three buckets each.
Validation follows the document (plus the emulator's own strictness where it is silent):
the body must be a JSON object; ``from``/``to`` are required ``YYYY-MM-DD`` dates with
``to`` not before ``from``; ``granularity`` is required and one of 1h, 12h, 24h;
``locations``/``storages`` are lists of strings; ``ts_string`` a boolean; ``source`` (an
integer) is deprecated and ignored, as are unknown fields. Errors are ``400 {"error": …}``.
``to`` is read as inclusive (the whole day), the pessimistic reading, so clients must trim.
Only complete buckets, never data after ``now``.

Data: counters come from :func:`~querylang.emulation.synthetic_totals`; a storage's size
and a bucket's file count are levels constant within each UTC hour, so ``size_max`` and
``bucket_files`` of a coarse bucket are the max of its hours, ``size_mean`` their mean and
``size_bytes_hour`` their sum — every grain agrees with every other.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import numpy as np

from querylang.emulation import json_response, synthetic_totals
from querylang.timegrid import format_ts
from querylang_providers.gcore.catalog import STORAGE_PATH as PATH

__all__ = ["PATH", "ROUTES", "STORAGES", "expected", "handle"]

DAY = 86400
HOUR = 3600
GRAINS = {"1h": HOUR, "12h": 12 * HOUR, "24h": DAY}

# (client, location, storage) → buckets
STORAGES: dict[tuple[int, str, str], tuple[str, ...]] = {
    (123, "s-region-1", "123-myStorage"): ("bucketA", "bucketB"),
    (123, "s-region-1", "123-backups"): ("daily", "weekly"),
    (123, "s-region-2", "123-media"): ("images", "videos", "bucketA"),
    (456, "s-region-2", "456-archive"): ("cold",),
}
COUNTERS = {
    "traffic_in": 400_000,
    "traffic_out_edges": 1_500_000,
    "traffic_out_wo_edges": 300_000,
    "requests_in": 40,
    "requests_out_edges": 150,
    "requests_out_wo_edges": 30,
}
TOTALS = {
    "traffic": ("traffic_in", "traffic_out_edges", "traffic_out_wo_edges"),
    "requests": ("requests_in", "requests_out_edges", "requests_out_wo_edges"),
}
SIZE_BASE = 50_000_000_000  # storages hold 50, 100, … GB, moving a little each hour
FILES_BASE = 10_000


class BadRequest(ValueError):
    """A body the API would refuse with 400."""


def _date(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{name} is required: a date as YYYY-MM-DD")
    try:
        day = dt.datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=dt.UTC)
    except ValueError:
        raise BadRequest(f"invalid {name} date {value!r}: expected YYYY-MM-DD") from None
    return int(day.timestamp())


def _strings(body: dict[str, Any], name: str) -> list[str] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f"{name} must be a list of strings")
    return value


def _parse(request: httpx.Request) -> dict[str, Any]:
    try:
        body = json.loads(request.content or b"null")
    except ValueError:
        raise BadRequest("the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    start, last = _date(body, "from"), _date(body, "to")
    if last < start:
        raise BadRequest("to must not be before from")
    grain = body.get("granularity")
    if grain not in GRAINS:
        raise BadRequest(f"invalid granularity {grain!r}: valid values are 1h, 12h, 24h")
    ts_string = body.get("ts_string", False)
    if not isinstance(ts_string, bool):
        raise BadRequest("ts_string must be a boolean")
    source = body.get("source")
    if source is not None and (isinstance(source, bool) or not isinstance(source, int)):
        raise BadRequest("source must be an integer")
    return {
        "start": start,
        "end": last + DAY,  # ``to`` is a whole day
        "grain": GRAINS[grain],
        "locations": _strings(body, "locations"),
        "storages": _strings(body, "storages"),
        "ts_string": ts_string,
    }


def _hourly_level(key: str, hours: np.ndarray, base: int, scale: float) -> np.ndarray:
    """A level (size, file count) constant within each hour, starting at ``hours``."""
    return base + synthetic_totals(key, hours, hours + HOUR, scale)


def _storage_stats(
    storage: tuple[int, str, str], starts: np.ndarray, grain: int
) -> dict[str, np.ndarray | dict[str, np.ndarray]]:
    """Every series of one storage, one value per bucket at ``starts``."""
    name = storage[2]
    ends = starts + grain
    out: dict[str, Any] = {}
    for metric, scale in COUNTERS.items():
        out[metric] = synthetic_totals(f"gcore-storage|{name}|{metric}", starts, ends, scale)
    for metric, parts in TOTALS.items():
        out[metric] = sum(out[p] for p in parts)
    per = grain // HOUR
    hours = (starts[:, None] + HOUR * np.arange(per)[None, :]).ravel()
    base = SIZE_BASE * (1 + list(STORAGES).index(storage))
    size = _hourly_level(f"gcore-storage|{name}|size", hours, base, 10_000).reshape(-1, per)
    out["size_max"] = size.max(axis=1)
    out["size_mean"] = size.mean(axis=1)
    out["size_bytes_hour"] = size.sum(axis=1)
    out["buckets"] = {
        bucket: _hourly_level(f"gcore-storage|{name}|{bucket}", hours, FILES_BASE * (i + 1), 20)
        .reshape(-1, per)
        .max(axis=1)
        for i, bucket in enumerate(STORAGES[storage])
    }
    return out


def _number(value: Any) -> int | float:
    value = float(value)
    return int(value) if value.is_integer() else value


def _points(starts: np.ndarray, values: np.ndarray, ts_string: bool) -> list[list[Any]]:
    stamps = [format_ts(int(t)) if ts_string else int(t) for t in starts]
    return [[t, _number(v)] for t, v in zip(stamps, values.tolist(), strict=True)]


def _sums(stats: list[dict[str, Any]]) -> dict[str, Any]:
    """The whole-period totals a level carries next to its children."""
    if not stats:
        return {}
    out = {f"{m}_sum": int(sum(s[m].sum() for s in stats)) for m in (*COUNTERS, *TOTALS)}
    out["size_sum_bytes_hour"] = int(sum(s["size_bytes_hour"].sum() for s in stats))
    out["size_sum_max"] = int(np.max(sum(s["size_max"] for s in stats)))
    out["size_sum_mean"] = int(np.mean(sum(s["size_mean"] for s in stats)))
    files = sum(v for s in stats for v in s["buckets"].values())
    out["file_quantity_sum_max"] = int(np.max(files))
    return out


def _storage_node(name: str, stats: dict[str, Any], starts: np.ndarray, ts: bool) -> dict:
    node: dict[str, Any] = {"name": name, **_sums([stats])}
    for metric in (*TOTALS, *COUNTERS, "size_max", "size_mean", "size_bytes_hour"):
        node[f"{metric}_series"] = _points(starts, stats[metric], ts)
    node["buckets_series"] = {b: _points(starts, v, ts) for b, v in stats["buckets"].items()}
    return node


def handle(request: httpx.Request, now: int) -> httpx.Response:
    """Answer one usage-series request."""
    try:
        args = _parse(request)
    except BadRequest as exc:
        return json_response(400, {"error": str(exc)})
    grain = args["grain"]
    end = min(args["end"], now - now % grain)  # complete buckets only
    starts = np.arange(args["start"], max(end, args["start"]), grain, dtype=np.int64)
    locations, storages = args["locations"], args["storages"]
    clients: dict[str, Any] = {}
    if len(starts):
        tree: dict[int, dict[str, list[tuple[str, dict[str, Any]]]]] = {}
        for key in STORAGES:
            client, location, name = key
            if (locations is not None and location not in locations) or (
                storages is not None and name not in storages
            ):
                continue
            stats = _storage_stats(key, starts, grain)
            tree.setdefault(client, {}).setdefault(location, []).append((name, stats))
        for client, locs in tree.items():
            everything = [s for members in locs.values() for _, s in members]
            clients[str(client)] = {
                "id": client,
                **_sums(everything),
                "locations": {
                    loc: {
                        "name": loc,
                        **_sums([s for _, s in members]),
                        "storages": {
                            name: _storage_node(name, s, starts, args["ts_string"])
                            for name, s in members
                        },
                    }
                    for loc, members in locs.items()
                },
            }
    return json_response(200, {"data": {"clients": clients}})


_STORAGE_DIMENSIONS = {"client": 0, "location": 1, "storage": 2}


def expected(
    metric: str,
    start: int,
    end: int,
    step: int,
    now: int,
    where: Mapping[str, Sequence[str]] | None = None,
) -> dict[int, float]:
    """The emulator's own totals of counter ``metric`` per bucket [t, t + step).

    Summed over every storage matching ``where`` (client, location, storage; the counters
    are per storage, so ``bucket`` cannot filter them). A bucket the API would not answer
    yet (ending after the last complete bucket before ``now``) is absent.
    """
    if metric not in (*COUNTERS, *TOTALS, "size_bytes_hour"):
        raise ValueError(f"{metric!r} is not a counter of the Gcore storage emulator")
    if step % HOUR:
        raise ValueError(f"step {step} is not a whole number of hours")
    where = where or {}
    unknown = sorted(set(where) - set(_STORAGE_DIMENSIONS))
    if unknown:
        raise ValueError(f"storage counters cannot be filtered by {unknown[0]!r}")
    chosen = [
        key
        for key in STORAGES
        if all(
            str(key[i]) in {str(v) for v in where[n]}
            for n, i in _STORAGE_DIMENSIONS.items()
            if n in where
        )
    ]
    horizon = now - now % step
    starts = np.array([t for t in range(start, end, step) if t + step <= horizon], np.int64)
    if len(starts) == 0:
        return {}
    total = np.zeros(len(starts))
    for key in chosen:
        total = total + np.asarray(_storage_stats(key, starts, step)[metric], dtype=np.float64)
    return {int(t): float(v) for t, v in zip(starts.tolist(), total.tolist(), strict=True)}


ROUTES = {("POST", PATH): handle}
