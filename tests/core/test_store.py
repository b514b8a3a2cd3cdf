"""The result store against real loopback emulators: hits, partial hits, finality, refresh.

Expected values come from a run without the store (or from the emulator's own counters):
never from the store under test.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from querylang.emulation import SandboxTransport, serve
from querylang.engine import explain, run
from querylang.plugins import registry
from querylang.store import Store, fetch_windows
from querylang.timegrid import Granularity, TimeWindow, parse_ts
from querylang_providers.baishan.emulator import BaishanEmulator
from tests.conftest import NOW, NOW_TEXT

DAY = 86400
KEY = "gcore-secret-key-0123456789"
TOKEN = "baishan-secret-token-987654"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "store.sqlite3") as s:
        yield s


@pytest.fixture
def gcore():
    with serve(registry().get("gcore").emulator(lambda: float(NOW))) as server:
        yield server


def _genv(server) -> dict[str, str]:
    return {"GCORE_API_KEY": KEY, "QUERYLANG_GCORE_BASE_URL": server.url}


def _query(start: str, end: str, metrics: str = "sent_bytes, requests") -> str:
    return f"SELECT {metrics} BY region FROM gcore EVERY 1d BETWEEN '{start}' AND '{end}'"


def _same(a, b) -> None:
    assert a.columns == b.columns
    assert np.array_equal(a.time, b.time)
    for d in a.dims:
        assert list(a.dims[d]) == list(b.dims[d])
    for m in a.metrics:
        assert np.array_equal(a.metrics[m], b.metrics[m], equal_nan=True), m


def _windows(result) -> list[tuple[int, int]]:
    return [(p.native.window.start, p.native.window.end) for p in result.plan.pieces]


def test_a_second_run_is_answered_by_the_store(gcore, store) -> None:
    text = _query("2026-10-01", "2026-11-01")
    plain = run(text, now=NOW_TEXT, env=_genv(gcore))[0]
    calls = gcore.requests
    first = run(text, now=NOW_TEXT, env=_genv(gcore), cache=store)[0]
    assert gcore.requests == 2 * calls  # the first run fetched everything
    second = run(text, now=NOW_TEXT, env=_genv(gcore), cache=store)[0]
    assert gcore.requests == 2 * calls  # …and the second nothing
    assert second.plan.requests == ()
    _same(plain.frame, first.frame)
    _same(plain.frame, second.frame)
    assert "store: 31 of 31 native 1d bucket(s) from the store, 0 fetched" in second.plan.steps[0]


def test_half_in_the_store_fetches_only_the_other_half(gcore, store) -> None:
    run(_query("2026-10-01", "2026-10-16"), now=NOW_TEXT, env=_genv(gcore), cache=store)
    before = gcore.requests
    half = run(_query("2026-10-01", "2026-11-01"), now=NOW_TEXT, env=_genv(gcore), cache=store)[0]
    assert gcore.requests - before == 1
    assert _windows(half) == [(parse_ts("2026-10-16"), parse_ts("2026-11-01"))]
    plain = run(_query("2026-10-01", "2026-11-01"), now=NOW_TEXT, env=_genv(gcore))[0]
    _same(plain.frame, half.frame)


def test_stored_buckets_between_gaps_are_not_fetched_again(gcore, store) -> None:
    # Stored: Oct 5-10 and Oct 20-25. Gcore declares no rate limit, so each gap (before,
    # between, after) is one call of its own, sent concurrently; nothing stored is re-read.
    for a, b in (("2026-10-05", "2026-10-10"), ("2026-10-20", "2026-10-25")):
        run(_query(a, b), now=NOW_TEXT, env=_genv(gcore), cache=store)
    before = gcore.requests
    result = run(_query("2026-10-01", "2026-11-01"), now=NOW_TEXT, env=_genv(gcore), cache=store)
    assert gcore.requests - before == 3
    assert sorted(_windows(result[0])) == [
        (parse_ts("2026-10-01"), parse_ts("2026-10-05")),
        (parse_ts("2026-10-10"), parse_ts("2026-10-20")),
        (parse_ts("2026-10-25"), parse_ts("2026-11-01")),
    ]
    assert result[0].plan.store.stored == 10
    plain = run(_query("2026-10-01", "2026-11-01"), now=NOW_TEXT, env=_genv(gcore))[0]
    _same(plain.frame, result[0].frame)


@pytest.fixture
def baishan():
    with serve(BaishanEmulator(lambda: NOW, limits=((100_000, 60.0), (100_000, 2.0)))) as srv:
        yield srv


def _benv(server) -> dict[str, str]:
    return {"BAISHAN_API_TOKEN": TOKEN, "QUERYLANG_BAISHAN_BASE_URL": server.url}


def _bquery(start: str, end: str) -> str:
    return f"SELECT traffic FROM baishan EVERY 1d BETWEEN '{start}' AND '{end}'"


def test_gaps_within_the_vendor_limit_merge_and_longer_ones_split(baishan, store) -> None:
    # BaishanCloud takes at most 31 days per call. Sixty days uncached: two calls.
    text = _bquery("2026-08-01", "2026-09-30")
    plain = run(text, now=NOW_TEXT, env=_benv(baishan))[0]
    assert len(plain.plan.requests) == 2
    # With Aug 6-11 stored, the missing Aug 1-6 and Aug 11-Sep 30 still need two calls: its
    # rate limit (300 a minute) makes calls the scarce thing, so the first one runs on past
    # the stored days (31 days from Aug 1) rather than stopping and costing a third call.
    run(_bquery("2026-08-06", "2026-08-11"), now=NOW_TEXT, env=_benv(baishan), cache=store)
    before = baishan.requests
    got = run(text, now=NOW_TEXT, env=_benv(baishan), cache=store)[0]
    assert baishan.requests - before == 2
    assert _windows(got) == [
        (parse_ts("2026-08-01"), parse_ts("2026-09-01")),
        (parse_ts("2026-09-01"), parse_ts("2026-09-30")),
    ]
    _same(plain.frame, got.frame)
    # Now everything up to Sep 30 is stored: a window to Oct 20 fetches Sep 30-Oct 20 only.
    before = baishan.requests
    later = run(_bquery("2026-08-01", "2026-10-20"), now=NOW_TEXT, env=_benv(baishan), cache=store)
    assert baishan.requests - before == 1
    assert _windows(later[0]) == [(parse_ts("2026-09-30"), parse_ts("2026-10-20"))]
    full = run(_bquery("2026-08-01", "2026-10-20"), now=NOW_TEXT, env=_benv(baishan))[0]
    _same(full.frame, later[0].frame)


def test_fetch_windows_are_the_fewest_within_the_limit() -> None:
    day = Granularity(1, "d")
    t0 = parse_ts("2026-01-01")
    buckets = [t0 + i * DAY for i in (0, 1, 2, 10, 11, 40)]
    gaps = [
        TimeWindow(t0, t0 + 3 * DAY),
        TimeWindow(t0 + 10 * DAY, t0 + 12 * DAY),
        TimeWindow(t0 + 40 * DAY, t0 + 41 * DAY),
    ]
    assert fetch_windows(day, buckets, None) == gaps
    assert fetch_windows(day, buckets, 31 * DAY) == gaps
    assert fetch_windows(day, buckets, None, bridge=True) == [TimeWindow(t0, t0 + 41 * DAY)]
    assert fetch_windows(day, buckets, 31 * DAY, bridge=True) == [
        TimeWindow(t0, t0 + 12 * DAY),
        TimeWindow(t0 + 40 * DAY, t0 + 41 * DAY),
    ]
    assert fetch_windows(day, buckets, 2 * DAY, bridge=True) == [
        TimeWindow(t0, t0 + 2 * DAY),
        TimeWindow(t0 + 2 * DAY, t0 + 3 * DAY),
        TimeWindow(t0 + 10 * DAY, t0 + 12 * DAY),
        TimeWindow(t0 + 40 * DAY, t0 + 41 * DAY),
    ]
    assert fetch_windows(day, [], 31 * DAY) == []


def test_provisional_buckets_are_never_stored(gcore, store) -> None:
    text = "SELECT sent_bytes BY region FROM gcore EVERY 1h LAST 2d"
    first = run(text, now=NOW_TEXT, env=_genv(gcore), cache=store)[0]
    cutoff = first.plan.store.final_before
    window = first.plan.bound.window
    assert window.start < cutoff < window.end  # the test means something
    stored = {t for (t,) in _db(store).execute("SELECT DISTINCT time FROM buckets")}
    assert stored == set(range(window.start, cutoff - 3600 + 1, 3600))
    assert max(stored) + 3600 <= cutoff
    before = gcore.requests
    second = run(text, now=NOW_TEXT, env=_genv(gcore), cache=store)[0]
    assert gcore.requests - before == 1
    assert _windows(second) == [(max(stored) + 3600, window.end)]
    _same(first.frame, second.frame)


def test_refresh_fetches_everything_and_renews_the_store(gcore, store) -> None:
    text = _query("2026-10-01", "2026-10-08")
    plain = run(text, now=NOW_TEXT, env=_genv(gcore))[0]
    run(text, now=NOW_TEXT, env=_genv(gcore), cache=store)
    # Spoil the stored copy: a run that reads the store now shows the spoilt value…
    with _db(store) as db:
        db.execute("UPDATE points SET value = -1")
    spoilt = run(text, now=NOW_TEXT, env=_genv(gcore), cache=store)[0]
    assert (spoilt.frame.metrics["sent_bytes"] == -1).all()
    # …until --refresh fetches everything again and writes the vendor's answer back.
    before = gcore.requests
    renewed = run(text, now=NOW_TEXT, env=_genv(gcore), cache=store, refresh=True)[0]
    assert gcore.requests - before == len(plain.plan.requests)
    assert "--refresh" in renewed.plan.steps[0]
    _same(plain.frame, renewed.frame)
    after = run(text, now=NOW_TEXT, env=_genv(gcore), cache=store)[0]
    assert after.plan.requests == ()
    _same(plain.frame, after.frame)


def test_secrets_are_never_stored(gcore, baishan, store) -> None:
    run(_query("2026-10-01", "2026-10-08"), now=NOW_TEXT, env=_genv(gcore), cache=store)
    run(_bquery("2026-10-01", "2026-10-08"), now=NOW_TEXT, env=_benv(baishan), cache=store)
    store.close()
    raw = b"".join(p.read_bytes() for p in store.path.parent.iterdir())
    assert raw and KEY.encode() not in raw and TOKEN.encode() not in raw
    dumped = "\n".join(sqlite3.connect(store.path).iterdump())
    assert KEY not in dumped and TOKEN not in dumped
    assert "gcore" in dumped and "baishan" in dumped


def test_another_token_is_another_accounts_data(gcore, store) -> None:
    """The default account is whoever the environment's key belongs to: a store filled
    with one key's answers never answers for another key (a token switched to another
    Gcore account), and still does for the first."""
    text = _query("2026-10-01", "2026-10-08", metrics="sent_bytes")
    other = {**_genv(gcore), "GCORE_API_KEY": "gcore-other-account-key-42"}
    run(text, now=NOW_TEXT, env=_genv(gcore), cache=store)
    calls = gcore.requests
    switched = run(text, now=NOW_TEXT, env=other, cache=store)[0]
    assert gcore.requests == calls + 1 and switched.plan.store.stored == 0  # fetched, not kept
    back = run(text, now=NOW_TEXT, env=_genv(gcore), cache=store)[0]
    assert gcore.requests == calls + 1 and back.plan.store.stored == 7
    # explain reads the same environment and so predicts what run will do, for either key
    assert explain(text, now=NOW_TEXT, env=other, cache=store)[0].store.stored == 7
    assert explain(text, now=NOW_TEXT, env=_genv(gcore), cache=store)[0].store.stored == 7
    store.close()
    dumped = "\n".join(sqlite3.connect(store.path).iterdump())
    assert KEY not in dumped and "gcore-other-account-key-42" not in dumped


def test_keys_keep_accounts_endpoints_and_filters_apart(gcore, store) -> None:
    text = _query("2026-10-01", "2026-10-08", metrics="sent_bytes")
    run(text, now=NOW_TEXT, env=_genv(gcore), cache=store)
    # the same query in the sandbox is another account: nothing comes from the store
    sandboxed = explain(text, now=NOW_TEXT, sandbox=True, cache=store)[0]
    assert len(sandboxed.requests) == 1 and sandboxed.store.stored == 0
    # another filter is another series
    filtered = explain(text + " WHERE region = 'eu'", now=NOW_TEXT, env=_genv(gcore), cache=store)
    assert len(filtered[0].requests) == 1
    # the same filters in another order, another metric alongside: the stored one is used
    # for sent_bytes, but requests must be fetched, so the whole window is
    both = explain(_query("2026-10-01", "2026-10-08"), now=NOW_TEXT, env=_genv(gcore), cache=store)
    assert len(both[0].requests) == 1
    again = explain(text, now=NOW_TEXT, env=_genv(gcore), cache=store)[0]
    assert again.requests == () and again.store.stored == 7


# -- every provider in the sandbox ----------------------------------------------------------

SANDBOX_QUERIES = {
    "gcore": "SELECT sent_bytes, requests BY region FROM gcore EVERY 1d BETWEEN '2026-10-01' AND '2026-11-01'",
    "gcore.storage": "SELECT traffic BY location FROM gcore.storage EVERY 1h BETWEEN '2026-11-10' AND '2026-11-12'",
    "fastly": "SELECT requests, hit_ratio BY region FROM fastly EVERY 1d BETWEEN '2026-10-01' AND '2026-11-01'",
    "stackpath": "SELECT requests FROM stackpath EVERY 1h BETWEEN '2026-11-01' AND '2026-11-08'",
    "baishan": "SELECT traffic BY domain FROM baishan EVERY 1d BETWEEN '2026-08-01' AND '2026-10-01'",
    "across": "SELECT sent_bytes, requests BY provider FROM gcore, fastly EVERY 1d BETWEEN '2026-10-01' AND '2026-11-01'",
}


@pytest.mark.parametrize("name", sorted(SANDBOX_QUERIES))
def test_a_second_identical_sandbox_run_makes_zero_vendor_calls(name, store, monkeypatch) -> None:
    calls: list[str] = []
    handle = SandboxTransport.handle_async_request

    async def counting(self, request):
        calls.append(str(request.url))
        return await handle(self, request)

    monkeypatch.setattr(SandboxTransport, "handle_async_request", counting)
    text = SANDBOX_QUERIES[name]
    plain = run(text, now=NOW_TEXT, sandbox=True)[0]
    uncached = len(calls)
    assert uncached > 0
    first = run(text, now=NOW_TEXT, sandbox=True, cache=store)[0]
    assert len(calls) == 2 * uncached
    second = run(text, now=NOW_TEXT, sandbox=True, cache=store)[0]
    assert len(calls) == 2 * uncached, calls[2 * uncached :]
    assert second.plan.requests == ()
    _same(plain.frame, first.frame)
    _same(plain.frame, second.frame)


def _db(store: Store) -> sqlite3.Connection:
    return sqlite3.connect(store.path)


# The vendors' delays as their documents give them (h12's catalogs cite the seeds):
# Gcore CDN a day, Gcore storage an hour, Fastly hourly data 15 minutes, StackPath and
# BaishanCloud 2 hours (undocumented: the catalogs' conservative choice).
DELAYS = {
    "gcore": ("SELECT requests FROM gcore EVERY 1h LAST 30h", DAY),
    "gcore.storage": ("SELECT traffic FROM gcore.storage EVERY 1h LAST 6h", 3600),
    "fastly": ("SELECT requests FROM fastly EVERY 1h LAST 6h", 900),
    "stackpath": ("SELECT requests FROM stackpath EVERY 1h LAST 6h", 7200),
    "baishan": ("SELECT traffic FROM baishan EVERY 1h LAST 6h", 7200),
}


@pytest.mark.parametrize("name", sorted(DELAYS))
def test_only_buckets_past_the_vendors_delay_are_stored(name, store) -> None:
    text, delay = DELAYS[name]
    result = run(text, now=NOW_TEXT, sandbox=True, cache=store)[0]
    window = result.plan.bound.window
    stored = {t for (t,) in _db(store).execute("SELECT DISTINCT time FROM buckets")}
    expected = {t for t in range(window.start, window.end, 3600) if t + 3600 + delay <= NOW}
    assert stored == expected
    assert 0 < len(expected) < (window.end - window.start) // 3600


# -- named connections ----------------------------------------------------------------------

CONFIG = """
[connections.fastly_prod]
provider = "fastly"
credentials.FASTLY_API_TOKEN = { env = "FASTLY_PROD_TOKEN" }

[connections.fastly_eu]
provider = "fastly"
credentials.FASTLY_API_TOKEN = { env = "FASTLY_EU_TOKEN" }
"""
BY_ACCOUNT = (
    "SELECT requests BY account FROM fastly_prod, fastly_eu "
    "EVERY 1d BETWEEN '2026-10-01' AND '2026-10-15'"
)


def test_each_connection_is_an_account_of_its_own(tmp_path, store) -> None:
    config = tmp_path / "querylang.toml"
    config.write_text(CONFIG)
    plain = run(BY_ACCOUNT, now=NOW_TEXT, sandbox=True, config=config)[0]
    # the sandbox gives each connection data of its own: the test means something
    per = {}
    for _, account, requests in plain.frame.rows():
        per.setdefault(account, []).append(requests)
    assert set(per) == {"fastly_prod", "fastly_eu"} and per["fastly_prod"] != per["fastly_eu"]
    run(BY_ACCOUNT, now=NOW_TEXT, sandbox=True, config=config, cache=store)
    again = run(BY_ACCOUNT, now=NOW_TEXT, sandbox=True, config=config, cache=store)[0]
    assert again.plan.requests == ()
    _same(plain.frame, again.frame)
    accounts = {a for (a,) in _db(store).execute("SELECT DISTINCT account FROM series")}
    assert accounts == {"sandbox:fastly_prod", "sandbox:fastly_eu"}
