"""querylang.units.UNITS: every unit the built-ins, the standard vocabulary and the docs use."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from querylang.plugins import registry_of
from querylang.standard import STANDARD
from querylang.units import _SCALED, KNOWN_UNITS, UNITS, known_unit, scaled_unit

ROOT = Path(__file__).resolve().parents[2]


def test_every_built_in_catalog_unit_is_known() -> None:
    plugins = [ep.load() for ep in importlib.metadata.entry_points(group="querylang")]
    registry = registry_of(*plugins)
    used = {
        (p.name, ds.name, m.name): m.unit
        for p in registry.providers.values()
        for ds in p.datasets.values()
        for m in ds.metrics
    }
    assert len(registry.providers) >= 4
    assert {key: unit for key, unit in used.items() if not known_unit(unit)} == {}


def test_the_standard_vocabulary_and_the_docs_table_use_known_units() -> None:
    assert {m.name: m.unit for m in STANDARD if m.unit not in KNOWN_UNITS} == {}
    text = (ROOT / "docs" / "reference.md").read_text()
    table = text[text.index("| standard metric | unit | rule |") :].split("\n\n", 1)[0]
    units = {row.split("|")[2].strip() for row in table.splitlines()[2:]}
    assert units == {"bytes", "count", "ratio", "bit/s"}
    assert units <= KNOWN_UNITS


def test_every_scaled_unit_is_known_and_each_says_what_it_measures() -> None:
    assert set(_SCALED) <= KNOWN_UNITS and all(scaled_unit(u) for u in _SCALED)
    assert frozenset(UNITS) == KNOWN_UNITS
    assert all(meaning.strip() for meaning in UNITS.values())


def test_a_typo_or_a_new_word_is_not_known() -> None:
    assert not known_unit("Bytes") and not known_unit("widgets") and not known_unit(None)
    assert known_unit("bytes") and known_unit("Mbps") and known_unit("unix_s")
