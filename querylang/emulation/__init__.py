"""Running provider emulators and the building blocks they are made of.

``querylang.emulation.hosting`` serves an emulator (in-process behind ``--sandbox``, or on a
loopback port); ``querylang.emulation.synthetic`` holds the pieces an emulator is built
from (JSON responses, deterministic synthetic series, per-account data). Every name is
re-exported here, so ``from querylang.emulation import serve`` keeps working.
"""

from __future__ import annotations

from querylang.emulation.auth import (
    accepted,
    api_key_header,
    bearer_token,
    query_token,
    scheme_token,
)
from querylang.emulation.hosting import LoopbackServer, SandboxTransport, host_of, serve
from querylang.emulation.limits import Admission, FixedWindowLimiter
from querylang.emulation.log import RequestLog, redact_target
from querylang.emulation.routes import BadRequest, ErrorBody, Route, RouteTable
from querylang.emulation.synthetic import (
    account_data,
    fixed_clock,
    json_response,
    synthetic_totals,
)

# isort: split
# series: gauges, ratios from their parts, finality and omitted zeros
from querylang.emulation.synthetic import (
    BucketCells,
    Counters,
    Finality,
    points,
    ratio,
    synthetic_levels,
)

__all__ = [
    "Admission",
    "BadRequest",
    "ErrorBody",
    "FixedWindowLimiter",
    "LoopbackServer",
    "RequestLog",
    "Route",
    "RouteTable",
    "SandboxTransport",
    "accepted",
    "account_data",
    "api_key_header",
    "bearer_token",
    "fixed_clock",
    "host_of",
    "json_response",
    "query_token",
    "redact_target",
    "scheme_token",
    "serve",
    "synthetic_totals",
]
__all__ += [  # series: gauges, ratios from their parts, finality and omitted zeros
    "BucketCells",
    "Counters",
    "Finality",
    "points",
    "ratio",
    "synthetic_levels",
]
