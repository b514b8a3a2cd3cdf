"""Connections: the config file, named accounts and groups in FROM, the account dimension."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from querylang import run
from querylang.completion import complete
from querylang.config import Config, load_config
from querylang.connections import check_connection, list_connections
from querylang.emulation import account_data
from querylang.engine import explain
from querylang.errors import BindingError, CredentialsError, ProviderError, UsageError
from querylang.plugins import registry
from tests.conftest import NOW, NOW_TEXT

ROOT = Path(__file__).resolve().parents[2]
PROVIDERS = registry().providers
SECRET = "cmd-secret-7f3a9c"  # what the credential command prints (its text holds it reversed)

CONFIG = f"""
[connections.fastly_prod]
provider = "fastly"
credentials.FASTLY_API_TOKEN = {{ env = "FASTLY_PROD_TOKEN" }}

[connections.fastly_eu]
provider = "fastly"
credentials.FASTLY_API_TOKEN = {{ command = ["{sys.executable}", "-c", "print('{SECRET[::-1]}'[::-1])"] }}

[connections.gcore_prod]
provider = "gcore"
credentials.GCORE_API_KEY = {{ env = "GCORE_PROD_KEY" }}

[groups]
cdn = ["gcore_prod", "fastly_prod", "fastly_eu"]
"""


@pytest.fixture(autouse=True)
def no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read the real user's config file; no QUERYLANG_CONFIG from the caller."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("QUERYLANG_CONFIG", raising=False)


def _write(folder: Path, text: str, name: str = "querylang.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return _write(tmp_path / "project", CONFIG)


# -- discovery and precedence ---------------------------------------------------------------


def test_the_project_file_is_found_walking_up_and_wins_over_the_user_file(tmp_path: Path) -> None:
    _write(
        tmp_path / "xdg" / "querylang",
        '[connections.shared]\nprovider = "gcore"\n[connections.mine]\nprovider = "fastly"\n',
        "config.toml",
    )
    _write(tmp_path / "repo", '[connections.shared]\nprovider = "baishan"\n')
    deep = tmp_path / "repo" / "queries" / "daily"
    deep.mkdir(parents=True)
    config = load_config(providers=PROVIDERS, env={}, cwd=deep)
    assert config.connections["shared"].provider == "baishan"  # the project file wins
    assert config.connections["mine"].provider == "fastly"  # the user file still counts
    assert config.paths == (
        str(tmp_path / "xdg" / "querylang" / "config.toml"),
        str(tmp_path / "repo" / "querylang.toml"),
    )


def test_querylang_config_and_an_explicit_path_replace_discovery(tmp_path: Path) -> None:
    _write(tmp_path / "repo", '[connections.found]\nprovider = "gcore"\n')
    named = _write(tmp_path / "elsewhere", '[connections.named]\nprovider = "fastly"\n', "x.toml")
    given = _write(tmp_path / "elsewhere", '[connections.given]\nprovider = "fastly"\n', "y.toml")
    by_env = load_config(providers=PROVIDERS, env={"QUERYLANG_CONFIG": str(named)},
                         cwd=tmp_path / "repo")  # fmt: skip
    assert list(by_env.connections) == ["named"]
    explicit = load_config(given, providers=PROVIDERS, env={"QUERYLANG_CONFIG": str(named)},
                           cwd=tmp_path / "repo")  # fmt: skip
    assert list(explicit.connections) == ["given"]
    with pytest.raises(UsageError) as caught:
        load_config(tmp_path / "missing.toml", providers=PROVIDERS, env={})
    assert caught.value.code == "E510" and "missing.toml" in caught.value.message


def test_no_file_at_all_means_no_connections_and_providers_work_as_before(tmp_path: Path) -> None:
    assert load_config(providers=PROVIDERS, env={}, cwd=tmp_path).connections == {}
    (result,) = run("SELECT sent_bytes FROM gcore EVERY 1d LAST 2d", sandbox=True, now=NOW_TEXT)
    assert len(result.frame) == 2


# -- refusing what does not belong in the file ---------------------------------------------


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ('provider = "fastly"\ncredentials.FASTLY_API_TOKEN = "tok-live-123"', "E511",
         "literal value"),
        ('provider = "fastly"\nsettings.FASTLY_API_TOKEN = "x"', "E511", "is a credential"),
        ('provider = "fastlyy"', "E510", "did you mean 'fastly'"),
        ('provider = "gcore.storag"', "E510", "no dataset 'storag'"),
        ('provider = "fastly"\ncredentials.TOKEN = { env = "X" }', "E510",
         "no credential 'TOKEN'"),
        ('provider = "fastly"\ncolour = "red"', "E510", "unknown keys: colour"),
        ('provider = "fastly"\nconcurrency = 0', "E510", "concurrency"),
        ('provider = "fastly"\nrate_limit = { calls = 5 }', "E510", "rate_limit"),
    ],
)  # fmt: skip
def test_bad_connections_are_refused_naming_file_and_fix(
    tmp_path: Path, body: str, code: str, words: str
) -> None:
    path = _write(tmp_path, f"[connections.acct]\n{body}\n")
    with pytest.raises(UsageError) as caught:
        load_config(path, providers=PROVIDERS, env={})
    assert caught.value.code == code
    assert words in caught.value.render()
    assert str(path) in caught.value.message and caught.value.hint
    assert "tok-live-123" not in caught.value.render()


def test_a_literal_secret_is_refused_with_how_to_reference_one(tmp_path: Path) -> None:
    path = _write(tmp_path, '[connections.a]\nprovider = "gcore"\n'
                            'credentials.GCORE_API_KEY = "abc-secret"\n')  # fmt: skip
    with pytest.raises(UsageError) as caught:
        load_config(path, providers=PROVIDERS, env={})
    assert '{ env = "MY_TOKEN" }' in (caught.value.hint or "")
    assert "abc-secret" not in caught.value.render()


@pytest.mark.parametrize(
    ("groups", "words"),
    [
        ('cdn = ["fastly_prod", "fastly_ue"]', "lists 'fastly_ue'"),
        ('cdn = []', "non-empty list"),
        ('gcore = ["fastly_prod"]', "name of a provider"),
        ('a = ["fastly_prod"]\nb = ["a"]', "cannot hold another group"),
    ],
)  # fmt: skip
def test_bad_groups_are_e512(tmp_path: Path, groups: str, words: str) -> None:
    path = _write(tmp_path, '[connections.fastly_prod]\nprovider = "fastly"\n'
                            f"[groups]\n{groups}\n")  # fmt: skip
    with pytest.raises(UsageError) as caught:
        load_config(path, providers=PROVIDERS, env={})
    assert caught.value.code == "E512" and words in caught.value.message


# -- FROM names: connections, groups, unknown names -----------------------------------------


def test_unknown_names_suggest_among_providers_connections_and_groups(config_path: Path) -> None:
    for text, guess in (("fastly_ue", "fastly_eu"), ("cnd", "cdn"), ("gcorr", "gcore")):
        with pytest.raises(BindingError) as caught:
            explain(f"SELECT sent_bytes FROM {text} LAST 1d", config=config_path, now=NOW_TEXT)
        assert caught.value.code == "E200"
        assert f"did you mean {guess!r}?" == caught.value.hint


def test_an_account_listed_twice_through_a_group_is_e212(config_path: Path) -> None:
    with pytest.raises(BindingError) as caught:
        explain("SELECT sent_bytes FROM cdn, fastly_eu LAST 1d", config=config_path, now=NOW_TEXT)
    assert caught.value.code == "E212"
    assert "fastly_eu is listed twice" in caught.value.message and "group cdn" in (
        caught.value.message
    )


def test_a_group_expands_to_its_connections_each_with_its_own_plan(config_path: Path) -> None:
    (plan,) = explain(
        "SELECT sent_bytes BY account FROM cdn EVERY 1d LAST 2d", config=config_path,
        now=NOW_TEXT,
    )  # fmt: skip
    assert [leg.account for leg in plan.bound.legs] == ["gcore_prod", "fastly_prod", "fastly_eu"]
    assert [leg.label for leg in plan.bound.legs] == ["gcore", "fastly", "fastly"]


def _fastly_day_bytes(account: str, start: int) -> int:
    """sent_bytes of one UTC day, read straight from the emulator as that account."""
    emulator = PROVIDERS["fastly"].emulator(lambda: float(NOW))
    url = f"https://api.fastly.com/stats/aggregate?from={start}&to={start + 86400}&by=day"
    with account_data(account):
        answer = emulator.handle(httpx.Request("GET", url, headers={"Fastly-Key": "k"}))
    (row,) = answer.json()["data"]
    return int(row["resp_header_bytes"]) + int(row["resp_body_bytes"])


def test_by_account_in_the_sandbox_gives_each_account_its_own_numbers(config_path: Path) -> None:
    day = NOW - NOW % 86400 - 86400  # the last full day before NOW
    (result,) = run(
        "SELECT sent_bytes BY account FROM fastly_prod, fastly_eu EVERY 1d LAST 1d",
        config=config_path, sandbox=True, now=NOW_TEXT,
    )  # fmt: skip
    got = dict(zip(result.frame.dims["account"], result.frame.metrics["sent_bytes"], strict=True))
    assert got == {
        "fastly_prod": _fastly_day_bytes("fastly_prod", day),
        "fastly_eu": _fastly_day_bytes("fastly_eu", day),
    }
    assert got["fastly_prod"] != got["fastly_eu"]
    # without BY account, the two accounts of one vendor are added up
    (total,) = run(
        "SELECT sent_bytes BY provider FROM fastly_prod, fastly_eu EVERY 1d LAST 1d",
        config=config_path, sandbox=True, now=NOW_TEXT,
    )  # fmt: skip
    assert list(total.frame.dims["provider"]) == ["fastly"]
    assert list(total.frame.metrics["sent_bytes"]) == [got["fastly_prod"] + got["fastly_eu"]]
    # the default account (FROM fastly) keeps the data it always had
    (default,) = run("SELECT sent_bytes FROM fastly EVERY 1d LAST 1d", sandbox=True, now=NOW_TEXT)
    assert list(default.frame.metrics["sent_bytes"]) == [_fastly_day_bytes("", day)]


def test_where_account_leaves_accounts_out_before_anything_is_sent(config_path: Path) -> None:
    (plan,) = explain(
        "SELECT sent_bytes FROM cdn WHERE account != 'fastly_eu' EVERY 1d LAST 1d",
        config=config_path, now=NOW_TEXT,
    )  # fmt: skip
    assert [leg.account for leg in plan.bound.legs] == ["gcore_prod", "fastly_prod"]
    with pytest.raises(BindingError) as caught:
        explain("SELECT sent_bytes FROM cdn WHERE account = 'fastly_us' LAST 1d",
                config=config_path, now=NOW_TEXT)  # fmt: skip
    assert caught.value.code == "E207" and "not an account" in caught.value.message


# -- credentials ----------------------------------------------------------------------------


def _recording(seen: list[httpx.Request], status: int = 200) -> httpx.MockTransport:
    emulator = PROVIDERS["fastly"].emulator(lambda: float(NOW))

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if status != 200:
            token = request.headers.get("Fastly-Key", "")
            return httpx.Response(status, json={"msg": f"token {token} is revoked"})
        return emulator.handle(request)

    return httpx.MockTransport(handle)


def test_env_and_command_credentials_reach_the_vendor(config_path: Path) -> None:
    seen: list[httpx.Request] = []
    run(
        "SELECT sent_bytes BY account FROM fastly_prod, fastly_eu EVERY 1d LAST 1d",
        config=config_path, env={"FASTLY_PROD_TOKEN": "env-token-prod"}, now=NOW_TEXT,
        transport=_recording(seen),
    )  # fmt: skip
    assert sorted(r.headers["Fastly-Key"] for r in seen) == sorted(["env-token-prod", SECRET])


def test_a_missing_env_credential_names_the_connection_and_the_variable(config_path: Path) -> None:
    with pytest.raises(CredentialsError) as caught:
        run("SELECT sent_bytes FROM fastly_prod LAST 1d", config=config_path, env={},
            now=NOW_TEXT, transport=_recording([]))  # fmt: skip
    assert caught.value.code == "P001"
    assert "connection 'fastly_prod'" in caught.value.message
    assert "FASTLY_PROD_TOKEN" in caught.value.message


@pytest.mark.parametrize(
    ("command", "words"),
    [
        (f'["{sys.executable}", "-c", "import sys; sys.exit(3)"]', "exited with status 3"),
        (f'["{sys.executable}", "-c", "print()"]', "printed nothing"),
        ('"no-such-password-manager show x"', "was not found"),
    ],
)
def test_a_failing_command_is_p002_naming_the_connection(
    tmp_path: Path, command: str, words: str
) -> None:
    path = _write(tmp_path, '[connections.fastly_eu]\nprovider = "fastly"\n'
                            f"credentials.FASTLY_API_TOKEN = {{ command = {command} }}\n")  # fmt: skip
    with pytest.raises(CredentialsError) as caught:
        run("SELECT sent_bytes FROM fastly_eu LAST 1d", config=path, env={}, now=NOW_TEXT,
            transport=_recording([]))  # fmt: skip
    assert caught.value.code == "P002" and caught.value.exit_code == 2
    assert "connection 'fastly_eu'" in caught.value.message and words in caught.value.message


def test_check_and_explain_never_run_a_credential_command(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'w').write('x'); print('s3cret')"
    path = _write(tmp_path, '[connections.acct]\nprovider = "fastly"\n'
                            f"credentials.FASTLY_API_TOKEN = {{ command = {json.dumps([sys.executable, '-c', code])} }}\n")  # fmt: skip
    query = tmp_path / "q.qry"
    query.write_text("SELECT sent_bytes BY account FROM acct EVERY 1d LAST 2d;\n")
    explain(query.read_text(), config=path, now=NOW_TEXT)
    proc = _cli(["check", str(query), "--config", str(path)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    proc = _cli(["connections", "--config", str(path)], tmp_path)
    assert proc.returncode == 0 and "run by --check" in proc.stdout
    assert not marker.exists()


def test_an_error_from_one_account_names_the_connection(config_path: Path) -> None:
    with pytest.raises(ProviderError) as caught:
        run("SELECT sent_bytes FROM fastly_prod, fastly_eu EVERY 1d LAST 1d",
            config=config_path, env={"FASTLY_PROD_TOKEN": "env-token-prod"}, now=NOW_TEXT,
            transport=_recording([], status=401))  # fmt: skip
    assert caught.value.code == "P401"
    assert caught.value.provider in ("fastly_prod (fastly)", "fastly_eu (fastly)")


# -- limits per account ---------------------------------------------------------------------


def test_two_accounts_of_one_vendor_run_in_parallel_each_within_its_own_limit(
    tmp_path: Path,
) -> None:
    path = _write(
        tmp_path,
        "\n".join(
            f'[connections.{name}]\nprovider = "fastly"\n'
            f'credentials.FASTLY_API_TOKEN = {{ env = "TOKEN_{name.upper()}" }}\n'
            "rate_limit = { calls = 2, per_seconds = 1 }\n"
            for name in ("acct_a", "acct_b")
        ),
    )
    seen: list[tuple[str, float]] = []
    emulator = PROVIDERS["fastly"].emulator(lambda: float(NOW))

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append((request.headers["Fastly-Key"], time.monotonic()))
        return emulator.handle(request)

    env = {"TOKEN_ACCT_A": "token-a", "TOKEN_ACCT_B": "token-b"}
    # six calls per account (Fastly serves minutes one day per call), twice each in the file
    text = (
        "SELECT sent_bytes BY account FROM acct_a, acct_b EVERY 1m LAST 3d;\n"
        "SELECT requests BY account FROM acct_a, acct_b EVERY 1m LAST 3d;\n"
    )
    run(text, config=path, env=env, now=NOW_TEXT, transport=httpx.MockTransport(handle))
    for token in ("token-a", "token-b"):
        times = sorted(t for key, t in seen if key == token)
        assert len(times) == 6  # one connection used by two queries: limited once, together
        # within its own limit: any 3 consecutive calls span at least one second
        assert all(later - earlier >= 1.0 for earlier, later in zip(times, times[2:], strict=False))
    a = sorted(t for key, t in seen if key == "token-a")
    b = sorted(t for key, t in seen if key == "token-b")
    assert b[0] < a[-1] and a[0] < b[-1]  # the two accounts overlap in time
    # and start together: each account's first call comes before the other account's own
    # limit first holds it back (its third call, a second or more after its first), which
    # one account after the other cannot do; no wall-clock bound, so a slow machine (the
    # in-process emulator spends ~0.2 s building each answer) cannot fail it
    assert b[0] < a[2] and a[0] < b[2]


# -- the connections command, and no secret anywhere ----------------------------------------


def _cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("QUERYLANG_", "FASTLY"))}
    return subprocess.run(
        [sys.executable, "-m", "querylang.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=60,
        env={**base, "XDG_CONFIG_HOME": str(cwd / "xdg"), **env},
    )  # fmt: skip


def test_connections_lists_every_connection_and_group_without_values(
    config_path: Path,
) -> None:
    out = io.StringIO()
    list_connections(out, config=str(config_path), env={"FASTLY_PROD_TOKEN": "env-token-prod"})
    text = out.getvalue()
    assert "fastly_prod  → fastly" in text and "env: FASTLY_PROD_TOKEN [set]" in text
    assert "env: GCORE_PROD_KEY [NOT SET]" in text
    assert "command: " in text and "[run by --check]" in text
    assert "cdn = gcore_prod, fastly_prod, fastly_eu" in text
    assert str(config_path) in text
    assert "env-token-prod" not in text
    data = json.loads(_cli(["connections", "--config", str(config_path), "-f", "json"],
                           config_path.parent, FASTLY_PROD_TOKEN="env-token-prod").stdout)  # fmt: skip
    prod = next(c for c in data["connections"] if c["name"] == "fastly_prod")
    assert prod["credentials"][0]["present"] is True
    assert data["groups"] == [{"name": "cdn", "members": ["gcore_prod", "fastly_prod",
                                                        "fastly_eu"], "file": str(config_path)}]  # fmt: skip


def test_connections_check_makes_one_authenticated_call(config_path: Path) -> None:
    out = io.StringIO()
    assert check_connection("fastly_eu", out, config=str(config_path), sandbox=True) == 0
    assert out.getvalue().startswith("ok: fastly_eu (fastly) answered 1 authenticated call")
    with pytest.raises(UsageError) as caught:
        check_connection("cdn", out, config=str(config_path))
    assert "is a group" in caught.value.message


def test_no_secret_appears_in_any_output_or_error(config_path: Path) -> None:
    cwd = config_path.parent
    env = {"FASTLY_PROD_TOKEN": "env-token-prod-42"}
    secrets = ("env-token-prod-42", SECRET)
    outputs = []
    # a vendor that quotes the token back in its 401 body, on a loopback server
    from querylang.emulation import serve

    class Echo:
        def handle(self, request: httpx.Request) -> httpx.Response:
            token = request.headers.get("Fastly-Key", "")
            return httpx.Response(401, json={"msg": f"token {token} is revoked"})

    with serve(Echo()) as server:
        failing = _write(cwd / "failing", CONFIG.replace(
            'provider = "fastly"\n', f'provider = "fastly"\nbase_url = "{server.url}"\n'
        ))  # fmt: skip
        for args in (
            ["run", "-e", "SELECT sent_bytes FROM fastly_eu LAST 1d", "--config", str(failing)],
            ["run", "-e", "SELECT sent_bytes FROM fastly_prod LAST 1d", "--config", str(failing)],
            ["connections", "--config", str(failing), "--check", "fastly_eu"],
        ):
            proc = _cli(args, cwd, **env)
            assert proc.returncode == 1, proc.stderr
            assert "P401" in proc.stderr and "(fastly)" in proc.stderr
            outputs += [proc.stdout, proc.stderr]
    for args in (
        ["explain", "-e", "SELECT sent_bytes FROM cdn LAST 1d"],
        ["explain", "-f", "json", "-e", "SELECT sent_bytes FROM cdn LAST 1d"],
        ["connections"],
        ["connections", "-f", "json"],
        ["run", "--sandbox", "-e", "SELECT sent_bytes BY account FROM cdn EVERY 1d LAST 1d"],
    ):
        proc = _cli(args, cwd, **env)
        assert proc.returncode == 0, proc.stderr
        outputs += [proc.stdout, proc.stderr]
    for text in outputs:
        for secret in secrets:
            assert secret not in text


# -- the REPL and the example file ----------------------------------------------------------


def test_completion_offers_connection_and_group_names_after_from(config_path: Path) -> None:
    config = load_config(config_path, providers=PROVIDERS, env={})
    words = [s.text for s in complete("SELECT sent_bytes FROM ", PROVIDERS, config=config)]
    assert {"fastly_prod", "fastly_eu", "gcore_prod", "cdn", "gcore"} <= set(words)
    after_comma = [s.text for s in complete("SELECT sent_bytes FROM gcore, fa", PROVIDERS,
                                            config=config)]  # fmt: skip
    assert {"fastly_prod", "fastly_eu", "fastly"} <= set(after_comma)
    assert all(s.text != "fastly_prod" for s in complete("SELECT ", PROVIDERS, config=Config()))


def test_the_example_config_runs_in_the_sandbox() -> None:
    examples = ROOT / "examples"
    proc = _cli(["run", "--sandbox", "--now", NOW_TEXT, "-f", "csv", "accounts.qry"], examples)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("time,provider,account,")
    accounts = {line.split(",")[2] for line in lines[1:]}
    assert {"fastly_prod", "fastly_eu"} <= accounts
