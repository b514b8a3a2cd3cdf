"""A real PostgreSQL server for tests: a fresh cluster in a temporary folder, on a loopback port.

The binaries come from Debian's ``postgresql`` package, installed on first use by
``tests/system.py``. PostgreSQL refuses to run as root, so as root (CI) the cluster belongs
to the package's ``postgres`` user.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.system import debian_binary


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Start a throw-away cluster; yield its URL (user ``querylang``, database ``postgres``)."""
    initdb = Path(debian_binary("postgresql", "/usr/lib/postgresql/*/bin/initdb"))
    pg_ctl = initdb.parent / "pg_ctl"
    root = Path(tempfile.mkdtemp(prefix="querylang-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", _free_port()

    def sh(*cmd: str) -> None:
        done = subprocess.run([*as_user, *cmd], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            pytest.fail(f"{cmd[0]} failed: {done.stdout[-600:]} {done.stderr[-600:]}")

    sh(str(initdb), "-D", str(data), "-A", "trust", "-U", "querylang", "--no-sync", "-E", "UTF8")
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    sh(str(pg_ctl), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start")
    try:
        yield f"postgresql://querylang@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, str(pg_ctl), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)
