"""Routing for emulators: method + path → handler, refusals in the vendor's error shape.

An emulator builds a :class:`RouteTable` with its error-body function (status, message →
response) and adds handlers; ``table.dispatch(request, ...)`` finds the handler and answers
404 for an unknown path and 405 (or the vendor's status for it) for a known path asked with
another method. A *guard* runs after a route matched and before its handler, with the request
and the same extra arguments (one clock reading for both): it refuses the request with a
response (401, 429) or admits it, optionally with headers that every answer then carries
(rate-limit headers). A :class:`BadRequest` raised by the handler is rendered
by the route's ``bad_request`` body function, else the table's, else the error-body one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from attrs import frozen

__all__ = ["BadRequest", "ErrorBody", "Guard", "Route", "RouteTable", "json_object"]

ErrorBody = Callable[[int, str], httpx.Response]
Handler = Callable[..., httpx.Response]
# guard(request, **extra): a refusal, or None / the headers every answer to the admitted
# request carries
Guard = Callable[..., httpx.Response | Mapping[str, str] | None]


class BadRequest(ValueError):
    """A request the vendor refuses: rendered by the emulator's error-body function.

    ``field``: the parameter refused, for a vendor whose error names it apart.
    """

    def __init__(self, message: str, status: int = 400, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


def json_object(request: httpx.Request, empty: dict[str, Any] | None = None) -> dict[str, Any]:
    """The request's body as a JSON object, else BadRequest (``empty``: an empty body's value)."""
    if not request.content and empty is not None:
        return dict(empty)
    try:
        body = json.loads(request.content or b"null")
    except ValueError:
        raise BadRequest("the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return body


@frozen
class Route:
    """One method and path pattern (``{name}`` segments match one path segment)."""

    method: str
    pattern: re.Pattern[str]
    handler: Handler
    guarded: bool = True  # False: the table's guard does not run (an OAuth token endpoint)
    bad_request: ErrorBody | None = None  # this route's body for a BadRequest
    wrong_method_status: int | None = None  # this path's answer to another method


def _compile(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[a-z_]+\})", path)
    regex = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(regex)  # matched whole (fullmatch): no "$" before a trailing newline


class RouteTable:
    """The routes of one emulator, dispatched in the order they were added.

    ``not_found`` is the message of the 404 for an unknown path (``{method}`` and ``{path}``
    are filled in). A vendor that answers a wrong method with 404 (``wrong_method_status``)
    answers it exactly as an unknown path; any other status says the method is not allowed.
    A route's own ``wrong_method_status`` overrides the table's for its path.
    """

    def __init__(
        self,
        error: ErrorBody,
        *,
        wrong_method_status: int = 405,
        not_found: str = "no route {method} {path}",
        guard: Guard | None = None,
        bad_request: ErrorBody | None = None,
    ) -> None:
        self.error = error
        self.wrong_method_status = wrong_method_status  # some vendors answer 404 instead
        self.not_found = not_found
        self.guard = guard
        self.bad_request = bad_request
        self.routes: list[Route] = []

    def add(
        self,
        method: str,
        path: str,
        handler: Handler,
        *,
        guarded: bool = True,
        bad_request: ErrorBody | None = None,
        wrong_method_status: int | None = None,
    ) -> RouteTable:
        """Route ``method path`` to ``handler(request, **path_params, **extra)``."""
        pattern = _compile(path)
        self.routes.append(
            Route(method.upper(), pattern, handler, guarded, bad_request, wrong_method_status)
        )
        return self

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | int | None:
        """The route and its path parameters; None (no such path) or the wrong-method status."""
        wrong: int | None = None  # the status of the first route of the path
        for route in self.routes:
            found = route.pattern.fullmatch(path)
            if found is None:
                continue
            if route.method == method:
                return route, found.groupdict()
            wrong = wrong or route.wrong_method_status or self.wrong_method_status
        return wrong

    def dispatch(
        self,
        request: httpx.Request,
        path: str | None = None,
        *,
        shown: str | None = None,
        **extra: Any,
    ) -> httpx.Response:
        """Answer ``request`` with its route's handler (``path``: the path to route on, e.g.
        the raw one; ``shown``: the path the refusals name, else that one)."""
        path = request.url.path if path is None else path
        shown = path if shown is None else shown
        found = self.match(request.method, path)
        if found is None or found == 404:
            return self.error(404, self.not_found.format(method=request.method, path=shown))
        if isinstance(found, int):
            return self.error(found, f"{request.method} is not allowed on {shown}")
        route, params = found
        admitted = self.guard(request, **extra) if self.guard and route.guarded else None
        if isinstance(admitted, httpx.Response):
            return admitted
        try:
            response = route.handler(request, **params, **extra)
        except BadRequest as exc:
            render = route.bad_request or self.bad_request or self.error
            response = render(exc.status, exc.message)
        if admitted:
            response.headers.update(admitted)
        return response
