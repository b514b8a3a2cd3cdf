"""A base class for HTTP providers: the optional parts of the contract, with defaults."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

from querylang.catalog import Credential, Dataset, Setting
from querylang.errors import ProviderError
from querylang.hookspecs import AuthSession, Emulator, Verdict
from querylang.wire import NativeQuery, NativeRequest, NativeResponse, ProviderContext, Unsupported

if TYPE_CHECKING:
    from querylang.frames import Frame

__all__ = ["HttpProvider", "parse_retry_after"]


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After-style header (delta seconds only); None if absent/bad."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


class HttpProvider:
    """Defaults for the optional parts of :class:`~querylang.hookspecs.Provider`.

    Subclasses set the class attributes and implement ``compile`` and ``decode``; they
    override ``check`` for vendor error bodies and ``authorize`` for tokens needing I/O.
    """

    name: str = ""
    version: str = "0"
    description: str = ""
    base_url: str = ""
    default_dataset: str = ""
    credentials: Sequence[Credential] = ()
    settings: Sequence[Setting] = ()
    _datasets: Sequence[Dataset] = ()
    # dataset name → the module that speaks its wire format, with
    # compile(query, context) and decode(query, request, response)
    dataset_modules: Mapping[str, ModuleType] = {}

    @property
    def datasets(self) -> Mapping[str, Dataset]:
        return {d.name: d for d in self._datasets}

    # -- the wire -----------------------------------------------------------------------
    def _module(self, dataset: str) -> ModuleType:
        module = self.dataset_modules.get(dataset)
        if module is None:
            raise NotImplementedError(f"{self.name} has no wire module for dataset {dataset!r}")
        return module

    def compile(
        self, query: NativeQuery, context: ProviderContext
    ) -> Sequence[NativeRequest] | Unsupported:
        """Turn one planned piece into native requests (the dataset module's compile)."""
        return self._module(query.dataset).compile(query, context)

    def decode(self, query: NativeQuery, request: NativeRequest, response: NativeResponse) -> Frame:
        """Turn one successful response into a frame (the dataset module's decode)."""
        return self._module(query.dataset).decode(query, request, response)

    # -- responses ----------------------------------------------------------------------
    def error_message(self, response: NativeResponse) -> str | None:
        """The vendor's own words from an error body, if it has any."""
        try:
            body = json.loads(response.content)
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

    def http_error(self, request: NativeRequest, response: NativeResponse) -> ProviderError:
        """A clear error for a non-2xx status."""
        status = response.status
        said = self.error_message(response)
        said_text = f": {said}" if said else ""
        if status == 401:
            return ProviderError(
                self.name,
                f"the API rejected the credentials (HTTP 401){said_text}",
                code="P401",
                request=request.describe(),
                status=status,
                hint=self.auth_hint(),
            )
        if status == 403:
            return ProviderError(
                self.name,
                f"access denied (HTTP 403){said_text}",
                code="P403",
                request=request.describe(),
                status=status,
                hint="the token is valid but lacks permission for these statistics or resources",
            )
        if status == 429:
            return ProviderError(
                self.name,
                f"rate limited (HTTP 429) and still limited after the last retry{said_text}",
                code="P429",
                request=request.describe(),
                status=status,
                hint="run again later, or narrow the query so it needs fewer calls",
                retryable=True,
            )
        if status >= 500:
            return ProviderError(
                self.name,
                f"the API failed with HTTP {status}{said_text}",
                code="P500",
                request=request.describe(),
                status=status,
                hint="this is on the vendor's side; try again later",
                retryable=True,
            )
        return ProviderError(
            self.name,
            f"the API refused the request (HTTP {status}){said_text}",
            code="P400",
            request=request.describe(),
            status=status,
            hint="the request was built from the query; check filter values such as IDs",
        )

    def check(self, request: NativeRequest, response: NativeResponse) -> Verdict:
        """2xx ok; 429 and 5xx retried honouring Retry-After; 401 re-authorised once."""
        if 200 <= response.status < 300:
            return Verdict.ok()
        error = self.http_error(request, response)
        if response.status == 429 or response.status >= 500:
            return Verdict.retry(error, delay=parse_retry_after(response.header("Retry-After")))
        if response.status == 401:
            return Verdict.reauth(error)
        return Verdict.fail(error)

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
        return ProviderError(
            self.name,
            f"the response could not be read: {problem}{extra}",
            code="P600",
            request=request.describe(),
            hint="the API answered in an unexpected shape; if it persists, report it with the "
            "request above",
        )
