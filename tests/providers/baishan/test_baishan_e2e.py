"""End to end: query text → engine → real HTTP to the emulator on a loopback port → frame."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import numpy as np
import pytest

import querylang
from querylang.emulation import serve
from querylang.errors import ProviderError
from querylang.timegrid import parse_ts
from querylang_providers.baishan.emulator import DOMAINS, BaishanEmulator, traffic_cells
from tests.providers.kit import BAISHAN as kit
from tests.providers.kit import NOW

pytestmark = [
    pytest.mark.emulator,
    pytest.mark.skipif(not hasattr(querylang, "run"), reason="the engine is not there yet"),
]

AT = "2026-11-20T00:00:00Z"
ALL = tuple(DOMAINS)
THREE = ("www.example.com", "static.example.com", "dl.example.com")


@pytest.fixture(scope="module")
def server() -> Iterator:
    # one server for the module (stopping one takes 0.5 s); limits far above what these
    # tests send back to back, since each run's limiter only knows its own calls
    with serve(BaishanEmulator(lambda: NOW, limits=((100_000, 60.0), (100_000, 2.0)))) as srv:
        yield srv


def env(srv, token: str = kit.token, **extra: str) -> dict[str, str]:
    return {"QUERYLANG_BAISHAN_BASE_URL": srv.url, "BAISHAN_API_TOKEN": token, **extra}


def run(srv, text: str, **extra: str):
    (result,) = querylang.run(text, now=AT, env=env(srv, **extra))
    return result


def expected_traffic(
    domains: tuple[str, ...], start: int, end: int, size: int, protocol: str = "all"
) -> list[float]:
    """Bytes per UTC bucket of ``size`` seconds over [start, end), from the emulator's cells."""
    cells = np.arange(start, end, 300, dtype=np.int64)
    total = sum(traffic_cells(d, protocol, cells) for d in domains)
    return total.reshape(-1, size // 300).sum(axis=1).astype(float).tolist()


def in_list(domains: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{d}'" for d in domains) + ")"


def test_traffic_of_all_domains_hourly(server) -> None:
    result = run(server, "SELECT traffic FROM baishan EVERY 1h LAST 6h")
    frame = result.frame
    assert list(frame.time) == list(range(NOW - 6 * 3600, NOW, 3600))
    assert frame.metrics["traffic"].tolist() == expected_traffic(ALL, NOW - 6 * 3600, NOW, 3600)


def test_bandwidth_is_re_bucketed_as_a_mean(server) -> None:
    result = run(server, "SELECT bandwidth FROM baishan EVERY 1h LAST 3h")
    five = run(server, "SELECT bandwidth FROM baishan EVERY 5m LAST 3h").frame
    hourly = five.metrics["bandwidth"].reshape(3, 12).mean(axis=1)
    assert result.frame.metrics["bandwidth"] == pytest.approx(hourly, rel=1e-9)
    traffic = expected_traffic(ALL, NOW - 3 * 3600, NOW, 3600)
    assert result.frame.metrics["bandwidth"] == pytest.approx([t * 8 / 3600 for t in traffic])


def test_more_than_ten_domains_are_split_and_added_up(server) -> None:
    text = f"SELECT traffic FROM baishan WHERE domain IN {in_list(ALL)} EVERY 1h LAST 6h"
    (plan,) = querylang.explain(text, now=AT, env=env(server))
    lists = [r.url.split("domains=")[1].split("&")[0] for r in plan.requests]
    assert [len(d.split("%2C")) for d in lists] == [10, 2]
    frame = run(server, text).frame
    assert frame.metrics["traffic"].tolist() == expected_traffic(ALL, NOW - 6 * 3600, NOW, 3600)


def test_a_window_longer_than_31_days_is_split_days_are_utc(server) -> None:
    text = "SELECT traffic FROM baishan EVERY 1d BETWEEN '2026-09-01' AND '2026-11-01'"
    (plan,) = querylang.explain(text, now=AT, env=env(server))
    assert len(plan.requests) == 2
    start, end = parse_ts("2026-09-01"), parse_ts("2026-11-01")
    frame = run(server, text).frame
    assert len(frame) == 61
    assert frame.metrics["traffic"].tolist() == expected_traffic(ALL, start, end, 86400)


def test_five_minutes_over_more_than_ten_days(server) -> None:
    text = "SELECT traffic FROM baishan WHERE domain = 'dl.example.com' EVERY 1d LAST 12d"
    # 1d is native here, so ask at 5m and re-bucket to check the 10-day split end to end
    text5 = "SELECT traffic FROM baishan WHERE domain = 'dl.example.com' EVERY 5m LAST 12d"
    (plan,) = querylang.explain(text5, now=AT, env=env(server))
    assert len(plan.requests) == 2
    fine = run(server, text5).frame
    assert len(fine) == 12 * 288  # idle hours were filled with zeros
    days = run(server, text).frame
    assert fine.metrics["traffic"].reshape(12, 288).sum(axis=1).tolist() == (
        days.metrics["traffic"].tolist()
    )


def test_by_domain_one_series_each_with_zeros_filled(server) -> None:
    text = f"SELECT traffic BY domain FROM baishan WHERE domain IN {in_list(THREE)} "
    text += "EVERY 1h LAST 6h"
    (plan,) = querylang.explain(text, now=AT, env=env(server))
    assert all("/eachDomain?" in r.url for r in plan.requests)
    frame = run(server, text).frame
    assert list(frame.dims) == ["domain"]
    for domain in THREE:
        mine = frame.dims["domain"] == domain
        want = expected_traffic((domain,), NOW - 6 * 3600, NOW, 3600)
        assert frame.metrics["traffic"][mine].tolist() == want
    dl = frame.metrics["traffic"][frame.dims["domain"] == "dl.example.com"]
    assert (dl == 0).sum() == 2  # every third hour is idle: left out by the API, filled here


def test_by_ip_protocol(server) -> None:
    frame = run(server, "SELECT traffic BY ip_protocol FROM baishan EVERY 1h LAST 3h").frame
    for protocol in ("ipv4", "ipv6"):
        mine = frame.dims["ip_protocol"] == protocol
        want = expected_traffic(ALL, NOW - 3 * 3600, NOW, 3600, protocol)
        assert frame.metrics["traffic"][mine].tolist() == want


def test_ip_protocol_not_equal_is_the_other_one(server) -> None:
    frame = run(server, "SELECT traffic FROM baishan WHERE ip_protocol != 'ipv4' EVERY 1h LAST 3h")
    want = expected_traffic(ALL, NOW - 3 * 3600, NOW, 3600, "ipv6")
    assert frame.frame.metrics["traffic"].tolist() == want


def test_both_metrics_in_one_query(server) -> None:
    frame = run(server, "SELECT bandwidth, traffic FROM baishan EVERY 1h LAST 3h").frame
    traffic = expected_traffic(ALL, NOW - 3 * 3600, NOW, 3600)
    assert frame.metrics["traffic"].tolist() == traffic
    assert frame.metrics["bandwidth"] == pytest.approx([t * 8 / 3600 for t in traffic])


def test_both_protocols_listed_are_added_up(server) -> None:
    text = "SELECT traffic FROM baishan WHERE ip_protocol IN ('ipv4', 'ipv6') EVERY 1h LAST 3h"
    frame = run(server, text).frame
    assert frame.metrics["traffic"].tolist() == expected_traffic(ALL, NOW - 3 * 3600, NOW, 3600)


def test_a_rejected_token_is_a_clear_error_without_the_token() -> None:
    secret = "wrong-but-secret-777"
    emulator = BaishanEmulator(lambda: NOW, valid_token="right")
    with serve(emulator) as srv, pytest.raises(ProviderError) as caught:
        querylang.run("SELECT traffic FROM baishan LAST 1d", now=AT, env=env(srv, secret))
    text = caught.value.render()
    assert caught.value.code == "P401" and "BAISHAN_API_TOKEN" in text
    assert secret not in text and "token=***" in text


def test_explain_never_shows_the_token(server) -> None:
    text = (
        "SELECT bandwidth, traffic BY domain, ip_protocol FROM baishan "
        f"WHERE domain IN {in_list(ALL)} EVERY 5m LAST 20d"
    )
    (plan,) = querylang.explain(text, now=AT, env=env(server))
    assert len(plan.requests) == 2 * 2 * 2 * 2
    shown = json.dumps([r.to_json() for r in plan.requests]) + "".join(
        r.describe() for r in plan.requests
    )
    assert kit.token not in shown and "token=***" in shown


def _run_counting(emu: BaishanEmulator, text: str) -> tuple[int, object]:
    with serve(emu) as srv:
        (plan,) = querylang.explain(text, now=AT, env=env(srv))
        (result,) = querylang.run(text, now=AT, env=env(srv))
    return len(plan.requests), result


def test_many_calls_keep_the_documented_limits_without_a_single_429() -> None:
    emu = BaishanEmulator(lambda: NOW)  # 300 a minute and 24 every 2 s, as documented
    text = (
        f"SELECT bandwidth, traffic BY ip_protocol FROM baishan WHERE domain IN {in_list(ALL)} "
        "EVERY 5m LAST 60d"
    )
    started = time.monotonic()
    calls, result = _run_counting(emu, text)
    assert calls == 6 * 2 * 2 * 2  # 10-day windows x domain lists x metrics x protocols
    assert (emu.calls, emu.rejected) == (calls, 0)
    assert len(result.frame) == 60 * 288 * 2  # type: ignore[attr-defined]
    assert 2 <= time.monotonic() - started < 10  # the engine's limiter spaced the bursts


def test_remaining_quota_pauses_before_the_api_says_429() -> None:
    # a "minute" of 12 calls per second: the engine's limiter (24 per 2 s) alone would
    # overrun it at once; the X-Ratelimit-Remaining pause keeps every call within it
    emu = BaishanEmulator(lambda: NOW, limits=((12, 1.0), (24, 2.0)))
    text = (
        f"SELECT bandwidth, traffic BY ip_protocol FROM baishan WHERE domain IN {in_list(ALL)} "
        "EVERY 5m LAST 30d"
    )
    calls, _ = _run_counting(emu, text)
    assert calls == 24
    assert (emu.calls, emu.rejected) == (calls, 0)
