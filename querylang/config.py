"""The config file: named connections (accounts) and groups of them, in TOML.

Where it is read from, the first that applies:

1. ``--config PATH`` (or ``config=`` in the Python API), else ``QUERYLANG_CONFIG``: that
   file alone;
2. otherwise the user file (``config.toml`` in the platform's config directory, from
   ``platformdirs``) and the project file (``querylang.toml`` in the query file's folder or
   the nearest parent — the current directory's for inline text), merged by name with the
   project file winning.

A connection names a provider (or ``provider.dataset``), where each credential comes from
(``{ env = "NAME" }`` or ``{ command = "…" }`` — never the secret itself), and non-secret
settings (``base_url``, the provider's settings by their environment names, ``concurrency``,
``rate_limit``). A credential a connection does not list is read from the provider's own
environment variable. Command credentials run only when a query is sent, never for
``check`` or ``explain``. A top-level ``tz`` is the default zone of queries without a TZ
clause (``--tz`` and the REPL's ``.tz`` come first).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from attrs import field, frozen

from querylang.errors import CredentialsError, UsageError

__all__ = [
    "PROJECT_FILE",
    "Config",
    "Connection",
    "CredentialSource",
    "config_paths",
    "load_config",
    "user_config_path",
]

PROJECT_FILE = "querylang.toml"
ENV_VAR = "QUERYLANG_CONFIG"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_CONNECTION_KEYS = {"provider", "credentials", "settings", "base_url", "concurrency", "rate_limit"}
_COMMAND_TIMEOUT = 30.0
_EXAMPLE = '{ env = "MY_TOKEN" } or { command = "pass show cdn/token" }'


# What the platform's user config directory is read from; the directory is worked out once
# per combination of these (platformdirs costs more than the rest of a lookup together).
_DIR_VARS = (
    ("XDG_CONFIG_HOME", "HOME")
    if os.name == "posix"
    else ("APPDATA", "LOCALAPPDATA", "USERPROFILE", "HOME", "XDG_CONFIG_HOME")
)
_USER_PATHS: dict[tuple[str | None, ...], Path] = {}


def user_config_path() -> Path:
    """``config.toml`` in the platform's user config directory."""
    key = tuple(map(os.environ.get, _DIR_VARS))
    found = _USER_PATHS.get(key)
    if found is None:
        import platformdirs

        found = _USER_PATHS[key] = Path(platformdirs.user_config_dir("querylang")) / "config.toml"
    return found


def _project_file(start: Path) -> Path | None:
    """The nearest ``querylang.toml`` from ``start`` upwards (looked for afresh on every call:
    one ``stat`` per folder, on strings, since a file may appear between two queries)."""
    for candidate in _candidates(start):
        if os.path.isfile(candidate):
            return Path(candidate)
    return None


_CANDIDATES: dict[Path, tuple[str, ...]] = {}


def _candidates(start: Path) -> tuple[str, ...]:
    """Where a project file may be, nearest first: ``start`` and each folder above it."""
    found = _CANDIDATES.get(start)
    if found is None:
        folders = (str(start), *map(str, start.parents))
        found = _CANDIDATES[start] = tuple(os.path.join(f, PROJECT_FILE) for f in folders)
    return found


def config_paths(
    explicit: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> list[Path]:
    """The files to read, lowest precedence first (see the module docstring)."""
    env = os.environ if env is None else env
    chosen = explicit or env.get(ENV_VAR)
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_file():
            where = "--config" if explicit else ENV_VAR
            raise UsageError(
                f"the config file {str(path)!r} ({where}) does not exist",
                code="E510",
                hint=f"create it, or point {where} at an existing file",
            )
        return [path]
    user = user_config_path()
    found = [user] if os.path.isfile(user) else []
    project = _project_file(_resolved(cwd))
    if project is not None and project not in found:
        found.append(project)
    return found


_RESOLVED: dict[str, Path] = {}


def _resolved(cwd: Path | None) -> Path:
    """``cwd`` (else the current directory) made absolute and free of symbolic links, worked
    out once per folder and process: resolving walks the path with a ``stat`` per part."""
    raw = os.getcwd() if cwd is None else str(cwd)
    if not os.path.isabs(raw):  # relative to a current directory that may change
        return Path(raw).resolve()
    found = _RESOLVED.get(raw)
    if found is None:
        found = _RESOLVED[raw] = Path(raw).resolve()
    return found


@frozen(kw_only=True)
class CredentialSource:
    """Where one credential of a connection comes from: an environment variable or a command."""

    name: str  # the provider's credential, by its environment name (GCORE_API_KEY)
    env: str | None = None
    command: tuple[str, ...] | None = None

    def describe(self) -> str:
        if self.command is not None:
            import shlex

            return f"command: {shlex.join(self.command)}"
        return f"env: {self.env}"

    def present(self, env: Mapping[str, str]) -> bool | None:
        """Whether the secret is there now (None: a command, known only when run)."""
        if self.command is not None:
            return None
        return bool(env.get(self.env or ""))

    def read(self, env: Mapping[str, str], connection: str) -> str | None:
        """The secret (None: the environment variable is not set)."""
        if self.command is None:
            return env.get(self.env or "") or None
        return _run_command(self.command, connection, self.name)


def _run_command(command: tuple[str, ...], connection: str, credential: str) -> str:
    import shlex
    import subprocess

    shown = shlex.join(command)
    try:
        done = subprocess.run(
            list(command),
            capture_output=True,
            text=True,
            timeout=_COMMAND_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        problem = f"the program {command[0]!r} was not found"
    except subprocess.TimeoutExpired:
        problem = f"it did not finish within {_COMMAND_TIMEOUT:g} s"
    except OSError as exc:
        problem = f"it could not be started ({exc.strerror or type(exc).__name__})"
    else:
        secret = done.stdout.strip()
        if done.returncode == 0 and secret:
            from querylang.context import remember_secret

            remember_secret(secret)
            return secret
        problem = (
            f"it exited with status {done.returncode}"
            if done.returncode != 0
            else "it printed nothing"
        )
    raise CredentialsError(
        f"connection {connection!r}: the command for {credential} ({shown}) failed: "
        f"{problem}; nothing was sent",
        hint="run the command yourself to see why (signed in to the password manager?), "
        "or fix it in the config file (`querylang connections` shows where it is)",
        code="P002",
    )


@frozen(kw_only=True)
class Connection:
    """One account of one vendor, as the config file declares it."""

    name: str
    provider: str  # the provider's name
    dataset: str | None = None  # set by ``provider = "gcore.storage"``
    credentials: tuple[CredentialSource, ...] = ()
    settings: tuple[tuple[str, str], ...] = ()  # setting env name → value
    base_url: str | None = None
    concurrency: int | None = None
    rate_limit: tuple[int, float] | None = None  # (calls, per seconds)
    path: str = ""  # the file it comes from

    def credential(self, name: str) -> CredentialSource:
        """Where ``name`` comes from: as declared, else the provider's own variable."""
        for source in self.credentials:
            if source.name == name:
                return source
        return CredentialSource(name=name, env=name)


@frozen(kw_only=True)
class Config:
    """Every connection and group, by name, and the files they were read from."""

    connections: Mapping[str, Connection] = field(factory=dict)
    groups: Mapping[str, tuple[str, ...]] = field(factory=dict)
    group_paths: Mapping[str, str] = field(factory=dict)
    paths: tuple[str, ...] = ()
    tz: str | None = None  # the default TZ of queries without one (top-level ``tz``)
    tz_path: str | None = None  # the file that says it

    def names(self) -> list[str]:
        return [*self.connections, *self.groups]


def _problem(path: Path | str, message: str, hint: str, code: str = "E510") -> UsageError:
    return UsageError(f"{path}: {message}", code=code, hint=hint)


def _command(value: Any, path: Path, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        import shlex

        parts = tuple(shlex.split(value))
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        parts = tuple(value)
    else:
        parts = ()
    if not parts:
        raise _problem(
            path,
            f"{where}: command must be a non-empty string or list of strings",
            f"write e.g. {_EXAMPLE}",
        )
    return parts


def _credential(name: str, value: Any, path: Path, connection: str) -> CredentialSource:
    where = f"connection {connection!r}, credential {name}"
    if isinstance(value, str):
        raise _problem(
            path,
            f"{where} is written in the file as a literal value; the config file never holds "
            "secrets (it is shared and kept in git)",
            f"say where the secret comes from instead: {name} = {_EXAMPLE}",
            code="E511",
        )
    if not isinstance(value, dict) or len(value) != 1 or not ({"env", "command"} & set(value)):
        raise _problem(
            path, f"{where} must say where the secret comes from", f"write {name} = {_EXAMPLE}"
        )
    if "env" in value:
        if not isinstance(value["env"], str) or not value["env"]:
            raise _problem(
                path,
                f"{where}: env must name an environment variable",
                f"write {name} = {_EXAMPLE}",
            )
        return CredentialSource(name=name, env=value["env"])
    return CredentialSource(name=name, command=_command(value["command"], path, where))


def _connection(name: str, body: Any, path: Path, providers: Mapping[str, Any]) -> Connection:
    hint = 'a connection is a table: [connections.NAME] with provider = "gcore" and credentials'
    if not _NAME.match(name):
        raise _problem(
            path,
            f"{name!r} cannot name a connection",
            "use letters, digits, _ and -, starting with a letter",
        )
    if not isinstance(body, dict):
        raise _problem(path, f"connection {name!r} is not a table", hint)
    unknown = sorted(set(body) - _CONNECTION_KEYS)
    if unknown:
        raise _problem(
            path,
            f"connection {name!r} has unknown keys: {', '.join(unknown)}",
            f"a connection takes {', '.join(sorted(_CONNECTION_KEYS))}",
        )
    target = body.get("provider")
    if not isinstance(target, str) or not target:
        raise _problem(path, f"connection {name!r} names no provider", hint)
    provider_name, _, dataset = target.partition(".")
    provider = providers.get(provider_name)
    if provider is None:
        from querylang.errors import did_you_mean

        guess = did_you_mean(provider_name, providers)
        raise _problem(
            path,
            f"connection {name!r}: unknown provider {provider_name!r} "
            f"(installed: {', '.join(sorted(providers))})",
            f"did you mean {guess!r}?" if guess else "run `querylang providers`",
        )
    if dataset and dataset not in provider.datasets:
        raise _problem(
            path,
            f"connection {name!r}: {provider_name} has no dataset {dataset!r}",
            f"datasets: {', '.join(provider.datasets)}",
        )
    known_creds = [c.env for c in provider.credentials]
    creds = body.get("credentials", {})
    if not isinstance(creds, dict):
        raise _problem(
            path,
            f"connection {name!r}: credentials must be a table",
            f"write credentials.{(known_creds or ['TOKEN'])[0]} = {_EXAMPLE}",
        )
    sources = []
    for cred, value in creds.items():
        if cred not in known_creds:
            raise _problem(
                path,
                f"connection {name!r}: {provider_name} has no credential {cred!r}",
                f"its credentials: {', '.join(known_creds) or 'none'}",
            )
        sources.append(_credential(cred, value, path, name))
    known_settings = {s.env for s in provider.settings}
    settings = body.get("settings", {})
    if not isinstance(settings, dict):
        raise _problem(
            path, f"connection {name!r}: settings must be a table", 'write settings.NAME = "value"'
        )
    pairs = []
    for key, value in settings.items():
        if key in known_creds:
            raise _problem(
                path,
                f"connection {name!r}: {key} is a credential, not a setting",
                f"write credentials.{key} = {_EXAMPLE}",
                code="E511",
            )
        if key not in known_settings:
            raise _problem(
                path,
                f"connection {name!r}: {provider_name} has no setting {key!r}",
                f"its settings: {', '.join(sorted(known_settings)) or 'none'}",
            )
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise _problem(
                path,
                f"connection {name!r}: setting {key} must be a string",
                f'write settings.{key} = "value"',
            )
        pairs.append((key, str(value)))
    base_url = body.get("base_url")
    if base_url is not None and (
        not isinstance(base_url, str) or not base_url.startswith(("http://", "https://"))
    ):
        raise _problem(
            path,
            f"connection {name!r}: base_url must be an http(s) URL",
            'write base_url = "https://api.example.com"',
        )
    concurrency = body.get("concurrency")
    if concurrency is not None and (
        not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1
    ):
        raise _problem(
            path,
            f"connection {name!r}: concurrency must be a whole number ≥ 1",
            "write concurrency = 2",
        )
    limit = body.get("rate_limit")
    rate: tuple[int, float] | None = None
    if limit is not None:
        calls = limit.get("calls") if isinstance(limit, dict) else None
        per = limit.get("per_seconds") if isinstance(limit, dict) else None
        if (
            not isinstance(calls, int)
            or isinstance(calls, bool)
            or calls < 1
            or not isinstance(per, int | float)
            or isinstance(per, bool)
            or per <= 0
        ):
            raise _problem(
                path,
                f"connection {name!r}: rate_limit needs calls and per_seconds",
                "write rate_limit = { calls = 100, per_seconds = 60 }",
            )
        rate = (calls, float(per))
    if name in providers and provider_name != name:
        raise _problem(
            path,
            f"connection {name!r} has a provider's name but reads {provider_name}",
            f"a connection named {name!r} replaces that provider's default account: "
            f"give it provider = {name!r}, or another name",
        )
    return Connection(
        name=name,
        provider=provider_name,
        dataset=dataset or None,
        credentials=tuple(sources),
        settings=tuple(pairs),
        base_url=base_url,
        concurrency=concurrency,
        rate_limit=rate,
        path=str(path),
    )


def _read(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise _problem(
            path,
            f"cannot be read ({exc.strerror or type(exc).__name__})",
            "check the path and its permissions",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise _problem(
            path,
            f"is not valid TOML: {exc}",
            "fix the line named; see README, 'Connections', for an example",
        ) from None


def load_config(
    explicit: str | os.PathLike[str] | None = None,
    *,
    providers: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Config:
    """Read and check every config file that applies (see the module docstring)."""
    connections: dict[str, Connection] = {}
    groups: dict[str, tuple[str, ...]] = {}
    group_paths: dict[str, str] = {}
    paths = config_paths(explicit, env, cwd)
    tz: str | None = None
    tz_path: str | None = None
    for path in paths:
        data = _read(path)
        unknown = sorted(set(data) - {"connections", "groups", "tz"})
        if unknown:
            raise _problem(
                path,
                f"unknown top-level keys: {', '.join(unknown)}",
                "the file holds [connections.NAME] tables, a [groups] table and a tz",
            )
        if "tz" in data:
            tz, tz_path = _zone(data["tz"], path), str(path)
        table = data.get("connections", {})
        if not isinstance(table, dict):
            raise _problem(
                path, "connections must be a table of tables", "write [connections.NAME]"
            )
        for name, body in table.items():
            connections[name] = _connection(name, body, path, providers)
        grouping = data.get("groups", {})
        if not isinstance(grouping, dict):
            raise _problem(path, "groups must be a table", 'write [groups] cdn = ["a", "b"]')
        for name, members in grouping.items():
            if not _NAME.match(name):
                raise _problem(
                    path,
                    f"{name!r} cannot name a group",
                    "use letters, digits, _ and -",
                    code="E512",
                )
            if (
                not isinstance(members, list)
                or not members
                or not all(isinstance(m, str) for m in members)
            ):
                raise _problem(
                    path,
                    f"group {name!r} must be a non-empty list of names",
                    f'write {name} = ["conn_a", "conn_b"]',
                    code="E512",
                )
            groups[name] = tuple(members)
            group_paths[name] = str(path)
    config = Config(
        connections=connections,
        groups=groups,
        group_paths=group_paths,
        paths=tuple(str(p) for p in paths),
        tz=tz,
        tz_path=tz_path,
    )
    _check_groups(config, providers)
    return config


def _zone(value: Any, path: Path) -> str:
    """The file's ``tz``: a zone querylang reads (written before any table)."""
    from querylang.localtime import parse_zone

    hint = 'write tz = "Europe/Berlin" (an IANA name) or tz = "+05:30", before any [table]'
    if not isinstance(value, str):
        raise _problem(path, "tz must be a string naming a time zone", hint)
    try:
        parse_zone(value)
    except ValueError:
        raise _problem(path, f"tz {value!r} is not a time zone", hint) from None
    return value


def _check_groups(config: Config, providers: Mapping[str, Any]) -> None:
    from querylang.errors import did_you_mean

    for name, members in config.groups.items():
        path = config.group_paths[name]
        if name in config.connections or name in providers:
            what = "a connection" if name in config.connections else "a provider"
            raise _problem(
                path,
                f"the group {name!r} has the name of {what}",
                "give the group a name of its own",
                code="E512",
            )
        for member in members:
            base = member.partition(".")[0]
            if member in config.connections or base in providers:
                continue
            pool = [*config.connections, *providers]
            guess = did_you_mean(member, pool)
            nested = " (a group cannot hold another group)" if member in config.groups else ""
            raise _problem(
                path,
                f"the group {name!r} lists {member!r}, which is neither a connection nor a "
                f"provider{nested}",
                f"did you mean {guess!r}?" if guess else "list connection or provider names",
                code="E512",
            )
