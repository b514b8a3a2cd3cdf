"""Issue 19's named defects, one regression test each (the matrix is test_fault_matrix.py)."""

from __future__ import annotations

import asyncio
import base64
import io
import math
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import quote

import httpx
import pytest

import querylang
from querylang import cli, redaction
from querylang.catalog import RateLimit
from querylang.errors import ProviderError
from querylang.execution import RateLimiter
from querylang.wire import NativeResponse
from querylang_providers.fastly import FastlyProvider

NOW_TEXT = "2026-11-20T05:00:00Z"
T0 = 1_795_150_800  # 2026-11-20T05:00:00Z: 20,776 days of 86,400 s, plus 5 h


# -- BaishanCloud: null is missing, an all-zero piece is zeros -------------------------------


def _baishan_run(body: dict) -> list[tuple]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    env = {"BAISHAN_API_TOKEN": "bs-token-0001", "QUERYLANG_BAISHAN_TIMEZONE": "+00:00"}
    (result,) = querylang.run(
        "SELECT traffic FROM baishan EVERY 1h LAST 3h",
        now=NOW_TEXT,
        env=env,
        transport=httpx.MockTransport(handler),
    )
    return list(result.frame.rows())


def test_baishan_null_is_missing_and_an_omitted_point_is_zero() -> None:
    hours = [T0 - 3 * 3600, T0 - 2 * 3600, T0 - 3600]
    rows = _baishan_run({"code": 0, "data": [[hours[0], 5], [hours[1], None]]})
    assert [r[0] for r in rows] == hours
    assert rows[0][1] == 5.0
    assert math.isnan(rows[1][1])  # the vendor said null: missing, not 0
    assert rows[2][1] == 0.0  # the vendor left the point out: documented as zero


def test_baishan_all_zero_piece_shows_zero() -> None:
    rows = _baishan_run({"code": 0, "data": []})
    assert rows == [(T0 - 3 * 3600, 0.0), (T0 - 2 * 3600, 0.0), (T0 - 3600, 0.0)]


# -- rate limits ----------------------------------------------------------------------------


def test_limiter_counts_calls_in_flight() -> None:
    async def main() -> tuple[bool, float]:
        limiter = RateLimiter([RateLimit(calls=2, per_seconds=0.2)])
        await limiter.acquire()
        await limiter.acquire()
        third = asyncio.ensure_future(limiter.acquire())
        await asyncio.sleep(0.4)  # both calls still unanswered: a third may not go
        blocked = not third.done()
        limiter.release()
        released = time.monotonic()
        await third
        return blocked, time.monotonic() - released

    blocked, waited = asyncio.run(main())
    assert blocked
    assert waited >= 0.19  # the window counts from the answer, not from the send


def test_fastly_remaining_pauses_once_calls_in_flight_could_use_it_up() -> None:
    provider = FastlyProvider(clock=lambda: 1000.0)
    headers = {"Fastly-RateLimit-Remaining": "3", "Fastly-RateLimit-Reset": "1042"}
    ok = NativeResponse(status=200, headers=headers, content=b'{"status": "success", "data": []}')
    verdict = provider.check(None, ok)  # type: ignore[arg-type]
    assert verdict.kind == "ok" and verdict.pause == 42.0 and verdict.quota == 3


def test_a_reported_quota_is_a_budget_of_further_calls_until_the_reset() -> None:
    async def main() -> tuple[int, bool, float]:
        limiter = RateLimiter([], clock=time.monotonic)
        await limiter.acquire()
        await limiter.acquire()
        await limiter.acquire()
        limiter.release()  # one answer: 5 calls left for 0.3 s, 2 calls still in flight
        limiter.limit(5, 0.3)
        start = time.monotonic()
        for _ in range(3):  # 5 - 2 in flight = 3 may go at once
            await limiter.acquire()
        sent_at_once = 3 if time.monotonic() - start < 0.1 else 0
        fourth = asyncio.ensure_future(limiter.acquire())
        await asyncio.sleep(0.1)
        held = not fourth.done()
        await fourth  # after the reset the budget is gone and the call may go
        return sent_at_once, held, time.monotonic() - start

    sent, held, waited = asyncio.run(main())
    assert sent == 3 and held
    assert waited >= 0.29


def test_out_of_order_answers_keep_the_smaller_budget() -> None:
    limiter = RateLimiter([], clock=lambda: 100.0)
    limiter.limit(4, 10.0)
    limiter.limit(9, 10.0)  # an older answer arriving late does not raise the budget
    assert limiter.budget == 4
    assert limiter._wait(100.0) <= 0
    limiter.budget = 0
    assert limiter._wait(100.0) == 10.0


# -- Fastly regions are passed through ------------------------------------------------------


def test_fastly_region_names_are_passed_through() -> None:
    (plan,) = querylang.explain(
        "SELECT requests FROM fastly WHERE region = 'ausnz' EVERY 1d LAST 1d",
        now=NOW_TEXT,
        env={"FASTLY_API_TOKEN": "fastly-token"},
    )
    (request,) = plan.requests
    assert "region=ausnz" in request.url


# -- secrets --------------------------------------------------------------------------------

SECRET = "sp-Secret+/=value-77"


@pytest.fixture
def secret() -> str:
    redaction.remember(SECRET)
    return SECRET


def _encodings(value: str) -> list[str]:
    raw = value.encode()
    return [
        value,
        quote(value, safe=""),
        quote(value).replace("/", "%2F"),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        base64.b64encode(f"sp-client-id:{value}".encode()).decode(),
    ]


def test_str_of_an_error_never_holds_a_secret(secret: str) -> None:
    redaction.remember("sp-client-id")
    for form in _encodings(secret):
        error = ProviderError("stackpath", f"the vendor said: bad token {form}")
        assert form not in str(error) and secret not in str(error)
        assert "***" in str(error)


def test_bearer_tokens_are_remembered_without_their_scheme() -> None:
    redaction.remember("Bearer eyJhbGciOi.derived-token")
    assert "eyJhbGciOi.derived-token" not in redaction.scrub("token eyJhbGciOi.derived-token")


class _Echo(BaseHTTPRequestHandler):
    """A vendor that quotes the whole request back in its 400 error."""

    def do_GET(self) -> None:
        body = f'{{"code": 400, "message": "bad request {self.path}"}}'.encode()
        self.send_response(400)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def echo_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("debug", ["", "1"])
def test_url_encoded_token_echoed_by_the_vendor_is_scrubbed(
    echo_server: str, debug: str, monkeypatch: pytest.MonkeyPatch, capsys, tmp_path
) -> None:
    token = "bs+token/with=specials-31"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BAISHAN_API_TOKEN", token)
    monkeypatch.setenv("QUERYLANG_BAISHAN_BASE_URL", echo_server)
    monkeypatch.setenv("QUERYLANG_DEBUG", debug)
    if not debug:
        monkeypatch.delenv("QUERYLANG_DEBUG")
    code = cli.main(["run", "-e", "SELECT traffic FROM baishan LAST 1h", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1
    assert "P400" in err and "baishan" in err
    for form in _encodings(token):
        assert form not in err
    if debug:
        assert "Traceback" in err  # QUERYLANG_DEBUG=1 shows the traceback, scrubbed


def test_repl_prints_errors_scrubbed(secret: str) -> None:
    from querylang.repl import Session

    session = Session(sandbox=True)
    err = io.StringIO()

    def boom(line: str, out: object, err: object) -> None:
        raise ProviderError("stackpath", f"echo {quote(secret, safe='')}")

    session.statements = boom  # type: ignore[method-assign]
    session.handle("SELECT 1", io.StringIO(), err)
    assert "***" in err.getvalue()
    assert quote(secret, safe="") not in err.getvalue() and secret not in err.getvalue()


# -- Ctrl-C ---------------------------------------------------------------------------------


class _Hang(BaseHTTPRequestHandler):
    """Never answers (until the client goes away)."""

    seen: ClassVar[list[float]] = []

    def do_GET(self) -> None:
        _Hang.seen.append(time.monotonic())
        time.sleep(30)

    def log_message(self, *args: object) -> None:
        return


def test_ctrl_c_ends_a_run_at_once_with_one_line_and_exit_130(tmp_path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hang)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        **os.environ,
        "GCORE_API_KEY": "gc-key-0001",
        "QUERYLANG_GCORE_BASE_URL": f"http://127.0.0.1:{server.server_address[1]}",
    }
    env.pop("QUERYLANG_DEBUG", None)
    command = [sys.executable, "-m", "querylang.cli", "run", "--no-progress", "-e",
               "SELECT requests FROM gcore EVERY 1h LAST 1d"]  # fmt: skip
    process = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 20
        while not _Hang.seen and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _Hang.seen, "the run never sent its request"
        process.send_signal(signal.SIGINT)
        sent = time.monotonic()
        out, err = process.communicate(timeout=5)
        elapsed = time.monotonic() - sent
    finally:
        process.kill()
        server.shutdown()
        server.server_close()
    assert process.returncode == 130
    assert elapsed < 2.0  # at once, though the request is still in flight
    assert err.decode().strip().splitlines() == [
        "interrupted (Ctrl-C): the run was stopped and its requests cancelled"
    ]
    assert out == b""


# -- 20 concurrent CLI runs against one emulator --------------------------------------------


def test_twenty_concurrent_cli_runs_against_one_emulator(gcore_server, tmp_path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {
        **os.environ,
        "GCORE_API_KEY": "gc-key-0001",
        "QUERYLANG_GCORE_BASE_URL": gcore_server.url,
        "TMPDIR": str(temp),
    }
    env.pop("QUERYLANG_DEBUG", None)
    texts = [f"SELECT requests FROM gcore EVERY 1h LAST {k}h" for k in range(1, 21)]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "querylang.cli",
                "run",
                "--no-progress",
                "--format",
                "csv",
                "--now",
                NOW_TEXT,
                "-e",
                text,
            ],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for text in texts
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    for k, (process, (out, err)) in enumerate(zip(processes, outputs, strict=True), start=1):
        assert process.returncode == 0, err.decode()
        assert err == b""
        lines = out.decode().strip().splitlines()
        assert (
            lines[0] == "time,requests,state" and len(lines) == k + 1
        )  # its own window, no mix-up
        (expected,) = querylang.run(texts[k - 1], now=NOW_TEXT, env=env)
        assert [float(line.split(",")[1]) for line in lines[1:]] == [
            r[1] for r in expected.frame.rows()
        ]
    assert list(temp.iterdir()) == []  # no temporary files left


def test_sandbox_placeholders_are_not_secrets() -> None:
    querylang.run("SELECT requests FROM gcore EVERY 1h LAST 2h", now=NOW_TEXT, sandbox=True)
    assert "sandbox" not in redaction.known()
    assert redaction.scrub(".sandbox takes on or off") == ".sandbox takes on or off"
