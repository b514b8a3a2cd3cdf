"""Plans → decoded frames: concurrent httpx calls within rate limits, with retries.

Any failure ends the whole run with one clear error: a result is never silently partial.
"""

from __future__ import annotations

import asyncio
import collections
import math
import random
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import httpx
from attrs import frozen

from querylang import redaction
from querylang.catalog import RateLimit
from querylang.errors import ProviderError
from querylang.failures import malformed
from querylang.frames import Frame
from querylang.hookspecs import Provider
from querylang.planning import Piece, Plan
from querylang.wire import AuthSession, NativeRequest, NativeResponse

__all__ = ["ExecutionSettings", "RateLimiter", "execute"]

USER_AGENT = "querylang/0.1"

T = TypeVar("T")


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
    """Keeps calls within every (calls, per_seconds) limit, and honours pauses.

    Exact for sliding windows, without a margin: a call holds a slot from the moment it is
    sent until ``per_seconds`` after its answer came back (the vendor counted it somewhere
    in between), so calls in flight count too. :meth:`acquire` takes a slot,
    :meth:`release` marks the call answered (or failed on the wire).

    A vendor that says how many calls it has left until a reset (Fastly's
    ``RateLimit-Remaining``) sets a budget with :meth:`limit`: what is left less the calls
    still in flight may be sent, and no more until the reset.
    """

    def __init__(
        self, limits: Sequence[RateLimit], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = tuple(limits)
        self.clock = clock
        depth = max((rl.calls for rl in self.limits), default=0)
        self.done: collections.deque[float] = collections.deque(maxlen=depth or None)
        self.in_flight = 0
        self.paused_until = 0.0
        self.budget: int | None = None  # calls that may still be sent before budget_reset
        self.budget_reset = 0.0
        self.lock = asyncio.Lock()
        self.answered = asyncio.Event()

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self.clock() + seconds)

    def limit(self, remaining: int, reset_in: float) -> None:
        """The vendor has ``remaining`` calls left for ``reset_in`` seconds (this call counted).

        The calls still in flight may use some of them up, so only the rest may be sent.
        Answers arrive out of order: within one reset window the smallest budget holds.
        """
        now = self.clock()
        left = max(remaining - self.in_flight, 0)
        if self.budget is None or now >= self.budget_reset:
            self.budget, self.budget_reset = left, now + reset_in
        else:
            self.budget = min(self.budget, left)
            self.budget_reset = max(self.budget_reset, now + reset_in)

    def _wait(self, now: float) -> float:
        """Seconds until a call may go (``inf``: until a call in flight is answered)."""
        wait = self.paused_until - now
        if self.budget is not None and now < self.budget_reset and self.budget <= 0:
            wait = max(wait, self.budget_reset - now)
        for rl in self.limits:
            recent = [t for t in self.done if t > now - rl.per_seconds]
            needed = len(recent) + self.in_flight - rl.calls + 1
            if needed <= 0:
                continue
            if needed > len(recent):
                return math.inf
            wait = max(wait, recent[needed - 1] + rl.per_seconds - now)
        return wait

    async def acquire(self) -> None:
        async with self.lock:
            while True:
                now = self.clock()
                wait = self._wait(now)
                if wait <= 0:
                    self.in_flight += 1
                    if self.budget is not None:
                        self.budget = self.budget - 1 if now < self.budget_reset else None
                    return
                self.answered.clear()
                try:
                    async with asyncio.timeout(None if math.isinf(wait) else wait + 0.001):
                        await self.answered.wait()
                except TimeoutError:
                    pass

    def release(self) -> None:
        self.in_flight -= 1
        if self.limits:
            self.done.append(self.clock())
        self.answered.set()


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
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
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
        try:
            sent = await provider.authorize(request, lane.session, refresh=refresh)
            refresh = False
            _remember_secrets(sent, tuple(lane.session.context.credentials.values()))
            # --timeout is a deadline for the whole call, however slowly the body trickles
            async with asyncio.timeout(settings.timeout):
                http = await client.send(
                    httpx.Request(
                        sent.method, sent.url, headers=list(sent.headers), content=sent.body
                    )
                )
            response = NativeResponse(
                status=http.status_code, headers=dict(http.headers), content=http.content
            )
        except (httpx.HTTPError, TimeoutError) as exc:
            lane.limiter.release()
            error: Exception = _transport_error(provider.name, request, exc, settings.timeout)
            if attempt >= settings.max_attempts:
                raise error from None
            await asyncio.sleep(settings.backoff * 2 ** (attempt - 1) * random.uniform(0.5, 1.0))
            continue
        except BaseException:
            lane.limiter.release()
            raise
        # check and decode parse the body: off the event loop, so the other calls in flight
        # keep being sent and read meanwhile (the parse releases the GIL in part). The call
        # keeps its slot until its verdict is read: a quota it reports (Fastly's
        # RateLimit-Remaining) must hold the next call before that call can take the slot.
        try:
            verdict = await asyncio.to_thread(provider.check, request, response)
        finally:
            lane.limiter.release()
        if verdict.kind == "ok":
            # a quota until a reset is a budget of further calls; a pause alone holds them
            if verdict.quota is not None and verdict.pause is not None:
                lane.limiter.limit(verdict.quota, verdict.pause)
            elif verdict.pause:
                lane.limiter.pause(verdict.pause)
            return await asyncio.to_thread(_decode, provider, piece, request, response)
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


def _remember_secrets(request: NativeRequest, credentials: Sequence[str]) -> None:
    """A token a provider obtained (OAuth, say) is a secret like the configured ones.

    Values built from the configured credentials are left alone: those are remembered
    where they are read, and the sandbox's placeholders ("sandbox") are no secret.
    """
    values = [
        v for k, v in request.headers if k.lower() in {h.lower() for h in request.secret_headers}
    ]
    if request.secret_params:
        secret_params = {p.lower() for p in request.secret_params}
        query = parse_qsl(urlsplit(request.url).query, keep_blank_values=True)
        values += [v for k, v in query if k.lower() in secret_params]
    for value in values:
        if not any(c and c in value for c in credentials):
            redaction.remember(value)


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
    return _run_interruptibly(_execute(plans, settings or ExecutionSettings(), transport))


def _run_interruptibly(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` in a fresh loop where Ctrl-C stops it at once, as one KeyboardInterrupt.

    Python's own SIGINT handler stays in place (``asyncio.run`` would defer the first
    Ctrl-C to the next await and print a traceback on the second): the interrupt lands
    wherever the run is, even inside a slow synchronous step, then every task left is
    cancelled (calls in flight are abandoned, their connections closed) and the loop's
    "exception never retrieved" report of the interrupted task is not printed.
    """
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(_quiet_interrupts)
    task = loop.create_task(coro)
    try:
        return loop.run_until_complete(task)
    except KeyboardInterrupt:
        task.cancel()
        raise
    finally:
        try:
            _cancel_all(loop)
        finally:
            loop.close()


def _quiet_interrupts(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    if isinstance(context.get("exception"), KeyboardInterrupt | asyncio.CancelledError):
        return
    loop.default_exception_handler(context)


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is left and let it finish (closing sockets), quietly."""
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for t in pending:
        t.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.run_until_complete(loop.shutdown_default_executor())  # the decode threads
