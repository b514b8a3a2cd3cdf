"""The fault matrix's table helpers (issue 19), on the kit's fault injector.

Each provider is served by :class:`querylang.emulation.faults.FaultyEmulator` on a
:class:`~querylang.emulation.LoopbackServer`: every call goes over real HTTP on 127.0.0.1.
What stays here is what knows the built-in vendors' point shapes: the transforms that add a
point to every series (outside the window, or a duplicate).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from querylang.emulation import LoopbackServer, serve
from querylang.emulation.faults import (
    Fault,
    FaultyEmulator,
    http_date,
    nulls_for_numbers,
    strings_for_numbers,
)
from querylang.hookspecs import Emulator

__all__ = [
    "Fault",
    "duplicate_points",
    "fault_server",
    "http_date",
    "nulls_for_numbers",
    "outside_window",
    "strings_for_numbers",
]

TEN_DAYS = 10 * 86400


def _shifted(ts: Any) -> Any:
    """A timestamp ten days earlier, in the form it came in (seconds, millis, text, ISO)."""
    if isinstance(ts, int | float) and not isinstance(ts, bool):
        return ts - (TEN_DAYS * 1000 if ts > 1e11 else TEN_DAYS)
    if isinstance(ts, str):
        try:
            return str(_shifted(int(float(ts))))  # a number as text
        except ValueError:
            pass
        when = dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))
        text = (when - dt.timedelta(seconds=TEN_DAYS)).isoformat()
        return text.replace("+00:00", "Z") if ts.endswith("Z") else text
    return ts


def outside_window(doc: Any) -> Any:
    """Every series gets one more point, ten days before the requested window."""
    return _extra_point(doc, _shifted)


def duplicate_points(doc: Any) -> Any:
    """Every series gets its first point twice."""
    return _extra_point(doc, lambda ts: ts)


def _extra_point(doc: Any, when: Callable[[Any], Any]) -> Any:
    if isinstance(doc, dict):
        out = {k: _extra_point(v, when) for k, v in doc.items()}
        names, samples = doc.get("metrics"), doc.get("samples")
        if isinstance(names, list) and "usageTime" in names and isinstance(samples, list):
            i = names.index("usageTime")  # StackPath: the time is one of the sample's values
            if samples and isinstance(samples[0], dict) and "values" in samples[0]:
                extra = dict(samples[0])
                extra["values"] = list(extra["values"])
                extra["values"][i] = when(extra["values"][i])
                out["samples"] = [*out["samples"], extra]
        return out
    if isinstance(doc, list) and doc:
        out = [_extra_point(v, when) for v in doc]
        first = doc[0]
        if all(isinstance(p, list) and len(p) >= 2 for p in doc):  # [[ts, value], ...]
            out.append([when(first[0]), *first[1:]])
        elif all(isinstance(r, dict) and "start_time" in r for r in doc):  # Fastly records
            out.append({**first, "start_time": when(first["start_time"])})
        return out
    return doc


@contextmanager
def fault_server(
    emulator: Emulator, fault: Fault | None, skip: tuple[str, ...] = ()
) -> Iterator[LoopbackServer]:
    """``emulator`` on a loopback port with ``fault`` applied to its data calls."""
    with serve(FaultyEmulator(emulator, fault, skip)) as server:
        yield server
