"""What a standard metric should be, for the end-to-end check, worked out apart from the engine.

A dataset's :class:`~querylang.catalog.Standard` mapping says which native counters make a
standard counter and with which scale. The check does not take the scale on trust: where
``querylang.units`` says how big the native unit is in the standard one (``MB`` in bytes is
10^6; any number of things in ``count`` is 1), that is the scale the emulator's data are
multiplied by; only where the units say nothing is the mapping's own scale used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from attrs import frozen

from querylang.catalog import Dataset, Standard
from querylang.standard import standard_metric
from querylang.units import UNITS, scale_for

__all__ = ["Term", "combine", "counter", "formula", "scale_fix", "terms", "unit_scale"]


def _counts(unit: str, own: Mapping[str, str]) -> bool:
    """Whether ``unit`` is a number of things (``requests``, ``responses``, ``count`` …)."""
    return own.get(unit, UNITS.get(unit, "")).startswith("a number of")


def unit_scale(native: str, standard: str, own: Mapping[str, str]) -> float | None:
    """How many ``standard`` units one ``native`` unit is; None when the units do not say.

    ``own`` is the provider's units beyond ``querylang.units.UNITS`` (unit -> what it is).
    """
    a, b = scale_for(0.0, native), scale_for(0.0, standard)
    if a is not None and b is not None:  # (1 / size in the base unit, the base unit)
        # sizes are decimal: twelve digits drop the float noise of 1 / (1 / 10^9)
        return float(f"{b[0] / a[0]:.12g}") if a[1] == b[1] else None
    if a is None and b is None and _counts(native, own) and _counts(standard, own):
        return 1.0
    return None


@frozen
class Term:
    """One native counter of a standard mapping and the scale the check applies to it."""

    native: str
    scale: float
    declared: float  # the mapping's own scale
    from_units: bool  # True: ``scale`` is what the units say, not the mapping's


def terms(ds: Dataset, std: Standard, own: Mapping[str, str]) -> tuple[Term, ...]:
    """The terms of ``std`` with the scales the units give (the mapping's where they do not)."""
    meta = standard_metric(std.name)
    out = []
    for native, declared in std.terms:
        m = ds.metric(native)
        said = None if m is None or meta is None else unit_scale(m.unit, meta.unit, own)
        scale = declared if said is None else said
        out.append(Term(native=native, scale=scale, declared=declared, from_units=said is not None))
    return tuple(out)


def combine(parts: Sequence[Term], truth: Mapping[str, Mapping[int, float]]) -> dict[int, float]:
    """Bucket by bucket, the sum of each term's truth times its scale; a bucket one term
    lacks is missing (never counted as 0)."""
    common = set.intersection(*(set(truth[t.native]) for t in parts))
    return {when: sum(t.scale * truth[t.native][when] for t in parts) for when in sorted(common)}


def counter(std: Standard) -> bool:
    """Whether ``std`` maps a standard counter (the only kind a dataset may map)."""
    meta = standard_metric(std.name)
    return meta is not None and not meta.engine


def formula(parts: Sequence[Term]) -> str:
    """The combination the check applies, e.g. ``xferUsedTotalMB * 10^6``; a scale the
    units do not give is marked as the mapping's own."""
    shown = Standard(name="", terms=tuple((t.native, t.scale) for t in parts)).explain()
    return shown + ("" if all(t.from_units for t in parts) else " (the mapping's scales)")


def scale_fix(std: Standard, parts: Sequence[Term]) -> str | None:
    """What to write when a mapping's scale is not what its units say (None: it is)."""
    if all(t.scale == t.declared for t in parts):
        return None
    meta = standard_metric(std.name)
    unit = meta.unit if meta is not None else "the standard unit"
    wrong = ", ".join(
        f"{t.native} scale {t.scale:g}, not {t.declared:g}" for t in parts if t.scale != t.declared
    )
    return (
        f"map {std.name} as {formula(parts)} ({wrong}): the scale of a term is the size of "
        f"one of its native unit in {unit}"
    )
