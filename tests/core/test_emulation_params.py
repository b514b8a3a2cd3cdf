"""The emulator kit's parameter checks, its emulator frame and the shapes of an account."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import pytest

from querylang.emulation import (
    BadRequest,
    EmulatorBase,
    Finality,
    RouteTable,
    TimeFormat,
    account_data,
    fail,
    grouped,
    iso_time,
    json_bool,
    json_int,
    json_response,
    json_strings,
    known,
    nest,
    one_of,
    required,
    select,
    synthetic_totals,
    unix_time,
)


def refusal(call) -> BadRequest:  # type: ignore[no-untyped-def]
    with pytest.raises(BadRequest) as info:
        call()
    return info.value


# -- the parameter checks ----------------------------------------------------------------------
def test_fail_fills_the_template_and_names_the_field() -> None:
    error = refusal(lambda: fail("grad", "minute", "{name} {value!r} is not {what}", what="ok"))
    assert (error.message, error.field, error.status) == ("grad 'minute' is not ok", "grad", 400)


def test_required_refuses_none_and_empty_values_only() -> None:
    assert required("x", "a") == "a"
    assert required("x", 0) == 0  # a number is never "missing"
    assert required("x", ["a"]) == ["a"]
    for missing in (None, "", [], {}):
        assert refusal(lambda m=missing: required("domains", m)).message == "domains is required"
    assert refusal(lambda: required("m", None, "give {name}")).message == "give m"


def test_one_of_lists_the_choices_in_their_order() -> None:
    assert one_of("grad", "hour", ("minute5", "hour", "day"), "{choices}") == "hour"
    error = refusal(lambda: one_of("grad", "week", ("minute5", "hour", "day"), "{choices}"))
    assert error.message == "minute5, hour, day"
    either = refusal(lambda: one_of("p", "v4", ("all", "ipv4", "ipv6"), "p must be {either}"))
    assert either.message == "p must be all, ipv4 or ipv6"
    two = refusal(lambda: one_of("t", "x", {"bandwidth": 1, "traffic": 2}, "t: {either}"))
    assert two.message == "t: bandwidth or traffic"
    assert refusal(lambda: one_of("s", None, ("CDN",), "{either}; {value}")).message == "CDN; None"


def test_known_reports_every_unknown_value() -> None:
    assert known("m", ["a", "b"], {"a", "b", "c"}, "{unknown}") == ["a", "b"]
    assert known("m", [], {"a"}, "{unknown}") == []
    error = refusal(lambda: known("m", ["a", "x", "y"], {"a"}, "{unknown} / {first!r} / {value}"))
    assert error.message == "x, y / 'x' / ['a', 'x', 'y']"


def test_a_time_format_reads_every_format_in_its_zone() -> None:
    fmt = TimeFormat(("%Y-%m-%d", "%Y-%m-%d %H:%M"), invalid="bad {name}: {value!r}")
    assert fmt.read("t", "2026-11-19") == 1_795_046_400  # 2026-11-19T00:00:00Z
    assert fmt.read("t", "2026-11-19 01:30") == 1_795_046_400 + 5400
    shanghai = ZoneInfo("Asia/Shanghai")
    assert fmt.read("t", "2026-11-19 08:00", zone=shanghai) == 1_795_046_400
    assert fmt.read("t", None, default=7) == 7
    assert refusal(lambda: fmt.read("t", None)).message == "t is required"
    assert refusal(lambda: fmt.read("t", "")).message == "t is required"
    assert refusal(lambda: fmt.read("t", 20261119)).message == "t is required"
    assert refusal(lambda: fmt.read("t", "2026-02-30")).message == "bad t: '2026-02-30'"
    assert refusal(lambda: fmt.read("t", " 2026-11-19")).message == "bad t: ' 2026-11-19'"


def test_a_time_format_tells_a_malformed_time_from_an_impossible_one() -> None:
    fmt = TimeFormat(
        ("%Y-%m-%dT%H:%M:%SZ",),
        missing=None,
        shape=re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"),
        malformed="{name} is malformed",
        invalid="{name} is impossible",
    )
    assert fmt.read("end", "2026-11-19T00:00:10Z") == 1_795_046_410
    assert refusal(lambda: fmt.read("end", "2026-1-9T00:00:00Z")).message == "end is malformed"
    assert refusal(lambda: fmt.read("end", "")).message == "end is malformed"  # no missing check
    assert refusal(lambda: fmt.read("end", "2026-13-40T00:00:00Z")).message == "end is impossible"


def test_a_stripping_time_format_quotes_the_value_as_given() -> None:
    fmt = TimeFormat(
        ("%Y-%m-%d",),
        shape=re.compile(r"^\d{4}-\d{2}-\d{2}$"),
        malformed="{value!r} is malformed",
        invalid="{value!r}",
        strip=True,
        zone=dt.timezone(dt.timedelta(hours=8)),
    )
    assert fmt.read("t", " 2026-11-19 ") == 1_795_046_400 - 8 * 3600
    assert refusal(lambda: fmt.read("t", " 2026/11/19 ")).message == "' 2026/11/19 ' is malformed"


def test_iso_time_reads_offsets_and_takes_a_naive_time_as_utc() -> None:
    words = {"missing": "{name} is required", "invalid": "{name}: {value!r}"}
    assert iso_time("from", "2026-11-19T00:00:00Z", **words) == 1_795_046_400
    assert iso_time("from", "2026-11-19T00:00:00", **words) == 1_795_046_400
    assert iso_time("from", "2026-11-19T03:00:00+03:00", **words) == 1_795_046_400
    assert refusal(lambda: iso_time("from", None, **words)).message == "from is required"
    assert refusal(lambda: iso_time("from", "yesterday", **words)).message == "from: 'yesterday'"


def test_unix_time_takes_digits_only() -> None:
    assert unix_time("to", None, "{value!r}", default=5) == 5
    assert unix_time("to", " 123 ", "{value!r}", default=5) == 123
    assert unix_time("to", "-4", "{value!r}", default=5) == -4
    for bad in ("1.5", "1_000", "yesterday", ""):
        assert refusal(lambda b=bad: unix_time("to", b, "{value!r}", default=0)).message == repr(
            bad
        )


def test_json_fields_check_their_type_and_let_null_through_where_optional() -> None:
    assert json_strings("l", ["a", "b"], "m") == ["a", "b"]
    assert json_strings("l", None, "m") is None
    for bad in ("a", ["a", None], [1], {"a": 1}):
        assert refusal(lambda b=bad: json_strings("l", b, "{name} m")).message == "l m"
    assert json_bool("b", False, "m") is False
    for bad in (None, "yes", 1):
        assert refusal(lambda b=bad: json_bool("b", b, "m")).field == "b"
    assert json_int("s", 3, "m") == 3
    assert json_int("s", None, "m") is None
    for bad in (True, "1", 1.0):
        assert refusal(lambda b=bad: json_int("s", b, "m")).message == "m"


# -- the emulator frame ------------------------------------------------------------------------
def _hits(metric, start, end, step, now, where):  # type: ignore[no-untyped-def]
    if metric != "hits":
        raise ValueError(f"no counter {metric}")
    sites = [s for s in ("a", "b") if s in where.get("site", ("a", "b"))]
    return Finality().totals(
        start, end, step, now, lambda s, t: synthetic_totals(f"t|{s}", t, t + step), over=sites
    )


class _Toy(EmulatorBase):
    label = "toy"

    def __init__(self, now: float) -> None:
        self.now = lambda: now
        self.datasets = {"stats": _hits}
        self.routes = RouteTable(lambda status, message: json_response(status, {"m": message}))
        self.routes.add("GET", "/now/{name}", lambda request, name, now: json_response(200, now))


def test_the_frame_dispatches_with_one_reading_of_the_clock() -> None:
    toy = _Toy(1000.75)
    answer = toy.handle(httpx.Request("GET", "http://toy.test/now/x"))
    assert (answer.status_code, answer.json()) == (200, 1000)
    assert toy.handle(httpx.Request("GET", "http://toy.test/else")).status_code == 404


def test_expected_answers_from_the_default_account_over_answered_buckets() -> None:
    now = 7200 + 1800
    toy = _Toy(now)
    want = {
        t: float(
            synthetic_totals("t|a", [t], [t + 3600])[0]
            + synthetic_totals("t|b", [t], [t + 3600])[0]
        )
        for t in (0, 3600)
    }  # the bucket at 7200 ends after now: absent
    with account_data("someone-else"):
        assert toy.expected("stats", "hits", 0, 4 * 3600, 3600) == want
    only_a = toy.expected("stats", "hits", 0, 4 * 3600, 3600, {"site": ["a"]})
    assert only_a == {t: float(synthetic_totals("t|a", [t], [t + 3600])[0]) for t in (0, 3600)}
    assert toy.expected("stats", "hits", 0, 4 * 3600, 3600, {"site": []}) == {0: 0.0, 3600: 0.0}
    assert toy.expected("stats", "hits", 9000, 9000, 3600) == {}
    with pytest.raises(ValueError, match="the toy emulator has no dataset 'logs'"):
        toy.expected("logs", "hits", 0, 3600, 3600)
    with pytest.raises(ValueError, match="no counter bytes"):
        toy.expected("stats", "bytes", 0, 3600, 3600)


def test_finality_totals_is_not_called_without_buckets() -> None:
    def boom(starts: np.ndarray) -> np.ndarray:
        raise AssertionError("called")

    assert Finality().totals(100, 100, 60, 10_000, boom) == {}
    assert Finality().totals(0, 120, 60, 10_000, lambda t: t * 2) == {0: 0.0, 60: 120.0}


# -- the shapes of an account ------------------------------------------------------------------
LEAVES = [
    {"site": "ams", "region": "EU", "id": 1},
    {"site": "fra", "region": "EU", "id": 2},
    {"site": "sin", "region": "ASIA", "id": 3},
]


def test_select_keeps_the_leaves_matching_every_field() -> None:
    assert select(LEAVES, {}) == LEAVES
    assert select(LEAVES, {"region": ["EU"], "site": None}) == LEAVES[:2]
    assert select(LEAVES, {"region": ["EU"], "site": ["sin"]}) == []
    assert select(LEAVES, {"region": []}) == []
    assert select(LEAVES, {"region": ["eu"]}) == []
    assert select(LEAVES, {"region": ["eu"], "id": ["2", 3]}, fold_case=True) == [LEAVES[1]]


def test_grouped_keeps_the_order_of_first_appearance() -> None:
    groups = grouped(LEAVES, lambda leaf: leaf["region"])
    assert list(groups) == ["EU", "ASIA"]
    assert groups["EU"] == LEAVES[:2]


def test_nest_builds_one_level_per_grouping() -> None:
    assert nest({(): {"m": 1}}, [], "metrics") == {"metrics": {"m": 1}}
    assert nest({}, [], "metrics") == {"metrics": {}}
    tree = nest({("EU", 1): "x", ("EU", 2): "y", ("ASIA", 3): "z"}, ["region", "id"], "v")
    assert tree == {
        "region": {
            "EU": {"id": {"1": {"v": "x"}, "2": {"v": "y"}}},
            "ASIA": {"id": {"3": {"v": "z"}}},
        }
    }


# -- routes: a path's own wrong-method answer, the path refusals name ------------------------
def test_a_route_answers_another_method_with_its_own_status() -> None:
    def body(status: int, message: str) -> httpx.Response:
        return json_response(status, {"status": status, "message": message})

    table = (
        RouteTable(body, wrong_method_status=404)
        .add("POST", "/token", lambda request: json_response(200, "token"), wrong_method_status=400)
        .add("GET", "/stacks/{stack}", lambda request, stack: json_response(200, stack))
    )

    def answer(method: str, target: str, **kw: str) -> tuple[int, object]:
        response = table.dispatch(httpx.Request(method, "http://x.test" + target), **kw)
        return response.status_code, response.json()

    assert answer("GET", "/token") == (
        400,
        {"status": 400, "message": "GET is not allowed on /token"},
    )
    assert answer("POST", "/stacks/a") == (
        404,
        {"status": 404, "message": "no route POST /stacks/a"},
    )
    assert answer("GET", "/stacks/a%2Fb", path="/stacks/a%2Fb") == (200, "a%2Fb")
    refused = answer("GET", "/stacks/a/b", path="/stacks/a%2Fb/x", shown="/stacks/a/b/x")
    assert refused == (404, {"status": 404, "message": "no route GET /stacks/a/b/x"})


def test_a_grid_of_cells_gives_each_equal_bucket_its_cells() -> None:
    from querylang.emulation import BucketCells

    grid = BucketCells.grid(np.array([3600, 7200, 14400]), 3600, 1200)  # not contiguous
    assert grid.cells.tolist() == [3600, 4800, 6000, 7200, 8400, 9600, 14400, 15600, 16800]
    assert grid.counts.tolist() == [3, 3, 3]
    values = np.array([1.0, 5.0, 2.0, 0.0, 0.0, 0.0, 7.0, 7.0, 1.0])
    assert grid.total(values).tolist() == [8.0, 0.0, 15.0]
    assert grid.peak(values).tolist() == [5.0, 0.0, 7.0]
    assert grid.peak_at(values).tolist() == [4800, 7200, 14400]
    assert grid.mean(values).tolist() == [8 / 3, 0.0, 5.0]
