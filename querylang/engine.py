"""The whole pipeline behind one call: text → parse → bind → plan → execute → frames."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs
from attrs import frozen

from querylang import ir
from querylang.context import env_name, provider_context
from querylang.errors import CredentialsError, QueryError, SourceText, UsageError, did_you_mean
from querylang.parameters import ParamValue, file_params, param_from_text
from querylang.plugins import Registry, registry
from querylang.syntax import parse
from querylang.timegrid import parse_ts

if TYPE_CHECKING:  # loaded lazily at run time: numpy and httpx stay out of check and --help
    import httpx

    from querylang.binding import BoundQuery
    from querylang.config import Config
    from querylang.execution import ExecutionSettings
    from querylang.federation import CrossPlan
    from querylang.frames import Frame
    from querylang.hookspecs import Emulator
    from querylang.planning import Plan
    from querylang.store import Store
    from querylang.wire import ProviderContext

#: What ``now=`` accepts: UNIX seconds, an ISO 8601 text, a datetime (naive = UTC), or None.
Now = int | float | str | dt.datetime | None

__all__ = [
    "Column",
    "Result",
    "env_name",
    "explain",
    "plan_queries",
    "resolve_config",
    "run",
    "select",
]


@frozen(kw_only=True)
class Column:
    """A result column: its name, role (time / dimension / metric / state) and unit.

    ``Result.columns`` lists time, dimensions and metrics, as ``frame.rows()`` yields them;
    the rows' state (``frame.state``) is printed after them as the ``state`` column.
    """

    name: str
    role: str
    unit: str | None = None
    kind: str | None = None


@frozen(kw_only=True, repr=False)
class Result:
    """One query's answer: its columns (with units) and the frame holding the rows."""

    name: str | None
    source: str
    columns: tuple[Column, ...]
    frame: Frame
    plan: Plan | CrossPlan
    zone: str | None = None  # TZ: times are printed in this zone, with their offset

    @property
    def units(self) -> dict[str, str]:
        """Column name → unit, for the columns that have one."""
        return {c.name: c.unit for c in self.columns if c.unit}

    def to_pandas(self) -> Any:
        """A pandas DataFrame: Int64 counters, UTC times, categorical dimensions; units in
        ``attrs["units"]`` (``pip install 'querylang[pandas]'``)."""
        from querylang.conversion import frame_to_pandas

        return frame_to_pandas(self.frame, self.columns, name=self.name)

    def to_arrow(self) -> Any:
        """A pyarrow Table with each field's unit, kind and role as field metadata."""
        from querylang.conversion import frame_to_arrow

        return frame_to_arrow(self.frame, self.columns, name=self.name)

    def to_polars(self) -> Any:
        """A polars DataFrame: Int64 counters, Datetime(UTC), Categorical text dimensions."""
        from querylang.conversion import frame_to_polars

        return frame_to_polars(self.frame, self.columns, name=self.name)

    def __repr__(self) -> str:
        cols = ", ".join(f"{c.name} [{c.unit}]" if c.unit else c.name for c in self.columns)
        label = f"{self.name} " if self.name else ""
        return f"<Result {label}FROM {self.source}: {len(self.frame)} rows: {cols}>"

    def _repr_html_(self) -> str:
        from querylang.report import result_table_html

        label = _html_escape(self.name or self.source)
        return (
            f"<p><b>{label}</b> FROM {_html_escape(self.source)} · {len(self.frame)} rows</p>"
            + result_table_html(self, limit=50)
        )


def _html_escape(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def resolve_now(now: int | float | str | dt.datetime | None) -> int:
    """The clock: pinned (``--now``) or the current time, as UNIX seconds."""
    if now is None:
        return int(time.time())
    if isinstance(now, dt.datetime):
        if now.tzinfo is None:
            now = now.replace(tzinfo=dt.UTC)
        return int(now.timestamp())
    if isinstance(now, str):
        try:
            return parse_ts(now)
        except ValueError:
            raise UsageError(
                f"--now {now!r} is not an ISO 8601 timestamp",
                hint="write e.g. --now 2026-11-20T00:00:00Z",
            ) from None
    return int(now)


def select(qfile: ir.QueryFile, name: str | None) -> tuple[ir.Query, ...]:
    """The file's queries, or the one named ``name``."""
    queries = qfile.queries
    named: dict[str, ir.Query] = {}
    for q in queries:
        if q.name is None:
            continue
        if q.name.value in named:
            raise QueryError(
                "E211",
                f"two queries are named {q.name.value!r}",
                span=q.name.span,
                hint="give each query of a file its own name",
            )
        named[q.name.value] = q
    if name is None:
        if not queries:
            raise UsageError(f"{qfile.path} holds no query", hint="write a SELECT statement")
        return queries
    if name not in named:
        guess = did_you_mean(name, named)
        listed = ", ".join(named) or "none"
        raise UsageError(
            f"{qfile.path} has no query named {name!r} (named queries: {listed})",
            code="E502",
            hint=f"did you mean {guess!r}?"
            if guess
            else "name a query with QUERY name AS SELECT …",
        )
    return (named[name],)


def _params(
    qfile: ir.QueryFile, source: SourceText, params: Mapping[str, Any] | None
) -> dict[str, ParamValue]:
    overrides = {
        k: v if isinstance(v, ParamValue) else param_from_text(k, str(v))
        for k, v in (params or {}).items()
    }
    return file_params(qfile, overrides, source=source)


def plan_queries(
    text: str,
    *,
    path: str = "<query>",
    now: Now = None,
    env: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    query: str | None = None,
    sandbox: bool = False,
    need_secrets: bool = True,
    providers: Registry | None = None,
    config: Config | str | os.PathLike[str] | None = None,
    final_only: bool = False,
    tz: str | None = None,
) -> list[Plan | CrossPlan]:
    """Parse, bind and plan every selected query of ``text`` (nothing is sent).

    ``final_only`` adds the step that drops provisional rows (``--final-only``); ``tz`` is
    the default zone (``--tz``, a REPL or config setting) for queries without a TZ clause.
    """
    from querylang.federation import bind_query, plan_query

    env = os.environ if env is None else env
    clock = resolve_now(now)
    source = SourceText(path, text)
    qfile = parse(text, path)
    values = _params(qfile, source, params)
    reg = providers or registry()
    connections = resolve_config(config, reg, env, path)
    plans: list[Plan | CrossPlan] = []
    try:
        selected = select(qfile, query)
    except QueryError as exc:
        raise exc.with_source(source) from None

    # Every query is checked before any credential is asked for: a user hears about a
    # mistake in the query first, whatever the machine's setup. Each query is planned once:
    # with its credentials when they come from the environment and are all there, else
    # with placeholders, and planned again after every query has been checked, in order
    # (that pass runs a credential command, or raises the missing credential's error).
    online = need_secrets and not sandbox
    again: set[int] = set()  # the queries to plan again, by position

    def make(bound: BoundQuery, *, secrets: bool) -> ProviderContext:
        return provider_context(
            bound.provider,
            env,
            clock,
            sandbox=sandbox and not secrets,
            need_secrets=secrets,
            connection=bound.connection,
        )

    def context(bound: BoundQuery) -> ProviderContext:
        if online and len(plans) not in again:  # len(plans): the query being planned
            if not _runs_command(bound):
                try:
                    return make(bound, secrets=True)
                except CredentialsError:
                    pass
            again.add(len(plans))
        return make(bound, secrets=False)

    def with_secrets(bound: BoundQuery) -> ProviderContext:
        return make(bound, secrets=True)

    # the zone of a query without TZ: --tz (or the REPL's .tz), else the config file's
    default_zone = _default_zone(tz) if tz is not None else _config_zone(connections.tz)
    origin = "the --tz or .tz setting" if tz is not None else f"tz in {connections.tz_path}"

    for q in selected:
        given = default_zone is not None and q.tz is None
        if given:
            q = attrs.evolve(q, tz=default_zone)
        bound = bind_query(
            q, reg.providers, now=clock, params=values, source=source, config=connections
        )
        try:
            plans.append(plan_query(bound, context))
        except QueryError as exc:
            if given:
                exc.from_default_zone(origin)
            raise exc.with_source(source) from None
    # the second pass asks for every credential, whatever it costs
    plans = [plan_query(p.bound, with_secrets) if i in again else p for i, p in enumerate(plans)]
    if final_only:
        from querylang.steps import KeepFinal

        plans = [attrs.evolve(p, post_steps=(*p.post_steps, KeepFinal())) for p in plans]
    return plans


def explain(
    text: str,
    *,
    path: str = "<query>",
    now: Now = None,
    env: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    query: str | None = None,
    sandbox: bool = False,
    need_secrets: bool = False,
    providers: Registry | None = None,
    cache: Store | None = None,
    refresh: bool = False,
    config: Config | str | os.PathLike[str] | None = None,
    final_only: bool = False,
    tz: str | None = None,
) -> list[Plan | CrossPlan]:
    """The plans for ``text`` with their compiled requests; credentials are not required.

    With ``cache``, the requests are only those for buckets the store lacks, and each plan
    says what the store answers.
    """
    plans = plan_queries(
        text,
        path=path,
        now=now,
        env=env,
        params=params,
        query=query,
        sandbox=sandbox,
        need_secrets=need_secrets,
        providers=providers,
        config=config,
        final_only=final_only,
        tz=tz,
    )
    if cache is not None:
        plans = [_with_store(p, cache, sandbox=sandbox, refresh=refresh) for p in plans]
    return plans


def _columns(plan: Plan | CrossPlan) -> tuple[Column, ...]:
    from querylang.federation import CrossPlan

    if isinstance(plan, CrossPlan):
        cross = plan.bound
        return (
            Column(name="time", role="time"),
            *(Column(name=d, role="dimension") for d in cross.by),
            *(
                Column(name=m.output, role="metric", unit=m.unit, kind=m.kind)
                for m in cross.metrics
            ),
        )
    bound = plan.bound
    cols = [Column(name="time", role="time")]
    cols += [Column(name=d.name, role="dimension") for d in bound.by]
    cols += [
        Column(name=bm.output, role="metric", unit=bm.metric.unit, kind=bm.metric.kind)
        for bm in bound.metrics
    ]
    return tuple(cols)


def run(
    text: str,
    *,
    path: str = "<query>",
    now: Now = None,
    env: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    query: str | None = None,
    sandbox: bool = False,
    providers: Registry | None = None,
    settings: ExecutionSettings | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    cache: Store | None = None,
    refresh: bool = False,
    config: Config | str | os.PathLike[str] | None = None,
    final_only: bool = False,
    tz: str | None = None,
) -> list[Result]:
    """Run every selected query of ``text``; one Result per query, in file order.

    ``sandbox=True`` answers every provider from its built-in emulator (no credentials,
    no network); ``transport`` replaces the HTTP transport (e.g. ``httpx.MockTransport``).
    ``cache`` is a result store (``querylang.store.Store``): final buckets it holds are
    not fetched again, and the final buckets fetched are kept in it; ``refresh=True``
    fetches everything and renews the store's copy.
    ``config`` names the connections file (default: discovered, see ``querylang.config``).
    """
    from querylang.aggregation import finish_all
    from querylang.emulation import SandboxTransport, host_of
    from querylang.execution import execute
    from querylang.federation import CrossPlan

    # What explain shows is what runs: the same plans, with the credentials this time.
    plans = explain(
        text,
        path=path,
        now=now,
        env=env,
        params=params,
        query=query,
        sandbox=sandbox,
        need_secrets=True,
        providers=providers,
        cache=cache,
        refresh=refresh,
        config=config,
        final_only=final_only,
        tz=tz,
    )
    if sandbox and transport is None:
        clock = float(plans[0].bound.now) if plans else time.time()

        def pinned() -> float:
            return clock

        routes: dict[str, tuple[Emulator, str]] = {}
        for p in _legs(plans):
            host = host_of(p.context.base_url)
            if host not in routes:
                # A named connection gets its own data: the account's name seeds it.
                account = p.bound.account if p.bound.connection is not None else ""
                routes[host] = (p.bound.provider.emulator(pinned), account)
        transport = SandboxTransport(routes)
    # Every provider's requests go out together, each within its own limits.
    # Nothing to send (the result store answers everything): no HTTP client is even made.
    to_run = _legs(plans)
    answers_by_leg = (
        execute(to_run, settings, transport)
        if any(leg.pieces for leg in to_run)
        else [[] for _ in to_run]
    )
    if cache is not None:
        from querylang.store import save_answers

        for leg, leg_answers in zip(to_run, answers_by_leg, strict=True):
            save_answers(leg, leg_answers, cache)
    frames = iter(answers_by_leg)
    results = []
    for plan in plans:
        legs = plan.legs if isinstance(plan, CrossPlan) else (plan,)
        answers = [next(frames) for _ in legs]
        results.append(
            Result(
                name=plan.bound.name,
                source=plan.bound.source_label,
                columns=_columns(plan),
                frame=finish_all(plan, answers),
                plan=plan,
                zone=_zone(plan),
            )
        )
    return results


def resolve_config(
    config: Config | str | os.PathLike[str] | None,
    reg: Registry,
    env: Mapping[str, str],
    path: str = "<query>",
) -> Config:
    """The connections and groups a run may name: given, read from a path, or discovered.

    Discovery looks for ``querylang.toml`` from the query file's folder upwards (from the
    current directory for inline text and standard input).
    """
    from pathlib import Path

    from querylang.config import Config, load_config

    if isinstance(config, Config):
        return config
    where = Path(path).resolve().parent if os.path.isfile(path) else None
    return load_config(config, providers=reg.providers, env=env, cwd=where)


def _runs_command(bound: BoundQuery) -> bool:
    """Whether a credential of ``bound``'s account is read by running a command."""
    connection = bound.connection
    if connection is None:
        return False
    return any(
        connection.credential(cred.env).command is not None for cred in bound.provider.credentials
    )


def _default_zone(tz: str | None) -> ir.TimeZone | None:
    """``--tz``'s zone as a TZ clause, checked here: a bad one is a usage error."""
    if tz is None:
        return None
    from querylang.localtime import parse_zone

    try:
        parse_zone(tz)
    except ValueError:
        raise UsageError(
            f"--tz {tz!r} is not a time zone",
            hint="write an IANA name such as Europe/Berlin, or an offset such as +05:30",
        ) from None
    return ir.TimeZone(zone=ir.Literal(value=tz))


def _config_zone(tz: str | None) -> ir.TimeZone | None:
    """The config file's ``tz`` (checked when the file was read) as a TZ clause."""
    return None if tz is None else ir.TimeZone(zone=ir.Literal(value=tz))


def _zone(plan: Plan | CrossPlan) -> str | None:
    legs = getattr(plan, "legs", None)
    bound = legs[0].bound if legs else plan.bound
    zone = getattr(bound, "zone", None)
    return str(zone) if zone is not None else None


def _legs(plans: list[Plan | CrossPlan]) -> list[Plan]:
    """The per-provider plans to execute: a cross-provider plan's legs, in order."""
    from querylang.federation import CrossPlan

    out: list[Plan] = []
    for p in plans:
        out.extend(p.legs if isinstance(p, CrossPlan) else (p,))
    return out


def _with_store(
    plan: Plan | CrossPlan, store: Store, *, sandbox: bool, refresh: bool
) -> Plan | CrossPlan:
    """The plan (each leg of a cross plan) asking the store before the vendor."""
    import attrs

    from querylang.federation import CrossPlan
    from querylang.store import use_store

    if isinstance(plan, CrossPlan):
        legs = tuple(use_store(leg, store, sandbox=sandbox, refresh=refresh) for leg in plan.legs)
        return attrs.evolve(plan, legs=legs)
    return use_store(plan, store, sandbox=sandbox, refresh=refresh)
