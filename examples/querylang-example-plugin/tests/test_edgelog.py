"""The example plugin, end to end through querylang and a loopback server."""

from __future__ import annotations

import httpx
import pytest

import querylang
import querylang_edgelog
from querylang.emulation import serve
from querylang.plugins import registry_of

NOW = "2026-11-20T05:00:00Z"


@pytest.fixture
def providers():
    return registry_of(querylang_edgelog)


def test_compile_is_the_exact_request(providers) -> None:
    plan = querylang.explain(
        "SELECT bytes FROM edgelog WHERE site IN ('ams', 'fra') EVERY 1h LAST 2h",
        now=NOW, env={}, providers=providers,
    )[0]  # fmt: skip
    (request,) = plan.requests
    assert request.url == (
        "https://edgelog.example.internal/v1/series?metric=bytes&start=1795143600"
        "&end=1795150800&step=3600&site=ams&site=fra"
    )
    assert request.to_json()["headers"]["Authorization"] == "***"


def test_run_over_loopback(providers) -> None:
    provider = providers.get("edgelog")
    with serve(provider.emulator(lambda: querylang_edgelog_now())) as server:
        env = {"EDGELOG_TOKEN": "t", "QUERYLANG_EDGELOG_BASE_URL": server.url}
        text = "SELECT bytes, error_ratio BY site FROM edgelog EVERY 6h LAST 12h"
        (result,) = querylang.run(text, now=NOW, env=env, providers=providers)
    assert result.frame.columns == ["time", "site", "bytes", "error_ratio"]
    assert len(result.frame) == 2 * 3
    assert all(0 < r < 0.1 for r in result.frame.metrics["error_ratio"])


def test_service_errors_are_clear(providers) -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": {"message": "step too small"}})

    with pytest.raises(querylang.ProviderError) as info:
        querylang.run(
            "SELECT bytes FROM edgelog EVERY 1h LAST 1h",
            now=NOW,
            env={"EDGELOG_TOKEN": "t"},
            providers=providers,
            transport=httpx.MockTransport(broken),
        )
    assert "step too small" in info.value.render()


def querylang_edgelog_now() -> float:
    from querylang.timegrid import parse_ts

    return float(parse_ts(NOW))
