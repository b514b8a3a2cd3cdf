"""authorize(): one cached OAuth2 token per run, one refresh per 401, clear failures."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from querylang.errors import ProviderError
from querylang.hookspecs import AuthSession
from querylang.timegrid import parse_ts
from querylang.wire import NativeRequest, ProviderContext
from querylang_providers.stackpath import StackPathProvider
from querylang_providers.stackpath.emulator import StackPathEmulator

NOW = parse_ts("2026-11-20T00:00:00Z")
PROVIDER = StackPathProvider()
SECRET = "client-secret-value"


def _request(n: int = 0) -> NativeRequest:
    return NativeRequest(
        provider="stackpath",
        method="GET",
        url=f"http://sp.test/cdn/v1/stacks/demo/metrics?n={n}",
        headers=(("Accept", "application/json"),),
    )


def _with_session(
    handler: Callable[[httpx.Request], httpx.Response],
    body: Callable[[AuthSession], Awaitable[Any]],
    *,
    client_id: str = "client-id",
) -> Any:
    context = ProviderContext(
        base_url="http://sp.test",
        credentials={"STACKPATH_CLIENT_ID": client_id, "STACKPATH_CLIENT_SECRET": SECRET},
        settings={"STACKPATH_STACK_ID": "demo"},
        now=NOW,
    )

    async def main() -> Any:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await body(AuthSession(client, context))

    return asyncio.run(main())


def test_stackpath_token_request_shape_and_secret_header() -> None:
    seen: list[httpx.Request] = []
    emulator = StackPathEmulator(lambda: NOW)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return emulator.handle(request)

    sent = _with_session(handler, lambda s: PROVIDER.authorize(_request(), s))
    (token_call,) = seen
    assert token_call.method == "POST"
    assert str(token_call.url) == "http://sp.test/identity/v1/oauth2/token"
    assert json.loads(token_call.content) == {
        "grant_type": "client_credentials",
        "client_id": "client-id",
        "client_secret": SECRET,
    }
    assert dict(sent.headers)["Authorization"] == "Bearer emulated-token-0001"
    shown = json.dumps(sent.to_json())
    assert "emulated-token" not in shown and SECRET not in shown and "***" in shown


def test_stackpath_concurrent_requests_share_one_token_call() -> None:
    emulator = StackPathEmulator(lambda: NOW)

    async def body(session: AuthSession) -> list[NativeRequest]:
        first = await asyncio.gather(*(PROVIDER.authorize(_request(i), session) for i in range(20)))
        later = [await PROVIDER.authorize(_request(i), session) for i in range(5)]
        assert session.calls == 1
        return [*first, *later]

    sent = _with_session(emulator.handle, body)
    assert emulator.token_calls == 1
    assert {dict(r.headers)["Authorization"] for r in sent} == {"Bearer emulated-token-0001"}


def test_stackpath_refresh_after_401_happens_once_for_concurrent_failures() -> None:
    """Four requests fail with the same revoked token: one new token, shared by all four."""
    emulator = StackPathEmulator(lambda: NOW)
    requests = [_request(i) for i in range(4)]

    async def body(session: AuthSession) -> set[str]:
        await asyncio.gather(*(PROVIDER.authorize(r, session) for r in requests))
        emulator.revoke()
        again = await asyncio.gather(
            *(PROVIDER.authorize(r, session, refresh=True) for r in requests)
        )
        assert session.calls == 2
        return {dict(r.headers)["Authorization"] for r in again}

    assert _with_session(emulator.handle, body) == {"Bearer emulated-token-0002"}
    assert emulator.token_calls == 2


def test_stackpath_refresh_of_the_sent_request_is_deduplicated_too() -> None:
    """Whether the caller passes back the compiled or the sent request, one refresh only."""
    emulator = StackPathEmulator(lambda: NOW)

    async def body(session: AuthSession) -> None:
        sent = await PROVIDER.authorize(_request(1), session)
        other = await PROVIDER.authorize(_request(2), session)
        await PROVIDER.authorize(sent, session, refresh=True)
        await PROVIDER.authorize(other, session, refresh=True)
        assert session.calls == 2

    _with_session(emulator.handle, body)


def test_stackpath_expired_token_is_fetched_anew() -> None:
    emulator = StackPathEmulator(lambda: NOW, ttl=120)

    async def body(session: AuthSession) -> None:
        await PROVIDER.authorize(_request(), session)
        session.cache["expires_at"] = 0.0  # as if the clock had run past expires_in - margin
        await PROVIDER.authorize(_request(), session)
        await PROVIDER.authorize(_request(), session)

    _with_session(emulator.handle, body)
    assert emulator.token_calls == 2


def _failing(client_id: str = "client-id", handler=None) -> ProviderError:
    emulator = StackPathEmulator(lambda: NOW)
    with pytest.raises(ProviderError) as info:
        _with_session(
            handler or emulator.handle,
            lambda s: PROVIDER.authorize(_request(), s),
            client_id=client_id,
        )
    return info.value


def test_stackpath_rejected_client_credentials_name_both_env_vars() -> None:
    error = _failing(client_id="invalid")
    text = error.render()
    assert error.code == "P401" and error.status == 401
    assert "STACKPATH_CLIENT_ID" in text and "STACKPATH_CLIENT_SECRET" in text
    assert "invalid client credentials" in text and SECRET not in text


def test_stackpath_token_endpoint_outage_is_retryable() -> None:
    error = _failing(handler=lambda r: httpx.Response(503, json={"code": 14, "message": "down"}))
    assert error.code == "P500" and error.retryable


def test_stackpath_token_answer_without_access_token_is_an_auth_error() -> None:
    error = _failing(handler=lambda r: httpx.Response(200, json={"token_type": "bearer"}))
    assert error.code == "P401" and "without an access_token" in error.render()


def test_stackpath_unreachable_identity_service_is_retryable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    error = _failing(handler=handler)
    text = error.render()
    # the same code and fix as any call that cannot connect: the network or the base URL
    assert error.code == "P502" and error.retryable and "ConnectError" in text
    assert "could not connect to sp.test" in text and "QUERYLANG_STACKPATH_BASE_URL" in text


def test_stackpath_identity_service_timeout_is_p504() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    error = _failing(handler=handler)
    assert error.code == "P504" and error.retryable and "ReadTimeout" in error.render()
