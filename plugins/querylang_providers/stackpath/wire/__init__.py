"""StackPath's wire format: the stack metrics (:mod:`.cdn`) and the OAuth2 token (:mod:`.auth`)."""

from __future__ import annotations

from querylang_providers.stackpath.wire.auth import authorize
from querylang_providers.stackpath.wire.cdn import CdnWire

__all__ = ["CdnWire", "authorize"]
