"""The compile and secrets checks: every catalog combination compiles, with no I/O and no leak."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from typing import Any

import querylang
from querylang.errors import LimitError, QuerylangError
from querylang.hookspecs import Provider
from querylang.output import write_explain
from querylang.testing.sandbox import (
    NOW,
    between,
    env_for,
    fail,
    no_network,
    registry,
    secrets,
    source,
    window,
)
from querylang.wire import NativeQuery, NativeRequest, ProviderContext, Unsupported

#: The planner's documented refusals of what a catalog itself limits (docs/reference.md):
#: retention (E402), re-bucketing and combining rules (E405, E406), the request budget (E407).
#: A provider's own refusal is E408, from its Unsupported. Any other error of a query built
#: from the catalog (an off-grid window, E403) is a finding, not a refusal.
PLANNER_REFUSALS = frozenset({"E402", "E405", "E406", "E407"})


def queries(p: Provider) -> Iterator[str]:
    """Every combination the catalog allows: metric x grain, BY each dim, WHERE each dim."""
    for name, ds in p.datasets.items():
        src = source(p, name)
        for g in ds.grains:
            every = f"EVERY {g.granularity} {between(*window(g.granularity))}"
            first = ds.metrics[0].name
            for m in ds.metrics:
                yield f"SELECT {m.name} FROM {src} {every}"
            for d in ds.dimensions:
                if d.groupable:
                    yield f"SELECT {first} BY {d.name} FROM {src} {every}"
                if d.filterable:
                    value = (d.values or d.default or ("1" if d.type == "integer" else "x",))[0]
                    literal = value if d.type == "integer" else f"'{value}'"
                    yield f"SELECT {first} FROM {src} WHERE {d.name} IN ({literal}) {every}"


class Watched:
    """The provider under test, each of its compile calls' outcome recorded."""

    def __init__(self, inner: Provider) -> None:
        self.inner = inner
        self.outcomes: list[Sequence[NativeRequest] | Unsupported | BaseException] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def compile(
        self, query: NativeQuery, context: ProviderContext
    ) -> Sequence[NativeRequest] | Unsupported:
        try:
            out = self.inner.compile(query, context)
        except BaseException as exc:
            self.outcomes.append(exc)
            raise
        self.outcomes.append(out)
        return out


def judge_refusal(p: Provider, text: str, watched: Watched, exc: BaseException) -> None:
    """Accept an explicit Unsupported or the planner's own refusal; fail on anything else."""
    raised = [o for o in watched.outcomes if isinstance(o, BaseException)]
    if raised:
        fail(
            p,
            "compile",
            f"compiling {text!r} raised {raised[0]!r}",
            "return Unsupported(reason, hint) for what the vendor cannot answer; never raise",
        )
    refused = [o for o in watched.outcomes if isinstance(o, Unsupported)]
    if refused:
        if not str(refused[0].reason).strip():
            fail(p, "compile", f"{text!r} is Unsupported with no reason", "say why, for the user")
        return
    if isinstance(exc, LimitError) and exc.code in PLANNER_REFUSALS:
        return
    fail(
        p,
        "compile",
        f"planning {text!r} raised {exc!r}, neither an Unsupported nor a planner refusal",
        "answer every combination the catalog allows with requests or Unsupported",
    )


def check_compile(p: Provider) -> None:
    """Each catalog combination plans to requests or an explicit refusal, with no I/O."""
    for text in queries(p):
        watched = Watched(p)
        with no_network() as attempts:
            try:
                plans = querylang.explain(
                    text,
                    now=NOW,
                    env=env_for(p),
                    providers=registry(watched),
                )
            except Exception as exc:
                judge_refusal(p, text, watched, exc)
                continue
        if attempts:
            fail(p, "compile", f"compiling {text!r} opened {attempts}", "compile must do no I/O")
        if not any(getattr(plan, "requests", ()) for plan in plans):
            fail(p, "compile", f"{text!r} compiled to no request", "return requests")


def check_secrets(p: Provider) -> None:
    """No credential value appears in explain output or in a refusal."""
    reg = registry(p)
    for text in list(queries(p))[:20]:
        try:
            plans = querylang.explain(text, now=NOW, env=env_for(p), providers=reg)
        except QuerylangError as exc:
            shown = exc.render()
        except Exception:
            continue  # a crash in compile is the compile check's finding
        else:
            out = io.StringIO()
            write_explain(plans, "text", out)
            write_explain(plans, "json", out)
            shown = out.getvalue()
        for secret in secrets(p).values():
            if secret in shown:
                fail(p, "secrets", f"{text!r} shows a credential", "send secrets in headers")
