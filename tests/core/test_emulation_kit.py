"""The emulator kit (querylang.emulation) and the emulators' own data (expected())."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from querylang.timegrid import parse_ts

NOW = parse_ts("2026-11-20T05:00:00Z")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "querylang-example-plugin"


# -- expected() of the example plugin's emulator ----------------------------------------------
@pytest.mark.parametrize(
    ("step", "start", "end", "sites"),
    [(60, NOW - 3600, NOW + 600, None), (3600, NOW - 86400, NOW, ["ams", "sin"]),
     (86400, NOW - 20 * 86400 - 5 * 3600, NOW - 5 * 3600, ["fra"])],
)  # fmt: skip
@pytest.mark.parametrize("metric", ["bytes", "requests", "errors"])
def test_edgelog_expected_matches_the_http_answer(
    step, start, end, sites, metric, monkeypatch
) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLE))  # the example plugin, as its own tests import it
    from querylang_edgelog.emulator import EdgelogEmulator

    emulator = EdgelogEmulator(lambda: float(NOW + 30))
    params = [("metric", metric), ("start", start), ("end", end), ("step", step)]
    params += [("site", s) for s in sites or ()]
    request = httpx.Request(
        "GET", "http://edgelog.test/v1/series", params=params, headers={"Authorization": "Bearer t"}
    )
    response = emulator.handle(request)
    assert response.status_code == 200, response.text
    answered: dict[int, float] = {}
    for series in response.json()["series"]:
        for t, v in series["points"]:
            answered[t] = answered.get(t, 0.0) + v
    where = None if sites is None else {"site": sites}
    truth = emulator.expected("series", metric, start, end, step, where)
    assert truth == answered and len(truth) >= 3
    assert all(t + step <= NOW + 30 for t in truth)


# -- the request log ----------------------------------------------------------------------------
def test_the_request_log_redacts_secret_parameters_and_known_secrets() -> None:
    from querylang.emulation import redact_target
    from querylang.redaction import remember

    target = "/v2/stat/bandwidth?token=bs-s3cr3t&domains=a.example.com,b.example.com&grad=hour"
    assert redact_target(target) == (
        "/v2/stat/bandwidth?token=***&domains=a.example.com,b.example.com&grad=hour"
    )
    assert redact_target("/stats?api_key=x1&from=1") == "/stats?api_key=***&from=1"
    remember("kit-known-secret-value")
    assert "kit-known" not in redact_target("/v1/series?q=kit-known-secret-value")
    assert redact_target("/cdn/statistics/series") == "/cdn/statistics/series"


def test_a_served_emulator_logs_one_line_per_request() -> None:
    import io

    from querylang.emulation import LoopbackServer
    from querylang.plugins import registry

    log = io.StringIO()
    server = LoopbackServer(registry().get("baishan").emulator(lambda: float(NOW)), log=log)
    server.start()
    try:
        url = f"{server.url}/v2/stat/bandwidth?token=bs-s3cr3t&domains=all&grad=hour"
        assert httpx.get(url).status_code == 400  # no start_time
        assert httpx.get(f"{server.url}/nowhere").status_code == 404
    finally:
        server.stop()
    assert log.getvalue().splitlines() == [
        "GET /v2/stat/bandwidth?token=***&domains=all&grad=hour 400",
        "GET /nowhere 404",
    ]


# -- routes and auth -----------------------------------------------------------------------------
def _error(status: int, message: str) -> httpx.Response:
    from querylang.emulation import json_response

    return json_response(status, {"error": {"message": message}})


def _table(**kwargs):
    from querylang.emulation import BadRequest, RouteTable, json_response

    def series(request: httpx.Request, now: int) -> httpx.Response:
        if "metric" not in request.url.params:
            raise BadRequest("metric is required")
        return json_response(200, {"now": now})

    def one(request: httpx.Request, service: str, now: int) -> httpx.Response:
        return json_response(200, {"service": service})

    table = RouteTable(_error, **kwargs)
    return table.add("GET", "/v1/series", series).add("GET", "/v1/service/{service}", one)


def test_the_route_table_dispatches_and_answers_errors_in_the_vendor_shape() -> None:
    table = _table()
    ask = lambda method, url: table.dispatch(httpx.Request(method, f"http://e.test{url}"), now=7)  # noqa: E731
    assert ask("GET", "/v1/series?metric=bytes").json() == {"now": 7}
    assert ask("GET", "/v1/service/abc").json() == {"service": "abc"}
    bad = ask("GET", "/v1/series")
    assert bad.status_code == 400 and bad.json() == {"error": {"message": "metric is required"}}
    missing = ask("GET", "/v1/nothing")
    assert missing.status_code == 404 and "no route GET /v1/nothing" in missing.text
    assert ask("POST", "/v1/series").status_code == 405
    assert ask("GET", "/v1/service/a/b").status_code == 404  # one segment per parameter
    strict = _table(wrong_method_status=404)
    assert (
        strict.dispatch(httpx.Request("DELETE", "http://e.test/v1/series"), now=1).status_code
        == 404
    )


def test_the_auth_schemes_read_their_token() -> None:
    from querylang.emulation import (
        accepted,
        api_key_header,
        bearer_token,
        query_token,
        scheme_token,
    )

    def request(headers: dict[str, str] | None = None, query: str = "") -> httpx.Request:
        return httpx.Request("GET", f"http://e.test/x{query}", headers=headers or {})

    assert bearer_token(request({"Authorization": "Bearer t0k"})) == "t0k"
    assert bearer_token(request({"Authorization": "bearer  t0k "})) == "t0k"
    assert bearer_token(request({"Authorization": "Bearer "})) is None
    assert bearer_token(request({"Authorization": "APIKey t0k"})) is None
    assert scheme_token(request({"Authorization": "APIKey k"}), "apikey") == "k"
    assert api_key_header(request({"Fastly-Key": " k "}), "Fastly-Key") == "k"
    assert api_key_header(request(), "Fastly-Key") is None
    assert query_token(request(query="?token=abc&x=1")) == "abc"
    assert query_token(request(query="?token=")) is None
    assert accepted("abc") and not accepted(None) and not accepted("invalid")
    assert accepted("abc", "abc") and not accepted("abd", "abc")


# -- the rate limiter ------------------------------------------------------------------------------
def test_the_limiter_counts_fixed_windows_of_every_limit() -> None:
    from querylang.catalog import RateLimit
    from querylang.emulation import FixedWindowLimiter

    t = [100.5]
    limiter = FixedWindowLimiter(
        [RateLimit(calls=4, per_seconds=60), RateLimit(calls=2, per_seconds=2)], lambda: t[0]
    )
    first, second, third = limiter.admit(), limiter.admit(), limiter.admit()
    assert first.admitted and second.admitted and first.used == (1, 1) and second.used == (2, 2)
    # the 2-per-2-seconds window [100, 102) is full: refused, counted nowhere, 1.5 s -> 2 s
    assert not third.admitted and third.binding == 1 and third.used == (2, 2)
    assert third.reset_after == 2
    t[0] = 102.0  # a new 2-second window; the minute window [60, 120) holds 2 calls
    assert [limiter.admit().admitted for _ in range(3)] == [True, True, False]
    refused = limiter.admit()
    assert refused.binding == 0 and refused.reset_after == 18  # the minute is full until 120
    assert (limiter.calls, limiter.rejected) == (4, 3)


# -- route guards, per-route error bodies, the not-found answer -----------------------------------
def _guarded_table():
    from querylang.emulation import BadRequest, RouteTable, json_response

    seen: list[str] = []

    def guard(request: httpx.Request):
        seen.append(request.url.path)
        if request.headers.get("Authorization") != "Key k":
            return json_response(401, {"denied": True})
        return {"X-Limit-Remaining": "9"}

    def series(request: httpx.Request) -> httpx.Response:
        if "metric" not in request.url.params:
            raise BadRequest("metric is required")
        return json_response(200, {"ok": 1})

    def token(request: httpx.Request) -> httpx.Response:
        return json_response(200, {"token": "t"})

    def usage(request: httpx.Request) -> httpx.Response:
        raise BadRequest("from is required", status=422)

    table = RouteTable(
        _error, wrong_method_status=404, not_found="Cannot {method} {path}", guard=guard
    )
    table.add("GET", "/v1/series", series).add("POST", "/oauth/token", token, guarded=False)
    table.add("POST", "/v1/usage", usage, bad_request=lambda s, m: json_response(s, {"e": m}))
    return table, seen


def test_a_guard_refuses_or_admits_with_headers_every_answer_carries() -> None:
    table, seen = _guarded_table()
    key = {"Authorization": "Key k"}

    def ask(method: str, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return table.dispatch(httpx.Request(method, f"http://e.test{url}", headers=headers))

    refused = ask("GET", "/v1/series?metric=x")
    assert refused.status_code == 401 and refused.json() == {"denied": True}
    assert "X-Limit-Remaining" not in refused.headers
    ok = ask("GET", "/v1/series?metric=x", key)
    assert ok.json() == {"ok": 1} and ok.headers["X-Limit-Remaining"] == "9"
    bad = ask("GET", "/v1/series", key)  # a refusal by the handler carries them too
    assert bad.status_code == 400 and bad.json() == {"error": {"message": "metric is required"}}
    assert bad.headers["X-Limit-Remaining"] == "9"
    assert ask("POST", "/oauth/token").json() == {"token": "t"}  # not guarded
    own = ask("POST", "/v1/usage", key)  # the route's own body for a BadRequest
    assert own.status_code == 422 and own.json() == {"e": "from is required"}
    assert seen == ["/v1/series", "/v1/series", "/v1/series", "/v1/usage"]
    # unknown paths and wrong methods are answered before the guard, as the same 404
    for method, url in (("GET", "/v2/nothing"), ("DELETE", "/v1/series")):
        missing = ask(method, url)
        assert missing.status_code == 404
        assert missing.json() == {"error": {"message": f"Cannot {method} {url}"}}
    assert len(seen) == 4


def test_a_guard_sees_the_handlers_extra_arguments() -> None:
    """One reading of the clock serves the rate limit and the data of the same request."""
    from querylang.emulation import RouteTable, json_response

    def guard(request: httpx.Request, now: int) -> httpx.Response | dict[str, str]:
        if now >= 100:
            return json_response(429, {"retry_at": now + 5})
        return {"X-Reset": str(now + 5)}

    def handler(request: httpx.Request, now: int, stack: str) -> httpx.Response:
        return json_response(200, {"stack": stack, "now": now})

    table = RouteTable(_error, guard=guard).add("GET", "/stacks/{stack}", handler)
    request = httpx.Request("GET", "http://e.test/stacks/s1")
    ok = table.dispatch(request, now=40)
    assert ok.json() == {"stack": "s1", "now": 40} and ok.headers["X-Reset"] == "45"
    late = table.dispatch(request, now=100)
    assert late.status_code == 429 and late.json() == {"retry_at": 105}


def test_the_table_body_for_bad_requests_and_whole_path_matching() -> None:
    from querylang.emulation import BadRequest, RouteTable, json_response

    def handler(request: httpx.Request) -> httpx.Response:
        raise BadRequest("no")

    table = RouteTable(_error, bad_request=lambda s, m: json_response(s, {"status": "error"}))
    table.add("GET", "/stats", handler)
    assert table.dispatch(httpx.Request("GET", "http://e.test/stats")).json() == {"status": "error"}
    # a trailing newline is not the path (a "$" pattern would have matched it)
    newline = table.dispatch(httpx.Request("GET", "http://e.test/stats%0A"))
    assert newline.status_code == 404


# -- deliveries: what a flaky network does, on the loopback server and in the sandbox -------------
class _Delivering:
    """Answers ``{"n": 1}`` delivered as the path says (/normal, /reset, /close, /trickle)."""

    def handle(self, request: httpx.Request) -> httpx.Response:
        from querylang.emulation import deliver, json_response

        if request.url.path == "/boom":
            raise RuntimeError("a bug")
        response = json_response(200, {"n": 1, "pad": "x" * 30})
        return deliver(response, request.url.path.strip("/"))  # type: ignore[arg-type]


def test_the_loopback_server_delivers_resets_closes_and_trickles() -> None:
    from querylang.emulation import serve

    with serve(_Delivering()) as server:
        assert httpx.get(f"{server.url}/normal").json()["n"] == 1
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError, httpx.ConnectError)):
            httpx.get(f"{server.url}/reset")
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(f"{server.url}/close")
        server.trickle_interval = 0.5  # a byte every 0.5 s: a read timeout of 0.2 s fires
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(f"{server.url}/trickle", timeout=httpx.Timeout(5.0, read=0.2))
        server.trickle_interval, server.trickle_bytes = 0.01, 5  # then cut off after 5 bytes
        with pytest.raises(httpx.RemoteProtocolError, match="received 5 bytes"):
            httpx.get(f"{server.url}/trickle", timeout=5.0)
        broken = httpx.get(f"{server.url}/boom")
        assert broken.status_code == 500 and "emulator error: a bug" in broken.text
        assert server.requests == 6


def test_the_sandbox_raises_what_a_client_would_see() -> None:
    import asyncio

    from querylang.emulation import SandboxTransport

    async def ask(path: str) -> httpx.Response:
        transport = SandboxTransport({"e.test": _Delivering()})
        async with httpx.AsyncClient(transport=transport) as client:
            return await client.get(f"http://e.test{path}")

    assert asyncio.run(ask("/trickle")).json()["n"] == 1  # delivered whole in-process
    with pytest.raises(httpx.ReadError):
        asyncio.run(ask("/reset"))
    with pytest.raises(httpx.RemoteProtocolError):
        asyncio.run(ask("/close"))


# -- the fault injector -------------------------------------------------------------------------------
class _Counting:
    """Answers every path with ``{"n": <call number>, "x": [1, 2.5, "3", true]}``."""

    def __init__(self) -> None:
        self.n = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        from querylang.emulation import json_response

        self.n += 1
        return json_response(200, {"n": self.n, "x": [1, 2.5, "3", True]}, {"X-Kept": "k"})


def _faulty(fault, skip: tuple[str, ...] = ()):
    from querylang.emulation import FaultyEmulator

    return FaultyEmulator(_Counting(), fault, skip)


def _get(emulator, path: str = "/data") -> httpx.Response:
    return emulator.handle(httpx.Request("GET", f"http://e.test{path}"))


def test_a_fault_hits_the_first_n_the_nth_or_every_data_call() -> None:
    from querylang.emulation import Fault

    burst = _faulty(Fault(name="burst", status=503, first=2), skip=("/oauth/",))
    assert [_get(burst).status_code for _ in range(2)] == [503, 503]
    assert _get(burst, "/oauth/token").status_code == 200  # never faulted nor counted
    assert [_get(burst).status_code for _ in range(2)] == [200, 200]
    assert burst.calls == 4
    nth = _faulty(Fault(name="second", status=500, nth=2))
    assert [_get(nth).status_code for _ in range(3)] == [200, 500, 200]
    always = _faulty(Fault(name="always", status=429))
    assert {_get(always).status_code for _ in range(3)} == {429}
    clean = _faulty(None)
    assert _get(clean).json()["n"] == 1 and clean.calls == 0


def test_a_fault_rewrites_status_headers_and_body() -> None:
    from querylang.emulation import Fault, delivery, nulls_for_numbers, strings_for_numbers

    limited = _get(
        _faulty(Fault(name="429", status=429, headers={"Retry-After": "1", "x-kept": ""}))
    )
    assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
    assert "x-kept" not in limited.headers and limited.json()["n"] == 1  # "" removes a header
    html = _get(_faulty(Fault(name="html", body=b"<html>")))
    assert html.status_code == 200 and html.content == b"<html>"
    assert html.headers["content-length"] == "6"  # recomputed for the new body
    strings = _get(_faulty(Fault(name="strings", transform=strings_for_numbers))).json()
    assert strings == {"n": "lots", "x": ["lots", "lots", "lots", True]}
    nulls = _get(_faulty(Fault(name="nulls", transform=nulls_for_numbers))).json()
    assert nulls == {"n": None, "x": [None, None, None, True]}
    for trick in ("reset", "close", "trickle"):
        answer = _get(_faulty(Fault(name=trick, socket=trick)))
        assert delivery(answer) == trick
    assert delivery(_get(_faulty(Fault(name="fine", status=200)))) == "normal"


def test_http_date_is_an_rfc_date_ahead() -> None:
    import email.utils
    import time

    from querylang.emulation import http_date

    when = email.utils.parsedate_to_datetime(http_date(120)).timestamp()
    assert http_date(0).endswith(" GMT") and 100 < when - time.time() <= 121


# -- the OAuth2 token endpoint ------------------------------------------------------------------------
def _oauth_gateway(t: list[float], **kwargs):
    """A toy gateway: POST /token issues, GET /data wants a live bearer token."""
    from querylang.emulation import RouteTable, TokenIssuer, TokenRefused, json_response

    issuer = TokenIssuer(lambda: t[0], ttl=60, **kwargs)

    def error(status: int, message: str) -> httpx.Response:
        return json_response(status, {"message": message})

    def token(request: httpx.Request) -> httpx.Response:
        try:
            return json_response(200, issuer.grant(request))
        except TokenRefused as exc:
            body = {"error": exc.error, "message": exc.message, "fields": exc.fields}
            return json_response(exc.status, body)

    def guard(request: httpx.Request) -> httpx.Response | None:
        return None if issuer.valid(request) else error(401, "token missing or expired")

    table = RouteTable(error, guard=guard).add("POST", "/token", token, guarded=False)
    table.add("GET", "/data", lambda request: json_response(200, {"ok": True}))
    return issuer, table


def test_the_token_issuer_grants_checks_expires_and_revokes() -> None:
    t = [1000.0]
    issuer, table = _oauth_gateway(t)

    def post(body: object) -> httpx.Response:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return table.dispatch(httpx.Request("POST", "http://e.test/token", content=raw))

    def data(token: str | None) -> int:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return table.dispatch(
            httpx.Request("GET", "http://e.test/data", headers=headers)
        ).status_code

    grant = {"grant_type": "client_credentials", "client_id": "c", "client_secret": "s"}
    first = post(grant).json()
    assert first == {
        "access_token": "emulated-token-0001",
        "token_type": "bearer",
        "expires_in": 60,
    }
    assert data(first["access_token"]) == 200
    assert data(None) == 401 and data("emulated-token-0099") == 401 and data("invalid") == 401
    t[0] = 1059.0
    assert data(first["access_token"]) == 200
    t[0] = 1060.0  # it lived 60 s
    assert data(first["access_token"]) == 401
    second = post(grant).json()["access_token"]
    assert second == "emulated-token-0002" and data(second) == 200
    issuer.revoke()
    assert data(second) == 401
    refusals = [
        (b"{nope", 400, "invalid_request", {}),
        (b"[1]", 400, "invalid_request", {}),
        ({**grant, "grant_type": "password"}, 400, "unsupported_grant_type",
         {"grant_type": "must be client_credentials"}),
        ({"grant_type": "client_credentials", "client_id": "c"}, 400, "invalid_request",
         {"client_secret": "is required"}),
        ({**grant, "client_secret": "invalid"}, 401, "invalid_client", {}),
    ]  # fmt: skip
    for body, status, error, fields in refusals:
        answer = post(body)
        assert answer.status_code == status
        assert (answer.json()["error"], answer.json()["fields"]) == (error, fields)
    assert issuer.calls == 2 + len(refusals)


def test_the_token_issuer_reads_a_form_body() -> None:
    t = [0.0]
    issuer, table = _oauth_gateway(t, form=True, prefix="tk-")
    form = "grant_type=client_credentials&client_id=c&client_secret=s%2Fx"
    request = httpx.Request(
        "POST", "http://e.test/token", content=form.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert table.dispatch(request).json()["access_token"] == "tk-0001"
    assert issuer.tokens == {"tk-0001": 60.0}


def test_json_object_reads_a_body_or_refuses_it() -> None:
    from querylang.emulation import BadRequest, json_object

    def body(raw: bytes, **kwargs) -> object:
        request = httpx.Request("POST", "http://e.test/x", content=raw)
        try:
            return json_object(request, **kwargs)
        except BadRequest as exc:
            return exc.message

    assert body(b'{"a": [1]}') == {"a": [1]}
    assert body(b"") == "the request body must be a JSON object"  # empty means null
    assert body(b"", empty={}) == {}
    assert body(b"{a") == "the request body is not valid JSON"
    assert body(b"[1]", empty={}) == "the request body must be a JSON object"


@pytest.mark.parametrize(("trick", "status"), [("reset", None), ("close", None), (None, 503)])
def test_a_fault_in_the_sandbox_is_the_error_the_network_would_give(trick, status) -> None:
    import querylang
    from querylang.emulation import Fault, FaultyEmulator, SandboxTransport
    from querylang.execution import ExecutionSettings
    from querylang.plugins import registry

    emulator = registry().get("gcore").emulator(lambda: float(NOW))
    faulty = FaultyEmulator(emulator, Fault(name="fault", socket=trick, status=status))
    env = {"GCORE_API_KEY": "gc-key", "QUERYLANG_GCORE_BASE_URL": "http://gcore.sandbox"}
    with pytest.raises(querylang.ProviderError) as caught:
        querylang.run(
            "SELECT requests FROM gcore EVERY 1h LAST 2h",
            now=NOW,
            env=env,
            transport=SandboxTransport({"gcore.sandbox": faulty}),
            settings=ExecutionSettings(backoff=0.01),
        )
    assert caught.value.code == ("P500" if status else "P502")
    assert faulty.calls >= 2  # retried, every time the same fault
