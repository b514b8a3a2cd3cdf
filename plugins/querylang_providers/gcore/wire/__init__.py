"""Gcore's two wire formats: CDN statistics (:mod:`.cdn`) and object storage (:mod:`.storage`)."""

from __future__ import annotations

from querylang_providers.gcore.wire.cdn import CdnWire
from querylang_providers.gcore.wire.storage import StorageWire

__all__ = ["CdnWire", "StorageWire"]
