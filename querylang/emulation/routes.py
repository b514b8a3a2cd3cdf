"""Routing for emulators: method + path → handler, unknown paths in the vendor's error shape.

An emulator builds a :class:`RouteTable` with its error-body function (status, message →
response) and adds handlers; ``table.dispatch(request, ...)`` finds the handler, answers
404 for an unknown path and 405 (or the vendor's status for it) for a known path asked with
another method, and renders a :class:`BadRequest` raised by the handler as the vendor's
400 body.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
from attrs import frozen

__all__ = ["BadRequest", "ErrorBody", "Route", "RouteTable"]

ErrorBody = Callable[[int, str], httpx.Response]
Handler = Callable[..., httpx.Response]


class BadRequest(ValueError):
    """A request the vendor refuses: rendered by the emulator's error-body function."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@frozen
class Route:
    """One method and path pattern (``{name}`` segments match one path segment)."""

    method: str
    pattern: re.Pattern[str]
    handler: Handler


def _compile(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[a-z_]+\})", path)
    regex = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{regex}$")


class RouteTable:
    """The routes of one emulator, dispatched in the order they were added."""

    def __init__(self, error: ErrorBody, *, wrong_method_status: int = 405) -> None:
        self.error = error
        self.wrong_method_status = wrong_method_status  # some vendors answer 404 instead
        self.routes: list[Route] = []

    def add(self, method: str, path: str, handler: Handler) -> RouteTable:
        """Route ``method path`` to ``handler(request, **path_params, **extra)``."""
        self.routes.append(Route(method.upper(), _compile(path), handler))
        return self

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | int | None:
        """The route and its path parameters; None (no such path) or the wrong-method status."""
        known_path = False
        for route in self.routes:
            found = route.pattern.match(path)
            if found is None:
                continue
            if route.method == method:
                return route, found.groupdict()
            known_path = True
        return self.wrong_method_status if known_path else None

    def dispatch(
        self, request: httpx.Request, path: str | None = None, **extra: Any
    ) -> httpx.Response:
        """Answer ``request`` with its route's handler (``path``: the path to route on)."""
        path = request.url.path if path is None else path
        found = self.match(request.method, path)
        if found is None:
            return self.error(404, f"no route {request.method} {path}")
        if isinstance(found, int):
            return self.error(found, f"{request.method} is not allowed on {path}")
        route, params = found
        try:
            return route.handler(request, **params, **extra)
        except BadRequest as exc:
            return self.error(exc.status, exc.message)
