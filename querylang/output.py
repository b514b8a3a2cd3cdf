"""Results and plans as text: table (rich), csv, json, ndjson; explain as text or JSON."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from typing import Any, TextIO

from querylang.conversion import result_to_json, row_records
from querylang.errors import UsageError
from querylang.localtime import format_local, parse_zone
from querylang.timegrid import format_ts

__all__ = ["FORMATS", "write_explain", "write_results"]

FORMATS = ("table", "csv", "json", "ndjson")


def _table_cell(value: Any, integral: bool) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        if integral and value.is_integer():
            return f"{int(value):,}"
        return f"{value:,.4f}".rstrip("0").rstrip(".") if abs(value) < 1e15 else f"{value:.6g}"
    return str(value)


def _write_table(results: Sequence[Any], out: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            raise BrokenPipeError  # let the CLI end quietly, as with the other formats

    console = _Console(file=out, highlight=False, soft_wrap=False)
    for result in results:
        title = result.name or result.source
        table = Table(title=f"{title} ({len(result.frame)} rows)", title_justify="left")
        integral = []
        for col in result.columns:
            header = (
                f"{col.name}\n[dim]{col.unit}[/dim]"
                if col.unit not in (None, col.name)
                else col.name
            )
            table.add_column(header, justify="right" if col.role == "metric" else "left")
            integral.append(col.kind == "counter")
        n_dims = sum(1 for c in result.columns if c.role == "dimension")
        zone = parse_zone(result.zone) if getattr(result, "zone", None) else None
        states = result.frame.state
        if states is not None:
            table.add_column("state")
        for index, row in enumerate(result.frame.rows()):
            cells = [format_local(row[0], zone)]
            cells += [str(v) for v in row[1 : 1 + n_dims]]
            cells += [_table_cell(v, integral[i]) for i, v in enumerate(row) if i > n_dims]
            provisional = states is not None and states[index] == "provisional"
            if states is not None:  # provisional: the vendor may still revise it; marked
                cells.append("provisional *" if provisional else str(states[index]))
            table.add_row(*cells, style="italic yellow" if provisional else None)
        console.print(table)
        if states is not None and (states == "provisional").any():
            console.print("* provisional: the vendor may still revise these buckets")


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


def write_results(results: Sequence[Any], fmt: str, out: TextIO) -> None:
    """Print query results in ``fmt``."""
    if fmt == "table":
        _write_table(results, out)
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
    else:  # pragma: no cover - argparse restricts choices
        raise UsageError(f"unknown format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")


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
