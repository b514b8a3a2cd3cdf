"""The public surface: every exported name resolves, is typed, and import stays cheap."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import querylang

ROOT = Path(__file__).resolve().parents[2]


def test_every_exported_name_resolves() -> None:
    for name in querylang.__all__:
        assert getattr(querylang, name) is not None, name


def test_one_version_string_from_the_installed_metadata() -> None:
    assert querylang.__version__ == importlib.metadata.version("querylang")
    proc = subprocess.run(
        [sys.executable, "-m", "querylang.cli", "--version"], capture_output=True, text=True
    )
    assert proc.stdout.strip() == f"querylang {querylang.__version__}"


def test_the_package_is_marked_typed() -> None:
    assert (ROOT / "querylang" / "py.typed").is_file()


@pytest.mark.skipif(shutil.which("mypy") is None, reason="mypy comes with the test extra")
def test_a_type_checker_sees_real_types_through_the_lazy_exports(tmp_path: Path) -> None:
    snippet = tmp_path / "use.py"
    snippet.write_text(
        "from querylang import run, explain, Frame\n"
        "results = run('SELECT requests FROM gcore EVERY 1h LAST 2h', sandbox=True)\n"
        "reveal_type(results)\n"
        "reveal_type(results[0].frame)\n"
        "reveal_type(explain('x')[0].steps)\n"
        "run('x', sandbx=True)\n"
    )
    proc = subprocess.run(
        ["mypy", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), str(snippet)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    out = proc.stdout.replace("builtins.", "")  # older mypy spells builtins out
    assert 'Revealed type is "list[querylang.engine.Result]"' in out, out
    assert 'Revealed type is "querylang.frames.Frame"' in out, out
    assert 'Revealed type is "tuple[str, ...]"' in out, out
    assert 'Unexpected keyword argument "sandbx"' in out, out
