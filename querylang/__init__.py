"""querylang: one declarative query language for CDN and object-storage usage statistics.

The pipeline, one module per stage::

    text ─ syntax.parse ─▶ ir.QueryFile ─ binding.bind ─▶ BoundQuery ─ planning.plan ─▶ Plan
         ─ execution.execute ─▶ decoded Frames ─ aggregation.finish ─▶ Frame ─ output

``engine`` runs the whole pipeline; ``hookspecs`` is the plugin contract.
Heavy modules (numpy, httpx) load on first use, so ``import querylang`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

__all__ = [
    "Column",
    "Frame",
    "Provider",
    "ProviderError",
    "QueryError",
    "QuerylangError",
    "Result",
    "explain",
    "fmt",
    "hookimpl",
    "parse",
    "run",
]

_LAZY = {
    "Column": "querylang.engine",
    "Result": "querylang.engine",
    "explain": "querylang.engine",
    "run": "querylang.engine",
    "Frame": "querylang.frames",
    "Provider": "querylang.hookspecs",
    "hookimpl": "querylang.hookspecs",
    "ProviderError": "querylang.errors",
    "QueryError": "querylang.errors",
    "QuerylangError": "querylang.errors",
    "parse": "querylang.syntax",
    "fmt": "querylang.formatting",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'querylang' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
