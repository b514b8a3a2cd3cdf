"""The conformance suite passes the toy provider and fails each of its mistakes clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

HERE = Path(__file__).resolve().parent

# fault -> (the check that must fail, words its message must contain)
CAUGHT = {
    "unit": ("catalog", "unit 'Bytes', which querylang.units does not know; fix: spell it 'bytes'"),
    "ratio": ("catalog", "is a ratio of 'misses', not a metric"),
    "compile_io": ("compile", "opened"),
    "wrong_values": ("end_to_end", "but the emulator's data are"),
    "impure": ("decode", "decode changed the response"),
    "auth": ("failures", "a 401 answer gave"),
    "secret": ("secrets", "shows a credential"),
}


def _run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, fault: str
) -> pytest.RunResult:
    # a subprocess: an in-process run drops the modules it imported lazily (httpcore's
    # network backend), and the re-imported classes break later tests' error mapping
    monkeypatch.setenv("PYTHONPATH", str(HERE))
    pytester.makepyfile(
        test_toy=f"""
from querylang.testing import conformance_tests
from toy import ToyPlugin

conformance_tests(ToyPlugin({fault!r}))
"""
    )
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")


def test_the_toy_without_faults_passes(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run(pytester, monkeypatch, "")
    result.assert_outcomes(passed=6)


@pytest.mark.parametrize("fault", sorted(CAUGHT))
def test_each_mistake_fails_its_check_with_a_clear_message(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    check, words = CAUGHT[fault]
    result = _run(pytester, monkeypatch, fault)
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) >= 1
    text = result.stdout.str()
    assert (
        f"test_conformance[toy::{check}] FAILED" in text
        or f"FAILED test_toy.py::test_conformance[toy::{check}]" in text
    )
    assert f"provider 'toy' fails the '{check}' check: " in text
    assert words in text
    assert "; fix: " in text
