"""check: every problem in query files, as text or JSON; golden files pin the output."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

import querylang_providers.gcore
from querylang.checking import check_paths, check_text
from querylang.plugins import registry_of
from tests.conftest import NOW

GOLDEN = Path(__file__).parent / "golden" / "check"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MINE = ("daily_egress.qry", "hit_ratio.qry", "weekly_report.qry", "incident.qry")
GCORE = registry_of(querylang_providers.gcore)
UPDATE = os.environ.get("QUERYLANG_UPDATE_GOLDEN") == "1"


def _check(paths: list[str], fmt: str = "text", **kwargs: object) -> tuple[int, str]:
    out = io.StringIO()
    kwargs.setdefault("registry", GCORE)
    kwargs.setdefault("env", {})
    code = check_paths(paths, fmt=fmt, out=out, now=NOW, **kwargs)  # type: ignore[arg-type]
    return code, out.getvalue()


@pytest.mark.parametrize("case", sorted(GOLDEN.glob("*.qry")), ids=lambda p: p.stem)
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_golden(case: Path, fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(GOLDEN)
    code, out = _check([case.name], fmt)
    expected = case.with_suffix(f".expected.{'txt' if fmt == 'text' else 'json'}")
    if UPDATE:
        expected.write_text(out, encoding="utf-8")
    assert out == expected.read_text(encoding="utf-8"), (
        f"rerun with QUERYLANG_UPDATE_GOLDEN=1 to see {expected.name}"
    )
    assert code == (0 if case.stem == "clean" else 1)


def test_golden_cases_cover_every_statically_found_code() -> None:
    found = set()
    for path in GOLDEN.glob("*.expected.json"):
        found |= {d["code"] for d in json.loads(path.read_text())["diagnostics"]}
    static = {"E100", "E101", "E102", "E103", "E104", "E200", "E201", "E202", "E203", "E205",
              "E207", "E208", "E209", "E210", "E211", "E300", "E301", "E303", "E400", "E401",
              "E402", "E403", "E404", "E406", "E408"}  # fmt: skip
    assert static <= found


def test_a_syntax_error_does_not_hide_later_statements() -> None:
    text = "SELECT a FORM gcore LAST 1d;\nSELECT sent_byte FROM gcore LAST 1d;\nSELECT requests FROM gcore"
    codes = [(e.code, e.span.line) for e in check_text(text, "f.qry", GCORE.providers, now=NOW)]
    assert codes == [("E100", 1), ("E202", 2), ("E210", 3)]


def test_json_lists_every_field(tmp_path: Path) -> None:
    (tmp_path / "a.qry").write_text("SELECT sent_byte FROM gcore LAST 1d;\n")
    code, out = _check([str(tmp_path)], "json")
    assert code == 1
    body = json.loads(out)
    assert body == {
        "diagnostics": [
            {
                "path": str(tmp_path / "a.qry"),
                "line": 1,
                "column": 8,
                "end_line": 1,
                "end_column": 17,
                "severity": "error",
                "code": "E202",
                "message": "gcore has no metric 'sent_byte'",
                "hint": "did you mean 'sent_bytes'?",
            }
        ],
        "files": 1,
    }


def test_directories_give_qry_files_and_explicit_files_any_name(tmp_path: Path) -> None:
    (tmp_path / "good.qry").write_text("SELECT requests FROM gcore LAST 1d;")
    (tmp_path / "skip.sql").write_text("not a query")
    explicit = tmp_path / "query.txt"
    explicit.write_text("SELECT requests FROM gcore LAST 1d;")
    assert _check([str(tmp_path)]) == (0, "checked 1 file: no problems\n")
    assert _check([str(tmp_path), str(explicit)]) == (0, "checked 2 files: no problems\n")


def test_text_from_e_and_from_stdin_is_checked_like_a_file(tmp_path: Path) -> None:
    good = tmp_path / "good.qry"
    good.write_text("SELECT requests FROM gcore LAST 1d;")
    stdin = io.StringIO("SELECT requests FROM gcore LAST 1d;\nSELECT nope FROM gcore LAST 1d;\n")
    code, out = _check([str(good), "-"], texts=["SELECT sent_byte FROM gcore LAST 1d"], stdin=stdin)
    assert code == 1
    assert out.startswith("<query>:1:8: error[E202]: gcore has no metric 'sent_byte'")
    assert "<stdin>:2:8: error[E202]: gcore has no metric 'nope'" in out
    assert out.endswith("checked 3 files: 2 problems\n")
    assert out.index("<query>:") < out.index("<stdin>:")  # -e first, then the paths in order


def test_check_on_the_command_line_reads_e_and_stdin_and_needs_one_of_them(
    tmp_path: Path,
) -> None:
    import subprocess
    import sys

    def check(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "querylang", "check", "--now", "2026-11-20T00:00:00Z", *args],
            input=stdin, capture_output=True, text=True, cwd=tmp_path, timeout=60,
        )  # fmt: skip

    clean = check("-e", "SELECT requests FROM gcore LAST 1d")
    assert (clean.returncode, clean.stdout) == (0, "checked 1 file: no problems\n"), clean.stderr
    piped = check("-", stdin="SELECT requests FROM gcore LAST 1d FILL 0")
    assert piped.returncode == 1
    assert "<stdin>:1:41: error[E100]" in piped.stdout and "write FILL ZERO" in piped.stdout
    bare = check()
    assert bare.returncode == 2 and bare.stdout == ""
    assert bare.stderr.startswith("error[E500]: check needs query files, a directory, - for")


def test_unreadable_paths_exit_2(tmp_path: Path) -> None:
    (tmp_path / "binary.qry").write_bytes(b"\xff\xfe\x00SELECT")
    code, out = _check([str(tmp_path), str(tmp_path / "missing.qry")])
    assert code == 2
    assert "error[E501]: cannot read" in out and "binary.qry" in out
    assert "missing.qry: no such file or directory" in out


def test_params_override_defaults_and_unused_ones_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "q.qry"
    path.write_text("PARAM $window = 7d;\nSELECT requests FROM gcore EVERY 1m LAST $window;\n")
    assert _check([str(path)])[0] == 0
    code, out = _check([str(path)], params={"window": "90d"})
    assert code == 1
    assert "error[E402]" in out
    code, out = _check([str(path)], "json", params={"windw": "1d"})
    (diagnostic,) = json.loads(out)["diagnostics"]
    assert diagnostic["code"] == "E302"
    assert diagnostic["path"] is None
    assert diagnostic["hint"] == "did you mean 'window'?"


def test_a_parameter_used_by_another_file_is_not_unused(tmp_path: Path) -> None:
    (tmp_path / "a.qry").write_text("SELECT requests FROM gcore LAST $window;")
    (tmp_path / "b.qry").write_text("SELECT requests FROM gcore LAST 1d;")
    assert _check([str(tmp_path)], params={"window": "2d"}) == (0, "checked 2 files: no problems\n")


def test_settings_come_from_env() -> None:
    text = "SELECT xferUsedTotalMB FROM stackpath EVERY 1d LAST 2d;"
    from querylang.plugins import registry

    providers = registry().providers
    if "stackpath" not in providers:
        pytest.skip("the stackpath plugin is not installed")
    assert [e.code for e in check_text(text, "f.qry", providers, now=NOW, env={})] == ["E408"]
    env = {"STACKPATH_STACK_ID": "my-stack"}
    assert check_text(text, "f.qry", providers, now=NOW, env=env) == []


@pytest.mark.parametrize("name", MINE)
def test_examples_pass_check(name: str) -> None:
    out = io.StringIO()
    assert check_paths([str(EXAMPLES / name)], out=out, env={}) == 0, out.getvalue()


def test_sandbox_files_check_with_sandbox_settings() -> None:
    out = io.StringIO()
    assert check_paths([str(EXAMPLES / "sandbox.qry")], out=out, env={}, sandbox=True) == 0, (
        out.getvalue()
    )
