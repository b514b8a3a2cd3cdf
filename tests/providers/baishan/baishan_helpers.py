"""Shared helpers for the baishan tests (a uniquely named module: no package here)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from querylang.timegrid import parse_ts
from querylang.wire import NativeQuery, NativeRequest, NativeResponse, ProviderContext
from querylang_providers.baishan import BaishanProvider
from tests import wirecases

HERE = Path(__file__).parent
TOKEN = "bs-s3cr3t-token-42"
NOW = parse_ts("2026-11-20T00:00:00Z")


def provider() -> BaishanProvider:
    """A fresh provider instance."""
    return BaishanProvider()


def context(
    base_url: str = "https://cdn.api.baishan.com",
    token: str = TOKEN,
    settings: dict[str, str] | None = None,
) -> ProviderContext:
    """A context with the token set and the given settings."""
    return ProviderContext(
        base_url=base_url,
        credentials={"BAISHAN_API_TOKEN": token},
        settings=settings or {},
        now=NOW,
    )


def native_query(spec: dict[str, Any]) -> NativeQuery:
    """A NativeQuery from the plain-data form used by the golden files."""
    return wirecases.native_query(spec, dataset="cdn")


def fixture(name: str) -> bytes:
    """The bytes of a fixture file."""
    return (HERE / "fixtures" / name).read_bytes()


def golden(name: str) -> Any:
    """A golden file, parsed."""
    return json.loads((HERE / "golden" / name).read_text())


def response(
    content: bytes | Any, status: int = 200, headers: dict[str, str] | None = None
) -> NativeResponse:
    """A NativeResponse with a JSON body (bytes are taken as they are)."""
    body = content if isinstance(content, bytes) else json.dumps(content).encode()
    return NativeResponse(
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
        content=body,
    )


def send(emulator: Any, request: NativeRequest) -> NativeResponse:
    """Send a compiled request to an in-process emulator."""
    wire = httpx.Request(request.method, request.url, headers=list(request.headers))
    reply = emulator.handle(wire)
    return NativeResponse(
        status=reply.status_code, headers=dict(reply.headers), content=reply.content
    )


def get(emulator: Any, path: str, **params: str) -> httpx.Response:
    """A raw GET to the emulator with the given query parameters."""
    url = f"https://cdn.api.baishan.com{path}"
    return emulator.handle(httpx.Request("GET", url, params=params))
