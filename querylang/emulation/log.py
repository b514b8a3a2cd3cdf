"""The request log of a served emulator: one line per request, secrets redacted.

``querylang emulate`` prints it: method, path and query string, status. A query-string
value is replaced by ``***`` when its name says it is a secret (``token``, ``key``,
``secret``, ``password``, ``signature``, ``auth``: BaishanCloud sends its token that way)
or when it is a secret querylang knows (:mod:`querylang.redaction`).
"""

from __future__ import annotations

import re
import threading
from typing import TextIO
from urllib.parse import parse_qsl, quote, urlsplit

from querylang.redaction import REDACTED, scrub

__all__ = ["RequestLog", "redact_target"]

_SECRET_NAME = re.compile(r"token|key|secret|password|passwd|signature|auth|sig$", re.I)


def redact_target(target: str) -> str:
    """``path?query`` of a request line with the value of every secret parameter as ***."""
    parts = urlsplit(target)
    if not parts.query:
        return scrub(parts.path)
    pairs = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        shown = REDACTED if _SECRET_NAME.search(name) else quote(value, safe=",:")
        pairs.append(f"{quote(name, safe='')}={shown}")
    return scrub(f"{parts.path}?{'&'.join(pairs)}")


class RequestLog:
    """Writes ``METHOD /path?query STATUS`` lines to ``stream`` (thread-safe)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._lock = threading.Lock()

    def write(self, method: str, target: str, status: int) -> None:
        line = f"{method} {redact_target(target)} {status}\n"
        with self._lock:
            self.stream.write(line)
            self.stream.flush()
