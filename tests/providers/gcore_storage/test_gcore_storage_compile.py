"""Golden compile tests for FROM gcore.storage: the exact wire request, or Unsupported."""

from __future__ import annotations

import json

import pytest

from querylang.catalog import GrainSpec
from querylang.testing import golden
from querylang.timegrid import Granularity
from tests.providers.kit import GCORE_STORAGE as kit
from tests.providers.kit import golden_file

GOLDEN = golden_file("gcore_storage")
CASES = golden.load(GOLDEN)
TOKEN = kit.token

test_golden_compile = golden.golden_test(GOLDEN)


@pytest.mark.parametrize("case", [c for c in CASES if "requests" in c.expected], ids=str)
def test_secret_is_sent_but_never_shown(case: golden.GoldenCase) -> None:
    (request,) = golden.compile_case(case, secrets={"GCORE_API_KEY": TOKEN})
    assert dict(request.headers)["Authorization"] == f"APIKey {TOKEN}"
    assert TOKEN not in json.dumps(request.to_json())
    assert TOKEN not in request.describe()
    assert request.body is not None
    assert json.loads(request.body) == case.expected["requests"][0]["body"]


def test_base_url_comes_from_the_context() -> None:
    query = CASES[0].native
    (request,) = kit.provider().compile(query, kit.context(base_url="http://127.0.0.1:9999/"))
    assert request.url == "http://127.0.0.1:9999/storage/stats/v1/storage/usage/series"


def test_catalog_declares_native_grains_and_rollups() -> None:
    dataset = kit.provider().datasets["storage"]
    assert [g.granularity for g in dataset.grains] == [
        GrainSpec.of(t).granularity for t in ("1h", "12h", "24h")
    ]
    day = dataset.grains[-1].granularity
    for coarse in ("1d", "1w", "1mo"):
        assert day.divides(Granularity.parse(coarse))
    rollups = {m.name: (m.rollup, m.combine) for m in dataset.metrics}
    assert rollups["size_max"] == ("max", None)
    assert rollups["bucket_files"] == ("max", None)
    assert rollups["size_mean"] == ("mean", "sum")
    assert rollups["size_bytes_hour"] == ("sum", "sum")
    assert rollups["traffic"] == ("sum", "sum")
    assert {d.name for d in dataset.dimensions} == {"client", "location", "storage", "bucket"}
    assert kit.provider().datasets["cdn"].name == "cdn"  # FROM gcore alone stays the CDN
    assert kit.provider().default_dataset == "cdn"
