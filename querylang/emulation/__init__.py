"""Running provider emulators and the building blocks they are made of.

``querylang.emulation.hosting`` serves an emulator (in-process behind ``--sandbox``, or on a
loopback port); ``querylang.emulation.synthetic`` holds the pieces an emulator is built
from (JSON responses, deterministic synthetic series, per-account data). Every name is
re-exported here, so ``from querylang.emulation import serve`` keeps working.
"""

from __future__ import annotations

from querylang.emulation.hosting import LoopbackServer, SandboxTransport, host_of, serve
from querylang.emulation.log import RequestLog, redact_target
from querylang.emulation.synthetic import (
    account_data,
    fixed_clock,
    json_response,
    synthetic_totals,
)

__all__ = [
    "LoopbackServer",
    "RequestLog",
    "SandboxTransport",
    "account_data",
    "fixed_clock",
    "host_of",
    "json_response",
    "redact_target",
    "serve",
    "synthetic_totals",
]
