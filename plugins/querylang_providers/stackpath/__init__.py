"""StackPath CDN stack metrics (``FROM stackpath``): seed 003 + shared/providers.md.

``GET {base}/cdn/v1/stacks/{stack_id}/metrics`` with an OAuth2 client-credentials bearer
token from ``POST {base}/identity/v1/oauth2/token``.

Decisions where the vendor document is silent or wrong:

- The query parameter is ``platforms`` (comma list), not ``platform`` as the document says.
  Without a platform filter ``platforms=CDE`` is always sent (also with ``BY platform``):
  CDE is the billed CDN → end-user traffic, and adding platforms together would count
  the same bytes twice (CDO ingest + CDE egress). Filter ``platform IN (…)`` for others.
- ``sites``, ``pops``, ``billing_regions`` are comma lists; ``group_by`` is one of SITE,
  PLATFORM, POP, REGION (``NONE`` when not grouped) and the series ``key`` is the group's
  value. The API groups by one field only: two BY dimensions are Unsupported.
- The stack comes from ``WHERE stack = '…'`` (one value) or the ``STACKPATH_STACK_ID``
  setting; with neither, compile answers Unsupported naming the setting.
- There is no per-sample timestamp: the value column ``usageTime`` is the bucket start in
  UNIX seconds; a timestamp above 1e11 (this one or ``*UsageTime``/``lastUpdatedTime``)
  is taken as milliseconds (unverified). P1M buckets are calendar months.
- ``MB`` is 10^6 bytes and ``Mbps`` 10^6 bit/s (the document does not say; decimal units
  are the CDN billing convention and keep ``xferRateMbps = MB * 8 / seconds`` exact).
  ``durationTotal`` is taken to be seconds (unverified), which makes
  ``userXferRateMbps = xferUsedTotalMB * 8 / durationTotal``: re-bucketed as that ratio.
- Re-bucketing: ``*Total`` sum, ``*Min*`` min, ``*Max*`` max, ``*Mean*``/``rps``/
  ``xferRateMbps`` duration-weighted mean, ``*MaxUsageTime``/``*MinUsageTime`` the time of
  the kept extreme, ``lastUpdatedTime`` max, ``responseSizeMeanMB`` recomputed as
  MB / requests; ``completionRatio`` and the two peak-to-mean ratios have no parts in the
  answer and cannot be re-bucketed (the engine refuses with a clear error).
- ``end_date`` is clamped to now (the API refuses dates in the future); a piece entirely
  in the future compiles to no request. ``end_date`` inclusivity is not documented: the
  engine trims rows outside the half-open window.
- Errors carry gRPC codes in a google.rpc.Status-like body ``{"code", "message",
  "details"}`` (3 bad request, 5 not found, 7 forbidden, 8 rate limited → retry, 14
  unavailable → retry, 16 unauthenticated → one re-authorisation); the code decides over
  the HTTP status (:meth:`StackPathProvider.failure`); a body without one falls back to it.
- Limits are not documented: we keep responses small by splitting 5m pieces at 7 days,
  1h at 31 days, 1d at 366 days; no rate limit is declared.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from attrs import frozen

from querylang.failures import Failure, FailureKind
from querylang.hookspecs import Emulator, hookimpl
from querylang.provider import HttpProvider, LazyWire, parse_retry_after
from querylang.wire import AuthSession, NativeRequest, NativeResponse
from querylang_providers.stackpath.catalog import (
    CREDENTIALS,
    DATASET,
    GRPC_NAMES,
    SETTINGS,
    STACK_ENV,
)

__all__ = ["RpcStatus", "StackPathProvider", "register_providers", "rpc_status"]

_AUTH_HINT = (
    "check STACKPATH_CLIENT_ID and STACKPATH_CLIENT_SECRET: the token was refused even "
    "after fetching a new one"
)


@frozen
class RpcStatus:
    """A decoded error body."""

    code: int
    message: str

    @property
    def name(self) -> str:
        return GRPC_NAMES.get(self.code, f"code {self.code}")


def _details(details: Any) -> str:
    """Field violations and descriptions from ``details``, in a few words."""
    notes: list[str] = []
    for detail in details if isinstance(details, list) else ():
        if not isinstance(detail, dict):
            continue
        for violation in detail.get("fieldViolations") or ():
            if isinstance(violation, dict):
                notes.append(f"{violation.get('field', '?')}: {violation.get('description', '')}")
        for key in ("description", "reason", "detail"):
            if isinstance(detail.get(key), str):
                notes.append(detail[key])
    return "; ".join(notes)[:300]


def rpc_status(response: NativeResponse) -> RpcStatus | None:
    """The gRPC status in an error body, or None when the body is not one."""
    if 200 <= response.status < 300 and b'"series"' in response.content:
        return None  # a data answer: do not parse a large body twice
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or isinstance(body.get("code"), bool):
        return None
    code = body.get("code")
    if not isinstance(code, int) or code == 0:
        return None
    raw = body.get("message")
    message: str = raw if isinstance(raw, str) else ""
    extra = _details(body.get("details"))
    if extra and extra not in message:
        message = f"{message} ({extra})" if message else extra
    return RpcStatus(code, message)


class StackPathProvider(HttpProvider):
    """StackPath's CDN metrics API."""

    name = "stackpath"
    version = "1.0"
    description = (
        "StackPath CDN stack metrics (MB = 10^6 bytes, Mbps = 10^6 bit/s; "
        "platform CDE unless filtered; one stack per query)"
    )
    base_url = "https://gateway.stackpath.com"
    default_dataset = "cdn"
    credentials = CREDENTIALS
    settings = SETTINGS
    wires = (LazyWire(DATASET, "querylang_providers.stackpath.wire.cdn:CdnWire"),)

    def failure(self, request: NativeRequest, response: NativeResponse) -> Failure | None:
        """A known gRPC code in the body decides; otherwise the HTTP status does."""
        rpc = rpc_status(response)
        if rpc is None or rpc.code not in GRPC_NAMES:
            return super().failure(request, response)
        delay = None
        if rpc.code == 16:
            kind, hint = FailureKind.AUTH, _AUTH_HINT
        elif rpc.code == 8:
            kind, hint = FailureKind.RATE_LIMITED, None
            delay = parse_retry_after(response.header("Retry-After"))
        elif rpc.code in (4, 13, 14):
            kind, hint = FailureKind.UNAVAILABLE, "this is on StackPath's side; try again later"
        elif rpc.code == 7:
            kind = FailureKind.FORBIDDEN
            hint = "the API client has no access to this stack's CDN metrics; check its permissions"
        elif rpc.code == 5:
            kind = FailureKind.NOT_FOUND
            hint = f"check the stack ID or slug ({STACK_ENV} or WHERE stack = '…') and site IDs"
        else:  # 3 and the rest
            kind = FailureKind.BAD_REQUEST
            hint = (
                "the request was built from the query; check filter values (sites, pops, regions)"
            )
        return Failure(
            kind=kind,
            said=rpc.message or None,
            hint=hint,
            delay=delay,
            where=f"{rpc.name}, HTTP {response.status}",
            credential="access token",
        )

    def error_message(self, response: NativeResponse) -> str | None:
        rpc = rpc_status(response)
        return rpc.message if rpc is not None and rpc.message else super().error_message(response)

    async def authorize(
        self, request: NativeRequest, session: AuthSession, *, refresh: bool = False
    ) -> NativeRequest:
        """Add the run's bearer token (fetched once, refreshed once after a 401)."""
        from querylang_providers.stackpath.wire.auth import authorize  # on the first send

        return await authorize(request, session, refresh=refresh)

    def emulator(self, now: Callable[[], float]) -> Emulator:
        from querylang_providers.stackpath.emulator import StackPathEmulator

        return StackPathEmulator(now)


@hookimpl
def register_providers(register: Callable[[StackPathProvider], None]) -> None:
    """Register the StackPath provider."""
    register(StackPathProvider())
