"""Executing against real loopback HTTP servers: retries, Retry-After, timeouts, auth, limits."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import httpx
import pytest

from querylang.catalog import RateLimit
from querylang.emulation import json_response, serve
from querylang.engine import run
from querylang.errors import ProviderError
from querylang.execution import ExecutionSettings, RateLimiter
from querylang.plugins import registry
from tests.conftest import NOW, NOW_TEXT

QUERY = "SELECT sent_bytes BY region FROM gcore EVERY 1h LAST 3h"
FAST = ExecutionSettings(backoff=0.01, timeout=2.0)


class Flaky:
    """Wraps an emulator: answers the first ``failures`` calls with ``status``."""

    def __init__(self, inner, failures: int, status: int, headers: dict | None = None) -> None:
        self.inner = inner
        self.failures = failures
        self.status = status
        self.headers = headers or {}
        self.calls = 0
        self.lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.calls += 1
            fail = self.calls <= self.failures
        if fail:
            return json_response(self.status, {"message": "try later"}, self.headers)
        return self.inner.handle(request)


def _gcore_emulator():
    return registry().get("gcore").emulator(lambda: float(NOW))


def _env(url: str) -> dict[str, str]:
    return {"GCORE_API_KEY": "key-abcdef", "QUERYLANG_GCORE_BASE_URL": url}


def _rows(url: str, settings: ExecutionSettings = FAST):
    return list(run(QUERY, now=NOW_TEXT, env=_env(url), settings=settings)[0].frame.rows())


def test_end_to_end_over_loopback(gcore_server) -> None:
    rows = _rows(gcore_server.url)
    assert len(rows) == 3 * 7
    assert gcore_server.requests == 1


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_transient_failures_are_retried(status: int) -> None:
    flaky = Flaky(_gcore_emulator(), failures=2, status=status)
    with serve(_gcore_emulator()) as good:
        expected = _rows(good.url)
    with serve(flaky) as server:
        assert _rows(server.url) == expected
    assert flaky.calls == 3


def test_retry_after_is_honoured() -> None:
    flaky = Flaky(_gcore_emulator(), failures=1, status=429, headers={"Retry-After": "0.3"})
    with serve(flaky) as server:
        started = time.monotonic()
        _rows(server.url)
        assert time.monotonic() - started >= 0.3
    assert flaky.calls == 2


def test_a_clear_error_after_the_last_try() -> None:
    flaky = Flaky(_gcore_emulator(), failures=99, status=503)
    with serve(flaky) as server, pytest.raises(ProviderError) as info:
        _rows(server.url, ExecutionSettings(backoff=0.01, max_attempts=3))
    assert flaky.calls == 3
    assert info.value.code == "P500"
    assert "HTTP 503" in info.value.render()
    assert "key-abcdef" not in info.value.render()


def test_a_long_retry_after_fails_fast_instead_of_hanging() -> None:
    flaky = Flaky(_gcore_emulator(), failures=99, status=429, headers={"Retry-After": "3600"})
    with serve(flaky) as server, pytest.raises(ProviderError) as info:
        _rows(server.url)
    assert info.value.code == "P429"
    assert flaky.calls == 1


def test_client_errors_are_not_retried() -> None:
    flaky = Flaky(_gcore_emulator(), failures=99, status=400)
    with serve(flaky) as server, pytest.raises(ProviderError) as info:
        _rows(server.url)
    assert flaky.calls == 1
    assert info.value.code == "P400"


def test_bad_credentials_name_the_variable(gcore_server) -> None:
    env = {**_env(gcore_server.url), "GCORE_API_KEY": "invalid"}
    with pytest.raises(ProviderError) as info:
        run(QUERY, now=NOW_TEXT, env=env, settings=FAST)
    assert info.value.code == "P401"
    assert "GCORE_API_KEY" in info.value.render()
    assert gcore_server.requests == 2  # one re-authorisation, then the error


class Slow:
    def handle(self, request: httpx.Request) -> httpx.Response:
        time.sleep(1.0)
        return httpx.Response(204)


def test_timeouts_become_clear_errors() -> None:
    with serve(Slow()) as server, pytest.raises(ProviderError) as info:
        _rows(server.url, ExecutionSettings(timeout=0.2, max_attempts=2, backoff=0.01))
    assert info.value.code == "P504"
    assert "--timeout" in (info.value.hint or "")


def test_unreachable_host_is_a_clear_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ProviderError) as info:
        _rows(f"http://127.0.0.1:{port}", ExecutionSettings(max_attempts=2, backoff=0.01))
    assert info.value.code == "P502"
    assert "QUERYLANG_GCORE_BASE_URL" in (info.value.hint or "")


def test_malformed_response_names_provider_and_request() -> None:
    class Broken:
        def handle(self, request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, content=b'{"region": "oops"}')

    with serve(Broken()) as server, pytest.raises(ProviderError) as info:
        _rows(server.url)
    text = info.value.render()
    assert info.value.code == "P600"
    assert "gcore" in text and "/cdn/statistics/series" in text
    assert "key-abcdef" not in text


def test_rate_limiter_keeps_every_window_within_its_limit() -> None:
    limits = (RateLimit(calls=5, per_seconds=0.3), RateLimit(calls=8, per_seconds=1.0))
    stamps: list[float] = []

    async def main() -> None:
        limiter = RateLimiter(limits)

        async def one() -> None:
            await limiter.acquire()
            stamps.append(time.monotonic())
            limiter.release()  # answered at once

        await asyncio.gather(*(one() for _ in range(12)))

    asyncio.run(main())
    assert len(stamps) == 12
    for rl in limits:
        for t in stamps:
            inside = [s for s in stamps if t <= s < t + rl.per_seconds]
            assert len(inside) <= rl.calls


def test_mock_transport_in_process() -> None:
    emulator = _gcore_emulator()
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return emulator.handle(request)

    env = {"GCORE_API_KEY": "mock-key"}
    results = run(QUERY, now=NOW_TEXT, env=env, transport=httpx.MockTransport(handler))
    assert len(results[0].frame) == 21
    assert seen == ["APIKey mock-key"]
