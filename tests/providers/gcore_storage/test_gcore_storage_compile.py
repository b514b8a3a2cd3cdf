"""Golden compile tests for FROM gcore.storage: the exact wire request, or Unsupported."""

from __future__ import annotations

import json

import pytest
from gcore_storage_helpers import TOKEN, context, golden, native_query, provider

from querylang.catalog import GrainSpec
from querylang.timegrid import Granularity
from querylang.wire import Unsupported

CASES = golden("compile.json")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_golden_compile(case: dict) -> None:
    result = provider().compile(native_query(case["query"]), context())
    if "unsupported" in case:
        assert isinstance(result, Unsupported)
        assert {"reason": result.reason, "hint": result.hint} == case["unsupported"]
        return
    assert not isinstance(result, Unsupported), result
    got = [{"metrics": list(r.metrics), "json": r.to_json()} for r in result]
    assert got == case["requests"]


@pytest.mark.parametrize("case", [c for c in CASES if "requests" in c], ids=lambda c: c["name"])
def test_secret_is_sent_but_never_shown(case: dict) -> None:
    (request,) = provider().compile(native_query(case["query"]), context())
    assert dict(request.headers)["Authorization"] == f"APIKey {TOKEN}"
    assert TOKEN not in json.dumps(request.to_json())
    assert TOKEN not in request.describe()
    assert request.body is not None
    assert json.loads(request.body) == case["requests"][0]["json"]["body"]


def test_base_url_comes_from_the_context() -> None:
    query = native_query(CASES[0]["query"])
    (request,) = provider().compile(query, context(base_url="http://127.0.0.1:9999/"))
    assert request.url == "http://127.0.0.1:9999/storage/stats/v1/storage/usage/series"


def test_catalog_declares_native_grains_and_rollups() -> None:
    dataset = provider().datasets["storage"]
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
    assert provider().datasets["cdn"].name == "cdn"  # FROM gcore alone stays the CDN
    assert provider().default_dataset == "cdn"
