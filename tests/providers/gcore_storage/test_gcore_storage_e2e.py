"""End to end over a loopback server: compile → HTTP → check → decode; then the engine."""

from __future__ import annotations

import math

import httpx
import numpy as np
import pytest

import querylang
from querylang.emulation import fixed_clock, serve
from querylang.frames import Frame
from querylang.wire import NativeResponse
from tests.providers.kit import GCORE_STORAGE as kit
from tests.providers.kit import NOW

pytestmark = pytest.mark.emulator

NOW_TEXT = "2026-11-20T00:00:00Z"


def fetch(base_url: str, spec: dict, token: str = "t") -> tuple[str, Frame | Exception]:
    """Run one piece by hand: what the engine does for a single request."""
    p = kit.provider()
    query = kit.native_query(spec)
    (request,) = p.compile(query, kit.context(base_url=base_url, token=token))
    with httpx.Client() as client:
        reply = client.request(
            request.method, request.url, headers=list(request.headers), content=request.body
        )
    response = NativeResponse(
        status=reply.status_code, headers=dict(reply.headers), content=reply.content
    )
    verdict = p.check(request, response)
    if verdict.kind != "ok":
        return verdict.kind, verdict.error  # type: ignore[return-value]
    return "ok", p.decode(query, request, response)


def by_key(frame: Frame, metric: str) -> dict[tuple, float]:
    return {
        (int(t), *(frame.dims[d][i] for d in frame.dims)): float(frame.metrics[metric][i])
        for i, t in enumerate(frame.time)
    }


def test_loopback_pieces_agree_across_grains_and_groupings() -> None:
    window = ["2026-11-17T00:00:00Z", "2026-11-19T12:00:00Z"]
    with serve(kit.provider().emulator(fixed_clock(NOW))) as srv:
        kind, hourly = fetch(
            srv.url,
            {
                "metrics": ["traffic", "size_max", "size_mean"],
                "group_by": ["storage"],
                "granularity": "1h",
                "window": window,
            },
        )
        assert kind == "ok"
        kind2, half = fetch(
            srv.url,
            {
                "metrics": ["traffic", "size_max", "size_mean"],
                "group_by": ["storage"],
                "granularity": "12h",
                "window": window,
            },
        )
        assert kind2 == "ok"
        kind3, total = fetch(
            srv.url,
            {
                "metrics": ["traffic"],
                "group_by": ["location"],
                "filters": [{"dimension": "location", "op": "in", "values": ["s-region-2"]}],
                "granularity": "12h",
                "window": window,
            },
        )
        assert kind3 == "ok"
    assert isinstance(hourly, Frame) and isinstance(half, Frame) and isinstance(total, Frame)
    assert len(hourly) == 60 * 4 and len(half) == 5 * 4  # the window is trimmed exactly
    start, end = 1794873600, 1794873600 + 60 * 3600
    assert hourly.time.min() == start and hourly.time.max() == end - 3600
    # re-bucketing 1h → 12h with each metric's rollup reproduces the API's 12h answer
    buckets = hourly.time - (hourly.time % (12 * 3600))
    weights = np.full(len(hourly), 3600.0)
    rebucketed = hourly.aggregate(
        ["storage"],
        {"traffic": "sum", "size_max": "max", "size_mean": "mean"},
        time=buckets,
        weights=weights,
    )
    for metric in ("traffic", "size_max", "size_mean"):
        want, got = by_key(half, metric), by_key(rebucketed, metric)
        assert want.keys() == got.keys()
        assert all(math.isclose(want[k], got[k]) for k in want)
    region2 = {
        k: v for k, v in by_key(half, "traffic").items() if k[1] in ("123-media", "456-archive")
    }
    summed = {}
    for (t, _), v in region2.items():
        summed[(t, "s-region-2")] = summed.get((t, "s-region-2"), 0.0) + v
    assert by_key(total, "traffic") == summed


def test_loopback_revoked_key_is_reauth_then_p401() -> None:
    with serve(kit.provider().emulator(fixed_clock(NOW))) as srv:
        kind, error = fetch(
            srv.url,
            {"metrics": ["traffic"], "window": ["2026-11-19T00:00:00Z", "2026-11-20T00:00:00Z"]},
            token="invalid",
        )
    assert kind == "reauth"
    assert getattr(error, "code", None) == "P401"
    assert "GCORE_API_KEY" in (getattr(error, "hint", "") or "")


ENGINE = pytest.mark.skipif(
    not hasattr(querylang, "run"), reason="the engine (querylang.run) is not there yet"
)


def env(url: str) -> dict[str, str]:
    return {"QUERYLANG_GCORE_BASE_URL": url, "GCORE_API_KEY": "t"}


@ENGINE
def test_engine_daily_traffic_by_storage() -> None:
    text = "SELECT traffic, size_mean BY storage FROM gcore.storage EVERY 1d LAST 3d"
    with serve(kit.provider().emulator(fixed_clock(NOW))) as srv:
        (result,) = querylang.run(text, now=NOW_TEXT, env=env(srv.url))
        hourly_text = "SELECT traffic BY storage FROM gcore.storage EVERY 1h LAST 3d"
        (hourly,) = querylang.run(hourly_text, now=NOW_TEXT, env=env(srv.url))
    frame = result.frame
    assert len(frame) == 3 * 4
    names = {"123-myStorage", "123-backups", "123-media", "456-archive"}
    assert set(frame.dims["storage"]) == names
    assert frame.time.min() == NOW - 3 * 86400 and frame.time.max() == NOW - 86400
    daily = by_key(frame, "traffic")
    per_day: dict[tuple, float] = {}
    for (t, s), v in by_key(hourly.frame, "traffic").items():
        key = (t - t % 86400, s)
        per_day[key] = per_day.get(key, 0.0) + v
    assert daily == per_day


@ENGINE
def test_engine_rebuckets_6h_from_1h_without_summing_gauges() -> None:
    text = "SELECT size_max, traffic BY storage FROM gcore.storage EVERY 6h LAST 1d"
    with serve(kit.provider().emulator(fixed_clock(NOW))) as srv:
        (result,) = querylang.run(text, now=NOW_TEXT, env=env(srv.url))
        (hourly,) = querylang.run(text.replace("6h", "1h"), now=NOW_TEXT, env=env(srv.url))
    assert len(result.frame) == 4 * 4
    peaks: dict[tuple, float] = {}
    for (t, s), v in by_key(hourly.frame, "size_max").items():
        key = (t - t % (6 * 3600), s)
        peaks[key] = max(peaks.get(key, 0.0), v)
    assert by_key(result.frame, "size_max") == peaks


@ENGINE
def test_engine_explain_redacts_the_key() -> None:
    text = "SELECT traffic FROM gcore.storage WHERE location = 's-region-1' EVERY 1d LAST 2d"
    plans = querylang.explain(text, now=NOW_TEXT, env={"GCORE_API_KEY": "very-secret"})
    requests = [r for plan in plans for r in plan.requests]
    assert requests
    shown = str([r.to_json() if hasattr(r, "to_json") else r for r in requests])
    assert "very-secret" not in shown
    assert "s-region-1" in shown


def test_sandbox_transport_answers_in_process() -> None:
    import asyncio

    from querylang.emulation import SandboxTransport

    p = kit.provider()
    query = kit.native_query(
        {
            "metrics": ["requests"],
            "group_by": ["client"],
            "granularity": "24h",
            "window": ["2026-11-17T00:00:00Z", "2026-11-19T00:00:00Z"],
        }
    )
    (request,) = p.compile(query, kit.context(token="sandbox"))
    transport = SandboxTransport({"api.gcore.com": p.emulator(fixed_clock(NOW))})

    async def send() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport) as client:
            return await client.request(
                request.method, request.url, headers=list(request.headers), content=request.body
            )

    reply = asyncio.run(send())
    response = NativeResponse(status=reply.status_code, headers={}, content=reply.content)
    assert p.check(request, response).kind == "ok"
    frame = p.decode(query, request, response)
    assert sorted(set(frame.dims["client"])) == [123, 456]
    assert len(frame) == 2 * 2


@ENGINE
def test_engine_totals_without_every_match_the_api_totals() -> None:
    text = (
        "SELECT traffic, requests_in, size_bytes_hour, size_mean, size_max BY storage "
        "FROM gcore.storage LAST 2d"
    )
    emulator = kit.provider().emulator(fixed_clock(NOW))
    with serve(emulator) as srv:
        (result,) = querylang.run(text, now=NOW_TEXT, env=env(srv.url))
    body = b'{"from": "2026-11-18", "to": "2026-11-19", "granularity": "24h"}'
    reply = emulator.handle(
        httpx.Request(
            "POST",
            "https://api.gcore.com/storage/stats/v1/storage/usage/series",
            headers={"Authorization": "APIKey t"},
            content=body,
        )
    )
    api = {
        name: node
        for client in reply.json()["data"]["clients"].values()
        for loc in client["locations"].values()
        for name, node in loc["storages"].items()
    }
    frame = result.frame
    assert len(frame) == 4 and set(frame.time) == {NOW - 2 * 86400}
    for i, name in enumerate(frame.dims["storage"]):
        totals = api[name]
        assert frame.metrics["traffic"][i] == totals["traffic_sum"]
        assert frame.metrics["requests_in"][i] == totals["requests_in_sum"]
        assert frame.metrics["size_bytes_hour"][i] == totals["size_sum_bytes_hour"]
        assert frame.metrics["size_max"][i] == totals["size_sum_max"]
        assert int(frame.metrics["size_mean"][i]) == totals["size_sum_mean"]


@ENGINE
def test_engine_sandbox_and_unsupported_peaks() -> None:
    text = "SELECT bucket_files BY storage, bucket FROM gcore.storage EVERY 1d LAST 1d"
    (result,) = querylang.run(text, now=NOW_TEXT, sandbox=True, env={})
    assert len(result.frame) == 8  # every bucket of every storage, one day
    text = "SELECT traffic BY client FROM gcore.storage WHERE client = 456 EVERY 1d LAST 2d"
    (one,) = querylang.run(text, now=NOW_TEXT, sandbox=True, env={})
    assert list(one.frame.dims["client"]) == [456, 456]
    with pytest.raises(querylang.QueryError, match="maxima of different storages"):
        querylang.run(
            "SELECT size_max BY location FROM gcore.storage EVERY 1d LAST 1d",
            now=NOW_TEXT,
            sandbox=True,
            env={},
        )
