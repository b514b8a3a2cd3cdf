"""Plain-data test cases for provider pieces, shared by the providers' golden tests."""

from __future__ import annotations

from typing import Any

from querylang.timegrid import Granularity, TimeWindow, parse_ts
from querylang.wire import Filter, NativeQuery


def native_query(spec: dict[str, Any], *, dataset: str) -> NativeQuery:
    """A NativeQuery from the plain-data form used by the golden files."""
    start, end = spec["window"]
    return NativeQuery(
        dataset=dataset,
        metrics=tuple(spec["metrics"]),
        group_by=tuple(spec.get("group_by", ())),
        filters=tuple(
            Filter(dimension=f["dimension"], op=f["op"], values=tuple(f["values"]))
            for f in spec.get("filters", ())
        ),
        granularity=Granularity.parse(spec.get("granularity", "1h")),
        window=TimeWindow(parse_ts(start), parse_ts(end)),
    )
