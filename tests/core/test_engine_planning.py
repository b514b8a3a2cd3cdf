"""plan_queries: one planning pass per query, and mistakes heard before credentials."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import querylang.planning
from querylang.engine import explain, plan_queries
from querylang.errors import BindingError, CredentialsError, LimitError
from querylang.plugins import registry_of
from tests.core.toy import ToyPlugin, ToyProvider

NOW = "2026-11-20T05:00:00Z"
THREE = (
    "QUERY a AS SELECT hits FROM toy EVERY 1h LAST 2h;\n"
    "QUERY b AS SELECT hits BY zone FROM toy EVERY 1h LAST 4h;\n"
    "QUERY c AS SELECT hits FROM toy EVERY 1d LAST 2d;\n"
)


@pytest.fixture
def plan_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each call of the planner, by the planned query's name."""
    calls: list[str] = []
    real = querylang.planning.plan

    def counting(bound, context):  # type: ignore[no-untyped-def]
        calls.append(bound.name)
        return real(bound, context)

    monkeypatch.setattr(querylang.planning, "plan", counting)
    return calls


@pytest.fixture(autouse=True)
def no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("QUERYLANG_CONFIG", raising=False)


def _plan(text: str, env: dict[str, str], **kw):  # type: ignore[no-untyped-def]
    reg = registry_of(ToyPlugin(ToyProvider()))
    return plan_queries(text, now=NOW, env=env, providers=reg, **kw)


def test_each_query_is_planned_once_when_its_credentials_are_set(plan_calls: list[str]) -> None:
    plans = _plan(THREE, {"TOY_TOKEN": "tok-123"})
    assert plan_calls == ["a", "b", "c"]  # not a, b, c and then a, b, c again
    for p in plans:
        assert p.context.credentials == {"TOY_TOKEN": "tok-123"}
        assert all(dict(r.headers)["X-Token"] == "tok-123" for r in p.requests)


def test_the_sandbox_and_explain_plan_once_too(plan_calls: list[str]) -> None:
    _plan(THREE, {}, sandbox=True)
    _plan(THREE, {}, need_secrets=False)
    assert plan_calls == ["a", "b", "c"] * 2


def test_a_missing_credential_is_reported_after_every_query_is_checked(
    plan_calls: list[str],
) -> None:
    bad = THREE + "QUERY d AS SELECT peak FROM toy WHERE zone IN ('a', 'b') EVERY 1h LAST 1h;\n"
    with pytest.raises(LimitError) as info:  # the mistake in d, not the missing TOY_TOKEN
        _plan(bad, {})
    assert info.value.code == "E406"
    with pytest.raises(CredentialsError) as missing:
        _plan(THREE, {})
    assert missing.value.code == "P001" and "TOY_TOKEN" in missing.value.message


def test_a_credential_command_runs_only_after_every_query_is_checked(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'a').write('x'); print('cmd-secret')"
    config = tmp_path / "querylang.toml"
    config.write_text(
        '[connections.acct]\nprovider = "fastly"\n'
        f"credentials.FASTLY_API_TOKEN = {{ command = {json.dumps([sys.executable, '-c', code])} }}\n",
        encoding="utf-8",
    )
    good = "QUERY a AS SELECT sent_bytes FROM acct EVERY 1d LAST 2d;\n"
    # A mistake in the second query is heard before the first one's command runs.
    bad = good + "QUERY b AS SELECT sent_bytez FROM acct EVERY 1d LAST 2d;\n"
    with pytest.raises(BindingError) as info:
        plan_queries(bad, now=NOW, env={}, config=config)
    assert "sent_bytez" in info.value.message
    assert not marker.exists()
    explain(good, now=NOW, env={}, config=config)
    assert not marker.exists()  # explain never runs it
    (plan,) = plan_queries(good, now=NOW, env={}, config=config)
    assert marker.read_text() == "x"  # run once, for the one query
    (leg,) = plan.legs  # a named connection: one leg, its account
    assert leg.context.credentials == {"FASTLY_API_TOKEN": "cmd-secret"}
