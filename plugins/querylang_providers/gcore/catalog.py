"""The catalogs of ``FROM gcore`` (CDN) and ``FROM gcore.storage``, as data.

Also the vendor constants both the wire (:mod:`.wire`) and the emulator need: the paths,
the CDN regions, the metrics asked for separately, the storage API's wire names.
Decisions about each dataset are in the docstrings of :mod:`.wire.cdn` and
:mod:`.wire.storage`.
"""

from __future__ import annotations

from querylang.catalog import Dataset, Dimension, GrainSpec, Metric, Ratio, Standard

__all__ = [
    "CDN_DATASET",
    "CDN_DIMENSIONS",
    "CDN_METRICS",
    "CDN_PATH",
    "CDN_STANDARD",
    "PEAKS",
    "REGIONS",
    "SEPARATE",
    "SERIES_FIELD",
    "STORAGE_DATASET",
    "STORAGE_DIMENSIONS",
    "STORAGE_GRANULARITIES",
    "STORAGE_LEVELS",
    "STORAGE_METRICS",
    "STORAGE_PATH",
]

CDN_PATH = "/cdn/statistics/series"
STORAGE_PATH = "/storage/stats/v1/storage/usage/series"
DAY = 86400

# -- CDN statistics (FROM gcore) --------------------------------------------------------
# request_time and upstream_response_time "should be requested separately from other metrics"
SEPARATE = ("request_time", "upstream_response_time")
REGIONS = ("na", "eu", "cis", "asia", "au", "latam", "me", "africa", "sa")


def _bytes(name: str, description: str) -> Metric:
    return Metric(name=name, unit="bytes", kind="counter", description=description)


def _count(name: str, description: str, unit: str = "responses") -> Metric:
    return Metric(name=name, unit=unit, kind="counter", description=description)


CDN_METRICS = (
    _bytes("upstream_bytes", "traffic from the origin (or shield) to CDN servers"),
    _bytes("sent_bytes", "traffic from CDN servers to clients"),
    _bytes("shield_bytes", "traffic from origin shielding to CDN servers"),
    _bytes("backblaze_bytes", "traffic from a Backblaze origin"),
    _bytes("total_bytes", "shield_bytes + upstream_bytes + sent_bytes"),
    _bytes("cdn_bytes", "sent_bytes + shield_bytes"),
    _count("requests", "requests to edge servers", unit="requests"),
    _count("responses_2xx", "responses with a 2xx status"),
    _count("responses_3xx", "responses with a 3xx status"),
    _count("responses_4xx", "responses with a 4xx status"),
    _count("responses_5xx", "responses with a 5xx status"),
    _count("responses_hit", "responses with Cache: HIT"),
    _count("responses_miss", "responses with Cache: MISS"),
    _count("response_types", "responses counted by content type"),
    Metric(
        name="cache_hit_traffic_ratio",
        unit="ratio",
        kind="ratio",
        description="1 - upstream_bytes / sent_bytes",
        ratio=Ratio(
            numerator=(("sent_bytes", 1.0), ("upstream_bytes", -1.0)),
            denominator=(("sent_bytes", 1.0),),
        ),
    ),
    Metric(
        name="cache_hit_requests_ratio",
        unit="ratio",
        kind="ratio",
        description="responses_hit / requests",
        ratio=Ratio(numerator=(("responses_hit", 1.0),), denominator=(("requests", 1.0),)),
    ),
    Metric(
        name="shield_traffic_ratio",
        unit="ratio",
        kind="ratio",
        description="(shield_bytes - upstream_bytes) / shield_bytes",
        ratio=Ratio(
            numerator=(("shield_bytes", 1.0), ("upstream_bytes", -1.0)),
            denominator=(("shield_bytes", 1.0),),
        ),
    ),
    _count("image_processed", "images transformed by Image optimization", unit="images"),
    Metric(
        name="request_time",
        unit="ms",
        kind="gauge",
        description="time from the first request byte to logging after the last byte sent",
        combine=None,
    ),
    Metric(
        name="upstream_response_time",
        unit="ms",
        kind="gauge",
        description="time to receive a response from the origin (averaged)",
        combine=None,
    ),
)

CDN_DIMENSIONS = (
    Dimension(name="resource", description="CDN resource ID", type="integer"),
    Dimension(name="region", description="region of the CDN edge servers", values=REGIONS),
    Dimension(name="country", description="country of the CDN edge servers (ISO 3166 name)"),
    Dimension(name="vhost", description="resource CNAME", filterable=False),
    Dimension(name="client_country", description="country of the end user", filterable=False),
    Dimension(name="protocol", description="request protocol", filterable=False),
)

#: The standard counters (querylang.standard): Gcore's own names already are the standard ones.
CDN_STANDARD = (
    Standard.of("sent_bytes", note="traffic from CDN servers to clients, headers included"),
    Standard.of("upstream_bytes", note="traffic from the origin or shield to CDN servers"),
    Standard.of("requests"),
    *(Standard.of(f"responses_{c}xx") for c in "2345"),
    Standard.of("cache_hits", "responses_hit", note="responses with Cache: HIT"),
    Standard.of("cache_misses", "responses_miss", note="responses with Cache: MISS"),
)

CDN_DATASET = Dataset(
    name="cdn",
    description="Gcore CDN resource statistics (GET /cdn/statistics/series)",
    metrics=CDN_METRICS,
    dimensions=CDN_DIMENSIONS,
    standard=CDN_STANDARD,
    grains=(
        GrainSpec.of("1m", retention=31 * DAY),
        GrainSpec.of("5m"),
        GrainSpec.of("15m"),
        GrainSpec.of("1h"),
        GrainSpec.of("1d"),
    ),
    history=365 * DAY,
    max_concurrency=4,
    # Seed 000: statistics are "typically available within a 24-hour period" (maintenance
    # may delay them further): every bucket is provisional until a day after it ends.
    final_after=DAY,
)


# -- object-storage usage (FROM gcore.storage) ------------------------------------------
# The wire value of each native grain, by its length in seconds.
STORAGE_GRANULARITIES = {3600: "1h", 12 * 3600: "12h", 24 * 3600: "24h"}

# The response's nesting, outermost first: data.clients → locations → storages.
STORAGE_LEVELS = ("client", "location", "storage")


def _counter(name: str, unit: str, description: str) -> Metric:
    return Metric(name=name, unit=unit, kind="counter", description=description)


STORAGE_METRICS = (
    _counter("traffic", "bytes", "all traffic of the storage, in and out"),
    _counter("traffic_in", "bytes", "incoming traffic (uploads)"),
    _counter("traffic_out_edges", "bytes", "outgoing traffic served to CDN edges"),
    _counter("traffic_out_wo_edges", "bytes", "outgoing traffic not served to CDN edges"),
    _counter("requests", "requests", "all requests to the storage"),
    _counter("requests_in", "requests", "incoming requests"),
    _counter("requests_out_edges", "requests", "outgoing requests from CDN edges"),
    _counter("requests_out_wo_edges", "requests", "outgoing requests not from CDN edges"),
    Metric(
        name="size_max",
        unit="bytes",
        kind="gauge",
        description="largest total size of the storage's files in the period",
        rollup="max",
        combine=None,
    ),
    Metric(
        name="size_mean",
        unit="bytes",
        kind="gauge",
        description="mean total size of the storage's files over the period",
        rollup="mean",
        combine="sum",
    ),
    _counter("size_bytes_hour", "byte-hours", "bytes stored, hour by hour (storage billing)"),
    Metric(
        name="bucket_files",
        unit="files",
        kind="gauge",
        description="largest number of files in a bucket in the period (needs BY bucket)",
        rollup="max",
        combine=None,
    ),
)

# The response field holding each metric's series (one per storage; buckets nest further).
SERIES_FIELD = {m.name: f"{m.name}_series" for m in STORAGE_METRICS}
SERIES_FIELD["bucket_files"] = "buckets_series"

# Per-series maxima: never summed. Each needs BY at the level it is measured at.
PEAKS = {"size_max": "storage", "bucket_files": "bucket"}

STORAGE_DIMENSIONS = (
    Dimension(
        name="client",
        description="Gcore client (account) ID",
        type="integer",
        native_ops=frozenset(),
    ),
    Dimension(name="location", description="storage location, e.g. s-region-1"),
    Dimension(name="storage", description="storage name, e.g. 123-myStorage"),
    Dimension(
        name="bucket",
        description="S3 bucket name (only with bucket_files)",
        native_ops=frozenset(),
    ),
)

STORAGE_DATASET = Dataset(
    name="storage",
    description="Gcore object-storage usage (POST /storage/stats/v1/storage/usage/series)",
    metrics=STORAGE_METRICS,
    dimensions=STORAGE_DIMENSIONS,
    grains=(
        GrainSpec.of("1h", max_window=31 * DAY),
        GrainSpec.of("12h", max_window=93 * DAY),
        GrainSpec.of("24h", max_window=366 * DAY),
    ),
    history=None,
    max_concurrency=4,
    # Seed 001: statistics are "typically available within a 60 minutes period".
    final_after=3600,
)
