"""The decode check: decoding the emulator's real answers is a pure function."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import numpy as np

import querylang
from querylang.emulation import serve
from querylang.hookspecs import Provider
from querylang.testing.sandbox import NOW, between, env_for, fail, no_network, registry, source
from querylang.testing.sandbox import window as bucket_window
from querylang.wire import NativeResponse


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
    reg = registry(p)
    for name, ds in p.datasets.items():
        g = ds.grains[0]
        picked = [m.name for m in ds.metrics if m.native and m.kind == "counter"]
        text = (
            f"SELECT {', '.join(picked or [ds.metrics[0].name])} FROM {source(p, name)} "
            f"EVERY {g.granularity} {between(*bucket_window(g.granularity))}"
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
                        fail(p, "decode", f"decode opened {attempts}", "decode must do no I/O")
                    if native.content != body or native.json() != tree:
                        fail(p, "decode", "decode changed the response", "copy before changing")
                    if not _same(first, second):
                        fail(p, "decode", "one answer decoded twice differs", "make it pure")
                    decoded += 1
        if not decoded:
            fail(p, "decode", f"no answer of {text!r} could be matched", "check compile's URLs")


def _same(a: Any, b: Any) -> bool:
    if not np.array_equal(a.time, b.time) or a.dims.keys() != b.dims.keys():
        return False
    if any(not np.array_equal(a.dims[k], b.dims[k]) for k in a.dims):
        return False
    return a.metrics.keys() == b.metrics.keys() and all(
        np.array_equal(a.metrics[k], b.metrics[k], equal_nan=True) for k in a.metrics
    )
