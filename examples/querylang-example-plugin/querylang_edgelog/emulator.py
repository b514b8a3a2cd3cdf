"""An emulator of the edgelog service, for --sandbox and tests."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import numpy as np

from querylang.emulation import json_response, synthetic_totals
from querylang_edgelog import SITES

SCALES = {"bytes": 50_000, "requests": 100, "errors": 2}


class EdgelogEmulator:
    """Answers GET /v1/series like the service does."""

    def __init__(self, now: Callable[[], float]) -> None:
        self.now = now

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != "/v1/series":
            return json_response(404, {"error": {"message": "not found"}})
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return json_response(401, {"error": {"message": "missing bearer token"}})
        p = request.url.params
        metric = p.get("metric")
        if metric not in SCALES:
            return json_response(400, {"error": {"message": f"unknown metric {metric!r}"}})
        try:
            start, end, step = int(p["start"]), int(p["end"]), int(p["step"])
        except (KeyError, ValueError):
            return json_response(400, {"error": {"message": "start, end and step are required"}})
        if step not in (60, 3600, 86400) or start % step or end <= start:
            return json_response(400, {"error": {"message": "bad start/end/step"}})
        if end - start > 31 * 86400:
            return json_response(400, {"error": {"message": "at most 31 days per call"}})
        stop = min(end, int(self.now()) // step * step)
        starts = np.arange(start, max(stop, start), step, dtype=np.int64)
        sites = p.get_list("site") or list(SITES)
        series = [
            {
                "site": site,
                "points": [
                    [int(t), int(v)]
                    for t, v in zip(
                        starts,
                        synthetic_totals(
                            f"edgelog|{site}|{metric}", starts, starts + step, SCALES[metric]
                        ),
                        strict=True,
                    )
                ],
            }
            for site in sites
        ]
        return json_response(200, {"series": series})
