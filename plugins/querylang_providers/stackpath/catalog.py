"""What ``FROM stackpath`` can answer: the metric columns, dimensions, grains and settings.

Units (decided here, see the package docstring): ``MB`` is 10^6 bytes and ``Mbps`` is
10^6 bits per second, so ``xferRateMbps == xferUsedTotalMB * 8 / seconds``; timestamps
(``*UsageTime``, ``lastUpdatedTime``) are UNIX seconds, UTC.
"""

from __future__ import annotations

from querylang.catalog import (
    Credential,
    Dataset,
    Dimension,
    GrainSpec,
    Metric,
    Ratio,
    Setting,
    Standard,
)

__all__ = [
    "CLIENT_ID_ENV",
    "CLIENT_SECRET_ENV",
    "CREDENTIALS",
    "DATASET",
    "DEFAULT_PLATFORM",
    "DURATION_SECONDS",
    "GRANULARITIES",
    "GROUP_BY",
    "GRPC_HTTP_STATUS",
    "GRPC_NAMES",
    "METRIC_NAMES",
    "PLATFORMS",
    "SETTINGS",
    "STACK_ENV",
    "TIME_COLUMN",
    "TIME_METRICS",
    "TOKEN_PATH",
]

DAY = 86400
MB = "MB"  # 10^6 bytes
MBPS = "Mbps"  # 10^6 bit/s
RPS = "requests/s"
TIMESTAMP = "unix_s"
TIME_COLUMN = "usageTime"  # the bucket start: a value column, not a metric
DURATION_SECONDS = 1.0  # seconds per unit of durationTotal (unverified: taken as seconds)

STACK_ENV = "STACKPATH_STACK_ID"
CLIENT_ID_ENV = "STACKPATH_CLIENT_ID"
CLIENT_SECRET_ENV = "STACKPATH_CLIENT_SECRET"
CREDENTIALS = (
    Credential(env=CLIENT_ID_ENV, description="StackPath API client ID"),
    Credential(env=CLIENT_SECRET_ENV, description="StackPath API client secret"),
)
# The OAuth2 client-credentials endpoint (one token per run, shared by every request).
TOKEN_PATH = "/identity/v1/oauth2/token"
SETTINGS = (
    Setting(
        env=STACK_ENV,
        default="",
        description="the stack (ID or slug) to query when no `WHERE stack = '…'` is given",
        sandbox="sandbox-stack",
    ),
)

# Platform codes as listed by the vendor document ("Platforms" table).
PLATFORMS = (
    "CDE", "CDO", "CDI", "SDI", "CDP", "SDS", "CDS", "CDD", "CDM", "CDR", "SES", "SDM",
    "CDDE", "WDS", "WSS", "WSI", "WDI", "WDD", "WSD", "SLC", "CWS", "SWS", "CWI", "SWI",
)  # fmt: skip
DEFAULT_PLATFORM = "CDE"

# gRPC code → the HTTP status the gateway pairs it with, and the code's name: the error
# bodies are google.rpc.Status-like {"code", "message", "details"}.
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

# querylang granularity → the API's ISO 8601 duration; P1M buckets are calendar months.
GRANULARITIES = {"5m": "PT5M", "1h": "PT1H", "1d": "P1D", "1mo": "P1M"}

# querylang dimension → (group_by value, filter query parameter).
GROUP_BY = {"site": "SITE", "platform": "PLATFORM", "pop": "POP", "billing_region": "REGION"}


def _total(name: str, unit: str, description: str) -> Metric:
    return Metric(name=name, unit=unit, kind="counter", description=description)


def _gauge(name: str, unit: str, rollup: str, description: str) -> Metric:
    # Extremes and times-of-peak cannot be added across sites/POPs: combine is None for
    # them (the Metric default); "mean" gauges add up across entities at one instant.
    return Metric(name=name, unit=unit, kind="gauge", rollup=rollup, description=description)


def _opaque_ratio(name: str, description: str) -> Metric:
    return Metric(name=name, unit="ratio", kind="ratio", description=description)


METRICS = (
    _total("xferUsedTotalMB", MB, "MB transferred (10^6 bytes); the only billed metric"),
    _gauge("xferUsedMinMB", MB, "min", "smallest five-minute bucket of MB transferred"),
    _gauge("xferUsedMaxMB", MB, "max", "largest five-minute bucket of MB transferred"),
    _gauge("xferUsedMeanMB", MB, "mean", "average of the five-minute buckets of MB transferred"),
    _total("xferAttemptedTotalMB", MB, "MB attempted (10^6 bytes)"),
    _total("durationTotal", "s", "total transfer time of all requests (unit unverified: s)"),
    _gauge("xferRateMaxMbps", MBPS, "max", "maximum transfer rate"),
    _gauge(
        "xferRateMaxUsageTime",
        TIMESTAMP,
        "at_max:xferRateMaxMbps",
        "time at which the maximum transfer rate occurred",
    ),
    _gauge("xferRateMinMbps", MBPS, "min", "minimum transfer rate"),
    _gauge(
        "xferRateMinUsageTime",
        TIMESTAMP,
        "at_min:xferRateMinMbps",
        "time at which the minimum transfer rate occurred",
    ),
    _gauge("xferRateMeanMbps", MBPS, "mean", "average transfer rate"),
    _total("requestsCountTotal", "requests", "total requests"),
    _gauge("requestsCountMin", "requests", "min", "smallest five-minute bucket of requests"),
    _gauge("requestsCountMax", "requests", "max", "largest five-minute bucket of requests"),
    _gauge("requestsCountMean", "requests", "mean", "average five-minute bucket of requests"),
    _gauge("rpsMax", RPS, "max", "maximum requests per second"),
    _gauge("rpsMaxUsageTime", TIMESTAMP, "at_max:rpsMax", "time of the maximum requests/s"),
    _gauge("rpsMin", RPS, "min", "minimum requests per second"),
    _gauge("rpsMinUsageTime", TIMESTAMP, "at_min:rpsMin", "time of the minimum requests/s"),
    _gauge("rpsMean", RPS, "mean", "mean requests per second"),
    # Across entities the latest time would be right, but the engine only adds up or
    # refuses (combine None) — it cannot take a max yet.
    _gauge("lastUpdatedTime", TIMESTAMP, "max", "last time the bucket was updated"),
    _gauge("xferRateMbps", MBPS, "mean", "average transfer rate: MB * 8 / seconds in bucket"),
    Metric(
        name="userXferRateMbps",
        unit=MBPS,
        kind="ratio",
        description="total transfer divided by duration: xferUsedTotalMB * 8 / durationTotal",
        ratio=Ratio(
            numerator=(("xferUsedTotalMB", 8.0 / DURATION_SECONDS),),
            denominator=(("durationTotal", 1.0),),
        ),
    ),
    _gauge("rps", RPS, "mean", "requests per second: requestsCountTotal / seconds in bucket"),
    _opaque_ratio("completionRatio", "completed requests divided by attempted requests"),
    Metric(
        name="responseSizeMeanMB",
        unit=MB,
        kind="ratio",
        description="MB per request: xferUsedTotalMB / requestsCountTotal",
        ratio=Ratio(
            numerator=(("xferUsedTotalMB", 1.0),), denominator=(("requestsCountTotal", 1.0),)
        ),
    ),
    _opaque_ratio("peakToMeanMBRatio", "maximum transfer rate divided by mean transfer rate"),
    _opaque_ratio(
        "peakToMeanRequestsRatio", "maximum requests per second divided by mean requests/s"
    ),
)
METRIC_NAMES = tuple(m.name for m in METRICS)
TIME_METRICS = tuple(m.name for m in METRICS if m.unit == TIMESTAMP)  # timestamps, not amounts

DIMENSIONS = (
    Dimension(
        name="stack",
        description=f"the stack ID or slug (one value); default: the {STACK_ENV} setting",
        groupable=False,
    ),
    Dimension(
        name="platform",
        description="billing platform; without a platform filter only CDE (CDN → end user, "
        "the billed traffic) is queried: sent as platforms=CDE",
        values=PLATFORMS,
        default=(DEFAULT_PLATFORM,),
    ),
    Dimension(name="site", description="CDN site ID"),
    Dimension(name="pop", description="StackPath point-of-presence location code, e.g. JFK"),
    Dimension(name="billing_region", description="StackPath billing region"),
)

#: The standard counters (querylang.standard): StackPath counts in MB, taken as 10^6 bytes.
STANDARD = (
    Standard.of(
        "sent_bytes",
        "xferUsedTotalMB",
        scale=1e6,
        note="MB read as 10^6 bytes (the document does not say; 2^20 would be 4.9% more)",
    ),
    Standard.of("requests", "requestsCountTotal"),
)

DATASET = Dataset(
    name="cdn",
    description="StackPath CDN stack metrics (GET /cdn/v1/stacks/{stack_id}/metrics); "
    "MB = 10^6 bytes, Mbps = 10^6 bit/s; platform CDE unless filtered",
    metrics=METRICS,
    dimensions=DIMENSIONS,
    standard=STANDARD,
    grains=(
        GrainSpec.of("5m", max_window=7 * DAY),
        GrainSpec.of("1h", max_window=31 * DAY),
        GrainSpec.of("1d", max_window=366 * DAY),
        GrainSpec.of("1mo"),
    ),
    max_concurrency=4,
    # Seed 003 documents no delay (each bucket carries lastUpdatedTime). Decided here, to be
    # conservative: a bucket is provisional for 2 hours after it ends, at every grain.
    final_after=2 * 3600,
)
