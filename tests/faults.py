"""A fault-injecting loopback server in front of a provider's emulator (issue 19's matrix).

Every call goes over real HTTP on 127.0.0.1. A :class:`Fault` says what to do instead of
(or to) the emulator's answer, and on which of the data calls: each one (``always``), the
first ``n`` (a burst that recovers), or only the ``n``-th (one piece of several).
Calls to ``skip`` paths (an OAuth token endpoint) are always answered as they are.
"""

from __future__ import annotations

import email.utils
import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from attrs import field, frozen

from querylang.hookspecs import Emulator


@frozen(kw_only=True)
class Fault:
    """What goes wrong: a status (with headers, body), a socket trick, or a body change."""

    name: str
    status: int | None = None  # answer this status instead of the emulator's
    headers: dict[str, str] = field(factory=dict)  # a value "" removes the header
    body: bytes | None = None  # answer this body (with the emulator's status, or ``status``)
    transform: Callable[[Any], Any] | None = None  # rewrite the emulator's JSON answer
    socket: str | None = None  # "reset" | "close" | "trickle"
    first: int | None = None  # only the first n data calls (None: see ``nth``/always)
    nth: int | None = None  # only the n-th data call (1-based)

    def applies(self, n: int) -> bool:
        if self.first is not None:
            return n <= self.first
        if self.nth is not None:
            return n == self.nth
        return True


def _numbers(value: Any, to: Callable[[Any], Any]) -> Any:
    """Every number in a JSON document replaced by ``to(number)``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return to(value)
    if isinstance(value, str) and _numeric(value):  # Fastly sends numbers as strings
        return to(value)
    if isinstance(value, list):
        return [_numbers(v, to) for v in value]
    if isinstance(value, dict):
        return {k: _numbers(v, to) for k, v in value.items()}
    return value


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def strings_for_numbers(doc: Any) -> Any:
    return _numbers(doc, lambda _: "lots")


def nulls_for_numbers(doc: Any) -> Any:
    return _numbers(doc, lambda _: None)


TEN_DAYS = 10 * 86400


def _shifted(ts: Any) -> Any:
    """A timestamp ten days earlier, in the form it came in (seconds, millis, text, ISO)."""
    if isinstance(ts, int | float) and not isinstance(ts, bool):
        return ts - (TEN_DAYS * 1000 if ts > 1e11 else TEN_DAYS)
    if isinstance(ts, str) and _numeric(ts):
        return str(_shifted(int(float(ts))))
    if isinstance(ts, str):
        import datetime as dt

        when = dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))
        text = (when - dt.timedelta(seconds=TEN_DAYS)).isoformat()
        return text.replace("+00:00", "Z") if ts.endswith("Z") else text
    return ts


def outside_window(doc: Any) -> Any:
    """Every series gets one more point, ten days before the requested window."""
    return _extra_point(doc, _shifted)


def duplicate_points(doc: Any) -> Any:
    """Every series gets its first point twice."""
    return _extra_point(doc, lambda ts: ts)


def _extra_point(doc: Any, when: Callable[[Any], Any]) -> Any:
    if isinstance(doc, dict):
        out = {k: _extra_point(v, when) for k, v in doc.items()}
        names, samples = doc.get("metrics"), doc.get("samples")
        if isinstance(names, list) and "usageTime" in names and isinstance(samples, list):
            i = names.index("usageTime")  # StackPath: the time is one of the sample's values
            if samples and isinstance(samples[0], dict) and "values" in samples[0]:
                extra = dict(samples[0])
                extra["values"] = list(extra["values"])
                extra["values"][i] = when(extra["values"][i])
                out["samples"] = [*out["samples"], extra]
        return out
    if isinstance(doc, list) and doc:
        out = [_extra_point(v, when) for v in doc]
        first = doc[0]
        if all(isinstance(p, list) and len(p) >= 2 for p in doc):  # [[ts, value], ...]
            out.append([when(first[0]), *first[1:]])
        elif all(isinstance(r, dict) and "start_time" in r for r in doc):  # Fastly records
            out.append({**first, "start_time": when(first["start_time"])})
        return out
    return doc


def http_date(seconds_from_now: float) -> str:
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up mid-answer is what these faults are about: no report."""


class FaultServer:
    """The emulator on a loopback port, with ``fault`` applied to its data calls."""

    def __init__(self, emulator: Emulator, fault: Fault | None, skip: tuple[str, ...] = ()):
        self.emulator = emulator
        self.fault = fault
        self.skip = skip
        self.calls = 0
        self.lock = threading.Lock()
        self.httpd = _QuietServer(("127.0.0.1", 0), self._handler())
        # a short poll: shutdown() waits up to one poll interval, once per matrix cell
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = httpx.Request(
                    self.command,
                    f"http://{self.headers.get('Host')}{self.path}",
                    headers=list(self.headers.items()),
                    content=body,
                )
                fault = server.fault
                if fault is not None and not any(self.path.startswith(p) for p in server.skip):
                    with server.lock:
                        server.calls += 1
                        n = server.calls
                    if not fault.applies(n):
                        fault = None
                else:
                    fault = None
                if fault is not None and fault.socket == "reset":
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.close_connection = True
                    return
                if fault is not None and fault.socket == "close":
                    self.close_connection = True
                    return
                answer = server.emulator.handle(request)
                status, content = answer.status_code, answer.content
                headers = {k.lower(): v for k, v in answer.headers.items()}
                if fault is not None:
                    if fault.transform is not None:
                        content = json.dumps(fault.transform(json.loads(content))).encode()
                    if fault.body is not None:
                        content = fault.body
                    if fault.status is not None:
                        status = fault.status
                    headers.update({k.lower(): v for k, v in fault.headers.items()})
                    headers = {k: v for k, v in headers.items() if v != ""}  # "": removed
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                if fault is not None and fault.socket == "trickle":
                    for i in range(min(len(content), 40)):  # a byte every 0.1 s, then gone
                        try:
                            self.wfile.write(content[i : i + 1])
                            self.wfile.flush()
                        except OSError:
                            return
                        time.sleep(0.1)
                    self.close_connection = True
                    return
                self.wfile.write(content)

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler


@contextmanager
def fault_server(
    emulator: Emulator, fault: Fault | None, skip: tuple[str, ...] = ()
) -> Iterator[FaultServer]:
    server = FaultServer(emulator, fault, skip)
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
