"""Building blocks for emulators: JSON responses and deterministic synthetic data.

The synthetic data every built-in emulator draws from is a per-minute rate that is
constant within each UTC hour, so any bucket's total is exact and a coarse bucket always
equals the sum of the finer buckets inside it.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpx
import numpy as np

__all__ = ["account_data", "fixed_clock", "json_response", "synthetic_totals"]


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
