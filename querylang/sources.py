"""The query files a command reads: the paths given, and the ``*.qry`` files under a folder.

Shared by ``check`` and ``fmt``; kept apart from both so that neither loads the other.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = ["query_files"]


def query_files(paths: Sequence[str]) -> Iterator[tuple[str, Path | None]]:
    """Each path given, or each ``*.qry`` under a directory given; None for a missing path."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for found in sorted(path.rglob("*.qry")):
                hidden = any(part.startswith(".") for part in found.relative_to(path).parts)
                if found.is_file() and not hidden:
                    yield str(found), found
        elif path.is_file():
            yield raw, path
        else:
            yield raw, None
