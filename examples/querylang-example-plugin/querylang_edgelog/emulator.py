"""An emulator of the edgelog service, for --sandbox and tests, built on querylang.emulation.

Only what is edgelog's own is written here: its path, its parameters and error body, and
its data (one synthetic counter per site and metric). The kit does the rest: routing,
the bearer-token check, deterministic series, which buckets exist yet, the points, and the
frame of ``handle`` and ``expected``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import httpx
import numpy as np

from querylang.emulation import (
    BadRequest,
    EmulatorBase,
    Finality,
    RouteTable,
    accepted,
    bearer_token,
    json_response,
    one_of,
    points,
    scope,
    synthetic_totals,
)
from querylang_edgelog.catalog import SITES

SCALES = {"bytes": 50_000, "requests": 100, "errors": 2}  # per minute and site


def _error(status: int, message: str) -> httpx.Response:
    return json_response(status, {"error": {"message": message}})


def _totals(site: str, metric: str, starts: np.ndarray, step: int) -> np.ndarray:
    """The counter ``metric`` of ``site`` over each bucket [t, t + step)."""
    return synthetic_totals(f"edgelog|{site}|{metric}", starts, starts + step, SCALES[metric])


def _published(step: int) -> Finality:
    """Which buckets the service answers: a step's data is published once that step of the
    service's grid is over."""
    return Finality(align=step)


def _series(request: httpx.Request, now: int) -> httpx.Response:
    token = bearer_token(request)
    if not accepted(token):  # the kit's convention: the token "invalid" is a revoked one
        return _error(401, "missing bearer token" if token is None else "invalid bearer token")
    p = request.url.params
    metric = one_of("metric", p.get("metric"), SCALES, "unknown metric {value!r}")
    try:
        start, end, step = int(p["start"]), int(p["end"]), int(p["step"])
    except (KeyError, ValueError):
        raise BadRequest("start, end and step are required") from None
    if step not in (60, 3600, 86400) or start % step or end <= start:
        raise BadRequest("bad start/end/step")
    if end - start > 31 * 86400:
        raise BadRequest("at most 31 days per call")
    starts = _published(step).buckets(start, end, step, now)
    series = [
        {"site": site, "points": points(starts, _totals(site, metric, starts, step))}
        for site in p.get_list("site") or SITES
    ]
    return json_response(200, {"series": series})


def _expected(
    metric: str, start: int, end: int, step: int, now: int, where: Mapping[str, Sequence[str]]
) -> dict[int, float]:
    """The totals of ``metric`` per bucket [t, t + step), summed over the sites."""
    if metric not in SCALES:
        raise ValueError(f"the edgelog emulator has no counter series.{metric}")
    sites = [s for s in SITES if s in scope(where, ("site",), "edgelog").get("site", SITES)]
    return _published(step).totals(
        start, end, step, now, lambda site, t: _totals(site, metric, t, step), over=sites
    )


class EdgelogEmulator(EmulatorBase):
    """Answers GET /v1/series like the service does; ``expected`` answers dataset series."""

    label = "edgelog"
    no_dataset = "the {label} emulator has no counter {dataset}.{metric}"

    def __init__(self, now: Callable[[], float]) -> None:
        self.now = now
        self.routes = RouteTable(_error).add("GET", "/v1/series", _series)
        self.datasets = {"series": _expected}
