"""BaishanCloud CDN bandwidth and traffic (``FROM baishan``): ``GET /v2/stat/bandwidth``.

The token travels in the query string (``token=``), so every request marks it secret and
errors scrub it from the vendor's messages. Catalog in :mod:`.catalog`, compile/decode in
:mod:`.bandwidth`, response verdicts in :mod:`.checks`, the emulator in :mod:`.emulator`.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType

from querylang.failures import Verdict
from querylang.hookspecs import Emulator, hookimpl
from querylang.provider import HttpProvider
from querylang.wire import NativeRequest, NativeResponse
from querylang_providers.baishan import bandwidth, checks
from querylang_providers.baishan.catalog import BASE_URL, CREDENTIALS, DATASET, SETTINGS

__all__ = ["BaishanProvider", "register_providers"]


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
    _datasets = (DATASET,)
    dataset_modules = MappingProxyType({DATASET.name: bandwidth})

    def check(self, request: NativeRequest, response: NativeResponse) -> Verdict:
        return checks.check(request, response)

    def emulator(self, now: Callable[[], float]) -> Emulator:
        from querylang_providers.baishan.emulator import BaishanEmulator

        return BaishanEmulator(now)


@hookimpl
def register_providers(register: Callable[[BaishanProvider], None]) -> None:
    """Register the BaishanCloud provider."""
    register(BaishanProvider())
