"""A default time zone from the config file: ``tz = "…"`` at the top of querylang.toml.

The expected bucket starts are derived by hand: Europe/Berlin is UTC+01:00 in November, so
its days start at 23:00Z the evening before, and Asia/Kolkata is UTC+05:30 all year.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from querylang import run
from querylang.config import load_config
from querylang.errors import UsageError
from querylang.plugins import registry
from querylang.timegrid import format_ts
from tests.conftest import NOW, NOW_TEXT

PROVIDERS = registry().providers
DAILY = "SELECT requests FROM gcore EVERY 1d LAST 2d"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No user file or QUERYLANG_CONFIG of the machine's: only what a test writes."""
    monkeypatch.delenv("QUERYLANG_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)


def _write(folder: Path, text: str, name: str = "querylang.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _starts(text: str, config: Path, **kw: str) -> list[str]:
    (result,) = run(text, sandbox=True, now=NOW_TEXT, config=config, **kw)  # type: ignore[arg-type]
    return [format_ts(int(t)) for t in result.frame.time]


def test_the_files_tz_is_the_zone_of_queries_without_one(tmp_path: Path) -> None:
    config = _write(tmp_path, 'tz = "Europe/Berlin"\n')
    assert _starts(DAILY, config) == ["2026-11-17T23:00:00Z", "2026-11-18T23:00:00Z"]
    (same,) = run(f"{DAILY} TZ 'Europe/Berlin'", sandbox=True, now=NOW_TEXT)
    (got,) = run(DAILY, sandbox=True, now=NOW_TEXT, config=config)
    assert got.frame.time.tolist() == same.frame.time.tolist()
    assert got.frame.metrics["requests"].tolist() == same.frame.metrics["requests"].tolist()


def test_a_tz_clause_and_then_tz_come_before_the_files(tmp_path: Path) -> None:
    config = _write(tmp_path, 'tz = "Europe/Berlin"\n')
    assert _starts(f"{DAILY} TZ 'UTC'", config) == ["2026-11-18T00:00:00Z", "2026-11-19T00:00:00Z"]
    assert _starts(DAILY, config, tz="+05:30") == ["2026-11-17T18:30:00Z", "2026-11-18T18:30:00Z"]


def test_the_project_files_tz_wins_over_the_user_files(tmp_path: Path) -> None:
    _write(tmp_path / "xdg" / "querylang", 'tz = "Asia/Kolkata"\n', "config.toml")
    _write(tmp_path / "repo", 'tz = "Europe/Berlin"\n[connections.a]\nprovider = "gcore"\n')
    env: dict[str, str] = {}
    assert load_config(providers=PROVIDERS, env=env, cwd=tmp_path / "repo").tz == "Europe/Berlin"
    _write(tmp_path / "repo", '[connections.a]\nprovider = "gcore"\n')
    assert load_config(providers=PROVIDERS, env=env, cwd=tmp_path / "repo").tz == "Asia/Kolkata"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('tz = "Mars/Olympus"\n', "tz 'Mars/Olympus' is not a time zone"),
        ("tz = 1\n", "tz must be a string naming a time zone"),
        ('[connections.a]\nprovider = "gcore"\ntz = "UTC"\n', "unknown keys: tz"),
    ],
)
def test_a_bad_tz_is_refused_naming_the_file_and_the_fix(
    tmp_path: Path, text: str, words: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(UsageError) as caught:
        load_config(path, providers=PROVIDERS, env={})
    assert caught.value.code == "E510" and words in caught.value.render()
    assert str(path) in caught.value.message and caught.value.hint


def test_a_zone_the_dataset_cannot_tile_names_where_it_came_from(tmp_path: Path) -> None:
    from querylang.checking import check_paths
    from querylang.errors import QueryError

    # gcore.storage has 1h, 12h and 24h only: a +05:45 midnight falls on none of them
    config = _write(tmp_path, 'tz = "+05:45"\n')
    text = "SELECT traffic FROM gcore.storage EVERY 1d LAST 7d"
    with pytest.raises(QueryError) as caught:
        run(text, sandbox=True, now=NOW_TEXT, config=config)
    assert caught.value.code == "E420" and f"(the zone is tz in {config})" in caught.value.message
    assert "write a TZ clause in the query" in (caught.value.hint or "")
    with pytest.raises(QueryError) as caught:
        run(text, sandbox=True, now=NOW_TEXT, config=config, tz="+05:45")
    assert "(the zone is the --tz or .tz setting)" in caught.value.message
    (ok,) = run(f"{text} TZ 'UTC'", sandbox=True, now=NOW_TEXT, config=config)
    assert len(ok.frame) > 0

    query = _write(tmp_path, text + ";\n", "daily.qry")  # beside the file: check finds it
    out = io.StringIO()
    assert check_paths([str(query)], out=out, now=NOW) == 1
    assert "error[E420]" in out.getvalue() and f"(the zone is tz in {config})" in out.getvalue()
