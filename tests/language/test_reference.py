"""docs/reference.md cannot drift: every error code raised is documented, and its example raises it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from querylang.checking import check_text
from querylang.plugins import registry
from querylang.syntax import KEYWORDS
from tests.conftest import NOW

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
CODE = re.compile(r"""["']([EP]\d{3})["']""")


def _raised_codes() -> set[str]:
    codes: set[str] = set()
    for folder in ("querylang", "plugins"):
        for path in (ROOT / folder).rglob("*.py"):
            codes |= set(CODE.findall(path.read_text(encoding="utf-8")))
    return codes


def _sections() -> dict[str, str]:
    parts = re.split(r"^### ([EP]\d{3})\b.*$", REFERENCE, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


SECTIONS = _sections()
EXAMPLES = {
    code: match.group(1)
    for code, body in SECTIONS.items()
    if (match := re.search(r"```qry\n(.*?)```", body, flags=re.DOTALL))
}


def test_every_code_raised_is_documented() -> None:
    raised = _raised_codes()
    assert {"E100", "E300", "E402", "P001", "P429"} <= raised  # the scan finds codes at all
    missing = sorted(raised - set(SECTIONS))
    assert not missing, f"document these codes in docs/reference.md: {missing}"


def test_documented_codes_are_raised_or_reserved() -> None:
    unknown = set(SECTIONS) - _raised_codes()
    assert all("Not raised" in SECTIONS[code] for code in unknown), sorted(unknown)


def test_codes_are_in_order() -> None:
    codes = list(SECTIONS)
    assert codes == sorted(codes, key=lambda c: (c[0] == "P", c))


@pytest.mark.parametrize("code", sorted(EXAMPLES))
def test_example_raises_its_code(code: str) -> None:
    providers = registry().providers
    text = EXAMPLES[code]
    if "FROM stackpath" in text and "stackpath" not in providers:
        pytest.skip("the stackpath plugin is not installed")
    found = [e.code for e in check_text(text, "q.qry", providers, now=NOW, env={})]
    assert found and found[0] == code, found


def test_static_codes_have_a_checked_example() -> None:
    static = {c for c in SECTIONS if c[0] == "E" and c[1] in "1234"}
    assert static - set(EXAMPLES) == {"E206", "E302", "E407"}


def test_lexical_rules_list_every_keyword_and_unit() -> None:
    keyword_row = next(line for line in REFERENCE.splitlines() if line.startswith("| keyword"))
    assert all(k in keyword_row.replace("`", " ").split() for k in KEYWORDS)
    for unit in ("s", "m", "h", "d", "w", "mo"):
        assert f"| `{unit}` |" in REFERENCE


def test_readme_links_the_reference() -> None:
    assert "docs/reference.md" in (ROOT / "README.md").read_text(encoding="utf-8")
