"""numpy, imported on first use: ``check`` and ``--help`` load catalogs, not arrays.

The array modules (frames, categorical, grouping) take ``np`` from here at run time and
the real numpy under ``TYPE_CHECKING``, so importing them costs nothing until a frame is
built.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["np"]


class _Numpy:
    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module("numpy"), name)


np: Any = _Numpy()
