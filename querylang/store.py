"""The result store: decoded native buckets kept on disk, so a final bucket is fetched once.

What is kept is each piece's frame after its piece steps (on the native grid, inside its
window, left-out zeros filled): one *series* per (account, endpoint, settings, provider,
dataset, native granularity, metric, native filters, native grouping), and in it one row
per (bucket time, dimension values). Alongside, the buckets each series *covers*: a
bucket the vendor answered with no rows is known to be empty, not unknown. Only complete
buckets are written (``final_before``); provisional ones are always fetched again.

The store is SQLite in WAL mode (see docs/reference.md "Result store" for the
measurement against DuckDB): each write is one transaction, so two processes writing at
once serialise on SQLite's lock and lose nothing, and a writer killed mid-transaction
leaves the previous state readable. Credentials are never part of a key or a value: a
key holds the account name, the base URL without user info or query, the provider's
non-secret settings and a one-way fingerprint of the credentials
(``ProviderContext.identity``), so that switching ``FASTLY_API_TOKEN`` to another
account's token never answers from the first account's buckets.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from attrs import evolve, field, frozen

from querylang.cachedir import CACHE_DIR_ENV, cache_dir
from querylang.errors import QuerylangError
from querylang.frames import Frame
from querylang.planning import Piece, Plan
from querylang.timegrid import Granularity, TimeWindow, format_ts
from querylang.wire import Filter, NativeQuery, Unsupported

__all__ = [
    "CACHE_DIR_ENV",
    "CACHE_MAX_ENV",
    "SeriesKey",
    "Store",
    "StoreError",
    "StoreUse",
    "cache_enabled",
    "default_path",
    "fetch_windows",
    "final_before",
    "save_answers",
    "use_store",
]

CACHE_MAX_ENV = "QUERYLANG_CACHE_MAX_MB"
DEFAULT_MAX_MB = 1024
FILE_NAME = "results.sqlite3"
SCHEMA_VERSION = 1


class StoreError(QuerylangError):
    """The result store cannot be opened, read or written."""

    exit_code = 1
    code = "E520"


def default_path(env: Mapping[str, str] | None = None) -> Path:
    """The store file: ``$QUERYLANG_CACHE_DIR`` or the user cache directory."""
    return cache_dir(env) / FILE_NAME


def cache_enabled(env: Mapping[str, str] | None = None) -> bool:
    """The store is on unless ``QUERYLANG_CACHE`` is ``off`` / ``0`` / ``no``."""
    env = os.environ if env is None else env
    return env.get("QUERYLANG_CACHE", "").strip().lower() not in ("off", "0", "no", "false")


def _max_bytes(env: Mapping[str, str]) -> int:
    text = env.get(CACHE_MAX_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_MB * 1024 * 1024
    try:
        value = float(text)
    except ValueError:
        raise StoreError(
            f"{CACHE_MAX_ENV}={text!r} is not a number of megabytes",
            hint=f"set e.g. {CACHE_MAX_ENV}=512, or unset it for the default {DEFAULT_MAX_MB}",
        ) from None
    return max(int(value * 1024 * 1024), 0)


@frozen(kw_only=True)
class SeriesKey:
    """What one stored series answers. Never holds a credential."""

    account: str
    endpoint: str
    settings: str  # canonical JSON of the non-secret settings and the credentials' fingerprint
    provider: str
    dataset: str
    grain: str
    metric: str
    filters: str  # canonical JSON of the native filters
    group_by: str  # JSON list of the native grouping dimensions

    def as_row(self) -> tuple[str, ...]:
        return (
            self.account,
            self.endpoint,
            self.settings,
            self.provider,
            self.dataset,
            self.grain,
            self.metric,
            self.filters,
            self.group_by,
        )


def _endpoint(base_url: str) -> str:
    """The base URL without user info, query or fragment: never a secret."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def _value_key(v: str | int) -> tuple[str, str]:
    return (type(v).__name__, str(v))


def _filters_json(filters: Sequence[Filter]) -> str:
    items = sorted((f.dimension, f.op, sorted(f.values, key=_value_key)) for f in filters)
    return json.dumps(items, separators=(",", ":"))


def account_of(plan: Plan, sandbox: bool) -> str:
    """The account a plan's answers belong to: the connection's name, else the provider's.

    Emulator answers are kept apart from real ones: ``sandbox`` (``sandbox:NAME`` for a
    named connection, which the sandbox serves with data of its own).
    """
    bound = plan.bound
    named = getattr(bound, "account", "") or bound.provider.name
    if sandbox:
        return "sandbox" if getattr(bound, "connection", None) is None else f"sandbox:{named}"
    return named


_KNOWN_NATIVE = {"dataset", "metrics", "group_by", "filters", "granularity", "window"}


def _native_extras(native: NativeQuery) -> str:
    """Any other field of the native query (a later addition, e.g. a time zone): in the key."""
    import attrs

    extras = {
        f.name: repr(getattr(native, f.name))
        for f in attrs.fields(type(native))
        if f.name not in _KNOWN_NATIVE
    }
    return json.dumps(extras, sort_keys=True, separators=(",", ":")) if extras else ""


def series_keys(plan: Plan, native: NativeQuery, account: str) -> dict[str, SeriesKey]:
    """One key per fetched metric, for one piece's native query (its window aside)."""
    items: list[Any] = sorted(plan.context.settings.items())
    if plan.context.identity:  # whose credentials: another token is another account's data
        items.append(["credentials", plan.context.identity])
    settings = json.dumps(items, separators=(",", ":"))
    secrets = {v for v in plan.context.credentials.values() if v}
    for secret in secrets:  # a setting echoing a secret would leak it into the key
        settings = settings.replace(secret, "***") if len(secret) >= 4 else settings
    filters = _filters_json(native.filters) + _native_extras(native)
    return {
        m: SeriesKey(
            account=account,
            endpoint=_endpoint(plan.context.base_url),
            settings=settings,
            provider=plan.bound.provider.name,
            dataset=plan.bound.dataset.name,
            grain=str(plan.grain),
            metric=m,
            filters=filters,
            group_by=json.dumps(list(plan.group_by)),
        )
        for m in plan.fetch
    }


def final_before(plan: Plan) -> int:
    """Native buckets ending at or before this time are final: the vendor will not revise them.

    The delay is the dataset's for the plan's native grain (``querylang.finality``).
    """
    from querylang.finality import final_after

    return plan.bound.now - final_after(plan.bound.dataset, plan.grain)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS series(
    id INTEGER PRIMARY KEY,
    account TEXT NOT NULL, endpoint TEXT NOT NULL, settings TEXT NOT NULL,
    provider TEXT NOT NULL, dataset TEXT NOT NULL, grain TEXT NOT NULL,
    metric TEXT NOT NULL, filters TEXT NOT NULL, group_by TEXT NOT NULL,
    used REAL NOT NULL,
    UNIQUE(account, endpoint, settings, provider, dataset, grain, metric, filters, group_by)
);
CREATE TABLE IF NOT EXISTS buckets(
    series INTEGER NOT NULL, time INTEGER NOT NULL, PRIMARY KEY(series, time)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS points(
    series INTEGER NOT NULL, time INTEGER NOT NULL, dims TEXT NOT NULL, value REAL,
    PRIMARY KEY(series, time, dims)
) WITHOUT ROWID;
"""


class Store:
    """One SQLite file of stored buckets; safe to share between processes."""

    def __init__(self, path: str | os.PathLike[str], *, max_bytes: int | None = None) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes if max_bytes is not None else _max_bytes(os.environ)
        self._db: sqlite3.Connection | None = None

    @classmethod
    def default(cls, env: Mapping[str, str] | None = None) -> Store:
        env = os.environ if env is None else env
        return cls(default_path(env), max_bytes=_max_bytes(env))

    # -- connection ---------------------------------------------------------------------
    def _fail(self, exc: BaseException, doing: str) -> StoreError:
        return StoreError(
            f"the result store {self.path} could not be {doing} ({exc})",
            hint="run `querylang cache clear` to start it afresh, run with --no-cache, or point "
            f"{CACHE_DIR_ENV} at a writable folder",
        )

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            # Two processes creating the file at once can meet SQLITE_BUSY where SQLite's
            # busy handler does not wait (switching to WAL): try again for a while.
            deadline = time.monotonic() + 60.0
            while True:
                try:
                    self._db = self._open()
                    break
                except sqlite3.OperationalError as exc:
                    locked = "locked" in str(exc) or "busy" in str(exc)
                    if not locked or time.monotonic() > deadline:
                        raise self._fail(exc, "opened") from None
                    time.sleep(0.05)
                except (sqlite3.Error, OSError) as exc:
                    raise self._fail(exc, "opened") from None
        return self._db

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout=60000")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            with _transaction(db, immediate=True):
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
                )
            version = db.execute("SELECT value FROM meta WHERE name='schema'").fetchone()
            if version is None or version[0] != str(SCHEMA_VERSION):
                raise sqlite3.DatabaseError(f"unknown store schema {version}")
        except BaseException:
            db.close()
            raise
        return db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ids(self, keys: Iterable[SeriesKey], create: bool) -> dict[SeriesKey, int]:
        out: dict[SeriesKey, int] = {}
        for key in keys:
            row = self.db.execute(
                "SELECT id FROM series WHERE account=? AND endpoint=? AND settings=? AND "
                "provider=? AND dataset=? AND grain=? AND metric=? AND filters=? AND group_by=?",
                key.as_row(),
            ).fetchone()
            if row is None and create:
                cur = self.db.execute(
                    "INSERT INTO series(account, endpoint, settings, provider, dataset, grain, "
                    "metric, filters, group_by, used) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (*key.as_row(), time.time()),
                )
                row = (cur.lastrowid,)
            if row is not None:
                out[key] = int(row[0])
        return out

    # -- reading ------------------------------------------------------------------------
    def covered(self, keys: Sequence[SeriesKey], start: int, end: int) -> set[int]:
        """The bucket starts in [start, end) that every one of ``keys`` holds."""
        try:
            ids = self._ids(keys, create=False)
            if len(ids) < len(keys) or not keys:
                return set()
            common: set[int] | None = None
            for sid in ids.values():
                rows = self.db.execute(
                    "SELECT time FROM buckets WHERE series=? AND time>=? AND time<?",
                    (sid, start, end),
                ).fetchall()
                times = {r[0] for r in rows}
                common = times if common is None else common & times
                if not common:
                    return set()
            return common or set()
        except sqlite3.Error as exc:
            raise self._fail(exc, "read") from None

    def load(
        self, keys: Mapping[str, SeriesKey], dims: Sequence[str], times: Sequence[int]
    ) -> Frame:
        """The stored rows of ``times`` as one frame: ``dims``, then one column per metric."""
        import numpy as np

        metrics = list(keys)
        if not times:
            return Frame.empty(dims, metrics)
        wanted = set(times)
        lo, hi = min(times), max(times)
        index: dict[tuple[int, str], int] = {}  # (time, dims) → row
        columns: list[list[float]] = [[] for _ in metrics]
        try:
            ids = self._ids(keys.values(), create=False)
            for m, metric in enumerate(metrics):
                sid = ids.get(keys[metric])
                if sid is None:
                    continue
                for t, d, v in self.db.execute(
                    "SELECT time, dims, value FROM points WHERE series=? AND time>=? AND time<=?",
                    (sid, lo, hi),
                ):
                    if t not in wanted:
                        continue
                    row = index.setdefault((t, d), len(index))
                    if row == len(columns[m]):
                        columns[m].append(math.nan if v is None else v)
                        continue
                    for col in columns:  # a row this metric is the first to have
                        col.extend([math.nan] * (row + 1 - len(col)))
                    columns[m][row] = math.nan if v is None else v
            self._touch(list(ids.values()))
        except sqlite3.Error as exc:
            raise self._fail(exc, "read") from None
        n = len(index)
        for col in columns:
            col.extend([math.nan] * (n - len(col)))
        decoded: dict[str, list[Any]] = {}
        dim_rows = [decoded.get(d) or decoded.setdefault(d, json.loads(d)) for _, d in index]
        frame = Frame(
            np.fromiter((t for t, _ in index), dtype=np.int64, count=n),
            {
                name: np.array([r[i] for r in dim_rows] if n else [], dtype=object)
                for i, name in enumerate(dims)
            },
            {
                metric: np.array(col, dtype=np.float64)
                for metric, col in zip(metrics, columns, strict=True)
            },
        )
        return frame

    def _touch(self, sids: Sequence[int]) -> None:
        """Mark series as used (for least-recently-used trimming), at most once an hour."""
        now = time.time()
        marks = ",".join("?" * len(sids))
        stale = [
            r[0]
            for r in self.db.execute(
                f"SELECT id FROM series WHERE id IN ({marks}) AND used < ?", (*sids, now - 3600)
            )
        ]
        if stale:
            with _transaction(self.db, immediate=True):
                self.db.executemany(
                    "UPDATE series SET used=? WHERE id=?", [(now, i) for i in stale]
                )

    # -- writing ------------------------------------------------------------------------
    def save(self, keys: Mapping[str, SeriesKey], frame: Frame, buckets: Sequence[int]) -> None:
        """Store ``frame``'s rows of ``buckets`` (and that those buckets are now known)."""
        if not buckets:
            return
        import numpy as np

        chosen = set(buckets)
        times = np.asarray(frame.time)
        rows = np.flatnonzero(np.isin(times, np.fromiter(chosen, dtype=times.dtype)))
        at = times[rows].tolist()
        labels = _row_labels(frame, rows)
        values: dict[str, list[float | None]] = {}
        for metric in keys:
            column = frame.metrics.get(metric)
            if column is None:
                values[metric] = [None] * len(rows)
            else:
                picked = np.asarray(column, dtype=np.float64)[rows]
                values[metric] = [None if v != v else v for v in picked.tolist()]  # NaN: NULL
        try:
            with _transaction(self.db, immediate=True):
                ids = self._ids(keys.values(), create=True)
                for metric, key in keys.items():
                    sid = ids[key]
                    self.db.executemany(
                        "DELETE FROM points WHERE series=? AND time=?",
                        [(sid, b) for b in chosen],
                    )
                    self.db.executemany(
                        "INSERT OR REPLACE INTO points VALUES (?,?,?,?)",
                        zip(itertools.repeat(sid), at, labels, values[metric], strict=False),
                    )
                    self.db.executemany(
                        "INSERT OR IGNORE INTO buckets VALUES (?,?)", [(sid, b) for b in chosen]
                    )
                    self.db.execute("UPDATE series SET used=? WHERE id=?", (time.time(), sid))
        except sqlite3.Error as exc:
            raise self._fail(exc, "written") from None
        self._trim()

    def forget(self, keys: Iterable[SeriesKey], start: int, end: int) -> None:
        """Drop the stored buckets of ``keys`` in [start, end) (``--refresh``)."""
        try:
            with _transaction(self.db, immediate=True):
                for sid in self._ids(keys, create=False).values():
                    self.db.execute(
                        "DELETE FROM buckets WHERE series=? AND time>=? AND time<?",
                        (sid, start, end),
                    )
                    self.db.execute(
                        "DELETE FROM points WHERE series=? AND time>=? AND time<?",
                        (sid, start, end),
                    )
        except sqlite3.Error as exc:
            raise self._fail(exc, "written") from None

    # -- size ---------------------------------------------------------------------------
    def size(self) -> int:
        """Bytes on disk: the database and its write-ahead log."""
        total = 0
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                total += (self.path.parent / (self.path.name + suffix)).stat().st_size
        return total

    def _used_bytes(self) -> int:
        pages = self.db.execute("PRAGMA page_count").fetchone()[0]
        free = self.db.execute("PRAGMA freelist_count").fetchone()[0]
        size = self.db.execute("PRAGMA page_size").fetchone()[0]
        return int((pages - free) * size)

    def _trim(self) -> None:
        """Over the size limit: drop the least recently used series until under 90 %."""
        if not self.max_bytes:
            return
        try:
            if self._used_bytes() <= self.max_bytes:
                return
            with _transaction(self.db, immediate=True):
                for (sid,) in self.db.execute("SELECT id FROM series ORDER BY used").fetchall():
                    self._drop(sid)
                    if self._used_bytes() <= self.max_bytes * 0.9:
                        break
        except sqlite3.Error as exc:
            raise self._fail(exc, "written") from None

    def _drop(self, sid: int) -> None:
        self.db.execute("DELETE FROM points WHERE series=?", (sid,))
        self.db.execute("DELETE FROM buckets WHERE series=?", (sid,))
        self.db.execute("DELETE FROM series WHERE id=?", (sid,))

    def info(self) -> dict[str, Any]:
        """What ``querylang cache info`` prints."""
        out: dict[str, Any] = {
            "path": str(self.path),
            "exists": self.path.exists(),
            "bytes": self.size(),
            "max_bytes": self.max_bytes,
            "providers": [],
        }
        if not self.path.exists():
            return out
        try:
            rows = self.db.execute(
                "SELECT s.provider, s.account, count(DISTINCT s.id), count(DISTINCT b.time), "
                "min(b.time), max(b.time) FROM series s LEFT JOIN buckets b ON b.series=s.id "
                "GROUP BY s.provider, s.account ORDER BY s.provider, s.account"
            ).fetchall()
        except sqlite3.Error as exc:
            raise self._fail(exc, "read") from None
        out["providers"] = [
            {
                "provider": p,
                "account": a,
                "series": n,
                "buckets": b,
                "from": format_ts(lo) if lo is not None else None,
                "to": format_ts(hi) if hi is not None else None,
            }
            for p, a, n, b, lo, hi in rows
        ]
        return out

    def clear(self, provider: str | None = None) -> int:
        """Forget everything (or one provider's series); the number of series dropped."""
        if not self.path.exists():
            return 0
        if provider is None:
            try:
                self.db  # noqa: B018 - opening it is the check
            except StoreError:
                return self._remove()  # not a store any more (damaged, foreign): start afresh
        try:
            with _transaction(self.db, immediate=True):
                query = "SELECT id FROM series" + (" WHERE provider=?" if provider else "")
                ids = [r[0] for r in self.db.execute(query, (provider,) if provider else ())]
                for sid in ids:
                    self._drop(sid)
            self.db.execute("VACUUM")
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            raise self._fail(exc, "cleared") from None
        return len(ids)

    def _remove(self) -> int:
        """Delete the store's files outright; 0 series are known to have been dropped."""
        self.close()
        try:
            for suffix in ("", "-wal", "-shm"):
                (self.path.parent / (self.path.name + suffix)).unlink(missing_ok=True)
        except OSError as exc:
            raise self._fail(exc, "cleared") from None
        return 0


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection, *, immediate: bool = False) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _row_labels(frame: Frame, rows: Any) -> list[str]:
    """The JSON list of dimension labels of each of ``rows``: each distinct one encoded once."""
    import numpy as np

    if not frame.dims:
        return ["[]"] * len(rows)
    columns = [frame.dims.column(d) for d in frame.dims]
    codes = np.stack([np.asarray(c.codes)[rows] for c in columns], axis=1)
    combos, inverse = np.unique(codes, axis=0, return_inverse=True)
    tables = [c.labels for c in columns]
    encoded = [
        json.dumps(
            [_plain(t[k]) for t, k in zip(tables, combo, strict=True)], separators=(",", ":")
        )
        for combo in combos.tolist()
    ]
    return [encoded[i] for i in inverse.ravel().tolist()]


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    return value


# -- planning with the store ---------------------------------------------------------------


@frozen(kw_only=True)
class StoreUse:
    """What one plan takes from the store, and what it fetches; explain prints it."""

    grain: Granularity
    buckets: int  # native buckets in the window, per chunk of filters
    stored: int  # of those, answered from the store (summed over chunks)
    chunks: int
    refresh: bool
    final_before: int
    frames: tuple[Frame, ...] = field(eq=False, repr=False)
    account: str = ""

    @property
    def worth_saying(self) -> bool:
        """Whether explain mentions the store: it answers something, or is being renewed."""
        return self.refresh or self.stored > 0

    def describe(self) -> str:
        total = self.buckets * self.chunks
        if self.refresh:
            return (
                f"store: --refresh, all {total} native {self.grain} bucket(s) fetched again; "
                f"the final ones (ending by {format_ts(self.final_before)}) are stored anew"
            )
        return (
            f"store: {self.stored} of {total} native {self.grain} bucket(s) from the store, "
            f"{total - self.stored} fetched; buckets ending by {format_ts(self.final_before)} "
            "are final and kept"
        )

    def to_json(self) -> dict[str, Any]:
        total = self.buckets * self.chunks
        return {
            "account": self.account,
            "native_buckets": total,
            "from_store": self.stored,
            "fetched": total - self.stored,
            "refresh": self.refresh,
            "final_before": format_ts(self.final_before),
        }


def fetch_windows(
    grain: Granularity, missing: Sequence[int], limit: int | None, *, bridge: bool = False
) -> list[TimeWindow]:
    """The windows to fetch: the ``missing`` buckets in the fewest calls of ``limit`` seconds.

    Each gap (a run of consecutive missing buckets) is cut into as few windows as the
    vendor's per-request limit allows, and stored buckets are not fetched again. With
    ``bridge`` (a vendor whose rate limit makes calls the scarce thing) two gaps share one
    call when both fit in one request window, fetching the stored buckets between them
    again rather than spending a call.
    """
    out: list[TimeWindow] = []
    i = 0
    ordered = sorted(missing)
    while i < len(ordered):
        start = ordered[i]
        end = grain.add(start)
        i += 1
        while i < len(ordered):
            if not bridge and ordered[i] != end:
                break
            nxt_end = grain.add(ordered[i])
            if limit is not None and nxt_end - start > limit:
                break
            end = nxt_end
            i += 1
        out.append(TimeWindow(start, end))
    return out


def use_store(plan: Plan, store: Store, *, sandbox: bool, refresh: bool = False) -> Plan:
    """The plan with its requests cut down to the buckets the store does not hold."""
    from querylang.planning import check_budget

    bound = plan.bound
    grain = plan.grain
    window = bound.window
    cutoff = final_before(plan)
    account = account_of(plan, sandbox)
    # One template native query per chunk of filters: new pieces differ only in window.
    templates = {p.native.filters: p.native for p in reversed(plan.pieces)}
    chunks = list(dict.fromkeys(p.native.filters for p in plan.pieces))
    all_buckets = grain.boundaries(window.start, window.end)
    if refresh or not chunks:
        return evolve(
            plan,
            store=StoreUse(
                grain=grain,
                buckets=len(all_buckets),
                stored=0,
                chunks=len(chunks),
                refresh=refresh,
                final_before=cutoff,
                frames=(),
                account=account,
            ),
        )
    spec = bound.dataset.grain(grain)
    limit = spec.max_window if spec is not None else None
    bridge = bool(bound.dataset.rate_limits)  # calls are scarce: spend bytes to save them
    pieces: list[Piece] = []
    frames: list[Frame] = []
    stored = 0
    for filters in chunks:
        keys = series_keys(plan, templates[filters], account)
        have = store.covered(list(keys.values()), window.start, window.end)
        missing = [b for b in all_buckets if b not in have]
        windows = fetch_windows(grain, missing, limit, bridge=bridge) if missing else []
        refetched = {b for w in windows for b in all_buckets if w.start <= b < w.end}
        from_store = [b for b in all_buckets if b in have and b not in refetched]
        stored += len(from_store)
        if from_store:
            frames.append(store.load(keys, plan.group_by, from_store))
        for w in windows:
            native = evolve(templates[filters], window=w)
            compiled = bound.provider.compile(native, plan.context)
            if isinstance(compiled, Unsupported):  # pragma: no cover - planned before
                return plan
            pieces.append(Piece(native=native, requests=tuple(compiled)))
    check_budget(bound, sum(len(p.requests) for p in pieces))
    return evolve(
        plan,
        pieces=tuple(pieces),
        store=StoreUse(
            grain=grain,
            buckets=len(all_buckets),
            stored=stored,
            chunks=len(chunks),
            refresh=False,
            final_before=cutoff,
            frames=tuple(frames),
            account=account,
        ),
    )


def save_answers(plan: Plan, frames: Sequence[Sequence[Frame]], store: Store) -> int:
    """Keep the final buckets of every fetched piece; the number of buckets written."""
    from querylang.aggregation import finish_piece

    use = plan.store
    if use is None:
        return 0
    cutoff = use.final_before
    grain = plan.grain
    written = 0
    for piece, answers in zip(plan.pieces, frames, strict=True):
        w = piece.native.window
        final = [b for b in grain.boundaries(w.start, w.end) if grain.add(b) <= cutoff]
        if not final:
            continue
        keys = series_keys(plan, piece.native, use.account)
        if use.refresh:
            store.forget(keys.values(), w.start, w.end)
        store.save(keys, finish_piece(plan, piece, answers), final)
        written += len(final)
    return written
