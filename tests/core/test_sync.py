"""``querylang sync`` into DuckDB, Parquet and a real PostgreSQL server: idempotent merges.

Expected rows come from a plain run of the same query (no store, no sync).
"""

from __future__ import annotations

import io
import re
import socket
import sys
from pathlib import Path

import duckdb
import psycopg
import pyarrow.parquet as pq
import pytest

from querylang.cli import main
from querylang.emulation import serve
from querylang.engine import run
from querylang.plugins import registry
from querylang.timegrid import parse_ts
from tests.conftest import NOW, NOW_TEXT
from tests.postgres import postgres_server

DAY = 86400
QUERY = "QUERY daily AS SELECT sent_bytes, requests BY region FROM gcore EVERY 1d LAST 10d"
LATER = "2026-11-21T05:00:00Z"  # a day after NOW: yesterday's provisional day is final


def _sync(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["sync", "--now", NOW_TEXT, *args], out=out)
    return code, out.getvalue()


def _expected(text: str = QUERY, now: str = NOW_TEXT) -> dict[tuple, tuple]:
    """(time, region, provider) → (sent_bytes, requests), from a plain run."""
    result = run(text, now=now, sandbox=True)[0]
    out = {}
    for t, region, sent, requests in result.frame.rows():
        out[(t, region, "gcore")] = (sent, requests)
    return out


def _epoch(value) -> int:
    return int(value.timestamp())


def _duckdb_rows(path: Path, table: str = "daily") -> dict[tuple, tuple]:
    with duckdb.connect(str(path), read_only=True) as db:
        rows = db.execute(
            f"SELECT time, region, provider, account, sent_bytes, requests, final, time_end FROM {table}"
        ).fetchall()
    return {(_epoch(r[0]), r[1], r[2]): r[3:] for r in rows}


def test_sync_into_duckdb_is_idempotent(tmp_path: Path) -> None:
    target = tmp_path / "usage.duckdb"
    code, out = _sync("--sandbox", "-e", QUERY, "--to", str(target))
    assert code == 0, out
    assert "synced 70 row(s) (7 provisional)" in out and "holds 70 row(s)" in out
    first = _duckdb_rows(target)
    expected = _expected()
    assert len(first) == len(expected) == 70
    for key, (sent, requests) in expected.items():
        account, got_sent, got_requests, final, end = first[key]
        assert (account, got_sent, got_requests) == ("sandbox", sent, requests)
        assert _epoch(end) == key[0] + DAY
        assert final == (key[0] + DAY <= NOW - DAY)  # final a day after the bucket ends
    code, out = _sync("--sandbox", "-e", QUERY, "--to", str(target))
    assert code == 0 and "holds 70 row(s)" in out  # merged, not appended
    assert _duckdb_rows(target) == first
    with duckdb.connect(str(target), read_only=True) as db:
        units = dict(
            db.execute(
                "SELECT column_name, unit FROM querylang_columns WHERE table_name = 'daily'"
            ).fetchall()
        )
    assert units["sent_bytes"] == "bytes"


def test_a_later_sync_refetches_the_provisional_buckets_only(tmp_path, monkeypatch) -> None:
    provider = registry().get("gcore")
    with serve(provider.emulator(lambda: float(parse_ts(LATER)))) as server:
        monkeypatch.setenv("GCORE_API_KEY", "sync-test-key-5678")
        monkeypatch.setenv("QUERYLANG_GCORE_BASE_URL", server.url)
        target = tmp_path / "usage.duckdb"
        assert _sync("-e", QUERY, "--to", str(target))[0] == 0
        assert server.requests == 1
        # Spoil the provisional rows: a re-sync must fetch them again and put them right.
        with duckdb.connect(str(target)) as db:
            db.execute("UPDATE daily SET requests = -1 WHERE NOT final")
        out = io.StringIO()
        assert main(["sync", "--now", LATER, "-e", QUERY, "--to", str(target)], out=out) == 0
        assert server.requests == 2  # one call, for the provisional day and the new one
    rows = _duckdb_rows(target)
    assert len(rows) == 77  # Nov 10 … Nov 20: 11 days, 7 regions
    expected = {**_expected(), **_expected(now=LATER)}
    assert {k: (v[1], v[2]) for k, v in rows.items()} == expected
    yesterday = parse_ts("2026-11-19")
    assert all(v[3] for k, v in rows.items() if k[0] == yesterday)  # final now
    assert not any(v[3] for k, v in rows.items() if k[0] == yesterday + DAY)


def test_sync_into_parquet_partitions_by_day_and_merges(tmp_path: Path) -> None:
    folder = tmp_path / "lake"
    for _ in range(2):
        code, out = _sync("--sandbox", "-e", QUERY, "--to", f"parquet:{folder}")
        assert code == 0 and "holds 70 row(s)" in out
    days = sorted(p.name for p in (folder / "daily").iterdir() if p.is_dir())
    assert days == [f"day=2026-11-{d:02d}" for d in range(10, 20)]
    rows = {}
    for part in (folder / "daily").glob("day=*/part.parquet"):
        for r in pq.read_table(part).to_pylist():
            assert r["time"].date().isoformat() == part.parent.name[4:]
            rows[(_epoch(r["time"]), r["region"], r["provider"])] = (r["sent_bytes"], r["requests"])
    assert rows == _expected()


def test_cross_provider_rows_carry_each_provider_and_account(tmp_path: Path) -> None:
    text = "QUERY cdn AS SELECT sent_bytes BY provider FROM gcore, fastly EVERY 1d LAST 3d"
    target = tmp_path / "x.duckdb"
    assert _sync("--sandbox", "-e", text, "--to", str(target))[0] == 0
    with duckdb.connect(str(target), read_only=True) as db:
        rows = db.execute(
            "SELECT provider, account, count(*) FROM cdn GROUP BY ALL ORDER BY 1"
        ).fetchall()
    assert rows == [("fastly", "sandbox", 3), ("gcore", "sandbox", 3)]


@pytest.fixture(scope="module")
def postgres():
    with postgres_server() as dsn:
        yield dsn


def _pg_rows(dsn: str, table: str = "daily") -> dict[tuple, tuple]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            f"SELECT time, region, provider, account, sent_bytes, requests, final, time_end FROM {table}"
        ).fetchall()
    return {(_epoch(r[0]), r[1], r[2]): r[3:] for r in rows}


def test_sync_into_a_real_postgresql_is_idempotent(postgres: str) -> None:
    code, out = _sync("--sandbox", "-e", QUERY, "--to", postgres)
    assert code == 0, out
    assert "postgresql://querylang@127.0.0.1" in out
    first = _pg_rows(postgres)
    expected = _expected()
    assert {k: (v[1], v[2]) for k, v in first.items()} == expected
    assert all(v[0] == "sandbox" for v in first.values())
    code, out = _sync("--sandbox", "-e", QUERY, "--to", postgres)
    assert code == 0 and "holds 70 row(s)" in out
    assert _pg_rows(postgres) == first
    # a day later: the provisional day becomes final, the new day is added, nothing doubles
    with psycopg.connect(postgres) as conn:
        conn.execute("UPDATE daily SET sent_bytes = -1 WHERE NOT final")
    out = io.StringIO()
    assert main(["sync", "--sandbox", "--now", LATER, "-e", QUERY, "--to", postgres], out=out) == 0
    later = _pg_rows(postgres)
    assert {k: (v[1], v[2]) for k, v in later.items()} == {**expected, **_expected(now=LATER)}
    assert len(later) == 77
    with psycopg.connect(postgres) as conn:
        dupes = conn.execute(
            "SELECT count(*) FROM (SELECT time, region, provider, account FROM daily "
            "GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) d"
        ).fetchone()[0]
        kinds = dict(
            conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'daily'"
            ).fetchall()
        )
    assert dupes == 0
    assert kinds["time"] == "timestamp with time zone" and kinds["sent_bytes"] == "double precision"


def test_a_postgresql_that_is_not_there_is_a_clear_error(capsys) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dsn = f"postgresql://alice:hunter2-secret@127.0.0.1:{port}/usage"
    code, _ = _sync("--sandbox", "-e", QUERY, "--to", dsn)
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error[E523]: cannot connect to postgresql://alice@127.0.0.1:")
    assert "hunter2" not in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--to", "mysql://x"], "E521", "is not a sync target"),
        (["--to", "x.duckdb", "--table", "bad-name"], "E521", "cannot be a table"),
    ],
)
def test_sync_usage_errors(args, code, message, capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert _sync("--sandbox", "-e", QUERY, *args)[0] == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error[{code}]") and message in err


def test_a_missing_extra_names_it(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "duckdb", None)  # as if not installed
    assert _sync("--sandbox", "-e", QUERY, "--to", str(tmp_path / "u.duckdb"))[0] == 2
    err = capsys.readouterr().err
    assert err.startswith("error[E522]") and "pip install 'querylang[sync]'" in err


def test_a_changed_query_is_refused_rather_than_mixed(tmp_path: Path, capsys) -> None:
    target = str(tmp_path / "u.duckdb")
    assert _sync("--sandbox", "-e", QUERY, "--to", target)[0] == 0
    other = QUERY.replace("sent_bytes, requests", "requests")
    assert _sync("--sandbox", "-e", other, "--to", target)[0] == 2
    assert "has the columns" in capsys.readouterr().err
    assert len(_duckdb_rows(Path(target))) == 70  # the old table is untouched


def _focus_sql() -> str:
    reference = (Path(__file__).resolve().parents[2] / "docs" / "reference.md").read_text()
    section = reference[reference.index("### Sync tables and FOCUS") :]
    return re.search(r"```sql\n(.*?)```", section, re.S).group(1)


def _usage_expected() -> dict[tuple, float]:
    text = (Path(__file__).resolve().parents[2] / "examples" / "usage.qry").read_text()
    result = run(text, now=NOW_TEXT, sandbox=True)[0]
    return {(t, provider): sent for t, provider, sent in result.frame.rows()}


def _check_focus(rows) -> None:
    expected = _usage_expected()
    assert len(rows) == len(expected) == 28
    for start, end, provider, account, category, meter, quantity, unit in rows:
        assert (_epoch(end) - _epoch(start), account, category, meter, unit) == (
            DAY, "sandbox", "Usage", "sent_bytes", "bytes"
        )  # fmt: skip
        assert quantity == expected[(_epoch(start), provider)]


def test_the_documented_focus_view_runs_on_duckdb(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    target = str(tmp_path / "u.duckdb")
    assert _sync("--sandbox", "examples/usage.qry", "--to", target)[0] == 0
    with duckdb.connect(target) as db:
        db.execute(_focus_sql())
        _check_focus(db.execute("SELECT * FROM cdn_daily_focus").fetchall())


def test_the_documented_focus_view_runs_on_postgresql(postgres: str, monkeypatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    assert _sync("--sandbox", "examples/usage.qry", "--to", postgres)[0] == 0
    with psycopg.connect(postgres) as conn:
        conn.execute(_focus_sql())
        _check_focus(conn.execute("SELECT * FROM cdn_daily_focus").fetchall())


def test_rows_of_named_connections_carry_their_account(tmp_path: Path) -> None:
    config = tmp_path / "querylang.toml"
    config.write_text(
        '[connections.fastly_prod]\nprovider = "fastly"\n'
        'credentials.FASTLY_API_TOKEN = { env = "FASTLY_PROD_TOKEN" }\n'
        '[connections.fastly_eu]\nprovider = "fastly"\n'
        'credentials.FASTLY_API_TOKEN = { env = "FASTLY_EU_TOKEN" }\n'
    )
    text = "QUERY per_account AS SELECT requests BY account FROM fastly_prod, fastly_eu EVERY 1d LAST 3d"
    target = str(tmp_path / "a.duckdb")
    for _ in range(2):
        assert _sync("--sandbox", "--config", str(config), "-e", text, "--to", target)[0] == 0
    with duckdb.connect(target, read_only=True) as db:
        rows = db.execute(
            "SELECT provider, account, count(*) FROM per_account GROUP BY ALL ORDER BY 2"
        ).fetchall()
    assert rows == [("fastly", "sandbox:fastly_eu", 3), ("fastly", "sandbox:fastly_prod", 3)]


HOURS = "QUERY t AS SELECT sent_bytes BY region FROM gcore EVERY 1h BETWEEN '2026-11-18' AND '2026-11-18T03:00:00Z'"
DAYS = "QUERY t AS SELECT sent_bytes BY region FROM gcore EVERY 1d BETWEEN '2026-11-18' AND '2026-11-19'"
LATER_HOURS = HOURS.replace(
    "'2026-11-18' AND '2026-11-18T03", "'2026-11-18T02:00:00Z' AND '2026-11-18T05"
)


def _stored(target: str) -> list[tuple[int, int, str, float]]:
    """(time, time_end, region, sent_bytes) of table t, sorted, from the target itself."""
    if target.startswith("parquet:"):
        table = pq.read_table(Path(target.removeprefix("parquet:")) / "t")
        rows = zip(
            *(table[c].to_pylist() for c in ("time", "time_end", "region", "sent_bytes")),
            strict=True,
        )
    elif target.startswith("postgresql://"):
        with psycopg.connect(target) as conn:
            rows = conn.execute("SELECT time, time_end, region, sent_bytes FROM t").fetchall()
    else:
        with duckdb.connect(target, read_only=True) as db:
            rows = db.execute("SELECT time, time_end, region, sent_bytes FROM t").fetchall()
    return sorted((_epoch(a), _epoch(b), r, v) for a, b, r, v in rows)


def _refuses_another_grid(target: str, capsys) -> None:
    assert _sync("--sandbox", "-e", HOURS, "--to", target)[0] == 0
    hours = _stored(target)
    start = parse_ts("2026-11-18T00:00:00Z")
    assert {(t, e) for t, e, _, _ in hours} == {
        (start + h * 3600, start + (h + 1) * 3600) for h in range(3)
    }
    capsys.readouterr()
    # the day [11-18, 11-19) starts where the first hour does: merged on the key it would
    # replace that hour's row with the day's total, and the table would count hours 01-02 twice
    assert _sync("--sandbox", "-e", DAYS, "--to", target)[0] == 2
    err = capsys.readouterr().err
    assert err.startswith("error[E521]: the table 't' in ")
    assert "holds the bucket [2026-11-18T00:00:00Z, 2026-11-18T01:00:00Z) of the series" in err
    assert "this query's bucket [2026-11-18T00:00:00Z, 2026-11-19T00:00:00Z) overlaps" in err
    assert "--table NAME" in err
    assert _stored(target) == hours  # untouched
    # more hours on the same grid, overlapping the stored ones in time, merge as before
    assert _sync("--sandbox", "-e", LATER_HOURS, "--to", target)[0] == 0
    assert {(t, e) for t, e, _, _ in _stored(target)} == {
        (start + h * 3600, start + (h + 1) * 3600) for h in range(5)
    }


def test_duckdb_refuses_buckets_of_another_grid_over_stored_ones(tmp_path: Path, capsys) -> None:
    _refuses_another_grid(str(tmp_path / "u.duckdb"), capsys)


def test_parquet_refuses_buckets_of_another_grid_over_stored_ones(tmp_path: Path, capsys) -> None:
    _refuses_another_grid(f"parquet:{tmp_path / 'lake'}", capsys)


def test_postgresql_refuses_buckets_of_another_grid_over_stored_ones(postgres: str, capsys) -> None:
    with psycopg.connect(postgres) as conn:
        conn.execute("DROP TABLE IF EXISTS t")
    _refuses_another_grid(postgres, capsys)


def test_a_day_first_then_its_hours_is_refused_too(tmp_path: Path, capsys) -> None:
    target = str(tmp_path / "u.duckdb")
    assert _sync("--sandbox", "-e", DAYS, "--to", target)[0] == 0
    assert _sync("--sandbox", "-e", HOURS, "--to", target)[0] == 2
    assert (
        "holds the bucket [2026-11-18T00:00:00Z, 2026-11-19T00:00:00Z)" in capsys.readouterr().err
    )
