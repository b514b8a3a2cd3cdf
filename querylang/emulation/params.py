"""Request parameters checked as a vendor checks them, each refusal in the vendor's words.

Every parser takes the parameter's ``name`` and its raw ``value`` (a query parameter, a JSON
body field) and returns the parsed value or raises :class:`~querylang.emulation.BadRequest`
with the vendor's message. Messages are ``str.format`` templates: ``{name}`` and ``{value}``
are always filled in (``{value!r}`` quotes it), plus the fields each parser names; the
BadRequest's ``field`` is ``name``, for vendors that report the offending field apart. The
checks run in the order the emulator calls them, so the first refusal is the vendor's.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Sequence
from typing import Any, NoReturn, TypeVar

from attrs import frozen

from querylang.emulation.routes import BadRequest

__all__ = [
    "TimeFormat",
    "fail",
    "iso_time",
    "json_bool",
    "json_int",
    "json_strings",
    "known",
    "one_of",
    "required",
    "unix_time",
]

T = TypeVar("T")
_UNIX = re.compile(r"\s*-?\d+\s*")


def fail(name: str, value: Any, message: str, **fields: Any) -> NoReturn:
    """Refuse parameter ``name``: BadRequest with ``message`` filled in."""
    raise BadRequest(message.format(name=name, value=value, **fields), field=name)


def required(name: str, value: T | None, message: str = "{name} is required") -> T:
    """``value``, unless it is missing (None or empty)."""
    if value is None or (isinstance(value, str | list | dict) and not value):
        fail(name, value, message)
    return value


def one_of(name: str, value: Any, choices: Collection[Any], message: str) -> Any:
    """``value`` if it is one of ``choices``: ``{choices}`` lists them comma-separated,
    ``{either}`` as ``a, b or c``."""
    if value not in choices:
        words = [str(c) for c in choices]
        either = " or ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)
        fail(name, value, message, choices=", ".join(words), either=either)
    return value


def known(name: str, values: Sequence[T], choices: Collection[Any], message: str) -> list[T]:
    """``values`` if every one is among ``choices``; ``{unknown}`` (the others, comma-separated)
    and ``{first}`` (the first of them) fill the message, ``{value}`` is the whole list."""
    unknown = [v for v in values if v not in choices]
    if unknown:
        fail(name, values, message, unknown=", ".join(map(str, unknown)), first=unknown[0])
    return list(values)


@frozen
class TimeFormat:
    """How a vendor writes a time parameter, and its words for one it cannot read.

    ``formats``: strptime formats, the first that reads the text wins, in ``zone``. A value
    that is not a non-empty string is ``missing`` (None: go on and refuse it as malformed);
    ``shape``, a pattern the text must match first, refuses with ``malformed`` (else
    ``invalid``), so a vendor can tell a badly written time from an impossible one.
    ``strip``: surrounding spaces are allowed (the messages quote the value as given).
    """

    formats: tuple[str, ...]
    invalid: str
    missing: str | None = "{name} is required"
    shape: re.Pattern[str] | None = None
    malformed: str | None = None
    zone: dt.tzinfo = dt.UTC
    strip: bool = False

    def read(
        self, name: str, value: Any, *, default: int | None = None, zone: dt.tzinfo | None = None
    ) -> int:
        """UNIX seconds of ``value`` (None is ``default`` when one is given; ``zone``: the
        zone to read it in, instead of the format's)."""
        if value is None and default is not None:
            return default
        if self.missing is not None and (not isinstance(value, str) or not value):
            fail(name, value, self.missing)
        text = value.strip() if self.strip and isinstance(value, str) else value
        if self.shape is not None and not (isinstance(text, str) and self.shape.match(text)):
            fail(name, value, self.malformed or self.invalid)
        for fmt in self.formats:
            try:
                parsed = dt.datetime.strptime(text, fmt)
            except (TypeError, ValueError):
                continue
            return int(parsed.replace(tzinfo=zone or self.zone).timestamp())
        fail(name, value, self.invalid)


def iso_time(name: str, value: str | None, *, invalid: str, missing: str) -> int:
    """UNIX seconds of an ISO 8601 / RFC 3339 time (one without an offset is UTC)."""
    required(name, value, missing)
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        fail(name, value, invalid)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp())


def unix_time(name: str, value: str | None, message: str, *, default: int) -> int:
    """Whole UNIX seconds written as digits (spaces around allowed); None is ``default``."""
    if value is None:
        return default
    if not _UNIX.fullmatch(value):
        fail(name, value, message)
    return int(value)


def json_strings(name: str, value: Any, message: str) -> list[str] | None:
    """A JSON body's list of strings, or None when the field is absent (null)."""
    if value is not None and (
        not isinstance(value, list) or not all(isinstance(v, str) for v in value)
    ):
        fail(name, value, message)
    return value


def json_bool(name: str, value: Any, message: str) -> bool:
    """A JSON body's boolean (pass ``body.get(name, default)``: null is not a boolean)."""
    if not isinstance(value, bool):
        fail(name, value, message)
    return value


def json_int(name: str, value: Any, message: str) -> int | None:
    """A JSON body's integer (not a boolean), or None when the field is absent (null)."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        fail(name, value, message)
    return value
