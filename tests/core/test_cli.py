"""The command line end to end, as a user runs it (subprocesses, exit codes, no tracebacks)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import NOW_TEXT

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, env: dict[str, str] | None = None, stdin: str | None = None):
    """Run ``querylang ARGS`` in a fresh process."""
    full_env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "querylang.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        input=stdin,
        cwd=ROOT,
        timeout=60,
    )


def no_traceback(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stderr
    assert "Traceback" not in proc.stdout


def test_run_sandbox_csv() -> None:
    q = "SELECT sent_bytes, requests AS reqs BY region FROM gcore EVERY 1d LAST 2d"
    proc = cli("run", "--sandbox", "--now", NOW_TEXT, "-e", q, "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no progress bar when piped
    rows = list(csv.reader(io.StringIO(proc.stdout)))
    assert rows[0] == ["time", "region", "sent_bytes", "reqs", "state"]
    assert len(rows) == 1 + 2 * 7
    assert rows[1][0] == "2026-11-18T00:00:00Z"
    assert rows[1][2].isdigit()
    # Gcore is final 24 h after a bucket ends: 11-18 is by 11-20 05:00, 11-19 is not
    assert {r[4] for r in rows[1:] if r[0].startswith("2026-11-18")} == {"complete"}
    assert {r[4] for r in rows[1:] if r[0].startswith("2026-11-19")} == {"provisional"}


def test_run_json_and_ndjson() -> None:
    q = "SELECT cache_hit_requests_ratio AS hit, sent_bytes FROM gcore EVERY 1d LAST 1d"
    proc = cli("run", "--sandbox", "--now", NOW_TEXT, "-e", q, "-f", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    (result,) = data["results"]
    assert [c["name"] for c in result["columns"]] == ["time", "hit", "sent_bytes", "state"]
    assert result["columns"][1]["unit"] == "ratio"
    row = result["rows"][0]
    assert row["time"] == "2026-11-19T00:00:00Z"
    assert isinstance(row["sent_bytes"], int) and 0 < row["hit"] < 1
    proc = cli("run", "--sandbox", "--now", NOW_TEXT, "-e", q, "-f", "ndjson")
    assert json.loads(proc.stdout.splitlines()[0]) == row


def test_query_from_stdin_and_table() -> None:
    proc = cli("run", "--sandbox", "--now", NOW_TEXT, "-", "-f", "table",
               stdin="SELECT requests FROM gcore EVERY 1h LAST 2h")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "2026-11-20T03:00:00Z" in proc.stdout and "requests" in proc.stdout


def test_named_query_and_params(tmp_path: Path) -> None:
    path = tmp_path / "r.qry"
    path.write_text(
        "PARAM $window = 2d;\n"
        "QUERY a AS SELECT sent_bytes FROM gcore EVERY 1d LAST $window;\n"
        "QUERY b AS SELECT requests FROM gcore WHERE resource = $res EVERY 1d LAST 1d;\n"
    )
    proc = cli("run", "--sandbox", "--now", NOW_TEXT, str(path), "--query", "b",
               "--param", "res=1", "-f", "csv")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "time,requests,state"
    proc = cli("run", "--sandbox", "--now", NOW_TEXT, str(path), "--query", "b", "-f", "csv")
    assert proc.returncode == 2
    assert "E300" in proc.stderr and "$res" in proc.stderr
    proc = cli("run", "--sandbox", "--now", NOW_TEXT, str(path), "--query", "c")
    assert proc.returncode == 2 and "E502" in proc.stderr


def test_bad_query_points_at_the_fault() -> None:
    proc = cli("run", "--sandbox", "-e", "SELECT sent_bytes\nFROM gcroe EVERY 1h LAST 1d")
    assert proc.returncode == 2
    no_traceback(proc)
    assert proc.stderr.startswith("<query>:2:6: error[E200]")
    assert "^^^^^" in proc.stderr and "did you mean 'gcore'" in proc.stderr


def test_syntax_error_in_a_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.qry"
    path.write_text("SELECT sent_bytes FROM gcore\nWHERE region = eu EVERY 1h LAST 1d\n")
    proc = cli("run", "--sandbox", str(path))
    assert proc.returncode == 2
    no_traceback(proc)
    assert f"{path}:2:16: error[E100]" in proc.stderr


def test_missing_credentials_exit_2_and_name_the_variable() -> None:
    proc = cli("run", "-e", "SELECT sent_bytes FROM gcore LAST 1d")
    assert proc.returncode == 2
    no_traceback(proc)
    assert "GCORE_API_KEY" in proc.stderr and "--sandbox" in proc.stderr


def test_failing_provider_exit_1_without_secret(gcore_server) -> None:
    env = {"GCORE_API_KEY": "invalid", "QUERYLANG_GCORE_BASE_URL": gcore_server.url}
    proc = cli("run", "--now", NOW_TEXT, "-e", "SELECT sent_bytes FROM gcore LAST 1d", env=env)
    assert proc.returncode == 1
    no_traceback(proc)
    assert "P401" in proc.stderr and "GCORE_API_KEY" in proc.stderr


def test_secrets_never_printed(gcore_server) -> None:
    secret = "s3cr3t-value-123"
    env = {"GCORE_API_KEY": secret, "QUERYLANG_GCORE_BASE_URL": gcore_server.url}
    q = "SELECT sent_bytes FROM gcore EVERY 1h LAST 1d"
    for args in (("explain", "-f", "json"), ("explain",), ("run", "-f", "json")):
        proc = cli(*args, "--now", NOW_TEXT, "-e", q, env=env)
        assert proc.returncode == 0, proc.stderr
        assert secret not in proc.stdout + proc.stderr


def test_explain_json_shape() -> None:
    q = "SELECT sent_bytes, request_time BY region FROM gcore EVERY 1h LAST 1d"
    proc = cli("explain", "--now", NOW_TEXT, "-e", q, "-f", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert len(data["requests"]) == 2
    assert set(data["requests"][0]) == {"provider", "method", "url", "headers", "body"}
    assert data["requests"][0]["url"].startswith("https://api.gcore.com/cdn/statistics/series?")
    assert data["queries"][0]["calls"] == 2


def test_parse_prints_the_ir() -> None:
    proc = cli("parse", "-e", "SELECT a AS b FROM x LAST 1d")
    assert proc.returncode == 0
    data = json.loads(proc.stdout)
    query = data["statements"][0]
    assert query["node"] == "Query"
    assert query["select"][0]["alias"]["value"] == "b"


def test_providers_and_describe() -> None:
    proc = cli("providers")
    assert proc.returncode == 0
    assert "gcore" in proc.stdout and "register_providers" in proc.stdout
    proc = cli("describe", "gcore")
    assert proc.returncode == 0
    assert "sent_bytes" in proc.stdout and "GCORE_API_KEY" in proc.stdout
    proc = cli("describe", "gcore", "-f", "json")
    assert json.loads(proc.stdout)["history"] == "365d"
    proc = cli("describe", "gcroe")
    assert proc.returncode == 2 and "did you mean 'gcore'" in proc.stderr


def test_limit_errors_before_sending() -> None:
    proc = cli("run", "--sandbox", "--now", NOW_TEXT, "-e",
               "SELECT sent_bytes FROM gcore EVERY 1m LAST 90d")  # fmt: skip
    assert proc.returncode == 2
    assert "E402" in proc.stderr and "EVERY 5m" in proc.stderr


def test_help_is_fast_to_import() -> None:
    code = (
        "import sys, querylang.cli as c\n"
        "try:\n    c.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('numpy', 'httpx', 'rich', 'lark') if m in sys.modules]\n"
        "print('heavy=' + ','.join(heavy))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.stdout.strip().splitlines()[-1] == "heavy="


def test_check_imports_no_http_or_array_code(tmp_path: Path) -> None:
    path = tmp_path / "q.qry"
    path.write_text("SELECT sent_bytes BY region FROM gcore EVERY 1h LAST 7d;\n")
    code = (
        "import io, sys, querylang.cli as c\n"
        f"assert c.main(['check', {str(path)!r}], out=io.StringIO()) == 0\n"
        "heavy = [m for m in ('numpy', 'httpx', 'rich', 'prompt_toolkit') if m in sys.modules]\n"
        "print('heavy=' + ','.join(heavy))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "heavy="


@pytest.mark.parametrize("argv", [["run"], ["bogus"], ["run", "--format", "xml", "-e", "x"]])
def test_usage_errors_exit_2(argv: list[str]) -> None:
    proc = cli(*argv, stdin="")
    assert proc.returncode == 2
    no_traceback(proc)


def test_emulate_serves_a_provider_on_a_port() -> None:
    import socket
    import time

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "querylang.cli", "emulate", "gcore", "--port", str(port),
         "--now", NOW_TEXT],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        banner = server.stdout.readline()
        assert f"http://127.0.0.1:{port}" in banner
        env = {"GCORE_API_KEY": "k", "QUERYLANG_GCORE_BASE_URL": f"http://127.0.0.1:{port}"}
        for _ in range(50):
            proc = cli("run", "--now", NOW_TEXT, "-f", "csv", "-e",
                       "SELECT requests FROM gcore EVERY 1h LAST 2h", env=env)  # fmt: skip
            if proc.returncode == 0:
                break
            time.sleep(0.1)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines()[1].startswith("2026-11-20T03:00:00Z,")
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_query_mistakes_are_reported_before_missing_credentials() -> None:
    proc = cli("run", "-e", "SELECT sent_byte FROM gcore LAST 1d")
    assert proc.returncode == 2
    assert "E202" in proc.stderr and "GCORE_API_KEY" not in proc.stderr


@pytest.mark.parametrize("fmt", ["table", "ndjson", "json"])
def test_a_reader_that_stops_early_is_not_an_error(fmt: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "querylang.cli", "run", "--sandbox", "--now", NOW_TEXT,
         "examples/sandbox.qry", "-f", fmt],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    proc.stdout.read(10)
    proc.stdout.close()
    assert proc.wait(timeout=60) == 0
    assert proc.stderr.read() == b""


def test_python_dash_m_querylang_is_the_command_line(tmp_path: Path) -> None:
    bad, good = tmp_path / "bad.qry", tmp_path / "good.qry"
    bad.write_text("SELECT FROM gcore\n")
    good.write_text("SELECT requests FROM gcore LAST 1d\n")

    def module(path: Path) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "querylang", "check", str(path)]
        return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=60)

    failed, passed = module(bad), module(good)
    assert failed.returncode == 1 and "error[E100]" in failed.stdout  # check: 1 on problems
    no_traceback(failed)
    assert passed.returncode == 0, passed.stderr
