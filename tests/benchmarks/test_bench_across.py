"""Benchmark: one query over four CDNs, against the slowest alone and against one by one.

Not part of the default test run. Run with:
    pytest tests/benchmarks/test_bench_across.py -p no:cacheprovider -o addopts="" -s
The four emulators run on loopback ports behind a fixed per-call latency (a real network
round trip, so concurrency matters); the whole path runs — parse, bind, plan, HTTP,
decode, post-steps. Every figure is a median ratio of runs made in this same process.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest

from querylang import run
from querylang.emulation import serve
from querylang.plugins import registry
from tests.conftest import NOW, NOW_TEXT

LATENCY = 0.08  # seconds per call, like a vendor API across an ocean
ROUNDS = 5
PROVIDERS = ("gcore", "fastly", "stackpath", "baishan")
WINDOW = "EVERY 1h LAST 14d"


class Slow:
    """An emulator that answers after LATENCY seconds (in its server thread)."""

    def __init__(self, emulator) -> None:
        self.emulator = emulator

    def handle(self, request: httpx.Request) -> httpx.Response:
        time.sleep(LATENCY)
        return self.emulator.handle(request)


@pytest.fixture(scope="module")
def env() -> Iterator[dict[str, str]]:
    reg = registry()
    with ExitStack() as stack:
        urls = {
            name: stack.enter_context(serve(Slow(reg.get(name).emulator(lambda: float(NOW))))).url
            for name in PROVIDERS
        }
        yield {
            "GCORE_API_KEY": "k",
            "FASTLY_API_TOKEN": "k",
            "STACKPATH_CLIENT_ID": "id",
            "STACKPATH_CLIENT_SECRET": "secret",
            "STACKPATH_STACK_ID": "bench",
            "BAISHAN_API_TOKEN": "k",
            **{f"QUERYLANG_{n.upper()}_BASE_URL": url for n, url in urls.items()},
        }


def _seconds(text: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    results = run(text, env=env, now=NOW_TEXT)
    assert all(len(r.frame) for r in results)
    return time.perf_counter() - started


def test_four_providers_at_once(env: dict[str, str]) -> None:
    together = f"SELECT sent_bytes BY provider FROM {', '.join(PROVIDERS)} {WINDOW}"
    alone = {p: f"SELECT sent_bytes BY provider FROM {p} {WINDOW}" for p in PROVIDERS}
    _seconds(together, env)  # warm up: imports, parser, connections
    vs_slowest, vs_sequential = [], []
    for _ in range(ROUNDS):
        each = {p: _seconds(q, env) for p, q in alone.items()}
        both = _seconds(together, env)
        vs_slowest.append(both / max(each.values()))
        vs_sequential.append(sum(each.values()) / both)
    slowest = max(each, key=each.__getitem__)
    print(
        f"\nfour providers at once vs the slowest ({slowest}) alone: "
        f"{statistics.median(vs_slowest):.2f}x (goal <= 1.2x)"
        f"\nfour providers at once vs one after another: "
        f"{statistics.median(vs_sequential):.2f}x faster (goal >= 2.5x)"
    )
    assert statistics.median(vs_slowest) <= 1.2
    assert statistics.median(vs_sequential) >= 2.5
