"""check reports every independent problem of a statement, each with a help line, in colour
on a terminal (NO_COLOR respected)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from querylang.checking import check_text
from querylang.cli import main
from querylang.plugins import registry
from tests.conftest import NOW

PROVIDERS = registry().providers


def _problems(text: str) -> list[tuple[str, int, int, int, str | None]]:
    return [
        (e.code, e.span.line, e.span.column, e.span.end_column, e.hint)
        for e in check_text(text, "q.qry", PROVIDERS, now=NOW, sandbox=True)
    ]


def test_a_misspelt_metric_and_dimension_are_two_problems_with_positions() -> None:
    text = "SELECT sent_byts BY regoin FROM gcore EVERY 1h LAST 1d"
    assert _problems(text) == [
        ("E202", 1, 8, 17, "did you mean 'sent_bytes'?"),
        ("E203", 1, 21, 27, "did you mean 'region'?"),
    ]


def test_every_bad_name_value_and_limit_of_one_statement() -> None:
    text = (
        "SELECT sent_byts, requsts BY regoin, contry FROM gcore\n"
        "WHERE region = 'europe' AND resource = 'x' EVERY 1h LAST 400d"
    )
    codes = [(code, line, column) for code, line, column, _, _ in _problems(text)]
    assert codes == [
        ("E202", 1, 8),
        ("E202", 1, 19),
        ("E203", 1, 30),
        ("E203", 1, 38),
        ("E207", 2, 16),
        ("E207", 2, 40),
        ("E401", 2, 53),
    ]


def test_a_limit_violation_is_reported_beside_a_bad_name() -> None:
    # Gcore keeps 1m data for 31 days (docs/providers/gcore.md): E402 from the plan.
    found = _problems("SELECT sent_byts FROM gcore EVERY 1m LAST 90d")
    assert [p[0] for p in found] == ["E202", "E402"]


def test_an_e207_without_a_close_value_still_has_help() -> None:
    ((code, _, _, _, hint),) = _problems(
        "SELECT sent_bytes FROM gcore WHERE region = 'europe' EVERY 1h LAST 1d"
    )
    assert code == "E207" and hint == "use one of the listed values, e.g. region = 'na'"


def test_an_unquoted_value_is_told_to_quote_it() -> None:
    ((code, _, column, _, hint),) = _problems(
        "SELECT sent_bytes FROM gcore WHERE region = eu EVERY 1h LAST 1d"
    )
    assert (code, column, hint) == ("E100", 45, "a text value is quoted: 'eu'")


@pytest.mark.parametrize(
    "text",
    [
        "SELECT sent_bytes FROM gcore.nothing LAST 1d",
        "SELECT sent_bytes BY zzzzzz FROM gcore LAST 1d",
        "SELECT sent_bytes FROM gcore WHERE resource = 'abc' LAST 1d",
        "SELECT sent_bytes FROM gcore EVERY 'x' LAST 1d",
        "SELECT sent_bytes FROM gcore LAST 1d; SELECT FROM",
        "SELECT sent_bytes FROM gcore BETWEEN '2026-11-10' AND '2026-11-01'",
        "SELECT sent_bytes FROM gcore EVERY 1h BETWEEN '2026-11-10T00:30:00Z' AND '2026-11-11'",
        "SELECT sent_bytes FROM gcore WHERE vhost NOT IN ('a') LAST 1d",
    ],
)
def test_every_diagnostic_has_help(text: str) -> None:
    found = _problems(text)
    assert found and all(hint for *_, hint in found), found


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_on_a_terminal_unless_no_color(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "q.qry"
    path.write_text("SELECT sent_byts FROM gcore LAST 1d\n")
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = _Terminal()
    assert main(["check", str(path)], out=out) == 1
    assert "\x1b[1;31merror[E202]\x1b[0m" in out.getvalue()
    assert "\x1b[1;36m= help:\x1b[0m did you mean 'sent_bytes'?" in out.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    out = _Terminal()
    assert main(["check", str(path)], out=out) == 1
    assert "\x1b[" not in out.getvalue() and "error[E202]" in out.getvalue()
    piped = io.StringIO()  # not a terminal: no colour either
    monkeypatch.delenv("NO_COLOR")
    assert main(["check", str(path)], out=piped) == 1
    assert "\x1b[" not in piped.getvalue()


@pytest.mark.parametrize("digits", [310, 1000, 4300])
def test_a_number_of_hundreds_of_digits_is_e103_not_a_crash(digits: int) -> None:
    text = f"SELECT sent_bytes FROM gcore WHERE resource = {'9' * digits} EVERY 1h LAST 1d"
    ((code, line, column, _, hint),) = _problems(text)
    assert (code, line, column) == ("E103", 1, 47) and hint
