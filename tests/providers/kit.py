"""The provider tests' shared kit: fixed contexts, fixtures, canned responses, emulator GETs.

The golden compile cases live in each provider's ``golden/compile.json`` and run through
``querylang.testing.golden``; this module holds only what the other provider tests share.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from attrs import frozen

from querylang.hookspecs import Provider
from querylang.plugins import registry
from querylang.testing.golden import native_query
from querylang.timegrid import parse_ts
from querylang.wire import NativeQuery, NativeResponse, ProviderContext

HERE = Path(__file__).parent
NOW = parse_ts("2026-11-20T00:00:00Z")


def golden_file(folder: str) -> Path:
    """A provider folder's golden compile cases."""
    return HERE / folder / "golden" / "compile.json"


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


@frozen(kw_only=True)
class ProviderKit:
    """One provider dataset's fixed test pieces: its folder, dataset, token and clock."""

    folder: str  # the tests' folder under tests/providers
    name: str  # the registered provider
    dataset: str
    credential: str  # the environment variable of its one secret
    token: str

    def provider(self) -> Provider:
        """A fresh instance of the registered provider."""
        registered = registry().get(self.name)
        assert registered is not None, f"provider {self.name!r} is not registered"
        return type(registered)()

    @property
    def base_url(self) -> str:
        return self.provider().base_url

    def context(
        self,
        base_url: str | None = None,
        token: str | None = None,
        settings: dict[str, str] | None = None,
    ) -> ProviderContext:
        """A context with the token set and the given settings, at NOW."""
        return ProviderContext(
            base_url=self.base_url if base_url is None else base_url,
            credentials={self.credential: self.token if token is None else token},
            settings=settings or {},
            now=NOW,
        )

    def native_query(self, spec: dict[str, Any]) -> NativeQuery:
        """A NativeQuery of this dataset from the golden files' plain-data form."""
        return native_query(spec, dataset=self.dataset)

    def fixture(self, name: str) -> bytes:
        """The bytes of one of the provider's fixture files."""
        return (HERE / self.folder / "fixtures" / name).read_bytes()

    def get(self, emulator: Any, path: str, **params: str) -> httpx.Response:
        """A raw GET to an in-process emulator with the given query parameters."""
        url = self.base_url.rstrip("/") + path
        return emulator.handle(httpx.Request("GET", url, params=params))


BAISHAN = ProviderKit(
    folder="baishan",
    name="baishan",
    dataset="cdn",
    credential="BAISHAN_API_TOKEN",
    token="bs-s3cr3t-token-42",
)
GCORE_STORAGE = ProviderKit(
    folder="gcore_storage",
    name="gcore",
    dataset="storage",
    credential="GCORE_API_KEY",
    token="secret-token-123",
)
