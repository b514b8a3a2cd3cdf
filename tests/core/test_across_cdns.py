"""One question across every CDN: standard metrics, FROM a, b, the provider dimension.

Expected numbers come from the emulators' raw HTTP answers parsed by hand here, or from
each provider's native metrics (whose decoding the provider tests check against raw
answers), combined by hand — never from the cross-provider code under test.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest

from querylang import run
from querylang.catalog import Dataset
from querylang.emulation import serve
from querylang.errors import BindingError, LimitError, ProviderError
from querylang.frames import Frame
from querylang.plugins import registry
from querylang.standard import STANDARD
from querylang.steps import Burst, Combine
from querylang.timegrid import Granularity, TimeWindow, parse_ts
from tests.conftest import NOW, NOW_TEXT

ROOT = Path(__file__).resolve().parents[2]
DAY = 86400
D18, D19, D20 = (parse_ts(f"2026-11-{d}") for d in (18, 19, 20))
TWO_DAYS = "BETWEEN '2026-11-18' AND '2026-11-20'"


def _emulator(name: str):
    return registry().get(name).emulator(lambda: float(NOW))


def _raw(name: str, url: str, headers: dict[str, str]) -> object:
    response = _emulator(name).handle(httpx.Request("GET", url, headers=headers))
    assert response.status_code == 200, response.text
    return json.loads(response.content)


def _rows(result) -> list[dict]:
    frame, cols = result.frame, [c.name for c in result.columns]
    return [dict(zip(cols, row, strict=True)) for row in frame.rows()]


# ---- the vocabulary and the catalogs ---------------------------------------------------

UNIT_SCALE = {
    ("bytes", "bytes"): 1.0,
    ("MB", "bytes"): 1e6,
    ("requests", "count"): 1.0,
    ("responses", "count"): 1.0,
    ("count", "count"): 1.0,
}


def _datasets() -> list[tuple[str, Dataset]]:
    return [
        (f"{p.name}.{d}", ds) for p in registry().providers.values() for d, ds in p.datasets.items()
    ]


@pytest.mark.parametrize(("label", "dataset"), _datasets(), ids=lambda v: getattr(v, "name", v))
def test_every_standard_mapping_is_a_native_counter_scaled_to_the_base_unit(
    label: str, dataset: Dataset
) -> None:
    table = {m.name: m for m in STANDARD}
    for std in dataset.standard:
        metric = table[std.name]
        assert not metric.engine, f"{label}: {std.name} is computed by the engine"
        for native, coef in std.terms:
            m = dataset.metric(native)
            assert m is not None, f"{label}: {native} is not a metric"
            assert m.kind == "counter" and m.rollup == "sum", (label, native)
            assert UNIT_SCALE[(m.unit, metric.unit)] == coef, (label, native, m.unit, coef)


def test_each_cdn_maps_what_its_api_answers() -> None:
    reg = registry()
    names = {p: {s.name for s in reg.get(p).datasets[reg.get(p).default_dataset].standard}
             for p in ("gcore", "fastly", "stackpath", "baishan")}  # fmt: skip
    assert names["gcore"] >= {"sent_bytes", "upstream_bytes", "requests", "cache_hits"}
    assert names["fastly"] >= {"sent_bytes", "requests", "responses_5xx", "cache_misses"}
    assert "upstream_bytes" not in names["fastly"]  # Fastly reports no bytes from origin
    assert names["stackpath"] == {"sent_bytes", "requests"}
    assert names["baishan"] == {"sent_bytes"}


# ---- the steps, on small frames worked out by hand -------------------------------------


def test_p95_is_the_rank_ceil_095n_sample_of_the_combined_series() -> None:
    # Two providers, twenty 5-minute samples each in one hour-long... no: one 100-minute
    # bucket. Provider a: 1..20 bytes*37.5; provider b: a reversed. Rates = bytes*8/300.
    base = parse_ts("2026-11-18")
    times = base + 300 * np.arange(20)
    a = np.arange(1, 21, dtype=float) * 37.5  # rate a_i = i bit/s
    b = a[::-1].copy()
    frame = Frame(
        np.concatenate([times, times]),
        {"provider": np.array(["a"] * 20 + ["b"] * 20, dtype=object)},
        {"sent_bytes": np.concatenate([a, b])},
    )
    total = Combine(dims=(), rules={"sent_bytes": "sum"}, provider="a, b", reason="providers")
    burst = Burst(grain=Granularity(5, "m"), every=None, window=TimeWindow(base, base + 6000),
                  by=(), sums=("sent_bytes",), source="sent_bytes", peak="peak", p95="p95")  # fmt: skip
    combined = burst.apply(total.apply(frame))
    # The total is 21 bit/s in every sample: its p95 and peak are 21.
    assert combined.metrics["p95"].tolist() == [21.0]
    assert combined.metrics["peak"].tolist() == [21.0]
    assert combined.metrics["sent_bytes"].tolist() == [2 * 37.5 * 210]
    per_provider = Burst(grain=Granularity(5, "m"), every=None,
                         window=TimeWindow(base, base + 6000), by=("provider",),
                         sums=("sent_bytes",), source="sent_bytes", peak="peak", p95="p95")  # fmt: skip
    each = per_provider.apply(frame)
    # n = 20: rank ceil(19.0) = 19, the 19th smallest of 1..20 is 19; the sum of the
    # providers' percentiles (38) is not the percentile of the total (21).
    assert each.metrics["p95"].tolist() == [19.0, 19.0]
    assert each.metrics["peak"].tolist() == [20.0, 20.0]


def test_p95_rank_rounds_up_and_skips_missing_samples() -> None:
    base = parse_ts("2026-11-18")
    values = [5, 1, 9, 3, 7, 2, 8, 4, 6, math.nan, 10]  # 10 present samples
    frame = Frame(base + 300 * np.arange(11), {},
                  {"b": np.array(values, dtype=float) * 300 / 8})  # fmt: skip
    out = Burst(grain=Granularity(5, "m"), every=Granularity(1, "d"),
                window=TimeWindow(base, base + DAY), by=(), sums=("b",), source="b",
                p95="p95").apply(frame)  # fmt: skip
    # n = 10: rank ceil(9.5) = 10, the largest present sample.
    assert out.metrics["p95"].tolist() == [10.0]


# ---- end to end over loopback ports ----------------------------------------------------


@pytest.fixture
def cdn_env():
    """gcore, fastly and stackpath emulators on loopback ports, and the env to reach them."""
    reg = registry()
    with (
        serve(reg.get("gcore").emulator(lambda: float(NOW))) as g,
        serve(reg.get("fastly").emulator(lambda: float(NOW))) as f,
        serve(reg.get("stackpath").emulator(lambda: float(NOW))) as s,
    ):
        yield {
            "GCORE_API_KEY": "g-secret-1",
            "QUERYLANG_GCORE_BASE_URL": g.url,
            "FASTLY_API_TOKEN": "f-secret-2",
            "QUERYLANG_FASTLY_BASE_URL": f.url,
            "STACKPATH_CLIENT_ID": "sp-id",
            "STACKPATH_CLIENT_SECRET": "sp-secret-3",
            "STACKPATH_STACK_ID": "my-stack",
            "QUERYLANG_STACKPATH_BASE_URL": s.url,
        }


def _gcore_raw() -> dict[str, list[list[float]]]:
    url = ("https://api.gcore.com/cdn/statistics/series?service=CDN&from=2026-11-18T00:00:00Z"
           "&to=2026-11-20T00:00:00Z&granularity=1d&metrics=sent_bytes&metrics=requests"
           "&metrics=responses_hit&metrics=responses_miss")  # fmt: skip
    data = _raw("gcore", url, {"Authorization": "APIKey x"})
    assert isinstance(data, dict)
    return data["metrics"]


def _fastly_raw() -> list[dict]:
    url = f"https://api.fastly.com/stats/aggregate?from={D18}&to={D20}&by=day"
    data = _raw("fastly", url, {"Fastly-Key": "x"})
    assert isinstance(data, dict)
    return data["data"]


def test_one_query_per_provider_and_combined_from_the_raw_answers(cdn_env) -> None:
    g = _gcore_raw()
    f = _fastly_raw()
    assert [int(r["start_time"]) for r in f] == [D18, D19]
    expect = {}
    for i, day in enumerate((D18, D19)):
        assert g["sent_bytes"][i][0] == day
        expect[("gcore", day)] = (g["sent_bytes"][i][1], g["requests"][i][1],
                                  g["responses_hit"][i][1], g["responses_miss"][i][1])  # fmt: skip
        rec = f[i]
        expect[("fastly", day)] = (int(rec["resp_header_bytes"]) + int(rec["resp_body_bytes"]),
                                   int(rec["requests"]), int(rec["hits"]), int(rec["miss"]))  # fmt: skip

    text = f"SELECT sent_bytes, requests, cache_hit_ratio BY provider FROM gcore, fastly EVERY 1d {TWO_DAYS}"
    (result,) = run(text, env=cdn_env, now=NOW_TEXT)
    assert [c.name for c in result.columns] == [
        "time", "provider", "sent_bytes", "requests", "cache_hit_ratio"
    ]  # fmt: skip
    assert {c.name: c.unit for c in result.columns if c.role == "metric"} == {
        "sent_bytes": "bytes", "requests": "count", "cache_hit_ratio": "ratio"
    }  # fmt: skip
    got = {(r["provider"], r["time"]): r for r in _rows(result)}
    assert set(got) == set(expect)
    for key, (sent, requests, hits, misses) in expect.items():
        assert got[key]["sent_bytes"] == sent
        assert got[key]["requests"] == requests
        assert got[key]["cache_hit_ratio"] == pytest.approx(hits / (hits + misses), rel=1e-12)

    # Without BY provider: counters summed, the ratio recomputed from the summed parts.
    (total,) = run(text.replace(" BY provider", ""), env=cdn_env, now=NOW_TEXT)
    assert [c.name for c in total.columns] == ["time", "sent_bytes", "requests", "cache_hit_ratio"]
    for row in _rows(total):
        gs, gr, gh, gm = expect[("gcore", row["time"])]
        fs, fr, fh, fm = expect[("fastly", row["time"])]
        assert row["sent_bytes"] == gs + fs
        assert row["requests"] == gr + fr
        ratio = (gh + fh) / (gh + fh + gm + fm)
        assert row["cache_hit_ratio"] == pytest.approx(ratio, rel=1e-12)
        averaged = (gh / (gh + gm) + fh / (fh + fm)) / 2
        assert abs(row["cache_hit_ratio"] - averaged) > 1e-4  # not an average of ratios


def test_stackpath_megabytes_become_bytes(cdn_env) -> None:
    native, standard = run(
        f"SELECT xferUsedTotalMB FROM stackpath EVERY 1d {TWO_DAYS};"
        f"SELECT sent_bytes, requests FROM stackpath EVERY 1d {TWO_DAYS}",
        env=cdn_env,
        now=NOW_TEXT,
    )
    mb = native.frame.metrics["xferUsedTotalMB"].tolist()
    assert len(mb) == 2 and all(v > 0 for v in mb)
    assert standard.frame.metrics["sent_bytes"].tolist() == [v * 1e6 for v in mb]
    assert standard.columns[1].unit == "bytes" and standard.columns[2].unit == "count"


def test_p95_and_peak_of_the_combined_five_minute_series(cdn_env) -> None:
    day = "BETWEEN '2026-11-19' AND '2026-11-20'"
    g5, s5, cross, each = run(
        f"SELECT sent_bytes FROM gcore EVERY 5m {day};"
        f"SELECT xferUsedTotalMB FROM stackpath EVERY 5m {day};"
        f"SELECT p95_bandwidth_bps, peak_bandwidth_bps, bandwidth_bps FROM gcore, stackpath "
        f"EVERY 1d {day};"
        f"SELECT p95_bandwidth_bps BY provider FROM gcore, stackpath EVERY 1d {day}",
        env=cdn_env,
        now=NOW_TEXT,
    )
    gcore = dict(zip(g5.frame.time.tolist(), g5.frame.metrics["sent_bytes"].tolist(), strict=True))
    stack = dict(zip(s5.frame.time.tolist(), s5.frame.metrics["xferUsedTotalMB"].tolist(),
                     strict=True))  # fmt: skip
    assert len(gcore) == len(stack) == 288
    rates = sorted((gcore[t] + stack[t] * 1e6) * 8 / 300 for t in gcore)
    rank = math.ceil(0.95 * 288)  # 274
    (row,) = _rows(cross)
    assert row["p95_bandwidth_bps"] == pytest.approx(rates[rank - 1], rel=1e-12)
    assert row["peak_bandwidth_bps"] == pytest.approx(rates[-1], rel=1e-12)
    total = sum(gcore.values()) + sum(stack.values()) * 1e6
    assert row["bandwidth_bps"] == pytest.approx(total * 8 / DAY, rel=1e-12)
    per = {r["provider"]: r["p95_bandwidth_bps"] for r in _rows(each)}
    g_rates = sorted(v * 8 / 300 for v in gcore.values())
    assert per["gcore"] == pytest.approx(g_rates[rank - 1], rel=1e-12)
    assert per["gcore"] + per["stackpath"] != pytest.approx(row["p95_bandwidth_bps"], rel=1e-9)


def test_one_failing_provider_fails_the_run_and_is_named(cdn_env) -> None:
    env = {**cdn_env, "STACKPATH_CLIENT_ID": "invalid"}  # the emulator refuses this client
    with pytest.raises(ProviderError) as caught:
        run(f"SELECT sent_bytes FROM gcore, stackpath EVERY 1d {TWO_DAYS}", env=env, now=NOW_TEXT)
    assert caught.value.provider == "stackpath"
    assert caught.value.code == "P401"
    assert "sp-secret-3" not in str(caught.value)


# ---- the sandbox, errors, explain, check, describe ------------------------------------


def test_sandbox_data_is_plausible_across_vendors() -> None:
    text = "SELECT sent_bytes BY provider FROM gcore, fastly, stackpath, baishan EVERY 1d LAST 2d"
    (result,) = run(text, sandbox=True, now=NOW_TEXT)
    per = {r["provider"]: r["sent_bytes"] for r in _rows(result)}
    assert set(per) == {"gcore", "fastly", "stackpath", "baishan"}
    assert max(per.values()) / min(per.values()) < 10  # one order of magnitude


def test_the_issues_examples_in_the_sandbox() -> None:
    # As written, the first asks StackPath for a cache ratio it does not report, and the
    # second asks Fastly for 5-minute data older than the 35 days it keeps: both are clear
    # errors before anything is sent. Without the provider that cannot answer, both run.
    with pytest.raises(BindingError) as one:
        run("SELECT sent_bytes, requests, cache_hit_ratio BY provider "
            "FROM gcore, fastly, stackpath EVERY 1d LAST 7d", sandbox=True, now=NOW_TEXT)  # fmt: skip
    assert one.value.code == "E202"
    assert "stackpath cannot answer the standard metric 'cache_hit_ratio'" in one.value.message
    assert "(gcore, fastly can)" in one.value.message
    with pytest.raises(LimitError) as two:
        run("SELECT p95_bandwidth_bps FROM gcore, fastly, stackpath, baishan EVERY 1mo LAST 3mo",
            sandbox=True, now=NOW_TEXT)  # fmt: skip
    assert two.value.code == "E402" and "fastly keeps 1m data for only 35 days" in two.value.message

    (daily,) = run("SELECT sent_bytes, requests, cache_hit_ratio BY provider FROM gcore, fastly "
                   "EVERY 1d LAST 7d", sandbox=True, now=NOW_TEXT)  # fmt: skip
    assert len(daily.frame) == 14
    (monthly,) = run("SELECT p95_bandwidth_bps FROM gcore, stackpath, baishan EVERY 1mo LAST 3mo",
                     sandbox=True, now=NOW_TEXT)  # fmt: skip
    assert [r["time"] for r in _rows(monthly)] == [parse_ts(f"2026-{m:02}-01") for m in (8, 9, 10)]
    assert all(r["p95_bandwidth_bps"] > 0 for r in _rows(monthly))


@pytest.mark.parametrize(
    ("text", "code", "words"),
    [
        ("SELECT upstream_bytes FROM gcore, fastly LAST 1d", "E202",
         "fastly cannot answer the standard metric 'upstream_bytes' (gcore can)"),
        ("SELECT sent_bytes BY resource FROM gcore, fastly LAST 1d", "E203",
         "fastly has no dimension 'resource' (gcore has it)"),
        ("SELECT sent_bytes FROM gcore, fastly, gcore LAST 1d", "E212",
         "gcore is listed twice in FROM"),
        ("SELECT sent_bytes FROM gcore, fastly WHERE provider = 'stackpath' LAST 1d", "E207",
         "'stackpath' is not a provider of this query"),
        ("SELECT sent_bytes FROM gcore, fastly WHERE provider NOT IN ('gcore', 'fastly') "
         "LAST 1d", "E207", "exclude every provider"),
        ("SELECT hit_ratio FROM gcore, fastly LAST 1d", "E202",
         "gcore has no metric 'hit_ratio' (fastly has it)"),
        ("SELECT sent_bytes FROM gcore.storage, gcore LAST 1d", "E202",
         "gcore.storage cannot answer the standard metric 'sent_bytes'"),
        ("SELECT p95_bandwidth_bps FROM fastly, gcore EVERY 1d LAST 60d", "E402",
         "p95_bandwidth_bps needs 5-minute (or finer) data, but fastly keeps 1m data"),
    ],
)  # fmt: skip
def test_bad_cross_queries_are_clear_errors(text: str, code: str, words: str) -> None:
    with pytest.raises((BindingError, LimitError)) as caught:
        run(text, sandbox=True, now=NOW_TEXT)
    assert caught.value.code == code
    assert words in caught.value.message


def test_where_provider_leaves_a_source_out() -> None:
    text = ("SELECT sent_bytes BY provider FROM gcore, fastly, baishan "
            "WHERE provider != 'baishan' EVERY 1d LAST 2d")  # fmt: skip
    (result,) = run(text, sandbox=True, now=NOW_TEXT)
    assert {r["provider"] for r in _rows(result)} == {"gcore", "fastly"}
    assert result.source == "gcore, fastly"
    assert {host for host in (httpx.URL(r.url).host for r in result.plan.requests)} == {
        "api.gcore.com", "api.fastly.com"
    }  # fmt: skip


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GCORE", "FASTLY"))}
    return subprocess.run([sys.executable, "-m", "querylang.cli", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=60)  # fmt: skip


def test_explain_shows_one_plan_per_provider_and_the_totals() -> None:
    proc = _cli("explain", "--now", NOW_TEXT, "-e",
                "SELECT sent_bytes FROM gcore, fastly, baishan EVERY 1d LAST 2d")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "3 provider(s)," in out and "call(s) in all" in out
    for name in ("gcore (native", "fastly (native", "baishan (native"):
        assert name in out
    assert "fastly: sent_bytes = resp_header_bytes + resp_body_bytes" in out
    assert "add up the providers' series, bucket by bucket" in out
    proc = _cli("explain", "--sandbox", "--now", NOW_TEXT, "-f", "json", "-e",
                "SELECT sent_bytes BY provider FROM gcore, stackpath EVERY 1d LAST 2d")  # fmt: skip
    (query,) = json.loads(proc.stdout)["queries"]
    assert [p["source"] for p in query["providers"]] == ["gcore", "stackpath"]
    assert query["calls"] == sum(p["calls"] for p in query["providers"])
    assert "xferUsedTotalMB * 1e+06" in query["providers"][1]["steps"][-1]


def test_check_validates_cross_provider_files_offline(tmp_path: Path) -> None:
    good = tmp_path / "good.qry"
    good.write_text(
        "SELECT sent_bytes, requests BY provider FROM gcore, fastly EVERY 1d LAST 7d;\n"
    )
    bad = tmp_path / "bad.qry"
    bad.write_text("SELECT sent_bytes, upstream_bytes FROM gcore, stackpath EVERY 1d LAST 7d;\n")
    assert _cli("check", str(good)).returncode == 0
    proc = _cli("check", str(bad))
    assert proc.returncode == 1
    assert (
        "error[E202]: stackpath cannot answer the standard metric 'upstream_bytes'" in proc.stdout
    )


def test_describe_standard_prints_the_matrix() -> None:
    proc = _cli("describe", "standard")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    header = lines[0].split()
    assert header[:3] == ["standard", "metric", "unit"]
    assert {"gcore", "fastly", "stackpath", "baishan", "gcore.storage"} <= set(header)
    sent = next(line for line in lines if line.startswith("sent_bytes "))
    assert "xferUsedTotalMB * 10^6" in sent and "resp_header_bytes + resp_body_bytes" in sent
    upstream = next(line for line in lines if line.startswith("upstream_bytes "))
    assert upstream.count("—") == 4
    data = json.loads(_cli("describe", "standard", "-f", "json").stdout)
    p95 = next(m for m in data["metrics"] if m["name"] == "p95_bandwidth_bps")
    assert p95["unit"] == "bit/s" and p95["providers"]["gcore.storage"] is None


def test_fmt_keeps_every_source() -> None:
    from querylang.formatting import fmt

    text = "select sent_bytes from gcore,fastly , stackpath last 1d"
    assert "FROM gcore, fastly, stackpath" in fmt(text)


PAGES = {"gcore": "gcore.md", "fastly": "fastly.md", "stackpath": "stackpath.md",
         "baishan": "baishan.md", "gcore.storage": "gcore-storage.md"}  # fmt: skip


@pytest.mark.parametrize("label", sorted(PAGES))
def test_each_provider_page_tables_its_standard_metrics(label: str) -> None:
    from querylang.standard import how

    provider, _, dataset = label.partition(".")
    p = registry().get(provider)
    ds = p.datasets[dataset or p.default_dataset]
    page = (ROOT / "docs" / "providers" / PAGES[label]).read_text(encoding="utf-8")
    assert "## Standard metrics" in page
    for metric in STANDARD:
        row = next(line for line in page.splitlines() if line.startswith(f"| `{metric.name}` |"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        expected = how(ds, metric.name)
        assert cells[1] == metric.unit
        assert cells[2].strip("`") == (expected or "—"), (label, metric.name)


def test_a_total_with_one_providers_bucket_missing_is_null() -> None:
    # h12 (issue 12): combining providers never turns a missing part into zero
    gcore = Frame(np.array([D18, D19]), {}, {"sent_bytes": np.array([5.0, 7.0])})
    fastly = Frame(np.array([D18, D19]), {}, {"sent_bytes": np.array([1.0, np.nan])})
    tagged = [
        Frame(f.time, {"provider": np.array([p, p], dtype=object)}, f.metrics)
        for p, f in (("gcore", gcore), ("fastly", fastly))
    ]
    frame = Frame.concat(tagged, ("provider",), ("sent_bytes",))
    step = Combine(dims=(), rules={"sent_bytes": "sum"}, provider="gcore, fastly",
                   reason="providers", dropped=("provider",))  # fmt: skip
    out = step.apply(frame)
    assert out.time.tolist() == [D18, D19]
    assert out.metrics["sent_bytes"][0] == 6.0 and math.isnan(out.metrics["sent_bytes"][1])
