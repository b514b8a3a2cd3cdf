"""Docs that cannot drift: the README's commands run, and say what they claim."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
OFFLINE = ("--sandbox", "explain", "describe", "providers", "parse", "check", "fmt --check")


def _commands() -> list[str]:
    found = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.S):
        for line in block.splitlines():
            line = line.split(" #")[0].strip()
            if "querylang " not in line or line.startswith("export"):
                continue
            command = line[line.index("querylang ") :]
            if any(word in command for word in OFFLINE):
                found.append(command)
    return found


COMMANDS = _commands()


def test_the_readme_has_offline_examples() -> None:
    assert "querylang run --sandbox examples/sandbox.qry" in COMMANDS
    assert len(COMMANDS) >= 4


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_runs(command: str) -> None:
    argv = shlex.split(command)[1:]
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    proc = subprocess.run(
        [sys.executable, "-m", "querylang.cli", *argv],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    if argv[0] != "fmt":  # a clean fmt --check is silent, like other formatters
        assert proc.stdout.strip()


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    command = "pip install -e '.[test]' && ruff check . && ruff format --check . && mypy && pytest"
    assert f"```sh\n{command}\n```" in README
    assert command in ci.splitlines()


def test_documented_error_example_is_real() -> None:
    from querylang.engine import explain
    from querylang.errors import QueryError

    example = re.search(r"```text\n(q\.qry:.*?)```", README, re.S).group(1).strip()
    query = re.search(r"1 \| (.*)", example).group(1)
    with pytest.raises(QueryError) as info:
        explain(query, path="q.qry", env={})
    assert info.value.render() == example
