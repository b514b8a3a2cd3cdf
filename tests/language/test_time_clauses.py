"""FILL, TZ and ALIGN TO START: parsed into the IR, printed canonically by fmt, round-tripped."""

from __future__ import annotations

import pytest

from querylang import ir
from querylang.errors import QueryError
from querylang.formatting import fmt
from querylang.syntax import parse


def _query(text: str) -> ir.Query:
    return parse(text).queries[0]


def test_the_clauses_parse_into_the_ir() -> None:
    q = _query(
        "select requests from gcore every 2d between '2021-09-27' and '2021-09-29' "
        "fill previous tz 'Europe/Berlin' align to start"
    )
    assert q.fill == ir.Fill(mode="PREVIOUS")
    assert q.tz == ir.TimeZone(zone=ir.Literal(value="Europe/Berlin"))
    assert q.align == ir.Align()
    plain = _query("SELECT requests FROM gcore LAST 1d")
    assert (plain.fill, plain.tz, plain.align) == (None, None, None)


def test_a_zone_may_be_a_parameter() -> None:
    assert _query("SELECT requests FROM gcore LAST 1d TZ $zone").tz == ir.TimeZone(
        zone=ir.Param(name="zone")
    )


def test_fmt_prints_them_canonically_after_the_window() -> None:
    text = "select requests from gcore fill none tz '+05:30' align to start every 1d last 7d"
    assert fmt(text) == (
        "SELECT requests\nFROM gcore\nEVERY 1d\nLAST 7d\nALIGN TO START\nTZ '+05:30'\nFILL NONE;\n"
    )
    short = "select requests from gcore last 1d fill zero"
    assert fmt(short) == "SELECT requests FROM gcore LAST 1d FILL ZERO;\n"
    assert _query(fmt(text)) == _query(text)


@pytest.mark.parametrize("mode", ["NULL", "ZERO", "PREVIOUS", "NONE"])
def test_every_fill_mode_round_trips(mode: str) -> None:
    text = f"SELECT requests FROM gcore EVERY 1h LAST 1d FILL {mode.lower()}"
    assert _query(text).fill == ir.Fill(mode=mode)  # type: ignore[arg-type]
    assert _query(fmt(text)) == _query(text)


def test_an_unknown_fill_mode_is_e120() -> None:
    with pytest.raises(QueryError) as info:
        parse("SELECT requests FROM gcore LAST 1d FILL zeros")
    assert info.value.code == "E120"
    assert "NULL, ZERO, PREVIOUS or NONE" in info.value.message


@pytest.mark.parametrize(
    "clause", ["FILL ZERO FILL NULL", "TZ 'UTC' TZ 'UTC'", "ALIGN TO START ALIGN TO START"]
)
def test_each_clause_at_most_once(clause: str) -> None:
    with pytest.raises(QueryError) as info:
        parse(f"SELECT requests FROM gcore EVERY 1h LAST 1d {clause}")
    assert info.value.code == "E102"


def test_the_clauses_survive_the_json_ir() -> None:
    from querylang.conversion import converter

    q = _query("SELECT a FROM b EVERY 2d LAST 4d ALIGN TO START TZ 'Europe/Berlin' FILL zero")
    data = converter().unstructure(q)
    assert data["fill"]["mode"] == "ZERO" and data["tz"]["zone"]["value"] == "Europe/Berlin"
    assert converter().structure(data, ir.Query) == q
