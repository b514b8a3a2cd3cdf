"""The emulator kit (querylang.emulation) and the emulators' own data (expected())."""

from __future__ import annotations

import httpx
import pytest

from querylang.timegrid import parse_ts

NOW = parse_ts("2026-11-20T05:00:00Z")


# -- expected() of the example plugin's emulator ----------------------------------------------
@pytest.mark.parametrize(
    ("step", "start", "end", "sites"),
    [(60, NOW - 3600, NOW + 600, None), (3600, NOW - 86400, NOW, ["ams", "sin"]),
     (86400, NOW - 20 * 86400 - 5 * 3600, NOW - 5 * 3600, ["fra"])],
)  # fmt: skip
@pytest.mark.parametrize("metric", ["bytes", "requests", "errors"])
def test_edgelog_expected_matches_the_http_answer(step, start, end, sites, metric) -> None:
    from querylang_edgelog.emulator import EdgelogEmulator

    emulator = EdgelogEmulator(lambda: float(NOW + 30))
    params = [("metric", metric), ("start", start), ("end", end), ("step", step)]
    params += [("site", s) for s in sites or ()]
    request = httpx.Request(
        "GET", "http://edgelog.test/v1/series", params=params, headers={"Authorization": "Bearer t"}
    )
    response = emulator.handle(request)
    assert response.status_code == 200, response.text
    answered: dict[int, float] = {}
    for series in response.json()["series"]:
        for t, v in series["points"]:
            answered[t] = answered.get(t, 0.0) + v
    where = None if sites is None else {"site": sites}
    truth = emulator.expected("series", metric, start, end, step, where)
    assert truth == answered and len(truth) >= 3
    assert all(t + step <= NOW + 30 for t in truth)
