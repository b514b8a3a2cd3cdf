"""An emulator of Gcore's statistics APIs: same paths, parameters, validation and shapes.

Authentication: any non-empty ``Authorization: APIKey <token>`` is accepted except the
token ``invalid``, which gets the 401 a revoked key gets. Data is deterministic
(:func:`querylang.emulation.synthetic_totals`), so every granularity agrees with every other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import httpx

from querylang.emulation import accepted, json_response, scheme_token
from querylang_providers.gcore import cdn_emulator

__all__ = ["GcoreEmulator"]


class GcoreEmulator:
    """Routes Gcore API paths to the dataset emulators."""

    def __init__(self, now: Callable[[], float], *, valid_token: str | None = None) -> None:
        self.now = now
        self.valid_token = valid_token
        self.routes: dict[tuple[str, str], Callable[[httpx.Request, int], httpx.Response]] = {
            ("GET", cdn_emulator.PATH): cdn_emulator.handle,
        }
        try:
            from querylang_providers.gcore import storage_emulator
        except ImportError:  # pragma: no cover - storage is part of this package
            pass
        else:
            self.routes.update(storage_emulator.ROUTES)

    def _authorized(self, request: httpx.Request) -> bool:
        return accepted(scheme_token(request, "APIKey"), self.valid_token)

    def handle(self, request: httpx.Request) -> httpx.Response:
        route = self.routes.get((request.method, request.url.path))
        if route is None:
            return json_response(404, {"message": f"no route {request.method} {request.url.path}"})
        if not self._authorized(request):
            return json_response(401, {"message": "Invalid authentication credentials"})
        return route(request, int(self.now()))

    def expected(
        self,
        dataset: str,
        metric: str,
        start: int,
        end: int,
        step: int,
        where: Mapping[str, Sequence[str]] | None = None,
    ) -> dict[int, float]:
        """The emulator's own data for ``metric`` of ``dataset`` (cdn or storage), per bucket."""
        from querylang_providers.gcore import storage_emulator

        datasets = {"cdn": cdn_emulator.expected, "storage": storage_emulator.expected}
        if dataset not in datasets:
            raise ValueError(f"the Gcore emulator has no dataset {dataset!r}")
        return datasets[dataset](metric, start, end, step, int(self.now()), where)
