"""What a user sees on a terminal (a real pseudo-terminal) and through a pipe."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from querylang.units import human

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-11-20T00:00:00Z"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def on_pty(*args: str, columns: int = 120, lines: int = 40, env: dict | None = None) -> str:
    """Run ``querylang ARGS`` with stdout and stderr on a pseudo-terminal of that size."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
    full = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "PAGER")}
    full.update({"TERM": "xterm-256color", **(env or {})})
    proc = subprocess.Popen(
        [sys.executable, "-m", "querylang.cli", *args],
        stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, cwd=ROOT, env=full,
    )  # fmt: skip
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=60) == 0
    os.close(master)
    return ANSI.sub("", b"".join(chunks).decode()).replace("\r\n", "\n")


def piped(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "querylang.cli", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip


QUERY = "SELECT sent_bytes, requests BY region FROM gcore WHERE region = 'eu' EVERY 1d LAST 2d"


def test_human_units_by_hand() -> None:
    assert human(3_684_899.8892, "bytes") == "3.68 MB"
    assert human(23_000_000_000, "bytes") == "23.0 GB"
    assert human(999, "bytes") == "999 B"
    assert human(29_500_000, "bit/s") == "29.5 Mbit/s"
    assert human(12.5, "MB") == "12.5 MB"  # StackPath's MB are 10^6 bytes
    assert human(1500, "MB") == "1.50 GB"
    assert human(1234, "Mbps") == "1.23 Gbit/s"
    assert human(1_234_567, "requests") == "1,234,567"  # counts stay exact
    assert human(0.953_21, "ratio", "ratio") == "0.9532"
    assert human(float("nan"), "bytes") == "—"  # missing is never 0


def test_terminal_table_is_human_and_raw_is_exact() -> None:
    exact = json.loads(piped("run", "--sandbox", "--now", NOW, "-e", QUERY, "-f", "json").stdout)
    rows = exact["results"][0]["rows"]
    shown = on_pty("run", "--sandbox", "--now", NOW, "-e", QUERY, "--no-pager")
    for row in rows:
        assert human(row["sent_bytes"], "bytes") in shown  # e.g. 34.2 GB
        assert f"{row['requests']:,}" in shown
        assert f"{row['sent_bytes']:,}" not in shown
    raw = on_pty("run", "--sandbox", "--now", NOW, "-e", QUERY, "--no-pager", "--raw")
    for row in rows:
        assert f"{row['sent_bytes']:,}" in raw
    assert "…" not in shown and "…" not in raw


def test_piped_table_is_exact() -> None:
    done = piped("run", "--sandbox", "--now", NOW, "-e", QUERY, "-f", "table")
    rows = json.loads(piped("run", "--sandbox", "--now", NOW, "-e", QUERY, "-f", "json").stdout)
    for row in rows["results"][0]["rows"]:
        assert f"{row['sent_bytes']:,}" in done.stdout


def test_a_narrow_terminal_gets_the_long_layout_uncut() -> None:
    query = (
        "SELECT sent_bytes, requests, responses_2xx, responses_4xx, responses_5xx BY region "
        "FROM gcore WHERE region = 'eu' EVERY 1d LAST 2d"
    )
    wide = on_pty("run", "--sandbox", "--now", NOW, "-e", query, "--no-pager", columns=200)
    assert "one line per metric" not in wide
    narrow = on_pty("run", "--sandbox", "--now", NOW, "-e", query, "--no-pager", columns=80)
    assert "one line per metric" in narrow
    assert "…" not in narrow
    assert max(len(line) for line in narrow.splitlines()) <= 80
    for name in ("responses_2xx", "responses_4xx", "responses_5xx", "requests"):
        assert narrow.count(name) == 2  # one line per day
    tiny = on_pty("run", "--sandbox", "--now", NOW, "-e", query, "--no-pager", columns=40)
    assert "one block per row" in tiny and "…" not in tiny
    assert "2026-11-18T00:00:00Z" in tiny and "responses_5xx" in tiny


def test_long_results_go_through_the_pager(tmp_path) -> None:
    seen = tmp_path / "paged.txt"
    query = "SELECT requests FROM gcore EVERY 1h LAST 2d"  # 48 rows
    env = {"PAGER": f"cat > {seen}"}
    shown = on_pty("run", "--sandbox", "--now", NOW, "-e", query, lines=20, env=env)
    paged = ANSI.sub("", seen.read_text())
    assert "2026-11-18T00:00:00Z" in paged and "2026-11-19T23:00:00Z" in paged
    assert "2026-11-19T23:00:00Z" not in shown  # the table went to the pager, not the tty
    seen.unlink()
    direct = on_pty("run", "--sandbox", "--now", NOW, "-e", query, "--no-pager", lines=20, env=env)
    assert not seen.exists() and "2026-11-19T23:00:00Z" in direct
    short = on_pty("run", "--sandbox", "--now", NOW, "-e", QUERY, lines=40, env=env)
    assert not seen.exists() and "sent_bytes" in short  # fits: no pager


def test_piped_default_rule_one_query_csv_several_ndjson() -> None:
    one = piped("run", "--sandbox", "--now", NOW, "-e", QUERY)
    assert one.stdout.splitlines()[0] == "time,region,sent_bytes,requests,state"
    several = piped("run", "--sandbox", "--now", NOW, "examples/sandbox.qry")
    records = [json.loads(line) for line in several.stdout.splitlines()]
    assert {r["query"] for r in records} == {
        "cdn_egress", "storage_traffic", "fastly_hit_ratio", "stackpath_transfer",
        "baishan_bandwidth",
    }  # fmt: skip
    rule = "CSV for a run of one query and ndjson"
    assert rule in " ".join((ROOT / "README.md").read_text().split())
    help_text = " ".join(piped("run", "--help").stdout.split())
    assert rule in help_text


def test_chart_draws_each_series_with_legend_and_unit() -> None:
    query = "SELECT sent_bytes BY region FROM gcore WHERE region IN ('eu', 'na') EVERY 1h LAST 1d"
    done = piped("run", "--sandbox", "--now", NOW, "-e", query, "-f", "chart")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "\x1b[" not in out  # no colours into a pipe
    assert "region=eu" in out and "region=na" in out  # the legend
    rows = json.loads(piped("run", "--sandbox", "--now", NOW, "-e", query, "-f", "json").stdout)
    peak = max(r["sent_bytes"] for r in rows["results"][0]["rows"])
    unit = human(peak, "bytes").split()[1]  # the axis is scaled to fit the largest value
    assert f"sent_bytes ({unit})" in out
    assert "time (UTC)" in out and "2026-11-19 00:00" in out
    assert sum(ch in out for ch in "⠁⠂⠄⡀⠈⠐⠠⢀") >= 4  # braille dots: lines were drawn


def test_chart_on_a_terminal_is_coloured() -> None:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "querylang.cli", "run", "--sandbox", "--now", NOW, "-e", QUERY,
         "-f", "chart"], stdout=slave, stderr=slave, cwd=ROOT,
    )  # fmt: skip
    os.close(slave)
    data = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    assert proc.wait(timeout=60) == 0
    assert b"\x1b[" in data and b"region=eu" in data


def test_an_empty_result_says_why_on_stderr() -> None:
    done = piped(
        "run", "--sandbox", "--now", NOW, "-e",
        "SELECT requests FROM gcore WHERE resource IN (999) EVERY 1d LAST 2d",
    )  # fmt: skip
    assert done.returncode == 0
    # FILL NULL, the default: each bucket is there, its value missing (never 0)
    assert done.stdout == (
        "time,requests,state\n2026-11-18T00:00:00Z,,complete\n2026-11-19T00:00:00Z,,provisional\n"
    )
    assert "note: gcore returned no values (every bucket is missing)" in done.stderr
    assert "the filters matched nothing (resource IN (999))" in done.stderr
    later = piped(
        "run", "--sandbox", "--now", NOW, "-e",
        "SELECT requests FROM gcore EVERY 1d BETWEEN '2030-01-01' AND '2030-01-03'",
    )  # fmt: skip
    assert later.returncode == 0
    if later.stdout.count("\n") == 1:  # the emulator has no data after its clock
        assert "the window may lie before the data" in later.stderr


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("*.qry")), ids=lambda p: p.name)
def test_every_example_returns_data_in_the_sandbox(path) -> None:
    done = piped("run", "--sandbox", "--now", NOW, str(path), "-f", "json")
    assert done.returncode == 0, done.stderr
    assert "returned no rows" not in done.stderr
    results = json.loads(done.stdout)["results"]
    assert results and all(r["rows"] for r in results)
    for r in results:  # and real numbers, not all zero
        metrics = [c["name"] for c in r["columns"] if c["role"] == "metric"]
        assert any(row[m] not in (None, 0) for row in r["rows"] for m in metrics)


def test_progress_bar_names_each_provider_with_an_eta() -> None:
    """On a terminal, a run of many calls shows one bar per provider, calls done and ETA."""
    query = "SELECT sent_bytes, requests FROM gcore, fastly EVERY 1h LAST 300d"  # 1 + 10 calls
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "querylang.cli", "run", "--sandbox", "--now", NOW, "-e", query,
         "-f", "csv"], stdout=subprocess.DEVNULL, stderr=slave, cwd=ROOT,
        env={**env, "TERM": "xterm-256color"},
    )  # fmt: skip
    os.close(slave)
    data = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    assert proc.wait(timeout=120) == 0
    screen = ANSI.sub("", data.decode(errors="replace"))
    assert re.search(r"gcore\s.*\d+/1\s+calls", screen), screen[-2000:]
    assert re.search(r"fastly\s.*\d+/10\s+calls", screen), screen[-2000:]
    assert "ETA" in screen
    quiet = subprocess.run(
        [sys.executable, "-m", "querylang.cli", "run", "--sandbox", "--now", NOW, "-e", query,
         "-f", "csv"], capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert "calls" not in quiet.stderr  # never into a pipe


def test_chart_time_axis_is_in_the_querys_zone() -> None:
    # NOW is midnight UTC = 09:00 in Tokyo (+09:00, no DST): the axis reads Tokyo's clock.
    query = "SELECT requests FROM gcore EVERY 1h LAST 6h TZ 'Asia/Tokyo'"
    done = piped("run", "--sandbox", "--now", NOW, "-e", query, "-f", "chart")
    assert done.returncode == 0, done.stderr
    assert "time (Asia/Tokyo)" in done.stdout
    assert "2026-11-20 03:00" in done.stdout  # 18:00 UTC, the window's first hour, in Tokyo
    assert "2026-11-19 18:00" not in done.stdout
