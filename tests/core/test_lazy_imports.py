"""Start-up loads only what a command uses: ``check`` and ``--help`` stay light.

Each case runs the command in a fresh interpreter, the way the console script does, and
lists ``sys.modules`` at the end. The entry-point list is kept in the cache directory after
the first process, so the light path is checked in a second process with the same cache.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "querylang-example-plugin"

# Modules that no checking or help text needs: arrays, HTTP, terminal styling, dataframes.
HEAVY = ("numpy", "httpx", "rich", "pandas", "pyarrow", "polars", "prompt_toolkit")
# What the start-up work of issue #14 keeps out: distribution metadata (the entry-point
# list is kept), email parsing (only an HTTP-date Retry-After needs it), subprocess and
# TOML (only a credential command and a connections file need them), the formatter, and
# Lark itself (the grammar's standalone parser, kept in the cache, is all a parse needs).
LAZY = ("importlib.metadata", "email", "subprocess", "tomllib", "querylang.printer", "lark")
# Decoders of answers, which ``check`` never reads (Fastly's typed decoding uses msgspec).
DECODERS = ("msgspec", "orjson")
# The wires of datasets the checked file does not ask (its query is FROM gcore: the CDN
# wire only), fuzzy matching (no name is misspelt) and time-zone data (no TZ is named).
UNASKED = (
    "querylang_providers.baishan.wire",
    "querylang_providers.fastly.wire",
    "querylang_providers.gcore.wire.storage",
    "querylang_providers.stackpath.wire.auth",
    "querylang_providers.stackpath.wire.cdn",
    "difflib",
    "zoneinfo",
    # What the generated parser imports only to log and to save or load Lark's own cache
    # (querylang.parser makes those imports lazy), and base64 (a secret scrubbed uses it).
    "logging",
    "pickle",
    "base64",
)

RUN_AND_LIST = (
    "import runpy, sys\n"
    "sys.argv = ['querylang', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_module('querylang.cli', run_name='__main__')\n"
    "except SystemExit as exc:\n"
    "    code = exc.code\n"
    "print('\\nMODULES ' + ' '.join(sorted(sys.modules)))\n"
    "print('EXIT', code)\n"
)


def _run(args: list[str], cache: Path, cwd: Path, **env: str) -> tuple[str, set[str], int]:
    """Run ``querylang ARGS`` in ``cwd/work``: the cache is kept outside the folder the
    interpreter puts on sys.path, so that the kept scans stand apart from it."""
    cwd = cwd / "work"
    cwd.mkdir(exist_ok=True)
    full = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    full.update({"QUERYLANG_CACHE_DIR": str(cache), **env})
    full.pop("QUERYLANG_PLUGINS", None)
    proc = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST, *args],
        capture_output=True, text=True, env=full, cwd=cwd, timeout=60,
    )  # fmt: skip
    lines = proc.stdout.splitlines()
    modules = next(line for line in lines if line.startswith("MODULES ")).split()[1:]
    code = int(lines[-1].split()[1])
    return proc.stdout + proc.stderr, set(modules), code


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in names or m in names)


@pytest.fixture
def query(tmp_path: Path) -> Path:
    path = tmp_path / "one.qry"
    path.write_text(
        "SELECT sent_bytes, requests BY region, resource FROM gcore\n"
        "WHERE resource IN (1, 2) AND region != 'cis' EVERY 1h LAST 7d;\n"
    )
    return path


def test_check_of_a_valid_file_loads_no_heavy_module(tmp_path: Path, query: Path) -> None:
    cache = tmp_path / "cache"
    first, modules, code = _run(["check", str(query)], cache, tmp_path)
    assert code == 0 and "checked 1 file: no problems" in first, first
    assert _loaded(modules, HEAVY) == []
    again, modules, code = _run(["check", str(query)], cache, tmp_path)
    assert code == 0 and "checked 1 file: no problems" in again, again
    assert _loaded(modules, HEAVY) == []
    assert [m for m in LAZY if m in modules] == []
    assert _loaded(modules, DECODERS) == []
    assert [m for m in UNASKED if m in modules] == []
    assert "querylang_providers.gcore.wire.cdn" in modules  # the query was compiled


def test_help_loads_no_heavy_module_and_no_parser(tmp_path: Path) -> None:
    out, modules, code = _run(["--help"], tmp_path / "cache", tmp_path)
    assert code == 0 and "usage: querylang" in out
    assert _loaded(modules, (*HEAVY, "lark", "attrs", "pluggy")) == []
    assert [m for m in LAZY if m in modules] == []


def test_version_is_still_read_from_the_installed_metadata(tmp_path: Path) -> None:
    import importlib.metadata

    out, _, code = _run(["--version"], tmp_path / "cache", tmp_path)
    assert code == 0
    assert out.splitlines()[0] == f"querylang {importlib.metadata.version('querylang')}"


def _site_with_example(site: Path) -> Path:
    """Install the example plugin into ``site`` (its metadata and a link to its package)."""
    info = site / "querylang_example_plugin-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: querylang-example-plugin\nVersion: 0.1.0\n"
    )
    (info / "entry_points.txt").write_text("[querylang]\nedgelog = querylang_edgelog\n")
    (site / "querylang_edgelog").symlink_to(EXAMPLE / "querylang_edgelog")
    return info


def test_a_plugin_installed_after_the_list_was_kept_is_found(tmp_path: Path) -> None:
    cache, site = tmp_path / "cache", tmp_path / "site"
    site.mkdir()
    out, _, code = _run(["providers"], cache, tmp_path, PYTHONPATH=str(site))
    assert code == 0 and "edgelog" not in out and "gcore" in out, out
    kept = json.loads((cache / "entry-points.json").read_text())
    assert [ep[0] for ep in kept["scans"][0]["entry_points"]] == [
        "baishan", "fastly", "gcore", "stackpath",
    ]  # fmt: skip

    _site_with_example(site)  # changes the folder's modification time
    out, _, code = _run(["providers"], cache, tmp_path, PYTHONPATH=str(site))
    assert code == 0, out
    assert "edgelog  (querylang-example-plugin 0.1.0)  hooks: register_providers" in out


def test_a_file_that_is_no_distribution_keeps_the_list(tmp_path: Path, query: Path) -> None:
    cache, site = tmp_path / "cache", tmp_path / "site"
    site.mkdir()
    _, modules, code = _run(["check", str(query)], cache, tmp_path, PYTHONPATH=str(site))
    assert code == 0 and "importlib.metadata" in modules  # the first process scans
    before = site.stat().st_mtime_ns
    (site / "notes.txt").write_text("not a distribution")
    os.utime(site, ns=(before + 10**9, before + 10**9))  # a folder time surely changed
    out, modules, code = _run(["check", str(query)], cache, tmp_path, PYTHONPATH=str(site))
    assert code == 0 and "checked 1 file: no problems" in out, out
    assert "importlib.metadata" not in modules  # its distributions are those of the scan
    _, modules, code = _run(["check", str(query)], cache, tmp_path, PYTHONPATH=str(site))
    assert code == 0 and "importlib.metadata" not in modules
    (kept,) = json.loads((cache / "entry-points.json").read_text())["scans"]
    assert before + 10**9 in kept["environment"]["mtimes"]  # kept again with the new time


def test_a_kept_list_that_went_stale_unseen_is_scanned_again(tmp_path: Path, query: Path) -> None:
    cache, site = tmp_path / "cache", tmp_path / "site"
    site.mkdir()
    info = _site_with_example(site)
    out, _, code = _run(["providers"], cache, tmp_path, PYTHONPATH=str(site))
    assert code == 0 and "edgelog" in out, out

    # Remove the plugin behind the cache's back: the folder's time is put back as it was.
    stamp = site.stat()
    for file in info.iterdir():
        file.unlink()
    info.rmdir()
    (site / "querylang_edgelog").unlink()
    os.utime(site, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))

    out, _, code = _run(["check", str(query)], cache, tmp_path, PYTHONPATH=str(site))
    assert code == 0 and "checked 1 file: no problems" in out, out
    out, _, code = _run(["providers"], cache, tmp_path, PYTHONPATH=str(site))
    assert code == 0 and "edgelog" not in out and "gcore" in out, out


def test_an_unwritable_cache_directory_only_costs_time(tmp_path: Path, query: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    out, _, code = _run(["check", str(query)], blocker / "cache", tmp_path)
    assert code == 0 and "checked 1 file: no problems" in out, out


def test_a_damaged_kept_parser_is_made_again(tmp_path: Path, query: Path) -> None:
    cache = tmp_path / "cache"
    out, _, code = _run(["check", str(query)], cache, tmp_path)
    assert code == 0, out
    (kept,) = cache.glob("querylang_lalr_*.py")
    kept.write_text("this is not python")
    for compiled in (cache / "__pycache__").glob("querylang_lalr_*"):
        compiled.unlink()
    out, modules, code = _run(["check", str(query)], cache, tmp_path)
    assert code == 0 and "checked 1 file: no problems" in out, out
    assert "lark" in modules  # made again with Lark
    assert "Lark_StandAlone" in kept.read_text()
    out, modules, code = _run(["check", str(query)], cache, tmp_path)
    assert code == 0 and "lark" not in modules, out


def test_a_lazy_wire_imports_its_module_on_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from querylang.provider import LazyWire
    from querylang_providers.gcore.catalog import CDN_DATASET as dataset

    (tmp_path / "lazy_wire_probe.py").write_text(
        "from querylang.provider import Wire\n"
        "class HitsWire(Wire):\n"
        "    def compile(self, query, context):\n"
        "        return ('compiled', query, context)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "lazy_wire_probe", raising=False)
    wire = LazyWire(dataset, "lazy_wire_probe:HitsWire")
    assert wire.dataset is dataset and "lazy_wire_probe" not in sys.modules
    assert wire.compile("q", "c") == ("compiled", "q", "c")  # type: ignore[arg-type]
    assert "lazy_wire_probe" in sys.modules
    assert wire.loaded() is wire.loaded()  # made once


def test_every_built_in_lazy_wire_speaks_for_its_catalog() -> None:
    from querylang.plugins import registry
    from querylang.provider import HttpProvider, LazyWire

    for provider in registry().providers.values():
        assert isinstance(provider, HttpProvider)
        for wire in provider.wires:
            assert isinstance(wire, LazyWire)
            assert wire.loaded().dataset is wire.dataset, (provider.name, wire.dataset.name)
