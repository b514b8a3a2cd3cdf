"""The user page's example queries run (in --sandbox) and its tables match the catalog."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import querylang
from tests.providers.kit import BAISHAN as kit

DOC = Path(__file__).parents[3] / "docs" / "providers" / "baishan.md"
TEXT = DOC.read_text()
EXAMPLES = re.findall(r"```sql\n(.*?)```", TEXT, re.S)


@pytest.mark.skipif(not hasattr(querylang, "run"), reason="the engine is not there yet")
@pytest.mark.parametrize("query", EXAMPLES)
def test_examples_run_in_the_sandbox(query: str) -> None:
    (result,) = querylang.run(query, now="2026-11-20T00:00:00Z", env={}, sandbox=True)
    assert len(result.frame) > 0


def test_every_metric_dimension_and_setting_is_documented() -> None:
    dataset = kit.provider().datasets["cdn"]
    for metric in dataset.metrics:
        row = f"| `{metric.name}` | {metric.unit} | {metric.kind} | {metric.rollup} |"
        assert row in TEXT
    for dimension in dataset.dimensions:
        assert f"| `{dimension.name}` |" in TEXT
    for env in [c.env for c in kit.provider().credentials] + [
        s.env for s in kit.provider().settings
    ]:
        assert f"`{env}`" in TEXT
    assert len(EXAMPLES) >= 2
