"""Results and plans as text: table (rich), csv, json, ndjson; explain as text or JSON."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from typing import Any, TextIO

from attrs import frozen

from querylang.conversion import result_to_json, row_records
from querylang.errors import UsageError
from querylang.localtime import format_local, parse_zone
from querylang.timegrid import format_ts
from querylang.units import exact, human, scaled_unit

__all__ = ["BINARY", "EXTENSIONS", "FORMATS", "write_explain", "write_file", "write_results"]

FORMATS = ("table", "csv", "json", "ndjson", "chart", "html", "parquet", "arrow")

#: Formats that are bytes, written only to a file given with --output.
BINARY = ("parquet", "arrow")

#: --output FILE without --format: the format its extension names.
EXTENSIONS = {
    ".csv": "csv",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".html": "html",
    ".htm": "html",
    ".parquet": "parquet",
    ".arrow": "arrow",
    ".arrows": "arrow",
    ".feather": "arrow",
    ".txt": "table",
}


@frozen
class _Col:
    """One printed column: a header (name, then unit) and its cells, already formatted."""

    name: str
    unit: str
    cells: list[str]
    right: bool


def _display_columns(result: Any, raw: bool) -> list[_Col]:
    """The result's columns as printed: time, dimensions, metrics.

    Human-readable numbers unless ``raw``; a scaled unit (bytes, bit/s) is printed in each
    cell, so the header names it only for exact numbers. A column with another role (a
    per-row marker, say) prints its values as text.
    """
    rows = list(result.frame.rows())
    zone = parse_zone(result.zone) if getattr(result, "zone", None) else None
    cols: list[_Col] = []
    for i, col in enumerate(result.columns):
        values = [row[i] for row in rows]
        if col.role == "time":
            cells = [format_local(v, zone) for v in values]
        elif col.role == "metric":
            if raw:
                cells = [exact(v, integral=col.kind == "counter") for v in values]
            else:
                cells = [human(v, col.unit, col.kind) for v in values]
        else:
            cells = ["—" if v is None else str(v) for v in values]
        unit = col.unit or ""
        if (col.role == "metric" and not raw and scaled_unit(col.unit)) or unit == col.name:
            unit = ""
        cols.append(_Col(col.name, unit, cells, col.role == "metric"))
    states = result.frame.state
    if states is not None:  # provisional: the vendor may still revise it; marked, with a note
        marks = ["provisional *" if s == "provisional" else str(s) for s in states]
        cols.append(_Col("state", "", marks, False))
    return cols


def _long_columns(result: Any, cols: list[_Col]) -> list[_Col]:
    """One row per (time, series, metric): for results wider than the terminal.

    A provisional row's values carry the `*` of the footnote instead of a state column.
    """
    roles = [spec.role for spec in result.columns]
    marks = cols[len(roles)].cells if len(cols) > len(roles) else None  # the state marker
    keys = [c for c, role in zip(cols, roles, strict=False) if role != "metric"]
    metrics = [c for c, role in zip(cols, roles, strict=False) if role == "metric"]
    n = len(result.frame)
    out = [_Col(k.name, k.unit, [], False) for k in keys]
    metric_col, value_col = _Col("metric", "", [], False), _Col("value", "", [], True)
    for r in range(n):
        star = " *" if marks is not None and marks[r].endswith("*") else ""
        for m in metrics:
            for k, o in zip(keys, out, strict=True):
                o.cells.append(k.cells[r])
            metric_col.cells.append(f"{m.name} ({m.unit})" if m.unit else m.name)
            value_col.cells.append(m.cells[r] + star)
    return [*out, metric_col, value_col]


def _rich_table(title: str, cols: list[_Col]) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(title), title_justify="left")
    for c in cols:
        header = Text(c.name)
        if c.unit:
            header.append(f"\n{c.unit}", style="dim")
        table.add_column(header, justify="right" if c.right else "left", no_wrap=True)
    for r in range(len(cols[0].cells) if cols else 0):
        table.add_row(*(Text(c.cells[r]) for c in cols))  # values are data, not markup
    return table


def _table_width(cols: list[_Col]) -> int:
    """Columns in the drawn table: each cell padded by one, a rule between and around."""
    from rich.cells import cell_len

    widths = [
        max([cell_len(c.name), cell_len(c.unit), *(cell_len(x) for x in c.cells)]) for c in cols
    ]
    return sum(widths) + 3 * len(cols) + 1


def _write_records(title: str, cols: list[_Col], out: Any) -> None:
    """Each row as a block of ``name: value`` lines: when even the long layout is too wide."""
    out.print(title, markup=False)
    width = max(len(c.name) for c in cols)
    for r in range(len(cols[0].cells)):
        out.print("")
        for c in cols:
            unit = f" {c.unit}" if c.unit else ""
            out.print(f"  {c.name:<{width}}  {c.cells[r]}{unit}", soft_wrap=True, markup=False)


def _write_table(results: Sequence[Any], out: TextIO, *, raw: bool = False) -> None:
    """Tables that never cut a cell or a header: wide if it fits, else long, else records."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            raise BrokenPipeError  # let the CLI end quietly, as with the other formats

    console = _Console(file=out, highlight=False, soft_wrap=False)
    fits = console.width if out.isatty() else None
    if fits is None:  # a file or a pipe: nothing to fit, never wrap
        console = _Console(file=out, highlight=False, soft_wrap=False, width=10**6)
    for result in results:
        title = result.name or result.source
        cols = _display_columns(result, raw)
        rows = len(result.frame)
        caption = f"{title} ({rows} row{'s' if rows != 1 else ''})"
        if fits is None or _table_width(cols) <= fits:
            console.print(_rich_table(caption, cols))
        else:
            long = _long_columns(result, cols)
            if _table_width(long) <= fits:
                console.print(_rich_table(f"{caption}, one line per metric", long))
            else:
                _write_records(f"{caption}, one block per row", cols, console)
        states = result.frame.state
        if states is not None and (states == "provisional").any():
            console.print("* provisional: the vendor may still revise these buckets", markup=False)


def _write_csv(results: Sequence[Any], out: TextIO) -> None:
    if len(results) > 1:
        raise UsageError(
            "CSV holds one table, and this run has several queries",
            hint="pick one with --query NAME, or use --format json or ndjson",
        )
    writer = csv.writer(out, lineterminator="\n")
    for result in results:
        names = [c.name for c in result.columns]
        if result.frame.state is not None:
            names.append("state")
        writer.writerow(names)
        for record in row_records(result):
            writer.writerow(["" if record[n] is None else record[n] for n in names])


def write_results(
    results: Sequence[Any], fmt: str, out: TextIO, *, raw: bool = False, color: bool = False
) -> None:
    """Print query results in ``fmt``.

    Tables use human-readable units only on a terminal and without ``raw``; a file or a pipe
    always gets exact numbers.
    """
    if fmt == "table":
        _write_table(results, out, raw=raw or not out.isatty())
    elif fmt == "csv":
        _write_csv(results, out)
    elif fmt == "json":
        json.dump({"results": [result_to_json(r) for r in results]}, out, indent=2)
        out.write("\n")
    elif fmt == "ndjson":
        for index, result in enumerate(results):
            for record in row_records(result):
                if len(results) > 1:
                    record = {"query": result.name or index, **record}
                out.write(json.dumps(record, separators=(",", ":")) + "\n")
    elif fmt == "chart":
        import shutil

        from querylang.charts import write_charts

        size = shutil.get_terminal_size((100, 30))
        width = max(min(size.columns, 160), 40) if out.isatty() else 100
        height = max(min(size.lines - 2, 30), 12) if out.isatty() else 24
        write_charts(results, out, width=width, height=height, color=color)
    elif fmt == "html":
        from querylang.report import render_report

        out.write(render_report(results))
    elif fmt in BINARY:
        raise UsageError(
            f"--format {fmt} writes a binary file, not text",
            hint=f"name the file with --output FILE, e.g. --output result.{fmt}",
        )
    else:  # pragma: no cover - argparse restricts choices
        raise UsageError(f"unknown format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")


def write_file(results: Sequence[Any], fmt: str, path: str) -> None:
    """Write the results to ``path``: Parquet or Arrow IPC (one query's table), or text."""
    if fmt not in BINARY:
        try:
            with open(path, "w", encoding="utf-8", newline="") as handle:
                write_results(results, fmt, handle, raw=True)
        except OSError as exc:
            raise UsageError(
                f"cannot write {path}: {exc.strerror or exc}", code="E501", hint="check the path"
            ) from None
        return
    from querylang.conversion import require

    label = "Parquet" if fmt == "parquet" else "Arrow IPC"
    if len(results) > 1:
        raise UsageError(
            f"an {label} file holds one table, and this run has {len(results)} queries",
            hint="pick one with --query NAME (and run once per query)",
        )
    pa = require("pyarrow", f"--format {fmt}")
    table = results[0].to_arrow()
    try:
        if fmt == "parquet":
            require("pyarrow.parquet", "--format parquet").write_table(table, path)
        else:
            with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
    except OSError as exc:
        raise UsageError(
            f"cannot write {path}: {exc}", code="E501", hint="check the path"
        ) from None


def _plan_json(p: Any) -> dict[str, Any]:
    b = p.bound
    return {
        "name": b.name,
        "source": b.source_label,
        "account": b.account or None,
        "window": {"from": format_ts(b.window.start), "to": format_ts(b.window.end)},
        "every": str(b.every) if b.every else None,
        "tz": str(b.zone) if getattr(b, "zone", None) else None,  # a cross plan: in its legs
        "native_granularity": str(p.grain),
        "calls": len(p.requests),
        "min_seconds": p.min_seconds,
        "steps": list(p.steps),
        **({"store": p.store.to_json()} if getattr(p, "store", None) is not None else {}),
    }


def explain_json(plans: Sequence[Any]) -> dict[str, Any]:
    """The plans as ``explain --format json`` prints them.

    A query over several providers has one entry in ``providers`` per provider (its own
    plan, ending with its standard columns) and ``steps`` for what joins them.
    """
    queries = []
    for p in plans:
        legs = getattr(p, "legs", None)
        if legs is None:
            queries.append(_plan_json(p))
            continue
        entry = _plan_json(legs[0]) | {"name": p.bound.name, "source": p.bound.source_label}
        entry["every"] = str(p.bound.every) if p.bound.every else None
        entry.pop("native_granularity")
        entry["calls"] = len(p.requests)
        entry["min_seconds"] = p.min_seconds
        entry.pop("account")
        entry["providers"] = [
            _plan_json(leg) | {"source": cross.display, "steps": [*leg.steps, step.describe()]}
            for leg, step, cross in zip(legs, p.leg_steps, p.bound.legs, strict=True)
        ]
        entry["excluded"] = list(p.bound.excluded)
        entry["steps"] = list(p.steps)
        queries.append(entry)
    return {
        "requests": [r.to_json() for p in plans for r in p.requests],
        "queries": queries,
    }


def write_explain(plans: Sequence[Any], fmt: str, out: TextIO) -> None:
    """Print plans: what would be sent, and what would be done here."""
    data = explain_json(plans)
    if fmt == "json":
        json.dump(data, out, indent=2)
        out.write("\n")
        return
    requests = iter(data["requests"])
    for _plan, q in zip(plans, data["queries"], strict=True):
        title = f"{q['name']}: " if q["name"] else ""
        if "providers" in q:
            _write_cross(q, requests, title, out)
            continue
        out.write(f"{title}FROM {q['source']} [{q['window']['from']}, {q['window']['to']})")
        out.write(f", EVERY {q['every']}" if q["every"] else ", one whole-window bucket")
        out.write(f", TZ {q['tz']}" if q.get("tz") else "")
        out.write(f" (native {q['native_granularity']})\n")
        limit = (
            f", at least {q['min_seconds']:g} s under the rate limit" if q["min_seconds"] else ""
        )
        out.write(f"  {q['calls']} call(s){limit}\n")
        for _ in range(q["calls"]):
            req = next(requests)
            out.write(f"  {req['method']} {req['url']}\n")
            if req["body"] is not None:
                out.write(f"    body: {json.dumps(req['body'])}\n")
        out.write("  steps:\n")
        for step in q["steps"]:
            out.write(f"    - {step}\n")


def _write_cross(q: dict[str, Any], requests: Any, title: str, out: TextIO) -> None:
    """One query over several providers: each provider's plan, then the joining steps."""
    out.write(f"{title}FROM {q['source']} [{q['window']['from']}, {q['window']['to']})")
    out.write(f", EVERY {q['every']}" if q["every"] else ", one whole-window bucket")
    limit = f", at least {q['min_seconds']:g} s under the rate limits" if q["min_seconds"] else ""
    sources = len(q["providers"])
    out.write(f"\n  {sources} provider(s), {q['calls']} call(s) in all{limit}\n")
    if q["excluded"]:
        out.write(f"  left out by WHERE provider: {', '.join(q['excluded'])}\n")
    for leg in q["providers"]:
        leg_limit = (
            f", at least {leg['min_seconds']:g} s under its rate limit"
            if leg["min_seconds"]
            else ""
        )
        out.write(
            f"  {leg['source']} (native {leg['native_granularity']}): {leg['calls']} call(s)"
            f"{leg_limit}\n"
        )
        for _ in range(leg["calls"]):
            req = next(requests)
            out.write(f"    {req['method']} {req['url']}\n")
            if req["body"] is not None:
                out.write(f"      body: {json.dumps(req['body'])}\n")
        out.write("    steps:\n")
        for step in leg["steps"]:
            out.write(f"      - {step}\n")
    out.write("  then, on all providers' rows:\n")
    for step in q["steps"]:
        out.write(f"    - {step}\n")


# -- the pager and the empty-result notice ----------------------------------------------


def pager_command(environ: Any = None) -> str | None:
    """``$PAGER`` (empty or ``cat``: none), else ``less`` when installed."""
    import os
    import shutil

    env = os.environ if environ is None else environ
    if "PAGER" in env:
        command = env["PAGER"].strip()
        return None if command in ("", "cat") else command
    return "less" if shutil.which("less") else None


def page(text: str, out: TextIO) -> bool:
    """Show ``text`` through the pager when it is taller than the terminal; False if not.

    ``less`` gets ``LESS=FRX`` unless LESS is set: colours kept, and it quits by itself
    when the text fits after all. The CLI calls this only when stdout is a terminal.
    """
    import os
    import shutil
    import subprocess

    command = pager_command()
    if command is None or text.count("\n") < shutil.get_terminal_size().lines - 1:
        return False
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")
    out.flush()
    try:
        proc = subprocess.Popen(command, shell=True, stdin=subprocess.PIPE, env=env)
    except OSError:
        return False
    assert proc.stdin is not None
    try:
        proc.stdin.write(text.encode("utf-8", "replace"))
        proc.stdin.close()
    except BrokenPipeError:  # the reader quit the pager early: that is not a failure
        pass
    proc.wait()
    return True


def has_values(result: Any) -> bool:
    """Whether a result holds any value at all (rows whose every value is missing do not)."""
    import numpy as np

    frame = result.frame
    if not len(frame):
        return False
    return any(bool(np.any(~np.isnan(np.asarray(v, dtype=float)))) for v in frame.metrics.values())


def empty_notice(result: Any) -> str:
    """Why a result has no rows (or only missing values), as far as the query tells."""
    bound = result.plan.bound
    name = result.name or result.source
    window = f"[{format_ts(bound.window.start)}, {format_ts(bound.window.end)})"
    legs = getattr(bound, "legs", None)
    filters = []
    for b in [leg.bound for leg in legs] if legs else [bound]:
        for f in b.filters:
            op = "IN" if f.op == "in" else "NOT IN"
            values = ", ".join(repr(v) for v in f.values)
            text = f"{f.dimension.name} {op} ({values})"
            if text not in filters:
                filters.append(text)
    if filters:
        reason = (
            f"the filters matched nothing ({' AND '.join(filters)}): check the values with "
            "`querylang describe` or drop the WHERE clause to see what exists"
        )
    else:
        reason = (
            "the window may lie before the data (a new account or resource) or after it "
            "(a pinned --now in the future); try a longer LAST or check --now"
        )
    what = "no rows" if not len(result.frame) else "no values (every bucket is missing)"
    return f"note: {name} returned {what} for {window}: {reason}"
