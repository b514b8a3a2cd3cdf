"""Plugin loading through entry points, as a third party's package is loaded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from querylang.errors import UsageError
from querylang.plugins import registry_of

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "querylang-example-plugin"


def _installed_example(tmp_path: Path) -> Path:
    """A site directory holding the example plugin and its entry-point metadata."""
    site = tmp_path / "site"
    info = site / "querylang_example_plugin-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: querylang-example-plugin\nVersion: 0.1.0\n"
    )
    (info / "entry_points.txt").write_text("[querylang]\nedgelog = querylang_edgelog\n")
    (site / "querylang_edgelog").symlink_to(EXAMPLE / "querylang_edgelog")
    return site


def _cli(args: list[str], site: Path, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "PYTHONPATH": str(site), **env}
    return subprocess.run(
        [sys.executable, "-m", "querylang.cli", *args],
        capture_output=True, text=True, env=full, cwd=ROOT, timeout=60,
    )  # fmt: skip


def test_a_third_party_plugin_is_found_through_its_entry_point(tmp_path: Path) -> None:
    site = _installed_example(tmp_path)
    proc = _cli(["providers"], site)
    assert proc.returncode == 0, proc.stderr
    assert "edgelog  (querylang-example-plugin 0.1.0)  hooks: register_providers" in proc.stdout
    assert "gcore" in proc.stdout
    proc = _cli(["run", "--sandbox", "--now", "2026-11-20T05:00:00Z", "-f", "csv", "-e",
                 "SELECT bytes BY site FROM edgelog EVERY 1h LAST 2h"], site)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "time,site,bytes,state"


def test_loading_can_be_restricted(tmp_path: Path) -> None:
    site = _installed_example(tmp_path)
    proc = _cli(["providers"], site, QUERYLANG_PLUGINS="edgelog")
    assert "edgelog" in proc.stdout and "gcore" not in proc.stdout
    proc = _cli(["run", "--sandbox", "-e", "SELECT sent_bytes FROM gcore LAST 1d"], site,
                QUERYLANG_PLUGINS="edgelog")  # fmt: skip
    assert proc.returncode == 2 and "unknown provider 'gcore'" in proc.stderr


def test_duplicate_provider_names_are_an_error() -> None:
    import querylang_providers.gcore as gcore

    class Again:
        register_providers = staticmethod(gcore.register_providers)

    with pytest.raises(UsageError, match="two plugins register a provider named 'gcore'"):
        registry_of(gcore, Again())


def test_every_hook_and_provider_method_is_documented() -> None:
    import inspect

    from querylang import hookspecs

    doc = (ROOT / "docs" / "plugins.md").read_text().replace("\n", " ")
    plain = lambda text: text.replace("``", "`")  # noqa: E731
    assert "### `register_providers(register)`" in doc
    assert plain(inspect.getdoc(hookspecs.register_providers).splitlines()[0]) in doc
    for name, member in vars(hookspecs.Provider).items():
        if name.startswith("_") or not (callable(member) or isinstance(member, property)):
            continue
        func = member.fget if isinstance(member, property) else member
        assert f"### `{name}`" in doc, f"{name} is not documented"
        summary = plain(inspect.getdoc(func).splitlines()[0])
        assert summary.rstrip(".") in doc, f"{name}: docstring not in docs"
        sig = str(inspect.signature(func)).replace("'", "")
        assert f"{name}{sig}" in doc, f"{name}{sig} is not in docs/plugins.md"
