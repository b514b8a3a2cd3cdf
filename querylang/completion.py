"""REPL completion as a pure function of the text before the cursor and the catalogs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from attrs import frozen

from querylang.catalog import Dataset
from querylang.hookspecs import Provider

if TYPE_CHECKING:
    from querylang.config import Config

__all__ = ["ARGUMENTS", "COMMANDS", "Suggestion", "complete", "complete_command"]

# The REPL's dot-commands: name → (the argument's fixed choices or None, what it does).
COMMANDS: dict[str, tuple[tuple[str, ...] | None, str]] = {
    ".help": ((), "list the commands"),
    ".format": (("table", "csv", "json", "ndjson"), "how results print"),
    ".output": (None, "write results to FILE; without one, back to the terminal"),
    ".timing": (("on", "off"), "print how long each query took"),
    ".explain": (None, "show the plan and requests of QUERY instead of running it"),
    ".sandbox": (("on", "off"), "answer from the built-in emulators"),
    ".now": (None, "pin the clock to TS (ISO 8601); off: the real clock; alone: show it"),
    ".tz": (None, "the TZ of queries without one; off: the default; alone: show it"),
    ".param": (None, "set $NAME for the session; alone: list them"),
    ".quit": ((), "leave (Ctrl-D too)"),
}
# The free-form argument of the commands that take one, as .help shows it.
ARGUMENTS = {
    ".output": "[FILE]",
    ".explain": "QUERY",
    ".now": "[TS|off]",
    ".tz": "[ZONE|off]",
    ".param": "[NAME VALUE]",
}

CLAUSES = ("BY", "FROM", "WHERE", "EVERY", "LAST", "BETWEEN", "SINCE")
_TOKEN = re.compile(r"'(?:[^']|'')*'?|\$?[A-Za-z_][A-Za-z0-9_.]*|\d+[a-z]*|!=|<>|[=(),;]")


@frozen
class Suggestion:
    """One completion: the text to insert, how many characters it replaces, a hint."""

    text: str
    replace: int
    meta: str = ""


def _datasets(providers: Mapping[str, Provider]) -> dict[str, Dataset]:
    out = {}
    for provider in providers.values():
        for name, ds in provider.datasets.items():
            key = provider.name if name == provider.default_dataset else f"{provider.name}.{name}"
            out[key] = ds
    return out


def _statement(text: str) -> str:
    return text.rsplit(";", 1)[-1]


def complete(
    before: str,
    providers: Mapping[str, Provider],
    after: str = "",
    *,
    config: Config | None = None,
) -> list[Suggestion]:
    """What may come next at the cursor; ``after`` (the rest of the line) helps find FROM.

    ``config`` adds its connection and group names after FROM.
    """
    statement = _statement(before)
    tokens = _TOKEN.findall(statement)
    partial = ""
    if tokens and statement and not statement[-1].isspace() and statement[-1] not in ",()=;":
        partial = tokens.pop()
    upper = [t.upper() for t in tokens]
    datasets = _datasets(providers)
    whole = _TOKEN.findall(statement + after.split(";", 1)[0])
    source: str | None = next(
        (whole[i + 1] for i, t in enumerate(whole[:-1]) if t.upper() == "FROM"), None
    )
    named: list[tuple[str, str]] = []
    if config is not None:
        for conn_name, conn in config.connections.items():
            target = conn.provider + (f".{conn.dataset}" if conn.dataset else "")
            named.append((conn_name, f"connection to {target}"))
            if source == conn_name and target in datasets:
                source = target  # complete the connection's provider's names
        named += [(group, "group: " + ", ".join(m)) for group, m in config.groups.items()]
    pool = [datasets[source]] if source in datasets else list(datasets.values())

    def offer(words: list[tuple[str, str]]) -> list[Suggestion]:
        low = partial.lower()
        seen: dict[str, Suggestion] = {}
        for word, meta in words:
            if word.lower().startswith(low) and word not in seen:
                seen[word] = Suggestion(word, len(partial), meta)
        return list(seen.values())

    if not upper:
        return offer([("SELECT", "keyword"), ("QUERY", "keyword"), ("PARAM", "keyword")])
    clause = next((t for t in reversed(upper) if t in (*CLAUSES, "SELECT", "AND")), None)
    last = upper[-1]
    metrics = [(m.name, f"{m.unit}, {m.kind}") for ds in pool for m in ds.metrics]
    if last == "FROM" or (last == "," and clause == "FROM"):
        return offer([*named, *((name, ds.description) for name, ds in datasets.items())])
    if last in ("SELECT", ",") and clause == "SELECT":
        return offer(metrics)
    if last in ("BY", ",") and clause == "BY":
        return offer([(d.name, "dimension") for ds in pool for d in ds.dimensions if d.groupable])
    if last in ("WHERE", "AND"):
        return offer([(d.name, "dimension") for ds in pool for d in ds.dimensions if d.filterable])
    if last in ("EVERY", "LAST"):
        grains = [(str(g.granularity), "native") for ds in pool for g in ds.grains]
        return offer(grains + [(d, "") for d in ("1h", "1d", "1w", "7d", "30d")])
    if last in ("=", "!=", "<>", "(", ",") and clause in ("WHERE", "AND"):
        name = next((t for t in reversed(tokens) if re.match(r"[A-Za-z_]", t)
                     and t.upper() not in ("IN", "NOT")), None)  # fmt: skip
        dims = [d for ds in pool for d in ds.dimensions if d.name == name and d.values]
        return offer([(f"'{v}'", name or "") for d in dims for v in d.values or ()])
    used = {t for t in upper if t in CLAUSES}
    nxt = [(c, "clause") for c in CLAUSES if c not in used and c not in ("BETWEEN", "SINCE")]
    if "LAST" in used or "BETWEEN" in used or "SINCE" in used:
        nxt = [(c, k) for c, k in nxt if c != "LAST"]
    else:
        nxt += [("BETWEEN", "clause"), ("SINCE", "clause")]
    if clause == "SELECT":
        nxt.append(("AS", "alias"))
    if clause in ("WHERE", "AND"):
        nxt += [("AND", "keyword"), ("IN", "keyword"), ("NOT IN", "keyword")]
    return offer(nxt)


def complete_command(
    before: str, providers: Mapping[str, Provider], formats: tuple[str, ...] | None = None
) -> list[Suggestion]:
    """Completion of a dot-command line: the command's name, then its argument."""
    name, space, rest = before.partition(" ")
    if not space:
        return [
            Suggestion(c, len(name), help_)
            for c, (_, help_) in COMMANDS.items()
            if c.startswith(name.lower())
        ]
    if name == ".explain":
        return complete(rest, providers)
    if name in (".now", ".tz"):
        choices: tuple[str, ...] | None = ("off",)
    elif name == ".format" and formats is not None:
        choices = formats
    else:
        choices = COMMANDS.get(name, (None, ""))[0]
    word = rest.lstrip()
    if not choices or " " in word:
        return []
    return [Suggestion(c, len(word), name[1:]) for c in choices if c.startswith(word.lower())]
