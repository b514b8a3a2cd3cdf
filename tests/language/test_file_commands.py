"""fmt --diff, fmt -, check on an empty directory, --format errors and github, emulate."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from querylang.checking import _write_github
from querylang.cli import main

UGLY = "select sent_bytes from gcore last 1d"
PRETTY = "SELECT sent_bytes FROM gcore LAST 1d;\n"


def _main(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    return main(argv, out=out), out.getvalue()


def test_fmt_diff_prints_a_diff_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "q.qry"
    path.write_text(UGLY + "\n")
    code, out = _main(["fmt", "--diff", str(path)])
    assert code == 1
    assert f"--- {path}" in out and "-" + UGLY in out and "+" + PRETTY.strip() in out
    assert path.read_text() == UGLY + "\n"
    path.write_text(PRETTY)
    assert _main(["fmt", "--diff", str(path)]) == (0, "")


def test_fmt_stdin_to_stdout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(UGLY))
    assert _main(["fmt", "-"]) == (0, PRETTY)
    monkeypatch.setattr(sys, "stdin", io.StringIO("SELECT FORM"))
    code, out = _main(["fmt", "-"])
    assert code == 2 and out == ""
    assert "<stdin>:1:" in capsys.readouterr().err


def test_check_empty_directory_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _main(["check", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and out == ""
    assert str(tmp_path) in err and "help:" in err and "no .qry files" in err


@pytest.mark.parametrize("command", ["check", "run"])
def test_bad_format_is_a_usage_error(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "q.qry"
    path.write_text(PRETTY)
    code, _ = _main([command, "--format", "xml", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "usage:" not in err and "error[E500]" in err and "'xml'" in err
    assert "json" in err


def test_check_github_annotations(tmp_path: Path) -> None:
    path = tmp_path / "q.qry"
    path.write_text("SELECT sent_byte FROM gcore LAST 1d;\n")
    code, out = _main(["check", "--format", "github", "--now", "2026-11-20T05:00:00Z", str(path)])
    assert code == 1
    prop = str(path).replace(":", "%3A").replace(",", "%2C")
    assert out == (
        f"::error file={prop},line=1,col=8,endLine=1,endColumn=17,title=E202::"
        "gcore has no metric 'sent_byte' (help: did you mean 'sent_bytes'?)\n"
    )
    path.write_text(PRETTY)
    assert _main(["check", "--format", "github", str(path)]) == (0, "")


def test_github_escaping() -> None:
    from querylang.checking import Diagnostic

    d = Diagnostic(
        path="a,b:c%.qry", line=1, column=2, end_line=1, end_column=3, severity="error",
        code="E1", message="50% bad\nnext\r", hint=None, rendered="",
    )  # fmt: skip
    out = io.StringIO()
    _write_github(out, [d])
    assert out.getvalue() == (
        "::error file=a%2Cb%3Ac%25.qry,line=1,col=2,endLine=1,endColumn=3,title=E1::"
        "50%25 bad%0Anext%0D\n"
    )


def test_emulate_on_a_busy_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _ = _main(["emulate", "gcore", "--port", str(port)])
    err = capsys.readouterr().err
    assert code == 2
    assert str(port) in err and "--port 0" in err and "E999" not in err


@pytest.mark.parametrize("quiet", [False, True])
def test_emulate_logs_requests_unless_quiet(quiet: bool) -> None:
    import httpx

    argv = [sys.executable, "-m", "querylang.cli", "emulate", "gcore", "--port", "0"]
    proc = subprocess.Popen(
        argv + (["--quiet"] if quiet else []),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split(" on ")[1].split()[0]
        httpx.get(f"{url}/nothing-here", timeout=10)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    if quiet:
        assert "/nothing-here" not in err
    else:
        assert "GET /nothing-here 404\n" in err  # method, path (no query string), status
