"""The conformance suite passes the toy provider and fails each of its mistakes clearly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.conformance.toy import FAULTS

HERE = Path(__file__).resolve().parent

# fault -> (the check that must fail, words its message must contain)
CAUGHT = {
    "unit": ("catalog", "unit 'Bytes', which querylang.units does not know; fix: spell it 'bytes'"),
    "unknown_unit": (
        "catalog",
        "unit 'widgets', which querylang.units does not know; fix: use one of ['B', 'GB',",
    ),
    "ratio": ("catalog", "is a ratio of 'misses', not a metric"),
    "compile_io": ("compile", "opened"),
    "compile_raises": (
        "compile",
        "compiling \"SELECT hits FROM toy WHERE site IN ('a') EVERY 1h BETWEEN "
        "'2026-11-19T20:00:00Z' AND '2026-11-19T23:00:00Z'\" raised KeyError('site'); "
        "fix: return Unsupported(reason, hint)",
    ),
    "wrong_values": (
        "end_to_end",
        "for hits answered {2026-11-19T20:00:00Z: 42.0, 2026-11-19T21:00:00Z: 6.0, "
        "2026-11-19T22:00:00Z: 12.0} (3 buckets) but the emulator's data are "
        "{2026-11-19T20:00:00Z: 21.0, 2026-11-19T21:00:00Z: 3.0, 2026-11-19T22:00:00Z: 6.0}",
    ),
    "filter_ignored": (
        "end_to_end",
        "\"SELECT hits, bytes FROM toy WHERE site IN ('a') EVERY 1h BETWEEN "
        "'2026-11-19T20:00:00Z' AND '2026-11-19T23:00:00Z'\" for hits answered "
        "{2026-11-19T20:00:00Z: 21.0, 2026-11-19T21:00:00Z: 3.0, 2026-11-19T22:00:00Z: 6.0} "
        "(3 buckets) but the emulator's data are "
        "{2026-11-19T20:00:00Z: 7.0, 2026-11-19T21:00:00Z: 1.0, 2026-11-19T22:00:00Z: 2.0}",
    ),
    # site a's bytes are 1000 x its hits, (t // 3600) % 7 + 1: 7, 1, 2 thousand; both sites 3x
    "second_filter_ignored": (
        "end_to_end",
        "WHERE site IN ('a') EVERY 1h BETWEEN '2026-11-19T20:00:00Z' AND "
        "'2026-11-19T23:00:00Z'\" for bytes answered {2026-11-19T20:00:00Z: 21000.0, "
        "2026-11-19T21:00:00Z: 3000.0, 2026-11-19T22:00:00Z: 6000.0} (3 buckets) but the "
        "emulator's data are {2026-11-19T20:00:00Z: 7000.0, 2026-11-19T21:00:00Z: 1000.0, "
        "2026-11-19T22:00:00Z: 2000.0}",
    ),
    "standard_scale": (
        "end_to_end",
        "\"SELECT sent_bytes, requests FROM toy EVERY 1h BETWEEN '2026-11-19T20:00:00Z' AND "
        "'2026-11-19T23:00:00Z'\" for standard sent_bytes = bytes * 10^3 answered "
        "{2026-11-19T20:00:00Z: 21000000.0, 2026-11-19T21:00:00Z: 3000000.0, "
        "2026-11-19T22:00:00Z: 6000000.0} (3 buckets) but the emulator's data worked out as "
        "bytes are {2026-11-19T20:00:00Z: 21000.0, 2026-11-19T21:00:00Z: 3000.0, "
        "2026-11-19T22:00:00Z: 6000.0} (3 buckets); fix: map sent_bytes as bytes (bytes scale "
        "1, not 1000): the scale of a term is the size of one of its native unit in bytes",
    ),
    "group_mislabelled": (
        "end_to_end",
        "BY site FROM toy EVERY 1h BETWEEN '2026-11-19T20:00:00Z' AND '2026-11-19T23:00:00Z'\" "
        "for hits of site 'a' answered {2026-11-19T20:00:00Z: 14.0",
    ),
    "month_as_30d": ("end_to_end", "EVERY 1mo BETWEEN '2026-08-01T00:00:00Z' AND '2026-10-01"),
    "impure": ("decode", "decode changed the response"),
    "auth": ("failures", "a 401 answer gave ProviderError("),
    "no_429_retry": ("failures", "a 429 (Retry-After: 1) then success gave ProviderError("),
    # how soon the retry came depends on the machine's load: not the words
    "delay_ignored": ("failures", "the retry after a 429 with Retry-After: 1 came after "),
    "no_5xx_retry": ("failures", "a 503 then success gave ProviderError("),
    "malformed_as_data": (
        "failures",
        "a malformed 200 body ('{not json') was decoded as data: the query succeeded; "
        "fix: let a body without the documented shape fail",
    ),
    "malformed_crash": (
        "failures",
        "a malformed 200 body ('{not json') crashed the run with AssertionError('the body is "
        "not JSON')",
    ),
    "secret": ("secrets", "shows a credential; fix: send secrets in headers"),
}


TOY_TEST = """
from querylang.testing import conformance_tests
from toy import ToyPlugin

conformance_tests(ToyPlugin({fault!r}))
"""


def _message(failure: ElementTree.Element) -> str:
    """The failure's message; pytest cuts a long one in the attribute, so that one is read
    from the report's ``E`` line of the exception."""
    message = failure.get("message", "")
    if not message.endswith("[truncated; full report in element text]"):
        return message
    head = message.partition(":")[0]
    for line in (failure.text or "").splitlines():
        if line.startswith("E ") and line[1:].strip().startswith(head + ":"):
            return line[1:].strip()
    return message


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], tuple[str, str]]:
    """One pytest run of the clean toy and, per mistake, the check that must catch it.

    (module, test name) -> (outcome, failure message). A subprocess: an in-process run drops
    the modules it imported lazily (httpcore's network backend), and the re-imported classes
    break later tests' error mapping; one for all, as each start costs seconds.
    """
    root = tmp_path_factory.mktemp("toy")
    for fault in ("", *FAULTS):
        (root / f"test_{fault or 'clean'}.py").write_text(TOY_TEST.format(fault=fault))
    picked = [f"test_{f}.py::test_conformance[toy::{CAUGHT[f][0]}]" for f in FAULTS]
    paths = [str(HERE), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    xml = root / "report.xml"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "-o",
        "addopts=",
        f"--junitxml={xml}",
        "test_clean.py",
        *picked,
    ]
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=900)
    assert xml.exists(), done.stdout + done.stderr
    out = {}
    for case in ElementTree.parse(xml).iter("testcase"):
        failure = case.find("failure")
        outcome = "passed" if failure is None and case.find("error") is None else "failed"
        message = _message(failure) if failure is not None else ""
        out[(case.get("classname", ""), case.get("name", ""))] = (outcome, message)
    return out


def test_every_mistake_is_tested() -> None:
    assert sorted(CAUGHT) == sorted(FAULTS)


def test_the_toy_without_faults_passes(report: dict[tuple[str, str], tuple[str, str]]) -> None:
    clean = {
        name: outcome for (module, name), (outcome, _) in report.items() if module == "test_clean"
    }
    checks = ("catalog", "compile", "decode", "end_to_end", "failures", "secrets")
    assert clean == {f"test_conformance[toy::{c}]": "passed" for c in checks}


@pytest.mark.parametrize("fault", sorted(CAUGHT))
def test_each_mistake_fails_its_check_with_a_clear_message(
    report: dict[tuple[str, str], tuple[str, str]], fault: str
) -> None:
    check, words = CAUGHT[fault]
    outcome, message = report[(f"test_{fault}", f"test_conformance[toy::{check}]")]
    assert outcome == "failed"
    assert message.startswith(
        f"querylang.testing.sandbox.ConformanceFailure: provider 'toy' fails the '{check}' check: "
    )
    assert words in message
    assert "; fix: " in message
