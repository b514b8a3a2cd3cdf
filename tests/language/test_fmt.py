"""fmt: one canonical layout, comments kept, parse(fmt(q)) == parse(q), fmt idempotent."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from querylang import ir
from querylang.errors import QueryError
from querylang.formatting import fmt, fmt_param, fmt_query, fmt_value, format_paths
from querylang.syntax import parse, scan
from tests.language.strategies import query_files

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(query_files())
def test_fmt_round_trips_and_is_idempotent(text: str) -> None:
    before = parse(text)
    out = fmt(text)
    after = parse(out)
    assert after.params == before.params  # PARAM lines move first, in their order
    assert after.queries == before.queries
    assert fmt(out) == out
    for comment in scan(text).comments:
        assert str(comment).rstrip() in out
    for query in before.queries:
        assert parse(fmt_query(query)).queries == (query,)


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(query_files(with_comments=False))
def test_without_comments_fmt_is_the_ir_printer(text: str) -> None:
    qfile = parse(text)
    params = "\n".join(fmt_param(p) for p in qfile.params)
    blocks = [b for b in (params, *(fmt_query(q) for q in qfile.queries)) if b]
    assert fmt(text) == ("\n\n".join(blocks) + "\n" if blocks else "")


def test_canonical_spelling() -> None:
    text = (
        'select sent_bytes as out, requests by region from gcore where region <> "it\'s" '
        "and resource in (1,2) and x = 1.50 last 7d every 1h"
    )
    assert fmt(text) == (
        "SELECT sent_bytes AS out, requests\n"
        "BY region\n"
        "FROM gcore\n"
        "WHERE region != 'it''s' AND resource IN (1, 2) AND x = 1.5\n"
        "EVERY 1h\n"
        "LAST 7d;\n"
    )


def test_short_statements_stay_on_one_line_and_are_one_blank_line_apart() -> None:
    text = "SELECT a FROM x LAST 1d;SELECT b FROM y.z SINCE '2026-11-01';;"
    assert fmt(text) == "SELECT a FROM x LAST 1d;\n\nSELECT b FROM y.z SINCE '2026-11-01';\n"


def test_param_lines_come_first_together() -> None:
    text = "SELECT a FROM x LAST $w; PARAM $w = 7d; QUERY q AS SELECT b FROM x LAST 1d; PARAM $r = (1, 2)"
    assert fmt(text) == (
        "PARAM $w = 7d;\nPARAM $r = (1, 2);\n\n"
        "SELECT a FROM x LAST $w;\n\n"
        "QUERY q AS SELECT b FROM x LAST 1d;\n"
    )


def test_long_lists_break_one_item_per_line_and_fill_value_lists() -> None:
    ids = ", ".join(str(1000 + i) for i in range(20))
    text = (
        "SELECT sent_bytes, upstream_bytes, shield_bytes, requests, responses_2xx, responses_hit "
        f"FROM gcore WHERE resource IN ({ids}) AND region != 'cis' LAST 1d"
    )
    assert fmt(text) == (
        "SELECT\n"
        "  sent_bytes,\n"
        "  upstream_bytes,\n"
        "  shield_bytes,\n"
        "  requests,\n"
        "  responses_2xx,\n"
        "  responses_hit\n"
        "FROM gcore\n"
        "WHERE\n"
        "  resource IN (\n"
        "    1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010, 1011,\n"
        "    1012, 1013, 1014, 1015, 1016, 1017, 1018, 1019\n"
        "  )\n"
        "  AND region != 'cis'\n"
        "LAST 1d;\n"
    )
    assert all(len(line) <= 80 for line in fmt(text).splitlines())


def test_long_param_list_is_filled() -> None:
    values = ", ".join(f"'s-{i:03}'" for i in range(12))
    assert fmt(f"PARAM $storages = ({values});") == (
        "PARAM $storages = (\n"
        "  's-000', 's-001', 's-002', 's-003', 's-004', 's-005', 's-006', 's-007',\n"
        "  's-008', 's-009', 's-010', 's-011'\n"
        ");\n"
    )


COMMENTS = [
    (  # leading comments move with their statement; the file header stays on top
        "-- header\n\n-- about q\nSELECT a FROM x LAST 1d;\n-- the default\nPARAM $w = 7d;\n",
        "-- header\n\n-- the default\nPARAM $w = 7d;\n\n-- about q\nSELECT a FROM x LAST 1d;\n",
    ),
    (  # a trailing comment on the last clause keeps the one-line form
        "SELECT a FROM x\nLAST 1d -- daily\n;",
        "SELECT a FROM x LAST 1d;  -- daily\n",
    ),
    (  # a trailing comment elsewhere keeps its line: one clause per line
        "SELECT a, -- the a\n b FROM x LAST 1d;",
        "SELECT a, b  -- the a\nFROM x\nLAST 1d;\n",
    ),
    (  # a comment line inside a statement stays before what it describes
        "SELECT a\n  -- only EU\nFROM x WHERE r = 'eu'\n-- a week\nLAST 7d;",
        "SELECT a\n-- only EU\nFROM x\nWHERE r = 'eu'\n-- a week\nLAST 7d;\n",
    ),
    (  # ... and a comment before the first line becomes a leading one
        "SELECT\n-- the metric\na FROM x LAST 1d;",
        "-- the metric\nSELECT a FROM x LAST 1d;\n",
    ),
    (  # comments after the last statement end the file, a blank line kept
        "SELECT a FROM x LAST 1d;\n\n\n-- end\n-- really",
        "SELECT a FROM x LAST 1d;\n\n-- end\n-- really\n",
    ),
    ("-- nothing but a comment", "-- nothing but a comment\n"),
    ("", ""),
]


@pytest.mark.parametrize(("text", "expected"), COMMENTS)
def test_comments_are_kept_in_place(text: str, expected: str) -> None:
    assert fmt(text) == expected
    assert fmt(expected) == expected


def test_values_print_so_they_read_back() -> None:
    assert fmt_value(ir.Literal(value="it's")) == "'it''s'"
    assert fmt_value(ir.Literal(value=1e20)) == "100000000000000000000.0"
    assert fmt_value(ir.Literal(value=1e-7)) == "0.0000001"
    nested = ir.ListValue(items=(ir.Param(name="a"), ir.Duration(amount=2, unit="mo")))
    assert fmt_value(nested) == "($a, 2mo)"
    assert parse("SELECT a FROM x WHERE v = 0.0000001").queries[0].where[0].value.value == 1e-7


def test_fmt_query_prints_ir_built_without_spans() -> None:
    query = ir.Query(
        name=ir.Name(value="q"),
        select=(ir.MetricRef(name=ir.Name(value="requests")),),
        sources=(ir.Source(provider=ir.Name(value="gcore")),),
        window=ir.Last(duration=ir.Duration(amount=7, unit="d")),
    )
    assert fmt_query(query) == "QUERY q AS SELECT requests FROM gcore LAST 7d;"


def test_fmt_raises_the_syntax_error() -> None:
    with pytest.raises(QueryError) as info:
        fmt("SELECT a FROM", "bad.qry")
    assert info.value.code == "E101"
    assert info.value.render().startswith("bad.qry:1:14:")


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.qry")), ids=lambda p: p.name)
def test_examples_are_formatted(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert fmt(text, str(path)) == text


# -- format_paths -------------------------------------------------------------------------


def _run(paths: list[str], *, check: bool) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = format_paths(paths, check=check, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_format_paths_check_lists_files_and_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "ok.qry").write_text("SELECT a FROM x LAST 1d;\n")
    messy = tmp_path / "sub" / "messy.qry"
    messy.parent.mkdir()
    messy.write_text("select a from x last 1d")
    (tmp_path / "notes.txt").write_text("select a from x last 1d")
    code, out, err = _run([str(tmp_path)], check=True)
    assert (code, out, err) == (1, f"would reformat {messy}\n", "")
    assert messy.read_text() == "select a from x last 1d"


def test_format_paths_rewrites_in_place(tmp_path: Path) -> None:
    messy = tmp_path / "messy.qry"
    messy.write_text("select a from x last 1d")
    assert _run([str(messy)], check=False) == (0, f"reformatted {messy}\n", "")
    assert messy.read_text() == "SELECT a FROM x LAST 1d;\n"
    assert _run([str(tmp_path)], check=True) == (0, "", "")


def test_format_paths_reports_syntax_errors_and_missing_paths(tmp_path: Path) -> None:
    bad = tmp_path / "bad.qry"
    bad.write_text("SELECT a FORM x")
    code, out, err = _run([str(bad), str(tmp_path / "missing.qry")], check=False)
    assert code == 2
    assert out == ""
    assert f"{bad}:1:10: error[E100]: unexpected 'FORM'" in err
    assert "did you mean FROM?" in err
    assert "error[E501]" in err and "missing.qry" in err
    assert bad.read_text() == "SELECT a FORM x"


def test_format_paths_skips_hidden_directories(tmp_path: Path) -> None:
    hidden = tmp_path / ".git" / "x.qry"
    hidden.parent.mkdir()
    hidden.write_text("select a from x last 1d")
    assert _run([str(tmp_path)], check=True) == (0, "", "")
