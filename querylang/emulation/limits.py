"""A rate limiter for emulators, fed from the catalog's :class:`~querylang.catalog.RateLimit`.

Fixed windows on a clock (``floor(t / per_seconds)``), every limit counted at once: a call
is admitted only when every window has room, and then counts in all of them; a refused
call counts in none. A limit per clock hour (Fastly's) is ``RateLimit(calls, 3600)``; an
emulator that reads its own clock once per request passes that reading to ``admit``. The
vendor-specific part (headers, the 429 body) stays with the emulator, which reads the
:class:`Admission`.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence

from attrs import frozen

from querylang.catalog import RateLimit

__all__ = ["Admission", "FixedWindowLimiter"]


@frozen
class Admission:
    """The outcome of one call against the limits."""

    admitted: bool
    used: tuple[int, ...]  # calls counted in each limit's current window (after this one)
    binding: int  # the first exhausted limit (refused), else 0
    reset_after: int  # whole seconds (at least 1) until the binding limit's window ends


class FixedWindowLimiter:
    """Counts calls in fixed windows of each limit; counts admitted and refused calls."""

    def __init__(
        self,
        limits: Sequence[RateLimit | tuple[int, float]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = tuple(
            lim if isinstance(lim, RateLimit) else RateLimit(calls=lim[0], per_seconds=lim[1])
            for lim in limits
        )
        self.clock = clock
        self.calls = 0  # calls admitted
        self.rejected = 0  # calls refused
        self._lock = threading.Lock()
        self._windows = [(-1, 0) for _ in self.limits]  # (window index, calls in it)

    def admit(self, at: float | None = None) -> Admission:
        """Count one call against every limit (``at``: the time of the call, else the clock's)."""
        with self._lock:
            t = self.clock() if at is None else at
            indices = [math.floor(t / lim.per_seconds) for lim in self.limits]
            counts = [
                count if index == current else 0
                for (index, count), current in zip(self._windows, indices, strict=True)
            ]
            full = [i for i, n in enumerate(counts) if n >= self.limits[i].calls]
            if full:
                self.rejected += 1
            else:
                counts = [n + 1 for n in counts]
                self.calls += 1
            self._windows = list(zip(indices, counts, strict=True))
            which = full[0] if full else 0
            per = self.limits[which].per_seconds
            reset = max(1, math.ceil((indices[which] + 1) * per - t))
            return Admission(not full, tuple(counts), which, reset)
