"""One failure table: a provider names the kind of a vendor's answer; the core does the rest.

A provider only maps a vendor answer to a :class:`FailureKind` (with the vendor's own
message, an optional hint of its own and, for a rate limit, the delay the vendor asked
for). :data:`TABLE` turns a kind into the error code, the retry decision and the wording,
the same for every provider::

    failure = Failure(FailureKind.RATE_LIMITED, said="slow down", delay=2.0)
    verdict = failure.verdict(provider_name, request, status=429)
"""

from __future__ import annotations

import enum

from attrs import frozen

from querylang.errors import ProviderError
from querylang.wire import NativeRequest

__all__ = ["TABLE", "Failure", "FailureKind", "Rule", "Verdict", "kind_of_status", "malformed"]


class Verdict:
    """What the executor should do with a response: accept, retry later, or fail."""

    __slots__ = ("delay", "error", "kind", "pause", "quota")

    def __init__(
        self,
        kind: str,
        *,
        delay: float | None = None,
        error: Exception | None = None,
        pause: float | None = None,
        quota: int | None = None,
    ) -> None:
        self.kind = kind  # "ok" | "retry" | "fail" | "reauth"
        self.delay = delay  # retry: seconds the vendor asked us to wait (None: back off)
        self.error = error  # fail (and retry, once tries run out): the error to report
        self.pause = pause  # ok: hold further calls to this provider for this long
        # ok: calls the vendor says are left until the pause ends; with one, the executor
        # sends only what is left less the calls in flight (None: the pause always applies)
        self.quota = quota

    @classmethod
    def ok(cls, *, pause: float | None = None, quota: int | None = None) -> Verdict:
        return cls("ok", pause=pause, quota=quota)

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


class FailureKind(enum.Enum):
    AUTH = "auth"  # the credentials were refused: re-authorise once, then fail
    FORBIDDEN = "forbidden"  # valid credentials without access
    RATE_LIMITED = "rate_limited"  # retried (honouring the vendor's delay), then fail
    UNAVAILABLE = "unavailable"  # a 5xx or the like: retried with back-off, then fail
    BAD_REQUEST = "bad_request"  # the vendor refused what was asked
    NOT_FOUND = "not_found"  # the URL is unknown (a wrong base URL, usually)
    MALFORMED = "malformed"  # the answer does not have the documented shape


@frozen
class Rule:
    """What the core does with one kind of failure."""

    code: str
    action: str  # the Verdict kind: "reauth" | "retry" | "fail"
    message: str  # with {api} ("the API"), {where} (e.g. "HTTP 401") and {credential}
    hint: str  # the default hint, when the provider gives none


TABLE: dict[FailureKind, Rule] = {
    FailureKind.AUTH: Rule(
        "P401",
        "reauth",
        "{api} rejected the {credential} ({where})",
        "check the provider's credentials (`querylang describe` lists them)",
    ),
    FailureKind.FORBIDDEN: Rule(
        "P403",
        "fail",
        "access denied ({where})",
        "the token is valid but lacks permission for these statistics or resources",
    ),
    FailureKind.RATE_LIMITED: Rule(
        "P429",
        "retry",
        "rate limited ({where}) and still limited after the last retry",
        "run again later, or narrow the query so it needs fewer calls",
    ),
    FailureKind.UNAVAILABLE: Rule(
        "P500",
        "retry",
        "{api} failed or is unavailable ({where})",
        "this is on the vendor's side; try again later",
    ),
    FailureKind.BAD_REQUEST: Rule(
        "P400",
        "fail",
        "{api} refused the request ({where})",
        "the request was built from the query; check filter values such as IDs",
    ),
    FailureKind.NOT_FOUND: Rule(
        "P400",
        "fail",
        "not found: {api} does not know this URL or resource ({where})",
        "check the provider's base URL setting (QUERYLANG_<PROVIDER>_BASE_URL)",
    ),
    FailureKind.MALFORMED: Rule(
        "P600",
        "fail",
        "the response could not be read ({where})",
        "the API answered in an unexpected shape; if it persists, report it with the request above",
    ),
}


def kind_of_status(status: int) -> FailureKind | None:
    """The kind an HTTP status means by itself; None for success."""
    if 200 <= status < 300:
        return None
    if status == 401:
        return FailureKind.AUTH
    if status == 403:
        return FailureKind.FORBIDDEN
    if status == 429:
        return FailureKind.RATE_LIMITED
    if status >= 500:
        return FailureKind.UNAVAILABLE
    if status == 404:
        return FailureKind.NOT_FOUND
    return FailureKind.BAD_REQUEST


@frozen(kw_only=True)
class Failure:
    """A vendor answer classified by its provider: the kind, plus what the vendor said."""

    kind: FailureKind
    said: str | None = None  # the vendor's own message, quoted after the core's words
    hint: str | None = None  # the provider's hint, instead of the table's default
    delay: float | None = None  # retry: seconds the vendor asked to wait (None: back off)
    where: str | None = None  # e.g. "code 401 in an HTTP 200 answer"; default "HTTP <status>"
    credential: str = "credentials"  # what AUTH says was rejected ("token", "API key")
    api: str = "the API"  # who answered, when a provider has several ("Gcore object storage")
    final: bool = False  # fail at once, even where the table retries or re-authorises

    @property
    def rule(self) -> Rule:
        return TABLE[self.kind]

    def error(
        self, provider: str, request: NativeRequest | None, status: int | None
    ) -> ProviderError:
        rule = self.rule
        where = self.where or (f"HTTP {status}" if status is not None else "no status")
        text = rule.message.format(api=self.api, where=where, credential=self.credential)
        if self.said:
            text = f"{text}: {self.said}"
        return ProviderError(
            provider,
            text,
            code=rule.code,
            request=request.describe() if request is not None else None,
            status=status,
            hint=self.hint or rule.hint,
            retryable=rule.action == "retry" and not self.final,
        )

    def verdict(self, provider: str, request: NativeRequest, status: int) -> Verdict:
        error = self.error(provider, request, status)
        if self.final:
            return Verdict.fail(error)
        if self.rule.action == "retry":
            return Verdict.retry(error, delay=self.delay)
        if self.rule.action == "reauth":
            return Verdict.reauth(error)
        return Verdict.fail(error)


def malformed(
    provider: str, request: NativeRequest | None, problem: str, *, status: int | None = None
) -> ProviderError:
    """The one "response could not be read" error, for decode and for the executor."""
    rule = TABLE[FailureKind.MALFORMED]
    return ProviderError(
        provider,
        f"the response could not be read: {problem}",
        code=rule.code,
        request=request.describe() if request is not None else None,
        status=status,
        hint=rule.hint,
    )
