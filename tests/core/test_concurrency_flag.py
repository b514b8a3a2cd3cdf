"""--concurrency: the cap on calls in flight, from the command line down to the wire."""

from __future__ import annotations

import threading
import time

import httpx

from querylang.cli import main
from querylang.emulation import serve
from querylang.engine import run
from querylang.execution import ExecutionSettings
from querylang.plugins import registry
from tests.conftest import NOW, NOW_TEXT

# Six queries in one text, one call each, all run in one lane of the gcore account.
QUERY = ";\n".join(f"SELECT sent_bytes FROM gcore EVERY 1h LAST {n}d" for n in range(1, 7))


class Slow:
    """Wraps an emulator: holds each answer 50 ms and records the most calls at once."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.now = 0
        self.peak = 0
        self.calls = 0
        self.lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.now += 1
            self.calls += 1
            self.peak = max(self.peak, self.now)
        time.sleep(0.05)
        try:
            return self.inner.handle(request)
        finally:
            with self.lock:
                self.now -= 1


def _peak(concurrency: int | None) -> tuple[int, int]:
    slow = Slow(registry().get("gcore").emulator(lambda: float(NOW)))
    with serve(slow) as server:
        env = {"GCORE_API_KEY": "key-1", "QUERYLANG_GCORE_BASE_URL": server.url}
        settings = ExecutionSettings(concurrency=concurrency, progress=False)
        run(QUERY, now=NOW_TEXT, env=env, settings=settings)
    return slow.calls, slow.peak


def test_the_cap_holds_on_the_wire() -> None:
    calls, peak = _peak(1)
    assert calls >= 6 and peak == 1
    calls, peak = _peak(2)
    assert calls >= 6 and peak <= 2


def test_without_the_flag_the_catalog_limit_applies() -> None:
    calls, peak = _peak(None)
    assert calls >= 6 and 1 < peak <= registry().get("gcore").datasets["cdn"].max_concurrency


def test_out_of_range_is_a_clear_usage_error(capsys) -> None:
    code = main(["run", "--sandbox", "--concurrency", "0", "-e", QUERY])
    err = capsys.readouterr().err
    assert code == 2
    assert "--concurrency 0 is out of range" in err and "Traceback" not in err
