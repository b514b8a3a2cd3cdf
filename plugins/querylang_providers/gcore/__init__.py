"""Gcore: CDN statistics (``FROM gcore``) and object-storage usage (``FROM gcore.storage``).

Both datasets share the API host, the ``Authorization: APIKey <token>`` header and the
``GCORE_API_KEY`` credential. The catalogs are in :mod:`.catalog`; each dataset's wire
format (compile, decode, and object storage's error envelope) in :mod:`.wire`.
"""

from __future__ import annotations

from collections.abc import Callable

from querylang.catalog import Credential
from querylang.hookspecs import Emulator, hookimpl
from querylang.provider import HttpProvider, LazyWire
from querylang_providers.gcore.catalog import CDN_DATASET, STORAGE_DATASET

__all__ = ["GcoreProvider", "register_providers"]


class GcoreProvider(HttpProvider):
    """Gcore's statistics APIs."""

    name = "gcore"
    version = "1.0"
    description = "Gcore CDN statistics and Gcore object-storage usage"
    base_url = "https://api.gcore.com"
    default_dataset = "cdn"
    credentials = (Credential(env="GCORE_API_KEY", description="Gcore permanent API token"),)
    # Object storage has its own error envelope: its requests carry tag["dataset"] so that
    # HttpProvider.classify asks StorageWire.failure; the CDN reads the HTTP status.
    wires = (
        LazyWire(CDN_DATASET, "querylang_providers.gcore.wire.cdn:CdnWire"),
        LazyWire(STORAGE_DATASET, "querylang_providers.gcore.wire.storage:StorageWire"),
    )

    def emulator(self, now: Callable[[], float]) -> Emulator:
        from querylang_providers.gcore.emulator import GcoreEmulator

        return GcoreEmulator(now)


@hookimpl
def register_providers(register: Callable[[GcoreProvider], None]) -> None:
    """Register the Gcore provider."""
    register(GcoreProvider())
