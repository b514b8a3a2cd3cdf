"""Building blocks for emulators: JSON responses and deterministic synthetic data.

The synthetic data every built-in emulator draws from is a per-minute rate that is
constant within each UTC hour, so any bucket's total is exact and a coarse bucket always
equals the sum of the finer buckets inside it. On top of it:

- counters (:func:`synthetic_totals`) and families of them (:class:`Counters`: counters
  defined as sums of others, totals over a set of entities, each series drawn once);
- gauges (:func:`synthetic_levels`: a level per cell) and the per-bucket views a vendor
  reports of values sampled on fine cells (:class:`BucketCells`: total, mean, peak, low and
  when they happened), so every grain agrees with every other;
- ratios built from their parts (:func:`ratio`: 0/0 is missing, never a number);
- the vendor's behaviour at the edges, as options: which buckets exist yet and with how
  much data (:class:`Finality`), and points with empty buckets left out (:func:`points`).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpx
import numpy as np
from attrs import frozen

from querylang.timegrid import Granularity

__all__ = [
    "BucketCells",
    "Counters",
    "Finality",
    "account_data",
    "fixed_clock",
    "json_response",
    "per_bucket",
    "points",
    "ratio",
    "scope",
    "synthetic_levels",
    "synthetic_totals",
]


def json_response(
    status: int, payload: Any, headers: Mapping[str, str] | None = None
) -> httpx.Response:
    """An httpx response with a JSON body."""
    return httpx.Response(
        status,
        content=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a well-spread 64-bit hash of each element."""
    x = x.astype(np.uint64)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return x


_ACCOUNT: ContextVar[str] = ContextVar("querylang_emulated_account", default="")


@contextmanager
def account_data(account: str) -> Iterator[None]:
    """Within the block, synthetic series are those of ``account`` ("" : the default one).

    The sandbox serves each named connection from its own account, so that ``BY account``
    shows different numbers for two accounts of one vendor.
    """
    token = _ACCOUNT.set(account)
    try:
        yield
    finally:
        _ACCOUNT.reset(token)


def _per_minute(key: str, hours: np.ndarray, scale: float) -> np.ndarray:
    """The integer per-minute rate of series ``key`` during each UTC hour."""
    account = _ACCOUNT.get()
    if account:
        key = f"{key}@{account}"
    seed = np.uint64(zlib.crc32(key.encode()))
    with np.errstate(over="ignore"):
        noise = _mix(hours.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) ^ seed) >> np.uint64(
            11
        )
    unit = noise.astype(np.float64) / float(1 << 53)
    hour_of_day = hours % 24
    diurnal = 1.0 + 0.5 * np.sin(2 * np.pi * (hour_of_day - 6) / 24.0)
    return np.floor(scale * diurnal * (0.75 + 0.5 * unit)).astype(np.int64)


def synthetic_totals(
    key: str, starts: np.ndarray, ends: np.ndarray, scale: float = 1000.0
) -> np.ndarray:
    """Exact totals over [start, end) (UNIX seconds, minute-aligned) for series ``key``."""
    starts = np.asarray(starts, np.int64)
    ends = np.asarray(ends, np.int64)
    if len(starts) == 0:
        return np.empty(0, np.int64)
    h0 = int(starts.min()) // 3600
    h1 = int(ends.max()) // 3600 + 1
    hours = np.arange(h0, h1 + 1, dtype=np.int64)
    rate = _per_minute(key, hours, scale)
    prefix = np.concatenate([[0], np.cumsum(rate * 60)])  # total before each hour

    def cumulative(t: np.ndarray) -> np.ndarray:
        idx = t // 3600 - h0
        minutes = (t % 3600) // 60
        return prefix[idx] + rate[idx] * minutes

    return cumulative(ends) - cumulative(starts)


def fixed_clock(ts: float) -> Callable[[], float]:
    """A clock that always says ``ts`` (for reproducible emulators)."""
    return lambda: ts


def synthetic_levels(
    key: str, cells: np.ndarray, width: int, base: float = 0.0, scale: float = 1000.0
) -> np.ndarray:
    """A gauge (a size, a file count): one deterministic level per cell [t, t + width).

    The level is ``base`` plus the counter ``key`` over the cell, so it moves a little from
    cell to cell and is the same whichever bucket the cell is read in.
    """
    cells = np.asarray(cells, np.int64)
    return base + synthetic_totals(key, cells, cells + width, scale)


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` of the same counters, per bucket; NaN where nothing was counted.

    A hit ratio is hits / requests of the very series the emulator answers, never a number of
    its own, so the vendor's ratio and one recomputed from the parts agree.
    """
    num = np.asarray(numerator, np.float64)
    den = np.asarray(denominator, np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


class BucketCells:
    """The fine cells each bucket is made of, and the per-bucket views of values on them.

    ``cells`` are the starts of equal cells (ascending), ``starts``/``ends`` contiguous
    buckets each holding at least one cell. Views of a series sampled per cell: ``total``,
    ``mean`` (per cell), ``peak``/``low`` and ``peak_at``/``low_at`` (the start of the first
    cell holding it), so a coarse bucket's peak is the peak of the finer buckets inside it.
    """

    def __init__(self, cells: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
        self.cells = np.asarray(cells, np.int64)
        bounds = np.concatenate([np.asarray(starts, np.int64), np.asarray(ends, np.int64)[-1:]])
        self.bounds = np.searchsorted(self.cells, bounds)
        self.counts = np.diff(self.bounds)  # cells per bucket

    @classmethod
    def grid(cls, starts: np.ndarray, step: int, cell: int) -> BucketCells:
        """Buckets [t, t + step) at ``starts`` (ascending), each made of its ``step // cell``
        cells of ``cell`` seconds (the values of a series on them: ``cells``)."""
        starts = np.asarray(starts, np.int64)
        cells = (starts[:, None] + np.arange(step // cell, dtype=np.int64) * cell).ravel()
        return cls(cells, starts, starts + step)

    def total(self, values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values, self.bounds[:-1])

    def mean(self, values: np.ndarray) -> np.ndarray:
        return self.total(values) / self.counts

    def peak(self, values: np.ndarray) -> np.ndarray:
        return np.maximum.reduceat(values, self.bounds[:-1])

    def low(self, values: np.ndarray) -> np.ndarray:
        return np.minimum.reduceat(values, self.bounds[:-1])

    def peak_at(self, values: np.ndarray) -> np.ndarray:
        return self._first(values, self.peak(values))

    def low_at(self, values: np.ndarray) -> np.ndarray:
        return self._first(values, self.low(values))

    def _first(self, values: np.ndarray, extreme: np.ndarray) -> np.ndarray:
        """The start of the first cell of each bucket whose value is the bucket's ``extreme``."""
        hit = values == np.repeat(extreme, self.counts)
        index = np.where(hit, np.arange(len(values)), len(values))
        return self.cells[np.minimum.reduceat(index, self.bounds[:-1])]


Base = Callable[["Counters", str, Any], np.ndarray]


class Counters:
    """A family of synthetic counters over one list of buckets [starts[i], ends[i]).

    ``base(counters, name, entity)`` draws base counter ``name`` of one entity (a service in
    a region, a site, …), typically from :meth:`series`; ``parts`` names the counters the
    vendor defines as sums of others (requests = hits + miss + …), which are summed here
    rather than drawn, so a total always equals the sum of its parts.
    """

    def __init__(
        self,
        starts: Sequence[int] | np.ndarray,
        ends: Sequence[int] | np.ndarray,
        base: Base,
        parts: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.starts = np.asarray(starts, np.int64)
        self.ends = np.asarray(ends, np.int64)
        self.base = base
        self.parts = dict(parts or {})
        self._series: dict[tuple[str, float], np.ndarray] = {}

    def series(self, key: str, scale: float) -> np.ndarray:
        """:func:`synthetic_totals` of ``key`` over the buckets (as floats), drawn once."""
        if (key, scale) not in self._series:
            drawn = synthetic_totals(key, self.starts, self.ends, scale)
            self._series[key, scale] = drawn.astype(np.float64)
        return self._series[key, scale]

    def total(self, name: str, entities: Iterable[Any]) -> np.ndarray:
        """Per bucket, counter ``name`` summed over ``entities`` (in their order)."""
        entities = list(entities)
        out = np.zeros(len(self.starts))
        if name in self.parts:
            for part in self.parts[name]:
                out = out + self.total(part, entities)
            return out
        for entity in entities:
            out = out + self.base(self, name, entity)
        return out

    def ratio(self, numerator: str, denominator: str, entities: Iterable[Any]) -> np.ndarray:
        """Per bucket, the :func:`ratio` of two counters of the same entities."""
        entities = list(entities)
        return ratio(self.total(numerator, entities), self.total(denominator, entities))


@frozen
class Finality:
    """Which buckets a vendor answers at ``now``, and with how much of their data.

    Data reaches the API ``lag`` seconds late, in whole cells of ``align`` seconds; the
    ``horizon`` is the end of what has arrived. A bucket ending by the horizon is final. One
    not yet final is absent (``partial=False``: the vendor answers complete buckets only)
    or answered with its data so far (``partial=True``: its values still growing, ending at
    :meth:`clip`), as long as it has begun before the horizon.
    """

    partial: bool = False
    align: int = 1
    lag: int = 0

    def horizon(self, now: float) -> int:
        """The end of the data collected by ``now`` (UNIX seconds)."""
        arrived = int(now) - self.lag
        return arrived - arrived % self.align

    def answered(self, starts: np.ndarray, ends: np.ndarray, now: float) -> np.ndarray:
        """Per bucket, whether the vendor answers it at ``now``."""
        horizon = self.horizon(now)
        if self.partial:
            return np.asarray(starts) < horizon
        return np.asarray(ends) <= horizon

    def clip(self, ends: np.ndarray, now: float) -> np.ndarray:
        """Where each bucket's data ends at ``now`` (its end, or the horizon if earlier)."""
        return np.minimum(np.asarray(ends, np.int64), self.horizon(now))

    def buckets(self, start: int, end: int, step: int, now: float) -> np.ndarray:
        """Starts of the buckets [t, t + step) from ``start`` before ``end`` answered at ``now``."""
        starts = np.arange(start, max(start, end), step, dtype=np.int64)
        return starts[self.answered(starts, starts + step, now)]

    def totals(
        self,
        start: int,
        end: int,
        step: int,
        now: float,
        total: Callable[..., Any],
        over: Iterable[Any] | None = None,
    ) -> dict[int, float]:
        """``expected()``'s answer, ``{t: total}``, over the :meth:`buckets` answered at ``now``.

        ``total(starts)`` is every bucket's total; with ``over``, ``total(item, starts)`` is
        one item's, summed over the items (0 for none). Not called when no bucket is answered.
        """
        starts = self.buckets(start, end, step, now)
        if len(starts) == 0:
            return {}
        if over is None:
            return per_bucket(starts, np.asarray(total(starts)))
        return per_bucket(starts, sum((total(x, starts) for x in over), np.zeros(len(starts))))

    def spanning(
        self, grain: Granularity, start: int, end: int, now: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Starts and ends of the ``grain`` buckets from the one holding ``start`` through the
        one holding ``end`` (for a vendor that reads ``end`` as inclusive) answered at ``now``."""
        starts = np.array(grain.boundaries(grain.floor(start), end + 1), np.int64)
        ends = np.array([grain.add(int(t)) for t in starts], np.int64)
        answered = self.answered(starts, ends, now)
        return starts[answered], ends[answered]


def scope(
    where: Mapping[str, Sequence[str]] | None, dimensions: Iterable[str], emulator: str
) -> Mapping[str, Sequence[str]]:
    """``expected()``'s ``where`` (None: everything), else ValueError for an unknown dimension."""
    where = where or {}
    unknown = sorted(set(where) - set(dimensions))
    if unknown:
        raise ValueError(f"the {emulator} emulator has no dimension {unknown[0]!r}")
    return where


def per_bucket(starts: np.ndarray, values: np.ndarray) -> dict[int, float]:
    """``{bucket start: value}``, as an emulator's ``expected()`` answers its own totals."""
    return {int(t): float(v) for t, v in zip(starts.tolist(), values.tolist(), strict=True)}


def points(
    starts: Iterable[int],
    values: Iterable[float],
    *,
    omit_zeros: bool = False,
    empty: float | None = None,
) -> list[list[Any]]:
    """``[[t, value], …]`` as vendors write them: whole numbers as integers.

    ``omit_zeros``: a vendor that leaves out empty buckets (BaishanCloud); a NaN value
    (a ratio over nothing) is written as ``empty``.
    """
    out: list[list[Any]] = []
    for t, v in zip(starts, values, strict=True):
        v = float(v)
        if omit_zeros and v == 0:
            continue
        if v != v:
            out.append([int(t), empty])
        else:
            out.append([int(t), int(v) if v.is_integer() else v])
    return out
