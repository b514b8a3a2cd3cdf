"""Fastly Historical Stats (``FROM fastly``): seed 002 plus shared/providers.md.

Authentication is the ``Fastly-Key: <token>`` header, the token read from
``FASTLY_API_TOKEN`` (the Fastly CLI's and SDKs' name). Errors:

- a 2xx whose envelope says ``status`` other than ``"success"`` is a failed request (P400)
  carrying Fastly's ``msg``;
- non-2xx bodies carry ``msg`` and sometimes ``detail``: both are quoted in the error;
- 401 is re-authorised once then reported (P401); 429 and 5xx are retried, honouring
  ``Retry-After`` or else ``Fastly-RateLimit-Reset``;
- ``Fastly-RateLimit-Remaining`` on any answer is a budget until ``Fastly-RateLimit-Reset``
  (epoch seconds): the executor sends only what remains less the calls still in flight
  (``Verdict.ok(quota=…)``), so a strict vendor never sends a 429. Reading
  stats is not rate limited today (Fastly's hourly limit applies to modifying calls), so
  no RateLimit is declared.

Compile and decode live in :mod:`.wire`, the catalog in :mod:`.catalog`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from attrs import evolve

from querylang.failures import Failure, FailureKind, Verdict
from querylang.hookspecs import Emulator, hookimpl
from querylang.provider import HttpProvider, LazyWire
from querylang.wire import NativeRequest, NativeResponse
from querylang_providers.fastly.catalog import CREDENTIAL, DATASET, REGIONS

__all__ = ["FastlyProvider", "register_providers"]


if TYPE_CHECKING:
    import msgspec


@functools.cache
def _head() -> msgspec.json.Decoder[Any]:
    """The decoder of the envelope's ``status`` alone, made on first use: ``check`` and
    ``explain`` never read an answer, so they do not import msgspec."""
    import msgspec

    head = msgspec.defstruct("_Head", [("status", Any, "success")])
    return msgspec.json.Decoder(head)


MAX_PAUSE = 3600.0  # Fastly's limits are hourly: never hold calls longer than that


class FastlyProvider(HttpProvider):
    """Fastly's Historical Stats API."""

    name = "fastly"
    version = "1.0"
    description = "Fastly Historical Stats: requests, bytes, hit ratio per service and region"
    base_url = "https://api.fastly.com"
    default_dataset = "stats"
    credentials = (CREDENTIAL,)
    wires = (LazyWire(DATASET, "querylang_providers.fastly.wire:StatsWire"),)

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock  # reads Fastly-RateLimit-Reset (epoch seconds) against this

    # -- responses ----------------------------------------------------------------------
    def error_message(self, response: NativeResponse) -> str | None:
        """Fastly's ``msg`` and ``detail``, joined."""
        try:
            body = response.json()
        except ValueError:
            return super().error_message(response)
        if not isinstance(body, dict):
            return super().error_message(response)
        said = [str(body[k]) for k in ("msg", "detail") if body.get(k)]
        return ": ".join(said) if said else super().error_message(response)

    def auth_hint(self) -> str:
        return (
            f"set {CREDENTIAL.env} to a valid, unexpired Fastly API token with the global:read "
            "scope (manage tokens at https://manage.fastly.com/account/personal/tokens)"
        )

    def failure(self, request: NativeRequest, response: NativeResponse) -> Failure | None:
        """The base kinds, with Fastly's hints for 400 and 404 and its reset header."""
        failure = super().failure(request, response)
        if failure is None:
            return self._envelope_failure(response)
        if failure.kind is FailureKind.NOT_FOUND:
            hint = "check the service IDs in WHERE service IN (…): Fastly knows none such"
            return evolve(failure, kind=FailureKind.BAD_REQUEST, hint=hint)
        if failure.kind is FailureKind.BAD_REQUEST:
            return evolve(failure, hint=self._bad_request_hint())
        if failure.kind is FailureKind.RATE_LIMITED and failure.delay is None:
            return evolve(failure, delay=self._reset_in(response))
        return failure

    def _envelope_failure(self, response: NativeResponse) -> Failure | None:
        """A 2xx whose JSON envelope says ``status`` other than ``success``."""
        import msgspec

        try:
            # the envelope's status alone: the records are skipped unread (decode reads them)
            status = _head().decode(response.content).status
        except msgspec.DecodeError:  # not an object, or what only the standard library reads
            try:
                body = response.json()
            except ValueError:
                return None  # decode reports the malformed body
            status = body.get("status", "success") if isinstance(body, dict) else "success"
        if status != "success":
            return Failure(
                kind=FailureKind.BAD_REQUEST,
                where=f"status {status!r} in an HTTP {response.status} answer",
                said=self.error_message(response) or "no message",
                hint=self._bad_request_hint(),
            )
        return None

    def _bad_request_hint(self) -> str:
        return (
            "the request was built from the query; check the service IDs and region names "
            f"(regions: {', '.join(REGIONS)})"
        )

    def _reset_in(self, response: NativeResponse) -> float | None:
        """Seconds until Fastly-RateLimit-Reset, if the header is there and readable."""
        try:
            reset = float(response.header("Fastly-RateLimit-Reset") or "")
        except ValueError:
            return None
        return min(max(reset - self.clock(), 0.0), MAX_PAUSE)

    def check(self, request: NativeRequest, response: NativeResponse) -> Verdict:
        """Envelope errors fail; rate-limit headers pause; 429/5xx retry; 401 re-authorises."""
        failure = self.classify(request, response)
        if failure is not None:
            return failure.verdict(self.name, request, response.status)
        try:
            remaining = int((response.header("Fastly-RateLimit-Remaining") or "").strip())
        except ValueError:
            return Verdict.ok()
        # A budget: the executor sends what is left less the calls in flight until the reset.
        return Verdict.ok(pause=self._reset_in(response), quota=remaining)

    def emulator(self, now: Callable[[], float]) -> Emulator:
        from querylang_providers.fastly.emulator import FastlyEmulator

        return FastlyEmulator(now)


@hookimpl
def register_providers(register: Callable[[FastlyProvider], None]) -> None:
    """Register the Fastly provider."""
    register(FastlyProvider())
