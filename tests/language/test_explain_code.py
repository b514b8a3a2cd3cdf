"""querylang explain-code: each code's section of docs/reference.md, and its example live."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from querylang.cli import main
from querylang.codes import code_docs

REFERENCE = (Path(__file__).resolve().parents[2] / "docs" / "reference.md").read_text("utf-8")
DOCUMENTED = re.findall(r"^### ([EP]\d{3}) — ", REFERENCE, flags=re.MULTILINE)


def _main(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    return main(argv, out=out), out.getvalue()


def test_every_documented_code_is_explained() -> None:
    assert DOCUMENTED and list(code_docs()) == DOCUMENTED


@pytest.mark.parametrize("code", DOCUMENTED)
def test_explanation_is_the_reference_section(code: str) -> None:
    section = REFERENCE.split(f"### {code} — ", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
    title = section.splitlines()[0]
    status, out = _main(["explain-code", code])
    assert status == 0
    assert out.startswith(f"{code}: {title}\n\n")
    for line in section.splitlines()[1:]:  # every line of prose and of its examples
        if line.strip() and not line.startswith("```") and "](" not in line:
            assert line.replace("`", "").strip() in out


def test_e402_prints_its_example_and_how_check_reports_it() -> None:
    status, out = _main(["explain-code", "e402"])
    assert status == 0
    assert "    SELECT sent_bytes FROM gcore EVERY 1m LAST 90d;" in out
    # Gcore keeps 1m data for 31 days; the reference's clock is 2026-11-20T05:00:00Z.
    assert "example.qry:1:36: error[E402]: gcore keeps 1m data for only 31 days" in out
    assert "= help: use EVERY 5m or coarser" in out


def test_an_unknown_code_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert _main(["explain-code", "E4O2"]) == (2, "")
    err = capsys.readouterr().err
    assert "error[E500]: 'E4O2' is not a querylang error code" in err
    assert "did you mean E402?" in err
    assert _main(["explain-code", "bogus"])[0] == 2
    assert "codes look like E402" in capsys.readouterr().err
