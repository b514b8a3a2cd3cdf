"""gRPC-style error bodies ``{"code", "message", "details"}`` → the engine's verdicts.

StackPath's gateway answers errors with a google.rpc.Status-like body next to an HTTP
status. The gRPC code is the more precise of the two, so it decides; a body without one
falls back to the HTTP status (:meth:`HttpProvider.check`).
"""

from __future__ import annotations

from typing import Any

from attrs import frozen

from querylang.failures import Failure, FailureKind, Verdict
from querylang.provider import parse_retry_after
from querylang.wire import NativeRequest, NativeResponse
from querylang_providers.stackpath.catalog import STACK_ENV

__all__ = ["GRPC_HTTP_STATUS", "RpcStatus", "rpc_status", "verdict"]

# gRPC code → the HTTP status the gateway pairs it with (used by the emulator too).
GRPC_HTTP_STATUS = {3: 400, 4: 504, 5: 404, 7: 403, 8: 429, 13: 500, 14: 503, 16: 401}
GRPC_NAMES = {
    3: "INVALID_ARGUMENT",
    4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND",
    7: "PERMISSION_DENIED",
    8: "RESOURCE_EXHAUSTED",
    13: "INTERNAL",
    14: "UNAVAILABLE",
    16: "UNAUTHENTICATED",
}
_AUTH_HINT = (
    "check STACKPATH_CLIENT_ID and STACKPATH_CLIENT_SECRET: the token was refused even "
    "after fetching a new one"
)


@frozen
class RpcStatus:
    """A decoded error body."""

    code: int
    message: str

    @property
    def name(self) -> str:
        return GRPC_NAMES.get(self.code, f"code {self.code}")


def _details(details: Any) -> str:
    """Field violations and descriptions from ``details``, in a few words."""
    notes: list[str] = []
    for detail in details if isinstance(details, list) else ():
        if not isinstance(detail, dict):
            continue
        for violation in detail.get("fieldViolations") or ():
            if isinstance(violation, dict):
                notes.append(f"{violation.get('field', '?')}: {violation.get('description', '')}")
        for key in ("description", "reason", "detail"):
            if isinstance(detail.get(key), str):
                notes.append(detail[key])
    return "; ".join(notes)[:300]


def rpc_status(response: NativeResponse) -> RpcStatus | None:
    """The gRPC status in an error body, or None when the body is not one."""
    if 200 <= response.status < 300 and b'"series"' in response.content:
        return None  # a data answer: do not parse a large body twice
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or isinstance(body.get("code"), bool):
        return None
    code = body.get("code")
    if not isinstance(code, int) or code == 0:
        return None
    raw = body.get("message")
    message: str = raw if isinstance(raw, str) else ""
    extra = _details(body.get("details"))
    if extra and extra not in message:
        message = f"{message} ({extra})" if message else extra
    return RpcStatus(code, message)


def verdict(request: NativeRequest, response: NativeResponse, rpc: RpcStatus) -> Verdict | None:
    """The verdict for a known gRPC code (fail, retry, re-authorise once); None otherwise."""
    if rpc.code not in GRPC_NAMES:
        return None
    delay = None
    if rpc.code == 16:
        kind, hint = FailureKind.AUTH, _AUTH_HINT
    elif rpc.code == 8:
        kind, hint = FailureKind.RATE_LIMITED, None
        delay = parse_retry_after(response.header("Retry-After"))
    elif rpc.code in (4, 13, 14):
        kind, hint = FailureKind.UNAVAILABLE, "this is on StackPath's side; try again later"
    elif rpc.code == 7:
        kind = FailureKind.FORBIDDEN
        hint = "the API client has no access to this stack's CDN metrics; check its permissions"
    elif rpc.code == 5:
        kind = FailureKind.NOT_FOUND
        hint = f"check the stack ID or slug ({STACK_ENV} or WHERE stack = '…') and site IDs"
    else:  # 3 and the rest
        kind = FailureKind.BAD_REQUEST
        hint = "the request was built from the query; check filter values (sites, pops, regions)"
    failure = Failure(
        kind=kind,
        said=rpc.message or None,
        hint=hint,
        delay=delay,
        where=f"{rpc.name}, HTTP {response.status}",
        credential="access token",
    )
    return failure.verdict("stackpath", request, response.status)
