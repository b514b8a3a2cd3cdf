"""An emulator of StackPath's gateway: the OAuth2 token endpoint and the CDN metrics endpoint.

Tokens: any non-empty client ID and secret get a token except the value ``invalid``
(401, gRPC 16). Tokens live ``ttl`` seconds on the emulator's clock; :meth:`revoke`
invalidates every token issued so far, and the token ``invalid`` is always refused.
``token_calls`` counts token requests so tests can check a run fetched exactly one;
``revoke_on_call = n`` revokes every token just before the n-th metrics call (counted
from 1 in ``metric_calls``), to test one refresh in the middle of a run.
Stacks: every stack ID or slug has data, except ``forbidden`` (403, gRPC 7) and
``missing`` (404, gRPC 5).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import unquote

import httpx

from querylang.emulation import accepted, account_data, bearer_token, json_response
from querylang_providers.stackpath import cdn_emulator
from querylang_providers.stackpath.catalog import TOKEN_PATH
from querylang_providers.stackpath.cdn_emulator import rpc_error

__all__ = ["StackPathEmulator"]

_METRICS_PATH = re.compile(r"^/cdn/v1/stacks/([^/]+)/metrics$")


class StackPathEmulator:
    """Answers StackPath gateway requests like the vendor (paths, validation, errors)."""

    def __init__(self, now: Callable[[], float], *, ttl: int = 3600, millis: bool = False) -> None:
        self.now = now
        self.ttl = ttl
        self.millis = millis  # answer timestamps in milliseconds instead of seconds
        self.token_calls = 0
        self.metric_calls = 0  # metrics requests received (authorized or not)
        self.revoke_on_call: int | None = None
        self.tokens: dict[str, float] = {}  # token → expiry (emulator clock)
        self._issued = 0
        self._lock = threading.Lock()

    def expected(
        self,
        dataset: str,
        metric: str,
        start: int,
        end: int,
        step: int,
        where: Mapping[str, Sequence[str]] | None = None,
    ) -> dict[int, float]:
        """The emulator's own data for counter ``metric`` of ``cdn``, per bucket."""
        if dataset != "cdn":
            raise ValueError(f"the StackPath emulator has no dataset {dataset!r}")
        with account_data(""):
            return cdn_emulator.expected(metric, start, end, step, int(self.now()), where)

    # -- tokens -------------------------------------------------------------------------
    def revoke(self) -> None:
        """Invalidate every token issued so far (as an expiry or a revocation would)."""
        with self._lock:
            self.tokens.clear()

    def _token(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.token_calls += 1
        try:
            body = json.loads(request.content or b"{}")
        except ValueError:
            return rpc_error(3, "the request body is not valid JSON")
        if not isinstance(body, dict):
            return rpc_error(3, "the request body must be a JSON object")
        if body.get("grant_type") != "client_credentials":
            return rpc_error(
                3, "unsupported grant type", {"grant_type": "must be client_credentials"}
            )
        missing = {k: "is required" for k in ("client_id", "client_secret") if not body.get(k)}
        if missing:
            return rpc_error(3, "missing client credentials", missing)
        if "invalid" in (body["client_id"], body["client_secret"]):
            return rpc_error(16, "invalid client credentials")
        with self._lock:
            self._issued += 1
            token = f"emulated-token-{self._issued:04d}"
            self.tokens[token] = self.now() + self.ttl
        return json_response(
            200, {"access_token": token, "token_type": "bearer", "expires_in": self.ttl}
        )

    def _authorized(self, request: httpx.Request) -> bool:
        token = bearer_token(request)
        if token is None or not accepted(token):
            return False
        with self._lock:
            expiry = self.tokens.get(token)
        return expiry is not None and self.now() < expiry

    # -- routing ------------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == TOKEN_PATH:
            if request.method != "POST":
                return rpc_error(3, f"{request.method} is not allowed on {path}")
            return self._token(request)
        raw_path = request.url.raw_path.decode("ascii").split("?", 1)[0]  # keeps %2F in IDs
        match = _METRICS_PATH.match(raw_path)
        if match is None or request.method != "GET":
            return rpc_error(5, f"no route {request.method} {path}")
        with self._lock:
            self.metric_calls += 1
            if self.metric_calls == self.revoke_on_call:
                self.tokens.clear()
        if not self._authorized(request):
            return rpc_error(16, "the access token is missing, invalid or expired")
        stack = unquote(match.group(1))
        if stack == "forbidden":
            return rpc_error(7, f"the API client may not read stack {stack!r}")
        if stack == "missing":
            return rpc_error(5, f"stack {stack!r} not found")
        return cdn_emulator.handle(request, stack, int(self.now()), millis=self.millis)
