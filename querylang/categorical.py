"""Dimension columns as categoricals: integer codes per row into a table of labels.

A dimension column holds a handful of distinct labels (resource ids, regions, provider
names) repeated over millions of rows. A :class:`Categorical` keeps each label once, in
``labels`` (first-seen order), and one small unsigned code per row, so grouping,
filtering, stacking and re-bucketing work on integers and never touch a Python object
per row. Three ways in, none of which walks rows in Python:

- :meth:`Categorical.from_runs`: the codes as runs (one code and one length per series),
  what a decoded frame has; per-row codes are made, with ``np.repeat``, only when a
  row-wise operation needs them;
- :meth:`Categorical.constant`: one label on every row (a provider or account tag);
- :meth:`Categorical.from_values`: an object array per row (a frame built by hand or read
  from the store), factorised on first use, by hashing, once.

``values`` (the label of every row, an object array) is made only when a consumer asks
for it (output, the store, a test) and then kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
else:
    from querylang.lazynumpy import np

__all__ = ["Categorical", "Dims", "as_categorical", "code_dtype", "label_table"]


def code_dtype(size: int) -> Any:
    """The smallest unsigned integer type that numbers ``size`` labels."""
    for dtype, limit in ((np.uint8, 1 << 8), (np.uint16, 1 << 16), (np.uint32, 1 << 32)):
        if size <= limit:
            return dtype
    return np.int64


def label_table(labels: Iterable[Any]) -> np.ndarray:
    """Labels (in order) as an object array, one element each (a tuple stays one label)."""
    items = list(labels)
    table = np.empty(len(items), dtype=object)
    table[:] = items  # element by element: a tuple label stays one label
    return table


class Categorical:
    """One dimension column: ``labels[codes]`` row by row, held as codes (or runs of codes)."""

    __slots__ = ("_codes", "_labels", "_n", "_rank", "_runs", "_values")

    def __init__(self, codes: np.ndarray, labels: np.ndarray) -> None:
        self._codes: np.ndarray | None = codes
        self._labels: np.ndarray | None = labels
        self._runs: tuple[np.ndarray, np.ndarray] | None = None
        self._values: np.ndarray | None = None
        self._rank: tuple[np.ndarray, bool] | None = None
        self._n = len(codes)

    # -- ways in ------------------------------------------------------------------------
    @classmethod
    def from_runs(cls, codes: np.ndarray, lengths: np.ndarray, labels: np.ndarray) -> Categorical:
        """Run ``i`` is ``lengths[i]`` rows of label ``labels[codes[i]]``."""
        lengths = np.asarray(lengths, dtype=np.int64)
        keep = lengths > 0
        out = cls(np.empty(0, code_dtype(len(labels))), labels)
        out._codes = None
        out._runs = (np.asarray(codes)[keep].astype(code_dtype(len(labels))), lengths[keep])
        out._n = int(lengths.sum())
        return out

    @classmethod
    def constant(cls, label: Any, n: int) -> Categorical:
        """``label`` on each of ``n`` rows."""
        return cls.from_runs(np.zeros(1, np.uint8), np.array([n]), label_table([label]))

    @classmethod
    def from_values(cls, values: np.ndarray) -> Categorical:
        """An object array per row; factorised (hashed, once) when codes are first needed."""
        out = cls(np.empty(0, np.uint8), np.empty(0, object))
        out._codes = out._labels = None
        out._values = values
        out._n = len(values)
        return out

    # -- what it holds ------------------------------------------------------------------
    def __len__(self) -> int:
        return self._n

    def __repr__(self) -> str:
        return f"Categorical({self._n} rows, {len(self.labels)} labels)"

    @property
    def labels(self) -> np.ndarray:
        """The distinct labels (object array), in first-seen order; some may be unused."""
        if self._labels is None:
            self._factorize()
        assert self._labels is not None
        return self._labels

    @property
    def codes(self) -> np.ndarray:
        """Per row, the index of its label in ``labels`` (an unsigned integer array)."""
        if self._codes is None:
            if self._runs is not None:
                self._codes = np.repeat(*self._runs)
            else:
                self._factorize()
        assert self._codes is not None
        return self._codes

    @property
    def values(self) -> np.ndarray:
        """The label of every row (object array): made on first use, then kept."""
        if self._values is None:
            if self._runs is not None and self._codes is None:
                codes, lengths = self._runs
                self._values = np.repeat(self.labels[codes], lengths)
            else:
                self._values = self.labels[self.codes]
        return self._values

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays held: codes (or runs), the label table, values if made."""
        held = [self._codes, self._labels, self._values, *(self._runs or ())]
        return sum(a.nbytes for a in held if a is not None)

    def _factorize(self) -> None:
        """Codes and label table of ``values``, by hashing: labels equal as dict keys merge."""
        assert self._values is not None
        table = dict.fromkeys(self._values.tolist())
        lookup = {label: i for i, label in enumerate(table)}
        self._labels = label_table(table)
        dtype = code_dtype(len(table))
        self._codes = np.fromiter(map(lookup.__getitem__, self._values.tolist()), dtype, self._n)

    # -- what grouping uses ---------------------------------------------------------------
    def ranked(self) -> tuple[np.ndarray, int]:
        """Per row, its label's rank in sorted label order, and how many labels there are.

        Only the label table is sorted (labels must be mutually comparable, as any sort
        of them needs); the rows are numbered with one gather.
        """
        if self._rank is None:
            labels = self.labels
            order = sorted(range(len(labels)), key=labels.__getitem__)
            rank = np.empty(len(labels), dtype=np.int64)
            rank[order] = np.arange(len(labels))
            self._rank = (rank.astype(code_dtype(len(labels))), order == sorted(order))
        rank, identity = self._rank
        return (self.codes if identity else rank[self.codes]), len(rank)

    def take(self, index: np.ndarray) -> Categorical:
        """The rows at ``index`` (an integer array or boolean mask), same label table."""
        index = np.asarray(index)
        if self._codes is None and self._runs is not None and index.dtype == bool:
            codes, lengths = self._runs  # a mask keeps the runs: count what each run keeps
            if len(index) != self._n:
                raise IndexError(f"a mask of {len(index)} rows for {self._n} rows")
            starts = np.cumsum(lengths) - lengths
            kept = np.add.reduceat(index, starts, dtype=np.int64) if len(starts) else lengths
            return Categorical.from_runs(codes, kept, self.labels)
        if self._codes is None and self._values is not None:
            return Categorical.from_values(self._values[index])
        out = Categorical(self.codes[index], self.labels)
        out._rank = self._rank
        return out

    def repeat(self, count: int) -> Categorical:
        """Each row ``count`` times in a row (a series' label over all its buckets)."""
        lengths = np.full(self._n, count, dtype=np.int64)
        out = Categorical.from_runs(self.codes, lengths, self.labels)
        out._rank = self._rank
        return out

    def isin(self, wanted: Sequence[Any]) -> np.ndarray:
        """Per row: is its label equal (``==``) to one of ``wanted``? Tested per label."""
        labels = self.labels
        hit = np.zeros(len(labels), dtype=bool)
        for value in wanted:
            hit |= np.asarray(labels == value, dtype=bool)
        rows: np.ndarray = hit[self.codes]
        return rows

    @staticmethod
    def concat(columns: Sequence[Categorical]) -> Categorical:
        """Stack columns: the label tables merge, and each column's codes are remapped
        through a table-sized lookup array (a gather), never label by row."""
        if len(columns) == 1:
            return columns[0]
        merged: dict[Any, int] = {}
        remaps = []
        for column in columns:
            labels = column.labels.tolist()
            remaps.append(np.array([merged.setdefault(x, len(merged)) for x in labels], np.int64))
        dtype = code_dtype(len(merged))
        table = label_table(merged)
        if all(c._codes is None and c._runs is not None for c in columns):
            runs = [c._runs for c in columns if c._runs is not None]
            codes = np.concatenate([m[r[0]] for m, r in zip(remaps, runs, strict=True)])
            return Categorical.from_runs(codes, np.concatenate([r[1] for r in runs]), table)
        parts = [m.astype(dtype)[c.codes] for m, c in zip(remaps, columns, strict=True)]
        return Categorical(np.concatenate(parts) if parts else np.empty(0, dtype), table)


def as_categorical(column: Categorical | np.ndarray | Sequence[Any]) -> Categorical:
    """A column given to a frame: kept if categorical, else an object array per row."""
    if isinstance(column, Categorical):
        return column
    return Categorical.from_values(np.asarray(column, dtype=object))


class Dims(Mapping[str, "np.ndarray"]):
    """A frame's dimension columns: ``dims[name]`` is the object array of labels per row
    (made on first use); :meth:`column` is the categorical itself, for code-level work."""

    __slots__ = ("_columns",)

    def __init__(self, columns: Mapping[str, Categorical]) -> None:
        self._columns = dict(columns)

    def __getitem__(self, name: str) -> np.ndarray:
        return self._columns[name].values

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    def __repr__(self) -> str:
        return f"Dims({', '.join(self._columns)})"

    def column(self, name: str) -> Categorical:
        """The categorical column ``name`` (codes and label table)."""
        return self._columns[name]

    def columns(self) -> dict[str, Categorical]:
        """Every column as a categorical, in order (a new dict)."""
        return dict(self._columns)
