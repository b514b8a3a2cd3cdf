"""Gcore: CDN statistics (``FROM gcore``) and object-storage usage (``FROM gcore.storage``).

Both datasets share the API host, the ``Authorization: APIKey <token>`` header and the
``GCORE_API_KEY`` credential. Each dataset lives in its own module with ``DATASET``,
``compile`` and ``decode``; this module routes to them.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from querylang.catalog import Credential
from querylang.failures import Failure
from querylang.hookspecs import Emulator, hookimpl
from querylang.provider import HttpProvider
from querylang.wire import NativeRequest, NativeResponse
from querylang_providers.gcore import cdn

__all__ = ["GcoreProvider", "register_providers"]


def _dataset_modules() -> dict[str, ModuleType]:
    modules: dict[str, ModuleType] = {"cdn": cdn}
    try:
        from querylang_providers.gcore import storage
    except ImportError:  # pragma: no cover - storage is part of this package
        return modules
    modules["storage"] = storage
    return modules


class GcoreProvider(HttpProvider):
    """Gcore's statistics APIs."""

    name = "gcore"
    version = "1.0"
    description = "Gcore CDN statistics and Gcore object-storage usage"
    base_url = "https://api.gcore.com"
    default_dataset = "cdn"
    credentials = (Credential(env="GCORE_API_KEY", description="Gcore permanent API token"),)

    def __init__(self) -> None:
        self.dataset_modules = _dataset_modules()
        self._datasets = tuple(m.DATASET for m in self.dataset_modules.values())

    def failure(self, request: NativeRequest, response: NativeResponse) -> Failure | None:
        """The dataset's own error envelope where it has one (object storage), else by status."""
        module = self.dataset_modules.get(request.tag.get("dataset", ""))
        if module is not None and hasattr(module, "failure"):
            return module.failure(self, request, response)
        return super().failure(request, response)

    def emulator(self, now: Callable[[], float]) -> Emulator:
        from querylang_providers.gcore.emulator import GcoreEmulator

        return GcoreEmulator(now)


@hookimpl
def register_providers(register: Callable[[GcoreProvider], None]) -> None:
    """Register the Gcore provider."""
    register(GcoreProvider())
