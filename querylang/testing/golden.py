"""Golden compile cases: a query, its clock and settings, and the exact outcome expected.

One JSON file per provider dataset holds the cases (the format: docs/golden.md). Each case
gives querylang ``text`` or a ``native`` piece, ``now``, optional ``settings``, and one
outcome: ``requests``, ``unsupported`` or ``error``. ``golden_test(path)`` is the pytest
test; with ``QUERYLANG_GOLDEN_UPDATE=1`` set, a case that does not match has its expected
outcome rewritten (and nothing else) instead of failing.
"""

from __future__ import annotations

import difflib
import json
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from attrs import frozen

from querylang.config import Config
from querylang.engine import explain
from querylang.errors import QuerylangError
from querylang.hookspecs import Provider, hookimpl
from querylang.planning import Plan
from querylang.plugins import Registry, registry, registry_of
from querylang.timegrid import Granularity, TimeWindow, format_ts, parse_ts
from querylang.wire import (
    REDACTED,
    Filter,
    NativeQuery,
    NativeRequest,
    ProviderContext,
    Unsupported,
)

__all__ = [
    "OUTCOMES",
    "UPDATE_ENV",
    "GoldenCase",
    "GoldenFileError",
    "GoldenMismatch",
    "GoldenUpdated",
    "check",
    "compile_case",
    "context",
    "credentials",
    "dumps",
    "golden_test",
    "load",
    "native_query",
    "outcome",
]

UPDATE_ENV = "QUERYLANG_GOLDEN_UPDATE"
OUTCOMES = ("requests", "unsupported", "error")  # the expected parts; exactly one per case
QUERIES = ("text", "native")  # querylang text, or one planned piece; exactly one per case
WIDTH = 100  # a JSON value that fits stays on one line


class GoldenFileError(ValueError):
    """A golden file that cannot be read as cases: names the file, the case and the fix."""


class GoldenMismatch(AssertionError):
    """A case whose outcome differs from the golden file: names the case, shows the diff."""


class GoldenUpdated(UserWarning):
    """A case's expected outcome was rewritten (update mode): review the file's diff."""


@frozen(kw_only=True)
class GoldenCase:
    """One case of a golden file, parsed (``raw`` is the case as written)."""

    path: Path
    provider: str
    dataset: str
    name: str
    now: int
    settings: Mapping[str, str]
    text: str | None
    native: NativeQuery | None
    expected: Mapping[str, Any]  # {outcome key: value}
    raw: Mapping[str, Any]

    def __str__(self) -> str:
        return self.name


def native_query(spec: Mapping[str, Any], *, dataset: str) -> NativeQuery:
    """A NativeQuery from its plain-data form (``metrics``, ``window``, ``granularity``, …)."""
    start, end = spec["window"]
    return NativeQuery(
        dataset=dataset,
        metrics=tuple(spec["metrics"]),
        group_by=tuple(spec.get("group_by", ())),
        filters=tuple(
            Filter(dimension=f["dimension"], op=f["op"], values=tuple(f["values"]))
            for f in spec.get("filters", ())
        ),
        granularity=Granularity.parse(spec.get("granularity", "1h")),
        window=TimeWindow(parse_ts(start), parse_ts(end)),
    )


def _shown(path: Path) -> str:
    """The path as a reader types it: relative to the current directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _label(case: GoldenCase, *details: str) -> str:
    return f"golden case {case.name!r} ({', '.join((_shown(case.path), *details))})"


def _problem(path: Path, where: str, problem: str, fix: str) -> GoldenFileError:
    return GoldenFileError(f"{_shown(path)}: {where}: {problem}; fix: {fix}")


def _one_of(path: Path, case: Mapping[str, Any], keys: Sequence[str], what: str) -> str:
    found = [k for k in keys if k in case]
    if len(found) != 1:
        raise _problem(
            path,
            f"case {case.get('name')!r}",
            f"it gives {found or 'none'} of {list(keys)}",
            f"give exactly one {what}",
        )
    return found[0]


def load(path: str | os.PathLike[str]) -> list[GoldenCase]:
    """Every case of a golden file, checked for shape (names unique, one query, one outcome)."""
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _problem(file, "file", f"cannot be read as JSON ({exc})", "fix the file") from None
    if not isinstance(data, dict) or not {"provider", "dataset", "cases"} <= data.keys():
        raise _problem(
            file, "file", "is not an object", 'write {"provider", "dataset", "cases": [...]}'
        )
    cases: list[GoldenCase] = []
    for raw in data["cases"]:
        name = raw.get("name")
        if not name or not isinstance(name, str) or "now" not in raw:
            raise _problem(file, f"case {name!r}", "lacks a name or now", "give both")
        if any(c.name == name for c in cases):
            raise _problem(file, f"case {name!r}", "the name is taken", "give unique names")
        query = _one_of(file, raw, QUERIES, "query: text or native")
        outcome_key = _one_of(file, raw, OUTCOMES, "expected outcome")
        try:
            now = parse_ts(raw["now"])
            native = (
                native_query(raw["native"], dataset=data["dataset"]) if query == "native" else None
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise _problem(
                file, f"case {name!r}", f"cannot be read ({exc!r})", "see docs/golden.md"
            ) from None
        cases.append(
            GoldenCase(
                path=file,
                provider=data["provider"],
                dataset=data["dataset"],
                name=name,
                now=now,
                settings=dict(raw.get("settings", {})),
                text=raw.get("text"),
                native=native,
                expected={outcome_key: raw[outcome_key]},
                raw=raw,
            )
        )
    return cases


def _provider(case: GoldenCase, provider: Provider | None) -> Provider:
    found = provider or registry().get(case.provider)
    if found is None:
        raise _problem(
            case.path,
            f"case {case.name!r}",
            f"no provider named {case.provider!r} is registered",
            "install the plugin, or pass provider= to golden_test",
        )
    return found


def credentials(provider: Provider) -> dict[str, str]:
    """Made-up, recognisable values for every credential of ``provider``."""
    return {c.env: f"golden-{c.env.lower().replace('_', '-')}-s3cr3t" for c in provider.credentials}


def context(
    case: GoldenCase, provider: Provider, secrets: Mapping[str, str] | None = None
) -> ProviderContext:
    """The fixed context a native case compiles with: the provider's base URL, made-up secrets."""
    return ProviderContext(
        base_url=provider.base_url,
        credentials=dict(credentials(provider) if secrets is None else secrets),
        settings=dict(case.settings),
        now=case.now,
    )


class _Registers:
    """A plugin object registering one given provider (to plan text for an unregistered one)."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    @hookimpl
    def register_providers(self, register: Callable[[Provider], None]) -> None:
        register(self.provider)


def _planned(case: GoldenCase, p: Provider, secrets: Mapping[str, str]) -> list[NativeRequest]:
    assert case.text is not None
    registered: Registry | None = (
        None if registry().get(p.name) is p else registry_of(_Registers(p))
    )
    plans = explain(
        case.text,
        now=case.now,
        env={**secrets, **case.settings},
        need_secrets=True,
        providers=registered,
        config=Config(),  # no querylang.toml of the machine's
    )
    for plan in plans:
        if not isinstance(plan, Plan):
            continue  # a query over several providers: its legs are checked by their requests
        named = (plan.bound.provider.name, plan.bound.dataset.name)
        if named != (p.name, case.dataset):
            raise _problem(
                case.path,
                f"case {case.name!r}",
                f"the text queries {'.'.join(named)}, the file is for {p.name}.{case.dataset}",
                "move the case to that dataset's golden file",
            )
    return [r for plan in plans for r in plan.requests]


def compile_case(
    case: GoldenCase,
    *,
    provider: Provider | None = None,
    secrets: Mapping[str, str] | None = None,
) -> Sequence[NativeRequest] | Unsupported:
    """The case's requests: the native form compiled, or the text planned (no I/O either way).

    Raises the querylang error planning or compiling raises.
    """
    p = _provider(case, provider)
    values = credentials(p) if secrets is None else secrets
    if case.native is not None:
        return p.compile(case.native, context(case, p, values))
    return _planned(case, p, values)


def _record(request: NativeRequest) -> dict[str, Any]:
    shown = request.to_json()
    record = {k: shown[k] for k in ("method", "url", "headers", "body")}
    record["metrics"] = list(request.metrics)
    if request.tag:
        record["tag"] = json.loads(json.dumps(dict(request.tag), default=str))
    return record


def outcome(
    case: GoldenCase,
    *,
    provider: Provider | None = None,
    secrets: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """What the case gives now, in the golden file's form (``{outcome key: value}``)."""
    __tracebackhide__ = True
    p = _provider(case, provider)
    values = credentials(p) if secrets is None else secrets
    try:
        compiled = compile_case(case, provider=p, secrets=values)
    except QuerylangError as exc:
        got: dict[str, Any] = {
            "error": {"code": exc.code, "message": exc.message, "hint": exc.hint}
        }
    else:
        if isinstance(compiled, Unsupported):
            got = {"unsupported": {"reason": compiled.reason, "hint": compiled.hint}}
        else:
            for request in compiled:
                if request.provider != p.name:
                    raise GoldenMismatch(
                        f"{_label(case)}: a request names provider {request.provider!r}"
                        f", not {p.name!r}; fix: set NativeRequest.provider "
                        "to the provider's name"
                    )
            got = {"requests": [_record(r) for r in compiled]}
    shown = json.dumps(got, ensure_ascii=False)
    for env, value in values.items():
        if value and value != REDACTED and value in shown:
            raise GoldenMismatch(
                f"{_label(case)}: the value of {env} is shown in the outcome;"
                " fix: list the header in secret_headers or the query key in "
                "secret_params, so it is shown as ***"
            )
    return got


def dumps(value: Any) -> str:
    """JSON as the golden files are written: two-space indents, short values on one line."""
    return _format(value, 0, 0) + "\n"


def _format(value: Any, indent: int, used: int) -> str:
    flat = json.dumps(value, ensure_ascii=False)
    if used + len(flat) <= WIDTH or not isinstance(value, dict | list) or not value:
        return flat
    inner = indent + 2
    pad = " " * inner
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            head = json.dumps(key, ensure_ascii=False) + ": "
            parts.append(pad + head + _format(item, inner, inner + len(head)))
        return "{\n" + ",\n".join(parts) + "\n" + " " * indent + "}"
    return (
        "[\n"
        + ",\n".join(pad + _format(v, inner, inner) for v in value)
        + "\n"
        + " " * indent
        + "]"
    )


def _rewrite(case: GoldenCase, got: Mapping[str, Any]) -> None:
    """Replace the case's expected outcome in its file; every other key and case is kept."""
    data = json.loads(case.path.read_text(encoding="utf-8"))
    for raw in data["cases"]:
        if raw.get("name") == case.name:
            kept = {k: v for k, v in raw.items() if k not in OUTCOMES}
            raw.clear()
            raw.update({**kept, **got})
    case.path.write_text(dumps(data), encoding="utf-8")


def check(
    case: GoldenCase,
    *,
    provider: Provider | None = None,
    secrets: Mapping[str, str] | None = None,
) -> None:
    """Compare the case's outcome with the file: a readable diff, or a rewrite in update mode."""
    __tracebackhide__ = True  # pytest shows the diff, not this function
    got = outcome(case, provider=provider, secrets=secrets)
    want = dict(case.expected)
    if got == want:
        return
    if os.environ.get(UPDATE_ENV) == "1":
        _rewrite(case, got)
        warnings.warn(
            GoldenUpdated(f"{_shown(case.path)}: rewrote the expected outcome of {case.name!r}"),
            stacklevel=2,
        )
        return
    diff = difflib.unified_diff(
        dumps(want).splitlines(), dumps(got).splitlines(), "expected", "actual", lineterm=""
    )
    raise GoldenMismatch(
        f"{_label(case, f'now={format_ts(case.now)}')} does not match:\n"
        + "\n".join(diff)
        + f"\nfix: if the change is intended, run again with {UPDATE_ENV}=1 and review the "
        "golden file's diff"
    )


def golden_test(
    path: str | os.PathLike[str],
    *,
    provider: Provider | None = None,
    secrets: Mapping[str, str] | None = None,
) -> Callable[[GoldenCase], None]:
    """A pytest test, one parameter per case of the file: ``test_golden = golden_test(path)``."""
    cases = load(path)

    @pytest.mark.parametrize("case", cases, ids=[c.name for c in cases])
    def test_golden(case: GoldenCase) -> None:
        __tracebackhide__ = True
        check(case, provider=provider, secrets=secrets)

    return test_golden
