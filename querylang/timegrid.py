"""UTC bucket grids and half-open time windows, in integer UNIX seconds.

Grids: fixed-size units (s, m, h, d) are aligned to the UNIX epoch; weeks start on Monday
00:00 UTC; months (``mo``) are calendar months starting on the 1st at 00:00 UTC.
"""

from __future__ import annotations

import datetime as dt
import re

from attrs import frozen

from querylang.errors import BindingError

__all__ = [
    "MAX_DURATION_SECONDS",
    "Granularity",
    "Stepping",
    "TimeWindow",
    "format_ts",
    "parse_duration",
    "parse_ts",
]

MAX_DURATION_SECONDS = 1000 * 366 * 86400  # far beyond any vendor's history; keeps dates valid
# A month counts as 31 days against that bound (as in the grammar).
_BOUND_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "mo": 31 * 86400}
_EARLIEST = 0  # 1970-01-01T00:00:00Z
_LATEST = 221_845_392_000  # 9000-01-01: later instants overflow calendar arithmetic

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_MONDAY_OFFSET = 4 * 86400  # 1970-01-01 was a Thursday; 1970-01-05 a Monday
_DURATION_RE = re.compile(r"^(\d+)(mo|s|m|h|d|w)$")


class Stepping:
    """What any bucket grid derives from its ``floor`` and ``add``: ceil, alignment, starts.

    Shared by :class:`Granularity` (UTC) and :class:`querylang.localtime.Grid` (a zone or an
    origin), so the two grids step through time by one rule.
    """

    __slots__ = ()

    def floor(self, ts: int) -> int:
        """The start of the bucket holding ``ts``."""
        raise NotImplementedError

    def add(self, ts: int, n: int = 1) -> int:
        """The boundary ``n`` buckets after the boundary ``ts``."""
        raise NotImplementedError

    def ceil(self, ts: int) -> int:
        """The first bucket boundary at or after ``ts``."""
        start = self.floor(ts)
        return start if start == ts else self.add(start)

    def is_aligned(self, ts: int) -> bool:
        return self.floor(ts) == ts

    def boundaries(self, start: int, end: int) -> list[int]:
        """Bucket starts in [start, end), ``start`` being aligned."""
        out = []
        t = start
        while t < end:
            out.append(t)
            t = self.add(t)
        return out


@frozen(order=False)
class Granularity(Stepping):
    """A bucket size on the UTC grid, e.g. ``Granularity(5, "m")``."""

    amount: int
    unit: str

    @classmethod
    def parse(cls, text: str) -> Granularity:
        """``"5m"`` → Granularity(5, "m")."""
        return parse_duration(text)

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"

    @property
    def is_calendar(self) -> bool:
        return self.unit == "mo"

    @property
    def seconds(self) -> int | None:
        """The fixed length in seconds, or None for calendar months."""
        if self.unit == "mo":
            return None
        return self.amount * _UNIT_SECONDS[self.unit]

    @property
    def nominal_seconds(self) -> int:
        """A length for ordering and estimates (a month counts as 30 days)."""
        return self.seconds if self.seconds is not None else self.amount * 30 * 86400

    @property
    def _offset(self) -> int:
        return _MONDAY_OFFSET if self.unit == "w" else 0

    def floor(self, ts: int) -> int:
        """The start of the bucket holding ``ts``."""
        if self.unit == "mo":
            d = dt.datetime.fromtimestamp(ts, dt.UTC)
            index = d.year * 12 + d.month - 1
            index -= index % self.amount
            return _month_start(index)
        size = self.seconds
        assert size is not None
        return ts - (ts - self._offset) % size

    def add(self, ts: int, n: int = 1) -> int:
        """The boundary ``n`` buckets after the boundary ``ts``."""
        if self.unit == "mo":
            d = dt.datetime.fromtimestamp(ts, dt.UTC)
            index = d.year * 12 + d.month - 1 + n * self.amount
            return _month_start(index) + (ts - _month_start(d.year * 12 + d.month - 1))
        size = self.seconds
        assert size is not None
        return ts + n * size

    def divides(self, coarse: Granularity) -> bool:
        """True when every boundary of ``coarse`` is also a boundary of this grid."""
        if coarse.unit == "mo":
            if self.unit == "mo":
                return coarse.amount % self.amount == 0
            size = self.seconds
            assert size is not None
            return 86400 % size == 0 and self._offset % size == 0
        if self.unit == "mo":
            return False
        fine, big = self.seconds, coarse.seconds
        assert fine is not None and big is not None
        return big % fine == 0 and (coarse._offset - self._offset) % fine == 0


def _month_start(index: int) -> int:
    year, month0 = divmod(index, 12)
    return int(dt.datetime(year, month0 + 1, 1, tzinfo=dt.UTC).timestamp())


def parse_duration(text: str) -> Granularity:
    """Parse ``7d`` / ``1mo`` into a Granularity; ValueError when malformed.

    A well-formed duration longer than 1000 years is the E103 a literal in a query gives
    (a BindingError, not a ValueError): the same bound holds however the text arrives.
    """
    m = _DURATION_RE.match(text.strip())
    digits = m.group(1).lstrip("0") if m else ""
    if not m or not digits:
        raise ValueError(f"not a duration: {text!r}")
    unit = m.group(2)
    if len(digits) > 30 or int(digits) * _BOUND_SECONDS[unit] > MAX_DURATION_SECONDS:
        raise BindingError(
            "E103",
            f"the duration {_shorten(text.strip())} is longer than 1000 years",
            hint="choose a duration of at most a few years, e.g. 365d",
        )
    return Granularity(int(digits), unit)


def _shorten(text: str, width: int = 24) -> str:
    return text if len(text) <= width else f"{text[: width - 1]}…"


@frozen
class TimeWindow:
    """The half-open window [start, end) in UNIX seconds, UTC."""

    start: int
    end: int

    @property
    def seconds(self) -> int:
        return self.end - self.start

    def __str__(self) -> str:
        return f"[{format_ts(self.start)}, {format_ts(self.end)})"

    def split(self, grain: Granularity, max_seconds: int) -> list[TimeWindow]:
        """Cut into consecutive windows of at most ``max_seconds``, each on ``grain``'s grid."""
        if self.seconds <= max_seconds:
            return [self]
        out = []
        t = self.start
        while t < self.end:
            stop = t
            nxt = grain.add(stop)
            while nxt <= self.end and nxt - t <= max_seconds:
                stop = nxt
                nxt = grain.add(stop)
            if stop == t:  # one bucket is longer than the limit: still send it whole
                stop = min(grain.add(t), self.end)
            out.append(TimeWindow(t, stop))
            t = stop
        return out


def parse_ts(text: str) -> int:
    """ISO 8601 → UNIX seconds; a date alone is midnight UTC, a naive time is UTC.

    ValueError when malformed; E103 (a BindingError) outside the years 1970 to 8999.
    """
    raw = text.strip()
    if not raw:
        raise ValueError("empty timestamp")
    try:
        value = dt.datetime.fromisoformat(raw.replace(" ", "T", 1) if "T" not in raw else raw)
    except ValueError as exc:
        raise ValueError(f"not an ISO 8601 timestamp: {text!r}") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    try:
        ts = int(value.timestamp())
    except (OverflowError, OSError, ValueError):
        ts = None
    if ts is None or not _EARLIEST <= ts < _LATEST:
        # Calendar arithmetic (windows, month grids, formatting) breaks near year 1 and
        # year 9999, so such instants are refused here with the project's E103.
        raise BindingError(
            "E103",
            f"{text.strip()!r} is outside the years 1970 to 8999",
            hint="statistics start in 1970 at the earliest",
        )
    return ts


def format_ts(ts: int) -> str:
    """UNIX seconds → ``2018-12-01T00:00:00Z``."""
    d = dt.datetime.fromtimestamp(int(ts), dt.UTC)
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}Z"
