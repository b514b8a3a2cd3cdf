"""What ``FROM fastly`` can answer: every documented Historical Stats field, two dimensions.

Units follow the document's field table: counts, bytes, seconds (the ``*_time`` fields,
totals of processing time, so they add up like any counter) and one ratio, ``hit_ratio``,
which is hits / (hits + miss) and is always re-derived from its parts, never averaged.
"""

from __future__ import annotations

from querylang.catalog import Credential, Dataset, Dimension, GrainSpec, Metric, Ratio, Standard

__all__ = [
    "ALIASES",
    "CREDENTIAL",
    "DATASET",
    "FIELDS",
    "MAX_WINDOW",
    "REGIONS",
    "RETENTION",
    "TOKEN_ENV",
]

MINUTE, HOUR, DAY = 60, 3600, 86400
TOKEN_ENV = "FASTLY_API_TOKEN"
CREDENTIAL = Credential(env=TOKEN_ENV, description="Fastly API token (sent as Fastly-Key)")

# The stats regions of today's API, as Fastly's official API clients list them for the
# ``region`` parameter (and GET /stats/regions returns). The seed document's own list is
# missing, and its 2013 example (apac, ausnz, usa, europe) names regions that no longer exist.
REGIONS = (
    "usa",
    "europe",
    "asia",
    "asia_india",
    "asia_southkorea",
    "anzac",
    "africa_std",
    "southamerica_std",
    "mexico",
)

# Seconds of history per ``by`` value; None: not documented, so no client-side limit.
RETENTION = {"minute": 35 * DAY, "hour": 375 * DAY, "day": None}
# The longest window one request may span per ``by`` value ("We will not process
# exceedingly large queries"): 1,440 minutes, 744 hours or 366 days per service.
MAX_WINDOW = {"minute": 1 * DAY, "hour": 31 * DAY, "day": 366 * DAY}

# Spellings of the document's examples (and older API versions) → the documented field.
ALIASES = {"logging": "log", "img_opto": "imgopto"}

_OTFP = "the On-the-Fly Packager (video on demand)"
_WAF = "requests that triggered a WAF rule"

# (field, description) in the document's order; the unit follows from the name.
FIELDS: tuple[tuple[str, str], ...] = (
    ("requests", "requests processed"),
    ("hits", "cache hits"),
    ("hits_time", "total time spent processing cache hits"),
    ("miss", "cache misses"),
    ("miss_time", "total time spent processing cache misses"),
    ("pass", "requests that passed through the CDN without being cached"),
    ("pass_time", "total time spent processing cache passes"),
    ("errors", "cache errors"),
    ("restarts", "restarts performed"),
    ("hit_ratio", "hits / (hits + miss), between 0 and 1"),
    ("bandwidth", "bytes delivered (resp + bereq header and body bytes)"),
    ("body_size", "body bytes delivered (alias for resp_body_bytes)"),
    ("header_size", "header bytes delivered (alias for resp_header_bytes)"),
    ("req_body_bytes", "body bytes received"),
    ("req_header_bytes", "header bytes received"),
    ("resp_body_bytes", "body bytes delivered"),
    ("resp_header_bytes", "header bytes delivered"),
    ("bereq_body_bytes", "body bytes sent to origin"),
    ("bereq_header_bytes", "header bytes sent to origin"),
    ("uncacheable", "requests designated uncacheable"),
    ("pipe", "pipe operations performed (legacy feature)"),
    ("tls", "requests received over TLS"),
    ("tls_v10", "requests received over TLS 1.0"),
    ("tls_v11", "requests received over TLS 1.1"),
    ("tls_v12", "requests received over TLS 1.2"),
    ("tls_v13", "requests received over TLS 1.3"),
    ("shield", "requests from shield to origin"),
    ("shield_resp_body_bytes", "body bytes delivered via a shield"),
    ("shield_resp_header_bytes", "header bytes delivered via a shield"),
    ("ipv6", "requests received over IPv6"),
    ("otfp", f"responses from {_OTFP}"),
    ("otfp_resp_body_bytes", f"body bytes delivered from {_OTFP}"),
    ("otfp_resp_header_bytes", f"header bytes delivered from {_OTFP}"),
    ("otfp_shield_resp_body_bytes", f"body bytes delivered via a shield for {_OTFP}"),
    ("otfp_shield_resp_header_bytes", f"header bytes delivered via a shield for {_OTFP}"),
    ("otfp_manifests", f"manifest files served by {_OTFP}"),
    ("otfp_deliver_time", f"total time spent delivering responses from {_OTFP}"),
    ("otfp_shield_time", f"total time spent delivering via a shield from {_OTFP}"),
    ("video", "responses with a video segment or manifest MIME type"),
    ("pci", "responses with the PCI flag turned on"),
    ("log", "log lines sent"),
    ("http2", "requests received over HTTP/2"),
    ("waf_logged", f"{_WAF} and were logged"),
    ("waf_blocked", f"{_WAF} and were blocked"),
    ("waf_passed", f"{_WAF} and were passed"),
    ("attack_req_body_bytes", f"body bytes received from {_WAF}"),
    ("attack_req_header_bytes", f"header bytes received from {_WAF}"),
    ("attack_logged_req_body_bytes", f"body bytes received from {_WAF} that was logged"),
    ("attack_logged_req_header_bytes", f"header bytes received from {_WAF} that was logged"),
    ("attack_blocked_req_body_bytes", f"body bytes received from {_WAF} that was blocked"),
    ("attack_blocked_req_header_bytes", f"header bytes received from {_WAF} that was blocked"),
    ("attack_passed_req_body_bytes", f"body bytes received from {_WAF} that was passed"),
    ("attack_passed_req_header_bytes", f"header bytes received from {_WAF} that was passed"),
    ("attack_resp_synth_bytes", f"bytes delivered for {_WAF} and got a synthetic response"),
    ("imgopto", "responses from the Image Optimizer"),
    ("imgopto_resp_body_bytes", "body bytes delivered from the Image Optimizer"),
    ("imgopto_resp_header_bytes", "header bytes delivered from the Image Optimizer"),
    (
        "imgopto_shield_resp_body_bytes",
        "body bytes delivered via a shield from the Image Optimizer",
    ),
    (
        "imgopto_shield_resp_header_bytes",
        "header bytes delivered via a shield from the Image Optimizer",
    ),
    ("status_200", "responses with status 200 (Success)"),
    ("status_204", "responses with status 204 (No Content)"),
    ("status_301", "responses with status 301 (Moved Permanently)"),
    ("status_302", "responses with status 302 (Found)"),
    ("status_304", "responses with status 304 (Not Modified)"),
    ("status_400", "responses with status 400 (Bad Request)"),
    ("status_401", "responses with status 401 (Unauthorized)"),
    ("status_403", "responses with status 403 (Forbidden)"),
    ("status_404", "responses with status 404 (Not Found)"),
    ("status_416", "responses with status 416 (Range Not Satisfiable)"),
    ("status_500", "responses with status 500 (Internal Server Error)"),
    ("status_501", "responses with status 501 (Not Implemented)"),
    ("status_502", "responses with status 502 (Bad Gateway)"),
    ("status_503", "responses with status 503 (Service Unavailable)"),
    ("status_504", "responses with status 504 (Gateway Timeout)"),
    ("status_505", "responses with status 505 (HTTP Version Not Supported)"),
    ("status_1xx", "responses with an informational (1xx) status"),
    ("status_2xx", "responses with a success (2xx) status"),
    ("status_3xx", "responses with a redirection (3xx) status"),
    ("status_4xx", "responses with a client error (4xx) status"),
    ("status_5xx", "responses with a server error (5xx) status"),
    ("object_size_1k", "objects served under 1 KB"),
    ("object_size_10k", "objects served between 1 KB and 10 KB"),
    ("object_size_100k", "objects served between 10 KB and 100 KB"),
    ("object_size_1m", "objects served between 100 KB and 1 MB"),
    ("object_size_10m", "objects served between 1 MB and 10 MB"),
    ("object_size_100m", "objects served between 10 MB and 100 MB"),
    ("object_size_1g", "objects served between 100 MB and 1 GB"),
)

HIT_RATIO = Ratio(numerator=(("hits", 1.0),), denominator=(("hits", 1.0), ("miss", 1.0)))


def unit_of(field: str) -> str:
    """The unit of a documented field, from its name."""
    if field == "hit_ratio":
        return "ratio"
    if field.endswith("_time"):
        return "seconds"
    if field.endswith("_bytes") or field in ("bandwidth", "body_size", "header_size"):
        return "bytes"
    return "count"


def _metric(field: str, description: str) -> Metric:
    if field == "hit_ratio":
        return Metric(
            name=field, unit="ratio", kind="ratio", description=description, ratio=HIT_RATIO
        )
    return Metric(name=field, unit=unit_of(field), kind="counter", description=description)


METRICS = tuple(_metric(name, text) for name, text in FIELDS)

DIMENSIONS = (
    Dimension(
        name="service",
        description="Fastly service ID (e.g. 6ElZZvtumbwtLBDJvFwepx)",
        native_ops=frozenset({"in"}),
        fan_out=True,  # several services: one call each, added up by the engine
    ),
    Dimension(
        name="region",
        description="stats region of the Fastly POPs (one request per region; any name "
        "GET /stats/regions lists is passed through, e.g. " + ", ".join(REGIONS[:3]) + ")",
        # No closed set: GET /stats/regions is the complete list and Fastly adds regions, so
        # a name is passed through and Fastly itself refuses an unknown one (P400). BY
        # region fans out over REGIONS, today's list.
        native_ops=frozenset({"in"}),
        fan_out=True,  # one region per call
    ),
)

#: The standard counters (querylang.standard). Fastly's own ``bandwidth`` also counts the
#: bytes sent to origin (bereq_*), so sent_bytes is the response bytes alone; Fastly reports
#: no bytes fetched from origin, so upstream_bytes is not answered.
STANDARD = (
    Standard.of(
        "sent_bytes",
        "resp_header_bytes",
        "resp_body_bytes",
        note="response header + body bytes; Fastly's bandwidth field adds bytes sent to origin",
    ),
    Standard.of("requests"),
    *(Standard.of(f"responses_{c}xx", f"status_{c}xx") for c in "2345"),
    Standard.of("cache_hits", "hits", note="pass and synthetic responses count as neither"),
    Standard.of("cache_misses", "miss", note="pass and synthetic responses count as neither"),
)

DATASET = Dataset(
    name="stats",
    description="Fastly Historical Stats (GET /stats…)",
    metrics=METRICS,
    dimensions=DIMENSIONS,
    standard=STANDARD,
    grains=(
        GrainSpec.of("1m", retention=RETENTION["minute"], max_window=MAX_WINDOW["minute"]),
        GrainSpec.of("1h", retention=RETENTION["hour"], max_window=MAX_WINDOW["hour"]),
        GrainSpec.of(
            "1d", retention=RETENTION["day"], max_window=MAX_WINDOW["day"], final_after=2 * 3600
        ),
    ),
    history=None,
    # Reading stats is not rate-limited: seed 002 documents no limit for GET /stats, and
    # Fastly's hourly API limit applies to modifying calls only (shared/providers.md). 16
    # at once is a courtesy cap, not a vendor limit; 429s are still honoured.
    max_concurrency=16,
    # Seed 002 "Availability of Data": minutely and hourly data are "delayed by roughly 10
    # to 15 minutes", the current hour and day are partial. Minute and hour buckets are
    # final 15 minutes after they end; a day settles by about 02:00 UTC the next day.
    final_after=15 * 60,
)
