"""FROM names → accounts: a provider's default account, a named connection, or a group.

Each item of ``FROM`` names one of

- a provider (``gcore``, ``gcore.storage``): its default account, read from the
  environment exactly as without a config file (a connection of the config file named like
  the provider replaces that default);
- a connection of the config file (``fastly_eu``), optionally with a dataset
  (``gcore_prod.storage``);
- a group of the config file (``cdn``): each of its members in turn.

The result is one :class:`Account` per source the query reads; its ``name`` is the value of
the ``account`` dimension (the connection's name, or the provider's for a default account).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs
from attrs import frozen

from querylang import ir
from querylang.errors import BindingError, did_you_mean
from querylang.hookspecs import Provider

if TYPE_CHECKING:
    from querylang.config import Config, Connection

__all__ = ["ACCOUNT", "Account", "accounts", "uses_accounts"]

ACCOUNT = "account"


@frozen(kw_only=True)
class Account:
    """One account a query reads, and the provider/dataset it reads there."""

    name: str  # the ``account`` dimension's value
    source: ir.Source  # the provider and dataset, with the FROM item's span
    connection: Connection | None = None  # None: the provider's default, from the environment
    via: str | None = None  # the group it was listed through

    def key(self) -> tuple[str, str, str | None]:
        src = self.source
        return (self.name, src.provider.value, src.dataset.value if src.dataset else None)


def _named(value: str, span: ir.Span) -> ir.Name:
    return ir.Name(value=value, span=span)


def _from_connection(
    connection: Connection, dataset: ir.Name | None, span: ir.Span, via: str | None
) -> Account:
    if dataset is None and connection.dataset is not None:
        dataset = _named(connection.dataset, span)
    return Account(
        name=connection.name,
        source=ir.Source(provider=_named(connection.provider, span), dataset=dataset, span=span),
        connection=connection,
        via=via,
    )


def _unknown(name: str, span: ir.Span, providers: Mapping[str, Provider], config: Config) -> None:
    pool = [*providers, *config.connections, *config.groups]
    guess = did_you_mean(name, pool)
    known = ", ".join(sorted(providers)) or "none installed"
    if config.connections or config.groups:
        message = (
            f"unknown provider, connection or group {name!r} (providers: {known}; "
            f"connections: {', '.join(config.connections) or 'none'}; "
            f"groups: {', '.join(config.groups) or 'none'})"
        )
        fallback = "run `querylang connections` for the names the config file declares"
    else:
        message = f"unknown provider {name!r} (installed: {known})"
        fallback = "run `querylang providers`"
    raise BindingError(
        "E200",
        message,
        span=span,
        hint=f"did you mean {guess!r}?" if guess else fallback,
    )


def _expand(
    src: ir.Source, providers: Mapping[str, Provider], config: Config, via: str | None
) -> list[Account]:
    name = src.provider.value
    span = src.span if src.span != ir.NO_SPAN else src.provider.span
    if name in config.connections:
        return [_from_connection(config.connections[name], src.dataset, span, via)]
    if name in config.groups:
        if src.dataset is not None:
            raise BindingError(
                "E201",
                f"{name!r} is a group of connections, which has no datasets",
                span=src.dataset.span,
                hint=f"write FROM {name}, or name the dataset in each connection",
            )
        out: list[Account] = []
        for member in config.groups[name]:
            provider, _, dataset = member.partition(".")
            inner = ir.Source(
                provider=_named(provider, src.provider.span),
                dataset=_named(dataset, src.provider.span) if dataset else None,
                span=span,
            )
            out.extend(_expand(inner, providers, config, name))
        return out
    if name in providers:
        return [Account(name=name, source=src, via=via)]
    _unknown(name, src.provider.span, providers, config)
    raise AssertionError("unreachable")


def accounts(
    query: ir.Query, providers: Mapping[str, Provider], config: Config | None
) -> tuple[Account, ...]:
    """Every account ``query`` reads, in FROM order; E200 for an unknown name, E212 for repeats."""
    from querylang.config import Config

    config = config or Config()
    out: list[Account] = []
    seen: dict[tuple[str, str, str | None], Account] = {}
    for src in query.sources:
        for account in _expand(src, providers, config, None):
            earlier = seen.get(account.key())
            if earlier is not None:
                through = [f"through the group {a.via}" for a in (earlier, account) if a.via]
                label = account.name
                if account.source.dataset is not None:
                    label += f" ({account.source.provider.value}.{account.source.dataset.value})"
                raise BindingError(
                    "E212",
                    f"{label} is listed twice in FROM"
                    + (f" ({', '.join(through)})" if through else ""),
                    span=account.source.span,
                    hint="name each connection, provider or dataset once",
                )
            seen[account.key()] = account
            out.append(account)
    return tuple(out)


def uses_accounts(query: ir.Query) -> bool:
    """Whether the query groups or filters by ``account``."""
    return any(n.value == ACCOUNT for n in query.by) or any(
        p.dimension.value == ACCOUNT for p in query.where
    )


def with_source(query: ir.Query, account: Account) -> ir.Query:
    """``query`` reading only ``account``'s provider and dataset."""
    return attrs.evolve(query, sources=(account.source,))
