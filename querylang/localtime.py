"""Local-time and start-aligned bucket grids: what TZ and ALIGN TO START make of EVERY.

Without TZ or ALIGN TO START, buckets are :class:`~querylang.timegrid.Granularity` grids
(epoch-aligned, UTC). A :class:`Grid` is the same interface with two differences:

- ``zone``: days, weeks and months run from local midnight to local midnight (so a day is
  23 or 25 hours across a DST change); seconds, minutes and hours stay on the epoch grid;
- ``origin``: buckets are counted from this instant (the window's start) instead of
  the epoch (ALIGN TO START).

Zones are IANA names (``Europe/Berlin``) or fixed offsets (``+05:30``, ``-03:00``).
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache

from attrs import field, frozen

from querylang.timegrid import Granularity, Stepping

__all__ = [
    "Grid",
    "Zone",
    "format_local",
    "parse_local",
    "parse_zone",
    "shift_local",
    "tiles",
]

_OFFSET_RE = re.compile(r"^([+-])(\d{2}):?(\d{2})$")
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_MONDAY_ORDINAL = dt.date(1970, 1, 5).toordinal()
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@frozen
class Zone:
    """A time zone as written in TZ: its name and the tzinfo it stands for."""

    name: str
    tzinfo: dt.tzinfo = field(eq=False, repr=False)

    @property
    def is_utc(self) -> bool:
        return self.name in ("UTC", "Z", "+00:00", "Etc/UTC")

    def __str__(self) -> str:
        return self.name


@cache
def parse_zone(text: str) -> Zone:
    """``'Europe/Berlin'`` / ``'+05:30'`` / ``'UTC'`` → Zone; ValueError when unknown."""
    raw = text.strip()
    m = _OFFSET_RE.match(raw)
    if m:
        sign, hours, minutes = m.groups()
        if int(hours) > 23 or int(minutes) > 59:
            raise ValueError(f"not a UTC offset: {text!r}")
        delta = dt.timedelta(hours=int(hours), minutes=int(minutes))
        name = f"{sign}{hours}:{minutes}"
        return Zone(name, dt.timezone(-delta if sign == "-" else delta))
    if raw.upper() in ("UTC", "Z"):
        return Zone("UTC", dt.UTC)
    if not raw or ".." in raw or raw.startswith("/"):
        raise ValueError(f"not a time zone: {text!r}")
    import zoneinfo  # for a named zone only (it reads sysconfig, ~1.5 ms at start-up)

    try:
        return Zone(raw, zoneinfo.ZoneInfo(raw))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"not a time zone: {text!r}") from None


def _local(ts: int, zone: Zone) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, zone.tzinfo)


def _midnight(ordinal: int, zone: Zone) -> int:
    """The UTC instant of local midnight starting the day ``ordinal``."""
    day = dt.date.fromordinal(ordinal)
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=zone.tzinfo).timestamp())


def _month_midnight(index: int, zone: Zone) -> int:
    year, month0 = divmod(index, 12)
    return int(dt.datetime(year, month0 + 1, 1, tzinfo=zone.tzinfo).timestamp())


def parse_local(text: str, zone: Zone | None) -> int:
    """ISO 8601 → UNIX seconds; a date or a time without offset is read in ``zone``."""
    from querylang.timegrid import parse_ts

    if zone is None:
        return parse_ts(text)
    raw = text.strip()
    try:
        value = dt.datetime.fromisoformat(raw.replace(" ", "T", 1) if "T" not in raw else raw)
    except ValueError:
        return parse_ts(text)  # the same ValueError / E103 as without TZ
    if value.tzinfo is not None:
        return parse_ts(text)
    return parse_ts(value.replace(tzinfo=zone.tzinfo).isoformat())


def format_local(ts: int, zone: Zone | None) -> str:
    """UNIX seconds → ``2026-03-29T00:00:00+01:00`` in ``zone`` (``…Z`` without one)."""
    from querylang.timegrid import format_ts

    if zone is None:
        return format_ts(ts)
    d = _local(int(ts), zone)
    offset = d.utcoffset() or dt.timedelta(0)
    total = int(offset.total_seconds())
    sign = "-" if total < 0 else "+"
    hours, minutes = divmod(abs(total) // 60, 60)
    return (
        f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}"
        f"{sign}{hours:02d}:{minutes:02d}"
    )


def shift_local(ts: int, amount: int, unit: str, zone: Zone | None) -> int:
    """``ts`` moved by ``amount`` units; days, weeks and months on the local wall clock."""
    if unit in ("s", "m", "h") or (zone is None and unit != "mo"):
        return ts + amount * _UNIT_SECONDS[unit]
    tz = zone.tzinfo if zone is not None else dt.UTC
    d = dt.datetime.fromtimestamp(ts, tz).replace(tzinfo=None)
    if unit == "mo":
        index = d.year * 12 + d.month - 1 + amount
        year, month0 = divmod(index, 12)
        d = d.replace(year=year, month=month0 + 1)  # callers shift month starts only
    else:
        d += dt.timedelta(days=amount * (7 if unit == "w" else 1))
    return int(d.replace(tzinfo=tz).timestamp())


@frozen
class Grid(Stepping):
    """EVERY's buckets in a zone and/or counted from an origin; Granularity's interface."""

    every: Granularity
    zone: Zone | None = None
    origin: int | None = None  # ALIGN TO START: the window's start

    @property
    def amount(self) -> int:
        return self.every.amount

    @property
    def unit(self) -> str:
        return self.every.unit

    def __str__(self) -> str:
        return str(self.every)

    @property
    def local(self) -> bool:
        """True when buckets follow the local calendar (days, weeks, months in a zone)."""
        return self.zone is not None and not self.zone.is_utc and self.unit in ("d", "w", "mo")

    @property
    def is_calendar(self) -> bool:
        return self.local or self.unit == "mo"

    @property
    def seconds(self) -> int | None:
        """The fixed length in seconds, or None when lengths vary (local calendar, months)."""
        return None if self.is_calendar else self.every.seconds

    @property
    def nominal_seconds(self) -> int:
        return self.every.nominal_seconds

    # -- bucket indices: the n-th bucket of the (local) calendar ---------------------------
    def _index(self, ts: int) -> int:
        """The calendar index of the unit holding ``ts`` (days, Monday weeks or months)."""
        tz = self.zone.tzinfo if self.zone is not None else dt.UTC
        d = dt.datetime.fromtimestamp(ts, tz)
        if self.unit == "mo":
            return d.year * 12 + d.month - 1
        if self.unit == "w":
            return (d.toordinal() - _MONDAY_ORDINAL) // 7
        return d.toordinal() - _EPOCH_ORDINAL

    def _start(self, index: int) -> int:
        zone = self.zone if self.local and self.zone is not None else Zone("UTC", dt.UTC)
        if self.unit == "mo":
            return _month_midnight(index, zone)
        if self.unit == "w":
            return _midnight(_MONDAY_ORDINAL + 7 * index, zone)
        return _midnight(_EPOCH_ORDINAL + index, zone)

    def floor(self, ts: int) -> int:
        """The start of the bucket holding ``ts``."""
        if not self.is_calendar:
            size = self.every.seconds
            assert size is not None
            phase = self.origin if self.origin is not None else self.every.floor(0)
            return ts - (ts - phase) % size
        index = self._index(ts)
        base = self._index(self.origin) if self.origin is not None else 0
        index -= (index - base) % self.amount
        return self._start(index)

    def add(self, ts: int, n: int = 1) -> int:
        """The boundary ``n`` buckets after the boundary ``ts``."""
        if not self.is_calendar:
            size = self.every.seconds
            assert size is not None
            return ts + n * size
        return self._start(self._index(ts) + n * self.amount)


#: What a bucket grid may be: UTC epoch-aligned, or local / start-aligned.
BucketGrid = Granularity | Grid


def tiles(native: Granularity, grid: Granularity | Grid, start: int, end: int) -> bool:
    """True when every bucket boundary of ``grid`` in [start, end] is on ``native``'s grid."""
    if isinstance(grid, Granularity):
        return native.divides(grid)
    if not native.is_aligned(start) or not native.is_aligned(end):
        return False
    if grid.seconds is not None:
        size = native.seconds
        return size is not None and grid.seconds % size == 0
    return all(native.is_aligned(b) for b in grid.boundaries(start, end))
