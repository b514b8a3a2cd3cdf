"""Grouping and reducing a frame's rows: integer keys per row, groups, per-group values.

Rows are grouped by an int64 key per row (:meth:`querylang.frames.Frame.group_ids`):
the time column's codes and each dimension's categorical codes, combined. Times on a
regular grid (bucket starts) are numbered without sorting; keys are compressed into group
ids with ``bincount`` when they are dense enough, else with a sort.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from querylang.categorical import Categorical

if TYPE_CHECKING:
    import numpy as np
else:
    from querylang.lazynumpy import np

__all__ = ["compress", "dense_limit", "factorize", "reduce"]


def factorize(column: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes 0..k-1 numbering the distinct values in sorted order, and k.

    Object columns are hashed rather than sorted (a year of 5-minute buckets for hundreds
    of series is tens of millions of labels but only a few distinct); a frame's own
    dimension columns are categorical already and group by their codes.
    """
    if column.dtype != object:
        if column.dtype.kind in "iu" and len(column):
            dense = _dense_codes(column)
            if dense is not None:
                return dense
        uniques, codes = np.unique(column, return_inverse=True)
        return codes.astype(np.int64), len(uniques)
    codes, size = Categorical.from_values(column).ranked()
    return codes.astype(np.int64), size


def dense_limit(n: int) -> int:
    return max(4 * n, 1 << 20)


def _dense_codes(column: np.ndarray) -> tuple[np.ndarray, int] | None:
    """Sorted-order codes of integers on a regular grid (bucket starts), without sorting."""
    lo = int(column.min())
    offsets = column.astype(np.int64, copy=False) - lo
    top = int(offsets.max())
    if top + 1 > dense_limit(len(column)):  # only the grid's step can bring it in range
        step = int(np.gcd.reduce(offsets)) or 1
        if top // step + 1 > dense_limit(len(column)):
            return None
    slots, step = _grid_slots(offsets)
    width = top // step + 1
    present = np.bincount(slots, minlength=width) > 0
    k = int(present.sum())
    if k == width:  # every slot is used: the slots are the codes
        return slots, k
    rank = np.cumsum(present) - 1
    return rank[slots], k


def _grid_slots(offsets: np.ndarray) -> tuple[np.ndarray, int]:
    """``offsets // step`` and ``step``, the greatest common divisor of ``offsets`` (>= 0).

    The step is the gcd of the first few thousand offsets, kept if it divides every one
    (then it is the gcd of all: the true gcd divides it, and it divides every offset),
    else the gcd of all: one division per row instead of a gcd per row.
    """
    step = int(np.gcd.reduce(offsets[:4096])) or 1
    if step == 1:
        return offsets, 1
    slots, rest = np.divmod(offsets, step)
    if rest.any():
        step = int(np.gcd.reduce(offsets)) or 1
        slots = offsets // step
    return slots, step


def compress(key: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Group ids numbered in key order, and each group's first row."""
    n = len(key)
    if width <= dense_limit(n):
        counts = np.bincount(key, minlength=width)
        present = counts > 0
        k = int(present.sum())
        ids = key if k == width else (np.cumsum(present) - 1)[key]
        if k == n:  # every row is its own group: ids is a permutation of the rows
            first = np.empty(n, dtype=np.int64)
            first[ids] = np.arange(n, dtype=np.int64)
        else:
            first = np.full(k, n, dtype=np.int64)
            np.minimum.at(first, ids, np.arange(n, dtype=np.int64))
        return ids.astype(np.int64, copy=False), first
    _, first, ids = np.unique(key, return_index=True, return_inverse=True)
    return ids.astype(np.int64), first


def reduce(
    how: str,
    values: np.ndarray,
    ids: np.ndarray,
    n: int,
    time: np.ndarray,
    weights: np.ndarray | None,
    columns: Mapping[str, np.ndarray],
) -> np.ndarray:
    present = ~np.isnan(values)
    counts = np.bincount(ids, weights=present, minlength=n)
    result: np.ndarray
    if how == "sum":
        result = np.bincount(ids, weights=np.where(present, values, 0.0), minlength=n)
    elif how == "mean":
        w = np.ones(len(values)) if weights is None else weights.astype(np.float64)
        w = np.where(present, w, 0.0)
        total = np.bincount(ids, weights=np.where(present, values, 0.0) * w, minlength=n)
        wsum = np.bincount(ids, weights=w, minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            result = total / wsum
    elif how in ("min", "max"):
        result = np.full(n, np.nan)
        (np.fmin if how == "min" else np.fmax).at(result, ids, values)
    elif how == "last":
        order = np.lexsort((time, ~present, ids))  # per group: present rows last, by time
        result = np.full(n, np.nan)
        result[ids[order]] = values[order]  # later assignments win
    elif how.startswith(("at_max:", "at_min:")):
        ref = columns[how.split(":", 1)[1]]
        peak = np.full(n, np.nan)
        (np.fmax if how.startswith("at_max") else np.fmin).at(peak, ids, ref)
        hit = (ref == peak[ids]) & present
        result = np.full(n, np.nan)
        rows = np.nonzero(hit)[0][::-1]  # earliest row wins: assign in reverse
        result[ids[rows]] = values[rows]
    else:
        raise ValueError(f"unknown reducer {how!r}")
    result = np.asarray(result, dtype=np.float64)
    result[counts == 0] = np.nan
    return result
