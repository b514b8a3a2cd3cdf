"""The one cattrs converter: IR and results to and from JSON-ready data.

IR nodes carry a ``"node"`` tag naming their class, so unions (a value is a literal, a
duration, a parameter or a list) structure back unambiguously.
"""

from __future__ import annotations

import functools
import math
import types
import typing
from typing import Any

import attrs
import cattrs

from querylang import ir
from querylang.timegrid import format_ts

__all__ = ["cell", "converter", "result_to_json", "row_records"]

_IR_CLASSES = {
    cls.__name__: cls
    for cls in vars(ir).values()
    if isinstance(cls, type) and attrs.has(cls) and cls.__module__ == ir.__name__
}


def _is_ir_class(t: Any) -> bool:
    return isinstance(t, type) and t.__name__ in _IR_CLASSES and _IR_CLASSES[t.__name__] is t


def _is_ir_union(t: Any) -> bool:
    origin = typing.get_origin(t)
    if origin not in (typing.Union, types.UnionType):
        return False
    return any(_is_ir_class(a) for a in typing.get_args(t))


@functools.cache
def converter() -> cattrs.Converter:
    """The converter, built once with hooks for every IR class and union."""
    for cls in _IR_CLASSES.values():
        attrs.resolve_types(cls, globalns=vars(ir))
    conv = cattrs.Converter()

    def unstructure_factory(cls: type) -> Any:
        fields = attrs.fields(cls)

        def unstructure(node: Any) -> dict[str, Any]:
            out: dict[str, Any] = {"node": cls.__name__}
            for f in fields:
                value = getattr(node, f.name)
                if f.name == "span":
                    if value is not ir.NO_SPAN:
                        out["span"] = attrs.asdict(value)
                    continue
                out[f.name] = conv.unstructure(value)
            return out

        return unstructure

    def structure_factory(cls: type) -> Any:
        fields = attrs.fields(cls)

        def structure(data: dict[str, Any], _: Any) -> Any:
            kwargs = {}
            for f in fields:
                if f.name not in data:
                    continue
                if f.name == "span":
                    kwargs["span"] = ir.Span(**data["span"])
                else:
                    kwargs[f.name] = conv.structure(data[f.name], f.type)
            return cls(**kwargs)

        return structure

    def structure_union(data: Any, t: Any) -> Any:
        if data is None:
            return None
        tag = data.get("node") if isinstance(data, dict) else None
        if tag not in _IR_CLASSES:
            raise ValueError(f"expected one of {t}, got {data!r}")
        return conv.structure(data, _IR_CLASSES[tag])

    def structure_scalar(data: Any, _: Any) -> str | int | float:
        if isinstance(data, bool) or not isinstance(data, str | int | float):
            raise ValueError(f"expected a string or number, got {data!r}")
        return data

    conv.register_structure_hook(str | int | float, structure_scalar)
    conv.register_unstructure_hook_factory(_is_ir_class, unstructure_factory)
    conv.register_structure_hook_factory(_is_ir_class, structure_factory)
    conv.register_structure_hook_func(_is_ir_union, structure_union)
    return conv


def cell(value: Any, *, integral: bool) -> Any:
    """A metric value for JSON: None for missing, int when the column holds whole numbers."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if integral and float(value).is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def row_records(result: Any) -> typing.Iterator[dict[str, Any]]:
    """A result's rows as JSON records: time as ISO 8601 (UTC, or with the TZ offset),
    the row's ``state`` (complete / provisional), numbers as numbers."""
    from querylang.localtime import format_local, parse_zone

    names = [c.name for c in result.columns]
    integral = [c.kind == "counter" for c in result.columns]
    n_dims = sum(1 for c in result.columns if c.role == "dimension")
    zone_name = getattr(result, "zone", None)
    zone = parse_zone(zone_name) if zone_name else None
    states = result.frame.state
    for index, row in enumerate(result.frame.rows()):
        record: dict[str, Any] = {"time": format_local(row[0], zone) if zone else format_ts(row[0])}
        for i in range(1, len(row)):
            value = row[i]
            record[names[i]] = value if i <= n_dims else cell(value, integral=integral[i])
        if states is not None:
            record["state"] = states[index]
        yield record


def result_to_json(result: Any) -> dict[str, Any]:
    """One result: its name, source, columns (with units) and rows."""
    return {
        "name": result.name,
        "source": result.source,
        "columns": [
            *({k: v for k, v in attrs.asdict(c).items() if v is not None} for c in result.columns),
            *([{"name": "state", "role": "state"}] if result.frame.state is not None else []),
        ],
        "rows": list(row_records(result)),
    }


# -- dataframes -------------------------------------------------------------------------
#
# A result leaves querylang with its types and units intact: counters as int64 (pandas'
# nullable Int64, so a missing value stays missing), rates and ratios as float64, time as
# tz-aware UTC timestamps, dimensions as categoricals (Arrow dictionaries), and each
# column's unit, kind and role as metadata (pandas ``DataFrame.attrs``, Arrow field
# metadata).

_EXTRAS = {
    "pandas": "pandas",
    "pyarrow": "arrow",
    "pyarrow.parquet": "arrow",
    "polars": "polars",
    "plotext": "chart",
}


def require(module: str, purpose: str) -> Any:
    """Import an optional library, or raise MissingExtraError naming the extra to install."""
    import importlib

    from querylang.errors import MissingExtraError

    try:
        return importlib.import_module(module)
    except ImportError:
        extra = _EXTRAS.get(module, module)
        raise MissingExtraError(module, purpose, extra) from None


def _whole(values: Any) -> bool:
    """True when every present value is a whole number that int64 holds exactly."""
    import numpy as np

    present = values[~np.isnan(values)]
    return bool(
        np.all(np.isfinite(present) & (present == np.round(present)))
        and (len(present) == 0 or np.max(np.abs(present)) < 2**63)
    )


def _column_specs(frame: Any, columns: Any) -> dict[str, Any]:
    """Column name → Column (unit, kind, role); bare roles for a frame without a result."""
    from querylang.engine import Column

    specs = {c.name: c for c in columns or ()}
    out = {"time": specs.get("time") or Column(name="time", role="time")}
    for d in frame.dims:
        out[d] = specs.get(d) or Column(name=d, role="dimension")
    for m in frame.metrics:
        out[m] = specs.get(m) or Column(name=m, role="metric")
    return out


def _counter(spec: Any, values: Any) -> bool:
    return bool(spec.kind == "counter" and _whole(values))


def _used_labels(frame: Any, name: str) -> tuple[Any, Any, Any] | None:
    """A dimension's codes, the labels its rows use and each one's first row, from the
    categorical column (no Python object per row); None where a label is missing (None)."""
    import numpy as np

    cat = frame.dims.column(name)
    codes, labels = cat.codes, cat.labels
    used, first = np.unique(codes, return_index=True)
    if any(label is None for label in labels[used].tolist()):
        return None
    return codes, used, first


def _arrow_dictionary(pa: Any, frame: Any, name: str, values: Any) -> Any:
    """A dictionary array as ``dictionary_encode`` makes it (labels in order of first row),
    built from the categorical's codes."""
    import numpy as np

    found = _used_labels(frame, name)
    if found is None:
        return pa.array(values.tolist()).dictionary_encode()
    codes, used, first = found
    order = used[np.argsort(first, kind="stable")]  # labels by their first row
    remap = np.empty(int(codes.max(initial=0)) + 1, dtype=np.int32)
    remap[order] = np.arange(len(order), dtype=np.int32)
    labels = frame.dims.column(name).labels
    return pa.DictionaryArray.from_arrays(
        pa.array(remap[codes] if len(codes) else codes.astype(np.int32), type=pa.int32()),
        pa.array(labels[order].tolist()),
    )


def _pandas_categorical(pd: Any, frame: Any, name: str, values: Any) -> Any:
    """A pandas Categorical as ``pd.Categorical(labels)`` makes it (categories sorted),
    built from the categorical's codes."""
    import numpy as np

    found = _used_labels(frame, name)
    if found is None:
        return pd.Categorical(values.tolist())
    codes, used, _ = found
    labels = frame.dims.column(name).labels[used].tolist()
    try:
        ranked = sorted(range(len(labels)), key=labels.__getitem__)
    except TypeError:  # labels of several types: pandas decides how they order
        return pd.Categorical(values.tolist())
    remap = np.empty(int(codes.max(initial=0)) + 1, dtype=np.int64)
    remap[used[ranked]] = np.arange(len(ranked))
    return pd.Categorical.from_codes(
        remap[codes] if len(codes) else codes.astype(np.int64),
        categories=[labels[i] for i in ranked],
    )


def frame_to_arrow(frame: Any, columns: Any = None, *, name: str | None = None) -> Any:
    """A pyarrow Table: timestamp[s, UTC], dictionary dimensions, int64 counters, units."""
    pa = require("pyarrow", "to_arrow()")
    import numpy as np

    specs = _column_specs(frame, columns)
    fields, arrays = [], []

    def meta(spec: Any) -> dict[bytes, bytes]:
        out = {b"role": spec.role.encode()}
        if spec.unit:
            out[b"unit"] = spec.unit.encode()
        if spec.kind:
            out[b"kind"] = spec.kind.encode()
        return out

    arrays.append(pa.array(frame.time, type=pa.timestamp("s", tz="UTC")))
    fields.append(pa.field("time", arrays[-1].type, nullable=False, metadata=meta(specs["time"])))
    for d, values in frame.dims.items():
        array = _arrow_dictionary(pa, frame, d, values)
        arrays.append(array)
        fields.append(pa.field(d, array.type, metadata=meta(specs[d])))
    for m, values in frame.metrics.items():
        spec = specs[m]
        missing = np.isnan(values)
        if _counter(spec, values):
            array = pa.array(np.where(missing, 0, values).astype(np.int64), mask=missing)
        else:
            array = pa.array(values, type=pa.float64(), mask=missing)
        arrays.append(array)
        fields.append(pa.field(m, array.type, metadata=meta(spec)))
    schema_meta = {b"querylang.query": name.encode()} if name else None
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata=schema_meta))


def frame_to_pandas(frame: Any, columns: Any = None, *, name: str | None = None) -> Any:
    """A pandas DataFrame; ``attrs["units"]`` (and ``"kinds"``) map column names to units."""
    pd = require("pandas", "to_pandas()")
    import numpy as np

    specs = _column_specs(frame, columns)
    data: dict[str, Any] = {"time": pd.to_datetime(frame.time, unit="s", utc=True)}
    for d, values in frame.dims.items():
        data[d] = _pandas_categorical(pd, frame, d, values)
    for m, values in frame.metrics.items():
        if _counter(specs[m], values):
            missing = np.isnan(values)
            data[m] = pd.arrays.IntegerArray(np.where(missing, 0, values).astype(np.int64), missing)
        else:
            data[m] = values
    df = pd.DataFrame(data)
    df.attrs["units"] = {n: s.unit for n, s in specs.items() if s.unit}
    df.attrs["kinds"] = {n: s.kind for n, s in specs.items() if s.kind}
    if name:
        df.attrs["query"] = name
    return df


def frame_to_polars(frame: Any, columns: Any = None, *, name: str | None = None) -> Any:
    """A polars DataFrame (through Arrow): Datetime(UTC), Categorical dimensions, Int64."""
    pl = require("polars", "to_polars()")
    table = frame_to_arrow(frame, columns, name=name)
    df = pl.from_arrow(table)
    pa = require("pyarrow", "to_polars()")
    casts = [  # polars categoricals hold strings: integer dimensions (IDs) stay Int64
        pl.col(f.name).cast(pl.Categorical)
        if pa.types.is_string(f.type.value_type)
        else pl.col(f.name).cast(pl.Int64 if pa.types.is_integer(f.type.value_type) else pl.String)
        for f in table.schema
        if pa.types.is_dictionary(f.type)
    ]
    return df.with_columns(casts) if casts else df
