"""The result store shared by real processes: two writers at once, and a writer killed mid-write."""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

from querylang.engine import explain, run
from querylang.store import Store
from tests.conftest import NOW_TEXT

ROOT = Path(__file__).resolve().parents[2]

MONTHS = [f"2026-{m:02d}-01" for m in range(3, 11)]
# Writer A and writer B both write gcore's daily regions (the same series, racing on
# creating them) and each also a provider of its own.
A = [
    *(
        f"SELECT sent_bytes, requests BY region FROM gcore EVERY 1d BETWEEN '{a}' AND '{b}'"
        for a, b in itertools.pairwise(MONTHS)
    ),
    "SELECT requests BY region FROM fastly EVERY 1h BETWEEN '2026-11-01' AND '2026-11-08'",
]
B = [
    *(
        f"SELECT sent_bytes, requests BY region FROM gcore EVERY 1d BETWEEN '{a}' AND '{b}'"
        for a, b in reversed(list(itertools.pairwise(MONTHS)))
    ),
    "SELECT traffic BY domain FROM baishan EVERY 1h BETWEEN '2026-11-01' AND '2026-11-08'",
]

WRITER = textwrap.dedent(
    """
    import json, os, sys, time
    from querylang.engine import run
    from querylang.store import Store

    path, go, queries = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    store = Store(path)
    while not os.path.exists(go):
        time.sleep(0.005)
    for text in queries:
        run(text, now=sys.argv[-1], sandbox=True, cache=store)
    print("done", flush=True)
    """
)


def _spawn(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0]


def _same(a, b) -> None:
    assert np.array_equal(a.time, b.time)
    for d in a.dims:
        assert list(a.dims[d]) == list(b.dims[d])
    for m in a.metrics:
        assert np.array_equal(a.metrics[m], b.metrics[m], equal_nan=True), m


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    import json

    path = tmp_path / "store.sqlite3"
    go = tmp_path / "go"
    writers = [_spawn(WRITER, str(path), str(go), json.dumps(qs), NOW_TEXT) for qs in (A, B)]
    time.sleep(0.5)  # both are up and waiting
    go.touch()
    for w in writers:
        out, err = w.communicate(timeout=240)
        assert w.returncode == 0, err
        assert out.strip() == "done"
    assert _integrity(path) == "ok"
    with Store(path) as store:
        for text in dict.fromkeys(A + B):
            plan = explain(text, now=NOW_TEXT, sandbox=True, cache=store)[0]
            assert plan.requests == (), text
            _same(
                run(text, now=NOW_TEXT, sandbox=True)[0].frame,
                run(text, now=NOW_TEXT, sandbox=True, cache=store)[0].frame,
            )
        series = store.db.execute(
            "SELECT count(*), count(DISTINCT account||provider||metric||group_by) FROM series"
        ).fetchone()
    assert series[0] == series[1]  # one series per key, although both created it at once


KILLED = textwrap.dedent(
    """
    import sys, time
    from querylang.engine import run
    from querylang.store import Store

    class Stalling:
        # The store's connection, stalling for ever after the first batch of points is
        # written inside the transaction: the parent kills the process there.
        def __init__(self, db):
            self.db = db
        def execute(self, *a):
            return self.db.execute(*a)
        def executemany(self, sql, rows):
            cur = self.db.executemany(sql, rows)
            if "INTO points" in sql:
                print("mid-write", flush=True)
                time.sleep(600)
            return cur

    store = Store(sys.argv[1])
    store._db = Stalling(store.db)
    run(sys.argv[2], now=sys.argv[-1], sandbox=True, cache=store)
    """
)


def test_a_writer_killed_mid_write_leaves_the_store_readable(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    seeded = "SELECT sent_bytes BY region FROM gcore EVERY 1d BETWEEN '2026-10-01' AND '2026-10-08'"
    killed = "SELECT sent_bytes BY region FROM gcore EVERY 1d BETWEEN '2026-10-08' AND '2026-10-29'"
    with Store(path) as store:
        run(seeded, now=NOW_TEXT, sandbox=True, cache=store)
    child = _spawn(KILLED, str(path), killed, NOW_TEXT)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "mid-write"
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert _integrity(path) == "ok"
    with Store(path) as store:
        # what was there before is intact; nothing of the killed write is half there
        assert explain(seeded, now=NOW_TEXT, sandbox=True, cache=store)[0].requests == ()
        plan = explain(killed, now=NOW_TEXT, sandbox=True, cache=store)[0]
        assert plan.store.stored == 0 and len(plan.requests) == 1
        # and the store takes writes again
        got = run(killed, now=NOW_TEXT, sandbox=True, cache=store)[0]
        _same(run(killed, now=NOW_TEXT, sandbox=True)[0].frame, got.frame)
        assert explain(killed, now=NOW_TEXT, sandbox=True, cache=store)[0].requests == ()
