"""Gcore's two wire formats: CDN statistics (:mod:`.cdn`) and object storage (:mod:`.storage`).

Each is imported when first named, so a query of one dataset loads one wire.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from querylang_providers.gcore.wire.cdn import CdnWire
    from querylang_providers.gcore.wire.storage import StorageWire

__all__ = ["CdnWire", "StorageWire"]

_MODULES = {"CdnWire": "cdn", "StorageWire": "storage"}


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
