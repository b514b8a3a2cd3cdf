"""The one ``__repr__`` the frozen attrs classes of the IR, the catalogs and the steps share.

attrs writes and compiles a ``__repr__`` for every class it makes, which is a third of the
cost of making one (~90 µs of ~270 µs), paid at import by every process, ``check`` too.
These classes say ``repr=False`` and inherit this one instead: the same text as attrs'
(the class's name, then each field shown in ``repr``, as ``name=value``), worked out
from the class's fields the first time one is shown.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import attrs

__all__ = ["Record"]

_MISSING = attrs.NOTHING  # what attrs shows for a field made without init and never set
_SHOWN: dict[type, tuple[tuple[str, Callable[[Any], str], bool], ...]] = {}
_ACTIVE = threading.local()  # the records being shown, so a cycle prints "..." as attrs does


def _shown(cls: type) -> tuple[tuple[str, Callable[[Any], str], bool], ...]:
    found = _SHOWN.get(cls)
    if found is None:
        found = _SHOWN[cls] = tuple(
            (f.name, repr if f.repr is True else f.repr, f.init)
            for f in attrs.fields(cls)
            if f.repr is not False
        )
    return found


class Record:
    """A base for frozen attrs classes made with ``repr=False``: attrs' repr, not compiled."""

    __slots__ = ()

    def __repr__(self) -> str:
        active: set[int] | None = getattr(_ACTIVE, "ids", None)
        if active is None:
            active = _ACTIVE.ids = set()
        if id(self) in active:
            return "..."
        active.add(id(self))
        try:
            parts = ", ".join(
                f"{name}={show(getattr(self, name) if init else getattr(self, name, _MISSING))}"
                for name, show, init in _shown(type(self))
            )
            return f"{type(self).__qualname__.rsplit('>.', 1)[-1]}({parts})"
        finally:
            active.discard(id(self))
