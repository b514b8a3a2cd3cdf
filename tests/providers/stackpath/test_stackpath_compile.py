"""Golden compile tests: NativeQuery pieces → the exact StackPath wire requests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from querylang.timegrid import parse_ts
from querylang.wire import NativeQuery, ProviderContext, Unsupported
from querylang_providers.stackpath import StackPathProvider
from tests import wirecases

GOLDEN = json.loads((Path(__file__).parent / "golden" / "compile_cases.json").read_text())
PROVIDER = StackPathProvider()
SECRET = "s3cr3t-client-secret"


def _query(spec: dict) -> NativeQuery:
    """A NativeQuery from a golden case's ``query``."""
    return wirecases.native_query(spec, dataset="cdn")


def _context(settings: dict[str, str]) -> ProviderContext:
    return ProviderContext(
        base_url=GOLDEN["base_url"],
        credentials={"STACKPATH_CLIENT_ID": "client-id", "STACKPATH_CLIENT_SECRET": SECRET},
        settings=settings,
        now=parse_ts(GOLDEN["now"]),
    )


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=[c["name"] for c in GOLDEN["cases"]])
def test_stackpath_compile_golden(case: dict[str, Any]) -> None:
    compiled = PROVIDER.compile(_query(case["query"]), _context(case["settings"]))
    if "unsupported" in case:
        assert isinstance(compiled, Unsupported)
        assert case["unsupported"]["reason"] in compiled.reason
        assert compiled.hint is not None and case["unsupported"]["hint"] in compiled.hint
        return
    assert not isinstance(compiled, Unsupported), compiled
    got = [{**r.to_json(), "metrics": list(r.metrics)} for r in compiled]
    expected = [{"provider": "stackpath", **e} for e in case["expect"]]
    assert got == expected
    for request in compiled:
        assert SECRET not in json.dumps(request.to_json())
        assert "client-id" not in request.url  # credentials only travel to the token endpoint


def test_stackpath_compile_never_sends_the_documents_singular_platform_param() -> None:
    compiled = PROVIDER.compile(
        _query(GOLDEN["cases"][0]["query"]), _context({"STACKPATH_STACK_ID": "x"})
    )
    assert not isinstance(compiled, Unsupported)
    assert "platforms=CDE" in compiled[0].url and "platform=" not in compiled[0].url


def test_stackpath_catalog_rollups_follow_the_metric_names() -> None:
    ds = PROVIDER.datasets["cdn"]
    for m in ds.metrics:
        if m.kind == "ratio":
            continue  # checked below
        if m.name.endswith("MaxUsageTime"):
            assert m.rollup is not None and m.rollup.startswith("at_max:")
            assert ds.metric(m.rollup.split(":", 1)[1]) is not None
        elif m.name.endswith("MinUsageTime"):
            assert m.rollup is not None and m.rollup.startswith("at_min:")
        elif "Total" in m.name:
            assert m.rollup == "sum" and m.kind == "counter"
        elif "Min" in m.name:
            assert m.rollup == "min" and m.combine is None
        elif "Max" in m.name:
            assert m.rollup == "max" and m.combine is None
        elif "Mean" in m.name:
            assert m.rollup == "mean" and m.combine == "sum"
    assert ds.metric("rps").rollup == "mean"  # type: ignore[union-attr]
    assert ds.metric("lastUpdatedTime").rollup == "max"  # type: ignore[union-attr]
    for name in ("completionRatio", "peakToMeanMBRatio", "peakToMeanRequestsRatio"):
        assert ds.metric(name).rollup is None  # type: ignore[union-attr]
    for name in ("responseSizeMeanMB", "userXferRateMbps"):
        assert ds.metric(name).rollup == "ratio"  # type: ignore[union-attr]
    assert ds.metric("usageTime") is None  # the bucket time, not a metric
    assert "10^6 bytes" in ds.description and "10^6 bytes" in PROVIDER.description
    platform = ds.dimension("platform")
    assert (
        platform is not None and platform.default == ("CDE",) and len(platform.values or ()) == 24
    )
    stack = ds.dimension("stack")
    assert stack is not None and not stack.groupable and stack.filterable
