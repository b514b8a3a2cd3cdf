"""The result store from the command line and the REPL: on by default, --no-cache, --refresh,
``querylang cache info|clear``, and the size limit."""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
from pathlib import Path

import pytest

from querylang.cli import main
from querylang.engine import run
from querylang.repl import Session
from querylang.store import Store
from tests.conftest import NOW_TEXT

Q = "SELECT sent_bytes BY region FROM gcore EVERY 1d BETWEEN '2026-10-01' AND '2026-10-11'"


def _main(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), out=out)
    return code, out.getvalue()


def _store_file() -> Path:
    return Path(os.environ["QUERYLANG_CACHE_DIR"]) / "results.sqlite3"


def test_the_cli_keeps_final_buckets_by_default_and_explain_says_so() -> None:
    code, first = _main("run", "--sandbox", "--now", NOW_TEXT, "-e", Q, "--format", "csv")
    assert code == 0 and _store_file().exists()
    code, second = _main("run", "--sandbox", "--now", NOW_TEXT, "-e", Q, "--format", "csv")
    assert code == 0 and second == first
    code, text = _main("explain", "--sandbox", "--now", NOW_TEXT, "-e", Q)
    assert "store: 10 of 10 native 1d bucket(s) from the store, 0 fetched" in text
    assert "0 call(s)" in text and "GET " not in text
    code, data = _main("explain", "--sandbox", "--now", NOW_TEXT, "-e", Q, "--format", "json")
    store = json.loads(data)["queries"][0]["store"]
    assert store["from_store"] == 10 and store["fetched"] == 0 and store["account"] == "sandbox"
    assert json.loads(data)["requests"] == []
    code, text = _main("explain", "--sandbox", "--now", NOW_TEXT, "-e", Q, "--no-cache")
    assert "store:" not in text and "1 call(s)" in text
    code, text = _main("explain", "--sandbox", "--now", NOW_TEXT, "-e", Q, "--refresh")
    assert "store: --refresh, all 10 native 1d bucket(s) fetched again" in text
    assert "1 call(s)" in text


def test_no_cache_neither_reads_nor_writes(monkeypatch) -> None:
    assert _main("run", "--sandbox", "--now", NOW_TEXT, "-e", Q, "--no-cache")[0] == 0
    assert not _store_file().exists()
    monkeypatch.setenv("QUERYLANG_CACHE", "off")
    assert _main("run", "--sandbox", "--now", NOW_TEXT, "-e", Q)[0] == 0
    assert not _store_file().exists()


def test_cache_info_and_clear() -> None:
    code, text = _main("cache", "info")
    assert code == 0 and "(not created yet)" in text and str(_store_file()) in text
    _main("run", "--sandbox", "--now", NOW_TEXT, "-e", Q)
    _main("run", "--sandbox", "--now", NOW_TEXT, "-e", Q.replace("gcore", "fastly"))
    code, text = _main("cache", "info")
    assert (
        "gcore (sandbox): 1 series, 10 bucket(s), 2026-10-01T00:00:00Z … 2026-10-10T00:00:00Z"
        in text
    )
    assert re.search(r"fastly \(sandbox\): \d series, \d+ bucket\(s\)", text)
    assert "MB of at most 1024 MB" in text
    info = json.loads(_main("cache", "info", "--format", "json")[1])
    assert {p["provider"] for p in info["providers"]} == {"gcore", "fastly"}
    assert info["bytes"] > 0
    code, text = _main("cache", "clear", "--provider", "gcore")
    assert code == 0 and "cleared gcore's stored series (1)" in text
    info = json.loads(_main("cache", "info", "--format", "json")[1])
    assert [p["provider"] for p in info["providers"]] == ["fastly"]
    assert _main("cache", "clear")[1].startswith("cleared all stored series")
    assert json.loads(_main("cache", "info", "--format", "json")[1])["providers"] == []


def test_the_repl_uses_the_store() -> None:
    session = Session(sandbox=True, now=NOW_TEXT, fmt="csv")
    out, err = io.StringIO(), io.StringIO()
    session.handle(Q + ";", out, err)
    assert err.getvalue() == ""
    session.handle(".explain " + Q + ";", out, err)
    assert "store: 10 of 10 native 1d bucket(s) from the store" in out.getvalue()


def test_the_size_limit_drops_the_least_recently_used(tmp_path: Path) -> None:
    metrics = ["upstream_bytes", "sent_bytes", "shield_bytes", "total_bytes", "cdn_bytes",
               "requests", "responses_2xx", "responses_3xx", "responses_4xx", "responses_5xx"]  # fmt: skip
    texts = [
        f"SELECT {m} BY region, country FROM gcore EVERY 1h BETWEEN '2026-10-01' AND '2026-10-03'"
        for m in metrics
    ]
    store = Store(tmp_path / "s.sqlite3", max_bytes=0)
    run(texts[0], now=NOW_TEXT, sandbox=True, cache=store)
    store.max_bytes = 4 * store._used_bytes()  # room for about four queries' series
    for text in texts[1:]:
        run(text, now=NOW_TEXT, sandbox=True, cache=store)
    assert store._used_bytes() <= store.max_bytes
    with sqlite3.connect(store.path) as db:
        kept = [r[0] for r in db.execute("SELECT metric FROM series ORDER BY id")]
    assert 0 < len(kept) < len(texts)  # some were dropped…
    assert kept == metrics[-len(kept) :]  # …the least recently used first


def test_a_bad_size_limit_is_a_clear_error(monkeypatch, capsys) -> None:
    monkeypatch.setenv("QUERYLANG_CACHE_MAX_MB", "lots")
    assert _main("run", "--sandbox", "--now", NOW_TEXT, "-e", Q) == (1, "")
    err = capsys.readouterr().err
    assert err.startswith("error[E520]: QUERYLANG_CACHE_MAX_MB='lots' is not a number")


@pytest.mark.parametrize("value", ["0"])
def test_a_zero_limit_means_no_limit(value, monkeypatch) -> None:
    monkeypatch.setenv("QUERYLANG_CACHE_MAX_MB", value)
    assert Store.default().max_bytes == 0


def test_a_damaged_store_is_a_clear_error_and_cache_clear_starts_afresh(capsys) -> None:
    _store_file().parent.mkdir(parents=True, exist_ok=True)
    _store_file().write_bytes(b"this is not a database, whatever it once was" * 100)
    assert _main("run", "--sandbox", "--now", NOW_TEXT, "-e", Q) == (1, "")
    err = capsys.readouterr().err
    assert err.startswith("error[E520]: the result store") and "querylang cache clear" in err
    assert "Traceback" not in err
    assert _main("cache", "clear")[0] == 0
    code, out = _main("run", "--sandbox", "--now", NOW_TEXT, "-e", Q, "--format", "csv")
    assert code == 0 and out.count("\n") == 1 + 10 * 7


def test_separate_cli_processes_share_the_store(gcore_server) -> None:
    import subprocess
    import sys

    env = {
        **os.environ,
        "GCORE_API_KEY": "cli-store-key-4321",
        "QUERYLANG_GCORE_BASE_URL": gcore_server.url,
    }
    runs = [
        subprocess.run(
            [
                sys.executable,
                "-m",
                "querylang.cli",
                "run",
                "--now",
                NOW_TEXT,
                "-e",
                Q,
                "--format",
                "csv",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        for _ in range(2)
    ]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr
    assert runs[0].stdout == runs[1].stdout and runs[0].stdout.count("\n") == 71
    assert gcore_server.requests == 1  # the second process asked the vendor nothing
    assert b"cli-store-key-4321" not in _store_file().read_bytes()
