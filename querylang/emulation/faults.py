"""Faults in front of an emulator: what a provider must survive, for its own tests.

:class:`FaultyEmulator` wraps any emulator and applies a :class:`Fault` to its data calls:
a status instead of the emulator's (with headers and a body), a rewrite of the emulator's
JSON answer, or a socket trick (reset, close, trickle: see
:mod:`querylang.emulation.hosting`). A fault applies to every data call (``always``), the
first ``n`` (a burst that recovers) or only the ``n``-th (one piece of several). Calls to a
``skip`` path (an OAuth token endpoint) are never faulted nor counted. Serve it like any
emulator::

    burst = Fault(name="503 burst", status=503, first=2)
    with serve(FaultyEmulator(provider.emulator(now), burst)) as server:
        ...  # point the provider at server.url and run a query: it must retry and succeed
"""

from __future__ import annotations

import email.utils
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from attrs import field, frozen

from querylang.emulation.hosting import deliver
from querylang.hookspecs import Emulator

__all__ = [
    "Fault",
    "FaultyEmulator",
    "http_date",
    "nulls_for_numbers",
    "replace_numbers",
    "strings_for_numbers",
]

_RECOMPUTED = ("content-length", "transfer-encoding")


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
        """Whether the fault hits the ``n``-th data call (counted from 1)."""
        if self.first is not None:
            return n <= self.first
        if self.nth is not None:
            return n == self.nth
        return True


class FaultyEmulator:
    """``emulator`` with ``fault`` applied to its data calls (None: no fault, just counting)."""

    def __init__(self, emulator: Emulator, fault: Fault | None, skip: tuple[str, ...] = ()) -> None:
        self.emulator = emulator
        self.fault = fault
        self.skip = skip  # path prefixes never faulted nor counted
        self.calls = 0  # data calls seen
        self._lock = threading.Lock()

    def _fault_for(self, request: httpx.Request) -> Fault | None:
        if self.fault is None or request.url.path.startswith(self.skip):
            return None
        with self._lock:
            self.calls += 1
            n = self.calls
        return self.fault if self.fault.applies(n) else None

    def handle(self, request: httpx.Request) -> httpx.Response:
        fault = self._fault_for(request)
        if fault is not None and fault.socket in ("reset", "close"):
            return deliver(httpx.Response(502), "reset" if fault.socket == "reset" else "close")
        answer = self.emulator.handle(request)
        if fault is None:
            return answer
        content = answer.content
        if fault.transform is not None:
            content = json.dumps(fault.transform(json.loads(content))).encode()
        if fault.body is not None:
            content = fault.body
        headers = {k.lower(): v for k, v in answer.headers.items() if k.lower() not in _RECOMPUTED}
        headers.update({k.lower(): v for k, v in fault.headers.items()})
        out = httpx.Response(
            answer.status_code if fault.status is None else fault.status,
            headers={k: v for k, v in headers.items() if v != ""},  # "": removed
            content=content,
        )
        return deliver(out, "trickle") if fault.socket == "trickle" else out


def replace_numbers(doc: Any, to: Callable[[Any], Any]) -> Any:
    """Every number in a JSON document (and every numeric string) replaced by ``to(number)``."""
    if isinstance(doc, bool):
        return doc
    if isinstance(doc, int | float) or (isinstance(doc, str) and _numeric(doc)):
        return to(doc)  # numeric strings too: some vendors (Fastly) send numbers as text
    if isinstance(doc, list):
        return [replace_numbers(v, to) for v in doc]
    if isinstance(doc, dict):
        return {k: replace_numbers(v, to) for k, v in doc.items()}
    return doc


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def strings_for_numbers(doc: Any) -> Any:
    """Every number as the string ``lots`` (a transform for :attr:`Fault.transform`)."""
    return replace_numbers(doc, lambda _: "lots")


def nulls_for_numbers(doc: Any) -> Any:
    """Every number as null (a transform for :attr:`Fault.transform`)."""
    return replace_numbers(doc, lambda _: None)


def http_date(seconds_from_now: float) -> str:
    """An HTTP-date ``seconds_from_now`` ahead, as a ``Retry-After`` may say it."""
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)
