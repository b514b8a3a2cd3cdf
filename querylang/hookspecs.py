"""The plugin contract: the pluggy hook a plugin implements and the Provider it registers.

A plugin is a module (or package) exposed under the entry-point group ``querylang``. It
implements :func:`register_providers` and calls ``register(provider)`` once per provider.
A provider describes what it can answer as data (:class:`~querylang.catalog.Dataset`),
compiles a planned piece of a query into native HTTP requests without doing any I/O,
and decodes each response into a :class:`~querylang.frames.Frame` as a pure function.
:class:`querylang.provider.HttpProvider` implements the optional parts with defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import pluggy

if TYPE_CHECKING:
    import httpx

    from querylang.catalog import Credential, Dataset, Setting
    from querylang.frames import Frame
    from querylang.wire import (
        NativeQuery,
        NativeRequest,
        NativeResponse,
        ProviderContext,
        Unsupported,
    )

__all__ = ["AuthSession", "Emulator", "Provider", "Verdict", "hookimpl", "hookspec"]

hookspec = pluggy.HookspecMarker("querylang")
hookimpl = pluggy.HookimplMarker("querylang")


@hookspec
def register_providers(register: Callable[[Provider], None]) -> None:
    """Register this plugin's providers by calling ``register(provider)`` for each."""


class Verdict:
    """What the executor should do with a response: accept, retry later, or fail."""

    __slots__ = ("delay", "error", "kind", "pause")

    def __init__(
        self,
        kind: str,
        *,
        delay: float | None = None,
        error: Exception | None = None,
        pause: float | None = None,
    ) -> None:
        self.kind = kind  # "ok" | "retry" | "fail" | "reauth"
        self.delay = delay  # retry: seconds the vendor asked us to wait (None: back off)
        self.error = error  # fail (and retry, once tries run out): the error to report
        self.pause = pause  # ok: hold further calls to this provider for this long

    @classmethod
    def ok(cls, *, pause: float | None = None) -> Verdict:
        return cls("ok", pause=pause)

    @classmethod
    def retry(cls, error: Exception, *, delay: float | None = None) -> Verdict:
        return cls("retry", error=error, delay=delay)

    @classmethod
    def fail(cls, error: Exception) -> Verdict:
        return cls("fail", error=error)

    @classmethod
    def reauth(cls, error: Exception) -> Verdict:
        return cls("reauth", error=error)

    def __repr__(self) -> str:
        return f"Verdict({self.kind!r}, delay={self.delay}, pause={self.pause})"


class AuthSession:
    """Shared by every request of one run to one provider: the client and a token cache."""

    def __init__(self, client: httpx.AsyncClient, context: ProviderContext) -> None:
        import asyncio

        self.client = client
        self.context = context
        self.cache: dict[str, Any] = {}
        self.lock = asyncio.Lock()
        self.calls = 0  # auth calls made (token fetches), for tests and progress


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
