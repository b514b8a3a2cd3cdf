"""The common authentication schemes of vendor APIs, as emulators check them.

Each check answers the token a request presents under its scheme, or None. The convention
of every built-in emulator: the token ``invalid`` is a revoked one, and ``valid_token``
(when set) is the only one accepted. :class:`TokenIssuer` is the token endpoint of an
OAuth2 client-credentials grant, for vendors whose API takes the bearer tokens it issues.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

import httpx

from querylang.emulation.routes import BadRequest, json_object

__all__ = [
    "TokenIssuer",
    "TokenRefused",
    "accepted",
    "api_key_header",
    "bearer_token",
    "query_token",
    "scheme_token",
]

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


class TokenRefused(BadRequest):
    """A token request the issuer refuses, with its OAuth2 error code (RFC 6749, 5.2).

    ``error`` is ``invalid_request`` (a malformed body, a missing credential: ``fields`` names
    each problem), ``unsupported_grant_type`` or ``invalid_client`` (status 401). An emulator
    renders it in its vendor's error shape.
    """

    def __init__(self, message: str, error: str, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message, 401 if error == "invalid_client" else 400)
        self.error = error
        self.fields = dict(fields or {})


class TokenIssuer:
    """Bearer tokens of an OAuth2 client-credentials grant, issued and checked on a clock.

    :meth:`grant` reads a token request (a JSON body; a form body with ``form=True``) and
    issues a token that lives ``ttl`` seconds on ``now``; any non-empty client ID and secret
    get one, except the revoked value ``invalid``. :meth:`valid` checks a request's
    ``Authorization: Bearer`` token; :meth:`revoke` ends every token issued so far.
    """

    def __init__(
        self,
        now: Callable[[], float],
        *,
        ttl: int = 3600,
        prefix: str = "emulated-token-",
        form: bool = False,
    ) -> None:
        self.now = now
        self.ttl = ttl
        self.prefix = prefix
        self.form = form
        self.calls = 0  # token requests received, granted or not
        self.tokens: dict[str, float] = {}  # token → expiry on ``now``
        self._issued = 0
        self._lock = threading.Lock()

    def _body(self, request: httpx.Request) -> dict[str, Any]:
        if self.form:
            return dict(parse_qsl(request.content.decode(errors="replace")))
        try:
            return json_object(request, empty={})
        except BadRequest as exc:
            raise TokenRefused(exc.message, "invalid_request") from None

    def grant(self, request: httpx.Request) -> dict[str, Any]:
        """The token response (``access_token``, ``token_type``, ``expires_in``), else raises."""
        with self._lock:
            self.calls += 1
        body = self._body(request)
        if body.get("grant_type") != "client_credentials":
            raise TokenRefused(
                "unsupported grant type",
                "unsupported_grant_type",
                {"grant_type": "must be client_credentials"},
            )
        missing = {k: "is required" for k in ("client_id", "client_secret") if not body.get(k)}
        if missing:
            raise TokenRefused("missing client credentials", "invalid_request", missing)
        if REVOKED in (body["client_id"], body["client_secret"]):
            raise TokenRefused("invalid client credentials", "invalid_client")
        with self._lock:
            self._issued += 1
            token = f"{self.prefix}{self._issued:04d}"
            self.tokens[token] = self.now() + self.ttl
        return {"access_token": token, "token_type": "bearer", "expires_in": self.ttl}

    def valid(self, request: httpx.Request) -> bool:
        """Whether the request's bearer token was issued here and is neither expired nor revoked."""
        token = bearer_token(request)
        if not accepted(token):
            return False
        with self._lock:
            expiry = self.tokens.get(str(token))
        return expiry is not None and self.now() < expiry

    def revoke(self) -> None:
        """End every token issued so far (as an expiry or a revocation would)."""
        with self._lock:
            self.tokens.clear()
