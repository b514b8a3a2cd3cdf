"""The conformance suite for provider plugins, shipped as a pytest plugin.

A plugin author adds one line to a test module::

    from querylang.testing import conformance_tests; conformance_tests("edgelog")

and every provider that plugin registers is checked (see docs/conformance.md). The
``pytest11`` entry point only makes the plugin known to pytest; nothing runs until a test
module calls :func:`conformance_tests`.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
from types import ModuleType
from typing import Any

import pytest

from querylang.plugins import registry_of
from querylang.testing.checks import CHECKS, Case, ConformanceFailure

__all__ = ["Case", "ConformanceFailure", "conformance_tests"]


def _load(plugin: str | ModuleType | object) -> object:
    if not isinstance(plugin, str):
        return plugin
    for ep in importlib.metadata.entry_points(group="querylang"):
        if ep.name == plugin:
            loaded: object = ep.load()
            return loaded
    return importlib.import_module(plugin)


def cases(*plugins: str | ModuleType | object) -> list[Case]:
    """One case per (provider, check) for every provider the plugins register."""
    registry = registry_of(*(_load(p) for p in plugins))
    return [
        Case(provider=provider, check=name, run=check)
        for provider in registry.providers.values()
        for name, check in CHECKS.items()
    ]


def conformance_tests(*plugins: str | ModuleType | object) -> None:
    """Add ``test_conformance`` (one test per provider and check) to the calling module.

    ``plugins`` are entry-point names of the ``querylang`` group, importable module names
    or plugin objects (anything with a ``register_providers`` hookimpl).
    """
    found = cases(*plugins)
    if not found:
        raise pytest.UsageError(
            f"conformance_tests{plugins!r}: no provider is registered by these plugins; "
            "pass the entry-point name or module of a plugin that calls register(provider)"
        )

    @pytest.mark.parametrize("case", found, ids=[c.id for c in found])
    def test_conformance(case: Case) -> None:
        case.run(case.provider)

    caller: dict[str, Any] = sys._getframe(1).f_globals
    caller["test_conformance"] = test_conformance


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance: the querylang provider conformance suite")
