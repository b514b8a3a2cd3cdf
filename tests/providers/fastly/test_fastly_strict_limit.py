"""A strict vendor sees no 429: the run holds its calls on Fastly-RateLimit-Remaining.

Fastly answers every call with ``Fastly-RateLimit-Remaining`` and ``-Reset`` (an absolute
UNIX time). The engine holds further calls once those in flight could use up what is
left, until the reset. Here the emulator's limit is a strict 20 calls per 2-second window
(its hourly limiter on a short window, so the test takes seconds), on the real clock, and
a query needs 60 calls, more than the 16 it keeps in flight: the emulator must refuse none of them, and the result must equal
the emulator's own data.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

import querylang
from querylang.catalog import RateLimit
from querylang.emulation import FixedWindowLimiter, serve
from querylang.timegrid import format_ts
from querylang_providers.fastly.emulator import FastlyEmulator

pytestmark = pytest.mark.emulator

CALLS, WINDOW = 20, 2  # the strict limit: 20 calls in each fixed 2-second window
A, B = "6ElZZvtumbwtLBDJvFwepx", "5oYej0l0heMydtjaVPOq4z"
# 60 calls: one per service and day (MAX_WINDOW is a day of minutes)
QUERY = f"SELECT requests FROM fastly WHERE service IN ('{A}', '{B}') EVERY 1m LAST 30d"


class Counting:
    """The emulator, counting the statuses it answers."""

    def __init__(self, inner: FastlyEmulator) -> None:
        self.inner = inner
        self.statuses: list[int] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle(request)
        self.statuses.append(response.status_code)
        return response


def strict_emulator() -> FastlyEmulator:
    emulator = FastlyEmulator(time.time, rate_limit=CALLS)
    emulator.limiter = FixedWindowLimiter([RateLimit(calls=CALLS, per_seconds=WINDOW)], time.time)
    return emulator


@pytest.fixture
def served() -> Iterator[tuple[Counting, dict[str, str]]]:
    counting = Counting(strict_emulator())
    with serve(counting) as server:
        yield counting, {"QUERYLANG_FASTLY_BASE_URL": server.url, "FASTLY_API_TOKEN": "t0ken"}


def test_the_emulator_is_strict() -> None:
    """Without the engine's care, the seventh call in a window is refused."""
    emulator = strict_emulator()
    transport = httpx.MockTransport(emulator.handle)
    with httpx.Client(transport=transport, base_url="https://api.fastly.com") as client:
        # start at the beginning of a window, so all seven calls fall into one
        time.sleep(WINDOW - time.time() % WINDOW)
        statuses = [
            client.get("/stats/aggregate", headers={"Fastly-Key": "t"}).status_code
            for _ in range(CALLS + 1)
        ]
    assert statuses == [200] * CALLS + [429]


def test_a_run_of_more_calls_than_the_limit_sees_no_429(
    served: tuple[Counting, dict[str, str]],
) -> None:
    counting, env = served
    now = time.time()
    (result,) = querylang.run(QUERY, env=env, now=format_ts(int(now)))
    assert counting.statuses == [200] * 60  # every call admitted: none refused, none repeated
    end = int(now) // 60 * 60  # LAST 30d at 1m: the 30 days up to the current minute
    start = end - 30 * 86400
    want = counting.inner.expected("stats", "requests", start, end, 60, {"service": [A, B]})
    got = dict(
        zip(result.frame.time.tolist(), result.frame.metrics["requests"].tolist(), strict=True)
    )
    assert len(want) == 30 * 1440
    assert got == want
