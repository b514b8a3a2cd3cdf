"""The emulator kit (querylang.emulation) and the emulators' own data (expected())."""

from __future__ import annotations

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
