"""The ``querylang`` command: run, explain, check, fmt, parse, providers, describe, emulate.

Exit codes: 0 success, 2 query or usage error (nothing was sent), 1 failure while executing
(or problems found by ``check`` / ``fmt --check``). Errors print as one paragraph; a
traceback is shown only with QUERYLANG_DEBUG=1.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

# Kept in step with querylang.output.FORMATS (a test checks), so --help imports no numpy.
FORMATS = ("table", "csv", "json", "ndjson", "chart", "html", "parquet", "arrow")

__all__ = ["main"]

EXAMPLE = "SELECT sent_bytes BY region FROM gcore EVERY 1d LAST 7d"


def _add_source(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", nargs="?", help="query file (.qry), or - for standard input")
    p.add_argument("-e", "--execute", metavar="TEXT", help="query text given inline")
    p.add_argument("-q", "--query", metavar="NAME", help="run only the query named NAME")
    p.add_argument(
        "-p", "--param", action="append", default=[], metavar="NAME=VALUE",
        help="bind $NAME (repeatable); VALUE is a literal such as 7d, 'eu', 42 or (1, 2)",
    )  # fmt: skip
    p.add_argument("--params", metavar="FILE", help="a JSON object of parameter values")
    p.add_argument("--now", metavar="TS", help="pin the clock (ISO 8601), for reproducible runs")
    p.add_argument(
        "--sandbox", action="store_true",
        help="answer from the built-in provider emulators: no credentials, no network",
    )  # fmt: skip
    _add_config(p)


def _add_config(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config", metavar="PATH",
        help="the connections file (default: $QUERYLANG_CONFIG, else ./querylang.toml "
        "upwards and the user config file)",
    )  # fmt: skip


class _BadChoice(str):
    """A --format value outside the choices, reported as a usage error by the command."""

    command = ""
    choices: tuple[str, ...] = ()


def _choice(command: str, choices: tuple[str, ...]) -> Any:
    def convert(value: str) -> str:
        if value in choices:
            return value
        bad = _BadChoice(value)
        bad.command, bad.choices = command, choices
        return bad

    convert.choices = choices  # type: ignore[attr-defined]  # for shell completion
    return convert


def _check_choices(args: argparse.Namespace) -> None:
    from querylang.errors import UsageError

    value = getattr(args, "format", None)
    if isinstance(value, _BadChoice):
        raise UsageError(
            f"{value.command} --format {str(value)!r} is not a format",
            hint=f"choose one of: {', '.join(value.choices)}",
        )


def _add_cache_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-cache", action="store_true",
        help="neither read nor write the result store: fetch everything",
    )  # fmt: skip
    p.add_argument(
        "--refresh", action="store_true",
        help="fetch everything again and renew the result store's final buckets",
    )  # fmt: skip


def _store(args: argparse.Namespace) -> Any:
    """The result store for run / explain: on unless --no-cache or QUERYLANG_CACHE=off."""
    from querylang.store import Store, cache_enabled

    if args.no_cache or not cache_enabled():
        return None
    return Store.default()


class _Version(argparse.Action):
    """``--version``: reads the installed version only when asked (importlib.metadata is slow)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **_: Any) -> None:
        super().__init__(
            option_strings, dest, nargs=0, default=argparse.SUPPRESS,
            help="show program's version number and exit",
        )  # fmt: skip

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from querylang import __version__

        sys.stdout.write(f"querylang {__version__}\n")
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="querylang",
        description="One query language for CDN and object-storage usage statistics.",
        epilog=f"example: querylang run --sandbox -e '{EXAMPLE}'",
    )
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    run = sub.add_parser("run", help="run queries and print the results")
    _add_source(run)
    run.add_argument(
        "-f", "--format", type=_choice("run", FORMATS),
        help="output format. Default: a table on a terminal; when piped or redirected, CSV "
        "for a run of one query and ndjson (each record with a \"query\" field) for a run "
        "of several; with --output, the format the file's extension names",
    )  # fmt: skip
    run.add_argument(
        "-o", "--output", metavar="FILE",
        help="write the results to FILE (report.html, data.parquet, data.arrow, .csv, .json, "
        ".ndjson) instead of standard output",
    )  # fmt: skip
    run.add_argument(
        "--raw", action="store_true",
        help="exact numbers in tables (default on a terminal: 3.68 GB, 29.5 Mbit/s)",
    )  # fmt: skip
    run.add_argument(
        "--no-pager", action="store_true", help="never page long tables through $PAGER"
    )
    run.add_argument("--timeout", type=float, default=30.0, help="seconds per call (default 30)")
    run.add_argument("--retries", type=int, default=3, help="retries per call (default 3)")
    run.add_argument(
        "--concurrency", type=int, metavar="N",
        help=f"calls in flight per account, 1-{MAX_CONCURRENCY} (default: the connection's "
        "concurrency, else the vendor's documented limit)",
    )  # fmt: skip
    run.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    _add_cache_flags(run)
    run.add_argument(
        "--final-only", action="store_true",
        help="drop provisional rows (buckets the vendor may still revise)",
    )  # fmt: skip
    run.add_argument("--tz", metavar="ZONE", help="default TZ for queries without one")

    explain = sub.add_parser("explain", help="print the plan and the exact requests; send nothing")
    _add_source(explain)
    explain.add_argument("-f", "--format", choices=("text", "json"), default="text")
    _add_cache_flags(explain)

    cache = sub.add_parser("cache", help="the result store: where it is, its size; clear it")
    cache.add_argument("action", choices=("info", "clear"), help="info: size and contents; clear")
    cache.add_argument("--provider", metavar="NAME", help="clear only this provider's buckets")
    cache.add_argument("-f", "--format", choices=("text", "json"), default="text")
    explain.add_argument("--final-only", action="store_true", help="plan as run --final-only")
    explain.add_argument("--tz", metavar="ZONE", help="default TZ for queries without one")

    check = sub.add_parser("check", help="validate query files against the catalogs (no network)")
    check.add_argument(
        "paths", nargs="*", metavar="PATH", help="files or directories (*.qry), or - for stdin"
    )
    check.add_argument(
        "-e", "--execute", action="append", default=[], metavar="TEXT",
        help="check query text given here (repeatable)",
    )  # fmt: skip
    check.add_argument(
        "-f", "--format", type=_choice("check", ("text", "json", "github")), default="text",
        help="text, json, or github (workflow annotations)",
    )  # fmt: skip
    check.add_argument("--now", metavar="TS", help="pin the clock (ISO 8601)")
    check.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE")
    check.add_argument("--params", metavar="FILE", help="a JSON object of parameter values")
    _add_config(check)

    explain_code = sub.add_parser(
        "explain-code", help="explain an error code, with an example (as rustc --explain)"
    )
    explain_code.add_argument("code", metavar="CODE", help="an error code such as E402")

    fmt = sub.add_parser("fmt", help="rewrite query files in the canonical layout")
    fmt.add_argument(
        "paths", nargs="+", metavar="PATH", help="files or directories (*.qry), or - for stdin"
    )
    fmt.add_argument("--check", action="store_true", help="change nothing; exit 1 if any would")
    fmt.add_argument(
        "--diff", action="store_true", help="print a unified diff; change nothing; exit 1 if any"
    )

    parse = sub.add_parser("parse", help="print the parsed query (IR) as JSON")
    parse.add_argument("path", nargs="?", help="query file, or - for standard input")
    parse.add_argument("-e", "--execute", metavar="TEXT", help="query text given inline")

    sub.add_parser("providers", help="list installed provider plugins")

    describe = sub.add_parser("describe", help="show a provider's catalog")
    describe.add_argument(
        "provider",
        help="provider or provider.dataset, e.g. gcore.storage; `standard` for the standard "
        "metrics and which provider answers each",
    )
    describe.add_argument("-f", "--format", choices=("text", "json"), default="text")

    sync = sub.add_parser(
        "sync", help="merge a query file's results into a DuckDB, Parquet or PostgreSQL table"
    )
    _add_source(sync)
    sync.add_argument(
        "--to", metavar="TARGET",
        help="usage.duckdb (default), duckdb:PATH, parquet:DIR, or postgresql://user@host/db",
    )  # fmt: skip
    sync.add_argument("--table", metavar="NAME", help="table name (default: the query's name)")
    sync.add_argument("--timeout", type=float, default=30.0, help="seconds per call (default 30)")
    sync.add_argument("--retries", type=int, default=3, help="retries per call (default 3)")
    sync.add_argument(
        "--concurrency", type=int, metavar="N",
        help=f"calls in flight per account, 1-{MAX_CONCURRENCY} (default: the connection's "
        "concurrency, else the vendor's documented limit)",
    )  # fmt: skip
    _add_cache_flags(sync)

    repl = sub.add_parser("repl", help="an interactive prompt with completion")
    repl.add_argument("--sandbox", action="store_true", help="answer from the built-in emulators")
    repl.add_argument("--now", metavar="TS", help="pin the clock (ISO 8601)")
    repl.add_argument("--tz", metavar="ZONE", help="default TZ for queries without one")
    _add_config(repl)

    conns = sub.add_parser("connections", help="list the connections and groups of the config file")
    conns.add_argument(
        "--check", metavar="NAME",
        help="make one cheap authenticated call with connection NAME and report the answer",
    )  # fmt: skip
    conns.add_argument("--sandbox", action="store_true", help="--check against the emulator")
    conns.add_argument("-f", "--format", type=_choice("connections", ("text", "json")),
                       default="text")  # fmt: skip
    _add_config(conns)

    completion = sub.add_parser(
        "completion", help="print the shell code for Tab completion (bash, zsh or fish)"
    )
    completion.add_argument("shell", help="bash, zsh or fish")

    sub.add_parser("lsp", help="a language server for .qry files on standard I/O (for editors)")

    emulate = sub.add_parser("emulate", help="serve a provider's emulator on a loopback port")
    emulate.add_argument("provider")
    emulate.add_argument("--port", type=int, default=8080)
    emulate.add_argument("--now", metavar="TS", help="pin the emulator's clock (ISO 8601)")
    emulate.add_argument("--quiet", action="store_true", help="do not log requests to stderr")
    return parser


def _read_source(args: argparse.Namespace) -> tuple[str, str]:
    from querylang.errors import UsageError

    if args.execute is not None:
        if args.path:
            raise UsageError("give a file or -e TEXT, not both")
        return args.execute, "<query>"
    if args.path in (None, "-"):
        if args.path is None and sys.stdin.isatty():
            raise UsageError(
                "no query given",
                hint=f'pass a .qry file, - for standard input, or -e "{EXAMPLE}"',
            )
        try:
            return sys.stdin.read(), "<stdin>"
        except UnicodeDecodeError as exc:
            raise _not_utf8("standard input", exc) from None
    try:
        with open(args.path, encoding="utf-8") as handle:
            return handle.read(), args.path
    except UnicodeDecodeError as exc:
        raise _not_utf8(args.path, exc) from None
    except OSError as exc:
        raise UsageError(
            f"cannot read {args.path}: {exc.strerror or exc}",
            code="E501",
            hint="check the path",
        ) from None


def _not_utf8(where: str, exc: UnicodeDecodeError) -> Exception:
    from querylang.errors import UsageError

    return UsageError(
        f"cannot read {where}: it is not UTF-8 text "
        f"(byte {exc.start} is 0x{exc.object[exc.start]:02x})",
        code="E501",
        hint="save the query file as UTF-8",
    )


def _params(args: argparse.Namespace) -> dict[str, Any]:
    from querylang.errors import UsageError
    from querylang.parameters import param_from_json, param_from_text

    values: dict[str, Any] = {}
    if getattr(args, "params", None):
        try:
            with open(args.params, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError) as exc:
            raise UsageError(
                f"cannot read the params file {args.params}: {exc}", code="E501"
            ) from None
        except RecursionError:
            raise UsageError(
                f"cannot read the params file {args.params}: its JSON is nested too deeply",
                code="E501",
                hint="a parameter is a number, a string or a flat list of them",
            ) from None
        if not isinstance(data, dict):
            raise UsageError(f"{args.params} must hold a JSON object of name: value")
        for name, value in data.items():
            values[name] = param_from_json(name, value, f"the params file {args.params}")
    for item in args.param:
        name, sep, value = item.partition("=")
        name = name.strip().lstrip("$")
        if not sep or not name:
            raise UsageError(f"--param {item!r} is not NAME=VALUE", hint="e.g. --param window=7d")
        values[name] = param_from_text(name, value)
    return values


MAX_CONCURRENCY = 64


def _settings(args: argparse.Namespace, *, progress: bool | None) -> Any:
    """--timeout, --retries and --concurrency as the run's ExecutionSettings.

    --concurrency overrides a connection's ``concurrency``, which overrides the catalog's
    ``max_concurrency`` (the vendor's documented limit); rate limits apply whatever it is.
    """
    from querylang.errors import UsageError
    from querylang.execution import ExecutionSettings

    concurrency = args.concurrency
    if concurrency is not None and not 1 <= concurrency <= MAX_CONCURRENCY:
        raise UsageError(
            f"--concurrency {concurrency} is out of range: it is the number of calls in "
            f"flight per account, from 1 to {MAX_CONCURRENCY}",
            hint="e.g. --concurrency 8, or leave it out to follow the vendor's limit",
        )
    return ExecutionSettings(
        timeout=args.timeout,
        max_attempts=max(args.retries, 0) + 1,
        concurrency=concurrency,
        progress=progress,
    )


def _cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    from querylang.engine import run

    settings = _settings(args, progress=False if args.no_progress else None)
    text, path = _read_source(args)
    results = run(
        text,
        path=path,
        now=args.now,
        params=_params(args),
        query=args.query,
        sandbox=args.sandbox,
        settings=settings,
        cache=_store(args),
        refresh=args.refresh,
        config=args.config,
        final_only=args.final_only,
        tz=args.tz,
    )
    _write_run(args, results, out)
    return 0


def _write_run(args: argparse.Namespace, results: Any, out: TextIO) -> None:
    """Print or save the results, and say on stderr which came back empty.

    The rule for the default format: a table on a terminal; when piped or redirected, CSV
    for a run of one query and ndjson (records tagged with "query") for a run of several;
    with --output, the format the file's extension names.
    """
    from pathlib import Path

    from querylang.errors import UsageError
    from querylang.output import (
        EXTENSIONS,
        empty_notice,
        has_values,
        page,
        write_file,
        write_results,
    )

    for result in results:
        if not has_values(result):
            sys.stderr.write(empty_notice(result) + "\n")
    if args.output:
        fmt = args.format or EXTENSIONS.get(Path(args.output).suffix.lower())
        if fmt is None:
            raise UsageError(
                f"cannot tell the format of {args.output} from its extension",
                hint="give --format, or name the file .html, .parquet, .arrow, .csv, .json "
                "or .ndjson",
            )
        write_file(results, fmt, args.output)
        sys.stderr.write(f"wrote {args.output} ({fmt}, {len(results)} quer"
                         f"{'ies' if len(results) != 1 else 'y'})\n")  # fmt: skip
        return
    tty = out.isatty()
    fmt = args.format or ("table" if tty else "csv" if len(results) == 1 else "ndjson")
    if fmt == "table" and tty and not args.no_pager:
        buffer = _TerminalBuffer()
        write_results(results, fmt, buffer, raw=args.raw)
        if page(buffer.getvalue(), out):
            return
        out.write(buffer.getvalue())
        return
    write_results(results, fmt, out, raw=args.raw, color=tty)


class _TerminalBuffer(io.StringIO):
    """Collects what would be printed on this terminal (same width, colours) for the pager."""

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        return sys.stdout.fileno()


def _cmd_explain(args: argparse.Namespace, out: TextIO) -> int:
    from querylang.engine import explain
    from querylang.output import write_explain

    text, path = _read_source(args)
    plans = explain(
        text, path=path, now=args.now, params=_params(args), query=args.query,
        sandbox=args.sandbox, config=args.config, cache=_store(args), refresh=args.refresh,
        final_only=args.final_only, tz=args.tz,
    )  # fmt: skip
    write_explain(plans, args.format, out)
    return 0


def _cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    from querylang.checking import check_paths, use_colour

    now = None  # check_paths reads the clock itself; the engine is imported for --now only
    if args.now is not None:
        from querylang.engine import resolve_now

        now = resolve_now(args.now)
    # Nothing is sent, so settings take their sandbox values where a provider declares one
    # (a StackPath stack, say): check judges the query files, not this machine's setup.
    if not args.paths and not args.execute:
        from querylang.errors import UsageError

        raise UsageError(
            "check needs query files, a directory, - for standard input, or -e TEXT",
            hint="e.g. querylang check queries/  or  querylang check -e 'SELECT …'",
        )
    return check_paths(
        args.paths,
        texts=args.execute,
        fmt=args.format,
        out=out,
        now=now,
        params=_params(args),
        sandbox=True,
        config=args.config,
        colour=use_colour(out),
    )


def _cmd_explain_code(args: argparse.Namespace, out: TextIO) -> int:
    from querylang.codes import explain_code

    return explain_code(args.code, out)


def _cmd_fmt(args: argparse.Namespace, out: TextIO) -> int:
    from querylang.formatting import format_paths, format_stdin

    if args.paths == ["-"]:
        return format_stdin(sys.stdin, out)
    return format_paths(args.paths, check=args.check, diff=args.diff, out=out, err=sys.stderr)


def _cmd_parse(args: argparse.Namespace, out: TextIO) -> int:
    from querylang.conversion import converter
    from querylang.syntax import parse

    text, path = _read_source(argparse.Namespace(path=args.path, execute=args.execute))
    json.dump(converter().unstructure(parse(text, path)), out, indent=2)
    out.write("\n")
    return 0


def _cmd_providers(args: argparse.Namespace, out: TextIO) -> int:
    from querylang.plugins import registry

    reg = registry()
    for info in reg.plugins():
        dist = f"{info.distribution} {info.version}".strip()
        out.write(f"{info.name}  ({dist})  hooks: {', '.join(info.hooks)}\n")
        for name in info.providers:
            provider = reg.providers[name]
            sets = ", ".join(
                name if d == provider.default_dataset else f"{name}.{d}" for d in provider.datasets
            )
            out.write(f"  {name} {provider.version}: {provider.description} [FROM {sets}]\n")
    return 0


def _cmd_describe(args: argparse.Namespace, out: TextIO) -> int:
    from querylang.describing import describe

    describe(args.provider, args.format, out)
    return 0


def _cmd_emulate(args: argparse.Namespace, out: TextIO) -> int:
    from querylang.context import env_name
    from querylang.emulation import LoopbackServer
    from querylang.engine import resolve_now
    from querylang.errors import UsageError
    from querylang.plugins import registry

    provider = registry().get(args.provider)
    if provider is None:
        raise UsageError(f"unknown provider {args.provider!r}", hint="run `querylang providers`")
    pinned = resolve_now(args.now) if args.now else None
    import time

    clock = (lambda: float(pinned)) if pinned is not None else time.time
    try:
        server = LoopbackServer(
            provider.emulator(clock), port=args.port, log=None if args.quiet else sys.stderr
        )
    except OSError as exc:
        raise UsageError(
            f"cannot serve the {provider.name} emulator on port {args.port}: {exc.strerror or exc}",
            hint="choose another port with --port N, or --port 0 for any free port",
        ) from None
    out.write(
        f"{provider.name} emulator on {server.url} (Ctrl-C stops it)\n"
        f"  export {env_name(provider.name, 'BASE_URL')}={server.url}\n"
    )
    out.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
    return 0


def _cmd_sync(args: argparse.Namespace, out: TextIO) -> int:
    from querylang.engine import run
    from querylang.sync import SyncError, sync_results, table_of, target_of

    target_of(args.to)  # a wrong target is reported before anything is fetched
    settings = _settings(args, progress=False)
    text, path = _read_source(args)
    results = run(
        text,
        path=path,
        now=args.now,
        params=_params(args),
        query=args.query,
        sandbox=args.sandbox,
        settings=settings,
        cache=_store(args),
        refresh=args.refresh,
        config=args.config,
    )
    if args.table and len(results) > 1:
        raise SyncError(
            "E521",
            f"--table names one table, but {path} has {len(results)} queries",
            hint="pick one with --query NAME, or drop --table to use each query's name",
        )
    unnamed = [r for r in results if r.name is None]
    if len(unnamed) > 1 and not args.table:
        raise SyncError(
            "E521",
            f"{path} has {len(unnamed)} unnamed queries, which would share one table",
            hint="name them (QUERY name AS SELECT …), or sync one at a time with --table",
        )
    tables = [table_of(r, name=args.table or r.name or "usage") for r in results]
    for report in sync_results(tables, args.to):
        out.write(
            f"synced {report.rows} row(s) ({report.provisional} provisional) into "
            f"{report.target} table {report.table}; it now holds {report.total} row(s)\n"
        )
    return 0


def _cmd_cache(args: argparse.Namespace, out: TextIO) -> int:
    from querylang.store import Store

    store = Store.default()
    if args.action == "clear":
        dropped = store.clear(args.provider)
        what = f"{args.provider}'s" if args.provider else "all"
        out.write(f"cleared {what} stored series ({dropped}) from {store.path}\n")
        return 0
    info = store.info()
    if args.format == "json":
        json.dump(info, out, indent=2)
        out.write("\n")
        return 0
    state = "" if info["exists"] else " (not created yet)"
    out.write(f"result store: {info['path']}{state}\n")
    limit = info["max_bytes"] / 1024 / 1024
    out.write(f"size: {info['bytes'] / 1024 / 1024:.2f} MB of at most {limit:g} MB\n")
    for row in info["providers"]:
        span = f", {row['from']} … {row['to']}" if row["from"] else ""
        out.write(
            f"  {row['provider']} ({row['account']}): {row['series']} series, "
            f"{row['buckets']} bucket(s){span}\n"
        )
    return 0


def _cmd_completion(args: argparse.Namespace, out: TextIO) -> int:
    from querylang.errors import UsageError
    from querylang.shell import SHELLS, script

    if args.shell not in SHELLS:
        raise UsageError(
            f"no completion for the shell {args.shell!r}",
            hint=f"choose one of: {', '.join(SHELLS)}",
        )
    out.write(script(args.shell))
    return 0


def _cmd_lsp(args: argparse.Namespace, out: TextIO) -> int:
    from querylang.lsp import start

    return start()


def _cmd_repl(args: argparse.Namespace, out: TextIO) -> int:
    from querylang.repl import repl

    return repl(sandbox=args.sandbox, now=args.now, out=out, config=args.config, tz=args.tz)


def _cmd_connections(args: argparse.Namespace, out: TextIO) -> int:
    from querylang.connections import check_connection, list_connections

    if args.check:
        return check_connection(args.check, out, config=args.config, sandbox=args.sandbox)
    list_connections(out, config=args.config, fmt=args.format)
    return 0


COMMANDS = {
    "run": _cmd_run,
    "explain": _cmd_explain,
    "check": _cmd_check,
    "explain-code": _cmd_explain_code,
    "fmt": _cmd_fmt,
    "parse": _cmd_parse,
    "providers": _cmd_providers,
    "describe": _cmd_describe,
    "emulate": _cmd_emulate,
    "repl": _cmd_repl,
    "cache": _cmd_cache,
    "sync": _cmd_sync,
    "connections": _cmd_connections,
    "lsp": _cmd_lsp,
    "completion": _cmd_completion,
}


def _secrets() -> list[str]:
    """Credential values in the environment, so no error text can leak them."""
    try:
        from querylang.plugins import registry

        envs = {c.env for p in registry().providers.values() for c in p.credentials}
    except Exception:
        envs = set()
    from querylang.context import known_secrets
    from querylang.redaction import secrets_from_env

    found = secrets_from_env(envs, os.environ)
    return sorted({*found, *known_secrets()}, key=len, reverse=True)


def _scrub(text: str) -> str:
    """Every secret, in every encoding (querylang.redaction), replaced by ***."""
    from querylang.redaction import scrub

    return scrub(text, extra=_secrets())


def _debug_traceback(exc: BaseException) -> None:
    """QUERYLANG_DEBUG=1: the traceback, scrubbed like everything else that is printed."""
    import traceback

    sys.stderr.write(_scrub("".join(traceback.format_exception(exc))))


INTERRUPTED = "interrupted (Ctrl-C): the run was stopped and its requests cancelled\n"


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point: parse arguments, run one command, map errors to exit codes.

    Ctrl-C anywhere ends the command at once: one line on stderr, exit 130.
    """
    try:
        return _main(argv, out)
    except KeyboardInterrupt:
        sys.stderr.write(INTERRUPTED)
        return 130


# Commands that start, answer from what they read and end: see _collect_for_a_short_process.
# The others (fetching answers, a store, a server, a session) keep the usual collection.
_SHORT = frozenset({"check", "explain", "explain-code", "fmt", "parse", "providers", "describe"})


def _collect_for_a_short_process() -> None:
    """Garbage collection for a process that starts, answers and ends (``check``, ``fmt``).

    What it allocates is mostly what lives until it ends (modules, classes, the parser's
    tables): young objects are collected less often (``check`` ends ~6 ms sooner), and
    the full collection the interpreter makes at exit, which only walks objects the
    operating system frees anyway, is skipped (~12 ms) by freezing every object still
    alive then, after every other exit handler has run.
    """
    import atexit
    import gc

    atexit.register(gc.freeze)  # registered before any the command registers: runs last
    gc.set_threshold(100_000, 50, 100)


def _main(argv: Sequence[str] | None, out: TextIO | None) -> int:
    out = out or sys.stdout
    parser = _parser()
    if argv is None:
        from querylang.shell import complete

        complete(parser)  # answers the shell's Tab and exits, when the shell is asking
    args = parser.parse_args(argv)
    if argv is None and args.command in _SHORT:  # this process's command line
        _collect_for_a_short_process()
    try:
        _check_choices(args)
        return COMMANDS[args.command](args, out)
    except KeyboardInterrupt:
        sys.stderr.write(INTERRUPTED)
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): that is not a failure. Point stdout at devnull so
        # the interpreter's final flush cannot fail either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:
        from querylang.errors import QuerylangError

        if os.environ.get("QUERYLANG_DEBUG"):
            _debug_traceback(exc)
            return exc.exit_code if isinstance(exc, QuerylangError) else 1
        if isinstance(exc, QuerylangError):
            sys.stderr.write(_scrub(exc.render()) + "\n")
            return exc.exit_code
        sys.stderr.write(
            _scrub(
                f"error[E999]: internal error: {type(exc).__name__}: {exc}\n"
                "  = help: this is a bug in querylang or a plugin; rerun with QUERYLANG_DEBUG=1 "
                "for a traceback and report it\n"
            )
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
