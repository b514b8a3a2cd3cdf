"""Issue 19's fault matrix: one table of faults by every built-in provider, through the CLI.

Each provider is served by its own emulator behind a fault-injecting loopback server
(:mod:`tests.faults`); each query makes two data calls, so a fault on one of them is a
fault on one piece of several. A cell ends in exactly one of two ways, within a bound:

- ``data``: exit 0 and exactly the rows of the same run without the fault (nothing
  lost, nothing duplicated, no value changed);
- ``error``: exit 1, no data on stdout, and one paragraph on stderr naming the provider,
  the error code and the cause — never a traceback.

A new provider gets the whole matrix by adding a line to :data:`PROVIDERS`.
"""

from __future__ import annotations

import functools
import io
import time

import pytest
from attrs import evolve, frozen

from querylang import cli, execution
from querylang.plugins import registry
from querylang.timegrid import parse_ts
from tests.faults import (
    Fault,
    duplicate_points,
    fault_server,
    http_date,
    nulls_for_numbers,
    outside_window,
    strings_for_numbers,
)

NOW_TEXT = "2026-11-20T05:00:00Z"
NOW = parse_ts(NOW_TEXT)
BOUND = 12.0  # seconds any cell may take (back-off of 10 ms)
# --timeout: short where the fault is a body slower than it, else long enough that a slow
# or busy machine (an emulator builds each answer in a thread of this process) never turns
# a fault that should recover into a timeout
TIMEOUT_FAULT, TIMEOUT = "0.5", "5"


@frozen
class Target:
    provider: str  # as errors name it
    query: str  # two data calls
    env: dict[str, str]  # credentials (the base URL is added)
    base_env: str
    skip: tuple[str, ...] = ()  # paths never faulted (an OAuth token endpoint)
    serves: str = ""  # the registry name whose emulator answers (default: ``provider``)


PROVIDERS = [
    Target("gcore", "SELECT requests, request_time FROM gcore EVERY 1h LAST 2d",
           {"GCORE_API_KEY": "gc-key-0001"}, "QUERYLANG_GCORE_BASE_URL"),
    Target("gcore.storage", "SELECT traffic FROM gcore.storage EVERY 1h LAST 40d",
           {"GCORE_API_KEY": "gc-key-0001"}, "QUERYLANG_GCORE_BASE_URL", serves="gcore"),
    Target("fastly", "SELECT requests FROM fastly EVERY 1h LAST 40d",
           {"FASTLY_API_TOKEN": "fastly-t0ken"}, "QUERYLANG_FASTLY_BASE_URL"),
    Target("stackpath", "SELECT xferUsedTotalMB FROM stackpath EVERY 1h LAST 60d",
           {"STACKPATH_CLIENT_ID": "sp-client", "STACKPATH_CLIENT_SECRET": "sp-secret-9",
            "STACKPATH_STACK_ID": "demo"}, "QUERYLANG_STACKPATH_BASE_URL",
           skip=("/identity/",)),
    Target("baishan", "SELECT traffic, bandwidth FROM baishan EVERY 1h LAST 2d",
           {"BAISHAN_API_TOKEN": "bs-s3cr3t-token-42"}, "QUERYLANG_BAISHAN_BASE_URL"),
]  # fmt: skip

HTML = b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"
RATE = {"Retry-After": "1", "X-Retry-After": "1"}
NO_DELAY = {"Retry-After": "", "X-Retry-After": "", "Fastly-RateLimit-Reset": ""}

# (fault, expected outcome, the code and words of the error when one is expected)
FAULTS: list[tuple[Fault, str, str]] = [
    (Fault(name="429 Retry-After seconds, once", status=429, headers=RATE, first=1), "data", ""),
    (
        Fault(name="429 without Retry-After, twice", status=429, first=2, headers=NO_DELAY),
        "data",
        "",
    ),
    (
        Fault(
            name="429 Retry-After HTTP-date, once",
            status=429,
            first=1,
            headers={"Retry-After": "DATE", "X-Retry-After": "1"},
        ),
        "data",
        "",
    ),
    (Fault(name="429 for ever", status=429, headers=RATE), "error", "P429 rate limited"),
    (Fault(name="503 burst that recovers", status=503, first=2), "data", ""),
    (Fault(name="500 for ever", status=500), "error", "P500 failed or is unavailable"),
    (Fault(name="body slower than --timeout", socket="trickle"), "error", "P504 no answer within"),
    (Fault(name="connection reset", socket="reset"), "error", "P502 could not connect"),
    (Fault(name="closed without a response", socket="close"), "error", "P502 could not connect"),
    (Fault(name="truncated JSON", body=b'{"data": {"clients": {"1": {"loc'), "error", "P600 read"),
    (Fault(name="invalid JSON", body=b"{'data': nope}"), "error", "P600 read"),
    (Fault(name="HTML page with 200", status=200, body=HTML), "error", "P600 read"),
    (Fault(name="204 on one piece", status=204, body=b"", nth=2), "no-data-204", "P600 read"),
    (Fault(name="empty 200 body on one piece", status=200, body=b"", nth=2), "error", "P600 read"),
    (Fault(name="a list for an object", transform=lambda d: [d]), "error", "P600 read"),
    (Fault(name="keys missing on one piece", transform=lambda d: {}, nth=2), "error", "P600 read"),
    (Fault(name="points outside the window", transform=outside_window), "data", ""),
    (Fault(name="duplicate timestamps", transform=duplicate_points), "error", "P600 read"),
    (Fault(name="strings for numbers", transform=strings_for_numbers), "error", "P600 read"),
    (Fault(name="nulls for numbers", transform=nulls_for_numbers), "error", "P600 read"),
    (Fault(name="401", status=401, body=b'{"message": "invalid token"}'), "error", "P401 rejected"),
    (Fault(name="403", status=403, body=b'{"message": "forbidden"}'), "error", "P403 denied"),
]


def _run(target: Target, fault: Fault | None, monkeypatch: pytest.MonkeyPatch, capsys) -> tuple:
    provider = registry().get(target.serves or target.provider)
    emulator = provider.emulator(lambda: float(NOW))
    if fault is not None and fault.headers.get("Retry-After") == "DATE":
        fault = evolve(fault, headers={**fault.headers, "Retry-After": http_date(1)})
    with fault_server(emulator, fault, target.skip) as server:
        for name, value in {**target.env, target.base_env: server.url}.items():
            monkeypatch.setenv(name, value)
        out = io.StringIO()
        timeout = TIMEOUT_FAULT if fault is not None and fault.socket == "trickle" else TIMEOUT
        argv = ["run", "-e", target.query, "--now", NOW_TEXT, "--format", "csv", "--timeout",
                timeout, "--retries", "3", "--no-progress"]  # fmt: skip
        started = time.monotonic()
        code = cli.main(argv, out=out)
        elapsed = time.monotonic() - started
    return code, out.getvalue(), capsys.readouterr().err, elapsed


@pytest.fixture(autouse=True)
def _fast_back_off(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Retries back off 10 ms (not 0.5 s), and no connections file is discovered."""
    monkeypatch.setattr(
        execution, "ExecutionSettings", functools.partial(execution.ExecutionSettings, backoff=0.01)
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QUERYLANG_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("QUERYLANG_DEBUG", raising=False)


_BASELINE: dict[str, str] = {}


def _baseline(target: Target, monkeypatch, capsys) -> str:
    if target.provider not in _BASELINE:
        code, out, err, _ = _run(target, None, monkeypatch, capsys)
        assert code == 0, err
        _BASELINE[target.provider] = out
    return _BASELINE[target.provider]


def _cells(csv: str) -> dict[tuple[str, str], str]:
    """(time, column) → the CSV cell; a bucket twice would fail here."""
    header, *lines = csv.strip().splitlines()
    names = header.split(",")
    cells: dict[tuple[str, str], str] = {}
    for line in lines:
        values = line.split(",")
        for name, value in zip(names[1:], values[1:], strict=True):
            assert (values[0], name) not in cells, f"bucket {values[0]} twice"
            cells[values[0], name] = value
    return cells


@pytest.mark.parametrize("target", PROVIDERS, ids=[t.provider for t in PROVIDERS])
@pytest.mark.parametrize(("fault", "outcome", "expect"), FAULTS, ids=[f[0].name for f in FAULTS])
def test_fault_matrix(
    target: Target, fault: Fault, outcome: str, expect: str, monkeypatch, capsys
) -> None:
    baseline = _baseline(target, monkeypatch, capsys)
    code, out, err, elapsed = _run(target, fault, monkeypatch, capsys)
    assert elapsed < BOUND, f"{fault.name} took {elapsed:.1f} s"
    assert "Traceback" not in err and "Traceback" not in out
    if outcome == "no-data-204" and target.provider == "gcore":
        outcome = "gcore-204"
    elif outcome == "no-data-204":
        outcome = "error"
    if outcome == "data":
        assert code == 0, err
        assert out == baseline  # every row, once, with the same values
        return
    if outcome == "gcore-204":
        # Gcore documents 204 as "no data for the requested time period": not an error.
        # The piece's values are missing (blank), never 0; every other value is the same.
        assert code == 0, err
        assert _cells(out).keys() == _cells(baseline).keys()  # every bucket, once
        for key, value in _cells(out).items():
            assert value in ("", _cells(baseline)[key])
        assert "" in _cells(out).values()
        return
    assert code == 1, (fault.name, out, err)
    assert out == ""  # no data, not partial data
    code_word, _, words = expect.partition(" ")
    paragraph = err.strip()
    assert paragraph.count("error[") == 1 and paragraph.startswith(f"error[{code_word}]")
    assert f"]: {target.serves or target.provider}: " in paragraph  # names the provider
    assert words in paragraph
    assert len(paragraph.splitlines()) <= 3  # one paragraph: cause, then the fix
    for secret in target.env.values():
        if len(secret) > 6:
            assert secret not in err


def _forms(secret: str) -> set[str]:
    import base64
    from urllib.parse import quote, quote_plus

    raw = secret.encode()
    out = {secret, quote(secret, safe=""), quote_plus(secret), base64.b64encode(raw).decode()}
    out.add(base64.urlsafe_b64encode(raw).decode().rstrip("="))
    return out


SECRETS = {
    "GCORE_API_KEY": "gc+secret/key=0001",
    "FASTLY_API_TOKEN": "fastly+secret/token=1",
    "STACKPATH_CLIENT_ID": "sp-client-id-2",
    "STACKPATH_CLIENT_SECRET": "sp+client/secret=3",
    "BAISHAN_API_TOKEN": "bs+secret/token=4",
}


@pytest.mark.parametrize("target", PROVIDERS, ids=[t.provider for t in PROVIDERS])
@pytest.mark.parametrize(
    ("command", "debug"),
    [(["run", "--format", "csv"], ""), (["run"], "1"), (["explain"], ""),
     (["explain", "--format", "json"], "")],
    ids=["run", "run-debug", "explain-text", "explain-json"],
)  # fmt: skip
def test_secret_scan(target: Target, command: list[str], debug: str, monkeypatch, capsys) -> None:
    """Every token in every form: not in stdout or stderr, on success and on a fault."""
    provider = registry().get(target.serves or target.provider)
    echo = Fault(name="echo", status=400, transform=lambda d: {"message": ECHO})
    for fault in (None, echo) if command[0] == "run" else (None,):
        with fault_server(provider.emulator(lambda: float(NOW)), fault, target.skip) as server:
            env = {k: SECRETS.get(k, v) for k, v in target.env.items()}
            for name, value in {**env, target.base_env: server.url}.items():
                monkeypatch.setenv(name, value)
            if debug:
                monkeypatch.setenv("QUERYLANG_DEBUG", "1")
            out = io.StringIO()
            argv = [*command, "-e", target.query, "--now", NOW_TEXT]
            if command[0] == "run":
                argv += ["--no-progress", "--timeout", "0.5"]
            cli.main(argv, out=out)
            text = out.getvalue() + capsys.readouterr().err
        for name in target.env:
            if name in SECRETS:
                for form in _forms(SECRETS[name]):
                    assert form not in text, (name, form)


# A vendor that quotes every credential back, in several encodings
ECHO = " ".join(sorted({f for s in SECRETS.values() for f in _forms(s)}))
