"""When a bucket's number is final: complete vs provisional, from the catalog's delays.

Each dataset declares, per native grain, how many seconds after a bucket ends the vendor
stops revising it (``GrainSpec.final_after``, else ``Dataset.final_after``). A bucket is
``complete`` once ``bucket end + delay <= now`` and ``provisional`` before that (including
a bucket that has not ended yet). A bucket built from several native buckets (re-bucketing,
local-time days) is complete only when all its parts are, i.e. when its last part is.

Pure functions of their arguments: no clock is read here, ``now`` is always passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from querylang.catalog import Dataset
from querylang.timegrid import Granularity

__all__ = [
    "COMPLETE",
    "PROVISIONAL",
    "State",
    "bucket_state",
    "combine_states",
    "final_after",
    "final_at",
    "span_state",
]

State = Literal["complete", "provisional"]
COMPLETE: State = "complete"
PROVISIONAL: State = "provisional"


def _grain(grain: Granularity | str) -> Granularity:
    return Granularity.parse(grain) if isinstance(grain, str) else grain


def final_after(dataset: Dataset, grain: Granularity | str) -> int:
    """Seconds after a ``grain`` bucket of ``dataset`` ends until its data are final."""
    spec = dataset.grain(_grain(grain))
    if spec is not None and spec.final_after is not None:
        return spec.final_after
    return dataset.final_after


def final_at(dataset: Dataset, grain: Granularity | str, bucket_start: int) -> int:
    """The instant (UNIX seconds) from which the bucket starting at ``bucket_start`` is final."""
    g = _grain(grain)
    return g.add(bucket_start) + final_after(dataset, g)


def bucket_state(dataset: Dataset, grain: Granularity | str, bucket_start: int, now: int) -> State:
    """``complete`` when the native bucket starting at ``bucket_start`` is final at ``now``."""
    return COMPLETE if final_at(dataset, grain, bucket_start) <= now else PROVISIONAL


def span_state(
    dataset: Dataset, native: Granularity | str, start: int, end: int, now: int
) -> State:
    """The state of a bucket [start, end) built from ``native`` buckets: final with its last."""
    return COMPLETE if end + final_after(dataset, native) <= now else PROVISIONAL


def combine_states(states: Iterable[State]) -> State:
    """Complete only when every part is (and there is at least one part)."""
    seen = False
    for state in states:
        if state != COMPLETE:
            return PROVISIONAL
        seen = True
    return COMPLETE if seen else PROVISIONAL
