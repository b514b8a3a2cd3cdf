"""Golden compile tests: query pieces → the exact Fastly requests (golden/compile.json)."""

from __future__ import annotations

import json

import pytest

from querylang.plugins import registry
from querylang.testing import golden
from querylang_providers.fastly import FastlyProvider
from querylang_providers.fastly.catalog import DATASET
from tests.providers.kit import golden_file

GOLDEN = golden_file("fastly")
CASES = [c for c in golden.load(GOLDEN) if "requests" in c.expected]
TOKEN = "s3cr3t-fastly-token"

test_golden_compile = golden.golden_test(GOLDEN)


def _compiled(case: golden.GoldenCase) -> list:
    return list(golden.compile_case(case, secrets={"FASTLY_API_TOKEN": TOKEN}))


@pytest.mark.parametrize("case", CASES, ids=str)
def test_token_is_sent_in_the_header(case: golden.GoldenCase) -> None:
    for request in _compiled(case):
        assert request.headers == (("Fastly-Key", TOKEN), ("Accept", "application/json"))
        assert request.secret_headers == ("Fastly-Key",)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_token_is_redacted(case: golden.GoldenCase) -> None:
    for request in _compiled(case):
        shown = json.dumps(request.to_json()) + request.describe()
        assert TOKEN not in shown
        assert request.to_json()["headers"]["Fastly-Key"] == "***"


def test_from_to_are_unix_seconds_never_human_forms() -> None:
    for case in CASES:
        for request in _compiled(case):
            query = dict(p.split("=") for p in request.url.split("?")[1].split("&"))
            assert query["from"].isdigit() and query["to"].isdigit()
            assert query["by"] in ("minute", "hour", "day")


def test_catalog_has_every_documented_field() -> None:
    names = [m.name for m in DATASET.metrics]
    assert len(names) == 87 and len(set(names)) == 87
    units = {m.name: m.unit for m in DATASET.metrics}
    assert units["requests"] == "count"
    assert units["bandwidth"] == units["attack_resp_synth_bytes"] == "bytes"
    assert units["hits_time"] == units["otfp_shield_time"] == "seconds"
    assert {"log", "imgopto"} <= set(names)
    assert not {"logging", "img_opto"} & set(names)


def test_hit_ratio_is_derived_from_hits_and_misses() -> None:
    metric = DATASET.metric("hit_ratio")
    assert metric is not None and metric.kind == "ratio" and metric.rollup == "ratio"
    assert metric.ratio is not None
    assert metric.ratio.numerator == (("hits", 1.0),)
    assert metric.ratio.denominator == (("hits", 1.0), ("miss", 1.0))
    for name in ("hits", "hits_time", "bandwidth", "status_5xx"):
        m = DATASET.metric(name)
        assert m is not None and m.kind == "counter" and m.rollup == "sum" and m.combine == "sum"


def test_grains_retention_and_window_limits() -> None:
    day = 86400
    spec = {str(g.granularity): (g.retention, g.max_window) for g in DATASET.grains}
    assert spec == {"1m": (35 * day, day), "1h": (375 * day, 31 * day), "1d": (None, 366 * day)}
    region = DATASET.dimension("region")
    # issue 19: region names are passed through (GET /stats/regions is the complete list)
    assert region is not None and region.values is None and region.groupable
    service = DATASET.dimension("service")
    assert service is not None and service.groupable and service.filterable


def test_registered_through_the_entry_point() -> None:
    provider = registry().get("fastly")
    assert isinstance(provider, FastlyProvider)
    assert provider.default_dataset == "stats"
    assert [c.env for c in provider.credentials] == ["FASTLY_API_TOKEN"]
