"""The result frame: typed columns (numpy), grouped and reduced for the engine, and the
builder decoders fill.

A frame has an int64 ``time`` column (UTC bucket start, UNIX seconds), one categorical
column per dimension (integer codes into a label table, :mod:`querylang.categorical`;
``frame.dims[name]`` gives the labels row by row), and one float64 column per metric (NaN
is "no value"). A result frame also has ``state``: per row ``complete`` or
``provisional`` (None until the engine marks it; see :mod:`querylang.finality`); it is
not a dimension, so grouping never sees it. Frames are never changed in place: a step
that keeps a column passes the same array on (grouping keys: :mod:`querylang.grouping`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from querylang.categorical import Categorical, Dims, as_categorical, label_table
from querylang.grouping import compress, dense_limit, factorize, reduce

if TYPE_CHECKING:
    import numpy as np
else:
    from querylang.lazynumpy import np

__all__ = ["Frame", "FrameBuilder", "Points", "factorize", "series_points", "to_number"]


def to_number(value: Any) -> float:
    """A vendor value (number, numeric string or null) as a float; NaN for null."""
    if value is None:
        return math.nan
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("", "null", "none"):
            return math.nan
        return float(text)
    raise ValueError(f"expected a number, got {type(value).__name__} {value!r}")


class Frame:
    """Columnar rows: ``time``, then dimensions, then metrics, in declaration order."""

    __slots__ = ("dims", "metrics", "state", "time")

    def __init__(
        self,
        time: np.ndarray,
        dims: Mapping[str, np.ndarray | Categorical | Sequence[Any]] | None = None,
        metrics: Mapping[str, np.ndarray] | None = None,
        state: np.ndarray | None = None,
    ) -> None:
        self.time = np.asarray(time, dtype=np.int64)
        columns = dims.columns() if isinstance(dims, Dims) else (dims or {})
        self.dims = Dims({k: as_categorical(v) for k, v in columns.items()})
        self.metrics = {k: np.asarray(v, dtype=np.float64) for k, v in (metrics or {}).items()}
        self.state = None if state is None else np.asarray(state, dtype=object)
        n = len(self.time)
        extra = () if self.state is None else (("state", self.state),)
        cats = self.dims.columns()
        for name, col in (*cats.items(), *self.metrics.items(), *extra):
            if len(col) != n:
                raise ValueError(f"column {name!r} has {len(col)} rows, time has {n}")

    # -- shape --------------------------------------------------------------------------
    @classmethod
    def empty(cls, dims: Sequence[str] = (), metrics: Sequence[str] = ()) -> Frame:
        return cls(
            np.empty(0, np.int64),
            {d: Categorical(np.empty(0, np.uint8), np.empty(0, object)) for d in dims},
            {m: np.empty(0, np.float64) for m in metrics},
        )

    def __len__(self) -> int:
        return len(self.time)

    @property
    def columns(self) -> list[str]:
        return ["time", *self.dims, *self.metrics]

    def __repr__(self) -> str:
        return f"Frame({len(self)} rows: {', '.join(self.columns)})"

    @property
    def nbytes(self) -> int:
        """Bytes held by the frame's arrays (time, dimension codes and labels, metrics)."""
        held = [self.time, *self.metrics.values(), *(() if self.state is None else (self.state,))]
        arrays = sum(int(a.nbytes) for a in held)
        return arrays + sum(c.nbytes for c in self.dims.columns().values())

    def take(self, index: np.ndarray) -> Frame:
        """The rows at ``index`` (an integer array or boolean mask)."""
        return Frame(
            self.time[index],
            {k: c.take(index) for k, c in self.dims.columns().items()},
            {k: v[index] for k, v in self.metrics.items()},
            None if self.state is None else self.state[index],
        )

    def with_columns(
        self,
        dims: Mapping[str, np.ndarray] | None = None,
        metrics: Mapping[str, np.ndarray] | None = None,
    ) -> Frame:
        return Frame(
            self.time,
            {**self.dims.columns(), **(dims or {})},
            {**self.metrics, **(metrics or {})},
            self.state,
        )

    def project(self, dims: Sequence[str], metrics: Sequence[tuple[str, str]]) -> Frame:
        """Keep ``dims`` and the metrics ``(output_name, source_name)``, in that order."""
        return Frame(
            self.time,
            {d: self.dims.column(d) for d in dims},
            {out: self.metrics[src] for out, src in metrics},
            self.state,
        )

    @classmethod
    def concat(cls, frames: Sequence[Frame], dims: Sequence[str], metrics: Sequence[str]) -> Frame:
        """Stack frames; a metric a frame lacks is NaN in its rows.

        One frame is not copied: the result shares its arrays. Dimension columns stack as
        categoricals (the label tables merge; codes are remapped, not relabelled by row).
        """
        if not frames:
            return cls.empty(dims, metrics)
        if len(frames) == 1:
            (only,) = frames
            return cls(
                only.time,
                {d: only.dims.column(d) for d in dims},
                {m: only.metrics[m] if m in only.metrics else np.full(len(only), np.nan)
                 for m in metrics},
            )  # fmt: skip
        time = np.concatenate([f.time for f in frames])
        out_dims = {d: Categorical.concat([f.dims.column(d) for f in frames]) for d in dims}
        out_metrics = {
            m: np.concatenate(
                [f.metrics[m] if m in f.metrics else np.full(len(f), np.nan) for f in frames]
            )
            for m in metrics
        }
        return cls(time, out_dims, out_metrics)

    # -- grouping -----------------------------------------------------------------------
    def group_ids(
        self, dims: Sequence[str], time: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Group rows by (time, *dims): a group id per row and the first row of each group.

        Groups are numbered in sort order: time first, then the dimensions in order.
        """
        time = self.time if time is None else time
        if len(time) == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        return compress(*self._group_key(dims, time))

    def unique_keys(self, dims: Sequence[str]) -> bool:
        """No two rows share a (time, *dims) key (cheaper than counting the groups)."""
        if len(self) < 2:
            return True
        key, width = self._group_key(dims, self.time)
        if width <= dense_limit(len(key)):
            return int(np.bincount(key, minlength=width).max()) <= 1
        return len(np.unique(key)) == len(key)

    def _group_key(self, dims: Sequence[str], time: np.ndarray) -> tuple[np.ndarray, int]:
        """One int64 per row numbering its (time, *dims) key in sort order, and the width
        (keys are below it). The dimensions contribute their categorical codes."""
        codes, width = factorize(time)
        key = codes.astype(np.int64, copy=False)  # factorize made it: updated in place below
        for d in dims:
            codes, size = self.dims.column(d).ranked()
            if width * size >= 2**62:  # keep the combined key inside int64
                key, width = factorize(key)
            key *= size
            key += codes
            width *= size
        return key, width

    def aggregate(
        self,
        dims: Sequence[str],
        reducers: Mapping[str, str],
        *,
        time: np.ndarray | None = None,
        weights: np.ndarray | None = None,
        groups: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> Frame:
        """Collapse rows sharing (time, *dims), reducing each metric by its reducer.

        Reducers: ``sum``, ``mean`` (weighted by ``weights``), ``min``, ``max``, ``last``
        (the latest row's value), ``at_max:<m>`` / ``at_min:<m>`` (this column's value where
        metric ``m`` peaks). A group whose values are all NaN reduces to NaN. ``groups`` is
        ``group_ids(dims, time)`` when the caller has already computed it.
        """
        time = self.time if time is None else np.asarray(time, np.int64)
        ids, first = groups if groups is not None else self.group_ids(dims, time)
        n = len(first)
        out: dict[str, np.ndarray] = {}
        for name, how in reducers.items():
            out[name] = reduce(how, self.metrics[name], ids, n, time, weights, self.metrics)
        return Frame(time[first], {d: self.dims.column(d).take(first) for d in dims}, out)

    def duplicate_keys(self, dims: Sequence[str]) -> int:
        """How many rows repeat a (time, *dims) key already seen."""
        return 0 if self.unique_keys(dims) else len(self) - len(self.group_ids(dims)[1])

    def sort(self) -> Frame:
        """Rows ordered by time, then by the dimensions in order."""
        if len(self) < 2:
            return self
        ids, _ = self.group_ids(list(self.dims))
        if bool((ids[1:] >= ids[:-1]).all()):  # in order already: the same rows, no copy
            return self
        return self.take(np.argsort(ids, kind="stable"))

    # -- reading ------------------------------------------------------------------------
    def to_pandas(self) -> Any:
        """A pandas DataFrame (``pip install 'querylang[pandas]'``); time as UTC timestamps.

        A bare frame knows no units or kinds: ``Result.to_pandas()`` keeps both.
        """
        from querylang.conversion import frame_to_pandas

        return frame_to_pandas(self)

    def to_arrow(self) -> Any:
        """A pyarrow Table (``pip install 'querylang[arrow]'``); time as timestamp[s, UTC]."""
        from querylang.conversion import frame_to_arrow

        return frame_to_arrow(self)

    def to_polars(self) -> Any:
        """A polars DataFrame (``pip install 'querylang[polars]'``)."""
        from querylang.conversion import frame_to_polars

        return frame_to_polars(self)

    def _repr_html_(self) -> str:
        from querylang.engine import Column, Result
        from querylang.report import result_table_html

        cols = (
            Column(name="time", role="time"),
            *(Column(name=d, role="dimension") for d in self.dims),
            *(Column(name=m, role="metric") for m in self.metrics),
        )
        shell = Result(name=None, source="", columns=cols, frame=self, plan=None)  # type: ignore[arg-type]
        return f"<p>Frame · {len(self)} rows</p>" + result_table_html(shell, limit=50)

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """Rows as tuples (time as int seconds, metrics as float with NaN)."""
        cols: list[Any] = [self.time, *self.dims.values(), *self.metrics.values()]  # labels
        lists = [c.tolist() for c in cols]
        return zip(*lists, strict=True)


class _Slot:
    """One series' points for one metric: numpy chunks (whole series) and loose points."""

    __slots__ = ("chunks", "times", "values")

    def __init__(self) -> None:
        self.chunks: list[tuple[np.ndarray, np.ndarray]] = []
        self.times: list[int] = []
        self.values: list[float] = []

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        parts = list(self.chunks)
        if self.times or not parts:
            parts.append((np.asarray(self.times, np.int64), np.asarray(self.values, np.float64)))
        if len(parts) == 1:
            return parts[0]
        return np.concatenate([t for t, _ in parts]), np.concatenate([v for _, v in parts])


_NUMERIC = frozenset((int, float))
_ROWS = frozenset((list, tuple))
_NULL = frozenset((type(None),))
_EXACT_FLOAT_INT = 2**53  # a float64 holds every integer up to here exactly


def _numeric_points(points: Sequence[Sequence[Any]]) -> tuple[np.ndarray, np.ndarray] | None:
    """``[[ts, value], …]`` as (int64 times, float64 values) in one numpy step, or None.

    Only rows of plain ints, floats and nulls take this path (the element types are read
    at C speed, without a Python call per point; a null value is NaN, as the per-point path
    makes it); anything else (strings, bools, bad shapes, a null time, times past what
    int64 or a float64 holds exactly) returns None so the per-point path gives exactly its
    result or its error.
    """
    if not isinstance(points, list | tuple):  # an iterator is read once, by the slow path
        return None
    try:
        if not set(map(type, points)) <= _ROWS:
            return None
        cells = set(map(type, itertools.chain.from_iterable(points)))
        if not cells - _NULL <= _NUMERIC:
            return None
        if cells & _NULL:  # a missing value: NaN, read as float64 (a missing time: below)
            table = np.array(points, dtype=np.float64)
        elif set(map(len, points)) == {2}:  # the usual [ts, value]: flat, no row objects
            flat = itertools.chain.from_iterable(points)
            table = np.fromiter(flat, np.int64 if cells == {int} else np.float64, 2 * len(points))
            table = table.reshape(-1, 2)
        else:
            table = np.array(points)
    except (TypeError, ValueError, OverflowError):
        return None
    if table.ndim != 2 or table.shape[1] < 2 or table.dtype.kind not in "if":
        return None
    stamps, values = table[:, 0], table[:, 1]
    if table.dtype.kind == "f":
        if not np.isfinite(stamps).all():
            return None
        if len(stamps) and float(np.abs(stamps).max()) >= _EXACT_FLOAT_INT:
            return None
    return stamps.astype(np.int64), values.astype(np.float64)


class Points:
    """One series' ``[[unix_ts, value], …]`` already in numpy: what ``add_series`` takes in
    one step (a decoder gets it from :func:`series_points`, e.g. through
    :func:`querylang.jsonarrays.parse`, without keeping the list)."""

    __slots__ = ("times", "values")

    def __init__(self, times: np.ndarray, values: np.ndarray) -> None:
        self.times = times
        self.values = values

    def __len__(self) -> int:
        return len(self.times)

    def __repr__(self) -> str:
        return f"Points({len(self)} points)"


def series_points(points: list[Any]) -> Points | None:
    """``[[ts, value], …]`` as the :class:`Points` ``add_series`` would make of the list in
    one step, or None where it would go point by point (the list must then be added)."""
    fast = _numeric_points(points)
    return None if fast is None else Points(*fast)


def _increasing(ts: np.ndarray) -> bool:
    """Strictly increasing: sorted, and no timestamp twice."""
    return len(ts) < 2 or bool((ts[1:] > ts[:-1]).all())


class FrameBuilder:
    """Collects a decoded response series by series (or point by point) into a Frame.

    Decoders call :meth:`add_series` or :meth:`add_point`; values may be numbers, numeric
    strings or None. A timestamp given twice for one series and metric is a malformed
    response (``ValueError``).
    """

    def __init__(self, dims: Sequence[str], metrics: Sequence[str]) -> None:
        self.dims = tuple(dims)
        self.metrics = tuple(metrics)
        self._series: dict[tuple[Any, ...], dict[str, _Slot]] = {}
        # Each dimension's label table (label -> code), and each series' codes, in the
        # order the series were added: a label is coded once per series, never per point.
        self._tables: tuple[dict[Any, int], ...] = tuple({} for _ in self.dims)
        self._codes: list[tuple[int, ...]] = []

    def _slot(self, key: tuple[Any, ...], metric: str) -> _Slot:
        if len(key) != len(self.dims):
            raise ValueError(f"series key {key!r} does not match dimensions {self.dims!r}")
        if metric not in self.metrics:
            raise ValueError(f"unexpected metric {metric!r}")
        per_metric = self._series.get(key)
        if per_metric is None:
            per_metric = self._series[key] = {}
            self._codes.append(
                tuple(t.setdefault(x, len(t)) for t, x in zip(self._tables, key, strict=True))
            )
        return per_metric.setdefault(metric, _Slot())

    def add_series(
        self, key: tuple[Any, ...], metric: str, points: Sequence[Sequence[Any]] | Points
    ) -> None:
        """Add ``[[unix_ts, value], …]`` (or its :class:`Points`) for one series and metric.

        A series of plain numbers goes into numpy in one step; one with nulls, numeric
        strings or a malformed point takes the per-point path (same values, same errors).
        """
        slot = self._slot(key, metric)
        if isinstance(points, Points):
            slot.chunks.append((points.times, points.values))
            return
        fast = _numeric_points(points)
        if fast is not None:
            slot.chunks.append(fast)
            return
        times, values = [], []
        for point in points:
            if not isinstance(point, list | tuple) or len(point) < 2:
                raise ValueError(f"expected [timestamp, value], got {point!r}")
            times.append(int(to_number(point[0])))
            values.append(to_number(point[1]))
        slot.times.extend(times)
        slot.values.extend(values)

    def add_point(self, key: tuple[Any, ...], time: int, values: Mapping[str, Any]) -> None:
        """Add one row: the metrics' values for one series at one bucket."""
        for metric, value in values.items():
            slot = self._slot(key, metric)
            slot.times.append(int(time))
            slot.values.append(to_number(value))

    def build(self) -> Frame:
        if not self._series:
            return Frame.empty(self.dims, self.metrics)
        time_parts: list[np.ndarray] = []
        lengths: list[int] = []
        metric_parts: dict[str, list[np.ndarray]] = {m: [] for m in self.metrics}
        for key, per_metric in self._series.items():
            arrays = {m: slot.arrays() for m, slot in per_metric.items()}
            ordered: dict[str, np.ndarray] = {}
            for metric, (ts, _) in arrays.items():
                ordered[metric] = ts if _increasing(ts) else np.sort(ts, kind="stable")
                if not _increasing(ordered[metric]):
                    raise ValueError(f"series {key!r} repeats a timestamp for {metric!r}")
            if len(arrays) == 1:
                union = next(iter(ordered.values()))
            else:
                union = np.unique(np.concatenate(list(ordered.values())))
            time_parts.append(union)
            lengths.append(len(union))
            for metric in self.metrics:
                if metric not in arrays:
                    metric_parts[metric].append(np.full(len(union), np.nan))
                    continue
                ts, vals = arrays[metric]
                if ts is union:  # already the series' sorted time column
                    metric_parts[metric].append(vals)
                    continue
                col = np.full(len(union), np.nan)
                col[np.searchsorted(union, ts)] = vals
                metric_parts[metric].append(col)
        counts = np.asarray(lengths, dtype=np.int64)
        shape = (len(self._codes), len(self.dims))
        series_codes = np.array(self._codes, dtype=np.int64).reshape(shape)
        dims = {  # runs of codes: one code and one length per series, no label per row
            d: Categorical.from_runs(series_codes[:, i], counts, label_table(self._tables[i]))
            for i, d in enumerate(self.dims)
        }
        return Frame(
            np.concatenate(time_parts),
            dims,
            {m: np.concatenate(p) for m, p in metric_parts.items()},
        )
