"""Running provider emulators: in-process behind ``--sandbox``, or on a loopback port.

Also the deterministic synthetic data every built-in emulator draws from: a per-minute
rate that is constant within each UTC hour, so any bucket's total is exact and a coarse
bucket always equals the sum of the finer buckets inside it.
"""

from __future__ import annotations

import json
import threading
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO
from urllib.parse import urlsplit

import httpx
import numpy as np

from querylang.hookspecs import Emulator

__all__ = ["LoopbackServer", "SandboxTransport", "json_response", "serve", "synthetic_totals"]


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


class SandboxTransport(httpx.AsyncBaseTransport):
    """Routes each request to the emulator serving its host; nothing leaves the process."""

    def __init__(self, routes: Mapping[str, Emulator | tuple[Emulator, str]]) -> None:
        """``routes``: host → emulator, or (emulator, account) to serve a named account."""
        self.routes = {
            host.lower(): entry if isinstance(entry, tuple) else (entry, "")
            for host, entry in routes.items()
        }

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        route = self.routes.get(request.url.netloc.decode().lower())
        if route is None:
            return httpx.Response(502, text=f"no sandbox emulator for {request.url.host}")
        emulator, account = route
        await request.aread()
        with account_data(account):
            response = emulator.handle(request)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=response.content,
            request=request,
        )


def host_of(url: str) -> str:
    """The ``host[:port]`` of a base URL, as SandboxTransport routes on it."""
    return urlsplit(url).netloc.lower()


class LoopbackServer:
    """An emulator served over real HTTP on 127.0.0.1 (a thread per connection)."""

    def __init__(
        self,
        emulator: Emulator,
        host: str = "127.0.0.1",
        port: int = 0,
        log: TextIO | None = None,
    ) -> None:
        self.emulator = emulator
        self.log = log  # where each request is logged (method, path, status); None: silent
        self.requests = 0
        handler = self._handler_class()
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                host = self.headers.get("Host") or f"127.0.0.1:{server.port}"
                request = httpx.Request(
                    self.command,
                    f"http://{host}{self.path}",
                    headers=list(self.headers.items()),
                    content=body,
                )
                server.requests += 1
                try:
                    response = server.emulator.handle(request)
                except Exception as exc:  # an emulator bug is a 500, as on a real server
                    response = json_response(500, {"message": f"emulator error: {exc}"})
                content = response.content
                self.send_response(response.status_code)
                for key, value in response.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(content)
                if server.log is not None:
                    # The path alone: a query string may carry a token (BaishanCloud's does).
                    path = urlsplit(self.path).path
                    server.log.write(f"{self.command} {path} {response.status_code}\n")
                    server.log.flush()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler

    def start(self) -> LoopbackServer:
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def serve_forever(self) -> None:
        self.httpd.serve_forever()


@contextmanager
def serve(emulator: Emulator, port: int = 0) -> Iterator[LoopbackServer]:
    """Run ``emulator`` on a loopback port for the duration of a ``with`` block."""
    server = LoopbackServer(emulator, port=port).start()
    try:
        yield server
    finally:
        server.stop()


def fixed_clock(ts: float) -> Callable[[], float]:
    """A clock that always says ``ts`` (for reproducible emulators)."""
    return lambda: ts
