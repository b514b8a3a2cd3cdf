"""Hosting provider emulators: in-process behind ``--sandbox``, or on a loopback port.

An emulator answers with an ``httpx.Response``; :func:`deliver` marks one to be delivered
badly instead, as a flaky network would: ``reset`` (the connection is reset, no answer),
``close`` (closed without an answer) or ``trickle`` (the headers, then the body a byte every
:attr:`LoopbackServer.trickle_interval` seconds, cut off after
:attr:`LoopbackServer.trickle_bytes`). The loopback server does it on the socket; the
sandbox raises the error an httpx client would see (a trickle is delivered whole there).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, TextIO
from urllib.parse import urlsplit

import httpx

from querylang.emulation.log import RequestLog
from querylang.emulation.synthetic import account_data, json_response
from querylang.hookspecs import Emulator

__all__ = [
    "Delivery",
    "LoopbackServer",
    "SandboxTransport",
    "deliver",
    "delivery",
    "host_of",
    "serve",
]

Delivery = Literal["normal", "reset", "close", "trickle"]
_DELIVERY = "querylang.delivery"  # the response extension that carries it
_HOP_BY_HOP = ("content-length", "transfer-encoding", "connection")


def deliver(response: httpx.Response, how: Delivery) -> httpx.Response:
    """``response``, marked to be delivered ``how`` (see the module docstring)."""
    response.extensions[_DELIVERY] = how
    return response


def delivery(response: httpx.Response) -> Delivery:
    """How ``response`` is to be delivered (``normal`` unless :func:`deliver` said otherwise)."""
    how: Delivery = response.extensions.get(_DELIVERY, "normal")
    return how


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
        how = delivery(response)
        if how == "reset":
            raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
        if how == "close":
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=response.content,
            request=request,
        )


def host_of(url: str) -> str:
    """The ``host[:port]`` of a base URL, as SandboxTransport routes on it."""
    return urlsplit(url).netloc.lower()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up mid-answer is the client's business: no report."""


class LoopbackServer:
    """An emulator served over real HTTP on 127.0.0.1 (a thread per connection)."""

    trickle_interval = 0.1  # seconds between the bytes of a trickled body
    trickle_bytes = 40  # a trickled body is cut off after this many bytes

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
        self.httpd = _Server((host, port), self._handler_class())
        self.thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, request: httpx.Request) -> httpx.Response:
        """The emulator's answer; an emulator bug is a 500, as on a real server."""
        self.requests += 1
        try:
            return self.emulator.handle(request)
        except Exception as exc:
            return json_response(500, {"message": f"emulator error: {exc}"})

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
                response = server.answer(request)
                how = delivery(response)
                if how in ("reset", "close"):
                    if how == "reset":  # linger 0: close() sends RST instead of FIN
                        linger = struct.pack("ii", 1, 0)
                        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                    self.close_connection = True
                    return
                content = response.content
                if server.log is not None:  # before the answer: a client that has it sees it logged
                    server.log.write(self.command, self.path, response.status_code)
                self.send_response(response.status_code)
                for key, value in response.headers.items():
                    if key.lower() not in _HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                if self.command == "HEAD":
                    return
                if how == "trickle":
                    self._trickle(content)
                    return
                self.wfile.write(content)

            def _trickle(self, content: bytes) -> None:
                for i in range(min(len(content), server.trickle_bytes)):
                    try:
                        self.wfile.write(content[i : i + 1])
                        self.wfile.flush()
                    except OSError:
                        return
                    time.sleep(server.trickle_interval)
                self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler

    def start(self, poll_interval: float = 0.02) -> LoopbackServer:
        """Serve on a daemon thread; ``stop()`` returns within about ``poll_interval``."""
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": poll_interval}, daemon=True
        )
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
