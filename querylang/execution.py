"""Plans → decoded frames: concurrent httpx calls within rate limits, with retries.

Any failure ends the whole run with one clear error: a result is never silently partial.
"""

from __future__ import annotations

import asyncio
import collections
import random
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx
from attrs import frozen

from querylang.catalog import RateLimit
from querylang.errors import ProviderError
from querylang.failures import malformed
from querylang.frames import Frame
from querylang.hookspecs import Provider
from querylang.planning import Piece, Plan
from querylang.wire import AuthSession, NativeRequest, NativeResponse

__all__ = ["ExecutionSettings", "RateLimiter", "execute"]

USER_AGENT = "querylang/0.1"


@frozen(kw_only=True)
class ExecutionSettings:
    """How hard to try: timeouts, retries, concurrency, progress."""

    timeout: float = 30.0
    max_attempts: int = 4
    backoff: float = 0.5  # first retry delay in seconds; doubles each try, with jitter
    max_wait: float = 120.0  # the longest Retry-After honoured before giving up
    concurrency: int | None = None  # overrides each dataset's max_concurrency
    progress: bool | None = None  # None: on a terminal, when a run makes more than 3 calls


class RateLimiter:
    """Keeps calls within every (calls, per_seconds) limit, and honours pauses."""

    def __init__(
        self, limits: Sequence[RateLimit], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = tuple(limits)
        self.clock = clock
        depth = max((rl.calls for rl in self.limits), default=0)
        self.sent: collections.deque[float] = collections.deque(maxlen=depth or None)
        self.paused_until = 0.0
        self.lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self.clock() + seconds)

    def _wait(self, now: float) -> float:
        wait = self.paused_until - now
        for rl in self.limits:
            # A small margin: the vendor counts arrivals, which network jitter can bunch.
            span = rl.per_seconds * 1.02 + 0.05
            recent = [t for t in self.sent if t > now - span]
            if len(recent) >= rl.calls:
                wait = max(wait, recent[-rl.calls] + span - now)
        return wait

    async def acquire(self) -> None:
        async with self.lock:
            while True:
                now = self.clock()
                wait = self._wait(now)
                if wait <= 0:
                    if self.limits:
                        self.sent.append(now)
                    return
                await asyncio.sleep(wait + 0.001)


class _Progress:
    """On stderr: one bar per provider (calls done of its total) with the time left."""

    def __init__(self, totals: dict[str, int], enabled: bool) -> None:
        self.bar: Any = None
        self.tasks: dict[str, Any] = {}
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            "calls",
            TimeElapsedColumn(),
            "ETA",
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        for name, total in totals.items():
            self.tasks[name] = self.bar.add_task(name, total=total)
        self.bar.start()

    def advance(self, provider: str) -> None:
        if self.bar is not None:
            self.bar.advance(self.tasks[provider])

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


class _ProviderLane:
    """What requests to one account of one provider share during a run: its limits, its token.

    Two connections of one vendor are two lanes, each within the vendor's limits; one
    account read twice in a run (two queries, two datasets) is one lane, limited once.
    """

    def __init__(self, plan: Plan, client: httpx.AsyncClient, settings: ExecutionSettings):
        bound = plan.bound
        ds = bound.dataset
        connection = bound.connection
        limits = tuple(ds.rate_limits)
        width = ds.max_concurrency
        if connection is not None:
            if connection.rate_limit is not None:
                calls, per = connection.rate_limit
                limits += (RateLimit(calls=calls, per_seconds=per),)
            width = connection.concurrency or width
        self.provider = bound.provider
        self.account = bound.account or bound.provider.name
        self.limiter = RateLimiter(limits)
        self.semaphore = asyncio.Semaphore(settings.concurrency or width)
        self.session = AuthSession(client, plan.context)

    def name_account(self, error: ProviderError) -> ProviderError:
        """An error from a named connection names it, not only the vendor."""
        if self.account != self.provider.name and not error.provider.startswith(self.account):
            error.provider = f"{self.account} ({error.provider})"
        return error


def _transport_error(
    provider: str, request: NativeRequest, exc: Exception, timeout: float
) -> ProviderError:
    if isinstance(exc, httpx.TimeoutException):
        return ProviderError(
            provider,
            f"no answer within {timeout:g} s",
            code="P504",
            request=request.describe(),
            hint="try again, or allow longer with --timeout SECONDS",
            retryable=True,
        )
    host = httpx.URL(request.url).host
    env = f"QUERYLANG_{provider.upper().replace('.', '_')}_BASE_URL"
    return ProviderError(
        provider,
        f"could not connect to {host} ({type(exc).__name__})",
        code="P502",
        request=request.describe(),
        hint=f"check the network, or the base URL in {env} if you set it",
        retryable=True,
    )


async def _call(
    lane: _ProviderLane,
    piece: Piece,
    request: NativeRequest,
    client: httpx.AsyncClient,
    settings: ExecutionSettings,
) -> Frame:
    provider = lane.provider
    refresh = False
    reauthorized = False
    attempt = 0
    while True:
        attempt += 1
        await lane.limiter.acquire()
        sent = await provider.authorize(request, lane.session, refresh=refresh)
        refresh = False
        try:
            http = await client.send(
                httpx.Request(sent.method, sent.url, headers=list(sent.headers), content=sent.body)
            )
            response = NativeResponse(
                status=http.status_code, headers=dict(http.headers), content=http.content
            )
        except httpx.HTTPError as exc:
            error: Exception = _transport_error(provider.name, request, exc, settings.timeout)
            if attempt >= settings.max_attempts:
                raise error from None
            await asyncio.sleep(settings.backoff * 2 ** (attempt - 1) * random.uniform(0.5, 1.0))
            continue
        verdict = provider.check(request, response)
        if verdict.kind == "ok":
            if verdict.pause:
                lane.limiter.pause(verdict.pause)
            return _decode(provider, piece, request, response)
        error = verdict.error or ProviderError(provider.name, f"HTTP {response.status}")
        if verdict.kind == "reauth" and not reauthorized:
            reauthorized = refresh = True
            attempt -= 1
            continue
        if verdict.kind == "retry" and attempt < settings.max_attempts:
            delay = verdict.delay
            if delay is not None:
                if delay > settings.max_wait:
                    raise error
                lane.limiter.pause(delay)
            else:
                delay = settings.backoff * 2 ** (attempt - 1) * random.uniform(0.5, 1.0)
            await asyncio.sleep(delay)
            continue
        raise error


def _decode(
    provider: Provider, piece: Piece, request: NativeRequest, response: NativeResponse
) -> Frame:
    try:
        frame = provider.decode(piece.native, request, response)
    except ProviderError:
        raise
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise malformed(provider.name, request, str(exc), status=response.status) from None
    expected_dims = tuple(piece.native.group_by)
    if tuple(frame.dims) != expected_dims or not set(frame.metrics) <= set(request.metrics):
        raise ProviderError(
            provider.name,
            f"decode returned columns {frame.columns}, expected time, {', '.join(expected_dims)} "
            f"and some of {', '.join(request.metrics)}",
            code="P602",
            request=request.describe(),
            hint="this is a bug in the provider plugin",
        )
    return frame


async def _execute(
    plans: Sequence[Plan],
    settings: ExecutionSettings,
    transport: httpx.AsyncBaseTransport | None,
) -> list[list[list[Frame]]]:
    total = sum(len(p.requests) for p in plans)
    show = settings.progress
    if show is None:
        show = sys.stderr.isatty() and total > 3
    totals: dict[str, int] = {}
    for p in plans:
        name = p.bound.provider.name
        totals[name] = totals.get(name, 0) + len(p.requests)
    progress = _Progress(totals, bool(show))
    results: list[list[list[Frame]]] = [
        [[Frame.empty()] * len(piece.requests) for piece in plan.pieces] for plan in plans
    ]
    try:
        async with httpx.AsyncClient(
            transport=transport,
            timeout=settings.timeout,
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
        ) as client:
            lanes: dict[str, _ProviderLane] = {}
            for plan in plans:
                key = _lane_key(plan)
                if key not in lanes:
                    lanes[key] = _ProviderLane(plan, client, settings)

            async def one(i: int, j: int, k: int) -> None:
                plan = plans[i]
                piece = plan.pieces[j]
                lane = lanes[_lane_key(plan)]
                async with lane.semaphore:
                    try:
                        results[i][j][k] = await _call(
                            lane, piece, piece.requests[k], client, settings
                        )
                    except ProviderError as exc:
                        raise lane.name_account(exc) from None
                progress.advance(plan.bound.provider.name)

            try:
                async with asyncio.TaskGroup() as group:
                    for i, plan in enumerate(plans):
                        for j, piece in enumerate(plan.pieces):
                            for k in range(len(piece.requests)):
                                group.create_task(one(i, j, k))
            except BaseExceptionGroup as eg:
                raise _first(eg) from None
    finally:
        progress.close()
    return results


def _lane_key(plan: Plan) -> str:
    return plan.bound.account or plan.bound.provider.name


def _first(group: BaseExceptionGroup) -> BaseException:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return _first(exc)
        if not isinstance(exc, asyncio.CancelledError):
            return exc
    return group.exceptions[0]


def execute(
    plans: Sequence[Plan],
    settings: ExecutionSettings | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[list[list[Frame]]]:
    """Send every plan's requests; frames indexed [plan][piece][request]."""
    return asyncio.run(_execute(plans, settings or ExecutionSettings(), transport))
