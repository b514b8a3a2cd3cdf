"""Debian packages that some tests need: installed by the tests themselves when missing.

CI runs the README's test command on a fresh machine, so a test that needs a real
PostgreSQL server or a headless browser installs the Debian package on first use (as
root, through apt-get, one process at a time) instead of relying on a hand-made set-up.
A machine where that is impossible fails the test with the command to run, never skips
it silently.
"""

from __future__ import annotations

import fcntl
import glob
import os
import shutil
import subprocess
from pathlib import Path

import pytest

_LOCK = Path("/tmp/querylang-apt.lock")


def _found(candidates: tuple[str, ...]) -> str | None:
    for pattern in candidates:
        if "/" not in pattern:
            path = shutil.which(pattern)
            if path:
                return path
            continue
        for path in sorted(glob.glob(pattern), reverse=True):
            if os.access(path, os.X_OK):
                return path
    return None


def debian_binary(package: str, *candidates: str) -> str:
    """The path of an executable from a Debian package, installing the package if needed.

    `candidates` are executable names on PATH or glob patterns of absolute paths, e.g.
    ``debian_binary("postgresql", "/usr/lib/postgresql/*/bin/initdb")``.
    """
    path = _found(candidates)
    if path:
        return path
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.fail(
            f"this test needs the Debian package {package!r}, which is not installed; "
            f"install it with: sudo apt-get install -y --no-install-recommends {package}"
        )
    _LOCK.touch(exist_ok=True)
    with _LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        path = _found(candidates)
        if path:
            return path
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for command in (
            ["apt-get", "update", "-qq"],
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
        ):
            done = subprocess.run(command, env=env, capture_output=True, text=True)
            if done.returncode != 0 and command[1] == "install":
                pytest.fail(
                    f"installing the Debian package {package!r} failed "
                    f"(apt-get exit {done.returncode}): {done.stderr.strip()[-400:]}"
                )
    path = _found(candidates)
    if path is None:
        pytest.fail(f"the Debian package {package!r} installed no {candidates[0]!r}")
    return path
