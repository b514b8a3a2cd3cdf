"""Shared fixtures: a pinned clock, and provider emulators on loopback ports."""

from __future__ import annotations

import os
import tempfile

import pytest
from hypothesis import settings

from querylang.emulation import serve
from querylang.plugins import registry
from querylang.timegrid import parse_ts

# CI runs the same examples every time (no surprise seeds, no deadline on a busy machine);
# locally hypothesis explores new ones.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")

# No test writes into the real user cache directory: the result store of every CLI and
# REPL run (and of any subprocess, which inherits the environment) lives in a temporary
# folder, a fresh one for each test.
os.environ["QUERYLANG_CACHE_DIR"] = tempfile.mkdtemp(prefix="querylang-cache-")


@pytest.fixture(autouse=True)
def _private_result_store(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("QUERYLANG_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


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
