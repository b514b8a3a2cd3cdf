"""Golden compile tests: NativeQuery pieces → the exact StackPath wire requests."""

from __future__ import annotations

import json

import pytest
from attrs import evolve

from querylang.testing import golden
from querylang.wire import Unsupported
from querylang_providers.stackpath import StackPathProvider
from tests.providers.kit import golden_file

GOLDEN = golden_file("stackpath")
CASES = golden.load(GOLDEN)
PROVIDER = StackPathProvider()
SECRET = "s3cr3t-client-secret"
SECRETS = {"STACKPATH_CLIENT_ID": "client-id", "STACKPATH_CLIENT_SECRET": SECRET}

test_stackpath_compile_golden = golden.golden_test(GOLDEN)


@pytest.mark.parametrize("case", [c for c in CASES if "requests" in c.expected], ids=str)
def test_stackpath_credentials_only_travel_to_the_token_endpoint(case: golden.GoldenCase) -> None:
    for request in golden.compile_case(case, secrets=SECRETS):
        assert SECRET not in json.dumps(request.to_json())
        assert "client-id" not in request.url


def test_stackpath_compile_never_sends_the_documents_singular_platform_param() -> None:
    case = evolve(CASES[0], settings={"STACKPATH_STACK_ID": "x"})
    compiled = golden.compile_case(case, secrets=SECRETS)
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
