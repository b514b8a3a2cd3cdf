"""Shared fixtures: a pinned clock, and provider emulators on loopback ports."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from querylang.emulation import serve
from querylang.plugins import registry
from querylang.timegrid import parse_ts

# CI runs the same examples every time (no surprise seeds, no deadline on a busy machine);
# locally hypothesis explores new ones.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")

NOW_TEXT = "2026-11-20T05:00:00Z"
NOW = parse_ts(NOW_TEXT)


@pytest.fixture
def now() -> int:
    return NOW


@pytest.fixture
def gcore_server():
    """The Gcore emulator on a loopback port, its clock pinned to NOW."""
    provider = registry().get("gcore")
    with serve(provider.emulator(lambda: float(NOW))) as server:
        yield server


@pytest.fixture
def gcore_env(gcore_server) -> dict[str, str]:
    """Environment that points the gcore provider at the loopback emulator."""
    return {"GCORE_API_KEY": "test-key-1234", "QUERYLANG_GCORE_BASE_URL": gcore_server.url}
