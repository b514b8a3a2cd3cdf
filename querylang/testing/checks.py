"""The conformance checks: one function per check, each raising ConformanceFailure."""

from __future__ import annotations

import copy
import io
import math
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn, Protocol

import httpx
import numpy as np
from attrs import frozen

import querylang
from querylang.catalog import Dataset
from querylang.context import env_name
from querylang.emulation import LoopbackServer, serve
from querylang.errors import ProviderError, QuerylangError
from querylang.execution import ExecutionSettings
from querylang.hookspecs import Provider, hookimpl
from querylang.output import write_explain
from querylang.plugins import Registry, registry_of
from querylang.standard import standard_metric
from querylang.timegrid import format_ts, parse_ts
from querylang.units import scaled_unit
from querylang.wire import NativeResponse

NOW = parse_ts("2026-11-20T00:00:00Z")
# querylang.units scales these spellings (kB -> MB -> GB); a unit that differs from one of
# them only in case ("Bytes", "mbps") is a typo that would print unscaled
SCALED_UNITS = ("bytes", "B", "kB", "MB", "GB", "TB", "bit/s", "bps", "kbps", "Mbps", "Gbps")
ROLLUPS = frozenset({"sum", "mean", "min", "max", "last", "ratio", None})
COMBINES = frozenset({"sum", "ratio", None})


class ConformanceFailure(AssertionError):
    """A provider broke the contract: names the provider, the check and the fix."""

    def __init__(self, provider: str, check: str, problem: str, fix: str) -> None:
        super().__init__(f"provider {provider!r} fails the {check!r} check: {problem}; fix: {fix}")


class TruthEmulator(Protocol):
    """The emulator-truth contract (docs/conformance.md)."""

    def expected(
        self,
        dataset: str,
        metric: str,
        start: int,
        end: int,
        step: int,
        where: Mapping[str, Sequence[str]] | None = None,
    ) -> dict[int, float]: ...


@frozen
class Case:
    provider: Provider
    check: str
    run: Callable[[Provider], None]

    @property
    def id(self) -> str:
        return f"{self.provider.name}::{self.check}"


def _fail(p: Provider, check: str, problem: str, fix: str) -> NoReturn:
    raise ConformanceFailure(p.name, check, problem, fix)


def _source(p: Provider, ds: str) -> str:
    return p.name if ds == p.default_dataset else f"{p.name}.{ds}"


def secrets(p: Provider) -> dict[str, str]:
    return {c.env: f"qlconf-secret-{i}-{p.name}" for i, c in enumerate(p.credentials)}


def env_for(p: Provider, url: str | None = None) -> dict[str, str]:
    env = {s.env: s.sandbox if s.sandbox is not None else s.default for s in p.settings}
    env.update(secrets(p))
    if url is not None:
        env[env_name(p.name, "BASE_URL")] = url
    return env


# -- catalog ------------------------------------------------------------------------------
def _catalog_problems(ds: Dataset) -> Iterator[tuple[str, str]]:
    names = {m.name for m in ds.metrics}
    if len(names) != len(ds.metrics):
        yield "two metrics share a name", "give every metric a unique name"
    for m in ds.metrics:
        where = f"dataset {ds.name!r} metric {m.name!r}"
        near = [u for u in SCALED_UNITS if u.lower() == m.unit.lower()]
        if not m.unit.strip() or (near and not scaled_unit(m.unit)):
            yield (
                f"{where} has unit {m.unit!r}, which querylang.units does not know",
                f"spell it {near[0]!r}" if near else "give every metric a unit",
            )
        rollup = m.rollup
        if rollup is not None and rollup.startswith(("at_max:", "at_min:")):
            ref = rollup.split(":", 1)[1]
            if ref not in names:
                yield f"{where} rolls up {rollup!r} but {ref!r} is not a metric", "name a metric"
        elif rollup not in ROLLUPS:
            yield f"{where} has rollup {rollup!r}", f"use one of {sorted(map(str, ROLLUPS))}"
        if m.combine not in COMBINES:
            yield f"{where} has combine {m.combine!r}", "use 'sum', 'ratio' or None"
        if m.kind == "ratio" and m.rollup == "ratio" and m.ratio is None:
            yield f"{where} rolls up as a ratio without parts", "declare ratio=Ratio(...)"
        if m.ratio is not None:
            for part in m.ratio.parts:
                if part not in names:
                    yield f"{where} is a ratio of {part!r}, not a metric", "declare the part"
        if not m.native and m.ratio is None:
            yield f"{where} is not native and has no ratio", "declare ratio= or native=True"
    dims = [d.name for d in ds.dimensions]
    if len(set(dims)) != len(dims):
        yield f"dataset {ds.name!r} has two dimensions with one name", "rename one"
    for std in ds.standard:
        if standard_metric(std.name) is None:
            yield (
                f"dataset {ds.name!r} maps unknown standard {std.name!r}",
                "see querylang.standard",
            )
        for native, coef in std.terms:
            metric = ds.metric(native)
            if metric is None or metric.kind != "counter":
                yield (
                    f"dataset {ds.name!r} standard {std.name!r} uses {native!r}, not a counter",
                    "map standard counters onto the dataset's counters",
                )
            if not (coef > 0 and math.isfinite(coef)):
                yield f"dataset {ds.name!r} standard {std.name!r} has scale {coef}", "scale > 0"
    if not ds.grains:
        yield f"dataset {ds.name!r} has no grain", "declare at least one GrainSpec"
    for g in ds.grains:
        for label, value in (("retention", g.retention), ("max_window", g.max_window)):
            if value is not None and value <= 0:
                yield f"dataset {ds.name!r} grain {g.granularity} has {label} {value}", "> 0"
        seconds = g.granularity.seconds
        if g.max_window is not None and seconds is not None and g.max_window < seconds:
            yield f"dataset {ds.name!r} grain {g.granularity} window < one bucket", "widen it"
    if ds.max_concurrency < 1 or ds.max_requests < 1:
        yield f"dataset {ds.name!r} has a limit below 1", "max_concurrency, max_requests >= 1"
    for r in ds.rate_limits:
        if r.calls < 1 or r.per_seconds <= 0:
            yield f"dataset {ds.name!r} rate limit {r} is not positive", "calls >= 1, per > 0"


def check_catalog(p: Provider) -> None:
    if p.default_dataset not in p.datasets:
        _fail(p, "catalog", f"default_dataset {p.default_dataset!r} is not a dataset", "name one")
    for name, ds in p.datasets.items():
        for problem, fix in _catalog_problems(ds):
            _fail(p, "catalog", problem, fix)
        if ds.name != name:
            _fail(p, "catalog", f"dataset {name!r} is named {ds.name!r}", "use the same name")


# -- compile ------------------------------------------------------------------------------
@contextmanager
def no_network() -> Iterator[list[str]]:
    """Any socket connection attempt fails (and is recorded)."""
    attempts: list[str] = []
    real = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        attempts.append(str(address))
        raise OSError("querylang conformance: no I/O allowed here")

    socket.socket.connect = connect  # type: ignore[method-assign, assignment]
    try:
        yield attempts
    finally:
        socket.socket.connect = real  # type: ignore[method-assign]


def _window(seconds: int, buckets: int = 3) -> tuple[int, int]:
    end = (NOW // seconds) * seconds - seconds
    return end - buckets * seconds, end


def queries(p: Provider) -> Iterator[str]:
    """Every combination the catalog allows: metric x grain, BY each dim, WHERE each dim."""
    for name, ds in p.datasets.items():
        src = _source(p, name)
        for g in ds.grains:
            seconds = g.granularity.seconds or 86400 * 31
            start, end = _window(seconds)
            between = f"BETWEEN '{format_ts(start)}' AND '{format_ts(end)}'"
            every = f"EVERY {g.granularity} {between}"
            first = ds.metrics[0].name
            for m in ds.metrics:
                yield f"SELECT {m.name} FROM {src} {every}"
            for d in ds.dimensions:
                if d.groupable:
                    yield f"SELECT {first} BY {d.name} FROM {src} {every}"
                if d.filterable:
                    value = (d.values or d.default or ("1" if d.type == "integer" else "x",))[0]
                    literal = value if d.type == "integer" else f"'{value}'"
                    yield f"SELECT {first} FROM {src} WHERE {d.name} IN ({literal}) {every}"


class _One:
    """A plugin object registering one given provider."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    @hookimpl
    def register_providers(self, register: Callable[[Provider], None]) -> None:
        register(self.provider)


def _registry(p: Provider) -> Registry:
    return registry_of(_One(p))


def check_compile(p: Provider) -> None:
    reg = _registry(p)
    for text in queries(p):
        with no_network() as attempts:
            try:
                plans = querylang.explain(text, now=NOW, env=env_for(p), providers=reg)
            except QuerylangError:
                continue  # an explicit refusal (Unsupported and the like) is allowed
            except Exception as exc:
                _fail(p, "compile", f"{text!r} raised {exc!r}", "return Unsupported instead")
        if attempts:
            _fail(p, "compile", f"compiling {text!r} opened {attempts}", "compile must do no I/O")
        if not any(getattr(plan, "requests", ()) for plan in plans):
            _fail(p, "compile", f"{text!r} compiled to no request", "return requests")


# -- end to end ---------------------------------------------------------------------------
def check_end_to_end(p: Provider) -> None:
    emulator = p.emulator(lambda: float(NOW))
    if not hasattr(emulator, "expected"):
        _fail(p, "end_to_end", "the emulator has no expected()", "implement expected()")
    truth: TruthEmulator = emulator  # type: ignore[assignment]
    reg = _registry(p)
    with serve(emulator) as server:
        for name, ds in p.datasets.items():
            for g in ds.grains:
                seconds = g.granularity.seconds
                if seconds is None:
                    continue
                start, end = _window(seconds)
                for m in ds.metrics:
                    if m.kind != "counter" or not m.native:
                        continue
                    text = (
                        f"SELECT {m.name} FROM {_source(p, name)} EVERY {g.granularity} "
                        f"BETWEEN '{format_ts(start)}' AND '{format_ts(end)}'"
                    )
                    (result,) = querylang.run(
                        text, now=NOW, env=env_for(p, server.url), providers=reg
                    )
                    got: dict[int, float] = {}
                    for t, v in zip(result.frame.time, result.frame.metrics[m.name], strict=True):
                        if not math.isnan(v):
                            got[int(t)] = got.get(int(t), 0.0) + float(v)
                    want = truth.expected(name, m.name, start, end, seconds)
                    want = {t: v for t, v in want.items()}
                    if set(got) != set(want) or any(
                        not math.isclose(got[t], want[t], rel_tol=1e-9, abs_tol=1e-9) for t in want
                    ):
                        _fail(
                            p,
                            "end_to_end",
                            f"{text!r} answered {got} but the emulator's data are {want}",
                            "make decode return the vendor's values per bucket",
                        )


# -- decode -------------------------------------------------------------------------------
class _Recorder:
    """Passes requests to an emulator and keeps each answer by method and URL."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.answers: dict[tuple[str, str], httpx.Response] = {}

    def handle(self, request: httpx.Request) -> httpx.Response:
        response: httpx.Response = self.inner.handle(request)
        response.read()
        self.answers[(request.method, request.url.path + "?" + request.url.query.decode())] = (
            response
        )
        return response


def check_decode(p: Provider) -> None:
    """Decode the emulator's real answers twice: equal frames, no I/O, the response intact."""
    recorder = _Recorder(p.emulator(lambda: float(NOW)))
    reg = _registry(p)
    for name, ds in p.datasets.items():
        g = ds.grains[0]
        start, end = _window(g.granularity.seconds or 86400)
        picked = [m.name for m in ds.metrics if m.native and m.kind == "counter"]
        text = (
            f"SELECT {', '.join(picked or [ds.metrics[0].name])} FROM {_source(p, name)} "
            f"EVERY {g.granularity} BETWEEN '{format_ts(start)}' AND '{format_ts(end)}'"
        )
        with serve(recorder) as server:
            env = env_for(p, server.url)
            querylang.run(text, now=NOW, env=env, providers=reg)
            plans = querylang.explain(text, now=NOW, env=env, providers=reg)
        decoded = 0
        for plan in plans:
            for piece in getattr(plan, "pieces", ()):
                for request in piece.requests:
                    url = httpx.URL(request.url)
                    key = (request.method, url.path + "?" + url.query.decode())
                    answer = recorder.answers.get(key)
                    if answer is None:
                        continue
                    body = bytes(answer.content)
                    native = NativeResponse(
                        status=answer.status_code, headers=dict(answer.headers), content=body
                    )
                    with no_network() as attempts:
                        first = p.decode(piece.native, request, native)
                        tree = copy.deepcopy(native.json())
                        second = p.decode(piece.native, request, native)
                    if attempts:
                        _fail(p, "decode", f"decode opened {attempts}", "decode must do no I/O")
                    if native.content != body or native.json() != tree:
                        _fail(p, "decode", "decode changed the response", "copy before changing")
                    if not _same(first, second):
                        _fail(p, "decode", "one answer decoded twice differs", "make it pure")
                    decoded += 1
        if not decoded:
            _fail(p, "decode", f"no answer of {text!r} could be matched", "check compile's URLs")


def _same(a: Any, b: Any) -> bool:
    if not np.array_equal(a.time, b.time) or a.dims.keys() != b.dims.keys():
        return False
    if any(not np.array_equal(a.dims[k], b.dims[k]) for k in a.dims):
        return False
    return a.metrics.keys() == b.metrics.keys() and all(
        np.array_equal(a.metrics[k], b.metrics[k], equal_nan=True) for k in a.metrics
    )


# -- failures and secrets -----------------------------------------------------------------
class _Faulty:
    """Wraps an emulator: the first ``times`` requests get the fault's answer."""

    def __init__(self, inner: Any, fault: str, times: int, paths: set[str]) -> None:
        self.inner, self.fault, self.times, self.paths = inner, fault, times, paths
        self.stamps: list[float] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path in self.paths:
            self.stamps.append(time.monotonic())
        if request.url.path not in self.paths or len(self.stamps) > self.times:
            return self.inner.handle(request)
        if self.fault == "401":
            return httpx.Response(401, json={"message": "unauthorized"})
        if self.fault == "429":
            return httpx.Response(
                429, headers={"Retry-After": "1", "X-Retry-After": "1"}, json={"message": "slow"}
            )
        if self.fault == "500":
            return httpx.Response(503, json={"message": "down"})
        return httpx.Response(
            200, content=b"{not json", headers={"Content-Type": "application/json"}
        )


def _simple(p: Provider) -> str:
    ds = p.datasets[p.default_dataset]
    g = ds.grains[0]
    start, end = _window(g.granularity.seconds or 86400, 1)
    return (
        f"SELECT {ds.metrics[0].name} FROM {p.name} EVERY {g.granularity} "
        f"BETWEEN '{format_ts(start)}' AND '{format_ts(end)}'"
    )


FAST = ExecutionSettings(backoff=0.01)  # retries of a 5xx need not wait in a test


def _run_faulty(p: Provider, fault: str, times: int) -> tuple[_Faulty, Exception | None]:
    plans = querylang.explain(_simple(p), now=NOW, env=env_for(p), providers=_registry(p))
    paths = {httpx.URL(r.url).path for plan in plans for r in getattr(plan, "requests", ())}
    faulty = _Faulty(p.emulator(lambda: float(NOW)), fault, times, paths)
    server: LoopbackServer
    with serve(faulty) as server:
        try:
            querylang.run(
                _simple(p),
                now=NOW,
                env=env_for(p, server.url),
                providers=_registry(p),
                settings=FAST,
            )
        except Exception as exc:
            return faulty, exc
    return faulty, None


def check_failures(p: Provider) -> None:
    for fault, code in (("401", "P401"), ("500", "P500"), ("malformed", "P600")):
        _, exc = _run_faulty(p, fault, 10**6)
        if not isinstance(exc, ProviderError) or exc.code != code:
            _fail(
                p,
                "failures",
                f"a {fault} answer gave {exc!r}, not a ProviderError {code}",
                "classify it in Provider.check (see querylang.failures)",
            )
        for secret in secrets(p).values():
            if secret in exc.render():
                _fail(p, "secrets", f"the {fault} error shows a credential", "redact it")
    faulty, exc = _run_faulty(p, "429", 1)
    if exc is not None:
        _fail(p, "failures", f"a 429 then success gave {exc!r}", "classify 429 as retry")
    if len(faulty.stamps) < 2 or faulty.stamps[1] - faulty.stamps[0] < 0.9:
        _fail(p, "failures", "the retry after 429 ignored Retry-After: 1", "honour its delay")


def check_secrets(p: Provider) -> None:
    reg = _registry(p)
    for text in list(queries(p))[:20]:
        try:
            plans = querylang.explain(text, now=NOW, env=env_for(p), providers=reg)
        except QuerylangError as exc:
            shown = exc.render()
        else:
            out = io.StringIO()
            write_explain(plans, "text", out)
            write_explain(plans, "json", out)
            shown = out.getvalue()
        for secret in secrets(p).values():
            if secret in shown:
                _fail(p, "secrets", f"{text!r} shows a credential", "send secrets in headers")


CHECKS: dict[str, Callable[[Provider], None]] = {
    "catalog": check_catalog,
    "compile": check_compile,
    "decode": check_decode,
    "end_to_end": check_end_to_end,
    "failures": check_failures,
    "secrets": check_secrets,
}
