"""The common authentication schemes of vendor APIs, as emulators check them.

Each check answers the token a request presents under its scheme, or None. The convention
of every built-in emulator: the token ``invalid`` is a revoked one, and ``valid_token``
(when set) is the only one accepted.
"""

from __future__ import annotations

import httpx

__all__ = ["accepted", "api_key_header", "bearer_token", "query_token", "scheme_token"]

REVOKED = "invalid"


def scheme_token(request: httpx.Request, scheme: str, header: str = "Authorization") -> str | None:
    """The token of ``<header>: <scheme> <token>`` (scheme case-insensitive), or None."""
    given, _, token = request.headers.get(header, "").partition(" ")
    token = token.strip()
    return token if given.lower() == scheme.lower() and token else None


def bearer_token(request: httpx.Request) -> str | None:
    """The token of ``Authorization: Bearer <token>``, or None."""
    return scheme_token(request, "Bearer")


def api_key_header(request: httpx.Request, header: str) -> str | None:
    """The value of an API-key header (e.g. ``Fastly-Key``), or None when absent or blank."""
    return request.headers.get(header, "").strip() or None


def query_token(request: httpx.Request, name: str = "token") -> str | None:
    """A token sent in the query string (e.g. BaishanCloud's ``token``), or None."""
    return request.url.params.get(name) or None


def accepted(token: str | None, valid_token: str | None = None) -> bool:
    """Whether ``token`` gets in: present, not revoked, and ``valid_token`` when one is set."""
    if not token or token == REVOKED:
        return False
    return valid_token is None or token == valid_token
