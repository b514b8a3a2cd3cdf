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
- Errors carry gRPC codes (3 bad request, 5 not found, 7 forbidden, 8 rate limited →
  retry, 14 unavailable → retry, 16 unauthenticated → one re-authorisation); the code
  decides over the HTTP status.
- Limits are not documented: we keep responses small by splitting 5m pieces at 7 days,
  1h at 31 days, 1d at 366 days; no rate limit is declared.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType

from querylang.failures import Verdict
from querylang.hookspecs import Emulator, hookimpl
from querylang.provider import HttpProvider
from querylang.wire import AuthSession, NativeRequest, NativeResponse
from querylang_providers.stackpath import auth, cdn, status
from querylang_providers.stackpath.catalog import CREDENTIALS, DATASET, SETTINGS

__all__ = ["StackPathProvider", "register_providers"]


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
    _datasets = (DATASET,)
    dataset_modules = MappingProxyType({"cdn": cdn})

    def check(self, request: NativeRequest, response: NativeResponse) -> Verdict:
        """A gRPC code in the body decides; otherwise the HTTP status does."""
        rpc = status.rpc_status(response)
        if rpc is not None:
            decided = status.verdict(request, response, rpc)
            if decided is not None:
                return decided
        return super().check(request, response)

    def error_message(self, response: NativeResponse) -> str | None:
        rpc = status.rpc_status(response)
        return rpc.message if rpc is not None and rpc.message else super().error_message(response)

    async def authorize(
        self, request: NativeRequest, session: AuthSession, *, refresh: bool = False
    ) -> NativeRequest:
        """Add the run's bearer token (fetched once, refreshed once after a 401)."""
        return await auth.authorize(request, session, refresh=refresh)

    def emulator(self, now: Callable[[], float]) -> Emulator:
        from querylang_providers.stackpath.emulator import StackPathEmulator

        return StackPathEmulator(now)


@hookimpl
def register_providers(register: Callable[[StackPathProvider], None]) -> None:
    """Register the StackPath provider."""
    register(StackPathProvider())
