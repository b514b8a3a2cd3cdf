"""Results leave querylang with their types and units: pandas, Arrow, polars, Parquet."""

from __future__ import annotations

import io
import math
import subprocess
import sys

import numpy as np
import pytest

from querylang.engine import Column, Result
from querylang.errors import MissingExtraError
from querylang.frames import Frame

T0 = 1_763_596_800  # 2025-11-20T00:00:00Z


def hand_result() -> Result:
    """Two regions, two hours: one missing counter value, one missing ratio."""
    frame = Frame(
        np.array([T0, T0, T0 + 3600, T0 + 3600]),
        {"region": np.array(["eu", "na", "eu", "na"], dtype=object)},
        {
            "sent_bytes": np.array([3_684_899.0, 2**40, np.nan, 7.0]),
            "hit_ratio": np.array([0.5, 0.25, np.nan, 1.0]),
        },
    )
    columns = (
        Column(name="time", role="time"),
        Column(name="region", role="dimension"),
        Column(name="sent_bytes", role="metric", unit="bytes", kind="counter"),
        Column(name="hit_ratio", role="metric", unit="ratio", kind="ratio"),
    )
    return Result(name="q", source="gcore", columns=columns, frame=frame, plan=None)  # type: ignore[arg-type]


def test_to_pandas_keeps_dtypes_missing_and_units() -> None:
    import pandas as pd

    df = hand_result().to_pandas()
    assert str(df["time"].dtype).startswith("datetime64") and str(df["time"].dt.tz) == "UTC"
    assert df["time"][2] == pd.Timestamp("2025-11-20T01:00:00Z")
    assert isinstance(df["region"].dtype, pd.CategoricalDtype)
    assert list(df["region"].cat.categories) == ["eu", "na"]
    assert df["sent_bytes"].dtype == "Int64"  # nullable int64: a missing value stays missing
    assert df["sent_bytes"][1] == 2**40 and df["sent_bytes"][0] == 3_684_899
    assert df["sent_bytes"].isna().tolist() == [False, False, True, False]
    assert df["hit_ratio"].dtype == "float64" and math.isnan(df["hit_ratio"][2])
    assert df.attrs["units"] == {"sent_bytes": "bytes", "hit_ratio": "ratio"}
    assert df.attrs["kinds"] == {"sent_bytes": "counter", "hit_ratio": "ratio"}
    assert df.attrs["query"] == "q"


def test_to_arrow_types_and_field_metadata() -> None:
    import pyarrow as pa

    table = hand_result().to_arrow()
    schema = table.schema
    assert schema.field("time").type == pa.timestamp("s", tz="UTC")
    assert pa.types.is_dictionary(schema.field("region").type)
    assert schema.field("sent_bytes").type == pa.int64()
    assert schema.field("hit_ratio").type == pa.float64()
    assert schema.field("sent_bytes").metadata == {
        b"role": b"metric",
        b"unit": b"bytes",
        b"kind": b"counter",
    }
    assert table.column("sent_bytes").to_pylist() == [3_684_899, 2**40, None, 7]
    assert table.column("hit_ratio").null_count == 1
    assert table.column("region").to_pylist() == ["eu", "na", "eu", "na"]
    assert schema.metadata == {b"querylang.query": b"q"}


def test_to_polars_types() -> None:
    import polars as pl

    df = hand_result().to_polars()
    assert df.schema["time"] == pl.Datetime(time_unit="ms", time_zone="UTC")
    assert df.schema["region"] == pl.Categorical
    assert df.schema["sent_bytes"] == pl.Int64
    assert df["sent_bytes"].to_list() == [3_684_899, 2**40, None, 7]
    assert df.schema["hit_ratio"] == pl.Float64


def test_fractional_counter_is_not_rounded() -> None:
    """A counter with a fraction (a vendor's MB x 10^6 rounding) stays float: never rounded."""
    r = hand_result()
    frame = r.frame.with_columns(metrics={"sent_bytes": np.array([1.5, 2.0, 3.0, 4.0])})
    shifted = Result(name="q", source="gcore", columns=r.columns, frame=frame, plan=None)  # type: ignore[arg-type]
    assert shifted.to_pandas()["sent_bytes"].tolist() == [1.5, 2.0, 3.0, 4.0]


def test_repr_and_html() -> None:
    r = hand_result()
    assert repr(r) == (
        "<Result q FROM gcore: 4 rows: time, region, sent_bytes [bytes], hit_ratio [ratio]>"
    )
    assert repr(r.frame) == "Frame(4 rows: time, region, sent_bytes, hit_ratio)"
    page = r._repr_html_()
    assert "<table" in page and "<small>bytes</small>" in page
    assert ">3.68 MB<" in page and 'title="3,684,899"' in page  # human, exact in the tooltip
    assert ">1.10 TB<" in page  # 2^40 bytes = 1.0995… x 10^12
    assert page.count("<tr>") == 5  # header + 4 rows
    assert "<table" in r.frame._repr_html_()


def test_a_missing_library_is_a_clear_error() -> None:
    """Without pandas installed, to_pandas() names the extra (a child with pandas hidden)."""
    code = (
        "import sys; sys.modules['pandas'] = None\n"
        "from tests.output.test_conversion import hand_result\n"
        "from querylang.errors import MissingExtraError\n"
        "try:\n    hand_result().to_pandas()\n"
        "except MissingExtraError as e:\n    print(e.render()); print(isinstance(e, ImportError))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "error[E503]: to_pandas() needs the Python library 'pandas'" in done.stdout
    assert "pip install 'querylang[pandas]'" in done.stdout
    assert done.stdout.strip().endswith("True")
    assert issubclass(MissingExtraError, ModuleNotFoundError)


@pytest.mark.parametrize("fmt", ["parquet", "arrow"])
def test_cli_writes_parquet_and_arrow(tmp_path, fmt) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / f"out.{fmt}"
    done = subprocess.run(
        [sys.executable, "-m", "querylang.cli", "run", "--sandbox", "--now",
         "2026-11-20T00:00:00Z", "-e", "SELECT sent_bytes, requests BY region FROM gcore "
         "EVERY 1d LAST 2d", "-o", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    table = pq.read_table(path) if fmt == "parquet" else pa.ipc.open_file(path).read_all()
    schema = table.schema
    assert schema.field("requests").type == pa.int64()
    assert schema.field("sent_bytes").metadata[b"unit"] == b"bytes"
    assert pa.types.is_timestamp(schema.field("time").type)
    assert schema.field("time").type.tz == "UTC"
    assert pa.types.is_dictionary(schema.field("region").type)
    # The same numbers as the JSON output of the same run.
    as_json = subprocess.run(
        [sys.executable, "-m", "querylang.cli", "run", "--sandbox", "--now",
         "2026-11-20T00:00:00Z", "-e", "SELECT sent_bytes, requests BY region FROM gcore "
         "EVERY 1d LAST 2d", "-f", "ndjson"],
        capture_output=True, text=True, timeout=60,
    ).stdout.splitlines()  # fmt: skip
    import json

    records = [json.loads(line) for line in as_json]
    assert table.column("requests").to_pylist() == [r["requests"] for r in records]
    assert len(records) == 14  # 2 days x the emulator's 7 regions


def test_binary_format_needs_output_and_one_query(tmp_path) -> None:
    base = [sys.executable, "-m", "querylang.cli", "run", "--sandbox", "examples/sandbox.qry"]
    done = subprocess.run([*base, "-f", "parquet"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--output FILE" in done.stderr
    assert "Traceback" not in done.stderr
    done = subprocess.run(
        [*base, "-o", str(tmp_path / "x.arrow")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "holds one table" in done.stderr and "--query" in done.stderr
    done = subprocess.run(
        [*base, "-o", str(tmp_path / "x.unknown")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "cannot tell the format" in done.stderr


def test_cli_formats_match_the_writers() -> None:
    from querylang import cli, output

    assert cli.FORMATS == output.FORMATS
    assert set(output.EXTENSIONS.values()) <= set(output.FORMATS)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_table_cells_are_data_not_markup(monkeypatch) -> None:
    """A label like ``[bold]x`` prints as written, on a terminal and in the record layout."""
    from querylang.output import write_results

    r = hand_result()
    frame = r.frame.with_columns(dims={"region": np.array(["[bold]eu", "na", "[x]", "na"], object)})
    shown = Result(name="[q]", source="gcore", columns=r.columns, frame=frame, plan=None)  # type: ignore[arg-type]
    for columns in ("200", "30"):
        monkeypatch.setenv("COLUMNS", columns)
        out = _Tty()
        write_results([shown], "table", out)
        text = out.getvalue()
        assert "[bold]eu" in text and "[x]" in text and "[q]" in text
        assert "3.68 MB" in text and "—" in text  # human units; the missing value marked


@pytest.mark.parametrize(
    ("hidden", "args", "extra"),
    [
        ("pyarrow", ["-q", "cdn_egress", "-o", "{tmp}/x.parquet"], "arrow"),
        ("plotext", ["-q", "cdn_egress", "-f", "chart"], "chart"),
    ],
)
def test_cli_names_the_missing_extra(tmp_path, hidden, args, extra) -> None:
    argv = ["run", "--sandbox", "examples/sandbox.qry", *(a.format(tmp=tmp_path) for a in args)]
    code = (
        f"import sys; sys.modules[{hidden!r}] = None\n"
        "from querylang.cli import main\n"
        f"sys.exit(main({argv!r}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"needs the Python library {hidden!r}" in done.stderr
    assert f"pip install 'querylang[{extra}]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_dimension_columns_convert_from_codes_as_from_the_labels() -> None:
    """Built from the categorical codes, the pandas categories (sorted) and the Arrow
    dictionary (labels by first row) are what the labels themselves give."""
    pd = pytest.importorskip("pandas")
    pa = pytest.importorskip("pyarrow")
    from querylang.conversion import frame_to_arrow, frame_to_pandas
    from querylang.frames import FrameBuilder

    def built(series: dict[str, list[list[float]]]) -> Frame:
        b = FrameBuilder(("d",), ("m",))
        for label, points in series.items():
            b.add_series((label,), "m", points)
        return b.build()

    one = built({"eu": [[0, 1], [60, 2]], "asia": [[0, 3]]})
    two = built({"na": [[0, 4]], "eu": [[60, 5]], "au": [[0, 6], [60, 7]]})
    frame = Frame.concat([two, one], ["d"], ["m"]).take(np.array([0, 1, 2, 3, 5, 6]))
    # rows by hand: na, eu, au, au, (eu dropped), asia
    labels = ["na", "eu", "au", "au", "eu", "asia"]
    assert frame.dims["d"].tolist() == labels

    got = frame_to_pandas(frame)["d"].array
    want = pd.Categorical(labels)
    assert list(got.categories) == ["asia", "au", "eu", "na"] == list(want.categories)
    assert got.codes.tolist() == want.codes.tolist() == [3, 2, 1, 1, 2, 0]

    column = frame_to_arrow(frame).column("d").combine_chunks()
    expected = pa.array(labels).dictionary_encode()
    assert column.dictionary.to_pylist() == ["na", "eu", "au", "asia"]
    assert column.equals(expected)
