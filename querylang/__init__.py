"""querylang: one declarative query language for CDN and object-storage usage statistics.

The pipeline, one module per stage::

    text ─ syntax.parse ─▶ ir.QueryFile ─ binding.bind ─▶ BoundQuery ─ planning.plan ─▶ Plan
         ─ execution.execute ─▶ decoded Frames ─ aggregation.finish (steps) ─▶ Frame ─ output

- ``parser`` (the grammar's Lark parser and lexer), ``syntax`` (text → IR, with ``syntax_errors``
  for messages), ``ir``; ``printer`` (IR → canonical text) and ``formatting`` (``fmt``);
- ``parameters`` and ``binding`` (names against the catalogs, window resolution);
- ``planning`` (native grain, pieces, request budget) emits ``steps`` (post-steps as data:
  each has ``describe()`` for explain and ``apply()`` for the engine);
- ``execution`` (concurrency, rate limits, retries), ``aggregation`` (runs the steps),
  ``frames`` (the columnar result), ``output`` (table, CSV, JSON, ndjson);
- ``standard`` (the standard vocabulary) and ``federation`` (one query over several
  providers);
- ``engine`` ties them together behind ``run`` and ``explain``; ``cli`` is the command.

A provider plugin needs only the names exported here (the contract itself is
``hookspecs``): ``hookimpl``, ``Provider``/``HttpProvider`` (with ``DatasetWire``, ``Wire``,
``LazyWire``), the
catalog types (``Dataset``, ``Metric``, ``Dimension``, ``GrainSpec``, ``RateLimit``, ``Credential``,
``Setting``, ``Ratio``, ``Standard`` for the standard vocabulary), the wire types
(``NativeQuery``, ``NativeRequest``, ``NativeResponse``, ``ProviderContext``,
``Unsupported``, ``AuthSession``), the failure table (``Failure``, ``FailureKind``,
``Verdict``), ``Frame``/``FrameBuilder`` for decoding, ``ProviderError``, and ``Emulator``
with ``json_response`` for the emulator.

Heavy modules (numpy, httpx) load on first use, so ``import querylang`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from querylang.catalog import (
        Credential,
        Dataset,
        Dimension,
        GrainSpec,
        Metric,
        RateLimit,
        Ratio,
        Setting,
        Standard,
    )
    from querylang.emulation import json_response, synthetic_totals
    from querylang.engine import Column, Result, explain, run
    from querylang.errors import (
        CredentialsError,
        ProviderError,
        QueryError,
        QuerylangError,
        UsageError,
    )
    from querylang.failures import Failure, FailureKind, Verdict
    from querylang.formatting import fmt
    from querylang.frames import Frame, FrameBuilder, to_number
    from querylang.hookspecs import DatasetWire, Emulator, Provider, hookimpl
    from querylang.planning import Piece, Plan
    from querylang.provider import HttpProvider, LazyWire, Wire, parse_retry_after
    from querylang.steps import PieceStep, Step
    from querylang.syntax import parse
    from querylang.timegrid import Granularity, TimeWindow, format_ts, parse_ts
    from querylang.wire import (
        AuthSession,
        Filter,
        NativeQuery,
        NativeRequest,
        NativeResponse,
        ProviderContext,
        Unsupported,
        build_url,
    )

if TYPE_CHECKING:
    __version__: str

__all__ = [
    "AuthSession",
    "Column",
    "Credential",
    "CredentialsError",
    "Dataset",
    "DatasetWire",
    "Dimension",
    "Emulator",
    "Failure",
    "FailureKind",
    "Filter",
    "Frame",
    "FrameBuilder",
    "GrainSpec",
    "Granularity",
    "HttpProvider",
    "LazyWire",
    "Metric",
    "NativeQuery",
    "NativeRequest",
    "NativeResponse",
    "Piece",
    "PieceStep",
    "Plan",
    "Provider",
    "ProviderContext",
    "ProviderError",
    "QueryError",
    "QuerylangError",
    "RateLimit",
    "Ratio",
    "Result",
    "Setting",
    "Standard",
    "Step",
    "TimeWindow",
    "Unsupported",
    "UsageError",
    "Verdict",
    "Wire",
    "__version__",
    "build_url",
    "explain",
    "fmt",
    "format_ts",
    "hookimpl",
    "json_response",
    "parse",
    "parse_retry_after",
    "parse_ts",
    "run",
    "synthetic_totals",
    "to_number",
]

_LAZY = {
    "Column": "querylang.engine",
    "Result": "querylang.engine",
    "explain": "querylang.engine",
    "run": "querylang.engine",
    "Frame": "querylang.frames",
    "FrameBuilder": "querylang.frames",
    "to_number": "querylang.frames",
    "AuthSession": "querylang.wire",
    "Emulator": "querylang.hookspecs",
    "DatasetWire": "querylang.hookspecs",
    "Provider": "querylang.hookspecs",
    "Failure": "querylang.failures",
    "FailureKind": "querylang.failures",
    "Verdict": "querylang.failures",
    "hookimpl": "querylang.hookspecs",
    "CredentialsError": "querylang.errors",
    "ProviderError": "querylang.errors",
    "QueryError": "querylang.errors",
    "QuerylangError": "querylang.errors",
    "UsageError": "querylang.errors",
    "parse": "querylang.syntax",
    "fmt": "querylang.formatting",
    "HttpProvider": "querylang.provider",
    "LazyWire": "querylang.provider",
    "Wire": "querylang.provider",
    "parse_retry_after": "querylang.provider",
    "Credential": "querylang.catalog",
    "Dataset": "querylang.catalog",
    "Dimension": "querylang.catalog",
    "GrainSpec": "querylang.catalog",
    "Metric": "querylang.catalog",
    "RateLimit": "querylang.catalog",
    "Ratio": "querylang.catalog",
    "Setting": "querylang.catalog",
    "Standard": "querylang.catalog",
    "Filter": "querylang.wire",
    "NativeQuery": "querylang.wire",
    "NativeRequest": "querylang.wire",
    "NativeResponse": "querylang.wire",
    "ProviderContext": "querylang.wire",
    "Unsupported": "querylang.wire",
    "build_url": "querylang.wire",
    "Granularity": "querylang.timegrid",
    "TimeWindow": "querylang.timegrid",
    "format_ts": "querylang.timegrid",
    "parse_ts": "querylang.timegrid",
    "json_response": "querylang.emulation",
    "synthetic_totals": "querylang.emulation",
    "Step": "querylang.steps",
    "PieceStep": "querylang.steps",
    "Plan": "querylang.planning",
    "Piece": "querylang.planning",
}


def _version() -> str:
    """The installed distribution's version, read on first use (importlib.metadata is slow)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("querylang")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        globals()["__version__"] = value = _version()
        return value
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'querylang' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
