"""StackPath's wire format: the stack metrics (:mod:`.cdn`) and the OAuth2 token (:mod:`.auth`).

Each is imported when first named, so checking a query loads no token code.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from querylang_providers.stackpath.wire.auth import authorize
    from querylang_providers.stackpath.wire.cdn import CdnWire

__all__ = ["CdnWire", "authorize"]

_MODULES = {"CdnWire": "cdn", "authorize": "auth"}


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
