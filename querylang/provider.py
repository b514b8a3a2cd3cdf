"""A base class for HTTP providers: the optional parts of the contract, with defaults."""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from querylang.catalog import Credential, Dataset, Setting
from querylang.errors import ProviderError
from querylang.failures import Failure, FailureKind, Verdict, kind_of_status, malformed
from querylang.hookspecs import DatasetWire, Emulator
from querylang.wire import (
    AuthSession,
    NativeQuery,
    NativeRequest,
    NativeResponse,
    ProviderContext,
    Unsupported,
)

if TYPE_CHECKING:
    from querylang.frames import Frame

__all__ = ["HttpProvider", "LazyWire", "Wire", "parse_retry_after"]


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header; None if absent/bad.

    Both RFC 7231 forms are read: delta-seconds (``120``) and an HTTP-date
    (``Wed, 21 Oct 2015 07:28:00 GMT``), the latter as the seconds from ``now`` (default:
    the current time) until that date, never negative.
    """
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        return _retry_after_date(text, now)
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _retry_after_date(text: str, now: float | None) -> float | None:
    import email.utils  # only for an HTTP-date Retry-After (email imports socket, and more)

    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": UTC, says RFC 5322
        when = when.replace(tzinfo=dt.UTC)
    try:
        target = when.timestamp()
    except (OverflowError, OSError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, target - current)


class Wire:
    """A base for one dataset's wire format (:class:`~querylang.hookspecs.DatasetWire`).

    A subclass sets ``dataset`` (the catalog, data only) and implements ``compile`` and
    ``decode``; it overrides ``failure`` only when the dataset has its own error envelope.
    """

    dataset: Dataset

    def compile(
        self, query: NativeQuery, context: ProviderContext
    ) -> Sequence[NativeRequest] | Unsupported:
        """Native requests for one planned piece, with no I/O (or why it cannot be asked)."""
        raise NotImplementedError(f"{type(self).__name__} does not compile")

    def decode(self, query: NativeQuery, request: NativeRequest, response: NativeResponse) -> Frame:
        """One successful answer as a frame, as a pure function."""
        raise NotImplementedError(f"{type(self).__name__} does not decode")

    def failure(
        self, provider: HttpProvider, request: NativeRequest, response: NativeResponse
    ) -> Failure | None:
        """Classify an answer (None: success): by default the provider's reading."""
        return provider.failure(request, response)


class LazyWire(Wire):
    """A dataset's wire whose code is imported on first use (``"package.module:Class"``).

    The catalog is given at once, so listing and binding need nothing more; the module
    that compiles and decodes (with all it imports) loads when a piece is compiled or an
    answer decoded or classified. A ``check`` of queries asking one dataset loads one wire.
    """

    def __init__(self, dataset: Dataset, path: str) -> None:
        self.dataset = dataset
        self._path = path
        self._wire: DatasetWire | None = None

    def loaded(self) -> DatasetWire:
        """The wire itself, imported and made once."""
        if self._wire is None:
            import importlib

            module, _, name = self._path.partition(":")
            self._wire = getattr(importlib.import_module(module), name)()
        return self._wire

    def compile(
        self, query: NativeQuery, context: ProviderContext
    ) -> Sequence[NativeRequest] | Unsupported:
        return self.loaded().compile(query, context)

    def decode(self, query: NativeQuery, request: NativeRequest, response: NativeResponse) -> Frame:
        return self.loaded().decode(query, request, response)

    def failure(
        self, provider: HttpProvider, request: NativeRequest, response: NativeResponse
    ) -> Failure | None:
        return self.loaded().failure(provider, request, response)


class HttpProvider:
    """Defaults for the optional parts of :class:`~querylang.hookspecs.Provider`.

    Subclasses set the class attributes and list one wire per dataset in ``wires``
    (:class:`Wire` objects: catalog, compile, decode); they override ``failure`` for a
    vendor's error envelope, ``check`` for throttling hidden in a 200, and ``authorize``
    for tokens needing I/O.
    """

    name: str = ""
    version: str = "0"
    description: str = ""
    base_url: str = ""
    default_dataset: str = ""
    credentials: Sequence[Credential] = ()
    settings: Sequence[Setting] = ()
    wires: Sequence[DatasetWire] = ()
    # the header a rate limit's delay comes in (the conformance suite's 429 sends only this)
    retry_after_header: str = "Retry-After"
    # units of this provider's own, beyond querylang.units.UNITS: unit -> what it measures
    units: Mapping[str, str] = {}

    @property
    def datasets(self) -> Mapping[str, Dataset]:
        """The catalogs, by dataset name: one per wire."""
        return {w.dataset.name: w.dataset for w in self.wires}

    # -- the wire -----------------------------------------------------------------------
    def wire(self, dataset: str) -> DatasetWire:
        """The wire format of one dataset."""
        for wire in self.wires:
            if wire.dataset.name == dataset:
                return wire
        raise NotImplementedError(f"{self.name} has no wire for dataset {dataset!r}")

    def compile(
        self, query: NativeQuery, context: ProviderContext
    ) -> Sequence[NativeRequest] | Unsupported:
        """Turn one planned piece into native requests (the dataset's wire)."""
        return self.wire(query.dataset).compile(query, context)

    def decode(self, query: NativeQuery, request: NativeRequest, response: NativeResponse) -> Frame:
        """Turn one successful response into a frame (the dataset's wire)."""
        return self.wire(query.dataset).decode(query, request, response)

    def classify(self, request: NativeRequest, response: NativeResponse) -> Failure | None:
        """The failure of an answer (None: success), asked of its dataset's wire.

        A provider of one dataset has one wire; one with several tags its requests with
        ``tag["dataset"]`` (untagged: the default dataset).
        """
        if len(self.wires) == 1:
            return self.wires[0].failure(self, request, response)
        dataset = request.tag.get("dataset", "") or self.default_dataset
        wire = next((w for w in self.wires if w.dataset.name == dataset), None)
        return (
            self.failure(request, response)
            if wire is None
            else wire.failure(self, request, response)
        )

    # -- responses ----------------------------------------------------------------------
    def error_message(self, response: NativeResponse) -> str | None:
        """The vendor's own words from an error body, if it has any."""
        try:
            body = response.json()
        except ValueError:
            text = response.content.decode("utf-8", "replace").strip()
            return text[:300] or None
        if isinstance(body, dict):
            for key in ("message", "msg", "error", "detail", "errors"):
                if body.get(key):
                    value = body[key]
                    return value if isinstance(value, str) else json.dumps(value)[:300]
        return None

    def auth_hint(self) -> str:
        names = " and ".join(c.env for c in self.credentials) or "the provider's credentials"
        return f"check {names}: set a valid, unexpired token with read access to statistics"

    def failure(self, request: NativeRequest, response: NativeResponse) -> Failure | None:
        """Classify an answer (None: success). Override to read a vendor's error envelope.

        The default reads the HTTP status alone; the core's failure table
        (``querylang.failures``) turns the kind into the code, the retry and the wording.
        """
        kind = kind_of_status(response.status)
        if kind is None:
            return None
        retried = kind in (FailureKind.RATE_LIMITED, FailureKind.UNAVAILABLE)
        return Failure(
            kind=kind,
            said=self.error_message(response),
            hint=self.auth_hint() if kind is FailureKind.AUTH else None,
            delay=parse_retry_after(response.header(self.retry_after_header)) if retried else None,
        )

    def http_error(self, request: NativeRequest, response: NativeResponse) -> ProviderError:
        """A clear error for a failing answer, through the core's failure table."""
        failure = self.classify(request, response) or Failure(kind=FailureKind.BAD_REQUEST)
        return failure.error(self.name, request, response.status)

    def check(self, request: NativeRequest, response: NativeResponse) -> Verdict:
        """2xx ok; 429 and 5xx retried honouring Retry-After; 401 re-authorised once."""
        failure = self.classify(request, response)
        if failure is None:
            return Verdict.ok()
        return failure.verdict(self.name, request, response.status)

    async def authorize(
        self, request: NativeRequest, session: AuthSession, *, refresh: bool = False
    ) -> NativeRequest:
        """Static credentials are added by compile: nothing to do."""
        return request

    def emulator(self, now: Callable[[], float]) -> Emulator:
        raise NotImplementedError(f"{self.name} ships no emulator")

    def decode_error(
        self, request: NativeRequest, problem: str, *, detail: Any = None
    ) -> ProviderError:
        """A clear error for a response that does not have the documented shape."""
        extra = f" ({detail})" if detail else ""
        return malformed(self.name, request, f"{problem}{extra}")
