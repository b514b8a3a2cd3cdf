"""The catalog of ``FROM gcore.storage``: metrics, dimensions, grains and wire names."""

from __future__ import annotations

from querylang.catalog import Dataset, Dimension, GrainSpec, Metric

__all__ = [
    "DATASET",
    "GRANULARITIES",
    "LEVELS",
    "METRICS",
    "PATH",
    "PEAKS",
    "SERIES_FIELD",
]

PATH = "/storage/stats/v1/storage/usage/series"
DAY = 86400

# The wire value of each native grain, by its length in seconds.
GRANULARITIES = {3600: "1h", 12 * 3600: "12h", 24 * 3600: "24h"}

# The response's nesting, outermost first: data.clients → locations → storages.
LEVELS = ("client", "location", "storage")


def _counter(name: str, unit: str, description: str) -> Metric:
    return Metric(name=name, unit=unit, kind="counter", description=description)


METRICS = (
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
SERIES_FIELD = {m.name: f"{m.name}_series" for m in METRICS}
SERIES_FIELD["bucket_files"] = "buckets_series"

# Per-series maxima: never summed. Each needs BY at the level it is measured at.
PEAKS = {"size_max": "storage", "bucket_files": "bucket"}

DIMENSIONS = (
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

DATASET = Dataset(
    name="storage",
    description="Gcore object-storage usage (POST /storage/stats/v1/storage/usage/series)",
    metrics=METRICS,
    dimensions=DIMENSIONS,
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
