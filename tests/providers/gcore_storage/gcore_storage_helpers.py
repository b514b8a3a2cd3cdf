"""Shared helpers for the gcore.storage tests (a uniquely named module: no package here)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from querylang.timegrid import parse_ts
from querylang.wire import NativeQuery, NativeRequest, NativeResponse, ProviderContext
from querylang_providers.gcore import GcoreProvider
from tests import wirecases

HERE = Path(__file__).parent
TOKEN = "secret-token-123"
NOW = parse_ts("2026-11-20T00:00:00Z")


def provider() -> GcoreProvider:
    """A fresh provider instance."""
    return GcoreProvider()


def context(base_url: str = "https://api.gcore.com", token: str = TOKEN) -> ProviderContext:
    """A context with the API key set."""
    return ProviderContext(
        base_url=base_url, credentials={"GCORE_API_KEY": token}, settings={}, now=NOW
    )


def native_query(spec: dict[str, Any]) -> NativeQuery:
    """A NativeQuery from the plain-data form used by the golden files."""
    return wirecases.native_query(spec, dataset="storage")


def fixture(name: str) -> bytes:
    """The bytes of a fixture file."""
    return (HERE / "fixtures" / name).read_bytes()


def golden(name: str) -> Any:
    """A golden file, parsed."""
    return json.loads((HERE / "golden" / name).read_text())


def response(content: bytes | Any, status: int = 200) -> NativeResponse:
    """A NativeResponse with a JSON body (bytes are taken as they are)."""
    body = content if isinstance(content, bytes) else json.dumps(content).encode()
    return NativeResponse(status=status, headers={"Content-Type": "application/json"}, content=body)


def send(emulator: Any, request: NativeRequest) -> NativeResponse:
    """Send a compiled request to an in-process emulator."""
    wire = httpx.Request(
        request.method, request.url, headers=list(request.headers), content=request.body
    )
    reply = emulator.handle(wire)
    return NativeResponse(
        status=reply.status_code, headers=dict(reply.headers), content=reply.content
    )
