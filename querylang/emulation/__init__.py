"""Running provider emulators and the building blocks they are made of.

``querylang.emulation.hosting`` serves an emulator (in-process behind ``--sandbox``, or on a
loopback port); ``emulator``, ``routes``, ``params``, ``auth``, ``limits`` and ``synthetic``
hold the pieces an emulator is built from (its ``handle``/``expected`` frame and the leaves
of an account, a route table with guards and the vendor's error bodies, parameter checks in
the vendor's words, the common auth schemes, a rate limiter, JSON responses, deterministic
synthetic series, per-account data); ``faults`` puts faults in front of any emulator, for a
provider's robustness tests.
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
from querylang.emulation.emulator import EmulatorBase, Totals, grouped, nest, select
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
from querylang.emulation.params import (
    TimeFormat,
    fail,
    iso_time,
    json_bool,
    json_int,
    json_strings,
    known,
    one_of,
    required,
    unix_time,
)
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
    "EmulatorBase",
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
    "TimeFormat",
    "TokenIssuer",
    "TokenRefused",
    "Totals",
    "accepted",
    "account_data",
    "api_key_header",
    "bearer_token",
    "deliver",
    "delivery",
    "fail",
    "fixed_clock",
    "grouped",
    "host_of",
    "http_date",
    "iso_time",
    "json_bool",
    "json_int",
    "json_object",
    "json_response",
    "json_strings",
    "known",
    "nest",
    "nulls_for_numbers",
    "one_of",
    "query_token",
    "redact_target",
    "replace_numbers",
    "required",
    "scheme_token",
    "select",
    "serve",
    "strings_for_numbers",
    "synthetic_totals",
    "unix_time",
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
