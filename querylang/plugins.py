"""Plugin loading: entry points of group ``querylang``, loaded lazily and once.

``QUERYLANG_PLUGINS`` restricts loading to a comma-separated list of entry-point names
(an empty value loads none).
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
from collections.abc import Mapping
from types import ModuleType
from typing import Any

import pluggy
from attrs import frozen

from querylang import hookspecs
from querylang.errors import UsageError
from querylang.hookspecs import Provider

__all__ = ["PluginInfo", "Registry", "plugin_manager", "registry", "reset"]

ENTRY_POINT_GROUP = "querylang"


@frozen
class PluginInfo:
    """A loaded plugin: its entry-point name, distribution, version and hooks."""

    name: str
    distribution: str
    version: str
    hooks: tuple[str, ...]
    providers: tuple[str, ...]


class Registry:
    """The providers registered by the loaded plugins, by name."""

    def __init__(self, pm: pluggy.PluginManager, infos: dict[str, tuple[str, str]]) -> None:
        self.pm = pm
        self.providers: dict[str, Provider] = {}
        self._owner: dict[str, str] = {}
        self._infos = infos
        for impl in pm.hook.register_providers.get_hookimpls():

            def register(provider: Provider, _plugin: str = impl.plugin_name) -> None:
                self._add(provider, _plugin)

            impl.function(register=register)

    def _add(self, provider: Provider, plugin: str) -> None:
        if provider.name in self.providers:
            raise UsageError(
                f"two plugins register a provider named {provider.name!r}: "
                f"{self._owner[provider.name]!r} and {plugin!r}",
                hint="uninstall one of them, or restrict loading with QUERYLANG_PLUGINS",
            )
        self.providers[provider.name] = provider
        self._owner[provider.name] = plugin

    def get(self, name: str) -> Provider | None:
        return self.providers.get(name)

    def plugins(self) -> list[PluginInfo]:
        out = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:
                continue
            dist, version = self._infos.get(str(name), ("", ""))
            hooks = tuple(
                h.name for h in self.pm.get_hookcallers(plugin) or () if h.name != "__init__"
            )
            provs = tuple(p for p, owner in self._owner.items() if owner == name)
            out.append(PluginInfo(str(name), dist, version, hooks, provs))
        return out


def _wanted() -> set[str] | None:
    raw = os.environ.get("QUERYLANG_PLUGINS")
    if raw is None:
        return None
    return {p.strip() for p in raw.split(",") if p.strip()}


@functools.cache
def plugin_manager() -> tuple[pluggy.PluginManager, Mapping[str, tuple[str, str]]]:
    """The plugin manager with every allowed entry point loaded (once)."""
    pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)
    wanted = _wanted()
    infos: dict[str, tuple[str, str]] = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if wanted is not None and ep.name not in wanted:
            continue
        if pm.get_plugin(ep.name) is not None:
            continue
        try:
            plugin: Any = ep.load()
        except Exception as exc:
            raise UsageError(
                f"the plugin {ep.name!r} ({ep.value}) failed to load: {exc}",
                hint="reinstall it, or leave it out with QUERYLANG_PLUGINS=<names to load>",
            ) from None
        pm.register(plugin, name=ep.name)
        dist = ep.dist
        infos[ep.name] = (dist.name if dist else "", dist.version if dist else "")
    return pm, infos


@functools.cache
def registry() -> Registry:
    """The registry of providers from every loaded plugin."""
    pm, infos = plugin_manager()
    return Registry(pm, dict(infos))


def registry_of(*plugins: ModuleType | object) -> Registry:
    """A registry built from the given plugin objects only (for tests and embedding)."""
    pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)
    for plugin in plugins:
        pm.register(plugin)
    return Registry(pm, {})


def reset() -> None:
    """Forget loaded plugins (tests change QUERYLANG_PLUGINS)."""
    plugin_manager.cache_clear()
    registry.cache_clear()
