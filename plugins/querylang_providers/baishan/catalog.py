"""BaishanCloud bandwidth/traffic catalog: metrics, dimensions, grains, limits, time zone."""

from __future__ import annotations

import datetime as dt
import re

from querylang.catalog import (
    Credential,
    Dataset,
    Dimension,
    GrainSpec,
    Metric,
    RateLimit,
    Setting,
    Standard,
)

__all__ = [
    "BASE_URL",
    "DATASET",
    "DEFAULT_TIMEZONE",
    "EACH_DOMAIN_PATH",
    "GRADS",
    "IP_PROTOCOLS",
    "MAX_DOMAINS",
    "PATH",
    "SETTINGS",
    "TIMEZONE_ENV",
    "TOKEN",
    "TOKEN_ENV",
    "parse_timezone",
]

DAY = 86400
BASE_URL = "https://cdn.api.baishan.com"
PATH = "/v2/stat/bandwidth"
EACH_DOMAIN_PATH = "/v2/stat/bandwidth/eachDomain"
TOKEN = "token"  # the query-string key that carries the secret
TOKEN_ENV = "BAISHAN_API_TOKEN"
TIMEZONE_ENV = "QUERYLANG_BAISHAN_TIMEZONE"
DEFAULT_TIMEZONE = "+08:00"  # Asia/Shanghai, which has kept UTC+8 without DST since 1991
MAX_DOMAINS = 10
IP_PROTOCOLS = ("ipv4", "ipv6")
GRADS = {300: "minute5", 3600: "hour", DAY: "day"}  # bucket seconds → the API's grad

METRICS = (
    Metric(
        name="bandwidth",
        unit="bit/s",
        kind="gauge",
        description="mean bandwidth delivered to clients in the bucket (data_type=bandwidth)",
        rollup="mean",
        combine="sum",
    ),
    Metric(
        name="traffic",
        unit="bytes",
        kind="counter",
        description="bytes delivered to clients in the bucket (data_type=traffic)",
    ),
)

DIMENSIONS = (
    Dimension(
        name="domain",
        description="accelerated domain name (BY domain uses the per-domain endpoint)",
        max_list=MAX_DOMAINS,
    ),
    Dimension(
        name="ip_protocol",
        description="IP version of the client connection",
        values=IP_PROTOCOLS,
        fan_out=True,
    ),
)

#: The standard counters (querylang.standard): data_type=traffic is bytes to clients.
STANDARD = (
    Standard.of("sent_bytes", "traffic", note="data_type=traffic; zero points are omitted"),
)

DATASET = Dataset(
    name="cdn",
    description="BaishanCloud CDN bandwidth and traffic (GET /v2/stat/bandwidth)",
    metrics=METRICS,
    dimensions=DIMENSIONS,
    standard=STANDARD,
    grains=(
        GrainSpec.of("5m", max_window=10 * DAY),
        GrainSpec.of("1h", max_window=31 * DAY),
        GrainSpec.of("1d", max_window=31 * DAY),
    ),
    rate_limits=(RateLimit(calls=300, per_seconds=60), RateLimit(calls=24, per_seconds=2)),
    max_concurrency=4,
    omits_zeros=True,
    # Seed 004 documents no delay. Decided here, to be conservative: a bucket is
    # provisional for 2 hours after it ends, at every grain.
    final_after=2 * 3600,
)

CREDENTIALS = (
    Credential(env=TOKEN_ENV, description="BaishanCloud API token (sent as the token= parameter)"),
)
SETTINGS = (
    Setting(
        env=TIMEZONE_ENV,
        default=DEFAULT_TIMEZONE,
        description="time zone of the API's start_time/end_time strings: an IANA name "
        "(Asia/Shanghai) or a fixed offset (+08:00)",
    ),
)

_OFFSET_RE = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)


def parse_timezone(text: str) -> dt.tzinfo:
    """``Asia/Shanghai``, ``UTC``, ``+08:00``, ``+0800`` or ``UTC+8`` → a tzinfo (ValueError)."""
    raw = text.strip()
    if raw.upper() in ("UTC", "GMT", "Z"):
        return dt.UTC
    m = _OFFSET_RE.match(raw)
    if m:
        sign, hours, minutes = m.group(1), int(m.group(2)), int(m.group(3) or 0)
        if hours > 14 or minutes >= 60:
            raise ValueError(f"{text!r} is not a UTC offset between -14:00 and +14:00")
        delta = dt.timedelta(hours=hours, minutes=minutes)
        return dt.timezone(-delta if sign == "-" else delta)
    import zoneinfo  # for a named zone only (it reads sysconfig, ~1.5 ms at start-up)

    try:
        return zoneinfo.ZoneInfo(raw)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{text!r} is neither an IANA time zone name nor a UTC offset like +08:00"
        ) from None
