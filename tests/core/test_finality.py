"""Finality per provider and native grain: a bucket is provisional until its delay passes.

Expected delays are the vendor documents' figures (seed 000: 24 h; seed 001: 60 min;
seed 002: 10-15 min for minutes and hours, a day settles ~02:00 UTC the next day) or the
conservative figures decided where a document is silent (seeds 003, 004: 2 h).
"""

from __future__ import annotations

import pytest

from querylang.catalog import Dataset, GrainSpec, Metric
from querylang.finality import (
    COMPLETE,
    PROVISIONAL,
    bucket_state,
    combine_states,
    final_after,
    final_at,
    span_state,
)
from querylang.timegrid import Granularity, parse_ts
from querylang_providers.baishan.catalog import DATASET as BAISHAN
from querylang_providers.fastly.catalog import DATASET as FASTLY
from querylang_providers.gcore.catalog import CDN_DATASET as GCORE
from querylang_providers.gcore.catalog import STORAGE_DATASET as GCORE_STORAGE
from querylang_providers.stackpath.catalog import DATASET as STACKPATH

MIN, HOUR, DAY = 60, 3600, 86400

# (dataset, native grain, documented delay in seconds)
CASES = [
    *((FASTLY, g, 15 * MIN) for g in ("1m", "1h")),
    (FASTLY, "1d", 2 * HOUR),
    *((GCORE, g, DAY) for g in ("1m", "5m", "15m", "1h", "1d")),
    *((GCORE_STORAGE, g, HOUR) for g in ("1h", "12h", "24h")),
    *((STACKPATH, g, 2 * HOUR) for g in ("5m", "1h", "1d", "1mo")),
    *((BAISHAN, g, 2 * HOUR) for g in ("5m", "1h", "1d")),
]


def test_every_native_grain_is_covered() -> None:
    covered = {(id(d), g) for d, g, _ in CASES}
    for dataset in (FASTLY, GCORE, GCORE_STORAGE, STACKPATH, BAISHAN):
        for spec in dataset.grains:
            assert (id(dataset), str(spec.granularity)) in covered


@pytest.mark.parametrize(("dataset", "grain", "delay"), CASES, ids=lambda v: str(v)[:20])
def test_provisional_until_the_delay_after_the_bucket_ends(
    dataset: Dataset, grain: str, delay: int
) -> None:
    g = Granularity.parse(grain)
    start = g.floor(parse_ts("2026-11-01T00:00:00Z"))
    end = g.add(start)  # computed by hand below for the fixed-size grains
    if g.seconds is not None:
        assert end == start + g.seconds
    assert final_after(dataset, grain) == delay
    assert final_at(dataset, grain, start) == end + delay
    assert bucket_state(dataset, grain, start, now=start) == PROVISIONAL  # still running
    assert bucket_state(dataset, grain, start, now=end) == PROVISIONAL  # ended, not final
    assert bucket_state(dataset, grain, start, now=end + delay - 1) == PROVISIONAL
    assert bucket_state(dataset, grain, start, now=end + delay) == COMPLETE
    assert bucket_state(dataset, g, start, now=end + delay + 1) == COMPLETE


def test_fastly_day_settles_at_two_in_the_morning() -> None:
    day = parse_ts("2026-11-20")
    assert bucket_state(FASTLY, "1d", day, parse_ts("2026-11-21T01:59:59Z")) == PROVISIONAL
    assert bucket_state(FASTLY, "1d", day, parse_ts("2026-11-21T02:00:00Z")) == COMPLETE


def test_a_rebucketed_bucket_is_final_only_with_its_last_part() -> None:
    # a 6-hour bucket from Fastly hours: the 05:00 hour ends 06:00 and settles at 06:15
    start, end = parse_ts("2026-11-20T00:00:00Z"), parse_ts("2026-11-20T06:00:00Z")
    assert span_state(FASTLY, "1h", start, end, parse_ts("2026-11-20T06:14:59Z")) == PROVISIONAL
    assert span_state(FASTLY, "1h", start, end, parse_ts("2026-11-20T06:15:00Z")) == COMPLETE
    assert combine_states([COMPLETE, COMPLETE]) == COMPLETE
    assert combine_states([COMPLETE, PROVISIONAL, COMPLETE]) == PROVISIONAL
    assert combine_states([]) == PROVISIONAL


def test_a_plugin_that_declares_nothing_gets_a_conservative_day() -> None:
    ds = Dataset(
        name="x",
        description="x",
        metrics=(Metric(name="m", unit="B", kind="counter", description="m"),),
        dimensions=(),
        grains=(GrainSpec.of("1h"), GrainSpec.of("1d", final_after=600)),
    )
    assert final_after(ds, "1h") == DAY
    assert final_after(ds, "1d") == 600


def test_describe_shows_each_grains_delay() -> None:
    from querylang.describing import catalog_json
    from querylang.plugins import registry

    fastly = registry().get("fastly")
    grains = catalog_json(fastly, FASTLY)["granularities"]
    assert {g["every"]: g["final_after"] for g in grains} == {"1m": "15m", "1h": "15m", "1d": "2h"}
