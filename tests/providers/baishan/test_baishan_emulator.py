"""The emulator: vendor-shaped errors, enforced limits, and self-consistent synthetic data."""

from __future__ import annotations

import pytest

from querylang.timegrid import parse_ts
from querylang_providers.baishan.emulator import BaishanEmulator
from tests.providers.kit import BAISHAN as kit
from tests.providers.kit import NOW

P = "/v2/stat/bandwidth"
E = "/v2/stat/bandwidth/eachDomain"
DOMAINS = "www.example.com,dl.example.com"


class Clock:
    """A hand-moved clock for the rate limiter."""

    def __init__(self, t: float = 960_000.0) -> None:  # a whole minute (and 2 s)
        self.t = t

    def __call__(self) -> float:
        return self.t


def emulator(**kwargs) -> BaishanEmulator:
    kwargs.setdefault("clock", Clock())
    return BaishanEmulator(lambda: NOW, **kwargs)


def ask(emu: BaishanEmulator, path: str = P, **params: str):
    base = {"token": "t", "domains": "all", "start_time": "2026-11-19 08:00",
            "end_time": "2026-11-20 07:59", "grad": "hour"}  # fmt: skip
    base.update(params)
    return kit.get(emu, path, **{k: v for k, v in base.items() if v is not None})


def data(emu: BaishanEmulator, path: str = P, **params: str):
    reply = ask(emu, path, **params)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["code"] == 0
    return body["data"]


def test_unknown_path_is_a_vendor_shaped_404() -> None:
    reply = kit.get(emulator(), "/v2/stat/nothing", token="t")
    assert reply.status_code == 404 and reply.json()["code"] == 404


@pytest.mark.parametrize(("token", "valid"), [(None, None), ("", None), ("invalid", None),
                                              ("other", "right")])  # fmt: skip
def test_bad_token_is_401(token: str | None, valid: str | None) -> None:
    reply = ask(emulator(valid_token=valid), token=token)
    assert reply.status_code == 401
    assert reply.json()["code"] == 401 and reply.json()["msg"]


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"domains": None}, "domains is required"),
        ({"domains": ",".join(f"d{i}.com" for i in range(11))}, "at most 10 domains"),
        ({"domains": "all,www.example.com"}, "cannot be combined"),
        ({"start_time": None}, "start_time is required"),
        ({"start_time": "2026-11-19T08:00"}, "YYYY-mm-dd"),
        ({"end_time": "2026-13-01 00:00"}, "not a valid time"),
        ({"end_time": "2026-11-19 08:00"}, "greater than start_time"),
        ({"start_time": "2026-10-01 00:00", "end_time": "2026-11-01 00:01"}, "31 days"),
        (
            {"start_time": "2026-11-01 00:00", "end_time": "2026-11-11 00:01", "grad": "minute5"},
            "10 days",
        ),
        ({"grad": "minute"}, "grad must be"),
        ({"data_type": "requests"}, "data_type must be"),
        ({"ip_protocol": "ipv5"}, "ip_protocol must be"),
    ],
)
def test_bad_parameters_are_vendor_shaped_400s(params: dict, words: str) -> None:
    reply = ask(emulator(), **params)
    assert reply.status_code == 400, reply.text
    body = reply.json()
    assert body["code"] == 400 and words in body["message"]


def test_limits_are_inclusive_at_the_edge() -> None:
    emu = emulator()
    assert ask(emu, start_time="2026-10-01 00:00", end_time="2026-11-01 00:00").status_code == 200
    ten = {"start_time": "2026-11-01 00:00", "end_time": "2026-11-11 00:00", "grad": "minute5"}
    assert ask(emu, **ten).status_code == 200
    ten_domains = ",".join(f"cdn{i:02d}.example.com" for i in range(1, 9)) + "," + DOMAINS
    assert ask(emu, domains=ten_domains).status_code == 200


def test_a_date_alone_ends_at_2359_and_days_are_local() -> None:
    emu = emulator()
    days = data(emu, start_time="2026-11-17", end_time="2026-11-18", grad="day")
    # local (UTC+8) midnights are 16:00 UTC; the second day ends before NOW
    assert [t for t, _ in days] == [1794844800, 1794931200]
    assert all((t + 8 * 3600) % 86400 == 0 for t, _ in days)


def test_no_data_after_now_and_empty_is_a_list() -> None:
    emu = emulator()
    assert data(emu, start_time="2026-11-20 08:00", end_time="2026-11-21 07:59") == []
    latest = data(emu, start_time="2026-11-20 06:00", end_time="2026-11-21 07:59")
    assert [t for t, _ in latest] == [NOW - 7200, NOW - 3600]


def test_coarse_buckets_equal_the_fine_ones() -> None:
    emu = emulator()
    hours = dict(map(tuple, data(emu, data_type="traffic", domains=DOMAINS)))
    fives = data(emu, data_type="traffic", domains=DOMAINS, grad="minute5")
    summed: dict[int, float] = {}
    for t, v in fives:
        summed[t - t % 3600] = summed.get(t - t % 3600, 0) + v
    assert summed == hours
    bw_hours = dict(map(tuple, data(emu, domains=DOMAINS)))
    assert bw_hours == {t: round(v * 8 / 3600, 2) for t, v in hours.items()}


def test_all_is_ipv4_plus_ipv6_and_all_domains_sum() -> None:
    emu = emulator()
    both = {p: dict(map(tuple, data(emu, data_type="traffic", ip_protocol=p)))
            for p in ("all", "ipv4", "ipv6")}  # fmt: skip
    assert both["all"] == {t: both["ipv4"][t] + both["ipv6"].get(t, 0) for t in both["all"]}
    each = data(emu, E, data_type="traffic")
    assert len(each) == 12
    total: dict[int, float] = {}
    for entry in each.values():
        for t, v in entry["data"]:
            total[t] = total.get(t, 0) + v
    assert total == both["all"]


def test_zero_points_are_left_out() -> None:
    emu = emulator()
    dl = data(emu, E, domains="dl.example.com,static.example.com,nosuch.example.com",
              ip_protocol="ipv6", data_type="traffic")  # fmt: skip
    hours = {t // 3600 % 3 for t, _ in dl["dl.example.com"]["data"]}
    assert hours == {1, 2}  # idle every third UTC hour: those points are omitted
    assert dl["static.example.com"] == {"domain": "static.example.com", "data": []}
    assert dl["nosuch.example.com"]["data"] == []  # unknown domains count as idle


def test_rate_limit_headers_and_429() -> None:
    clock = Clock(960_000.0 + 10.5)  # 10.5 s into a minute
    emu = emulator(clock=clock, limits=((5, 60.0), (3, 2.0)))
    remaining = []
    for _ in range(3):
        reply = ask(emu)
        assert reply.status_code == 200
        assert reply.headers["X-Ratelimit-Limit"] == "5"
        assert reply.headers["X-Ratelimit-Grad"] == "minute"
        assert reply.headers["X-Retry-After"] == "50"
        remaining.append(reply.headers["X-Ratelimit-Remaining"])
    assert remaining == ["4", "3", "2"]
    burst = ask(emu)  # the fourth within 2 s
    assert burst.status_code == 429 and burst.json()["code"] == 429
    assert burst.headers["X-Retry-After"] == "2"
    clock.t += 2
    assert [ask(emu).status_code for _ in range(3)] == [200, 200, 429]  # minute allows 5
    minute = ask(emu)
    assert minute.headers["X-Retry-After"] == "48"
    assert minute.headers["X-Ratelimit-Remaining"] == "0"
    clock.t += 48
    assert ask(emu).status_code == 200
    assert (emu.calls, emu.rejected) == (6, 3)


def test_the_default_limits_are_the_documented_ones() -> None:
    emu = emulator()
    codes = [ask(emu).status_code for _ in range(25)]
    assert codes == [200] * 24 + [429]
    assert ask(emu).headers["X-Ratelimit-Limit"] == "300"


# -- expected(): the emulator's own data agrees with its HTTP answers -------------------------
@pytest.mark.parametrize(
    ("grad", "step", "times", "first", "params", "where"),
    [
        ("hour", 3600, ("2026-11-19 08:00", "2026-11-20 07:59"), "2026-11-19T00:00:00Z",
         {"domains": "dl.example.com"}, {"domain": ["dl.example.com"]}),
        ("minute5", 300, ("2026-11-20 06:00", "2026-11-20 09:00"), "2026-11-19T22:00:00Z",
         {"domains": "all", "ip_protocol": "ipv6"}, {"ip_protocol": ["ipv6"]}),  # past now
        ("day", 86400, ("2026-11-15", "2026-11-19"), "2026-11-14T16:00:00Z",
         {"domains": "all"}, None),  # local days: midnight at +08:00 is 16:00 UTC
    ],
)  # fmt: skip
def test_expected_matches_the_http_answer(grad, step, times, first, params, where) -> None:
    emu = emulator()
    start, end = times
    points = data(emu, start_time=start, end_time=end, grad=grad, data_type="traffic", **params)
    answered = {t: float(v) for t, v in points}
    begin = parse_ts(first)
    truth = emu.expected("cdn", "traffic", begin, begin + 6 * 86400, step, where)
    assert {t: v for t, v in truth.items() if v != 0} == answered  # the API omits zeros
    assert all(t + step <= NOW for t in truth) and len(truth) >= 5
    assert set(answered) <= set(truth)


def test_expected_has_the_omitted_zero_buckets() -> None:
    emu = emulator()
    day = parse_ts("2026-11-19T00:00:00Z")
    truth = emu.expected("cdn", "traffic", day, day + 86400, 3600, {"domain": ["dl.example.com"]})
    assert len(truth) == 24 and [t for t, v in truth.items() if v == 0] == [
        day + h * 3600 for h in range(24) if h % 3 == 0
    ]
