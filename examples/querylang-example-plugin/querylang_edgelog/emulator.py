"""An emulator of the edgelog service, for --sandbox and tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import httpx
import numpy as np

from querylang.emulation import account_data, json_response, synthetic_totals
from querylang_edgelog.catalog import SITES

SCALES = {"bytes": 50_000, "requests": 100, "errors": 2}


class EdgelogEmulator:
    """Answers GET /v1/series like the service does."""

    def __init__(self, now: Callable[[], float]) -> None:
        self.now = now

    def expected(
        self,
        dataset: str,
        metric: str,
        start: int,
        end: int,
        step: int,
        where: Mapping[str, Sequence[str]] | None = None,
    ) -> dict[int, float]:
        """The emulator's own totals of ``metric`` per bucket [t, t + step), summed over sites.

        Only buckets the service answers (ending by the last whole step before now) are present.
        """
        if dataset != "series" or metric not in SCALES:
            raise ValueError(f"the edgelog emulator has no counter {dataset}.{metric}")
        unknown = sorted(set(where or {}) - {"site"})
        if unknown:
            raise ValueError(f"the edgelog emulator has no dimension {unknown[0]!r}")
        sites = [s for s in SITES if s in (where or {}).get("site", SITES)]
        stop = int(self.now()) // step * step
        starts = np.array([t for t in range(start, end, step) if t + step <= stop], np.int64)
        total = np.zeros(len(starts))
        with account_data(""):
            for site in sites:
                key = f"edgelog|{site}|{metric}"
                total = total + synthetic_totals(key, starts, starts + step, SCALES[metric])
        return {int(t): float(v) for t, v in zip(starts.tolist(), total.tolist(), strict=True)}

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
