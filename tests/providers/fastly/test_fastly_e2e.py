"""End to end: querylang.run through the Fastly emulator served on a loopback port."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import querylang
from querylang.emulation import serve
from querylang.errors import ProviderError, QueryError
from querylang.timegrid import parse_ts
from querylang_providers.fastly import FastlyProvider

pytestmark = [
    pytest.mark.emulator,
    pytest.mark.skipif(not hasattr(querylang, "run"), reason="the engine is not there yet"),
]

NOW = "2026-11-20T00:00:00Z"
A, B = "6ElZZvtumbwtLBDJvFwepx", "5oYej0l0heMydtjaVPOq4z"


@pytest.fixture(scope="module")
def env() -> Iterator[dict[str, str]]:
    emulator = FastlyProvider().emulator(lambda: parse_ts(NOW))
    with serve(emulator) as server:
        yield {"QUERYLANG_FASTLY_BASE_URL": server.url, "FASTLY_API_TOKEN": "t0ken"}


def run(text: str, env: dict[str, str], now: str = NOW) -> Any:
    (result,) = querylang.run(text, now=now, env=env)
    return result


def rows(text: str, env: dict[str, str]) -> list[tuple[Any, ...]]:
    return list(run(text, env).frame.rows())


def column(text: str, env: dict[str, str], name: str) -> list[float]:
    return run(text, env).frame.metrics[name].tolist()


def test_day_buckets_equal_the_sum_of_hours_and_minutes(env: dict[str, str]) -> None:
    day = column("SELECT requests, bandwidth FROM fastly EVERY 1d LAST 1d", env, "requests")
    hours = column("SELECT requests FROM fastly EVERY 1h LAST 1d", env, "requests")
    minutes = column("SELECT requests FROM fastly EVERY 1m LAST 1d", env, "requests")
    assert len(day) == 1 and len(hours) == 24 and len(minutes) == 1440
    assert day[0] == sum(hours) == sum(minutes) > 0


def test_rebucketed_hit_ratio_is_hits_over_hits_plus_misses(env: dict[str, str]) -> None:
    result = run("SELECT hits, miss, hit_ratio FROM fastly EVERY 6h LAST 1d", env)
    assert len(result.frame) == 4  # 6h is not native: re-bucketed from hours
    for _, hits, miss, ratio in result.frame.rows():
        assert ratio == pytest.approx(hits / (hits + miss), abs=1e-12)
    hourly = rows("SELECT hit_ratio FROM fastly EVERY 1h LAST 6h", env)
    assert all(round(r, 4) == r for _, r in hourly)  # the vendor's own 4-digit value


def test_by_region_fans_out_and_adds_up_to_all_regions(env: dict[str, str]) -> None:
    result = run("SELECT requests BY region FROM fastly EVERY 1d LAST 1d", env)
    assert len(result.plan.requests) == 9
    regions = {r[1]: r[2] for r in result.frame.rows()}
    assert len(regions) == 9 and "usa" in regions and "anzac" in regions
    (total,) = column("SELECT requests FROM fastly EVERY 1d LAST 1d", env, "requests")
    assert sum(regions.values()) == total
    two = rows(
        "SELECT requests FROM fastly WHERE region IN ('usa', 'europe') EVERY 1d LAST 1d", env
    )
    assert two[0][1] == regions["usa"] + regions["europe"]
    rest = run("SELECT requests FROM fastly WHERE region != 'usa' EVERY 1d LAST 1d", env)
    # region is an open set (issue 19): != fetches every known region, keeps all but usa
    assert len(rest.plan.requests) == 9
    assert next(rest.frame.rows())[1] == total - regions["usa"]


def test_hit_ratio_over_several_regions_is_recomputed(env: dict[str, str]) -> None:
    text = (
        "SELECT hit_ratio, hits, miss FROM fastly WHERE region IN ('usa', 'asia') EVERY 1h LAST 2h"
    )
    for _, ratio, hits, miss in rows(text, env):
        assert ratio == pytest.approx(hits / (hits + miss), abs=1e-12)


def test_services_filter_and_grouping(env: dict[str, str]) -> None:
    grouped = rows("SELECT bandwidth BY service FROM fastly EVERY 1h LAST 2h", env)
    per_service = {(t, s): v for t, s, v in grouped}
    assert {s for _, s in per_service} == {A, B, "1jlmtMz1ncwA0KC3TBGD0X"}
    both = run(
        f"SELECT bandwidth FROM fastly WHERE service IN ('{A}', '{B}') EVERY 1h LAST 2h", env
    )
    assert len(both.plan.requests) == 2
    for t, value in both.frame.rows():
        assert value == per_service[(t, A)] + per_service[(t, B)]
    one = rows(
        f"SELECT bandwidth BY service FROM fastly WHERE service = '{A}' EVERY 1h LAST 2h", env
    )
    assert one == [(t, s, per_service[(t, s)]) for t, s in sorted(per_service) if s == A]
    others = run(f"SELECT bandwidth FROM fastly WHERE service != '{A}' EVERY 1h LAST 2h", env)
    assert len(others.plan.requests) == 1  # all services, filtered here
    for t, value in others.frame.rows():
        assert value == sum(v for (tt, s), v in per_service.items() if tt == t and s != A)


def test_long_windows_are_split_per_max_window(env: dict[str, str]) -> None:
    result = run("SELECT requests FROM fastly EVERY 1h LAST 40d", env)
    assert len(result.plan.requests) == 2 and len(result.frame) == 960
    days = column("SELECT requests FROM fastly EVERY 1d LAST 40d", env, "requests")
    assert sum(result.frame.metrics["requests"].tolist()) == sum(days)


def test_seconds_counters_add_up(env: dict[str, str]) -> None:
    (day,) = column("SELECT hits_time FROM fastly EVERY 1d LAST 1d", env, "hits_time")
    hours = column("SELECT hits_time FROM fastly EVERY 1h LAST 1d", env, "hits_time")
    assert day == pytest.approx(sum(hours))


def test_an_unfinished_bucket_is_absent_not_invented(env: dict[str, str]) -> None:
    result = run("SELECT requests FROM fastly EVERY 1h LAST 3h", env, now="2026-11-20T00:30:00Z")
    times = [r[0] for r in result.frame.rows()]
    assert parse_ts("2026-11-20T00:00:00Z") not in times
    assert all(not math.isnan(v) for v in result.frame.metrics["requests"].tolist())


def test_explain_redacts_the_token(env: dict[str, str]) -> None:
    text = "SELECT log BY service FROM fastly EVERY 1h LAST 1d"
    (plan,) = querylang.explain(text, now=NOW, env=env)
    (request,) = plan.requests
    assert request.url.startswith(env["QUERYLANG_FASTLY_BASE_URL"] + "/stats/field/log?")
    assert request.to_json()["headers"]["Fastly-Key"] == "***"
    assert "t0ken" not in str(request.to_json())


def test_revoked_token_is_a_clear_error(env: dict[str, str]) -> None:
    with pytest.raises(ProviderError) as info:
        run("SELECT requests FROM fastly EVERY 1h LAST 1h", {**env, "FASTLY_API_TOKEN": "invalid"})
    assert info.value.code == "P401"
    assert "FASTLY_API_TOKEN" in info.value.render() and "invalid" not in info.value.request


def test_unknown_service_is_a_clear_error(env: dict[str, str]) -> None:
    with pytest.raises(ProviderError) as info:
        run("SELECT requests FROM fastly WHERE service = 'nope' EVERY 1h LAST 1h", env)
    assert "Cannot find service 'nope'" in info.value.render()


def test_minute_retention_is_refused_before_sending(env: dict[str, str]) -> None:
    with pytest.raises(QueryError, match="35 days"):
        run("SELECT requests FROM fastly EVERY 1m LAST 40d", env)


def test_sandbox_runs_in_process() -> None:
    (result,) = querylang.run(
        "SELECT requests, hit_ratio BY region FROM fastly EVERY 1d LAST 2d",
        now=NOW,
        env={},
        sandbox=True,
    )
    assert len(result.frame) == 18


def test_the_docs_examples_run() -> None:
    page = Path(__file__).parents[3] / "docs" / "providers" / "fastly.md"
    blocks = re.findall(r"```sql\n(.*?)```", page.read_text(), flags=re.S)
    queries = [q for block in blocks for q in block.split("\n\n") if q.strip()]
    assert len(queries) == 3
    for text in queries:
        (result,) = querylang.run(text, now=NOW, env={}, sandbox=True)
        assert len(result.frame) > 0
