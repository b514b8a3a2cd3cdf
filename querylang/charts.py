"""Charts of results: ``--format chart`` in the terminal (plotext), and the series behind it.

One chart per query and metric: one line per series (each combination of the ``BY``
dimensions), a legend naming the series, the metric's unit on the y axis (bytes and
bit/s scaled to a decimal SI prefix fitting the largest value, e.g. ``GB``), time on the
x axis in the query's zone (TZ), UTC without one. Missing values are gaps, never zeros. The
HTML report (``querylang.report``) draws the same series.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TextIO

from attrs import frozen

from querylang.conversion import require
from querylang.timegrid import format_ts
from querylang.units import scale_for

__all__ = ["Chart", "axis_label", "charts_of", "write_charts"]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@frozen
class Series:
    label: str
    times: tuple[int, ...]  # UNIX seconds, bucket starts
    values: tuple[float | None, ...]  # in the chart's unit (scaled); None: no value


@frozen
class Chart:
    """One metric of one query, ready to draw."""

    title: str
    metric: str
    unit: str  # the axis unit after scaling ("GB", "Mbit/s", "ratio", …), or ""
    divisor: float
    series: tuple[Series, ...]
    zone: str | None = None  # the query's TZ: the x axis is in it (None: UTC)


def charts_of(result: Any) -> list[Chart]:
    """The charts for one result: one per metric column, one series per dimension tuple."""
    import numpy as np

    frame = result.frame
    name = result.name or result.source
    dims = list(frame.dims)
    keys: dict[tuple[Any, ...], list[int]] = {}
    for row, key in enumerate(zip(*(frame.dims[d].tolist() for d in dims), strict=True)):
        keys.setdefault(key, []).append(row)
    if not dims:
        keys = {(): list(range(len(frame)))}
    out = []
    for col in result.columns:
        if col.role != "metric":
            continue
        values = frame.metrics[col.name]
        present = values[~np.isnan(values)]
        peak = float(np.max(np.abs(present))) if len(present) else 0.0
        scale = scale_for(peak, col.unit)
        divisor, unit = scale if scale else (1.0, col.unit or "")
        series = []
        for key, rows in keys.items():
            order = sorted(rows, key=lambda r: frame.time[r])
            label = ", ".join(f"{d}={v}" for d, v in zip(dims, key, strict=True)) or col.name
            series.append(
                Series(
                    label,
                    tuple(int(frame.time[r]) for r in order),
                    tuple(
                        None if np.isnan(values[r]) else float(values[r]) / divisor for r in order
                    ),
                )
            )
        zone = getattr(result, "zone", None)
        out.append(Chart(f"{name}: {col.name}", col.name, unit, divisor, tuple(series), zone=zone))
    return out


def _local_text(ts: int, zone: str | None) -> str:
    """``2026-03-29 00:00:00`` in the query's zone (UTC without one), as plotext reads it."""
    if zone is None:
        return format_ts(ts).replace("T", " ").rstrip("Z")
    from querylang.localtime import format_local, parse_zone

    return format_local(ts, parse_zone(zone))[:19].replace("T", " ")


def axis_label(chart: Chart) -> str:
    """``sent_bytes (GB)``; the bare name when the unit is the name (``requests``)."""
    if not chart.unit or chart.unit == chart.metric:
        return chart.metric
    return f"{chart.metric} ({chart.unit})"


def _plot(chart: Chart, width: int, height: int, color: bool) -> str:
    plt = require("plotext", "--format chart")
    plt.clear_figure()
    plt.plotsize(width, height)
    plt.date_form("Y-m-d H:M:S", "Y-m-d H:M")
    if not color:
        plt.theme("clear")
    plt.title(chart.title)
    for s in chart.series:
        points = [(t, v) for t, v in zip(s.times, s.values, strict=True) if v is not None]
        if not points:
            continue
        xs = [_local_text(t, chart.zone) for t, _ in points]
        plt.plot(xs, [v for _, v in points], label=s.label, marker="braille")
    plt.xlabel(f"time ({chart.zone or 'UTC'})")
    plt.ylabel(axis_label(chart))
    text: str = plt.build()
    plt.clear_figure()
    return text if color else _ANSI.sub("", text)


def write_charts(
    results: Sequence[Any], out: TextIO, *, width: int = 100, height: int = 24, color: bool = False
) -> None:
    """Each query's metrics as terminal line charts, one after another."""
    for result in results:
        charts = charts_of(result)
        if not len(result.frame):
            out.write(f"{result.name or result.source}: no rows to chart\n\n")
            continue
        for chart in charts:
            out.write(_plot(chart, width, height, color) + "\n\n")
