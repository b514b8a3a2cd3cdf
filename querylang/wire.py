"""What crosses the provider boundary: the native query, requests, responses, redaction."""

from __future__ import annotations

import gc
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from attrs import evolve, field, frozen

from querylang.timegrid import Granularity, TimeWindow

if TYPE_CHECKING:
    import httpx

__all__ = [
    "REDACTED",
    "AuthSession",
    "Filter",
    "NativeQuery",
    "NativeRequest",
    "NativeResponse",
    "ProviderContext",
    "Unsupported",
    "build_url",
]

REDACTED = "***"


@frozen(kw_only=True)
class Filter:
    """A filter the vendor applies itself: ``dimension IN values`` or ``NOT IN``."""

    dimension: str
    op: Literal["in", "not_in"]
    values: tuple[str | int, ...]


@frozen(kw_only=True)
class NativeQuery:
    """One piece of a plan, in the provider's own terms, ready to compile."""

    dataset: str
    metrics: tuple[str, ...]
    group_by: tuple[str, ...]
    filters: tuple[Filter, ...]
    granularity: Granularity
    window: TimeWindow

    def filter(self, dimension: str) -> Filter | None:
        return next((f for f in self.filters if f.dimension == dimension), None)


@frozen(kw_only=True)
class ProviderContext:
    """Everything compile may read: where to send, with which secrets and settings, when."""

    base_url: str
    credentials: Mapping[str, str]
    settings: Mapping[str, str]
    now: int
    # Whose credentials these are, as a fingerprint (never a secret): part of the result
    # store's key, so that an answer kept for one token is never given for another.
    identity: str = ""


@frozen(kw_only=True)
class Unsupported:
    """An explicit "cannot answer this" from a provider, reported before anything is sent."""

    reason: str
    hint: str | None = None


def build_url(base: str, path: str, params: list[tuple[str, Any]] | None = None) -> str:
    """``base`` + ``path`` + a query string; list values repeat their key."""
    url = base.rstrip("/") + "/" + path.lstrip("/")
    pairs: list[tuple[str, str]] = []
    for key, value in params or ():
        if value is None:
            continue
        pairs.append((key, str(value).lower() if isinstance(value, bool) else str(value)))
    return url + ("?" + urlencode(pairs) if pairs else "")


@frozen(kw_only=True)
class NativeRequest:
    """An HTTP request exactly as it will be sent, plus what decode needs to read its answer."""

    provider: str
    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    metrics: tuple[str, ...] = ()  # the metrics this request answers
    secret_headers: tuple[str, ...] = ()  # header names whose values are secret
    secret_params: tuple[str, ...] = ()  # query-string keys whose values are secret
    tag: Mapping[str, Any] = field(factory=dict, eq=False)  # provider-private decode hints

    @classmethod
    def json_body(cls, payload: Any) -> bytes:
        return json.dumps(payload, separators=(",", ":"), sort_keys=False).encode()

    def with_header(self, name: str, value: str, *, secret: bool = False) -> NativeRequest:
        headers = tuple((k, v) for k, v in self.headers if k.lower() != name.lower())
        secrets = self.secret_headers + ((name,) if secret else ())
        return evolve(self, headers=(*headers, (name, value)), secret_headers=secrets)

    def redacted_url(self) -> str:
        if not self.secret_params:
            return self.url
        parts = urlsplit(self.url)
        secret = {p.lower() for p in self.secret_params}
        pairs = [
            (k, REDACTED if k.lower() in secret else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ]
        return urlunsplit(parts._replace(query=urlencode(pairs, safe="*")))

    def redacted_headers(self) -> dict[str, str]:
        secret = {h.lower() for h in self.secret_headers}
        return {k: (REDACTED if k.lower() in secret else v) for k, v in self.headers}

    def describe(self) -> str:
        """``GET https://…`` with secrets redacted: safe for errors and logs."""
        return f"{self.method} {self.redacted_url()}"

    def to_json(self) -> dict[str, Any]:
        """The request as ``explain --format json`` prints it (secrets redacted)."""
        body: Any = None
        if self.body is not None:
            try:
                body = json.loads(self.body)
            except ValueError:
                body = self.body.decode("utf-8", "replace")
        return {
            "provider": self.provider,
            "method": self.method,
            "url": self.redacted_url(),
            "headers": self.redacted_headers(),
            "body": body,
        }


_UNPARSED: Any = object()  # NativeResponse._parsed before the first json()
_GC_PAUSE_BYTES = 1 << 20  # bodies from 1 MiB parse with the collector paused


@frozen(kw_only=True)
class NativeResponse:
    """An HTTP response as decode sees it."""

    status: int
    headers: Mapping[str, str]
    content: bytes
    # the parsed body, once: check and decode both read it (see json())
    _parsed: Any = field(default=_UNPARSED, init=False, eq=False, repr=False, alias="_parsed")

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)

    def json(self) -> Any:
        """The body parsed as JSON, once per response (check and decode share the tree).

        orjson parses; a body it refuses that the standard library reads (NaN, integers past
        64 bits) falls back to ``json.loads``, so what parses and what fails is unchanged.
        The result is shared: callers must not modify it.
        """
        if self._parsed is _UNPARSED:
            import orjson  # here, not at the top: check and --help never parse a body

            # A large body becomes millions of fresh containers: the collector would walk
            # them again and again while they are built (more than half the parse time),
            # yet none of them can be garbage. Paused for the parse, restored after.
            pause = len(self.content) >= _GC_PAUSE_BYTES and gc.isenabled()
            if pause:
                gc.disable()
            try:
                try:
                    parsed = orjson.loads(self.content)
                except orjson.JSONDecodeError:
                    parsed = json.loads(self.content)
            finally:
                if pause:
                    gc.enable()
            object.__setattr__(self, "_parsed", parsed)
        return self._parsed


class AuthSession:
    """Shared by every request of one run to one provider: the client and a token cache."""

    def __init__(self, client: httpx.AsyncClient, context: ProviderContext) -> None:
        import asyncio

        self.client = client
        self.context = context
        self.cache: dict[str, Any] = {}
        self.lock = asyncio.Lock()
        self.calls = 0  # auth calls made (token fetches), for tests and progress
