"""Pieces of the conformance suite, each against values worked out by hand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import httpx

from querylang.catalog import Metric, Ratio
from querylang.errors import LimitError
from querylang.provider import HttpProvider
from querylang.testing.compiling import Watched, judge_refusal
from querylang.testing.endtoend import from_parts, truth
from querylang.testing.failures import Faulty, retry_header
from querylang.testing.sandbox import ConformanceFailure, window
from querylang.timegrid import Granularity, parse_ts
from querylang.wire import NativeRequest, NativeResponse, Unsupported
from querylang_providers.baishan import BaishanProvider

DAY = 86400


def test_the_window_of_calendar_months_starts_and_ends_on_the_first() -> None:
    # NOW is 2026-11-20: November is unfinished, October is the margin, then two months
    assert window(Granularity(1, "mo"), 2) == (
        parse_ts("2026-08-01T00:00:00Z"),
        parse_ts("2026-10-01T00:00:00Z"),
    )
    assert window(Granularity(1, "h")) == (
        parse_ts("2026-11-19T20:00:00Z"),
        parse_ts("2026-11-19T23:00:00Z"),
    )


class _Recording:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int, int]] = []

    def expected(
        self,
        dataset: str,
        metric: str,
        start: int,
        end: int,
        step: int,
        where: Mapping[str, Sequence[str]] | None = None,
    ) -> dict[int, float]:
        self.calls.append((start, end, step))
        return {t: float(step) for t in range(start, end, step)}


def test_the_truth_of_calendar_months_is_asked_one_month_at_a_time() -> None:
    emulator = _Recording()
    aug, sep, octo = (parse_ts(f"2026-{m}-01T00:00:00Z") for m in ("08", "09", "10"))
    got = truth(emulator, "d", "m", Granularity(1, "mo"), aug, octo)
    assert emulator.calls == [(aug, sep, 31 * DAY), (sep, octo, 30 * DAY)]
    assert got == {aug: 31.0 * DAY, sep: 30.0 * DAY}


def test_a_derived_ratio_is_worked_out_from_its_parts_and_a_zero_denominator_is_absent() -> None:
    m = Metric(
        name="r",
        unit="ratio",
        kind="ratio",
        description="",
        native=False,
        ratio=Ratio(numerator=(("a", 2.0),), denominator=(("a", 1.0), ("b", 1.0))),
    )
    parts = {"a": {0: 1.0, 60: 0.0, 120: 3.0}, "b": {0: 3.0, 60: 0.0, 120: 1.0}}
    assert from_parts(m, parts) == {0: 0.5, 120: 1.5}


class _Ok:
    def handle(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={})


def test_the_injected_429_carries_only_the_header_the_provider_reads() -> None:
    assert retry_header(BaishanProvider()) == "X-Retry-After"  # providers.md: its only one
    faulty = Faulty(_Ok(), {"/x"}, retry_header(BaishanProvider()))
    faulty.arm("429", 1)
    first = faulty.handle(httpx.Request("GET", "http://127.0.0.1/x"))
    second = faulty.handle(httpx.Request("GET", "http://127.0.0.1/x"))
    assert first.status_code == 429 and first.headers["X-Retry-After"] == "1"
    assert "Retry-After" not in first.headers
    assert second.status_code == 200
    assert retry_header(object()) == "Retry-After"  # a provider that declares none


def test_the_default_failure_reads_the_declared_retry_header() -> None:
    class Declares(HttpProvider):
        name = "declares"
        retry_after_header = "X-Retry-After"

    request = NativeRequest(provider="declares", method="GET", url="http://127.0.0.1/x")

    def delay(p: HttpProvider, headers: dict[str, str]) -> float | None:
        failure = p.failure(request, NativeResponse(status=429, headers=headers, content=b""))
        assert failure is not None
        return failure.delay

    assert delay(Declares(), {"X-Retry-After": "7"}) == 7.0
    assert delay(Declares(), {"Retry-After": "7"}) is None
    assert delay(HttpProvider(), {"Retry-After": "7"}) == 7.0


def test_only_an_unsupported_or_the_planners_own_refusal_passes_the_compile_check() -> None:
    p = BaishanProvider()
    refused = Watched(p)
    refused.outcomes.append(Unsupported(reason="no such split"))
    judge_refusal(p, "q", refused, LimitError("E408", "cannot"))
    judge_refusal(p, "q", Watched(p), LimitError("E407", "too many requests"))
    cases = {
        "E403": (Watched(p), LimitError("E403", "off the grid")),
        "raised": (Watched(p), KeyError("site")),
        "no reason": (Watched(p), LimitError("E408", "cannot")),
    }
    cases["raised"][0].outcomes.append(KeyError("site"))
    cases["no reason"][0].outcomes.append(Unsupported(reason=" "))
    for name, (watched, exc) in cases.items():
        try:
            judge_refusal(p, "q", watched, exc)
        except ConformanceFailure as failure:
            assert "fails the 'compile' check: " in str(failure), name
        else:
            raise AssertionError(f"{name} passed the compile check")


def test_a_unit_of_the_providers_own_passes_once_declared() -> None:
    import pytest

    from querylang.catalog import Dataset, GrainSpec
    from querylang.testing.catalog import check_catalog, problems

    dataset = Dataset(
        name="store",
        description="objects kept",
        metrics=(Metric(name="stored", unit="objects", kind="counter", description="objects"),),
        dimensions=(),
        grains=(GrainSpec.of("1d", max_window=31 * DAY),),
        history=90 * DAY,
    )
    assert [p for p, _ in problems(dataset)] == [
        "dataset 'store' metric 'stored' has unit 'objects', which querylang.units does not know"
    ]
    assert list(problems(dataset, {"objects": "a number of stored objects"})) == []

    class Declared(HttpProvider):
        name, default_dataset = "declared", "store"

        def __init__(self, meaning: str) -> None:
            self.units = {"objects": meaning}

        @property
        def datasets(self) -> Mapping[str, Dataset]:
            return {"store": dataset}

    check_catalog(Declared("a number of stored objects"))  # passes
    with pytest.raises(ConformanceFailure, match="does not say what it measures"):
        check_catalog(Declared(" "))


def test_a_standard_terms_scale_is_what_the_units_say() -> None:
    from querylang.testing.standard import unit_scale

    assert unit_scale("MB", "bytes", {}) == 1e6  # units.py: MB is 10^6 bytes
    assert unit_scale("GB", "bytes", {}) == 1e9
    assert unit_scale("bytes", "bytes", {}) == 1.0
    assert unit_scale("requests", "count", {}) == 1.0  # any number of things counts as 1
    assert unit_scale("responses", "count", {}) == 1.0
    assert unit_scale("objects", "count", {"objects": "a number of stored objects"}) == 1.0
    assert unit_scale("bytes", "count", {}) is None  # an amount of data is not a count
    assert unit_scale("byte-hours", "bytes", {}) is None  # the units do not relate them
    assert unit_scale("Mbps", "bytes", {}) is None  # a rate is not an amount


def test_a_standard_mapping_is_worked_out_with_the_units_scale_and_a_missing_term_is_missing() -> (
    None
):
    from querylang.catalog import Dataset, GrainSpec, Standard
    from querylang.testing.standard import Term, combine, formula, scale_fix, terms

    dataset = Dataset(
        name="d",
        description="",
        metrics=(
            Metric(name="mb", unit="MB", kind="counter", description=""),
            Metric(name="kept", unit="byte-hours", kind="counter", description=""),
            Metric(name="hits", unit="requests", kind="counter", description=""),
        ),
        dimensions=(),
        grains=(GrainSpec.of("1h"),),
    )
    wrong = Standard.of("sent_bytes", "mb", scale=1000.0)  # MB is 10^6 bytes, not 10^3
    assert terms(dataset, wrong, {}) == (
        Term(native="mb", scale=1e6, declared=1000.0, from_units=True),
    )
    odd = Standard(name="sent_bytes", terms=(("mb", 1e6), ("kept", 2.0)))
    parts = terms(dataset, odd, {})
    assert parts[1] == Term(native="kept", scale=2.0, declared=2.0, from_units=False)
    assert formula(parts) == "mb * 10^6 + kept * 2 (the mapping's scales)"
    assert scale_fix(odd, parts) is None
    assert scale_fix(wrong, terms(dataset, wrong, {})) == (
        "map sent_bytes as mb * 10^6 (mb scale 1e+06, not 1000): the scale of a term is the "
        "size of one of its native unit in bytes"
    )
    truth = {"mb": {0: 1.5, 3600: 2.0}, "kept": {0: 10.0, 7200: 1.0}}
    # 0: 1.5 MB + 2 * 10 = 1,500,020; 3600 and 7200 lack one term: missing, not a partial sum
    assert combine(parts, truth) == {0: 1_500_020.0}


def test_a_standard_named_like_a_native_counter_is_compared_on_the_standard_path() -> None:
    import pytest
    from attrs import evolve

    from querylang.catalog import Dataset, Standard
    from querylang.emulation import serve
    from querylang.testing.endtoend import Scope, check_standard
    from querylang.testing.sandbox import NOW
    from querylang_providers.gcore import GcoreProvider

    class Mapped(GcoreProvider):
        """Gcore's CDN answering the standard ``requests`` as its native one times a scale."""

        def __init__(self, scale: float) -> None:
            self.scale = scale

        @property
        def datasets(self) -> Mapping[str, Dataset]:
            cdn = super().datasets["cdn"]
            return {"cdn": evolve(cdn, standard=(Standard.of("requests", scale=self.scale),))}

    for scale in (1.0, 2.0):
        p = Mapped(scale)
        emulator = p.emulator(lambda: float(NOW))
        with serve(emulator) as server:
            s = Scope(p, emulator, server.url, "cdn", Granularity(1, "h"))
            if scale == 1.0:
                check_standard(s, p.datasets["cdn"])  # passes
                continue
            # without BY provider, "requests" would be read as the native counter: no catch
            with pytest.raises(ConformanceFailure) as caught:
                check_standard(s, p.datasets["cdn"])
    message = str(caught.value)
    assert '"SELECT requests BY provider FROM gcore EVERY 1h BETWEEN ' in message
    assert "for standard requests = requests * 2 answered" in message
    assert "fix: map requests as requests (requests scale 1, not 2)" in message


class _Cells:
    """An emulator truth made of 5-minute cells, summed into any step (as expected() is).

    sent_bytes: 300 * (k + 1) bytes in the k-th 5-minute cell of each 2-hour bucket
    (k = 0 … 23), so its 5-minute rates are 8 * (k + 1) bit/s; hits 3 and misses 1 a cell
    before ``quiet``, none from then on.
    """

    def __init__(self, quiet: int) -> None:
        self.quiet = quiet

    def _cell(self, metric: str, t: int) -> float:
        if metric == "sent_bytes":
            return 300.0 * ((t // 300) % 24 + 1)
        if metric in ("responses_hit", "responses_miss"):
            return 0.0 if t >= self.quiet else (3.0 if metric == "responses_hit" else 1.0)
        raise ValueError(metric)

    def expected(
        self,
        dataset: str,
        metric: str,
        start: int,
        end: int,
        step: int,
        where: Mapping[str, Sequence[str]] | None = None,
    ) -> dict[int, float]:
        return {
            t: sum(self._cell(metric, u) for u in range(t, t + step, 300))
            for t in range(start, end, step)
        }


def test_engine_computed_standard_metrics_are_worked_out_by_their_rules() -> None:
    from querylang.standard import standard_metric
    from querylang.testing.endtoend import Scope, engine_truth
    from querylang_providers.gcore import GcoreProvider

    p = GcoreProvider()
    ds = p.datasets["cdn"]  # cache_hits = responses_hit, cache_misses = responses_miss
    grain = Granularity(2, "h")
    start, _ = window(grain)
    emulator = _Cells(quiet=start + 2 * 7200)  # the third bucket has no hits or misses
    s = Scope(p, emulator, "http://127.0.0.1:9", "cdn", grain)
    assert (s.start, s.end) == (start, start + 3 * 7200) and start % 7200 == 0

    def rule(name: str) -> dict[int, float] | None:
        metric = standard_metric(name)
        assert metric is not None
        return engine_truth(s, ds, metric)

    buckets = [start, start + 7200, start + 14400]
    # 24 cells of 3 hits and 1 miss: 72 / 96; the quiet bucket has no ratio at all (not 0)
    assert rule("cache_hit_ratio") == {buckets[0]: 0.75, buckets[1]: 0.75}
    # 300 * (1 + … + 24) = 90,000 bytes a bucket, * 8 / 7,200 s
    assert rule("bandwidth_bps") == dict.fromkeys(buckets, 100.0)
    # rates 8, 16, … 192 bit/s: the highest, and rank ceil(0.95 * 24) = 23 of 24
    assert rule("peak_bandwidth_bps") == dict.fromkeys(buckets, 192.0)
    assert rule("p95_bandwidth_bps") == dict.fromkeys(buckets, 184.0)


def test_a_wrong_five_minute_series_fails_the_peak_and_percentile_with_their_rule() -> None:
    import pytest

    from querylang.emulation import serve
    from querylang.testing.endtoend import Scope, check_engine_standard
    from querylang.testing.sandbox import NOW
    from querylang_providers.gcore import GcoreProvider

    p = GcoreProvider()
    emulator = p.emulator(lambda: float(NOW))
    ds = p.datasets["cdn"]
    day = Granularity(1, "d")
    with serve(emulator) as server:
        check_engine_standard(Scope(p, emulator, server.url, "cdn", day), ds)  # passes

        class Doubled:
            """The same data, but its 5-minute sent_bytes said to be twice what is served."""

            def expected(self, dataset: str, metric: str, start: int, end: int, step: int,
                         where: Mapping[str, Sequence[str]] | None = None) -> dict[int, float]:  # fmt: skip
                got = emulator.expected(dataset, metric, start, end, step, where)
                twice = step == 300 and metric == "sent_bytes"
                return {t: v * 2 for t, v in got.items()} if twice else got

        with pytest.raises(ConformanceFailure) as caught:
            check_engine_standard(Scope(p, Doubled(), server.url, "cdn", day), ds)
    message = str(caught.value)
    both = "cache_hit_ratio, bandwidth_bps, peak_bandwidth_bps, p95_bandwidth_bps"
    assert f"SELECT {both} FROM gcore EVERY 1d BETWEEN" in message  # one query of them all
    assert "for peak_bandwidth_bps (the highest 5-minute mean rate within the bucket)" in message
    assert "the emulator's data worked out by that rule from sent_bytes" in message
    assert "fix: the engine computes it from the standard sent_bytes" in message


def test_a_metric_or_dimension_named_like_a_column_every_result_has_is_a_catalog_mistake() -> None:
    from querylang.catalog import Dataset, Dimension, GrainSpec
    from querylang.testing.catalog import problems

    dataset = Dataset(
        name="hits",
        description="hits by state",
        metrics=(Metric(name="time", unit="seconds", kind="counter", description="busy"),),
        dimensions=(
            Dimension(name="state", description="US state"),
            Dimension(name="account", description="the vendor's customer"),
        ),
        grains=(GrainSpec.of("1d", max_window=31 * DAY),),
        history=90 * DAY,
    )
    said = [(p, fix) for p, fix in problems(dataset) if "has a metric or dimension named" in p]
    fix = "rename it (results have time and state columns of their own)"
    assert said == [
        (
            "dataset 'hits' has a metric or dimension named 'account', which the engine adds "
            "to every query (BY account splits by the account in FROM)",
            "rename it (the vendor's own, e.g. origin_provider or customer_account)",
        ),
        ("dataset 'hits' has a metric or dimension named 'state', a column every result has", fix),
        ("dataset 'hits' has a metric or dimension named 'time', a column every result has", fix),
    ]
