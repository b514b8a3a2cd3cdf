"""A provider's context for one run: base URL, credentials and settings, from the environment.

Used by the engine (run, explain), ``check`` (with sandbox settings, no secrets) and
``describe`` (the environment variable names).
"""

from __future__ import annotations

from collections.abc import Mapping

from querylang.errors import CredentialsError
from querylang.hookspecs import Provider
from querylang.wire import ProviderContext

__all__ = ["env_name", "provider_context"]


def env_name(provider: str, suffix: str) -> str:
    """``QUERYLANG_<PROVIDER>_<SUFFIX>`` with dots turned into underscores."""
    return f"QUERYLANG_{provider.upper().replace('.', '_').replace('-', '_')}_{suffix}"


def provider_context(
    provider: Provider,
    env: Mapping[str, str],
    now: int,
    *,
    sandbox: bool,
    need_secrets: bool,
) -> ProviderContext:
    """Base URL, credentials and settings for one provider, from the environment."""
    base_url = (
        provider.base_url
        if sandbox
        else env.get(env_name(provider.name, "BASE_URL")) or provider.base_url
    )
    credentials: dict[str, str] = {}
    for cred in provider.credentials:
        value = env.get(cred.env)
        if sandbox:
            value = "sandbox"
        elif not value:
            if need_secrets:
                raise CredentialsError(
                    f"{provider.name} needs {cred.env} — {cred.description} — which is not "
                    "set; nothing was sent",
                    hint=f"export {cred.env}=<value>, or add --sandbox to query the built-in "
                    "emulator instead",
                )
            value = f"<{cred.env}>"
        credentials[cred.env] = value
    settings = {
        s.env: s.sandbox if sandbox and s.sandbox is not None else env.get(s.env, s.default)
        for s in provider.settings
    }
    return ProviderContext(base_url=base_url, credentials=credentials, settings=settings, now=now)
