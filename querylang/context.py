"""A provider's context for one run: base URL, credentials and settings.

From the environment for a provider's default account, or from a connection of the config
file (:mod:`querylang.config`) for a named one. Used by the engine (run, explain),
``check`` (sandbox settings, no secrets) and ``describe`` (the environment variable names).
Secrets read here are remembered (:func:`known_secrets`) so that no output can show them.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from querylang import redaction
from querylang.errors import CredentialsError
from querylang.hookspecs import Provider
from querylang.wire import ProviderContext

if TYPE_CHECKING:
    from querylang.config import Connection

__all__ = ["env_name", "known_secrets", "provider_context", "remember_secret", "sandbox_url"]


def remember_secret(value: str) -> None:
    """Note a secret read by this process (from a command, say) so output can hide it."""
    redaction.remember(value)


def known_secrets() -> frozenset[str]:
    return redaction.known()


def env_name(provider: str, suffix: str) -> str:
    """``QUERYLANG_<PROVIDER>_<SUFFIX>`` with dots turned into underscores."""
    return f"QUERYLANG_{provider.upper().replace('.', '_').replace('-', '_')}_{suffix}"


def sandbox_url(provider: Provider, connection: Connection | None) -> str:
    """The emulator's address: the vendor's own for the default account, one per connection."""
    if connection is None:
        return provider.base_url
    parts = urlsplit(provider.base_url)
    slug = connection.name.lower().replace("_", "-")
    tag = f"{zlib.crc32(connection.name.encode()):08x}"
    return f"{parts.scheme}://{slug}-{tag}.{parts.netloc}{parts.path}"


def provider_context(
    provider: Provider,
    env: Mapping[str, str],
    now: int,
    *,
    sandbox: bool,
    need_secrets: bool,
    connection: Connection | None = None,
) -> ProviderContext:
    """Base URL, credentials and settings for one account of ``provider``.

    Without ``need_secrets`` no secret is read (and no credential command is run): each
    credential is a placeholder, enough for ``check`` and ``explain``.
    """
    if sandbox:
        base_url = sandbox_url(provider, connection)
    else:
        base_url = (
            (connection.base_url if connection else None)
            or env.get(env_name(provider.name, "BASE_URL"))
            or provider.base_url
        )
    credentials: dict[str, str] = {}
    whose: list[str] = []  # what tells whose credentials they are: each value, or its command
    for cred in provider.credentials:
        if sandbox:
            credentials[cred.env] = "sandbox"
            continue
        source = connection.credential(cred.env) if connection is not None else None
        variable = cred.env if source is None else source.env  # None: a command prints it
        if variable is not None:
            whose.append(f"{cred.env} {env.get(variable) or ''}")
        elif source is not None:
            whose.append(f"{cred.env} command {source.command!r}")  # the same, run or not
        if not need_secrets:
            # Reading the environment is harmless; a credential command is never run here.
            value = env.get(variable) if variable else None
            credentials[cred.env] = value or f"<{cred.env}>"
            if value:
                remember_secret(value)
            continue
        if connection is None or source is None:
            value = env.get(cred.env)
            if not value:
                raise CredentialsError(
                    f"{provider.name} needs {cred.env} — {cred.description} — which is not "
                    "set; nothing was sent",
                    hint=f"export {cred.env}=<value>, or add --sandbox to query the built-in "
                    "emulator instead",
                )
        else:
            value = source.read(env, connection.name)
            if not value:
                raise CredentialsError(
                    f"connection {connection.name!r} ({provider.name}) needs {cred.env} — "
                    f"{cred.description} — from the environment variable {source.env}, which "
                    "is not set; nothing was sent",
                    hint=f"export {source.env}=<value>, or change where the connection reads "
                    f"it in {connection.path}",
                )
        remember_secret(value)
        credentials[cred.env] = value
    configured = dict(connection.settings) if connection else {}
    settings = {}
    for s in provider.settings:
        if sandbox and s.sandbox is not None:
            settings[s.env] = s.sandbox
        elif s.env in configured:
            settings[s.env] = configured[s.env]
        else:
            settings[s.env] = env.get(s.env, s.default)
    return ProviderContext(
        base_url=base_url,
        credentials=credentials,
        settings=settings,
        now=now,
        identity=_fingerprint(whose),
    )


def _fingerprint(parts: list[str]) -> str:
    """A one-way digest of the credentials' values (a command's text for a credential a
    command prints): the same for the same account's credentials in every process, and
    nothing a secret can be read back from. Empty without credentials (the sandbox)."""
    if not parts:
        return ""
    import hashlib

    return hashlib.sha256("\0".join(("querylang store", *parts)).encode()).hexdigest()[:32]
