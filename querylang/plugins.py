"""Plugin loading: entry points of group ``querylang``, loaded lazily and once.

``QUERYLANG_PLUGINS`` restricts loading to a comma-separated list of entry-point names
(an empty value loads none).

Finding the entry points means importing :mod:`importlib.metadata` and reading every
installed distribution's metadata, which costs more than the rest of ``querylang check``
together. So the group's entry points are kept in ``entry-points.json`` in the cache
directory (``$QUERYLANG_CACHE_DIR`` or the user cache directory), together with the
interpreter, ``sys.path`` and the modification time of every ``sys.path`` directory:
installing, upgrading or removing a distribution changes its directory, and the next
process scans again. A directory whose time changed for another reason (a file written in
the current directory, which ``python -m`` puts on ``sys.path``) keeps the list when its
distributions (``*.dist-info``, ``*.egg-info``) and their times are those of the scan. An
entry point that no longer imports from a kept list also makes it scan again, so a stale
list cannot hide a plugin or break loading.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy
from attrs import frozen

from querylang import hookspecs
from querylang.errors import UsageError
from querylang.hookspecs import Provider

__all__ = [
    "EntryPoint",
    "PluginInfo",
    "Registry",
    "entry_points",
    "plugin_manager",
    "registry",
    "reset",
]

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

    def __init__(self, pm: pluggy.PluginManager, infos: Mapping[str, str]) -> None:
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
            dist = self._infos.get(str(name), "")
            version = _version(dist) if dist else ""
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


def _version(distribution: str) -> str:
    """A distribution's version, read only where it is shown (reading metadata is slow)."""
    import importlib.metadata

    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return ""


@frozen
class EntryPoint:
    """One entry point of the group: its name, ``module:attribute`` and distribution."""

    name: str
    value: str
    distribution: str

    def load(self) -> Any:
        """Import the module and look the attribute up, as importlib.metadata does."""
        match = _VALUE.match(self.value)
        if match is None:
            raise ValueError(f"{self.value!r} is not of the form module:attribute")
        found: Any = importlib.import_module(match["module"])
        for attribute in filter(None, (match["attr"] or "").split(".")):
            found = getattr(found, attribute)
        return found


# The value syntax of the entry-point specification (importlib.metadata.EntryPoint.pattern).
_VALUE = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$")
_SCAN_FILE = "entry-points.json"
_SCAN_FORMAT = 1
_SCANS_KEPT = 8


def _scan() -> list[EntryPoint]:
    """The group's entry points, found by importlib.metadata (the slow way)."""
    import importlib.metadata

    return [
        EntryPoint(ep.name, ep.value, ep.dist.name if ep.dist else "")
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    ]


def _scan_file() -> Path:
    from querylang.cachedir import cache_dir

    return cache_dir() / _SCAN_FILE


def _environment() -> dict[str, Any]:
    """What a scan depends on: the interpreter, sys.path, and each entry's modification time."""
    paths: list[list[str]] = []
    mtimes: list[int | None] = []
    for entry in sys.path:
        where = os.path.abspath(entry or ".")
        paths.append([entry, where])
        try:
            mtimes.append(os.stat(where).st_mtime_ns)
        except OSError:
            mtimes.append(None)
    where_from = [_SCAN_FORMAT, sys.version, sys.executable, ENTRY_POINT_GROUP, paths]
    return {"where": where_from, "mtimes": mtimes}


def _distributions(where: str) -> list[list[Any]] | None:
    """The distribution metadata in a ``sys.path`` directory (what importlib.metadata looks
    for: ``*.dist-info``, ``*.egg-info``, an egg's ``EGG-INFO``), by name with its
    modification time; None for an entry that cannot be listed (an archive, a missing one)."""
    try:
        with os.scandir(where) as entries:
            return sorted(
                [entry.name, entry.stat().st_mtime_ns]
                for entry in entries
                if entry.name.lower().endswith((".dist-info", "egg-info"))
            )
    except OSError:
        return None


def _same_distributions(record: dict[str, Any], environment: dict[str, Any]) -> bool:
    """Whether every ``sys.path`` directory whose time changed since the record's scan
    still holds the distributions it held then."""
    kept, paths = record.get("distributions"), environment["where"][-1]
    if not isinstance(kept, list) or len(kept) != len(paths):
        return False
    then = record["environment"].get("mtimes")
    if not isinstance(then, list) or len(then) != len(paths):
        return False
    for (_, where), old, new, dists in zip(paths, then, environment["mtimes"], kept, strict=True):
        if old != new and (dists is None or _distributions(where) != dists):
            return False
    return True


def _records() -> list[dict[str, Any]]:
    """The scans kept by earlier processes, most recent first ([] if none can be read)."""
    try:
        with _scan_file().open("rb") as handle:
            kept = json.load(handle)
        return [r for r in kept["scans"] if isinstance(r, dict)]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _kept(environment: dict[str, Any]) -> list[EntryPoint] | None:
    """The entry points kept by an earlier process in this same environment, if any."""
    for record in _records():
        kept = record.get("environment")
        if not isinstance(kept, dict) or kept.get("where") != environment["where"]:
            continue
        same = kept == environment
        if not same and not _same_distributions(record, environment):
            return None
        try:
            found = [EntryPoint(*row) for row in record["entry_points"]]
        except (KeyError, TypeError):
            return None
        if not same:  # kept again with today's times: the next process need not look
            _keep(environment, found)
        return found
    return None


def _keep(environment: dict[str, Any], found: Sequence[EntryPoint]) -> None:
    """Keep the scan for later processes; a cache that cannot be written is skipped.

    One file holds the scans of the last few interpreters and ``sys.path`` lists (the
    console script and ``python -m`` each see their own), so they do not evict each other;
    a new scan replaces the one made for the same ``sys.path`` before something changed.
    """
    target = _scan_file()
    rows = [[ep.name, ep.value, ep.distribution] for ep in found]
    others = [
        r
        for r in _records()
        if not isinstance(r.get("environment"), dict)
        or r["environment"].get("where") != environment["where"]
    ]
    distributions = [_distributions(where) for _, where in environment["where"][-1]]
    scan = {"environment": environment, "entry_points": rows, "distributions": distributions}
    scans = [scan, *others][:_SCANS_KEPT]
    scratch = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch.write_text(json.dumps({"scans": scans}), encoding="utf-8")
        os.replace(scratch, target)  # atomic: a reader sees the old file or the new one
    except OSError:
        with contextlib.suppress(OSError):
            scratch.unlink(missing_ok=True)


def entry_points() -> tuple[list[EntryPoint], bool]:
    """The group's entry points in importlib.metadata's order, and whether they were kept."""
    environment = _environment()
    kept = _kept(environment)
    if kept is not None:
        return kept, True
    found = _scan()
    _keep(environment, found)
    return found, False


def _load(found: Sequence[EntryPoint]) -> tuple[pluggy.PluginManager, Mapping[str, str]]:
    pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)
    wanted = _wanted()
    infos: dict[str, str] = {}  # entry-point name -> distribution name
    for ep in found:
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
        infos[ep.name] = ep.distribution
    return pm, infos


@functools.cache
def plugin_manager() -> tuple[pluggy.PluginManager, Mapping[str, str]]:
    """The plugin manager with every allowed entry point loaded (once)."""
    found, kept = entry_points()
    if not kept:
        return _load(found)
    try:
        return _load(found)
    except UsageError:  # the kept list may be stale in a way no modification time shows
        fresh = _scan()
        _keep(_environment(), fresh)
        return _load(fresh)


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
