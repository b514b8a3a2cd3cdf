"""The edgelog catalog: the one dataset, as data, and the constants its wire and emulator share."""

from __future__ import annotations

from querylang.catalog import Credential, Dataset, Dimension, GrainSpec, Metric, Ratio, Standard

__all__ = ["DATASET", "DAY", "NAME", "PATH", "SITES", "TOKEN"]

NAME = "edgelog"  # what FROM names
DAY = 86400
SITES = ("ams", "fra", "sin")
PATH = "/v1/series"
TOKEN = Credential(env="EDGELOG_TOKEN", description="edgelog API token")

DATASET = Dataset(
    name="series",
    description="edge-log totals per site",
    metrics=(
        Metric(name="bytes", unit="bytes", kind="counter", description="bytes served"),
        Metric(name="requests", unit="requests", kind="counter", description="requests"),
        Metric(name="errors", unit="requests", kind="counter", description="5xx responses"),
        Metric(
            name="error_ratio",
            unit="ratio",
            kind="ratio",
            description="errors / requests",
            ratio=Ratio(numerator=(("errors", 1),), denominator=(("requests", 1),)),
            native=False,
        ),
    ),
    dimensions=(Dimension(name="site", description="edge site", values=SITES),),
    grains=tuple(GrainSpec.of(g, max_window=31 * DAY) for g in ("1m", "1h", "1d")),
    history=90 * DAY,
    final_after=3600,  # the edge-log pipeline settles within an hour of a bucket's end
    # The standard metrics (querylang.standard) it answers: FROM edgelog, gcore works.
    standard=(Standard.of("sent_bytes", "bytes"), Standard.of("requests")),
)
