"""The failures check: 401, 429 with a delay, 5xx and a malformed body are mapped."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

import querylang
from querylang.emulation import serve
from querylang.errors import ProviderError
from querylang.execution import ExecutionSettings
from querylang.hookspecs import Provider
from querylang.testing.sandbox import NOW, between, env_for, fail, registry, secrets, window

FAST = ExecutionSettings(backoff=0.01)  # retries of a 5xx need not wait in a test
FIX = "classify it in the wire's failure() or Provider.check (see querylang.failures)"


def retry_header(p: Provider) -> str:
    """The header the provider reads a rate limit's delay from (``retry_after_header``)."""
    return str(getattr(p, "retry_after_header", "Retry-After"))


class Faulty:
    """Wraps an emulator: the first ``times`` requests to ``paths`` get the fault's answer."""

    def __init__(self, inner: Any, paths: set[str], header: str) -> None:
        self.inner, self.paths, self.header = inner, paths, header
        self.fault, self.times = "", 0
        self.stamps: list[float] = []

    def arm(self, fault: str, times: int) -> None:
        self.fault, self.times, self.stamps = fault, times, []

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path in self.paths:
            self.stamps.append(time.monotonic())
        if request.url.path not in self.paths or len(self.stamps) > self.times:
            return self.inner.handle(request)
        if self.fault == "401":
            return httpx.Response(401, json={"message": "unauthorized"})
        if self.fault == "429":
            return httpx.Response(429, headers={self.header: "1"}, json={"message": "slow"})
        if self.fault == "503":
            return httpx.Response(503, json={"message": "down"})
        return httpx.Response(
            200, content=b"{not json", headers={"Content-Type": "application/json"}
        )


def simple(p: Provider) -> str:
    """One bucket of the default dataset's first metric at its first grain."""
    ds = p.datasets[p.default_dataset]
    g = ds.grains[0].granularity
    return f"SELECT {ds.metrics[0].name} FROM {p.name} EVERY {g} {between(*window(g, 1))}"


class Faults:
    """:func:`simple` run against the provider's emulator behind :class:`Faulty`."""

    def __init__(self, p: Provider, url: str, faulty: Faulty) -> None:
        self.p, self.url, self.faulty = p, url, faulty

    def run(self, fault: str, times: int) -> Exception | None:
        """The error of a run whose first ``times`` requests get the fault (None: success)."""
        self.faulty.arm(fault, times)
        try:
            querylang.run(
                simple(self.p),
                now=NOW,
                env=env_for(self.p, self.url),
                providers=registry(self.p),
                settings=FAST,
            )
        except Exception as exc:
            return exc
        return None

    def always(self, fault: str, code: str, answer: str, fix: str = FIX) -> None:
        """Every answer faulty: the run ends as a ProviderError ``code`` showing no secret."""
        p, exc = self.p, self.run(fault, 10**6)
        if exc is None:
            fail(p, "failures", f"{answer} was decoded as data: the query succeeded", fix)
        if not isinstance(exc, ProviderError):
            fail(p, "failures", f"{answer} crashed the run with {exc!r}", fix)
        if exc.code != code:
            fail(p, "failures", f"{answer} gave {exc!r} ({exc.code}), not {code}", fix)
        for secret in secrets(p).values():
            if secret in exc.render():
                fail(p, "failures", f"the error for {answer} shows a credential", "redact it")


@contextmanager
def faults(p: Provider) -> Iterator[Faults]:
    """The emulator served behind :class:`Faulty`, faulting the paths :func:`simple` asks."""
    plans = querylang.explain(simple(p), now=NOW, env=env_for(p), providers=registry(p))
    paths = {httpx.URL(r.url).path for plan in plans for r in getattr(plan, "requests", ())}
    faulty = Faulty(p.emulator(lambda: float(NOW)), paths, retry_header(p))
    with serve(faulty) as server:
        yield Faults(p, server.url, faulty)


def check_failures(p: Provider) -> None:
    """Each failure kind ends as its code; 429 and 5xx are retried, a 429 after its delay."""
    header = retry_header(p)
    with faults(p) as f:
        f.always("401", "P401", "a 401 answer")
        f.always("503", "P500", "a 503 answer")
        f.always(
            "malformed",
            "P600",
            "a malformed 200 body ('{not json')",
            "let a body without the documented shape fail: raise provider.decode_error(...) "
            "(ProviderError P600), never return it as an empty or partial frame",
        )
        exc = f.run("503", 1)
        if exc is not None:
            fail(
                p,
                "failures",
                f"a 503 then success gave {exc!r}: the 5xx was not retried",
                "classify 5xx as FailureKind.UNAVAILABLE (retried with back-off), not final",
            )
        exc = f.run("429", 1)
        if exc is not None:
            fail(
                p,
                "failures",
                f"a 429 ({header}: 1) then success gave {exc!r}: the 429 was not retried",
                "classify 429 as FailureKind.RATE_LIMITED",
            )
        stamps = f.faulty.stamps
    waited = stamps[1] - stamps[0] if len(stamps) > 1 else 0.0
    if waited < 0.9:
        fail(
            p,
            "failures",
            f"the retry after a 429 with {header}: 1 came after {waited:.2f} s, ignoring the delay",
            f"read {header} into Failure.delay (querylang.provider.parse_retry_after); a "
            "vendor sending its delay in another header sets retry_after_header",
        )
