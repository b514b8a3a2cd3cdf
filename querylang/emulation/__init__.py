"""Running provider emulators and the building blocks they are made of.

``querylang.emulation.hosting`` serves an emulator (in-process behind ``--sandbox``, or on a
loopback port); ``routes``, ``auth``, ``limits`` and ``synthetic`` hold the pieces an
emulator is built from (a route table with guards and the vendor's error bodies, the common
auth schemes, a rate limiter, JSON responses, deterministic synthetic series, per-account
data); ``faults`` puts faults in front of any emulator, for a provider's robustness tests.
Every name is re-exported here, so ``from querylang.emulation import serve`` keeps working.
"""

from __future__ import annotations

from querylang.emulation.auth import (
    TokenIssuer,
    TokenRefused,
    accepted,
    api_key_header,
    bearer_token,
    query_token,
    scheme_token,
)
from querylang.emulation.faults import (
    Fault,
    FaultyEmulator,
    http_date,
    nulls_for_numbers,
    replace_numbers,
    strings_for_numbers,
)
from querylang.emulation.hosting import (
    Delivery,
    LoopbackServer,
    SandboxTransport,
    deliver,
    delivery,
    host_of,
    serve,
)
from querylang.emulation.limits import Admission, FixedWindowLimiter
from querylang.emulation.log import RequestLog, redact_target
from querylang.emulation.routes import (
    BadRequest,
    ErrorBody,
    Guard,
    Route,
    RouteTable,
    json_object,
)
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
    per_bucket,
    points,
    ratio,
    scope,
    synthetic_levels,
)

__all__ = [
    "Admission",
    "BadRequest",
    "Delivery",
    "ErrorBody",
    "Fault",
    "FaultyEmulator",
    "FixedWindowLimiter",
    "Guard",
    "LoopbackServer",
    "RequestLog",
    "Route",
    "RouteTable",
    "SandboxTransport",
    "TokenIssuer",
    "TokenRefused",
    "accepted",
    "account_data",
    "api_key_header",
    "bearer_token",
    "deliver",
    "delivery",
    "fixed_clock",
    "host_of",
    "http_date",
    "json_object",
    "json_response",
    "nulls_for_numbers",
    "query_token",
    "redact_target",
    "replace_numbers",
    "scheme_token",
    "serve",
    "strings_for_numbers",
    "synthetic_totals",
]
__all__ += [  # series: gauges, ratios from their parts, finality and omitted zeros
    "BucketCells",
    "Counters",
    "Finality",
    "per_bucket",
    "points",
    "ratio",
    "scope",
    "synthetic_levels",
]
