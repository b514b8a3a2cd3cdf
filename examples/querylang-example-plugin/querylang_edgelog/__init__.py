"""edgelog: an example third-party querylang provider for an in-house statistics service.

The service answers ``GET /v1/series?metric=bytes&start=<unix>&end=<unix>&step=<seconds>``
with ``{"series": [{"site": "ams", "points": [[ts, value], …]}]}``, one series per site
(``site=`` filters, repeatable); ``end`` is exclusive, ``step`` is 60, 3600 or 86400, at
most 31 days per call. Errors are ``{"error": {"message": …}}``. Auth: ``Bearer`` token.
The catalog is in :mod:`.catalog`, compile and decode in :mod:`.wire`, the emulator in
:mod:`.emulator`.
"""

from __future__ import annotations

from collections.abc import Callable

from querylang.hookspecs import Emulator, hookimpl
from querylang.provider import HttpProvider
from querylang.wire import NativeResponse
from querylang_edgelog.catalog import DATASET, NAME, TOKEN
from querylang_edgelog.wire import SeriesWire

__all__ = ["EdgelogProvider", "register_providers"]


class EdgelogProvider(HttpProvider):
    """The in-house edge-log statistics service."""

    name = NAME
    version = "0.1.0"
    description = "example third-party provider: in-house edge-log statistics"
    base_url = "https://edgelog.example.internal"
    default_dataset = DATASET.name
    credentials = (TOKEN,)
    wires = (SeriesWire(),)

    def error_message(self, response: NativeResponse) -> str | None:
        """The service's ``{"error": {"message": …}}``, else the default reading."""
        try:
            return str(response.json()["error"]["message"])
        except (ValueError, KeyError, TypeError):
            return super().error_message(response)

    def emulator(self, now: Callable[[], float]) -> Emulator:
        """The emulator of the service, with ``now`` as its clock."""
        from querylang_edgelog.emulator import EdgelogEmulator

        return EdgelogEmulator(now)


@hookimpl
def register_providers(register: Callable[[EdgelogProvider], None]) -> None:
    """Register the edgelog provider."""
    register(EdgelogProvider())
