"""``querylang connections``: what the config file declares, and one call to try a connection.

The listing never shows a secret: for each credential it says where the value comes from
and whether it is there now (an environment variable is looked at; a command is only run
by ``--check``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from typing import Any, TextIO

from querylang.config import Config, Connection, CredentialSource, load_config
from querylang.errors import UsageError, did_you_mean
from querylang.hookspecs import Provider

__all__ = ["check_connection", "connections_json", "list_connections"]


def _state(source: CredentialSource, env: Mapping[str, str]) -> str:
    present = source.present(env)
    if present is None:
        return "run by --check"
    return "set" if present else "NOT SET"


def _target(connection: Connection) -> str:
    return connection.provider + (f".{connection.dataset}" if connection.dataset else "")


def _credentials(
    provider: Provider, connection: Connection | None, env: Mapping[str, str]
) -> list[dict[str, Any]]:
    out = []
    for cred in provider.credentials:
        source = (
            connection.credential(cred.env)
            if connection is not None
            else CredentialSource(name=cred.env, env=cred.env)
        )
        out.append(
            {
                "credential": cred.env,
                "from": source.describe(),
                "present": source.present(env),
                "state": _state(source, env),
            }
        )
    return out


def connections_json(
    config: Config, providers: Mapping[str, Provider], env: Mapping[str, str]
) -> dict[str, Any]:
    """The listing as data: connections, groups, providers' default accounts, files read."""
    named = []
    for name, conn in config.connections.items():
        named.append(
            {
                "name": name,
                "provider": _target(conn),
                "credentials": _credentials(providers[conn.provider], conn, env),
                "settings": dict(conn.settings),
                "base_url": conn.base_url,
                "concurrency": conn.concurrency,
                "rate_limit": (
                    {"calls": conn.rate_limit[0], "per_seconds": conn.rate_limit[1]}
                    if conn.rate_limit
                    else None
                ),
                "file": conn.path,
            }
        )
    defaults = [
        {"name": name, "provider": name, "credentials": _credentials(p, None, env)}
        for name, p in sorted(providers.items())
        if name not in config.connections
    ]
    groups = [
        {"name": name, "members": list(members), "file": config.group_paths.get(name, "")}
        for name, members in config.groups.items()
    ]
    return {
        "files": list(config.paths),
        "connections": named,
        "groups": groups,
        "defaults": defaults,
    }


def list_connections(
    out: TextIO,
    *,
    config: str | None = None,
    fmt: str = "text",
    env: Mapping[str, str] | None = None,
) -> None:
    from querylang.plugins import registry

    env = os.environ if env is None else env
    providers = registry().providers
    data = connections_json(load_config(config, providers=providers, env=env), providers, env)
    if fmt == "json":
        json.dump(data, out, indent=2)
        out.write("\n")
        return
    files = ", ".join(data["files"]) or "none found (see README, 'Connections')"
    out.write(f"config files: {files}\n")
    if data["connections"]:
        out.write("\nconnections:\n")
    for conn in data["connections"]:
        extra = []
        if conn["base_url"]:
            extra.append(f"base_url {conn['base_url']}")
        extra += [f"{k} = {v}" for k, v in conn["settings"].items()]
        if conn["concurrency"]:
            extra.append(f"concurrency {conn['concurrency']}")
        if conn["rate_limit"]:
            rl = conn["rate_limit"]
            extra.append(f"rate limit {rl['calls']}/{rl['per_seconds']:g}s")
        out.write(f"  {conn['name']}  → {conn['provider']}  ({conn['file']})\n")
        for cred in conn["credentials"]:
            out.write(f"      {cred['credential']}: {cred['from']} [{cred['state']}]\n")
        if extra:
            out.write(f"      {'; '.join(extra)}\n")
    if data["groups"]:
        out.write("\ngroups:\n")
    for group in data["groups"]:
        out.write(f"  {group['name']} = {', '.join(group['members'])}  ({group['file']})\n")
    out.write("\nproviders' default accounts (credentials from the environment):\n")
    for account in data["defaults"]:
        creds = ", ".join(f"{c['credential']} [{c['state']}]" for c in account["credentials"])
        out.write(f"  {account['name']}: {creds or 'no credentials needed'}\n")


def _probe_query(name: str, provider: Provider, dataset_name: str) -> str:
    """The cheapest query the connection can answer: one counter, one coarse bucket."""
    dataset = provider.datasets[dataset_name]
    metric = next((m for m in dataset.metrics if m.kind == "counter"), dataset.metrics[0])
    grains = [g.granularity for g in dataset.grains if g.granularity.seconds is not None]
    grain = max(grains, key=lambda g: g.seconds or 0)
    return f"SELECT {metric.name} FROM {name} EVERY {grain} LAST {grain}"


def check_connection(
    name: str,
    out: TextIO,
    *,
    config: str | None = None,
    sandbox: bool = False,
    env: Mapping[str, str] | None = None,
) -> int:
    """One authenticated call through connection (or provider) ``name``; 0 when it answered."""
    from querylang.engine import run
    from querylang.execution import ExecutionSettings
    from querylang.plugins import registry

    env = os.environ if env is None else env
    providers = registry().providers
    loaded = load_config(config, providers=providers, env=env)
    if name in loaded.groups:
        raise UsageError(
            f"{name!r} is a group; --check takes one connection",
            hint=f"check each of: {', '.join(loaded.groups[name])}",
        )
    if name in loaded.connections:
        conn = loaded.connections[name]
        provider = providers[conn.provider]
        dataset = conn.dataset or provider.default_dataset
        shown = f"{name} ({_target(conn)})"
    elif name in providers:
        provider = providers[name]
        dataset = provider.default_dataset
        shown = name
    else:
        guess = did_you_mean(name, [*loaded.connections, *providers])
        raise UsageError(
            f"no connection or provider is named {name!r}",
            code="E200",
            hint=f"did you mean {guess!r}?" if guess else "run `querylang connections`",
        )
    text = _probe_query(name, provider, dataset)
    started = time.monotonic()
    (result,) = run(
        text,
        config=loaded,
        env=env,
        sandbox=sandbox,
        settings=ExecutionSettings(max_attempts=1, progress=False, timeout=20.0),
    )
    calls = len(result.plan.requests)
    out.write(
        f"ok: {shown} answered {calls} authenticated call{'s' if calls != 1 else ''} "
        f"in {time.monotonic() - started:.2f} s ({text})\n"
    )
    return 0
