"""Hosting provider emulators: in-process behind ``--sandbox``, or on a loopback port."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO
from urllib.parse import urlsplit

import httpx

from querylang.emulation.log import RequestLog
from querylang.emulation.synthetic import account_data, json_response
from querylang.hookspecs import Emulator

__all__ = ["LoopbackServer", "SandboxTransport", "host_of", "serve"]


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
        # where each request is logged (method, path?query with secrets redacted, status)
        self.log = None if log is None else RequestLog(log)
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
                if server.log is not None:  # before the answer: a client that has it sees it logged
                    server.log.write(self.command, self.path, response.status_code)
                self.send_response(response.status_code)
                for key, value in response.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(content)

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
