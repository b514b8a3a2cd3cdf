"""BaishanCloud CDN bandwidth and traffic (``FROM baishan``): ``GET /v2/stat/bandwidth``.

The token travels in the query string (``token=``), so every request marks it secret and
errors scrub it from the vendor's messages. Catalog in :mod:`.catalog`, compile/decode in
:mod:`.wire`, the emulator in :mod:`.emulator`. Answers are classified here:

- ``code`` is 0 on success, otherwise the HTTP status it stands for (the body may carry
  it inside an HTTP 200); the message is in ``message`` or ``msg``.
- Throttled (HTTP 429 or ``code`` 429): retried after ``X-Retry-After`` seconds.
- 5xx: retried with the usual short back-off (``X-Retry-After`` is the minute reset, worth
  waiting for after a 429 only). 401: fails at once — the token is
  static, re-authorising cannot help. 404 ("bad request URL") points at the base URL.
- ``X-Ratelimit-Remaining`` at or below :data:`RESERVE` on a success holds further calls
  until the minute resets (``X-Retry-After``, else the next minute by the ``Date``
  header, else 60 s). The reserve is one less than the dataset's concurrency, so the
  calls already in flight when the pause starts still fit in the minute.
- The vendor's message is quoted, with the token scrubbed out of it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from querylang.failures import Failure, FailureKind, Verdict, kind_of_status
from querylang.hookspecs import Emulator, hookimpl
from querylang.provider import HttpProvider, LazyWire, parse_retry_after
from querylang.redaction import scrub
from querylang.wire import NativeRequest, NativeResponse
from querylang_providers.baishan.catalog import (
    BASE_URL,
    CREDENTIALS,
    DATASET,
    SETTINGS,
    TOKEN_ENV,
)

__all__ = ["RESERVE", "BaishanProvider", "register_providers"]

RESERVE = DATASET.max_concurrency - 1


def _body(response: NativeResponse) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _code(body: dict[str, Any] | None) -> int | None:
    """The envelope's ``code`` as an int (None when absent or not a number)."""
    if body is None or "code" not in body:
        return None
    try:
        return int(body["code"])
    except (TypeError, ValueError):
        return None


def _scrub(text: str, request: NativeRequest) -> str:
    """``text`` with every secret query-string value of ``request`` replaced."""
    secret = {p.lower() for p in request.secret_params}
    values = [
        value
        for key, value in parse_qsl(urlsplit(request.url).query, keep_blank_values=True)
        if key.lower() in secret and value
    ]
    return scrub(text, extra=values)  # raw, URL-encoded, base64 … (querylang.redaction)


def _said(body: dict[str, Any] | None, response: NativeResponse, request: NativeRequest) -> str:
    if body is not None:
        for key in ("message", "msg"):
            if body.get(key):
                value = body[key]
                text = value if isinstance(value, str) else json.dumps(value)
                return _scrub(text[:300], request)
        return ""
    text = response.content.decode("utf-8", "replace").strip()[:300]
    return _scrub(text, request)


_HINTS = {
    FailureKind.AUTH: f"check {TOKEN_ENV}: set a valid token with access to these domains "
    "(ask your BaishanCloud account team for one)",
    FailureKind.FORBIDDEN: "the token is valid but may not read statistics for these domains",
    FailureKind.RATE_LIMITED: "the account allows 300 calls a minute and 24 every 2 seconds; "
    "run again later or narrow the query (fewer domains, a shorter window, a coarser EVERY)",
    FailureKind.UNAVAILABLE: "this is on BaishanCloud's side; try again later, or contact your "
    "account team",
    FailureKind.NOT_FOUND: f"check QUERYLANG_BAISHAN_BASE_URL (the default is {BASE_URL})",
    FailureKind.BAD_REQUEST: "the API's message says which parameter it refused; domain names "
    "in WHERE must belong to the account",
}


def _failure(status: int, code: int, said: str, retry_after: float | None) -> Failure:
    """The kind of a failing ``code`` (HTTP status or envelope); the core words the error."""
    kind = kind_of_status(code) or FailureKind.BAD_REQUEST
    return Failure(
        kind=kind,
        said=said or None,
        hint=_HINTS[kind],
        where=f"HTTP {status}" if code == status else f"code {code} in an HTTP {status} answer",
        credential="token",
        # The token is static: re-authorising cannot help, so a 401 fails at once.
        final=kind is FailureKind.AUTH,
        # X-Retry-After is the minute reset: worth waiting for after a 429 only; a 5xx is
        # retried with the usual short back-off.
        delay=retry_after if kind is FailureKind.RATE_LIMITED else None,
    )


def _until_next_minute(date: str | None) -> float | None:
    """Seconds from the response's ``Date`` to the next whole minute."""
    if not date:
        return None
    import email.utils  # loaded on a rate-limit answer only: email pulls in socket and more

    try:
        sent = email.utils.parsedate_to_datetime(date)
    except (TypeError, ValueError):
        return None
    return float(60 - sent.second) if sent is not None else None


def _remaining(response: NativeResponse) -> int | None:
    value = response.header("X-Ratelimit-Remaining")
    try:
        return int(value.strip()) if value is not None else None
    except ValueError:
        return None


class BaishanProvider(HttpProvider):
    """BaishanCloud's bandwidth/traffic statistics."""

    name = "baishan"
    version = "1.0"
    description = "BaishanCloud CDN bandwidth and traffic, by domain and IP version"
    base_url = BASE_URL
    default_dataset = DATASET.name
    credentials = CREDENTIALS
    settings = SETTINGS
    retry_after_header = "X-Retry-After"  # its only rate-limit delay (providers.md)
    wires = (LazyWire(DATASET, "querylang_providers.baishan.wire:CdnWire"),)

    def failure(self, request: NativeRequest, response: NativeResponse) -> Failure | None:
        """A failing HTTP status, or a non-zero ``code`` in a 2xx envelope (None: success)."""
        body = _body(response)
        status = response.status
        code = status if not 200 <= status < 300 else _code(body)
        if code in (None, 0):
            return None
        assert code is not None
        retry_after = parse_retry_after(response.header(self.retry_after_header))
        return _failure(status, code, _said(body, response, request), retry_after)

    def check(self, request: NativeRequest, response: NativeResponse) -> Verdict:
        """Classify one answer: ok (maybe pausing), retry when throttled or 5xx, else fail."""
        failure = self.classify(request, response)
        if failure is not None:
            return failure.verdict(self.name, request, response.status)
        remaining = _remaining(response)
        if remaining is not None and remaining <= RESERVE:
            pause = parse_retry_after(response.header(self.retry_after_header))
            if pause is None:
                pause = _until_next_minute(response.header("Date")) or 60.0
            return Verdict.ok(pause=math.ceil(pause))
        return Verdict.ok()

    def emulator(self, now: Callable[[], float]) -> Emulator:
        from querylang_providers.baishan.emulator import BaishanEmulator

        return BaishanEmulator(now)


@hookimpl
def register_providers(register: Callable[[BaishanProvider], None]) -> None:
    """Register the BaishanCloud provider."""
    register(BaishanProvider())
