"""Secrets never leave the process: every credential and derived token, in every encoding.

The process remembers each secret it reads (from the environment, a credential command,
or a token a provider obtained: :func:`remember`) and :func:`scrub` replaces it in any
text on its way out — error paragraphs, ``str(exc)``, debug tracebacks, the REPL — in
the forms a vendor may echo it back: raw, URL-encoded (``%2B`` and ``+`` forms), JSON
string escaped, base64 (standard and URL-safe, with or without padding) and the base64
of ``id:secret`` pairs as HTTP Basic authentication sends them.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

__all__ = ["REDACTED", "forms", "known", "remember", "scrub", "secrets_from_env"]

REDACTED = "***"
_MIN = 4  # shorter values are not treated as secrets (they would blank out ordinary text)
_SECRETS: set[str] = set()


def remember(value: str | None) -> None:
    """Note a secret read or derived by this process so that no output can show it."""
    if value and len(value) >= _MIN:
        _SECRETS.add(value)
        scheme, _, rest = value.partition(" ")  # "Bearer <token>": the token alone too
        if rest and scheme.isalpha() and len(rest) >= _MIN:
            _SECRETS.add(rest)


def known() -> frozenset[str]:
    return frozenset(_SECRETS)


def secrets_from_env(names: Iterable[str], env: os._Environ[str] | dict[str, str]) -> list[str]:
    return [env[n] for n in names if len(env.get(n, "")) >= _MIN]


def _b64(raw: bytes) -> set[str]:
    import base64  # on the first secret scrubbed, not in every short command's start-up

    std = base64.b64encode(raw).decode()
    url = base64.urlsafe_b64encode(raw).decode()
    return {std, std.rstrip("="), url, url.rstrip("=")}


def forms(secret: str) -> set[str]:
    """The encodings in which ``secret`` may appear in text."""
    raw = secret.encode()
    out = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret)}
    out.add(json.dumps(secret)[1:-1])
    out |= _b64(raw)
    out.add(raw.hex())
    return {f for f in out if len(f) >= _MIN}


def _all_forms(secrets: Iterable[str]) -> list[str]:
    pool = sorted(set(secrets))
    out: set[str] = set()
    for s in pool:
        out |= forms(s)
    for a, b in itertools.permutations(pool, 2):  # HTTP Basic: base64("id:secret")
        out |= _b64(f"{a}:{b}".encode())
    return sorted(out, key=len, reverse=True)


def scrub(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every known secret (and ``extra``), in every form, replaced by ***."""
    secrets = {*_SECRETS, *(e for e in extra if e and len(e) >= _MIN)}
    if not secrets or not text:
        return text
    for form in _all_forms(secrets):
        if form in text:
            text = text.replace(form, REDACTED)
    return text
