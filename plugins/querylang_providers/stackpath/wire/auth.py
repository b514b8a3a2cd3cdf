"""OAuth2 client credentials: one token per run, shared by every (concurrent) request.

The token is fetched under ``session.lock``, cached in ``session.cache`` until shortly
before it expires, and fetched anew at most once per 401: a request that failed with a
token another request has already replaced just takes the new one.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from querylang.errors import ProviderError
from querylang.wire import AuthSession, NativeRequest, build_url
from querylang_providers.stackpath.catalog import CLIENT_ID_ENV, CLIENT_SECRET_ENV, TOKEN_PATH

if TYPE_CHECKING:
    import httpx

__all__ = ["authorize", "fetch_token"]

DEFAULT_TTL = 3600.0  # seconds, when the answer has no expires_in
_HINT = (
    f"check {CLIENT_ID_ENV} and {CLIENT_SECRET_ENV}: an API client ID and secret created "
    "in the StackPath portal (API Management), with access to the stack's CDN metrics"
)
_HINTS = {
    "P401": _HINT,
    "P502": "check the network, or the base URL in QUERYLANG_STACKPATH_BASE_URL if you set it",
    "P504": "try again; the token is asked for once per run",
}


def _error(message: str, *, code: str, status: int | None, url: str, **kw: bool) -> ProviderError:
    return ProviderError(
        "stackpath",
        message,
        code=code,
        request=f"POST {url}",
        status=status,
        hint=_HINTS.get(code, "the identity service is failing; try again later"),
        **kw,
    )


def _said(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        message = body.get("message") or body.get("error_description") or body.get("error")
        if isinstance(message, str) and message:
            return f": {message[:200]}"
    return ""


async def fetch_token(session: AuthSession) -> tuple[str, float]:
    """POST the client credentials; (access token, seconds it lives). Counts session.calls."""
    import httpx

    context = session.context
    url = build_url(context.base_url, TOKEN_PATH)
    payload = {
        "grant_type": "client_credentials",
        "client_id": context.credentials.get(CLIENT_ID_ENV, ""),
        "client_secret": context.credentials.get(CLIENT_SECRET_ENV, ""),
    }
    session.calls += 1
    try:
        response = await session.client.post(
            url,
            content=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
    except httpx.TimeoutException as exc:
        raise _error(
            f"the identity service gave no token in time ({type(exc).__name__})",
            code="P504",
            status=None,
            url=url,
            retryable=True,
        ) from exc
    except httpx.HTTPError as exc:  # the same words as any call that cannot connect
        raise _error(
            f"could not connect to {httpx.URL(url).host} for a token ({type(exc).__name__})",
            code="P502",
            status=None,
            url=url,
            retryable=True,
        ) from exc
    status = response.status_code
    if status == 429 or status >= 500:
        raise _error(
            f"the identity service failed with HTTP {status}{_said(response)}",
            code="P429" if status == 429 else "P500",
            status=status,
            url=url,
            retryable=True,
        )
    if not 200 <= status < 300:
        raise _error(
            f"the identity service refused the client credentials (HTTP {status}){_said(response)}",
            code="P401",
            status=status,
            url=url,
        )
    try:
        body = response.json()
        token = body["access_token"]
        ttl = float(body.get("expires_in") or DEFAULT_TTL)
    except (ValueError, KeyError, TypeError, AttributeError):
        token, ttl = None, 0.0
    if not isinstance(token, str) or not token:
        raise _error(
            "the identity service answered without an access_token",
            code="P401",
            status=status,
            url=url,
        )
    return token, ttl


def _bearer(request: NativeRequest) -> str | None:
    """The token a request carries already (when the caller passes the sent request back)."""
    for name, value in request.headers:
        if name.lower() == "authorization" and value.lower().startswith("bearer "):
            return value[7:]
    return None


async def authorize(
    request: NativeRequest, session: AuthSession, *, refresh: bool = False
) -> NativeRequest:
    """The request with ``Authorization: Bearer <token>`` (secret), the token cached per run.

    On ``refresh`` a new token is fetched only if the one this request was last sent with
    is still the cached one: when several requests fail with the same expired token at
    once, the first fetches a new token and the others reuse it.
    """
    sent_with: dict[int, str] = session.cache.setdefault("sent_with", {})
    previous = _bearer(request) or sent_with.get(id(request))
    async with session.lock:
        token: str | None = session.cache.get("token")
        fresh = token is not None and time.monotonic() < session.cache.get("expires_at", 0.0)
        replaced = previous is not None and previous != token
        if not fresh or (refresh and not replaced):
            token, ttl = await fetch_token(session)
            margin = min(60.0, ttl / 10.0)  # renew a little before the vendor would refuse
            session.cache["token"] = token
            session.cache["expires_at"] = time.monotonic() + ttl - margin
        assert token is not None
        sent_with[id(request)] = token
    return request.with_header("Authorization", f"Bearer {token}", secret=True)
