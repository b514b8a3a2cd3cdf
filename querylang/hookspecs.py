"""The plugin contract: the pluggy hook a plugin implements and the Provider it registers.

A plugin is a module (or package) exposed under the entry-point group ``querylang``. It
implements :func:`register_providers` and calls ``register(provider)`` once per provider.
A provider describes what it can answer as data (:class:`~querylang.catalog.Dataset`),
compiles a planned piece of a query into native HTTP requests without doing any I/O,
and decodes each response into a :class:`~querylang.frames.Frame` as a pure function.
:class:`querylang.provider.HttpProvider` implements the optional parts with defaults.

The runtime objects a provider handles are defined where they belong and re-exported here
so that this module names every type of the contract: :class:`Verdict` (what to do with an
answer) lives in :mod:`querylang.failures`, :class:`AuthSession` (one run's client and token
cache) in :mod:`querylang.wire` with the requests and responses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import pluggy

from querylang.failures import Verdict
from querylang.wire import AuthSession

if TYPE_CHECKING:
    import httpx

    from querylang.catalog import Credential, Dataset, Setting
    from querylang.failures import Failure
    from querylang.frames import Frame
    from querylang.wire import (
        NativeQuery,
        NativeRequest,
        NativeResponse,
        ProviderContext,
        Unsupported,
    )

__all__ = [
    "AuthSession",
    "DatasetWire",
    "Emulator",
    "Provider",
    "Verdict",
    "hookimpl",
    "hookspec",
]

hookspec = pluggy.HookspecMarker("querylang")
hookimpl = pluggy.HookimplMarker("querylang")


@hookspec
def register_providers(register: Callable[[Provider], None]) -> None:
    """Register this plugin's providers by calling ``register(provider)`` for each."""


class DatasetWire(Protocol):
    """One dataset's wire format: its catalog, compile a planned piece, decode an answer.

    ``HttpProvider.wires`` lists one of these per dataset, so a provider with several wire
    formats (Gcore's CDN and object storage) routes each piece to the right one.
    :class:`querylang.provider.Wire` is a base class with the optional ``failure`` default.
    """

    @property
    def dataset(self) -> Dataset:
        """The catalog this wire speaks for (data only)."""
        ...

    def compile(
        self, query: NativeQuery, context: ProviderContext
    ) -> Sequence[NativeRequest] | Unsupported:
        """Native requests for one planned piece, with no I/O (or why it cannot be asked)."""
        ...

    def decode(self, query: NativeQuery, request: NativeRequest, response: NativeResponse) -> Frame:
        """One successful answer as a frame, as a pure function."""
        ...

    def failure(
        self, provider: Any, request: NativeRequest, response: NativeResponse
    ) -> Failure | None:
        """Classify an answer of this dataset (None: success); default: the provider's."""
        ...


@runtime_checkable
class Emulator(Protocol):
    """An in-memory vendor API: one HTTP request in, one HTTP response out."""

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request exactly as the vendor would (paths, validation, errors)."""
        ...


@runtime_checkable
class Provider(Protocol):
    """A vendor API that querylang can query."""

    name: str
    version: str
    description: str
    base_url: str
    default_dataset: str

    @property
    def datasets(self) -> Mapping[str, Dataset]:
        """The catalogs, by dataset name (``FROM name.dataset``)."""
        ...

    @property
    def credentials(self) -> Sequence[Credential]:
        """The secrets this provider needs, read from the environment."""
        ...

    @property
    def settings(self) -> Sequence[Setting]:
        """Non-secret settings read from the environment, with defaults."""
        ...

    def compile(
        self, query: NativeQuery, context: ProviderContext
    ) -> Sequence[NativeRequest] | Unsupported:
        """Turn one planned piece into native requests; no I/O. Unsupported if it cannot."""
        ...

    def decode(self, query: NativeQuery, request: NativeRequest, response: NativeResponse) -> Frame:
        """Turn one successful response into a frame: time, query.group_by, request.metrics."""
        ...

    def check(self, request: NativeRequest, response: NativeResponse) -> Verdict:
        """Classify a response: ok, retry (429, 5xx, throttled body) or fail with an error."""
        ...

    async def authorize(
        self, request: NativeRequest, session: AuthSession, *, refresh: bool = False
    ) -> NativeRequest:
        """Add credentials that need I/O (e.g. an OAuth token); ``refresh`` after a 401."""
        ...

    def emulator(self, now: Callable[[], float]) -> Emulator:
        """An emulator of this vendor's API, with ``now`` as its clock."""
        ...
