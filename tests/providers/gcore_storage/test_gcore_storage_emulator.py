"""Emulator tests: validation (vendor-shaped 400s), auth, shapes and consistent grains."""

from __future__ import annotations

import json
from typing import Any

import httpx
import numpy as np
import pytest

from querylang.timegrid import parse_ts
from querylang_providers.gcore.catalog import STORAGE_PATH as PATH
from querylang_providers.gcore.emulator import STORAGES
from tests.providers.kit import GCORE_STORAGE as kit
from tests.providers.kit import NOW

URL = f"https://api.gcore.com{PATH}"


def post(body: Any, token: str | None = "t", raw: bytes | None = None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"APIKey {token}"
    content = raw if raw is not None else json.dumps(body).encode()
    emulator = kit.provider().emulator(lambda: float(NOW))
    return emulator.handle(httpx.Request("POST", URL, headers=headers, content=content))


def ok(body: dict[str, Any]) -> dict[str, Any]:
    reply = post(body)
    assert reply.status_code == 200, reply.text
    return reply.json()["data"]["clients"]


def storages(clients: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: node
        for client in clients.values()
        for loc in client["locations"].values()
        for name, node in loc["storages"].items()
    }


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"to": "2026-11-19", "granularity": "1h"}, "from is required"),
        ({"from": "2026-11-19", "granularity": "1h"}, "to is required"),
        ({"from": "2026-11-19T00:00:00Z", "to": "2026-11-19", "granularity": "1h"}, "YYYY-MM-DD"),
        ({"from": "2026-13-01", "to": "2026-11-19", "granularity": "1h"}, "invalid from date"),
        ({"from": "2026-11-19", "to": "2026-11-18", "granularity": "1h"}, "before from"),
        ({"from": "2026-11-18", "to": "2026-11-19"}, "invalid granularity"),
        ({"from": "2026-11-18", "to": "2026-11-19", "granularity": "1d"}, "1h, 12h, 24h"),
        (
            {"from": "2026-11-18", "to": "2026-11-19", "granularity": "1h", "locations": "x"},
            "locations must be a list of strings",
        ),
        (
            {"from": "2026-11-18", "to": "2026-11-19", "granularity": "1h", "storages": [1]},
            "storages must be a list of strings",
        ),
        (
            {"from": "2026-11-18", "to": "2026-11-19", "granularity": "1h", "ts_string": "yes"},
            "ts_string must be a boolean",
        ),
        (
            {"from": "2026-11-18", "to": "2026-11-19", "granularity": "1h", "source": "a"},
            "source must be an integer",
        ),
        ([1], "JSON object"),
    ],
)
def test_bad_bodies_get_the_vendor_error_shape(body: Any, words: str) -> None:
    reply = post(body)
    assert reply.status_code == 400
    assert set(reply.json()) == {"error"}
    assert words in reply.json()["error"]


def test_a_body_that_is_not_json_is_a_400() -> None:
    reply = post(None, raw=b"{nope")
    assert reply.status_code == 400 and "not valid JSON" in reply.json()["error"]


@pytest.mark.parametrize("token", [None, "", "invalid"])
def test_missing_or_revoked_key_is_a_401(token: str | None) -> None:
    body = {"from": "2026-11-19", "to": "2026-11-19", "granularity": "1h"}
    assert post(body, token).status_code == 401


def test_shape_and_to_read_as_a_whole_day() -> None:
    clients = ok({"from": "2026-11-18", "to": "2026-11-18", "granularity": "1h", "source": 1})
    assert set(clients) == {"123", "456"}
    assert clients["123"]["id"] == 123
    assert set(clients["123"]["locations"]) == {"s-region-1", "s-region-2"}
    nodes = storages(clients)
    assert set(nodes) == {name for _, _, name in STORAGES}
    node = nodes["123-myStorage"]
    assert [p[0] for p in node["traffic_series"]] == list(
        range(parse_ts("2026-11-18"), parse_ts("2026-11-19"), 3600)
    )
    assert set(node["buckets_series"]) == {"bucketA", "bucketB"}
    traffic = np.array([p[1] for p in node["traffic_series"]])
    parts = sum(
        np.array([p[1] for p in node[f"traffic_{k}_series"]])
        for k in ("in", "out_edges", "out_wo_edges")
    )
    assert (traffic == parts).all()
    assert node["traffic_sum"] == traffic.sum()


def test_never_data_after_now() -> None:
    nodes = storages(ok({"from": "2026-11-19", "to": "2026-11-25", "granularity": "12h"}))
    last = max(p[0] for p in nodes["123-media"]["requests_series"])
    assert last + 12 * 3600 <= NOW
    assert ok({"from": "2026-11-20", "to": "2026-11-21", "granularity": "1h"}) == {}


def test_filters_by_location_and_storage() -> None:
    by_loc = storages(
        ok(
            {
                "from": "2026-11-18",
                "to": "2026-11-18",
                "granularity": "24h",
                "locations": ["s-region-2"],
            }
        )
    )
    assert set(by_loc) == {"123-media", "456-archive"}
    by_name = ok(
        {
            "from": "2026-11-18",
            "to": "2026-11-18",
            "granularity": "24h",
            "storages": ["456-archive"],
        }
    )
    assert set(by_name) == {"456"}


def test_ts_string_gives_rfc3339_timestamps() -> None:
    nodes = storages(
        ok({"from": "2026-11-18", "to": "2026-11-18", "granularity": "12h", "ts_string": True})
    )
    assert [p[0] for p in nodes["123-backups"]["size_mean_series"]] == [
        "2026-11-18T00:00:00Z",
        "2026-11-18T12:00:00Z",
    ]


def test_coarse_buckets_agree_with_fine_ones() -> None:
    body = {"from": "2026-11-17", "to": "2026-11-18"}
    fine = storages(ok({**body, "granularity": "1h"}))["123-myStorage"]
    coarse = storages(ok({**body, "granularity": "12h"}))["123-myStorage"]

    def values(node: dict[str, Any], field: str) -> np.ndarray:
        return np.array([p[1] for p in node[field]], dtype=float)

    for field in ("traffic_series", "requests_out_edges_series", "size_bytes_hour_series"):
        assert (values(fine, field).reshape(-1, 12).sum(axis=1) == values(coarse, field)).all()
    assert (
        values(fine, "size_max_series").reshape(-1, 12).max(axis=1)
        == values(coarse, "size_max_series")
    ).all()
    assert np.allclose(
        values(fine, "size_mean_series").reshape(-1, 12).mean(axis=1),
        values(coarse, "size_mean_series"),
    )
    files = np.array([p[1] for p in fine["buckets_series"]["bucketA"]], dtype=float)
    coarse_files = np.array([p[1] for p in coarse["buckets_series"]["bucketA"]], dtype=float)
    assert (files.reshape(-1, 12).max(axis=1) == coarse_files).all()


def test_unknown_path_is_a_404() -> None:
    emulator = kit.provider().emulator(lambda: float(NOW))
    reply = emulator.handle(httpx.Request("GET", URL, headers={"Authorization": "APIKey t"}))
    assert reply.status_code == 404


# -- expected(): the emulator's own data agrees with its HTTP answers -------------------------
@pytest.mark.parametrize(
    ("grain", "step", "extra", "where"),
    [
        ("1h", 3600, {}, None),
        ("12h", 43200, {"locations": ["s-region-2"]}, {"location": ["s-region-2"]}),
        ("24h", 86400, {"storages": ["123-backups", "456-archive"]},
         {"storage": ["123-backups", "456-archive"]}),
    ],
)  # fmt: skip
@pytest.mark.parametrize("metric", ["traffic", "requests_in", "size_bytes_hour"])
def test_expected_matches_the_http_answer(grain, step, extra, where, metric) -> None:
    body = {"from": "2026-11-17", "to": "2026-11-20", "granularity": grain, **extra}
    answered: dict[int, float] = {}
    for node in storages(ok(body)).values():  # the storages' own series, added up
        for t, v in node[f"{metric}_series"]:
            answered[t] = answered.get(t, 0.0) + float(v)
    emulator = kit.provider().emulator(lambda: float(NOW))
    start = parse_ts("2026-11-17T00:00:00Z")
    truth = emulator.expected("storage", metric, start, start + 4 * 86400, step, where)
    assert truth == answered
    assert max(truth) + step == NOW  # 2026-11-20 is after now: absent
    assert len(truth) >= 3


def test_expected_cannot_filter_counters_by_bucket() -> None:
    emulator = kit.provider().emulator(lambda: float(NOW))
    with pytest.raises(ValueError, match="bucket"):
        emulator.expected("storage", "traffic", NOW - 86400, NOW, 3600, {"bucket": ["cold"]})
