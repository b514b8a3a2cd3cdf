"""The frame of an emulator, and the shapes of an emulated account.

:class:`EmulatorBase` is what every built-in emulator shares: ``handle()`` dispatches on the
emulator's route table with one reading of its clock (``now=``), and ``expected()`` (the
emulator's own totals, which tests compare the provider's answers with) finds the dataset's
totals function and runs it on the default account at that reading. An account is often a
list of *leaves* (dicts of dimension values: a resource in a region over a protocol); a
request's filters pick some (:func:`select`), its grouping groups them (:func:`grouped`),
and a vendor that answers grouped data as a tree nests the groups (:func:`nest`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

import httpx

from querylang.emulation.routes import RouteTable
from querylang.emulation.synthetic import account_data

__all__ = ["EmulatorBase", "Totals", "grouped", "nest", "select"]

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
L = TypeVar("L", bound=Mapping[str, Any])
# totals(metric, start, end, step, now, where) → {bucket start: total}
Totals = Callable[[str, int, int, int, int, Mapping[str, Sequence[str]]], dict[int, float]]


class EmulatorBase:
    """``handle()`` and ``expected()`` for an emulator with ``routes``, ``now`` and ``datasets``.

    ``datasets`` maps a dataset name to its :data:`Totals` function; ``label`` names the
    vendor in the error for an unknown dataset (``no_dataset``, a template of ``label``,
    ``dataset`` and ``metric``). Handlers take ``now`` as a keyword argument.
    """

    label: ClassVar[str]
    no_dataset: ClassVar[str] = "the {label} emulator has no dataset {dataset!r}"
    datasets: Mapping[str, Totals]
    routes: RouteTable
    now: Callable[[], float]

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request as the vendor would (paths, validation, errors)."""
        return self.routes.dispatch(request, now=int(self.now()))

    def expected(
        self,
        dataset: str,
        metric: str,
        start: int,
        end: int,
        step: int,
        where: Mapping[str, Sequence[str]] | None = None,
    ) -> dict[int, float]:
        """The emulator's own totals of counter ``metric`` of ``dataset`` per bucket [t, t + step).

        Summed over what matches ``where`` (None: the dataset's default scope), from the
        default account; a bucket the vendor would not answer yet at now is absent.
        """
        totals = self.datasets.get(dataset)
        if totals is None:
            message = self.no_dataset.format(label=self.label, dataset=dataset, metric=metric)
            raise ValueError(message)
        with account_data(""):
            return totals(metric, start, end, step, int(self.now()), where or {})


def select(
    leaves: Iterable[L], where: Mapping[str, Iterable[Any] | None], *, fold_case: bool = False
) -> list[L]:
    """The leaves whose value of each field of ``where`` is among its values (None: any).

    ``fold_case``: values compared as text, case-insensitively (``Germany`` is ``germany``).
    """
    if fold_case:
        folded = {k: None if v is None else {str(x).lower() for x in v} for k, v in where.items()}
        return [
            leaf
            for leaf in leaves
            if all(v is None or str(leaf[k]).lower() in v for k, v in folded.items())
        ]
    wanted = {k: None if v is None else list(v) for k, v in where.items()}
    return [leaf for leaf in leaves if all(v is None or leaf[k] in v for k, v in wanted.items())]


def grouped(items: Iterable[T], key: Callable[[T], K]) -> dict[K, list[T]]:
    """``items`` by ``key``, the groups in the order of their first item."""
    groups: dict[K, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups


def nest(groups: Mapping[tuple[Any, ...], Any], levels: Sequence[str], leaf: str) -> dict[str, Any]:
    """Groups keyed by their values of ``levels`` as a tree: ``{level: {value: …}}`` per level,
    each group's answer under ``leaf`` (no levels: ``{leaf: answer of ()}``, empty if none)."""
    if not levels:
        return {leaf: groups.get((), {})}
    root: dict[str, Any] = {}
    for key, answer in groups.items():
        node = root
        for level, value in zip(levels, key, strict=True):
            node = node.setdefault(level, {}).setdefault(str(value), {})
        node[leaf] = answer
    return root
