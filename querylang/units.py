"""Numbers for people: decimal SI prefixes for bytes and bit/s, as CDN invoices use.

``human(value, unit)`` is what a terminal table, a chart axis and the HTML report print;
``exact(value, kind)`` is what ``--raw``, files and pipes get. Bytes and bit/s scale by
powers of 1000 (1 kB = 1000 bytes, 1 Mbit/s = 10^6 bit/s); units that already carry a
prefix (StackPath's ``MB``, ``Mbps``) are rescaled from their base. Counts print in full
with thousands separators; ratios with four decimals; a missing value prints as ``—``.
``UNITS`` lists every unit a catalog may declare (the conformance suite rejects others).
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "KNOWN_UNITS",
    "MISSING",
    "UNITS",
    "exact",
    "human",
    "known_unit",
    "scale_for",
    "scaled_unit",
]

MISSING = "—"

_PREFIXES = ("", "k", "M", "G", "T", "P", "E")

#: unit → (base unit, factor to the base). Bytes and bit/s are scaled with SI prefixes.
_SCALED = {
    "bytes": ("B", 1.0),
    "B": ("B", 1.0),
    "kB": ("B", 1e3),
    "MB": ("B", 1e6),
    "GB": ("B", 1e9),
    "TB": ("B", 1e12),
    "bit/s": ("bit/s", 1.0),
    "bps": ("bit/s", 1.0),
    "kbps": ("bit/s", 1e3),
    "Mbps": ("bit/s", 1e6),
    "Gbps": ("bit/s", 1e9),
}

#: Every unit a catalog may declare, with what it measures: the scaled spellings above, the
#: standard vocabulary's base units (querylang.standard) and the built-in catalogs' own.
#: A provider needing another unit adds it here, so every output knows how to print it.
UNITS: dict[str, str] = {
    "bytes": "an amount of data, in bytes",
    "B": "an amount of data, in bytes",
    "kB": "an amount of data, in kilobytes (1000 bytes)",
    "MB": "an amount of data, in megabytes (10^6 bytes)",
    "GB": "an amount of data, in gigabytes (10^9 bytes)",
    "TB": "an amount of data, in terabytes (10^12 bytes)",
    "byte-hours": "storage held over time: bytes times hours",
    "bit/s": "a data rate, in bits per second",
    "bps": "a data rate, in bits per second",
    "kbps": "a data rate, in kilobits per second",
    "Mbps": "a data rate, in megabits per second",
    "Gbps": "a data rate, in gigabits per second",
    "count": "a number of events",
    "requests": "a number of requests",
    "responses": "a number of responses",
    "images": "a number of images",
    "files": "a number of files",
    "requests/s": "a request rate, per second",
    "s": "a duration, in seconds",
    "seconds": "a duration, in seconds",
    "ms": "a duration, in milliseconds",
    "unix_s": "a point in time, in UNIX seconds",
    "ratio": "a dimensionless ratio",
}
KNOWN_UNITS = frozenset(UNITS)


def known_unit(unit: str | None) -> bool:
    """Whether ``unit`` is one a catalog may declare (:data:`UNITS`)."""
    return unit in KNOWN_UNITS


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def exact(value: Any, *, integral: bool = False) -> str:
    """The exact number: a whole number without a fraction, others in full precision."""
    if _missing(value):
        return MISSING
    if isinstance(value, float):
        if integral and value.is_integer():
            return f"{int(value):,}"
        return f"{value:,.4f}".rstrip("0").rstrip(".") if abs(value) < 1e15 else repr(value)
    return str(value)


def scale_for(magnitude: float, unit: str | None) -> tuple[float, str] | None:
    """The divisor and unit label that print ``magnitude`` best, for a scaled unit."""
    if unit not in _SCALED:
        return None
    base, factor = _SCALED[unit]
    value = abs(magnitude) * factor
    power = 0
    while value >= 1000 and power < len(_PREFIXES) - 1:
        value /= 1000
        power += 1
    return 1000**power / factor, f"{_PREFIXES[power]}{base}"


def scaled_unit(unit: str | None) -> bool:
    return unit in _SCALED


def human(value: Any, unit: str | None, kind: str | None = None) -> str:
    """One value as a person reads it: ``3.68 MB``, ``29.5 Mbit/s``, ``1,204``, ``0.9531``."""
    if _missing(value):
        return MISSING
    number = float(value)
    scale = scale_for(number, unit)
    if scale is not None:
        divisor, label = scale
        shown = number / divisor
        if label in ("B", "bit/s"):  # under a thousand base units: as it is
            return f"{shown:,.4g} {label}"
        return f"{shown:#.3g}".rstrip(".") + f" {label}"  # three digits: 23.0 GB, 368 MB
    if kind == "ratio" or unit == "ratio":
        return f"{number:.4f}"
    if number.is_integer() and abs(number) < 2**53:
        return f"{int(number):,}"
    if abs(number) >= 100:
        return f"{number:,.1f}"
    return f"{number:.4g}"
