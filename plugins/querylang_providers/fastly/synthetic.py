"""The emulator's account: three services in every region, deterministic per-minute traffic.

Every base field of every (service, region) is an integer multiple of a
:func:`synthetic_totals` series, so any bucket is exact and a day equals the sum of its
hours and minutes (the ``*_time`` seconds up to float rounding); the "all regions"
answer is the sum of the regions and ``/stats/aggregate`` the sum of the services. The
fields the document defines from others are computed from them (``requests``,
``bandwidth``, ``body_size``, ``header_size``, ``status_Nxx``, ``hit_ratio``).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from querylang.emulation import synthetic_totals
from querylang_providers.fastly.catalog import FIELDS, REGIONS

__all__ = ["SERVICES", "Account"]

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
SCALES = {"bytes": 2_400_000.0, "time": 300.0, "count": 4.0}  # ~20 KB per request
# The document's examples spell two fields the old way; full records do too, so decode's
# aliasing is exercised end to end. One field the document does not list is added.
SPELLING = {"log": "logging", "imgopto": "img_opto"}
UNDOCUMENTED = "edge_requests"
NAMES = tuple(name for name, _ in FIELDS)


def _driver(field: str) -> tuple[str, int]:
    """The driver series of a base field and its integer weight."""
    if field in DRIVERS:
        return field, 1
    weight = 1 + zlib.crc32(field.encode()) % 5
    if field.endswith("_time"):
        return "time", weight  # milliseconds per minute, reported in seconds
    return ("bytes" if field.endswith("_bytes") else "count"), weight


def _text(field: str, value: float) -> str:
    """Numbers as the document's examples show them: strings."""
    if field.endswith("_time"):
        return repr(float(value))
    return str(int(value))


class Account:
    """Totals for a set of services and regions over a list of buckets, cached per series."""

    def __init__(self, starts: Sequence[int], ends: Sequence[int]) -> None:
        self.starts = np.asarray(starts, np.int64)
        self.ends = np.asarray(ends, np.int64)
        self._cache: dict[tuple[str, str, str], np.ndarray] = {}

    def _base(self, service: str, region: str, field: str) -> np.ndarray:
        driver, weight = _driver(field)
        key = (service, region, driver)
        if key not in self._cache:
            scale = {**DRIVERS, **SCALES}[driver] * SERVICES[service]
            series = f"fastly|{service}|{region}|{driver}"
            values = synthetic_totals(series, self.starts, self.ends, scale).astype(np.float64)
            self._cache[key] = values
        values = self._cache[key] * weight
        return values / 1000.0 if driver == "time" else values

    def totals(self, field: str, services: Sequence[str], regions: Sequence[str]) -> np.ndarray:
        """One total per bucket of ``field`` (not hit_ratio) over the services and regions."""
        out = np.zeros(len(self.starts))
        if field in DERIVED:
            for part in DERIVED[field]:
                out = out + self.totals(part, services, regions)
            return out
        for service in services:
            for region in regions:
                out = out + self._base(service, region, field)
        return out

    def values(
        self, field: str, services: Sequence[str], regions: Sequence[str]
    ) -> list[str | None]:
        """Per bucket, ``field`` as the API writes it (a string, or null for 0/0 hit_ratio)."""
        if field == "hit_ratio":
            hits = self.totals("hits", services, regions)
            both = hits + self.totals("miss", services, regions)
            return [f"{h / d:.4f}" if d else None for h, d in zip(hits, both, strict=True)]
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
        if fields is None:
            columns[UNDOCUMENTED] = columns["requests"]
        out = []
        for i, start in enumerate(self.starts.tolist()):
            record: dict[str, Any] = {"start_time": str(start)}
            if service_id is not None:
                record["service_id"] = service_id
            for name, column in columns.items():
                spelt = SPELLING.get(name, name) if fields is None else name
                record[spelt] = column[i]
            out.append(record)
        return out
