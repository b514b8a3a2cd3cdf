"""``querylang sync``: a query file's results merged into a database table, idempotently.

One table per query (its name, or ``--table``), one row per (time, dimensions, provider,
account) — the merge key: re-running replaces those rows instead of appending duplicates,
so a bucket that was provisional last time is overwritten by its newer value. Columns:

``time``, ``time_end`` (UTC bucket bounds), ``provider``, ``account``, the ``BY``
dimensions (text), one float column per selected metric under its standard name in its
base unit, ``final`` (the bucket will not change any more) and ``synced_at``. Every
target also gets a ``querylang_columns`` table naming each column's role and unit.

Targets: a DuckDB file (the default, ``usage.duckdb``), a folder of Parquet files
partitioned by day (``parquet:DIR``), or PostgreSQL (``postgresql://…``).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from attrs import frozen

from querylang.errors import QuerylangError
from querylang.timegrid import format_ts

__all__ = ["SyncError", "SyncReport", "Table", "sync_results", "table_of", "target_of"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class SyncError(QuerylangError):
    """A sync target that cannot be used: wrong name, missing package, failed write."""

    def __init__(self, code: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.code = code
        self.exit_code = 1 if code == "E523" else 2


@frozen(kw_only=True)
class Table:
    """One query's rows, ready to merge: column names, units, and row tuples."""

    name: str
    dims: tuple[str, ...]  # the BY dimensions other than provider
    metrics: tuple[str, ...]
    units: tuple[str | None, ...]
    rows: tuple[tuple[Any, ...], ...]  # time, time_end, provider, account, *dims, *metrics, final

    @property
    def key(self) -> tuple[str, ...]:
        return ("time", *self.dims, "provider", "account")

    @property
    def columns(self) -> tuple[str, ...]:
        return ("time", "time_end", "provider", "account", *self.dims, *self.metrics, "final")

    def column_rows(self) -> list[tuple[str, str, str | None]]:
        """(column, role, unit) for the ``querylang_columns`` table."""
        out: list[tuple[str, str, str | None]] = [
            ("time", "time", "UTC bucket start"),
            ("time_end", "time", "UTC bucket end (exclusive)"),
            ("provider", "dimension", None),
            ("account", "dimension", None),
        ]
        out += [(d, "dimension", None) for d in self.dims]
        out += [(m, "metric", u) for m, u in zip(self.metrics, self.units, strict=True)]
        out += [("final", "flag", "true: the vendor will not revise this bucket")]
        out += [("synced_at", "time", "UTC time of the sync that wrote the row")]
        return out


@frozen(kw_only=True)
class SyncReport:
    target: str
    table: str
    rows: int
    provisional: int
    total: int


def _check_name(name: str, what: str) -> str:
    if not _NAME.match(name):
        raise SyncError(
            "E521",
            f"{what} {name!r} cannot be a table or column name",
            hint="use letters, digits and underscores, starting with a letter (e.g. --table "
            "daily_egress)",
        )
    return name


def table_of(result: Any, *, name: str) -> Table:
    """A query result as rows of the sync table."""
    from querylang.federation import CrossPlan
    from querylang.store import account_of, final_before

    plan = result.plan
    sandbox = _sandboxed(plan)
    # (provider tag, account tag) → the account the rows are stored under
    accounts: dict[tuple[str, str], str] = {}
    if isinstance(plan, CrossPlan):
        for leg, step in zip(plan.legs, plan.leg_steps, strict=True):
            tag = getattr(step, "account", "") or step.provider.partition(".")[0]
            accounts[(step.provider, tag)] = account_of(leg, sandbox)
        cutoff = min(final_before(leg) for leg in plan.legs)
    else:
        tag = getattr(plan.bound, "account", "") or plan.bound.provider.name
        accounts[(plan.bound.source_label, tag)] = account_of(plan, sandbox)
        cutoff = final_before(plan)
    tags = ("provider", "account")
    dims = tuple(c.name for c in result.columns if c.role == "dimension" and c.name not in tags)
    metric_cols = [c for c in result.columns if c.role == "metric"]
    for column in (*dims, *(c.name for c in metric_cols)):
        _check_name(column, "the column")
    reserved = {"time", "time_end", "provider", "account", "final", "synced_at"}
    clash = reserved & {*dims, *(c.name for c in metric_cols)}
    if clash:
        raise SyncError(
            "E521",
            f"the query's column {sorted(clash)[0]!r} clashes with a column sync adds",
            hint="rename it with AS",
        )
    frame = result.frame
    bound = plan.bound
    every = bound.every
    n = len(frame)
    provider_col = frame.dims.get("provider")
    account_col = frame.dims.get("account")
    joined = " + ".join(dict.fromkeys(accounts.values()))
    by_provider: dict[str, list[str]] = {}
    for (label, _), stored in accounts.items():
        by_provider.setdefault(label, []).append(stored)
    rows = []
    times = frame.time.tolist()
    dim_lists = [["" if v is None else str(v) for v in frame.dims[d].tolist()] for d in dims]
    metric_lists = [frame.metrics[c.name].tolist() for c in metric_cols]
    for i in range(n):
        start = times[i]
        end = every.add(start) if every is not None else bound.window.end
        provider = str(provider_col[i]) if provider_col is not None else bound.source_label
        if account_col is not None:
            tag = str(account_col[i])
            found = [
                (label, stored)
                for (label, t), stored in accounts.items()
                if t == tag and (provider_col is None or label == provider)
            ]
            if provider_col is None and found:  # the providers behind this account's rows
                provider = " + ".join(dict.fromkeys(label for label, _ in found))
            account = " + ".join(dict.fromkeys(stored for _, stored in found)) or tag
        elif provider_col is not None:
            account = " + ".join(dict.fromkeys(by_provider.get(provider, [provider])))
        else:
            account = joined
        values = [None if math.isnan(col[i]) else col[i] for col in metric_lists]
        rows.append(
            (
                start,
                end,
                provider,
                account,
                *(col[i] for col in dim_lists),
                *values,
                end <= cutoff,
            )
        )
    return Table(
        name=_check_name(name, "the table"),
        dims=dims,
        metrics=tuple(c.name for c in metric_cols),
        units=tuple(c.unit for c in metric_cols),
        rows=tuple(rows),
    )


def _sandboxed(plan: Any) -> bool:
    legs = getattr(plan, "legs", (plan,))
    return all(set(leg.context.credentials.values()) <= {"sandbox"} for leg in legs) and any(
        leg.context.credentials for leg in legs
    )


# -- targets ---------------------------------------------------------------------------------


def target_of(text: str | None) -> tuple[str, str]:
    """``(kind, where)``: duckdb / parquet / postgresql, and the path or DSN."""
    if not text:
        return "duckdb", "usage.duckdb"
    if text.startswith(("postgresql://", "postgres://")):
        return "postgresql", text
    for prefix in ("duckdb:", "parquet:"):
        if text.startswith(prefix):
            where = text[len(prefix) :]
            if not where:
                raise SyncError("E521", f"--to {text!r} names no path", hint=f"e.g. {prefix}usage")
            return prefix[:-1], where
    if text.endswith((".duckdb", ".db")):
        return "duckdb", text
    raise SyncError(
        "E521",
        f"--to {text!r} is not a sync target",
        hint="use a DuckDB file (usage.duckdb or duckdb:PATH), parquet:DIR, or a "
        "postgresql://user@host:port/db URL",
    )


def describe_target(kind: str, where: str) -> str:
    """The target for messages: a PostgreSQL URL without its password."""
    if kind != "postgresql":
        return f"{kind} {where}"
    parts = urlsplit(where)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    if parts.username:
        host = f"{parts.username}@{host}"
    return f"postgresql://{urlunsplit(('', host, parts.path, '', ''))[2:]}"


def _need(module: str, extra: str, target: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise SyncError(
            "E522",
            f"sync to {target} needs the Python package {module.split('.')[0]!r}, which is not "
            "installed",
            hint=f"pip install 'querylang[{extra}]'",
        ) from None


def sync_results(
    tables: Sequence[Table], target: str | None, *, now: dt.datetime | None = None
) -> list[SyncReport]:
    """Merge each table into the target; one report per table."""
    kind, where = target_of(target)
    synced_at = now or dt.datetime.now(dt.UTC)
    if kind == "duckdb":
        return _to_duckdb(tables, where, synced_at)
    if kind == "parquet":
        return [_to_parquet(t, where, synced_at) for t in tables]
    return _to_postgresql(tables, where, synced_at)


def _ts(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def _q(name: str) -> str:
    return f'"{name}"'


def _arrow(table: Table, synced_at: dt.datetime) -> Any:
    pa = _need("pyarrow", "sync", "DuckDB or Parquet")
    ts = pa.timestamp("us", tz="UTC")
    cols = list(zip(*table.rows, strict=True)) if table.rows else [()] * len(table.columns)
    arrays: dict[str, Any] = {
        "time": pa.array([_ts(t) for t in cols[0]], type=ts),
        "time_end": pa.array([_ts(t) for t in cols[1]], type=ts),
        "provider": pa.array(cols[2], type=pa.string()),
        "account": pa.array(cols[3], type=pa.string()),
    }
    at = 4
    for d in table.dims:
        arrays[d] = pa.array(cols[at], type=pa.string())
        at += 1
    for m in table.metrics:
        arrays[m] = pa.array(cols[at], type=pa.float64())
        at += 1
    arrays["final"] = pa.array(cols[at], type=pa.bool_())
    arrays["synced_at"] = pa.array([synced_at] * len(table.rows), type=ts)
    return pa.table(arrays)


def _create_sql(table: Table, *, text: str, real: str, ts: str, flag: str) -> str:
    cols = [f"{_q('time')} {ts} NOT NULL", f"{_q('time_end')} {ts} NOT NULL"]
    cols += [f"{_q('provider')} {text} NOT NULL", f"{_q('account')} {text} NOT NULL"]
    cols += [f"{_q(d)} {text} NOT NULL" for d in table.dims]
    cols += [f"{_q(m)} {real}" for m in table.metrics]
    cols += [f"{_q('final')} {flag} NOT NULL", f"{_q('synced_at')} {ts} NOT NULL"]
    key = ", ".join(_q(k) for k in table.key)
    return f"CREATE TABLE IF NOT EXISTS {_q(table.name)} ({', '.join(cols)}, PRIMARY KEY ({key}))"


def _check_columns(table: Table, existing: Sequence[str], where: str) -> None:
    wanted = [*table.columns, "synced_at"]
    if list(existing) != wanted:
        raise SyncError(
            "E521",
            f"the table {table.name!r} in {where} has the columns {', '.join(existing)}, but "
            f"this query gives {', '.join(wanted)}",
            hint="sync this query into a table of its own with --table NAME, or drop the old table",
        )


def _series_columns(table: Table) -> tuple[str, ...]:
    """What tells one series of the table from another: provider, account, dimensions."""
    return ("provider", "account", *table.dims)


def _bounds(table: Table) -> tuple[int, int]:
    """The earliest start and the latest end of the incoming buckets (seconds)."""
    return min(r[0] for r in table.rows), max(r[1] for r in table.rows)


def _check_overlap(table: Table, existing: Sequence[Sequence[Any]], where: str) -> None:
    """Refuse (E521) an incoming bucket that overlaps a stored bucket of the same series
    without being that bucket: a table holds one grid of buckets. Merging on the key
    would otherwise replace an hour's row with a day's total that starts at the same
    instant, or keep both, and a sum over the table would count the same bytes twice.

    ``existing``: rows of (time, time_end, provider, account, *dims), times as seconds.
    """
    import bisect

    spans: dict[tuple[Any, ...], list[tuple[int, int]]] = {}
    for start, end, *key in existing:
        spans.setdefault(tuple(key), []).append((start, end))
    for found in spans.values():
        found.sort()  # a table's buckets of one series do not overlap: sorted by start and end
    width = 2 + len(_series_columns(table))
    for row in table.rows:
        bucket = (row[0], row[1])
        stored = spans.get(tuple(row[2:width]))
        if not stored:
            continue
        at = bisect.bisect_left(stored, bucket)
        for old in stored[max(at - 1, 0) : at + 2]:  # only these neighbours can overlap it
            if old != bucket and old[0] < bucket[1] and bucket[0] < old[1]:
                named = zip(_series_columns(table), row[2:width], strict=True)
                series = ", ".join(f"{c} {v!r}" for c, v in named)
                raise SyncError(
                    "E521",
                    f"the table {table.name!r} in {where} holds the bucket "
                    f"[{format_ts(old[0])}, {format_ts(old[1])}) of the series {series}, "
                    f"which this query's bucket [{format_ts(bucket[0])}, {format_ts(bucket[1])}) "
                    "overlaps: a table holds one grid of buckets (its rows would count the "
                    "same usage twice)",
                    hint="sync this query into a table of its own with --table NAME (e.g. one "
                    "per EVERY), or drop the old table",
                )


def _stored_spans(db: Any, table: Table, placeholder: str) -> list[tuple[Any, ...]]:
    """The stored buckets (as seconds) that could overlap the incoming ones, with their series."""
    if not table.rows:
        return []
    names = ", ".join(_q(c) for c in ("time", "time_end", *_series_columns(table)))
    first, last = _bounds(table)
    found = db.execute(
        f"SELECT {names} FROM {_q(table.name)} "
        f"WHERE {_q('time')} < {placeholder} AND {_q('time_end')} > {placeholder}",
        [_ts(last), _ts(first)],
    ).fetchall()
    return [(int(r[0].timestamp()), int(r[1].timestamp()), *r[2:]) for r in found]


def _to_duckdb(tables: Sequence[Table], path: str, synced_at: dt.datetime) -> list[SyncReport]:
    duckdb = _need("duckdb", "sync", "DuckDB")
    where = describe_target("duckdb", path)
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = duckdb.connect(path)
    except (OSError, duckdb.Error) as exc:
        raise SyncError(
            "E523",
            f"cannot open the DuckDB file {path} ({exc})",
            hint="check the path; a DuckDB file takes one writing process at a time",
        ) from None
    reports = []
    try:
        for table in tables:
            data = _arrow(table, synced_at)
            db.execute("BEGIN TRANSACTION")
            db.execute(
                _create_sql(table, text="VARCHAR", real="DOUBLE", ts="TIMESTAMPTZ", flag="BOOLEAN")
            )
            existing = [
                r[0]
                for r in db.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                    "ORDER BY ordinal_position",
                    [table.name],
                ).fetchall()
            ]
            _check_columns(table, existing, where)
            _check_overlap(table, _stored_spans(db, table, "?"), where)
            db.register("querylang_incoming", data)
            db.execute(f"INSERT OR REPLACE INTO {_q(table.name)} SELECT * FROM querylang_incoming")
            db.unregister("querylang_incoming")
            _columns_table(db, table, "VARCHAR", placeholder="?")
            (total,) = db.execute(f"SELECT count(*) FROM {_q(table.name)}").fetchone()
            db.execute("COMMIT")
            reports.append(
                SyncReport(
                    target=where,
                    table=table.name,
                    rows=len(table.rows),
                    provisional=sum(1 for r in table.rows if not r[-1]),
                    total=total,
                )
            )
    except SyncError:
        db.execute("ROLLBACK")
        raise
    except duckdb.Error as exc:
        raise SyncError("E523", f"writing to {where} failed ({exc})") from None
    finally:
        db.close()
    return reports


def _columns_table(db: Any, table: Table, text: str, *, placeholder: str) -> None:
    p = placeholder
    db.execute(
        f"CREATE TABLE IF NOT EXISTS querylang_columns (table_name {text} NOT NULL, "
        f"column_name {text} NOT NULL, role {text} NOT NULL, unit {text}, "
        "PRIMARY KEY (table_name, column_name))"
    )
    db.execute(f"DELETE FROM querylang_columns WHERE table_name = {p}", [table.name])
    for column, role, unit in table.column_rows():
        db.execute(
            f"INSERT INTO querylang_columns VALUES ({p}, {p}, {p}, {p})",
            [table.name, column, role, unit],
        )


def _to_parquet(table: Table, folder: str, synced_at: dt.datetime) -> SyncReport:
    """One file per UTC day: DIR/TABLE/day=YYYY-MM-DD/part.parquet, each rewritten whole."""
    pa = _need("pyarrow", "sync", "Parquet")
    pq = _need("pyarrow.parquet", "sync", "Parquet")
    pc = _need("pyarrow.compute", "sync", "Parquet")
    root = Path(folder) / table.name
    incoming = _arrow(table, synced_at)
    days = sorted({t - t % 86400 for t in (r[0] for r in table.rows)})
    try:
        root.mkdir(parents=True, exist_ok=True)
        _check_overlap(table, _parquet_spans(pq, table, root), f"parquet {root}")
        for day in days:
            label = format_ts(day)[:10]
            start = pa.scalar(_ts(day), type=pa.timestamp("us", tz="UTC"))
            end = pa.scalar(_ts(day + 86400), type=pa.timestamp("us", tz="UTC"))
            mask = pc.and_(
                pc.greater_equal(incoming["time"], start), pc.less(incoming["time"], end)
            )
            new = incoming.filter(mask)
            part = root / f"day={label}" / "part.parquet"
            if part.exists():
                old = pq.read_table(part)
                if old.schema.names != new.schema.names:
                    _check_columns(table, old.schema.names, f"parquet {root}")
                keys = set(zip(*(new[k].to_pylist() for k in table.key), strict=True))
                old_keys = zip(*(old[k].to_pylist() for k in table.key), strict=True)
                keep = pa.array([k not in keys for k in old_keys], type=pa.bool_())
                new = pa.concat_tables([old.filter(keep).cast(new.schema), new])
            order = [(k, "ascending") for k in table.key]
            new = new.sort_by(order)
            part.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=part.parent, suffix=".tmp")
            os.close(fd)
            pq.write_table(new, tmp)
            os.replace(tmp, part)  # readers see the old file or the new one, never half
        (root / "_columns.json").write_text(
            __import__("json").dumps(
                [{"column": c, "role": r, "unit": u} for c, r, u in table.column_rows()],
                indent=2,
            )
            + "\n"
        )
        total = sum(pq.read_metadata(p).num_rows for p in root.glob("day=*/part.parquet"))
    except OSError as exc:
        raise SyncError("E523", f"writing Parquet files under {root} failed ({exc})") from None
    return SyncReport(
        target=f"parquet {root}",
        table=table.name,
        rows=len(table.rows),
        provisional=sum(1 for r in table.rows if not r[-1]),
        total=total,
    )


def _parquet_spans(pq: Any, table: Table, root: Path) -> list[tuple[Any, ...]]:
    """The stored buckets (as seconds) of every day file that could overlap the incoming
    ones (a bucket is filed under the day it starts, so those up to the last end)."""
    if not table.rows:
        return []
    first, last = _bounds(table)
    last_day = format_ts(last)[:10]
    spans: list[tuple[Any, ...]] = []
    columns = ["time", "time_end", *_series_columns(table)]
    for part in sorted(root.glob("day=*/part.parquet")):
        if part.parent.name.removeprefix("day=") > last_day:
            continue  # starts after the last incoming bucket ends
        if not set(columns) <= set(pq.read_schema(part).names):
            continue  # other columns: _check_columns refuses the table when it reaches it
        old = pq.read_table(part, columns=columns)
        for start, end, *series in zip(*(old[c].to_pylist() for c in columns), strict=True):
            begins, ends = int(start.timestamp()), int(end.timestamp())
            if begins < last and ends > first:
                spans.append((begins, ends, *series))
    return spans


def _to_postgresql(tables: Sequence[Table], dsn: str, synced_at: dt.datetime) -> list[SyncReport]:
    psycopg = _need("psycopg", "postgres", "PostgreSQL")
    where = describe_target("postgresql", dsn)
    try:
        conn = psycopg.connect(dsn, connect_timeout=10)
    except psycopg.Error as exc:
        raise SyncError(
            "E523",
            f"cannot connect to {where} ({_pg_reason(exc, dsn)})",
            hint="check the server is running and the URL's host, port, user and database "
            "(a password goes in PGPASSWORD or ~/.pgpass rather than the URL)",
        ) from None
    reports = []
    try:
        with conn:
            for table in tables:
                with conn.transaction():
                    conn.execute(
                        _create_sql(
                            table,
                            text="TEXT",
                            real="DOUBLE PRECISION",
                            ts="TIMESTAMPTZ",
                            flag="BOOLEAN",
                        )
                    )
                    existing = [
                        r[0]
                        for r in conn.execute(
                            "SELECT column_name FROM information_schema.columns "
                            "WHERE table_name = %s AND table_schema = current_schema() "
                            "ORDER BY ordinal_position",
                            [table.name],
                        ).fetchall()
                    ]
                    _check_columns(table, existing, where)
                    _check_overlap(table, _stored_spans(conn, table, "%s"), where)
                    cols = [*table.columns, "synced_at"]
                    names = ", ".join(_q(c) for c in cols)
                    conn.execute(
                        f"CREATE TEMP TABLE querylang_incoming (LIKE {_q(table.name)}) "
                        "ON COMMIT DROP"
                    )
                    with conn.cursor().copy(f"COPY querylang_incoming ({names}) FROM STDIN") as cp:
                        for row in table.rows:
                            cp.write_row((_ts(row[0]), _ts(row[1]), *row[2:], synced_at))
                    key = ", ".join(_q(k) for k in table.key)
                    update = ", ".join(
                        f"{_q(c)} = EXCLUDED.{_q(c)}" for c in cols if c not in table.key
                    )
                    conn.execute(
                        f"INSERT INTO {_q(table.name)} ({names}) SELECT {names} FROM "
                        f"querylang_incoming ON CONFLICT ({key}) DO UPDATE SET {update}"
                    )
                    _columns_table(conn, table, "TEXT", placeholder="%s")
                    total = conn.execute(f"SELECT count(*) FROM {_q(table.name)}").fetchone()[0]
                reports.append(
                    SyncReport(
                        target=where,
                        table=table.name,
                        rows=len(table.rows),
                        provisional=sum(1 for r in table.rows if not r[-1]),
                        total=total,
                    )
                )
    except psycopg.Error as exc:
        raise SyncError("E523", f"writing to {where} failed ({_pg_reason(exc, dsn)})") from None
    finally:
        conn.close()
    return reports


def _pg_reason(exc: BaseException, dsn: str) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    password = urlsplit(dsn).password
    if password:
        text = text.replace(password, "***")
    return text
