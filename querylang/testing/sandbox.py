"""Where every check runs: a fixed clock, made-up credentials, one provider, no network."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from querylang.context import env_name
from querylang.hookspecs import Provider, hookimpl
from querylang.plugins import Registry, registry_of
from querylang.timegrid import Granularity, format_ts, parse_ts

NOW = parse_ts("2026-11-20T00:00:00Z")


class ConformanceFailure(AssertionError):
    """A provider broke the contract: names the provider, the check and the fix."""

    def __init__(self, provider: str, check: str, problem: str, fix: str) -> None:
        super().__init__(f"provider {provider!r} fails the {check!r} check: {problem}; fix: {fix}")


def fail(p: Provider, check: str, problem: str, fix: str) -> NoReturn:
    raise ConformanceFailure(p.name, check, problem, fix)


def source(p: Provider, dataset: str) -> str:
    """The FROM clause naming one dataset of the provider."""
    return p.name if dataset == p.default_dataset else f"{p.name}.{dataset}"


def secrets(p: Provider) -> dict[str, str]:
    """Made-up credential values, each recognisable in any text it leaks into."""
    return {c.env: f"qlconf-secret-{i}-{p.name}" for i, c in enumerate(p.credentials)}


def env_for(p: Provider, url: str | None = None) -> dict[str, str]:
    """The environment of a run: sandbox settings, made-up secrets, the emulator's URL."""
    env = {s.env: s.sandbox if s.sandbox is not None else s.default for s in p.settings}
    env.update(secrets(p))
    if url is not None:
        env[env_name(p.name, "BASE_URL")] = url
    return env


class _One:
    """A plugin object registering one given provider."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    @hookimpl
    def register_providers(self, register: Callable[[Provider], None]) -> None:
        register(self.provider)


def registry(p: Provider) -> Registry:
    """A registry holding only ``p``."""
    return registry_of(_One(p))


@contextmanager
def no_network() -> Iterator[list[str]]:
    """Any socket connection attempt fails (and is recorded)."""
    attempts: list[str] = []
    real = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        attempts.append(str(address))
        raise OSError("querylang conformance: no I/O allowed here")

    socket.socket.connect = connect  # type: ignore[method-assign, assignment]
    try:
        yield attempts
    finally:
        socket.socket.connect = real  # type: ignore[method-assign]


def window(grain: Granularity, buckets: int = 3) -> tuple[int, int]:
    """``buckets`` whole buckets of ``grain`` ending one bucket before the one holding NOW."""
    end = grain.add(grain.floor(NOW), -1)
    return grain.add(end, -buckets), end


def between(start: int, end: int) -> str:
    return f"BETWEEN '{format_ts(start)}' AND '{format_ts(end)}'"
