"""The wheel carries the grammar and the built-in plugins; a query parses from it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_ships_grammar_plugins_and_entry_points(tmp_path: Path) -> None:
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
         "-q", "-w", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    (wheel,) = tmp_path.glob("querylang-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "querylang/grammar/querylang.lark" in names
    assert "querylang/reference.md" in names  # querylang explain-code reads it
    assert "querylang_providers/gcore/wire/cdn.py" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[querylang]" in text and "gcore = querylang_providers.gcore" in text

    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "import querylang.syntax as s\n"
        "assert s.__file__.startswith(sys.argv[1]), s.__file__\n"
        "f = s.parse('SELECT sent_bytes BY region FROM gcore EVERY 1h LAST 7d')\n"
        "print(f.queries[0].source.provider.value)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(wheel)], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "gcore"
