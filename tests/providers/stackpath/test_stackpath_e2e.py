"""End to end: querylang.run against the emulator on a loopback port, counting token calls."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

import querylang
from querylang.emulation import LoopbackServer, serve
from querylang.errors import ProviderError, QueryError
from querylang.timegrid import parse_ts
from querylang_providers.stackpath.emulator import StackPathEmulator

pytestmark = [
    pytest.mark.emulator,
    pytest.mark.skipif(not hasattr(querylang, "run"), reason="the engine is not there yet"),
]

NOW_TEXT = "2026-11-20T00:00:00Z"
NOW = parse_ts(NOW_TEXT)


@pytest.fixture(scope="module")
def shared_server() -> Iterator[LoopbackServer]:
    with serve(StackPathEmulator(lambda: NOW)) as srv:
        yield srv


@pytest.fixture
def emulator() -> StackPathEmulator:
    return StackPathEmulator(lambda: NOW)


@pytest.fixture
def server(shared_server: LoopbackServer, emulator: StackPathEmulator) -> LoopbackServer:
    """One loopback port for the module; each test gets a fresh emulator (fresh counters)."""
    shared_server.emulator = emulator
    return shared_server


def _env(server: LoopbackServer, **extra: str) -> dict[str, str]:
    return {
        "QUERYLANG_STACKPATH_BASE_URL": server.url,
        "STACKPATH_CLIENT_ID": "t",
        "STACKPATH_CLIENT_SECRET": "t",
        "STACKPATH_STACK_ID": "demo",
        **extra,
    }


def _run(text: str, server: LoopbackServer, **env: str):
    (result,) = querylang.run(text, now=NOW_TEXT, env=_env(server, **env))
    return result


def _direct(emulator: StackPathEmulator, query: str) -> list[dict[str, float]]:
    """The emulator's own rows for a query string (one ungrouped series)."""
    token = emulator.handle(
        httpx.Request(
            "POST",
            "http://x/identity/v1/oauth2/token",
            json={"grant_type": "client_credentials", "client_id": "a", "client_secret": "b"},
        )
    ).json()["access_token"]
    body = emulator.handle(
        httpx.Request(
            "GET",
            f"http://x/cdn/v1/stacks/demo/metrics?{query}",
            headers={"Authorization": f"Bearer {token}"},
        )
    ).json()
    (series,) = body["series"]
    return [dict(zip(series["metrics"], s["values"], strict=True)) for s in series["samples"]]


def test_stackpath_e2e_many_requests_share_one_token(emulator, server) -> None:
    result = _run("SELECT xferUsedTotalMB, rps BY site FROM stackpath EVERY 1h LAST 100d", server)
    assert len(result.plan.requests) == 4  # 1h pieces are at most 31 days
    assert emulator.metric_calls == 4
    assert emulator.token_calls == 1
    assert len(result.frame) == 100 * 24 * 3
    assert set(result.frame.dims["site"]) == {
        "4a9a7c2e-3f51-4c5e-9b8e-1d2c3b4a5f60",
        "8d1f0b6a-72c4-4e19-a0d3-5e6f7a8b9c01",
        "c3e5a7b9-1d2f-4a6b-8c0e-2f4a6c8e0b13",
    }
    assert result.frame.time.min() == NOW - 100 * 86400 and result.frame.time.max() == NOW - 3600


def test_stackpath_e2e_revoked_token_is_refreshed_exactly_once(emulator, server) -> None:
    emulator.revoke_on_call = 2
    result = _run("SELECT xferUsedTotalMB FROM stackpath EVERY 1h LAST 100d", server)
    assert emulator.token_calls == 2  # the first token, then one refresh
    assert emulator.metric_calls >= 5  # four pieces, at least one of them sent twice
    assert len(result.frame) == 100 * 24


def test_stackpath_e2e_rebuckets_min_max_mean_and_ratios(emulator, server) -> None:
    text = (
        "SELECT xferUsedTotalMB, xferUsedMaxMB, xferUsedMinMB, rps, xferRateMaxMbps, "
        "xferRateMaxUsageTime, responseSizeMeanMB, userXferRateMbps "
        "FROM stackpath EVERY 2h LAST 6h"
    )
    rows = list(_run(text, server).frame.rows())
    fine = _direct(
        emulator,
        "start_date=2026-11-19T18:00:00Z&end_date=2026-11-19T23:59:00Z"
        "&granularity=PT5M&platforms=CDE",
    )
    assert [r[0] for r in rows] == [NOW - 6 * 3600, NOW - 4 * 3600, NOW - 2 * 3600]
    for row, start in zip(rows, range(NOW - 6 * 3600, NOW, 7200), strict=True):
        part = [f for f in fine if start <= f["usageTime"] < start + 7200]
        total, requests = (
            sum(f["xferUsedTotalMB"] for f in part),
            sum(f["requestsCountTotal"] for f in part),
        )
        duration = sum(f["durationTotal"] for f in part)
        peak = max(part, key=lambda f: (f["xferRateMaxMbps"], -f["usageTime"]))
        assert row[1] == total
        assert row[2] == max(f["xferUsedTotalMB"] for f in part)
        assert row[3] == min(f["xferUsedTotalMB"] for f in part)
        assert row[4] == pytest.approx(requests / 7200)
        assert row[5] == peak["xferRateMaxMbps"]
        assert row[6] == peak["usageTime"]
        assert row[7] == pytest.approx(total / requests)
        assert row[8] == pytest.approx(total * 8 / duration)


def test_stackpath_e2e_platform_filter_and_milliseconds(server) -> None:
    text = (
        "SELECT xferUsedTotalMB, rpsMaxUsageTime BY platform FROM stackpath "
        "WHERE platform IN ('CDE', 'CDO') AND pop = 'JFK' EVERY 1d LAST 3d"
    )
    frames = []
    for millis in (False, True):
        server.emulator = StackPathEmulator(lambda: NOW, millis=millis)
        frames.append(list(_run(text, server).frame.rows()))
    assert frames[0] == frames[1]
    assert len(frames[0]) == 6 and {r[1] for r in frames[0]} == {"CDE", "CDO"}
    assert all(NOW - 3 * 86400 <= r[3] < NOW for r in frames[0])


def test_stackpath_e2e_stack_filter_and_sandbox() -> None:
    (result,) = querylang.run(
        "SELECT xferUsedTotalMB FROM stackpath WHERE stack = 'abc' EVERY 1d LAST 2d",
        now=NOW_TEXT,
        env={},
        sandbox=True,
    )
    assert len(result.frame) == 2
    assert "/cdn/v1/stacks/abc/metrics" in result.plan.requests[0].url


@pytest.mark.parametrize(
    ("text", "env", "code", "words"),
    [
        (
            "SELECT xferUsedTotalMB FROM stackpath EVERY 1h LAST 1d",
            {"STACKPATH_STACK_ID": ""},
            "E408",
            "STACKPATH_STACK_ID",
        ),
        (
            "SELECT xferUsedTotalMB BY site, pop FROM stackpath EVERY 1h LAST 1d",
            {},
            "E408",
            "one field at a time",
        ),
        ("SELECT completionRatio FROM stackpath EVERY 2h LAST 1d", {}, "E405", "completionRatio"),
    ],
)
def test_stackpath_e2e_refused_before_sending(emulator, server, text, env, code, words) -> None:
    with pytest.raises(QueryError) as info:
        _run(text, server, **env)
    assert info.value.code == code and words in info.value.render()
    assert emulator.token_calls == 0 and emulator.metric_calls == 0


@pytest.mark.parametrize(
    ("env", "code", "words"),
    [
        ({"STACKPATH_CLIENT_ID": "invalid"}, "P401", "STACKPATH_CLIENT_SECRET"),
        ({"STACKPATH_STACK_ID": "forbidden"}, "P403", "PERMISSION_DENIED"),
        ({"STACKPATH_STACK_ID": "missing"}, "P400", "NOT_FOUND"),
    ],
)
def test_stackpath_e2e_vendor_errors(emulator, server, env, code, words) -> None:
    with pytest.raises(ProviderError) as info:
        _run("SELECT xferUsedTotalMB FROM stackpath EVERY 1h LAST 1d", server, **env)
    assert info.value.code == code and words in info.value.render()
    assert emulator.token_calls == 1


def test_stackpath_e2e_explain_fetches_no_token(emulator, server) -> None:
    (plan,) = querylang.explain(
        "SELECT xferUsedTotalMB FROM stackpath EVERY 5m LAST 10d", now=NOW_TEXT, env=_env(server)
    )
    assert len(plan.requests) == 2 and emulator.token_calls == 0
    assert all("Authorization" not in r.to_json()["headers"] for r in plan.requests)
