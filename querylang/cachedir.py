"""Where querylang keeps what it can rebuild: ``$QUERYLANG_CACHE_DIR`` or the user cache dir.

The result store, the generated parser and the kept entry-point list all live there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["CACHE_DIR_ENV", "cache_dir"]

CACHE_DIR_ENV = "QUERYLANG_CACHE_DIR"


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$QUERYLANG_CACHE_DIR``, else the platform's user cache directory for querylang."""
    folder = (os.environ if env is None else env).get(CACHE_DIR_ENV)
    if not folder:
        import platformdirs

        folder = platformdirs.user_cache_dir("querylang", appauthor=False)
    return Path(folder)
