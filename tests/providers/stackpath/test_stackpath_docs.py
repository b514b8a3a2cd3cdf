"""The user page cannot drift from the catalog: every metric row matches it."""

from __future__ import annotations

import re
from pathlib import Path

from querylang_providers.stackpath import StackPathProvider

PAGE = Path(__file__).parents[3] / "docs" / "providers" / "stackpath.md"


def test_stackpath_docs_metric_table_matches_catalog() -> None:
    rows = {
        m.group(1): (m.group(2), m.group(3), m.group(4))
        for m in re.finditer(
            r"^\| `(\w+)` \| ([^|]+?) \| (\w+) \| ([^|]+?) \|", PAGE.read_text(), re.M
        )
    }
    dataset = StackPathProvider().datasets["cdn"]
    for metric in dataset.metrics:
        assert rows.get(metric.name) == (metric.unit, metric.kind, metric.rollup or "none")
    for dimension in dataset.dimensions:
        assert f"| `{dimension.name}` |" in PAGE.read_text()
    for env in ("STACKPATH_CLIENT_ID", "STACKPATH_CLIENT_SECRET", "STACKPATH_STACK_ID"):
        assert f"`{env}`" in PAGE.read_text()
