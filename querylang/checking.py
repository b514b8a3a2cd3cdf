"""``querylang check``: every problem in query files, found without sending anything.

Each file is parsed statement by statement (a syntax error does not hide the statements
after it), then every query is bound against the installed providers' catalogs and planned
with placeholder credentials: planning only compiles requests, so no network is touched.
When binding fails, the offending metric, BY name or WHERE condition is set aside and the
query bound again, so that one query can report several unknown names at once.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO

import attrs
from attrs import frozen

from querylang import ir
from querylang.errors import (
    ParamError,
    QueryError,
    QuerylangError,
    SourceText,
    UsageError,
    did_you_mean,
)
from querylang.hookspecs import Provider
from querylang.parameters import ParamValue, file_params, param_from_text, used_params
from querylang.sources import query_files
from querylang.syntax import parse_each

if TYPE_CHECKING:
    from querylang.config import Config

__all__ = ["Diagnostic", "check_paths", "check_text"]


@frozen(kw_only=True)
class Diagnostic:
    """One problem, located for editors and CI annotations (columns 1-based, end exclusive)."""

    path: str | None
    line: int | None
    column: int | None
    end_line: int | None
    end_column: int | None
    severity: Literal["error"]
    code: str
    message: str
    hint: str | None
    rendered: str

    @classmethod
    def of(cls, error: QuerylangError, path: str | None) -> Diagnostic:
        span = getattr(error, "span", ir.NO_SPAN)
        located = span is not ir.NO_SPAN
        return cls(
            path=path,
            line=span.line if located else None,
            column=span.column if located else None,
            end_line=span.end_line if located else None,
            end_column=span.end_column if located else None,
            severity="error",
            code=error.code,
            message=error.message,
            hint=error.hint,
            rendered=error.render(),
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON object ``--format json`` prints (everything but the rendered text)."""
        return attrs.asdict(self, filter=lambda a, _: a.name != "rendered")


@frozen
class _CheckContext:
    """What every query of a check is bound and planned against."""

    providers: Mapping[str, Provider]
    now: int
    env: Mapping[str, str]  # provider settings (such as a default stack)
    sandbox: bool  # settings' sandbox values, as ``run --sandbox`` would use
    config: Config | None = None  # connections and groups FROM may name


def check_text(
    text: str,
    path: str,
    providers: Mapping[str, Provider],
    *,
    now: int,
    params: Mapping[str, ParamValue] | None = None,
    env: Mapping[str, str] | None = None,
    sandbox: bool = False,
    config: Config | None = None,
) -> list[QueryError]:
    """Every problem found in one query file, in source order (an empty list when clean)."""
    context = _CheckContext(providers, now, os.environ if env is None else env, sandbox, config)
    return _check_file(text, path, context, params or {})[0]


def _check_file(
    text: str, path: str, context: _CheckContext, params: Mapping[str, ParamValue]
) -> tuple[list[QueryError], set[str]]:
    """The file's problems, and the parameters its queries use."""
    source = SourceText(path, text)
    errors: list[QueryError] = []
    statements: list[ir.Query | ir.ParamDecl] = []
    for item in parse_each(text, path):
        if isinstance(item, QueryError):
            errors.append(item)
        else:
            statements.append(item)
    queries = [s for s in statements if isinstance(s, ir.Query)]
    values = _file_values(statements, params, source, errors)
    errors += _duplicate_names(queries, source)
    # In source order: by position, but a query's own problems stay in the order
    # _query_problems gives them (its names and values, then its plan).
    keyed = [((e.span.start, 0, 0), e) for e in errors]
    config = context.config
    zone = config.tz if config is not None else None
    for query in queries:
        given = config is not None and zone is not None and query.tz is None
        if given and zone is not None:  # as run reads it: the config file's tz
            query = attrs.evolve(query, tz=ir.TimeZone(zone=ir.Literal(value=zone)))
        problems = _query_problems(query, context, values, source)
        if given and config is not None:
            problems = [e.from_default_zone(f"tz in {config.tz_path}") for e in problems]
        keyed += [((query.span.start, 1, i), e) for i, e in enumerate(problems)]
    for _, error in keyed:
        error.hint = error.hint or f"`querylang explain-code {error.code}` explains this error"
    return [e for _, e in sorted(keyed, key=lambda k: k[0])], used_params(statements)


def _file_values(
    statements: Sequence[ir.Query | ir.ParamDecl],
    overrides: Mapping[str, ParamValue],
    source: SourceText,
    errors: list[QueryError],
) -> dict[str, ParamValue]:
    """The file's parameter values; a PARAM declared twice is reported and its repeat ignored."""
    kept: list[ir.Query | ir.ParamDecl] = [s for s in statements if isinstance(s, ir.Query)]
    for decl in (s for s in statements if isinstance(s, ir.ParamDecl)):
        try:
            file_params(ir.QueryFile(statements=(*kept, decl)), {}, source=source)
        except QueryError as exc:
            errors.append(exc.with_source(source))
            continue
        kept.append(decl)
    used = used_params(statements)
    qfile = ir.QueryFile(statements=tuple(kept), path=source.path)
    return file_params(qfile, {k: v for k, v in overrides.items() if k in used}, source=source)


def _duplicate_names(queries: Sequence[ir.Query], source: SourceText) -> list[QueryError]:
    """A name given to two queries makes ``--query NAME`` ambiguous."""
    seen: set[str] = set()
    errors: list[QueryError] = []
    for query in queries:
        if query.name is None:
            continue
        if query.name.value in seen:
            errors.append(
                QueryError(
                    "E211",
                    f"two queries are named {query.name.value!r}",
                    span=query.name.span,
                    source=source,
                    hint="give each query in a file its own name",
                )
            )
        seen.add(query.name.value)
    return errors


def _query_problems(
    query: ir.Query, context: _CheckContext, values: Mapping[str, ParamValue], source: SourceText
) -> list[QueryError]:
    """Every binding problem (each bad item set aside in turn), then the plan's problem."""
    from querylang.context import provider_context
    from querylang.federation import bind_query, plan_query

    def offline(bound: Any) -> Any:
        return provider_context(
            bound.provider,
            context.env,
            context.now,
            sandbox=context.sandbox,
            need_secrets=False,
            connection=bound.connection,
        )

    errors: list[QueryError] = []
    current: ir.Query | None = query
    where_dropped = False
    stand_ins = iter(_stand_ins(query, context.providers))
    while current is not None:
        try:
            bound = bind_query(
                current,
                context.providers,
                now=context.now,
                params=values,
                source=source,
                config=context.config,
            )
        except QueryError as exc:
            if _within(exc.span, _STAND_IN):  # the stand-in metric does not fit: try another
                current = _with_stand_in(current, next(stand_ins, None))
                continue
            errors.append(exc.with_source(source))
            where_dropped |= any(_within(exc.span, p.span) for p in current.where)
            current = _without(current, exc.span)
            if current is not None and not current.select:
                current = _with_stand_in(current, next(stand_ins, None))
            continue
        errors.sort(key=lambda e: (e.span.start, e.span.end))
        if where_dropped:  # the plan of a query less a condition may differ from the query's
            return errors
        try:
            plan_query(bound, offline)
        except QueryError as exc:
            errors.append(exc.with_source(source))
        return errors
    return sorted(errors, key=lambda e: (e.span.start, e.span.end))


# A span no source text has: a stand-in metric sits there while a query's own metrics are
# all set aside, so that its BY, WHERE and window are still checked.
_STAND_IN = ir.Span(start=-1, end=-1, line=0, column=0, end_line=0, end_column=0)


def _stand_ins(query: ir.Query, providers: Mapping[str, Provider]) -> list[str]:
    """Metric names that may bind for the query's source: its counters first, a few only."""
    from querylang.standard import standard_metric

    names: list[str] = []
    for src in query.sources[:1]:
        provider = providers.get(src.provider.value)
        dataset = provider and provider.datasets.get(
            src.dataset.value if src.dataset else provider.default_dataset
        )
        if dataset:
            metrics = sorted(dataset.metrics, key=lambda m: m.kind != "counter")
            names += [m.name for m in metrics]
    names += [n for n in ("sent_bytes", "requests") if standard_metric(n) is not None]
    return list(dict.fromkeys(names))[:6]


def _with_stand_in(query: ir.Query, name: str | None) -> ir.Query | None:
    if name is None:
        return None
    ref = ir.MetricRef(name=ir.Name(value=name, span=_STAND_IN), span=_STAND_IN)
    return attrs.evolve(query, select=(ref,))


def _config_for(
    config: Config | str | os.PathLike[str] | None, context: _CheckContext, path: Path
) -> Config:
    """The connections a file may name: the one given, else found from its folder up."""
    from querylang.config import Config, load_config

    if isinstance(config, Config):
        return config
    return load_config(
        config, providers=context.providers, env=context.env, cwd=path.resolve().parent
    )


def _within(inner: ir.Span, outer: ir.Span) -> bool:
    return outer.start <= inner.start and inner.end <= outer.end


def _without(query: ir.Query, span: ir.Span) -> ir.Query | None:
    """The query less the metric, BY name or condition at ``span``; None if it has none there."""
    if span is ir.NO_SPAN:
        return None
    select = tuple(m for m in query.select if not _within(span, m.span))
    if len(select) < len(query.select):
        return attrs.evolve(query, select=select)
    by = tuple(n for n in query.by if not _within(span, n.span))
    if len(by) < len(query.by):
        return attrs.evolve(query, by=by)
    where = tuple(p for p in query.where if not _within(span, p.span))
    if len(where) < len(query.where):
        return attrs.evolve(query, where=where)
    return None


def check_paths(
    paths: Sequence[str],
    *,
    fmt: str = "text",
    out: TextIO,
    now: int | None = None,
    params: Mapping[str, str | ParamValue] | None = None,
    registry: Any = None,
    env: Mapping[str, str] | None = None,
    sandbox: bool = False,
    config: Config | str | os.PathLike[str] | None = None,
    colour: bool = False,
    texts: Sequence[str] = (),
    stdin: TextIO | None = None,
) -> int:
    """Check query files (``*.qry`` under directories); 0 clean, 1 problems, 2 unreadable.

    ``-`` among ``paths`` is ``stdin`` (named ``<stdin>``); each of ``texts`` is checked as
    a file of its own named ``<query>`` (``check -e``); both resolve connection names from
    the current directory's config, as ``run`` does.

    ``config`` is the connections file (a loaded Config, or a path); without one, each
    file's names are resolved with the config found from that file's folder upwards.

    ``registry`` is a plugin Registry or a name → provider mapping (default: the installed
    plugins); ``env`` supplies provider settings (default: the process environment), and
    ``sandbox`` their sandbox values instead, for files meant for ``run --sandbox``;
    ``colour`` adds ANSI colours to the text format (see ``use_colour``).
    """
    from querylang.plugins import registry as installed

    context = _CheckContext(
        _providers(registry if registry is not None else installed()),
        int(time.time()) if now is None else int(now),
        os.environ if env is None else env,
        sandbox,
    )
    overrides = {
        k: v if isinstance(v, ParamValue) else param_from_text(k, str(v))
        for k, v in (params or {}).items()
    }
    diagnostics: list[Diagnostic] = []
    used: set[str] = set()
    files = 0
    status = 0
    here = Path.cwd() / "<query>"  # where -e texts and stdin look for a config file
    given: list[tuple[str, Path | None, str | None]] = [("<query>", here, t) for t in texts]
    for raw in paths:  # in the order given, - where it stands
        if raw == "-":
            given.append(("<stdin>", here, (stdin or sys.stdin).read()))
        else:
            given += [(name, path, None) for name, path in query_files([raw])]
    for name, path, text in given:
        files += 1
        try:
            if path is None:
                raise FileNotFoundError("no such file or directory")
            if text is None:
                text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            diagnostics.append(Diagnostic.of(_unreadable(name, reason), name))
            status = 2
            continue
        connections = _config_for(config, context, path)  # a bad config file stops the check
        errors, uses = _check_file(text, name, attrs.evolve(context, config=connections), overrides)
        used |= uses
        diagnostics += [Diagnostic.of(error, name) for error in errors]
    for name in sorted(set(overrides) - used):
        guess = did_you_mean(name, used)
        error = ParamError(
            "E302",
            f"--param {name} is not used by any query in the checked files",
            hint=f"did you mean {guess!r}?" if guess else "check the parameter's name",
        )
        diagnostics.append(Diagnostic.of(error, None))
    if files == 0 and not status:
        raise UsageError(
            f"no .qry files under {', '.join(paths)}: nothing to check",
            code="E501",
            hint="pass query files, or a directory that holds *.qry files",
        )
    if fmt == "github":
        _write_github(out, diagnostics)
    elif fmt == "json":
        body = {"diagnostics": [d.to_json() for d in diagnostics], "files": files}
        out.write(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
    else:
        _write_text(out, diagnostics, files, colour)
    if status:
        return status
    return 1 if diagnostics else 0


def _unreadable(name: str, reason: str) -> UsageError:
    return UsageError(f"cannot read {name}: {reason}", code="E501", hint="check the path")


def _providers(registry: Any) -> Mapping[str, Provider]:
    return registry.providers if hasattr(registry, "providers") else registry


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _write_github(out: TextIO, diagnostics: Sequence[Diagnostic]) -> None:
    """GitHub workflow commands: one ``::error ...::message`` line per diagnostic."""
    for d in diagnostics:
        props = [
            (key, value)
            for key, value in (
                ("file", d.path),
                ("line", d.line),
                ("col", d.column),
                ("endLine", d.end_line),
                ("endColumn", d.end_column),
                ("title", d.code),
            )
            if value is not None
        ]
        head = ",".join(f"{k}={_escape_property(str(v))}" for k, v in props)
        message = d.message + (f" (help: {d.hint})" if d.hint else "")
        out.write(f"::error {head}::{_escape_data(message)}\n")


_RED, _CYAN, _BOLD, _RESET = "\x1b[1;31m", "\x1b[1;36m", "\x1b[1m", "\x1b[0m"


def use_colour(out: TextIO, env: Mapping[str, str] | None = None) -> bool:
    """Colour on a terminal, unless NO_COLOR is set to anything non-empty (no-color.org)."""
    env = os.environ if env is None else env
    return bool(getattr(out, "isatty", lambda: False)()) and not env.get("NO_COLOR")


def colourise(rendered: str) -> str:
    """ANSI colours for a rendered diagnostic: the error red, carets red, help cyan."""
    lines: list[str] = []
    for line in rendered.splitlines():
        head = re.match(r"^(.*?: )?(error\[[A-Z]\d+\])(: .*)$", line)
        if head and not lines:
            where = f"{_BOLD}{head[1]}{_RESET}" if head[1] else ""
            line = f"{where}{_RED}{head[2]}{_RESET}{_BOLD}{head[3]}{_RESET}"
        elif re.match(r"^ *\| *\^+$", line):
            bar, carets = line.rsplit("|", 1)
            line = f"{_CYAN}{bar}|{_RESET}{_RED}{carets}{_RESET}"
        elif re.match(r"^ *\d* \|", line):
            bar, rest = line.split("|", 1)
            line = f"{_CYAN}{bar}|{_RESET}{rest}"
        elif line.startswith("  = help:"):
            line = f"  {_CYAN}= help:{_RESET}{line[len('  = help:') :]}"
        lines.append(line)
    return "\n".join(lines)


def _write_text(
    out: TextIO, diagnostics: Sequence[Diagnostic], files: int, colour: bool = False
) -> None:
    for diagnostic in diagnostics:
        text = colourise(diagnostic.rendered) if colour else diagnostic.rendered
        out.write(text + "\n\n")
    noun = "file" if files == 1 else "files"
    if not diagnostics:
        out.write(f"checked {files} {noun}: no problems\n")
        return
    problems = "problem" if len(diagnostics) == 1 else "problems"
    out.write(f"checked {files} {noun}: {len(diagnostics)} {problems}\n")
