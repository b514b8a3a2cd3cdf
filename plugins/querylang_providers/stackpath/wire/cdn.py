"""StackPath stack metrics: compile a piece to ``GET /cdn/v1/stacks/{stack}/metrics``, decode it.

The API answers every metric column in one response, so a piece is always one request.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from querylang.frames import Frame, FrameBuilder, to_number
from querylang.provider import Wire
from querylang.timegrid import format_ts
from querylang.wire import (
    NativeQuery,
    NativeRequest,
    NativeResponse,
    ProviderContext,
    Unsupported,
    build_url,
)
from querylang_providers.stackpath.catalog import (
    DATASET,
    DEFAULT_PLATFORM,
    GRANULARITIES,
    GROUP_BY,
    STACK_ENV,
    TIME_COLUMN,
    TIME_METRICS,
)

__all__ = ["MILLIS_ABOVE", "CdnWire", "metrics_path", "to_seconds"]

MILLIS_ABOVE = 1e11  # a timestamp above this is in milliseconds (unverified, providers.md)
_FILTER_PARAMS = {
    "platform": "platforms",
    "site": "sites",
    "pop": "pops",
    "billing_region": "billing_regions",
}


def metrics_path(stack: str) -> str:
    """The metrics endpoint of one stack (ID or slug, path-escaped)."""
    return f"/cdn/v1/stacks/{quote(stack, safe='')}/metrics"


def _stack(query: NativeQuery, context: ProviderContext) -> str | Unsupported:
    """The stack from ``WHERE stack = '…'`` or the STACKPATH_STACK_ID setting."""
    wanted = query.filter("stack")
    if wanted is None:
        stack = context.settings.get(STACK_ENV, "").strip()
        if not stack:
            return Unsupported(
                reason="no StackPath stack to query: the metrics API works on one stack",
                hint=f"set {STACK_ENV} to a stack ID or slug, or add WHERE stack = '<id>'",
            )
        return stack
    if wanted.op != "in" or len(wanted.values) != 1:
        return Unsupported(
            reason="StackPath metrics cover exactly one stack per query",
            hint="filter with WHERE stack = '<stack id or slug>' (one value, no NOT IN)",
        )
    return str(wanted.values[0])


def to_seconds(value: float) -> float:
    """A vendor timestamp in UNIX seconds (values above 1e11 are milliseconds)."""
    return value / 1000.0 if value > MILLIS_ABOVE else value


def _series_rows(series: Any, index: int) -> tuple[dict[str, int], list[list[Any]]]:
    if not isinstance(series, dict):
        raise ValueError(f"series[{index}] is not an object")
    names = series.get("metrics")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"series[{index}].metrics is not a list of names")
    columns = {name: i for i, name in enumerate(names)}
    if TIME_COLUMN not in columns:
        raise ValueError(f"series[{index}] has no {TIME_COLUMN!r} column")
    samples = series.get("samples") or []
    if not isinstance(samples, list):
        raise ValueError(f"series[{index}].samples is not a list")
    rows = []
    for j, sample in enumerate(samples):
        values = sample.get("values") if isinstance(sample, dict) else None
        if not isinstance(values, list) or len(values) != len(names):
            raise ValueError(
                f"series[{index}].samples[{j}].values does not match the {len(names)} metrics"
            )
        rows.append(values)
    return columns, rows


class CdnWire(Wire):
    """``FROM stackpath``: one ``GET /cdn/v1/stacks/{stack}/metrics`` per piece."""

    dataset = DATASET

    def compile(
        self, query: NativeQuery, context: ProviderContext
    ) -> list[NativeRequest] | Unsupported:
        """One GET per piece; end_date clamped to now; platforms=CDE unless filtered."""
        stack = _stack(query, context)
        if isinstance(stack, Unsupported):
            return stack
        if len(query.group_by) > 1:
            return Unsupported(
                reason=f"StackPath groups by one field at a time; cannot group by "
                f"{' and '.join(query.group_by)} together",
                hint="group BY one of site, platform, pop, billing_region; run one query per "
                "dimension, or filter the others with WHERE",
            )
        grain = GRANULARITIES.get(str(query.granularity))
        if grain is None:
            return Unsupported(
                reason=f"StackPath has no {query.granularity} granularity",
                hint="native granularities are 5m, 1h, 1d and 1mo",
            )
        end = min(query.window.end, context.now)
        if end <= query.window.start:
            return []  # the whole piece lies in the future: nothing to ask
        params: list[tuple[str, Any]] = [
            ("start_date", format_ts(query.window.start)),
            ("end_date", format_ts(end)),
            ("granularity", grain),
        ]
        platform = query.filter("platform")
        if platform is None:
            params.append(("platforms", DEFAULT_PLATFORM))
        for dimension, param in _FILTER_PARAMS.items():
            f = query.filter(dimension)
            if f is None:
                continue
            if f.op != "in":
                return Unsupported(reason=f"StackPath cannot exclude {dimension} values (NOT IN)")
            params.append((param, ",".join(str(v) for v in f.values)))
        params.append(("group_by", GROUP_BY[query.group_by[0]] if query.group_by else "NONE"))
        return [
            NativeRequest(
                provider="stackpath",
                method="GET",
                url=build_url(context.base_url, metrics_path(stack), params),
                headers=(("Accept", "application/json"),),
                metrics=query.metrics,
            )
        ]

    def decode(self, query: NativeQuery, request: NativeRequest, response: NativeResponse) -> Frame:
        """``series[].samples[].values`` in ``series[].metrics`` order → rows; key = group value."""
        builder = FrameBuilder(query.group_by, request.metrics)
        if not response.content.strip():
            raise ValueError(f"an empty body with HTTP {response.status}")
        body = response.json()
        if not isinstance(body, dict):
            raise ValueError("the answer is not a JSON object")
        all_series = body.get("series")
        if all_series is None:
            raise ValueError("the answer has no 'series' list")  # no data is "series": []
        if not isinstance(all_series, list):
            raise ValueError("'series' is not a list")
        for index, series in enumerate(all_series):
            columns, rows = _series_rows(series, index)
            key: tuple[Any, ...] = ()
            if query.group_by:
                label = series.get("key")
                if label is None or label == "":
                    raise ValueError(f"series[{index}] is grouped but has no key")
                key = (str(label),)
            wanted = [(m, columns[m]) for m in request.metrics if m in columns]
            for values in rows:
                ts = query.granularity.floor(
                    int(to_seconds(to_number(values[columns[TIME_COLUMN]])))
                )
                point: dict[str, float] = {}
                for metric, i in wanted:
                    number = to_number(values[i])
                    point[metric] = to_seconds(number) if metric in TIME_METRICS else number
                builder.add_point(key, ts, point)
        return builder.build()
