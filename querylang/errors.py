"""One error hierarchy: query errors (nothing was sent) and provider errors (on the wire).

Every error renders as one paragraph naming the cause and the fix; query errors add a
caret excerpt of the source. Codes are stable and documented in docs/reference.md.
"""

from __future__ import annotations

from collections.abc import Iterable

from attrs import frozen

from querylang.ir import NO_SPAN, Span

__all__ = [
    "BindingError",
    "CredentialsError",
    "LimitError",
    "MissingExtraError",
    "ParamError",
    "ProviderError",
    "QueryError",
    "QuerySyntaxError",
    "QuerylangError",
    "SourceText",
    "UsageError",
    "did_you_mean",
]


@frozen
class SourceText:
    """The text a span points into, and the name to print for it."""

    path: str
    text: str


class QuerylangError(Exception):
    """Base of every error querylang reports to a user."""

    exit_code = 1
    code = "E000"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        """The error as shown to a user: one paragraph, cause then fix."""
        text = f"error[{self.code}]: {self.message}"
        if self.hint:
            text += f"\n  = help: {self.hint}"
        return text

    def __str__(self) -> str:
        from querylang.redaction import scrub

        return scrub(self.render())  # str(exc) in the Python API never shows a secret


class UsageError(QuerylangError):
    """The command line asks for something impossible (a missing file, a bad flag value)."""

    exit_code = 2
    code = "E500"

    def __init__(self, message: str, *, hint: str | None = None, code: str = "E500") -> None:
        super().__init__(message, hint=hint)
        self.code = code


class MissingExtraError(UsageError, ModuleNotFoundError):
    """An optional library is not installed: names the extra that installs it (E503).

    Also a ``ModuleNotFoundError``, so code that guards an optional import still works.
    """

    def __init__(self, module: str, purpose: str, extra: str) -> None:
        UsageError.__init__(
            self,
            f"{purpose} needs the Python library {module!r}, which is not installed",
            hint=f"install it with: pip install 'querylang[{extra}]'",
            code="E503",
        )
        self.name = module


class QueryError(QuerylangError):
    """The query cannot be run as written; nothing was sent."""

    exit_code = 2

    def __init__(
        self,
        code: str,
        message: str,
        *,
        span: Span = NO_SPAN,
        source: SourceText | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.code = code
        self.span = span
        self.source = source

    def with_source(self, source: SourceText) -> QueryError:
        """Attach the source text (if none yet) so the error can print its excerpt."""
        if self.source is None:
            self.source = source
        return self

    def from_default_zone(self, origin: str) -> QueryError:
        """A refusal of a zone the query does not write (E420, E402 at no span): say which
        setting gave it (``origin``: ``--tz``, ``.tz``, ``tz in FILE``)."""
        if self.code in ("E420", "E402") and self.span is NO_SPAN:
            self.message = f"{self.message} (the zone is {origin})"
            self.hint = f"{self.hint}; or write a TZ clause in the query, which {origin} yields to"
        return self

    @property
    def location(self) -> str:
        path = self.source.path if self.source else "<query>"
        if self.span is NO_SPAN:
            return path
        return f"{path}:{self.span.line}:{self.span.column}"

    def render(self) -> str:
        head = f"{self.location}: error[{self.code}]: {self.message}"
        lines = [head, *self.excerpt()]
        if self.hint:
            lines.append(f"  = help: {self.hint}")
        return "\n".join(lines)

    def excerpt(self) -> list[str]:
        """The offending source line with a caret run under the span."""
        if self.source is None or self.span is NO_SPAN:
            return []
        src_lines = self.source.text.splitlines() or [""]
        index = min(self.span.line, len(src_lines)) - 1
        line = src_lines[index]
        start = max(self.span.column - 1, 0)
        if self.span.end_line == self.span.line and self.span.end_column > self.span.column:
            width = self.span.end_column - self.span.column
        else:
            width = max(len(line) - start, 1) if self.span.end_line != self.span.line else 1
        gutter = " " * len(str(index + 1))
        return [
            f"{gutter} |",
            f"{index + 1} | {line}",
            f"{gutter} | {' ' * start}{'^' * max(width, 1)}",
        ]


class QuerySyntaxError(QueryError):
    """The text is not a querylang statement."""


class BindingError(QueryError):
    """A name or value does not fit the provider's catalog."""


class ParamError(QueryError):
    """A parameter is unbound or its value has the wrong type."""


class LimitError(QueryError):
    """The query asks for more than the vendor can answer (history, granularity, window)."""


class CredentialsError(QuerylangError):
    """A provider needs a secret that is not set; nothing was sent."""

    exit_code = 2
    code = "P001"

    def __init__(self, message: str, *, hint: str | None = None, code: str = "P001") -> None:
        super().__init__(message, hint=hint)
        self.code = code


class ProviderError(QuerylangError):
    """Something went wrong on the wire: HTTP status, vendor error body, timeout, bad payload."""

    exit_code = 1

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        code: str = "P100",
        request: str | None = None,
        status: int | None = None,
        hint: str | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.provider = provider
        self.code = code
        self.request = request
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after

    def render(self) -> str:
        where = f" ({self.request})" if self.request else ""
        text = f"error[{self.code}]: {self.provider}: {self.message}{where}"
        if self.hint:
            text += f"\n  = help: {self.hint}"
        return text


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A suggestion for a misspelt name, or None when nothing is close."""
    pool = list(candidates)
    lowered = {c.lower(): c for c in pool}
    if word.lower() in lowered:
        return lowered[word.lower()]
    import difflib  # only when a name is misspelt (check, a clean file, never asks)

    matches = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[matches[0]] if matches else None
